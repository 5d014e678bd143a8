//! `indexer ingest`: walk source folders, extract what changed, and commit
//! it to the data folder so that a search server sees it.
//!
//! Safety: one ingest at a time (a lock file); originals are written before
//! the commit that references them; a changed file's old documents are
//! deleted in the same commit that adds the new ones, so a run killed at
//! any moment leaves the last commit intact and the next run finishes the
//! work with every file present exactly once.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use tantivy::collector::DocSetCollector;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::{Index, IndexSettings, IndexWriter, Searcher, TantivyDocument, Term};

use crate::catalog::{self, Catalog, CatalogCsv, Disclosure};
use crate::error::{Error, Result};
use crate::extract::{self, Limits, Record};
use crate::schema::{build_schema, date_key, first_value, index_dir, ords_where, register_analyzer, Fields, FORMAT_VERSION};
use crate::store::{sha256_hex, BlobStore};

/// Memory tantivy may use for its in-progress segments, all threads together.
const WRITER_HEAP_BYTES: usize = 256 << 20;
/// Files between intermediate commits, so an interrupted run keeps its progress.
const COMMIT_EVERY: usize = 2_000;
/// Files extracted and analyzed in parallel at a time, and the most bytes
/// such a batch may hold (this bounds the memory of a run).
const BATCH_FILES: usize = 64;
const BATCH_BYTES: usize = 64 << 20;
/// Suffix of a sidecar file of catalog data.
const SIDECAR_SUFFIX: &str = ".meta.json";
/// A folder's catalog of its files.
const CATALOG_CSV: &str = "catalog.csv";

/// What to ingest where.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub sources: Vec<PathBuf>,
    pub data_dir: PathBuf,
    /// Remove documents whose files are gone from the walked sources.
    pub prune: bool,
    /// Draw a progress bar (only shown on a terminal).
    pub progress: bool,
    pub limits: Limits,
}

impl IngestOptions {
    pub fn new(sources: Vec<PathBuf>, data_dir: PathBuf) -> Self {
        IngestOptions { sources, data_dir, prune: false, progress: false, limits: Limits::default() }
    }
}

/// The report of one run (`--json` prints it as is).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub rejected: Vec<Rejection>,
    /// Every document marked 不予公开, whatever marked it (sidecar,
    /// catalog.csv row, export record, 附注): refused, never indexed. Named
    /// by path, and `path#n` for record n of a file holding several.
    pub withheld: Vec<String>,
    /// Files indexed with something the archivist should know.
    pub warnings: Vec<Rejection>,
}

/// A file and what is wrong with it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rejection {
    pub path: String,
    pub reason: String,
}

/// Identity of an indexed file: its source folder and path inside it.
type FileKey = (String, String);

