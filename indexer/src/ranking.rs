//! How a parsed query becomes a tantivy query, and how results are ordered:
//! the rules a librarian would state for Chinese records.
//!
//! * A word matches where its characters appear together, in the title,
//!   the catalog line (文号, 索引号, publisher) or the body, whatever way the
//!   segmenter split either side; matches in the title weigh most, then the
//!   catalog line, then the body.
//! * A word that is a whole dictionary word scores extra where the text has
//!   it as a word too, so exact words are not drowned by sub-word matches.
//! * Several words found together as a phrase, or close to each other,
//!   score above the same words scattered; each two neighbouring words
//!   standing side by side in a title score more.
//! * A long word (four characters or more) also matches a title holding
//!   each of the words inside it (治安处罚法: 治安管理处罚法), below a
//!   document holding the word itself.
//! * A partial match (when fewer than a page match every word) holds at
//!   least one word of two characters or more.
//! * A document whose title says just what was asked (the query covers most
//!   of the title) ranks above one that mentions the words among others.
//! * Versions of one regulation (files differing only by the date in their
//!   name) are listed newest first.
//! * A document marked 失效 (no longer in force) ranks below one in force.
//! * A 文号 or 索引号 typed as the query finds its document by the exact
//!   key, far above documents that only mention it.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock};

use lru::LruCache;
use regex::Regex;
use tantivy::collector::{Collector, TopDocs};
use tantivy::index::SegmentId;
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SeekDangerResult, SegmentReader, Term};

use crate::analysis::{analyze, normalize, Piece, PieceKind, TokenSet};
use crate::any_of::AnyOf;
use crate::highlight::Needles;
use crate::query::{Group, QueryPlan, Term as QueryTerm};
use crate::schema::{first_value, ords_where, Fields};

const TITLE_WEIGHT: f32 = 3.0;
const META_WEIGHT: f32 = 2.0;
const BODY_WEIGHT: f32 = 1.0;
/// Extra weight of a whole-word match over a character-sequence match.
const WORD_WEIGHT: f32 = 0.5;
/// Weight of all words appearing near each other, in order.
const PROXIMITY_WEIGHT: f32 = 1.0;
/// Weight of two neighbouring words of the query side by side in a title.
const PAIR_WEIGHT: f32 = 1.0;
/// Positions (characters) the words of a query may be spread over and
/// still count as near each other.
const PROXIMITY_SLOP: u32 = 6;
/// Weight of a long word's inner words found apart, against the word itself.
const PARTS_WEIGHT: f32 = 0.5;
/// Weight of an exact 文号 / 索引号 match.
const KEY_WEIGHT: f32 = 20.0;
/// How much a title fully covered by the query words multiplies the score.
const TITLE_COVERAGE_WEIGHT: f32 = 1.0;
/// Candidates re-ordered by title coverage and version.
pub const RERANK_DEPTH: usize = 100;
/// Candidates whose proximity bonus is computed: reading positions with
/// slop in long laws is the costly part of re-ranking.
const NEAR_DEPTH: usize = 30;
/// Score factor for documents no longer in force.
const REPEALED_FACTOR: f32 = 0.6;

type Clause = (Occur, Box<dyn Query>);

