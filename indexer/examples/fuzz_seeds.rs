//! Writes the seed corpora of the fuzz targets (`fuzz/seeds/`) from the
//! fixtures the format tests build:
//!
//!     cargo run -p indexer --example fuzz_seeds

#[allow(dead_code)] // the tests use more of the fixtures than the seeds do
#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use std::fs;
use std::path::Path;

use pdf_writer::{Content, Name, Str};

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().expect("seed paths have a folder")).expect("create the seed folder");
    fs::write(path, bytes).expect("write a seed");
}

/// The same zip package with every entry stored uncompressed.
fn stored(package: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        out.start_file(entry.name().unwrap().to_string(), options).unwrap();
        out.write_all(&content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

/// Text in GBK-EUC-H (two-byte GBK among one-byte ASCII), on the page and
/// in a letterhead form.
fn gbk_euc_pdf() -> Vec<u8> {
    let mut letterhead = Content::new();
    letterhead.begin_text().set_font(Name(b"F1"), 22.0).next_line(120.0, 780.0).show(Str(&gbk("临河区人民政府文件"))).end_text();
    let mut page = Content::new();
    page.x_object(Name(b"Fm0"));
    page.begin_text().set_font(Name(b"F1"), 12.0).set_leading(20.0).next_line(72.0, 700.0);
    page.show(Str(&gbk("第1条 依据《防汛条例》"))).next_line_using_leading().show(Str(b"No. 12"));
    page.end_text();
    fixtures::pdf_in_cmap("GBK-EUC-H", &[], &letterhead.finish(), &[&page.finish()])
}

/// A vertical page (UniGB-UCS2-V): a column shown character by
/// character, one as a single string, one as a kerned `TJ`.
fn vertical_pdf() -> Vec<u8> {
    let ucs2 = |text: &str| -> Vec<u8> { text.encode_utf16().flat_map(u16::to_be_bytes).collect() };
    let mut page = Content::new();
    page.begin_text().set_font(Name(b"F1"), 12.0);
    for (i, c) in "各乡镇".chars().enumerate() {
        page.set_text_matrix([1.0, 0.0, 0.0, 1.0, 370.0, 760.0 - 12.0 * i as f32]).show(Str(&ucs2(&c.to_string())));
    }
    page.set_text_matrix([1.0, 0.0, 0.0, 1.0, 400.0, 760.0]).show(Str(&ucs2("关于印发的通知")));
    page.set_text_matrix([1.0, 0.0, 0.0, 1.0, 340.0, 760.0]);
    page.show_positioned().items().show(Str(&ucs2("现将"))).adjust(-120.0).show(Str(&ucs2("印发")));
    page.end_text();
    fixtures::pdf_in_cmap("UniGB-UCS2-V", &[], &[], &[&page.finish()])
}

fn main() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let seed = |target: &str, name: &str, bytes: &[u8]| write(&seeds.join(target).join(name), bytes);
    let notice = ["关于做好秸秆禁烧工作的通知", "各乡镇人民政府：", "严禁焚烧秸秆。", "临河区人民政府", "2016年5月20日"];
    let docx = fixtures::docx("关于做好秸秆禁烧工作的通知", "2016-05-20T09:00:00Z", &notice);
    seed("extract_docx", "notice.docx", &docx);
    // Stored (uncompressed) copies let a fuzzer reach the XML itself.
    seed("extract_docx", "notice-stored.docx", &stored(&docx));
    seed(
        "extract_docx",
        "bare.docx",
        &fixtures::zip(&[(
            "word/document.xml",
            "<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>正文</w:t></w:r></w:p></w:body></w:document>",
        )]),
    );
    let ofd = fixtures::ofd("关于公布城乡低保标准的通知", "临河区民政局", "2016-12-28", &[&notice[..2], &notice[2..]]);
    seed("extract_ofd", "notice.ofd", &ofd);
    seed("extract_ofd", "notice-stored.ofd", &stored(&ofd));
    seed("extract_pdf", "notice.pdf", &fixtures::pdf("临河区防汛抗旱应急预案", &[&notice[..2], &notice[2..]]));
    seed("extract_pdf", "notice-uncompressed.pdf", &fixtures::pdf_with("临河区防汛抗旱应急预案", &[&notice], false));
    seed("extract_pdf", "scan.pdf", &fixtures::pdf("扫描件", &[&[]]));
    seed("extract_pdf", "gbk-euc.pdf", &gbk_euc_pdf());
    seed("extract_pdf", "vertical.pdf", &vertical_pdf());
    seed("extract_html", "notice.html", "<!doctype html><html><head><meta charset=\"utf-8\"><title>临河区政府网</title></head><body><nav>首页</nav><div class=\"article\"><h1>关于开展控烟宣传月活动的通知</h1><p>各单位：决定开展宣传月活动。</p><table><tr><td>时间</td><td>五月</td></tr></table></div><footer>版权所有</footer></body></html>".as_bytes());
    seed("extract_records", "notice.txt", &[b"\x00".as_slice(), notice.join("\n").as_bytes()].concat());
    seed("extract_records", "export.json", &[b"\x01".as_slice(), r#"[{"title":"甲","doc_number":"临政发〔2019〕1号","written_date":"2019年3月1日","text":"正文甲"},{"title":"乙","disclosure":"依申请公开"}]"#.as_bytes()].concat());
    seed("extract_records", "export.jsonl", &[b"\x02".as_slice(), "{\"title\":\"甲\",\"text\":\"一\"}\n{broken\n".as_bytes()].concat());
    seed(
        "extract_records",
        "catalog.csv",
        &[b"\x03".as_slice(), "title,publisher,text\n低保名单,临河区民政局,张*明 李*华\n".as_bytes()].concat(),
    );
    for (name, query) in [
        ("words", "低保 申请"),
        ("phrase", "\"征地 补偿\" -拆迁 OR 安置"),
        ("fullwidth", "２０１６年　三公经费"),
        ("traditional", "政府資訊公開 「年報」"),
        ("odd", "-- \" OR | 或 -"),
    ] {
        seed("query", name, query.as_bytes());
    }
}
