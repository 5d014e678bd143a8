//! The hand-over of a data folder to OpenSearch (or Elasticsearch, whose
//! bulk API is the same): `indexer export opensearch`. Beyond one machine
//! the archive goes to an engine a province platform already runs; this
//! writes what it needs, into one folder:
//!
//! * `template.json`: the index template (`PUT _index_template/INDEX`,
//!   [`INDEX_NAME`] unless [`ExportOptions::index`] names another):
//!   settings and mappings, with analyzers built into OpenSearch only.
//! * `bulk-0001.ndjson`, …: `_bulk` request bodies, each at most
//!   [`BULK_FILE_BYTES`] (a single document larger than that stands alone
//!   in its file). Deletes come first, so a document withdrawn or turned
//!   不予公开 is gone with the first file applied.
//! * `state.json`: every exported document's id and fingerprint, to pass
//!   as `--since` to the next export, which then carries only what changed:
//!   `index` actions for new and changed documents, `delete` actions for
//!   documents removed, withdrawn or withheld since.
//! * `manifest.json`, written last (a folder without one is an export that
//!   did not finish): the counts, and the bytes and sha256 of every file.
//!
//! What a document carries ([`source_of`]): its catalog fields as keywords
//! and dates (文号 and 索引号 also as the keys the index finds them by,
//! [`catalog::doc_number_keys`], [`catalog::normalize_doc_number`]); its
//! title, catalog line ([`catalog::catalog_line`]) and text normalized the
//! way Yuelan normalizes ([`normalize`]: NFKC, lowercase, traditional →
//! simplified), for OpenSearch's `standard` tokenizer to cut one token per
//! Han character with positions (phrases); and the words and sub-words
//! Yuelan's segmenter finds ([`TokenSet::Words`]), space-joined, for a
//! `whitespace` field that scores exact words. Disclosure: the index holds
//! no withheld document, so none is exported; an on_request one goes with
//! its catalog fields only ([`DocumentView::public_text`], the rule the
//! catalog export and the server follow).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tantivy::tokenizer::{TokenStream, Tokenizer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::analysis::{normalize, ChineseTokenizer, TokenSet};
use crate::archive::{Archive, DocumentView};
use crate::catalog::{self, Disclosure};
use crate::error::{Error, Result};
use crate::ingest;
use crate::store::sha256_hex;

/// Largest bulk file, in bytes (10 MB): OpenSearch advises bulk requests
/// of 5–15 MB, and accepts up to `http.max_content_length` (100 MB).
pub const BULK_FILE_BYTES: u64 = 10_000_000;

/// The index the template and the bulk actions name unless told another
/// ([`ExportOptions::index`]).
pub const INDEX_NAME: &str = "yuelan";

/// The files of an export folder, besides its bulk files.
pub const TEMPLATE_FILE: &str = "template.json";
pub const STATE_FILE: &str = "state.json";
pub const MANIFEST_FILE: &str = "manifest.json";

/// The version of the export's fields and state. A state written by
/// another version is refused: the documents it lists were exported with
/// other fields, and only a full export brings them all to this one.
pub const EXPORT_FORMAT: &str = "yuelan-opensearch-1";

/// Longest `text`, `chars` or `words` of a document written, in UTF-8
/// bytes (16 MiB: ingest keeps no longer text, `extract::Limits`'
/// `max_text_bytes`); longer ones are cut with a warning. A field of at
/// most this many bytes has at most this many UTF-16 code units, what
/// OpenSearch's `index.highlight.max_analyzed_offset` counts: the
/// template sets it to this.
pub const MAX_TEXT_BYTES: usize = 16 << 20;

/// Documents analyzed together on every core, then written in order.
const BATCH: usize = 256;

