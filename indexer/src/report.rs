//! The archivists' report (`indexer report`): what the public searched
//! for, read from the search server's query log, and the counts of the
//! annual disclosure report (政府信息公开工作年度报告), read from the archive.
//!
//! The log is read one line at a time: memory holds a count per day and
//! reading point and at most [`DISTINCT_QUERIES`] query counts per list,
//! whatever the log's length. The log holds no client address, and the
//! report reads nothing but the fields it counts.

mod html;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::archive::Archive;
use crate::error::{Error, Result};

pub use html::page as html_page;

/// Queries listed in each "most searched" list of the text and HTML report.
pub const TOP: usize = 30;
/// Distinct queries counted exactly per list; past this many the most
/// frequent ones are still found (Misra–Gries), their counts low by at
/// most lines / (this + 1).
pub const DISTINCT_QUERIES: usize = 50_000;
/// How searches from outside the reading rooms (no `point`) are reported.
pub const WEB: &str = "web";
/// Days are those of the reading rooms: China Standard Time, UTC+8.
const CHINA_SECONDS: i32 = 8 * 3600;
/// The validity that means repealed.
const REPEALED: &str = "失效";

/// Everything the report says (`--format csv` and `html` render it).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// First and last day of the log counted (`YYYY-MM-DD`, inclusive), when limited.
    pub from: Option<String>,
    pub to: Option<String>,
    pub searches: Searches,
    pub documents: Documents,
}

/// What the query log says.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Searches {
    /// Searches: log lines asking for a first page (offset 0); the later
    /// pages of a search are not counted again.
    pub total: u64,
    /// Searches per day (UTC+8) and reading point ([`WEB`] for web users).
    pub by_day: BTreeMap<String, BTreeMap<String, u64>>,
    pub by_point: BTreeMap<String, u64>,
    /// The most searched queries (whitespace collapsed), most first.
    pub top_queries: Vec<QueryCount>,
    /// Queries that found nothing, with how often: what the archive
    /// lacks or the synonyms miss.
    pub zero_result_queries: Vec<QueryCount>,
    /// Searches that found nothing.
    pub zero_results: u64,
    /// Searches answered only by partial matches (no document held every word).
    pub partial_only: u64,
    /// Whether the query counts are exact (fewer than [`DISTINCT_QUERIES`] distinct queries).
    pub counts_exact: bool,
    /// Lines that are not a search of the log (skipped).
    pub unreadable_lines: u64,
}

/// A query and how many searches asked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryCount {
    /// The query as typed, its runs of whitespace made one space.
    pub query: String,
    /// Searches that asked it.
    pub count: u64,
}

/// The archive's documents, counted as the annual disclosure report asks.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Documents {
    /// Documents of the archive (public and on_request).
    pub total: u64,
    pub category: BTreeMap<String, u64>,
    pub publisher: BTreeMap<String, u64>,
    pub year: BTreeMap<String, u64>,
    pub disclosure: BTreeMap<String, u64>,
    /// By 有效性; `""` where it is not catalogued.
    pub validity: BTreeMap<String, u64>,
    /// Per year (published, else written): made, repealed since, in force.
    pub per_year: BTreeMap<String, YearCounts>,
}

impl Documents {
    /// Each count by one catalog field, with the field's name.
    pub fn tables(&self) -> [(&'static str, &BTreeMap<String, u64>); 5] {
        [
            ("category", &self.category),
            ("publisher", &self.publisher),
            ("year", &self.year),
            ("disclosure", &self.disclosure),
            ("validity", &self.validity),
        ]
    }
}

/// The documents of one year, by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct YearCounts {
    /// Documents of that year (制发).
    pub made: u64,
    /// Of those, catalogued 失效 (repealed) now.
    pub repealed: u64,
    /// Of those, catalogued 有效 or 已修改 (in force) now.
    pub in_force: u64,
    /// Of those, without a catalogued validity.
    pub validity_unknown: u64,
}

