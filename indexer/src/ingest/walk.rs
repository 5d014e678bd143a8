//! The candidate files of a source folder as the file system lists them:
//! one at a time, with what `stat` says of each, in the byte order of
//! their `/`-separated relative paths. That is the order the index lists
//! its `path` terms in, so a run compares the two lists in one pass
//! without a table of every file ([`super::indexed`]).
//!
//! Each folder is listed once; its files are looked at relative to it
//! (no lookup of their whole path), and its listing says which sidecars
//! and which `catalog.csv` it holds, so a file without a sidecar costs no
//! lookup for one. Symbolic links are followed; a link back to a folder
//! being walked is reported, not followed.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::{Rejection, CATALOG_CSV, SIDECAR_SUFFIX};

/// One step of a walk.
pub(super) enum Found {
    File(FoundFile),
    /// An entry that could not be read (an unreadable folder, a broken
    /// link, a symbolic link loop); the walk goes on.
    Unreadable(Rejection),
}

/// A candidate file: not hidden, not a sidecar, not a `catalog.csv`.
pub(super) struct FoundFile {
    pub path: PathBuf,
    /// Path relative to the source folder, `/`-separated.
    pub rel: String,
    /// Its file name.
    pub name: String,
    pub meta: fs::Metadata,
    /// The folder holding it.
    pub folder: Rc<Folder>,
}

/// A folder as its listing shows it.
pub(super) struct Folder {
    pub path: PathBuf,
    /// Its path relative to the source folder ("" for the source itself).
    pub rel: String,
    /// Names of the sidecar files it holds.
    pub sidecars: HashSet<String>,
    pub has_catalog: bool,
}

impl Folder {
    /// The relative path of `name` in this folder.
    pub fn rel_of(&self, name: &str) -> String {
        if self.rel.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.rel)
        }
    }
}

/// A walk in progress.
pub(super) struct Walk {
    /// The folders being walked, innermost last.
    levels: Vec<Level>,
    /// Problems to report before going on.
    problems: Vec<Rejection>,
}

struct Level {
    folder: Rc<Folder>,
    /// Device and inode of the folder, to tell a link back to it.
    id: (u64, u64),
    /// Its entries not yet walked, in path order.
    rest: std::vec::IntoIter<Entry>,
}

enum Entry {
    File { name: String, meta: fs::Metadata },
    Folder { name: String, id: (u64, u64) },
    Problem { name: String, reason: String },
}

/// Walk `source`.
pub(super) fn walk(source: &Path) -> Walk {
    let mut walk = Walk { levels: Vec::new(), problems: Vec::new() };
    match fs::metadata(source) {
        Ok(meta) => walk.enter(source.to_path_buf(), String::new(), (meta.dev(), meta.ino())),
        Err(e) => walk.problems.push(Rejection { path: String::new(), reason: format!("cannot read: {e}") }),
    }
    walk
}

impl Iterator for Walk {
    type Item = Found;

    fn next(&mut self) -> Option<Found> {
        loop {
            if let Some(problem) = self.problems.pop() {
                return Some(Found::Unreadable(problem));
            }
            let level = self.levels.last_mut()?;
            let folder = Rc::clone(&level.folder);
            match level.rest.next() {
                None => {
                    self.levels.pop();
                }
                Some(Entry::File { name, meta }) => {
                    let (path, rel) = (folder.path.join(&name), folder.rel_of(&name));
                    return Some(Found::File(FoundFile { path, rel, name, meta, folder }));
                }
                Some(Entry::Folder { name, id }) if self.levels.iter().any(|l| l.id == id) => {
                    let reason = "symbolic link loop; not followed".to_string();
                    return Some(Found::Unreadable(Rejection { path: folder.rel_of(&name), reason }));
                }
                Some(Entry::Folder { name, id }) => self.enter(folder.path.join(&name), folder.rel_of(&name), id),
                Some(Entry::Problem { name, reason }) => return Some(Found::Unreadable(Rejection { path: folder.rel_of(&name), reason })),
            }
        }
    }
}

impl Walk {
    /// List the folder at `path` and walk it next.
    fn enter(&mut self, path: PathBuf, rel: String, id: (u64, u64)) {
        let listing = match fs::read_dir(&path) {
            Ok(listing) => listing,
            Err(e) => {
                self.problems.push(Rejection { path: rel, reason: format!("cannot read: {e}") });
                return;
            }
        };
        let mut folder = Folder { path, rel, sidecars: HashSet::new(), has_catalog: false };
        let mut entries = Vec::new();
        for entry in listing {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    self.problems.push(Rejection { path: folder.rel.clone(), reason: format!("cannot read: {e}") });
                    continue;
                }
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(SIDECAR_SUFFIX) {
                folder.sidecars.insert(name);
                continue;
            }
            if name == CATALOG_CSV {
                folder.has_catalog = true;
                continue;
            }
            entries.extend(look_at(&entry, name));
        }
        entries.sort_by(path_order);
        self.levels.push(Level { folder: Rc::new(folder), id, rest: entries.into_iter() });
    }
}