/// Run one ingest.
pub fn run(options: &IngestOptions) -> Result<Summary> {
    let sources = options
        .sources
        .iter()
        .map(|s| s.canonicalize().ok().filter(|c| c.is_dir()).ok_or_else(|| Error::NoSource(s.clone())))
        .collect::<Result<Vec<_>>>()?;
    fs::create_dir_all(&options.data_dir).map_err(Error::io(format!("creating data folder {}", options.data_dir.display())))?;
    let _lock = lock(&options.data_dir)?;
    crate::analysis::init().map_err(Error::Analysis)?;
    let index = open_or_create(&options.data_dir)?;
    let fields = Fields::of(&index.schema());
    let before = index.reader()?.searcher();
    let known = indexed_files(&before)?;
    let mut writer: IndexWriter = index.writer(WRITER_HEAP_BYTES)?;
    let mut run = Run {
        fields,
        blobs: BlobStore::new(&options.data_dir),
        limits: options.limits.clone(),
        known,
        seen: HashSet::new(),
        summary: Summary::default(),
        catalogs: HashMap::new(),
        before,
        claimed: HashMap::new(),
    };
    for source in &sources {
        let files = walk(source, &mut run.summary);
        let bar = progress_bar(options.progress, files.len() as u64, source);
        let mut batch: Vec<Work> = Vec::new();
        let mut since_commit = 0;
        for (n, path) in files.iter().enumerate() {
            bar.inc(1);
            batch.extend(run.examine(source, path));
            let batch_bytes: usize = batch.iter().map(|w| w.bytes.len()).sum();
            if batch.len() >= BATCH_FILES || batch_bytes >= BATCH_BYTES || n + 1 == files.len() {
                since_commit += batch.len();
                run.apply(&mut writer, std::mem::take(&mut batch))?;
            }
            if since_commit >= COMMIT_EVERY {
                writer.commit()?;
                since_commit = 0;
            }
        }
        bar.finish_and_clear();
    }
    if options.prune {
        run.prune(&mut writer, &sources)?;
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    collect_garbage(&index, &run.blobs)?;
    // Unchanged files report their withheld records as they are walked,
    // changed ones when their batch is applied: list all in path order.
    run.summary.withheld.sort_by_cached_key(|name| {
        let record = name.rsplit_once('#').and_then(|(path, n)| Some((path.to_string(), n.parse::<usize>().ok()?)));
        record.unwrap_or_else(|| (name.clone(), 0))
    });
    Ok(run.summary)
}

/// Hold the data folder's ingest lock, or fail at once with a clear message.
fn lock(data_dir: &Path) -> Result<fs::File> {
    let path = data_dir.join("ingest.lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io(format!("opening {}", path.display())))?;
    // The OS releases the lock when the process dies, even by kill -9.
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(Error::Locked(data_dir.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(Error::io(format!("locking {}", path.display()))(e)),
    }
}

fn open_or_create(data_dir: &Path) -> Result<Index> {
    let dir = index_dir(data_dir);
    let existing = if dir.join("meta.json").exists() {
        Some(Index::open_in_dir(&dir).map_err(|source| Error::Index { path: dir.clone(), source })?)
    } else {
        None
    };
    // An index written with another schema is rebuilt from the sources:
    // every file then counts as added.
    if existing.as_ref().is_some_and(|index| index.schema() != build_schema()) {
        fs::remove_dir_all(&dir).map_err(Error::io(format!("removing outdated index {}", dir.display())))?;
    }
    let index = if let Some(index) = existing.filter(|index| index.schema() == build_schema()) {
        index
    } else {
        fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;
        let settings = IndexSettings {
            docstore_compression: Compressor::Zstd(ZstdCompressor { compression_level: Some(9) }),
            docstore_blocksize: 64 << 10,
            ..IndexSettings::default()
        };
        Index::builder().schema(build_schema()).settings(settings).create_in_dir(&dir)?
    };
    register_analyzer(&index);
    Ok(index)
}

/// What the index holds of a file: its fingerprint, the sha256 of the
/// originals its public documents serve (the file, or records of it), and
/// the names of its withheld records.
#[derive(Debug, Clone, PartialEq)]
struct Known {
    fingerprint: String,
    public_shas: Vec<String>,
    withheld: Vec<String>,
}

/// Every file already indexed, from the fast fields.
fn indexed_files(searcher: &Searcher) -> Result<HashMap<FileKey, Known>> {
    let mut known = HashMap::new();
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let columns = (fast.str("source")?, fast.str("path")?, fast.str("fingerprint")?, fast.str("sha256")?, fast.str("disclosure")?);
        let (Some(source), Some(path), Some(print), Some(sha), Some(disclosure)) = columns else {
            continue;
        };
        let withheld = fast.str("withheld")?;
        for doc in segment.doc_ids_alive() {
            let public = first_value(&disclosure, doc) == Disclosure::Public.as_str();
            let entry = known.entry((first_value(&source, doc), first_value(&path, doc))).or_insert(Known {
                fingerprint: first_value(&print, doc),
                public_shas: Vec::new(),
                withheld: Vec::new(),
            });
            for ord in withheld.iter().flat_map(|column| column.term_ords(doc)) {
                let mut name = String::new();
                let named = withheld.as_ref().is_some_and(|column| column.ord_to_str(ord, &mut name).unwrap_or(false));
                if named && !entry.withheld.contains(&name) {
                    entry.withheld.push(name);
                }
            }
            let sha = first_value(&sha, doc);
            if public && !sha.is_empty() && !entry.public_shas.contains(&sha) {
                entry.public_shas.push(sha);
            }
        }
    }
    Ok(known)
}

/// Every candidate file under `source`, sorted; walk errors (unreadable
/// folders, symlink loops) are reported and the walk goes on.
fn walk(source: &Path, summary: &mut Summary) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(source).follow_links(true).sort_by_file_name() {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let name = e.file_name().to_string_lossy();
                if !name.starts_with('.') && !name.ends_with(SIDECAR_SUFFIX) && name != CATALOG_CSV {
                    files.push(e.into_path());
                }
            }
            Ok(_) => {}
            Err(e) => {
                let path = e.path().map(|p| relative(source, p)).unwrap_or_default();
                let reason = if e.loop_ancestor().is_some() {
                    "symbolic link loop; not followed".to_string()
                } else {
                    format!("cannot read: {}", e.io_error().map(|io| io.to_string()).unwrap_or_else(|| e.to_string()))
                };
                summary.rejected.push(Rejection { path, reason });
            }
        }
    }
    files
}

