//! The tantivy directory a server reads an index through: the index files
//! are memory-mapped, as tantivy does by default, except the document
//! stores, which are read with positioned reads.
//!
//! A search reads a stored document's compressed block once and keeps it
//! decompressed in tantivy's store cache (bounded in blocks per segment);
//! a mapped store would keep every block ever read in the server's
//! resident memory besides, and suggestions read many. Posting, position,
//! term and column files stay mapped: their pages are read again and
//! again, and a positioned read would copy a whole posting list per term.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback, WatchHandle, WritePtr};
use tantivy::{Directory, HasLen};

/// The file extension of tantivy's document stores.
const STORE_EXTENSION: &str = "store";

/// An index folder served read-mostly: [`MmapDirectory`] but for the
/// document stores (see the module documentation).
#[derive(Clone, Debug)]
pub struct ServingDirectory {
    root: PathBuf,
    mapped: MmapDirectory,
}

impl ServingDirectory {
    /// Open the index folder `root`. Errors as [`MmapDirectory::open`].
    pub fn open(root: &Path) -> Result<ServingDirectory, tantivy::directory::error::OpenDirectoryError> {
        Ok(ServingDirectory { root: root.to_path_buf(), mapped: MmapDirectory::open(root)? })
    }
}

/// A document store read with `pread`: each read copies only its range.
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

impl Directory for ServingDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        if path.extension().is_none_or(|e| e != STORE_EXTENSION) {
            return self.mapped.get_file_handle(path);
        }
        let full = self.root.join(path);
        let opening = |io_error| OpenReadError::wrap_io_error(io_error, full.clone());
        let file = File::open(&full).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => OpenReadError::FileDoesNotExist(full.clone()),
            _ => opening(e),
        })?;
        let len = file.metadata().map_err(opening)?.len() as usize;
        Ok(Arc::new(PositionedFile { file, len }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.mapped.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.mapped.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.mapped.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.mapped.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.mapped.atomic_write(path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.mapped.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.mapped.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.mapped.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{Schema, Value, STORED, TEXT};
    use tantivy::{doc, Index, TantivyDocument};

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

        let index = Index::open(ServingDirectory::open(folder.path()).unwrap()).unwrap();
        let searcher = index.reader().unwrap().searcher();
        let doc: TantivyDocument = searcher.doc(tantivy::DocAddress::new(0, 42)).unwrap();
        assert_eq!(doc.get_first(title).and_then(|v| v.as_str()), Some("关于第42号通知"));
        let mapped = mapped_files(folder.path());
        assert!(mapped.iter().any(|p| p.ends_with(".term")), "the term dictionary stays mapped: {mapped:?}");
        assert!(!mapped.iter().any(|p| p.ends_with(".store")), "the store is read, not mapped: {mapped:?}");
    }
}
