//! DOCX, PDF and OFD end to end: files built in code go through an ingest,
//! a distinctive Chinese phrase of each is found through search, and the
//! catalog fields their files state reach the index.

mod fixtures;
mod stored;

use std::fs;
use std::path::Path;

use indexer::api::{Hit, SearchRequest};
use indexer::ingest::{self, IngestOptions, Summary};
use indexer::Archive;

fn ingest(src: &Path, data: &Path) -> Summary {
    ingest::run(&IngestOptions::new(vec![src.to_path_buf()], data.to_path_buf())).expect("ingest runs")
}

fn search(archive: &Archive, q: &str) -> Vec<Hit> {
    archive.search(&SearchRequest { q: q.into(), ..Default::default() }).expect("search answers").hits
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

#[test]
fn each_format_is_found_by_its_phrase_with_its_catalog_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = (dir.path().join("src"), dir.path().join("data"));
    write(
        &src.join("通知/秸秆禁烧.docx"),
        &fixtures::docx(
            "关于做好秸秆禁烧工作的通知",
            "2016-05-20T09:00:00Z",
            &["关于做好秸秆禁烧工作的通知", "各乡镇人民政府：", "严禁在田间地头焚烧秸秆，违者依法处罚。"],
        ),
    );
    write(
        &src.join("预案/防汛抗旱应急预案.pdf"),
        &fixtures::pdf(
            "临河区防汛抗旱应急预案",
            &[&["临河区防汛抗旱应急预案", "第一章　总则"], &["各级防汛指挥部应当储备冲锋舟和救生衣。"]],
        ),
    );
    write(
        &src.join("社会救助/低保标准.ofd"),
        &fixtures::ofd(
            "关于公布城乡低保标准的通知",
            "临河区民政局",
            "2016-12-28",
            &[&["关于公布城乡低保标准的通知", "各乡镇人民政府："], &["城乡低保月标准提高到每人五百八十元。"]],
        ),
    );
    let summary = ingest(&src, &data);
    assert_eq!(summary.rejected, vec![], "{summary:?}");
    assert_eq!(summary.added, 3, "{summary:?}");

    let archive = Archive::open(&data).unwrap();
    let cases = [
        ("焚烧秸秆", "通知/秸秆禁烧.docx", "关于做好秸秆禁烧工作的通知", None, "2016-05-20"),
        ("冲锋舟和救生衣", "预案/防汛抗旱应急预案.pdf", "临河区防汛抗旱应急预案", None, "2016-12-30"),
        ("五百八十元", "社会救助/低保标准.ofd", "关于公布城乡低保标准的通知", Some("临河区民政局"), "2016-12-28"),
    ];
    for (phrase, path, title, publisher, written) in cases {
        let hits = search(&archive, phrase);
        let hit = hits.iter().find(|h| h.path == path).unwrap_or_else(|| panic!("{phrase} did not find {path}: {hits:?}"));
        let doc = archive.document(&hit.id).unwrap().expect("hit has a document");
        assert_eq!(doc.title, title, "{path}");
        assert_eq!(doc.publisher.as_deref(), publisher, "{path}");
        assert_eq!(doc.written_date.as_deref(), Some(written), "{path}");
        let text = doc.text.expect("public document has its text");
        assert!(text.contains(phrase), "{path}: {text}");
        assert!(!text.contains("页眉"), "page header leaked into the body of {path}: {text}");
    }
    // Table cells read row by row, cells of a row on one line.
    let docx = search(&archive, "公务接待费");
    let doc = archive.document(&docx[0].id).unwrap().unwrap();
    assert!(doc.text.unwrap().contains("项目\t金额（万元）\n公务接待费\t12.5"));
}

#[test]
fn an_ofd_written_last_line_first_reads_and_is_titled_from_the_top_of_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = (dir.path().join("src"), dir.path().join("data"));
    let lines: &[&str] =
        &["关于开展冬季供暖安全检查的通知", "各供热企业：", "请于11月1日前完成管网检修。", "临河区住房和城乡建设局", "2020年10月20日"];
    write(&src.join("供热/安全检查.ofd"), &fixtures::ofd_written_backwards("", "", "", &[lines]));
    let summary = ingest(&src, &data);
    assert_eq!((summary.added, summary.rejected.len()), (1, 0), "{summary:?}");
    let archive = Archive::open(&data).unwrap();
    let hits = search(&archive, "管网检修");
    assert_eq!(hits.len(), 1);
    let doc = archive.document(&hits[0].id).unwrap().unwrap();
    assert_eq!(doc.title, "关于开展冬季供暖安全检查的通知");
    assert_eq!(
        doc.text.as_deref(),
        Some("关于开展冬季供暖安全检查的通知\n各供热企业：\n请于11月1日前完成管网检修。\n临河区住房和城乡建设局\n2020年10月20日")
    );
    assert_eq!(doc.publisher.as_deref(), Some("临河区住房和城乡建设局"));
    assert_eq!(doc.written_date.as_deref(), Some("2020-10-20"));
}