/// What to export, and where.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The data folder.
    pub data: PathBuf,
    /// The folder to write into: created, or empty.
    pub out: PathBuf,
    /// The state of the previous export ([`STATE_FILE`] of its folder):
    /// export only what changed since.
    pub since: Option<PathBuf>,
    /// Largest bulk file, in bytes ([`BULK_FILE_BYTES`]).
    pub bulk_file_bytes: u64,
    /// The index the template matches and every action names
    /// ([`INDEX_NAME`] unless told; [`check_index_name`]): two archives
    /// can go to two indices of one cluster.
    pub index: String,
}

impl ExportOptions {
    /// A full export of `data` into `out`, in bulk files of [`BULK_FILE_BYTES`].
    pub fn new(data: PathBuf, out: PathBuf) -> ExportOptions {
        ExportOptions { data, out, since: None, bulk_file_bytes: BULK_FILE_BYTES, index: INDEX_NAME.to_string() }
    }
}

/// What an export wrote ([`MANIFEST_FILE`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`EXPORT_FORMAT`].
    pub format: String,
    /// The index the template and the actions name.
    pub index: String,
    /// The data folder exported (absolute).
    pub data: String,
    /// When the export ran (RFC 3339, UTC).
    pub exported_at: String,
    /// The state it continued from, as given to `--since`; none for a full export.
    pub since: Option<String>,
    pub template: ExportFile,
    /// The bulk files, to apply in this order.
    pub bulk: Vec<BulkFile>,
    /// The state to pass as `--since` to the next export.
    pub state: ExportFile,
    pub counts: Counts,
}

/// One file of an export folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportFile {
    /// Its name inside the export folder.
    pub file: String,
    pub bytes: u64,
    /// sha256 of its bytes, hex.
    pub sha256: String,
}

/// One bulk file and the actions it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkFile {
    #[serde(flatten)]
    pub file: ExportFile,
    /// `index` actions (each an action line and a document line).
    pub index: u64,
    /// `delete` actions (an action line each).
    pub delete: u64,
}

/// The counts of an export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Documents in the data folder, all in the new state.
    pub documents: u64,
    /// `index` actions: every document of a full export, the new and
    /// changed ones of an incremental one.
    pub indexed: u64,
    /// Of those, the on_request ones (catalog fields only, no text).
    pub on_request: u64,
    /// `delete` actions: documents of the previous state that the data
    /// folder no longer holds.
    pub deleted: u64,
    /// Documents as they were in the previous state, not written again.
    pub unchanged: u64,
    /// Bytes of the originals of the documents indexed (the catalog's `bytes`).
    pub source_bytes: u64,
    /// Bytes written: template, bulk files and state.
    pub output_bytes: u64,
}

/// What the next export continues from ([`STATE_FILE`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportState {
    /// [`EXPORT_FORMAT`].
    pub format: String,
    /// The index its documents were exported to.
    pub index: String,
    /// The data folder exported (absolute): a state goes with its data folder.
    pub data: String,
    /// When it was written (RFC 3339, UTC).
    pub exported_at: String,
    /// Every document exported, by id: the fingerprint of what it was built
    /// from (16 hex digits; the index's `fingerprint`). An id missing from
    /// the data folder is deleted by the next export, one whose
    /// fingerprint differs is indexed again.
    pub documents: BTreeMap<String, String>,
}

/// Export the data folder `options.data` into `options.out`. Errors:
/// [`Error::IndexName`] for an index name OpenSearch refuses,
/// [`Error::NoIndex`] / [`Error::OldFormat`] for a data folder that holds
/// no index or an index of another version, [`Error::Locked`] while an
/// ingest, a withdrawal or a verify runs on it (the export holds its lock
/// throughout: nothing withdrawn meanwhile is carried onward),
/// [`Error::ExportState`] for a `--since` state that cannot be read or
/// belongs to another data folder, index or export version,
/// [`Error::ExportOut`] for an output folder that is not empty or cannot
/// be written, [`Error::DamagedOriginal`] / [`Error::MissingOriginal`] for a
/// public document whose text cannot be read from its original. Nothing
/// is written before the data folder and the state are found good; the
/// files are written into a folder beside `out` ([`Partial`]) that
/// becomes `out` once complete: a failed export leaves `out` as it was.
/// `progress` is called after each document read.
pub fn export(options: &ExportOptions, progress: impl Fn() + Sync) -> Result<Manifest> {
    check_index_name(&options.index)?;
    let archive = Archive::open(&options.data)?;
    let _lock = ingest::read_lock(&options.data)?;
    // What committed before the lock was taken.
    archive.reload()?;
    let data = fs::canonicalize(&options.data).map_err(Error::io(format!("reading {}", options.data.display())))?;
    let data = data.to_string_lossy().to_string();
    let previous = match &options.since {
        Some(path) => Some(load_state(path, &data, &options.index)?),
        None => None,
    };
    let partial = Partial::create(&options.out)?;
    let manifest = write_export(options, &archive, data, previous, Out { dir: &partial.dir, out: &options.out }, progress)?;
    partial.finish()?;
    Ok(manifest)
}

