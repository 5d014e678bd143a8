//! OFD (GB/T 33190), the Chinese fixed-layout e-document format: a zip of
//! XML parts. `OFD.xml` lists each document (`DocBody`) with its
//! `DocInfo` (title, author, creation date) and its root part (`DocRoot`,
//! `Document.xml`), which lists the pages (`Pages/Page@BaseLoc`); each
//! page's `Content.xml` holds the text as `TextObject`/`TextCode` runs.
//! No crate walks this, so it is done here: text in page order, and on a
//! page in reading order by position, not by the order of the file (a
//! generator may write the heading last): each run's place is its
//! `TextObject`'s `Boundary` plus the `TextCode`'s `X`/`Y` within it; lines
//! go top to bottom, runs on one baseline (within half the font size) are
//! joined left to right. Transformations (`CTM`) and vertical text are not
//! taken into account.
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
/// Most `TextCode` runs read from one page. Runs are held until the page
/// is read, to be put in order; a full A4 page set one character per run
/// in a tiny font has some twenty thousand, so only a hostile file comes
/// near this.
const MAX_RUNS_PER_PAGE: usize = 100_000;

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
            Ok(complete) => {
                sink.end_line();
                if !complete {
                    warnings.push(format!("page {}: only its first {MAX_RUNS_PER_PAGE} text runs were read", n + 1));
                }
            }
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

/// One `TextCode` and where it stands on its page, in millimetres from the
/// top left.
#[derive(Debug)]
struct Run {
    x: f64,
    /// The baseline.
    y: f64,
    /// Font size of its `TextObject`.
    size: f64,
    text: String,
}

/// The text of one page's `Content.xml`, in reading order; whether all
/// its runs were read (see [`MAX_RUNS_PER_PAGE`]).
fn page_text<R: Read>(xml: &mut Xml<'_, R>, out: &mut TextSink) -> Result<bool, ExtractError> {
    let (runs, complete) = page_runs(xml, out.room())?;
    for line in lines(runs) {
        out.end_line();
        for run in line {
            out.push_str(&run.text);
        }
    }
    Ok(complete)
}

