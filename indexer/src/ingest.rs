//! `indexer ingest`: walk source folders, extract what changed, and commit
//! it to the data folder so that a search server sees it.
//!
//! What changed: each document holds the stamp of its file (what `stat`
//! says of the file and its sidecar, and its catalog.csv row) and the
//! fingerprint of what it was built from. A file whose stamp is unchanged
//! is not read; one whose stamp changed is read and hashed, and
//! re-extracted unless its fingerprint is unchanged too (then it is only
//! re-indexed to keep its new stamp). `--verify` reads every file. The
//! walk and the index's path terms come in the same order, so a run
//! compares them in one pass and holds nothing per file.
//!
//! Safety: one ingest at a time (a lock file); blobs are written and
//! synced before the commit that references them; a changed file's old
//! documents are deleted in the same commit that adds the new ones, so a
//! run killed at any moment leaves the last commit intact and the next run
//! finishes the work with every file present exactly once.

mod indexed;
mod walk;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use tantivy::collector::{Count, DocSetCollector};
use tantivy::index::{SegmentId, SegmentMeta};
use tantivy::indexer::{IndexWriterOptions, LogMergePolicy, MergeCandidate, MergePolicy, NoMergePolicy};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::{Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::catalog::{self, Catalog, CatalogCsv, Disclosure};
use crate::directory::{is_refused, IndexDirectory, Reads};
use crate::error::{Error, Result};
use crate::extract::{self, Limits, Record};
use crate::schema::{build_schema, commit, date_key, first_value, index_dir, is_current, register_analyzer, Fields, FORMAT_VERSION};
use crate::store::{is_held, removal_lock, sha256_hex, BlobStore, KEPT_WITH_DOCUMENT};
use crate::withdrawal::{self, catalog_hash, stored_text_sha256, RecordKey, Withdrawal, Withdrawals};
use indexed::{IndexedFile, PathIndex};
use walk::{Folder, Found, FoundFile};

/// Memory tantivy may use for its in-progress segments, all threads together.
const WRITER_HEAP_BYTES: usize = 256 << 20;
/// The most documents one merge reads. Segments of half this many
/// documents or more are not merged again: 10⁶ notices end in about 5
/// segments (with [`merge_tail`]). A merge reads its inputs term by term
/// ([`Reads::Everything`]): a first ingest of 10⁶ notices, its merges
/// and tail included, peaked at 957 MB resident (2 cores).
const MERGE_MAX_DOCS: u32 = 350_000;
/// Time between intermediate commits, so an interrupted run keeps its
/// progress. Each commit ends the segments being written: committing every
/// 2,000 files made an archive of 10⁶ a thousand small segments that
/// merging then rewrote again and again.
const COMMIT_EVERY: Duration = Duration::from_secs(60);
/// Files extracted and analyzed in parallel at a time, and the most bytes
/// such a batch may hold (this bounds the memory of a run).
const BATCH_FILES: usize = 64;
const BATCH_BYTES: u64 = 64 << 20;
/// Suffix of a sidecar file of catalog data.
const SIDECAR_SUFFIX: &str = ".meta.json";
/// A folder's catalog of its files.
const CATALOG_CSV: &str = "catalog.csv";
/// Present in the data folder while a run is under way: the next run
/// finds it when one was killed.
const UNFINISHED: &str = "ingest.unfinished";

/// What to ingest where.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub sources: Vec<PathBuf>,
    pub data_dir: PathBuf,
    /// Remove documents whose files are gone from the walked sources.
    pub prune: bool,
    /// Read and hash every file, even those the file system says are
    /// unchanged; store again missing originals; look at every blob.
    pub verify: bool,
    /// Draw a progress bar (only shown on a terminal).
    pub progress: bool,
    pub limits: Limits,
}

impl IngestOptions {
    pub fn new(sources: Vec<PathBuf>, data_dir: PathBuf) -> Self {
        IngestOptions { sources, data_dir, prune: false, verify: false, progress: false, limits: Limits::default() }
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
    /// The index another version wrote was rebuilt from the sources: every
    /// file counts as added.
    pub rebuilt: bool,
}

/// A file and what is wrong with it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rejection {
    pub path: String,
    pub reason: String,
}

/// Why a record is not indexed although its own file has no withdrawal:
/// its original, with the same catalog data, was withdrawn elsewhere.
fn held_by_copy_note(name: &str, withdrawal: &Withdrawal) -> String {
    format!(
        "{name} is not indexed: it is the original withdrawn as {} ({}), which stays down wherever it is found while that \
         withdrawal is in force (`indexer withdraw --undo {}` ends it)",
        withdrawal.id, withdrawal.path, withdrawal.id
    )
}

/// Identity of an indexed file: its source folder and path inside it.
type FileKey = (String, String);

