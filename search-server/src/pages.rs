//! Pages rendered on the server, readable without JavaScript: the reading
//! view of one document, a plain result list for browsers without
//! JavaScript, and error pages. Every value is HTML-escaped; the only markup
//! taken from elsewhere is the archive's `<mark>`-only snippets and
//! highlights.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use indexer::api::{SearchRequest, Sort};
use indexer::archive::DocumentView;
use indexer::highlight::{escape_html as esc, mark_html, ranges_of};
use indexer::markdown;
use indexer::query::QueryPlan;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::ApiError;
use crate::http::{AppState, NO_SUCH_DOCUMENT};
use crate::{params, qr};

/// An error shown as a page, with the status of the API's error table.
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError(error)
    }
}

impl From<PathRejection> for PageError {
    fn from(rejection: PathRejection) -> Self {
        PageError(rejection.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, _) = self.0.parts();
        let message = match status {
            StatusCode::NOT_FOUND => "没有找到这份文件或页面。它可能已被撤下，或链接有误。",
            StatusCode::BAD_REQUEST => "链接有误，请回到首页重新搜索。",
            StatusCode::SERVICE_UNAVAILABLE => "系统繁忙，请稍等片刻再试。",
            _ => "系统出了点问题，请稍后再试。",
        };
        let body = format!(r#"<h1>出错了</h1><p class="notice error">{message}</p><p><a class="button" href="/">回到首页</a></p>"#);
        let mut response = (status, Html(layout("出错了", &body, false))).into_response();
        if let Some(retry) = self.0.retry_after() {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, retry);
        }
        response
    }
}

