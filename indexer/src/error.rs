//! Errors of the indexer library, each with a message a person can act on.

use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("another `indexer ingest`, `withdraw`, `verify`, `catalog export` or `export opensearch` is running on {0} (it holds ingest.lock); wait for it to finish, then try again")]
    Locked(PathBuf),
    /// A data folder without an index: the message says whether the
    /// path is missing, a file, or a folder no ingest has committed to.
    #[error("{}", no_index(.0))]
    NoIndex(PathBuf),
    #[error("the index in {path} cannot be used: {source}")]
    Index { path: PathBuf, source: tantivy::TantivyError },
    #[error("the index in {0} was written by another version of the indexer; run `indexer ingest` on its sources again to rebuild it")]
    OldFormat(PathBuf),
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("stored original {0} is damaged: its content no longer matches its sha256")]
    CorruptBlob(String),
    #[error("document {id} ({path}): its stored original {} is missing; `indexer verify --data DATA_DIR` lists what is missing or damaged, `indexer ingest SOURCE_DIR --data DATA_DIR --verify` stores it again from its source", blob.display())]
    MissingOriginal { id: String, path: String, blob: PathBuf },
    #[error("document {id} ({path}): its stored original {sha} is damaged (its content no longer matches its sha256); `indexer verify --data DATA_DIR` lists what is missing or damaged, `indexer ingest SOURCE_DIR --data DATA_DIR --verify` stores it again from its source")]
    DamagedOriginal { id: String, path: String, sha: String },
    #[error("{0}")]
    Analysis(String),
    #[error("no document has id {0}; the id is the last part of its address /documents/{{id}}")]
    NoDocument(String),
    #[error("{0} is not withdrawn; `indexer withdraw --list --data DIR` lists the withdrawn documents")]
    NotWithdrawn(String),
    #[error("the list of withdrawals {path} cannot be read ({reason}); restore it from a backup before ingesting, or withdrawn documents would be published again")]
    Withdrawals { path: PathBuf, reason: String },
    #[error("source folder {0} does not exist or is not a folder")]
    NoSource(PathBuf),
    /// An index another version wrote is rebuilt from the files of its
    /// documents; `count` of them are not in the source folders given.
    #[error("the index in {data} was written by another version of the indexer and is rebuilt from its sources, but {count} of its documents have no file in the folders given (such as {}); give every folder it was built from, or restore the files, or pass --prune to drop those documents", .examples.join(", "))]
    RebuildWouldLose { data: PathBuf, count: usize, examples: Vec<String> },
    /// A catalog export wrote every row, but `count` public documents
    /// without their text: their originals are gone or damaged.
    #[error("{written} documents exported, but {count} of them without their text (正文), which could not be read: {}", .examples.join("; "))]
    ExportWithoutText { written: u64, count: usize, examples: Vec<String> },
    #[error("cannot write the export into {path}: {reason}; pass --out a new or empty folder you can write to")]
    ExportOut { path: PathBuf, reason: String },
    #[error("{name} cannot name an OpenSearch index: {reason}; pass --index a name in lowercase, without spaces or any of \\ / * ? \" < > | , # :, not starting with - _ +, of at most 255 bytes")]
    IndexName { name: String, reason: String },
    #[error("cannot continue from the export state {path}: {reason}; pass --since the state.json of the last `indexer export opensearch` of this data folder, or export without --since (everything, into a new index)")]
    ExportState { path: PathBuf, reason: String },
}

impl Error {
    /// Wrap an I/O error with what was being done, so the message says where.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

/// What is wrong with the data folder `path` that holds no index.
fn no_index(path: &Path) -> String {
    let check = "check the data folder's path (--data)";
    match std::fs::metadata(path) {
        Err(_) => format!("{} does not exist; {check}", path.display()),
        Ok(found) if !found.is_dir() => format!("{} is a file, not a data folder; {check}", path.display()),
        Ok(_) => format!("{0} holds no index yet; run `indexer ingest <SOURCE_DIR> --data {0}` first", path.display()),
    }
}
