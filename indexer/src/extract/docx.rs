//! Word documents (`.docx`, Office Open XML): the body's paragraphs and
//! tables in reading order, and the title and creation date of
//! `docProps/core.xml`.
//!
//! Tables read row by row: the cells of a row are separated by a tab and
//! each row ends its line (paragraphs inside one cell are joined by a
//! space). Page headers and footers are dropped, not appended: they are
//! page furniture (the issuer's banner, the page number, a repeated title),
//! and the catalog reader takes the signature block, 成文日期 and
//! disclosure note (此件不予公开) from the last lines of the text, where
//! appended headers would push them out of reach. Footnotes, comments,
//! deleted revisions, field codes and the fallback copies of text boxes are
//! left out for the same reason or because they are not the text as it
//! reads. `dc:creator` is the author's login name, not the issuing organ,
//! so it is not taken as the publisher.
//!
//! A symbol inserted from a symbol font (`w:sym`: ≥ in Symbol, ☑ in
//! Wingdings) becomes its Unicode character (see [`super::symbols`]); one
//! with none known becomes [`UNMAPPED`] and is named in a warning.

use std::io::Read;

use quick_xml::events::{BytesStart, Event};

use super::symbols::{symbol_char, UNMAPPED};
use super::zipped::{attribute, local_name, properties_catalog, resolve, text_of, Package, TextSink, Xml};
use super::{ExtractError, Limits, Record};

/// Where the main document part is when the package does not say.
const DEFAULT_MAIN_PART: &str = "word/document.xml";
const CORE_PROPERTIES: &str = "docProps/core.xml";
/// Start of every OLE2 file: a Word 97-2003 `.doc` renamed to `.docx`.
const OLE2_MAGIC: [u8; 4] = [0xD0, 0xCF, 0x11, 0xE0];

/// Elements whose content is not body text as it reads: properties (they
/// hold tab stops that are not tabs), deleted and moved-away revisions,
/// field codes, and the second copy of a text box kept for old readers.
const SKIPPED: [&str; 13] = [
    "pPr",
    "rPr",
    "tblPr",
    "trPr",
    "tcPr",
    "sectPr",
    "tblGrid",
    "delText",
    "instrText",
    "moveFrom",
    "Fallback",
    "footnoteReference",
    "endnoteReference",
];

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<Record, ExtractError> {
    if bytes.starts_with(&OLE2_MAGIC) {
        return Err(ExtractError::Unsupported(".docx file is really a Word 97-2003 .doc (save it again as .docx)".into()));
    }
    let mut package = Package::open(bytes, limits, "DOCX")?;
    let main = main_part(&mut package)?;
    if !package.has(&main) {
        return Err(ExtractError::Corrupt(format!("not a Word document: {main} is missing")));
    }
    let mut sink = TextSink::new(limits.max_text_bytes);
    let unmapped = body_text(&mut package.xml(&main)?, &mut sink)?;
    let mut warnings = Vec::new();
    if let Some(warning) = unmapped.warning() {
        warnings.push(warning);
    }
    let text = sink.finish(&mut warnings);
    let (title, created) = match core_properties(&mut package) {
        Ok(found) => found,
        Err(e) if Package::is_fatal(&e) => return Err(e),
        Err(e) => {
            warnings.push(format!("document properties unreadable ({e}); title and date taken from the text"));
            (None, None)
        }
    };
    let catalog = properties_catalog(title.as_deref(), None, created.as_deref(), &text);
    Ok(Record { text, catalog, warnings, ..Record::default() })
}

/// The main document part, as the package relationships name it.
fn main_part(package: &mut Package<'_>) -> Result<String, ExtractError> {
    const RELATIONSHIPS: &str = "_rels/.rels";
    if !package.has(RELATIONSHIPS) {
        return Ok(DEFAULT_MAIN_PART.into());
    }
    let mut xml = package.xml(RELATIONSHIPS)?;
    loop {
        match xml.next()? {
            Event::Start(e) | Event::Empty(e) if local_name(&e) == "Relationship" => {
                let is_main = attribute(&e, "Type").is_some_and(|t| t.ends_with("/officeDocument"));
                if let (true, Some(target)) = (is_main, attribute(&e, "Target")) {
                    return resolve(RELATIONSHIPS, &format!("/{}", target.trim_start_matches('/')));
                }
            }
            Event::Eof => return Ok(DEFAULT_MAIN_PART.into()),
            _ => {}
        }
    }
}

