//! Chinese text analysis: normalization, jieba segmentation (through lindera)
//! and the tantivy tokenizer that indexes and queries with the same rules.
//!
//! # Contract
//! * **Normalization** happens character by character before segmenting:
//!   Unicode NFKC (full-width `２０１６` → `2016`), lowercase, and
//!   traditional → simplified Chinese (`資訊` → `资讯`). Because it is done
//!   per character, every normalized character knows the byte range of the
//!   original character it came from, so offsets always point into the
//!   original text and highlights land on the right characters.
//! * **Positions count characters** of the normalized text: a token's
//!   position is the index of its first character. Words, the shorter
//!   dictionary words inside them (jieba's "search mode") and every single
//!   Han character are emitted at their own character index, so a phrase
//!   matches whatever way either side was segmented: the phrase `人民政府`
//!   is the characters 人,民,政,府 at consecutive positions.
//! * **Tokens** are [`Piece`]s of three kinds ([`PieceKind`]): whole words as
//!   the segmenter found them, sub-words inside longer words, and single Han
//!   characters. Non-Han runs (numbers, Latin words) are single words.
//!   Punctuation and whitespace make no token.
//! * Pinyin is deliberately not indexed: it makes homophones match.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::OnceLock;

use lindera::dictionary::load_dictionary;
use lindera::mode::Mode;
use lindera::segmenter::Segmenter;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::UnicodeNormalization;

/// Longest token kept, in bytes; longer runs (base64 blobs, hashes) are noise.
const MAX_TOKEN_BYTES: usize = 64;

/// What a [`Piece`] stands for; the query side weighs them differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceKind {
    /// A word as the segmenter found it (or a run of digits / Latin letters).
    Word,
    /// A shorter dictionary word inside a longer word (`政府` in `中华人民共和国政府`).
    SubWord,
    /// One Han character of a longer word, so `税` finds `税收`.
    Char,
}

/// One token of analyzed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Normalized token text (what is indexed).
    pub text: String,
    /// Character index of the token's first character in the normalized text.
    pub position: usize,
    /// Length in characters.
    pub chars: usize,
    /// Byte range of the token in the original text.
    pub from: usize,
    pub to: usize,
    pub kind: PieceKind,
}

/// Text after normalization, with the original byte range of each character.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub chars: Vec<char>,
    /// `origin[i]` is the byte range in the original text that produced `chars[i]`.
    pub origin: Vec<(usize, usize)>,
}

impl Normalized {
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }
}

/// Normalize `text` character by character: NFKC, lowercase, traditional →
/// simplified (with Taiwan and Hong Kong vocabulary: 資訊 → 信息, see
/// [`regional`]). Characters that normalize to nothing are dropped, and so
/// are quote marks, book-title marks and brackets standing between two Han
/// characters ([`is_transparent`]): “三公”经费 is analyzed as 三公经费.
pub fn normalize(text: &str) -> Normalized {
    let mut chars = Vec::with_capacity(text.len() / 2);
    let mut origin = Vec::with_capacity(text.len() / 2);
    let mut one = [0u8; 4];
    for (start, c) in text.char_indices() {
        let end = start + c.len_utf8();
        // ASCII and the unified ideographs are left as they are by NFKC
        // and lowercasing: skip the per-character normalizer for them.
        if c.is_ascii() || ('\u{4E00}'..='\u{9FFF}').contains(&c) {
            chars.push(c.to_ascii_lowercase());
            origin.push((start, end));
            continue;
        }
        for n in c.encode_utf8(&mut one).nfkc() {
            for l in n.to_lowercase() {
                chars.push(l);
                origin.push((start, end));
            }
        }
    }
    if let Some(simplified) = regional(&chars) {
        chars = simplified;
    }
    drop_transparent(&mut chars, &mut origin);
    Normalized { chars, origin }
}

