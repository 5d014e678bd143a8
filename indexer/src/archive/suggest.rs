//! Completions of what a reader has typed so far (`GET /api/suggest`):
//! phrases the archive's texts continue the typed words with, and titles
//! that hold the typed words.
//!
//! Every step reads a bounded number of documents, whatever the size of the
//! archive: titles come from the title index (the shortest matching titles,
//! by the length norm of the title field), phrases from the best few
//! documents for the last typed word.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::Query;
use tantivy::{DocAddress, TantivyDocument};

use super::{first_str, Archive, Searching};
use crate::analysis::{analyze, is_han, normalize, Piece, PieceKind};
use crate::api::MAX_QUERY_CHARS;
use crate::catalog::Disclosure;
use crate::error::Result;
use crate::highlight::Needles;
use crate::query::QueryPlan;
use crate::ranking::{self, Facts};

/// What `GET /api/suggest` answers: phrases and titles to complete the
/// typed text with.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Suggestions {
    /// The typed text followed by a word the archive often has after it
    /// (低保 → 低保 申请), most frequent first, then the titles below.
    pub suggestions: Vec<String>,
    /// Titles that hold every typed word (or its official term), each with
    /// the document it opens.
    pub documents: Vec<TitleSuggestion>,
}

/// A title offered as a suggestion, and the document it opens.
#[derive(Debug, Clone, Serialize)]
pub struct TitleSuggestion {
    pub id: String,
    pub title: String,
}

/// Titles read per suggestion asked for, from each of the two title
/// queries (the typed text whole, then every typed word): the shortest
/// matching titles, among which the order below is decided. Several
/// documents may share a title.
const CANDIDATES_PER_TITLE: usize = 4;

/// Documents whose text is searched for the words that follow the typed
/// ones, for phrase suggestions.
const PHRASE_SOURCES: usize = 20;
/// Occurrences of the typed words looked at per document.
const PHRASE_OCCURRENCES: usize = 64;

impl Archive {
    /// Completions of what was typed so far: the typed words followed by a
    /// word the archive's public texts often have after them, and titles
    /// that hold every typed word or its official term (those holding the
    /// typed text as typed first, then those whose words start with the
    /// typed words, then those starting with it, then the shortest).
    pub fn suggest(&self, q: &str, limit: usize) -> Result<Suggestions> {
        let typed: String = q.trim().chars().take(MAX_QUERY_CHARS).collect();
        let plan = QueryPlan::new(&typed);
        if plan.is_empty() {
            return Ok(Suggestions::default());
        }
        let searcher = Searching::new(self.reader.searcher(), &self.spread);
        let documents = self.titles(&searcher, &plan, &typed, limit)?;
        let mut suggestions = self.phrases(&searcher, &plan, &typed, limit / 2)?;
        suggestions.extend(documents.iter().map(|d| d.title.clone()));
        suggestions.truncate(limit);
        Ok(Suggestions { suggestions, documents })
    }

    /// Up to `limit` distinct titles holding every typed word, best first.
    fn titles(&self, searcher: &Searching, plan: &QueryPlan, typed: &str, limit: usize) -> Result<Vec<TitleSuggestion>> {
        let whole = normalize(typed).text().split_whitespace().collect::<String>();
        let mut addresses: Vec<DocAddress> = Vec::new();
        for query in [ranking::title_query(&self.fields, &[vec![whole.clone()]]), self.every_word_in_title(plan)].into_iter().flatten() {
            let top = searcher.collect(&*query, &TopDocs::with_limit(limit * CANDIDATES_PER_TITLE).order_by_score())?;
            for (_, address) in top {
                if !addresses.contains(&address) {
                    addresses.push(address);
                }
            }
        }
        let mut candidates: Vec<Arc<Facts>> = self.facts.get_all(searcher, &addresses);
        let words = plan.near_words();
        candidates.sort_by_cached_key(|t| {
            let word_start = titles_word_starts(&t.folded, &words);
            (!t.folded.contains(&whole), !word_start, !t.folded.starts_with(&whole), t.title.chars().count())
        });
        let mut seen = HashSet::new();
        Ok(candidates
            .into_iter()
            .filter(|t| seen.insert(t.title.clone()))
            .take(limit)
            .map(|t| TitleSuggestion { id: t.id.clone(), title: t.title.clone() })
            .collect())
    }

    /// Titles holding every required word of `plan` (or its official term).
    fn every_word_in_title(&self, plan: &QueryPlan) -> Option<Box<dyn Query>> {
        let groups: Vec<Vec<String>> = plan.groups.iter().filter(|g| !g.optional).map(|g| g.texts()).collect();
        ranking::title_query(&self.fields, &groups)
    }

    /// Up to `limit` phrases: `typed` and a word that follows the last
    /// typed word (or its official term) in at least two of the best public
    /// documents for it, most documents first.
    fn phrases(&self, searcher: &Searching, plan: &QueryPlan, typed: &str, limit: usize) -> Result<Vec<String>> {
        // A question (怎么申请) is a whole query already, one character not
        // yet a word: nothing to complete.
        if plan.groups.iter().any(|g| g.optional) || typed.trim().chars().count() < 2 {
            return Ok(Vec::new());
        }
        let Some(last) = plan.groups.last() else { return Ok(Vec::new()) };
        let needles = Needles::new(&last.texts());
        let groups: Vec<Vec<String>> = plan.groups.iter().map(|g| g.texts()).collect();
        let Some(query) = ranking::body_query(&self.fields, &groups) else { return Ok(Vec::new()) };
        let top = searcher.collect(&*query, &TopDocs::with_limit(PHRASE_SOURCES).order_by_score())?;
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            if first_str(&doc, self.fields.disclosure).as_deref() != Some(Disclosure::Public.as_str()) {
                continue;
            }
            // A damaged original offers no phrase (`indexer verify` reports it).
            let Ok(Some(text)) = self.text_of(&doc) else { continue };
            for word in words_after(&text, &needles) {
                *counts.entry(word).or_default() += 1;
            }
        }
        let mut ranked: Vec<(String, usize)> = counts.into_iter().filter(|(_, n)| *n >= 2).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(ranked.into_iter().take(limit).map(|(word, _)| format!("{} {word}", typed.trim())).collect())
    }
}

/// The distinct words of two Han characters or more that follow one of the
/// folded `needles` in `text` (not ordinals 第…, not question words).
fn words_after(text: &str, needles: &Needles) -> HashSet<String> {
    let useful =
        |w: &Piece| w.chars >= 2 && w.text.chars().all(is_han) && !w.text.starts_with('第') && !crate::thesaurus::is_optional(&w.text);
    needles
        .literal(text, PHRASE_OCCURRENCES)
        .into_iter()
        .filter_map(|range| {
            let after: String = text[range.end..].chars().take(8).collect();
            analyze(&after).into_iter().find(|p| p.kind == PieceKind::Word && p.position == 0).filter(useful).map(|p| p.text)
        })
        .collect()
}

/// Whether every word starts a word of the folded title as the analyzer
/// reads it: 民法 starts 民法典 in 中华人民共和国民法典, not 人民法院.
fn titles_word_starts(folded: &str, words: &[&str]) -> bool {
    let pieces = analyze(folded);
    words.iter().all(|w| pieces.iter().any(|p| p.kind != PieceKind::Char && p.text.starts_with(w)))
}