/// Run one ingest.
pub fn run(options: &IngestOptions) -> Result<Summary> {
    let mut sources = Vec::new();
    for source in &options.sources {
        let folder = source.canonicalize().ok().filter(|c| c.is_dir()).ok_or_else(|| Error::NoSource(source.clone()))?;
        if !sources.contains(&folder) {
            sources.push(folder);
        }
    }
    fs::create_dir_all(&options.data_dir).map_err(Error::io(format!("creating data folder {}", options.data_dir.display())))?;
    let _lock = lock(&options.data_dir)?;
    crate::analysis::init().map_err(Error::Analysis)?;
    let (index, rebuild, dropped) = open_or_create(&options.data_dir, &sources, options.prune)?;
    // A run that did not get to its end may have left blobs nothing
    // references: the next one looks at every blob, as does a rebuild.
    let unfinished = options.data_dir.join(UNFINISHED);
    let sweep = options.verify || unfinished.exists() || rebuild.is_some();
    fs::write(&unfinished, b"").map_err(Error::io(format!("writing {}", unfinished.display())))?;
    let withdrawals = Withdrawals::load(&options.data_dir)?;
    let finished = match rebuild {
        None => withdrawal::finish_interrupted(&index, &options.data_dir, &withdrawals)?,
        Some(_) => Vec::new(),
    };
    let start = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map(|r: IndexReader| r.searcher())?;
    let paths = PathIndex::open(&start, &Fields::of(&index.schema()))?;
    let mut writer = open_writer(&index, writer_options()?)?;
    writer.set_merge_policy(Box::new(BoundedMerges::default()));
    let mut run = Run {
        fields: Fields::of(&index.schema()),
        blobs: BlobStore::new(&options.data_dir),
        limits: options.limits.clone(),
        verify: options.verify,
        summary: Summary::default(),
        catalogs: HashMap::new(),
        index: index.clone(),
        before: start.clone(),
        committed: Instant::now(),
        claims: Claims::default(),
        released: Vec::new(),
        withdrawals,
        withdrawals_changed: false,
    };
    run.summary.warnings.extend(finished.into_iter().map(|w| Rejection {
        path: w.name,
        reason: format!(
            "the withdrawal of {} had stopped before its end; it is finished now (record deleted and purged from the index files)",
            w.id
        ),
    }));
    for source in &sources {
        let source_key = source.to_string_lossy().to_string();
        let mut indexed = paths.files_of(&source_key)?;
        let bar = progress_bar(options.progress, source);
        let mut batch: Vec<Work> = Vec::new();
        let mut gone = Vec::new();
        for found in walk::walk(source) {
            let file = match found {
                Found::File(file) => file,
                Found::Unreadable(rejection) => {
                    run.summary.rejected.push(rejection);
                    continue;
                }
            };
            bar.inc(1);
            let old = indexed.take(&file.rel, |file| gone.extend(options.prune.then_some(file)))?;
            run.prune(&mut writer, &source_key, std::mem::take(&mut gone))?;
            batch.extend(run.examine(&source_key, file, old));
            let batch_bytes: u64 = batch.iter().map(|w| w.size).sum();
            if batch.len() >= BATCH_FILES || batch_bytes >= BATCH_BYTES {
                run.apply(&mut writer, std::mem::take(&mut batch))?;
            }
            if run.committed.elapsed() >= COMMIT_EVERY {
                run.commit(&mut writer)?;
            }
        }
        run.apply(&mut writer, batch)?;
        indexed.rest(|file| gone.extend(options.prune.then_some(file)))?;
        run.prune(&mut writer, &source_key, gone)?;
        bar.finish_and_clear();
    }
    run.commit(&mut writer)?;
    writer.wait_merging_threads()?;
    merge_tail(&index, &start.segment_readers().iter().map(|r| r.segment_id()).collect())?;
    let index = match rebuild {
        Some(aside) => {
            run.summary.removed += dropped + not_carried_over(&options.data_dir, &run.summary, options.prune)?;
            run.index = swap_in(&options.data_dir, &aside)?;
            run.summary.rebuilt = true;
            run.index.clone()
        }
        None => index,
    };
    run.collect_garbage(sweep)?;
    if run.withdrawals_changed {
        run.withdrawals.save(&options.data_dir)?;
    }
    let walked: Vec<String> = sources.iter().map(|s| s.to_string_lossy().to_string()).collect();
    // A withdrawal whose record is published as corrected holds nothing
    // down. The index is looked at only when some withdrawal is listed.
    let mut withdrawn = Vec::new();
    let listed: Vec<&Withdrawal> = run.withdrawals.active().filter(|w| walked.contains(&w.source)).collect();
    if !listed.is_empty() {
        let searcher = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map(|r: IndexReader| r.searcher())?;
        let id_field = Fields::of(&index.schema()).id;
        // Live documents only: a deleted one keeps its terms until a merge.
        for w in listed {
            let holders = TermQuery::new(Term::from_field_text(id_field, &w.id), IndexRecordOption::Basic);
            if searcher.search(&holders, &Count)? == 0 {
                withdrawn.push(w.name.clone());
            }
        }
    }
    run.summary.withheld.extend(withdrawn);
    fs::remove_file(&unfinished).map_err(Error::io(format!("removing {}", unfinished.display())))?;
    // Unchanged files report their withheld records as they are walked,
    // changed ones when their batch is applied: list all in path order.
    run.summary.withheld.sort_by_cached_key(|name| {
        let record = name.rsplit_once('#').and_then(|(path, n)| Some((path.to_string(), n.parse::<usize>().ok()?)));
        record.unwrap_or_else(|| (name.clone(), 0))
    });
    Ok(run.summary)
}

/// One indexing thread per core sharing [`WRITER_HEAP_BYTES`], and one
/// merge at a time: each merge maps the pages it reads.
fn writer_options() -> Result<IndexWriterOptions> {
    let cores = std::thread::available_parallelism().map_err(Error::io("counting cores"))?.get().min(8);
    Ok(IndexWriterOptions::builder()
        .num_worker_threads(cores)
        .memory_budget_per_thread(WRITER_HEAP_BYTES / cores)
        .num_merge_threads(1)
        .build())
}

/// Tantivy's log merge policy, with no merge reading more than
/// [`MERGE_MAX_DOCS`] documents.
#[derive(Debug)]
struct BoundedMerges(LogMergePolicy);

impl Default for BoundedMerges {
    fn default() -> Self {
        let mut policy = LogMergePolicy::default();
        policy.set_max_docs_before_merge(MERGE_MAX_DOCS as usize / 2);
        BoundedMerges(policy)
    }
}

impl MergePolicy for BoundedMerges {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        let docs: HashMap<SegmentId, u32> = segments.iter().map(|s| (s.id(), s.num_docs())).collect();
        let sized = |ids: Vec<SegmentId>| ids.into_iter().map(|id| (id, docs.get(&id).copied().unwrap_or(0))).collect();
        self.0
            .compute_merge_candidates(segments)
            .into_iter()
            .flat_map(|candidate| bounded(sized(candidate.0)))
            .map(MergeCandidate)
            .collect()
    }
}

/// `segments` (ids with their numbers of documents) in runs of two or
/// more that hold at most [`MERGE_MAX_DOCS`] documents together, in order.
fn bounded(segments: Vec<(SegmentId, u32)>) -> Vec<Vec<SegmentId>> {
    let mut groups: Vec<(Vec<SegmentId>, u32)> = vec![(Vec::new(), 0)];
    for (id, n) in segments {
        if groups.last().is_some_and(|(_, total)| total + n > MERGE_MAX_DOCS) {
            groups.push((Vec::new(), 0));
        }
        if let Some((ids, total)) = groups.last_mut() {
            ids.push(id);
            *total += n;
        }
    }
    groups.into_iter().map(|(ids, _)| ids).filter(|ids| ids.len() > 1).collect()
}

/// Merge the segments a run wrote that the merge policy left small (its
/// levels leave a tail of them, a dozen after 10⁶ notices): each segment
/// costs every search a look-up of every term, and one tail of a few
/// 10⁵ notices costs less than a dozen. A run that adds one file writes
/// one segment and merges nothing. Segments of `before` (the commit the
/// run started from) are left as they are.
fn merge_tail(index: &Index, before: &HashSet<SegmentId>) -> Result<()> {
    // Ids and sizes only: a `SegmentMeta` held here would keep its files
    // alive through the garbage collection below.
    let mut small: Vec<(SegmentId, u32)> = index
        .searchable_segment_metas()?
        .into_iter()
        .filter(|m| !before.contains(&m.id()) && m.num_docs() < MERGE_MAX_DOCS / 2)
        .map(|m| (m.id(), m.num_docs()))
        .collect();
    small.sort_by_key(|&(_, docs)| docs);
    let groups = bounded(small);
    if groups.is_empty() {
        return Ok(());
    }
    let mut writer = maintenance_writer(index)?;
    for group in groups {
        writer.merge(&group).wait()?;
    }
    // The merged segments' files go now, not at the next run's commit.
    writer.garbage_collect_files().wait()?;
    Ok(writer.wait_merging_threads()?)
}