/// `chars` in simplified Chinese with mainland vocabulary, when they hold
/// traditional characters: OpenCC's Taiwan-phrases table (資訊 → 信息,
/// 軟體 → 软件) where it keeps every character in place, else fast2s
/// character by character. `None` when the text is simplified already.
fn regional(chars: &[char]) -> Option<Vec<char>> {
    static TW2SP: OnceLock<Option<ferrous_opencc::OpenCC>> = OnceLock::new();
    let joined: String = chars.iter().collect();
    let simplified = fast2s::convert(&joined);
    if simplified == joined {
        return None;
    }
    let converter = TW2SP.get_or_init(|| ferrous_opencc::OpenCC::from_config(ferrous_opencc::config::BuiltinConfig::Tw2sp).ok());
    // Both convert one character into one character wherever the counts
    // agree, so the origin table stays aligned.
    [converter.as_ref().map(|c| c.convert(&joined)), Some(simplified)]
        .into_iter()
        .flatten()
        .map(|s| s.chars().collect::<Vec<char>>())
        .find(|s| s.len() == chars.len())
}

/// Marks that quote or enclose a term without ending it: quote marks,
/// book-title marks and brackets. Between two Han characters they are not
/// analyzed, so a quoted or bracketed term still spells its phrase; between
/// a Han character and a digit (临政发〔2019〕7号) they still separate.
pub fn is_transparent(c: char) -> bool {
    matches!(
        c,
        '"' | '\''
            | '“'
            | '”'
            | '‘'
            | '’'
            | '「'
            | '」'
            | '『'
            | '』'
            | '《'
            | '》'
            | '〈'
            | '〉'
            | '('
            | ')'
            | '（'
            | '）'
            | '['
            | ']'
            | '【'
            | '】'
            | '〔'
            | '〕'
            | '〖'
            | '〗'
    )
}

/// Remove each run of [`is_transparent`] marks whose neighbours are both Han.
fn drop_transparent(chars: &mut Vec<char>, origin: &mut Vec<(usize, usize)>) {
    if !chars.iter().any(|&c| is_transparent(c)) {
        return;
    }
    let mut keep = vec![true; chars.len()];
    let mut i = 0;
    while i < chars.len() {
        if !is_transparent(chars[i]) {
            i += 1;
            continue;
        }
        let run_end = (i..chars.len()).find(|&j| !is_transparent(chars[j])).unwrap_or(chars.len());
        let han_before = i > 0 && is_han(chars[i - 1]);
        let han_after = run_end < chars.len() && is_han(chars[run_end]);
        if han_before && han_after {
            keep[i..run_end].iter_mut().for_each(|k| *k = false);
        }
        i = run_end;
    }
    let mut flags = keep.iter();
    chars.retain(|_| *flags.next().unwrap_or(&true));
    let mut flags = keep.iter();
    origin.retain(|_| *flags.next().unwrap_or(&true));
}

/// Whether `c` is a Han ideograph (CJK Unified Ideographs and extensions,
/// compatibility ideographs, and `〇`, the zero of written dates).
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3007                  // 〇 IDEOGRAPHIC NUMBER ZERO
        | 0x3400..=0x4DBF       // Extension A
        | 0x4E00..=0x9FFF       // Unified Ideographs
        | 0xF900..=0xFAFF       // Compatibility Ideographs
        | 0x20000..=0x323AF) // Extensions B–H and Compatibility Supplement
}

