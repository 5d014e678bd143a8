//! A data folder opened read-only for searching: what the search server and
//! the evaluation command use. It follows `indexer ingest` commits by itself.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use lru::LruCache;
use std::time::Instant;

use serde::Serialize;
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::StrColumn;
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, Index, IndexReader, Order, ReloadPolicy, Score, SegmentReader, TantivyDocument, Term, Warmer};

use crate::analysis::normalize;
use crate::api::{Facets, Hit, SearchError, SearchRequest, SearchResponse, Sort, DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS};
use crate::catalog::Disclosure;
use crate::directory::{IndexDirectory, Reads};
use crate::error::{Error, Result};
use crate::extract::{decode_with, encoding_named};
use crate::highlight::{snippet, Needles};
use crate::query::QueryPlan;
use crate::ranking::{self, FactsCache, Rerank};
use crate::schema::{date_key, index_dir, is_current, register_analyzer, stored_catalog, Fields};
use crate::spelling::Spelling;
use crate::store::{original_of, sha256_hex, BlobStore};

mod searching;
mod suggest;
use searching::{Searching, Spread};
pub use suggest::{Suggestions, TitleSuggestion};

/// Fields counted as facets, by their API names.
static FACETS: [&str; 4] = ["category", "publisher", "year", "disclosure"];
/// The catalog filters of a request, by facet name.
const FILTERED_FACETS: [&str; 4] = ["category", "publisher", "disclosure", "year"];

/// A document as `GET /api/documents/{id}` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    pub id: String,
    pub path: String,
    pub title: String,
    pub index_no: Option<String>,
    pub publisher: Option<String>,
    pub doc_number: Option<String>,
    pub written_date: Option<String>,
    pub published_date: Option<String>,
    pub category: Option<String>,
    pub disclosure: String,
    pub validity: Option<String>,
    pub format: String,
    pub bytes: u64,
    pub sha256: String,
    /// Omitted for `on_request` documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A public document whose text cannot be read now: its original is
    /// missing or damaged in the data folder (`indexer verify` names it).
    /// The catalog fields are given, `text` is omitted. Omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub text_unavailable: bool,
}

impl DocumentView {
    /// The text a reader may be given: a public document's, never an
    /// on_request one's (its view has none; this says so once more).
    pub fn public_text(&self) -> Option<&str> {
        self.text.as_deref().filter(|_| self.disclosure == Disclosure::Public.as_str())
    }
}

/// A document as [`Snapshot::catalog_where`] asks about it, from the
/// index's columns alone.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Published, else written date as a `YYYYMMDD` key (0: undated).
    pub date: u64,
    pub id: String,
    /// The hash of everything its file's documents were built from (the
    /// schema's `fingerprint`): equal, the document is as it was.
    pub fingerprint: u64,
}

/// What `GET /api/documents/{id}/original` can answer.
#[derive(Debug)]
pub enum Original {
    NotFound,
    /// 依申请公开: the original is given out on application only.
    OnRequest,
    /// The document is public but its original is not served: it is one
    /// of several documents of a file that also holds documents that are
    /// not public, and the file cannot be given out without them.
    NotSeparable,
    Found {
        bytes: Vec<u8>,
        /// What the server's `Content-Type` says: the media type of its
        /// format, with the charset of a text original.
        content_type: String,
        file_name: String,
    },
}

/// Counts for the annual disclosure report and `GET /api/stats`.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub documents: u64,
    pub category: BTreeMap<String, u64>,
    pub publisher: BTreeMap<String, u64>,
    pub year: BTreeMap<String, u64>,
    pub disclosure: BTreeMap<String, u64>,
}

/// An opened data folder.
pub struct Archive {
    reader: IndexReader,
    fields: Fields,
    blobs: BlobStore,
    /// Titles and version families of recently re-ranked documents.
    facts: FactsCache,
    /// What is built once per commit, before it serves (the reader holds
    /// it weakly, as its warmer).
    tables: Arc<CommitTables>,
    /// Texts recently decoded from originals: snippets of popular
    /// documents need not decompress them again.
    texts: Mutex<TextCache>,
    /// The cores a lone search spreads over.
    spread: Spread,
}

/// Bytes of decoded text kept in memory (the whole laws corpus is 25 MB).
const TEXT_CACHE_BYTES: usize = 64 << 20;

/// Decoded texts by sha256, least recently used dropped past a byte budget.
struct TextCache {
    entries: LruCache<String, Arc<str>>,
    bytes: usize,
}

impl TextCache {
    fn get(&mut self, sha: &str) -> Option<Arc<str>> {
        self.entries.get(sha).cloned()
    }

    fn put(&mut self, sha: String, text: Arc<str>) {
        self.bytes += text.len();
        if let Some(old) = self.entries.put(sha, text) {
            self.bytes -= old.len();
        }
        while self.bytes > TEXT_CACHE_BYTES {
            match self.entries.pop_lru() {
                Some((_, dropped)) => self.bytes -= dropped.len(),
                None => break,
            }
        }
    }
}