/// The query for the words of a plan: every required group must match
/// (when `relaxed`, any one of its words of two characters or more),
/// excluded terms must not. A plan with 文号 keys
/// also finds the documents under those keys, far above the rest.
pub fn plan_query(fields: &Fields, plan: &QueryPlan, relaxed: bool) -> Box<dyn Query> {
    let group_query = |group: &Group| {
        let mut any: Vec<Box<dyn Query>> = group.alternatives.iter().map(|t| term_query(fields, t, relaxed)).collect();
        any.extend(all_parts(fields, &group.parts));
        AnyOf::new(any)
    };
    let mut clauses: Vec<Clause> = Vec::new();
    let mut words: Vec<Box<dyn Query>> = Vec::new();
    for group in &plan.groups {
        if !relaxed {
            clauses.push((if group.optional { Occur::Should } else { Occur::Must }, group_query(group)));
        } else if group.optional || group.is_one_character() {
            clauses.push((Occur::Should, group_query(group)));
        } else {
            words.push(group_query(group));
        }
    }
    if !words.is_empty() {
        // A partial match holds at least one word of two characters or
        // more: a document holding only 法 of 个人所得税法 is no match, and
        // the pass need not visit every document that has that character.
        clauses.push((Occur::Must, AnyOf::new(words)));
    }
    clauses.extend(plan.excluded.iter().map(|t| (Occur::MustNot, anywhere(fields, &atoms(&analyze(&t.text))))));
    if plan.groups.is_empty() {
        // Exclusions alone: every document but theirs.
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    let words: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
    if plan.keys.is_empty() {
        return words;
    }
    let exact = plan
        .keys
        .iter()
        .flat_map(|key| [fields.doc_number_key, fields.index_no_key].map(|field| (Occur::Should, exact(field, key))))
        .collect();
    let keys: Box<dyn Query> = Box::new(BoostQuery::new(Box::new(BooleanQuery::new(exact)), KEY_WEIGHT));
    Box::new(BooleanQuery::new(vec![(Occur::Should, keys), (Occur::Should, words)]))
}

/// Every one of a long word's inner words in the title, each where its
/// characters stand together: titles spell out what people shorten
/// (治安管理处罚法 for 治安处罚法). Weighted below the word itself
/// ([`PARTS_WEIGHT`]).
fn all_parts(fields: &Fields, parts: &[String]) -> Option<Box<dyn Query>> {
    if parts.len() < 2 {
        return None;
    }
    let all: Option<Vec<Clause>> =
        parts.iter().map(|p| Some((Occur::Must, weighted_sequence(fields, fields.title, &atoms(&analyze(p)), TITLE_WEIGHT)?))).collect();
    Some(Box::new(BoostQuery::new(Box::new(BooleanQuery::new(all?)), PARTS_WEIGHT)))
}

/// Titles holding, for each group, one of its texts; `None` without a
/// group. Scored so that among titles matching alike the shorter (its
/// length norm) comes first: what suggestions read. A text of one atom is
/// looked up as that atom; a longer one by its pairs in the title
/// ([`pair_terms`]), without positions: an intersection of terms, whose
/// best documents tantivy finds without scoring every title that holds
/// them (block-max WAND). Its characters are then together, or (rarely,
/// for three or more) its pairs are apart: suggestions put the titles
/// that hold the text as typed first.
pub fn title_query(fields: &Fields, groups: &[Vec<String>]) -> Option<Box<dyn Query>> {
    let mut clauses: Vec<Clause> = Vec::new();
    for texts in groups {
        let mut any: Vec<Result<Vec<Term>, Box<dyn Query>>> =
            texts.iter().filter_map(|text| by_pairs(fields, fields.title, &atoms(&analyze(text)))).collect();
        match (any.pop(), any.is_empty()) {
            (None, _) => return None,
            // One text of pairs: its terms join the others', one intersection.
            (Some(Ok(pairs)), true) => clauses.extend(every(pairs)),
            (Some(last), _) => {
                let any = any.into_iter().chain([last]).map(|text| text.map_or_else(|query| query, all_terms));
                clauses.push((Occur::Must, AnyOf::new(any.collect())));
            }
        }
    }
    (!clauses.is_empty()).then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>)
}

/// Atoms in an atoms field by the pair terms of its pairs field, when
/// there is a pair between each two of them, else in sequence (`Err`):
/// without positions, the pairs stand together or (rarely, for three
/// atoms or more) apart; where only a few documents are wanted, the
/// reader of them checks.
fn by_pairs(fields: &Fields, field: Field, atoms: &[(usize, String)]) -> Option<Result<Vec<Term>, Box<dyn Query>>> {
    let pairs = fields.pairs_of(field).map(|pairs| pair_terms(pairs, atoms)).unwrap_or_default();
    if atoms.len() < 2 || pairs.len() + 1 < atoms.len() {
        return sequence(fields, field, atoms, 0).map(Err);
    }
    Some(Ok(pairs))
}

/// Documents holding every term.
fn all_terms(terms: Vec<Term>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(every(terms).collect()))
}

/// Each term as a clause that must match, looked up for documents only.
fn every(terms: Vec<Term>) -> impl Iterator<Item = Clause> {
    terms.into_iter().map(|term| (Occur::Must, basic(term)))
}