/// A writer for work on the segments an ingest wrote (deleting, merging):
/// one thread, a small heap, no merge but those asked for.
pub(crate) fn maintenance_writer(index: &Index) -> Result<IndexWriter> {
    let options =
        IndexWriterOptions::builder().num_worker_threads(1).memory_budget_per_thread(MAINTENANCE_WRITER_BYTES).num_merge_threads(1).build();
    let writer = open_writer(index, options)?;
    writer.set_merge_policy(Box::new(NoMergePolicy));
    Ok(writer)
}

/// A writer on `index`, once the files a process killed before its commit
/// left behind (registered in `.managed.json`, named by no commit) are
/// removed. The delete file of a killed commit has the name the next
/// commit's would have (the same segment and opstamp), and tantivy refuses
/// to write over it (`FileAlreadyExists`): every later ingest and
/// withdrawal failed, and a withdrawal killed in its first milliseconds
/// left its document public.
fn open_writer(index: &Index, options: IndexWriterOptions) -> Result<IndexWriter> {
    let writer: IndexWriter = index.writer_with_options(options)?;
    writer.garbage_collect_files().wait()?;
    Ok(writer)
}

/// The heap of a [`maintenance_writer`]: it adds no document.
const MAINTENANCE_WRITER_BYTES: usize = 32 << 20;

/// Hold the data folder's ingest lock shared until the returned file is
/// dropped, for a command that reads the folder and must see it still
/// (the exports): [`lock`] is refused meanwhile, other readers are not.
/// Where this process may not write, the lock is taken through a
/// read-only handle (a `flock` needs no write access); a folder without
/// `ingest.lock` that cannot have one (a read-only replica) has no writer
/// on this machine and is read without it (`None`). Errors:
/// [`Error::Locked`] while a writer holds it.
pub fn read_lock(data_dir: &Path) -> Result<Option<fs::File>> {
    let path = data_dir.join(INGEST_LOCK);
    let file = match open_lock_file(&path) {
        Err(e) if is_refused(&e) => match fs::File::open(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            opened => opened,
        },
        opened => opened,
    };
    let file = file.map_err(Error::io(format!("opening {}", path.display())))?;
    held(data_dir, &path, file.try_lock_shared(), file).map(Some)
}

/// Hold the data folder's ingest lock (`ingest.lock`) until the returned
/// file is dropped, or fail at once with [`Error::Locked`]. Everything that
/// writes a data folder holds it; the exports hold it shared
/// ([`read_lock`]), so that no export carries a record a withdrawal took
/// down while it ran.
pub fn lock(data_dir: &Path) -> Result<fs::File> {
    let path = data_dir.join(INGEST_LOCK);
    let file = open_lock_file(&path).map_err(Error::io(format!("opening {}", path.display())))?;
    // The OS releases the lock when the process dies, even by kill -9.
    held(data_dir, &path, file.try_lock(), file)
}

/// The data folder's lock file, beside its index.
const INGEST_LOCK: &str = "ingest.lock";

/// The lock file at `path`, opened for writing and made when missing.
fn open_lock_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)
}

