//! The tantivy `Directory` of a data folder's index, for the ingest that
//! writes it and for the servers that read it, side by side or from a
//! read-only view (a read-only mount, another user).
//!
//! Three things differ from tantivy's `MmapDirectory`, which it wraps:
//!
//! - Some files are read with positioned reads, not mapped ([`Reads`]): a
//!   mapped file keeps every page ever read of it in the process's
//!   resident memory, a positioned read only what is in use.
//! - `meta.json` and `.managed.json` are written readable by everyone the
//!   umask allows, like the segment files (tantivy writes them through a
//!   temporary file created `0600`: a server running as another user could
//!   not open the index).
//! - Tantivy's meta lock (`.tantivy-meta.lock`), which a reader takes while
//!   it opens the segment files of a commit so that the writer's garbage
//!   collection, which takes it too, removes none of them meanwhile, is
//!   opened for writing (created when missing). Where that is refused (a
//!   read-only mount, a folder of another user) the file is locked through a
//!   read-only handle instead (a `flock` needs no write access), and when
//!   there is no such file and none can be made, no lock is taken: no writer
//!   on this machine collects garbage in that folder (a replica filled by
//!   `rsync`, which deletes nothing before a grace period). `meta.json` is
//!   replaced by an atomic rename (`Directory::atomic_write`), so a reader
//!   never reads half of one either way; the lock only keeps the segment
//!   files in place.

use std::fmt;
use std::fs::{File, Permissions};
use std::io::{self, ErrorKind, Write};
use std::ops::Range;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::error::{DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback, WatchHandle, WritePtr, META_LOCK,
};
use tantivy::HasLen;

/// A data folder's `index/`: an `MmapDirectory` whose commit files are
/// readable by other users and whose meta lock works on a read-only view.
#[derive(Clone)]
pub struct IndexDirectory {
    inner: MmapDirectory,
    root: PathBuf,
    reads: Reads,
}

/// Which files of an index are read with positioned reads (`pread`)
/// rather than mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// A server: the document stores only. A search reads a stored
    /// document's compressed block once and keeps it decompressed in
    /// tantivy's store cache (bounded in blocks per segment); suggestions
    /// read many. Posting, position, term and column files stay mapped:
    /// their pages are read again and again, and a positioned read copies
    /// a whole posting list per term.
    Stores,
    /// An ingest: every file. A merge reads each input once, term by
    /// term; mapped, every page of its inputs would stay resident until
    /// the merge ends (a merge of 350,000 notices reads 800 MB).
    Everything,
}

impl fmt::Debug for IndexDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IndexDirectory({})", self.root.display())
    }
}

impl IndexDirectory {
    /// Open the existing folder `root`, reading the files `reads` names
    /// with positioned reads.
    pub fn open(root: &Path, reads: Reads) -> Result<IndexDirectory, OpenDirectoryError> {
        Ok(IndexDirectory { inner: MmapDirectory::open(root)?, root: root.to_path_buf(), reads })
    }

    /// Whether the index file `path` is read with positioned reads.
    fn positioned(&self, path: &Path) -> bool {
        match self.reads {
            Reads::Stores => path.extension().is_some_and(|e| e == STORE_EXTENSION),
            Reads::Everything => true,
        }
    }
}

/// The file extension of tantivy's document stores.
const STORE_EXTENSION: &str = "store";

/// An index file read with `pread`: each read copies only its range.
#[derive(Debug)]
struct PositionedFile {
    file: File,
    len: usize,
}

impl HasLen for PositionedFile {
    fn len(&self) -> usize {
        self.len
    }
}

impl FileHandle for PositionedFile {
    fn read_bytes(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        let mut bytes = vec![0; range.len()];
        self.file.read_exact_at(&mut bytes, range.start as u64)?;
        Ok(OwnedBytes::new(bytes))
    }
}

/// Mode asked for the commit files; the umask takes off what it forbids,
/// as for every other file of the index.
const COMMIT_FILE_MODE: u32 = 0o666;

/// Whether `error` says this process may not write there (rather than
/// that something is broken).
pub(crate) fn is_refused(error: &io::Error) -> bool {
    matches!(error.kind(), ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem)
}

/// The meta lock through a read-only handle on its file; `None` when the
/// file does not exist.
fn read_only_meta_lock(path: &Path) -> Result<Option<File>, LockError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LockError::wrap_io_error(e)),
    };
    // Readers may share it; the writer's garbage collection holds it alone.
    file.lock_shared().map_err(LockError::wrap_io_error)?;
    Ok(Some(file))
}