/// Bodies holding, for each group, one of its texts: a dictionary word
/// by its posting in the body words, other text by its pairs
/// ([`by_pairs`]); `None` without a group. Cheaper than [`plan_query`] where
/// only a few good documents are wanted: one group of words is a union of
/// term queries, whose best documents tantivy finds without scoring every
/// document that holds them (block-max WAND).
pub fn body_query(fields: &Fields, groups: &[Vec<String>]) -> Option<Box<dyn Query>> {
    let group_query = |texts: &Vec<String>| -> Box<dyn Query> {
        let any: Vec<Clause> = texts.iter().filter_map(|t| Some((Occur::Should, body_text(fields, t)?))).collect();
        Box::new(BooleanQuery::new(any))
    };
    match groups {
        [] => None,
        [one] => Some(group_query(one)),
        _ => Some(Box::new(BooleanQuery::new(groups.iter().map(|g| (Occur::Must, group_query(g))).collect()))),
    }
}

/// One text in the body: its word posting when it is one dictionary word,
/// else its pairs.
fn body_text(fields: &Fields, text: &str) -> Option<Box<dyn Query>> {
    let pieces = analyze(text);
    let atoms = atoms(&pieces);
    match whole_word(&pieces, &atoms) {
        Some(word) => Some(Box::new(TermQuery::new(Term::from_field_text(fields.body_words, &word.text), IndexRecordOption::WithFreqs))),
        None => by_pairs(fields, fields.body, &atoms).map(|text| text.map_or_else(|query| query, all_terms)),
    }
}

fn exact(field: Field, key: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, key), IndexRecordOption::Basic))
}

/// One word or phrase: its characters together in any field, plus the
/// whole-word bonus.
///
/// A term that is one dictionary word is looked up in the body as that word
/// first, and as its characters in sequence only in documents where the
/// segmenter did not index the word: a word implies its characters, and
/// reading the character positions of a common word such as 规定 in every
/// law took a third of the search time. In the `relaxed` pass, which must
/// visit every document holding any word of the query, the word alone is
/// looked up: partial matches only fill the page after the documents that
/// hold every word.
fn term_query(fields: &Fields, term: &QueryTerm, relaxed: bool) -> Box<dyn Query> {
    let pieces = analyze(&term.text);
    let atoms = atoms(&pieces);
    let words: Vec<&Piece> = if term.phrase { Vec::new() } else { pieces.iter().filter(|p| is_word(p)).collect() };
    let whole = if term.phrase { None } else { whole_word(&pieces, &atoms) };
    // The whole word's posting in the body carries its whole-word bonus:
    // one posting list read once.
    let in_body = |word: &Piece| word_query(fields.body_words, &word.text, BODY_WEIGHT * (1.0 + WORD_WEIGHT));
    let body = match whole {
        Some(word) if relaxed => Some(in_body(word)),
        Some(word) => {
            let indexed = Term::from_field_text(fields.body_words, &word.text);
            let split = sequence_unless(fields, fields.body, &atoms, 0, Some(indexed));
            let split = split.map(|query| Box::new(BoostQuery::new(query, BODY_WEIGHT)) as Box<dyn Query>);
            Some(AnyOf::new(std::iter::once(in_body(word)).chain(split).collect()))
        }
        None => weighted_sequence(fields, fields.body, &atoms, BODY_WEIGHT),
    };
    let mut clauses: Vec<Clause> = vec![(Occur::Must, in_fields(fields, &atoms, body))];
    for word in words {
        clauses.push((Occur::Should, word_query(fields.title_words, &word.text, TITLE_WEIGHT * WORD_WEIGHT)));
        if whole.is_none_or(|whole| whole.text != word.text) {
            clauses.push((Occur::Should, word_query(fields.body_words, &word.text, BODY_WEIGHT * WORD_WEIGHT)));
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

/// A dictionary word of two characters or more: what the words fields
/// index. A number or a Latin word (17, 2016, PM2.5) is an atom, in the
/// atoms fields: looked up in a words field, it matched nothing, and a
/// partial-match pass asking for 第17条's 17 there found no document.
fn is_word(piece: &Piece) -> bool {
    piece.kind == PieceKind::Word && piece.chars > 1 && TokenSet::Words.holds(piece)
}

/// The dictionary word that spans all of `atoms`, when the text is one.
fn whole_word<'p>(pieces: &'p [Piece], atoms: &[(usize, String)]) -> Option<&'p Piece> {
    pieces.iter().find(|p| is_word(p) && p.chars == atoms.len())
}

/// A word of a words field, weighted.
fn word_query(field: Field, word: &str, weight: Score) -> Box<dyn Query> {
    let q = TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs);
    Box::new(BoostQuery::new(Box::new(q), weight))
}

