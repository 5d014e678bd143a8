//! Search requests and responses as the HTTP API and the evaluation command
//! see them, and the highlighting shared by snippets and the reading view.

use std::collections::BTreeMap;
use std::ops::Range;

use memchr::memmem;
use serde::{Deserialize, Serialize};

use crate::analysis::normalize;
use crate::query::ParsedQuery;

/// Largest page a request may ask for.
/// Results per page when a request does not say.
pub const DEFAULT_LIMIT: usize = 10;
pub const MAX_LIMIT: usize = 100;
/// Deepest start offset served; deeper paging is refused (narrow the query).
pub const MAX_OFFSET: usize = 10_000;
/// Longest query text searched, in characters; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;
/// Length of a snippet, in characters.
const SNIPPET_CHARS: usize = 120;
/// Matches looked at when choosing where a snippet starts.
const SNIPPET_CANDIDATES: usize = 256;

/// Result order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Relevance,
    DateDesc,
    DateAsc,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::Relevance, Sort::DateDesc, Sort::DateAsc];

    /// The name in URLs and JSON (`date_desc`).
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::DateDesc => "date_desc",
            Sort::DateAsc => "date_asc",
        }
    }
}

/// One search, as `GET /api/search` takes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    pub q: String,
    pub category: Vec<String>,
    pub publisher: Vec<String>,
    pub disclosure: Vec<String>,
    pub year: Vec<String>,
    /// Inclusive range on published_date, `YYYY-MM-DD`.
    pub from: Option<String>,
    pub to: Option<String>,
    pub sort: Sort,
    /// Page size; 0 means the default, [`DEFAULT_LIMIT`].
    pub limit: usize,
    pub offset: usize,
}

impl SearchRequest {
    /// The page size asked for, or the default.
    pub fn page_size(&self) -> usize {
        if self.limit == 0 { DEFAULT_LIMIT } else { self.limit }
    }
}

/// A result list, as `GET /api/search` answers.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResponse {
    pub query: String,
    pub total: usize,
    pub took_ms: f64,
    /// True when no document matched every word and the best partial
    /// matches are shown instead (each hit also says `partial`).
    pub relaxed: bool,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

/// Counts per value of `category`, `publisher`, `year` and `disclosure`.
pub type Facets = BTreeMap<String, BTreeMap<String, u64>>;

/// One result.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: String,
    pub path: String,
    pub title: String,
    pub publisher: String,
    pub doc_number: String,
    pub category: String,
    pub published_date: String,
    pub disclosure: String,
    pub validity: String,
    pub score: f32,
    /// Matches only some of the query's words (listed after the documents
    /// that match them all).
    pub partial: bool,
    /// HTML-escaped text with `<mark>` around matches, nothing else.
    pub snippet: String,
}

/// Why a search was refused; everything else is answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    #[error("{0}")]
    BadRequest(String),
    #[error("search failed: {0}")]
    Internal(String),
}

/// Byte ranges of `text` that match the words and phrases of `query`
/// (after the same folding as indexing: full-width, case, traditional),
/// sorted and merged. Excluded words are not highlighted.
pub fn highlight_ranges(text: &str, query: &str) -> Vec<Range<usize>> {
    let needles = ParsedQuery::parse(query).highlight_terms();
    ranges_of(text, &needles)
}

pub(crate) fn ranges_of(text: &str, needles: &[String]) -> Vec<Range<usize>> {
    ranges_limited(text, needles, usize::MAX)
}

/// [`ranges_of`], finding at most `limit` literal matches of each needle.
fn ranges_limited(text: &str, needles: &[String], limit: usize) -> Vec<Range<usize>> {
    let folded = fold(needles);
    // Most documents are written as the query is folded (simplified,
    // half-width): find the words as they are, which is fast. Only a text
    // where none is found is folded character by character and searched again.
    let literal = literal_ranges(text, &folded, limit);
    if !literal.is_empty() {
        return literal;
    }
    let norm = normalize(text);
    let needles: Vec<Vec<char>> = folded.iter().map(|n| n.chars().collect()).collect();
    let mut ranges = Vec::new();
    for needle in &needles {
        let n = needle.len();
        if n > norm.chars.len() {
            continue;
        }
        for start in 0..=norm.chars.len() - n {
            if norm.chars[start..start + n] == needle[..] {
                ranges.push(norm.origin[start].0..norm.origin[start + n - 1].1);
            }
        }
    }
    merge(ranges)
}

/// Needles folded as the index folds text (full-width, case, traditional).
pub(crate) fn fold(needles: &[String]) -> Vec<String> {
    needles.iter().map(|n| normalize(n).text()).filter(|n| !n.is_empty()).collect()
}