impl Directory for IndexDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        if !self.positioned(path) {
            return self.inner.get_file_handle(path);
        }
        let full = self.root.join(path);
        let file = File::open(&full).map_err(|e| match e.kind() {
            ErrorKind::NotFound => OpenReadError::FileDoesNotExist(full.clone()),
            _ => OpenReadError::wrap_io_error(e, full.clone()),
        })?;
        let len = file.metadata().map_err(|e| OpenReadError::wrap_io_error(e, full.clone()))?.len() as usize;
        Ok(Arc::new(PositionedFile { file, len }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.inner.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    /// Written aside with the mode of the other index files, synced, then
    /// renamed over `path`.
    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let mut aside = tempfile::Builder::new().permissions(Permissions::from_mode(COMMIT_FILE_MODE)).tempfile_in(&self.root)?;
        aside.write_all(data)?;
        aside.as_file().sync_data()?;
        aside.persist(self.root.join(path)).map_err(|e| e.error)?;
        Ok(())
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.inner.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        match self.inner.acquire_lock(lock) {
            Err(LockError::IoError(e)) if is_refused(&e) && lock.filepath == META_LOCK.filepath => {
                let held = read_only_meta_lock(&self.root.join(&lock.filepath))?;
                Ok(DirectoryLock::from(Box::new(held)))
            }
            other => other,
        }
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{Schema, Value, STORED, TEXT};
    use tantivy::{doc, Index, TantivyDocument};

    #[test]
    fn commit_files_are_written_with_the_mode_of_the_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let directory = IndexDirectory::open(dir.path(), Reads::Stores).unwrap();
        directory.atomic_write(Path::new("meta.json"), b"{}").unwrap();
        let plain = dir.path().join("plain");
        File::create(&plain).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("meta.json")), mode(&plain));
        assert_eq!(std::fs::read(dir.path().join("meta.json")).unwrap(), b"{}");
        // Nothing but the file itself is left behind.
        let names: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_meta_lock_file_that_cannot_be_written_is_locked_read_only_and_excludes_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(&META_LOCK.filepath);
        File::create(&path).unwrap();
        let held = read_only_meta_lock(&path).unwrap().expect("the lock file exists");
        // The writer's garbage collection takes it exclusively: refused
        // while a reader holds it, granted once the reader lets go.
        let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        assert!(matches!(writer.try_lock(), Err(std::fs::TryLockError::WouldBlock)));
        drop(held);
        writer.try_lock().unwrap();
    }

    #[test]
    fn no_meta_lock_file_and_none_allowed_means_no_lock() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_only_meta_lock(&dir.path().join(&META_LOCK.filepath)).unwrap().is_none());
    }

    /// The index files of `dir` that this process has mapped.
    fn mapped_files(dir: &Path) -> Vec<String> {
        let maps = std::fs::read_to_string("/proc/self/maps").expect("Linux /proc");
        let dir = dir.to_string_lossy();
        maps.lines().filter_map(|l| l.split_whitespace().nth(5)).filter(|p| p.starts_with(&*dir)).map(String::from).collect()
    }

    #[test]
    fn stored_documents_are_read_without_mapping_the_store() {
        let folder = tempfile::tempdir().unwrap();
        let mut builder = Schema::builder();
        let title = builder.add_text_field("title", TEXT | STORED);
        let index = Index::create_in_dir(folder.path(), builder.build()).unwrap();
        let mut writer = index.writer::<TantivyDocument>(15_000_000).unwrap();
        for n in 0..100 {
            writer.add_document(doc!(title => format!("关于第{n}号通知"))).unwrap();
        }
        writer.commit().unwrap();
        drop((writer, index));

        let index = Index::open(IndexDirectory::open(folder.path(), Reads::Stores).unwrap()).unwrap();
        let searcher = index.reader().unwrap().searcher();
        let doc: TantivyDocument = searcher.doc(tantivy::DocAddress::new(0, 42)).unwrap();
        assert_eq!(doc.get_first(title).and_then(|v| v.as_str()), Some("关于第42号通知"));
        let mapped = mapped_files(folder.path());
        assert!(mapped.iter().any(|p| p.ends_with(".term")), "the term dictionary stays mapped: {mapped:?}");
        assert!(!mapped.iter().any(|p| p.ends_with(".store")), "the store is read, not mapped: {mapped:?}");
    }
}