/// The atoms of analyzed text: single Han characters and non-Han words,
/// the units whose consecutive positions spell the text exactly.
fn atoms(pieces: &[Piece]) -> Vec<(usize, String)> {
    let Some(first) = pieces.first().map(|p| p.position) else { return Vec::new() };
    pieces.iter().filter(|p| TokenSet::Atoms.holds(p)).map(|p| (p.position - first, p.text.clone())).collect()
}

/// The atoms in sequence in the title, the catalog line or the body.
fn anywhere(fields: &Fields, atoms: &[(usize, String)]) -> Box<dyn Query> {
    in_fields(fields, atoms, weighted_sequence(fields, fields.body, atoms, BODY_WEIGHT))
}

/// The atoms in sequence in the title or the catalog line, or `body`.
fn in_fields(fields: &Fields, atoms: &[(usize, String)], body: Option<Box<dyn Query>>) -> Box<dyn Query> {
    let mut any: Vec<Box<dyn Query>> = [(fields.title, TITLE_WEIGHT), (fields.meta, META_WEIGHT)]
        .into_iter()
        .filter_map(|(field, weight)| weighted_sequence(fields, field, atoms, weight))
        .collect();
    any.extend(body);
    AnyOf::new(any)
}

/// [`sequence`] without slop, its score times `weight`.
fn weighted_sequence(fields: &Fields, field: Field, atoms: &[(usize, String)], weight: Score) -> Option<Box<dyn Query>> {
    Some(Box::new(BoostQuery::new(sequence(fields, field, atoms, 0)?, weight)))
}

/// Atoms at their relative positions in one field (a term query for one).
fn sequence(fields: &Fields, field: Field, atoms: &[(usize, String)], slop: u32) -> Option<Box<dyn Query>> {
    sequence_unless(fields, field, atoms, slop, None)
}

/// [`sequence`] in the documents that do not hold `unless`.
///
/// Without slop, positions are read only in documents whose pairs field
/// holds each two neighbouring atoms as a pair, and that do not hold
/// `unless`: the characters of 开支 are both in most documents, the pair
/// 开支 in few, and where the segmenter indexed the word 开支 its
/// characters need no checking. A pair or the word adds nothing to the
/// score.
fn sequence_unless(fields: &Fields, field: Field, atoms: &[(usize, String)], slop: u32, unless: Option<Term>) -> Option<Box<dyn Query>> {
    let phrase: Box<dyn Query> = match atoms {
        [] => return None,
        [(_, text)] => Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs)),
        _ => {
            let terms = atoms.iter().map(|(at, text)| (*at, Term::from_field_text(field, text))).collect();
            Box::new(PhraseQuery::new_with_offset_and_slop(terms, slop))
        }
    };
    let pairs = fields.pairs_of(field).filter(|_| slop == 0).map(|pairs| pair_terms(pairs, atoms)).unwrap_or_default();
    let mut filter: Vec<Clause> = every(pairs).collect();
    filter.extend(unless.map(|term| (Occur::MustNot, basic(term))));
    if filter.is_empty() {
        return Some(phrase);
    }
    if filter.iter().all(|(occur, _)| *occur == Occur::MustNot) {
        filter.push((Occur::Must, phrase));
        return Some(Box::new(BooleanQuery::new(filter)));
    }
    // The filter leads the intersection (a phrase's cost counts its
    // positions), and the phrase is asked only where the filter matched.
    let filter: Box<dyn Query> = Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(filter)), 0.0));
    Some(Box::new(BooleanQuery::new(vec![(Occur::Must, phrase), (Occur::Must, filter)])))
}

