//! Plain text and catalog exports through `indexer::extract::extract`; the
//! first byte picks the format (`.txt`, `.json`, `.jsonl`, `.csv`), the
//! rest is the file.
#![no_main]

use indexer::extract::{extract, Limits};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 4] = ["fuzz.txt", "fuzz.json", "fuzz.jsonl", "fuzz.csv"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else { return };
    let _ = extract(NAMES[usize::from(pick) % NAMES.len()], file, &Limits::default());
});
