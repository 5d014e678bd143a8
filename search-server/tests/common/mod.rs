//! Shared by the integration tests: a small fixture archive, the server
//! running in-process on a free port, and a raw HTTP/1.1 client that sends
//! exactly the bytes a test gives it (hostile paths included).

#![allow(dead_code)] // each test binary uses a different part of this module

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use indexer::ingest::{self, IngestOptions};
use indexer::Archive;
use search_server::{router, Config};

/// Ids given by the fixture's sidecars.
pub const DIBAO: &str = "dibao-2022";
pub const ZHENGDI: &str = "zhengdi-2022";
pub const SANGONG: &str = "sangong-2024";
pub const SCRIPT_TITLE: &str = "script-title";
pub const BUDGET: &str = "budget-2023";
pub const ON_REQUEST: &str = "xinfang-plan";
/// Words found only in documents that must not be served.
pub const ON_REQUEST_TITLE_WORD: &str = "积案化解";
pub const ON_REQUEST_SECRET: &str = "暗号甲乙丙丁";
pub const WITHHELD_WORD: &str = "隐私花名册";

/// (path, text, sidecar) of each fixture file.
const FILES: &[(&str, &str, Option<&str>)] = &[
    (
        "社会救助/关于调整2022年城乡低保标准的通知.txt",
        "关于调整2022年城乡低保标准的通知\n\n各街道、乡镇：\n经区政府同意，自2022年1月1日起，城市居民最低生活保障标准调整为每人每月780元。\
         申请低保的家庭，可向户籍所在地街道办事处提出申请。\n\n临河区民政局\n2022年1月5日\n",
        Some(r#"{"id":"dibao-2022","publisher":"临河区民政局","doc_number":"临民发〔2022〕3号","published_date":"2022-01-05"}"#),
    ),
    (
        "征地拆迁/关于公布征地补偿标准的通知.txt",
        "关于公布征地补偿标准的通知\n\n征地区片综合地价和补偿标准如下。青苗补偿按实际种植情况确定。\n\n临河区自然资源局\n2022年3月1日\n",
        Some(r#"{"id":"zhengdi-2022","publisher":"临河区自然资源局","published_date":"2022-03-01"}"#),
    ),
    (
        "财政预决算/2024年三公经费预算说明.txt",
        "临河区2024年区级三公经费预算情况说明\n\n因公出国（境）费、公务用车购置及运行费、公务接待费合计120万元。\n",
        Some(r#"{"id":"sangong-2024","publisher":"临河区财政局","published_date":"2024-02-01"}"#),
    ),
    (
        "通知公告/恶意标题.txt",
        "正文提到低保和<b>标签</b>以及 <script>alert(2)</script> 字样。\n",
        Some(r#"{"id":"script-title","title":"<script>alert(1)</script>恶意标题测试","published_date":"2023-05-01"}"#),
    ),
    (
        "信访/信访积案化解内部工作方案.txt",
        "临河区信访积案化解内部工作方案\n\n本方案正文含有暗号甲乙丙丁，只能依申请公开。\n",
        Some(
            r#"{"id":"xinfang-plan","title":"临河区信访积案化解内部工作方案","publisher":"临河区信访局","disclosure":"on_request","published_date":"2021-06-01"}"#,
        ),
    ),
    (
        "财政预决算/临河区教育局2023年部门预算.md",
        "# 临河区教育局2023年部门预算\n\n## 一、收支总体情况\n\n2023年收支预算如下表。\n\n\
         | 项目 | 金额（万元） |\n| :--- | ---: |\n| **一般公共预算拨款** | 3,560.00 |\n| 学生资助 | 420.50 |\n| 合计 | 3,980.50 |\n\n\
         ## 二、说明\n\n- 学生资助含家庭经济困难学生生活补助\n- 数据来源：区财政局批复\n\n<script>alert(3)</script>\n",
        Some(r#"{"id":"budget-2023","publisher":"临河区教育局","published_date":"2023-03-01"}"#),
    ),
    (
        "社会救助/困难群众隐私花名册.txt",
        "困难群众隐私花名册\n\n张三 身份证号 …… 低保\n",
        Some(r#"{"id":"withheld-list","disclosure":"withheld"}"#),
    ),
];

/// Documents the fixture archive serves (everything but the withheld one).
pub const SERVED: u64 = 6;

/// Write the fixture files into `source`.
pub fn write_corpus(source: &Path) {
    for (path, text, sidecar) in FILES {
        let file = source.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        if let Some(sidecar) = sidecar {
            std::fs::write(format!("{}.meta.json", file.display()), sidecar).unwrap();
        }
    }
}

/// The bytes of fixture file `path`.
pub fn fixture_bytes(path_fragment: &str) -> &'static [u8] {
    FILES.iter().find(|(path, _, _)| path.contains(path_fragment)).map(|(_, text, _)| text.as_bytes()).unwrap()
}

/// Ingest `source` into `data`.
pub fn ingest(source: &Path, data: &Path) -> ingest::Summary {
    ingest::run(&IngestOptions::new(vec![source.to_path_buf()], data.to_path_buf())).expect("ingest the fixture")
}

/// A fresh folder under cargo's per-test-target temp dir (kept for
/// inspection after a failure; `cargo clean` removes it).
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fixture corpus ingested into a fresh data folder: (source, data).
pub fn fixture_archive(name: &str) -> (PathBuf, PathBuf) {
    let root = scratch(name);
    let (source, data) = (root.join("source"), root.join("data"));
    write_corpus(&source);
    let summary = ingest(&source, &data);
    assert_eq!(summary.added as u64, SERVED, "fixture ingest: {:?}", serde_json::to_string(&summary).unwrap());
    (source, data)
}

/// Serve `data` with `config` on a free loopback port, on a runtime of its
/// own that lives as long as the test process.
pub fn serve(data: &Path, config: Config) -> SocketAddr {
    let archive = Arc::new(Archive::open(data).expect("open the fixture archive"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router(archive, config)).await.unwrap();
        });
    });
    addr
}

/// Configuration for a test server at `addr`'s public URL, with one
/// reading point, `dag` (the archive).
pub fn config() -> Config {
    let mut config = Config::new("http://yuelan.test");
    config.points = search_server::points::Points::from_json(ARCHIVE_POINT).unwrap();
    config
}

/// The reading point of [`config`].
pub const ARCHIVE_POINT: &str = r#"{"dag": {"name": "临河区档案馆阅览室", "categories": ["财政预决算", "征地拆迁"]}}"#;

/// One HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Send `method target` with `extra` header lines (each ending in CRLF).
pub fn try_request(addr: SocketAddr, method: &str, target: &str, extra: &str) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let head = format!("{method} {target} HTTP/1.1\r\nHost: yuelan.test\r\nConnection: close\r\n{extra}\r\n");
    // A server may answer and close before reading an oversized request.
    let _ = stream.write_all(head.as_bytes());
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse(&raw).ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {:?}", String::from_utf8_lossy(&raw))))
}

pub fn request(addr: SocketAddr, method: &str, target: &str, extra: &str) -> Reply {
    try_request(addr, method, target, extra).unwrap_or_else(|e| panic!("{method} {target}: {e}"))
}

pub fn get(addr: SocketAddr, target: &str) -> Reply {
    request(addr, "GET", target, "")
}

fn parse(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|line| line.split_once(':')).map(|(n, v)| (n.trim().to_string(), v.trim().to_string())).collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked")) {
        body = dechunk(&body)?;
    }
    Some(Reply { status, headers, body })
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).ok()?.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(body);
        }
        let start = line_end + 2;
        body.extend_from_slice(raw.get(start..start + size)?);
        raw = raw.get(start + size + 2..)?;
    }
}

/// Percent-encode a query value.
pub fn enc(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
