//! Search requests and responses as the HTTP API (`GET /api/search`, see
//! API.md) and the evaluation command see them, with the limits every
//! request is held to.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Results per page when a request does not say.
pub const DEFAULT_LIMIT: usize = 10;
/// Largest page a request may ask for.
pub const MAX_LIMIT: usize = 100;
/// Deepest start offset served; deeper paging is refused (narrow the query).
pub const MAX_OFFSET: usize = 10_000;
/// Longest query text searched, in characters; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;

/// Result order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Relevance,
    DateDesc,
    DateAsc,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::Relevance, Sort::DateDesc, Sort::DateAsc];

    /// The name in URLs and JSON (`date_desc`).
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::DateDesc => "date_desc",
            Sort::DateAsc => "date_asc",
        }
    }
}

/// One search, as `GET /api/search` takes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    pub q: String,
    pub category: Vec<String>,
    pub publisher: Vec<String>,
    pub disclosure: Vec<String>,
    pub year: Vec<String>,
    /// Inclusive range on published_date, `YYYY-MM-DD`.
    pub from: Option<String>,
    pub to: Option<String>,
    pub sort: Sort,
    /// Page size; 0 means the default, [`DEFAULT_LIMIT`].
    pub limit: usize,
    pub offset: usize,
}

impl SearchRequest {
    /// The page size asked for, or the default.
    pub fn page_size(&self) -> usize {
        if self.limit == 0 {
            DEFAULT_LIMIT
        } else {
            self.limit
        }
    }
}

/// A result list, as `GET /api/search` answers.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResponse {
    pub query: String,
    pub total: usize,
    pub took_ms: f64,
    /// True when no document matched every word and the best partial
    /// matches are shown instead (each hit also says `partial`).
    pub relaxed: bool,
    /// One corrected query built from the archive's own words (homophone
    /// slips of pinyin input: 低宝 → 低保), when the query found nothing
    /// or only partial matches and a correction finds more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<String>,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

/// Counts per value of `category`, `publisher`, `year` and `disclosure`.
pub type Facets = BTreeMap<String, BTreeMap<String, u64>>;

/// One result.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: String,
    pub path: String,
    pub title: String,
    pub publisher: String,
    pub doc_number: String,
    pub category: String,
    pub published_date: String,
    pub disclosure: String,
    pub validity: String,
    pub score: f32,
    /// Matches only some of the query's words (listed after the documents
    /// that match them all).
    pub partial: bool,
    /// HTML-escaped text with `<mark>` around matches, nothing else.
    pub snippet: String,
}

/// Why a search was refused; everything else is answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    #[error("{0}")]
    BadRequest(String),
    #[error("search failed: {0}")]
    Internal(String),
}
