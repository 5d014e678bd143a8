//! HTML pages: the body text only (no script, style or navigation), the
//! page title, and the charset the page declares.

use scraper::{ElementRef, Html, Node, Selector};

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252, X_USER_DEFINED};

use super::text::{decode_with, detect, encoding_named, looks_binary};
use super::{cap_text, ExtractError, Limits, Record};
use crate::catalog::Catalog;

/// Elements whose content is never document text.
const SKIPPED: [&str; 14] =
    ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "iframe", "svg", "button", "select", "head"];

/// Class or id words that mark navigation chrome on government sites.
const CHROME: [&str; 8] = ["nav", "menu", "breadcrumb", "footer", "header", "sidebar", "share", "position"];

/// Elements after which a line ends.
const BLOCKS: [&str; 18] =
    ["p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article", "pre", "blockquote", "dd", "dt"];

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<Record, ExtractError> {
    let decoded = decode_with(bytes, encoding_of(bytes));
    if looks_binary(&decoded.text) {
        return Err(ExtractError::Binary);
    }
    let document = Html::parse_document(&decoded.text);
    let root = main_content(&document).unwrap_or_else(|| document.root_element());
    let mut text = String::new();
    collect_text(root, &mut text);
    let text = tidy(&text);
    let mut warnings = Vec::new();
    let text = cap_text(text, limits.max_text_bytes, &mut warnings);
    Ok(Record { text, catalog: Catalog { title: page_title(&document), ..Catalog::default() }, warnings, ..Record::default() })
}

/// The encoding a page is decoded with: a byte order mark, else the
/// charset the page declares, else the one detected, as the HTML
/// standard's encoding sniffing picks it (a page that can declare its
/// charset in ASCII is not UTF-16, so a declared UTF-16 means UTF-8, and
/// `x-user-defined` means windows-1252), except where the bytes
/// contradict the declaration ([`contradicts`]). Archived pages do: a site
/// that moved to UTF-8 kept its `gb2312` template, a saved page was
/// converted without its `<meta>`. A browser shows such a page garbled;
/// the archive reads it as written.
pub(super) fn encoding_of(bytes: &[u8]) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    let declared = declared_charset(bytes).and_then(|c| encoding_named(&c)).map(|declared| match declared {
        d if d == UTF_16LE || d == UTF_16BE => UTF_8,
        d if d == X_USER_DEFINED => WINDOWS_1252,
        d => d,
    });
    match declared {
        Some(declared) if !contradicts(bytes, declared) => declared,
        _ => detect(bytes),
    }
}

/// Whether `bytes` cannot be in the `declared` encoding: it cannot decode
/// them without replacing some, or they are UTF-8 holding more than ASCII
/// and it is not (text in GBK, Big5 or windows-1252 is as good as never
/// valid UTF-8 once it holds a few non-ASCII characters).
fn contradicts(bytes: &[u8], declared: &'static Encoding) -> bool {
    let utf8_beyond_ascii = !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok();
    (declared != UTF_8 && utf8_beyond_ascii) || declared.decode_without_bom_handling_and_without_replacement(bytes).is_none()
}

/// The charset a page declares in its first 2 KB (`<meta charset=…>` or
/// `<meta http-equiv=… content="…; charset=…">`).
fn declared_charset(bytes: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let value: String = head[at..]
        .trim_start_matches(['"', '\'', ' '])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!value.is_empty()).then_some(value)
}

/// The article of a page when it marks one (`<article>`, `<main>`, or a
/// content/article class), so menus around it stay out.
fn main_content(document: &Html) -> Option<ElementRef<'_>> {
    let selector = Selector::parse("article, main, .article, .content, #content, .TRS_Editor").ok()?;
    document.select(&selector).max_by_key(|e| e.text().map(str::len).sum::<usize>())
}

fn page_title(document: &Html) -> Option<String> {
    ["h1", "title"].iter().find_map(|tag| {
        let selector = Selector::parse(tag).ok()?;
        let text: String = document.select(&selector).next()?.text().collect();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!text.is_empty()).then_some(text)
    })
}

fn is_chrome(element: &scraper::node::Element) -> bool {
    if SKIPPED.contains(&element.name()) {
        return true;
    }
    let marks = element.attr("class").unwrap_or("").to_ascii_lowercase() + " " + &element.attr("id").unwrap_or("").to_ascii_lowercase();
    marks.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| CHROME.contains(&w))
}