/// The result of running one plan: the ranked candidates and counts.
struct Found {
    top: Vec<(Score, DocAddress)>,
    /// How many of `top`, from the start, match every required word.
    complete: usize,
    /// The documents `counted` matches with the filters, and their facets.
    total: usize,
    facets: Facets,
    /// Documents matching every required word.
    strict_total: usize,
    /// The words query (without filters) of the complete matches.
    strict: Box<dyn Query>,
    /// The words query (without filters) whose matches `total` and
    /// `facets` count: `strict`, or the loose one when it found more.
    counted: Box<dyn Query>,
}

impl Found {
    /// Put the complete matches of `inner` (a looser plan that has some)
    /// after this one's complete matches, before its partial ones; keep
    /// `wanted`. The complete matches are now those of either plan: the
    /// counts are theirs ([`Archive::count`]).
    fn follow_with(&mut self, inner: Found, wanted: usize) {
        let seen: HashSet<DocAddress> = self.top.iter().map(|(_, a)| *a).collect();
        let partial = self.top.split_off(self.complete);
        let fresh = inner.top.into_iter().take(inner.complete).filter(|(_, a)| !seen.contains(a));
        self.top.extend(fresh);
        self.top.extend(partial);
        self.top.truncate(wanted);
        let either = BooleanQuery::new(vec![(Occur::Should, self.strict.box_clone()), (Occur::Should, inner.strict)]);
        (self.strict, self.counted) = (Box::new(either.clone()), Box::new(either));
    }
}

/// The answer to a query with nothing searchable in it.
fn nothing_found(q: &str) -> SearchResponse {
    let facets = FACETS.iter().map(|name| (name.to_string(), BTreeMap::new())).collect();
    SearchResponse { query: q.to_string(), total: 0, took_ms: 0.0, relaxed: false, did_you_mean: None, hits: Vec::new(), facets }
}

/// `words` within the filters (which add nothing to the score).
fn with_filters(words: Box<dyn Query>, filters: &[Box<dyn Query>]) -> Box<dyn Query> {
    if filters.is_empty() {
        return words;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, words)];
    clauses.extend(filters.iter().map(|f| (Occur::Must, Box::new(BoostQuery::new(f.box_clone(), 0.0)) as Box<dyn Query>)));
    Box::new(BooleanQuery::new(clauses))
}

/// Partial matches are offered when fewer documents than this (a first
/// page at the default size) match every word: a fixed number, so the
/// total of a query is the same on every page and at every page size.
const RELAX_BELOW: usize = DEFAULT_LIMIT;

impl Archive {
    /// Open `data_dir` for reading. Fails with [`Error::NoIndex`] when no
    /// ingest has committed there yet.
    pub fn open(data_dir: &Path) -> Result<Archive> {
        let index_dir = index_dir(data_dir);
        // A folder this process may not read is not an empty one.
        let meta = index_dir.join("meta.json");
        match meta.try_exists() {
            Ok(true) => {}
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => return Err(Error::io(format!("reading {}", meta.display()))(e)),
            Ok(false) | Err(_) => return Err(Error::NoIndex(data_dir.to_path_buf())),
        }
        crate::analysis::init().map_err(Error::Analysis)?;
        let opening = |source| Error::Index { path: index_dir.clone(), source };
        let directory = IndexDirectory::open(&index_dir, Reads::Stores).map_err(|e| opening(e.into()))?;
        let index = Index::open(directory).map_err(opening)?;
        if !is_current(&index).map_err(opening)? {
            return Err(Error::OldFormat(data_dir.to_path_buf()));
        }
        register_analyzer(&index);
        let spread = Spread::new().map_err(opening)?;
        let fields = Fields::of(&index.schema());
        let tables = Arc::new(CommitTables { fields: fields.clone(), stats: RwLock::new(None), spelling: RwLock::new(None) });
        let warmer: Arc<dyn Warmer> = tables.clone();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .warmers(vec![Arc::downgrade(&warmer)])
            .try_into()
            .map_err(|source| Error::Index { path: index_dir, source })?;
        let texts = Mutex::new(TextCache { entries: LruCache::unbounded(), bytes: 0 });
        Ok(Archive { reader, fields, blobs: BlobStore::new(data_dir), facts: FactsCache::default(), tables, texts, spread })
    }

