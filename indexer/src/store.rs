//! Where originals are kept. A short one (most of an archive: a notice is
//! a few KB) is kept with its document in the index's document store,
//! where zstd compresses it with its neighbours; a long one is a blob: a
//! file of its own, kept once however many documents share it,
//! zstd-compressed under the sha256 of its bytes. Either is verified
//! against its sha256 when read.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tantivy::collector::Count;
use tantivy::directory::{Directory, DirectoryLock, META_LOCK};
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Index, Searcher, TantivyDocument, Term};

use crate::error::{Error, Result};
use crate::schema::Fields;

/// Originals up to this many bytes are kept with their document. A blob
/// file takes a whole file-system block (4 KiB) however small it is, and
/// a file of its own per notice made an archive of 10⁶ notices spend
/// most of its ingest creating files; past this size a blob costs little
/// more than its bytes and keeps the document store's blocks small. Every
/// read of a stored document (each hit of a search) copies the original
/// kept with it: at 64 KiB, laws of 16 KB on average halved the requests/s
/// of a 16-client load, so only short originals (a notice: 2 KB) are kept.
pub const KEPT_WITH_DOCUMENT: usize = 8 << 10;

/// The original of a stored document, verified against its `sha256`:
/// kept with the document, or read from the blob store. `None` when the
/// document serves none or its blob is missing.
pub fn original_of(doc: &TantivyDocument, fields: &Fields, blobs: &BlobStore) -> Result<Option<Vec<u8>>> {
    let sha = doc.get_first(fields.sha256).and_then(|v| v.as_str()).unwrap_or_default();
    let Some(kept) = doc.get_first(fields.original).and_then(|v| v.as_bytes()) else {
        return blobs.get(sha);
    };
    if sha256_hex(kept) != sha {
        return Err(Error::CorruptBlob(sha.to_string()));
    }
    Ok(Some(kept.to_vec()))
}

/// How long the search servers of a data folder are given to take up a
/// new commit before the blobs only the commit before it named are
/// removed: a server looks at `meta.json` every 500 ms (tantivy's reload
/// policy), then opens and warms the new commit (0.33 s at 10⁶ notices,
/// README), with room for a busy machine. A server still on the old
/// commit answers 404 for such an original until it reloads.
pub const READERS_GRACE: Duration = Duration::from_secs(2);

/// What removing originals after the commit made at `committed` takes:
/// [`READERS_GRACE`] since then (slept here), then tantivy's meta lock, as
/// its own garbage collection takes it, so that a copy of the folder made
/// under it holds every original its commit names. Remove them while the
/// returned guard lives.
pub fn removal_lock(index: &Index, committed: Instant) -> Result<DirectoryLock> {
    if let Some(left) = (committed + READERS_GRACE).checked_duration_since(Instant::now()) {
        std::thread::sleep(left);
    }
    Ok(index.directory().acquire_lock(&META_LOCK).map_err(tantivy::TantivyError::from)?)
}

/// Whether a document of `searcher` holds the original `sha` as its blob.
pub fn is_held(searcher: &Searcher, fields: &Fields, sha: &str) -> tantivy::Result<bool> {
    let query = TermQuery::new(Term::from_field_text(fields.blob, sha), IndexRecordOption::Basic);
    Ok(searcher.search(&query, &Count)? > 0)
}

/// zstd level for originals. Measured on the laws corpus, level 9 saves
/// 6% over level 3 at about three times the compression time.
const LEVEL: i32 = 3;

/// Hex sha256 of `bytes`, the address of an original.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The `blobs/` folder of a data folder.
#[derive(Debug)]
pub struct BlobStore {
    root: PathBuf,
    /// Folders that gained a blob since the last [`BlobStore::sync`].
    touched: Mutex<HashSet<PathBuf>>,
}

impl BlobStore {
    pub fn new(data_dir: &Path) -> Self {
        BlobStore { root: data_dir.join("blobs"), touched: Mutex::new(HashSet::new()) }
    }

