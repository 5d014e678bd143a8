//! Every error the server answers with, and the one table that maps each to
//! its HTTP status and `{"error": …}` body, so the contract of API.md cannot
//! be broken by a handler that forgets it.

use std::borrow::Cow;

use axum::extract::rejection::PathRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use indexer::api::SearchError;

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_SECS: &str = "1";

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
        if let ApiError::Internal(why) = &self {
            tracing::error!("{why}");
        }
        let (status, message) = self.parts();
        let mut response = (status, Json(serde_json::json!({ "error": message }))).into_response();
        if let Some(retry) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, retry);
        }
        response
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
