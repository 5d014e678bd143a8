//! Ingest benchmark: `cargo bench -p indexer --bench ingest [-- SOURCE_DIR [RUNS]]`.
//!
//! Ingests SOURCE_DIR (default `../shared/corpus/laws` beside the checkout)
//! into a fresh data folder RUNS times (default 3) with the release
//! `indexer` binary, then re-runs it unchanged, then once more with one
//! file added (in a second source folder, as SOURCE_DIR may be read-only),
//! and prints per run and as medians: files/s, MB/s of source, peak RSS of
//! the first ingest, the two re-run times, and data folder / source in
//! bytes and in disk blocks. Then what the last data folder holds per
//! document, part by part. For a scale archive:
//! `../shared/tools/make-scale-corpus ../shared/corpus/laws OUT 100000`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let source = args.first().map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/laws"));
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    let size = size_of_tree(&source);
    println!("source: {} ({} files, {:.1} MB), {runs} runs, {} CPUs", source.display(), size.files, mb(size.bytes), cpus());
    let mut rows = Vec::new();
    let mut last = None;
    for run in 1..=runs {
        let data = tempfile::tempdir().expect("temp dir");
        let added = tempfile::tempdir().expect("temp dir");
        let sources = [source.as_path(), added.path()];
        let (first, rss) = timed_ingest(&sources, data.path());
        let (rerun, _) = timed_ingest(&sources, data.path());
        std::fs::write(added.path().join("added.txt"), "关于公布新增文件的通知\n本文件在首次导入之后加入。\n").expect("write added file");
        let (one_added, _) = timed_ingest(&sources, data.path());
        let stored = size_of_tree(data.path());
        let row = [
            size.files as f64 / first,
            mb(size.bytes) / first,
            rss as f64 / 1024.0,
            rerun,
            one_added,
            stored.bytes as f64 / size.bytes as f64,
            stored.disk as f64 / size.disk as f64,
        ];
        println!(
            "run {run}: {:.0} files/s, {:.2} MB/s, peak RSS {:.0} MB, unchanged re-run {:.3} s, one file added {:.3} s, \
             data/source {:.3} in bytes, {:.3} on disk (first ingest {first:.2} s)",
            row[0], row[1], row[2], row[3], row[4], row[5], row[6]
        );
        rows.push(row);
        last = Some(data);
    }
    let median = |i: usize| {
        let mut v: Vec<f64> = rows.iter().map(|r| r[i]).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    println!(
        "median: {:.0} files/s, {:.2} MB/s, peak RSS {:.0} MB, unchanged re-run {:.3} s, one file added {:.3} s, \
         data/source {:.3} in bytes, {:.3} on disk",
        median(0),
        median(1),
        median(2),
        median(3),
        median(4),
        median(5),
        median(6)
    );
    if let Some(data) = last {
        per_document(data.path());
    }
}

/// Seconds of one `indexer ingest` and the process's peak RSS in KB.
fn timed_ingest(sources: &[&Path], data: &Path) -> (f64, u64) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .arg("ingest")
        .args(sources)
        .args([Path::new("--data"), data, Path::new("--json")])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run indexer");
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        peak = peak.max(vm_hwm(pid).unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    // A failed ingest (its reason is on stderr) has no figures to give.
    assert!(status.success(), "indexer ingest failed: {status}");
    (started.elapsed().as_secs_f64(), peak)
}

/// Peak resident set (VmHWM, KB) of a running process.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Files of a tree, their bytes, and the disk blocks they take (bytes).
struct TreeSize {
    files: usize,
    bytes: u64,
    disk: u64,
}

fn size_of_tree(root: &Path) -> TreeSize {
    let files = walkdir::WalkDir::new(root).into_iter().flatten().filter(|e| e.file_type().is_file());
    files.fold(TreeSize { files: 0, bytes: 0, disk: 0 }, |size, e| {
        let (bytes, disk) = e.metadata().map(|m| (m.len(), m.blocks() * 512)).unwrap_or((0, 0));
        TreeSize { files: size.files + 1, bytes: size.bytes + bytes, disk: size.disk + disk }
    })
}

/// Print the bytes per document of each part of the index in `data`, and
/// of the blob store.
fn per_document(data: &Path) {
    let index = tantivy::Index::open_in_dir(data.join("index")).expect("open index");
    let searcher = index.reader().expect("reader").searcher();
    let usage = searcher.space_usage().expect("space usage");
    let docs = searcher.num_docs().max(1) as f64;
    let mut parts =
        [("positions", 0u64), ("postings", 0), ("doc store", 0), ("term dictionaries", 0), ("fast columns", 0), ("fieldnorms", 0)];
    for segment in usage.segments() {
        let sizes = [
            segment.positions().total(),
            segment.postings().total(),
            segment.store().total(),
            segment.termdict().total(),
            segment.fast_fields().total(),
            segment.fieldnorms().total(),
        ];
        for (part, size) in parts.iter_mut().zip(sizes) {
            part.1 += size.get_bytes();
        }
    }
    let blobs = size_of_tree(&data.join("blobs"));
    println!("per document ({docs} documents), bytes:");
    for (part, bytes) in parts {
        println!("  {part:18} {:8.1}", bytes as f64 / docs);
    }
    println!("  {:18} {:8.1} ({} files)", "blobs", blobs.bytes as f64 / docs, blobs.files);
    println!("  {:18} {:8.1}", "data folder", size_of_tree(data).bytes as f64 / docs);
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