    /// Pick up the newest commit now rather than within the reload delay.
    pub fn reload(&self) -> Result<()> {
        Ok(self.reader.reload()?)
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The commit this archive searches, as 16 hex digits: its segments
    /// and their deletions. Servers of one data folder, or of its copies,
    /// that show the same value serve the same commit; a server whose
    /// value differs from its primary's has not taken up the newest one.
    pub fn commit(&self) -> String {
        let searcher = self.reader.searcher();
        let mut segments: Vec<String> =
            searcher.segment_readers().iter().map(|r| format!("{}:{}", r.segment_id().uuid_string(), r.num_deleted_docs())).collect();
        segments.sort();
        let mut id = sha256_hex(segments.join(",").as_bytes());
        id.truncate(16);
        id
    }

    /// Run one search: the query as typed, filters, sort and page.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, SearchError> {
        let started = Instant::now();
        if request.limit > MAX_LIMIT {
            return Err(SearchError::BadRequest(format!("limit must be at most {MAX_LIMIT}")));
        }
        let limit = request.page_size();
        if request.offset > MAX_OFFSET {
            return Err(SearchError::BadRequest(format!(
                "offset must be at most {MAX_OFFSET}; narrow the search with words or filters instead of paging deeper"
            )));
        }
        let text: String = request.q.chars().take(MAX_QUERY_CHARS).collect();
        let plan = QueryPlan::new(&text);
        if !text.trim().is_empty() && plan.asks_nothing() {
            // Typed, but nothing searchable (！！！, an emoji): nothing found,
            // rather than the whole archive as if it matched.
            return Ok(nothing_found(&request.q));
        }
        let filters = self.filters(request)?;
        let filter_queries: Vec<Box<dyn Query>> = filters.iter().map(|(_, query)| query.box_clone()).collect();
        let searcher = Searching::new(self.reader.searcher(), &self.spread);
        let wanted = request.offset + limit;
        let found = self.run(&searcher, &plan, &filter_queries, request.sort, wanted)?;
        let (found, plan) = self.with_inner_words(&searcher, found, plan, &filter_queries, request.sort, wanted)?;
        let found_nothing = found.strict_total == 0;
        let did_you_mean = if !plan.is_empty() && (found_nothing || plan.has_stray_character()) {
            self.did_you_mean(&searcher, &plan, &text, &filter_queries, found_nothing)?
        } else {
            None
        };
        let relaxed = found_nothing && !found.top.is_empty();
        let mut facets = found.facets;
        self.count_without_own_filter(&searcher, &*found.counted, &filters, &mut facets)?;
        let complete = found.complete;
        let needles = Needles::new(&plan.highlights);
        let hits = found
            .top
            .into_iter()
            .enumerate()
            .skip(request.offset)
            .map(|(rank, (score, address))| self.hit(&searcher, address, score, &needles, rank >= complete))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| SearchError::Internal(e.to_string()))?;
        Ok(SearchResponse {
            query: request.q.clone(),
            total: found.total,
            took_ms: (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
            relaxed,
            did_you_mean,
            hits,
            facets,
        })
    }

