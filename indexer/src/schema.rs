//! The tantivy schema of a data folder's index: one tantivy document per
//! archived document, with its catalog fields, analyzed text and the keys
//! that incremental ingest compares.

use std::path::{Path, PathBuf};

use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED, STRING};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexWriter, Opstamp, TantivyDocument};

use crate::analysis::{ChineseTokenizer, TokenSet};
use crate::catalog::{Catalog, Disclosure};

/// Bumped when analysis or the schema changes; documents indexed by an
/// older version are re-indexed by the next ingest.
pub const FORMAT_VERSION: &str = "yuelan-9";

/// What every commit says of the index files it writes, in tantivy's
/// commit payload (`meta.json`), where the schema cannot say it. Since
/// `yuelan-files-2` the key dictionaries of the columns (`id`, `path`,
/// `title_raw` …) are written without compression (tantivy built without
/// `columnar-zstd-compression`): a compressed block asked for a new zstd
/// decompression context per value read, and re-ranking reads three values
/// for each of its candidates (at 10⁶ notices, 35% of the CPU time of a
/// search whose candidates were not read before). An index whose last
/// commit says anything else is one this build cannot read: the next
/// ingest rebuilds it from its sources.
pub const INDEX_FILES: &str = "yuelan-files-2";

/// Whether this build can read and extend `index`: it has this schema, and
/// its last commit says [`INDEX_FILES`] or it holds no segment yet (an
/// ingest stopped before its first commit). Errors: `meta.json` unreadable.
pub fn is_current(index: &Index) -> tantivy::Result<bool> {
    let metas = index.load_metas()?;
    Ok(index.schema() == build_schema() && (metas.payload.as_deref() == Some(INDEX_FILES) || metas.segments.is_empty()))
}

/// Commit what was handed to `writer`, the commit saying [`INDEX_FILES`]
/// (a merge keeps what the commit before it said).
pub fn commit(writer: &mut IndexWriter) -> tantivy::Result<Opstamp> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(INDEX_FILES);
    prepared.commit()
}

/// Handles of every field, looked up once.
#[derive(Debug, Clone)]
pub struct Fields {
    /// Stable document id (URL-safe).
    pub id: Field,
    /// File path relative to its source folder, `/`-separated.
    pub path: Field,
    /// The source folder the file was found in (absolute).
    pub source: Field,
    /// Title atoms (with positions; weighted above the body).
    pub title: Field,
    /// Title words and sub-words (frequencies only).
    pub title_words: Field,
    /// Title atom pairs ([`TokenSet::Pairs`]: documents only).
    pub title_pairs: Field,
    /// Atoms of the catalog line: 文号, 索引号, publisher and category.
    pub meta: Field,
    /// Catalog line atom pairs.
    pub meta_pairs: Field,
    /// Body atoms (with positions; the text is not stored here).
    pub body: Field,
    /// Body words and sub-words (frequencies only).
    pub body_words: Field,
    /// Body atom pairs.
    pub body_pairs: Field,
    /// Body text as stored, when it cannot be re-read from the original.
    pub text: Field,
    /// Encoding that turns the original into the body text, when it does.
    pub text_encoding: Field,
    /// The original's bytes, when it is short enough to be kept with its
    /// document ([`crate::store::KEPT_WITH_DOCUMENT`]); else it is a blob.
    pub original: Field,
    /// The sha256 of the original when it is kept in the blob store (a
    /// public document's long original): what keeps the blob alive.
    pub blob: Field,
    /// Exact keys: normalized 文号 and 索引号.
    pub doc_number_key: Field,
    pub index_no_key: Field,
    // Catalog fields, stored for display, keyword-indexed and fast for facets.
    pub title_raw: Field,
    pub doc_number: Field,
    pub index_no: Field,
    pub publisher: Field,
    pub category: Field,
    pub disclosure: Field,
    pub validity: Field,
    pub year: Field,
    pub written_date: Field,
    pub published_date: Field,
    /// published_date (else written_date) as YYYYMMDD, for range and sort.
    pub date: Field,
    pub format: Field,
    pub bytes: Field,
    /// sha256 of the original ("" when none is served), shown to readers.
    pub sha256: Field,
    /// What the file system said of the file and its catalog inputs when
    /// it was indexed ([`crate::ingest`]): an equal stamp, nothing to do.
    pub stamp: Field,
    /// Hash of everything the document was built from (file bytes,
    /// sidecar, catalog row, FORMAT_VERSION): a file whose stamp changed
    /// but whose fingerprint did not is unchanged.
    pub fingerprint: Field,
    /// Names (`path#n`) of the withheld records of the same file, so that
    /// a run that finds the file unchanged still reports them. Nothing
    /// else of a withheld record is kept; the server never reads this.
    pub withheld: Field,
}

