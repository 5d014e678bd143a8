//! `indexer export opensearch`, end to end on folders built in each test:
//! the bulk files parsed back action by action, a full export then an
//! incremental one, and the inputs it refuses.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use indexer::analysis::normalize;
use indexer::ingest::{self, IngestOptions};
use indexer::opensearch_export::{export, ExportOptions, ExportState, Manifest, INDEX_NAME};
use indexer::store::sha256_hex;
use indexer::{withdrawal, Archive, Error};
use serde_json::{json, Value};

fn write(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn ingest(src: &Path, data: &Path) {
    ingest::run(&IngestOptions { prune: true, ..IngestOptions::new(vec![src.to_path_buf()], data.to_path_buf()) }).unwrap();
}

/// Held by each test for its whole run: a child `indexer` forked while
/// another test holds a data folder's lock shares the lock's file until it
/// execs, and that test's next command would find the folder locked.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Bulk files this small hold a few documents each.
const SMALL_BULK: u64 = 4_000;

fn export_into(data: &Path, out: &Path, since: Option<&Path>) -> Manifest {
    let options =
        ExportOptions { since: since.map(Path::to_path_buf), bulk_file_bytes: SMALL_BULK, ..ExportOptions::new(data.into(), out.into()) };
    export(&options, || {}).unwrap()
}

/// One action of a bulk file: `index` with its document, or `delete`.
#[derive(Debug, PartialEq)]
enum Action {
    Index(String, Value),
    Delete(String),
}

/// Read the bulk files of an export back, checking the bulk format line
/// by line: an action line naming the index and an id, a document line
/// after each `index` (whose id is the action's), none after a `delete`,
/// every line ended by a line feed. Checks each file's size and sha256
/// against the manifest, and that it is within [`SMALL_BULK`] unless it
/// holds one document alone.
fn actions(out: &Path, manifest: &Manifest) -> Vec<Action> {
    let mut all = Vec::new();
    for file in &manifest.bulk {
        let bytes = fs::read(out.join(&file.file.file)).unwrap();
        assert_eq!((bytes.len() as u64, sha256_hex(&bytes)), (file.file.bytes, file.file.sha256.clone()), "{}", file.file.file);
        let alone = file.index + file.delete == 1;
        assert!(bytes.len() as u64 <= SMALL_BULK || alone, "{} is {} bytes", file.file.file, bytes.len());
        assert_eq!(bytes.last(), Some(&b'\n'), "the last line of {} ends with a line feed", file.file.file);
        let text = String::from_utf8(bytes).unwrap();
        let mut lines = text[..text.len() - 1].split('\n');
        let (mut indexed, mut deleted) = (0, 0);
        while let Some(line) = lines.next() {
            let action: Value = serde_json::from_str(line).unwrap();
            let object = action.as_object().unwrap();
            assert_eq!(object.len(), 1, "{line}");
            let (kind, target) = object.iter().next().unwrap();
            let id = target["_id"].as_str().unwrap().to_string();
            assert_eq!(target, &json!({"_index": manifest.index, "_id": id}), "{line}");
            match kind.as_str() {
                "index" => {
                    let source: Value = serde_json::from_str(lines.next().expect("a document line follows an index action")).unwrap();
                    assert_eq!(source["id"], json!(id));
                    all.push(Action::Index(id, source));
                    indexed += 1;
                }
                "delete" => {
                    all.push(Action::Delete(id));
                    deleted += 1;
                }
                other => panic!("unexpected action {other}"),
            }
        }
        assert_eq!((indexed, deleted), (file.index, file.delete), "{}", file.file.file);
    }
    all
}

fn indexed(actions: &[Action]) -> BTreeMap<String, Value> {
    actions.iter().filter_map(|a| if let Action::Index(id, doc) = a { Some((id.clone(), doc.clone())) } else { None }).collect()
}

fn deleted(actions: &[Action]) -> BTreeSet<String> {
    actions.iter().filter_map(|a| if let Action::Delete(id) = a { Some(id.clone()) } else { None }).collect()
}

/// The ids of an archive's documents by title.
fn ids_by_title(data: &Path) -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    Archive::open(data)
        .unwrap()
        .catalog(None, |view| {
            ids.insert(view.title, view.id);
            Ok(())
        })
        .unwrap();
    ids
}

