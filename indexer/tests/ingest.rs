//! End-to-end behaviour of `indexer ingest` on folders built in each test:
//! what is found, what is never found, what comes back byte-identical, and
//! what a second run does.

mod stored;

use std::fs;
use std::path::{Path, PathBuf};

use indexer::api::SearchRequest;
use indexer::archive::Original;
use indexer::ingest::{self, IngestOptions, Summary};
use indexer::Archive;

fn write(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn ingest(src: &Path, data: &Path, prune: bool) -> Summary {
    ingest::run(&IngestOptions { prune, ..IngestOptions::new(vec![src.to_path_buf()], data.to_path_buf()) }).unwrap()
}

/// The paths of the documents holding every word of `q` (partial matches left out).
fn paths(archive: &Archive, q: &str) -> Vec<String> {
    archive.reload().unwrap();
    let request = SearchRequest { q: q.into(), limit: 100, ..SearchRequest::default() };
    archive.search(&request).unwrap().hits.into_iter().filter(|h| !h.partial).map(|h| h.path).collect()
}

fn verify(src: &Path, data: &Path) -> Summary {
    ingest::run(&IngestOptions { verify: true, ..IngestOptions::new(vec![src.to_path_buf()], data.to_path_buf()) }).unwrap()
}

/// How many blob files the data folder holds.
fn blob_files(data: &Path) -> usize {
    walkdir::WalkDir::new(data.join("blobs")).into_iter().flatten().filter(|e| e.file_type().is_file()).count()
}

/// A notice longer than what is kept with its document: its original is a blob.
fn long_notice() -> String {
    let long = NOTICE.repeat(indexer::store::KEPT_WITH_DOCUMENT / NOTICE.len() + 1);
    assert!(long.len() > indexer::store::KEPT_WITH_DOCUMENT);
    long
}

fn dirs() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (src, data) = (tmp.path().join("src"), tmp.path().join("data"));
    fs::create_dir_all(&src).unwrap();
    (tmp, src, data)
}

const NOTICE: &str = "临河区人民政府文件\n临政发〔2019〕12号\n关于印发临河区城乡居民最低生活保障实施办法的通知\n各乡镇人民政府：\n现将最低生活保障实施办法印发给你们，请认真贯彻执行。\n临河区人民政府\n2019年3月15日\n（此件公开发布）\n";

