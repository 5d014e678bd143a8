//! Query strings as the API takes them: repeatable filters
//! (`category=a&category=b`), strict percent-decoding (a malformed escape is
//! a 400, never a guess), numbers that must be numbers, and query text cut to
//! [`MAX_QUERY_CHARS`] so an oversized query costs nothing downstream.

use indexer::api::{SearchRequest, Sort, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS};
use indexer::catalog::parse_date;

use crate::error::ApiError;

/// Decoded `key=value` pairs of a raw query string, in order.
pub type Pairs = Vec<(String, String)>;

/// Split and decode a raw query string (`None` when the URL has none).
pub fn pairs(raw: Option<&str>) -> Result<Pairs, ApiError> {
    raw.unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(key)?, decode(value)?))
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding that refuses what it cannot
/// decode exactly: `%` not followed by two hex digits, or bytes that are not
/// UTF-8.
fn decode(text: &str) -> Result<String, ApiError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(at + 1..at + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                let byte = hex.and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(byte.ok_or_else(|| ApiError::BadRequest("malformed percent-encoding in the query string".into()))?);
                at += 2;
            }
            other => out.push(other),
        }
        at += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::BadRequest("the query string does not decode to UTF-8".into()))
}

/// The query text of `pairs` (the last `q`), cut to [`MAX_QUERY_CHARS`].
pub fn query_text(pairs: &Pairs) -> String {
    pairs.iter().rev().find(|(key, _)| key == "q").map(|(_, q)| cut(q)).unwrap_or_default()
}

/// The reading point a search says it came from (`point`, see
/// [`crate::points`]); the server logs it only when it knows the tag.
pub fn point(pairs: &Pairs) -> Option<String> {
    pairs.iter().rev().find(|(key, _)| key == "point").map(|(_, tag)| tag.clone())
}

/// A search request from `pairs`. Unknown keys are ignored (links may carry
/// the UI's own state such as `kiosk`); empty filter values mean "no filter".
/// Bounds on `limit` and `offset` are the archive's to check.
pub fn search_request(pairs: &Pairs) -> Result<SearchRequest, ApiError> {
    let mut request = SearchRequest::default();
    for (key, value) in pairs {
        let list = match key.as_str() {
            "q" => {
                request.q = cut(value);
                continue;
            }
            "from" => {
                request.from = Some(value.clone()).filter(|v| !v.is_empty());
                continue;
            }
            "to" => {
                request.to = Some(value.clone()).filter(|v| !v.is_empty());
                continue;
            }
            "sort" => {
                request.sort = sort(value)?;
                continue;
            }
            "limit" => {
                request.limit = number("limit", value)?;
                continue;
            }
            "offset" => {
                request.offset = number("offset", value)?;
                continue;
            }
            "category" => &mut request.category,
            "publisher" => &mut request.publisher,
            "disclosure" => &mut request.disclosure,
            "year" => &mut request.year,
            _ => continue,
        };
        if !value.is_empty() {
            list.push(value.clone());
        }
    }
    Ok(request)
}

/// A result list for the search page, from its address: as
/// [`search_request`], but a stale or mistyped link still gives a list: a
/// sort, page size, offset or date the API would refuse falls back to its
/// default, and a date range given end first is read start first (the API
/// itself stays strict).
pub fn list_request(pairs: &Pairs) -> SearchRequest {
    let usable = |(key, value): &&(String, String)| match key.as_str() {
        "sort" => sort(value).is_ok(),
        "limit" => number("limit", value).is_ok_and(|n| n <= MAX_LIMIT),
        "offset" => number("offset", value).is_ok_and(|n| n <= MAX_OFFSET),
        "from" | "to" => value.is_empty() || parse_date(value).is_some(),
        _ => true,
    };
    let kept: Pairs = pairs.iter().filter(usable).cloned().collect();
    let mut request = search_request(&kept).unwrap_or_default();
    let iso = |date: &Option<String>| date.as_deref().and_then(parse_date);
    if let (Some(from), Some(to)) = (iso(&request.from), iso(&request.to)) {
        if from > to {
            std::mem::swap(&mut request.from, &mut request.to);
        }
    }
    request
}