fn notice(n: usize) -> String {
    format!("临河区关于第{n}批城乡低保对象的公示\n根据《临河区最低生活保障办法》，现将第{n}批低保对象公示如下，公示期七天。\n临河区民政局\n2023年9月{n}日\n")
}

const WITHHELD: &str = "困难群众名册\n张三 身份证号码 152801195001010011\n";
const ON_REQUEST: &str = "关于征地拆迁补偿问题的答复意见书\n拆迁户李四反映的补偿问题答复如下。\n";
const TRADITIONAL: &str = "臨河區政府資訊公開年報\n本區２０１６年主動公開政府資訊三百條。\n";

fn sources(src: &Path) {
    for n in 1..=12 {
        write(src, &format!("公示/{n}.txt"), notice(n));
    }
    write(src, "名册/困难群众名册.txt", WITHHELD);
    write(src, "名册/困难群众名册.txt.meta.json", r#"{"disclosure":"withheld"}"#);
    write(src, "信访/答复意见书.txt", ON_REQUEST);
    write(src, "信访/答复意见书.txt.meta.json", r#"{"disclosure":"on_request","文号":"临信复(2023)5号","索引号":"ＬＨ-２０２３-００５"}"#);
    write(src, "年报/年报.txt", TRADITIONAL);
}

#[test]
fn a_full_export_holds_every_document_once_never_a_withheld_one_and_no_text_of_an_on_request_one() {
    let _serial = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let (src, data, out) = (tmp.path().join("src"), tmp.path().join("data"), tmp.path().join("export"));
    sources(&src);
    ingest(&src, &data);
    let manifest = export_into(&data, &out, None);
    let ids = ids_by_title(&data);
    assert_eq!(ids.len(), 14);
    assert!(manifest.bulk.len() >= 3, "{} bulk files", manifest.bulk.len());
    let actions = actions(&out, &manifest);
    assert_eq!(deleted(&actions), BTreeSet::new());
    let docs = indexed(&actions);
    assert_eq!(docs.keys().cloned().collect::<BTreeSet<_>>(), ids.values().cloned().collect::<BTreeSet<_>>(), "every document, once");
    assert_eq!(actions.len(), 14);
    let c = &manifest.counts;
    assert_eq!((c.documents, c.indexed, c.on_request, c.deleted, c.unchanged), (14, 14, 1, 0, 0));

    for file in fs::read_dir(&out).unwrap() {
        let bytes = fs::read(file.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in ["困难群众名册", "152801195001010011", "拆迁户李四"] {
            assert!(!text.contains(secret), "{secret} is exported");
        }
    }
    let on_request = &docs[&ids["关于征地拆迁补偿问题的答复意见书"]];
    assert_eq!(on_request["disclosure"], "on_request");
    for field in ["text", "chars", "words"] {
        assert!(on_request.get(field).is_none(), "an on_request document has no {field}");
    }
    assert_eq!(
        (&on_request["doc_number_key"], &on_request["index_no_key"], &on_request["title_chars"]),
        (&json!(["临信复〔2023〕5号", "临信复〔〕5号"]), &json!("ＬＨ-2023-005"), &json!("关于征地拆迁补偿问题的答复意见书"))
    );

    let report = &docs[&ids["臨河區政府資訊公開年報"]];
    assert_eq!(report["text"], json!(TRADITIONAL));
    assert_eq!(report["chars"], json!(normalize(TRADITIONAL).text()));
    assert_eq!(report["chars"], json!("临河区政府信息公开年报\n本区2016年主动公开政府信息三百条。\n"));
    assert_eq!(report["title_chars"], json!("临河区政府信息公开年报"));
    let words: Vec<&str> = report["words"].as_str().unwrap().split(' ').collect();
    for word in ["临河区", "政府", "信息", "公开", "主动", "三百"] {
        assert!(words.contains(&word), "{word} missing from {words:?}");
    }
    assert!(words.iter().all(|w| w.chars().count() > 1), "words hold no single characters: {words:?}");

    let template: Value = serde_json::from_slice(&fs::read(out.join("template.json")).unwrap()).unwrap();
    assert_eq!(sha256_hex(&fs::read(out.join("template.json")).unwrap()), manifest.template.sha256);
    let properties = template["template"]["mappings"]["properties"].as_object().unwrap();
    for doc in docs.values() {
        let unmapped: Vec<&String> = doc.as_object().unwrap().keys().filter(|k| !properties.contains_key(*k)).collect();
        assert!(unmapped.is_empty(), "fields without a mapping: {unmapped:?}");
    }
    assert_eq!(template["template"]["settings"]["analysis"]["analyzer"]["yuelan_chars"]["tokenizer"], "standard");
    assert_eq!(properties["chars"]["analyzer"], "yuelan_chars");
    assert_eq!(properties["words"]["analyzer"], "whitespace");
    assert_eq!(properties["doc_number_key"]["type"], "keyword");
    assert_eq!(properties["published_date"]["type"], "date");
}

#[test]
fn an_incremental_export_deletes_what_was_removed_withdrawn_or_withheld_and_indexes_only_what_is_new_or_changed() {
    let _serial = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let (src, data) = (tmp.path().join("src"), tmp.path().join("data"));
    let (first, second, third) = (tmp.path().join("1"), tmp.path().join("2"), tmp.path().join("3"));
    sources(&src);
    ingest(&src, &data);
    let full = export_into(&data, &first, None);
    let before = ids_by_title(&data);
    let title = |n: usize| format!("临河区关于第{n}批城乡低保对象的公示");

    fs::remove_file(src.join("公示/1.txt")).unwrap();
    write(&src, "公示/2.txt.meta.json", r#"{"disclosure":"withheld"}"#);
    write(&src, "公示/3.txt", notice(3).replace("七天", "十天"));
    write(&src, "公示/13.txt", notice(13));
    write(&src, "信访/答复意见书.txt.meta.json", r#"{"disclosure":"public"}"#);
    ingest(&src, &data);
    withdrawal::withdraw(&data, &[before[&title(4)].clone()], "误公开").unwrap();
    let after = ids_by_title(&data);

    let since = first.join(&full.state.file);
    let manifest = export_into(&data, &second, Some(&since));
    let actions = actions(&second, &manifest);
    let gone: BTreeSet<String> = [1, 2, 4].map(|n| before[&title(n)].clone()).into();
    assert_eq!(deleted(&actions), gone);
    let first_index = actions.iter().position(|a| matches!(a, Action::Index(..))).unwrap();
    assert_eq!(first_index, 3, "the deletes come first");
    let docs = indexed(&actions);
    let changed: BTreeSet<String> =
        [title(3), title(13), "关于征地拆迁补偿问题的答复意见书".to_string()].iter().map(|t| after[t].clone()).collect();
    assert_eq!(docs.keys().cloned().collect::<BTreeSet<_>>(), changed);
    assert!(docs[&after[&title(3)]]["text"].as_str().unwrap().contains("十天"));
    assert!(docs[&after["关于征地拆迁补偿问题的答复意见书"]]["text"].as_str().unwrap().contains("拆迁户李四"), "now public, with its text");
    let c = &manifest.counts;
    assert_eq!((c.documents, c.indexed, c.on_request, c.deleted, c.unchanged), (12, 3, 0, 3, 9));

    let state: ExportState = serde_json::from_slice(&fs::read(second.join(&manifest.state.file)).unwrap()).unwrap();
    assert_eq!(state.documents.keys().cloned().collect::<BTreeSet<_>>(), after.values().cloned().collect::<BTreeSet<_>>());
    let nothing = export_into(&data, &third, Some(&second.join(&manifest.state.file)));
    assert_eq!((nothing.bulk.len(), nothing.counts.unchanged, nothing.counts.indexed), (0, 12, 0), "nothing changed, nothing to apply");
}

/// A data folder of one notice: (its temporary folder, the data folder).
fn one_notice() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (src, data) = (tmp.path().join("src"), tmp.path().join("data"));
    write(&src, "1.txt", notice(1));
    ingest(&src, &data);
    (tmp, data)
}

#[test]
fn a_missing_data_folder_an_unusable_out_folder_and_a_bad_state_are_refused_before_anything_is_written() {
    let _serial = one_at_a_time();
    let (tmp, data) = one_notice();
    let at = |name: &str| tmp.path().join(name);
    let run = |data: &Path, out: &Path, since: Option<&Path>| {
        export(&ExportOptions { since: since.map(Path::to_path_buf), ..ExportOptions::new(data.into(), out.into()) }, || {})
    };
    assert!(matches!(run(&at("no-such-data"), &at("o1"), None), Err(Error::NoIndex(_))));
    assert!(!at("o1").exists(), "nothing written");

    fs::write(at("a-file"), "x").unwrap();
    assert!(matches!(run(&data, &at("a-file/out"), None), Err(Error::ExportOut { .. })), "an out folder that cannot be made");
    let full = run(&data, &at("full"), None).unwrap();
    assert!(matches!(run(&data, &at("full"), None), Err(Error::ExportOut { .. })), "an out folder holding an export");
    let state = at("full").join(&full.state.file);

    fs::write(at("garbage.json"), "{\"not\": \"a state\"}").unwrap();
    let index = format!("\"index\": \"{INDEX_NAME}\"");
    fs::write(at("other.json"), fs::read_to_string(&state).unwrap().replace(&index, "\"index\": \"other\"")).unwrap();
    let (other_tmp, other_data) = one_notice();
    run(&other_data, &other_tmp.path().join("export"), None).unwrap();
    let foreign = other_tmp.path().join("export/state.json");
    let format = at("format.json");
    fs::write(&format, fs::read_to_string(&state).unwrap().replace("yuelan-opensearch-1", "yuelan-opensearch-0")).unwrap();
    for bad in [at("missing.json"), at("garbage.json"), foreign, format, at("other.json")] {
        let out = at("incremental");
        match run(&data, &out, Some(&bad)) {
            Err(Error::ExportState { path, .. }) => assert_eq!(path, bad),
            other => panic!("{}: {other:?}", bad.display()),
        }
        assert!(!out.exists(), "nothing written for {}", bad.display());
    }

    let old = at("old-data");
    let mut schema = tantivy::schema::Schema::builder();
    schema.add_text_field("title", tantivy::schema::TEXT);
    fs::create_dir_all(old.join("index")).unwrap();
    tantivy::Index::create_in_dir(old.join("index"), schema.build()).unwrap();
    assert!(matches!(run(&old, &at("o2"), None), Err(Error::OldFormat(_))));
}

#[test]
fn the_command_says_what_it_wrote_and_names_the_state_for_next_time_or_why_it_cannot_continue() {
    let _serial = one_at_a_time();
    let (tmp, data) = one_notice();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_indexer"))
            .args(["export", "opensearch", "--data"])
            .arg(&data)
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let out = tmp.path().join("export");
    let (code, stdout, _) = cli(&["--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("1 indexed (0 on request, without text), 0 deleted, 0 unchanged, into 1 bulk files in "), "{stdout}");
    assert!(stdout.contains(&format!("next time: --since {}", out.join("state.json").display())), "{stdout}");
    let bad = tmp.path().join("export/template.json");
    let (code, _, stderr) = cli(&["--out", tmp.path().join("again").to_str().unwrap(), "--since", bad.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with(&format!(
            "indexer: cannot continue from the export state {}: it is not the state.json of an export (",
            bad.display()
        )),
        "{stderr}"
    );
}

/// A notice longer than what is kept with a document: its original is a
/// blob of its own in `blobs/`, and its text is read back from it.
fn long_notice(n: usize) -> String {
    let body = format!("{}{}\n", notice(n), "请按标准发放补贴，做好登记。".repeat(600));
    assert!(body.len() > indexer::store::KEPT_WITH_DOCUMENT);
    body
}

/// Where a data folder keeps the original `bytes`.
fn blob_of(data: &Path, bytes: &str) -> PathBuf {
    let sha = sha256_hex(bytes.as_bytes());
    data.join("blobs").join(&sha[..2]).join(format!("{}.zst", &sha[2..]))
}

/// A data folder of one long notice and one short one: (its temporary
/// folder, the sources, the data folder, the long notice).
fn a_long_notice() -> (tempfile::TempDir, PathBuf, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let (src, data) = (tmp.path().join("src"), tmp.path().join("data"));
    let long = long_notice(1);
    write(&src, "1.txt", &long);
    write(&src, "2.txt", notice(2));
    ingest(&src, &data);
    (tmp, src, data, long)
}

fn ingest_verify(src: &Path, data: &Path) {
    ingest::run(&IngestOptions { prune: true, verify: true, ..IngestOptions::new(vec![src.to_path_buf()], data.to_path_buf()) }).unwrap();
}

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    names.sort();
    names
}

#[test]
fn a_missing_original_fails_the_export_naming_the_document_and_what_to_run_until_ingest_verify_stores_it_again() {
    let _serial = one_at_a_time();
    let (tmp, src, data, long) = a_long_notice();
    let id = ids_by_title(&data)["临河区关于第1批城乡低保对象的公示"].clone();
    let blob = blob_of(&data, &long);
    fs::remove_file(&blob).unwrap();
    let out = tmp.path().join("export");
    let failed = export(&ExportOptions::new(data.clone(), out.clone()), || {});
    match &failed {
        Err(Error::MissingOriginal { id: missing, path, .. }) => assert_eq!((missing.as_str(), path.as_str()), (id.as_str(), "1.txt")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        failed.unwrap_err().to_string(),
        format!(
            "document {id} (1.txt): its stored original {} is missing; `indexer verify --data DATA_DIR` lists what is missing or damaged, `indexer ingest SOURCE_DIR --data DATA_DIR --verify` stores it again from its source",
            blob.display()
        )
    );
    ingest_verify(&src, &data);
    let again = tmp.path().join("again");
    let manifest = export_into(&data, &again, None);
    let docs = indexed(&actions(&again, &manifest));
    assert_eq!(docs[&id]["text"], json!(long));
}

#[test]
fn a_failed_export_leaves_out_as_it_was_and_the_same_out_takes_the_next_try() {
    let _serial = one_at_a_time();
    let (tmp, src, data, long) = a_long_notice();
    let blob = blob_of(&data, &long);
    let mut bytes = fs::read(&blob).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&blob, bytes).unwrap();
    let (new, empty) = (tmp.path().join("new"), tmp.path().join("empty"));
    fs::create_dir(&empty).unwrap();
    for out in [&new, &empty] {
        let options = ExportOptions { bulk_file_bytes: SMALL_BULK, ..ExportOptions::new(data.clone(), out.clone()) };
        assert!(matches!(export(&options, || {}), Err(Error::DamagedOriginal { .. })));
    }
    assert!(!new.exists(), "a new --out is not made");
    assert_eq!(names_in(&empty), Vec::<String>::new(), "an empty --out stays empty");
    assert_eq!(names_in(tmp.path()), ["data", "empty", "src"], "nothing is left beside them");
    ingest_verify(&src, &data);
    for out in [&new, &empty] {
        let manifest = export_into(&data, out, None);
        assert_eq!(manifest.counts.indexed, 2);
        let mut expected: Vec<String> = manifest.bulk.iter().map(|b| b.file.file.clone()).collect();
        expected.extend(["manifest.json", "state.json", "template.json"].map(String::from));
        expected.sort();
        assert_eq!(names_in(out), expected);
    }
}

#[test]
fn an_export_holds_the_ingest_lock_so_no_withdrawal_can_land_while_it_runs() {
    let _serial = one_at_a_time();
    let (tmp, data) = one_notice();
    let held = fs::OpenOptions::new().create(true).truncate(false).write(true).open(data.join("ingest.lock")).unwrap();
    held.lock().unwrap();
    let out = tmp.path().join("export");
    match export(&ExportOptions::new(data.clone(), out.clone()), || {}) {
        Err(error @ Error::Locked(_)) => assert_eq!(
            error.to_string(),
            format!("another `indexer ingest`, `withdraw`, `verify`, `catalog export` or `export opensearch` is running on {} (it holds ingest.lock); wait for it to finish, then try again", data.display())
        ),
        other => panic!("{other:?}"),
    }
    assert!(!out.exists(), "nothing written");
    drop(held);

    let id = ids_by_title(&data).into_values().next().unwrap();
    let withdrawn_meanwhile = std::sync::Mutex::new(None);
    let manifest = export(&ExportOptions::new(data.clone(), out.clone()), || {
        let mut tried = withdrawn_meanwhile.lock().unwrap();
        if tried.is_none() {
            *tried = Some(withdrawal::withdraw(&data, &[id.clone()], "误公开").map(|_| ()));
        }
    })
    .unwrap();
    assert!(matches!(withdrawn_meanwhile.into_inner().unwrap(), Some(Err(Error::Locked(_)))), "a withdrawal during the export waits");
    assert_eq!(indexed(&actions(&out, &manifest)).keys().cloned().collect::<Vec<_>>(), [id.clone()]);
    withdrawal::withdraw(&data, &[id], "误公开").unwrap();
}

fn indexer_cli(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_indexer"));
    command.args(args);
    command
}

#[test]
fn output_into_a_closed_pipe_ends_quietly_and_into_a_full_disk_with_an_error_not_a_panic() {
    let _serial = one_at_a_time();
    let (tmp, data) = one_notice();
    let data = data.to_str().unwrap();
    let full = || fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let runs: [(&str, Vec<&str>); 2] =
        [("export", vec!["export", "opensearch", "--data", data, "--out"]), ("verify", vec!["verify", "--data", data])];
    for (n, (name, args)) in runs.iter().enumerate() {
        let out_dir = |m: usize| tmp.path().join(format!("out-{n}-{m}"));
        let args_for = |m: usize| {
            let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            if *name == "export" {
                args.push(out_dir(m).to_string_lossy().to_string());
            }
            args
        };
        let to_full = indexer_cli(&[]).args(args_for(0)).stdout(full()).output().unwrap();
        let stderr = String::from_utf8(to_full.stderr).unwrap();
        assert_eq!(
            (to_full.status.code(), stderr.as_str()),
            (Some(1), "indexer: cannot write to standard output: No space left on device (os error 28)\n"),
            "{name}"
        );

        let mut child =
            indexer_cli(&[]).args(args_for(1)).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take());
        let closed = child.wait_with_output().unwrap();
        assert_eq!((closed.status.code(), String::from_utf8(closed.stderr).unwrap()), (Some(0), String::new()), "{name}");
    }
}

/// The README's lines that apply an export, run by bash in `folder` with
/// `curl` answering as OpenSearch does when every action succeeds (and
/// failing as curl does on a file it cannot read), noting the files it
/// is given: (the files in the order given, what the
/// lines printed).
fn apply_as_the_readme_says(folder: &Path) -> (Vec<String>, String) {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let start = readme.find("    # on a machine that reaches the cluster, from the export folder").expect("the apply lines in the README");
    let end = start + readme[start..].find("    done\n").expect("the end of the apply loop") + "    done\n".len();
    let lines: String = readme[start..end].lines().map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l))).collect();
    // As curl does: a file it cannot read fails it (exit 26), with no answer.
    let fake_curl = r#"curl() {
  for a in "$@"; do case $a in @*) [ -r "${a#@}" ] || { echo "curl: (26) Failed to open/read local data from file/application" >&2; return 26; }
    echo "${a#@}" >> "$APPLIED";; esac; done
  case " $* " in *" -XPUT "*) echo '{"acknowledged":true}';; *) echo '{"took":3,"errors":false,"items":[]}';; esac
}
"#;
    let applied = folder.parent().unwrap().join(format!("{}.applied", folder.file_name().unwrap().to_string_lossy()));
    let run = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("{fake_curl}{lines}"))
        .current_dir(folder)
        .env("APPLIED", &applied)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let files = fs::read_to_string(&applied).unwrap_or_default().lines().map(String::from).collect();
    (files, String::from_utf8(run.stdout).unwrap())
}