/// The pair terms ([`crate::analysis::TokenSet::Pairs`]) of each two
/// neighbouring atoms: the second starting where the first ends.
fn pair_terms(pairs: Field, atoms: &[(usize, String)]) -> Vec<Term> {
    atoms
        .windows(2)
        .filter_map(|pair| match pair {
            [(at, first), (next, second)] if at + first.chars().count() == *next => {
                Some(Term::from_field_text(pairs, &format!("{first}{second}")))
            }
            _ => None,
        })
        .collect()
}

/// A term looked up for its documents only.
fn basic(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// All plain words of a query near each other, in order, in the title or
/// the body: the proximity bonus, one query per field with its weight.
/// Each two neighbouring words also score where they stand side by side in
/// the title (政府 信息 as 政府信息), so a document named by some of the
/// query's words together ranks above one holding them all apart. Empty
/// for a single word.
fn proximity(fields: &Fields, words: &[&str]) -> Vec<(Box<dyn Query>, Score)> {
    if words.len() < 2 {
        return Vec::new();
    }
    let all = atoms(&analyze(&words.concat()));
    let mut near: Vec<(Box<dyn Query>, Score)> = [(fields.title, TITLE_WEIGHT), (fields.body, BODY_WEIGHT)]
        .into_iter()
        .filter_map(|(field, weight)| Some((sequence(fields, field, &all, PROXIMITY_SLOP)?, weight * PROXIMITY_WEIGHT)))
        .collect();
    for pair in words.windows(2).filter(|_| words.len() > 2) {
        near.extend(sequence(fields, fields.title, &atoms(&analyze(&pair.concat())), 0).map(|query| (query, TITLE_WEIGHT * PAIR_WEIGHT)));
    }
    near
}

/// Top documents by score, with documents no longer in force lowered.
pub fn tweak(page: TopDocs) -> impl Collector<Fruit = Vec<(Score, DocAddress)>> {
    page.tweak_score(move |segment: &SegmentReader| {
        let factor = validity_factor(segment);
        move |doc: DocId, score: Score| score * factor(doc)
    })
}

/// The score factor of each document of a segment: [`REPEALED_FACTOR`]
/// for documents no longer in force, 1 for the others.
fn validity_factor(segment: &SegmentReader) -> impl Fn(DocId) -> Score {
    let repealed = repealed_ords(segment);
    let column = segment.fast_fields().str("validity").ok().flatten();
    move |doc| {
        let is_repealed = column.as_ref().is_some_and(|c| c.term_ords(doc).any(|o| repealed.contains(&o)));
        if is_repealed {
            REPEALED_FACTOR
        } else {
            1.0
        }
    }
}
/// Ordinals of the validity values that mean "no longer in force".
fn repealed_ords(segment: &SegmentReader) -> Vec<u64> {
    let Ok(Some(column)) = segment.fast_fields().str("validity") else { return Vec::new() };
    ords_where(&column, |value| value.contains("失效") || value.contains("废止"))
}

/// What re-ranking the best candidates needs of a query.
pub struct Rerank {
    /// The query's words and official terms ([`QueryPlan::highlights`]),
    /// folded as the index folds text: the title coverage counts them.
    needles: Needles,
    /// The proximity bonus, one query per field with its weight.
    near: Vec<(Box<dyn Query>, Score)>,
}

impl Rerank {
    /// What re-ranking needs of `plan`: its highlight terms and near words.
    pub fn new(fields: &Fields, plan: &QueryPlan) -> Rerank {
        Rerank { needles: Needles::new(&plan.highlights), near: proximity(fields, &plan.near_words()) }
    }
}

/// Re-order the best candidates: the proximity bonus added, title coverage
/// first, then versions of one regulation newest first, each family keeping
/// the places it earned.
///
/// The proximity bonus is computed here, for the candidates only, and not
/// in the main query: as a clause of it, the phrase-with-slop over every
/// character of the query was checked in every document holding them all,
/// which took a third of the time of a search.
pub fn rerank(
    searcher: &Searcher,
    facts: &FactsCache,
    top: Vec<(Score, DocAddress)>,
    how: &Rerank,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    // `top` comes best first: the proximity bonus is read for the best
    // candidates only, where it can change the first page.
    let candidates: Vec<DocAddress> = top.iter().take(NEAR_DEPTH).map(|(_, address)| *address).collect();
    let mut bonus: HashMap<DocAddress, Score> = HashMap::new();
    for (query, weight) in &how.near {
        for (address, score) in scores_at(searcher, &**query, *weight, &candidates)? {
            *bonus.entry(address).or_default() += score;
        }
    }
    let segments = searcher.segment_readers();
    let factors: Vec<_> = segments.iter().map(validity_factor).collect();
    let dates: Vec<_> = segments.iter().map(|segment| segment.fast_fields().u64("date").ok()).collect();
    let addresses: Vec<DocAddress> = top.iter().map(|(_, address)| *address).collect();
    let mut keyed: Vec<(Score, DocAddress, Arc<Facts>, u64)> = top
        .into_iter()
        .zip(facts.get_all(searcher, &addresses))
        .map(|((score, address), facts)| {
            let (segment, doc) = (address.segment_ord as usize, address.doc_id);
            let near = bonus.get(&address).map_or(0.0, |b| b * factors[segment](doc));
            let boosted = (score + near) * (1.0 + TITLE_COVERAGE_WEIGHT * coverage(&facts.title_key, &how.needles));
            let date = dates[segment].as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
            (boosted, address, facts, date)
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
    newest_first_within_families(&mut keyed);
    Ok(keyed.into_iter().map(|(score, address, _, _)| (score, address)).collect())
}

/// The scores of `query` (times `weight`) at those of `docs` it matches.
/// Each document is checked where it is, without scanning the documents
/// between (`seek_danger`).
fn scores_at(searcher: &Searcher, query: &dyn Query, weight: Score, docs: &[DocAddress]) -> tantivy::Result<Vec<(DocAddress, Score)>> {
    let query_weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let mut by_segment: BTreeMap<u32, Vec<DocId>> = BTreeMap::new();
    for address in docs {
        by_segment.entry(address.segment_ord).or_default().push(address.doc_id);
    }
    let mut scores = Vec::new();
    for (segment_ord, mut ids) in by_segment {
        ids.sort_unstable();
        ids.dedup();
        let Some(&first) = ids.first() else { continue };
        // Made standing at the first candidate: a phrase scorer made
        // otherwise first scans for its first match, over every document
        // holding its characters.
        let (at_first, mut scorer) = query_weight.scorer_danger(searcher.segment_reader(segment_ord), first, weight)?;
        // No match below `next`; the scorer stands on `next` when `on_next`.
        let (mut next, mut on_next) = match at_first {
            SeekDangerResult::Found => (first, true),
            SeekDangerResult::SeekLowerBound(bound) => (bound, false),
        };
        for id in ids {
            if id < next {
                continue;
            }
            if id > next || !on_next {
                match scorer.seek_danger(id) {
                    SeekDangerResult::Found => (next, on_next) = (id, true),
                    SeekDangerResult::SeekLowerBound(bound) => {
                        (next, on_next) = (bound, false);
                        continue;
                    }
                }
            }
            scores.push((DocAddress::new(segment_ord, id), scorer.score()));
        }
    }
    Ok(scores)
}

/// Share of a title's letters that the query's words cover (0 to 1).
/// `key` is the title folded and without its version date ([`title_key`]),
/// `needles` the query's words folded alike.
fn coverage(key: &str, needles: &Needles) -> f32 {
    let letters = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).count();
    let total = letters(key);
    if total == 0 {
        return 0.0;
    }
    let covered: usize = needles.literal(key, usize::MAX).iter().map(|r| letters(&key[r.clone()])).sum();
    covered as f32 / total as f32
}

/// A title as title coverage compares it: folded as the index folds text,
/// without a version date.
pub fn title_key(title: &str) -> String {
    normalize(&version_family(title)).text()
}

/// A file name without its version date: `条例(2019-03-24).md` → `条例.md`.
pub fn version_family(name: &str) -> String {
    static DATED: OnceLock<Regex> = OnceLock::new();
    let re = DATED.get_or_init(|| Regex::new(r"[(（]\d{4}-\d{2}-\d{2}[)）]").expect("valid pattern"));
    re.replace_all(name, "").into_owned()
}

/// Documents whose facts are kept between searches: about 300 bytes
/// each, so at most some 10 MB, whatever the size of the archive.
const FACTS_KEPT: usize = 32_768;

/// What re-ranking and title suggestions need of one document, read from
/// the `title_raw`, `id` and `path` columns.
#[derive(Debug, Default)]
pub struct Facts {
    pub title: String,
    pub id: String,
    /// The title folded as the index folds text.
    pub folded: String,
    /// The title folded and without a version date ([`title_key`]).
    title_key: String,
    /// The path without a version date: the versions of one regulation share it.
    family: String,
}

/// The facts of recently read documents, by segment and doc id (a segment
/// never changes, so an entry never goes stale), the least recently used
/// dropped past [`FACTS_KEPT`]. Reading a column value decompresses a
/// dictionary block: popular queries re-rank the same candidates, and a
/// reader typing 政, 政府, 政府信息 is offered the same titles, and need not.
pub struct FactsCache(Mutex<LruCache<(SegmentId, DocId), Arc<Facts>>>);

impl Default for FactsCache {
    fn default() -> Self {
        FactsCache(Mutex::new(LruCache::new(NonZeroUsize::new(FACTS_KEPT).expect("FACTS_KEPT > 0"))))
    }
}

impl FactsCache {
    /// The facts of the documents at `addresses`, in their order, from the
    /// cache or their columns. The cache is locked twice whatever their
    /// number (once to look, once to keep what was read): locked once per
    /// document, 16 loaded searches of 100 candidates each waited on it.
    pub fn get_all(&self, searcher: &Searcher, addresses: &[DocAddress]) -> Vec<Arc<Facts>> {
        let key = |address: &DocAddress| (searcher.segment_reader(address.segment_ord).segment_id(), address.doc_id);
        let cached: Vec<Option<Arc<Facts>>> = match self.0.lock() {
            Ok(mut cache) => addresses.iter().map(|address| cache.get(&key(address)).cloned()).collect(),
            Err(_) => vec![None; addresses.len()],
        };
        let mut read = Vec::new();
        let all = addresses
            .iter()
            .zip(cached)
            .map(|(address, cached)| {
                cached.unwrap_or_else(|| {
                    let facts = Arc::new(read_facts(searcher.segment_reader(address.segment_ord), address.doc_id));
                    read.push((key(address), Arc::clone(&facts)));
                    facts
                })
            })
            .collect();
        if let (false, Ok(mut cache)) = (read.is_empty(), self.0.lock()) {
            for (key, facts) in read {
                cache.put(key, facts);
            }
        }
        all
    }
}

/// The facts of document `doc` of `segment`, from its columns.
fn read_facts(segment: &SegmentReader, doc: DocId) -> Facts {
    let fast = segment.fast_fields();
    let value = |name: &str| fast.str(name).ok().flatten().map(|column| first_value(&column, doc)).unwrap_or_default();
    let title = value("title_raw");
    Facts { folded: normalize(&title).text(), title_key: title_key(&title), family: version_family(&value("path")), id: value("id"), title }
}

/// Where several versions of one family are listed, put the newest in the
/// family's best place, the next newest in its next place, and so on.
fn newest_first_within_families(ranked: &mut [(Score, DocAddress, Arc<Facts>, u64)]) {
    let mut families: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (_, _, facts, _)) in ranked.iter().enumerate() {
        families.entry(facts.family.as_str()).or_default().push(i);
    }
    let moves: Vec<Vec<usize>> = families.into_values().filter(|slots| slots.len() > 1).collect();
    for slots in moves {
        let mut members: Vec<(Score, DocAddress, Arc<Facts>, u64)> = slots.iter().map(|&i| ranked[i].clone()).collect();
        members.sort_by(|a, b| b.3.cmp(&a.3));
        let scores: Vec<Score> = slots.iter().map(|&i| ranked[i].0).collect();
        for ((&slot, member), score) in slots.iter().zip(members).zip(scores) {
            ranked[slot] = (score, member.1, member.2, member.3);
        }
    }
}
