//! OFD (GB/T 33190), the Chinese fixed-layout e-document format: a zip of
//! XML parts. `OFD.xml` lists each document (`DocBody`) with its
//! `DocInfo` (title, author, creation date) and its root part (`DocRoot`,
//! `Document.xml`), which lists the pages (`Pages/Page@BaseLoc`); each
//! page's `Content.xml` holds the text as `TextObject`/`TextCode` runs.
//! No crate walks this, so it is done here: text in page order, runs on
//! the same baseline joined, a new baseline starting a new line.
//!
//! Locations are resolved against the part that names them and may not
//! leave the package. Template pages (backgrounds, mastheads),
//! annotations and signatures are not read. A file with several documents
//! gives one record for each.

use std::io::Read;

use quick_xml::events::Event;

use super::zipped::{attribute, local_name, properties_catalog, resolve, Package, TextSink, Xml};
use super::{ExtractError, Limits, Record};

/// The entry point every OFD package has.
const ROOT: &str = "OFD.xml";
/// Font size assumed when a `TextObject` states none, in millimetres.
const DEFAULT_SIZE_MM: f64 = 3.5;

/// One `DocBody` of `OFD.xml`.
#[derive(Debug, Default)]
struct DocBody {
    root: Option<String>,
    title: Option<String>,
    author: Option<String>,
    created: Option<String>,
}

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<Vec<Record>, ExtractError> {
    let mut package = Package::open(bytes, limits, "OFD")?;
    if !package.has(ROOT) {
        return Err(ExtractError::Corrupt(format!("not an OFD file: {ROOT} is missing")));
    }
    let bodies = doc_bodies(&mut package.xml(ROOT)?)?;
    let mut records = Vec::new();
    let mut text_left = limits.max_text_bytes;
    for body in bodies {
        let Some(root) = &body.root else { continue };
        let record = document(&mut package, &resolve(ROOT, root)?, &body, text_left)?;
        text_left = text_left.saturating_sub(record.text.len());
        records.push(record);
    }
    if records.is_empty() {
        return Err(ExtractError::Corrupt(format!("{ROOT} names no document (DocBody/DocRoot)")));
    }
    Ok(records)
}

/// The documents `OFD.xml` lists.
fn doc_bodies<R: Read>(xml: &mut Xml<'_, R>) -> Result<Vec<DocBody>, ExtractError> {
    let mut bodies: Vec<DocBody> = Vec::new();
    loop {
        let name = match xml.next()? {
            Event::Start(e) => local_name(&e).to_string(),
            Event::Eof => return Ok(bodies),
            _ => continue,
        };
        if name == "DocBody" {
            bodies.push(DocBody::default());
            continue;
        }
        let Some(body) = bodies.last_mut() else { continue };
        let field = match name.as_str() {
            "DocRoot" => &mut body.root,
            "Title" => &mut body.title,
            "Author" => &mut body.author,
            "CreationDate" => &mut body.created,
            _ => continue,
        };
        *field = Some(xml.text_to_end()?.trim().to_string()).filter(|s| !s.is_empty());
    }
}

/// The text of one document, page by page. A page that is missing or
/// broken is reported and skipped; the limits end the whole file.
fn document(package: &mut Package<'_>, root: &str, body: &DocBody, text_limit: usize) -> Result<Record, ExtractError> {
    let pages = page_locations(&mut package.xml(root)?, root)?;
    let mut sink = TextSink::new(text_limit);
    let mut warnings = Vec::new();
    for (n, page) in pages.iter().enumerate() {
        if sink.full() {
            break;
        }
        let read = match page {
            Ok(part) if package.has(part) => package.xml(part).and_then(|mut xml| page_text(&mut xml, &mut sink)),
            Ok(part) => Err(ExtractError::Corrupt(format!("part {part} is missing"))),
            Err(e) => Err(e.clone()),
        };
        match read {
            Ok(()) => sink.end_line(),
            Err(e) if Package::is_fatal(&e) => return Err(e),
            Err(e) => warnings.push(format!("page {} skipped: {e}", n + 1)),
        }
    }
    if pages.is_empty() {
        warnings.push(format!("{root} lists no pages"));
    }
    let text = sink.finish(&mut warnings);
    if text.is_empty() && !pages.is_empty() {
        warnings.push("no text layer (needs OCR)".into());
    }
    let catalog = properties_catalog(body.title.as_deref(), body.author.as_deref(), body.created.as_deref(), &text);
    Ok(Record { text, catalog, warnings, ..Record::default() })
}