    /// Replace the counts of each filtered facet by its counts without its
    /// own filter (the other filters still apply): choosing 社会救助 leaves
    /// the other categories on offer, with the numbers they would give.
    /// One count-only search per filtered facet; none without filters.
    fn count_without_own_filter(
        &self,
        searcher: &Searching,
        counted: &dyn Query,
        filters: &[(Option<&'static str>, Box<dyn Query>)],
        facets: &mut Facets,
    ) -> Result<(), SearchError> {
        for (at, (name, _)) in filters.iter().enumerate() {
            let Some(name) = *name else { continue };
            let others: Vec<Box<dyn Query>> =
                filters.iter().enumerate().filter(|(other, _)| *other != at).map(|(_, (_, query))| query.box_clone()).collect();
            let query = with_filters(counted.box_clone(), &others);
            let only = FACETS.iter().position(|facet| *facet == name).map_or(&FACETS[..0], |at| &FACETS[at..=at]);
            let mut counts = searcher.collect(&*query, &FacetCollector(only)).map_err(|e| SearchError::Internal(e.to_string()))?;
            facets.insert(name.to_string(), counts.remove(name).unwrap_or_default());
        }
        Ok(())
    }

    /// Where fewer documents than a first page hold the long words as
    /// typed, those holding the words inside them replace the complete
    /// matches when there were none, or follow them (as partial ones) when
    /// the query is one word and so has no partial matches of its own.
    /// Returns the result and the plan whose words it found.
    fn with_inner_words(
        &self,
        searcher: &Searching,
        mut found: Found,
        mut plan: QueryPlan,
        filters: &[Box<dyn Query>],
        sort: Sort,
        wanted: usize,
    ) -> Result<(Found, QueryPlan), SearchError> {
        if found.strict_total > 0 && (found.strict_total >= RELAX_BELOW || plan.can_relax()) {
            return Ok((found, plan));
        }
        let Some(split) = plan.split_words() else { return Ok((found, plan)) };
        let inner = self.run(searcher, &split, filters, sort, wanted)?;
        if inner.strict_total == 0 {
            return Ok((found, plan));
        }
        if found.strict_total == 0 {
            return Ok((inner, split));
        }
        found.follow_with(inner, wanted);
        self.count(searcher, &mut found, filters)?;
        // Their snippets mark the inner words (and find them as written,
        // without folding the whole text).
        let more: Vec<String> = split.highlights.into_iter().filter(|h| !plan.highlights.contains(h)).collect();
        plan.highlights.extend(more);
        Ok((found, plan))
    }

    /// The first `wanted` documents of a plan: those matching every
    /// required word, followed, when they are fewer than a first page
    /// ([`RELAX_BELOW`]), by the best partial matches (more words and rarer
    /// words first). The total depends on the query alone, not on the page.
    fn run(
        &self,
        searcher: &Searching,
        plan: &QueryPlan,
        filters: &[Box<dyn Query>],
        sort: Sort,
        wanted: usize,
    ) -> Result<Found, SearchError> {
        let rerank = Rerank::new(&self.fields, plan);
        let strict = self.words_query(plan, false);
        let (mut top, total, facets) = self.ranked(searcher, &*with_filters(strict.box_clone(), filters), sort, wanted, &rerank)?;
        let counted = strict.box_clone();
        let mut found = Found { complete: top.len(), total, facets, strict_total: total, strict, counted, top: Vec::new() };
        if total < RELAX_BELOW && plan.can_relax() {
            let loose = self.words_query(plan, true);
            let (more, loose_total, loose_facets) =
                self.ranked(searcher, &*with_filters(loose.box_clone(), filters), sort, wanted + total, &rerank)?;
            let seen: HashSet<DocAddress> = top.iter().map(|(_, a)| *a).collect();
            top.extend(more.into_iter().filter(|(_, a)| !seen.contains(a)));
            top.truncate(wanted);
            (found.total, found.facets, found.counted) = (loose_total, loose_facets, loose);
        }
        found.top = top;
        Ok(found)
    }

    /// Count what `found` counts ([`Found::counted`]) with the filters:
    /// its total and facets, all of them complete matches.
    fn count(&self, searcher: &Searching, found: &mut Found, filters: &[Box<dyn Query>]) -> Result<(), SearchError> {
        let query = with_filters(found.counted.box_clone(), filters);
        let (total, facets) =
            searcher.collect(&*query, &(Count, FacetCollector(&FACETS))).map_err(|e| SearchError::Internal(e.to_string()))?;
        (found.total, found.strict_total, found.facets) = (total, total, facets);
        Ok(())
    }

    /// One corrected query, when a typed word (or a stray character with
    /// its neighbour) matches nothing and a word of the archive that sounds
    /// the same does: the typed text, folded, with that word replaced.
    /// Whole dictionary words are checked only when the query `found_nothing`.
    fn did_you_mean(
        &self,
        searcher: &Searching,
        plan: &QueryPlan,
        text: &str,
        filters: &[Box<dyn Query>],
        found_nothing: bool,
    ) -> Result<Option<String>, SearchError> {
        let internal = |e: tantivy::TantivyError| SearchError::Internal(e.to_string());
        let spelling = self.tables.spelling(searcher);
        let typed = normalize(text).text();
        let mut shown = typed.clone();
        for candidate in plan.slip_candidates(found_nothing) {
            let Some(fix) = spelling.correct(&candidate) else { continue };
            if !shown.contains(candidate.as_str()) {
                continue;
            }
            let alone = QueryPlan::new(&format!("\"{candidate}\""));
            if searcher.collect(&*ranking::plan_query(&self.fields, &alone, false), &Count).map_err(internal)? == 0 {
                shown = shown.replacen(candidate.as_str(), fix, 1);
            }
        }
        if shown == typed {
            return Ok(None);
        }
        let finds =
            searcher.collect(&*with_filters(self.words_query(&QueryPlan::new(&shown), false), filters), &Count).map_err(internal)?;
        Ok((finds > 0).then_some(shown))
    }

    /// The first `wanted` documents of `query` in the requested order, the
    /// number of matches, and the facet counts.
    fn ranked(
        &self,
        searcher: &Searching,
        query: &dyn Query,
        sort: Sort,
        wanted: usize,
        rerank: &Rerank,
    ) -> Result<(Vec<(Score, DocAddress)>, usize, Facets), SearchError> {
        let internal = |e: tantivy::TantivyError| SearchError::Internal(e.to_string());
        let page = TopDocs::with_limit(wanted.max(1));
        let collectors = (Count, FacetCollector(&FACETS));
        match sort {
            Sort::Relevance => {
                let page = TopDocs::with_limit(wanted.max(ranking::RERANK_DEPTH));
                let (mut top, (total, facets)) = searcher.collect(query, &(ranking::tweak(page), collectors)).map_err(internal)?;
                // Only the first RERANK_DEPTH are re-ordered, whatever the
                // page: a window that grew with the page would move other
                // versions of a regulation into it, and paging would show
                // one version twice and another never.
                let rest = top.split_off(top.len().min(ranking::RERANK_DEPTH));
                let mut top = ranking::rerank(searcher, &self.facts, top, rerank).map_err(internal)?;
                top.extend(rest);
                top.truncate(wanted);
                Ok((top, total, facets))
            }
            Sort::DateDesc | Sort::DateAsc => {
                let order = if sort == Sort::DateDesc { Order::Desc } else { Order::Asc };
                let (top, (total, facets)) =
                    searcher.collect(query, &(page.order_by_u64_field("date", order), collectors)).map_err(internal)?;
                Ok((top.into_iter().map(|(_, address)| (0.0, address)).collect(), total, facets))
            }
        }
    }

    /// The query of the plan's words (all, or any when `relaxed`) and
    /// 文号 keys; every document when it asks nothing.
    fn words_query(&self, plan: &QueryPlan, relaxed: bool) -> Box<dyn Query> {
        if plan.asks_nothing() {
            Box::new(AllQuery)
        } else {
            ranking::plan_query(&self.fields, plan, relaxed)
        }
    }

    /// Filter clauses: any of the values of a field, all fields together;
    /// each with the facet it filters (none for the date range).
    fn filters(&self, request: &SearchRequest) -> Result<Vec<(Option<&'static str>, Box<dyn Query>)>, SearchError> {
        let f = &self.fields;
        let mut filters: Vec<(Option<&'static str>, Box<dyn Query>)> = Vec::new();
        let fields = [f.category, f.publisher, f.disclosure, f.year];
        let values = [&request.category, &request.publisher, &request.disclosure, &request.year];
        for ((name, field), values) in FILTERED_FACETS.into_iter().zip(fields).zip(values) {
            let any: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .filter(|v| !v.is_empty())
                .map(|v| {
                    (Occur::Should, Box::new(TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic)) as Box<dyn Query>)
                })
                .collect();
            if !any.is_empty() {
                filters.push((Some(name), Box::new(BooleanQuery::new(any))));
            }
        }
        let bound = |date: &Option<String>, name: &str| -> Result<Bound<Term>, SearchError> {
            match date.as_deref().filter(|d| !d.is_empty()) {
                None => Ok(Bound::Unbounded),
                Some(d) => {
                    let iso = crate::catalog::parse_date(d)
                        .ok_or_else(|| SearchError::BadRequest(format!("`{name}` must be a date like 2016-12-30")))?;
                    Ok(Bound::Included(Term::from_field_u64(f.date, date_key(&iso))))
                }
            }
        };
        let (from, to) = (bound(&request.from, "from")?, bound(&request.to, "to")?);
        if !matches!((&from, &to), (Bound::Unbounded, Bound::Unbounded)) {
            filters.push((None, Box::new(RangeQuery::new(from, to))));
        }
        Ok(filters)
    }

    fn hit(&self, searcher: &tantivy::Searcher, address: DocAddress, score: Score, needles: &Needles, partial: bool) -> Result<Hit> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let f = &self.fields;
        let get = |field| first_str(&doc, field).unwrap_or_default();
        let disclosure = get(f.disclosure);
        let snippet = if disclosure == Disclosure::Public.as_str() {
            // A damaged original costs its own snippet, not the whole list
            // (`indexer verify` reports it, `ingest --verify` stores it again).
            match self.text_of(&doc) {
                Ok(text) => text.map(|text| snippet(&text, needles)).unwrap_or_default(),
                Err(error) => {
                    tracing::warn!("no snippet for {}: {error}", first_str(&doc, f.id).unwrap_or_default());
                    String::new()
                }
            }
        } else {
            String::new()
        };
        Ok(Hit {
            id: get(f.id),
            path: get(f.path),
            title: get(f.title_raw),
            publisher: all_str(&doc, f.publisher).join("、"),
            doc_number: get(f.doc_number),
            category: get(f.category),
            published_date: first_str(&doc, f.published_date).or_else(|| first_str(&doc, f.written_date)).unwrap_or_default(),
            disclosure,
            validity: get(f.validity),
            score,
            partial,
            snippet,
        })
    }

    /// The text of a stored document: from the doc store, or re-read from
    /// its original when the text is the original decoded. Errors:
    /// [`Error::DamagedOriginal`] / [`Error::MissingOriginal`] when that
    /// original is damaged / gone from the data folder (the text is then
    /// unknown, not empty).
    fn text_of(&self, doc: &TantivyDocument) -> Result<Option<Arc<str>>> {
        if let Some(text) = first_str(doc, self.fields.text) {
            return Ok(Some(text.into()));
        }
        let (Some(encoding), Some(sha)) = (first_str(doc, self.fields.text_encoding), first_str(doc, self.fields.sha256)) else {
            return Ok(None);
        };
        let Some(encoding) = encoding_named(&encoding) else { return Ok(None) };
        if let Some(text) = self.texts.lock().ok().and_then(|mut cache| cache.get(&sha)) {
            return Ok(Some(text));
        }
        let bytes = self.original_bytes(doc, &sha)?;
        let text: Arc<str> = decode_with(&bytes, encoding).text.into();
        if let Ok(mut cache) = self.texts.lock() {
            cache.put(sha, Arc::clone(&text));
        }
        Ok(Some(text))
    }

    /// The original of a stored document `doc` (sha256 `sha`), verified.
    /// Errors name the document: [`Error::MissingOriginal`] when it is
    /// gone from the blob store, [`Error::DamagedOriginal`] when its bytes
    /// no longer match `sha`.
    fn original_bytes(&self, doc: &TantivyDocument, sha: &str) -> Result<Vec<u8>> {
        let named = || (first_str(doc, self.fields.id).unwrap_or_default(), first_str(doc, self.fields.path).unwrap_or_default());
        match original_of(doc, &self.fields, &self.blobs) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => {
                let (id, path) = named();
                Err(Error::MissingOriginal { id, path, blob: self.blobs.path_of(sha).unwrap_or_default() })
            }
            Err(Error::CorruptBlob(sha)) => {
                let (id, path) = named();
                Err(Error::DamagedOriginal { id, path, sha })
            }
            Err(e) => Err(e),
        }
    }

