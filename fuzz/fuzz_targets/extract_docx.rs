//! DOCX bytes through `indexer::extract::extract`: it must return (a record
//! or a rejection) without panicking, hanging or exhausting memory.
#![no_main]

use indexer::extract::{extract, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = extract("fuzz.docx", data, &Limits::default());
});