/// `file` once `tried` (its `try_lock` or `try_lock_shared`) got the lock.
fn held(data_dir: &Path, path: &Path, tried: std::result::Result<(), fs::TryLockError>, file: fs::File) -> Result<fs::File> {
    match tried {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(Error::Locked(data_dir.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(Error::io(format!("locking {}", path.display()))(e)),
    }
}

/// Open the index of a data folder an ingest wrote, to change it.
/// Errors: [`Error::NoIndex`] when there is none yet, [`Error::OldFormat`]
/// when another version wrote it.
pub(crate) fn open_existing(data_dir: &Path) -> Result<Index> {
    let dir = index_dir(data_dir);
    if !dir.join("meta.json").exists() {
        return Err(Error::NoIndex(data_dir.to_path_buf()));
    }
    let index = open_index(&dir)?;
    if !is_current(&index)? {
        return Err(Error::OldFormat(data_dir.to_path_buf()));
    }
    register_analyzer(&index);
    Ok(index)
}

/// The existing index in folder `dir`.
fn open_index(dir: &Path) -> Result<Index> {
    Index::open(ingest_directory(dir)?).map_err(|source| Error::Index { path: dir.to_path_buf(), source })
}

/// Folder `dir` as an ingest reads and writes it: every file with
/// positioned reads ([`Reads::Everything`]).
fn ingest_directory(dir: &Path) -> Result<IndexDirectory> {
    IndexDirectory::open(dir, Reads::Everything).map_err(|e| Error::Index { path: dir.to_path_buf(), source: e.into() })
}

/// The index an ingest writes into, where it stands when it is a rebuild,
/// and how many documents of the old index the rebuild drops. An index
/// another version wrote is rebuilt beside the data folder's (in
/// [`REBUILD_DIR`]) from `sources`, which must hold the file of every
/// document it has unless `prune` ([`Error::RebuildWouldLose`]): readers
/// keep refusing the old index, and an interrupted rebuild leaves it as it
/// was, until [`swap_in`] puts the new one in its place.
fn open_or_create(data_dir: &Path, sources: &[PathBuf], prune: bool) -> Result<(Index, Option<PathBuf>, usize)> {
    let dir = index_dir(data_dir);
    let aside = data_dir.join(REBUILD_DIR);
    let existing = if dir.join("meta.json").exists() { Some(open_index(&dir)?) } else { None };
    let Some(old) = existing else { return Ok((create_index(&dir)?, None, 0)) };
    if aside.exists() {
        // An interrupted rebuild, or the old index a killed run had begun
        // to remove after the exchange.
        fs::remove_dir_all(&aside).map_err(Error::io(format!("removing an interrupted rebuild {}", aside.display())))?;
    }
    if is_current(&old)? {
        register_analyzer(&old);
        return Ok((old, None, 0));
    }
    let given: Vec<String> = sources.iter().map(|s| s.to_string_lossy().to_string()).collect();
    let lost = lost_in_rebuild(&old, &given)?;
    if !lost.is_empty() && !prune {
        return Err(Error::RebuildWouldLose {
            data: data_dir.to_path_buf(),
            count: lost.len(),
            examples: lost.into_iter().take(3).collect(),
        });
    }
    Ok((create_index(&aside)?, Some(aside), lost.len()))
}

/// Where an index another version wrote is rebuilt, in the data folder.
const REBUILD_DIR: &str = "index.rebuild";

/// A new, empty index in folder `dir`.
fn create_index(dir: &Path) -> Result<Index> {
    fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let settings = IndexSettings {
        // Level 6 compresses short Chinese originals within 2% of
        // level 9 at less than half its time.
        docstore_compression: Compressor::Zstd(ZstdCompressor { compression_level: Some(6) }),
        docstore_blocksize: 64 << 10,
        ..IndexSettings::default()
    };
    let index = Index::create(ingest_directory(dir)?, build_schema(), settings)?;
    register_analyzer(&index);
    Ok(index)
}

/// The files (`source/path`) of the documents of `index` that are not in
/// the folders `given`, read from the terms of its `source` and `path`
/// fields (term dictionaries and postings every version reads alike);
/// none when its schema has no such fields.
fn lost_in_rebuild(index: &Index, given: &[String]) -> Result<Vec<String>> {
    let schema = index.schema();
    let (Ok(source), Ok(path)) = (schema.get_field("source"), schema.get_field("path")) else { return Ok(Vec::new()) };
    let searcher = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map(|r: IndexReader| r.searcher())?;
    let mut lost = std::collections::BTreeSet::new();
    for segment in searcher.segment_readers() {
        let mut sources: Vec<String> = Vec::new();
        let mut source_of = vec![None; segment.max_doc() as usize];
        each_term_docs(segment, source, |term, doc| {
            if sources.last().is_none_or(|last| last != term) {
                sources.push(term.to_string());
            }
            source_of[doc as usize] = Some(sources.len() - 1);
        })?;
        each_term_docs(segment, path, |rel, doc| {
            let Some(folder) = source_of[doc as usize].map(|n| &sources[n]) else { return };
            if segment.is_deleted(doc) {
                return;
            }
            if !given.contains(folder) || !Path::new(folder).join(rel).is_file() {
                lost.insert(format!("{folder}/{rel}"));
            }
        })?;
    }
    Ok(lost.into_iter().collect())
}

/// How many documents of the old index (still the data folder's) a
/// rebuild that `summary` reports leaves out though their files are there:
/// those of files now withheld, which an ingest counts as removed, and
/// those of files now rejected (damaged, unreadable), which an ingest
/// keeps but a rebuild cannot. The latter only with `prune`, else
/// [`Error::RebuildWouldLose`], and the old index stays in place.
fn not_carried_over(data_dir: &Path, summary: &Summary, prune: bool) -> Result<usize> {
    let old = open_index(&index_dir(data_dir))?;
    let file = |name: &str| name.split_once('#').map_or(name, |(path, _)| path).to_string();
    let (rejected, rejected_files) = documents_of(&old, summary.rejected.iter().map(|r| file(&r.path)))?;
    if rejected > 0 && !prune {
        let examples = rejected_files.into_iter().take(3).map(|path| format!("{path} (rejected)")).collect();
        return Err(Error::RebuildWouldLose { data: data_dir.to_path_buf(), count: rejected, examples });
    }
    // Whole files only: a withheld record (`path#n`) shares its path with
    // the records of its file that are still public.
    let (withheld, _) = documents_of(&old, summary.withheld.iter().filter(|name| !name.contains('#')).cloned())?;
    Ok(rejected + withheld)
}

/// How many documents of `index` the files at `paths` (relative to their
/// source folder, in any of its source folders) hold, and which of those
/// files hold any.
fn documents_of(index: &Index, paths: impl Iterator<Item = String>) -> Result<(usize, Vec<String>)> {
    let Ok(field) = index.schema().get_field("path") else { return Ok((0, Vec::new())) };
    let searcher = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map(|r: IndexReader| r.searcher())?;
    let paths: std::collections::BTreeSet<String> = paths.collect();
    let (mut documents, mut holding) = (0, Vec::new());
    for path in paths {
        let n = searcher.search(&TermQuery::new(Term::from_field_text(field, &path), IndexRecordOption::Basic), &Count)?;
        if n > 0 {
            documents += n;
            holding.push(path);
        }
    }
    Ok((documents, holding))
}

/// Call `each` with every term of `field` in `segment`, in order, and each
/// document holding it.
fn each_term_docs(segment: &tantivy::SegmentReader, field: Field, mut each: impl FnMut(&str, tantivy::DocId)) -> Result<()> {
    use tantivy::DocSet;
    let inverted = segment.inverted_index(field)?;
    let mut stream = inverted.terms().stream().map_err(tantivy::TantivyError::from)?;
    while let Some((term, info)) = stream.next() {
        let term = String::from_utf8_lossy(term).into_owned();
        let mut postings = inverted.read_postings_from_terminfo(info, IndexRecordOption::Basic).map_err(tantivy::TantivyError::from)?;
        while postings.doc() != tantivy::TERMINATED {
            each(&term, postings.doc());
            postings.advance();
        }
    }
    Ok(())
}

/// Put the index rebuilt in `aside` in the data folder's place in one step
/// (readers find either the old index or the new one, never none), remove
/// the old one, and open the new one where it now is.
fn swap_in(data_dir: &Path, aside: &Path) -> Result<Index> {
    let dir = index_dir(data_dir);
    exchange(aside, &dir).map_err(Error::io(format!("putting the rebuilt index {} in place of {}", aside.display(), dir.display())))?;
    fs::remove_dir_all(aside).map_err(Error::io(format!("removing the old index, now at {}", aside.display())))?;
    let index = open_index(&dir)?;
    register_analyzer(&index);
    Ok(index)
}

/// Exchange the folders `a` and `b` atomically (`renameat2` with
/// `RENAME_EXCHANGE`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let path = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (path(a)?, path(b)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let done = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Exchange the folders `a` and `b`: elsewhere than on Linux, by two
/// renames (a reader opening between them finds no index).
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let parked = b.with_extension("old");
    fs::rename(b, &parked)?;
    fs::rename(a, b)?;
    fs::rename(parked, a)
}

fn progress_bar(enabled: bool, source: &Path) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}: {pos} files, {per_sec}, {elapsed}") {
        bar.set_style(style);
    }
    bar.set_message(source.display().to_string());
    bar
}

/// State of one run.
struct Run {
    fields: Fields,
    blobs: BlobStore,
    limits: Limits,
    /// Read and hash every file, whatever its stamp (`--verify`).
    verify: bool,
    summary: Summary,
    /// Parsed `catalog.csv` of the folders being walked; a folder's is
    /// dropped once the walk has left it.
    catalogs: HashMap<PathBuf, CatalogCsv>,
    index: Index,
    /// The index as it was when the run began: who held an id.
    before: Searcher,
    /// When the last commit was made.
    committed: Instant,
    claims: Claims,
    /// sha256 of blobs whose documents were deleted in this run: garbage
    /// unless another document holds them.
    released: Vec<String>,
    /// The data folder's withdrawals ([`crate::withdrawal`]).
    withdrawals: Withdrawals,
    /// Whether a withdrawal lapsed or an undone one was settled.
    withdrawals_changed: bool,
}

/// The ids given in a run. No reader of the index is kept open to look
/// them up: one kept from commit to commit held on to every page that
/// merging read from its segments (1 GB for 10⁶ notices).
#[derive(Default)]
struct Claims {
    /// Every id given in this run, as a hash: the one thing a run keeps of
    /// all its documents, 8 bytes each in a hash set (~20 MB for 10⁶).
    given: HashSet<u64>,
    /// Ids given since the last commit, and the path of the document given each.
    recent: HashMap<String, String>,
}

