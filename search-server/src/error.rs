//! Every error the server answers with, and the one table that maps each to
//! its HTTP status and `{"error": …}` body, so the contract of API.md cannot
//! be broken by a handler that forgets it.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::rejection::PathRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use indexer::api::SearchError;

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_SECS: &str = "1";

/// Seconds between two log lines that count the 503s (busy, timed out):
/// a server refusing thousands of requests a second logs one line, not
/// one per request.
const REFUSALS_REPORTED_EVERY_SECS: u64 = 10;

/// Why a request was not answered with what it asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The request itself is malformed (bad percent-encoding, a number that
    /// is not one, a limit or offset out of bounds, …).
    BadRequest(String),
    /// No such document, page or route.
    NotFound(&'static str),
    /// 依申请公开: the document exists but its text and original are given
    /// out on application only.
    OnRequest,
    /// The API is read-only: only GET and HEAD are served.
    MethodNotAllowed,
    /// A request declared a body larger than the server accepts.
    PayloadTooLarge,
    /// Every search slot is taken; retry shortly.
    Busy,
    /// The request took longer than the per-request timeout.
    Timeout,
    /// A fault on our side: the message goes to the log only (it may name
    /// files of the data folder); the reader is told it happened.
    Internal(String),
}

impl ApiError {
    /// The table: status and message of each error.
    pub fn parts(&self) -> (StatusCode, Cow<'_, str>) {
        match self {
            ApiError::BadRequest(why) => (StatusCode::BAD_REQUEST, Cow::Borrowed(why.as_str())),
            ApiError::NotFound(what) => (StatusCode::NOT_FOUND, Cow::Borrowed(*what)),
            ApiError::OnRequest => (
                StatusCode::FORBIDDEN,
                Cow::Borrowed(
                    "该文件为依申请公开，网上不提供全文和原件。如需获取，请向发布机构提出政府信息公开申请。\
                     (on_request: this document's text and original are available on application to its publisher only)",
                ),
            ),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, Cow::Borrowed("this server is read-only: use GET")),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, Cow::Borrowed("request body too large")),
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, Cow::Borrowed("the server is busy; retry in a second")),
            ApiError::Timeout => {
                (StatusCode::SERVICE_UNAVAILABLE, Cow::Borrowed("the request took too long; retry in a second or narrow the search"))
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, Cow::Borrowed("internal error; it is in the server's log")),
        }
    }

    /// A 503 tells the client when to come back.
    pub fn retry_after(&self) -> Option<HeaderValue> {
        (self.parts().0 == StatusCode::SERVICE_UNAVAILABLE).then(|| HeaderValue::from_static(RETRY_AFTER_SECS))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(why) => tracing::error!("{why}"),
            ApiError::Busy | ApiError::Timeout => count_refusal(),
            _ => {}
        }
        let (status, message) = self.parts();
        let mut response = (status, Json(serde_json::json!({ "error": message }))).into_response();
        if let Some(retry) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, retry);
        }
        response
    }
}

/// 503s since the last line that reported them, and the second (Unix
/// time) of that line.
static REFUSALS: AtomicU64 = AtomicU64::new(0);
static REFUSALS_REPORTED_AT: AtomicU64 = AtomicU64::new(0);

/// Count one 503, and log the count at most every
/// [`REFUSALS_REPORTED_EVERY_SECS`] (the first one at once).
fn count_refusal() {
    REFUSALS.fetch_add(1, Ordering::Relaxed);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let last = REFUSALS_REPORTED_AT.load(Ordering::Relaxed);
    let due = now >= last + REFUSALS_REPORTED_EVERY_SECS;
    if due && REFUSALS_REPORTED_AT.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        let refused = REFUSALS.swap(0, Ordering::Relaxed);
        tracing::warn!("{refused} requests answered 503 (all search slots busy, or over the timeout) since the last such line; see --max-concurrent and --timeout");
    }
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::BadRequest(why) => ApiError::BadRequest(why),
            SearchError::Internal(why) => ApiError::Internal(why),
        }
    }
}

impl From<indexer::Error> for ApiError {
    fn from(error: indexer::Error) -> Self {
        ApiError::Internal(error.to_string())
    }
}

/// A path segment that does not decode to UTF-8 is the client's fault.
impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_tells_the_reader_nothing_of_the_server_s_files() {
        let why = "stored original of 7a8e (/srv/yuelan/data/blobs/b1/1ab6.zst) is missing: run `indexer verify`";
        let response = ApiError::Internal(why.to_string()).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_text(response);
        assert_eq!(body, r#"{"error":"internal error; it is in the server's log"}"#);
    }

    /// The body of `response` as text.
    fn body_text(response: Response) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = runtime.block_on(axum::body::to_bytes(response.into_body(), 1 << 16)).unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
