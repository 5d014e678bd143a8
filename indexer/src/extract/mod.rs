//! Text and catalog data out of a file, one module per format. Every
//! extractor gets the file's bytes and [`Limits`], and returns the documents
//! the file holds (a catalog export holds many) or an [`ExtractError`] that
//! says why the file was rejected.

mod docx;
mod html;
mod ofd;
mod pdf;
mod records;
mod symbols;
mod text;
mod zipped;

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

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
    /// The record's place in a catalog export (1 for its first item, line
    /// or row, skipped ones counted), so it can be named in a report.
    pub number: Option<usize>,
    /// The bytes of this document alone when the file holds it among
    /// others (one record of an export: its JSON, or the CSV header and
    /// its row, as UTF-8). This, not the file, is the document's original.
    pub original: Option<Vec<u8>>,
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
    /// A part of a zip package (DOCX, OFD) decompressed past
    /// [`Limits::max_unpacked_bytes`], counted over all parts read so far;
    /// or the streams of a PDF, counted together (`PDF stream data`).
    #[error("zip bomb: {part} inflates past {}", size_text(*limit))]
    ZipBomb { part: String, limit: u64 },
    #[error("binary data, not text (is the extension right?)")]
    Binary,
    #[error("took longer than {0:?} to read; skipped")]
    Timeout(Duration),
    #[error("reader crashed on this file: {0}")]
    Panic(String),
}

/// Common formats this indexer does not read, and what the archivist can
/// do about each; the rejection names them so none is silently dropped.
const UNSUPPORTED: [(&str, &str); 16] = [
    ("doc", "Word 97-2003; save as .docx"),
    ("wps", "WPS Writer; save as .docx"),
    ("rtf", "Rich Text Format; save as .docx"),
    ("xls", "Excel 97-2003 spreadsheet; export as .csv"),
    ("xlsx", "Excel spreadsheet; export as .csv"),
    ("ppt", "PowerPoint 97-2003; save as .pdf"),
    ("pptx", "PowerPoint; save as .pdf"),
    ("jpg", "image; needs OCR, or a PDF with a text layer"),
    ("jpeg", "image; needs OCR, or a PDF with a text layer"),
    ("png", "image; needs OCR, or a PDF with a text layer"),
    ("tif", "image; needs OCR, or a PDF with a text layer"),
    ("tiff", "image; needs OCR, or a PDF with a text layer"),
    ("gif", "image; needs OCR, or a PDF with a text layer"),
    ("bmp", "image; needs OCR, or a PDF with a text layer"),
    ("zip", "archive; unpack it into the source folder"),
    ("rar", "archive; unpack it into the source folder"),
];

/// Extract the documents of a file named `name` (its extension picks the
/// format) from its bytes. Panics inside an extractor are caught and become
/// rejections. The formats that unpack or interpret structure (DOCX, OFD,
/// PDF) run on a worker thread under `limits.time_budget` (see
/// [`with_time_budget`]).
pub fn extract(name: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<Record>, ExtractError> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ExtractError::TooLarge { size: bytes.len() as u64, limit: limits.max_file_bytes });
    }
    let extension = extension_of(name);
    if matches!(extension.as_str(), "docx" | "ofd" | "pdf") {
        return with_time_budget(extension, bytes, limits);
    }
    contained(&extension, bytes, limits)
}

/// The charset of a text original of format `format` (its extension), as
/// ingest decodes it: a page's declared charset, else the encoding
/// detected (UTF-8, gb18030, Big5, UTF-16LE …, encoding_rs names, which
/// browsers accept as labels). What its `Content-Type` says when it is
/// served, so that a GBK file reads as written. `None` for formats that
/// are not text.
pub fn charset(format: &str, bytes: &[u8]) -> Option<&'static str> {
    match format {
        "txt" | "md" | "markdown" | "csv" => Some(text::detect(bytes).name()),
        "html" | "htm" => Some(html::encoding_of(bytes).name()),
        _ => None,
    }
}

