//! The files an index holds for one source folder, one at a time in the
//! byte order of their paths, read from each segment's `path` terms and
//! fast columns. A run walks them beside the source folder's files
//! ([`super::walk`]), so nothing is held per indexed file: memory is a
//! cursor per segment, whatever the size of the archive.

use std::cmp::Ordering;
use std::sync::Arc;

use tantivy::columnar::{Column, StrColumn};
use tantivy::schema::IndexRecordOption;
use tantivy::termdict::TermStreamer;
use tantivy::{DocId, DocSet, InvertedIndexReader, Searcher, SegmentReader, TERMINATED};

use crate::error::{Error, Result};
use crate::schema::Fields;

/// What failed when reading the index fails.
const READING: &str = "reading the list of indexed files";

/// What the index holds of one file (all its documents together).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct IndexedFile {
    pub rel: String,
    /// The stamp and fingerprint its documents were indexed with (0 when
    /// they disagree, which no file has: it then counts as changed).
    pub stamp: u64,
    pub fingerprint: u64,
    /// Names of its withheld records.
    pub withheld: Vec<String>,
    /// sha256 of the blobs its documents hold.
    pub blobs: Vec<String>,
}

/// The path terms and ingest columns of every segment of a searcher.
pub(super) struct PathIndex<'s> {
    segments: Vec<SegmentKeys<'s>>,
}

struct SegmentKeys<'s> {
    reader: &'s SegmentReader,
    paths: Arc<InvertedIndexReader>,
    source: Option<StrColumn>,
    stamp: Option<Column<u64>>,
    fingerprint: Option<Column<u64>>,
    withheld: Option<StrColumn>,
    blob: Option<StrColumn>,
}

impl<'s> PathIndex<'s> {
    pub fn open(searcher: &'s Searcher, fields: &Fields) -> Result<PathIndex<'s>> {
        let segments = searcher
            .segment_readers()
            .iter()
            .map(|reader| {
                let fast = reader.fast_fields();
                Ok(SegmentKeys {
                    reader,
                    paths: reader.inverted_index(fields.path)?,
                    source: fast.str("source")?,
                    stamp: fast.u64("stamp").ok(),
                    fingerprint: fast.u64("fingerprint").ok(),
                    withheld: fast.str("withheld")?,
                    blob: fast.str("blob")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(PathIndex { segments })
    }

    /// The files of source folder `source`, in path order.
    pub fn files_of(&self, source: &str) -> Result<IndexedFiles<'_>> {
        let mut cursors = Vec::new();
        for (segment, keys) in self.segments.iter().enumerate() {
            let Some(column) = &keys.source else { continue };
            let Some(source_ord) = column.dictionary().term_ord(source).map_err(Error::io(READING))? else { continue };
            let mut terms = keys.paths.terms().stream().map_err(Error::io(READING))?;
            if terms.advance() {
                cursors.push(Cursor { segment, source_ord, terms, more: true });
            }
        }
        Ok(IndexedFiles { index: self, cursors, peeked: None })
    }
}

/// A segment's path terms, positioned on the next unread one.
struct Cursor<'a> {
    segment: usize,
    source_ord: u64,
    terms: TermStreamer<'a>,
    /// False once the last term has been read.
    more: bool,
}

/// Files of one source folder in path order; see [`IndexedFiles::take`].
pub(super) struct IndexedFiles<'a> {
    index: &'a PathIndex<'a>,
    cursors: Vec<Cursor<'a>>,
    peeked: Option<IndexedFile>,
}

impl IndexedFiles<'_> {
    /// The indexed file at `rel`, if any, after handing every indexed file
    /// whose path comes before `rel` to `gone` (files no longer walked).
    /// Successive calls must ask for increasing paths.
    pub fn take(&mut self, rel: &str, mut gone: impl FnMut(IndexedFile)) -> Result<Option<IndexedFile>> {
        while let Some(file) = self.peek()? {
            match file.rel.as_str().cmp(rel) {
                Ordering::Less => gone(self.peeked.take().expect("peeked")),
                Ordering::Equal => return Ok(self.peeked.take()),
                Ordering::Greater => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Hand every file not yet taken to `gone`.
    pub fn rest(&mut self, mut gone: impl FnMut(IndexedFile)) -> Result<()> {
        while self.peek()?.is_some() {
            gone(self.peeked.take().expect("peeked"));
        }
        Ok(())
    }

    fn peek(&mut self) -> Result<Option<&IndexedFile>> {
        while self.peeked.is_none() {
            let Some(rel) = self.cursors.iter().map(|c| c.terms.key()).min().map(<[u8]>::to_vec) else { return Ok(None) };
            let mut file: Option<IndexedFile> = None;
            for cursor in self.cursors.iter_mut().filter(|c| c.terms.key() == rel.as_slice()) {
                let keys = &self.index.segments[cursor.segment];
                let mut docs =
                    keys.paths.read_postings_from_terminfo(cursor.terms.value(), IndexRecordOption::Basic).map_err(Error::io(READING))?;
                let mut doc = docs.doc();
                while doc != TERMINATED {
                    if keys.holds(doc, cursor.source_ord) {
                        keys.add_to(&mut file, &rel, doc);
                    }
                    doc = docs.advance();
                }
                cursor.more = cursor.terms.advance();
            }
            self.cursors.retain(|c| c.more);
            self.peeked = file;
        }
        Ok(self.peeked.as_ref())
    }
}

impl SegmentKeys<'_> {
    /// Whether `doc` is alive and comes from the source folder `source_ord`.
    fn holds(&self, doc: DocId, source_ord: u64) -> bool {
        !self.reader.is_deleted(doc) && self.source.as_ref().is_some_and(|c| c.term_ords(doc).next() == Some(source_ord))
    }

    /// Fold document `doc` into what is known of its file.
    fn add_to(&self, file: &mut Option<IndexedFile>, rel: &[u8], doc: DocId) {
        let value = |column: &Option<Column<u64>>| column.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
        let (stamp, fingerprint) = (value(&self.stamp), value(&self.fingerprint));
        let file = file.get_or_insert_with(|| IndexedFile {
            rel: String::from_utf8_lossy(rel).into_owned(),
            stamp,
            fingerprint,
            withheld: Vec::new(),
            blobs: Vec::new(),
        });
        if (file.stamp, file.fingerprint) != (stamp, fingerprint) {
            (file.stamp, file.fingerprint) = (0, 0);
        }
        for (column, into) in [(&self.withheld, &mut file.withheld), (&self.blob, &mut file.blobs)] {
            for value in all_values(column.as_ref(), doc) {
                if !into.contains(&value) {
                    into.push(value);
                }
            }
        }
    }
}

/// Every value of a keyword column for `doc`.
fn all_values(column: Option<&StrColumn>, doc: DocId) -> Vec<String> {
    let Some(column) = column else { return Vec::new() };
    column
        .term_ords(doc)
        .filter_map(|ord| {
            let mut value = String::new();
            column.ord_to_str(ord, &mut value).ok().filter(|found| *found).map(|_| value)
        })
        .collect()
}