fn progress_bar(enabled: bool, len: u64, source: &Path) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} files, {per_sec}, {eta} left") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(source.display().to_string());
    bar
}

/// `path` relative to `source`, `/`-separated.
fn relative(source: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(source).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// State of one run.
struct Run {
    fields: Fields,
    blobs: BlobStore,
    limits: Limits,
    known: HashMap<FileKey, Known>,
    seen: HashSet<FileKey>,
    summary: Summary,
    /// Parsed `catalog.csv` of each folder visited (None: the folder has none).
    catalogs: HashMap<PathBuf, Option<CatalogCsv>>,
    /// The index as it was when the run began: who holds an id.
    before: Searcher,
    /// Ids given in this run, and the path of the document given each.
    claimed: HashMap<String, String>,
}

/// What the catalog inputs of a file say, beside the file itself.
struct CatalogInputs {
    sidecar: Catalog,
    row: Catalog,
    /// Bytes that determine the catalog (for the fingerprint).
    raw: Vec<u8>,
}

impl CatalogInputs {
    /// The catalog data declared for the file: its sidecar over its row.
    fn declared(&self) -> Catalog {
        self.sidecar.clone().or(self.row.clone())
    }
}

/// A new or changed file, read and waiting to be extracted (or, when its
/// catalog inputs withhold it, neither read nor extracted).
struct Work {
    key: FileKey,
    rel: String,
    name: String,
    bytes: Vec<u8>,
    inputs: CatalogInputs,
    fingerprint: String,
}

/// What became of one record of a file.
enum Outcome {
    /// A document to index, and the id it asks for; the id is settled
    /// when the document is added ([`Run::claim`]).
    Indexed {
        id: String,
        doc: TantivyDocument,
    },
    Withheld(String),
}

/// A file after extraction: its documents, or why it was rejected.
struct Prepared {
    key: FileKey,
    rel: String,
    result: std::result::Result<Vec<Outcome>, String>,
    warnings: Vec<String>,
}

impl Run {
    /// Read one file and decide whether it needs work: `None` when it is
    /// unchanged or unreadable (then counted or rejected here).
    fn examine(&mut self, source: &Path, path: &Path) -> Option<Work> {
        let rel = relative(source, path);
        let key: FileKey = (source.to_string_lossy().to_string(), rel.clone());
        self.seen.insert(key.clone());
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let inputs = self.catalog_inputs(path, &rel);
        if inputs.declared().disclosure == Some(Disclosure::Withheld) {
            // Withheld whatever the file holds: it is listed as such even
            // when it could not be read, and nothing of it is extracted.
            return Some(Work { key, rel, name, bytes: Vec::new(), inputs, fingerprint: String::new() });
        }
        let bytes = match self.read(path) {
            Ok(bytes) => bytes,
            Err(reason) => {
                self.reject(&rel, reason);
                return None;
            }
        };
        let fingerprint = sha256_hex(&[FORMAT_VERSION.as_bytes(), &sha256_hex(&bytes).into_bytes(), &inputs.raw].concat());
        if let Some(known) = self.known.get(&key).filter(|k| k.fingerprint == fingerprint) {
            self.summary.unchanged += 1;
            self.summary.withheld.extend(known.withheld.iter().cloned());
            let wanted = known.public_shas.clone();
            if let Err(reason) = self.restore_originals(&name, &bytes, &wanted) {
                self.reject(&rel, format!("indexed, but its missing original could not be stored again: {reason}"));
            }
            return None;
        }
        Some(Work { key, rel, name, bytes, inputs, fingerprint })
    }

    /// Store again the originals of an unchanged file's public documents
    /// that are missing from the blob store (after a power loss, a deleted
    /// folder): the file itself, or its records re-read from it. Only bytes
    /// whose sha256 is one of `wanted` are stored.
    fn restore_originals(&self, name: &str, bytes: &[u8], wanted: &[String]) -> std::result::Result<(), String> {
        let missing: Vec<&String> = wanted.iter().filter(|sha| !self.blobs.contains(sha)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let file_sha = sha256_hex(bytes);
        let records = if missing.iter().all(|sha| **sha == file_sha) {
            Vec::new()
        } else {
            extract::extract(name, bytes, &self.limits).map_err(|e| e.to_string())?
        };
        let originals = std::iter::once(bytes).chain(records.iter().filter_map(|r| r.original.as_deref()));
        for original in originals {
            let sha = sha256_hex(original);
            if missing.contains(&&sha) {
                self.blobs.put(&sha, original).map_err(|e| e.to_string())?;
            }
        }
        match missing.iter().find(|sha| !self.blobs.contains(sha)) {
            Some(sha) => Err(format!("no record of the file has the sha256 {sha} any more")),
            None => Ok(()),
        }
    }

    /// Extract and analyze a batch on every core, then commit its outcome
    /// to the writer in file order: a changed file's old documents are
    /// deleted in the same commit that adds its new ones.
    fn apply(&mut self, writer: &mut IndexWriter, batch: Vec<Work>) -> Result<()> {
        let prepared = batch.into_par_iter().map(|work| self.prepare(work)).collect::<Result<Vec<Prepared>>>()?;
        for file in prepared {
            for warning in file.warnings {
                self.warn(&file.rel, warning);
            }
            let outcomes = match file.result {
                Ok(outcomes) => outcomes,
                Err(reason) => {
                    self.reject(&file.rel, reason);
                    continue;
                }
            };
            let was_indexed = self.known.contains_key(&file.key);
            writer.delete_query(self.file_query(&file.key))?;
            let withheld: Vec<String> = outcomes
                .iter()
                .filter_map(|o| match o {
                    Outcome::Withheld(name) => Some(name.clone()),
                    Outcome::Indexed { .. } => None,
                })
                .collect();
            let mut indexed = 0;
            for outcome in outcomes {
                if let Outcome::Indexed { id, mut doc } = outcome {
                    doc.add_text(self.fields.id, self.claim(&file.key, id));
                    for name in &withheld {
                        doc.add_text(self.fields.withheld, name);
                    }
                    writer.add_document(doc)?;
                    indexed += 1;
                }
            }
            self.summary.withheld.extend(withheld);
            match (was_indexed, indexed > 0) {
                (true, true) => self.summary.updated += 1,
                (true, false) => self.summary.removed += 1,
                (false, true) => self.summary.added += 1,
                (false, false) => {}
            }
        }
        Ok(())
    }

    /// Extract one file's records, settle their catalog data, store the
    /// original of public ones and build their index documents.
    ///
    /// No byte of a withheld document, nor of the text of an on_request
    /// one, reaches the blob store: a record of an export is stored as
    /// itself, never as the export; a file holding several documents is
    /// stored as their original only when every one of them is public.
    fn prepare(&self, work: Work) -> Result<Prepared> {
        let declared = work.inputs.declared();
        let prepared = |result, warnings| Ok(Prepared { key: work.key.clone(), rel: work.rel.clone(), result, warnings });
        if declared.disclosure == Some(Disclosure::Withheld) {
            return prepared(Ok(vec![Outcome::Withheld(work.rel.clone())]), Vec::new());
        }
        let records = match extract::extract(&work.name, &work.bytes, &self.limits) {
            Ok(records) => records,
            Err(e) => return prepared(Err(e.to_string()), Vec::new()),
        };
        let catalogs: Vec<Catalog> = records
            .iter()
            .map(|r| {
                let catalog = declared.clone().or(r.catalog.clone());
                catalog.or(catalog::from_text(&r.text)).or(catalog::from_path(&work.rel))
            })
            .collect();
        let is_public = |c: &Catalog| c.disclosure.unwrap_or(Disclosure::Public) == Disclosure::Public;
        let file_shareable = catalogs.iter().all(is_public);
        let file_sha = sha256_hex(&work.bytes);
        let many = records.len() > 1;
        let mut warnings = Vec::new();
        let mut outcomes = Vec::new();
        for (n, (record, catalog)) in records.into_iter().zip(catalogs).enumerate() {
            let name = record_name(&work.rel, many.then(|| record.number.unwrap_or(n + 1)));
            warnings.extend(record.warnings.iter().cloned());
            if catalog.disclosure == Some(Disclosure::Withheld) {
                outcomes.push(Outcome::Withheld(name));
                continue;
            }
            let public = is_public(&catalog);
            let (sha, original) = match &record.original {
                Some(own) => (sha256_hex(own), Some(own.as_slice())),
                None if file_shareable => (file_sha.clone(), Some(work.bytes.as_slice())),
                None => (String::new(), None),
            };
            if public && original.is_none() {
                warnings
                    .push(format!("{name}: its original is not served (only its text): the file also holds documents that are not public"));
            }
            if let Some(original) = original.filter(|_| public) {
                self.blobs.put(&sha, original)?;
            }
            // The text can be re-read from the original only when that is the file itself.
            let encoding = record.encoding.filter(|_| record.original.is_none() && original.is_some());
            let id = catalog.id.clone().unwrap_or_else(|| derived_id(&name));
            let stored = Stored {
                sha: &sha,
                bytes: original.map_or(0, |o| o.len() as u64),
                fingerprint: &work.fingerprint,
                name: &work.name,
                encoding,
            };
            outcomes.push(Outcome::Indexed { id, doc: self.document(&work.key, &stored, &catalog, &record, public) });
        }
        prepared(Ok(outcomes), warnings)
    }

    fn read(&self, path: &Path) -> std::result::Result<Vec<u8>, String> {
        let size = fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?.len();
        if size > self.limits.max_file_bytes {
            return Err(extract::ExtractError::TooLarge { size, limit: self.limits.max_file_bytes }.to_string());
        }
        let bytes = fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
        if bytes.is_empty() {
            return Err("empty file (0 bytes)".into());
        }
        Ok(bytes)
    }

    /// The id a document of `key` gets: the one it asks for, unless a
    /// document of another file had it before this run, or any document
    /// took it in this run (the same path in two source folders, two
    /// sidecars declaring one id). It then gets an id derived from its
    /// source folder, path and the id it asked for, stable from run to
    /// run, and the archivist is told.
    fn claim(&mut self, key: &FileKey, wanted: String) -> String {
        let holder = |run: &Run, id: &str| run.claimed.get(id).cloned().or_else(|| run.other_holder_before(id, key));
        let Some(first_holder) = holder(self, &wanted) else {
            self.claimed.insert(wanted.clone(), key.1.clone());
            return wanted;
        };
        let seed = format!("{}\u{0}{}\u{0}{wanted}", key.0, key.1);
        let mut id = derived_id(&seed);
        for attempt in 1.. {
            if holder(self, &id).is_none() {
                break;
            }
            id = derived_id(&record_name(&seed, Some(attempt)));
        }
        self.warn(&key.1, format!("id {wanted} is already used by {first_holder}; this document was given id {id}"));
        self.claimed.insert(id.clone(), key.1.clone());
        id
    }

    /// The path of a file other than `key` that held `id` when the run
    /// began. Every holder is looked at: an index written before ids were
    /// checked may hold one id twice, once for `key` itself.
    fn other_holder_before(&self, id: &str, key: &FileKey) -> Option<String> {
        let query = TermQuery::new(Term::from_field_text(self.fields.id, id), IndexRecordOption::Basic);
        let holders = self.before.search(&query, &DocSetCollector).ok()?;
        holders.into_iter().find_map(|address| {
            let fast = self.before.segment_reader(address.segment_ord).fast_fields();
            let (source, path) = (fast.str("source").ok()??, fast.str("path").ok()??);
            let holder = (first_value(&source, address.doc_id), first_value(&path, address.doc_id));
            (holder != *key).then_some(holder.1)
        })
    }

    fn reject(&mut self, path: &str, reason: String) {
        self.summary.rejected.push(Rejection { path: path.to_string(), reason });
    }

    fn warn(&mut self, path: &str, reason: String) {
        self.summary.warnings.push(Rejection { path: path.to_string(), reason });
    }

    /// The sidecar and catalog.csv row of a file, with problems reported.
    /// A sidecar or catalog.csv that exists but cannot be read withholds
    /// the files it describes: it may be what withholds them.
    fn catalog_inputs(&mut self, path: &Path, rel: &str) -> CatalogInputs {
        let mut raw = Vec::new();
        let sidecar_path = PathBuf::from(format!("{}{SIDECAR_SUFFIX}", path.display()));
        let sidecar_rel = format!("{rel}{SIDECAR_SUFFIX}");
        let sidecar = match read_if_present(&sidecar_path) {
            Ok(Some(bytes)) => {
                let parsed = catalog::parse_sidecar(&bytes);
                for problem in parsed.problems {
                    self.warn(&sidecar_rel, problem);
                }
                raw.extend_from_slice(&bytes);
                parsed.catalog
            }
            Ok(None) => Catalog::default(),
            Err(reason) => {
                self.warn(&sidecar_rel, format!("{reason}; the file is withheld until its sidecar can be read"));
                withheld()
            }
        };
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let row = self.folder_catalog(path, rel).map(|csv| csv.row(&name)).unwrap_or_default();
        raw.extend_from_slice(format!("{row:?}").as_bytes());
        CatalogInputs { sidecar, row, raw }
    }

    /// The catalog.csv of the folder holding `path`, read once; its
    /// problems are reported then.
    fn folder_catalog(&mut self, path: &Path, rel: &str) -> Option<&CatalogCsv> {
        let folder = path.parent()?.to_path_buf();
        if !self.catalogs.contains_key(&folder) {
            let csv_rel = match rel.rsplit_once('/') {
                Some((dir, _)) => format!("{dir}/{CATALOG_CSV}"),
                None => CATALOG_CSV.to_string(),
            };
            let csv = match read_if_present(&folder.join(CATALOG_CSV)) {
                Ok(Some(bytes)) => Some(catalog::read_catalog_csv(&bytes)),
                Ok(None) => None,
                Err(reason) => Some(CatalogCsv {
                    others: withheld(),
                    problems: vec![format!("{reason}; every file of its folder is withheld until it can be read")],
                    ..CatalogCsv::default()
                }),
            };
            for problem in csv.iter().flat_map(|csv| csv.problems.clone()) {
                self.warn(&csv_rel, problem);
            }
            self.catalogs.insert(folder.clone(), csv);
        }
        self.catalogs.get(&folder)?.as_ref()
    }

    /// Documents of one file: its source and path.
    fn file_query(&self, key: &FileKey) -> Box<dyn Query> {
        let term = |field, value: &str| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic)))
        };
        Box::new(BooleanQuery::new(vec![term(self.fields.source, &key.0), term(self.fields.path, &key.1)]))
    }

    fn document(&self, key: &FileKey, stored: &Stored, catalog: &Catalog, record: &Record, public: bool) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::new();
        let title = catalog.title.clone().unwrap_or_else(|| stored.name.to_string());
        let disclosure = catalog.disclosure.unwrap_or(Disclosure::Public);
        let date = catalog.published_date.as_ref().or(catalog.written_date.as_ref());
        doc.add_text(f.source, &key.0);
        doc.add_text(f.path, &key.1);
        add_analyzed(&mut doc, f.title, Some(f.title_words), &title);
        doc.add_text(f.title_raw, &title);
        let meta: Vec<&str> = [&catalog.doc_number, &catalog.index_no, &catalog.publisher, &catalog.category]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        add_analyzed(&mut doc, f.meta, None, &meta.join("\n"));
        if public {
            add_analyzed(&mut doc, f.body, Some(f.body_words), &record.text);
            match stored.encoding {
                Some(encoding) => doc.add_text(f.text_encoding, encoding),
                None => doc.add_text(f.text, &record.text),
            }
        }
        let optional = [
            (f.doc_number, &catalog.doc_number),
            (f.index_no, &catalog.index_no),
            (f.category, &catalog.category),
            (f.validity, &catalog.validity),
            (f.written_date, &catalog.written_date),
            (f.published_date, &catalog.published_date),
        ];
        for (field, value) in optional {
            if let Some(value) = value {
                doc.add_text(field, value);
            }
        }
        for publisher in catalog.publisher.iter().flat_map(|p| catalog::split_publishers(p)) {
            doc.add_text(f.publisher, publisher);
        }
        for key in catalog.doc_number.iter().flat_map(|n| catalog::doc_number_keys(n)) {
            doc.add_text(f.doc_number_key, key);
        }
        if let Some(n) = &catalog.index_no {
            doc.add_text(f.index_no_key, catalog::normalize_doc_number(n));
        }
        if let Some(date) = date {
            doc.add_text(f.year, &date[..4]);
        }
        doc.add_u64(f.date, date.map(|d| date_key(d)).unwrap_or(0));
        doc.add_text(f.disclosure, disclosure.as_str());
        doc.add_text(f.format, extract::extension_of(stored.name));
        doc.add_u64(f.bytes, stored.bytes);
        doc.add_text(f.sha256, stored.sha);
        doc.add_text(f.fingerprint, stored.fingerprint);
        doc
    }

    /// Delete the documents of files gone from the walked sources.
    fn prune(&mut self, writer: &mut IndexWriter, sources: &[PathBuf]) -> Result<()> {
        let walked: HashSet<String> = sources.iter().map(|s| s.to_string_lossy().to_string()).collect();
        let gone: Vec<FileKey> = self.known.keys().filter(|k| walked.contains(&k.0) && !self.seen.contains(*k)).cloned().collect();
        for key in gone {
            writer.delete_query(self.file_query(&key))?;
            self.summary.removed += 1;
        }
        Ok(())
    }
}

