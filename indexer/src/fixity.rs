//! Fixity check of a data folder (`indexer verify`), as archives run it:
//! every stored original is read back and its sha256 compared with the
//! name it is stored under; every public document must have its original;
//! no original may be stored that no document holds; the index must open
//! and hold as many documents as it says; no withdrawn document may be
//! left in it.
//!
//! Memory is bounded whatever the archive's size: documents are read one
//! at a time from each segment's store, blobs one folder at a time and
//! each through a fixed buffer. Segments and blob folders are checked on
//! every core.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tantivy::schema::Value;
use tantivy::{IndexReader, ReloadPolicy, Searcher, SegmentReader, TantivyDocument};

use crate::catalog::Disclosure;
use crate::error::{Error, Result};
use crate::ingest::{lock, open_existing};
use crate::schema::{first_value, Fields};
use crate::store::is_held;
use crate::withdrawal::{self, Withdrawals};

/// Bytes read from a blob at a time.
const BUFFER_BYTES: usize = 256 << 10;

/// What is wrong with one thing the data folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A stored original whose bytes no longer have the sha256 it is stored
    /// under (or that no longer decompresses).
    Damaged,
    /// A public document whose original is not in the data folder.
    Missing,
    /// A stored original no document holds, or a file of a killed run.
    Orphan,
    /// The index does not open, or does not hold the documents it says.
    Index,
    /// A document listed as withdrawn still in the index (served, or its
    /// terms in the index files): a withdrawal stopped before its end.
    Withdrawn,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The file inside the data folder, or `document {id}`.
    pub what: String,
    pub detail: String,
}

/// The outcome of a fixity check (`--json` prints it as is).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FixityReport {
    /// Documents the index holds.
    pub documents: u64,
    /// Stored originals read back and hashed (blobs and originals kept
    /// with their documents).
    pub originals: u64,
    /// Their bytes, uncompressed.
    pub bytes: u64,
    /// Everything wrong, by kind then name; empty when all is well.
    pub problems: Vec<Problem>,
}

/// Tallies shared by the threads of a check.
#[derive(Default)]
struct Tally {
    documents: AtomicU64,
    originals: AtomicU64,
    bytes: AtomicU64,
    problems: Mutex<Vec<Problem>>,
}

impl Tally {
    fn original(&self, bytes: u64) {
        self.originals.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn problem(&self, kind: ProblemKind, what: String, detail: String) {
        if let Ok(mut problems) = self.problems.lock() {
            problems.push(Problem { kind, what, detail });
        }
    }
}

/// Check the data folder `data_dir`. Holds the ingest lock (an ingest
/// under way would show its new originals as orphans). Errors:
/// [`Error::NoIndex`], [`Error::OldFormat`], [`Error::Locked`]; an index
/// that exists but does not open is reported as a problem.
pub fn verify(data_dir: &Path, progress: bool) -> Result<FixityReport> {
    if !data_dir.is_dir() {
        // Rather than the lock file's error.
        return Err(Error::NoIndex(data_dir.to_path_buf()));
    }
    let _lock = lock(data_dir)?;
    let tally = Tally::default();
    let opened = open_existing(data_dir).and_then(|index| {
        let reader: IndexReader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(reader)
    });
    let reader = match opened {
        Ok(reader) => reader,
        Err(e @ (Error::NoIndex(_) | Error::OldFormat(_))) => return Err(e),
        Err(e) => {
            tally.problem(ProblemKind::Index, "index/".into(), format!("does not open: {e}"));
            return Ok(report(tally));
        }
    };
    let searcher = reader.searcher();
    let fields = Fields::of(&searcher.schema().clone());
    let blob_dirs = blob_folders(data_dir)?;
    let bar = progress_bar(progress, searcher.num_docs() + blob_dirs.len() as u64);
    searcher.segment_readers().par_iter().for_each(|segment| {
        if let Err(e) = check_documents(segment, &fields, data_dir, &tally, &bar) {
            tally.problem(ProblemKind::Index, "index/".into(), format!("a segment cannot be read: {e}"));
        }
    });
    let read = tally.documents.load(Ordering::Relaxed);
    if read != searcher.num_docs() {
        let detail = format!("it says it holds {} documents, its store has {read}", searcher.num_docs());
        tally.problem(ProblemKind::Index, "index/".into(), detail);
    }
    blob_dirs.par_iter().for_each(|dir| {
        check_blob_folder(dir, &searcher, &fields, &tally);
        bar.inc(1);
    });
    for w in withdrawal::unfinished(&searcher, &fields, &Withdrawals::load(data_dir)?)?.withdrawals {
        let detail = format!(
            "withdrawn {} ({}) but still in the index: the withdrawal stopped before its end; \
             `indexer ingest` of its source or `indexer withdraw --data DATA_DIR {}` again finishes it",
            w.time, w.path, w.id
        );
        tally.problem(ProblemKind::Withdrawn, format!("document {}", w.id), detail);
    }
    bar.finish_and_clear();
    Ok(report(tally))
}

fn report(tally: Tally) -> FixityReport {
    let mut problems = tally.problems.into_inner().unwrap_or_default();
    problems.sort();
    FixityReport {
        documents: tally.documents.into_inner(),
        originals: tally.originals.into_inner(),
        bytes: tally.bytes.into_inner(),
        problems,
    }
}

fn progress_bar(enabled: bool, steps: u64) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {percent}% checked, {elapsed}, about {eta} left") {
        bar.set_style(style);
    }
    bar
}