/// The jieba segmenter, loaded once per process (the dictionary is embedded).
fn segmenter() -> Result<&'static Segmenter, String> {
    static SEGMENTER: OnceLock<Result<Segmenter, String>> = OnceLock::new();
    SEGMENTER
        .get_or_init(|| {
            load_dictionary("embedded://jieba")
                .map(|dictionary| Segmenter::new(Mode::Normal, dictionary, None))
                .map_err(|e| format!("cannot load the jieba dictionary: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Load the dictionary now, so a broken build fails at start-up rather
/// than at the first document.
pub fn init() -> Result<(), String> {
    segmenter().map(|_| ())
}

/// Analyze `text` into pieces ordered by position.
pub fn analyze(text: &str) -> Vec<Piece> {
    let analyzed = Analyzed::of(text);
    analyzed.spans.iter().map(|span| analyzed.piece(span)).collect()
}

/// A text analyzed: its normalized characters and its pieces, each as a
/// range of them. Tokens are made from it one at a time into one buffer,
/// without a string per piece.
struct Analyzed {
    norm: Normalized,
    spans: Vec<Span>,
}

/// A [`Piece`] as the characters `start..end` of the normalized text.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    kind: PieceKind,
}

impl Analyzed {
    fn of(text: &str) -> Analyzed {
        let norm = normalize(text);
        let mut spans = Vec::new();
        let joined = norm.text();
        if let Some(tokens) = segmenter().ok().and_then(|segmenter| segmenter.segment(Cow::Borrowed(joined.as_str())).ok()) {
            spans.reserve(tokens.len() * 2);
            // Tokens come in text order: walk byte offsets to character
            // indexes alongside them.
            let (mut byte, mut char_index) = (0usize, 0usize);
            let mut char_of = |target: usize| {
                while byte < target && char_index < norm.chars.len() {
                    byte += norm.chars[char_index].len_utf8();
                    char_index += 1;
                }
                char_index
            };
            for token in &tokens {
                let start = char_of(token.byte_start);
                let end = char_of(token.byte_end);
                emit_word(&norm, start, end, &mut spans);
            }
        }
        Analyzed { norm, spans }
    }

    fn piece(&self, span: &Span) -> Piece {
        let (start, end) = (span.start, span.end);
        Piece {
            text: self.norm.chars[start..end].iter().collect(),
            position: start,
            chars: end - start,
            from: self.norm.origin[start].0,
            to: self.norm.origin[end - 1].1,
            kind: span.kind,
        }
    }
}

/// Emit the pieces of one segmenter token spanning characters `start..end`.
fn emit_word(norm: &Normalized, start: usize, end: usize, out: &mut Vec<Span>) {
    let chars = &norm.chars[start..end];
    if !chars.iter().any(|c| c.is_alphanumeric()) {
        return;
    }
    let han = chars.iter().all(|&c| is_han(c));
    if !han {
        // Mixed runs keep only letters and digits, split at anything else.
        let mut run_start = None;
        for i in start..=end {
            let keep = i < end && norm.chars[i].is_alphanumeric() && !is_han(norm.chars[i]);
            match (keep, run_start) {
                (true, None) => run_start = Some(i),
                (false, Some(s)) => {
                    push(norm, s, i, PieceKind::Word, out);
                    run_start = None;
                }
                _ => {}
            }
            if i < end && is_han(norm.chars[i]) {
                push(norm, i, i + 1, PieceKind::Word, out);
            }
        }
        return;
    }
    let len = end - start;
    for i in start..end {
        if i == start {
            push(norm, start, end, PieceKind::Word, out);
        }
        if len > 2 {
            for sub_end in sub_words(&norm.chars[i..end]) {
                let sub_end = i + sub_end;
                if sub_end - i >= 2 && sub_end - i < len {
                    push(norm, i, sub_end, PieceKind::SubWord, out);
                }
            }
        }
        if len > 1 {
            push(norm, i, i + 1, PieceKind::Char, out);
        }
    }
}

/// Lengths (in characters) of the dictionary words that start `chars`.
fn sub_words(chars: &[char]) -> Vec<usize> {
    let Ok(segmenter) = segmenter() else {
        return Vec::new();
    };
    segmenter.dictionary.prefix_dictionary.common_prefix_search(chars).map(|(_, len)| len).collect()
}

fn push(norm: &Normalized, start: usize, end: usize, kind: PieceKind, out: &mut Vec<Span>) {
    let bytes: usize = norm.chars[start..end].iter().map(|c| c.len_utf8()).sum();
    if bytes <= MAX_TOKEN_BYTES {
        out.push(Span { start, end, kind });
    }
}

/// Which pieces a token stream carries. Atoms (single Han characters and
/// non-Han words) spell the text exactly and carry positions, for phrases;
/// words and sub-words only need frequencies, for scoring. Keeping them in
/// separate fields stores positions for the atoms only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSet {
    Atoms,
    Words,
    /// Each two atoms that stand next to each other (the second starts
    /// where the first ends), as one token of their two texts: 开支 for the
    /// atoms 开, 支. Indexed without frequencies or positions, as a filter:
    /// a phrase can only match in a document holding each of its pairs.
    Pairs,
}

impl TokenSet {
    /// Whether a piece belongs to this set.
    pub fn holds(self, piece: &Piece) -> bool {
        self.holds_kind(piece.kind, &piece.text.chars().collect::<Vec<char>>())
    }

    fn holds_kind(self, kind: PieceKind, chars: &[char]) -> bool {
        let atom = match kind {
            PieceKind::Char => true,
            PieceKind::Word => chars.len() == 1 || !chars.iter().all(|&c| is_han(c)),
            PieceKind::SubWord => false,
        };
        atom == (self != TokenSet::Words)
    }

    /// Name under which this set's tokenizer is registered with tantivy.
    pub fn tokenizer_name(self) -> &'static str {
        match self {
            TokenSet::Atoms => "zh_atoms",
            TokenSet::Words => "zh_words",
            TokenSet::Pairs => "zh_pairs",
        }
    }
}

/// The analysis of `text`. Tantivy tokenizes a document's atoms field and
/// words field one after the other from the same text, and segmentation
/// is the costly part: the last text analyzed on this thread is kept for
/// that second call.
fn analyzed(text: &str) -> Rc<Analyzed> {
    thread_local! {
        static LAST: RefCell<Option<(String, Rc<Analyzed>)>> = const { RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((cached, analyzed)) = last.as_ref() {
            if cached == text {
                return Rc::clone(analyzed);
            }
        }
        let analyzed = Rc::new(Analyzed::of(text));
        *last = Some((text.to_string(), Rc::clone(&analyzed)));
        analyzed
    })
}

/// Texts longer than this are analyzed a chunk at a time while tantivy
/// reads their tokens, instead of all at once. All at once, a 16 MiB text
/// took over 1 GiB (a piece per character and per word); a chunk at a
/// time holds one chunk's pieces. Such a text is segmented once per token
/// set, as nothing is kept for the second call.
const STREAMED_ABOVE: usize = 1 << 20;
/// Bytes of text analyzed at a time, before the cut looks for a line end.
const CHUNK_BYTES: usize = 64 << 10;

/// Where the chunk of `text` that starts at 0 ends: after the first line
/// end at or past [`CHUNK_BYTES`], else after a sentence end, else at a
/// character boundary. Text is never segmented across a line or sentence
/// end, so cutting there changes no token (a text without either for
/// [`CHUNK_BYTES`] may have one word cut in two, and the rare traditional
/// text that OpenCC would lengthen falls back to fast2s for one chunk
/// rather than for the whole text).
fn chunk_end(text: &str) -> usize {
    if text.len() <= 2 * CHUNK_BYTES {
        return text.len();
    }
    let (mut at, mut end) = (CHUNK_BYTES, 2 * CHUNK_BYTES);
    while !text.is_char_boundary(at) {
        at += 1;
    }
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let window = &text[at..end];
    if let Some(i) = memchr::memchr(b'\n', window.as_bytes()) {
        return at + i + 1;
    }
    if let Some((i, c)) = window.char_indices().find(|&(_, c)| matches!(c, '。' | '！' | '？' | '；')) {
        return at + i + c.len_utf8();
    }
    at
}

/// The tantivy side of [`analyze`], for one [`TokenSet`]: registered under
/// [`TokenSet::tokenizer_name`], used when tantivy indexes a field.
#[derive(Clone)]
pub struct ChineseTokenizer(pub TokenSet);

/// Token stream over the pieces of one set of a text, made one at a time
/// into one token; a text longer than [`STREAMED_ABOVE`] is analyzed a
/// chunk at a time.
pub struct PieceStream<'a> {
    set: TokenSet,
    /// The text, or the chunk of it, being read.
    analyzed: Rc<Analyzed>,
    /// Index of the next span to look at.
    next: usize,
    /// Byte offset and position (normalized character index) the chunk
    /// being read starts at.
    byte: usize,
    position: usize,
    /// Length of the chunk being read.
    chunk_bytes: usize,
    /// For [`TokenSet::Pairs`]: the last atom read, with its positions
    /// (start, end) and byte offsets (from, to) in the whole text.
    last_atom: Vec<char>,
    last_at: Option<((usize, usize), (usize, usize))>,
    /// The rest of a long text.
    rest: &'a str,
    token: Token,
}