impl Fields {
    pub fn of(schema: &Schema) -> Fields {
        let f = |name: &str| schema.get_field(name).expect("field defined in build_schema");
        Fields {
            id: f("id"),
            path: f("path"),
            source: f("source"),
            title: f("title"),
            title_words: f("title_words"),
            title_pairs: f("title_pairs"),
            meta: f("meta"),
            meta_pairs: f("meta_pairs"),
            body: f("body"),
            body_words: f("body_words"),
            body_pairs: f("body_pairs"),
            text: f("text"),
            text_encoding: f("text_encoding"),
            original: f("original"),
            blob: f("blob"),
            doc_number_key: f("doc_number_key"),
            index_no_key: f("index_no_key"),
            title_raw: f("title_raw"),
            doc_number: f("doc_number"),
            index_no: f("index_no"),
            publisher: f("publisher"),
            category: f("category"),
            disclosure: f("disclosure"),
            validity: f("validity"),
            year: f("year"),
            written_date: f("written_date"),
            published_date: f("published_date"),
            date: f("date"),
            format: f("format"),
            bytes: f("bytes"),
            sha256: f("sha256"),
            stamp: f("stamp"),
            fingerprint: f("fingerprint"),
            withheld: f("withheld"),
        }
    }

    /// The pairs field of an atoms field (title, meta, body): what a phrase
    /// in it is filtered by; `None` for other fields.
    pub fn pairs_of(&self, atoms: Field) -> Option<Field> {
        [(self.title, self.title_pairs), (self.meta, self.meta_pairs), (self.body, self.body_pairs)]
            .into_iter()
            .find_map(|(field, pairs)| (field == atoms).then_some(pairs))
    }
}

/// The schema. Each field stores and indexes only what a reader of it
/// needs: keys that are only looked up or filtered on have no fieldnorms
/// (1 byte per document each), the ingest keys are fast columns only, and
/// the sha256 of originals is stored for display but indexed only where
/// it names a blob.
pub fn build_schema() -> Schema {
    let mut b = Schema::builder();
    // Pairs are a filter, scored only in the title, where their length
    // norm ranks the shortest titles first for suggestions.
    let analyzed = |set: TokenSet, scored: bool| {
        let option = match set {
            TokenSet::Atoms => IndexRecordOption::WithFreqsAndPositions,
            TokenSet::Words => IndexRecordOption::WithFreqs,
            TokenSet::Pairs => IndexRecordOption::Basic,
        };
        let indexing = TextFieldIndexing::default().set_tokenizer(set.tokenizer_name()).set_index_option(option).set_fieldnorms(scored);
        TextOptions::default().set_indexing_options(indexing)
    };
    // Looked up or filtered on, never scored.
    let key = || {
        let indexing = TextFieldIndexing::default().set_tokenizer("raw").set_index_option(IndexRecordOption::Basic).set_fieldnorms(false);
        TextOptions::default().set_indexing_options(indexing)
    };
    let keyword = STRING | STORED | FAST;
    b.add_text_field("id", key() | STORED | FAST);
    b.add_text_field("path", key() | STORED | FAST);
    b.add_text_field("source", key() | FAST);
    // Each text's fields in a row: tantivy tokenizes a document field by
    // field, and the analysis of a text is kept for its next field.
    b.add_text_field("title", analyzed(TokenSet::Atoms, true));
    b.add_text_field("title_words", analyzed(TokenSet::Words, true));
    b.add_text_field("title_pairs", analyzed(TokenSet::Pairs, true));
    b.add_text_field("meta", analyzed(TokenSet::Atoms, true));
    b.add_text_field("meta_pairs", analyzed(TokenSet::Pairs, false));
    b.add_text_field("body", analyzed(TokenSet::Atoms, true));
    b.add_text_field("body_words", analyzed(TokenSet::Words, true));
    b.add_text_field("body_pairs", analyzed(TokenSet::Pairs, false));
    b.add_text_field("text", STORED);
    b.add_text_field("text_encoding", STORED);
    b.add_bytes_field("original", STORED);
    b.add_text_field("blob", key() | FAST);
    b.add_text_field("doc_number_key", STRING);
    b.add_text_field("index_no_key", STRING);
    b.add_text_field("title_raw", STORED | FAST);
    b.add_text_field("doc_number", STORED);
    b.add_text_field("index_no", STORED);
    b.add_text_field("publisher", keyword.clone());
    b.add_text_field("category", keyword.clone());
    b.add_text_field("disclosure", keyword.clone());
    b.add_text_field("validity", keyword.clone());
    b.add_text_field("year", keyword);
    b.add_text_field("written_date", STORED);
    b.add_text_field("published_date", STORED);
    b.add_u64_field("date", INDEXED | FAST | STORED);
    b.add_text_field("format", STORED);
    b.add_u64_field("bytes", STORED);
    b.add_text_field("sha256", STORED);
    b.add_u64_field("stamp", FAST);
    b.add_u64_field("fingerprint", FAST);
    b.add_text_field("withheld", FAST);
    b.build()
}

