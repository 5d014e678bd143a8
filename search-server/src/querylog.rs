//! The archivists' query log: one JSON line per answered search, so they can
//! see what the public looks for and which searches find nothing. It holds
//! the query, filters and outcome, and never the client's address.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use indexer::api::{SearchRequest, SearchResponse};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Where query log lines go.
pub enum QueryLog {
    /// To the tracing subscriber, target `query_log` (stderr by default).
    Tracing,
    /// Appended to a file, one line per search.
    File(Mutex<File>),
}

/// One line of the log: the request as the API took it, and its outcome.
#[derive(Serialize)]
struct Line<'a> {
    time: String,
    #[serde(flatten)]
    request: &'a SearchRequest,
    total: usize,
    relaxed: bool,
    took_ms: f64,
    /// The reading point's tag ([`crate::points`]); absent for web users.
    #[serde(skip_serializing_if = "Option::is_none")]
    point: Option<&'a str>,
}

impl QueryLog {
    /// Append to `path`, creating it if needed.
    pub fn to_file(path: &Path) -> std::io::Result<QueryLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(QueryLog::File(Mutex::new(file)))
    }

    /// Record one answered search, from the reading point tagged `point`
    /// if any. A log that cannot be written is reported in the server log;
    /// it never fails the search.
    pub fn record(&self, request: &SearchRequest, response: &SearchResponse, point: Option<&str>) {
        let line = Line {
            time: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
            request,
            total: response.total,
            relaxed: response.relaxed,
            took_ms: response.took_ms,
            point,
        };
        let Ok(json) = serde_json::to_string(&line) else { return };
        match self {
            QueryLog::Tracing => tracing::info!(target: "query_log", "{json}"),
            QueryLog::File(file) => {
                let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if let Err(error) = file.write_all(format!("{json}\n").as_bytes()) {
                    tracing::warn!("cannot write the query log: {error}");
                }
            }
        }
    }
}