#[test]
fn the_readme_applies_every_bulk_file_in_order_and_reports_no_failure_for_an_export_with_none() {
    let _serial = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let (src, data, full, nothing) = (tmp.path().join("src"), tmp.path().join("data"), tmp.path().join("full"), tmp.path().join("nothing"));
    sources(&src);
    ingest(&src, &data);
    let manifest = export_into(&data, &full, None);
    let unchanged = export_into(&data, &nothing, Some(&full.join("state.json")));
    assert_eq!(unchanged.bulk.len(), 0);
    let mut expected = vec!["template.json".to_string()];
    expected.extend(manifest.bulk.iter().map(|b| b.file.file.clone()));
    let acknowledged = "{\"acknowledged\":true}\n".to_string();
    assert_eq!(apply_as_the_readme_says(&full), (expected, acknowledged.clone()));
    assert_eq!(apply_as_the_readme_says(&nothing), (vec!["template.json".to_string()], acknowledged));
}

#[test]
fn an_out_that_is_a_file_and_a_data_folder_that_is_missing_or_a_file_are_named_as_such() {
    let _serial = one_at_a_time();
    let (tmp, data) = one_notice();
    let file = tmp.path().join("a-file");
    fs::write(&file, "x").unwrap();
    let error = export(&ExportOptions::new(data.clone(), file.clone()), || {}).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot write the export into {}: it is a file, not a folder; pass --out a new or empty folder you can write to",
            file.display()
        )
    );
    let missing = tmp.path().join("no-such-data");
    let said = |data: &Path| Archive::open(data).err().map(|e| e.to_string());
    assert_eq!(said(&missing), Some(format!("{} does not exist; check the data folder's path (--data)", missing.display())));
    assert_eq!(said(&file), Some(format!("{} is a file, not a data folder; check the data folder's path (--data)", file.display())));
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    assert_eq!(said(&empty), Some(format!("{0} holds no index yet; run `indexer ingest <SOURCE_DIR> --data {0}` first", empty.display())));
    let verified = indexer::fixity::verify(&missing, false).err().map(|e| e.to_string());
    assert_eq!(verified, said(&missing), "verify says the same");
    assert!(!missing.exists());
}