#[test]
fn a_scanned_pdf_is_indexed_by_its_catalog_data_and_flagged_for_ocr() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = (dir.path().join("src"), dir.path().join("data"));
    write(&src.join("征地/补偿方案扫描件.pdf"), &fixtures::pdf("2015年征地补偿安置方案", &[&[], &[]]));
    let summary = ingest(&src, &data);
    assert_eq!(summary.added, 1, "{summary:?}");
    assert!(summary.warnings.iter().any(|w| w.path == "征地/补偿方案扫描件.pdf" && w.reason == "no text layer (needs OCR)"), "{summary:?}");
    let archive = Archive::open(&data).unwrap();
    let hits = search(&archive, "征地补偿安置方案");
    assert_eq!(hits.iter().map(|h| h.path.as_str()).collect::<Vec<_>>(), vec!["征地/补偿方案扫描件.pdf"]);
}

#[test]
fn a_big5_pdf_from_a_typesetting_system_is_found_by_a_simplified_query_and_shown_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = (dir.path().join("src"), dir.path().join("data"));
    let big5 = |text: &str| encoding_rs::BIG5.encode(text).0.into_owned();
    let mut page = pdf_writer::Content::new();
    page.begin_text().set_font(pdf_writer::Name(b"F1"), 12.0).next_line(72.0, 760.0);
    page.show(pdf_writer::Str(&big5("臺灣省政府公報：颱風災害救助辦法")));
    page.end_text();
    write(&src.join("公报/颱風救助.pdf"), &fixtures::pdf_in_cmap("ETen-B5-H", &[], &[], &[&page.finish()]));
    let summary = ingest(&src, &data);
    assert_eq!((summary.added, summary.rejected.len()), (1, 0), "{summary:?}");
    let archive = Archive::open(&data).unwrap();
    let hits = search(&archive, "台风灾害");
    assert_eq!(hits.iter().map(|h| h.path.as_str()).collect::<Vec<_>>(), vec!["公报/颱風救助.pdf"]);
    // The page says it in traditional characters, and so does the snippet.
    assert_eq!(hits[0].snippet, "臺灣省政府公報：<mark>颱風災害</mark>救助辦法");
}

#[test]
fn unsupported_formats_are_rejected_by_name_never_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = (dir.path().join("src"), dir.path().join("data"));
    let ole2 = [&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1][..], &[0u8; 504]].concat();
    for name in ["旧公文.doc", "旧公文.wps", "经费表.xls", "经费表.xlsx", "汇报.pptx", "现场照片.JPG", "扫描件.tif", "附件.rar"]
    {
        write(&src.join(name), &ole2);
    }
    let summary = ingest(&src, &data);
    assert_eq!(summary.added, 0);
    let mut reasons: Vec<(&str, &str)> = summary.rejected.iter().map(|r| (r.path.as_str(), r.reason.as_str())).collect();
    reasons.sort();
    let mut expected = vec![
        ("旧公文.doc", "unsupported format: .doc (Word 97-2003; save as .docx)"),
        ("旧公文.wps", "unsupported format: .wps (WPS Writer; save as .docx)"),
        ("扫描件.tif", "unsupported format: .tif (image; needs OCR, or a PDF with a text layer)"),
        ("汇报.pptx", "unsupported format: .pptx (PowerPoint; save as .pdf)"),
        ("现场照片.JPG", "unsupported format: .jpg (image; needs OCR, or a PDF with a text layer)"),
        ("经费表.xls", "unsupported format: .xls (Excel 97-2003 spreadsheet; export as .csv)"),
        ("经费表.xlsx", "unsupported format: .xlsx (Excel spreadsheet; export as .csv)"),
        ("附件.rar", "unsupported format: .rar (archive; unpack it into the source folder)"),
    ];
    expected.sort();
    assert_eq!(reasons, expected);
}

#[test]
fn an_ofd_holding_a_withheld_document_serves_the_text_of_the_others_but_no_original() {
    use fixtures::OfdDocument;
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = (dir.path().join("src"), dir.path().join("data"));
    let public: &[&[&str]] = &[&["关于公布供暖收费标准的通知", "居民供暖费每平方米二十元。", "（此件公开发布）"]];
    let withheld: &[&[&str]] = &[&["困难群众名册", "赵六 身份证号", "（此件不予公开）"]];
    let both = fixtures::ofd_of(&[
        OfdDocument {
            title: "关于公布供暖收费标准的通知", author: "临河区发展和改革局", created: "2019-10-08", pages: public
        },
        OfdDocument { title: "困难群众名册", author: "临河区民政局", created: "2019-10-08", pages: withheld },
    ]);
    write(&src.join("合订.ofd"), &both);
    let summary = ingest(&src, &data);
    assert_eq!(summary.withheld, vec!["合订.ofd#2"]);
    let notes: Vec<(&str, &str)> = summary.warnings.iter().map(|w| (w.path.as_str(), w.reason.as_str())).collect();
    assert_eq!(
        notes,
        [("合订.ofd", "合订.ofd#1: its original is not served (only its text): the file also holds documents that are not public")]
    );
    let archive = Archive::open(&data).unwrap();
    let hits = search(&archive, "供暖费");
    assert_eq!(hits.len(), 1);
    let doc = archive.document(&hits[0].id).unwrap().unwrap();
    assert!(doc.text.as_deref().unwrap().contains("居民供暖费每平方米二十元"), "{doc:?}");
    assert_eq!((doc.sha256.as_str(), doc.bytes), ("", 0));
    assert!(matches!(archive.original(&hits[0].id).unwrap(), indexer::archive::Original::NotSeparable));
    assert!(search(&archive, "赵六").is_empty());
    assert!(stored::originals(&data).is_empty(), "the file, which holds the withheld document, is not stored");
}
