//! Withdrawal (撤回) of documents published by mistake: `indexer withdraw`.
//!
//! A withdrawal deletes the document from the index in a commit of its own
//! (a running server stops serving it within its reload delay), then merges
//! the segments that held it so that no term, title or original kept with
//! it is left in the index files (suggestions and "did you mean" read the
//! terms), and removes its blob when no other document holds it, once the
//! servers have had [`crate::store::READERS_GRACE`] to leave the commit
//! that still named it. A withdrawal stopped before its end (killed,
//! power lost) is listed already; the next ingest finishes it
//! ([`finish_interrupted`]) and says so among its warnings.
//!
//! The data folder keeps the list of withdrawals (`withdrawals.json`): the
//! document's id, source folder, path, title, time, reason, a hash of
//! its catalog fields and the sha256 of its original. Ingest reads it: a
//! record of that file, or with that original anywhere, whose catalog
//! fields hash the same is not indexed again, and is listed under
//! `withheld`; one whose catalog data changed (the archivist corrected it)
//! is indexed with a note, and the withdrawal stays listed to hold it down
//! again if that catalog data comes back. Undoing a withdrawal marks it
//! undone: the next ingest of its source reads its file again, brings the
//! document back and drops the entry.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, DocSetCollector};
use tantivy::index::SegmentId;
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::catalog::is_safe_id;
use crate::error::{Error, Result};
use crate::ingest::{file_query, lock, maintenance_writer, open_existing};
use crate::schema::{self, first_value, stored_catalog, Fields};
use crate::store::{sha256_hex, BlobStore};

/// The list of withdrawals, in the data folder.
pub const WITHDRAWALS_FILE: &str = "withdrawals.json";

/// One withdrawn document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// The document's id (`/documents/{id}`).
    pub id: String,
    /// The source folder its file was found in (absolute).
    pub source: String,
    /// Its file's path inside the source folder.
    pub path: String,
    /// How ingest lists it under `withheld`: its path, or `path#id` when
    /// its file holds other documents too.
    pub name: String,
    /// Its title, so that the list says what was withdrawn.
    pub title: String,
    /// When it was withdrawn (RFC 3339, UTC).
    pub time: String,
    /// Why, as the archivist wrote it.
    pub reason: String,
    /// sha256 of its catalog fields when it was withdrawn
    /// ([`catalog_hash`]): a record with other catalog data is indexed, and
    /// held down again if its catalog data comes back.
    pub catalog: String,
    /// sha256 of its original (empty when none was stored): the same file
    /// with the same catalog data stays down wherever it is found again
    /// (moved, copied, its source folder mounted elsewhere).
    #[serde(default)]
    pub sha256: String,
    /// sha256 of its text when the index keeps the text (a record of an
    /// export; empty otherwise): the same record with the same catalog
    /// data stays down when its export is written again with other bytes
    /// (other spacing or quoting, another row).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text_sha256: String,
    /// When the withdrawal was undone: the next ingest of its source
    /// brings the document back and drops this entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone: Option<String>,
}

impl Withdrawal {
    /// Whether this is the withdrawal of `record`: its file and its id,
    /// when that id names it for sure. The id of a record of a file
    /// holding several, unless the record declares it, is its row's: a row
    /// inserted above gives it to another record, which only its original
    /// ([`Withdrawals::withholding`]) can tell apart.
    pub fn is_of(&self, record: &RecordKey) -> bool {
        // A record with neither original nor text kept (依申请公开) has
        // nothing else to be known by.
        let sure = self.name == self.path || record.declared_id || (record.sha256.is_empty() && record.text_sha256.is_empty());
        sure && self.source == record.source && self.path == record.path && self.id == record.id
    }
}

/// A record as withdrawals are compared with it.
#[derive(Debug, Clone, Copy)]
pub struct RecordKey<'a> {
    /// The source folder of its file (absolute).
    pub source: &'a str,
    /// Its file's path inside the source folder.
    pub path: &'a str,
    /// Its id.
    pub id: &'a str,
    /// Whether the record declares its id (else it is derived from its
    /// file's path and its row).
    pub declared_id: bool,
    /// The sha256 of its original ("" when none).
    pub sha256: &'a str,
    /// The sha256 of its text ("" when not computed).
    pub text_sha256: &'a str,
}