/// The folders of `blobs/` (`blobs/ab/`), sorted.
fn blob_folders(data_dir: &Path) -> Result<Vec<PathBuf>> {
    let root = data_dir.join("blobs");
    let entries = match fs::read_dir(&root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("listing {}", root.display()))(e)),
    };
    let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    dirs.sort();
    Ok(dirs)
}

/// Check the documents of one segment: originals kept with them hash to
/// their sha256; public ones whose original is a blob have it.
fn check_documents(segment: &SegmentReader, fields: &Fields, data_dir: &Path, tally: &Tally, bar: &ProgressBar) -> Result<()> {
    let blobs = segment.fast_fields().str("blob")?;
    let store = segment.get_store_reader(1).map_err(Error::io("opening the document store"))?;
    for (doc_id, doc) in segment.doc_ids_alive().zip(store.iter::<TantivyDocument>(segment.alive_bitset())) {
        let doc = doc?;
        tally.documents.fetch_add(1, Ordering::Relaxed);
        bar.inc(1);
        let text = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default();
        let (id, sha) = (text(fields.id), text(fields.sha256));
        let public = text(fields.disclosure) == Disclosure::Public.as_str();
        if sha.is_empty() || !public {
            continue;
        }
        if let Some(kept) = doc.get_first(fields.original).and_then(|v| v.as_bytes()) {
            tally.original(kept.len() as u64);
            if hex::encode(Sha256::digest(kept)) != sha {
                tally.problem(ProblemKind::Damaged, format!("document {id}"), format!("its original no longer has the sha256 {sha}"));
            }
            continue;
        }
        let blob = blobs.as_ref().map(|c| first_value(c, doc_id)).unwrap_or_default();
        let path = blob_path(data_dir, &blob);
        if blob.is_empty() || !path.exists() {
            let rel = blob_rel(&sha);
            tally.problem(ProblemKind::Missing, format!("document {id}"), format!("its original {rel} is not in the data folder"));
        }
    }
    Ok(())
}

fn blob_rel(sha: &str) -> String {
    format!("blobs/{}/{}.zst", sha.get(..2).unwrap_or_default(), sha.get(2..).unwrap_or_default())
}

fn blob_path(data_dir: &Path, sha: &str) -> PathBuf {
    data_dir.join(blob_rel(sha))
}

/// Check every file of one blob folder: it decompresses to bytes whose
/// sha256 is its name, and a document holds it.
fn check_blob_folder(dir: &Path, searcher: &Searcher, fields: &Fields, tally: &Tally) {
    let prefix = dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    if !dir.is_dir() {
        tally.problem(ProblemKind::Orphan, format!("blobs/{prefix}"), "not a folder of originals".into());
        return;
    }
    let Ok(files) = fs::read_dir(dir) else {
        tally.problem(ProblemKind::Damaged, format!("blobs/{prefix}/"), "cannot be listed".into());
        return;
    };
    let mut buffer = vec![0u8; BUFFER_BYTES];
    for file in files.flatten() {
        let name = file.file_name().to_string_lossy().to_string();
        let rel = format!("blobs/{prefix}/{name}");
        let Some(sha) = name.strip_suffix(".zst").map(|rest| format!("{prefix}{rest}")) else {
            tally.problem(ProblemKind::Orphan, rel, "not an original (a file left by a killed run?)".into());
            continue;
        };
        match hash_blob(&file.path(), &mut buffer) {
            Ok((digest, bytes)) => {
                tally.original(bytes);
                if digest != sha {
                    tally.problem(ProblemKind::Damaged, rel.clone(), format!("its bytes have the sha256 {digest}"));
                }
            }
            Err(e) => tally.problem(ProblemKind::Damaged, rel.clone(), format!("cannot be read back: {e}")),
        }
        if is_held(searcher, fields, &sha).is_ok_and(|held| !held) {
            tally.problem(ProblemKind::Orphan, rel, "no document holds it".into());
        }
    }
}

/// The sha256 (hex) and length of a blob's original, read through `buffer`.
fn hash_blob(path: &Path, buffer: &mut [u8]) -> std::io::Result<(String, u64)> {
    let mut decoder = zstd::stream::read::Decoder::new(fs::File::open(path)?)?;
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    loop {
        let n = decoder.read(buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}
