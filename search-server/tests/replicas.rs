//! Read replicas: several `search-server` processes on one data folder
//! while `indexer ingest` commits into it, servers on a read-only view of
//! the folder (a read-only mount, another user), and a replica in another
//! folder filled by `docs/replica-copy.sh` (plain rsync) from a live
//! primary. Every answer of every server is checked while the ingest runs:
//! each hit's document, reading page and original are served, and the
//! total of a query only grows while documents are only added.

mod common;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::*;

/// The word every added notice holds.
const WORD: &str = "巡检";

/// Longest a server may take to show a commit before the test fails (it
/// reloads within about a second; the bound leaves room for a busy machine).
const VISIBLE_WITHIN: Duration = Duration::from_secs(15);

/// A `search-server` process, killed when dropped (also when a test
/// fails: the threads checking it hold only its [`Endpoint`]).
struct Server {
    child: Child,
    endpoint: Endpoint,
}

/// Where a server listens, and its name in messages.
#[derive(Clone)]
struct Endpoint {
    addr: SocketAddr,
    name: String,
}

impl Server {
    /// Start `command` (a `search-server` command line, perhaps behind
    /// `setpriv` or `unshare`) and wait for its `serving … at` line;
    /// its stderr goes to `log`.
    fn start(name: &str, mut command: Command, log: &Path) -> Server {
        let stderr = std::fs::File::create(log).unwrap();
        let mut child = command.stdout(Stdio::piped()).stderr(stderr).spawn().unwrap_or_else(|e| panic!("{name}: cannot start: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let Some(addr) = line.trim().rsplit_once("http://").and_then(|(_, addr)| addr.parse().ok()) else {
            let _ = child.wait();
            panic!("{name} did not start: {line:?}\n{}", std::fs::read_to_string(log).unwrap_or_default());
        };
        Server { child, endpoint: Endpoint { addr, name: name.to_string() } }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_search-server")
}

/// The arguments of `search-server` serving `data` on a free loopback port.
fn server_args(data: &Path) -> [&OsStr; 4] {
    ["--data".as_ref(), data.as_os_str(), "--addr".as_ref(), "127.0.0.1:0".as_ref()]
}

/// A server that sees `data` through a read-only bind mount at `view`, in
/// a mount namespace of its own (`unshare`: the mount goes with it).
fn read_only_mount_server(data: &Path, view: &Path, log: &Path) -> Server {
    std::fs::create_dir_all(view).unwrap();
    let script = r#"mount --bind "$1" "$2" && mount -o remount,ro,bind "$2" && exec "$3" --data "$2" --addr 127.0.0.1:0"#;
    let mut command = Command::new("unshare");
    command.args(["--map-root-user", "--mount", "sh", "-c", script, "sh"]).args([data, view]).arg(binary());
    Server::start("read-only mount", command, log)
}

/// A server running as `nobody` over a folder root owns (mode 755, files
/// 644): the test must run as root to change user.
fn other_user_server(data: &Path, log: &Path) -> Server {
    let uid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&uid.stdout).trim(), "0", "serving as another user needs root (setpriv): run the tests as root");
    let mut command = Command::new("setpriv");
    command.args(["--reuid=65534", "--regid=65534", "--clear-groups", binary()]).args(server_args(data));
    Server::start("another user", command, log)
}