#[test]
fn the_state_for_next_time_is_shell_quoted_and_a_moved_data_folder_is_told_to_export_in_full() {
    let _serial = one_at_a_time();
    let (tmp, data) = one_notice();
    let out = tmp.path().join("export 30 Nov");
    let run = indexer_cli(&["export", "opensearch", "--data"]).arg(&data).arg("--out").arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(0));
    let stdout = String::from_utf8(run.stdout).unwrap();
    let state = out.join("state.json");
    assert!(stdout.ends_with(&format!("next time: --since '{}'\n", state.display())), "{stdout}");

    let moved = tmp.path().join("moved");
    fs::rename(&data, &moved).unwrap();
    let error = export(&ExportOptions { since: Some(state.clone()), ..ExportOptions::new(moved.clone(), tmp.path().join("next")) }, || {})
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot continue from the export state {}: it is the state of the export of {}, not of {} (a data folder moved or copied elsewhere needs a full export, without --since); pass --since the state.json of the last `indexer export opensearch` of this data folder, or export without --since (everything, into a new index)",
            state.display(),
            data.display(),
            moved.display()
        )
    );
}

#[test]
fn index_names_an_index_of_its_own_in_the_template_and_every_action() {
    let _serial = one_at_a_time();
    let (tmp, data) = one_notice();
    let out = tmp.path().join("export");
    let run = indexer_cli(&["export", "opensearch", "--index", "linhe-2026", "--data"]).arg(&data).arg("--out").arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let manifest: Manifest = serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.index, "linhe-2026");
    let template: Value = serde_json::from_slice(&fs::read(out.join("template.json")).unwrap()).unwrap();
    assert_eq!(template["index_patterns"], json!(["linhe-2026"]));
    assert_eq!(actions(&out, &manifest).len(), 1, "every action names linhe-2026");
    let state: ExportState = serde_json::from_slice(&fs::read(out.join("state.json")).unwrap()).unwrap();
    assert_eq!(state.index, "linhe-2026");

    let other = tmp.path().join("other");
    let since = out.join("state.json");
    let again =
        indexer_cli(&["export", "opensearch", "--data"]).arg(&data).arg("--out").arg(&other).arg("--since").arg(&since).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8(again.stderr).unwrap().contains(": it is the state of index linhe-2026, this export writes yuelan;"));

    let bad = indexer_cli(&["export", "opensearch", "--index", "Linhe", "--data"]).arg(&data).arg("--out").arg(&other).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(bad.stderr).unwrap(),
        "indexer: Linhe cannot name an OpenSearch index: it has capital letters; pass --index a name in lowercase, without spaces or any of \\ / * ? \" < > | , # :, not starting with - _ +, of at most 255 bytes\n"
    );
    assert!(!other.exists());
}
