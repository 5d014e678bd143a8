//! Highlighting shared by snippets and the reading view: where the query's
//! words stand in a text (after the same folding as indexing), and the
//! escaped HTML with `<mark>` around them.

use std::ops::Range;

use memchr::memmem::Finder;

use crate::analysis::normalize;

/// Length of a snippet, in characters.
const SNIPPET_CHARS: usize = 120;
/// Matches looked at when choosing where a snippet starts.
const SNIPPET_CANDIDATES: usize = 256;

/// Byte ranges of `text` where the `needles` (a query's highlight terms)
/// stand, after the same folding as indexing (full-width, case,
/// traditional), sorted and merged. A needle that starts or ends with a
/// digit does not match inside a longer number: 7号 is not marked in 17号.
pub fn ranges_of(text: &str, needles: &[String]) -> Vec<Range<usize>> {
    Needles::new(needles).ranges(text)
}

/// A query's highlight terms folded as the index folds text (full-width,
/// case, traditional), each with its searcher (memchr's SIMD search:
/// several times faster than `str::match_indices` on the 2–3 character
/// words of a query). Made once per search and used for every hit: a
/// search looks for them in each hit's text and each candidate's title.
pub struct Needles {
    folded: Vec<String>,
    finders: Vec<Finder<'static>>,
}

impl Needles {
    /// The needles `needles` folded (empty ones dropped).
    pub fn new(needles: &[String]) -> Needles {
        let folded: Vec<String> = needles.iter().map(|n| normalize(n).text()).filter(|n| !n.is_empty()).collect();
        let finders = folded.iter().map(|n| Finder::new(n.as_bytes()).into_owned()).collect();
        Needles { folded, finders }
    }

    /// Byte ranges of `text` where the needles stand ([`ranges_of`]).
    pub fn ranges(&self, text: &str) -> Vec<Range<usize>> {
        self.ranges_limited(text, usize::MAX)
    }

    /// [`Needles::ranges`], finding at most `limit` literal matches of each needle.
    fn ranges_limited(&self, text: &str, limit: usize) -> Vec<Range<usize>> {
        // Most documents are written as the query is folded (simplified,
        // half-width): find the words as they are, which is fast. Only a text
        // where none is found is folded character by character and searched again.
        let literal = self.literal(text, limit);
        if !literal.is_empty() {
            return literal;
        }
        let norm = normalize(text);
        let mut ranges = Vec::new();
        for folded_needle in &self.folded {
            let needle: Vec<char> = folded_needle.chars().collect();
            let n = needle.len();
            if n > norm.chars.len() {
                continue;
            }
            for start in 0..=norm.chars.len() - n {
                let digit_before = start > 0 && norm.chars[start - 1].is_ascii_digit();
                let digit_after = norm.chars.get(start + n).is_some_and(char::is_ascii_digit);
                if norm.chars[start..start + n] == needle[..] && whole_number(folded_needle, digit_before, digit_after) {
                    ranges.push(norm.origin[start].0..norm.origin[start + n - 1].1);
                }
            }
        }
        merge(ranges)
    }

    /// Where the needles occur in `text` exactly, at most `limit` times
    /// each, sorted and merged.
    pub(crate) fn literal(&self, text: &str, limit: usize) -> Vec<Range<usize>> {
        let bytes = text.as_bytes();
        let found = self.folded.iter().zip(&self.finders).flat_map(|(n, finder)| {
            finder
                .find_iter(bytes)
                .map(|at| at..at + n.len())
                .filter(|r| {
                    whole_number(n, r.start > 0 && bytes[r.start - 1].is_ascii_digit(), bytes.get(r.end).is_some_and(u8::is_ascii_digit))
                })
                .take(limit)
        });
        merge(found.collect())
    }
}

