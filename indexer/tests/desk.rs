//! The archivist's desk, end to end on folders built in each test:
//! withdrawal, fixity check and catalog export.

use std::fs;
use std::path::{Path, PathBuf};

use indexer::api::SearchRequest;
use indexer::archive::Original;
use indexer::fixity::ProblemKind;
use indexer::ingest::{self, IngestOptions, Summary};
use indexer::withdrawal::{self, Withdrawals};
use indexer::{Archive, Error};

fn write(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn ingest(src: &Path, data: &Path) -> Summary {
    ingest::run(&IngestOptions::new(vec![src.to_path_buf()], data.to_path_buf())).unwrap()
}

/// Held by each test for its whole run. Some tests start `indexer`: a
/// child forked while another test holds a data folder's lock shares the
/// lock's file until it execs, and that test's next command would find
/// the folder locked.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn dirs() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (src, data) = (tmp.path().join("src"), tmp.path().join("data"));
    fs::create_dir_all(&src).unwrap();
    (tmp, src, data)
}

/// Ids of the documents holding every word of `q`, after picking up the newest commit.
fn found(archive: &Archive, q: &str) -> Vec<String> {
    archive.reload().unwrap();
    let request = SearchRequest { q: q.into(), limit: 100, ..SearchRequest::default() };
    archive.search(&request).unwrap().hits.into_iter().filter(|h| !h.partial).map(|h| h.id).collect()
}

fn blob_files(data: &Path) -> usize {
    walkdir::WalkDir::new(data.join("blobs")).into_iter().flatten().filter(|e| e.file_type().is_file()).count()
}

/// A list of names published by mistake: long enough for its original to be a blob.
fn roster() -> String {
    let mut text = String::from("临河区2023年第三季度低保对象名册\n");
    for n in 0..400 {
        text.push_str(&format!("张{n}明 身份证号码 15280119500101{n:04} 住址 临河区解放街道{n}号\n"));
    }
    text.push_str("临河区民政局\n2023年10月8日\n");
    assert!(text.len() > indexer::store::KEPT_WITH_DOCUMENT);
    text
}

const NOTICE: &str = "关于做好2023年冬季取暖补贴发放工作的通知\n各街道：\n请按时发放取暖补贴。\n临河区民政局\n2023年10月9日\n";

/// Files of `index/` that belong to no segment of the last commit.
fn stray_index_files(data: &Path) -> Vec<String> {
    let meta: serde_json::Value = serde_json::from_slice(&fs::read(data.join("index/meta.json")).unwrap()).unwrap();
    let segments: Vec<String> =
        meta["segments"].as_array().unwrap().iter().map(|s| s["segment_id"].as_str().unwrap().replace('-', "")).collect();
    let files = fs::read_dir(data.join("index")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string());
    files.filter(|name| !name.starts_with('.') && name != "meta.json" && !segments.iter().any(|s| name.starts_with(s.as_str()))).collect()
}

/// An archive of one notice: (its temporary folder, source, data folder,
/// the archive opened, the notice's id).
fn one_notice() -> (tempfile::TempDir, PathBuf, PathBuf, Archive, String) {
    let (tmp, src, data) = dirs();
    write(&src, "通知.txt", NOTICE);
    ingest(&src, &data);
    let archive = Archive::open(&data).unwrap();
    let id = found(&archive, "取暖补贴").pop().unwrap();
    (tmp, src, data, archive, id)
}

/// An archive of the roster and one notice: (its temporary folder,
/// source, data folder, the archive opened, the roster's id).
fn roster_and_notice() -> (tempfile::TempDir, PathBuf, PathBuf, Archive, String) {
    let (tmp, src, data) = dirs();
    write(&src, "社会救助/低保对象名册.txt", roster());
    write(&src, "通知.txt", NOTICE);
    ingest(&src, &data);
    let archive = Archive::open(&data).unwrap();
    let id = found(&archive, "低保对象名册").pop().unwrap();
    (tmp, src, data, archive, id)
}

fn withdraw(data: &Path, id: &str) {
    withdrawal::withdraw(data, &[id.to_string()], "名册含身份证号码，误公开").unwrap();
}