impl Tokenizer for ChineseTokenizer {
    type TokenStream<'a> = PieceStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PieceStream<'a> {
        let (analyzed, rest) = if text.len() > STREAMED_ABOVE {
            let nothing = Normalized { chars: Vec::new(), origin: Vec::new() };
            (Rc::new(Analyzed { norm: nothing, spans: Vec::new() }), text)
        } else {
            (analyzed(text), "")
        };
        PieceStream {
            set: self.0,
            analyzed,
            next: 0,
            byte: 0,
            position: 0,
            chunk_bytes: 0,
            last_atom: Vec::new(),
            last_at: None,
            rest,
            token: Token::default(),
        }
    }
}

impl PieceStream<'_> {
    /// Analyze the next chunk of a long text; false at its end.
    fn next_chunk(&mut self) -> bool {
        if self.rest.is_empty() {
            return false;
        }
        let (chunk, rest) = self.rest.split_at(chunk_end(self.rest));
        self.byte += self.chunk_bytes;
        self.position += self.analyzed.norm.chars.len();
        self.chunk_bytes = chunk.len();
        self.analyzed = Rc::new(Analyzed::of(chunk));
        self.next = 0;
        self.rest = rest;
        true
    }

    /// A span's positions (start, end) and byte offsets (from, to) in the
    /// whole text.
    fn place(&self, span: Span) -> ((usize, usize), (usize, usize)) {
        let origin = &self.analyzed.norm.origin;
        let positions = (self.position + span.start, self.position + span.end);
        (positions, (self.byte + origin[span.start].0, self.byte + origin[span.end - 1].1))
    }

    /// Make the token of one span.
    fn token_of(&mut self, span: Span) {
        let ((start, end), (from, to)) = self.place(span);
        self.token.text.clear();
        self.token.text.extend(&self.analyzed.norm.chars[span.start..span.end]);
        (self.token.offset_from, self.token.offset_to) = (from, to);
        (self.token.position, self.token.position_length) = (start, end - start);
    }

    /// Read one atom into the pairs stream: the token becomes the last atom
    /// and this one when they stand next to each other (true).
    ///
    /// Characters are pushed one by one: atoms are mostly one character,
    /// and copying a few bytes as a string cost more than encoding them
    /// (6.5% of an ingest's time went to those copies).
    fn pair_with(&mut self, span: Span) -> bool {
        let (positions, offsets) = self.place(span);
        let last = self.last_at.replace((positions, offsets)).filter(|((_, end), _)| *end == positions.0);
        let atom = &self.analyzed.norm.chars[span.start..span.end];
        if let Some(((start, _), (from, _))) = last {
            self.token.text.clear();
            self.last_atom.iter().chain(atom).for_each(|&c| self.token.text.push(c));
            (self.token.offset_from, self.token.offset_to) = (from, offsets.1);
            (self.token.position, self.token.position_length) = (start, positions.1 - start);
        }
        self.last_atom.clear();
        self.last_atom.extend(atom.iter().copied());
        last.is_some()
    }
}

