//! `AnyOf`: the documents matching at least one of several queries, scored
//! by the sum of the scores of those that match, like a boolean query of
//! `Should` clauses, but evaluated lazily.
//!
//! Why not tantivy's `BooleanQuery`: its union of `Should` clauses is
//! buffered; the moment it is built it runs every clause over the next
//! 4,096 documents, which is every document of a small archive. For the
//! phrase clauses a word becomes (its characters together in the title,
//! the catalog line or the body), that meant reading the positions of every
//! character in every document that holds them all, even inside an
//! intersection that only asks about a handful of candidates. `AnyOf` asks
//! each clause about a candidate only when it is asked about that candidate
//! ([`DocSet::seek_danger`]), so the rarest word of a query leads and the
//! others are checked where it matched.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, TantivyError, Term, TERMINATED};

/// Documents matching any of the queries; see the module documentation.
#[derive(Debug)]
pub struct AnyOf {
    queries: Vec<Box<dyn Query>>,
}

impl Clone for AnyOf {
    fn clone(&self) -> AnyOf {
        AnyOf { queries: self.queries.iter().map(|query| query.box_clone()).collect() }
    }
}

impl AnyOf {
    /// The union of `queries`, scored by the sum of those that match: the
    /// query itself when there is one.
    pub fn new(mut queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
        if queries.len() == 1 {
            if let Some(query) = queries.pop() {
                return query;
            }
        }
        Box::new(AnyOf { queries })
    }
}

impl Query for AnyOf {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self.queries.iter().map(|query| query.weight(scoring)).collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(AnyOfWeight { weights }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for query in &self.queries {
            query.query_terms(visitor);
        }
    }
}

struct AnyOfWeight {
    weights: Vec<Box<dyn Weight>>,
}

impl Weight for AnyOfWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let clauses =
            self.weights.iter().map(|weight| Ok(Clause::valid(weight.scorer(reader, boost)?))).collect::<tantivy::Result<Vec<_>>>()?;
        let doc = clauses.iter().map(|c| c.lower).min().unwrap_or(TERMINATED);
        Ok(Box::new(AnyOfScorer { clauses, doc }))
    }

    /// Each clause starts at `target` without looking for its first match.
    fn scorer_danger(&self, reader: &SegmentReader, target: DocId, boost: Score) -> tantivy::Result<(SeekDangerResult, Box<dyn Scorer>)> {
        let mut clauses = Vec::with_capacity(self.weights.len());
        for weight in &self.weights {
            let (result, scorer) = weight.scorer_danger(reader, target, boost)?;
            clauses.push(Clause::after(scorer, target, result));
        }
        let mut scorer = AnyOfScorer { clauses, doc: target };
        let result = scorer.result_at(target);
        Ok((result, Box::new(scorer)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        // Only the clauses that match are asked to explain: tantivy's phrase
        // weight asserts (in debug builds) when asked about a document before
        // its first match.
        let mut parts = Vec::new();
        for weight in &self.weights {
            if weight.scorer_danger(reader, doc, 1.0)?.0 == SeekDangerResult::Found {
                parts.push(weight.explain(reader, doc)?);
            }
        }
        if parts.is_empty() {
            return Err(TantivyError::InvalidArgument(format!("document {doc} matches none of the clauses")));
        }
        let mut explanation = Explanation::new("sum of the matching clauses", parts.iter().map(Explanation::value).sum());
        for part in parts {
            explanation.add_detail(part);
        }
        Ok(explanation)
    }
}

/// One clause of the union and what is known of it.
struct Clause {
    scorer: Box<dyn Scorer>,
    /// The clause matches no document from the last target asked about up
    /// to `lower`.
    lower: DocId,
    /// The scorer is in a valid state, on `lower`. When false, it was left
    /// by a `seek_danger` miss and may only be asked `seek_danger` again.
    on: bool,
}

impl Clause {
    fn valid(scorer: Box<dyn Scorer>) -> Clause {
        let lower = scorer.doc();
        Clause { scorer, lower, on: true }
    }

    fn after(scorer: Box<dyn Scorer>, target: DocId, result: SeekDangerResult) -> Clause {
        match result {
            SeekDangerResult::Found => Clause { scorer, lower: target, on: true },
            SeekDangerResult::SeekLowerBound(bound) => Clause { scorer, lower: bound, on: false },
        }
    }

    /// Whether the clause matches `target`, which is above every target
    /// asked before; it is left on `target` when it does.
    fn matches(&mut self, target: DocId) -> bool {
        if target < self.lower {
            return false;
        }
        if target == self.lower && self.on {
            return true;
        }
        match self.scorer.seek_danger(target) {
            SeekDangerResult::Found => {
                (self.lower, self.on) = (target, true);
                true
            }
            SeekDangerResult::SeekLowerBound(bound) => {
                (self.lower, self.on) = (bound, false);
                false
            }
        }
    }

    /// The clause's first match at or after `target`, the scorer left on it.
    fn first_from(&mut self, target: DocId) -> DocId {
        if self.on {
            if self.lower < target {
                self.lower = self.scorer.seek(target);
            }
            return self.lower;
        }
        while self.lower < TERMINATED && !self.matches(target.max(self.lower)) {}
        self.lower
    }

    fn is_on(&self, doc: DocId) -> bool {
        self.on && self.lower == doc
    }
}

struct AnyOfScorer {
    clauses: Vec<Clause>,
    doc: DocId,
}

impl AnyOfScorer {
    /// Whether any clause matches `target`, else the lowest next possible
    /// match. Every clause is asked when all that match are scored.
    fn result_at(&mut self, target: DocId) -> SeekDangerResult {
        let mut found = false;
        for clause in &mut self.clauses {
            found |= clause.matches(target);
        }
        if found {
            self.doc = target;
            SeekDangerResult::Found
        } else {
            SeekDangerResult::SeekLowerBound(self.clauses.iter().map(|c| c.lower).min().unwrap_or(TERMINATED))
        }
    }

    fn first_from(&mut self, target: DocId) -> DocId {
        self.doc = self.clauses.iter_mut().map(|c| c.first_from(target)).min().unwrap_or(TERMINATED);
        self.doc
    }
}

impl DocSet for AnyOfScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.first_from(self.doc + 1)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if target <= self.doc {
            return self.doc;
        }
        self.first_from(target)
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        if target >= TERMINATED {
            return SeekDangerResult::SeekLowerBound(TERMINATED);
        }
        self.result_at(target)
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.clauses.iter().map(|c| c.scorer.size_hint()).max().unwrap_or(0)
    }

    fn cost(&self) -> u64 {
        self.clauses.iter().map(|c| c.scorer.cost()).sum()
    }
}