/// The withdrawals of a data folder ([`WITHDRAWALS_FILE`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Withdrawals {
    /// Every withdrawal, in force or undone, oldest first.
    pub entries: Vec<Withdrawal>,
    /// The files (source, path) any entry names when the list was read:
    /// ingest asks about every document, and most files have none.
    #[serde(skip)]
    files: HashSet<(String, String)>,
    /// The originals (sha256) any entry names when the list was read.
    #[serde(skip)]
    originals: HashSet<String>,
    /// The texts (sha256) any entry names when the list was read.
    #[serde(skip)]
    texts: HashSet<String>,
}

impl Withdrawals {
    fn file(data_dir: &Path) -> PathBuf {
        data_dir.join(WITHDRAWALS_FILE)
    }

    /// Read the list (none yet is an empty list). A list that exists but
    /// cannot be read is an error: ingesting without it would publish
    /// withdrawn documents again.
    pub fn load(data_dir: &Path) -> Result<Withdrawals> {
        let path = Self::file(data_dir);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Withdrawals::default()),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()))(e)),
        };
        let list: Withdrawals = serde_json::from_slice(&bytes).map_err(|e| Error::Withdrawals { path, reason: e.to_string() })?;
        Ok(Withdrawals::of(list.entries))
    }

    /// The list of `entries`.
    fn of(entries: Vec<Withdrawal>) -> Withdrawals {
        let files = entries.iter().map(|w| (w.source.clone(), w.path.clone())).collect();
        let originals = entries.iter().map(|w| w.sha256.clone()).filter(|sha| !sha.is_empty()).collect();
        let texts = entries.iter().map(|w| w.text_sha256.clone()).filter(|sha| !sha.is_empty()).collect();
        Withdrawals { entries, files, originals, texts }
    }

    /// Whether an entry names a text ([`Withdrawal::text_sha256`]): only
    /// then is a record's text hashed to be compared.
    pub fn compares_texts(&self) -> bool {
        !self.texts.is_empty()
    }

    /// Whether an entry named the file `(source, path)` when the list was read.
    fn names(&self, source: &str, path: &str) -> bool {
        !self.files.is_empty() && self.files.contains(&(source.to_string(), path.to_string()))
    }

    /// Write the list atomically (written aside, synced, renamed).
    pub fn save(&self, data_dir: &Path) -> Result<()> {
        let path = Self::file(data_dir);
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::Withdrawals { path: path.clone(), reason: e.to_string() })?;
        let tmp = path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_data()?;
            fs::rename(&tmp, &path)?;
            fs::File::open(data_dir)?.sync_all()
        };
        write().map_err(Error::io(format!("writing {}", path.display())))
    }

    /// Withdrawals in force (not undone).
    pub fn active(&self) -> impl Iterator<Item = &Withdrawal> {
        self.entries.iter().filter(|w| w.undone.is_none())
    }

    /// The withdrawal in force that holds `record` down, if any: one whose
    /// catalog fields hash to `catalog()` ([`catalog_hash`], computed only
    /// for a record some withdrawal names) and that is of this record
    /// ([`Withdrawal::is_of`]: its file and id, whatever its bytes now), or
    /// of the same original or the same text found anywhere (moved,
    /// copied, repeated in an export, its export written again). The
    /// record's own withdrawal first. Another record of the same file with
    /// the same catalog fields but another original and another text (a
    /// recurring notice of an export) is not held.
    pub fn withholding(&self, record: &RecordKey, catalog: impl FnOnce() -> String) -> Option<&Withdrawal> {
        let named_text = !record.text_sha256.is_empty() && self.texts.contains(record.text_sha256);
        if !self.names(record.source, record.path) && !self.originals.contains(record.sha256) && !named_text {
            return None;
        }
        let hash = catalog();
        let holding = || self.active().filter(|w| w.catalog == hash);
        let same_original = |w: &&Withdrawal| !w.sha256.is_empty() && w.sha256 == record.sha256;
        let same_text = |w: &&Withdrawal| !w.text_sha256.is_empty() && w.text_sha256 == record.text_sha256;
        holding().find(|w| w.is_of(record)).or_else(|| holding().find(same_original)).or_else(|| holding().find(same_text))
    }

    /// Whether any withdrawal of the file `(source, path)` was undone.
    pub fn undone_in(&self, source: &str, path: &str) -> bool {
        self.names(source, path) && self.entries.iter().any(|w| w.undone.is_some() && w.source == source && w.path == path)
    }
}