/// `GET /documents/{id}?q=…`: the reading view.
pub(crate) async fn document(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, PageError> {
    let Path(id) = id?;
    let pairs = params::pairs(raw.as_deref())?;
    let q = params::query_text(&pairs);
    let doc = state.run(move |state| Ok(state.archive.document(&id)?)).await?;
    let doc = doc.ok_or(ApiError::NotFound(NO_SUCH_DOCUMENT))?;
    Ok(Html(reading_view(&doc, &q, &list_url(&pairs), &state.public_url)))
}

/// The page frame shared by every server-rendered page.
fn layout(title: &str, body: &str, reading: bool) -> String {
    let script = if reading { r#"<script src="/static/reading.js" defer></script>"# } else { "" };
    format!(
        r##"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · 阅览</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
<script src="/static/common.js"></script>
{script}
</head>
<body>
<a class="skip" href="#main">跳到正文</a>
<header class="site">
<a class="brand" href="/">阅览 <span>政府信息公开查询</span></a>
<span id="point-name" class="point-name" hidden></span>
<button type="button" id="text-size" class="button" hidden>大字</button>
</header>
<main id="main">
{body}
</main>
</body>
</html>
"##,
        title = esc(title),
    )
}

/// Bytes escaped in a URL path segment or query value: all but letters,
/// digits and `-_~` (`.` too, so an id `..` cannot become a dot-segment).
const URL_PART: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

/// A value for a URL path segment or query value.
pub(crate) fn url_part(text: &str) -> String {
    utf8_percent_encode(text, URL_PART).to_string()
}

/// Keys of a result list's address: what 返回搜索 restores.
const LIST_KEYS: [&str; 9] = ["q", "category", "publisher", "disclosure", "year", "from", "to", "sort", "offset"];

/// The result list a document was opened from, `/?…` with the list keys of
/// its address (the start page when it has none).
fn list_url(pairs: &params::Pairs) -> String {
    let kept: Vec<String> = pairs
        .iter()
        .filter(|(key, value)| LIST_KEYS.contains(&key.as_str()) && !value.is_empty())
        .map(|(key, value)| format!("{key}={}", url_part(value)))
        .collect();
    if kept.is_empty() {
        "/".to_string()
    } else {
        format!("/?{}", kept.join("&"))
    }
}

/// 发布机构 · 文号 · 日期, leaving out what is unknown.
pub(crate) fn catalog_line(parts: &[&str]) -> String {
    let known: Vec<String> = parts.iter().filter(|p| !p.is_empty()).map(|p| esc(p)).collect();
    known.join(" · ")
}

fn disclosure_name(disclosure: &str) -> &str {
    match disclosure {
        "public" => "主动公开",
        "on_request" => "依申请公开",
        other => other,
    }
}

fn reading_view(doc: &DocumentView, q: &str, back: &str, public_url: &str) -> String {
    let opt = |field: &Option<String>| field.clone().unwrap_or_default();
    let date = doc.published_date.clone().or_else(|| doc.written_date.clone()).unwrap_or_default();
    let url = format!("{public_url}/documents/{}", url_part(&doc.id));
    let content = match (&doc.text, doc.text_unavailable) {
        (Some(text), _) => text_section(doc, text, q),
        (None, true) => UNAVAILABLE_SECTION.to_string(),
        (None, false) => on_request_section(doc),
    };
    let qr = qr::svg(&url, "本文件网址的二维码").unwrap_or_default();
    let body = format!(
        r#"<nav class="back"><a id="back" class="button" href="{back}">← 返回搜索</a></nav>
<article class="document">
<h1>{title}</h1>
<p class="catalog-line">{line}</p>
<aside class="take-away" aria-labelledby="take-away-title">
<figure class="qr">{qr}<figcaption><strong id="take-away-title">扫码带走</strong>用手机扫描二维码，在手机上阅读这份文件<span class="kiosk-only">，原件也请在手机上打开</span>。<br><span class="url">{url_text}</span></figcaption></figure>
</aside>
{table}
{content}
</article>"#,
        back = esc(back),
        title = esc(&doc.title),
        line = catalog_line(&[&opt(&doc.publisher), &opt(&doc.doc_number), &date]),
        table = catalog_table(doc),
        url_text = esc(&url),
    );
    layout(&doc.title, &body, true)
}

fn catalog_table(doc: &DocumentView) -> String {
    let rows = [
        ("索引号", doc.index_no.as_deref()),
        ("发布机构", doc.publisher.as_deref()),
        ("文号", doc.doc_number.as_deref()),
        ("成文日期", doc.written_date.as_deref()),
        ("发布日期", doc.published_date.as_deref()),
        ("主题分类", doc.category.as_deref()),
        ("公开属性", Some(disclosure_name(&doc.disclosure))),
        ("有效性", doc.validity.as_deref()),
    ];
    let cells: String = rows
        .iter()
        .filter_map(|(label, value)| value.filter(|v| !v.is_empty()).map(|v| (label, v)))
        .map(|(label, value)| format!("<div><dt>{label}</dt><dd>{}</dd></div>", esc(value)))
        .collect();
    format!(r#"<dl class="catalog">{cells}</dl>"#)
}

/// The full text with the query's matches marked, and the tools to move
/// between matches, print and fetch the original.
fn text_section(doc: &DocumentView, text: &str, q: &str) -> String {
    let needles = QueryPlan::new(q).highlights;
    let (marked, count, class) = if markdown::is_markdown(&doc.format) {
        let rendered = markdown::to_html(text, &needles);
        (rendered.html, rendered.matches, "text markdown")
    } else {
        let ranges = ranges_of(text, &needles);
        (mark_html(text, &ranges), ranges.len(), "text")
    };
    // The words looked for, as the search read them (not the query
    // syntax); the count is of places where any of them stands.
    let words = needles.iter().map(|n| format!("“{}”", esc(n))).collect::<Vec<_>>();
    let status = match (words.len(), count) {
        (0, _) => String::new(),
        (_, 0) => format!(r#"<p class="matches">本文中没有找到{}。</p>"#, words.join("、")),
        (1, n) => {
            format!(r#"<p class="matches" id="match-status" aria-live="polite">{}在本文中出现 {n} 处，已用黄底粗体标出。</p>"#, words[0])
        }
        (_, n) => format!(
            r#"<p class="matches" id="match-status" aria-live="polite">{}在本文中共出现 {n} 处（每个词分别计数），已用黄底粗体标出。</p>"#,
            words.join("或")
        ),
    };
    let next = if count > 0 {
        r#"<button type="button" id="next-match" class="button primary next-match" hidden>下一处 ↓</button>"#
    } else {
        ""
    };
    // A document without an original of its own (it shares its file with
    // documents that are not public) offers its text only.
    let download = if doc.sha256.is_empty() {
        String::new()
    } else {
        format!(
            r#"<a class="button download" href="/api/documents/{id}/original">下载原件（{format}，{size}）</a>"#,
            id = url_part(&doc.id),
            format = esc(&doc.format.to_uppercase()),
            size = human_size(doc.bytes),
        )
    };
    format!(
        r#"<div class="tools">
{status}
<button type="button" id="print" class="button" hidden>打印</button>
{download}
</div>
{next}
<div class="{class}" id="text">{marked}</div>"#
    )
}

/// 依申请公开: what the reader can do instead of reading here.
/// In place of the text of a public document whose original is missing
/// or damaged in the data folder (the server's log names it).
const UNAVAILABLE_SECTION: &str = r#"<section class="notice" aria-labelledby="unavailable">
<h2 id="unavailable">原文暂时无法显示</h2>
<p>这份文件的原件在本馆存档中暂时无法读取，工作人员修复后即可阅读。上面的目录信息可以照常使用；如急需全文，请向工作人员说明文件标题。</p>
</section>"#;

fn on_request_section(doc: &DocumentView) -> String {
    let publisher = doc.publisher.as_deref().filter(|p| !p.is_empty()).unwrap_or("发布机构");
    format!(
        r#"<section class="notice on-request" aria-labelledby="apply">
<h2 id="apply">依申请公开：如何获取这份文件</h2>
<p>这份文件属于依申请公开的政府信息，网上不提供全文和原件。</p>
<p>如需获取，请依照《中华人民共和国政府信息公开条例》，向{publisher}提出政府信息公开申请：
可以到行政审批服务中心或{publisher}的政府信息公开受理点当面填写申请表，也可以通过信函、传真或网上申请。
申请时请写明文件标题{number}，以及您的姓名和联系方式。</p>
</section>"#,
        publisher = esc(publisher),
        number = doc.doc_number.as_deref().filter(|n| !n.is_empty()).map(|n| format!("和文号（{}）", esc(n))).unwrap_or_default(),
    )
}

fn human_size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} 字节"),
        1024..1_048_576 => format!("{:.0} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// The query string of `request`'s list at `offset`: the query, filters,
/// date range, sort and page size, leaving out defaults.
pub(crate) fn list_query(request: &SearchRequest, offset: usize) -> String {
    let limit_text = request.limit.to_string();
    let offset_text = offset.to_string();
    let mut pairs = Vec::new();
    if !request.q.is_empty() {
        pairs.push(("q", request.q.as_str()));
    }
    for (key, values) in
        [("category", &request.category), ("publisher", &request.publisher), ("disclosure", &request.disclosure), ("year", &request.year)]
    {
        pairs.extend(values.iter().map(|v| (key, v.as_str())));
    }
    pairs.extend(request.from.as_deref().map(|from| ("from", from)));
    pairs.extend(request.to.as_deref().map(|to| ("to", to)));
    if request.sort != Sort::Relevance {
        pairs.push(("sort", request.sort.as_str()));
    }
    if request.limit != 0 {
        pairs.push(("limit", &limit_text));
    }
    if offset != 0 {
        pairs.push(("offset", &offset_text));
    }
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", url_part(v))).collect();
    query.join("&")
}
