//! Yuelan's search server: the read-only HTTP API of `shared/API.md`, the
//! server-rendered reading view and the embedded web UI, over a data folder
//! written by `indexer ingest`.
//!
//! The binary (`main.rs`) only parses options, opens the archive and serves
//! [`router`] on the bounded [`runtime`]; everything a test needs to run the
//! server in-process is here.

mod assets;
pub mod error;
mod http;
mod pages;
mod params;
pub mod points;
mod qr;
pub mod querylog;
mod results_page;
pub mod runtime;

pub use http::{router, Config};