/// One line of the query log, as the search server writes it; other
/// fields (the filters, `took_ms`) are not read.
#[derive(Deserialize)]
struct LogLine<'a> {
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(default, borrow)]
    q: Cow<'a, str>,
    #[serde(default)]
    offset: u64,
    total: u64,
    #[serde(default)]
    relaxed: bool,
    #[serde(default, borrow)]
    point: Option<Cow<'a, str>>,
}

/// Counts of the most frequent queries in bounded memory (Misra–Gries):
/// exact while there are at most `capacity` distinct ones.
struct Frequent {
    counts: HashMap<String, u64>,
    capacity: usize,
    exact: bool,
}

impl Frequent {
    fn new(capacity: usize) -> Self {
        Frequent { counts: HashMap::new(), capacity, exact: true }
    }

    fn add(&mut self, query: &str) {
        if let Some(count) = self.counts.get_mut(query) {
            *count += 1;
        } else if self.counts.len() < self.capacity {
            self.counts.insert(query.to_string(), 1);
        } else {
            // Each count lowered here was raised once before: the work
            // stays linear in the number of lines.
            self.exact = false;
            self.counts.retain(|_, count| {
                *count -= 1;
                *count > 0
            });
        }
    }

    /// Every counted query, most frequent first, ties in query order.
    fn ranked(self) -> Vec<QueryCount> {
        let mut ranked: Vec<QueryCount> = self.counts.into_iter().map(|(query, count)| QueryCount { query, count }).collect();
        ranked.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.query.cmp(&b.query)));
        ranked
    }
}

/// The days a report covers, inclusive (`YYYY-MM-DD`).
#[derive(Debug, Clone, Default)]
pub struct Period {
    /// The first day counted; from the start of the log when `None`.
    pub from: Option<String>,
    /// The last day counted; to the end of the log when `None`.
    pub to: Option<String>,
}

impl Period {
    fn holds(&self, day: &str) -> bool {
        self.from.as_deref().is_none_or(|from| day >= from) && self.to.as_deref().is_none_or(|to| day <= to)
    }
}

/// Count the searches of the query log `log` within `period` (calling
/// `progress` with the bytes read, now and then) and the documents of
/// `archive`. Errors: the log cannot be opened or read.
pub fn gather(archive: &Archive, log: &Path, period: &Period, progress: impl Fn(u64)) -> Result<Report> {
    let file = File::open(log).map_err(Error::io(format!("opening the query log {}", log.display())))?;
    let searches = read_log(BufReader::with_capacity(1 << 20, file), period, progress)
        .map_err(Error::io(format!("reading the query log {}", log.display())))?;
    Ok(Report { from: period.from.clone(), to: period.to.clone(), searches, documents: count_documents(archive)? })
}

/// Count the searches of a query log.
pub fn read_log(mut log: impl BufRead, period: &Period, progress: impl Fn(u64)) -> std::io::Result<Searches> {
    let china = UtcOffset::from_whole_seconds(CHINA_SECONDS).unwrap_or(UtcOffset::UTC);
    let mut searches = Searches::default();
    let (mut all, mut zero) = (Frequent::new(DISTINCT_QUERIES), Frequent::new(DISTINCT_QUERIES));
    let (mut line, mut read, mut query) = (Vec::new(), 0u64, String::new());
    // Read as bytes: a line cut short by a crash, or not UTF-8, is one
    // unreadable line, not the end of the report.
    while log.read_until(b'\n', &mut line)? > 0 {
        read += line.len() as u64;
        if read % (4 << 20) < line.len() as u64 {
            progress(read);
        }
        let parsed = serde_json::from_slice::<LogLine>(&line).ok();
        let day =
            parsed.as_ref().and_then(|l| OffsetDateTime::parse(&l.time, &Rfc3339).ok()).map(|t| t.to_offset(china).date().to_string());
        match (parsed, day) {
            (Some(search), Some(day)) if search.offset == 0 && period.holds(&day) => {
                query.clear();
                for word in search.q.split_whitespace() {
                    if !query.is_empty() {
                        query.push(' ');
                    }
                    query.push_str(word);
                }
                count_search(&mut searches, &search, day, &query, &mut all, &mut zero);
            }
            (Some(_), Some(_)) => {}
            _ if line.trim_ascii().is_empty() => {}
            _ => searches.unreadable_lines += 1,
        }
        line.clear();
    }
    progress(read);
    searches.counts_exact = all.exact && zero.exact;
    searches.top_queries = all.ranked();
    searches.zero_result_queries = zero.ranked();
    Ok(searches)
}