impl Scorer for AnyOfScorer {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        self.clauses.iter_mut().filter(|c| c.is_on(doc)).map(|c| c.scorer.score()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{BooleanQuery, Occur, PhraseQuery, TermQuery};
    use tantivy::schema::{Field, IndexRecordOption, Schema, TEXT};
    use tantivy::{doc, DocAddress, Index, Searcher};

    /// An index of 600 pseudo-random documents over five words, in three
    /// segments, so that phrases match some documents and not others.
    fn index() -> (Searcher, Field) {
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).expect("writer");
        let mut seed: u64 = 7;
        for n in 0..600 {
            let words: Vec<&str> = (0..(3 + n % 11))
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ["a", "b", "c", "d", "e"][(seed >> 33) as usize % 5]
                })
                .collect();
            writer.add_document(doc!(body => words.join(" "))).expect("add");
            if n % 200 == 199 {
                writer.commit().expect("commit");
            }
        }
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.segment_readers().len(), 3);
        (searcher, body)
    }

    fn phrase(field: Field, words: &[&str]) -> Box<dyn Query> {
        Box::new(PhraseQuery::new(words.iter().map(|w| Term::from_field_text(field, w)).collect()))
    }

    fn term(field: Field, word: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs))
    }

    fn results(searcher: &Searcher, query: &dyn Query) -> (usize, Vec<(DocAddress, i64)>) {
        let (top, count) = searcher.search(query, &(TopDocs::with_limit(1000).order_by_score(), Count)).expect("search");
        let mut docs: Vec<(DocAddress, i64)> = top.into_iter().map(|(score, address)| (address, (score * 1e4).round() as i64)).collect();
        docs.sort();
        (count, docs)
    }

    #[test]
    fn matches_and_scores_as_a_boolean_union_does() {
        let (searcher, body) = index();
        let clauses = || vec![phrase(body, &["a", "b"]), phrase(body, &["c", "d", "e"]), term(body, "e")];
        let should = |clauses: Vec<Box<dyn Query>>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(clauses.into_iter().map(|q| (Occur::Should, q)).collect()))
        };
        let within = |union: Box<dyn Query>, occur: Occur| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![(Occur::Must, phrase(body, &["b", "a"])), (Occur::Must, term(body, "c")), (occur, union)]))
        };
        // Alone, as one required clause of an intersection (where it is
        // asked about candidates with seek_danger), and excluded.
        for (lazy, buffered) in [
            (AnyOf::new(clauses()), should(clauses())),
            (within(AnyOf::new(clauses()), Occur::Must), within(should(clauses()), Occur::Must)),
            (within(AnyOf::new(clauses()), Occur::MustNot), within(should(clauses()), Occur::MustNot)),
        ] {
            let expected = results(&searcher, &*buffered);
            assert!(expected.0 > 0, "the test query matches nothing");
            assert_eq!(results(&searcher, &*lazy), expected, "{lazy:?}");
        }
    }

    #[test]
    fn explains_the_sum_of_the_matching_clauses() {
        let (searcher, body) = index();
        let query = AnyOf::new(vec![phrase(body, &["a", "b"]), term(body, "e")]);
        let (_, docs) = results(&searcher, &*query);
        let (address, score) = docs[0];
        let explanation = query.explain(&searcher, address).expect("explained");
        assert_eq!((explanation.value() * 1e4).round() as i64, score);
    }
}
