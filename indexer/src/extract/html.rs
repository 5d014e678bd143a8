//! HTML pages: the body text only (no script, style or navigation), the
//! page title, and the charset the page declares.

use scraper::{ElementRef, Html, Node, Selector};

use encoding_rs::{Encoding, GB18030, GBK, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252, X_USER_DEFINED};

use super::text::{bom_misleads, bom_note, decode_with, detect, encoding_named, few_replaced, looks_binary, reads_as, replaced_note};
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
    let reading = reading_of(bytes);
    let decoded = decode_with(bytes, reading.encoding);
    if looks_binary(&decoded.text) {
        return Err(ExtractError::Binary);
    }
    let mut warnings: Vec<String> = bom_note(bytes, decoded.encoding).into_iter().collect();
    if let Some(declared) = reading.overruled {
        warnings
            .push(format!("the page declares charset {} but is written in {}; read as {}", declared, decoded.encoding, decoded.encoding));
    }
    if decoded.lossy {
        warnings.push(replaced_note(decoded.encoding));
    }
    let document = Html::parse_document(&decoded.text);
    let root = main_content(&document).unwrap_or_else(|| document.root_element());
    let mut text = String::new();
    collect_text(root, &mut text);
    let text = tidy(&text);
    let text = cap_text(text, limits.max_text_bytes, &mut warnings);
    Ok(Record { text, catalog: Catalog { title: page_title(&document), ..Catalog::default() }, warnings, ..Record::default() })
}

/// The encoding a page is read in, and the charset label it declares (as
/// written, lower case) when its bytes overrule that.
struct Reading {
    encoding: &'static Encoding,
    overruled: Option<String>,
}

/// The encoding a page is decoded with ([`reading_of`]).
pub(super) fn encoding_of(bytes: &[u8]) -> &'static Encoding {
    reading_of(bytes).encoding
}

/// A byte order mark that the text behind it does not belie
/// ([`bom_misleads`]), else the charset the page declares, else the one
/// detected, as the HTML standard's encoding sniffing picks it (a page that
/// can declare its charset in ASCII is not UTF-16, so a declared UTF-16
/// means UTF-8, and `x-user-defined` means windows-1252), except where the
/// bytes overrule the declaration ([`overrule`]). Archived pages do: a site
/// that moved to UTF-8 kept its `gb2312` template, a GBK page went out
/// under a server's default `iso-8859-1`. A browser shows such a page
/// garbled; the archive reads it as written. A declared GBK is read, and
/// named, as its superset GB18030, as browsers decode it (and as
/// [`detect`] names it).
fn reading_of(bytes: &[u8]) -> Reading {
    if let Some(rest) = bom_misleads(bytes) {
        // GBK behind a UTF-8 BOM: the page is read as if it had none.
        return reading_of(rest);
    }
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return Reading { encoding, overruled: None };
    }
    let label = declared_charset(bytes);
    let declared = label.as_deref().and_then(encoding_named).map(|declared| match declared {
        d if d == UTF_16LE || d == UTF_16BE => UTF_8,
        d if d == X_USER_DEFINED => WINDOWS_1252,
        d if d == GBK => GB18030,
        d => d,
    });
    match declared {
        None => Reading { encoding: detect(bytes), overruled: None },
        Some(declared) => match overrule(bytes, declared) {
            None => Reading { encoding: declared, overruled: None },
            Some(written) => Reading { encoding: written, overruled: label },
        },
    }
}

