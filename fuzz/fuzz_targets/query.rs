//! What a person types into the search box: the query parser, the
//! analyzer (normalization and jieba segmentation) and highlighting must
//! take any text without panicking.
#![no_main]

use indexer::analysis::analyze;
use indexer::highlight::ranges_of;
use indexer::query::QueryPlan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let plan = QueryPlan::new(&text);
    let _ = plan.split_words();
    let pieces = analyze(&text);
    for piece in &pieces {
        assert!(piece.from <= piece.to && piece.to <= text.len(), "piece {piece:?} outside the text");
        assert!(text.is_char_boundary(piece.from) && text.is_char_boundary(piece.to), "piece {piece:?} splits a character");
    }
    for range in ranges_of(&text, &plan.highlights) {
        assert!(text.get(range.clone()).is_some(), "highlight {range:?} is not a slice of the text");
    }
});