/// Run the extractor of a format, turning a panic into a rejection.
fn contained(extension: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<Record>, ExtractError> {
    let run = || -> Result<Vec<Record>, ExtractError> {
        match extension {
            "txt" | "md" | "markdown" => text::extract(bytes, limits).map(|r| vec![r]),
            "html" | "htm" => html::extract(bytes, limits).map(|r| vec![r]),
            "json" => records::extract_json(bytes, limits),
            "jsonl" => records::extract_jsonl(bytes, limits),
            "csv" => records::extract_csv(bytes, limits),
            "docx" => docx::extract(bytes, limits).map(|r| vec![r]),
            "ofd" => ofd::extract(bytes, limits),
            "pdf" => pdf::extract(bytes, limits).map(|r| vec![r]),
            "" => Err(ExtractError::Unsupported("file has no extension".into())),
            other => Err(ExtractError::Unsupported(match UNSUPPORTED.iter().find(|(e, _)| *e == other) {
                Some((_, what)) => format!(".{other} ({what})"),
                None => format!(".{other}"),
            })),
        }
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(result) => result,
        Err(panic) => Err(ExtractError::Panic(panic_message(&panic))),
    }
}

/// Stack of an extraction worker: parsers recurse (lopdf up to its nesting
/// limit, pdf-extract through nested forms), and a stack overflow would
/// abort the whole process rather than fail one file.
const WORKER_STACK_BYTES: usize = 64 << 20;
/// Workers that ran past their budget and may still be running.
const MAX_ABANDONED_WORKERS: usize = 2;
static ABANDONED_WORKERS: AtomicUsize = AtomicUsize::new(0);

/// Run an extractor on a worker thread and give up on it after
/// `limits.time_budget` with [`ExtractError::Timeout`], so one pathological
/// file cannot hold up the batch.
fn with_time_budget(extension: String, bytes: &[u8], limits: &Limits) -> Result<Vec<Record>, ExtractError> {
    let (owned, worker_limits) = (bytes.to_vec(), limits.clone());
    let name = format!("extract .{extension}");
    on_worker(&name, limits.time_budget, move || contained(&extension, &owned, &worker_limits))
}

/// States of a job run by [`on_worker`], shared with its worker.
const RUNNING: u8 = 0;
const FINISHED: u8 = 1;
const ABANDONED: u8 = 2;

thread_local! {
    /// On a worker thread, the state of its job: [`Clock::start`] reads it
    /// so that the extractor sees when it was abandoned.
    static JOB_STATE: std::cell::RefCell<Option<Arc<AtomicU8>>> = const { std::cell::RefCell::new(None) };
}

/// Run `job` on a worker thread named `name` and give up on it after
/// `budget` with [`ExtractError::Timeout`].
///
/// A thread cannot be killed, so an abandoned worker runs on until its job
/// returns. Giving up on it marks it abandoned, and the extractors watch
/// for that at the same places as their own clock ([`Clock::is_up`]:
/// between XML events, PDF pages and characters of text), so an abandoned
/// worker stops within one step and lets its memory go. Only inside one
/// long step of a third-party parser does it run on; at most
/// [`MAX_ABANDONED_WORKERS`] may be running at once, and while that many
/// are, the next file waits for one to finish (up to its own budget) and
/// otherwise times out unread. Memory therefore stays within
/// (1 + MAX_ABANDONED_WORKERS) files' worth of the limits.
fn on_worker<F>(name: &str, budget: Duration, job: F) -> Result<Vec<Record>, ExtractError>
where
    F: FnOnce() -> Result<Vec<Record>, ExtractError> + Send + 'static,
{
    let started = Instant::now();
    while ABANDONED_WORKERS.load(Ordering::SeqCst) >= MAX_ABANDONED_WORKERS {
        if started.elapsed() > budget {
            return Err(ExtractError::Timeout(budget));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let state = Arc::new(AtomicU8::new(RUNNING));
    let (sender, receiver) = mpsc::sync_channel(1);
    let worker_state = Arc::clone(&state);
    let spawned = std::thread::Builder::new().name(name.to_string()).stack_size(WORKER_STACK_BYTES).spawn(move || {
        JOB_STATE.with(|s| *s.borrow_mut() = Some(Arc::clone(&worker_state)));
        let result = job();
        if worker_state.swap(FINISHED, Ordering::SeqCst) == ABANDONED {
            ABANDONED_WORKERS.fetch_sub(1, Ordering::SeqCst);
        }
        let _ = sender.send(result);
    });
    if let Err(e) = spawned {
        return Err(ExtractError::Panic(format!("could not start a reader thread: {e}")));
    }
    let budget_left = budget.saturating_sub(started.elapsed());
    match receiver.recv_timeout(budget_left) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            if state.compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                ABANDONED_WORKERS.fetch_add(1, Ordering::SeqCst);
                return Err(ExtractError::Timeout(budget));
            }
            // It finished just now: take its result.
            receiver.recv().unwrap_or_else(|_| Err(ExtractError::Panic("reader thread died".into())))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(ExtractError::Panic("reader thread died".into())),
    }
}

/// The time an extraction has: its own budget from when it started, cut
/// short when the caller gave up on its worker ([`on_worker`]).
#[derive(Debug, Clone)]
pub(super) struct Clock {
    deadline: Instant,
    job: Option<Arc<AtomicU8>>,
}

impl Clock {
    /// Start the clock of an extraction under `limits.time_budget`.
    pub(super) fn start(limits: &Limits) -> Clock {
        Clock { deadline: Instant::now() + limits.time_budget, job: JOB_STATE.with(|s| s.borrow().clone()) }
    }

    /// Whether the extraction must stop: its budget is spent, or it runs on
    /// a worker that was abandoned.
    pub(super) fn is_up(&self) -> bool {
        Instant::now() > self.deadline || self.job.as_ref().is_some_and(|job| job.load(Ordering::SeqCst) == ABANDONED)
    }
}

/// Lower-case extension of a file name (`""` when it has none).
pub fn extension_of(name: &str) -> String {
    std::path::Path::new(name).extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default()
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// A size as a person reads it: whole MiB as `256 MB`, anything else in
/// bytes.
fn size_text(bytes: u64) -> String {
    if bytes > 0 && bytes % (1 << 20) == 0 {
        format!("{} MB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// Cut `text` to at most `limit` bytes at a character boundary, noting it.
fn cap_text(mut text: String, limit: usize, warnings: &mut Vec<String>) -> String {
    if text.len() > limit {
        let mut cut = limit;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        // The cut text may be a quarter of what was decoded: let the rest go.
        text.shrink_to_fit();
        warnings.push(format!("text longer than {limit} bytes; only the first {limit} bytes are searchable"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abandoned_worker_sees_it_and_stops() {
        let budget = Duration::from_millis(50);
        // Other tests' workers may hold every slot for a moment: then the
        // job times out unread, and is tried again.
        for _ in 0..100 {
            let (stopped, stop_seen) = mpsc::channel();
            let result = on_worker("test", budget, move || {
                // Its own budget is the default 30 s: only being abandoned can stop it.
                let clock = Clock::start(&Limits::default());
                while !clock.is_up() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let _ = stopped.send(());
                Ok(Vec::new())
            });
            assert_eq!(result.unwrap_err(), ExtractError::Timeout(budget));
            match stop_seen.recv_timeout(Duration::from_secs(10)) {
                Ok(()) => return,
                Err(mpsc::RecvTimeoutError::Disconnected) => continue,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the abandoned worker is still running"),
            }
        }
        panic!("the job never got a worker");
    }

    #[test]
    fn sizes_read_as_megabytes_when_whole() {
        assert_eq!(
            ExtractError::ZipBomb { part: "word/document.xml".into(), limit: 256 << 20 }.to_string(),
            "zip bomb: word/document.xml inflates past 256 MB"
        );
        assert_eq!(
            ExtractError::ZipBomb { part: "Doc_0/Document.xml".into(), limit: 1000 }.to_string(),
            "zip bomb: Doc_0/Document.xml inflates past 1000 bytes"
        );
    }
}