/// Notice `n` as first published or as `revised`: a unique 文号, the
/// shared word, and from every second one on a text over 8 KiB, so that
/// its original is a blob.
fn notice(n: usize, revised: bool) -> (String, String, String) {
    let path = format!("通知公告/第{n}次巡检通报.txt");
    let body =
        if n % 2 == 0 { "各点位巡检记录正常，设备运行平稳。".repeat(200) } else { "巡检记录正常。".to_string() };
    let revision = if revised { "（修订）" } else { "" };
    let text = format!("临河区第{n}次{WORD}情况通报{revision}\n\n{body}\n\n临河区应急管理局\n");
    let sidecar = format!(r#"{{"id":"live-{n}","doc_number":"{}","published_date":"2025-03-01"}}"#, doc_number(n));
    (path, text, sidecar)
}

fn doc_number(n: usize) -> String {
    format!("临应发〔2025〕{n}号")
}

fn write_notice(source: &Path, n: usize, revised: bool) {
    let (path, text, sidecar) = notice(n, revised);
    let file = source.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(format!("{}.meta.json", file.display()), sidecar).unwrap();
    std::fs::write(&file, text).unwrap();
}

/// What one server was seen to serve.
#[derive(Debug, Default)]
struct Watch {
    /// Searches checked, hit by hit.
    searches: usize,
    /// (documents, when first seen) for each count `/healthz` showed.
    counts: Vec<(u64, Instant)>,
}

/// Check one server until `stop`: every search for [`WORD`] answers 200
/// with a total no smaller than the last, and each hit's document,
/// reading page and original are served, the original byte for byte.
fn watch(server: &Endpoint, stop: &AtomicBool) -> Watch {
    let (addr, name) = (server.addr, server.name.as_str());
    let mut seen = Watch::default();
    let mut last_total = 0;
    while !stop.load(Ordering::Relaxed) {
        let health = get(addr, "/healthz");
        assert_eq!(health.status, 200, "{name}: {}", health.text());
        let documents = health.json()["documents"].as_u64().unwrap();
        let last = seen.counts.last().map_or(0, |(n, _)| *n);
        assert!(documents >= last, "{name}: /healthz went from {last} to {documents} documents");
        if documents > last {
            seen.counts.push((documents, Instant::now()));
        }
        let reply = get(addr, &format!("/api/search?q={}&limit=50", enc(WORD)));
        assert_eq!(reply.status, 200, "{name}: {}", reply.text());
        let found = reply.json();
        let total = found["total"].as_u64().unwrap();
        assert!(total >= last_total, "{name}: the total of {WORD} went from {last_total} to {total}");
        last_total = total;
        for hit in found["hits"].as_array().unwrap() {
            check_served(addr, name, hit["id"].as_str().unwrap());
        }
        seen.searches += 1;
    }
    seen
}

/// A hit's document, reading page and original are all served.
fn check_served(addr: SocketAddr, name: &str, id: &str) {
    let document = get(addr, &format!("/api/documents/{id}"));
    assert_eq!(document.status, 200, "{name}: document {id}: {}", document.text());
    let n: usize = id.strip_prefix("live-").and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{name}: {id} is not a notice"));
    assert_eq!(document.json()["doc_number"], doc_number(n), "{name}");
    let page = get(addr, &format!("/documents/{id}"));
    assert_eq!(page.status, 200, "{name}: reading page of {id}");
    let original = get(addr, &format!("/api/documents/{id}/original"));
    assert_eq!(original.status, 200, "{name}: original of {id}: {}", String::from_utf8_lossy(&original.body));
    let versions = [false, true].map(|revised| notice(n, revised).1);
    assert!(
        versions.iter().any(|v| original.body == v.as_bytes()),
        "{name}: original of {id}: {}",
        String::from_utf8_lossy(&original.body)
    );
}

/// Watch every server on a thread of its own until `stop`.
fn watch_all(servers: &[Endpoint], stop: &Arc<AtomicBool>) -> Vec<JoinHandle<Watch>> {
    servers
        .iter()
        .map(|server| {
            let (server, stop) = (server.clone(), stop.clone());
            thread::spawn(move || watch(&server, &stop))
        })
        .collect()
}

/// Wait until `server` answers notice `n` first for its 文号; returns when.
fn wait_first(server: &Endpoint, n: usize) -> Instant {
    let deadline = Instant::now() + VISIBLE_WITHIN;
    loop {
        let found = get(server.addr, &format!("/api/search?q={}", enc(&doc_number(n)))).json();
        if found["hits"][0]["id"] == format!("live-{n}") {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "{}: notice {n} was not first for its 文号 within {VISIBLE_WITHIN:?}: {found}", server.name);
        thread::sleep(Duration::from_millis(20));
    }
}

/// Add `rounds` notices one ingest (one commit) at a time, `pause` apart;
/// every second round also revises the notice of two rounds before (from
/// round 4: a blob replaced, the old one removed). Returns when each
/// ingest that only added started and returned: its commit was made in
/// between (one that removed a blob returns
/// [`indexer::store::READERS_GRACE`] after its commit: not measured). The
/// fixture has no notice: they are numbered 1…
fn live_ingest(source: &Path, data: &Path, rounds: usize, pause: Duration) -> Vec<Option<Round>> {
    (1..=rounds)
        .map(|n| {
            if n > 1 {
                thread::sleep(pause);
            }
            write_notice(source, n, false);
            let revises = n % 2 == 0 && n >= 4;
            if revises {
                write_notice(source, n - 2, true);
            }
            let started = Instant::now();
            let summary = ingest(source, data);
            assert_eq!((summary.added, summary.updated), (1, revises as usize), "round {n}");
            Some(Round { started, returned: Instant::now() }).filter(|_| !revises)
        })
        .collect()
}

/// One ingest run.
#[derive(Clone, Copy)]
struct Round {
    started: Instant,
    returned: Instant,
}

/// Milliseconds from each round's `at` to the first `/healthz` showing
/// its commit, over every server and measured round (a commit a watcher
/// skipped over counts from the later one it saw).
fn delays(commits: &[Option<Round>], watches: &[Watch], at: fn(&Round) -> Instant) -> Vec<u128> {
    let mut delays = Vec::new();
    for seen in watches {
        for (n, round) in commits.iter().enumerate() {
            let Some(committed) = round.as_ref().map(at) else { continue };
            let wanted = SERVED + n as u64 + 1;
            if let Some((_, when)) = seen.counts.iter().find(|(documents, _)| *documents >= wanted) {
                delays.push(when.saturating_duration_since(committed).as_millis());
            }
        }
    }
    delays.sort_unstable();
    delays
}

fn median(sorted: &[u128]) -> u128 {
    sorted[sorted.len() / 2]
}

/// Run servers over a data folder while `rounds` notices are ingested one
/// commit at a time; every answer is checked, and after the last commit
/// every server answers the last notice first within [`VISIBLE_WITHIN`].
fn serve_through_live_ingest(what: &str, servers: Vec<Server>, source: &Path, data: &Path, rounds: usize) {
    let endpoints: Vec<Endpoint> = servers.iter().map(|s| s.endpoint.clone()).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let watchers = watch_all(&endpoints, &stop);
    let commits = live_ingest(source, data, rounds, Duration::from_millis(300));
    let last = commits.last().unwrap().expect("the last round only adds").returned;
    let first: Vec<u128> = endpoints.iter().map(|s| wait_first(s, rounds).saturating_duration_since(last).as_millis()).collect();
    stop.store(true, Ordering::Relaxed);
    let watches: Vec<Watch> = watchers.into_iter().map(|w| w.join().expect("a watcher failed")).collect();
    // Every server shows the commit the data folder holds now.
    let newest = indexer::Archive::open(data).unwrap().commit();
    for (server, seen) in endpoints.iter().zip(&watches) {
        assert!(seen.searches > rounds, "{}: only {} searches checked", server.name, seen.searches);
        let health = get(server.addr, "/healthz").json();
        assert_eq!(health["documents"], SERVED + rounds as u64, "{}", server.name);
        assert_eq!(health["commit"], newest.as_str(), "{}", server.name);
        let total = get(server.addr, &format!("/api/search?q={}", enc(WORD))).json()["total"].as_u64().unwrap();
        assert_eq!(total, rounds as u64, "{}", server.name);
    }
    let (after_return, after_start) = (delays(&commits, &watches, |r| r.returned), delays(&commits, &watches, |r| r.started));
    eprintln!(
        "{what}: {} servers, {rounds} commits: /healthz shows a commit {} ms (median; max {}) after its ingest returned, \
         {} ms (max {}) after it started ({} observations); last notice first for its 文号 {first:?} ms after its ingest returned",
        servers.len(),
        median(&after_return),
        after_return.last().unwrap(),
        median(&after_start),
        after_start.last().unwrap(),
        after_return.len()
    );
}

#[test]
fn three_servers_on_one_folder_follow_a_live_ingest_and_never_serve_a_torn_state() {
    let (source, data) = fixture_archive("replicas-three");
    let logs = data.parent().unwrap().to_path_buf();
    let servers: Vec<Server> = (1..=3)
        .map(|n| {
            let mut command = Command::new(binary());
            command.args(server_args(&data));
            Server::start(&format!("server {n}"), command, &logs.join(format!("server-{n}.log")))
        })
        .collect();
    serve_through_live_ingest("one folder", servers, &source, &data, 9);
}

#[test]
fn servers_on_a_read_only_mount_and_as_another_user_follow_a_live_ingest() {
    let (source, data) = fixture_archive("replicas-read-only");
    let root = data.parent().unwrap().to_path_buf();
    // The folders up to the data folder must be open to `nobody`.
    for dir in root.ancestors().take_while(|d| d.starts_with(env!("CARGO_TARGET_TMPDIR"))) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let servers = vec![
        read_only_mount_server(&data, &root.join("view"), &root.join("read-only-mount.log")),
        other_user_server(&data, &root.join("other-user.log")),
    ];
    serve_through_live_ingest("read-only views", servers, &source, &data, 7);
}

/// `docs/replica-copy.sh DATA SNAPSHOT DEST GRACE`.
fn copy_round(data: &Path, snapshot: &Path, replica: &Path, grace_seconds: u32) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/replica-copy.sh");
    let status = Command::new("bash").arg(script).args([data, snapshot, replica]).arg(grace_seconds.to_string()).status().unwrap();
    assert!(status.success(), "replica-copy.sh: {status}");
}