/// Write the export of `archive` into `out`, [`MANIFEST_FILE`] last.
fn write_export(
    options: &ExportOptions,
    archive: &Archive,
    data: String,
    previous: Option<ExportState>,
    out: Out,
    progress: impl Fn() + Sync,
) -> Result<Manifest> {
    let index = options.index.as_str();
    let template = out.write_json(TEMPLATE_FILE, &template(index))?;
    let exported_at = now();
    let mut state = ExportState {
        format: EXPORT_FORMAT.to_string(),
        index: index.to_string(),
        data: data.clone(),
        exported_at: exported_at.clone(),
        documents: BTreeMap::new(),
    };
    let mut counts = Counts::default();
    let mut bulk = BulkWriter::new(out, options.bulk_file_bytes);
    let known = previous.map(|p| p.documents).unwrap_or_default();
    // One commit throughout: every document of it enters the new state;
    // those new or changed are read.
    let snapshot = archive.snapshot();
    let live: BTreeMap<String, String> =
        snapshot.listed()?.into_iter().map(|listed| (listed.id, format!("{:016x}", listed.fingerprint))).collect();
    // Deletes first: what is gone is gone with the first file applied.
    for id in known.keys().filter(|id| !live.contains_key(*id)) {
        bulk.write(Action::Delete, &action_line("delete", index, id))?;
        counts.deleted += 1;
    }
    let mut batch = Vec::with_capacity(BATCH);
    let unread = snapshot.catalog_where(
        |listed| known.get(&listed.id) != live.get(&listed.id),
        |view| {
            batch.push(view);
            if batch.len() == BATCH {
                write_batch(&mut bulk, index, &mut batch, &mut counts, &progress)?;
            }
            Ok(())
        },
    )?;
    // A document sent without its text would be taken as exported: no
    // state is written, and the next export sends everything again.
    if let Some(first) = unread.into_iter().next() {
        return Err(first);
    }
    write_batch(&mut bulk, index, &mut batch, &mut counts, &progress)?;
    let files = bulk.finish()?;
    counts.documents = live.len() as u64;
    counts.unchanged = counts.documents - counts.indexed;
    state.documents = live;
    let state = out.write_json(STATE_FILE, &state)?;
    counts.output_bytes = template.bytes + state.bytes + files.iter().map(|f| f.file.bytes).sum::<u64>();
    let manifest = Manifest {
        format: EXPORT_FORMAT.to_string(),
        index: index.to_string(),
        data,
        exported_at,
        since: options.since.as_ref().map(|p| p.to_string_lossy().to_string()),
        template,
        bulk: files,
        state,
        counts,
    };
    out.write_json(MANIFEST_FILE, &manifest)?;
    Ok(manifest)
}