/// A file's `<file>.meta.json`, as the file system lists it.
enum SidecarFile {
    Absent,
    Present(PathBuf, fs::Metadata),
    /// It exists but cannot be looked at: the file is withheld until it can.
    Unreadable(String),
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

/// A file whose stamp differs from its documents' (or that has none, or
/// any file under `--verify`): it is read, and extracted if it changed.
struct Work {
    key: FileKey,
    path: PathBuf,
    name: String,
    /// Its size as the walk found it.
    size: u64,
    stamp: u64,
    sidecar: SidecarFile,
    row: Catalog,
    /// What the index held of it when the run began.
    old: Option<IndexedFile>,
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
    /// A record a withdrawal in force holds down: the withdrawal's id.
    Withdrawn(String),
    /// A record held down by the withdrawal of another (a copy): its name
    /// and that withdrawal's id.
    HeldBy {
        name: String,
        withdrawal: String,
    },
}

/// What reading a [`Work`] decided.
enum Decision {
    /// Same bytes, same catalog inputs, same stamp (a `--verify` run).
    Unchanged,
    /// Its documents, to replace the indexed ones; `touched` when the
    /// content is what was indexed and only the stamp changed.
    Index {
        outcomes: Vec<Outcome>,
        touched: bool,
    },
    Rejected(String),
}

/// A file after reading and extraction.
struct Prepared {
    key: FileKey,
    old: Option<IndexedFile>,
    decision: Decision,
    warnings: Vec<Rejection>,
}

impl Run {
    /// Decide from what the file system says whether a file needs work:
    /// `None` when its stamp is the one its documents were indexed with
    /// (then it is counted unchanged here, without being read).
    fn examine(&mut self, source: &str, file: FoundFile, old: Option<IndexedFile>) -> Option<Work> {
        let sidecar = sidecar_of(&file);
        let row = self.folder_catalog(&file.folder).map(|csv| csv.row(&file.name)).unwrap_or_default();
        let stamp = stamp(&file.meta, &sidecar, &row);
        // A file with an undone withdrawal is read again to bring it back.
        let restore = self.withdrawals.undone_in(source, &file.rel);
        let old = old.map(|old| if restore { IndexedFile { stamp: 0, fingerprint: 0, ..old } } else { old });
        if let Some(old) = old.as_ref().filter(|old| old.stamp == stamp && !self.verify) {
            self.summary.unchanged += 1;
            self.summary.withheld.extend(old.withheld.iter().cloned());
            return None;
        }
        let key = (source.to_string(), file.rel);
        Some(Work { key, path: file.path, name: file.name, size: file.meta.len(), stamp, sidecar, row, old })
    }

    /// Store again the originals of an unchanged file's public documents
    /// that are missing from the blob store (after a power loss, a deleted
    /// folder): the file itself, or its records re-read from it. Only bytes
    /// whose sha256 is one of `wanted` are stored.
    fn restore_originals(&self, name: &str, bytes: &[u8], wanted: &[String]) -> std::result::Result<Vec<String>, String> {
        let missing: Vec<&String> = wanted.iter().filter(|sha| !self.blobs.contains(sha) || self.is_damaged(sha)).collect();
        if missing.is_empty() {
            return Ok(Vec::new());
        }
        let file_sha = sha256_hex(bytes);
        let records = if missing.iter().all(|sha| **sha == file_sha) {
            Vec::new()
        } else {
            extract::extract(name, bytes, &self.limits).map_err(|e| e.to_string())?
        };
        let originals = std::iter::once(bytes).chain(records.iter().filter_map(|r| r.original.as_deref()));
        let mut repaired = Vec::new();
        for original in originals {
            let sha = sha256_hex(original);
            if missing.contains(&&sha) && self.store_original(&sha, original).map_err(|e| e.to_string())? {
                repaired.push(sha);
            }
        }
        match missing.iter().find(|sha| !self.blobs.contains(sha)) {
            Some(sha) => Err(format!("no record of the file has the sha256 {sha} any more")),
            None => Ok(repaired),
        }
    }

    /// Whether `--verify` finds the stored original `sha` damaged (it
    /// reads every stored original back).
    fn is_damaged(&self, sha: &str) -> bool {
        self.verify && matches!(self.blobs.get(sha), Err(Error::CorruptBlob(_)))
    }

    /// Store an original unless it is stored; a damaged one is stored
    /// again (true).
    fn store_original(&self, sha: &str, original: &[u8]) -> Result<bool> {
        let damaged = self.is_damaged(sha);
        if damaged {
            self.blobs.remove(sha)?;
        }
        self.blobs.put(sha, original)?;
        Ok(damaged)
    }