#[test]
fn a_replica_copied_by_rsync_from_a_live_primary_never_serves_a_torn_state() {
    let (source, data) = fixture_archive("replicas-rsync");
    let root = data.parent().unwrap().to_path_buf();
    let (snapshot, replica) = (root.join("snapshot"), root.join("replica"));
    copy_round(&data, &snapshot, &replica, 0);
    let mut command = Command::new(binary());
    command.args(server_args(&replica));
    let process = Server::start("rsync replica", command, &root.join("replica.log"));
    let server = process.endpoint.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_all(std::slice::from_ref(&server), &stop).pop().unwrap();
    let restarts = {
        let (replica, stop) = (replica.clone(), stop.clone());
        thread::spawn(move || open_again_and_again(&replica, &stop))
    };
    let ingesting = Arc::new(AtomicBool::new(true));
    let copier = {
        let (data, snapshot, replica, ingesting) = (data.clone(), snapshot.clone(), replica.clone(), ingesting.clone());
        thread::spawn(move || {
            let mut rounds = Vec::new();
            while ingesting.load(Ordering::Relaxed) {
                let started = Instant::now();
                copy_round(&data, &snapshot, &replica, 2);
                rounds.push(started.elapsed());
            }
            rounds
        })
    };
    let notices = 9;
    live_ingest(&source, &data, notices, Duration::from_millis(400));
    ingesting.store(false, Ordering::Relaxed);
    let mut rounds = copier.join().expect("the copier failed");
    rounds.sort_unstable();
    // One more notice, and one round that brings it.
    write_notice(&source, notices + 1, false);
    assert_eq!(ingest(&source, &data).added, 1);
    let committed = Instant::now();
    let last_round = {
        let (data, snapshot, replica) = (data.clone(), snapshot.clone(), replica.clone());
        thread::spawn(move || copy_round(&data, &snapshot, &replica, 2))
    };
    let first = wait_first(&server, notices + 1);
    last_round.join().expect("the last copy round failed");
    stop.store(true, Ordering::Relaxed);
    let seen = watcher.join().expect("the replica's watcher failed");
    let opened = restarts.join().expect("the replica could not be opened");
    assert!(opened > notices, "the replica was opened only {opened} times");
    assert!(rounds.len() >= 2, "only {} copy rounds ran during the ingest", rounds.len());
    assert!(seen.searches > notices, "only {} searches checked", seen.searches);
    assert_eq!(get(server.addr, "/healthz").json()["documents"], SERVED + notices as u64 + 1);
    // The replica holds what the primary holds, and nothing else.
    let listing = |dir: &Path| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = walk(dir).into_iter().map(|p| p.strip_prefix(dir).unwrap().to_path_buf()).collect();
        files.retain(|p| !p.to_string_lossy().ends_with(".lock") && !p.ends_with("ingest.unfinished"));
        files.sort();
        files
    };
    assert_eq!(listing(&replica), listing(&data));
    eprintln!(
        "rsync replica: {} rounds during {notices} commits (each with a 2 s grace), median {:?}; a commit, then a round: \
         its notice first on the replica after {:?}",
        rounds.len(),
        rounds[rounds.len() / 2],
        first.duration_since(committed)
    );
}

/// Open the replica as a server starting then would, again and again
/// until `stop`: every commit it holds names files it holds, and its
/// documents only grow. Returns how many times it was opened.
fn open_again_and_again(replica: &Path, stop: &AtomicBool) -> usize {
    let (mut opened, mut documents) = (0, 0);
    while !stop.load(Ordering::Relaxed) {
        let archive = indexer::Archive::open(replica).unwrap_or_else(|e| panic!("a server starting now could not open the replica: {e}"));
        assert!(archive.num_docs() >= documents, "the replica went from {documents} to {} documents", archive.num_docs());
        documents = archive.num_docs();
        opened += 1;
    }
    opened
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