/// Whether a match of `needle` keeps its numbers whole: a needle starting
/// with a digit must not follow a digit, one ending with a digit must not
/// precede one (`digit_before`, `digit_after`: what the text has around it).
fn whole_number(needle: &str, digit_before: bool, digit_after: bool) -> bool {
    let starts = needle.starts_with(|c: char| c.is_ascii_digit());
    let ends = needle.ends_with(|c: char| c.is_ascii_digit());
    !(starts && digit_before) && !(ends && digit_after)
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
pub(crate) fn snippet(text: &str, needles: &Needles) -> String {
    let ranges = needles.ranges_limited(text, SNIPPET_CANDIDATES);
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
    let window = plain_words(&text[from..to]);
    let marked = if window.len() == to - from {
        let inside: Vec<Range<usize>> =
            ranges.into_iter().filter(|r| r.start >= from && r.end <= to).map(|r| r.start - from..r.end - from).collect();
        mark_html(&text[from..to], &inside)
    } else {
        // Cleaning moved offsets; find the matches in the window again.
        mark_html(&window, &needles.ranges(&window))
    };
    let prefix = if from > 0 { "…" } else { "" };
    let suffix = if to < text.len() { "…" } else { "" };
    format!("{prefix}{marked}{suffix}")
}

/// A snippet window as a reader should see it: whitespace collapsed, and
/// the markup of Markdown and HTML comments that plain-text originals carry
/// left out (`<!-- … -->`, `**`, heading `#`s, table `|` and `---` rules).
fn plain_words(window: &str) -> String {
    let text = without_comments(window);
    // A table's cells are words even where the `|` between them has no
    // space around it (`|低保|580元|`).
    text.split(|c: char| c.is_whitespace() || c == '|')
        .filter(|word| !word.is_empty())
        .filter(|word| !word.chars().all(|c| matches!(c, '#' | '|' | '-' | '*' | ':')))
        // A window cut through `**` leaves one `*` at its edge.
        .map(|word| word.trim_start_matches('#').replace("**", "").trim_matches('*').to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` without its HTML comments (`<!-- … -->`; an unclosed one runs
/// to the end).
pub(crate) fn without_comments(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("<!--") {
        kept.push_str(&rest[..open]);
        rest = rest[open..].find("-->").map_or("", |close| &rest[open + close + 3..]);
    }
    kept.push_str(rest);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_fold_traditional_and_full_width() {
        let text = "臨河區政府資訊公開，２０１６年";
        let r = ranges_of(text, &["信息公开".into(), "2016".into()]);
        let marked: Vec<&str> = r.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(marked, vec!["資訊公開", "２０１６"]);
    }

    #[test]
    fn snippets_escape_everything_but_mark() {
        let s = snippet("<script>alert(1)</script> 低保 申请", &Needles::new(&["低保".to_string()]));
        assert_eq!(s, "&lt;script&gt;alert(1)&lt;/script&gt; <mark>低保</mark> 申请");
    }

    #[test]
    fn literal_matches_are_found_without_folding_and_folded_ones_otherwise() {
        assert_eq!(ranges_of("政府信息公开，政府", &["政府".into()]), vec![0..6, 21..27]);
        assert_eq!(ranges_of("政府資訊公開", &["信息".into()]), vec![6..12]);
        assert_eq!(ranges_of("Ａ区", &["a区".into()]), vec![0..6]);
        assert!(ranges_of("任何文字", &["".into()]).is_empty());
    }

    #[test]
    fn numbers_are_matched_whole() {
        let text = "临政发〔2019〕17号、临政发〔2019〕7号、70号";
        let marked: Vec<&str> = ranges_of(text, &["7号".into()]).into_iter().map(|r| &text[r]).collect();
        assert_eq!(marked, ["7号"]);
        assert_eq!(ranges_of(text, &["7号".into()]), vec![text.find("〕7号").unwrap() + 3..text.find("〕7号").unwrap() + 7]);
        let wide = "１７号，７号";
        assert_eq!(ranges_of(wide, &["7号".into()]), vec![12..18]);
    }

    #[test]
    fn overlapping_matches_merge_into_one_mark() {
        let text = "人民政府";
        assert_eq!(ranges_of(text, &["人民政".into(), "政府".into()]), vec![0..12]);
    }

    #[test]
    fn snippets_leave_out_markdown_and_html_comments() {
        let text = "<!-- INFO END -->\n## 第一章 总则\n| 项目 | 标准 |\n| --- | --- |\n| **低保** | 580元 |";
        assert_eq!(snippet(text, &Needles::new(&["低保".to_string()])), "第一章 总则 项目 标准 <mark>低保</mark> 580元");
        let tight = "|项目|标准|\n|:--|--:|\n|**低保**|580元|";
        assert_eq!(snippet(tight, &Needles::new(&["低保".to_string()])), "项目 标准 <mark>低保</mark> 580元");
        assert_eq!(plain_words("*第八条 收集单位应当**分类**运输。**"), "第八条 收集单位应当分类运输。");
    }

    #[test]
    fn snippets_centre_on_matches_far_into_the_text() {
        let text = format!("{}最低生活保障{}", "前".repeat(500), "后".repeat(500));
        let s = snippet(&text, &Needles::new(&["最低生活保障".to_string()]));
        assert!(s.starts_with('…') && s.ends_with('…') && s.contains("<mark>最低生活保障</mark>"), "{s}");
    }
}