/// The sha256 of a stored document's text when the index keeps it (a
/// record of an export, a text that is not its original decoded), else "".
pub fn stored_text_sha256(doc: &TantivyDocument, fields: &Fields) -> String {
    doc.get_first(fields.text).and_then(|v| v.as_str()).map(|text| sha256_hex(text.as_bytes())).unwrap_or_default()
}

/// The hash a withdrawal compares: the sha256 of a document's catalog
/// fields as stored ([`stored_catalog`]), its id left out (ingest settles
/// ids after it compares).
pub fn catalog_hash(doc: &TantivyDocument, fields: &Fields) -> String {
    let catalog = crate::catalog::Catalog { id: None, ..stored_catalog(doc, fields) };
    sha256_hex(serde_json::to_string(&catalog).unwrap_or_default().as_bytes())
}

/// The time now as RFC 3339, UTC.
fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default()
}

/// Withdraw the documents `requested` (ids) of the data folder `data_dir`
/// for `reason`, committed before this returns, and with them every copy
/// of them the index holds (the same original and catalog data: what
/// [`Withdrawals::withholding`] would hold down at the copy's next
/// reading), each listed as a withdrawal of its own. An id already
/// withdrawn is left as it is. Errors: [`Error::NoDocument`] for an id no
/// document has (nothing is withdrawn then), [`Error::Locked`] while an
/// ingest runs.
/// A withdrawal stopped before its end is finished first
/// ([`finish_interrupted`]). Returns the new withdrawals.
pub fn withdraw(data_dir: &Path, requested: &[String], reason: &str) -> Result<Vec<Withdrawal>> {
    let _lock = lock(data_dir)?;
    let index = open_existing(data_dir)?;
    let fields = Fields::of(&index.schema());
    let mut list = Withdrawals::load(data_dir)?;
    finish_interrupted(&index, data_dir, &list)?;
    let reader: IndexReader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
    let searcher = reader.searcher();
    let (mut withdrawn, mut purge, mut seen) = (Vec::new(), Purge::default(), HashSet::new());
    for id in requested.iter().filter(|id| seen.insert(*id)) {
        let holders = holders_of(&searcher, &fields, id)?;
        if holders.is_empty() {
            // Withdrawn already (and perhaps undone since, not yet back).
            match list.entries.iter_mut().find(|w| &w.id == id) {
                Some(listed) => listed.undone = None,
                None => return Err(Error::NoDocument(id.clone())),
            }
            continue;
        }
        for holder in holders {
            purge.take(&holder, id);
            withdrawn.push(entry(&searcher, &fields, holder, id, reason)?);
        }
    }
    take_copies(&searcher, &fields, &mut withdrawn, &mut purge, reason)?;
    list.entries.retain(|old| !withdrawn.iter().any(|new| new.id == old.id));
    list.entries.extend(withdrawn.iter().cloned());
    // Listed before the commit: a run killed in between leaves the
    // document listed, and withdrawing it again finishes the work.
    list.save(data_dir)?;
    let committed = purge.run(&index, &fields)?;
    let blob_store = BlobStore::new(data_dir);
    reader.reload()?;
    blob_store.remove_unheld(purge.blobs, &reader.searcher(), &fields, &index, committed)?;
    Ok(withdrawn)
}

/// Take the copies of the documents `withdrawn` for `reason`: the other
/// documents their withdrawals hold down (the same original with the same
/// catalog data: files, or records of exports), found among those with
/// the same title. Without this they stayed served until their files were
/// read again.
fn take_copies(searcher: &Searcher, fields: &Fields, withdrawn: &mut Vec<Withdrawal>, purge: &mut Purge, reason: &str) -> Result<()> {
    let new = Withdrawals::of(withdrawn.clone());
    let titles: HashSet<String> = withdrawn.iter().map(|w| w.title.clone()).collect();
    let copies: Vec<String> = same_title(searcher, &titles)?.into_iter().filter(|id| !purge.ids.contains(id)).collect();
    for copy in copies {
        for holder in holders_of(searcher, fields, &copy)?.into_iter().filter(|h| h.held_by(&new, fields)) {
            purge.take(&holder, &copy);
            withdrawn.push(entry(searcher, fields, holder, &copy, reason)?);
        }
    }
    Ok(())
}

/// A document of the index holding an id, as a withdrawal reads it.
struct Holder {
    /// The segment it is in: merged after its deletion.
    segment: SegmentId,
    /// Its source folder (absolute).
    source: String,
    /// The sha256 of its original when the original is a blob, else empty.
    blob: String,
    doc: TantivyDocument,
}

