//! Markdown documents (`.md`): their text is kept as written, so a search
//! finds what the archive holds; readers see it rendered. This module gives
//! the reading view's HTML with the query's matches marked (snippets leave
//! the markup out by themselves, see [`crate::highlight`]).
//!
//! The HTML is built from CommonMark events (pulldown-cmark, with tables):
//! every text is escaped, raw HTML in the source is shown as text, link
//! targets other than web, mail and relative addresses are dropped, images
//! become their alternative text, and no `style` attribute is written (the
//! server's CSP allows none).

use std::ops::Range;

use pulldown_cmark::{Alignment, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::highlight::{escape_html, mark_html, without_comments, Needles};

/// Whether documents of `format` (the file extension) are Markdown.
pub fn is_markdown(format: &str) -> bool {
    matches!(format, "md" | "markdown")
}

fn parser(text: &str) -> Parser<'_> {
    Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
}

/// A document rendered for reading, with the matches of `needles` marked.
pub struct Rendered {
    /// Escaped HTML: headings (one level below the page's `h1`), lists,
    /// tables (each in a focusable scrolling `div.table-wrap`), emphasis,
    /// code, safe links, and `<mark>` around matches.
    pub html: String,
    /// Matches marked.
    pub matches: usize,
}

/// Render `markdown` for the reading view, marking `needles` (a query's
/// highlight terms, see [`crate::query::QueryPlan`]).
pub fn to_html(markdown: &str, needles: &[String]) -> Rendered {
    let needles = Needles::new(needles);
    let mut matches = 0;
    let mut dropped_link = false;
    // The source of the HTML block being read.
    let mut html_block: Option<String> = None;
    let mut events = Vec::new();
    for event in parser(markdown) {
        match event {
            Event::Text(text) => {
                let ranges = needles.ranges(&text);
                matches += ranges.len();
                events.push(Event::Html(mark_html(&text, &ranges).into()));
            }
            Event::Code(code) => {
                let ranges: Vec<Range<usize>> = needles.ranges(&code);
                matches += ranges.len();
                events.push(Event::Html(format!("<code>{}</code>", mark_html(&code, &ranges)).into()));
            }
            // Raw HTML is shown as the text it is, never passed through;
            // comments (`<!-- INFO END -->` of the laws) are left out.
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::Html(raw) if html_block.is_some() => html_block.get_or_insert_default().push_str(&raw),
            Event::End(TagEnd::HtmlBlock) => {
                let shown = without_comments(&html_block.take().unwrap_or_default());
                if !shown.trim().is_empty() {
                    events.push(Event::Html(format!("<p>{}</p>", escape_html(shown.trim())).into()));
                }
            }
            Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Html(escape_html(&without_comments(&raw)).into())),
            Event::Start(Tag::Heading { level, .. }) => {
                events.push(Event::Start(Tag::Heading { level: below(level), id: None, classes: Vec::new(), attrs: Vec::new() }))
            }
            Event::End(TagEnd::Heading(level)) => events.push(Event::End(TagEnd::Heading(below(level)))),
            Event::Start(Tag::Table(alignments)) => {
                events.push(Event::Html(r#"<div class="table-wrap" tabindex="0" role="region" aria-label="表格">"#.into()));
                events.push(Event::Start(Tag::Table(vec![Alignment::None; alignments.len()])));
            }
            Event::End(TagEnd::Table) => {
                events.push(Event::End(TagEnd::Table));
                events.push(Event::Html("</div>".into()));
            }
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                dropped_link = !safe_link(&dest_url);
                if !dropped_link {
                    events.push(Event::Start(Tag::Link { link_type, dest_url, title, id }));
                }
            }
            Event::End(TagEnd::Link) if dropped_link => dropped_link = false,
            // An image's alternative text stays, as text.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => {}
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    Rendered { html, matches }
}

/// A heading one level down: the page's `h1` is the document's title.
fn below(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
    }
}

/// Web and mail addresses, and addresses relative to the page; not
/// `javascript:`, `data:` or other schemes.
fn safe_link(dest: &CowStr) -> bool {
    let lower = dest.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => matches!(scheme, "http" | "https" | "mailto"),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: &str = "# 2024年部门预算\n\n## 一、收支总表\n\n\
        | 项目 | 金额（万元） |\n| :--- | ---: |\n| **一般公共预算** | 1,200 |\n| 三公经费 | 35 |\n\n\
        - 公务接待费\n- 公务用车\n";

    #[test]
    fn tables_headings_and_lists_are_rendered_without_inline_styles() {
        let rendered = to_html(BUDGET, &["三公经费".to_string()]);
        let html = &rendered.html;
        assert!(html.contains("<h2>2024年部门预算</h2>"), "{html}");
        assert!(html.contains("<h3>一、收支总表</h3>"), "{html}");
        assert!(html.contains(r#"<div class="table-wrap" tabindex="0" role="region" aria-label="表格"><table>"#), "{html}");
        assert!(html.contains("<th>金额（万元）</th>"), "{html}");
        assert!(html.contains("<td><strong>一般公共预算</strong></td><td>1,200</td>"), "{html}");
        assert!(html.contains("<td><mark>三公经费</mark></td>"), "{html}");
        assert!(html.contains("<li>公务接待费</li>"), "{html}");
        assert!(!html.contains("style="), "{html}");
        assert!(!html.contains('|') && !html.contains("**") && !html.contains('#'), "{html}");
        assert_eq!(rendered.matches, 1);
    }

    #[test]
    fn raw_html_is_escaped_and_unsafe_links_dropped() {
        let source =
            "<script>alert(1)</script>\n\n<!-- INFO END -->\n\n正文 <b>粗</b><!-- 注 --> [看这里](javascript:alert(2)) [官网](https://example.gov.cn/a?b=1) ![图](x.png)\n";
        let html = to_html(source, &[]).html;
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(html.contains("&lt;b&gt;粗&lt;/b&gt;"), "{html}");
        assert!(!html.contains("INFO") && !html.contains("注") && !html.contains("&lt;!--"), "comments are left out: {html}");
        assert!(!html.contains("<script") && !html.contains("<b>") && !html.contains("javascript"), "{html}");
        assert!(html.contains(r#"<a href="https://example.gov.cn/a?b=1">官网</a>"#), "{html}");
        assert!(html.contains("看这里") && html.contains('图') && !html.contains("<img"), "{html}");
    }
}