impl TokenStream for PieceStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            while let Some(span) = self.analyzed.spans.get(self.next).copied() {
                self.next += 1;
                if !self.set.holds_kind(span.kind, &self.analyzed.norm.chars[span.start..span.end]) {
                    continue;
                }
                if self.set != TokenSet::Pairs {
                    self.token_of(span);
                    return true;
                }
                if self.pair_with(span) {
                    return true;
                }
            }
            if !self.next_chunk() {
                return false;
            }
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(String, usize, PieceKind)> {
        analyze(text).into_iter().map(|p| (p.text, p.position, p.kind)).collect()
    }

    fn texts(text: &str) -> Vec<String> {
        analyze(text).into_iter().map(|p| p.text).collect()
    }

    /// Every piece of `text`: (text, position, chars, from, to, kind).
    fn table(text: &str) -> Vec<(String, usize, usize, usize, usize, PieceKind)> {
        analyze(text).into_iter().map(|p| (p.text, p.position, p.chars, p.from, p.to, p.kind)).collect()
    }

    fn row(
        text: &str,
        position: usize,
        chars: usize,
        from: usize,
        to: usize,
        kind: PieceKind,
    ) -> (String, usize, usize, usize, usize, PieceKind) {
        (text.to_string(), position, chars, from, to, kind)
    }

    #[test]
    fn a_word_yields_itself_its_inner_words_and_its_characters() {
        use PieceKind::*;
        assert_eq!(
            table("县人民政府"),
            [
                row("县", 0, 1, 0, 3, Word),
                row("人民政府", 1, 4, 3, 15, Word),
                row("人民", 1, 2, 3, 9, SubWord),
                row("人", 1, 1, 3, 6, Char),
                row("民政", 2, 2, 6, 12, SubWord),
                row("民", 2, 1, 6, 9, Char),
                row("政府", 3, 2, 9, 15, SubWord),
                row("政", 3, 1, 9, 12, Char),
                row("府", 4, 1, 12, 15, Char),
            ]
        );
    }

    #[test]
    fn quote_marks_between_han_characters_take_no_position() {
        use PieceKind::*;
        // The opening mark has no Han neighbour before it and keeps position 0;
        // the closing one, between 公 and 经, is dropped: 三公经费 are consecutive.
        assert_eq!(
            table("“三公”经费"),
            [
                row("三公", 1, 2, 3, 9, Word),
                row("三", 1, 1, 3, 6, Char),
                row("公", 2, 1, 6, 9, Char),
                row("经费", 3, 2, 12, 18, Word),
                row("经", 3, 1, 12, 15, Char),
                row("费", 4, 1, 15, 18, Char),
            ]
        );
        assert_eq!(normalize("「放管服」改革").text(), "「放管服改革");
        assert_eq!(normalize("依据《条例》规定").text(), "依据条例规定");
    }

    #[test]
    fn brackets_next_to_digits_still_separate() {
        use PieceKind::*;
        assert_eq!(
            table("临政发〔2019〕7号"),
            [
                row("临", 0, 1, 0, 3, Word),
                row("政发", 1, 2, 3, 9, Word),
                row("政", 1, 1, 3, 6, Char),
                row("发", 2, 1, 6, 9, Char),
                row("2019", 4, 4, 12, 16, Word),
                row("7", 9, 1, 19, 20, Word),
                row("号", 10, 1, 20, 23, Word),
            ]
        );
    }

    #[test]
    fn full_width_digits_and_letters_fold_to_ascii() {
        assert_eq!(texts("２０１６"), vec!["2016"]);
        assert_eq!(texts("ＡＢＣ"), vec!["abc"]);
    }

    #[test]
    fn traditional_characters_fold_to_simplified() {
        assert_eq!(texts("婚姻登記條例"), texts("婚姻登记条例"));
        assert!(texts("政府資訊公開").contains(&"公开".to_string()));
    }

    #[test]
    fn taiwan_vocabulary_folds_to_mainland_words() {
        assert_eq!(normalize("政府資訊公開").text(), "政府信息公开");
        assert_eq!(normalize("軟體").text(), "软件");
        assert_eq!(texts("政府資訊公開"), texts("政府信息公开"));
        assert_eq!(normalize("政府资讯").text(), "政府资讯", "simplified text is left as it is");
    }

    #[test]
    fn long_words_also_index_the_words_inside_them() {
        let t = texts("中华人民共和国政府");
        for w in ["政府", "人民", "共和国", "中华"] {
            assert!(t.contains(&w.to_string()), "{w} missing from {t:?}");
        }
    }

    #[test]
    fn every_han_character_of_a_word_is_indexed() {
        let t = words("税收征收");
        assert!(t.contains(&("税".into(), 0, PieceKind::Char)), "{t:?}");
    }

    #[test]
    fn positions_count_characters_so_phrases_survive_segmentation() {
        // 人民 starts at char 2, 政府 at char 7 of 中华人民共和国政府.
        let t = words("中华人民共和国政府");
        assert!(t.contains(&("人民".into(), 2, PieceKind::SubWord)), "{t:?}");
        assert!(t.iter().any(|(w, p, _)| w == "政府" && *p == 7), "{t:?}");
        for (i, c) in "中华人民共和国政府".chars().enumerate() {
            assert!(t.contains(&(c.to_string(), i, PieceKind::Char)), "{c} at {i}: {t:?}");
        }
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "ＡＢ，政府資訊公開";
        let pieces = analyze(text);
        let spans: Vec<(&str, &str)> = pieces.iter().map(|p| (&text[p.from..p.to], p.text.as_str())).collect();
        assert_eq!(
            spans,
            [
                ("ＡＢ", "ab"),
                ("政府", "政府"),
                ("政", "政"),
                ("府", "府"),
                ("資訊", "信息"),
                ("資", "信"),
                ("訊", "息"),
                ("公開", "公开"),
                ("公", "公"),
                ("開", "开")
            ]
        );
    }

    #[test]
    fn atoms_spell_the_text_and_words_hold_the_rest() {
        let stream = |set| {
            let mut tokenizer = ChineseTokenizer(set);
            let mut stream = tokenizer.token_stream("县人民政府2016年");
            let mut tokens = Vec::new();
            while stream.advance() {
                tokens.push(stream.token().clone());
            }
            tokens
        };
        let (atoms, words) = (stream(TokenSet::Atoms), stream(TokenSet::Words));
        let atom_text: Vec<&str> = atoms.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(atom_text, ["县", "人", "民", "政", "府", "2016", "年"]);
        let positions: Vec<usize> = atoms.iter().map(|t| t.position).collect();
        assert_eq!(positions, [0, 1, 2, 3, 4, 5, 9]);
        let pairs: Vec<(String, usize, usize, usize)> =
            stream(TokenSet::Pairs).into_iter().map(|t| (t.text, t.position, t.offset_from, t.offset_to)).collect();
        let pair = |text: &str, position, from, to| (text.to_string(), position, from, to);
        assert_eq!(
            pairs,
            [
                pair("县人", 0, 0, 6),
                pair("人民", 1, 3, 9),
                pair("民政", 2, 6, 12),
                pair("政府", 3, 9, 15),
                pair("府2016", 4, 12, 19),
                pair("2016年", 5, 15, 22)
            ]
        );
        assert!(words.iter().any(|t| t.text == "政府" && t.position == 3), "{words:?}");
        assert!(words.iter().all(|t| t.text.chars().count() > 1));
    }

    #[test]
    fn a_long_text_streams_the_tokens_analysis_gives_it_whole() {
        let lines = "关于“三公”经费的说明：临河區政府資訊公开，2016年征地补偿标准为每亩3.5万元（含青苗费）。\n";
        // Without line ends, chunks end after a sentence.
        let sentences = lines.trim_end();
        for paragraph in [lines, sentences] {
            let text = paragraph.repeat(STREAMED_ABOVE / paragraph.len() + 2_000);
            assert!(text.len() > STREAMED_ABOVE + 2 * CHUNK_BYTES);
            assert_streams_as_whole(&text);
        }
    }

    #[test]
    fn atoms_apart_make_no_pair() {
        let mut tokenizer = ChineseTokenizer(TokenSet::Pairs);
        let mut stream = tokenizer.token_stream("公开，支出 经费");
        let mut pairs = Vec::new();
        while stream.advance() {
            pairs.push(stream.token().text.clone());
        }
        assert_eq!(pairs, ["公开", "支出", "经费"]);
    }

    /// The pieces of a whole text that a token set streams: (text, position,
    /// from, to, position length).
    fn expected_tokens(whole: &[Piece], set: TokenSet) -> Vec<(String, usize, usize, usize, usize)> {
        if set != TokenSet::Pairs {
            return whole.iter().filter(|p| set.holds(p)).map(|p| (p.text.clone(), p.position, p.from, p.to, p.chars)).collect();
        }
        let atoms: Vec<&Piece> = whole.iter().filter(|p| set.holds(p)).collect();
        atoms
            .windows(2)
            .filter(|w| w[0].position + w[0].chars == w[1].position)
            .map(|w| (format!("{}{}", w[0].text, w[1].text), w[0].position, w[0].from, w[1].to, w[0].chars + w[1].chars))
            .collect()
    }

    fn assert_streams_as_whole(text: &str) {
        let whole = analyze(text);
        for set in [TokenSet::Atoms, TokenSet::Words, TokenSet::Pairs] {
            let mut tokenizer = ChineseTokenizer(set);
            let mut stream = tokenizer.token_stream(text);
            let mut streamed = Vec::new();
            while stream.advance() {
                let t = stream.token();
                streamed.push((t.text.clone(), t.position, t.offset_from, t.offset_to, t.position_length));
            }
            assert!(!stream.advance());
            let expected = expected_tokens(&whole, set);
            assert_eq!(streamed.len(), expected.len(), "{set:?}");
            assert!(streamed == expected, "{set:?}: the streamed tokens differ from the whole text's");
        }
    }

    #[test]
    fn punctuation_and_spaces_make_no_tokens() {
        assert!(texts("，。、；：“”（） \n\t").is_empty());
    }

    #[test]
    fn mixed_runs_split_into_latin_and_han() {
        let t = texts("第2016号ABC");
        assert!(t.contains(&"2016".to_string()) && t.contains(&"abc".to_string()), "{t:?}");
    }

    #[test]
    fn han_ranges_cover_the_blocks_they_name() {
        for c in ['〇', '㐀', '一', '龥', '鿿', '豈', '𠀀', '𪜀', '𫝀'] {
            assert!(is_han(c), "{c:?} U+{:X}", c as u32);
        }
        for c in ['a', '1', '，', 'ア', '가', '〆'] {
            assert!(!is_han(c), "{c:?}");
        }
    }
}
