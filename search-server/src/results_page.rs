//! The search page (`/`, and `/search` for older links), rendered on the
//! server when its address holds a query or filters: the same page the
//! script drives, with the result list, filters, sort and pager filled in,
//! so it reads and pages without JavaScript. Filters, sort, pager and
//! examples are plain links and forms that keep the list. The API's answer
//! rides along as a JSON data block, which the script shows instead of
//! searching (and logging) the same list twice.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use indexer::api::{Hit, SearchRequest, SearchResponse, Sort};
use indexer::highlight::escape_html as esc;

use crate::assets::INDEX_HTML;
use crate::http::{AppState, ASSET_CACHE};
use crate::pages::{catalog_line, list_query, url_part, PageError};
use crate::params;

/// Facet groups as the page shows them: API name, heading, most values shown.
const GROUPS: [(&str, &str, usize); 4] =
    [("category", "分类", 12), ("year", "年份", 12), ("publisher", "发布机构", 10), ("disclosure", "公开属性", 4)];

/// `GET /`: the start page, or the results of the list in the address.
pub(crate) async fn search_page(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let pairs = params::pairs(raw.as_deref())?;
    let request = params::list_request(&pairs);
    if request.q.trim().is_empty() && !has_filters(&request) {
        return Ok(([(header::CACHE_CONTROL, ASSET_CACHE)], Html(INDEX_HTML)).into_response());
    }
    let response = state.search(request.clone(), params::point(&pairs)).await?;
    Ok(Html(render(&request, &response)).into_response())
}

fn has_filters(request: &SearchRequest) -> bool {
    [&request.category, &request.publisher, &request.disclosure, &request.year].iter().any(|values| !values.is_empty())
        || request.from.is_some()
        || request.to.is_some()
}