/// Where the already folded needles occur in `text` exactly, at most
/// `limit` times each, sorted and merged. (memchr's SIMD search: several
/// times faster than `str::match_indices` on the 2–3 character words of a
/// query, and it runs for every hit.)
pub(crate) fn literal_ranges(text: &str, folded: &[String], limit: usize) -> Vec<Range<usize>> {
    let found = folded.iter().flat_map(|n| memmem::find_iter(text.as_bytes(), n.as_bytes()).take(limit).map(|at| at..at + n.len()));
    merge(found.collect())
}

fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// Escape text for HTML.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// `text` HTML-escaped with `<mark>` around `ranges` (sorted, disjoint).
pub fn mark_html(text: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for r in ranges {
        out.push_str(&escape_html(&text[at..r.start]));
        out.push_str("<mark>");
        out.push_str(&escape_html(&text[r.start..r.end]));
        out.push_str("</mark>");
        at = r.end;
    }
    out.push_str(&escape_html(&text[at..]));
    out
}

/// A snippet of about [`SNIPPET_CHARS`] characters around the densest
/// cluster of matches (the start of the text when nothing matches).
pub(crate) fn snippet(text: &str, needles: &[String]) -> String {
    let ranges = ranges_limited(text, needles, SNIPPET_CANDIDATES);
    // Byte index `n` characters after / before `at` (clamped to the text).
    let after = |at: usize, n: usize| text[at..].char_indices().nth(n).map_or(text.len(), |(b, _)| at + b);
    let before = |at: usize, n: usize| text[..at].char_indices().rev().nth(n.saturating_sub(1)).map_or(0, |(b, _)| b);
    // The window that starts a little before the match with most matches
    // after it, among the first matches (a common word can match thousands
    // of times in a long law; the first few hundred show the best cluster).
    let considered = &ranges[..ranges.len().min(SNIPPET_CANDIDATES)];
    let mut best: Option<(usize, usize)> = None;
    let mut last = 0;
    for (i, r) in considered.iter().enumerate() {
        // A window of Chinese text is about three bytes a character.
        let end = r.start + 3 * SNIPPET_CHARS;
        last = last.max(i);
        while last + 1 < considered.len() && considered[last + 1].end <= end {
            last += 1;
        }
        if best.is_none_or(|(_, count)| last + 1 - i > count) {
            best = Some((i, last + 1 - i));
        }
    }
    let best = best.map(|(i, _)| i);
    let mut from = best.map_or(0, |i| before(ranges[i].start, SNIPPET_CHARS / 6));
    let mut to = after(from, SNIPPET_CHARS);
    if to == text.len() {
        // Near the end: show a full window ending there.
        from = before(to, SNIPPET_CHARS);
        to = text.len();
    }
    let window = text[from..to].split_whitespace().collect::<Vec<_>>().join(" ");
    let marked = if window.len() == to - from {
        let inside: Vec<Range<usize>> =
            ranges.into_iter().filter(|r| r.start >= from && r.end <= to).map(|r| r.start - from..r.end - from).collect();
        mark_html(&text[from..to], &inside)
    } else {
        // Whitespace collapsing moved offsets; find the matches in the window again.
        mark_html(&window, &ranges_of(&window, needles))
    };
    let prefix = if from > 0 { "…" } else { "" };
    let suffix = if to < text.len() { "…" } else { "" };
    format!("{prefix}{marked}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_fold_traditional_and_full_width() {
        let text = "臨河區政府資訊公開，２０１６年";
        let r = highlight_ranges(text, "资讯公开 2016");
        let marked: Vec<&str> = r.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(marked, vec!["資訊公開", "２０１６"]);
    }

    #[test]
    fn snippets_escape_everything_but_mark() {
        let s = snippet("<script>alert(1)</script> 低保 申请", &["低保".to_string()]);
        assert_eq!(s, "&lt;script&gt;alert(1)&lt;/script&gt; <mark>低保</mark> 申请");
    }

    #[test]
    fn literal_matches_are_found_without_folding_and_folded_ones_otherwise() {
        assert_eq!(ranges_of("政府信息公开，政府", &["政府".into()]), vec![0..6, 21..27]);
        assert_eq!(ranges_of("政府資訊公開", &["资讯".into()]), vec![6..12]);
        assert_eq!(ranges_of("Ａ区", &["a区".into()]), vec![0..6]);
        assert!(ranges_of("任何文字", &["".into()]).is_empty());
    }

    #[test]
    fn overlapping_matches_merge_into_one_mark() {
        let text = "人民政府";
        assert_eq!(ranges_of(text, &["人民政".into(), "政府".into()]), vec![0..12]);
    }

    #[test]
    fn snippets_centre_on_matches_far_into_the_text() {
        let text = format!("{}最低生活保障{}", "前".repeat(500), "后".repeat(500));
        let s = snippet(&text, &["最低生活保障".to_string()]);
        assert!(s.starts_with('…') && s.ends_with('…') && s.contains("<mark>最低生活保障</mark>"), "{s}");
    }
}