/// The content part of each page, in page order (a location that leaves
/// the package is kept as its error, to be reported for that page).
fn page_locations<R: Read>(xml: &mut Xml<'_, R>, root: &str) -> Result<Vec<Result<String, ExtractError>>, ExtractError> {
    let mut pages = Vec::new();
    let mut in_pages = false;
    loop {
        match xml.next()? {
            Event::Start(e) if local_name(&e) == "Pages" => in_pages = true,
            Event::End(e) if local_name(&e) == "Pages" => in_pages = false,
            Event::Start(e) | Event::Empty(e) if in_pages && local_name(&e) == "Page" => {
                if let Some(location) = attribute(&e, "BaseLoc") {
                    pages.push(resolve(root, &location));
                }
            }
            Event::Eof => return Ok(pages),
            _ => {}
        }
    }
}

/// The text of one page's `Content.xml`: each `TextCode` in order, a new
/// line wherever the baseline moves.
fn page_text<R: Read>(xml: &mut Xml<'_, R>, out: &mut TextSink) -> Result<(), ExtractError> {
    let mut origin_y = 0.0;
    let mut size = DEFAULT_SIZE_MM;
    let mut code_y = 0.0;
    let mut last_baseline: Option<f64> = None;
    while !out.full() {
        match xml.next()? {
            Event::Start(e) | Event::Empty(e) if local_name(&e) == "TextObject" => {
                origin_y = attribute(&e, "Boundary").and_then(|b| number_at(&b, 1)).unwrap_or(0.0);
                size = attribute(&e, "Size").and_then(|s| number_at(&s, 0)).filter(|s| *s > 0.0).unwrap_or(DEFAULT_SIZE_MM);
                code_y = 0.0;
            }
            Event::Start(e) if local_name(&e) == "TextCode" => {
                code_y = attribute(&e, "Y").and_then(|y| number_at(&y, 0)).unwrap_or(code_y);
                let baseline = origin_y + code_y;
                if last_baseline.is_some_and(|last| (baseline - last).abs() > size / 2.0) {
                    out.end_line();
                }
                last_baseline = Some(baseline);
                let text = xml.text_to_end()?;
                out.push_str(&text);
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
    Ok(())
}

/// The `index`th number of a space-separated list (`Boundary="10 20 100 5"`).
fn number_at(list: &str, index: usize) -> Option<f64> {
    list.split_whitespace().nth(index)?.parse().ok().filter(|n: &f64| n.is_finite())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::extract::docx::tests::package;

    const NS: &str = r#"xmlns:ofd="http://www.ofdspec.org/2016""#;

    /// `OFD.xml` for one document rooted at `Doc_0/Document.xml`.
    pub(crate) fn root_part(title: &str, author: &str, created: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {NS} Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>a1</ofd:DocID><ofd:Title>{title}</ofd:Title><ofd:Author>{author}</ofd:Author><ofd:CreationDate>{created}</ofd:CreationDate></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#
        )
    }

    /// `Document.xml` listing pages at these locations.
    pub(crate) fn document_part(pages: &[&str]) -> String {
        let pages: String = pages.iter().enumerate().map(|(i, loc)| format!(r#"<ofd:Page ID="{}" BaseLoc="{loc}"/>"#, i + 10)).collect();
        format!(
            r#"<ofd:Document {NS}><ofd:CommonData><ofd:MaxUnitID>99</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea><ofd:TemplatePage ID="2" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData><ofd:Pages>{pages}</ofd:Pages></ofd:Document>"#
        )
    }

    /// A page whose lines are TextObjects at 8 mm steps; a line given as
    /// several runs (`|`-separated) puts each run in its own TextCode on
    /// the same baseline.
    pub(crate) fn page_part(lines: &[&str]) -> String {
        let objects: String = lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let codes: String = line
                    .split('|')
                    .enumerate()
                    .map(|(j, run)| format!(r#"<ofd:TextCode X="{}" Y="4.2" DeltaX="g 3 5.6">{run}</ofd:TextCode>"#, j * 40))
                    .collect();
                format!(
                    r#"<ofd:TextObject ID="{}" Boundary="20 {} 170 8" Font="3" Size="5.6">{codes}</ofd:TextObject>"#,
                    i + 20,
                    30 + i * 8
                )
            })
            .collect();
        format!(
            r#"<ofd:Page {NS}><ofd:Template TemplateID="2" ZOrder="Background"/><ofd:Content><ofd:Layer ID="5"><ofd:PageBlock ID="6">{objects}</ofd:PageBlock></ofd:Layer></ofd:Content></ofd:Page>"#
        )
    }

    /// A whole OFD file of these pages.
    pub(crate) fn ofd(title: &str, pages: &[&[&str]]) -> Vec<u8> {
        let locations: Vec<String> = (0..pages.len()).map(|i| format!("Pages/Page_{i}/Content.xml")).collect();
        let contents: Vec<String> = pages.iter().map(|lines| page_part(lines)).collect();
        let root = root_part(title, "临河区人民政府办公室", "2016-12-28");
        let document = document_part(&locations.iter().map(String::as_str).collect::<Vec<_>>());
        let template = page_part(&["模板页上的红头不应出现"]);
        let mut parts = vec![("OFD.xml".to_string(), root), ("Doc_0/Document.xml".to_string(), document)];
        parts.push(("Doc_0/Tpls/Tpl_0/Content.xml".to_string(), template));
        for (location, content) in locations.iter().zip(contents) {
            parts.push((format!("Doc_0/{location}"), content));
        }
        package(&parts.iter().map(|(n, c)| (n.as_str(), c.as_str())).collect::<Vec<_>>())
    }

    #[test]
    fn pages_are_read_in_order_with_runs_on_one_baseline_joined() {
        let bytes = ofd(
            "关于做好秸秆禁烧工作的通知",
            &[&["关于做好秸秆|禁烧工作的通知", "各乡镇人民政府："], &["请严格落实禁烧责任。", "临河区人民政府|办公室"]],
        );
        let records = extract(&bytes, &Limits::default()).unwrap();
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(r.text, "关于做好秸秆禁烧工作的通知\n各乡镇人民政府：\n请严格落实禁烧责任。\n临河区人民政府办公室");
        assert_eq!(r.catalog.title.as_deref(), Some("关于做好秸秆禁烧工作的通知"));
        assert_eq!(r.catalog.written_date.as_deref(), Some("2016-12-28"));
        assert_eq!(r.catalog.publisher.as_deref(), Some("临河区人民政府办公室"));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn a_missing_or_escaping_page_is_reported_and_the_rest_kept() {
        let document = document_part(&["Pages/Page_0/Content.xml", "../../../etc/passwd", "Pages/Page_9/Content.xml"]);
        let bytes = package(&[
            ("OFD.xml", &root_part("标题", "", "")),
            ("Doc_0/Document.xml", &document),
            ("Doc_0/Pages/Page_0/Content.xml", &page_part(&["第一页正文"])),
        ]);
        let r = &extract(&bytes, &Limits::default()).unwrap()[0];
        assert_eq!(r.text, "第一页正文");
        assert!(r.warnings[0].starts_with("page 2 skipped") && r.warnings[0].contains("outside the package"), "{:?}", r.warnings);
        assert!(r.warnings[1].starts_with("page 3 skipped") && r.warnings[1].contains("missing"), "{:?}", r.warnings);
    }

    #[test]
    fn a_page_without_text_is_reported_as_needing_ocr() {
        let bytes = package(&[
            ("OFD.xml", &root_part("扫描件", "", "")),
            ("Doc_0/Document.xml", &document_part(&["Pages/Page_0/Content.xml"])),
            (
                "Doc_0/Pages/Page_0/Content.xml",
                &format!("<ofd:Page {NS}><ofd:Content><ofd:Layer><ofd:ImageObject ResourceID=\"7\"/></ofd:Layer></ofd:Content></ofd:Page>"),
            ),
        ]);
        let r = &extract(&bytes, &Limits::default()).unwrap()[0];
        assert_eq!(r.text, "");
        assert_eq!(r.warnings, vec!["no text layer (needs OCR)".to_string()]);
    }

    #[test]
    fn packages_that_are_not_ofd_are_rejected() {
        let e = extract(&package(&[("word/document.xml", "<x/>")]), &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("OFD.xml is missing"), "{e}");
        let e = extract(&package(&[("OFD.xml", &format!("<ofd:OFD {NS}/>"))]), &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("names no document"), "{e}");
        let escaping = root_part("x", "", "").replace("Doc_0/Document.xml", "../Document.xml");
        let e = extract(&package(&[("OFD.xml", &escaping)]), &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("outside the package"), "{e}");
    }
}
