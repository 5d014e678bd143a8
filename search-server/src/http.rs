//! The router: the routes of API.md, and the bounds every request is held to
//! (GET only, small bodies, a per-request timeout, a cap on concurrent index
//! work answered with 503 + Retry-After), plus the security headers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{BoxError, Json, Router};
use indexer::api::{SearchRequest, SearchResponse};
use indexer::archive::{DocumentView, Original, Stats, Suggestions};
use indexer::Archive;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::points::Points;
use crate::querylog::QueryLog;
use crate::{assets, pages, params, results_page};

/// Largest request body accepted. Every route is GET, so any body is
/// unexpected; this only keeps a client from declaring a huge one.
const MAX_BODY_BYTES: u64 = 16 * 1024;
/// Suggestions returned by `/api/suggest`.
const SUGGESTIONS: usize = 8;
/// Message of a 404 for an id the archive does not serve.
pub(crate) const NO_SUCH_DOCUMENT: &str = "no such document";
/// Message of a 404 for the original of a public document that shares its
/// file with documents that are not public.
const NOT_SEPARABLE: &str = "本文件的原件与不公开的文件合为一个文件，网上只提供全文。\
                             (this document's original is one file with documents that are not public; only its text is served)";
/// Pages and scripts change only with the binary; a short cache keeps a
/// terminal fast without serving an old UI for long after an upgrade.
pub(crate) const ASSET_CACHE: &str = "public, max-age=300";
/// No inline script or style anywhere: scripts and styles come from
/// `/static/`, the QR code is inline SVG, the favicon a `data:` URL.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/// Originals that a browser would run as a page (HTML, SVG) are shown in a
/// sandbox: their scripts cannot run as this site.
const ORIGINAL_CSP: &str = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'";

/// How a server is run; [`Config::new`] gives the defaults.
pub struct Config {
    /// Searches and other index work admitted at once: running on one of
    /// the blocking pool's threads ([`crate::runtime::index_threads`] in
    /// the binary) or waiting for one. Further requests are answered 503
    /// with `Retry-After` instead of queueing.
    pub max_concurrent: usize,
    /// Longest a request may take before it is answered 503.
    pub timeout: Duration,
    /// This server's address as readers reach it (`http://host:port`),
    /// encoded in the reading view's QR code.
    pub public_url: String,
    pub query_log: QueryLog,
    /// The reading points' profiles ([`Points`]); none by default.
    pub points: Points,
}

impl Config {
    /// Defaults: sixteen index tasks per core (at two, sixteen terminals
    /// searching at once got 503s), a 5-second timeout, the query log
    /// through tracing.
    pub fn new(public_url: impl Into<String>) -> Config {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Config {
            max_concurrent: 16 * cores,
            timeout: Duration::from_secs(5),
            public_url: public_url.into(),
            query_log: QueryLog::Tracing,
            points: Points::default(),
        }
    }
}

/// What every handler shares.
pub(crate) struct AppState {
    pub(crate) archive: Arc<Archive>,
    permits: Arc<Semaphore>,
    /// The per-request timeout ([`Config::timeout`]).
    timeout: Duration,
    pub(crate) public_url: String,
    query_log: QueryLog,
    points: Points,
}

impl AppState {
    /// Run index work on the blocking pool, holding one of the
    /// `max_concurrent` permits until the work is done, even if the request
    /// timed out meanwhile: the cap bounds real work, not waiting clients.
    /// The pool's own bound on threads decides how much of it runs at once.
    pub(crate) async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = Arc::clone(&self.permits).try_acquire_owned().map_err(|_| ApiError::Busy)?;
        let state = Arc::clone(self);
        let deadline = Instant::now() + self.timeout;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // Work that waited for a blocking thread past the request's
            // deadline is not started: its client has had its 503.
            if Instant::now() >= deadline {
                return Err(ApiError::Timeout);
            }
            work(&state)
        })
        .await
        .map_err(|failed| ApiError::Internal(format!("index work failed: {failed}")))?
    }

    /// Search and log the search for the archivists, with the tag of the
    /// reading point it came from when `point` names a known one.
    pub(crate) async fn search(self: &Arc<Self>, request: SearchRequest, point: Option<String>) -> Result<SearchResponse, ApiError> {
        self.run(move |state| {
            let response = state.archive.search(&request)?;
            let point = point.as_deref().and_then(|tag| state.points.get(tag)).map(|(tag, _)| tag);
            state.query_log.record(&request, &response, point);
            Ok(response)
        })
        .await
    }
}