    /// Read, extract and analyze a batch on every core, then hand its
    /// outcome to the writer in file order: a changed file's old
    /// documents are deleted in the same commit that adds its new ones.
    fn apply(&mut self, writer: &mut IndexWriter, batch: Vec<Work>) -> Result<()> {
        let prepared = batch.into_par_iter().map(|work| self.prepare(work)).collect::<Result<Vec<Prepared>>>()?;
        for file in prepared {
            self.summary.warnings.extend(file.warnings);
            let (outcomes, touched) = match file.decision {
                Decision::Index { outcomes, touched } => (outcomes, touched),
                Decision::Rejected(reason) => {
                    self.reject(&file.key.1, reason);
                    continue;
                }
                Decision::Unchanged => {
                    self.summary.unchanged += 1;
                    self.summary.withheld.extend(file.old.into_iter().flat_map(|old| old.withheld));
                    continue;
                }
            };
            if file.old.is_some() {
                writer.delete_query(file_query(&self.fields, &file.key.0, &file.key.1))?;
            }
            self.settle_withdrawals(&file.key, &outcomes);
            let withheld: Vec<String> = outcomes
                .iter()
                .filter_map(|o| match o {
                    Outcome::Withheld(name) | Outcome::HeldBy { name, .. } => Some(name.clone()),
                    Outcome::Indexed { .. } | Outcome::Withdrawn(_) => None,
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
            let was_indexed = file.old.is_some();
            self.released.extend(file.old.into_iter().flat_map(|old| old.blobs));
            match (was_indexed, indexed > 0) {
                (true, true) if touched => self.summary.unchanged += 1,
                (true, true) => self.summary.updated += 1,
                (true, false) => self.summary.removed += 1,
                (false, true) => self.summary.added += 1,
                (false, false) => {}
            }
        }
        Ok(())
    }

    /// Read one file and its sidecar, decide whether its content changed
    /// and, if so (or if only its stamp did), extract its records, settle
    /// their catalog data, store the originals of public ones and build
    /// their index documents.
    ///
    /// No byte of a withheld document, nor of the text of an on_request
    /// one, is stored: a record of an export is stored as itself, never
    /// as the export; a file holding several documents is stored as their
    /// original only when every one of them is public.
    fn prepare(&self, work: Work) -> Result<Prepared> {
        let mut warnings = Vec::new();
        let inputs = catalog_inputs(&work, &mut warnings);
        let mut prepared = Prepared { key: work.key.clone(), old: work.old.clone(), decision: Decision::Unchanged, warnings };
        let declared = inputs.declared();
        if declared.disclosure == Some(Disclosure::Withheld) {
            // Withheld whatever the file holds: it is listed as such even
            // when it could not be read, and nothing of it is extracted.
            prepared.decision = Decision::Index { outcomes: vec![Outcome::Withheld(work.key.1.clone())], touched: false };
            return Ok(prepared);
        }
        let bytes = match self.read(&work) {
            Ok(bytes) => bytes,
            Err(reason) => {
                prepared.decision = Decision::Rejected(reason);
                return Ok(prepared);
            }
        };
        let file_sha = sha256_hex(&bytes);
        let fingerprint = fingerprint(&file_sha, &inputs.raw);
        let same_content = work.old.as_ref().filter(|old| old.fingerprint == fingerprint);
        if let Some(old) = same_content.filter(|old| old.stamp == work.stamp) {
            match self.restore_originals(&work.name, &bytes, &old.blobs) {
                Ok(repaired) => prepared
                    .warnings
                    .extend(repaired.iter().map(|sha| Rejection { path: work.key.1.clone(), reason: restored_note(&work.name, sha) })),
                Err(reason) => {
                    let reason = format!("indexed, but its missing original could not be stored again: {reason}");
                    prepared.decision = Decision::Rejected(reason);
                }
            }
            return Ok(prepared);
        }
        let touched = same_content.is_some();
        let records = match extract::extract(&work.name, &bytes, &self.limits) {
            Ok(records) => records,
            Err(e) => {
                prepared.decision = Decision::Rejected(e.to_string());
                return Ok(prepared);
            }
        };
        let rel = &work.key.1;
        let catalogs: Vec<Catalog> = records
            .iter()
            .map(|r| {
                let catalog = declared.clone().or(r.catalog.clone());
                catalog.or(catalog::from_text(&r.text)).or(catalog::from_path(rel))
            })
            .collect();
        let is_public = |c: &Catalog| c.disclosure.unwrap_or(Disclosure::Public) == Disclosure::Public;
        let file_shareable = catalogs.iter().all(is_public);
        let many = records.len() > 1;
        let mut outcomes = Vec::new();
        for (n, (record, catalog)) in records.into_iter().zip(catalogs).enumerate() {
            let name = record_name(rel, many.then(|| record.number.unwrap_or(n + 1)));
            prepared.warnings.extend(record.warnings.iter().map(|w| Rejection { path: rel.clone(), reason: w.clone() }));
            if catalog.disclosure == Some(Disclosure::Withheld) {
                outcomes.push(Outcome::Withheld(name));
                continue;
            }
            let public = is_public(&catalog);
            let (sha, original) = match &record.original {
                Some(own) => (sha256_hex(own), Some(own.as_slice())),
                None if file_shareable => (file_sha.clone(), Some(bytes.as_slice())),
                None => (String::new(), None),
            };
            if public && original.is_none() {
                let reason =
                    format!("{name}: its original is not served (only its text): the file also holds documents that are not public");
                prepared.warnings.push(Rejection { path: rel.clone(), reason });
            }
            let original = original.filter(|_| public);
            // The text can be re-read from the original only when that is the file itself.
            let encoding = record.encoding.filter(|_| record.original.is_none() && original.is_some());
            let id = catalog.id.clone().unwrap_or_else(|| derived_id(&name));
            let stored = Stored { sha: &sha, original, stamp: work.stamp, fingerprint, name: &work.name, encoding };
            let doc = self.document(&work.key, &stored, &catalog, &record, public);
            // The text as the index keeps it, hashed only when some
            // withdrawal names a text.
            let text_sha256 = match self.withdrawals.compares_texts() {
                true => stored_text_sha256(&doc, &self.fields),
                false => String::new(),
            };
            let declared_id = catalog.id.is_some();
            let record = RecordKey { source: &work.key.0, path: rel, id: &id, declared_id, sha256: &sha, text_sha256: &text_sha256 };
            if let Some(withdrawal) = self.withdrawals.withholding(&record, || catalog_hash(&doc, &self.fields)) {
                if withdrawal.is_of(&record) {
                    outcomes.push(Outcome::Withdrawn(withdrawal.id.clone()));
                } else {
                    // A copy of a withdrawn record (another file, or
                    // another record of this one): listed by its own name,
                    // and the withdrawal that holds it named.
                    prepared.warnings.push(Rejection { path: rel.clone(), reason: held_by_copy_note(&name, withdrawal) });
                    outcomes.push(Outcome::HeldBy { name, withdrawal: withdrawal.id.clone() });
                }
                continue;
            }
            if let Some(original) = original.filter(|o| o.len() > KEPT_WITH_DOCUMENT) {
                if self.store_original(&sha, original)? {
                    prepared.warnings.push(Rejection { path: rel.clone(), reason: restored_note(&name, &sha) });
                }
            }
            outcomes.push(Outcome::Indexed { id, doc });
        }
        prepared.decision = Decision::Index { outcomes, touched };
        Ok(prepared)
    }

    fn read(&self, work: &Work) -> std::result::Result<Vec<u8>, String> {
        if work.size > self.limits.max_file_bytes {
            return Err(extract::ExtractError::TooLarge { size: work.size, limit: self.limits.max_file_bytes }.to_string());
        }
        let bytes = fs::read(&work.path).map_err(|e| format!("cannot read: {e}"))?;
        if bytes.is_empty() {
            return Err("empty file (0 bytes)".into());
        }
        Ok(bytes)
    }

    /// The id a document of `key` gets: the one it asks for, unless a
    /// document of another file held it when the run began, or any
    /// document took it in this run (the same path in two source folders,
    /// two sidecars declaring one id). It then gets an id derived from its
    /// source folder, path and the id it asked for, stable from run to
    /// run, and the archivist is told.
    fn claim(&mut self, key: &FileKey, wanted: String) -> String {
        let Some(first_holder) = self.holder(&wanted, key) else {
            return self.give(wanted, key);
        };
        let seed = format!("{}\u{0}{}\u{0}{wanted}", key.0, key.1);
        let mut id = derived_id(&seed);
        for attempt in 1.. {
            if self.holder(&id, key).is_none() {
                break;
            }
            id = derived_id(&record_name(&seed, Some(attempt)));
        }
        self.warn(&key.1, format!("id {wanted} is already used by {first_holder}; this document was given id {id}"));
        self.give(id, key)
    }

    fn give(&mut self, id: String, key: &FileKey) -> String {
        self.claims.given.insert(hash64(&[id.as_bytes()]));
        self.claims.recent.insert(id.clone(), key.1.clone());
        id
    }

    /// The path of the document that took `id` in this run, or of a file
    /// other than `key` that held it when the run began.
    fn holder(&self, id: &str, key: &FileKey) -> Option<String> {
        if let Some(path) = self.claims.recent.get(id) {
            return Some(path.clone());
        }
        if self.claims.given.contains(&hash64(&[id.as_bytes()])) {
            // Given before the last commit: rare enough to open the index for.
            let committed = self.index.reader().ok()?.searcher();
            if let Some(path) = other_holder(&committed, &self.fields, id, key) {
                return Some(path);
            }
        }
        other_holder(&self.before, &self.fields, id, key)
    }

    /// Commit what was handed to the writer, once the blobs it references
    /// are safe on disk.
    fn commit(&mut self, writer: &mut IndexWriter) -> Result<()> {
        self.blobs.sync()?;
        commit(writer)?;
        self.committed = Instant::now();
        self.claims.recent.clear();
        Ok(())
    }

    fn reject(&mut self, path: &str, reason: String) {
        self.summary.rejected.push(Rejection { path: path.to_string(), reason });
    }

    fn warn(&mut self, path: &str, reason: String) {
        self.summary.warnings.push(Rejection { path: path.to_string(), reason });
    }

    /// The catalog.csv of `folder`, read on the first visit; its problems
    /// are reported then.
    fn folder_catalog(&mut self, folder: &Folder) -> Option<&CatalogCsv> {
        if !folder.has_catalog {
            return None;
        }
        if !self.catalogs.contains_key(&folder.path) {
            // The walk is depth first: a folder it left is not seen again.
            self.catalogs.retain(|known, _| folder.path.starts_with(known));
            let csv = match fs::read(folder.path.join(CATALOG_CSV)) {
                Ok(bytes) => catalog::read_catalog_csv(&bytes),
                Err(e) => CatalogCsv {
                    others: withheld(),
                    problems: vec![format!("cannot read: {e}; every file of its folder is withheld until it can be read")],
                    ..CatalogCsv::default()
                },
            };
            for problem in &csv.problems {
                self.warn(&folder.rel_of(CATALOG_CSV), problem.clone());
            }
            self.catalogs.insert(folder.path.clone(), csv);
        }
        self.catalogs.get(&folder.path)
    }

    /// Settle the withdrawals of a file read again: its undone ones are
    /// done (the record is back) and leave the list. Those that held no
    /// record down (its catalog data changed, or the record is gone) stay
    /// listed, said in a warning: the record is published as corrected,
    /// and held down again if the catalog data it was withdrawn with comes
    /// back (a catalog.csv missing for one run ends nothing).
    fn settle_withdrawals(&mut self, key: &FileKey, outcomes: &[Outcome]) {
        let held: Vec<&String> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Withdrawn(id) | Outcome::HeldBy { withdrawal: id, .. } => Some(id),
                _ => None,
            })
            .collect();
        let of_file = |w: &Withdrawal| w.source == key.0 && w.path == key.1;
        let lapsed: Vec<String> =
            self.withdrawals.active().filter(|w| of_file(w) && !held.contains(&&w.id)).map(|w| w.id.clone()).collect();
        for id in lapsed {
            let reason = format!(
                "the withdrawal of {id} holds no record down: no record of the file has the catalog data it was withdrawn with; \
                 it stays listed and holds the record down again if that data comes back (`indexer withdraw --undo {id}` ends it)"
            );
            self.warn(&key.1, reason);
        }
        let before = self.withdrawals.entries.len();
        self.withdrawals.entries.retain(|w| !(of_file(w) && w.undone.is_some()));
        self.withdrawals_changed |= self.withdrawals.entries.len() != before;
    }

