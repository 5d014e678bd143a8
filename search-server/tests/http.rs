//! The HTTP contract of API.md and the server's rules, checked against a
//! fixture archive served in-process: disclosure, hostile input, bounds,
//! errors as JSON, escaping, reload, back-pressure and the query log.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use search_server::querylog::QueryLog;

/// The fixture archive, shared by every test that only reads it.
fn data() -> &'static Path {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| fixture_archive("http").1)
}

/// One server over the fixture archive, shared by the tests that need no
/// special configuration.
fn server() -> SocketAddr {
    static SERVER: OnceLock<SocketAddr> = OnceLock::new();
    *SERVER.get_or_init(|| serve(data(), config()))
}

fn search(q: &str) -> serde_json::Value {
    let reply = get(server(), &format!("/api/search?q={}", enc(q)));
    assert_eq!(reply.status, 200, "{q}: {}", reply.text());
    reply.json()
}

fn hit_ids(response: &serde_json::Value) -> Vec<String> {
    response["hits"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_string()).collect()
}

/// A 4xx answer whose body is `{"error": "…"}`.
fn assert_json_error(reply: &Reply, status: u16, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", String::from_utf8_lossy(&reply.body));
    assert!(reply.header("content-type").unwrap_or("").starts_with("application/json"), "{what}: {:?}", reply.headers);
    assert!(reply.json()["error"].as_str().is_some_and(|e| !e.is_empty()), "{what}: {}", reply.text());
}

#[test]
fn healthz_reports_ok_and_the_document_count() {
    let reply = get(server(), "/healthz");
    assert_eq!(reply.status, 200);
    let health = reply.json();
    assert_eq!((&health["status"], &health["documents"]), (&serde_json::json!("ok"), &serde_json::json!(SERVED)));
    let commit = health["commit"].as_str().unwrap();
    assert!(commit.len() == 16 && commit.chars().all(|c| c.is_ascii_hexdigit()), "{health}");
}

#[test]
fn a_chinese_word_finds_the_public_document_with_a_highlighted_snippet() {
    let response = search("低保");
    assert_eq!(hit_ids(&response)[0], DIBAO, "{response}");
    let hit = &response["hits"][0];
    assert_eq!(hit["title"], "关于调整2022年城乡低保标准的通知");
    assert_eq!(hit["publisher"], "临河区民政局");
    assert_eq!(hit["doc_number"], "临民发〔2022〕3号");
    assert_eq!(hit["category"], "社会救助");
    assert_eq!(hit["disclosure"], "public");
    assert!(hit["snippet"].as_str().unwrap().contains("<mark>低保</mark>"), "{hit}");
    assert_eq!(response["query"], "低保");
    assert!(response["took_ms"].is_number() && response["relaxed"] == false);
}

#[test]
fn repeatable_filters_combine_and_facets_count_values() {
    let both = get(server(), &format!("/api/search?category={}&category={}", enc("社会救助"), enc("征地拆迁"))).json();
    let mut ids = hit_ids(&both);
    ids.sort();
    assert_eq!(ids, vec![DIBAO, ZHENGDI], "{both}");
    assert_eq!(both["facets"]["category"]["社会救助"], 1, "{both}");
    let one = get(server(), &format!("/api/search?q={}&year=2024", enc("经费"))).json();
    assert_eq!(hit_ids(&one), vec![SANGONG], "{one}");
    let none = get(server(), &format!("/api/search?q={}&year=2024", enc("低保"))).json();
    assert_eq!(none["total"], 0, "{none}");
}

#[test]
fn facet_counts_of_a_filtered_group_leave_out_its_own_filter() {
    let found = get(server(), &format!("/api/search?q={}&category={}", enc("低保"), enc("社会救助"))).json();
    assert_eq!(hit_ids(&found), vec![DIBAO], "{found}");
    // The category counts are those without the category filter; the other
    // groups count what the filter leaves.
    assert_eq!(found["facets"]["category"], serde_json::json!({"社会救助": 1, "通知公告": 1}), "{found}");
    assert_eq!(found["facets"]["year"], serde_json::json!({"2022": 1}), "{found}");
    let both = get(server(), &format!("/api/search?q={}&category={}&year=2023", enc("低保"), enc("社会救助"))).json();
    assert_eq!(both["total"], 0, "{both}");
    assert_eq!(both["facets"]["category"], serde_json::json!({"通知公告": 1}), "{both}");
    assert_eq!(both["facets"]["year"], serde_json::json!({"2022": 1}), "{both}");
}

#[test]
fn sort_by_date_orders_hits_and_a_bad_sort_is_a_400() {
    let newest = get(server(), "/api/search?disclosure=public&sort=date_desc").json();
    let dates: Vec<&str> = newest["hits"].as_array().unwrap().iter().map(|h| h["published_date"].as_str().unwrap()).collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);
    assert_eq!(dates.len(), 5, "{newest}");
    assert_json_error(&get(server(), "/api/search?q=a&sort=sideways"), 400, "sort=sideways");
}