/// The whole server as one router.
pub fn router(archive: Arc<Archive>, config: Config) -> Router {
    let state = Arc::new(AppState {
        archive,
        permits: Arc::new(Semaphore::new(config.max_concurrent)),
        timeout: config.timeout,
        public_url: config.public_url.trim_end_matches('/').to_string(),
        query_log: config.query_log,
        points: config.points,
    });
    Router::new()
        .route("/", get(results_page::search_page))
        .route("/search", get(results_page::search_page))
        .route("/documents/{id}", get(pages::document))
        .route("/static/{file}", get(asset))
        .route("/healthz", get(healthz))
        .route("/api/search", get(search))
        .route("/api/documents/{id}", get(document))
        .route("/api/documents/{id}/original", get(original))
        .route("/api/suggest", get(suggest))
        .route("/api/stats", get(stats))
        .route("/api/points/{tag}", get(point))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn(limit_body))
        .layer(ServiceBuilder::new().layer(HandleErrorLayer::new(timed_out)).timeout(config.timeout))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff", true))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer", true))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP, false))
        // Failures are logged where they are answered (`ApiError`): an
        // internal error with its cause, 503s counted, not one per request.
        .layer(TraceLayer::new_for_http().on_failure(()))
        .with_state(state)
}

/// A response header set on every response; `force` overrides a handler's.
fn header_layer(name: HeaderName, value: &'static str, force: bool) -> SetResponseHeaderLayer<HeaderValue> {
    let value = HeaderValue::from_static(value);
    if force {
        SetResponseHeaderLayer::overriding(name, value)
    } else {
        SetResponseHeaderLayer::if_not_present(name, value)
    }
}

async fn timed_out(error: BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::Timeout
    } else {
        ApiError::Internal(error.to_string())
    }
}

async fn limit_body(request: Request, next: Next) -> Response {
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|bytes| bytes > MAX_BODY_BYTES) {
        return ApiError::PayloadTooLarge.into_response();
    }
    next.run(request).await
}

/// API paths answer JSON, everything else a page a person can read.
async fn not_found(uri: Uri) -> Response {
    let error = ApiError::NotFound("no such page or API route");
    if uri.path().starts_with("/api/") || uri.path() == "/healthz" {
        error.into_response()
    } else {
        pages::PageError(error).into_response()
    }
}

async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    let asset = assets::get(&file).ok_or(ApiError::NotFound("no such file"))?;
    Ok(([(header::CONTENT_TYPE, asset.content_type), (header::CACHE_CONTROL, ASSET_CACHE)], asset.body).into_response())
}

async fn healthz(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "documents": state.archive.num_docs(), "commit": state.archive.commit() }))
}

async fn search(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Result<Json<SearchResponse>, ApiError> {
    let pairs = params::pairs(raw.as_deref())?;
    let request = params::search_request(&pairs)?;
    Ok(Json(state.search(request, params::point(&pairs)).await?))
}

/// `GET /api/points/{tag}`: a reading point's profile, for its terminal's
/// start screen.
async fn point(State(state): State<Arc<AppState>>, tag: Result<Path<String>, PathRejection>) -> Result<Json<serde_json::Value>, ApiError> {
    let Path(tag) = tag?;
    let (tag, point) = state.points.get(&tag).ok_or(ApiError::NotFound("no such reading point"))?;
    Ok(Json(serde_json::json!({ "point": tag, "name": point.name, "categories": point.categories })))
}

async fn document(State(state): State<Arc<AppState>>, id: Result<Path<String>, PathRejection>) -> Result<Json<DocumentView>, ApiError> {
    let Path(id) = id?;
    let view = state.run(move |state| Ok(state.archive.document(&id)?)).await?;
    view.map(Json).ok_or(ApiError::NotFound(NO_SUCH_DOCUMENT))
}

async fn original(State(state): State<Arc<AppState>>, id: Result<Path<String>, PathRejection>) -> Result<Response, ApiError> {
    let Path(id) = id?;
    match state.run(move |state| Ok(state.archive.original(&id)?)).await? {
        Original::NotFound => Err(ApiError::NotFound(NO_SUCH_DOCUMENT)),
        Original::OnRequest => Err(ApiError::OnRequest),
        Original::NotSeparable => Err(ApiError::NotFound(NOT_SEPARABLE)),
        Original::Found { bytes, content_type, file_name } => {
            let disposition = format!("inline; filename*=UTF-8''{}", utf8_percent_encode(&file_name, NON_ALPHANUMERIC));
            let active = ["text/html", "application/xhtml", "image/svg"].iter().any(|active| content_type.starts_with(active));
            let mut response = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            if active {
                headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(ORIGINAL_CSP));
            }
            Ok(response)
        }
    }
}

async fn suggest(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Result<Json<Suggestions>, ApiError> {
    let q = params::query_text(&params::pairs(raw.as_deref())?);
    if q.trim().is_empty() {
        return Ok(Json(Suggestions::default()));
    }
    Ok(Json(state.run(move |state| Ok(state.archive.suggest(&q, SUGGESTIONS)?)).await?))
}

async fn stats(State(state): State<Arc<AppState>>) -> Result<Json<Stats>, ApiError> {
    Ok(Json(state.run(|state| Ok(state.archive.stats()?)).await?))
}
