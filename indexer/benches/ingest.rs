//! Ingest benchmark: `cargo bench -p indexer --bench ingest [-- SOURCE_DIR [RUNS]]`.
//!
//! Ingests SOURCE_DIR (default `../shared/corpus/laws` beside the checkout)
//! into a fresh data folder RUNS times (default 3) with the release
//! `indexer` binary, then re-runs it once unchanged, and prints per run and
//! as medians: files/s, MB/s of source, data folder size / source bytes,
//! peak RSS of the ingest process, and the unchanged re-run time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let source = args.first().map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/laws"));
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    let (files, bytes) = size_of_tree(&source);
    println!("source: {} ({files} files, {:.1} MB), {runs} runs, {} CPUs", source.display(), mb(bytes), cpus());
    let mut rows = Vec::new();
    for run in 1..=runs {
        let data = tempfile::tempdir().expect("temp dir");
        let (first, rss) = timed_ingest(&source, data.path());
        let (rerun, _) = timed_ingest(&source, data.path());
        let (_, data_bytes) = size_of_tree(data.path());
        let row = [files as f64 / first, mb(bytes) / first, data_bytes as f64 / bytes as f64, rss as f64 / 1024.0, rerun];
        println!(
            "run {run}: {:.0} files/s, {:.2} MB/s, data/source {:.3}, peak RSS {:.0} MB, unchanged re-run {:.3} s (first ingest {first:.2} s)",
            row[0], row[1], row[2], row[3], row[4]
        );
        rows.push(row);
    }
    let median = |i: usize| {
        let mut v: Vec<f64> = rows.iter().map(|r| r[i]).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    println!(
        "median: {:.0} files/s, {:.2} MB/s, data/source {:.3}, peak RSS {:.0} MB, unchanged re-run {:.3} s",
        median(0),
        median(1),
        median(2),
        median(3),
        median(4)
    );
}

/// Seconds of one `indexer ingest` and the process's peak RSS in KB.
fn timed_ingest(source: &Path, data: &Path) -> (f64, u64) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["ingest", &source.to_string_lossy(), "--data", &data.to_string_lossy(), "--json"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run indexer");
    let pid = child.id();
    let mut peak = 0;
    while child.try_wait().expect("wait").is_none() {
        peak = peak.max(vm_hwm(pid).unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (started.elapsed().as_secs_f64(), peak)
}

/// Peak resident set (VmHWM, KB) of a running process.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn size_of_tree(root: &Path) -> (usize, u64) {
    walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .fold((0, 0), |(n, b), e| (n + 1, b + e.metadata().map(|m| m.len()).unwrap_or(0)))
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