impl Holder {
    /// Whether a withdrawal in force of `list` holds this document down
    /// ([`Withdrawals::withholding`]).
    fn held_by(&self, list: &Withdrawals, fields: &Fields) -> bool {
        let text = |field| self.doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default();
        // Whether its id was declared is not kept: taken as not, a record
        // of an export is known by its original or its text, never by the
        // row it moved into.
        let (path, id, sha256) = (text(fields.path), text(fields.id), text(fields.sha256));
        let text_sha256 = stored_text_sha256(&self.doc, fields);
        let record = RecordKey { source: &self.source, path, id, declared_id: false, sha256, text_sha256: &text_sha256 };
        list.withholding(&record, || catalog_hash(&self.doc, fields)).is_some()
    }
}

/// What a withdrawal deletes and purges.
#[derive(Default)]
struct Purge {
    /// Ids of the live records to delete.
    ids: Vec<String>,
    /// Segments to merge once they are deleted: the ones that held them,
    /// and any still holding the terms of a record deleted before.
    segments: HashSet<SegmentId>,
    /// The blobs of the records deleted (removed unless another holds them).
    blobs: Vec<String>,
}

impl Purge {
    /// Take the live record `holder`, of id `id`.
    fn take(&mut self, holder: &Holder, id: &str) {
        if !self.ids.iter().any(|taken| taken == id) {
            self.ids.push(id.to_string());
        }
        self.segments.insert(holder.segment);
        self.blobs.extend(Some(holder.blob.clone()).filter(|b| !b.is_empty()));
    }

    /// Delete the ids in a commit, then merge the segments so that
    /// nothing of them is left in the index files. Returns when the
    /// deletions were committed.
    fn run(&self, index: &Index, fields: &Fields) -> Result<Instant> {
        let mut writer = maintenance_writer(index)?;
        for id in &self.ids {
            writer.delete_term(Term::from_field_text(fields.id, id));
        }
        schema::commit(&mut writer)?;
        let committed = Instant::now();
        // A segment left with no document was dropped by the commit.
        let remaining: Vec<_> = index.searchable_segment_ids()?.into_iter().filter(|s| self.segments.contains(s)).collect();
        if !remaining.is_empty() {
            writer.merge(&remaining).wait()?;
        }
        writer.wait_merging_threads()?;
        Ok(committed)
    }
}

/// The documents holding the id `id` (none for an id no document could have).
fn holders_of(searcher: &Searcher, fields: &Fields, id: &str) -> Result<Vec<Holder>> {
    if !is_safe_id(id) {
        return Ok(Vec::new());
    }
    let query = TermQuery::new(Term::from_field_text(fields.id, id), IndexRecordOption::Basic);
    let mut holders = Vec::new();
    for address in searcher.search(&query, &DocSetCollector)? {
        let segment = searcher.segment_reader(address.segment_ord);
        // The source and blob are fast columns only, not stored.
        let column = |name: &str| -> Result<String> {
            let column = segment.fast_fields().str(name)?;
            Ok(column.map(|c| first_value(&c, address.doc_id)).unwrap_or_default())
        };
        let (source, blob) = (column("source")?, column("blob")?);
        holders.push(Holder { segment: segment.segment_id(), source, blob, doc: searcher.doc(address)? });
    }
    Ok(holders)
}

/// Ids of the live documents titled one of `titles` (one look-up in each
/// segment's title dictionary, then a scan of its ordinals: milliseconds
/// at 10⁶ documents). Equal catalog data means an equal title, so every
/// copy of a document is among them.
fn same_title(searcher: &Searcher, titles: &HashSet<String>) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let (Some(title_column), Some(id_column)) = (fast.str("title_raw")?, fast.str("id")?) else { continue };
        let mut ords = HashSet::new();
        for title in titles {
            ords.extend(title_column.dictionary().term_ord(title).map_err(Error::io("reading the index's titles"))?);
        }
        if ords.is_empty() {
            continue;
        }
        for doc in segment.doc_ids_alive() {
            if title_column.term_ords(doc).any(|ord| ords.contains(&ord)) {
                ids.push(first_value(&id_column, doc));
            }
        }
    }
    Ok(ids)
}