fn count_search(searches: &mut Searches, search: &LogLine, day: String, query: &str, all: &mut Frequent, zero: &mut Frequent) {
    let point = search.point.as_deref().filter(|p| !p.is_empty()).unwrap_or(WEB);
    searches.total += 1;
    *searches.by_day.entry(day).or_default().entry(point.to_string()).or_insert(0) += 1;
    *searches.by_point.entry(point.to_string()).or_insert(0) += 1;
    searches.partial_only += u64::from(search.relaxed && search.total > 0);
    if search.total == 0 {
        searches.zero_results += 1;
    }
    if query.is_empty() {
        return;
    }
    all.add(query);
    if search.total == 0 {
        zero.add(query);
    }
}

/// The archive's documents by category, publisher, year, disclosure and
/// validity, and per year by what became of them.
pub fn count_documents(archive: &Archive) -> Result<Documents> {
    let stats = archive.stats()?;
    let mut documents = Documents {
        total: stats.documents,
        category: stats.category,
        publisher: stats.publisher,
        year: stats.year,
        disclosure: stats.disclosure,
        ..Documents::default()
    };
    for ((year, validity), n) in archive.validity_by_year()? {
        *documents.validity.entry(validity.clone()).or_insert(0) += n;
        if year.is_empty() {
            continue;
        }
        let counts = documents.per_year.entry(year).or_default();
        counts.made += n;
        match validity.as_str() {
            REPEALED => counts.repealed += n,
            "" => counts.validity_unknown += n,
            _ => counts.in_force += n,
        }
    }
    Ok(documents)
}

/// The share `part / whole` as a percentage with one decimal ("0.0%" of nothing).
fn percent(part: u64, whole: u64) -> String {
    format!("{:.1}%", if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 })
}

/// The report for a person reading a terminal.
pub fn text(report: &Report) -> String {
    let s = &report.searches;
    let mut out = format!("Searches {}\n", period_label(report));
    out.push_str(&format!(
        "  {} searches; {} ({}) found nothing; {} ({}) answered only by partial matches\n",
        s.total,
        s.zero_results,
        percent(s.zero_results, s.total),
        s.partial_only,
        percent(s.partial_only, s.total)
    ));
    if s.unreadable_lines > 0 {
        out.push_str(&format!("  {} lines of the log were not searches and were skipped\n", s.unreadable_lines));
    }
    if !s.counts_exact {
        out.push_str(&format!("  more than {DISTINCT_QUERIES} distinct queries: the query counts below may be low\n"));
    }
    out.push_str("\nSearches per day and reading point\n");
    for (day, points) in &s.by_day {
        let per_point: Vec<String> = points.iter().map(|(p, n)| format!("{p} {n}")).collect();
        out.push_str(&format!("  {day}  {:>6}  {}\n", points.values().sum::<u64>(), per_point.join(", ")));
    }
    out.push_str("\nSearches per reading point\n");
    out.push_str(&rows(s.by_point.iter().map(|(k, v)| (k.as_str(), *v))));
    out.push_str("\nMost searched\n");
    out.push_str(&rows(s.top_queries.iter().take(TOP).map(|q| (q.query.as_str(), q.count))));
    out.push_str("\nFound nothing\n");
    out.push_str(&rows(s.zero_result_queries.iter().take(TOP).map(|q| (q.query.as_str(), q.count))));
    out.push_str(&documents_text(&report.documents));
    out
}