    fn find(&self, id: &str) -> Result<Option<TantivyDocument>> {
        if !crate::catalog::is_safe_id(id) {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        let query = TermQuery::new(Term::from_field_text(self.fields.id, id), IndexRecordOption::Basic);
        let found = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        match found.first() {
            Some((_, address)) => Ok(Some(searcher.doc(*address)?)),
            None => Ok(None),
        }
    }

    /// A document's catalog fields, and its text unless it is on request
    /// (or cannot be read from its original: [`DocumentView::text_unavailable`]).
    pub fn document(&self, id: &str) -> Result<Option<DocumentView>> {
        let Some(doc) = self.find(id)? else { return Ok(None) };
        let (view, unread) = self.readable_view(&doc)?;
        // Its catalog entry stays readable; the error goes to the log.
        if let Some(e) = unread {
            tracing::error!("{e}");
        }
        Ok(Some(view))
    }

    /// Every document of the 政府信息公开目录 (public and on_request: the
    /// index holds no other) as [`Archive::document`] shows it, ordered by
    /// date (published, else written; undated first) then id; with `since` (a `YYYYMMDD`
    /// key, [`date_key`]) only those dated that day or later. Memory: a
    /// date, an id and an address per document, to order them. Returns the
    /// errors of the documents given without their text
    /// ([`Snapshot::catalog_where`]).
    pub fn catalog(&self, since: Option<u64>, each: impl FnMut(DocumentView) -> Result<()>) -> Result<Vec<Error>> {
        self.snapshot().catalog_where(|listed| !since.is_some_and(|since| listed.date < since), each)
    }

    /// The newest commit, held while it is read: what it lists and the
    /// documents read from it agree even when an ingest commits meanwhile.
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot { archive: self, searcher: self.reader.searcher() }
    }