/// Analyze a batch of documents on every core, then write their actions in order.
fn write_batch(
    bulk: &mut BulkWriter,
    index: &str,
    batch: &mut Vec<DocumentView>,
    counts: &mut Counts,
    progress: &(impl Fn() + Sync),
) -> Result<()> {
    let lines: Vec<Vec<u8>> = batch
        .par_iter()
        .map(|view| {
            let mut lines = action_line("index", index, &view.id);
            lines.extend(source_of(view).to_string().into_bytes());
            lines.push(b'\n');
            progress();
            lines
        })
        .collect();
    for (view, lines) in batch.drain(..).zip(lines) {
        bulk.write(Action::Index, &lines)?;
        counts.indexed += 1;
        counts.on_request += u64::from(view.disclosure == Disclosure::OnRequest.as_str());
        counts.source_bytes += view.bytes;
    }
    Ok(())
}

/// The action line of a bulk request: `{"index":{"_index":…,"_id":…}}` and a line end.
fn action_line(action: &str, index: &str, id: &str) -> Vec<u8> {
    let mut names = Map::new();
    names.insert(action.to_string(), json!({ "_index": index, "_id": id }));
    let mut line = Value::Object(names).to_string().into_bytes();
    line.push(b'\n');
    line
}

/// The document OpenSearch indexes for `view`: the fields it has (none
/// empty), its text and what is made of it only when it is public, each
/// cut to [`MAX_TEXT_BYTES`] (with a warning).
pub fn source_of(view: &DocumentView) -> Value {
    let mut doc = Map::new();
    let mut put = |name: &str, value: Value| {
        let empty = match &value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        if !empty {
            doc.insert(name.to_string(), value);
        }
    };
    let date = view.published_date.as_ref().or(view.written_date.as_ref());
    put("id", json!(view.id));
    put("path", json!(view.path));
    put("title", json!(view.title));
    put("title_chars", json!(normalize(&view.title).text()));
    put("title_words", json!(words(&view.title)));
    put("index_no", json!(view.index_no));
    put("index_no_key", json!(view.index_no.as_deref().map(catalog::normalize_doc_number)));
    put("doc_number", json!(view.doc_number));
    put("doc_number_key", json!(view.doc_number.as_deref().map(catalog::doc_number_keys).unwrap_or_default()));
    put("publisher", json!(view.publisher.as_deref().map(catalog::split_publishers).unwrap_or_default()));
    put("category", json!(view.category));
    let line = catalog::catalog_line([&view.doc_number, &view.index_no, &view.publisher, &view.category]);
    put("meta_chars", json!(normalize(&line).text()));
    put("written_date", json!(view.written_date));
    put("published_date", json!(view.published_date));
    put("year", json!(date.and_then(|d| d.get(..4))));
    put("disclosure", json!(view.disclosure));
    put("validity", json!(view.validity));
    put("format", json!(view.format));
    put("bytes", json!(view.bytes));
    put("sha256", json!(view.sha256));
    if let Some(text) = view.public_text() {
        let text = capped(&view.id, "text", text);
        put("text", json!(text));
        put("chars", json!(capped(&view.id, "normalized text", &normalize(text).text())));
        put("words", json!(capped(&view.id, "words", &words(text))));
    }
    Value::Object(doc)
}

/// `field` of the document `id` cut to at most [`MAX_TEXT_BYTES`] at a
/// character boundary, with a warning when it is cut.
fn capped<'a>(id: &str, field: &str, value: &'a str) -> &'a str {
    if value.len() <= MAX_TEXT_BYTES {
        return value;
    }
    let mut cut = MAX_TEXT_BYTES;
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    tracing::warn!("document {id}: its {field} is longer than {MAX_TEXT_BYTES} bytes; only the first {cut} bytes are exported");
    &value[..cut]
}

/// The words and sub-words Yuelan's analyzer finds in `text`
/// ([`TokenSet::Words`]), in text order, joined by spaces.
fn words(text: &str) -> String {
    let mut tokenizer = ChineseTokenizer(TokenSet::Words);
    let mut stream = tokenizer.token_stream(text);
    let mut joined = String::with_capacity(text.len());
    while stream.advance() {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(&stream.token().text);
    }
    joined
}