#[test]
fn a_withdrawn_document_is_gone_from_search_suggest_stats_and_original_and_stays_gone_after_ingest() {
    let _serial = one_at_a_time();
    let (_tmp, src, data) = dirs();
    write(&src, "社会救助/低保对象名册.txt", roster());
    write(&src, "社会救助/取暖补贴通知.txt", NOTICE);
    // Neighbours, so that the segment holding the roster holds others too
    // and has to be merged rather than dropped.
    for n in 1..=8 {
        write(&src, &format!("公告/{n}.txt"), format!("第{n}号公告\n本公告自发布之日起施行。\n临河区人民政府\n2023年9月{n}日\n"));
    }
    assert_eq!(ingest(&src, &data).added, 10);
    let archive = Archive::open(&data).unwrap();
    let roster_id = found(&archive, "低保对象名册").pop().expect("indexed");
    assert!(matches!(archive.original(&roster_id).unwrap(), Original::Found { .. }));
    assert_eq!(blob_files(&data), 1);

    withdraw(&data, &roster_id);
    assert_eq!(found(&archive, "低保对象名册"), Vec::<String>::new());
    assert_eq!(found(&archive, "身份证号码"), Vec::<String>::new());
    assert_eq!(found(&archive, "取暖补贴").len(), 1, "the other document stays");
    let suggested = archive.suggest("低保对象", 10).unwrap();
    assert!(suggested.documents.is_empty() && suggested.suggestions.is_empty(), "{suggested:?}");
    let stats = archive.stats().unwrap();
    assert_eq!(stats.documents, 9);
    assert_eq!(stats.category.get("社会救助"), Some(&1));
    assert!(matches!(archive.original(&roster_id).unwrap(), Original::NotFound));
    assert!(archive.document(&roster_id).unwrap().is_none());
    assert_eq!(blob_files(&data), 0, "its original is gone from the data folder");
    assert_eq!(stray_index_files(&data), Vec::<String>::new(), "the segment that held it is gone, not only unlisted");
    let meta: serde_json::Value = serde_json::from_slice(&fs::read(data.join("index/meta.json")).unwrap()).unwrap();
    assert!(
        meta["segments"].as_array().unwrap().iter().all(|s| s["deletes"].is_null()),
        "merged, not only marked deleted: {}",
        meta["segments"]
    );
    let mut exported = Vec::new();
    archive
        .catalog(None, |view| {
            exported.push(view.id);
            Ok(())
        })
        .unwrap();
    assert_eq!(exported.len(), 9, "nor is it in the catalog export");
    assert!(!exported.contains(&roster_id));

    let listed = Withdrawals::load(&data).unwrap().entries;
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id.as_str(), listed[0].path.as_str()), (roster_id.as_str(), "社会救助/低保对象名册.txt"));
    assert_eq!(listed[0].title, "临河区2023年第三季度低保对象名册");
    assert_eq!(listed[0].reason, "名册含身份证号码，误公开");

    for verify in [false, true] {
        let options = IngestOptions { verify, ..IngestOptions::new(vec![src.clone()], data.clone()) };
        let again = ingest::run(&options).unwrap();
        assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 9), "verify: {verify}");
        assert_eq!(again.withheld, ["社会救助/低保对象名册.txt"]);
        assert_eq!(found(&archive, "低保对象名册"), Vec::<String>::new());
        assert_eq!(blob_files(&data), 0);
    }

    let undone = withdrawal::undo(&data, &roster_id).unwrap();
    assert!(undone.undone.is_some());
    assert_eq!(found(&archive, "低保对象名册"), Vec::<String>::new(), "back only at the next ingest");
    let back = ingest(&src, &data);
    assert_eq!((back.added, back.withheld.len()), (1, 0));
    assert_eq!(found(&archive, "低保对象名册"), [roster_id.clone()]);
    assert!(Withdrawals::load(&data).unwrap().entries.is_empty());
    assert!(matches!(withdrawal::undo(&data, &roster_id), Err(Error::NotWithdrawn(_))));
}