#[test]
fn withheld_documents_never_appear_anywhere() {
    assert_eq!(search(WITHHELD_WORD)["total"], 0);
    assert!(!search("低保").to_string().contains(WITHHELD_WORD));
    let suggest = get(server(), &format!("/api/suggest?q={}", enc("困难群众"))).text();
    assert!(!suggest.contains(WITHHELD_WORD), "{suggest}");
    let stats = get(server(), "/api/stats").json();
    assert!(stats["disclosure"].get("withheld").is_none(), "{stats}");
    assert_eq!(get(server(), "/api/documents/withheld-list").status, 404);
    assert_eq!(get(server(), "/api/documents/withheld-list/original").status, 404);
    assert_eq!(get(server(), "/documents/withheld-list").status, 404);
}

#[test]
fn on_request_documents_are_found_by_title_but_give_out_no_text() {
    let response = search(ON_REQUEST_TITLE_WORD);
    assert_eq!(hit_ids(&response), vec![ON_REQUEST], "{response}");
    assert_eq!(response["hits"][0]["disclosure"], "on_request");
    assert!(!response.to_string().contains(ON_REQUEST_SECRET), "{response}");
    assert_eq!(search(ON_REQUEST_SECRET)["total"], 0, "the text of an on_request document is not searchable");

    let doc = get(server(), &format!("/api/documents/{ON_REQUEST}")).json();
    assert_eq!(doc["title"], "临河区信访积案化解内部工作方案");
    assert_eq!(doc["disclosure"], "on_request");
    assert!(doc.get("text").is_none(), "{doc}");

    let original = get(server(), &format!("/api/documents/{ON_REQUEST}/original"));
    assert_json_error(&original, 403, "on_request original");
    assert!(original.json()["error"].as_str().unwrap().contains("依申请公开"));

    let page = get(server(), &format!("/documents/{ON_REQUEST}?q={}", enc(ON_REQUEST_TITLE_WORD)));
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("依申请公开") && html.contains("政府信息公开申请") && html.contains("临河区信访局"), "{html}");
    assert!(!html.contains(ON_REQUEST_SECRET) && !html.contains("/original"), "{html}");
}

#[test]
fn document_json_has_the_catalog_fields_and_text() {
    let doc = get(server(), &format!("/api/documents/{DIBAO}")).json();
    for field in ["id", "path", "title", "publisher", "doc_number", "published_date", "category", "disclosure", "format", "bytes", "sha256"]
    {
        assert!(doc.get(field).is_some(), "{field} missing: {doc}");
    }
    assert_eq!(doc["path"], "社会救助/关于调整2022年城乡低保标准的通知.txt");
    assert!(doc["text"].as_str().unwrap().contains("780元"));
}