/// The index template: settings (analyzers) and mappings. Built-in
/// analysis only: the `mapping` char filter folds what Yuelan's
/// normalization folds character by character ([`fold_mappings`]), so
/// that a query typed in traditional or full-width characters finds the
/// normalized text; the `standard` tokenizer makes one token of each Han
/// character (Unicode word boundaries, UAX #29, put none between
/// ideographs) and one of each run of letters or digits; `whitespace`
/// reads the words field as Yuelan wrote it. `index`: the index it is for
/// (its `index_patterns`). The highlighter may analyze a whole text field
/// (`index.highlight.max_analyzed_offset`: [`MAX_TEXT_BYTES`], at least
/// the UTF-16 code units of any field written).
pub fn template(index: &str) -> Value {
    let keyword = || json!({ "type": "keyword", "ignore_above": 8191 });
    let date = || json!({ "type": "date", "format": "strict_date" });
    let chars = || json!({ "type": "text", "analyzer": "yuelan_chars" });
    let words = || json!({ "type": "text", "analyzer": "whitespace", "index_options": "freqs" });
    let mut properties = Map::new();
    let keywords = [
        "id",
        "path",
        "title",
        "index_no",
        "index_no_key",
        "doc_number",
        "doc_number_key",
        "publisher",
        "category",
        "year",
        "disclosure",
        "validity",
        "format",
        "sha256",
    ];
    for name in keywords {
        properties.insert(name.to_string(), keyword());
    }
    for name in ["written_date", "published_date"] {
        properties.insert(name.to_string(), date());
    }
    for name in ["title_chars", "meta_chars", "chars"] {
        properties.insert(name.to_string(), chars());
    }
    for name in ["title_words", "words"] {
        properties.insert(name.to_string(), words());
    }
    properties.insert("bytes".to_string(), json!({ "type": "long" }));
    properties.insert("text".to_string(), json!({ "type": "text", "index": false }));
    json!({
        "index_patterns": [index],
        "template": {
            "settings": {
                "index.highlight.max_analyzed_offset": MAX_TEXT_BYTES,
                "analysis": {
                    "char_filter": { "yuelan_fold": { "type": "mapping", "mappings": fold_mappings() } },
                    "analyzer": {
                        "yuelan_chars": {
                            "type": "custom",
                            "char_filter": ["yuelan_fold"],
                            "tokenizer": "standard",
                            "filter": ["lowercase"]
                        }
                    }
                }
            },
            "mappings": { "dynamic": "strict", "properties": properties }
        },
        "_meta": { "format": EXPORT_FORMAT, "written_by": "indexer export opensearch" }
    })
}

/// The Unicode blocks a Chinese text's foldable characters come from: CJK
/// symbols and punctuation, enclosed CJK letters, CJK compatibility,
/// extension A, unified ideographs, compatibility ideographs, vertical
/// and small forms, half-width and full-width forms.
const FOLDED_BLOCKS: [(u32, u32); 8] = [
    (0x3000, 0x303F),
    (0x3200, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE10, 0xFE6F),
    (0xFF00, 0xFFEF),
    (0x2F00, 0x2FDF),
];

