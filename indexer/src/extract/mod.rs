//! Text and catalog data out of a file, one module per format. Every
//! extractor gets the file's bytes and [`Limits`], and returns the documents
//! the file holds (a catalog export holds many) or an [`ExtractError`] that
//! says why the file was rejected.

mod html;
mod records;
mod text;

use std::time::Duration;

pub use text::{decode_text, decode_with, encoding_named, Decoded};

use crate::catalog::Catalog;

/// Bounds every extractor honours, so one hostile file cannot exhaust memory
/// or time.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest file read at all.
    pub max_file_bytes: u64,
    /// Largest text kept from one document (longer text is cut and reported).
    pub max_text_bytes: usize,
    /// Most bytes an archive format (DOCX, OFD) may decompress to.
    pub max_unpacked_bytes: u64,
    /// Most entries an archive format may hold.
    pub max_entries: usize,
    /// Deepest XML nesting accepted.
    pub max_xml_depth: usize,
    /// Time one file may take to extract.
    pub time_budget: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 << 20,
            max_text_bytes: 16 << 20,
            max_unpacked_bytes: 256 << 20,
            max_entries: 10_000,
            max_xml_depth: 256,
            time_budget: Duration::from_secs(30),
        }
    }
}

/// One document found in a file.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// The document's text (empty when it has none, e.g. a scanned PDF).
    pub text: String,
    /// Catalog fields the file itself states (HTML `<title>`, DOCX core
    /// properties, the fields of a JSON export record).
    pub catalog: Catalog,
    /// Name of the text encoding when `text` is exactly the whole original
    /// decoded with it: the text need not be stored twice, it is re-read
    /// from the original.
    pub encoding: Option<&'static str>,
    /// Things the archivist should know that did not stop the file.
    pub warnings: Vec<String>,
}

/// Why a file could not be indexed. The message is shown to the archivist.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtractError {
    #[error("unsupported format: {0}")]
    Unsupported(String),
    #[error("file too large: {size} bytes (limit {limit})")]
    TooLarge { size: u64, limit: u64 },
    #[error("damaged file: {0}")]
    Corrupt(String),
    #[error("binary data, not text (is the extension right?)")]
    Binary,
    #[error("took longer than {0:?} to read; skipped")]
    Timeout(Duration),
    #[error("reader crashed on this file: {0}")]
    Panic(String),
}

/// Formats this indexer reads, by lower-case file extension.
pub fn supported(extension: &str) -> bool {
    matches!(extension, "txt" | "md" | "markdown" | "html" | "htm" | "json" | "jsonl" | "csv")
}

/// Extract the documents of a file named `name` (its extension picks the
/// format) from its bytes. Panics inside an extractor are caught and become
/// rejections.
pub fn extract(name: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<Record>, ExtractError> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ExtractError::TooLarge { size: bytes.len() as u64, limit: limits.max_file_bytes });
    }
    let extension = extension_of(name);
    let run = || -> Result<Vec<Record>, ExtractError> {
        match extension.as_str() {
            "txt" | "md" | "markdown" => text::extract(bytes, limits).map(|r| vec![r]),
            "html" | "htm" => html::extract(bytes, limits).map(|r| vec![r]),
            "json" => records::extract_json(bytes, limits),
            "jsonl" => records::extract_jsonl(bytes, limits),
            "csv" => records::extract_csv(bytes, limits),
            "" => Err(ExtractError::Unsupported("file has no extension".into())),
            other => Err(ExtractError::Unsupported(format!(".{other}"))),
        }
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(result) => result,
        Err(panic) => Err(ExtractError::Panic(panic_message(&panic))),
    }
}

/// Lower-case extension of a file name (`""` when it has none).
pub fn extension_of(name: &str) -> String {
    std::path::Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Cut `text` to at most `limit` bytes at a character boundary, noting it.
fn cap_text(mut text: String, limit: usize, warnings: &mut Vec<String>) -> String {
    if text.len() > limit {
        let mut cut = limit;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        warnings.push(format!("text longer than {limit} bytes; only the first {limit} bytes are searchable"));
    }
    text
}
