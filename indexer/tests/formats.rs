//! DOCX, PDF and OFD end to end: files built in code go through an ingest,
//! a distinctive Chinese phrase of each is found through search, and the
//! catalog fields their files state reach the index.

mod fixtures;

use std::fs;
use std::path::Path;

use indexer::ingest::{self, IngestOptions, Summary};
use indexer::api::{Hit, SearchRequest};
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
fn a_scanned_pdf_is_indexed_by_its_catalog_data_and_flagged_for_ocr() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = (dir.path().join("src"), dir.path().join("data"));
    write(&src.join("征地/补偿方案扫描件.pdf"), &fixtures::pdf("2015年征地补偿安置方案", &[&[], &[]]));
    let summary = ingest(&src, &data);
    assert_eq!(summary.added, 1, "{summary:?}");
    assert!(
        summary.warnings.iter().any(|w| w.path == "征地/补偿方案扫描件.pdf" && w.reason == "no text layer (needs OCR)"),
        "{summary:?}"
    );
    let archive = Archive::open(&data).unwrap();
    let hits = search(&archive, "征地补偿安置方案");
    assert_eq!(hits.iter().map(|h| h.path.as_str()).collect::<Vec<_>>(), vec!["征地/补偿方案扫描件.pdf"]);
}

#[test]
fn unsupported_formats_are_rejected_by_name_never_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = (dir.path().join("src"), dir.path().join("data"));
    let ole2 = [&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1][..], &[0u8; 504]].concat();
    for name in ["旧公文.doc", "旧公文.wps", "经费表.xls", "经费表.xlsx", "汇报.pptx", "现场照片.JPG", "扫描件.tif", "附件.rar"] {
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
