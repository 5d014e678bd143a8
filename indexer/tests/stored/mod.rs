//! Every original a data folder keeps, read around the library (the blob
//! files and the originals kept with their documents in the index): what
//! the tests check to show that nothing of a withheld document, nor the
//! text of an on_request one, is kept anywhere.

use std::fs;
use std::path::Path;

use tantivy::collector::DocSetCollector;
use tantivy::query::AllQuery;
use tantivy::schema::Value;
use tantivy::TantivyDocument;

/// The originals kept in the data folder `data`, sorted.
pub fn originals(data: &Path) -> Vec<Vec<u8>> {
    let blobs = walkdir::WalkDir::new(data.join("blobs")).into_iter().flatten().filter(|e| e.file_type().is_file());
    let mut all: Vec<Vec<u8>> = blobs.map(|e| zstd::decode_all(fs::read(e.path()).unwrap().as_slice()).unwrap()).collect();
    let index = tantivy::Index::open_in_dir(data.join("index")).unwrap();
    let original = index.schema().get_field("original").unwrap();
    let searcher = index.reader().unwrap().searcher();
    for address in searcher.search(&AllQuery, &DocSetCollector).unwrap() {
        let doc: TantivyDocument = searcher.doc(address).unwrap();
        all.extend(doc.get_all(original).filter_map(|v| v.as_bytes()).map(<[u8]>::to_vec));
    }
    all.sort();
    all
}