/// What a listed entry is: a candidate file (with what `stat` says of
/// it), a folder to walk, nothing (hidden files, sockets …) or a problem.
fn look_at(entry: &fs::DirEntry, name: String) -> Option<Entry> {
    let problem = |e: std::io::Error| Entry::Problem { reason: format!("cannot read: {e}"), name: name.clone() };
    let kind = match entry.file_type() {
        Ok(kind) => kind,
        Err(e) => return Some(problem(e)),
    };
    // A link is looked at through (a broken one is a problem); anything
    // else relative to its folder.
    let meta = if kind.is_symlink() { fs::metadata(entry.path()) } else { entry.metadata() };
    let meta = match meta {
        Ok(meta) => meta,
        Err(e) => return Some(problem(e)),
    };
    if meta.is_dir() {
        return Some(Entry::Folder { name, id: (meta.dev(), meta.ino()) });
    }
    (meta.is_file() && !name.starts_with('.')).then_some(Entry::File { name, meta })
}

/// Entries sort so that the walk yields relative paths in byte order: a
/// folder sorts as its name followed by `/`, the byte its contents'
/// paths continue with (`a.txt` < `a/` < `a0`).
fn path_order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    fn key(entry: &Entry) -> (&str, Option<&'static u8>) {
        match entry {
            Entry::File { name, .. } => (name, None),
            Entry::Folder { name, .. } => (name, Some(&b'/')),
            Entry::Problem { name, .. } => (name, None),
        }
    }
    let ((a_name, a_slash), (b_name, b_slash)) = (key(a), key(b));
    a_name.as_bytes().iter().chain(a_slash).cmp(b_name.as_bytes().iter().chain(b_slash))
}

/// What the file system says of a file's content without reading it:
/// size, modification time to the nanosecond and inode (a file replaced
/// by a rename has a new one).
pub(super) fn said_of(meta: &fs::Metadata) -> [u8; 32] {
    let fields = [meta.size(), meta.mtime() as u64, meta.mtime_nsec() as u64, meta.ino()];
    let mut bytes = [0u8; 32];
    for (chunk, value) in bytes.chunks_exact_mut(8).zip(fields) {
        chunk.copy_from_slice(&value.to_le_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walked(source: &Path) -> Vec<String> {
        walk(source)
            .map(|found| match found {
                Found::File(f) => f.rel,
                Found::Unreadable(r) => format!("{}: {}", r.path, r.reason),
            })
            .collect()
    }

    #[test]
    fn files_come_in_the_byte_order_of_their_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        for rel in
            ["a.txt", "a/b.txt", "a0.txt", "a-b.txt", "b/c/d.txt", "b.txt", "中/文.txt", ".hidden", "a.txt.meta.json", "b/catalog.csv"]
        {
            let path = dir.path().join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "x").unwrap();
        }
        let files = walked(dir.path());
        assert_eq!(files, ["a-b.txt", "a.txt", "a/b.txt", "a0.txt", "b.txt", "b/c/d.txt", "中/文.txt"]);
        let mut sorted = files.clone();
        sorted.sort();
        assert_eq!(files, sorted);
    }

    #[test]
    fn a_folder_listing_names_its_sidecars_and_catalog() {
        let dir = tempfile::tempdir().unwrap();
        for rel in ["a.txt", "a.txt.meta.json", "b.txt", "sub/catalog.csv", "sub/c.txt"] {
            let path = dir.path().join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "x").unwrap();
        }
        let folders: Vec<(String, Vec<String>, bool)> = walk(dir.path())
            .filter_map(|found| match found {
                Found::File(f) => Some((f.rel, f.folder.sidecars.iter().cloned().collect(), f.folder.has_catalog)),
                Found::Unreadable(_) => None,
            })
            .collect();
        assert_eq!(
            folders,
            [
                ("a.txt".to_string(), vec!["a.txt.meta.json".to_string()], false),
                ("b.txt".to_string(), vec!["a.txt.meta.json".to_string()], false),
                ("sub/c.txt".to_string(), vec![], true),
            ]
        );
    }

    #[test]
    fn links_are_followed_and_a_link_back_up_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (src, elsewhere) = (dir.path().join("src"), dir.path().join("elsewhere"));
        fs::create_dir_all(src.join("a")).unwrap();
        fs::create_dir_all(&elsewhere).unwrap();
        fs::write(src.join("a/x.txt"), "x").unwrap();
        fs::write(elsewhere.join("y.txt"), "y").unwrap();
        std::os::unix::fs::symlink(&elsewhere, src.join("linked")).unwrap();
        std::os::unix::fs::symlink(&src, src.join("a/up")).unwrap();
        std::os::unix::fs::symlink(src.join("gone.txt"), src.join("broken.txt")).unwrap();
        assert_eq!(
            walked(&src),
            [
                "a/up: symbolic link loop; not followed",
                "a/x.txt",
                "broken.txt: cannot read: No such file or directory (os error 2)",
                "linked/y.txt"
            ]
        );
    }
}