fn collect_text(element: ElementRef<'_>, out: &mut String) {
    for child in element.children() {
        match child.value() {
            Node::Text(text) => out.push_str(text),
            Node::Element(e) if !is_chrome(e) => {
                if let Some(child) = ElementRef::wrap(child) {
                    collect_text(child, out);
                }
                if BLOCKS.contains(&e.name()) {
                    out.push('\n');
                } else if matches!(e.name(), "td" | "th") {
                    out.push('\t');
                }
            }
            _ => {}
        }
    }
}

/// Collapse runs of blank space into single spaces and blank lines away.
fn tidy(text: &str) -> String {
    text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html><head><meta charset="gbk"><title>临河区政府网</title>
<style>.x{color:red}</style><script>var tracking = "脚本内容";</script></head>
<body><nav><a href="/">首页</a><a href="/news">新闻中心</a></nav>
<div class="breadcrumb">当前位置：首页 &gt; 通知公告</div>
<div class="article"><h1>关于开展控烟宣传月活动的通知</h1><p>各单位：为控制吸烟危害，决定开展宣传月活动。</p>
<table><tr><td>时间</td><td>五月</td></tr></table></div>
<footer>版权所有 临河区人民政府 网站地图</footer></body></html>"#;

    #[test]
    fn body_text_only_with_declared_charset_and_title() {
        let bytes = encoding_rs::GBK.encode(PAGE).0.into_owned();
        let r = extract(&bytes, &Limits::default()).unwrap();
        assert!(r.text.contains("为控制吸烟危害，决定开展宣传月活动。"), "{}", r.text);
        assert!(r.text.contains("时间\t五月") || r.text.contains("时间 五月"), "{}", r.text);
        for chrome in ["脚本内容", "color", "新闻中心", "当前位置", "版权所有"] {
            assert!(!r.text.contains(chrome), "{chrome} leaked into {}", r.text);
        }
        assert_eq!(r.catalog.title.as_deref(), Some("关于开展控烟宣传月活动的通知"));
    }

    #[test]
    fn a_byte_order_mark_outranks_the_declared_charset_and_a_declared_utf16_is_utf8() {
        let utf8 = PAGE.as_bytes();
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), utf8].concat();
        let declares_utf16 = PAGE.replace(r#"charset="gbk""#, r#"charset="utf-16""#);
        for (bytes, expected) in [(with_bom, UTF_8), (declares_utf16.into_bytes(), UTF_8)] {
            assert_eq!(encoding_of(&bytes), expected);
        }
        let r = extract(PAGE.replace(r#"charset="gbk""#, r#"charset="utf-16""#).as_bytes(), &Limits::default()).unwrap();
        assert_eq!(r.catalog.title.as_deref(), Some("关于开展控烟宣传月活动的通知"));
    }

    /// A page in GBK that declares UTF-8, and one in UTF-8 that declares
    /// gb2312: each is read (and its original served) in the encoding its
    /// bytes are in. Before, the first was rejected as binary data and the
    /// second indexed as mojibake. A page whose bytes fit its declaration
    /// keeps it, even where detection would guess otherwise (ASCII only).
    #[test]
    fn a_page_whose_bytes_contradict_its_declared_charset_is_read_as_written() {
        let gbk_declaring_utf8 = encoding_rs::GBK.encode(&PAGE.replace(r#"charset="gbk""#, r#"charset="utf-8""#)).0.into_owned();
        let utf8_declaring_gb2312 = PAGE.replace(r#"charset="gbk""#, r#"charset="gb2312""#).into_bytes();
        for bytes in [&gbk_declaring_utf8, &utf8_declaring_gb2312] {
            let r = extract(bytes, &Limits::default()).unwrap();
            assert_eq!(r.catalog.title.as_deref(), Some("关于开展控烟宣传月活动的通知"));
            assert!(r.text.contains("为控制吸烟危害，决定开展宣传月活动。"), "{}", r.text);
        }
        assert_eq!(super::super::charset("html", &gbk_declaring_utf8), Some("gb18030"));
        assert_eq!(super::super::charset("html", &utf8_declaring_gb2312), Some("UTF-8"));
        let ascii_declaring_gbk = br#"<html><head><meta charset="gbk"><title>Notice</title></head><body>Open.</body></html>"#;
        assert_eq!(encoding_of(ascii_declaring_gbk), encoding_rs::GBK);
        assert_eq!(encoding_of(&encoding_rs::GBK.encode(PAGE).0), encoding_rs::GBK);
    }
}
