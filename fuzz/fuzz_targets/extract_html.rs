//! HTML bytes through `indexer::extract::extract`.
#![no_main]

use indexer::extract::{extract, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = extract("fuzz.html", data, &Limits::default());
});