    fn document(&self, key: &FileKey, stored: &Stored, catalog: &Catalog, record: &Record, public: bool) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::new();
        let title = catalog.title.clone().unwrap_or_else(|| stored.name.to_string());
        let disclosure = catalog.disclosure.unwrap_or(Disclosure::Public);
        let date = catalog.published_date.as_ref().or(catalog.written_date.as_ref());
        doc.add_text(f.source, &key.0);
        doc.add_text(f.path, &key.1);
        add_analyzed(&mut doc, &[f.title, f.title_words, f.title_pairs], &title);
        doc.add_text(f.title_raw, &title);
        let line = catalog::catalog_line([&catalog.doc_number, &catalog.index_no, &catalog.publisher, &catalog.category]);
        add_analyzed(&mut doc, &[f.meta, f.meta_pairs], &line);
        if public {
            add_analyzed(&mut doc, &[f.body, f.body_words, f.body_pairs], &record.text);
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
        doc.add_u64(f.bytes, stored.original.map_or(0, |o| o.len() as u64));
        // The sha256 names the original served, and nothing is said of one
        // not served (the hash of an on_request record's text included).
        doc.add_text(f.sha256, if stored.original.is_some() { stored.sha } else { "" });
        match stored.original {
            Some(original) if original.len() <= KEPT_WITH_DOCUMENT => doc.add_bytes(f.original, original),
            Some(_) => doc.add_text(f.blob, stored.sha),
            None => {}
        }
        doc.add_u64(f.stamp, stored.stamp);
        doc.add_u64(f.fingerprint, stored.fingerprint);
        doc
    }

    /// Delete the documents of files gone from source folder `source`.
    fn prune(&mut self, writer: &mut IndexWriter, source: &str, gone: Vec<IndexedFile>) -> Result<()> {
        for file in gone {
            writer.delete_query(file_query(&self.fields, source, &file.rel))?;
            self.released.extend(file.blobs);
            self.summary.removed += 1;
        }
        Ok(())
    }

    /// Remove the blobs no document references any more: those whose
    /// documents this run deleted or, on a `sweep`, every blob (and any
    /// leftover of a killed run). Runs after the commit, so a blob is
    /// never missing, and [`crate::store::READERS_GRACE`] after it, so that a server
    /// still on the commit before has taken up the last one; an original
    /// that became 依申请公开 leaves the folder the server reads.
    fn collect_garbage(&mut self, sweep: bool) -> Result<()> {
        let searcher = self.index.reader()?.searcher();
        let released = std::mem::take(&mut self.released);
        if !sweep {
            return self.blobs.remove_unheld(released, &searcher, &self.fields, &self.index, self.committed);
        }
        let _meta = removal_lock(&self.index, self.committed)?;
        // An error keeps the blob: a missing original is worse than a stray one.
        self.blobs.retain(|sha| is_held(&searcher, &self.fields, sha).unwrap_or(true))?;
        Ok(())
    }
}

/// The documents of one file: its source folder and path inside it.
pub(crate) fn file_query(fields: &Fields, source: &str, path: &str) -> Box<dyn Query> {
    let term = |field, value: &str| -> (Occur, Box<dyn Query>) {
        (Occur::Must, Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic)))
    };
    Box::new(BooleanQuery::new(vec![term(fields.source, source), term(fields.path, path)]))
}

/// The path of a file other than `key` holding `id` in `searcher`. Every
/// holder is looked at: an index written before ids were checked may
/// hold one id twice, once for `key` itself.
fn other_holder(searcher: &Searcher, fields: &Fields, id: &str, key: &FileKey) -> Option<String> {
    let query = TermQuery::new(Term::from_field_text(fields.id, id), IndexRecordOption::Basic);
    let holders = searcher.search(&query, &DocSetCollector).ok()?;
    holders.into_iter().find_map(|address| {
        let fast = searcher.segment_reader(address.segment_ord).fast_fields();
        let (source, path) = (fast.str("source").ok()??, fast.str("path").ok()??);
        let holder = (first_value(&source, address.doc_id), first_value(&path, address.doc_id));
        (holder != *key).then_some(holder.1)
    })
}