fn period_label(report: &Report) -> String {
    match (&report.from, &report.to) {
        (None, None) => "(the whole log)".into(),
        (from, to) => format!("from {} to {}", from.as_deref().unwrap_or("the start"), to.as_deref().unwrap_or("the end")),
    }
}

fn rows<'a>(rows: impl Iterator<Item = (&'a str, u64)>) -> String {
    rows.map(|(key, n)| format!("  {n:>8}  {}\n", if key.is_empty() { "(not catalogued)" } else { key })).collect()
}

fn documents_text(d: &Documents) -> String {
    let mut out = format!("\nDocuments: {}\n", d.total);
    for (name, counts) in d.tables() {
        out.push_str(&format!("\nDocuments by {name}\n"));
        out.push_str(&rows(counts.iter().map(|(k, v)| (k.as_str(), *v))));
    }
    out.push_str("\nPer year: made, repealed (失效), in force (有效, 已修改), validity unknown\n");
    for (year, c) in &d.per_year {
        out.push_str(&format!("  {year}  {:>8}  {:>8}  {:>8}  {:>8}\n", c.made, c.repealed, c.in_force, c.validity_unknown));
    }
    out
}

/// A cell a spreadsheet shows as text: queries are what the public typed,
/// and one starting with `=`, `+`, `-` or `@` (or a tab or carriage
/// return) would be run as a formula; such a cell starts with `'`.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// The report as one table, `section,key,detail,count`, for a spreadsheet.
pub fn csv(report: &Report) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| Error::io("writing the report")(e.into());
    w.write_record(["section", "key", "detail", "count"]).map_err(failed)?;
    let mut row = |section: &str, key: &str, detail: &str, n: u64| w.write_record([section, &*inert(key), &*inert(detail), &n.to_string()]);
    let s = &report.searches;
    for (key, n) in
        [("total", s.total), ("zero_results", s.zero_results), ("partial_only", s.partial_only), ("unreadable_lines", s.unreadable_lines)]
    {
        row("searches", key, "", n).map_err(failed)?;
    }
    for (day, points) in &s.by_day {
        for (point, n) in points {
            row("searches_per_day", day, point, *n).map_err(failed)?;
        }
    }
    for (point, n) in &s.by_point {
        row("searches_per_point", point, "", *n).map_err(failed)?;
    }
    for (section, list) in [("top_query", &s.top_queries), ("zero_result_query", &s.zero_result_queries)] {
        for q in list {
            row(section, &q.query, "", q.count).map_err(failed)?;
        }
    }
    let d = &report.documents;
    row("documents", "total", "", d.total).map_err(failed)?;
    for (name, counts) in d.tables() {
        for (key, n) in counts {
            row(&format!("documents_by_{name}"), key, "", *n).map_err(failed)?;
        }
    }
    for (year, c) in &d.per_year {
        for (detail, n) in [("made", c.made), ("repealed", c.repealed), ("in_force", c.in_force), ("validity_unknown", c.validity_unknown)]
        {
            row("documents_per_year", year, detail, n).map_err(failed)?;
        }
    }
    let bytes = w.into_inner().map_err(|e| Error::io("writing the report")(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_query_that_looks_like_a_formula_is_text_in_the_csv() {
        assert_eq!(super::inert("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(super::inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(super::inert("低保 -2018"), "低保 -2018");
    }

    use super::*;

    #[test]
    fn frequent_queries_are_exact_within_capacity_and_the_most_frequent_survive_past_it() {
        let mut f = Frequent::new(3);
        for q in ["低保", "低保", "征地", "低保", "公积金"] {
            f.add(q);
        }
        assert!(f.exact);
        assert_eq!(f.ranked().iter().map(|q| (q.query.as_str(), q.count)).collect::<Vec<_>>(), [("低保", 3), ("公积金", 1), ("征地", 1)]);
        let mut past = Frequent::new(2);
        for q in ["低保", "低保", "低保", "a", "b", "c", "d", "低保"] {
            past.add(q);
        }
        assert!(!past.exact);
        assert_eq!(past.ranked()[0].query, "低保");
    }
}