/// The `w:sym` symbols that have no Unicode character here, for the
/// archivist's report: how many, and the first few distinct ones.
#[derive(Debug, Default)]
struct UnmappedSymbols {
    count: usize,
    /// `font code` of the first [`Self::NAMED`] distinct ones.
    named: Vec<String>,
}

impl UnmappedSymbols {
    /// Distinct symbols a warning names; the rest are only counted.
    const NAMED: usize = 5;
    /// Longest font name or code a warning repeats, in characters.
    const NAME_CHARS: usize = 40;

    fn add(&mut self, font: Option<String>, code: Option<String>) {
        self.count += 1;
        let short = |s: Option<String>, missing: &str| match s {
            Some(s) => s.trim().chars().take(Self::NAME_CHARS).collect(),
            None => missing.to_string(),
        };
        let name = format!("{} {}", short(font, "(no font)"), short(code, "(no code)"));
        if self.named.len() < Self::NAMED && !self.named.contains(&name) {
            self.named.push(name);
        }
    }

    fn warning(&self) -> Option<String> {
        (self.count > 0).then(|| {
            format!(
                "{} symbol(s) from a symbol font have no Unicode character here and show as {UNMAPPED}: {}",
                self.count,
                self.named.join(", ")
            )
        })
    }
}

/// Paragraphs and table cells of the main part, in reading order, and the
/// symbols that could not be mapped.
fn body_text<R: Read>(xml: &mut Xml<'_, R>, out: &mut TextSink) -> Result<UnmappedSymbols, ExtractError> {
    let mut skipping = 0usize;
    let mut in_text = false;
    let mut cells = 0usize;
    let mut unmapped = UnmappedSymbols::default();
    let mut symbol = |e: &BytesStart<'_>, out: &mut TextSink| {
        let (font, code) = (attribute(e, "font"), attribute(e, "char"));
        match symbol_char(font.as_deref(), code.as_deref()) {
            Some(c) => out.push(c),
            None => {
                out.push(UNMAPPED);
                unmapped.add(font, code);
            }
        }
    };
    while !out.full() {
        match xml.next()? {
            Event::Start(e) => {
                let name = local_name(&e);
                if skipping > 0 || SKIPPED.contains(&name) {
                    skipping += 1;
                    continue;
                }
                match name {
                    "t" => in_text = true,
                    "tc" => cells += 1,
                    "tbl" if cells == 0 => out.end_line(),
                    "sym" => symbol(&e, out),
                    _ => {}
                }
            }
            Event::Empty(e) if skipping == 0 => match local_name(&e) {
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                "noBreakHyphen" => out.push('-'),
                "sym" => symbol(&e, out),
                "p" if cells == 0 => out.push('\n'),
                _ => {}
            },
            Event::End(e) => {
                if skipping > 0 {
                    skipping -= 1;
                    continue;
                }
                match local_name(&e) {
                    "t" => in_text = false,
                    "p" if cells > 0 => out.push(' '),
                    "p" => out.push('\n'),
                    "tc" => {
                        cells = cells.saturating_sub(1);
                        out.trim_end(&[' ']);
                        out.push('\t');
                    }
                    "tr" => {
                        out.trim_end(&['\t', ' ']);
                        out.push(if cells > 0 { ' ' } else { '\n' });
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            event if in_text && skipping == 0 => {
                if let Some(text) = text_of(&event) {
                    out.push_str(&text);
                }
            }
            _ => {}
        }
    }
    Ok(unmapped)
}

/// `dc:title` and `dcterms:created` of the core properties, if any.
fn core_properties(package: &mut Package<'_>) -> Result<(Option<String>, Option<String>), ExtractError> {
    if !package.has(CORE_PROPERTIES) {
        return Ok((None, None));
    }
    let mut xml = package.xml(CORE_PROPERTIES)?;
    let (mut title, mut created) = (None, None);
    loop {
        let field = match xml.next()? {
            Event::Start(e) => local_name(&e).to_string(),
            Event::Eof => return Ok((title, created)),
            _ => continue,
        };
        match field.as_str() {
            "title" => title = Some(xml.text_to_end()?),
            "created" => created = Some(xml.text_to_end()?),
            _ => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;

    /// A DOCX package of the given parts (name, content), stored with
    /// Deflate like Word does.
    pub(crate) fn package(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in parts {
            zip.start_file(*name, options).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn document(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{body}<w:sectPr><w:headerReference r:id="rId1"/></w:sectPr></w:body></w:document>"#
        )
    }

    fn para(text: &str) -> String {
        format!(
            r#"<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="420"/></w:tabs></w:pPr><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{text}</w:t></w:r></w:p>"#
        )
    }

    #[test]
    fn paragraphs_and_table_cells_come_in_reading_order_without_headers() {
        let table = format!(
            "<w:tbl><w:tblPr/><w:tr><w:tc><w:tcPr/>{}</w:tc><w:tc>{}{}</w:tc></w:tr><w:tr><w:tc>{}</w:tc><w:tc>{}</w:tc></w:tr></w:tbl>",
            para("项目"),
            para("金额"),
            para("（万元）"),
            para("公务接待费"),
            para("12.5")
        );
        let body = format!(
            "{}{}{table}{}",
            para("关于公布2016年度三公经费决算的通知"),
            r#"<w:p><w:r><w:t>各单位</w:t></w:r><w:r><w:tab/><w:t>：现将&#x51b3;算公布&amp;说明</w:t></w:r><w:r><w:delText>删掉的字</w:delText></w:r><w:r><w:instrText> PAGE </w:instrText></w:r></w:p>"#,
            r#"<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>文本框内容</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>文本框内容</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>"#
        );
        let bytes = package(&[
            ("word/document.xml", &document(&body)),
            ("word/header1.xml", &format!("<w:hdr {W}>{}</w:hdr>", para("页眉文字不应出现"))),
            ("word/footer1.xml", &format!("<w:ftr {W}>{}</w:ftr>", para("第1页"))),
        ]);
        let r = extract(&bytes, &Limits::default()).unwrap();
        assert_eq!(
            r.text,
            "关于公布2016年度三公经费决算的通知\n各单位\t：现将决算公布&说明\n项目\t金额 （万元）\n公务接待费\t12.5\n文本框内容"
        );
    }

    #[test]
    fn core_properties_give_title_and_date_when_the_text_has_none() {
        let core = r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>临河区2016年统计公报</dc:title><dc:creator>Administrator</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">2017-03-01T08:00:00Z</dcterms:created></cp:coreProperties>"#;
        let bytes = package(&[("word/document.xml", &document(&para("全区生产总值增长。"))), ("docProps/core.xml", core)]);
        let r = extract(&bytes, &Limits::default()).unwrap();
        assert_eq!(r.catalog.title.as_deref(), Some("临河区2016年统计公报"));
        assert_eq!(r.catalog.written_date.as_deref(), Some("2017-03-01"));
        assert_eq!(r.catalog.publisher, None);
    }

    #[test]
    fn the_main_part_is_found_through_the_package_relationships() {
        let rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/word/document2.xml"/></Relationships>"#;
        let bytes = package(&[("_rels/.rels", rels), ("word/document2.xml", &document(&para("另一个主文档")))]);
        assert_eq!(extract(&bytes, &Limits::default()).unwrap().text, "另一个主文档");
    }

    #[test]
    fn broken_packages_are_rejected_with_the_reason() {
        let good = package(&[("word/document.xml", &document(&para("正文")))]);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..good.len() / 2].to_vec(), "zip structure is broken"),
            (package(&[("word/other.xml", "<x/>")]), "word/document.xml is missing"),
            (package(&[("word/document.xml", "<w:document><w:body><w:p></w:body>")]), "broken XML"),
            ([&OLE2_MAGIC[..], &[0; 60]].concat(), "Word 97-2003"),
        ];
        for (bytes, reason) in cases {
            let e = extract(&bytes, &Limits::default()).unwrap_err();
            assert!(e.to_string().contains(reason), "{e} should mention {reason}");
        }
    }

    #[test]
    fn limits_on_depth_entries_and_unpacked_size_hold() {
        let deep = document(&format!("{}{}", "<w:sdt>".repeat(300), "</w:sdt>".repeat(300)));
        let e = extract(&package(&[("word/document.xml", &deep)]), &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("nested deeper than 256"), "{e}");

        let many: Vec<(String, String)> = (0..20).map(|i| (format!("word/media/{i}.xml"), String::new())).collect();
        let parts: Vec<(&str, &str)> = many.iter().map(|(n, c)| (n.as_str(), c.as_str())).collect();
        let e = extract(&package(&parts), &Limits { max_entries: 10, ..Limits::default() }).unwrap_err();
        assert!(e.to_string().contains("20 entries (limit 10)"), "{e}");

        let big = document(&para(&"很长的正文".repeat(10_000)));
        let e = extract(&package(&[("word/document.xml", &big)]), &Limits { max_unpacked_bytes: 50_000, ..Limits::default() }).unwrap_err();
        assert_eq!(e.to_string(), "zip bomb: word/document.xml inflates past 50000 bytes");

        let endless = document(&para(&"无".repeat(800_000)));
        let e = extract(&package(&[("word/document.xml", &endless)]), &Limits { max_text_bytes: 1000, ..Limits::default() }).unwrap_err();
        assert!(e.to_string().contains("one XML text or tag is longer than 1048576 bytes"), "{e}");
    }

    /// A paragraph of runs: text runs, with `w:sym` runs given as `(font, code)`.
    fn symbol_para(runs: &[Result<&str, (&str, &str)>]) -> String {
        let runs: String = runs
            .iter()
            .map(|run| match run {
                Ok(text) => format!("<w:r><w:t>{text}</w:t></w:r>"),
                Err((font, code)) => {
                    format!(r#"<w:r><w:rPr><w:rFonts w:hint="eastAsia"/></w:rPr><w:sym w:font="{font}" w:char="{code}"/></w:r>"#)
                }
            })
            .collect();
        format!("<w:p>{runs}</w:p>")
    }

    #[test]
    fn symbols_from_symbol_fonts_become_their_characters() {
        let body = [
            symbol_para(&[Ok("年龄"), Err(("Symbol", "F0B3")), Ok("80周岁")]),
            symbol_para(&[Err(("Wingdings", "F0FE")), Ok("同意　"), Err(("Wingdings", "F0A8")), Ok("不同意")]),
            symbol_para(&[Err(("Wingdings 2", "F052")), Ok("已婚　"), Err(("Wingdings 2", "F0A3")), Ok("未婚")]),
            symbol_para(&[Ok("温度"), Err(("Symbol", "F0A3")), Ok("30"), Err(("Symbol", "F0B0")), Ok("C")]),
        ]
        .concat();
        let r = extract(&package(&[("word/document.xml", &document(&body))]), &Limits::default()).unwrap();
        assert_eq!(r.text, "年龄≥80周岁\n☑同意　◻不同意\n☑已婚　□未婚\n温度≤30°C");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn a_symbol_without_a_known_character_leaves_the_placeholder_and_a_warning() {
        let body = [
            symbol_para(&[Ok("请在"), Err(("Wingdings 3", "F0E0")), Ok("处签字")]),
            symbol_para(&[Ok("图标"), Err(("Webdings", "F061")), Err(("Webdings", "F061")), Err(("Symbol", "F060"))]),
            r#"<w:p><w:r><w:t>无编码</w:t><w:sym w:font="Wingdings"/></w:r></w:p>"#.to_string(),
            symbol_para(&[Err((&"长".repeat(100), "F0A1"))]),
        ]
        .concat();
        let r = extract(&package(&[("word/document.xml", &document(&body))]), &Limits::default()).unwrap();
        assert_eq!(r.text, "请在\u{FFFD}处签字\n图标\u{FFFD}\u{FFFD}\u{FFFD}\n无编码\u{FFFD}\n\u{FFFD}");
        let named = "Wingdings 3 F0E0, Webdings F061, Symbol F060, Wingdings (no code)";
        let long_font = "长".repeat(UnmappedSymbols::NAME_CHARS);
        assert_eq!(
            r.warnings,
            [format!("6 symbol(s) from a symbol font have no Unicode character here and show as \u{FFFD}: {named}, {long_font} F0A1")]
        );
    }

    #[test]
    fn text_past_the_limit_is_cut_and_reported() {
        let big = document(&para(&"正文".repeat(1000)));
        let r = extract(&package(&[("word/document.xml", &big)]), &Limits { max_text_bytes: 30, ..Limits::default() }).unwrap();
        assert_eq!(r.text, "正文".repeat(5));
        assert_eq!(r.warnings.len(), 1);
    }
}