/// What a document records about the file it came from.
struct Stored<'a> {
    /// sha256 of the document's original ("" when none is served).
    sha: &'a str,
    /// The original, when it is served.
    original: Option<&'a [u8]>,
    stamp: u64,
    fingerprint: u64,
    name: &'a str,
    /// Encoding that turns the original into the text, when it does.
    encoding: Option<&'static str>,
}

/// Add one text to each of its analyzed fields: atoms, and words and pairs
/// where it has them (the analyzer segments the text once for all, as
/// tantivy tokenizes them one after the other).
fn add_analyzed(doc: &mut TantivyDocument, fields: &[Field], text: &str) {
    for &field in fields {
        doc.add_text(field, text);
    }
}

/// What ingest says of a damaged stored original it stored again.
fn restored_note(name: &str, sha: &str) -> String {
    format!("{name}: its stored original {sha} was damaged; stored again from the file")
}

/// The first 8 bytes of the sha256 of `parts`, as a number.
fn hash64(parts: &[&[u8]]) -> u64 {
    let digest = sha256_hex(&parts.concat());
    u64::from_str_radix(&digest[..16], 16).unwrap_or(0)
}

/// What the file system says of a file and of its catalog inputs: its
/// size, modification time (to the nanosecond) and inode, the same of its
/// sidecar, and its catalog.csv row. A file whose stamp is the one its
/// documents were indexed with is not read again (`--verify` reads it).
fn stamp(file: &fs::Metadata, sidecar: &SidecarFile, row: &Catalog) -> u64 {
    let sidecar_said = match sidecar {
        SidecarFile::Absent => b"no sidecar".to_vec(),
        SidecarFile::Present(_, meta) => walk::said_of(meta).to_vec(),
        SidecarFile::Unreadable(reason) => reason.as_bytes().to_vec(),
    };
    // Most files have no row: no need to spell out an empty one.
    let row_said = if *row == Catalog::default() { String::new() } else { format!("{row:?}") };
    hash64(&[FORMAT_VERSION.as_bytes(), &walk::said_of(file), &sidecar_said, row_said.as_bytes()])
}

/// Hash of everything a file's documents are built from: its bytes (by
/// their sha256), its catalog inputs and FORMAT_VERSION.
fn fingerprint(file_sha: &str, catalog_raw: &[u8]) -> u64 {
    hash64(&[FORMAT_VERSION.as_bytes(), file_sha.as_bytes(), catalog_raw])
}

/// The sidecar of a file, as its folder's listing and `stat` find it.
fn sidecar_of(file: &FoundFile) -> SidecarFile {
    let name = format!("{}{SIDECAR_SUFFIX}", file.name);
    if !file.folder.sidecars.contains(&name) {
        return SidecarFile::Absent;
    }
    let sidecar = file.path.with_file_name(name);
    match fs::metadata(&sidecar) {
        Ok(meta) => SidecarFile::Present(sidecar, meta),
        Err(e) => SidecarFile::Unreadable(format!("cannot read: {e}")),
    }
}

/// The sidecar and catalog.csv row of a work item, with the sidecar's
/// problems added to `warnings`. A sidecar that exists but cannot be read
/// withholds the file: it may be what withholds it.
fn catalog_inputs(work: &Work, warnings: &mut Vec<Rejection>) -> CatalogInputs {
    let mut raw = Vec::new();
    let sidecar_rel = format!("{}{SIDECAR_SUFFIX}", work.key.1);
    let unreadable = |reason: String| Rejection {
        path: sidecar_rel.clone(),
        reason: format!("{reason}; the file is withheld until its sidecar can be read"),
    };
    let sidecar = match &work.sidecar {
        SidecarFile::Absent => Catalog::default(),
        SidecarFile::Present(path, _) => match fs::read(path) {
            Ok(bytes) => {
                let parsed = catalog::parse_sidecar(&bytes);
                warnings.extend(parsed.problems.into_iter().map(|reason| Rejection { path: sidecar_rel.clone(), reason }));
                raw.extend_from_slice(&bytes);
                parsed.catalog
            }
            Err(e) => {
                warnings.push(unreadable(format!("cannot read: {e}")));
                withheld()
            }
        },
        SidecarFile::Unreadable(reason) => {
            warnings.push(unreadable(reason.clone()));
            withheld()
        }
    };
    raw.extend_from_slice(format!("{:?}", work.row).as_bytes());
    CatalogInputs { sidecar, row: work.row.clone(), raw }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_merge_reads_more_than_its_bound_and_large_segments_are_left_alone() {
        let index = Index::create_in_ram(build_schema());
        let sizes = std::iter::repeat_n(40_000, 20).chain([180_000, 300_000]);
        let segments: Vec<SegmentMeta> = sizes.map(|docs| index.new_segment_meta(SegmentId::generate_random(), docs)).collect();
        let docs: HashMap<SegmentId, u32> = segments.iter().map(|s| (s.id(), s.num_docs())).collect();
        let merges = BoundedMerges::default().compute_merge_candidates(&segments);
        let read: Vec<u32> = merges.iter().map(|m| m.0.iter().map(|id| docs[id]).sum()).collect();
        assert_eq!(read, [320_000, 320_000, 160_000]);
    }

    /// An index of `commits` segments of 2 documents each, none merged.
    fn segments_of_two(commits: usize) -> Index {
        let index = Index::create_in_ram(build_schema());
        register_analyzer(&index);
        let id = Fields::of(&index.schema()).id;
        let mut writer = maintenance_writer(&index).unwrap();
        for n in 0..commits * 2 {
            writer.add_document(tantivy::doc!(id => format!("d{n}"))).unwrap();
            if n % 2 == 1 {
                writer.commit().unwrap();
            }
        }
        index
    }

    #[test]
    fn the_small_segments_a_run_wrote_are_merged_into_one_and_older_ones_are_left_alone() {
        let index = segments_of_two(4);
        let older: HashSet<SegmentId> = index.searchable_segment_ids().unwrap().into_iter().take(1).collect();
        merge_tail(&index, &older).unwrap();
        let metas = index.searchable_segment_metas().unwrap();
        let mut docs: Vec<u32> = metas.iter().map(|m| m.num_docs()).collect();
        docs.sort();
        assert_eq!(docs, [2, 6]);
        assert!(metas.iter().any(|m| older.contains(&m.id())));
        // The merged segments' files are gone: only the two left have files.
        let owners: HashSet<String> = index
            .directory()
            .list_managed_files()
            .iter()
            .filter_map(|path| path.file_stem().map(|stem| stem.to_string_lossy().to_string()))
            .filter(|stem| stem != "meta")
            .collect();
        let live: HashSet<String> = metas.iter().map(|m| m.id().uuid_string()).collect();
        assert_eq!(owners, live);

        let one_new = segments_of_two(1);
        merge_tail(&one_new, &HashSet::new()).unwrap();
        assert_eq!(one_new.searchable_segment_ids().unwrap().len(), 1);
    }
}