#[test]
fn originals_are_byte_identical_with_their_content_type() {
    let reply = get(server(), &format!("/api/documents/{DIBAO}/original"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, fixture_bytes("低保标准"));
    assert!(reply.header("content-type").unwrap().starts_with("text/plain"), "{:?}", reply.headers);
    assert!(reply.header("content-disposition").unwrap().contains("filename*=UTF-8''"), "{:?}", reply.headers);
}

#[test]
fn a_gbk_or_big5_original_is_served_with_its_own_charset_so_it_reads_as_written() {
    let root = scratch("charsets");
    let (source, data) = (root.join("source"), root.join("data"));
    let notice = "关于调整城乡居民最低生活保障标准的通知\n各乡镇人民政府：\n城市低保标准调整为每人每月780元。\n";
    let page = format!("<html><head><meta charset=\"gbk\"><title>供水价格调整公告</title></head><body><p>{notice}</p></body></html>");
    let traditional = "關於調整公共交通票價的公告\n普通公交票價每人次一元。\n";
    std::fs::create_dir_all(&source).unwrap();
    let files = [
        ("低保通知.txt", encoding_rs::GBK.encode(notice).0, "text/plain; charset=gb18030"),
        ("供水公告.html", encoding_rs::GBK.encode(&page).0, "text/html; charset=gb18030"),
        ("票價公告.txt", encoding_rs::BIG5.encode(traditional).0, "text/plain; charset=Big5"),
        ("通知.txt", notice.as_bytes().into(), "text/plain; charset=UTF-8"),
    ];
    for (name, bytes, _) in &files {
        std::fs::write(source.join(name), bytes).unwrap();
    }
    assert_eq!(ingest(&source, &data).added, files.len());
    let addr = serve(&data, config());
    for (name, bytes, content_type) in files {
        let found = get(addr, "/api/search?q=&limit=10").json();
        let id = found["hits"].as_array().unwrap().iter().find(|h| h["path"] == name).map(|h| h["id"].as_str().unwrap().to_string());
        let id = id.unwrap_or_else(|| panic!("{name} not indexed: {found}"));
        let original = get(addr, &format!("/api/documents/{id}/original"));
        assert_eq!(original.body, bytes.as_ref(), "{name}: byte-identical");
        assert_eq!(original.header("content-type"), Some(content_type), "{name}");
    }
}

#[test]
fn an_original_gone_from_the_data_folder_is_a_500_that_names_no_path_and_its_catalog_entry_stays_readable() {
    let root = scratch("missing-blob");
    let (source, data) = (root.join("source"), root.join("data"));
    std::fs::create_dir_all(&source).unwrap();
    let long: String = (0..300).map(|n| format!("第{n}条 城乡居民最低生活保障标准按季度调整。\n")).collect();
    std::fs::write(source.join("低保标准.txt"), &long).unwrap();
    ingest(&source, &data);
    std::fs::remove_dir_all(data.join("blobs")).unwrap();
    let addr = serve(&data, config());
    let id = hit_ids(&get(addr, "/api/search?q=低保标准").json()).pop().expect("indexed");
    let reply = get(addr, &format!("/api/documents/{id}/original"));
    assert_json_error(&reply, 500, "missing original");
    assert!(!reply.text().contains("blobs") && !reply.text().contains(data.to_str().unwrap()), "{}", reply.text());
    // The catalog entry stays readable, saying its text cannot be shown.
    let doc = get(addr, &format!("/api/documents/{id}"));
    assert_eq!(doc.status, 200);
    let json = doc.json();
    assert_eq!(
        (&json["title"], &json["text_unavailable"], json.get("text")),
        (&serde_json::json!("低保标准"), &serde_json::json!(true), None),
        "{json}"
    );
    let page = get(addr, &format!("/documents/{id}"));
    assert_eq!(page.status, 200);
    assert!(page.text().contains("原文暂时无法显示") && !page.text().contains("依申请公开"), "{}", page.text());
    assert!(!page.text().contains("blobs") && !page.text().contains(data.to_str().unwrap()));
}

#[test]
fn unknown_ids_are_404_json() {
    assert_json_error(&get(server(), "/api/documents/no-such-id"), 404, "unknown document");
    assert_json_error(&get(server(), "/api/documents/no-such-id/original"), 404, "unknown original");
    assert_eq!(get(server(), "/documents/no-such-id").status, 404);
}

#[test]
fn path_traversal_ids_reach_nothing() {
    for target in [
        "/api/documents/..%2F..%2Fetc%2Fpasswd",
        "/api/documents/..%2F..%2FCargo.toml/original",
        "/api/documents/../../Cargo.toml",
        "/api/documents/%2e%2e/%2e%2e/Cargo.toml",
        "/documents/..%2F..%2Fetc%2Fpasswd",
        "/static/..%2F..%2FCargo.toml",
        "/static/../Cargo.toml",
        "/api/documents/%2Fetc%2Fpasswd/original",
        "/api/documents/%FF%FE",
    ] {
        let reply = get(server(), target);
        assert!(matches!(reply.status, 400 | 404), "{target}: {}", reply.status);
        let body = String::from_utf8_lossy(&reply.body);
        assert!(!body.contains("root:") && !body.contains("[package]") && !body.contains("[workspace]"), "{target}: {body}");
    }
}

#[test]
fn hostile_queries_get_results_or_a_json_4xx_never_a_5xx() {
    let nasty = [
        "%22%E4%BD%8E%E4%BF%9D", // "低保 with an unbalanced quote
        "title:x",
        "%00%01%02%1F%7F",
        "a%00b",
        "%zz",
        "%",
        "%E4%BD",
        "((((((",
        "*?~^",
        "AND+OR+NOT",
        "-",
        "--%E4%BD%8E%E4%BF%9D",
        "%22%22%22",
        "%5C%5C%5C",
        "%F0%9F%98%80",
        "+++",
    ];
    for q in nasty {
        let reply = get(server(), &format!("/api/search?q={q}"));
        match reply.status {
            200 => assert!(reply.json()["hits"].is_array()),
            400..=499 => assert_json_error(&reply, reply.status, q),
            other => panic!("q={q}: status {other}: {}", reply.text()),
        }
        let suggest = get(server(), &format!("/api/suggest?q={q}"));
        assert!(suggest.status == 200 || (400..500).contains(&suggest.status), "suggest q={q}: {}", suggest.status);
        let page = get(server(), &format!("/documents/{DIBAO}?q={q}"));
        assert!(page.status == 200 || (400..500).contains(&page.status), "page q={q}: {}", page.status);
    }
    assert_eq!(search("\"低保")["hits"][0]["id"], DIBAO, "an unbalanced quote is searched as plain words");
}

#[test]
fn malformed_percent_encoding_is_a_400() {
    assert_json_error(&get(server(), "/api/search?q=%zz"), 400, "%zz");
    assert_json_error(&get(server(), "/api/search?category=%E4%BD"), 400, "truncated UTF-8");
    assert_json_error(&get(server(), "/api/suggest?q=%"), 400, "lone %");
}

#[test]
fn limit_and_offset_are_bounded() {
    for (query, what) in [
        ("limit=1000000", "limit too large"),
        ("limit=101", "limit just too large"),
        ("offset=99999999", "offset too deep"),
        ("limit=-1", "negative limit"),
        ("offset=-5", "negative offset"),
        ("limit=1e3", "not a whole number"),
        ("offset=18446744073709551616", "overflow"),
    ] {
        assert_json_error(&get(server(), &format!("/api/search?q=a&{query}")), 400, what);
    }
    let page = get(server(), "/api/search?disclosure=public&limit=2&offset=1").json();
    assert_eq!(page["hits"].as_array().unwrap().len(), 2, "{page}");
    assert_eq!(page["total"], 5);
    assert_eq!(get(server(), "/api/search?q=a&limit=100&offset=10000").status, 200);
}

#[test]
fn a_one_megabyte_query_is_refused_fast() {
    let started = Instant::now();
    let target = format!("/api/search?q={}", "%E4%BD%8E".repeat(1_048_576 / 9));
    match try_request(server(), "GET", &target, "") {
        Ok(reply) => assert!((400..500).contains(&reply.status), "status {}", reply.status),
        // Refusing to read the rest of an oversized head may reset the connection.
        Err(error) => assert!(matches!(error.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe), "{error}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(get(server(), "/healthz").status, 200, "the server still answers");
}

#[test]
fn a_long_query_under_the_uri_limit_is_cut_not_refused() {
    let long = "低保".repeat(3000);
    let reply = get(server(), &format!("/api/search?q={}", enc(&long)));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let query = reply.json()["query"].as_str().unwrap().to_string();
    assert_eq!(query.chars().count(), indexer::api::MAX_QUERY_CHARS);
}

#[test]
fn snippets_carry_no_markup_but_mark() {
    for q in ["低保", "标签", "script", "alert", "恶意标题测试", "b", "补偿 标准", "经费"] {
        for hit in search(q)["hits"].as_array().unwrap() {
            let snippet = hit["snippet"].as_str().unwrap();
            let rest = snippet.replace("<mark>", "").replace("</mark>", "");
            assert!(!rest.contains('<') && !rest.contains('>'), "q={q}: {snippet}");
        }
    }
}

#[test]
fn the_reading_view_highlights_escapes_and_links() {
    let html = get(server(), &format!("/documents/{DIBAO}?q={}", enc("低保"))).text();
    assert!(html.contains("<mark>低保</mark>"), "{html}");
    assert!(html.contains(r#"lang="zh-CN""#));
    assert!(html.contains("临河区民政局 · 临民发〔2022〕3号 · 2022-01-05"), "catalog line: {html}");
    assert!(html.contains("id=\"next-match\""));
    assert!(html.contains(&format!("/api/documents/{DIBAO}/original")));
    assert!(html.contains("<svg class=\"qr-code\""), "QR code");
    assert!(html.contains(&format!("http://yuelan.test/documents/{DIBAO}")), "QR URL from --public-url");
    assert!(!html.contains("<script>") && !html.contains("style=\""), "no inline script or style");

    let page = get(server(), &format!("/documents/{SCRIPT_TITLE}?q={}", enc("<script>")));
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(!html.contains("<script>alert") && !html.contains("<b>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;恶意标题测试"), "{html}");
}

#[test]
fn the_list_without_javascript_pages_on_with_the_same_filters_sort_and_page_size() {
    let html = get(server(), "/?disclosure=public&from=2015-01-01&sort=date_desc&limit=2").text();
    assert_eq!(html.matches(r#"<li class="result">"#).count(), 2, "{html}");
    let next = "/?disclosure=public&from=2015-01-01&sort=date_desc&limit=2&offset=2";
    assert!(html.contains(&format!(r#"href="{}">下一页"#, next.replace('&', "&amp;"))), "{html}");
    let second = get(server(), next).text();
    assert!(second.contains(r#"limit=2">上一页"#), "{second}");
    let newest = get(server(), "/api/search?disclosure=public&from=2015-01-01&sort=date_desc&limit=4").json();
    let titles = |html: &str| html.matches(r#"class="result-title""#).count();
    assert_eq!(titles(&second), 2);
    let third_title = newest["hits"][2]["title"].as_str().unwrap().to_string();
    assert!(second.contains(&third_title), "page 2 continues the date order: {third_title} in {second}");
}

#[test]
fn the_search_page_and_its_assets_are_served_without_inline_script() {
    let index = get(server(), "/");
    assert_eq!(index.status, 200);
    assert!(index.header("content-type").unwrap().starts_with("text/html"));
    let html = index.text();
    assert!(html.contains(r#"<html lang="zh-CN">"#));
    assert!(!html.contains("<script>") && !html.contains("style=\""), "inline script or style would break the CSP");
    for (path, kind) in [
        ("/static/app.js", "text/javascript"),
        ("/static/common.js", "text/javascript"),
        ("/static/reading.js", "text/javascript"),
        ("/static/style.css", "text/css"),
    ] {
        let reply = get(server(), path);
        assert_eq!(reply.status, 200, "{path}");
        assert!(reply.header("content-type").unwrap().starts_with(kind), "{path}");
        assert!(html.contains(path) || path.ends_with("reading.js"), "{path} not linked");
    }
    assert_eq!(get(server(), "/static/nope.js").status, 404);
}

#[test]
fn the_search_page_renders_its_list_on_the_server() {
    let html = get(server(), &format!("/?q={}&category={}&sort=date_desc", enc("低保"), enc("社会救助"))).text();
    assert!(html.contains(r#"<section id="start" class="start" hidden"#), "the start screen gives way");
    assert!(html.contains(r#"<section id="results-area" class="results-area" aria-label="搜索结果">"#), "{html}");
    assert!(html.contains(r#"aria-live="polite">找到 1 份文件</p>"#), "{html}");
    assert!(html.contains(r#"value="低保""#), "the query in the box");
    assert!(html.contains(r#"<option value="date_desc" selected>"#), "the sort chosen");
    // Filters are links that keep the query and sort; the chosen one removes itself.
    let keep = format!("q={}&amp;category={}&amp;category={}&amp;sort=date_desc", enc("低保"), enc("社会救助"), enc("通知公告"));
    assert!(html.contains(&format!(r#"href="/?{keep}""#)), "{html}");
    assert!(html.contains(&format!(r#"href="/?q={}&amp;sort=date_desc" aria-label="去掉筛选：分类：社会救助""#, enc("低保"))), "{html}");
    assert!(html.contains(&format!(r#"href="/documents/{DIBAO}?q={}&amp;category={}&amp;sort=date_desc""#, enc("低保"), enc("社会救助"))));
    // The sort form carries the query and filters.
    assert!(html.contains(r#"<input type="hidden" name="category" value="社会救助">"#), "{html}");
    // The script's data block: the API's answer, nothing in it can end the element.
    let start = html.find(r#"id="initial-results""#).unwrap();
    let json = &html[html[start..].find('>').unwrap() + start + 1..html[start..].find("</script>").unwrap() + start];
    let data: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(data["total"], 1);
    assert!(!json.contains('<'));
    // Examples on the start page are links.
    let start_page = get(server(), "/").text();
    assert!(start_page.contains(&format!(r#"<a class="chip" href="/?q={}" data-q="怎么申请低保">"#, enc("怎么申请低保"))), "{start_page}");
    // A stale link still lists.
    let stale = get(server(), &format!("/?q={}&sort=sideways&offset=99999999", enc("低保")));
    assert_eq!(stale.status, 200);
    assert!(stale.text().contains("找到 2 份文件"));
}

#[test]
fn the_no_javascript_result_list_works() {
    let html = get(server(), &format!("/search?q={}", enc("低保"))).text();
    assert!(html.contains(&format!("/documents/{DIBAO}?q={}", enc("低保"))), "{html}");
    assert!(html.contains("<mark>低保</mark>"));
    let none = get(server(), &format!("/search?q={}", enc("zzqxv 龘靐"))).text();
    assert!(none.contains("检查错别字"), "{none}");
}

#[test]
fn every_response_carries_the_security_headers() {
    for target in ["/", "/api/search?q=a", &format!("/documents/{DIBAO}"), "/api/nope", "/static/app.js"] {
        let reply = get(server(), target);
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{target}");
        let csp = reply.header("content-security-policy").unwrap_or_else(|| panic!("{target}: no CSP"));
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{target}: {csp}");
    }
}

#[test]
fn the_api_is_read_only() {
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        for target in ["/api/search", &format!("/api/documents/{DIBAO}"), "/"] {
            let reply = request(server(), method, target, "Content-Length: 0\r\n");
            assert_json_error(&reply, 405, &format!("{method} {target}"));
        }
    }
    assert_eq!(request(server(), "HEAD", "/healthz", "").status, 200);
}

#[test]
fn a_large_declared_body_is_a_413() {
    let reply = request(server(), "GET", "/api/search?q=a", "Content-Length: 1000000\r\n");
    assert_json_error(&reply, 413, "large body");
}

#[test]
fn unknown_routes_are_404_json_for_the_api_and_a_page_otherwise() {
    assert_json_error(&get(server(), "/api/nope"), 404, "unknown API route");
    let page = get(server(), "/nope");
    assert_eq!(page.status, 404);
    assert!(page.text().contains("回到首页"));
}

#[test]
fn suggestions_come_from_titles_and_a_title_opens_its_document() {
    let body = get(server(), &format!("/api/suggest?q={}", enc("低保"))).json();
    let list = body["suggestions"].as_array().unwrap();
    assert!(list.iter().any(|s| s == "关于调整2022年城乡低保标准的通知"), "{body}");
    assert_eq!(body["documents"], serde_json::json!([{"id": DIBAO, "title": "关于调整2022年城乡低保标准的通知"}]));
    let unspaced = get(server(), &format!("/api/suggest?q={}", enc("城乡低保标准"))).json();
    assert_eq!(unspaced["documents"][0]["id"], DIBAO, "{unspaced}");
    let empty = serde_json::json!({"suggestions": [], "documents": []});
    assert_eq!(get(server(), "/api/suggest?q=").json(), empty);
    assert_eq!(get(server(), "/api/suggest").json(), empty);
}

#[test]
fn the_reading_page_names_the_words_it_marked_not_the_query_syntax() {
    let page = get(server(), &format!("/documents/{DIBAO}?q={}", enc("怎么申请低保 -\"征地\""))).text();
    assert!(page.contains("“申请”或“低保”或“最低生活保障”在本文中共出现 "), "{page}");
    assert!(page.contains(" 处（每个词分别计数），已用黄底粗体标出。"), "{page}");
    assert!(!page.contains("-&quot;征地&quot;"), "{page}");
}

#[test]
fn a_homophone_slip_is_answered_with_did_you_mean_on_both_result_pages() {
    let response = search("征地补尝");
    assert_eq!(response["did_you_mean"], "征地补偿", "{response}");
    assert!(search("征地补偿").get("did_you_mean").is_none(), "absent when the query finds documents");
    let page = get(server(), &format!("/?q={}", enc("征地补尝"))).text();
    let link = format!(r#"您是不是要找：<a id="did-you-mean-link" class="link-button" href="/?q={}">征地补偿</a>"#, enc("征地补偿"));
    assert!(page.contains(&link), "{page}");
}

/// The sample corpus (`corpus/`) ingested once, as the server serves it out of the box.
fn sample() -> &'static indexer::Archive {
    static SAMPLE: OnceLock<indexer::Archive> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let root = scratch("sample");
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
        let summary = ingest(&corpus, &root.join("data"));
        assert!(summary.added > 0, "the sample corpus is missing: {}", corpus.display());
        indexer::Archive::open(&root.join("data")).unwrap()
    })
}

fn sample_search(q: &str) -> indexer::api::SearchResponse {
    sample().search(&indexer::api::SearchRequest { q: q.to_string(), ..Default::default() }).unwrap()
}

#[test]
fn every_example_on_the_start_page_finds_documents_in_the_sample_corpus() {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../static/index.html")).unwrap();
    let examples: Vec<&str> = page.split("data-q=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    assert!(examples.len() >= 5, "{examples:?}");
    for q in examples {
        let response = sample_search(q);
        assert!(response.hits.iter().any(|h| !h.partial), "start-page example {q} finds nothing complete: {:?}", response.hits);
    }
}

#[test]
fn kiosk_questions_typed_without_spaces_find_the_right_document_first() {
    for (q, first) in [
        ("怎么申请低保", "规范性文件/关于印发临河区城乡居民最低生活保障实施办法的通知.txt"),
        ("房屋征收补偿标准", "征地拆迁/临河区河东片区棚户区改造项目房屋征收决定.txt"),
        ("临时救助申请", "社会救助/临河区2021年临时救助对象公示.md"),
        ("垃圾分类规定", "规范性文件/临河区城市生活垃圾分类管理办法(2022-09-01).md"),
        ("家暴怎么办", "通知公告/关于开展2021年反家庭暴力宣传周活动的通知.md"),
        ("三公经费", "财政预决算/临河区2024年区级三公经费预算情况说明.md"),
        ("临政发2019年12号", "规范性文件/关于印发临河区城乡居民最低生活保障实施办法的通知.txt"),
        ("临政发12号文", "规范性文件/关于印发临河区城乡居民最低生活保障实施办法的通知.txt"),
    ] {
        let response = sample_search(q);
        let top: Vec<&str> = response.hits.iter().take(3).map(|h| h.path.as_str()).collect();
        assert_eq!(top.first().copied(), Some(first), "{q}: {top:?}");
        assert!(!response.relaxed, "{q}");
    }
}

#[test]
fn stats_count_by_category_publisher_year_and_disclosure() {
    let stats = get(server(), "/api/stats").json();
    assert_eq!(stats["documents"], SERVED);
    assert_eq!(stats["disclosure"]["public"], 5, "{stats}");
    assert_eq!(stats["disclosure"]["on_request"], 1, "{stats}");
    assert_eq!(stats["category"]["社会救助"], 1, "{stats}");
    assert_eq!(stats["year"]["2022"], 2, "{stats}");
    assert_eq!(stats["publisher"]["临河区财政局"], 1, "{stats}");
}

#[test]
fn a_saturated_server_answers_503_with_retry_after() {
    let mut config = config();
    config.max_concurrent = 0;
    let addr = serve(data(), config);
    for target in ["/api/search?q=a", "/api/suggest?q=a", &format!("/api/documents/{DIBAO}"), "/api/stats"] {
        let reply = get(addr, target);
        assert_json_error(&reply, 503, target);
        assert_eq!(reply.header("retry-after"), Some("1"), "{target}");
    }
    let page = get(addr, &format!("/documents/{DIBAO}"));
    assert_eq!((page.status, page.header("retry-after")), (503, Some("1")));
    assert_eq!(get(addr, "/healthz").status, 200, "health does not need a search slot");
}

#[test]
fn a_request_over_the_timeout_answers_503() {
    let mut config = config();
    config.timeout = Duration::ZERO;
    let addr = serve(data(), config);
    // A zero timeout: the deadline has passed before the search starts.
    let replies: Vec<Reply> = (0..20).map(|_| get(addr, &format!("/api/search?q={}", enc("低保 标准")))).collect();
    for reply in &replies {
        assert_json_error(reply, 503, "timeout");
        assert_eq!(reply.header("retry-after"), Some("1"));
    }
}

#[test]
fn a_reading_points_searches_carry_its_tag_into_the_query_log() {
    let log = scratch("querylog-point").join("queries.jsonl");
    let mut config = config();
    config.query_log = QueryLog::to_file(&log).unwrap();
    let addr = serve(data(), config);
    get(addr, &format!("/api/search?q={}&point=dag", enc("低保")));
    get(addr, &format!("/api/search?q={}&point=nowhere", enc("低保")));
    get(addr, &format!("/api/search?q={}", enc("低保")));
    let text = std::fs::read_to_string(&log).unwrap();
    let points: Vec<Option<String>> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap().get("point").map(|p| p.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(points, vec![Some("dag".to_string()), None, None], "only a known point is logged: {text}");
    let profile = get(addr, "/api/points/dag").json();
    assert_eq!(profile, serde_json::json!({"point": "dag", "name": "临河区档案馆阅览室", "categories": ["财政预决算", "征地拆迁"]}));
    assert_json_error(&get(addr, "/api/points/nowhere"), 404, "unknown point");
}

#[test]
fn the_query_log_has_one_json_line_per_search_and_no_address() {
    let log = scratch("querylog").join("queries.jsonl");
    let mut config = config();
    config.query_log = QueryLog::to_file(&log).unwrap();
    let addr = serve(data(), config);
    get(addr, &format!("/api/search?q={}&category={}", enc("低保"), enc("社会救助")));
    get(addr, &format!("/api/search?q={}", enc("查无此词")));
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["q"], "低保");
    assert_eq!(lines[0]["category"], serde_json::json!(["社会救助"]));
    assert_eq!(lines[0]["total"], 1);
    assert_eq!(lines[1]["total"], 0, "searches that find nothing are logged");
    for line in &lines {
        for field in ["time", "q", "total", "took_ms", "relaxed", "sort", "offset"] {
            assert!(line.get(field).is_some(), "{field} missing: {line}");
        }
    }
    assert!(!text.contains("127.0.0.1"), "no client address: {text}");
}

#[test]
fn a_document_ingested_while_serving_appears_without_a_restart() {
    let (source, data) = fixture_archive("reload");
    let addr = serve(&data, config());
    assert_eq!(search_total(addr, "防汛抗旱"), 0);
    std::fs::write(source.join("应急管理-防汛抗旱应急预案.txt"), "临河区防汛抗旱应急预案\n\n汛期到来前，各街道要检查堤防。\n").unwrap();
    assert_eq!(ingest(&source, &data).added, 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(addr, "/healthz").json()["documents"] != SERVED + 1 {
        assert!(Instant::now() < deadline, "the new document did not appear within 10 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(search_total(addr, "防汛抗旱"), 1);
}

fn search_total(addr: SocketAddr, q: &str) -> u64 {
    get(addr, &format!("/api/search?q={}", enc(q))).json()["total"].as_u64().unwrap()
}

#[test]
fn an_export_record_s_original_is_that_record_alone_and_nothing_of_the_others_is_served() {
    let root = scratch("export");
    let (source, data) = (root.join("source"), root.join("data"));
    let public = r#"{"id":"rec-public","title":"关于公布2023年供水价格的通知","category":"价格收费","text":"居民生活用水每立方米三元。"}"#;
    let withheld =
        r#"{"id":"rec-withheld","title":"拆迁户隐私花名册","category":"征地拆迁","disclosure":"不予公开","text":"赵六 身份证号 秘密甲乙"}"#;
    let on_request = r#"{"id":"rec-request","title":"信访事项答复意见书","disclosure":"依申请公开","text":"答复正文 秘密丙丁"}"#;
    let header = "id,title,disclosure,text";
    let csv_public = "csv-public,关于公布公交票价的通知,主动公开,普通公交票价每人次一元。";
    let csv_withheld = "csv-withheld,困难群众隐私名单,不予公开,王五 秘密戊己";
    std::fs::create_dir_all(source.join("目录")).unwrap();
    std::fs::write(source.join("目录/export.jsonl"), format!("{public}\n{withheld}\n{on_request}\n")).unwrap();
    std::fs::write(source.join("目录/export.csv"), format!("{header}\r\n{csv_public}\r\n{csv_withheld}\r\n")).unwrap();
    let summary = ingest(&source, &data);
    assert_eq!(summary.withheld, vec!["目录/export.csv#2", "目录/export.jsonl#2"]);
    let addr = serve(&data, config());

    let original = get(addr, "/api/documents/rec-public/original");
    assert_eq!(original.status, 200);
    assert_eq!(original.text(), format!("{public}\n"), "the record alone, never the export");
    let doc = get(addr, "/api/documents/rec-public").json();
    assert_eq!(doc["bytes"], public.len() + 1);
    assert_eq!(doc["sha256"], indexer::store::sha256_hex(&original.body), "what is served is what is verified");
    assert_eq!(get(addr, "/api/documents/csv-public/original").text(), format!("{header}\n{csv_public}\n"));
    assert_json_error(&get(addr, "/api/documents/rec-request/original"), 403, "on_request record");
    assert_json_error(&get(addr, "/api/documents/rec-withheld/original"), 404, "withheld record");
    assert_json_error(&get(addr, "/api/documents/csv-withheld/original"), 404, "withheld row");

    // Nothing served anywhere carries a withheld record or an on_request text.
    for word in ["秘密", "隐私", "赵六", "王五", "花名册"] {
        let found = get(addr, &format!("/api/search?q={}", enc(word))).json();
        assert_eq!((&found["total"], &found["facets"]["category"]), (&serde_json::json!(0), &serde_json::json!({})), "{word}");
        let suggested = get(addr, &format!("/api/suggest?q={}", enc(word))).json();
        assert_eq!(suggested, serde_json::json!({"suggestions": [], "documents": []}), "{word}");
    }
    for target in [
        "/api/search?q=",
        "/api/search?q=%E9%80%9A%E7%9F%A5", // 通知
        "/api/suggest?q=%E9%80%9A%E7%9F%A5",
        "/api/stats",
        "/api/documents/rec-public",
        "/api/documents/rec-request",
        "/api/documents/csv-public/original",
        "/documents/rec-public",
        "/documents/rec-request",
        "/search?q=",
    ] {
        let reply = get(addr, target);
        assert_eq!(reply.status, 200, "{target}");
        let body = reply.text();
        for secret in ["秘密", "隐私", "赵六", "王五", "征地拆迁", "withheld"] {
            assert!(!body.contains(secret), "{target} gives out {secret}: {body}");
        }
    }
    assert_eq!(get(addr, "/api/stats").json()["documents"], 3);
    assert_eq!(get(addr, "/api/stats").json()["category"], serde_json::json!({"价格收费": 1, "目录": 2}));
}

#[test]
fn a_withdrawn_document_and_its_original_stop_being_served_without_a_restart() {
    let (_source, data) = fixture_archive("withdraw");
    let addr = serve(&data, config());
    assert_eq!(get(addr, "/api/documents/dibao-2022/original").status, 200);
    indexer::withdrawal::withdraw(&data, &["dibao-2022".to_string()], "误公开").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(addr, "/healthz").json()["documents"] != SERVED - 1 {
        assert!(Instant::now() < deadline, "the withdrawn document was still served after 10 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_json_error(&get(addr, "/api/documents/dibao-2022/original"), 404, "withdrawn original");
    assert_json_error(&get(addr, "/api/documents/dibao-2022"), 404, "withdrawn document");
}