    /// How many documents each (year, 有效性) pair has, `""` where one is
    /// unknown: the year is the one `/api/stats` counts (published, else
    /// written), the validity as catalogued (有效, 失效, 已修改).
    pub fn validity_by_year(&self) -> Result<BTreeMap<(String, String), u64>> {
        let searcher = self.reader.searcher();
        let mut counts = BTreeMap::new();
        for segment in searcher.segment_readers() {
            let fast = segment.fast_fields();
            let (years, validities) = (fast.str("year")?, fast.str("validity")?);
            let value = |column: &Option<StrColumn>, doc| column.as_ref().map(|c| crate::schema::first_value(c, doc)).unwrap_or_default();
            for doc in segment.doc_ids_alive() {
                *counts.entry((value(&years, doc), value(&validities, doc))).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    /// What the document page shows of a stored document. Errors:
    /// [`Error::MissingOriginal`] / [`Error::DamagedOriginal`] when the text of
    /// a public document is re-read from an original gone or damaged.
    fn view(&self, doc: &TantivyDocument) -> Result<DocumentView> {
        let mut view = self.catalog_view(doc);
        if view.disclosure == Disclosure::Public.as_str() {
            view.text = self.text_of(doc)?.map(|t| t.to_string());
        }
        Ok(view)
    }

    /// [`Archive::view`] of `doc`, or, when the text of a public document
    /// cannot be read from its original (gone or damaged), its catalog
    /// fields marked [`DocumentView::text_unavailable`] and the error that
    /// says why. Any other error is returned.
    fn readable_view(&self, doc: &TantivyDocument) -> Result<(DocumentView, Option<Error>)> {
        match self.view(doc) {
            Ok(view) => Ok((view, None)),
            Err(e @ (Error::MissingOriginal { .. } | Error::DamagedOriginal { .. })) => {
                Ok((DocumentView { text_unavailable: true, ..self.catalog_view(doc) }, Some(e)))
            }
            Err(e) => Err(e),
        }
    }

    /// The catalog fields of a stored document, without its text.
    fn catalog_view(&self, doc: &TantivyDocument) -> DocumentView {
        let f = &self.fields;
        let catalog = stored_catalog(doc, f);
        DocumentView {
            id: catalog.id.unwrap_or_default(),
            path: first_str(doc, f.path).unwrap_or_default(),
            title: catalog.title.unwrap_or_default(),
            index_no: catalog.index_no,
            publisher: catalog.publisher,
            doc_number: catalog.doc_number,
            written_date: catalog.written_date,
            published_date: catalog.published_date,
            category: catalog.category,
            disclosure: catalog.disclosure.map(|d| d.as_str().to_string()).unwrap_or_default(),
            validity: catalog.validity,
            format: first_str(doc, f.format).unwrap_or_default(),
            bytes: doc.get_first(f.bytes).and_then(|v| v.as_u64()).unwrap_or(0),
            sha256: first_str(doc, f.sha256).unwrap_or_default(),
            text: None,
            text_unavailable: false,
        }
    }

    /// The original file of a public document, verified against its sha256.
    /// Errors: [`Error::MissingOriginal`] / [`Error::DamagedOriginal`] when
    /// its original is gone from the data folder / damaged.
    pub fn original(&self, id: &str) -> Result<Original> {
        let Some(doc) = self.find(id)? else { return Ok(Original::NotFound) };
        let f = &self.fields;
        if first_str(&doc, f.disclosure).as_deref() != Some(Disclosure::Public.as_str()) {
            return Ok(Original::OnRequest);
        }
        let Some(sha) = first_str(&doc, f.sha256) else { return Ok(Original::NotSeparable) };
        let bytes = self.original_bytes(&doc, &sha)?;
        let path = first_str(&doc, f.path).unwrap_or_default();
        let file_name = path.rsplit('/').next().unwrap_or("original").to_string();
        let content_type = content_type(&first_str(&doc, f.format).unwrap_or_default(), &bytes);
        Ok(Original::Found { bytes, content_type, file_name })
    }

    /// Document counts by category, publisher, year and disclosure, as
    /// counted for the newest commit before it served.
    pub fn stats(&self) -> Result<Stats> {
        Ok(self.tables.stats(&self.reader.searcher())?.as_ref().clone())
    }
}

/// One commit of an archive ([`Archive::snapshot`]).
pub struct Snapshot<'a> {
    archive: &'a Archive,
    searcher: tantivy::Searcher,
}

impl Snapshot<'_> {
    /// Every document, from the index's columns alone (no document is read).
    pub fn listed(&self) -> Result<Vec<Listed>> {
        let mut all = Vec::new();
        list(&self.searcher, |listed, _| all.push(listed))?;
        Ok(all)
    }

    /// [`Archive::catalog`] of the documents `wanted` picks: it is asked
    /// about every document (from the index's columns, before any document
    /// is read), and only those it accepts are read and given to `each`.
    ///
    /// A public document whose text cannot be read (its original is gone
    /// from the data folder or damaged) is given to `each` without its
    /// text ([`DocumentView::text_unavailable`]), and its error is returned
    /// with the others: one damaged blob
    /// does not cut the catalog short. Any other error stops.
    pub fn catalog_where(
        &self,
        mut wanted: impl FnMut(&Listed) -> bool,
        mut each: impl FnMut(DocumentView) -> Result<()>,
    ) -> Result<Vec<Error>> {
        let mut order = Vec::new();
        list(&self.searcher, |listed, address| {
            if wanted(&listed) {
                order.push((listed.date, listed.id, address));
            }
        })?;
        order.sort_unstable();
        let mut unread = Vec::new();
        for (_, _, address) in order {
            let (view, error) = self.archive.readable_view(&self.searcher.doc(address)?)?;
            unread.extend(error);
            each(view)?;
        }
        Ok(unread)
    }
}

/// What is built from a whole commit (every document's columns, every
/// word), once, by tantivy's reader before the commit's searcher serves
/// (a [`Warmer`]): a request never waits for it, and a new commit is
/// searchable once it is built. Warming also opens the term dictionaries
/// and columns a search reads, so that the first search after a start or
/// a commit costs what any other does.
struct CommitTables {
    fields: Fields,
    /// The counts of [`Archive::stats`].
    stats: RwLock<Option<Arc<Stats>>>,
    /// The archive's words by sound, for "did you mean".
    spelling: RwLock<Option<Arc<Spelling>>>,
}

impl CommitTables {
    /// The counts of the newest warmed commit (counted from `searcher` if
    /// none was).
    fn stats(&self, searcher: &tantivy::Searcher) -> tantivy::Result<Arc<Stats>> {
        match self.stats.read().ok().and_then(|kept| kept.clone()) {
            Some(stats) => Ok(stats),
            None => Ok(Arc::new(count_stats(searcher)?)),
        }
    }