#[test]
fn every_encoding_is_found_and_the_original_comes_back_byte_identical() {
    let (_tmp, src, data) = dirs();
    let gb = encoding_rs::GB18030.encode("关于做好春节期间安全生产工作的通知\n各单位要落实烟花爆竹安全管理责任。").0.into_owned();
    let big5 = encoding_rs::BIG5.encode("關於辦理機動車駕駛證的公告\n請攜帶身份證件辦理換證業務。").0.into_owned();
    let utf16: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain("防汛应急预案\n汛期实行二十四小时值班。".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let bom = [&[0xEF, 0xBB, 0xBF][..], "政府投资项目管理办法\n项目实行代建制度。".as_bytes()].concat();
    // UTF-16 without a BOM, as some export tools write it.
    let le_text = "关于公布2020年耕地地力保护补贴标准的通知\n补贴标准为每亩105元。\n";
    let be_text = "临河区2020年森林防火命令\n进入林区严禁携带火种。\n";
    let le: Vec<u8> = le_text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = be_text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    write(&src, "gb.txt", &gb);
    write(&src, "big5.txt", &big5);
    write(&src, "utf16.txt", &utf16);
    write(&src, "bom.md", &bom);
    write(&src, "utf16le-no-bom.txt", &le);
    write(&src, "utf16be-no-bom.txt", &be);
    let summary = ingest(&src, &data, false);
    assert_eq!(summary.rejected, vec![], "{summary:?}");
    assert_eq!(summary.added, 6, "{summary:?}");
    let archive = Archive::open(&data).unwrap();
    assert_eq!(paths(&archive, "烟花爆竹"), vec!["gb.txt"]);
    assert_eq!(paths(&archive, "驾驶证"), vec!["big5.txt"], "simplified query finds Big5 traditional text");
    assert_eq!(paths(&archive, "值班"), vec!["utf16.txt"]);
    assert_eq!(paths(&archive, "代建"), vec!["bom.md"]);
    assert_eq!(paths(&archive, "地力保护补贴"), vec!["utf16le-no-bom.txt"]);
    assert_eq!(paths(&archive, "森林防火"), vec!["utf16be-no-bom.txt"]);
    let originals = [
        ("gb.txt", &gb),
        ("big5.txt", &big5),
        ("utf16.txt", &utf16),
        ("bom.md", &bom),
        ("utf16le-no-bom.txt", &le),
        ("utf16be-no-bom.txt", &be),
    ];
    for (name, bytes) in originals {
        let q = SearchRequest { q: String::new(), limit: 100, ..SearchRequest::default() };
        let id = archive.search(&q).unwrap().hits.into_iter().find(|h| h.path == name).unwrap().id;
        match archive.original(&id).unwrap() {
            Original::Found { bytes: got, .. } => assert_eq!(&got, bytes, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        let doc = archive.document(&id).unwrap().unwrap();
        let text = doc.text.unwrap();
        assert!(!text.is_empty());
        if name.contains("no-bom") {
            assert_eq!(text, if name.starts_with("utf16le") { le_text } else { be_text }, "{name}");
        }
    }
}

#[test]
fn disclosure_rules_hold_withheld_out_and_on_request_to_its_catalog() {
    let (_tmp, src, data) = dirs();
    write(&src, "公开.txt", NOTICE);
    write(&src, "信访.txt", "信访事项处理意见书\n申请人住红砖楼七单元。");
    write(&src, "信访.txt.meta.json", r#"{"disclosure":"withheld"}"#);
    write(&src, "补偿.txt", "关于房屋征收补偿协议签订情况的报告\n鹭鸶湾地块共签约十二户。");
    write(
        &src,
        "补偿.txt.meta.json",
        r#"{"disclosure":"on_request","title":"房屋征收补偿协议签订情况的报告","doc_number":"临住建发〔2021〕19号"}"#,
    );
    write(&src, "附注.txt", "关于某事项的通知\n正文内容。\n临河区财政局\n2020年1月2日\n（此件不予公开）\n");
    let summary = ingest(&src, &data, false);
    assert_eq!(summary.withheld, vec!["信访.txt", "附注.txt"]);
    assert_eq!(summary.added, 2);
    let archive = Archive::open(&data).unwrap();
    assert!(paths(&archive, "红砖楼七单元").is_empty());
    assert!(paths(&archive, "信访").is_empty());
    assert!(paths(&archive, "鹭鸶湾").is_empty(), "on_request text is not searchable");
    assert_eq!(paths(&archive, "征收补偿协议"), vec!["补偿.txt"], "on_request found by its title");
    assert_eq!(paths(&archive, "临住建发(2021)19号"), vec!["补偿.txt"], "and by its 文号");
    let hit = archive.search(&SearchRequest { q: "征收补偿协议".into(), ..SearchRequest::default() }).unwrap().hits.remove(0);
    assert_eq!(hit.disclosure, "on_request");
    assert!(hit.snippet.is_empty());
    let doc = archive.document(&hit.id).unwrap().unwrap();
    assert!(doc.text.is_none());
    assert!(matches!(archive.original(&hit.id).unwrap(), Original::OnRequest));
    let stats = archive.stats().unwrap();
    assert_eq!(stats.documents, 2);
    assert!(!stats.disclosure.contains_key("withheld"));
    // Nothing of the withheld or on_request files is stored.
    assert_eq!(stored::originals(&data), vec![NOTICE.as_bytes().to_vec()]);
}

#[test]
fn catalog_fields_come_from_sidecar_then_csv_then_text_then_folder() {
    let (_tmp, src, data) = dirs();
    write(&src, "规范性文件/a.txt", NOTICE);
    write(&src, "规范性文件/a.txt.meta.json", r#"{"category":"社会救助","published_date":"2019-03-20"}"#);
    write(
        &src,
        "规范性文件/catalog.csv",
        "path,published_date,publisher,index_no\na.txt,2019-03-25,csv单位,11629902MB0001021A/2019-00012\n",
    );
    write(&src, "规范性文件/b.txt", "关于公布征地补偿标准的通知\n正文。");
    write(&src, "规范性文件/b.txt.meta.json", r#"{"written_date": 20190315, "title": ["bad"]}"#);
    let summary = ingest(&src, &data, false);
    assert_eq!(summary.added, 2);
    assert_eq!(summary.warnings.iter().filter(|w| w.path == "规范性文件/b.txt.meta.json").count(), 2, "{summary:?}");
    let archive = Archive::open(&data).unwrap();
    let search = |q: &str| archive.search(&SearchRequest { q: q.into(), ..SearchRequest::default() }).unwrap();
    let a = archive.document(&search("最低生活保障").hits[0].id).unwrap().unwrap();
    assert_eq!(a.category.as_deref(), Some("社会救助"));
    assert_eq!(a.published_date.as_deref(), Some("2019-03-20"));
    assert_eq!(a.publisher.as_deref(), Some("csv单位"));
    assert_eq!(a.doc_number.as_deref(), Some("临政发〔2019〕12号"));
    assert_eq!(a.written_date.as_deref(), Some("2019-03-15"));
    assert_eq!(a.title, "关于印发临河区城乡居民最低生活保障实施办法的通知");
    for pasted in ["临政发[2019]12号", "临政发（2019）12号", "临政发〔2019〕12号", "11629902MB0001021A/2019-00012"] {
        assert_eq!(search(pasted).hits[0].id, a.id, "{pasted}");
    }
    let b = archive.document(&search("征地补偿").hits[0].id).unwrap().unwrap();
    assert_eq!(b.title, "关于公布征地补偿标准的通知", "a wrong-typed sidecar leaves the text's fields");
    assert_eq!(b.category.as_deref(), Some("规范性文件"));
}

#[test]
fn second_run_processes_only_changes_and_prune_removes_vanished_files() {
    let (_tmp, src, data) = dirs();
    write(&src, "a.txt", "甲文件讲述城市供水价格调整。");
    write(&src, "b.txt", "乙文件讲述农村道路建设。");
    write(&src, "c.txt", "丙文件讲述学校招生办法。");
    let first = ingest(&src, &data, false);
    assert_eq!((first.added, first.updated, first.unchanged), (3, 0, 0));
    let again = ingest(&src, &data, false);
    assert_eq!((again.added, again.updated, again.unchanged, again.removed), (0, 0, 3, 0));
    write(&src, "b.txt", "乙文件改为讲述农村公路养护。");
    write(&src, "d.txt", "丁文件讲述医疗保险报销。");
    fs::remove_file(src.join("c.txt")).unwrap();
    let third = ingest(&src, &data, false);
    assert_eq!((third.added, third.updated, third.unchanged, third.removed), (1, 1, 1, 0));
    let archive = Archive::open(&data).unwrap();
    assert!(paths(&archive, "道路建设").is_empty(), "the old version of b is gone");
    assert_eq!(paths(&archive, "公路养护"), vec!["b.txt"]);
    assert_eq!(paths(&archive, "招生"), vec!["c.txt"], "without --prune a vanished file stays");
    let pruned = ingest(&src, &data, true);
    assert_eq!((pruned.removed, pruned.unchanged), (1, 3));
    assert!(paths(&archive, "招生").is_empty());
    assert_eq!(archive.num_docs(), 3);
    // A sidecar change alone re-indexes the file.
    write(&src, "a.txt.meta.json", r#"{"title":"供水价格调整通知"}"#);
    let sidecar = ingest(&src, &data, false);
    assert_eq!((sidecar.updated, sidecar.unchanged), (1, 2));
}

/// Make the index of `data` look written by a build before
/// `yuelan-files-2`: its last commit says nothing of its files.
fn mark_as_older_build(data: &Path) {
    let meta = data.join("index/meta.json");
    let mut written: serde_json::Value = serde_json::from_slice(&fs::read(&meta).unwrap()).unwrap();
    assert_eq!(written["payload"], indexer::schema::INDEX_FILES);
    written["payload"] = serde_json::Value::Null;
    fs::write(&meta, serde_json::to_vec(&written).unwrap()).unwrap();
}

fn refused_as_older(data: &Path) {
    match Archive::open(data) {
        Err(indexer::Error::OldFormat(path)) => assert_eq!(path, data),
        other => panic!("an older build's index must be refused, got {:?}", other.map(|a| a.num_docs())),
    }
}

#[test]
fn an_index_an_older_build_wrote_is_refused_by_readers_and_rebuilt_from_all_its_sources() {
    let (tmp, src, data) = dirs();
    let other = tmp.path().join("other");
    write(&src, "a.txt", "甲文件讲述城市供水价格调整。");
    write(&src, "b.txt", "乙文件讲述农村道路建设。");
    write(&src, "gone.txt", "戊文件讲述旧城改造补偿。");
    write(&src, "d.txt", "丁文件讲述医疗保险报销。");
    write(&src, "e.txt", "己文件讲述困难群众名册。");
    write(&other, "c.txt", "丙文件讲述学校招生办法。");
    let both = IngestOptions::new(vec![src.clone(), other.clone()], data.clone());
    ingest::run(&both).unwrap();
    let archive = Archive::open(&data).unwrap();
    let withdrawn = archive.search(&SearchRequest { q: "供水价格".into(), ..SearchRequest::default() }).unwrap().hits[0].id.clone();
    indexer::withdrawal::withdraw(&data, std::slice::from_ref(&withdrawn), "误公开").unwrap();
    fs::remove_file(src.join("gone.txt")).unwrap();
    // Since the older build: one file damaged (emptied), one withheld.
    write(&src, "d.txt", "");
    write(&src, "e.txt.meta.json", r#"{"disclosure":"withheld"}"#);
    mark_as_older_build(&data);
    refused_as_older(&data);
    let gone = |folder: &Path, name: &str| format!("{}/{name}", folder.canonicalize().unwrap().display());
    // A rebuild from one of its two sources, or without a file that is
    // gone, would lose documents (and originals) the old index holds.
    for (sources, lost) in [
        (vec![src.clone()], vec![gone(&other, "c.txt"), gone(&src, "gone.txt")]),
        (vec![src.clone(), other.clone()], vec![gone(&src, "gone.txt")]),
    ] {
        match ingest::run(&IngestOptions::new(sources, data.clone())) {
            Err(indexer::Error::RebuildWouldLose { count, examples, .. }) => assert_eq!((count, examples), (lost.len(), lost)),
            other => panic!("a rebuild that would lose documents must be refused, got {other:?}"),
        }
        refused_as_older(&data);
    }
    // Every file there, but one rejected: an ingest keeps its document, a
    // rebuild cannot, and says so once it has read the sources.
    write(&src, "gone.txt", "戊文件讲述旧城改造补偿。");
    match ingest::run(&both) {
        Err(indexer::Error::RebuildWouldLose { count, examples, .. }) => {
            assert_eq!((count, examples), (1, vec!["d.txt (rejected)".to_string()]))
        }
        other => panic!("a rebuild that would lose a rejected file's document must be refused, got {other:?}"),
    }
    refused_as_older(&data);
    fs::remove_file(src.join("gone.txt")).unwrap();
    let rebuilt = ingest::run(&IngestOptions { prune: true, ..both.clone() }).unwrap();
    assert_eq!((rebuilt.added, rebuilt.removed, rebuilt.rebuilt), (2, 3, true), "gone, rejected and withheld are removed");
    assert_eq!(rebuilt.withheld, vec!["a.txt", "e.txt"], "the withdrawal holds its record down through the rebuild");
    let archive = Archive::open(&data).unwrap();
    assert_eq!(paths(&archive, "道路建设"), vec!["b.txt"]);
    assert_eq!(paths(&archive, "招生"), vec!["c.txt"]);
    assert!(paths(&archive, "供水价格").is_empty());
    assert_eq!(archive.num_docs(), 2);
    assert!(!data.join("index.rebuild").exists(), "the old index is gone once the new one is in place");
    // The old index, left half removed by a run killed after the exchange,
    // goes with the next run.
    write(&data, "index.rebuild/0123.idx", "remains");
    let again = ingest::run(&both).unwrap();
    assert_eq!((again.unchanged, again.rebuilt), (2, false));
    assert!(!data.join("index.rebuild").exists());
}

/// `files` notices of about 500 bytes in 30 folders, each with its own number.
fn many_notices(src: &Path, files: u64) {
    for i in 0..files {
        let body = format!("第{i}号文件\n关于编号{i}的事项说明。{}", "政府信息公开工作要求依法及时准确。".repeat(20));
        write(src, &format!("d{}/f{i}.txt", i % 30), body);
    }
}

/// Start `indexer ingest SRC --data DATA` and kill it (SIGKILL) after `ms` milliseconds.
fn killed_ingest(src: &Path, data: &Path, ms: u64) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["ingest", src.to_str().unwrap(), "--data", data.to_str().unwrap(), "--json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(ms));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_rebuild_killed_at_any_moment_leaves_the_older_index_in_place_never_an_empty_one() {
    let (_tmp, src, data) = dirs();
    let files = 3000;
    many_notices(&src, files);
    ingest(&src, &data, false);
    mark_as_older_build(&data);
    for delay_ms in [150, 600, 1500] {
        killed_ingest(&src, &data, delay_ms);
        // Before the swap: the older index, refused as such. After: all of it.
        match Archive::open(&data) {
            Ok(archive) => {
                assert_eq!(archive.num_docs(), files, "a rebuilt index is in place only once complete");
                return;
            }
            Err(indexer::Error::OldFormat(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let summary = ingest(&src, &data, false);
    assert_eq!((summary.added, summary.rebuilt), (files as usize, true));
    assert_eq!(Archive::open(&data).unwrap().num_docs(), files);
}

/// Write `text` over the file at `path` in place (same inode), with the
/// same size and modification time as before: what a file system with
/// coarse timestamps shows of a file changed within the same second.
fn rewrite_keeping_size_and_time(path: &Path, text: &str) {
    use std::os::unix::fs::MetadataExt;
    let before = fs::metadata(path).unwrap();
    assert_eq!(before.len(), text.len() as u64);
    fs::write(path, text).unwrap();
    fs::File::options().write(true).open(path).unwrap().set_modified(before.modified().unwrap()).unwrap();
    let after = fs::metadata(path).unwrap();
    assert_eq!((after.ino(), after.len(), after.modified().unwrap()), (before.ino(), before.len(), before.modified().unwrap()));
}

#[test]
fn a_file_changed_keeping_its_size_time_and_inode_is_not_read_until_verify() {
    let (_tmp, src, data) = dirs();
    write(&src, "a.txt", "甲文件讲述城市供水价格调整。");
    write(&src, "b.txt", "乙文件讲述农村道路建设。");
    ingest(&src, &data, false);
    rewrite_keeping_size_and_time(&src.join("a.txt"), "甲文件讲述城市燃气价格调整。");
    let again = ingest(&src, &data, false);
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 2));
    let archive = Archive::open(&data).unwrap();
    assert_eq!(paths(&archive, "供水价格"), vec!["a.txt"], "the file was not read");
    let verified = verify(&src, &data);
    assert_eq!((verified.added, verified.updated, verified.unchanged), (0, 1, 1));
    assert_eq!(paths(&archive, "燃气价格"), vec!["a.txt"]);
    assert!(paths(&archive, "供水价格").is_empty());
}

#[test]
fn a_touched_but_identical_file_is_unchanged_and_its_new_time_is_kept() {
    let (_tmp, src, data) = dirs();
    write(&src, "a.txt", "甲文件讲述城市供水价格调整。");
    write(&src, "b.txt", "乙文件讲述农村道路建设。");
    ingest(&src, &data, false);
    let a = src.join("a.txt");
    let later = fs::metadata(&a).unwrap().modified().unwrap() + std::time::Duration::from_secs(60);
    fs::File::options().write(true).open(&a).unwrap().set_modified(later).unwrap();
    let touched = ingest(&src, &data, false);
    assert_eq!((touched.added, touched.updated, touched.unchanged, touched.removed), (0, 0, 2, 0));
    let archive = Archive::open(&data).unwrap();
    assert_eq!(paths(&archive, "供水价格"), vec!["a.txt"]);
    assert_eq!(archive.num_docs(), 2);
    // The new time is what the index now holds: a rewrite that keeps it
    // goes unnoticed by a plain run, as for any unchanged file.
    rewrite_keeping_size_and_time(&a, "甲文件讲述城市燃气价格调整。");
    assert_eq!(ingest(&src, &data, false).unchanged, 2);
    assert_eq!(verify(&src, &data).updated, 1);
}

#[test]
fn a_moved_file_is_added_at_its_new_path_and_pruned_at_its_old_one() {
    let (_tmp, src, data) = dirs();
    write(&src, "旧/a.txt", NOTICE);
    write(&src, "b.txt", "乙文件讲述农村道路建设。");
    ingest(&src, &data, false);
    fs::create_dir_all(src.join("新")).unwrap();
    fs::rename(src.join("旧/a.txt"), src.join("新/a.txt")).unwrap();
    let moved = ingest(&src, &data, false);
    assert_eq!((moved.added, moved.updated, moved.unchanged, moved.removed), (1, 0, 1, 0));
    let archive = Archive::open(&data).unwrap();
    let mut found = paths(&archive, "最低生活保障");
    found.sort();
    assert_eq!(found, vec!["新/a.txt", "旧/a.txt"], "without --prune the old path stays");
    let pruned = ingest(&src, &data, true);
    assert_eq!((pruned.added, pruned.updated, pruned.unchanged, pruned.removed), (0, 0, 2, 1));
    assert_eq!(paths(&archive, "最低生活保障"), vec!["新/a.txt"]);
    let id = document_at(&archive, "新/a.txt").id;
    match archive.original(&id).unwrap() {
        Original::Found { bytes, .. } => assert_eq!(bytes, NOTICE.as_bytes()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_catalog_csv_row_change_updates_only_the_file_it_describes() {
    let (_tmp, src, data) = dirs();
    write(&src, "目录/catalog.csv", "path,publisher\na.txt,临河区水务局\nb.txt,临河区交通局\n");
    write(&src, "目录/a.txt", "甲文件讲述城市供水价格调整。");
    write(&src, "目录/b.txt", "乙文件讲述农村道路建设。");
    assert_eq!(ingest(&src, &data, false).added, 2);
    write(&src, "目录/catalog.csv", "path,publisher\na.txt,临河区发展和改革局\nb.txt,临河区交通局\n");
    let again = ingest(&src, &data, false);
    assert_eq!((again.updated, again.unchanged), (1, 1));
    let archive = Archive::open(&data).unwrap();
    assert_eq!(document_at(&archive, "目录/a.txt").publisher.as_deref(), Some("临河区发展和改革局"));
}

#[test]
fn blobs_no_document_holds_are_removed_after_a_change_a_killed_run_or_verify() {
    let (_tmp, src, data) = dirs();
    let long = long_notice();
    write(&src, "a.txt", &long);
    ingest(&src, &data, false);
    let changed = long.replace("2019年3月15日", "2019年3月16日");
    write(&src, "a.txt", &changed);
    assert_eq!(ingest(&src, &data, false).updated, 1);
    assert_eq!(stored::originals(&data), vec![changed.as_bytes().to_vec()], "the old original is gone");
    // What a run killed between storing a blob and committing leaves.
    let stray = data.join("blobs/00").join(format!("{}.zst", "0".repeat(62)));
    for finish in ["killed", "verify"] {
        fs::create_dir_all(stray.parent().unwrap()).unwrap();
        fs::write(&stray, zstd::encode_all(&b"stray"[..], 3).unwrap()).unwrap();
        if finish == "killed" {
            fs::write(data.join("ingest.unfinished"), "").unwrap();
            assert_eq!(ingest(&src, &data, false).unchanged, 1);
        } else {
            assert_eq!(verify(&src, &data).unchanged, 1);
        }
        assert!(!stray.exists(), "{finish}");
        assert_eq!(stored::originals(&data), vec![changed.as_bytes().to_vec()], "{finish}");
    }
}

#[test]
fn identical_long_files_under_two_names_are_two_documents_but_one_original() {
    let (_tmp, src, data) = dirs();
    let long = long_notice();
    write(&src, "一.txt", &long);
    write(&src, "副本/二.txt", &long);
    assert_eq!(ingest(&src, &data, false).added, 2);
    assert_eq!(stored::originals(&data), vec![long.as_bytes().to_vec()]);
    assert_eq!(blob_files(&data), 1);
    fs::remove_file(src.join("一.txt")).unwrap();
    ingest(&src, &data, true);
    let archive = Archive::open(&data).unwrap();
    let id = archive.search(&SearchRequest::default()).unwrap().hits[0].id.clone();
    match archive.original(&id).unwrap() {
        Original::Found { bytes, .. } => assert_eq!(bytes, long.as_bytes(), "the shared original survives pruning one name"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_short_original_is_kept_with_its_document_and_goes_with_it() {
    let (_tmp, src, data) = dirs();
    write(&src, "一.txt", NOTICE);
    write(&src, "副本/二.txt", NOTICE);
    assert_eq!(ingest(&src, &data, false).added, 2);
    assert_eq!(blob_files(&data), 0);
    assert_eq!(stored::originals(&data), vec![NOTICE.as_bytes().to_vec(); 2], "one copy with each document");
    fs::remove_file(src.join("一.txt")).unwrap();
    assert_eq!(ingest(&src, &data, true).removed, 1);
    assert_eq!(stored::originals(&data), vec![NOTICE.as_bytes().to_vec()]);
    let archive = Archive::open(&data).unwrap();
    let id = archive.search(&SearchRequest::default()).unwrap().hits[0].id.clone();
    match archive.original(&id).unwrap() {
        Original::Found { bytes, .. } => assert_eq!(bytes, NOTICE.as_bytes()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_document_keeps_an_id_of_its_own_when_paths_or_declared_ids_collide() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two, data) = (tmp.path().join("一号档案室"), tmp.path().join("二号档案室"), tmp.path().join("data"));
    // The same path in two source folders, and two sidecars declaring one id.
    write(&one, "2021/通知.txt", "关于开展防汛检查的通知\n各街道要在汛前完成堤防检查。");
    write(&two, "2021/通知.txt", "关于开展消防检查的通知\n各单位要在节前完成消防设施检查。");
    write(&one, "a.txt", "关于公布低保标准的通知\n城市低保标准每人每月八百元。");
    write(&one, "a.txt.meta.json", r#"{"id":"LH-2021-001"}"#);
    write(&one, "b.txt", "关于公布特困供养标准的通知\n特困人员基本生活标准每人每月一千元。");
    write(&one, "b.txt.meta.json", r#"{"id":"LH-2021-001"}"#);
    let options = IngestOptions::new(vec![one.clone(), two.clone()], data.clone());
    let summary = ingest::run(&options).unwrap();
    assert_eq!(summary.added, 4, "{summary:?}");
    let reported: Vec<&str> = summary.warnings.iter().filter(|w| w.reason.contains("already used")).map(|w| w.path.as_str()).collect();
    assert_eq!(reported, vec!["b.txt", "2021/通知.txt"], "{summary:?}");
    let archive = Archive::open(&data).unwrap();
    let ids_of = |q: &str| -> Vec<String> {
        let hits = archive.search(&SearchRequest { q: q.into(), limit: 100, ..SearchRequest::default() }).unwrap().hits;
        hits.into_iter().filter(|h| !h.partial).map(|h| h.id).collect()
    };
    let ids: Vec<String> = ["防汛检查", "消防检查", "低保标准", "特困供养"].iter().map(|q| ids_of(q).remove(0)).collect();
    assert_eq!(ids.iter().collect::<std::collections::HashSet<_>>().len(), 4, "{ids:?}");
    assert_eq!(ids[2], "LH-2021-001", "the first to declare an id keeps it");
    for (id, words) in ids.iter().zip(["防汛", "消防", "低保", "特困"]) {
        let doc = archive.document(id).unwrap().unwrap();
        assert!(doc.text.as_deref().unwrap_or_default().contains(words), "{id} opens {}", doc.title);
    }
    // A second run changes nothing, and a changed file keeps its id.
    assert_eq!(ingest::run(&options).unwrap().unchanged, 4);
    write(&two, "2021/通知.txt", "关于开展消防检查的通知\n各单位要在春节前完成消防设施检查。");
    assert_eq!(ingest::run(&options).unwrap().updated, 1);
    archive.reload().unwrap();
    assert_eq!(ids_of("春节前"), vec![ids[1].clone()]);
}

#[test]
fn a_lost_original_of_an_unchanged_file_is_stored_again_by_verify() {
    let (_tmp, src, data) = dirs();
    let long = long_notice();
    write(&src, "a.txt", &long);
    ingest(&src, &data, false);
    fs::remove_dir_all(data.join("blobs")).unwrap();
    let archive = Archive::open(&data).unwrap();
    let id = archive.search(&SearchRequest::default()).unwrap().hits[0].id.clone();
    let again = ingest(&src, &data, false);
    assert_eq!(again.unchanged, 1);
    let missing = archive.original(&id);
    assert!(matches!(missing, Err(indexer::Error::MissingOriginal { .. })), "a plain run does not read unchanged files: {missing:?}");
    let verified = verify(&src, &data);
    assert_eq!((verified.unchanged, verified.updated), (1, 0));
    match archive.original(&id).unwrap() {
        Original::Found { bytes, .. } => assert_eq!(bytes, long.as_bytes()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_second_concurrent_ingest_fails_fast_with_a_clear_message() {
    let (_tmp, src, data) = dirs();
    write(&src, "a.txt", NOTICE);
    fs::create_dir_all(&data).unwrap();
    let held = fs::File::create(data.join("ingest.lock")).unwrap();
    held.try_lock().unwrap();
    let err = ingest::run(&IngestOptions::new(vec![src.clone()], data.clone())).unwrap_err();
    assert!(err.to_string().contains("another `indexer ingest`"), "{err}");
}

#[test]
fn bad_files_are_reported_and_the_batch_goes_on() {
    let (_tmp, src, data) = dirs();
    write(&src, "good.txt", NOTICE);
    write(&src, "empty.txt", "");
    write(&src, "junk.txt", (0..3000u32).map(|i| (i * 7919 % 251) as u8).collect::<Vec<u8>>());
    write(&src, "broken.json", "{\"title\": ");
    write(&src, "scan.doc", "not really");
    let summary = ingest(&src, &data, false);
    assert_eq!(summary.added, 1);
    let reasons: Vec<(&str, &str)> = summary.rejected.iter().map(|r| (r.path.as_str(), r.reason.as_str())).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons.iter().any(|(p, r)| *p == "empty.txt" && r.contains("empty")));
    assert!(reasons.iter().any(|(p, r)| *p == "junk.txt" && r.contains("binary")));
    assert!(reasons.iter().any(|(p, r)| *p == "broken.json" && r.contains("JSON")));
    assert!(reasons.iter().any(|(p, r)| *p == "scan.doc" && r.starts_with("unsupported format")));
}

#[test]
fn an_ingest_killed_at_any_moment_leaves_an_index_that_opens_and_the_next_run_completes() {
    let (_tmp, src, data) = dirs();
    let files = 3000;
    many_notices(&src, files);
    for delay_ms in [150, 600, 1500] {
        killed_ingest(&src, &data, delay_ms);
        if data.join("index/meta.json").exists() {
            let archive = Archive::open(&data).expect("a killed ingest leaves an index that opens");
            assert!(archive.num_docs() <= files);
        }
    }
    let summary = ingest(&src, &data, false);
    assert!(summary.rejected.is_empty(), "{summary:?}");
    assert_eq!(summary.added + summary.unchanged, files as usize);
    let archive = Archive::open(&data).unwrap();
    assert_eq!(archive.num_docs(), files, "every file present exactly once");
    assert_eq!(paths(&archive, "编号2999"), vec!["d29/f2999.txt"]);
}

#[test]
fn the_laws_corpus_ingests_without_rejections() {
    let laws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/laws");
    if !laws.is_dir() {
        println!("skipped: {} is absent (the shared corpus lives beside the checkout)", laws.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let summary = ingest(&laws, tmp.path(), false);
    let files = walkdir::WalkDir::new(&laws).into_iter().flatten().filter(|e| e.file_type().is_file()).count();
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    assert_eq!(summary.added, files);
    let archive = Archive::open(tmp.path()).unwrap();
    let top = paths(&archive, "不动产登记暂行条例");
    assert!(top[0].contains("不动产登记暂行条例"), "{top:?}");
    assert!(!paths(&archive, "中华人民共和国政府").is_empty());
}

/// The catalog fields of the document at `path`.
fn document_at(archive: &Archive, path: &str) -> indexer::archive::DocumentView {
    archive.reload().unwrap();
    let all = SearchRequest { limit: 100, ..SearchRequest::default() };
    let hit = archive.search(&all).unwrap().hits.into_iter().find(|h| h.path == path);
    archive.document(&hit.unwrap_or_else(|| panic!("{path} is not indexed")).id).unwrap().unwrap()
}

#[test]
fn every_withheld_document_is_listed_whatever_withheld_it() {
    let (_tmp, src, data) = dirs();
    write(&src, "a/信访.txt", "信访事项处理意见书\n申请人住红砖楼七单元。");
    write(&src, "a/信访.txt.meta.json", r#"{"disclosure":"withheld"}"#);
    // Files no reader could open are still withheld, not rejected.
    write(&src, "a/扫描件.docx", "not a zip package");
    write(&src, "a/扫描件.docx.meta.json", r#"{"公开属性":"不予公开"}"#);
    write(&src, "a/空白.txt", "");
    write(&src, "a/空白.txt.meta.json", r#"{"disclosure":"withheld"}"#);
    write(&src, "b/catalog.csv", "path,disclosure\n名册.txt,withheld\n公开.txt,public\n");
    write(&src, "b/名册.txt", "困难群众名册\n王五 身份证号");
    write(&src, "b/公开.txt", NOTICE);
    write(
        &src,
        "c/export.jsonl",
        "{\"title\":\"关于公布供水价格的通知\",\"text\":\"居民生活用水每立方米三元。\"}\n\
         {\"title\":\"拆迁户花名册\",\"disclosure\":\"不予公开\",\"text\":\"赵六 鹭鸶湾七号\"}\n\
         {\"title\":\"信访答复意见\",\"disclosure\":\"on_request\",\"text\":\"答复正文\"}\n",
    );
    write(&src, "d/附注.txt", "关于某事项的通知\n正文内容。\n临河区财政局\n2020年1月2日\n（此件不予公开）\n");
    write(&src, "e/broken.txt", "关于公布征地补偿标准的通知\n正文。");
    write(&src, "e/broken.txt.meta.json", r#"{"title": "征地补偿","#);
    write(&src, "e/typed.txt", "关于公布农村道路建设计划的通知\n正文。");
    write(&src, "e/typed.txt.meta.json", r#"{"title": 5, "published_date": "2020-02-30"}"#);
    let expected = ["a/信访.txt", "a/扫描件.docx", "a/空白.txt", "b/名册.txt", "c/export.jsonl#2", "d/附注.txt"];

    let bin = env!("CARGO_BIN_EXE_indexer");
    let out = std::process::Command::new(bin)
        .args(["ingest", src.to_str().unwrap(), "--data", data.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["withheld"], serde_json::json!(expected), "{summary}");
    assert_eq!(summary["rejected"], serde_json::json!([]), "{summary}");
    assert_eq!(summary["added"], 4, "{summary}");
    let warnings: Vec<(&str, &str)> =
        summary["warnings"].as_array().unwrap().iter().map(|w| (w["path"].as_str().unwrap(), w["reason"].as_str().unwrap())).collect();
    assert_eq!(warnings.len(), 3, "{summary}");
    assert_eq!(warnings[0].0, "e/broken.txt.meta.json");
    assert!(warnings[0].1.starts_with("sidecar is not valid JSON ("), "{}", warnings[0].1);
    assert!(warnings[0].1.ends_with("); its fields were ignored"), "{}", warnings[0].1);
    assert_eq!(
        warnings[1..],
        [
            ("e/typed.txt.meta.json", "field `title` must be a string, found a number"),
            ("e/typed.txt.meta.json", "field `published_date` must be a date like 2016-12-30, found \"2020-02-30\""),
        ]
    );

    let archive = Archive::open(&data).unwrap();
    assert_eq!(archive.num_docs(), 5, "公开.txt, two records of the export, broken.txt, typed.txt");
    for word in ["红砖楼", "王五", "赵六", "拆迁户花名册", "某事项"] {
        assert!(paths(&archive, word).is_empty(), "{word}");
    }
    let suggestions = archive.suggest("花名册", 10).unwrap();
    assert!(suggestions.suggestions.is_empty() && suggestions.documents.is_empty(), "{suggestions:?}");
    assert!(!archive.stats().unwrap().disclosure.contains_key("withheld"));
    // Withheld documents are never indexed, so every run lists them again.
    let again = ingest(&src, &data, false);
    assert_eq!(again.withheld, expected);
    assert_eq!((again.unchanged, again.added), (4, 0));
}

#[test]
fn an_export_record_is_stored_as_itself_and_restored_as_itself() {
    let (_tmp, src, data) = dirs();
    // Long enough to be a blob of its own, which --verify can restore.
    let public =
        format!("{{\"id\":\"rec-1\",\"title\":\"关于公布供水价格的通知\",\"text\":\"{}\"}}", "居民生活用水每立方米三元。".repeat(2000));
    let withheld = "{\"id\":\"rec-2\",\"title\":\"拆迁户花名册\",\"disclosure\":\"withheld\",\"text\":\"赵六 鹭鸶湾七号\"}";
    let on_request = "{\"id\":\"rec-3\",\"title\":\"信访答复意见\",\"disclosure\":\"on_request\",\"text\":\"答复正文红砖楼\"}";
    let short = "{\"id\":\"rec-4\",\"title\":\"关于公布燃气价格的通知\",\"text\":\"居民用气每立方米二元。\"}";
    write(&src, "export.json", format!("[\n  {public},\n  {withheld},\n  {on_request},\n  {short}\n]\n"));
    assert_eq!(ingest(&src, &data, false).withheld, vec!["export.json#2"]);
    let expected = vec![public.as_bytes().to_vec(), short.as_bytes().to_vec()];
    assert_eq!(stored::originals(&data), expected, "only the public records, never the export");
    let archive = Archive::open(&data).unwrap();
    let doc = archive.document("rec-1").unwrap().unwrap();
    assert_eq!((doc.bytes, doc.sha256.as_str()), (public.len() as u64, indexer::store::sha256_hex(public.as_bytes()).as_str()));
    fs::remove_dir_all(data.join("blobs")).unwrap();
    assert_eq!(verify(&src, &data).unchanged, 1);
    assert_eq!(stored::originals(&data), expected, "a lost record original is stored again as the record");
    for (id, record) in [("rec-1", &public), ("rec-4", &short.to_string())] {
        match archive.original(id).unwrap() {
            Original::Found { bytes, content_type, .. } => {
                assert_eq!((bytes.as_slice(), content_type.as_str()), (record.as_bytes(), "application/json"))
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(archive.original("rec-3").unwrap(), Original::OnRequest));
    assert!(matches!(archive.original("rec-2").unwrap(), Original::NotFound));
}

#[test]
fn the_category_is_the_nearest_folder_that_is_not_a_year_or_number_and_catalog_data_wins() {
    let (_tmp, src, data) = dirs();
    write(&src, "x/政务公开/2016/0001/a.txt", "关于做好政务公开工作的通知\n正文。");
    write(&src, "2016/政务公开/b.txt", "关于公布政务公开目录的通知\n正文。");
    write(&src, "2016/政务公开/c.txt", "关于调整低保标准的通知\n正文。");
    write(&src, "2016/政务公开/catalog.csv", "文件名,主题分类\nc.txt,社会救助\n");
    assert_eq!(ingest(&src, &data, false).added, 3);
    let archive = Archive::open(&data).unwrap();
    let category = |path: &str| document_at(&archive, path).category;
    assert_eq!(category("x/政务公开/2016/0001/a.txt").as_deref(), Some("政务公开"));
    assert_eq!(category("2016/政务公开/b.txt").as_deref(), Some("政务公开"));
    assert_eq!(category("2016/政务公开/c.txt").as_deref(), Some("社会救助"));
}

#[test]
fn a_gbk_catalog_csv_with_chinese_headers_sets_fields_and_disclosure() {
    let (_tmp, src, data) = dirs();
    let table = "文件名,标题,发布机构,文号,索引号,成文日期,发布日期,主题分类,公开属性,有效性\r\n\
                 甲.txt,关于公布征地补偿标准的通知,临河区自然资源局,临政发〔2020〕18号,11629902MB0001021A/2020-00018,2020年8月1日,2020-08-03,征地拆迁,主动公开,有效\r\n\
                 乙.txt,信访事项答复意见书,临河区信访局,,,,,信访,依申请公开,\r\n\
                 丙.txt,困难群众名册,,,,,,,不予公开,\r\n";
    write(&src, "目录/catalog.csv", encoding_rs::GBK.encode(table).0);
    write(&src, "目录/甲.txt", "征地区片综合地价和补偿标准如下。青苗补偿按实际种植情况确定。");
    write(&src, "目录/乙.txt", "经查，申请人反映的鹭鸶湾问题已处理。");
    write(&src, "目录/丙.txt", "王五 身份证号");
    let summary = ingest(&src, &data, false);
    assert_eq!(summary.withheld, vec!["目录/丙.txt"]);
    assert!(summary.warnings.is_empty(), "{summary:?}");
    assert_eq!(summary.added, 2);
    let archive = Archive::open(&data).unwrap();
    let a = document_at(&archive, "目录/甲.txt");
    let fields = (
        a.title.as_str(),
        a.publisher.as_deref(),
        a.doc_number.as_deref(),
        a.index_no.as_deref(),
        a.written_date.as_deref(),
        a.published_date.as_deref(),
        a.category.as_deref(),
        a.disclosure.as_str(),
        a.validity.as_deref(),
    );
    assert_eq!(
        fields,
        (
            "关于公布征地补偿标准的通知",
            Some("临河区自然资源局"),
            Some("临政发〔2020〕18号"),
            Some("11629902MB0001021A/2020-00018"),
            Some("2020-08-01"),
            Some("2020-08-03"),
            Some("征地拆迁"),
            "public",
            Some("有效"),
        )
    );
    let b = document_at(&archive, "目录/乙.txt");
    assert_eq!((b.title.as_str(), b.disclosure.as_str(), b.text), ("信访事项答复意见书", "on_request", None));
    assert!(paths(&archive, "鹭鸶湾").is_empty());
    assert!(paths(&archive, "王五").is_empty());
}

#[test]
fn a_doc_number_cited_in_the_body_is_not_the_documents_own() {
    let (_tmp, src, data) = dirs();
    write(&src, "办法.txt", NOTICE);
    write(
        &src,
        "名单.txt",
        "临河区2019年第二季度城乡最低生活保障资金发放名单\n根据《临河区城乡居民最低生活保障实施办法》（临政发〔2019〕12号）规定，现将发放情况予以公示。\n张*明 780元\n临河区民政局\n2019年7月8日\n",
    );
    ingest(&src, &data, false);
    let archive = Archive::open(&data).unwrap();
    assert_eq!(document_at(&archive, "办法.txt").doc_number.as_deref(), Some("临政发〔2019〕12号"));
    assert_eq!(document_at(&archive, "名单.txt").doc_number, None);
}

#[test]
fn a_word_a_later_commit_brings_is_offered_as_a_correction_without_reopening() {
    let (_tmp, src, data) = dirs();
    write(&src, "aid/notice.txt", NOTICE);
    ingest(&src, &data, false);
    let archive = Archive::open(&data).unwrap();
    let did_you_mean = |q: &str| {
        archive.reload().unwrap();
        archive.search(&SearchRequest { q: q.into(), ..SearchRequest::default() }).unwrap().did_you_mean
    };
    assert_eq!(did_you_mean("拆迁补尝"), None, "no word of the archive sounds like 补尝 yet");
    write(&src, "land/compensation.txt", "房屋拆迁补偿标准\n拆迁补偿按评估价格发放。");
    ingest(&src, &data, false);
    // The table is built for the new commit before it serves.
    assert_eq!(did_you_mean("拆迁补尝").as_deref(), Some("拆迁补偿"));
    let stats = archive.stats().unwrap();
    assert_eq!((stats.documents, stats.category.get("land")), (2, Some(&1)), "the counts are the new commit's");
}

#[test]
fn a_damaged_original_costs_its_snippet_not_the_search() {
    let (_tmp, src, data) = dirs();
    write(&src, "long.txt", long_notice());
    write(&src, "short.txt", "关于最低生活保障资金发放的说明\n最低生活保障资金按月发放。\n");
    ingest(&src, &data, false);
    let blob = walkdir::WalkDir::new(data.join("blobs")).into_iter().flatten().find(|e| e.file_type().is_file()).unwrap();
    let mut bytes = fs::read(blob.path()).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    fs::write(blob.path(), bytes).unwrap();
    let archive = Archive::open(&data).unwrap();
    let request = SearchRequest { q: "最低生活保障".into(), ..SearchRequest::default() };
    let hits = archive.search(&request).unwrap().hits;
    let snippets: Vec<(&str, bool)> = hits.iter().map(|h| (h.path.as_str(), h.snippet.is_empty())).collect();
    assert_eq!(snippets.len(), 2, "{snippets:?}");
    assert!(snippets.contains(&("long.txt", true)) && snippets.contains(&("short.txt", false)), "{snippets:?}");
    // `--verify` stores it again from the unchanged file.
    let repaired = verify(&src, &data);
    assert_eq!(repaired.warnings.len(), 1, "{:?}", repaired.warnings);
    assert!(repaired.warnings[0].reason.contains("was damaged; stored again from the file"), "{:?}", repaired.warnings);
    archive.reload().unwrap();
    let id = archive.search(&request).unwrap().hits.into_iter().find(|h| h.path == "long.txt").unwrap().id;
    assert!(matches!(archive.original(&id).unwrap(), Original::Found { bytes, .. } if bytes == long_notice().as_bytes()));
}

#[test]
fn nothing_derived_from_an_on_request_records_text_is_served() {
    let (_tmp, src, data) = dirs();
    let public = r#"{"id":"p1","title":"救助标准调整公告","text":"救助标准调整为每月780元","disclosure":"public"}"#;
    let on_request = r#"{"id":"r1","title":"困难群众救助名单","text":"困难群众救助名单 王某某 住址","disclosure":"on_request"}"#;
    write(&src, "export.jsonl", format!("{public}\n{on_request}\n"));
    ingest(&src, &data, false);
    let archive = Archive::open(&data).unwrap();
    let view = archive.document("r1").unwrap().unwrap();
    assert_eq!((view.text.as_deref(), view.sha256.as_str(), view.bytes), (None, "", 0));
    assert_eq!(archive.document("p1").unwrap().unwrap().sha256.len(), 64, "a public record's original is named by its sha256");
}