/// Make the Chinese analyzers known to an opened index.
pub fn register_analyzer(index: &Index) {
    for set in [TokenSet::Atoms, TokenSet::Words, TokenSet::Pairs] {
        index.tokenizers().register(set.tokenizer_name(), TextAnalyzer::from(ChineseTokenizer(set)));
    }
}

/// Ordinals of a keyword column whose value satisfies `wanted`: a filter on
/// a fast field is then an integer comparison per document.
pub fn ords_where(column: &tantivy::columnar::StrColumn, wanted: impl Fn(&str) -> bool) -> Vec<u64> {
    (0..column.num_terms() as u64)
        .filter(|&ord| {
            let mut value = String::new();
            column.ord_to_str(ord, &mut value).unwrap_or(false) && wanted(&value)
        })
        .collect()
}

/// The first value of a keyword column for `doc` ("" when it has none).
pub fn first_value(column: &tantivy::columnar::StrColumn, doc: tantivy::DocId) -> String {
    let mut value = String::new();
    if let Some(ord) = column.term_ords(doc).next() {
        let _ = column.ord_to_str(ord, &mut value);
    }
    value
}

/// The index folder inside a data folder (`index/`).
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

/// `2016-12-30` → 20161230, the sortable date key.
pub fn date_key(iso: &str) -> u64 {
    iso.chars().filter(char::is_ascii_digit).collect::<String>().parse().unwrap_or(0)
}

/// The catalog fields of a stored document, as the index holds them: the
/// title shown (a document without one shows its file name), the
/// publishers of a jointly issued document joined by `、`, and its id when
/// it has one. What the document page, the catalog export and a
/// withdrawal read.
pub fn stored_catalog(doc: &TantivyDocument, fields: &Fields) -> Catalog {
    let first = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_string);
    let publishers: Vec<&str> = doc.get_all(fields.publisher).filter_map(|v| v.as_str()).filter(|s| !s.is_empty()).collect();
    Catalog {
        id: first(fields.id),
        index_no: first(fields.index_no),
        title: first(fields.title_raw),
        publisher: Some(publishers.join("、")).filter(|p| !p.is_empty()),
        doc_number: first(fields.doc_number),
        written_date: first(fields.written_date),
        published_date: first(fields.published_date),
        category: first(fields.category),
        disclosure: first(fields.disclosure).as_deref().and_then(Disclosure::parse),
        validity: first(fields.validity),
    }
}
