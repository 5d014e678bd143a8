//! What a person types into the search box: the query parser, the
//! analyzer (normalization and jieba segmentation) and highlighting must
//! take any text without panicking.
#![no_main]

use indexer::analysis::analyze;
use indexer::query::ParsedQuery;
use indexer::search::highlight_ranges;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = ParsedQuery::parse(&text);
    let _ = parsed.highlight_terms();
    let pieces = analyze(&text);
    for piece in &pieces {
        assert!(piece.from <= piece.to && piece.to <= text.len(), "piece {piece:?} outside the text");
        assert!(text.is_char_boundary(piece.from) && text.is_char_boundary(piece.to), "piece {piece:?} splits a character");
    }
    for range in highlight_ranges(&text, &text) {
        assert!(text.get(range.clone()).is_some(), "highlight {range:?} is not a slice of the text");
    }
});