/// The withdrawal of the document `holder` (id `id`).
fn entry(searcher: &Searcher, fields: &Fields, holder: Holder, id: &str, reason: &str) -> Result<Withdrawal> {
    let Holder { doc, source, .. } = holder;
    let text = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let path = text(fields.path);
    let siblings = searcher.search(&*file_query(fields, &source, &path), &Count)?;
    Ok(Withdrawal {
        id: id.to_string(),
        name: if siblings > 1 { format!("{path}#{id}") } else { path.clone() },
        source,
        path,
        title: text(fields.title_raw),
        time: now(),
        reason: reason.to_string(),
        catalog: catalog_hash(&doc, fields),
        sha256: text(fields.sha256),
        text_sha256: stored_text_sha256(&doc, fields),
        undone: None,
    })
}

/// Finish the withdrawals that an `indexer withdraw` stopped before its
/// end (killed, power lost) left listed but not done. A record still in
/// `index` that a withdrawal in force holds down (by the rule of
/// [`Withdrawals::withholding`]) is deleted and purged as [`withdraw`]
/// does; a segment that still holds the terms of a withdrawn record
/// deleted before the kill is merged; and the original of a withdrawal in
/// force that no document holds any more is removed from the blob store.
/// Ingest and withdraw call this under the ingest lock before they open
/// their writer. Returns the withdrawals it finished.
pub fn finish_interrupted(index: &Index, data_dir: &Path, list: &Withdrawals) -> Result<Vec<Withdrawal>> {
    if list.active().next().is_none() {
        return Ok(Vec::new());
    }
    let fields = Fields::of(&index.schema());
    let reader: IndexReader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
    let Unfinished { withdrawals, mut purge } = unfinished(&reader.searcher(), &fields, list)?;
    let blob_store = BlobStore::new(data_dir);
    purge.blobs.extend(list.active().map(|w| w.sha256.clone()).filter(|sha| !sha.is_empty() && blob_store.contains(sha)));
    let committed = match withdrawals.is_empty() {
        true => Instant::now(),
        false => purge.run(index, &fields)?,
    };
    reader.reload()?;
    blob_store.remove_unheld(purge.blobs, &reader.searcher(), &fields, index, committed)?;
    Ok(withdrawals)
}

/// What withdrawals stopped before their end left in an index.
pub(crate) struct Unfinished {
    /// The withdrawals in force whose records are still in the index, live
    /// or as the terms of a deleted document no merge has dropped yet.
    pub withdrawals: Vec<Withdrawal>,
    /// What finishing them deletes and merges.
    purge: Purge,
}

/// Find in `searcher`'s commit what the withdrawals of `list` stopped
/// before their end left: a live record a withdrawal in force holds down
/// (the rule of [`Withdrawals::withholding`]), or a segment still holding
/// the terms of a withdrawn record deleted before the kill.
pub(crate) fn unfinished(searcher: &Searcher, fields: &Fields, list: &Withdrawals) -> Result<Unfinished> {
    let mut left = Unfinished { withdrawals: Vec::new(), purge: Purge::default() };
    for w in list.active() {
        let holders = holders_of(searcher, fields, &w.id)?;
        let mut stopped = false;
        for holder in holders.iter().filter(|h| h.held_by(list, fields)) {
            left.purge.take(holder, &w.id);
            stopped = true;
        }
        // Stopped after its commit, before its merge: a segment holds the
        // deleted record's terms (its title among them) and no live one.
        let term = Term::from_field_text(fields.id, &w.id);
        for segment in searcher.segment_readers().iter().filter(|s| s.has_deletes()) {
            let holds_live = holders.iter().any(|h| h.segment == segment.segment_id());
            let term_info = segment.inverted_index(fields.id)?.get_term_info(&term).map_err(Error::io("reading the index's ids"))?;
            if !holds_live && term_info.is_some() {
                left.purge.segments.insert(segment.segment_id());
                stopped = true;
            }
        }
        if stopped {
            left.withdrawals.push(w.clone());
        }
    }
    Ok(left)
}

/// Undo the withdrawal of `id`: the next ingest of its source reads its
/// file again and brings it back. Errors: [`Error::NotWithdrawn`] when
/// `id` is not withdrawn; [`Error::Locked`] while an ingest runs.
pub fn undo(data_dir: &Path, id: &str) -> Result<Withdrawal> {
    let _lock = lock(data_dir)?;
    let mut list = Withdrawals::load(data_dir)?;
    let Some(found) = list.entries.iter_mut().find(|w| w.id == id && w.undone.is_none()) else {
        return Err(Error::NotWithdrawn(id.to_string()));
    };
    found.undone = Some(now());
    let undone = found.clone();
    list.save(data_dir)?;
    Ok(undone)
}