fn cut(q: &str) -> String {
    q.chars().take(MAX_QUERY_CHARS).collect()
}

fn sort(value: &str) -> Result<Sort, ApiError> {
    if value.is_empty() {
        return Ok(Sort::Relevance);
    }
    Sort::ALL
        .into_iter()
        .find(|sort| sort.as_str() == value)
        .ok_or_else(|| ApiError::BadRequest("sort must be relevance, date_desc or date_asc".into()))
}

/// A page size or offset; empty means the default (0).
fn number(name: &str, value: &str) -> Result<usize, ApiError> {
    if value.is_empty() {
        return Ok(0);
    }
    value.parse().map_err(|_| ApiError::BadRequest(format!("{name} must be a whole number, 0 or more")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(raw: &str) -> Result<SearchRequest, ApiError> {
        search_request(&pairs(Some(raw))?)
    }

    #[test]
    fn repeated_filters_are_all_kept_and_empty_ones_dropped() {
        let r = request("q=%E4%BD%8E%E4%BF%9D+%E7%94%B3%E8%AF%B7&category=a&category=b&year=&year=2016").unwrap();
        assert_eq!(r.q, "低保 申请");
        assert_eq!(r.category, vec!["a", "b"]);
        assert_eq!(r.year, vec!["2016"]);
    }

    #[test]
    fn malformed_escapes_are_refused_not_guessed() {
        for raw in ["q=%zz", "q=%4", "q=%", "q=%+f", "q=%FF", "category=%C3"] {
            assert!(matches!(request(raw), Err(ApiError::BadRequest(_))), "{raw}");
        }
    }

    #[test]
    fn numbers_must_be_whole_and_non_negative() {
        assert_eq!(request("limit=20&offset=40").unwrap().offset, 40);
        for raw in ["limit=-1", "offset=1.5", "limit=ten", "offset=99999999999999999999999"] {
            assert!(matches!(request(raw), Err(ApiError::BadRequest(_))), "{raw}");
        }
    }

    #[test]
    fn a_stale_list_link_keeps_its_query_without_a_bad_date_and_reads_a_range_start_first() {
        let list = |raw: &str| list_request(&pairs(Some(raw)).unwrap());
        let bad = list("q=%E4%BD%8E%E4%BF%9D&from=2020-13-45&to=2021-01-01");
        assert_eq!((bad.q.as_str(), bad.from, bad.to.as_deref()), ("低保", None, Some("2021-01-01")));
        let reversed = list("q=a&from=2024-01-01&to=2018-01-01");
        assert_eq!((reversed.from.as_deref(), reversed.to.as_deref()), (Some("2018-01-01"), Some("2024-01-01")));
        assert!(request("from=2020-13-45").is_ok(), "the API refuses the date where it searches");
    }

    #[test]
    fn long_queries_are_cut_to_the_limit() {
        let raw = format!("q={}", "低".repeat(MAX_QUERY_CHARS * 3));
        assert_eq!(request(&raw).unwrap().q.chars().count(), MAX_QUERY_CHARS);
    }

    #[test]
    fn a_list_from_a_stale_link_falls_back_to_defaults() {
        let r = list_request(&pairs(Some("q=a&sort=sideways&offset=99999999&limit=1000&category=b")).unwrap());
        assert_eq!((r.q.as_str(), r.sort, r.offset, r.limit, r.category), ("a", Sort::Relevance, 0, 0, vec!["b".to_string()]));
        let r = list_request(&pairs(Some("sort=date_asc&offset=20&limit=5")).unwrap());
        assert_eq!((r.sort, r.offset, r.limit), (Sort::DateAsc, 20, 5));
    }

    #[test]
    fn unknown_keys_are_ignored_and_sort_is_checked() {
        assert_eq!(request("kiosk=1&sort=date_desc").unwrap().sort, Sort::DateDesc);
        assert!(request("sort=sideways").is_err());
    }
}