/// What a document records about the file it came from.
struct Stored<'a> {
    /// sha256 of the document's original ("" when none is served).
    sha: &'a str,
    /// Size of that original.
    bytes: u64,
    fingerprint: &'a str,
    name: &'a str,
    /// Encoding that turns the original into the text, when it does.
    encoding: Option<&'static str>,
}

/// Add text to a document's atoms field and, when given, its words field
/// (tantivy analyzes both; the analyzer segments the text once for the two).
fn add_analyzed(doc: &mut TantivyDocument, atoms: Field, words: Option<Field>, text: &str) {
    doc.add_text(atoms, text);
    if let Some(words) = words {
        doc.add_text(words, text);
    }
}

/// The bytes of a catalog input file, `None` when there is none (or there
/// can be none: the name of a long file's sidecar may be too long to exist).
fn read_if_present(path: &Path) -> std::result::Result<Option<Vec<u8>>, String> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || fs::symlink_metadata(path).is_err() => Ok(None),
        Err(e) => Err(format!("cannot read: {e}")),
    }
}

/// The catalog of a document that must not be indexed.
fn withheld() -> Catalog {
    Catalog { disclosure: Some(Disclosure::Withheld), ..Catalog::default() }
}

/// How a document is named in the report: its path, and `#n` for record
/// n of a file holding several.
fn record_name(rel: &str, record: Option<usize>) -> String {
    match record {
        Some(n) => format!("{rel}#{n}"),
        None => rel.to_string(),
    }
}

/// A stable id from a document's [`record_name`].
fn derived_id(name: &str) -> String {
    sha256_hex(name.as_bytes())[..16].to_string()
}

/// Remove originals no public document references any more (and leftovers
/// of a killed run): an original that became 依申请公开 leaves the folder the
/// server reads. Runs after the commit, so a blob is never missing.
fn collect_garbage(index: &Index, blobs: &BlobStore) -> Result<()> {
    let searcher = index.reader()?.searcher();
    let mut keep = HashSet::new();
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let (Some(column), Some(disclosure)) = (fast.str("sha256")?, fast.str("disclosure")?) else { continue };
        let public_ords = ords_where(&disclosure, |value| value == Disclosure::Public.as_str());
        for doc in segment.doc_ids_alive() {
            if !disclosure.term_ords(doc).any(|o| public_ords.contains(&o)) {
                continue;
            }
            for ord in column.term_ords(doc) {
                let mut sha = String::new();
                if column.ord_to_str(ord, &mut sha).unwrap_or(false) {
                    keep.insert(sha);
                }
            }
        }
    }
    blobs.retain(&keep)?;
    Ok(())
}