    /// The spelling table of the newest warmed commit (built from
    /// `searcher` if none was).
    fn spelling(&self, searcher: &tantivy::Searcher) -> Arc<Spelling> {
        match self.spelling.read().ok().and_then(|kept| kept.clone()) {
            Some(spelling) => spelling,
            None => Arc::new(Spelling::build(searcher, &self.fields)),
        }
    }
}

impl Warmer for CommitTables {
    fn warm(&self, searcher: &tantivy::Searcher) -> tantivy::Result<()> {
        let f = &self.fields;
        for segment in searcher.segment_readers() {
            for field in [f.title, f.title_words, f.title_pairs, f.meta, f.meta_pairs, f.body, f.body_words, f.body_pairs] {
                segment.inverted_index(field)?;
            }
            for column in ["title_raw", "id", "path", "validity"] {
                segment.fast_fields().str(column)?;
            }
        }
        let stats = Arc::new(count_stats(searcher)?);
        let spelling = Arc::new(Spelling::build(searcher, f));
        if let (Ok(mut kept_stats), Ok(mut kept_spelling)) = (self.stats.write(), self.spelling.write()) {
            (*kept_stats, *kept_spelling) = (Some(stats), Some(spelling));
        }
        Ok(())
    }

    fn garbage_collect(&self, _live: &[&tantivy::SearcherGeneration]) {}
}

/// Document counts by category, publisher, year and disclosure: every
/// document's columns are read.
fn count_stats(searcher: &tantivy::Searcher) -> tantivy::Result<Stats> {
    let mut facets = searcher.search(&AllQuery, &FacetCollector(&FACETS))?;
    let mut take = |name: &str| facets.remove(name).unwrap_or_default();
    Ok(Stats {
        documents: searcher.num_docs(),
        category: take("category"),
        publisher: take("publisher"),
        year: take("year"),
        disclosure: take("disclosure"),
    })
}

/// Call `visit` with every live document of `searcher` and its address.
fn list(searcher: &tantivy::Searcher, mut visit: impl FnMut(Listed, DocAddress)) -> Result<()> {
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let fast = segment.fast_fields();
        let (dates, ids, fingerprints) = (fast.u64("date")?, fast.str("id")?, fast.u64("fingerprint")?);
        for doc_id in segment.doc_ids_alive() {
            let id = ids.as_ref().map(|ids| crate::schema::first_value(ids, doc_id)).unwrap_or_default();
            let listed = Listed { date: dates.first(doc_id).unwrap_or(0), id, fingerprint: fingerprints.first(doc_id).unwrap_or(0) };
            visit(listed, DocAddress::new(ord as u32, doc_id));
        }
    }
    Ok(())
}

