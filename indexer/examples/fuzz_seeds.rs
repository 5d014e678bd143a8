//! Writes the seed corpora of the fuzz targets (`fuzz/seeds/`) from the
//! fixtures the format tests build:
//!
//!     cargo run -p indexer --example fuzz_seeds

#[allow(dead_code)] // the tests use more of the fixtures than the seeds do
#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use std::fs;
use std::path::Path;

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
