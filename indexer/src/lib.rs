//! Yuelan's indexer library: everything that reads public records and the
//! data folder they are archived in. The `indexer` binary writes a data
//! folder; the search server opens it read-only through [`archive::Archive`].
//!
//! Data folder layout:
//! * `index/`  tantivy index (catalog fields, analyzed text, stored text,
//!   originals up to [`store::KEPT_WITH_DOCUMENT`])
//! * `blobs/`  longer originals, zstd-compressed, named by the sha256 of their bytes
//! * `ingest.lock`  held by the one `indexer ingest` allowed at a time
//! * `ingest.unfinished`  present while an ingest runs
//! * `withdrawals.json`  documents withdrawn by `indexer withdraw` ([`withdrawal`])

pub mod analysis;
pub mod any_of;
pub mod api;
pub mod archive;
pub mod catalog;
pub mod catalog_export;
pub mod directory;
pub mod error;
pub mod eval;
pub mod extract;
pub mod fixity;
pub mod highlight;
pub mod ingest;
pub mod markdown;
pub mod opensearch_export;
pub mod query;
pub mod ranking;
pub mod report;
pub mod schema;
pub mod spelling;
pub mod store;
pub mod thesaurus;
pub mod withdrawal;

pub use archive::Archive;
pub use error::{Error, Result};
