//! PDF bytes through `indexer::extract::extract`: it must return (a record
//! or a rejection) without hanging, exhausting memory, overflowing the
//! stack or letting a panic out.
//!
//! pdf-extract panics on many malformed files; the PDF reader catches that
//! per page and reports it, which is its contract. So a panic raised inside
//! pdf-extract or lopdf is allowed here, and only a panic raised in the
//! indexer's own code aborts (as libFuzzer's default hook does for every
//! panic in the other targets). A panic that escaped `extract` would abort
//! too: libfuzzer-sys aborts on any panic that reaches it.
#![no_main]

use indexer::extract::{extract, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        std::panic::set_hook(Box::new(|info| {
            let ours = info.location().is_some_and(|l| l.file().contains("indexer/src"));
            if ours {
                eprintln!("{info}");
                std::process::abort();
            }
        }));
    },
    |data: &[u8]| {
        let _ = extract("fuzz.pdf", data, &Limits::default());
    }
);