/// The encoding `bytes` are written in when it is not the `declared` one:
/// the one detected, when `declared` cannot read them ([`reads_as`]: more
/// than a stray byte replaced), when they are UTF-8 and read as such
/// ([`reads_as_utf8`]), or when a single-byte charset is declared on text
/// that the detector finds in a multi-byte one (GBK, Big5 …). `None`: the
/// declaration stands.
fn overrule(bytes: &[u8], declared: &'static Encoding) -> Option<&'static Encoding> {
    let unreadable = !reads_as(bytes, declared) || (declared != UTF_8 && reads_as_utf8(bytes));
    if !unreadable && !declared.is_single_byte() {
        return None;
    }
    let detected = detect(bytes);
    let multi_byte = detected != UTF_8 && !detected.is_single_byte() && detected.is_ascii_compatible();
    ((unreadable || multi_byte) && detected != declared).then_some(detected)
}

/// Whether `bytes` hold characters beyond ASCII, are UTF-8 (but for a
/// stray byte), and read as text in it: three in four of those characters
/// are CJK, punctuation, full-width forms or Latin letters. GBK bytes that
/// happen to be valid UTF-8 (学习 is) decode to Cyrillic, Greek, combining
/// marks and Hebrew accents instead.
fn reads_as_utf8(bytes: &[u8]) -> bool {
    if bytes.is_ascii() {
        return false;
    }
    let (text, _) = UTF_8.decode_without_bom_handling(bytes);
    let (all, plausible) = text.chars().filter(|c| !c.is_ascii()).fold((0usize, 0usize), |(all, plausible), c| {
        (all + 1, plausible + usize::from(matches!(c, '\u{A0}'..='\u{24F}' | '\u{2000}'..='\u{206F}' | '\u{2E80}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{FF00}'..='\u{FFEF}')))
    });
    few_replaced(&text) && plausible * 4 >= all * 3
}

/// The charset a page declares in a `<meta>` of its first 2 KB: `<meta
/// charset=…>`, or `<meta http-equiv="Content-Type" content="…;
/// charset=…">`, the first that names one. The head is parsed as HTML (its
/// bytes read one to a character, which keeps every ASCII tag), so a
/// `charset=` in a comment, a script or another meta's `content` is not a
/// declaration, as in a browser's prescan.
fn declared_charset(bytes: &[u8]) -> Option<String> {
    let (head, _) = WINDOWS_1252.decode_without_bom_handling(&bytes[..bytes.len().min(2048)]);
    let document = Html::parse_document(&head);
    let metas = Selector::parse("meta").ok()?;
    document.select(&metas).find_map(|meta| {
        let attr = |name: &str| meta.value().attr(name);
        let label = match attr("charset") {
            Some(label) => label.trim().trim_matches(['"', '\'']).to_string(),
            None if attr("http-equiv").is_some_and(|v| v.trim().eq_ignore_ascii_case("content-type")) => {
                charset_in_content(attr("content")?)?
            }
            None => return None,
        };
        (!label.is_empty()).then(|| label.to_ascii_lowercase())
    })
}

/// The label after `charset=` in a `content` attribute (`text/html;
/// charset = "gbk"`): spaces around `=` and quotes allowed.
fn charset_in_content(content: &str) -> Option<String> {
    let lower = content.to_ascii_lowercase();
    lower.match_indices("charset").find_map(|(at, name)| {
        let value = lower[at + name.len()..].trim_start().strip_prefix('=')?.trim_start_matches(['"', '\'', ' ', '\t']);
        let label: String = value.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')).collect();
        (!label.is_empty()).then_some(label)
    })
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

    /// A GBK page behind a UTF-8 BOM was rejected as binary data: the BOM
    /// alone decided. It is read as if it had none, with a warning.
    #[test]
    fn a_byte_order_mark_the_page_belies_is_not_believed() {
        let bom = |bytes: Vec<u8>| [b"\xEF\xBB\xBF".to_vec(), bytes].concat();
        let note = "the file starts with a UTF-8 byte-order mark but is written in gb18030; read as gb18030".to_string();
        for charset in [r#"charset="gbk""#, r#"charset="utf-8""#, ""] {
            let overruled = (charset == r#"charset="utf-8""#)
                .then(|| "the page declares charset utf-8 but is written in gb18030; read as gb18030".to_string());
            let warnings: Vec<String> = std::iter::once(note.clone()).chain(overruled).collect();
            assert_eq!(read(&bom(gbk_page(charset))), ("gb18030", warnings, true), "{charset}");
        }
    }

    /// The page in GBK, declaring `charset`.
    fn gbk_page(charset: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(&PAGE.replace(r#"charset="gbk""#, charset)).0.into_owned()
    }

    /// The encoding a page is read in, the warnings its reading gave, and
    /// whether its title and sentence came out as written.
    fn read(bytes: &[u8]) -> (&'static str, Vec<String>, bool) {
        let r = extract(bytes, &Limits::default()).unwrap();
        let as_written =
            r.catalog.title.as_deref() == Some("关于开展控烟宣传月活动的通知") && r.text.contains("为控制吸烟危害，决定开展宣传月活动。");
        (encoding_of(bytes).name(), r.warnings, as_written)
    }

    /// Pages whose bytes overrule their declaration are read, and their
    /// originals served, in the encoding they are written in, with a
    /// warning naming both: GBK declaring UTF-8 (was rejected as binary
    /// data), UTF-8 declaring gb2312 and GBK declaring iso-8859-1 (were
    /// indexed as mojibake).
    #[test]
    fn a_page_whose_bytes_overrule_its_declared_charset_is_read_as_written() {
        let overruled = |declared: &str, written: &str| {
            vec![format!("the page declares charset {declared} but is written in {written}; read as {written}")]
        };
        let utf8_declaring_gb2312 = PAGE.replace(r#"charset="gbk""#, r#"charset="gb2312""#).into_bytes();
        assert_eq!(read(&gbk_page(r#"charset="utf-8""#)), ("gb18030", overruled("utf-8", "gb18030"), true));
        assert_eq!(read(&utf8_declaring_gb2312), ("UTF-8", overruled("gb2312", "UTF-8"), true));
        assert_eq!(read(&gbk_page(r#"charset="iso-8859-1""#)), ("gb18030", overruled("iso-8859-1", "gb18030"), true));
        assert_eq!(super::super::charset("html", &gbk_page(r#"charset="utf-8""#)), Some("gb18030"));
    }

    /// A page whose bytes fit its declaration keeps it: a stray byte in a
    /// long page (one replacement, named in a warning), GBK bytes that
    /// happen to be valid UTF-8 (学习), ASCII only, and `charset = gbk`
    /// written with spaces.
    #[test]
    fn a_page_whose_bytes_fit_its_declared_charset_keeps_it_despite_a_stray_byte() {
        let stray = [gbk_page(r#"charset="gbk""#), b"\xd6".to_vec()].concat();
        let stray_utf8 = [PAGE.replace(r#"charset="gbk""#, r#"charset="utf-8""#).into_bytes(), b"<p>\xff</p>".to_vec()].concat();
        assert_eq!(read(&stray), ("gb18030", vec!["some bytes are not valid gb18030; they were replaced".to_string()], true));
        assert_eq!(read(&stray_utf8), ("UTF-8", vec!["some bytes are not valid UTF-8; they were replaced".to_string()], true));
        assert_eq!(read(&gbk_page("charset = gbk")), ("gb18030", vec![], true));
        let short =
            r#"<html><head><meta charset="utf-8"><title>七级标题</title></head><body>国有资产管理情况报告。尾部</body></html>"#.as_bytes();
        let cut = short.len() - "尾部</body></html>".len();
        let short_cut = [&short[..cut], &"文".as_bytes()[..2], &short[cut..]].concat();
        let r = extract(&short_cut, &Limits::default()).unwrap();
        assert_eq!((encoding_of(&short_cut).name(), r.catalog.title.as_deref()), ("UTF-8", Some("七级标题")));
        let valid_utf8_by_chance =
            encoding_rs::GBK.encode(r#"<html><head><meta charset="gbk"><title>学习</title></head><body>Notice 学习</body></html>"#).0;
        assert!(std::str::from_utf8(&valid_utf8_by_chance).is_ok());
        let r = extract(&valid_utf8_by_chance, &Limits::default()).unwrap();
        assert_eq!((encoding_of(&valid_utf8_by_chance).name(), r.catalog.title.as_deref()), ("gb18030", Some("学习")));
        let ascii_declaring_gbk = br#"<html><head><meta charset="gbk"><title>Notice</title></head><body>Open.</body></html>"#;
        assert_eq!(encoding_of(ascii_declaring_gbk).name(), "gb18030");
    }

    /// A `charset=` in a comment, a script or the content of another meta
    /// declares nothing; the page's real `<meta>` does.
    #[test]
    fn only_a_meta_declares_a_charset_not_a_comment_a_script_or_a_keyword() {
        for decoy in [
            r#"<!-- <meta charset="big5"> -->"#,
            r#"<script>var s = '<meta charset=big5>';</script>"#,
            r#"<meta name="description" content="charset=big5 page">"#,
        ] {
            let page = PAGE.replace("<head>", &format!("<head>{decoy}"));
            let bytes = encoding_rs::GBK.encode(&page).0;
            assert_eq!(declared_charset(&bytes).as_deref(), Some("gbk"), "{decoy}");
        }
        let http_equiv = r#"<html><head><meta http-equiv="Content-Type" content="text/html; charset = 'gb2312'"></head></html>"#;
        assert_eq!(declared_charset(http_equiv.as_bytes()).as_deref(), Some("gb2312"));
    }
}