fn first_str(doc: &TantivyDocument, field: tantivy::schema::Field) -> Option<String> {
    doc.get_first(field).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Every value of a multi-valued field (publishers of a jointly issued document).
fn all_str(doc: &TantivyDocument, field: tantivy::schema::Field) -> Vec<String> {
    doc.get_all(field).filter_map(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The `Content-Type` of an original of format `format` (its extension):
/// text formats name the charset their bytes are in.
fn content_type(format: &str, bytes: &[u8]) -> String {
    let mime = match format {
        "txt" | "csv" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "jsonl" => "application/jsonl",
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "ofd" => "application/ofd",
        _ => "application/octet-stream",
    };
    match crate::extract::charset(format, bytes) {
        Some(charset) => format!("{mime}; charset={charset}"),
        None => mime.to_string(),
    }
}

/// Counts matching documents per value of each of its fields (of
/// [`FACETS`]), from the fast-field ordinals of each segment (no stored
/// document is read).
struct FacetCollector(&'static [&'static str]);

struct FacetSegment {
    columns: Vec<(&'static str, Option<StrColumn>, Vec<u64>)>,
}

impl Collector for FacetCollector {
    type Fruit = Facets;
    type Child = FacetSegment;

    fn for_segment(&self, _: u32, reader: &SegmentReader) -> tantivy::Result<FacetSegment> {
        let mut columns = Vec::new();
        for &name in self.0 {
            let column = reader.fast_fields().str(name)?;
            let terms = column.as_ref().map(|c| c.num_terms()).unwrap_or(0);
            columns.push((name, column, vec![0; terms]));
        }
        Ok(FacetSegment { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Facets>) -> tantivy::Result<Facets> {
        let mut merged = Facets::new();
        for name in self.0 {
            merged.insert(name.to_string(), BTreeMap::new());
        }
        for fruit in fruits {
            for (name, counts) in fruit {
                let into = merged.entry(name).or_default();
                for (value, n) in counts {
                    *into.entry(value).or_default() += n;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = Facets;

    fn collect(&mut self, doc: DocId, _: Score) {
        for (_, column, counts) in &mut self.columns {
            if let Some(column) = column {
                for ord in column.term_ords(doc) {
                    if let Some(n) = counts.get_mut(ord as usize) {
                        *n += 1;
                    }
                }
            }
        }
    }

    fn harvest(self) -> Facets {
        let mut facets = Facets::new();
        for (name, column, counts) in self.columns {
            let mut values = BTreeMap::new();
            if let Some(column) = column {
                for (ord, n) in counts.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                    let mut value = String::new();
                    if column.ord_to_str(ord as u64, &mut value).unwrap_or(false) && !value.is_empty() {
                        values.insert(value, n);
                    }
                }
            }
            facets.insert(name.to_string(), values);
        }
        facets
    }
}
