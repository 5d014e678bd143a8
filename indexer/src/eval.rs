//! Relevance evaluation: run judged queries through exactly the search path
//! the server uses and score the top 10 (nDCG@10, MRR@10, Recall@10),
//! overall and per query type (the id prefix before `-`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use crate::api::SearchRequest;
use crate::archive::Archive;

/// Depth of every metric.
pub const DEPTH: usize = 10;

/// Judgments: query id → document path → grade (2 = the answer wanted,
/// 1 = also relevant).
pub type Qrels = HashMap<String, HashMap<String, u32>>;

/// Metrics of one query or the mean over several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub ndcg: f64,
    pub mrr: f64,
    pub recall: f64,
}

/// Parse `qid<TAB>text` lines.
pub fn parse_queries(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(id, q)| (id.trim().to_string(), q.trim().to_string()))
        .filter(|(id, _)| !id.is_empty())
        .collect()
}

/// Parse `qid<TAB>path<TAB>grade` lines.
pub fn parse_qrels(text: &str) -> Qrels {
    let mut qrels = Qrels::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if let [id, path, grade] = cols[..] {
            if let Ok(grade) = grade.trim().parse() {
                qrels.entry(id.to_string()).or_default().insert(path.to_string(), grade);
            }
        }
    }
    qrels
}

/// Score one ranked list against its judgments.
pub fn score(ranked: &[String], judged: &HashMap<String, u32>) -> Metrics {
    let gain = |path: &String| *judged.get(path).unwrap_or(&0) as f64;
    let discount = |rank: usize| (rank as f64 + 2.0).log2();
    let dcg: f64 = ranked.iter().take(DEPTH).enumerate().map(|(i, p)| gain(p) / discount(i)).sum();
    let mut ideal: Vec<u32> = judged.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(DEPTH).enumerate().map(|(i, &g)| g as f64 / discount(i)).sum();
    let mrr = ranked.iter().take(DEPTH).position(|p| judged.get(p) == Some(&2)).map(|i| 1.0 / (i as f64 + 1.0)).unwrap_or(0.0);
    let relevant = judged.values().filter(|&&g| g > 0).count();
    let found = ranked.iter().take(DEPTH).filter(|p| judged.get(*p).is_some_and(|&g| g > 0)).count();
    Metrics {
        ndcg: if idcg > 0.0 { dcg / idcg } else { 0.0 },
        mrr,
        recall: if relevant > 0 { found as f64 / relevant as f64 } else { 0.0 },
    }
}

fn mean(all: &[Metrics]) -> Metrics {
    let n = all.len().max(1) as f64;
    Metrics {
        ndcg: all.iter().map(|m| m.ndcg).sum::<f64>() / n,
        mrr: all.iter().map(|m| m.mrr).sum::<f64>() / n,
        recall: all.iter().map(|m| m.recall).sum::<f64>() / n,
    }
}

/// The outcome of an evaluation: per query type and overall, plus the run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub overall: Metrics,
    pub by_type: BTreeMap<String, Metrics>,
    pub queries: usize,
    /// (query id, ranked paths)
    #[serde(skip)]
    pub run: Vec<(String, Vec<String>)>,
}

/// Paths of the first [`DEPTH`] results, exactly as the server ranks them.
fn top_paths(archive: &Archive, text: &str) -> Vec<String> {
    let request = SearchRequest { q: text.to_string(), limit: DEPTH, ..SearchRequest::default() };
    archive.search(&request).map(|r| r.hits.into_iter().map(|h| h.path).collect()).unwrap_or_default()
}

/// Run every judged query through [`Archive::search`] and score it.
pub fn evaluate(archive: &Archive, queries: &[(String, String)], qrels: &Qrels) -> Report {
    let empty = HashMap::new();
    let mut per_type: BTreeMap<String, Vec<Metrics>> = BTreeMap::new();
    let mut all = Vec::new();
    let mut run = Vec::new();
    for (id, text) in queries {
        let ranked = top_paths(archive, text);
        let metrics = score(&ranked, qrels.get(id).unwrap_or(&empty));
        let kind = id.split('-').next().unwrap_or("").to_string();
        per_type.entry(kind).or_default().push(metrics);
        all.push(metrics);
        run.push((id.clone(), ranked));
    }
    // Traditional-script queries once more, written in simplified: the gap
    // between the two rows is what the script alone costs.
    let simplified: Vec<Metrics> = queries
        .iter()
        .filter(|(id, _)| id.starts_with("tr-"))
        .map(|(id, text)| score(&top_paths(archive, &fast2s::convert(text)), qrels.get(id).unwrap_or(&empty)))
        .collect();
    if !simplified.is_empty() {
        per_type.insert("tr→简".to_string(), simplified);
    }
    Report { overall: mean(&all), by_type: per_type.iter().map(|(k, v)| (k.clone(), mean(v))).collect(), queries: all.len(), run }
}

impl Report {
    /// A table a person reads.
    pub fn table(&self) -> String {
        let mut out = format!("{:<8} {:>7} {:>8} {:>7} {:>9}\n", "type", "queries", "nDCG@10", "MRR@10", "Recall@10");
        let row = |out: &mut String, name: &str, n: usize, m: &Metrics| {
            let _ = writeln!(out, "{name:<8} {n:>7} {:>8.3} {:>7.3} {:>9.3}", m.ndcg, m.mrr, m.recall);
        };
        for (kind, m) in &self.by_type {
            let prefix = kind.trim_end_matches("→简");
            let n = self.run.iter().filter(|(id, _)| id.split('-').next() == Some(prefix)).count();
            row(&mut out, kind, n, m);
        }
        row(&mut out, "all", self.queries, &self.overall);
        out
    }

    /// `qid<TAB>rank<TAB>path` lines.
    pub fn run_file(&self) -> String {
        let mut out = String::new();
        for (id, ranked) in &self.run {
            for (i, path) in ranked.iter().enumerate() {
                let _ = writeln!(out, "{id}\t{}\t{path}", i + 1);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_a_hand_computed_case() {
        // Judged: a=2, b=1, c=1. Ranked: x, a, c.
        let judged: HashMap<String, u32> = [("a", 2), ("b", 1), ("c", 1)].iter().map(|(p, g)| (p.to_string(), *g)).collect();
        let ranked: Vec<String> = ["x", "a", "c"].iter().map(|s| s.to_string()).collect();
        let m = score(&ranked, &judged);
        // DCG = 2/log2(3) + 1/log2(4) = 1.26186 + 0.5 = 1.76186
        // IDCG = 2/1 + 1/log2(3) + 1/2 = 3.13093
        assert!((m.ndcg - 1.761859 / 3.130930).abs() < 1e-5, "{m:?}");
        assert!((m.mrr - 0.5).abs() < 1e-12);
        assert!((m.recall - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn nothing_found_scores_zero_and_perfect_scores_one() {
        let judged: HashMap<String, u32> = [("a".to_string(), 2)].into();
        assert_eq!(score(&[], &judged), Metrics::default());
        let m = score(&["a".to_string()], &judged);
        assert_eq!(m, Metrics { ndcg: 1.0, mrr: 1.0, recall: 1.0 });
    }

    #[test]
    fn files_parse_with_tabs() {
        assert_eq!(parse_queries("ki-1\t不动产 登记\n\nbad line\n"), vec![("ki-1".into(), "不动产 登记".into())]);
        assert_eq!(parse_qrels("ki-1\tlaws/a.md\t2\nki-1\tlaws/b.md\tx\n")["ki-1"].len(), 1);
    }
}