/// Each `TextCode` of a page that holds text, with its place, in file
/// order, until they hold more than `room` bytes of text or number
/// [`MAX_RUNS_PER_PAGE`] (then the flag returned is false). A `TextCode`
/// without `X` or `Y` continues from the previous one of its `TextObject`.
fn page_runs<R: Read>(xml: &mut Xml<'_, R>, room: usize) -> Result<(Vec<Run>, bool), ExtractError> {
    let mut runs = Vec::new();
    let mut bytes = 0usize;
    let (mut origin_x, mut origin_y, mut size) = (0.0, 0.0, DEFAULT_SIZE_MM);
    let (mut code_x, mut code_y) = (0.0, 0.0);
    while bytes <= room {
        match xml.next()? {
            Event::Start(e) | Event::Empty(e) if local_name(&e) == "TextObject" => {
                let boundary = attribute(&e, "Boundary");
                origin_x = boundary.as_deref().and_then(|b| number_at(b, 0)).unwrap_or(0.0);
                origin_y = boundary.as_deref().and_then(|b| number_at(b, 1)).unwrap_or(0.0);
                size = attribute(&e, "Size").and_then(|s| number_at(&s, 0)).filter(|s| *s > 0.0).unwrap_or(DEFAULT_SIZE_MM);
                (code_x, code_y) = (0.0, 0.0);
            }
            Event::Start(e) if local_name(&e) == "TextCode" => {
                code_x = attribute(&e, "X").and_then(|x| number_at(&x, 0)).unwrap_or(code_x);
                code_y = attribute(&e, "Y").and_then(|y| number_at(&y, 0)).unwrap_or(code_y);
                let text = xml.text_to_end()?;
                if !text.is_empty() {
                    if runs.len() == MAX_RUNS_PER_PAGE {
                        return Ok((runs, false));
                    }
                    bytes += text.len();
                    runs.push(Run { x: origin_x + code_x, y: origin_y + code_y, size, text });
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((runs, true))
}

/// Runs grouped into lines, top to bottom, each line left to right. A run
/// belongs to a line when its baseline is within half a font size of the
/// line's first (topmost) run; runs at one place keep their file order.
fn lines(mut runs: Vec<Run>) -> Vec<Vec<Run>> {
    runs.sort_by(|a, b| a.y.total_cmp(&b.y));
    let mut lines: Vec<Vec<Run>> = Vec::new();
    for run in runs {
        match lines.last_mut() {
            Some(line) if (run.y - line[0].y) <= run.size.max(line[0].size) / 2.0 => line.push(run),
            _ => lines.push(vec![run]),
        }
    }
    for line in &mut lines {
        line.sort_by(|a, b| a.x.total_cmp(&b.x));
    }
    lines
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

    /// A one-page OFD file whose page holds these `TextObject`s, in this
    /// order: each a `Boundary` and its `TextCode`s as (attributes, text).
    fn ofd_of_objects(objects: &[(&str, &[(&str, &str)])]) -> Vec<u8> {
        let objects: String = objects
            .iter()
            .enumerate()
            .map(|(i, (boundary, codes))| {
                let codes: String = codes.iter().map(|(at, text)| format!("<ofd:TextCode {at}>{text}</ofd:TextCode>")).collect();
                format!(r#"<ofd:TextObject ID="{}" Boundary="{boundary}" Font="3" Size="5.6">{codes}</ofd:TextObject>"#, i + 20)
            })
            .collect();
        let page = format!("<ofd:Page {NS}><ofd:Content><ofd:Layer ID=\"5\">{objects}</ofd:Layer></ofd:Content></ofd:Page>");
        package(&[
            ("OFD.xml", &root_part("", "", "")),
            ("Doc_0/Document.xml", &document_part(&["Pages/Page_0/Content.xml"])),
            ("Doc_0/Pages/Page_0/Content.xml", &page),
        ])
    }

    #[test]
    fn text_objects_read_by_their_place_on_the_page_not_their_order_in_the_file() {
        let bytes = ofd_of_objects(&[
            ("25 60 160 8", &[(r#"X="0" Y="5.6""#, "各乡镇人民政府：")]),
            ("25 68 160 8", &[(r#"X="0" Y="5.6""#, "现将有关事项通知如下。")]),
            // One line in two objects, the right half first and 0.3 mm lower.
            ("53 76.3 130 8", &[(r#"X="0" Y="5.6""#, "3月15日前报送。")]),
            ("25 76 28 8", &[(r#"X="0" Y="5.6""#, "请各单位于")]),
            // The heading, written last.
            ("25 40 160 10", &[(r#"X="0" Y="7""#, "关于做好秸秆禁烧工作的通知")]),
        ]);
        let r = &extract(&bytes, &Limits::default()).unwrap()[0];
        assert_eq!(r.text, "关于做好秸秆禁烧工作的通知\n各乡镇人民政府：\n现将有关事项通知如下。\n请各单位于3月15日前报送。");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn text_codes_are_placed_by_their_offsets_within_the_boundary() {
        // Page-wide boundaries, as some generators write: only X and Y place
        // the text. A TextCode without Y stays on the baseline before it.
        let page = "0 0 210 297";
        let bytes = ofd_of_objects(&[
            (page, &[(r#"X="25" Y="80""#, "请严格落实禁烧责任。")]),
            (page, &[(r#"X="70" Y="110""#, "办公室"), (r#"X="25""#, "临河区人民政府")]),
            (page, &[(r#"X="25" Y="50""#, "关于做好秸秆禁烧工作的通知")]),
            ("20 60 170 8", &[(r#"X="5" Y="5.6""#, "各乡镇人民政府：")]),
        ]);
        let r = &extract(&bytes, &Limits::default()).unwrap()[0];
        assert_eq!(r.text, "关于做好秸秆禁烧工作的通知\n各乡镇人民政府：\n请严格落实禁烧责任。\n临河区人民政府办公室");
    }

    #[test]
    fn a_page_past_the_run_limit_keeps_its_first_runs_and_says_so() {
        let codes: Vec<(String, String)> =
            (0..=MAX_RUNS_PER_PAGE).map(|i| (format!(r#"X="{}" Y="{}""#, i % 30 * 5, 10 + i / 30), "字".to_string())).collect();
        let codes: Vec<(&str, &str)> = codes.iter().map(|(a, t)| (a.as_str(), t.as_str())).collect();
        let r = &extract(&ofd_of_objects(&[("0 0 210 297", &codes)]), &Limits::default()).unwrap()[0];
        assert_eq!(r.text.chars().filter(|&c| c == '字').count(), MAX_RUNS_PER_PAGE);
        assert_eq!(r.warnings, ["page 1: only its first 100000 text runs were read"]);
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