/// Rules `from => to` of the `mapping` char filter: each character of
/// [`FOLDED_BLOCKS`] that Yuelan's [`normalize`] changes, alone, to what
/// it becomes (國 => 国, `\uff12` => `2`). Characters that are not letters
/// or digits are written as `\uXXXX`, which the filter reads, so that no
/// `=`, `>` or space of a folded form is taken for the rule's syntax.
pub fn fold_mappings() -> Vec<String> {
    let side = |s: &str| -> String {
        let mut written = String::new();
        for c in s.chars() {
            if c.is_alphanumeric() {
                written.push(c);
            } else {
                for unit in c.encode_utf16(&mut [0u16; 2]) {
                    written.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        written
    };
    FOLDED_BLOCKS
        .iter()
        .flat_map(|&(first, last)| first..=last)
        .filter_map(char::from_u32)
        .filter_map(|c| {
            let alone = c.to_string();
            let folded = normalize(&alone).text();
            (!folded.is_empty() && folded != alone).then(|| format!("{} => {}", side(&alone), side(&folded)))
        })
        .collect()
}

/// Read and check the state `path` of the previous export of the data
/// folder `data` (absolute) into `index`.
fn load_state(path: &Path, data: &str, index: &str) -> Result<ExportState> {
    let bad = |reason: String| Error::ExportState { path: path.to_path_buf(), reason };
    let bytes = fs::read(path).map_err(|e| bad(format!("it cannot be read ({e})")))?;
    let state: ExportState = serde_json::from_slice(&bytes).map_err(|e| bad(format!("it is not the state.json of an export ({e})")))?;
    if state.format != EXPORT_FORMAT {
        return Err(bad(format!("it was written by export version {}, this is {EXPORT_FORMAT}", state.format)));
    }
    if state.data != data {
        return Err(bad(format!(
            "it is the state of the export of {}, not of {data} (a data folder moved or copied elsewhere needs a full export, without --since)",
            state.data
        )));
    }
    if state.index != index {
        return Err(bad(format!("it is the state of index {}, this export writes {index}", state.index)));
    }
    if let Some((id, _)) = state.documents.iter().find(|(id, fp)| !catalog::is_safe_id(id) || !is_fingerprint(fp)) {
        return Err(bad(format!("its entry for {id:?} is not an id with a 16-hex-digit fingerprint")));
    }
    Ok(state)
}

fn is_fingerprint(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The folder an export is written into: `OUT.partial-PID` beside `--out`
/// (`OUT`), renamed to `OUT` once complete, removed when the export fails
/// (dropped unfinished). One a killed export left behind may be deleted.
struct Partial {
    dir: PathBuf,
    out: PathBuf,
    done: bool,
}

impl Partial {
    /// Check that `out` is a new or empty folder, and make the folder
    /// beside it.
    fn create(out: &Path) -> Result<Partial> {
        let bad = |reason: String| Error::ExportOut { path: out.to_path_buf(), reason };
        match fs::metadata(out) {
            Ok(found) if !found.is_dir() => return Err(bad("it is a file, not a folder".to_string())),
            Ok(_) => {
                if fs::read_dir(out).map_err(|e| bad(e.to_string()))?.next().is_some() {
                    return Err(bad("it already holds files (an earlier export?)".to_string()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(bad(e.to_string())),
        }
        let name = out.file_name().ok_or_else(|| bad("it names no folder (give the folder's name, not . or ..)".to_string()))?;
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(|e| bad(e.to_string()))?;
        let dir = parent.join(format!("{}.partial-{}", name.to_string_lossy(), std::process::id()));
        fs::create_dir(&dir).map_err(|e| bad(format!("{}: {e}", dir.display())))?;
        Ok(Partial { dir, out: out.to_path_buf(), done: false })
    }

    /// Make the complete export `--out` (rename(2) replaces an empty folder).
    fn finish(mut self) -> Result<()> {
        fs::rename(&self.dir, &self.out).map_err(|e| Error::ExportOut { path: self.out.clone(), reason: e.to_string() })?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = fs::remove_dir_all(&self.dir) {
                tracing::warn!("the unfinished export {} could not be removed: {e}", self.dir.display());
            }
        }
    }
}

/// The characters an OpenSearch index name may not hold (its
/// `MetadataCreateIndexService.validateIndexOrAliasName`: the invalid
/// file name characters, `#` and `:`).
const NOT_IN_INDEX_NAMES: [char; 12] = ['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'];

/// Check that OpenSearch takes `name` for an index: not empty, lowercase,
/// none of [`NOT_IN_INDEX_NAMES`], not starting with `-`, `_` or `+`, not
/// `.` or `..`, at most 255 bytes. Error: [`Error::IndexName`].
pub fn check_index_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "it is empty".to_string()
    } else if name.len() > 255 {
        format!("it is {} bytes long, more than 255", name.len())
    } else if name.to_lowercase() != name {
        "it has capital letters".to_string()
    } else if let Some(c) = name.chars().find(|c| NOT_IN_INDEX_NAMES.contains(c)) {
        format!("it holds {c:?}")
    } else if name.starts_with(['-', '_', '+']) {
        "it starts with - _ or +".to_string()
    } else if name == "." || name == ".." {
        "it is . or ..".to_string()
    } else {
        return Ok(());
    };
    Err(Error::IndexName { name: name.to_string(), reason })
}

/// The export folder being written ([`Partial`]), for the export `out`.
#[derive(Clone, Copy)]
struct Out<'a> {
    dir: &'a Path,
    out: &'a Path,
}

impl Out<'_> {
    fn failed(&self, e: std::io::Error) -> Error {
        Error::ExportOut { path: self.out.to_path_buf(), reason: e.to_string() }
    }

    /// Write `value` as a whole file of indented JSON.
    fn write_json(&self, name: &str, value: &impl Serialize) -> Result<ExportFile> {
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| self.failed(e.into()))?;
        bytes.push(b'\n');
        fs::write(self.dir.join(name), &bytes).map_err(|e| self.failed(e))?;
        Ok(ExportFile { file: name.to_string(), bytes: bytes.len() as u64, sha256: sha256_hex(&bytes) })
    }
}

#[derive(Clone, Copy)]
enum Action {
    Index,
    Delete,
}

/// Bulk files written one after another, each closed before it would pass its limit.
struct BulkWriter<'a> {
    out: Out<'a>,
    limit: u64,
    open: Option<OpenBulk>,
    done: Vec<BulkFile>,
}

struct OpenBulk {
    writer: BufWriter<fs::File>,
    hasher: Sha256,
    file: BulkFile,
}

impl<'a> BulkWriter<'a> {
    fn new(out: Out<'a>, limit: u64) -> BulkWriter<'a> {
        BulkWriter { out, limit, open: None, done: Vec::new() }
    }

    /// Write one action (its action line, and its document line for `index`).
    fn write(&mut self, action: Action, lines: &[u8]) -> Result<()> {
        let full = self.open.as_ref().is_some_and(|open| open.file.file.bytes + lines.len() as u64 > self.limit);
        if full {
            self.close()?;
        }
        if self.open.is_none() {
            let name = format!("bulk-{:04}.ndjson", self.done.len() + 1);
            let created = fs::File::create(self.out.dir.join(&name)).map_err(|e| self.out.failed(e))?;
            let file = BulkFile { file: ExportFile { file: name, bytes: 0, sha256: String::new() }, index: 0, delete: 0 };
            self.open = Some(OpenBulk { writer: BufWriter::new(created), hasher: Sha256::new(), file });
        }
        let Some(open) = self.open.as_mut() else { return Ok(()) };
        open.writer.write_all(lines).map_err(|e| self.out.failed(e))?;
        open.hasher.update(lines);
        open.file.file.bytes += lines.len() as u64;
        match action {
            Action::Index => open.file.index += 1,
            Action::Delete => open.file.delete += 1,
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if let Some(mut open) = self.open.take() {
            open.writer.flush().map_err(|e| self.out.failed(e))?;
            open.file.file.sha256 = hex::encode(open.hasher.finalize());
            self.done.push(open.file);
        }
        Ok(())
    }

    /// Close the last file; the files written, in order.
    fn finish(mut self) -> Result<Vec<BulkFile>> {
        self.close()?;
        Ok(self.done)
    }
}

fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fold_maps_traditional_full_width_and_compatibility_characters_as_yuelan_does() {
        let mappings = fold_mappings();
        for rule in ["國 => 国", "條 => 条", "２ => 2", "Ａ => a", "\\u3000 => \\u0020", "\\uff08 => \\u0028"] {
            assert!(mappings.iter().any(|m| m == rule), "{rule} missing");
        }
        // U+F900, a compatibility ideograph: NFKC makes it 豈 (U+8C48), simplified 岂.
        assert!(mappings.contains(&"\u{F900} => 岂".to_string()), "a compatibility ideograph folds as its unified one");
        assert!(!mappings.iter().any(|m| m.starts_with("国 ")), "a simplified character is left as it is");
    }

    #[test]
    fn an_index_name_opensearch_refuses_is_refused_with_the_rule_it_breaks() {
        for good in ["yuelan", "linhe-2026", "临河区", "a.b", "x".repeat(255).as_str()] {
            assert!(check_index_name(good).is_ok(), "{good}");
        }
        let long = "x".repeat(256);
        let refused = [
            ("", "it is empty"),
            ("Linhe", "it has capital letters"),
            ("a b", "it holds ' '"),
            ("a,b", "it holds ','"),
            ("a#b", "it holds '#'"),
            ("a:b", "it holds ':'"),
            ("a/b", "it holds '/'"),
            ("a\\b", "it holds '\\\\'"),
            ("-a", "it starts with - _ or +"),
            ("_a", "it starts with - _ or +"),
            ("+a", "it starts with - _ or +"),
            ("..", "it is . or .."),
            (long.as_str(), "it is 256 bytes long, more than 255"),
        ];
        for (name, why) in refused {
            match check_index_name(name) {
                Err(Error::IndexName { name: named, reason }) => assert_eq!((named.as_str(), reason.as_str()), (name, why)),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_text_longer_than_the_cap_is_cut_at_a_character_and_the_highlighter_reads_all_of_what_is_written() {
        let text = "政府".repeat((MAX_TEXT_BYTES / 6) + 100);
        let view = DocumentView {
            id: "a1".into(),
            path: "a.txt".into(),
            title: "政府".into(),
            index_no: None,
            publisher: None,
            doc_number: None,
            written_date: None,
            published_date: None,
            category: None,
            disclosure: "public".into(),
            validity: None,
            format: "txt".into(),
            bytes: text.len() as u64,
            sha256: String::new(),
            text: Some(text.clone()),
            text_unavailable: false,
        };
        let source = source_of(&view);
        // 16 MiB is 3 × 5,592,405 bytes and one: the cut is at the character before.
        assert_eq!(source["text"].as_str().map(str::len), Some(16_777_215));
        assert_eq!(source["chars"].as_str().map(str::len), Some(16_777_215));
        assert!(source["words"].as_str().unwrap().len() <= MAX_TEXT_BYTES);
        assert!(text.starts_with(source["text"].as_str().unwrap()));
        let settings = &template("yuelan")["template"]["settings"];
        assert_eq!(settings["index.highlight.max_analyzed_offset"], json!(16_777_216));
    }

    #[test]
    fn an_on_request_document_has_its_catalog_fields_and_no_text() {
        let some = |s: &str| Some(s.to_string());
        let view = DocumentView {
            id: "a1".into(),
            path: "信访/答复.txt".into(),
            title: "關於臨河區".into(),
            index_no: some("ＬＨ-01"),
            publisher: some("临河区民政局、临河区财政局"),
            doc_number: some("临民发(2020)1号"),
            written_date: some("2020-01-01"),
            published_date: None,
            category: some("社会救助"),
            disclosure: "on_request".into(),
            validity: None,
            format: "txt".into(),
            bytes: 0,
            sha256: String::new(),
            text: some("答复全文"),
            text_unavailable: false,
        };
        let source = source_of(&view);
        let expected = json!({
            "id": "a1", "path": "信访/答复.txt", "title": "關於臨河區", "title_chars": "关于临河区", "title_words": "关于 临河区 临河 河区",
            "index_no": "ＬＨ-01", "index_no_key": "ＬＨ-01", "doc_number": "临民发(2020)1号",
            "doc_number_key": ["临民发〔2020〕1号", "临民发〔〕1号"], "publisher": ["临河区民政局", "临河区财政局"],
            "category": "社会救助", "meta_chars": "临民发(2020)1号\nlh-01\n临河区民政局、临河区财政局\n社会救助",
            "written_date": "2020-01-01", "year": "2020", "disclosure": "on_request", "format": "txt", "bytes": 0
        });
        assert_eq!(source, expected);
    }
}