/// Fill the search page's parts. Each part is found by its exact markup
/// in `static/index.html` (the tests render a list, so a changed page
/// cannot silently lose one).
fn render(request: &SearchRequest, response: &SearchResponse) -> String {
    let mut page = INDEX_HTML.to_string();
    let mut fill = |at: &str, with: &str| page = page.replacen(at, with, 1);
    fill(r#"<title>阅览 · 政府信息公开查询</title>"#, &format!("<title>{} · 搜索 · 阅览</title>", esc(&request.q)));
    fill(r#"id="q" name="q""#, &format!(r#"id="q" name="q" value="{}""#, esc(&request.q)));
    fill(r#"<section id="start" class="start""#, r#"<section id="start" class="start" hidden"#);
    fill(r#"aria-label="搜索结果" hidden>"#, r#"aria-label="搜索结果">"#);
    fill(r#"aria-live="polite"></p>"#, &format!(r#"aria-live="polite">{}</p>"#, summary(request, response)));
    fill(r#"<span id="sort-keep"></span>"#, &format!(r#"<span id="sort-keep">{}</span>"#, kept_inputs(request, false)));
    fill(r#"<span id="date-keep"></span>"#, &format!(r#"<span id="date-keep">{}</span>"#, kept_inputs(request, true)));
    let sort = request.sort.as_str();
    fill(&format!(r#"<option value="{sort}">"#), &format!(r#"<option value="{sort}" selected>"#));
    if let Some(from) = &request.from {
        fill(r#"name="from" type="date""#, &format!(r#"name="from" type="date" value="{}""#, esc(from)));
    }
    if let Some(to) = &request.to {
        fill(r#"name="to" type="date""#, &format!(r#"name="to" type="date" value="{}""#, esc(to)));
    }
    if let Some(fix) = &response.did_you_mean {
        fill(
            r#"class="notice" hidden>您是不是要找：<a id="did-you-mean-link" class="link-button" href="/"></a>"#,
            &format!(
                r#"class="notice">您是不是要找：<a id="did-you-mean-link" class="link-button" href="/?q={}">{}</a>"#,
                url_part(fix),
                esc(fix)
            ),
        );
    }
    if response.relaxed {
        fill(r#"<p id="relaxed" class="notice" hidden>"#, r#"<p id="relaxed" class="notice">"#);
    }
    if has_filters(request) {
        fill(r#"aria-label="已选的筛选条件" hidden></div>"#, &format!(r#"aria-label="已选的筛选条件">{}</div>"#, active_filters(request)));
    }
    fill(r#"aria-label="筛选条件"></div>"#, &format!(r#"aria-label="筛选条件">{}</div>"#, filters(request, response)));
    if response.total == 0 {
        fill(
            r#"<div id="message" class="message" hidden></div>"#,
            &format!(r#"<div id="message" class="message">{}</div>"#, tips(request)),
        );
    }
    fill(r#"<ol id="results" class="results"></ol>"#, &format!(r#"<ol id="results" class="results">{}</ol>"#, items(request, response)));
    fill(r#"aria-label="翻页"></nav>"#, &format!(r#"aria-label="翻页">{}</nav>"#, pager(request, response)));
    fill("</main>", &format!("{}\n</main>", data_block(request, response)));
    page
}

fn summary(request: &SearchRequest, response: &SearchResponse) -> String {
    let limit = request.page_size();
    match response.total {
        0 => "没有找到相关文件".to_string(),
        n if n > limit => format!("找到 {n} 份文件，这是第 {}–{} 份", request.offset + 1, request.offset + response.hits.len()),
        n => format!("找到 {n} 份文件"),
    }
}

/// Hidden inputs that carry the list into a form: the query, the filters,
/// and either the sort (the date form) or the date range (the sort form).
fn kept_inputs(request: &SearchRequest, for_dates: bool) -> String {
    let mut pairs = vec![("q", request.q.as_str())];
    for (key, values) in groups(request) {
        pairs.extend(values.iter().map(|v| (key, v.as_str())));
    }
    if for_dates {
        if request.sort != Sort::Relevance {
            pairs.push(("sort", request.sort.as_str()));
        }
    } else {
        pairs.extend(request.from.as_deref().map(|from| ("from", from)));
        pairs.extend(request.to.as_deref().map(|to| ("to", to)));
    }
    pairs.iter().map(|(k, v)| format!(r#"<input type="hidden" name="{k}" value="{}">"#, esc(v))).collect()
}

fn groups(request: &SearchRequest) -> [(&'static str, &Vec<String>); 4] {
    [("category", &request.category), ("year", &request.year), ("publisher", &request.publisher), ("disclosure", &request.disclosure)]
}

/// The values of filter `key` in `request`.
fn values<'a>(request: &'a SearchRequest, key: &str) -> &'a [String] {
    match key {
        "category" => &request.category,
        "year" => &request.year,
        "publisher" => &request.publisher,
        _ => &request.disclosure,
    }
}

/// The values of filter `key` in `request`, to change.
fn values_mut<'a>(request: &'a mut SearchRequest, key: &str) -> &'a mut Vec<String> {
    match key {
        "category" => &mut request.category,
        "year" => &mut request.year,
        "publisher" => &mut request.publisher,
        _ => &mut request.disclosure,
    }
}

fn value_name(key: &str, value: &str) -> String {
    match (key, value) {
        ("disclosure", "public") => "主动公开".to_string(),
        ("disclosure", "on_request") => "依申请公开".to_string(),
        _ => value.to_string(),
    }
}

/// A link to `request` changed by `change`, on its first page.
fn changed(request: &SearchRequest, change: impl FnOnce(&mut SearchRequest)) -> String {
    let mut next = request.clone();
    change(&mut next);
    let query = list_query(&next, 0);
    esc(&if query.is_empty() { "/".to_string() } else { format!("/?{query}") })
}

/// Each chosen filter as a link that removes it, and 清除全部筛选.
fn active_filters(request: &SearchRequest) -> String {
    let mut links = String::new();
    for (key, heading, _) in GROUPS {
        for value in values(request, key) {
            let href = changed(request, |next| values_mut(next, key).retain(|v| v != value));
            let text = format!("{heading}：{}", value_name(key, value));
            links.push_str(&chip_link(&href, &text, "去掉筛选："));
        }
    }
    if request.from.is_some() || request.to.is_some() {
        let range = format!("{} 至 {}", request.from.as_deref().unwrap_or("最早"), request.to.as_deref().unwrap_or("今天"));
        let href = changed(request, |next| (next.from, next.to) = (None, None));
        links.push_str(&chip_link(&href, &format!("发布日期：{range}"), "去掉筛选："));
    }
    let all = changed(request, |next| {
        *next = SearchRequest { q: next.q.clone(), sort: next.sort, ..SearchRequest::default() };
    });
    links.push_str(&format!(r#"<a class="button" href="{all}">清除全部筛选</a>"#));
    links
}

fn chip_link(href: &str, text: &str, label: &str) -> String {
    format!(
        r#"<a class="chip removable" href="{href}" aria-label="{label}{text}"><span>{text}</span><span class="remove">×</span></a>"#,
        text = esc(text),
    )
}

/// The facet values of each group as links that add or remove the filter.
fn filters(request: &SearchRequest, response: &SearchResponse) -> String {
    let mut html = String::new();
    for (key, heading, max) in GROUPS {
        let counts = response.facets.get(key).cloned().unwrap_or_default();
        let mut counted: Vec<(&String, &u64)> = counts.iter().collect();
        if key == "year" {
            counted.sort_by(|a, b| b.0.cmp(a.0));
        } else {
            counted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        }
        let chosen = values(request, key);
        let mut shown: Vec<(String, u64)> = counted.into_iter().take(max).map(|(v, n)| (v.clone(), *n)).collect();
        for value in chosen {
            if !shown.iter().any(|(v, _)| v == value) {
                shown.push((value.clone(), 0));
            }
        }
        if shown.is_empty() {
            continue;
        }
        html.push_str(&format!(
            r#"<div class="filter-group" role="group" aria-labelledby="filter-{key}"><h2 id="filter-{key}">{heading}</h2>"#
        ));
        for (value, count) in shown {
            let on = chosen.contains(&value);
            let href = changed(request, |next| {
                let list = values_mut(next, key);
                if on {
                    list.retain(|v| *v != value);
                } else {
                    list.push(value.clone());
                }
            });
            let name = esc(&value_name(key, &value));
            html.push_str(&format!(
                r#"<a class="chip{class}" href="{href}"{current}><span>{name}</span> <span class="count">{count} 份</span></a>"#,
                class = if on { " chosen" } else { "" },
                current = if on { r#" aria-current="true""# } else { "" },
            ));
        }
        html.push_str("</div>");
    }
    html
}

fn tips(request: &SearchRequest) -> String {
    let clear = if has_filters(request) {
        let all = changed(request, |next| *next = SearchRequest { q: next.q.clone(), sort: next.sort, ..SearchRequest::default() });
        format!(r#"<li><a class="button" href="{all}">去掉所有筛选条件</a></li>"#)
    } else {
        String::new()
    };
    format!("<p>可以试试：</p><ul><li>减少几个词，或换一个说法</li><li>检查错别字</li>{clear}</ul>")
}

/// The hits, as the script renders them; partial matches after a divider.
fn items(request: &SearchRequest, response: &SearchResponse) -> String {
    let first_partial = response.hits.iter().position(|h| h.partial).filter(|_| !response.relaxed);
    let list = esc(&list_query(request, request.offset));
    let mut html = String::new();
    for (i, hit) in response.hits.iter().enumerate() {
        if Some(i) == first_partial {
            html.push_str(r#"<li class="notice partial-divider">以下文件只包含部分搜索词</li>"#);
        }
        let mut badges = String::new();
        if hit.disclosure == "on_request" {
            badges.push_str(r#"<span class="badge">依申请公开</span>"#);
        }
        if !hit.validity.is_empty() && hit.validity != "有效" {
            badges.push_str(&format!(r#"<span class="badge">{}</span>"#, esc(&hit.validity)));
        }
        let snippet = if hit.snippet.is_empty() { String::new() } else { format!(r#"<p class="snippet">{}</p>"#, hit.snippet) };
        let title = if hit.title.is_empty() { &hit.path } else { &hit.title };
        let shared = response.hits.iter().filter(|other| other.title == hit.title).count() > 1;
        let extra = if shared { format!(r#"<span class="title-extra">（{}）</span>"#, esc(&distinction(hit))) } else { String::new() };
        html.push_str(&format!(
            r#"<li class="result"><a class="result-title" href="/documents/{id}?{list}">{title}{extra}</a><p class="catalog-line">{line}</p>{badges}{snippet}</li>"#,
            id = url_part(&hit.id),
            title = esc(title),
            line = catalog_line(&[&hit.publisher, &hit.doc_number, &hit.published_date]),
        ));
    }
    html
}

/// What tells apart documents of the same title: the year and the
/// publisher, or else the file's name.
fn distinction(hit: &Hit) -> String {
    let year = hit.published_date.get(..4).map(|year| format!("{year}年"));
    let parts: Vec<String> = year.into_iter().chain(Some(hit.publisher.clone()).filter(|p| !p.is_empty())).collect();
    if !parts.is_empty() {
        return parts.join(" · ");
    }
    let name = hit.path.rsplit('/').next().unwrap_or(&hit.path);
    name.rsplit_once('.').map_or(name, |(stem, _)| stem).to_string()
}

/// Previous / next links that keep the query, filters, date range, sort
/// and page size.
fn pager(request: &SearchRequest, response: &SearchResponse) -> String {
    let limit = request.page_size();
    let href = |offset: usize| esc(&format!("/?{}", list_query(request, offset)));
    let mut links = Vec::new();
    if request.offset > 0 {
        links.push(format!(r#"<a class="button" href="{}">上一页</a>"#, href(request.offset.saturating_sub(limit))));
    }
    if request.offset + limit < response.total {
        links.push(format!(r#"<a class="button" href="{}">下一页</a>"#, href(request.offset + limit)));
    }
    links.join("")
}

/// The API's answer for the script, in a data block it never runs (`<`
/// escaped, so no text in it can close the element).
fn data_block(request: &SearchRequest, response: &SearchResponse) -> String {
    let json = serde_json::to_string(response).unwrap_or_default().replace('<', "\\u003c");
    format!(
        r#"<script type="application/json" id="initial-results" data-list="{}">{json}</script>"#,
        esc(&list_query(request, request.offset))
    )
}
