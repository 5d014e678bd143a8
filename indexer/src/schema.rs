//! The tantivy schema of a data folder's index: one tantivy document per
//! archived document, with its catalog fields, analyzed text and the keys
//! that incremental ingest compares.

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::Index;

use crate::analysis::{ChineseTokenizer, TOKENIZER_NAME};

/// Bumped when analysis or the schema changes; documents indexed by an
/// older version are re-indexed by the next ingest.
pub const FORMAT_VERSION: &str = "yuelan-2";

/// Handles of every field, looked up once.
#[derive(Debug, Clone)]
pub struct Fields {
    /// Stable document id (URL-safe).
    pub id: Field,
    /// File path relative to its source folder, `/`-separated.
    pub path: Field,
    /// The source folder the file was found in (absolute).
    pub source: Field,
    /// Analyzed title (weighted above the body).
    pub title: Field,
    /// Analyzed 文号, 索引号, publisher and category.
    pub meta: Field,
    /// Analyzed body text (not stored here).
    pub body: Field,
    /// Body text as stored, when it cannot be re-read from the original.
    pub text: Field,
    /// Encoding that turns the original into the body text, when it does.
    pub text_encoding: Field,
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
    pub sha256: Field,
    /// Hash of everything the document was built from (file, sidecar,
    /// catalog row, FORMAT_VERSION): unchanged fingerprint, nothing to do.
    pub fingerprint: Field,
}

impl Fields {
    pub fn of(schema: &Schema) -> Fields {
        let f = |name: &str| schema.get_field(name).expect("field defined in build_schema");
        Fields {
            id: f("id"),
            path: f("path"),
            source: f("source"),
            title: f("title"),
            meta: f("meta"),
            body: f("body"),
            text: f("text"),
            text_encoding: f("text_encoding"),
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
            fingerprint: f("fingerprint"),
        }
    }
}

pub fn build_schema() -> Schema {
    let mut b = Schema::builder();
    let analyzed = |stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored { options.set_stored() } else { options }
    };
    let keyword = STRING | STORED | FAST;
    b.add_text_field("id", STRING | STORED);
    b.add_text_field("path", keyword.clone());
    b.add_text_field("source", keyword.clone());
    b.add_text_field("title", analyzed(false));
    b.add_text_field("meta", analyzed(false));
    b.add_text_field("body", analyzed(false));
    b.add_text_field("text", STORED);
    b.add_text_field("text_encoding", STORED);
    b.add_text_field("doc_number_key", STRING);
    b.add_text_field("index_no_key", STRING);
    b.add_text_field("title_raw", STORED | FAST);
    b.add_text_field("doc_number", STORED);
    b.add_text_field("index_no", STORED);
    b.add_text_field("publisher", keyword.clone());
    b.add_text_field("category", keyword.clone());
    b.add_text_field("disclosure", keyword.clone());
    b.add_text_field("validity", keyword.clone());
    b.add_text_field("year", keyword.clone());
    b.add_text_field("written_date", STORED);
    b.add_text_field("published_date", STORED);
    b.add_u64_field("date", INDEXED | FAST | STORED);
    b.add_text_field("format", STORED);
    b.add_u64_field("bytes", STORED);
    b.add_text_field("sha256", keyword.clone());
    b.add_text_field("fingerprint", keyword);
    b.build()
}

/// Make the Chinese analyzer known to an opened index.
pub fn register_analyzer(index: &Index) {
    index.tokenizers().register(TOKENIZER_NAME, TextAnalyzer::from(ChineseTokenizer));
}