    /// Where the original whose sha256 is `sha` (hex) is kept; none for
    /// a string that is not a lowercase hex sha256.
    pub(crate) fn path_of(&self, sha: &str) -> Option<PathBuf> {
        // Only a well-formed hex digest names a blob: nothing a request sends
        // can make this reach another path.
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return None;
        }
        Some(self.root.join(&sha[..2]).join(format!("{}.zst", &sha[2..])))
    }

    /// Whether the original with this sha256 is stored.
    pub fn contains(&self, sha: &str) -> bool {
        self.path_of(sha).is_some_and(|p| p.exists())
    }

    /// Store `bytes` (whose sha256 is `sha`) unless already present. The
    /// file appears atomically (written aside, synced, renamed), so a
    /// killed ingest never leaves a half blob under a real name; its
    /// folder is synced by [`BlobStore::sync`] before the commit that
    /// references it.
    pub fn put(&self, sha: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path_of(sha).ok_or_else(|| Error::CorruptBlob(sha.to_string()))?;
        if path.exists() {
            return Ok(());
        }
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
        let compressed = zstd::bulk::compress(bytes, LEVEL).map_err(Error::io(format!("compressing original {sha}")))?;
        // A name of its own per write: two identical files in one batch are
        // stored by two threads at once.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let tmp = path.with_extension(format!("tmp{}-{}", std::process::id(), WRITES.fetch_add(1, Ordering::Relaxed)));
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&compressed)?;
            f.sync_data()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(Error::io(format!("writing {}", path.display())))?;
        if let Ok(mut touched) = self.touched.lock() {
            touched.insert(dir.to_path_buf());
        }
        Ok(())
    }

    /// Make the blobs stored since the last call survive a power loss:
    /// sync the folders their names were written to.
    pub fn sync(&self) -> Result<()> {
        let folders: Vec<PathBuf> = self.touched.lock().map(|mut t| t.drain().collect()).unwrap_or_default();
        if folders.is_empty() {
            return Ok(());
        }
        // The root too: a blob's folder may be new.
        for folder in folders.iter().chain(std::iter::once(&self.root)) {
            let synced = fs::File::open(folder).and_then(|f| f.sync_all());
            synced.map_err(Error::io(format!("syncing {}", folder.display())))?;
        }
        Ok(())
    }

    /// Read an original back, checking it against its address.
    pub fn get(&self, sha: &str) -> Result<Option<Vec<u8>>> {
        let Some(path) = self.path_of(sha) else { return Ok(None) };
        let compressed = match fs::read(&path) {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()))(e)),
        };
        let bytes = zstd::stream::decode_all(compressed.as_slice()).map_err(|_| Error::CorruptBlob(sha.to_string()))?;
        if sha256_hex(&bytes) != sha {
            return Err(Error::CorruptBlob(sha.to_string()));
        }
        Ok(Some(bytes))
    }

    /// Delete `sha`'s blob (none stored is no error).
    pub fn remove(&self, sha: &str) -> Result<()> {
        let Some(path) = self.path_of(sha) else { return Ok(()) };
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(format!("removing {}", path.display()))(e)),
            _ => Ok(()),
        }
    }

    /// Delete the blobs of `released` (sha256s) that no document of
    /// `searcher` holds, under [`removal_lock`] for the commit made at
    /// `committed`; nothing is waited for when every one is still held.
    pub fn remove_unheld(
        &self,
        released: Vec<String>,
        searcher: &Searcher,
        fields: &Fields,
        index: &Index,
        committed: Instant,
    ) -> Result<()> {
        let mut unheld = Vec::new();
        for sha in released {
            if !is_held(searcher, fields, &sha)? {
                unheld.push(sha);
            }
        }
        if unheld.is_empty() {
            return Ok(());
        }
        let _meta = removal_lock(index, committed)?;
        unheld.iter().try_for_each(|sha| self.remove(sha))
    }

    /// Delete every blob whose sha256 `keep` refuses, and any temporary
    /// file a killed run left behind. Returns how many files were removed.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) -> Result<usize> {
        let mut removed = 0;
        let Ok(dirs) = fs::read_dir(&self.root) else { return Ok(0) };
        for dir in dirs.flatten() {
            let prefix = dir.file_name().to_string_lossy().to_string();
            let Ok(files) = fs::read_dir(dir.path()) else { continue };
            for file in files.flatten() {
                let name = file.file_name().to_string_lossy().to_string();
                let sha = name.strip_suffix(".zst").map(|rest| format!("{prefix}{rest}"));
                if sha.is_some_and(|s| keep(&s)) {
                    continue;
                }
                fs::remove_file(file.path()).map_err(Error::io(format!("removing {}", file.path().display())))?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn originals_come_back_byte_identical_and_are_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let bytes: Vec<u8> = (0..5000u32).flat_map(|i| i.to_le_bytes()).collect();
        let sha = sha256_hex(&bytes);
        store.put(&sha, &bytes).unwrap();
        store.put(&sha, &bytes).unwrap();
        assert_eq!(store.get(&sha).unwrap().unwrap(), bytes);
        let files = walkdir::WalkDir::new(dir.path()).into_iter().flatten().filter(|e| e.file_type().is_file()).count();
        assert_eq!(files, 1);
    }

    #[test]
    fn the_same_original_stored_by_many_threads_at_once_is_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let bytes = vec![7u8; 100_000];
        let sha = sha256_hex(&bytes);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| store.put(&sha, &bytes).unwrap());
            }
        });
        assert_eq!(store.get(&sha).unwrap().unwrap(), bytes);
        let files = walkdir::WalkDir::new(dir.path()).into_iter().flatten().filter(|e| e.file_type().is_file()).count();
        assert_eq!(files, 1);
    }

    #[test]
    fn a_damaged_blob_is_reported_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let sha = sha256_hex(b"original");
        store.put(&sha, b"original").unwrap();
        let path = store.path_of(&sha).unwrap();
        fs::write(&path, zstd::bulk::compress(b"tampered", 3).unwrap()).unwrap();
        assert!(matches!(store.get(&sha), Err(Error::CorruptBlob(_))));
    }

    #[test]
    fn names_that_are_not_digests_reach_no_file() {
        let store = BlobStore::new(Path::new("/tmp"));
        assert!(store.path_of("../../etc/passwd").is_none());
        assert!(store.get("..%2f..%2fetc").unwrap().is_none());
    }

    #[test]
    fn retain_drops_unreferenced_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let (a, b) = (sha256_hex(b"a"), sha256_hex(b"b"));
        store.put(&a, b"a").unwrap();
        store.put(&b, b"b").unwrap();
        assert_eq!(store.retain(|sha| sha == a).unwrap(), 1);
        assert!(store.get(&a).unwrap().is_some());
        assert!(store.get(&b).unwrap().is_none());
    }
}
