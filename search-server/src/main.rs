//! `search-server`: serve a Yuelan data folder over HTTP.
//!
//! Run with no arguments from the workspace root for a demo: the data folder
//! is `./data`, and when it holds no index yet the sample `corpus/` is
//! ingested into it first.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use indexer::ingest::{self, IngestOptions};
use indexer::Archive;
use search_server::points::Points;
use search_server::querylog::QueryLog;
use search_server::{router, runtime, Config};
use tracing_subscriber::EnvFilter;

/// Serve a Yuelan data folder (written by `indexer ingest`) read-only over HTTP.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Data folder to serve [default: ./data, filled from ./corpus when it holds no index yet]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Folder to ingest first when the data folder holds no index yet
    /// [default: ./corpus when --data is not given, otherwise none]
    #[arg(long, value_name = "DIR")]
    seed: Option<PathBuf>,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// This server's address as readers reach it, encoded in QR codes
    /// [default: http://<ADDR>]
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Append the query log (one JSON line per search) to this file
    /// [default: the server log, target `query_log`]
    #[arg(long, value_name = "FILE")]
    query_log: Option<PathBuf>,
    /// Searches and other index work admitted at once (running on one of
    /// the 2 index threads per core or waiting for one); more get 503
    /// [default: 16 per core]
    #[arg(long, value_name = "N")]
    max_concurrent: Option<usize>,
    /// Seconds a request may take before it is answered 503
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    timeout: u64,
    /// Reading points' profiles (JSON: tag → {"name", "categories"}); a
    /// terminal started with /?kiosk=1&point=<tag> shows its name and start
    /// categories, and its searches are logged with `point`
    #[arg(long, value_name = "FILE")]
    profiles: Option<PathBuf>,
}

fn main() -> ExitCode {
    runtime::bound_malloc_arenas();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();
    let served = match runtime::build() {
        Ok(tokio) => tokio.block_on(serve(args)),
        Err(error) => Err(format!("cannot start the async runtime: {error}")),
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("search-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), String> {
    let (data, seed) = match args.data {
        Some(data) => (data, args.seed),
        None => (PathBuf::from("data"), Some(args.seed.unwrap_or_else(|| PathBuf::from("corpus")))),
    };
    let archive = open_or_seed(&data, seed.as_deref())?;
    let listener = tokio::net::TcpListener::bind(args.addr).await.map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let mut config = Config::new(args.public_url.unwrap_or_else(|| format!("http://{local}")));
    if points_to_this_machine(&config.public_url) {
        tracing::warn!(
            "the QR codes of the reading view encode {}, which only this machine can open: \
             give the address phones reach this server by with --public-url",
            config.public_url
        );
    }
    if let Some(path) = &args.profiles {
        config.points = Points::from_file(path)?;
    }
    config.timeout = Duration::from_secs(args.timeout);
    if let Some(n) = args.max_concurrent {
        config.max_concurrent = n;
    }
    if let Some(path) = &args.query_log {
        config.query_log = QueryLog::to_file(path).map_err(|e| format!("cannot open query log {}: {e}", path.display()))?;
    }
    println!("Yuelan serving {} documents at http://{local}", archive.num_docs());
    axum::serve(listener, router(archive, config))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server failed: {e}"))
}

/// Whether `url`'s host is a loopback address (127.0.0.0/8, ::1,
/// localhost) or unspecified (0.0.0.0), which a reader's phone cannot reach.
fn points_to_this_machine(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// Open the archive in `data`; when it holds no index yet and a `seed`
/// folder is given, ingest that first (the server's only write).
fn open_or_seed(data: &Path, seed: Option<&Path>) -> Result<Arc<Archive>, String> {
    match (Archive::open(data), seed) {
        (Ok(archive), _) => Ok(Arc::new(archive)),
        (Err(indexer::Error::NoIndex(_)), Some(seed)) => {
            tracing::info!("{} holds no index yet; ingesting {} first", data.display(), seed.display());
            let summary = ingest::run(&IngestOptions::new(vec![seed.to_path_buf()], data.to_path_buf())).map_err(|e| e.to_string())?;
            tracing::info!(added = summary.added, rejected = summary.rejected.len(), withheld = summary.withheld.len(), "ingested");
            Archive::open(data).map(Arc::new).map_err(|e| e.to_string())
        }
        (Err(error), _) => Err(error.to_string()),
    }
}

/// Resolves on ctrl-c or SIGTERM; in-flight requests are then finished.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for ctrl-c: {error}");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::points_to_this_machine;

    #[test]
    fn loopback_and_unspecified_public_urls_are_recognised() {
        for url in ["http://127.0.0.1:8080", "http://localhost:8080/", "http://[::1]:8080", "http://0.0.0.0:80", "http://127.1.2.3"] {
            assert!(points_to_this_machine(url), "{url}");
        }
        for url in ["http://192.168.1.20:8080", "https://yuelan.linhe.gov.cn", "http://[fe80::1]:8080"] {
            assert!(!points_to_this_machine(url), "{url}");
        }
    }
}