/// Run `indexer withdraw --data DATA ARGS…`: its exit code and standard output.
fn withdraw_cli(data: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_indexer")).args(["withdraw", "--data"]).arg(data).args(args).output().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn a_withdrawal_lapses_when_its_catalog_data_changes() {
    let _serial = one_at_a_time();
    let (_tmp, src, data, archive, id) = one_notice();
    assert_eq!(withdraw_cli(&data, &[&id]).0, Some(2), "a withdrawal needs a reason");
    let (code, listed) = withdraw_cli(&src.join("no-such-folder"), &["--list"]);
    assert_eq!((code, listed.as_str()), (Some(1), ""), "a mistyped data folder is not an empty list");
    assert_eq!(withdraw_cli(&data, &[&id, "--reason", "误公开"]).0, Some(0));
    let (code, listed) = withdraw_cli(&data, &["--list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!((code, listed.as_array().unwrap().len()), (Some(0), 1));
    assert_eq!(
        (&listed[0]["id"], &listed[0]["path"], &listed[0]["reason"]),
        (&serde_json::json!(id), &serde_json::json!("通知.txt"), &serde_json::json!("误公开"))
    );
    assert!(listed[0]["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(ingest(&src, &data).withheld, ["通知.txt"]);
    write(&src, "通知.txt.meta.json", r#"{"title":"关于做好2023年冬季取暖补贴发放工作的通知（更正）"}"#);
    let corrected = ingest(&src, &data);
    assert_eq!((corrected.added, corrected.withheld.len()), (1, 0));
    let notes: Vec<&str> = corrected.warnings.iter().map(|w| w.reason.as_str()).collect();
    assert_eq!(
        notes,
        [format!(
            "the withdrawal of {id} holds no record down: no record of the file has the catalog data it was withdrawn with; \
             it stays listed and holds the record down again if that data comes back (`indexer withdraw --undo {id}` ends it)"
        )]
    );
    archive.reload().unwrap();
    assert_eq!(archive.document(&id).unwrap().unwrap().title, "关于做好2023年冬季取暖补贴发放工作的通知（更正）");
    // The sidecar was a mistake: the catalog data it was withdrawn with
    // comes back, and so does the withdrawal.
    fs::remove_file(src.join("通知.txt.meta.json")).unwrap();
    assert_eq!(ingest(&src, &data).withheld, ["通知.txt"]);
    assert!(found(&archive, "取暖补贴").is_empty());
    assert_eq!(Withdrawals::load(&data).unwrap().entries.len(), 1);
}

#[test]
fn a_withdrawn_file_stays_down_when_it_moves_or_its_source_is_mounted_elsewhere() {
    let _serial = one_at_a_time();
    let (tmp, src, data, archive, id) = roster_and_notice();
    withdraw(&data, &id);
    // Moved into a subfolder of the same source.
    fs::create_dir_all(src.join("社会救助/2023")).unwrap();
    fs::rename(src.join("社会救助/低保对象名册.txt"), src.join("社会救助/2023/低保对象名册.txt")).unwrap();
    let options = IngestOptions { prune: true, ..IngestOptions::new(vec![src.clone()], data.clone()) };
    ingest::run(&options).unwrap();
    assert!(found(&archive, "低保对象名册").is_empty(), "a moved file is published again");
    // The whole source folder somewhere else.
    let elsewhere = tmp.path().join("new-disk");
    fs::rename(&src, &elsewhere).unwrap();
    let summary = ingest(&elsewhere, &data);
    assert_eq!(summary.added, 1, "only the notice is added at the new place");
    assert!(found(&archive, "低保对象名册").is_empty(), "a source mounted elsewhere publishes it again");
    assert_eq!(found(&archive, "取暖补贴").len(), 2);
}

/// Copy the folder `from` into `to`, file by file (`to` may exist).
fn copy_folder(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).into_iter().map(Result::unwrap) {
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        match entry.file_type().is_dir() {
            true => fs::create_dir_all(&target).unwrap(),
            false => drop(fs::copy(entry.path(), &target).unwrap()),
        }
    }
}

#[test]
fn a_withdrawal_killed_before_its_commit_its_merge_or_removing_its_original_is_finished_by_the_next_ingest_or_withdraw() {
    let _serial = one_at_a_time();
    let (tmp, src, data) = dirs();
    write(&src, "社会救助/低保对象名册.txt", roster());
    write(&src, "通知.txt", NOTICE);
    ingest(&src, &data);
    let before = tmp.path().join("before");
    copy_folder(&data, &before);
    let id = found(&Archive::open(&data).unwrap(), "低保对象名册").pop().unwrap();
    withdraw(&data, &id);
    // Killed once the withdrawal was listed, before its commit: the list
    // of after, the index and originals of before.
    let killed = tmp.path().join("killed-before-commit");
    copy_folder(&before, &killed);
    fs::copy(data.join(withdrawal::WITHDRAWALS_FILE), killed.join(withdrawal::WITHDRAWALS_FILE)).unwrap();
    assert_eq!(found(&Archive::open(&killed).unwrap(), "低保对象名册"), [id.clone()]);
    // Killed after its commit, before its merge purged the index files.
    let unmerged = tmp.path().join("killed-before-merge");
    copy_folder(&killed, &unmerged);
    delete_without_merge(&unmerged, &id);
    assert!(index_files_hold(&unmerged, "第三季度低保对象名册"));
    // Killed after its merge, before its original was removed.
    copy_folder(&before.join("blobs"), &data.join("blobs"));
    assert_eq!(blob_files(&data), 1);
    for (folder, finished) in [(&killed, 1), (&unmerged, 1), (&data, 0)] {
        // verify says so (the original left is an orphan besides).
        let report = indexer::fixity::verify(folder, false).unwrap();
        let left: Vec<(ProblemKind, &str)> =
            report.problems.iter().filter(|p| p.kind == ProblemKind::Withdrawn).map(|p| (p.kind, p.what.as_str())).collect();
        let expected = format!("document {id}");
        assert_eq!(left, [(ProblemKind::Withdrawn, expected.as_str())][..finished], "{:?}", report.problems);
        let summary = ingest(&src, folder);
        assert_eq!(summary.withheld, ["社会救助/低保对象名册.txt"]);
        assert_eq!(summary.warnings.len(), finished, "{:?}", summary.warnings);
        assert!(summary.warnings.iter().all(|w| w.path == "社会救助/低保对象名册.txt" && w.reason.contains(&id)));
        let archive = Archive::open(folder).unwrap();
        assert_eq!(found(&archive, "低保对象名册"), Vec::<String>::new());
        assert_eq!(found(&archive, "身份证号码"), Vec::<String>::new());
        assert!(matches!(archive.original(&id).unwrap(), Original::NotFound));
        assert_eq!(blob_files(folder), 0, "its original is gone from the data folder");
        assert_eq!(stray_index_files(folder), Vec::<String>::new());
        assert!(!index_files_hold(folder, "第三季度低保对象名册"), "its title is gone from the index files");
        assert_eq!(found(&archive, "取暖补贴").len(), 1, "the other document stays");
        assert_eq!(indexer::fixity::verify(folder, false).unwrap().problems, Vec::new());
    }
    // Withdrawing it again finishes it too.
    let again = tmp.path().join("withdrawn-again");
    copy_folder(&killed, &again);
    delete_without_merge(&again, &id);
    withdrawal::withdraw(&again, std::slice::from_ref(&id), "名册含身份证号码，误公开").unwrap();
    assert!(!index_files_hold(&again, "第三季度低保对象名册"));
    assert_eq!(blob_files(&again), 0);
}

/// Leave what a process killed between writing a commit's delete files
/// and its `meta.json` leaves: empty delete files of every segment for the
/// next `count` opstamps, registered in `.managed.json`, named by no commit.
fn leave_files_of_a_killed_commit(data: &Path, count: u64) {
    let index = data.join("index");
    let meta: serde_json::Value = serde_json::from_slice(&fs::read(index.join("meta.json")).unwrap()).unwrap();
    let mut managed: Vec<String> = serde_json::from_slice(&fs::read(index.join(".managed.json")).unwrap()).unwrap();
    let opstamp = meta["opstamp"].as_u64().unwrap();
    for segment in meta["segments"].as_array().unwrap() {
        let id = segment["segment_id"].as_str().unwrap().replace('-', "");
        for stamp in opstamp + 1..=opstamp + count {
            let name = format!("{id}.{stamp}.del");
            fs::write(index.join(&name), b"").unwrap();
            managed.push(name);
        }
    }
    fs::write(index.join(".managed.json"), serde_json::to_vec(&managed).unwrap()).unwrap();
}

#[test]
fn files_a_killed_commit_left_stop_no_later_withdrawal_or_ingest() {
    let _serial = one_at_a_time();
    let (_tmp, src, data, archive, id) = roster_and_notice();
    leave_files_of_a_killed_commit(&data, 20);
    withdraw(&data, &id);
    assert_eq!(found(&archive, "低保对象名册"), Vec::<String>::new());
    leave_files_of_a_killed_commit(&data, 20);
    write(&src, "通知.txt", NOTICE.replace("请按时发放", "请于月底前发放"));
    let changed = ingest(&src, &data);
    assert_eq!((changed.updated, changed.withheld.clone()), (1, vec!["社会救助/低保对象名册.txt".to_string()]));
    assert_eq!(found(&archive, "月底前发放").len(), 1);
    assert_eq!(stray_index_files(&data), Vec::<String>::new(), "the killed commit's files are gone");
}

/// Delete the document `id` of the data folder `data` in a commit, and
/// merge nothing: what a withdrawal killed between its commit and its
/// merge leaves.
fn delete_without_merge(data: &Path, id: &str) {
    let index = tantivy::Index::open_in_dir(data.join("index")).unwrap();
    let mut writer: tantivy::IndexWriter = index.writer(20_000_000).unwrap();
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    writer.delete_term(tantivy::Term::from_field_text(index.schema().get_field("id").unwrap(), id));
    indexer::schema::commit(&mut writer).unwrap();
    writer.wait_merging_threads().unwrap();
}

/// Whether a file of the data folder's index holds `text` as written.
fn index_files_hold(data: &Path, text: &str) -> bool {
    let files = fs::read_dir(data.join("index")).unwrap().map(|e| e.unwrap().path());
    files.filter(|path| path.is_file()).any(|path| fs::read(path).unwrap().windows(text.len()).any(|w| w == text.as_bytes()))
}

#[test]
fn withdrawing_a_document_withdraws_its_copies_and_one_undone_while_the_other_holds_it_is_listed_with_why() {
    let _serial = one_at_a_time();
    let (_tmp, src, data) = dirs();
    let (first, copy) = ("社会救助/低保对象名册.txt", "社会救助/低保对象名册（副本）.txt");
    write(&src, first, roster());
    write(&src, copy, roster());
    write(&src, "通知.txt", NOTICE);
    assert_eq!(ingest(&src, &data).added, 3);
    let archive = Archive::open(&data).unwrap();
    let ids = found(&archive, "低保对象名册");
    let id_of = |path: &str| ids.iter().find(|id| archive.document(id).unwrap().unwrap().path == path).unwrap().clone();
    let (first_id, copy_id) = (id_of(first), id_of(copy));

    // The copy goes down with it, listed as a withdrawal of its own.
    let withdrawn = withdrawal::withdraw(&data, std::slice::from_ref(&first_id), "名册含身份证号码，误公开").unwrap();
    let listed: Vec<(&str, &str)> = withdrawn.iter().map(|w| (w.id.as_str(), w.path.as_str())).collect();
    assert_eq!(listed, [(first_id.as_str(), first), (copy_id.as_str(), copy)]);
    assert_eq!(found(&archive, "低保对象名册"), Vec::<String>::new());
    assert_eq!(found(&archive, "取暖补贴").len(), 1, "the other document stays");
    assert_eq!(blob_files(&data), 0);
    let both = ingest(&src, &data);
    assert_eq!(both.withheld, [first, copy], "each is held by its own withdrawal");
    assert!(both.warnings.is_empty(), "{:?}", both.warnings);

    // The first one's withdrawal undone: the copy's withdrawal still
    // holds the same original, and the first one is listed as held by it.
    withdrawal::undo(&data, &first_id).unwrap();
    let held = ingest(&src, &data);
    assert_eq!(found(&archive, "低保对象名册"), Vec::<String>::new());
    assert_eq!(held.withheld, [first, copy]);
    assert_eq!(held.warnings.len(), 1, "{:?}", held.warnings);
    assert_eq!(held.warnings[0].path, first);
    assert!(held.warnings[0].reason.contains(&format!("withdrawn as {copy_id} ({copy})")), "{}", held.warnings[0].reason);
    assert!(held.warnings[0].reason.contains(&format!("indexer withdraw --undo {copy_id}")));

    withdrawal::undo(&data, &copy_id).unwrap();
    let back = ingest(&src, &data);
    assert_eq!((back.added, back.withheld.len(), back.warnings.len()), (2, 0, 0), "{back:?}");
    assert_eq!(found(&archive, "低保对象名册").len(), 2);
    assert!(Withdrawals::load(&data).unwrap().entries.is_empty());
}

#[test]
fn a_record_repeated_in_exports_is_withdrawn_with_its_copies_and_an_undone_copy_is_listed_with_why() {
    let _serial = one_at_a_time();
    let (_tmp, src, data) = dirs();
    let names = r#"{"title":"困难群众救助名单","text":"困难群众救助名单 王某某 住址 身份证号"}"#;
    let other = r#"{"title":"救助标准调整公告","text":"救助标准调整为每月780元"}"#;
    write(&src, "导出/一.jsonl", format!("{names}\n{other}\n{names}\n"));
    write(&src, "导出/二.jsonl", format!("{names}\n"));
    assert_eq!(ingest(&src, &data).added, 2);
    let archive = Archive::open(&data).unwrap();
    let copies = found(&archive, "困难群众救助名单");
    assert_eq!(copies.len(), 3);
    let first = copies.iter().find(|id| archive.document(id).unwrap().unwrap().path == "导出/二.jsonl").unwrap().clone();

    let withdrawn = withdrawal::withdraw(&data, std::slice::from_ref(&first), "名单含身份证号，误公开").unwrap();
    let mut ids: Vec<String> = withdrawn.iter().map(|w| w.id.clone()).collect();
    ids.sort();
    let mut expected = copies.clone();
    expected.sort();
    assert_eq!(ids, expected, "the record and both its copies, one of them in the same file as a sibling that stays");
    assert_eq!(found(&archive, "困难群众救助名单"), Vec::<String>::new());
    assert_eq!(found(&archive, "救助标准").len(), 1, "the other record stays");

    // One copy undone while the others' withdrawals hold the same record:
    // listed under its own name, with the withdrawal that holds it.
    let undone = withdrawn.iter().find(|w| w.path == "导出/一.jsonl").unwrap().clone();
    withdrawal::undo(&data, &undone.id).unwrap();
    let held = ingest(&src, &data);
    assert_eq!(found(&archive, "困难群众救助名单"), Vec::<String>::new());
    let mine = held.warnings.iter().find(|w| w.path == "导出/一.jsonl").unwrap_or_else(|| panic!("{held:?}"));
    assert!(mine.reason.contains("is not indexed: it is the original withdrawn as"), "{}", mine.reason);
    assert!(held.withheld.iter().any(|name| name.starts_with("导出/一.jsonl#")), "{:?}", held.withheld);
}

#[test]
fn a_recurring_notice_of_an_export_is_withdrawn_alone_not_its_namesakes() {
    let _serial = one_at_a_time();
    let (_tmp, src, data) = dirs();
    let rows = ["被征收人钱一 补偿五万元", "被征收人钱二 补偿六万元", "被征收人钱三 补偿七万元"];
    let csv: String = rows.iter().map(|text| format!("月度征收公示,临川市住建局,{text}\n")).collect();
    write(&src, "导出/公示.csv", format!("title,publisher,text\n{csv}"));
    ingest(&src, &data);
    let archive = Archive::open(&data).unwrap();
    let second = found(&archive, "钱二").pop().unwrap();
    let withdrawn = withdrawal::withdraw(&data, std::slice::from_ref(&second), "误公开").unwrap();
    assert_eq!(withdrawn.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(), [second.as_str()], "the same title, not a copy");
    assert_eq!((found(&archive, "钱一").len(), found(&archive, "钱二").len(), found(&archive, "钱三").len()), (1, 0, 1));
    // Read again with a row inserted above (every row's id moves down
    // one): the namesakes stay published, the withdrawn row stays down.
    let first = "月度征收公示,临川市住建局,被征收人钱零 补偿四万元\n";
    write(&src, "导出/公示.csv", format!("title,publisher,text\n{first}{csv}"));
    let again = ingest(&src, &data);
    assert_eq!(again.withheld.len(), 1, "{again:?}");
    let counts = ["钱零", "钱一", "钱二", "钱三"].map(|name| found(&archive, name).len());
    assert_eq!(counts, [1, 1, 0, 1]);
    // Written again with every field quoted (other bytes, the same
    // records), twice: the withdrawn row stays down, the others up.
    let quoted: String = csv.lines().map(|line| format!("\"{}\"\n", line.replace(',', "\",\""))).collect();
    write(&src, "导出/公示.csv", format!("title,publisher,text\n{first}{quoted}"));
    for _ in 0..2 {
        let again = ingest(&src, &data);
        assert_eq!(again.withheld.len(), 1, "{again:?}");
        let counts = ["钱零", "钱一", "钱二", "钱三"].map(|name| found(&archive, name).len());
        assert_eq!(counts, [1, 1, 0, 1]);
        assert_eq!(indexer::fixity::verify(&data, false).unwrap().problems, Vec::new());
    }
}

#[test]
fn one_record_of_an_export_is_withdrawn_and_its_siblings_stay() {
    let _serial = one_at_a_time();
    let (_tmp, src, data) = dirs();
    let r1 = r#"{"id":"r1","title":"困难群众救助名单","text":"困难群众救助名单 王某某 住址"}"#;
    let r2 = r#"{"id":"r2","title":"救助标准调整公告","text":"救助标准调整为每月780元"}"#;
    write(&src, "export.jsonl", format!("{r1}\n{r2}\n"));
    ingest(&src, &data);
    withdraw(&data, "r1");
    let archive = Archive::open(&data).unwrap();
    assert_eq!(found(&archive, "救助"), ["r2"]);
    let unchanged = ingest(&src, &data);
    assert_eq!((unchanged.unchanged, unchanged.withheld.clone()), (1, vec!["export.jsonl#r1".to_string()]));
    let r3 = r#"{"id":"r3","title":"临时救助办法","text":"临时救助的对象和标准"}"#;
    write(&src, "export.jsonl", format!("{r1}\n{r2}\n{r3}\n"));
    let changed = ingest(&src, &data);
    assert_eq!((changed.updated, changed.withheld.clone()), (1, vec!["export.jsonl#r1".to_string()]));
    let mut ids = found(&archive, "救助");
    ids.sort();
    assert_eq!(ids, ["r2", "r3"]);
}

#[test]
fn an_unreadable_list_of_withdrawals_stops_ingest_rather_than_publish_again() {
    let _serial = one_at_a_time();
    let (_tmp, src, data) = dirs();
    write(&src, "通知.txt", NOTICE);
    ingest(&src, &data);
    fs::write(data.join(withdrawal::WITHDRAWALS_FILE), b"{\"entries\": [").unwrap();
    let run = ingest::run(&IngestOptions::new(vec![src.clone()], data.clone()));
    assert!(matches!(run, Err(Error::Withdrawals { .. })), "{run:?}");
}

#[test]
fn withdrawing_an_unknown_id_withdraws_nothing() {
    let _serial = one_at_a_time();
    let (_tmp, _src, data, archive, id) = one_notice();
    let result = withdrawal::withdraw(&data, &[id.clone(), "nosuchid".into()], "误公开");
    assert!(matches!(result, Err(Error::NoDocument(ref missing)) if missing == "nosuchid"), "{result:?}");
    assert_eq!(found(&archive, "取暖补贴"), [id]);
    assert!(Withdrawals::load(&data).unwrap().entries.is_empty());
}

/// A long document of its own: its original is a blob.
fn long_document(title: &str) -> String {
    let body = format!("{title}\n各街道：\n{}\n临河区民政局\n2023年10月9日\n", "请按标准发放补贴，做好登记。".repeat(600));
    assert!(body.len() > indexer::store::KEPT_WITH_DOCUMENT);
    body
}

fn blob_of(bytes: &str) -> String {
    let sha = indexer::store::sha256_hex(bytes.as_bytes());
    format!("blobs/{}/{}.zst", &sha[..2], &sha[2..])
}

#[test]
fn verify_finds_a_flipped_byte_a_missing_original_and_an_orphan() {
    let _serial = one_at_a_time();
    let (_tmp, src, data) = dirs();
    let (first, second) = (long_document("关于发放取暖补贴的通知"), long_document("关于发放物价补贴的通知"));
    write(&src, "a.txt", &first);
    write(&src, "b.txt", &second);
    write(&src, "c.txt", NOTICE);
    write(&src, "d.txt.meta.json", r#"{"disclosure":"on_request"}"#);
    write(&src, "d.txt", "信访事项答复意见书\n");
    ingest(&src, &data);
    let clean = indexer::fixity::verify(&data, false).unwrap();
    assert_eq!(clean.problems, []);
    assert_eq!((clean.documents, clean.originals), (4, 3), "the on_request document has no original");
    assert_eq!(clean.bytes, (first.len() + second.len() + NOTICE.len()) as u64);

    let flipped = data.join(blob_of(&first));
    let mut bytes = fs::read(&flipped).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&flipped, bytes).unwrap();
    fs::remove_file(data.join(blob_of(&second))).unwrap();
    let stray = long_document("无人引用的原件");
    indexer::store::BlobStore::new(&data).put(&indexer::store::sha256_hex(stray.as_bytes()), stray.as_bytes()).unwrap();
    let archive = Archive::open(&data).unwrap();
    let second_id = found(&archive, "物价补贴").pop().unwrap();

    let report = indexer::fixity::verify(&data, false).unwrap();
    let problems: Vec<(indexer::fixity::ProblemKind, &str)> = report.problems.iter().map(|p| (p.kind, p.what.as_str())).collect();
    use indexer::fixity::ProblemKind::{Damaged, Missing, Orphan};
    assert_eq!(
        problems,
        [(Damaged, blob_of(&first).as_str()), (Missing, format!("document {second_id}").as_str()), (Orphan, blob_of(&stray).as_str())]
    );
    let missing = &report.problems[1].detail;
    assert_eq!(*missing, format!("its original {} is not in the data folder", blob_of(&second)));

    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_indexer")).args(["verify", "--json", "--data"]).arg(&data).output().unwrap();
    assert_eq!(cli.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(json["problems"].as_array().unwrap().len(), 3);
    assert_eq!(json["problems"][2]["kind"], "orphan");
}

/// The catalog fields of every document of a data folder, in id order.
fn catalog_fields(data: &Path) -> Vec<[String; 10]> {
    let archive = Archive::open(data).unwrap();
    let mut rows = Vec::new();
    let unread = archive
        .catalog(None, |v| {
            let text = |value: &Option<String>| value.clone().unwrap_or_default();
            rows.push([
                v.id,
                text(&v.index_no),
                v.title,
                text(&v.publisher),
                text(&v.doc_number),
                text(&v.written_date),
                text(&v.published_date),
                text(&v.category),
                v.disclosure,
                text(&v.validity),
            ]);
            Ok(())
        })
        .unwrap();
    assert!(unread.is_empty(), "{unread:?}");
    rows.sort();
    rows
}

fn export(data: &Path, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["catalog", "export", "--data"])
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn a_catalog_export_with_an_original_gone_or_damaged_writes_every_row_and_fails_naming_the_documents() {
    let _serial = one_at_a_time();
    let (_tmp, src, data) = dirs();
    let (gone, damaged) = (long_document("关于发放2023年冬季取暖补贴的通知"), long_document("关于发放2023年夏季防暑补贴的通知"));
    write(&src, "a/补贴通知.txt", &gone);
    write(&src, "c/防暑通知.txt", &damaged);
    write(&src, "b/通知.txt", NOTICE);
    ingest(&src, &data);
    let blob = |text: &str| data.join(blob_of(text));
    fs::remove_file(blob(&gone)).unwrap();
    fs::write(blob(&damaged), b"not what was stored").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["catalog", "export", "--format", "jsonl", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 documents exported, but 2 of them without their text (正文)"), "{stderr}");
    assert!(stderr.contains("(a/补贴通知.txt): its stored original"), "{stderr}");
    assert!(stderr.contains("(c/防暑通知.txt): its stored original") && stderr.contains("is damaged"), "{stderr}");
    let rows: Vec<serde_json::Value> =
        out.stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    let texts: std::collections::BTreeMap<&str, usize> =
        rows.iter().map(|r| (r["title"].as_str().unwrap(), r["text"].as_str().unwrap().len())).collect();
    assert_eq!(texts.len(), 3, "every row is written");
    assert_eq!(texts["关于发放2023年冬季取暖补贴的通知"], 0, "a public document's unknown text is empty, not left out");
    assert_eq!(texts["关于发放2023年夏季防暑补贴的通知"], 0);
    let notice = rows.iter().find(|r| r["title"] == "关于做好2023年冬季取暖补贴发放工作的通知").unwrap();
    assert!(notice["text"].as_str().unwrap().contains("请按时发放取暖补贴。"), "{notice}");
}

#[test]
fn a_catalog_export_holds_the_ingest_lock_shared_so_no_withdrawal_lands_while_it_runs() {
    let _serial = one_at_a_time();
    let (tmp, src, data) = dirs();
    catalog_sources(&src);
    ingest(&src, &data);
    let documents = catalog_fields(&data).len();
    let cli =
        |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_indexer")).args(args).arg("--data").arg(&data).output().unwrap();

    // A writer holds the lock: no row is written.
    let held = indexer::ingest::lock(&data).unwrap();
    let refused = cli(&["catalog", "export"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stdout.is_empty(), "no row is written while a withdrawal may be under way");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("`catalog export`") && said.contains("holds ingest.lock"), "{said}");
    drop(held);

    // Another export holds it: this one runs too, a withdrawal does not.
    let reading = indexer::ingest::read_lock(&data).unwrap();
    let rows = cli(&["catalog", "export", "--format", "jsonl"]);
    assert!(rows.status.success(), "{}", String::from_utf8_lossy(&rows.stderr));
    assert_eq!(String::from_utf8(rows.stdout).unwrap().lines().count(), documents);
    let id = String::from_utf8(cli(&["catalog", "export", "--format", "jsonl"]).stdout).unwrap();
    let id = serde_json::from_str::<serde_json::Value>(id.lines().next().unwrap()).unwrap()["id"].as_str().unwrap().to_string();
    let withdraw = cli(&["withdraw", &id, "--reason", "测试"]);
    assert_eq!(withdraw.status.code(), Some(1), "a withdrawal waits for the export");
    assert!(String::from_utf8_lossy(&withdraw.stderr).contains("holds ingest.lock"));
    drop(reading);

    // A read-only copy of the folder, read by another user: exported
    // through a read-only handle on its lock, or without one where a
    // replica has none.
    let copy = tmp.path().join("read-only");
    assert!(std::process::Command::new("cp").arg("-a").arg(&data).arg(&copy).status().unwrap().success());
    for without_lock in [false, true] {
        if without_lock {
            fs::remove_file(copy.join("ingest.lock")).unwrap();
        }
        assert!(std::process::Command::new("chmod").args(["-R", "a+rX,a-w"]).arg(tmp.path()).status().unwrap().success());
        let out = std::process::Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                env!("CARGO_BIN_EXE_indexer"),
                "catalog",
                "export",
                "--format",
                "jsonl",
                "--data",
            ])
            .arg(&copy)
            .output()
            .expect("setpriv (util-linux) runs the export as another user; the tests run as root");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), documents);
        assert!(std::process::Command::new("chmod").args(["-R", "u+w"]).arg(tmp.path()).status().unwrap().success());
    }
}

/// An archive with every kind of catalog entry: declared fields, jointly
/// issued, 依申请公开, 不予公开, fields read from the text and the path.
fn catalog_sources(src: &Path) {
    write(&src, "征地拆迁/补偿标准.txt", NOTICE.replace("取暖补贴", "征地补偿"));
    write(
        &src,
        "征地拆迁/补偿标准.txt.meta.json",
        r#"{"id":"zd-2020-18","索引号":"11629902MB0001021A/2020-00018","文号":"临政发〔2020〕18号","发布日期":"2020-08-03","有效性":"有效"}"#,
    );
    write(&src, "社会救助/联合通知.txt", "关于调整低保标准的通知\n正文。\n临河区民政局\u{3000}\u{3000}临河区财政局\n2022年1月5日\n");
    write(&src, "信访/答复意见书.txt", "信访事项答复意见书\n王某某：你反映的拆迁补偿问题答复如下。\n");
    write(&src, "信访/答复意见书.txt.meta.json", r#"{"disclosure":"on_request","validity":"失效"}"#);
    write(&src, "名册/困难群众名册.txt", "困难群众名册\n张某 身份证号码\n");
    write(&src, "名册/困难群众名册.txt.meta.json", r#"{"disclosure":"withheld"}"#);
}

#[test]
fn an_exported_catalog_ingested_into_an_empty_data_folder_gives_the_same_catalog_fields() {
    let _serial = one_at_a_time();
    let (tmp, src, data) = dirs();
    catalog_sources(&src);
    ingest(&src, &data);
    let original = catalog_fields(&data);
    assert_eq!(original.len(), 3, "{original:?}");
    for (n, args) in
        [["--format", "csv", "--encoding", "utf-8"], ["--format", "csv", "--encoding", "gbk"], ["--format", "jsonl", "--encoding", "utf-8"]]
            .iter()
            .enumerate()
    {
        let exported = export(&data, args);
        let decoded = if args[3] == "gbk" {
            assert!(std::str::from_utf8(&exported).is_err(), "really GBK");
            encoding_rs::GBK.decode(&exported).0.into_owned()
        } else {
            String::from_utf8(exported.clone()).unwrap()
        };
        assert!(!decoded.contains("困难群众名册"), "a withheld document is never exported");
        assert!(!decoded.contains("拆迁补偿问题"), "nor the text of an on_request one");
        assert!(decoded.contains("信访事项答复意见书"), "its catalog entry is");
        let (exchange, imported) = (tmp.path().join(format!("exchange{n}")), tmp.path().join(format!("imported{n}")));
        write(&exchange, &format!("目录.{}", args[1]), &exported);
        let summary = ingest(&exchange, &imported);
        assert_eq!((summary.added, summary.rejected.len()), (1, 0), "{args:?}: {summary:?}");
        assert_eq!(catalog_fields(&imported), original, "{args:?}");
    }
}

#[test]
fn the_csv_export_has_the_chinese_headers_of_a_disclosure_catalog_and_since_keeps_later_documents() {
    let _serial = one_at_a_time();
    let (_tmp, src, data) = dirs();
    catalog_sources(&src);
    ingest(&src, &data);
    let rows = |args: &[&str]| -> Vec<Vec<String>> {
        let exported = export(&data, args);
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(exported.as_slice());
        reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
    };
    let since = rows(&["--since", "2021年1月1日"]);
    assert_eq!(
        since[0].join(","),
        "id,文件名,索引号,标题,发布机构,文号,成文日期,发布日期,主题分类,公开属性,有效性,格式,字节数,sha256,正文"
    );
    assert_eq!(since.len(), 2, "only the notice of 2022: {since:?}");
    assert_eq!(
        since[1][1..13].join(","),
        "社会救助/联合通知.txt,,关于调整低保标准的通知,临河区民政局、临河区财政局,,2022-01-05,,社会救助,主动公开,,txt,103"
    );
    let first_fields: Vec<String> = rows(&[]).into_iter().skip(1).map(|row| row[1].clone()).collect();
    assert_eq!(first_fields, ["信访/答复意见书.txt", "征地拆迁/补偿标准.txt", "社会救助/联合通知.txt"], "by date, undated first");
}

/// A query log as the search server writes it, with a later page, a line
/// that is no search, a query with markup, and a day boundary in UTC+8.
const QUERY_LOG: &str = r#"{"time":"2026-03-01T02:00:00Z","q":"低保  申请","category":[],"sort":"relevance","limit":0,"offset":0,"total":3,"relaxed":false,"took_ms":2.5}
{"time":"2026-03-01T03:00:00Z","q":"低保 申请","offset":0,"total":3,"relaxed":false,"took_ms":2.1,"point":"archive-hall"}
{"time":"2026-03-01T03:00:05Z","q":"低保 申请","offset":10,"total":3,"relaxed":false,"took_ms":2.1,"point":"archive-hall"}
{"time":"2026-03-01T17:30:00Z","q":"<b>不存在</b>","offset":0,"total":0,"relaxed":false,"took_ms":1.0,"point":"library"}
{"time":"2026-03-02T09:00:00+08:00","q":"征地 补偿","offset":0,"total":2,"relaxed":true,"took_ms":4.0}
not a search
{"time":"2026-02-27T09:00:00Z","q":"低保 申请","offset":0,"total":3,"relaxed":false,"took_ms":2.0}

{"time":"2026-03-09T09:00:00Z","q":"公积金","offset":0,"total":0,"relaxed":false,"took_ms":2.0}
"#;

#[test]
fn the_report_counts_searches_by_day_point_and_query_and_documents_by_year_and_validity() {
    let _serial = one_at_a_time();
    use indexer::report::{self, Period, QueryCount, YearCounts};
    let (tmp, src, data) = dirs();
    catalog_sources(&src);
    write(&src, "征地拆迁/旧标准.txt", "关于公布征地补偿标准的通知\n正文。\n临河区人民政府\n2015年3月1日\n");
    write(&src, "征地拆迁/旧标准.txt.meta.json", r#"{"发布日期":"2020-01-02","有效性":"失效"}"#);
    ingest(&src, &data);
    let period = Period { from: Some("2026-03-01".into()), to: Some("2026-03-08".into()) };
    let mut log_bytes = QUERY_LOG.as_bytes().to_vec();
    log_bytes.extend_from_slice(b"{\"time\":\"2026-03-02T01:00:00Z\",\"q\":\"\xff\xfe\",\"offset\":0,\"total\":1}\n{\"time\":\"2026-03-02");
    let s = report::read_log(log_bytes.as_slice(), &period, |_| {}).unwrap();
    assert_eq!((s.total, s.zero_results, s.partial_only, s.unreadable_lines, s.counts_exact), (4, 1, 1, 3, true), "not UTF-8, cut short");
    let by_day: Vec<(&str, Vec<(&str, u64)>)> =
        s.by_day.iter().map(|(day, points)| (day.as_str(), points.iter().map(|(p, n)| (p.as_str(), *n)).collect())).collect();
    assert_eq!(by_day, [("2026-03-01", vec![("archive-hall", 1), ("web", 1)]), ("2026-03-02", vec![("library", 1), ("web", 1)])]);
    let count = |query: &str, count| QueryCount { query: query.into(), count };
    assert_eq!(s.top_queries, [count("低保 申请", 2), count("<b>不存在</b>", 1), count("征地 补偿", 1)]);
    assert_eq!(s.zero_result_queries, [count("<b>不存在</b>", 1)]);

    let documents = report::count_documents(&Archive::open(&data).unwrap()).unwrap();
    assert_eq!(documents.total, 4);
    let validity: Vec<(&str, u64)> = documents.validity.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    assert_eq!(validity, [("", 1), ("失效", 2), ("有效", 1)]);
    let per_year: Vec<(&str, YearCounts)> = documents.per_year.iter().map(|(y, c)| (y.as_str(), *c)).collect();
    let year = |made, repealed, in_force, validity_unknown| YearCounts { made, repealed, in_force, validity_unknown };
    assert_eq!(per_year, [("2020", year(2, 1, 1, 0)), ("2022", year(1, 0, 0, 1))]);

    let log = tmp.path().join("query.log");
    fs::write(&log, QUERY_LOG).unwrap();
    let run = |format: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_indexer"))
            .args(["report", "--from", "2026-03-01", "--to", "2026-03-08", "--format", format, "--query-log"])
            .arg(&log)
            .arg("--data")
            .arg(&data)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let csv = run("csv");
    for row in [
        "searches,total,,4",
        "searches_per_day,2026-03-01,archive-hall,1",
        "searches_per_point,web,,2",
        "top_query,低保 申请,,2",
        "zero_result_query,<b>不存在</b>,,1",
        "documents_per_year,2020,repealed,1",
    ] {
        assert!(csv.lines().any(|l| l == row), "{row} missing from\n{csv}");
    }
    let html = run("html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"));
    assert!(html.contains("&lt;b&gt;不存在&lt;/b&gt;") && !html.contains("<b>不存在"), "queries are escaped");
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("<link"), "nothing is fetched");
}

#[test]
fn verify_reports_an_index_that_does_not_open() {
    let _serial = one_at_a_time();
    let (_tmp, src, data) = dirs();
    write(&src, "c.txt", NOTICE);
    ingest(&src, &data);
    fs::write(data.join("index/meta.json"), b"{ not json").unwrap();
    let report = indexer::fixity::verify(&data, false).unwrap();
    assert_eq!(report.problems.len(), 1);
    assert_eq!((report.problems[0].kind, report.problems[0].what.as_str()), (indexer::fixity::ProblemKind::Index, "index/"));
    assert!(report.problems[0].detail.starts_with("does not open: "), "{}", report.problems[0].detail);
}
