//! Plain text and Markdown, and the encoding detection every text format
//! shares: BOM first, then UTF-8 validity, then UTF-16 without a BOM (zero
//! bytes, and code units that read as text in one byte order), then a
//! statistical detector for the legacy Chinese encodings (GB18030/GBK,
//! Big5).

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

use super::{cap_text, ExtractError, Limits, Record};

/// Text decoded from bytes, with the encoding that was used.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    /// encoding_rs name of the encoding (`UTF-8`, `GBK` for GB18030 text, …).
    pub encoding: &'static str,
    /// Whether undecodable bytes were replaced.
    pub lossy: bool,
}

/// Decode text of unknown encoding.
pub fn decode_text(bytes: &[u8]) -> Decoded {
    let encoding = detect(bytes);
    decode_with(bytes, encoding)
}

/// Decode with a known encoding. A BOM is dropped, and honoured (its
/// encoding used instead) unless the bytes after it do not read in its
/// encoding ([`bom_misleads`]).
pub fn decode_with(bytes: &[u8], encoding: &'static Encoding) -> Decoded {
    if let Some(rest) = bom_misleads(bytes) {
        let (text, lossy) = encoding.decode_without_bom_handling(rest);
        return Decoded { text: text.into_owned(), encoding: encoding.name(), lossy };
    }
    let (text, used, lossy) = encoding.decode(bytes);
    Decoded { text: text.into_owned(), encoding: used.name(), lossy }
}

/// The bytes after a byte-order mark that the text behind it belies: GBK
/// text behind a UTF-8 BOM, as a converter or an editor that adds one to
/// whatever it saves leaves it. None without a BOM, or when the text reads
/// in the BOM's encoding ([`reads_as`]: but for a stray byte). A UTF-16
/// BOM is always believed: GBK read as UTF-16 decodes without a
/// replacement (to Hangul, where most GBK lead bytes put it), and UTF-16
/// Chinese without a single ASCII character holds nothing else to tell it by.
pub(super) fn bom_misleads(bytes: &[u8]) -> Option<&[u8]> {
    let (encoding, len) = Encoding::for_bom(bytes)?;
    let rest = &bytes[len..];
    // Valid UTF-8, nearly every file with this BOM, is checked without
    // decoding it (this runs on every decode of such a text).
    let belied = encoding == UTF_8 && std::str::from_utf8(rest).is_err() && !reads_as(rest, UTF_8);
    belied.then_some(rest)
}

/// The warning of text `bytes` decoded in `encoding` (its name) when they
/// start with a byte-order mark of another encoding ([`bom_misleads`]).
pub(super) fn bom_note(bytes: &[u8], encoding: &str) -> Option<String> {
    let (bom, _) = Encoding::for_bom(bytes).filter(|(bom, _)| bom.name() != encoding)?;
    Some(format!("the file starts with a {} byte-order mark but is written in {encoding}; read as {encoding}", bom.name()))
}

/// Look up an encoding by the name [`Decoded::encoding`] gave.
pub fn encoding_named(name: &str) -> Option<&'static Encoding> {
    Encoding::for_label(name.as_bytes())
}

/// The encoding text of unknown encoding is decoded with.
pub(super) fn detect(bytes: &[u8]) -> &'static Encoding {
    if let Some(rest) = bom_misleads(bytes) {
        return detect(rest);
    }
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    if let Some(utf16) = utf16_without_bom(bytes) {
        return utf16;
    }
    if reads_as(bytes, UTF_8) {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    // No top-level-domain hint: a `.cn` hint would bias Big5 text to GBK.
    // GB18030 is the superset of GBK and GB2312: decode with it whenever the
    // detector says simplified Chinese.
    match detector.guess(None, chardetng::Utf8Detection::Allow) {
        e if e == encoding_rs::GBK || e == encoding_rs::GB18030 => encoding_rs::GB18030,
        // A stray or cut byte rules GB18030 out for the detector, which then
        // falls back to windows-1252; Chinese text still reads in GB18030.
        e if e.is_single_byte() && mostly_beyond_ascii(bytes) && reads_as(bytes, encoding_rs::GB18030) => encoding_rs::GB18030,
        e => e,
    }
}

/// Whether one byte in five or more is beyond ASCII: text in a CJK
/// encoding (two bytes beyond ASCII per character), with or without
/// markup, not Western text in a single-byte one.
fn mostly_beyond_ascii(bytes: &[u8]) -> bool {
    bytes.iter().filter(|b| !b.is_ascii()).count() * 5 >= bytes.len()
}

/// One in this many characters beyond ASCII, or one in all, may be
/// replaced (a stray byte, a character cut by a truncated copy) in text
/// that still reads as written in an encoding. Read in the wrong encoding,
/// Chinese text has a replacement in nearly every character: two or more
/// in any text of two characters.
const STRAY_BYTES_PER: usize = 50;

/// Whether `bytes` read in `encoding`: decoding them replaces one
/// character, or at most one in [`STRAY_BYTES_PER`] of those beyond ASCII.
pub(super) fn reads_as(bytes: &[u8], encoding: &'static Encoding) -> bool {
    let (text, lossy) = encoding.decode_without_bom_handling(bytes);
    !lossy || few_replaced(&text)
}

/// Whether one, or at most one in [`STRAY_BYTES_PER`], of the characters
/// beyond ASCII of decoded `text` are replacements (U+FFFD).
pub(super) fn few_replaced(text: &str) -> bool {
    let beyond_ascii = text.chars().filter(|c| !c.is_ascii());
    let (all, replaced) = beyond_ascii.fold((0usize, 0usize), |(all, replaced), c| (all + 1, replaced + usize::from(c == '\u{FFFD}')));
    replaced <= 1 || replaced * STRAY_BYTES_PER <= all
}

/// The warning of a text some of whose bytes `encoding` (its name) could
/// not decode.
pub(super) fn replaced_note(encoding: &str) -> String {
    format!("some bytes are not valid {encoding}; they were replaced")
}

/// Bytes looked at to recognise UTF-16 without a BOM.
const UTF16_SAMPLE_BYTES: usize = 4096;
/// Share of a sample's code units, in percent, that must be plausible text
/// for it to be taken as UTF-16.
const UTF16_PLAUSIBLE_PERCENT: usize = 95;

/// UTF-16 without a BOM. Text in UTF-8, GBK/GB18030 or Big5 never holds a
/// zero byte, and UTF-16 text has one in every ASCII character (line
/// breaks, digits, spaces), so a zero byte in the first
/// [`UTF16_SAMPLE_BYTES`] is what lets UTF-16 be considered at all. The
/// byte order is then the one whose code units are nearly all
/// ([`UTF16_PLAUSIBLE_PERCENT`]) characters of a written script (see
/// [`plausible_unit`]); Chinese read in the wrong order, and binary data,
/// fall far short. UTF-16 text without a BOM and without one ASCII
/// character is not recognised: nothing tells it from GB18030.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(UTF16_SAMPLE_BYTES) & !1];
    let units = sample.len() / 2;
    if units < 2 || !sample.contains(&0) {
        return None;
    }
    let share = |unit: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = sample.chunks_exact(2).map(|pair| unit([pair[0], pair[1]])).collect();
        plausible_units(&units) * 100 / units.len()
    };
    let (le, be) = (share(u16::from_le_bytes), share(u16::from_be_bytes));
    match (le.max(be) >= UTF16_PLAUSIBLE_PERCENT, le >= be) {
        (false, _) => None,
        (true, true) => Some(UTF_16LE),
        (true, false) => Some(UTF_16BE),
    }
}

/// How many of these UTF-16 code units are plausible text: each unit of a
/// plausible character, both units of a surrogate pair, and a high
/// surrogate cut off at the end of the sample.
fn plausible_units(units: &[u16]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < units.len() {
        match units[i] {
            0xD800..=0xDBFF => match units.get(i + 1) {
                Some(0xDC00..=0xDFFF) => {
                    count += 2;
                    i += 1;
                }
                None => count += 1,
                Some(_) => {}
            },
            unit if plausible_unit(unit) => count += 1,
            _ => {}
        }
        i += 1;
    }
    count
}

/// Whether a UTF-16 code unit outside the surrogates is a character of
/// the text these archives hold: line breaks and tabs, the letters of
/// China's scripts and its neighbours' (Latin, Greek, Cyrillic, Arabic
/// for Uyghur, Tibetan, Mongolian, Yi, Hangul, kana), punctuation and the
/// symbols of lists and forms, ideographs and full-width forms. Control
/// characters, private-use units and unassigned blocks are not.
fn plausible_unit(unit: u16) -> bool {
    matches!(unit,
        0x09 | 0x0A | 0x0C | 0x0D
        | 0x20..=0x7E
        | 0xA0..=0x08FF         // Latin-1 … Cyrillic, Armenian, Hebrew, Arabic
        | 0x0E00..=0x0FFF       // Thai, Lao, Tibetan
        | 0x1800..=0x18AF       // Mongolian
        | 0x1E00..=0x27BF       // Latin and Greek extended, punctuation, symbols, ①, ☑
        | 0x3000..=0x9FFF       // CJK punctuation, kana, bopomofo, enclosed, ideographs
        | 0xA000..=0xA4CF       // Yi
        | 0xAC00..=0xD7A3       // Hangul
        | 0xF900..=0xFAFF       // Compatibility Ideographs
        | 0xFB50..=0xFDFF       // Arabic presentation forms
        | 0xFE30..=0xFE4F       // vertical and compatibility forms
        | 0xFE70..=0xFEFF       // Arabic presentation forms
        | 0xFF00..=0xFFEF       // full-width and half-width forms
    )
}

/// Whether decoded text is really binary data with a text extension: more
/// than one in 20 of its first 4,096 characters are control characters or
/// replacements, and more than one (a short text with one stray byte is
/// text).
pub(super) fn looks_binary(text: &str) -> bool {
    let sample: Vec<char> = text.chars().take(4096).collect();
    if sample.is_empty() {
        return false;
    }
    let bad = sample.iter().filter(|&&c| c == '\u{FFFD}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))).count();
    bad > 1 && bad * 20 > sample.len()
}

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<Record, ExtractError> {
    let decoded = decode_text(bytes);
    if looks_binary(&decoded.text) {
        return Err(ExtractError::Binary);
    }
    let mut warnings = Vec::new();
    warnings.extend(bom_note(bytes, decoded.encoding));
    if decoded.lossy {
        warnings.push(replaced_note(decoded.encoding));
    }
    let whole = decoded.text.len() <= limits.max_text_bytes;
    let text = cap_text(decoded.text, limits.max_text_bytes, &mut warnings);
    Ok(Record { text, encoding: whole.then_some(decoded.encoding), warnings, ..Record::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "关于做好政府信息公开工作的通知：各乡镇人民政府，区政府各部门，现将有关事项通知如下。";

    /// A stray byte (or a character cut by a truncated copy) in UTF-8 text
    /// leaves it UTF-8, with one replacement and a warning; the detector
    /// read it as windows-1252, every character garbled.
    #[test]
    fn utf8_text_with_a_stray_byte_is_read_as_utf8() {
        for stray in [&b"\xff"[..], &"说".as_bytes()[..2]] {
            let bytes = [SAMPLE.as_bytes(), stray, SAMPLE.as_bytes()].concat();
            let r = extract(&bytes, &Limits::default()).unwrap();
            assert_eq!(r.text, format!("{SAMPLE}\u{FFFD}{SAMPLE}"));
            assert_eq!(r.warnings, vec![replaced_note("UTF-8")]);
        }
    }

    /// The same for GBK text with a lone lead byte (a character cut in
    /// two) before a line break or markup, which the detector took for
    /// windows-1252. (Before another character, a lone lead byte pairs
    /// with it, and the text after it is garbled in any reader.)
    #[test]
    fn gbk_text_with_a_lone_lead_byte_is_read_as_gb18030() {
        let short =
            [&encoding_rs::GBK.encode("义务教育招生入学通知").0[..], b"\xb5\n", &encoding_rs::GBK.encode("报名时间为五月").0[..]].concat();
        let r = extract(&short, &Limits::default()).unwrap();
        assert_eq!((r.text.as_str(), r.warnings), ("义务教育招生入学通知\u{FFFD}\n报名时间为五月", vec![replaced_note("gb18030")]));
        let gbk = encoding_rs::GBK.encode(SAMPLE).0;
        for stray in [&b"\xd6\n"[..], &b"\xa1<"[..], &b"\xfe\n"[..]] {
            let bytes = [&gbk[..], stray, &gbk[..]].concat();
            let r = extract(&bytes, &Limits::default()).unwrap();
            assert_eq!(r.encoding, Some("gb18030"));
            assert!(r.text.starts_with(SAMPLE) && r.text.ends_with(SAMPLE) && r.text.contains('\u{FFFD}'), "{stray:?}: {}", r.text);
            assert_eq!(r.warnings, vec![replaced_note("gb18030")]);
        }
    }

    /// GBK text behind a UTF-8 byte-order mark was rejected as "binary
    /// data": the BOM alone decided the encoding. It is read as written,
    /// with a warning, and decoded alike when shown (the stored encoding).
    #[test]
    fn gbk_text_behind_a_utf8_bom_is_read_as_gb18030() {
        let bytes = [&[0xEF, 0xBB, 0xBF][..], &encoding_rs::GBK.encode(SAMPLE).0[..]].concat();
        let r = extract(&bytes, &Limits::default()).unwrap();
        assert_eq!((r.text.as_str(), r.encoding), (SAMPLE, Some("gb18030")));
        assert_eq!(r.warnings, vec!["the file starts with a UTF-8 byte-order mark but is written in gb18030; read as gb18030"]);
        assert_eq!(decode_with(&bytes, encoding_named("gb18030").unwrap()).text, SAMPLE);
        // A BOM the text agrees with still decides, whatever is asked.
        let utf8 = [&[0xEF, 0xBB, 0xBF][..], SAMPLE.as_bytes()].concat();
        assert_eq!(decode_with(&utf8, encoding_rs::GB18030).text, SAMPLE);
        assert_eq!(extract(&utf8, &Limits::default()).unwrap().warnings, Vec::<String>::new());
    }

    #[test]
    fn each_encoding_decodes_to_the_same_text() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (SAMPLE.as_bytes().to_vec(), "UTF-8"),
            ([&[0xEF, 0xBB, 0xBF][..], SAMPLE.as_bytes()].concat(), "UTF-8"),
            (encoding_rs::GB18030.encode(SAMPLE).0.into_owned(), "gb18030"),
            (encoding_rs::GBK.encode(SAMPLE).0.into_owned(), "gb18030"),
            (
                encoding_rs::BIG5
                    .encode("關於做好政府資訊公開工作的通知：各鄉鎮人民政府，區政府各部門，現將有關事項通知如下。")
                    .0
                    .into_owned(),
                "Big5",
            ),
            ([&[0xFF, 0xFE][..], &SAMPLE.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<_>>()].concat(), "UTF-16LE"),
            ([&[0xFE, 0xFF][..], &SAMPLE.encode_utf16().flat_map(u16::to_be_bytes).collect::<Vec<_>>()].concat(), "UTF-16BE"),
        ];
        for (bytes, encoding) in cases {
            let d = decode_text(&bytes);
            assert_eq!(d.encoding, encoding);
            assert!(!d.lossy, "{encoding}");
            if encoding == "Big5" {
                assert!(d.text.starts_with("關於"), "{}", d.text);
            } else {
                assert_eq!(d.text, SAMPLE, "{encoding}");
            }
        }
    }

    fn utf16(text: &str, unit: fn(u16) -> [u8; 2]) -> Vec<u8> {
        text.encode_utf16().flat_map(unit).collect()
    }

    #[test]
    fn utf16_without_a_bom_is_recognised_in_either_byte_order() {
        let text = format!("{SAMPLE}\n一、2019年城乡低保标准提高到每人每月580元。\n");
        for (bytes, encoding) in [(utf16(&text, u16::to_le_bytes), "UTF-16LE"), (utf16(&text, u16::to_be_bytes), "UTF-16BE")] {
            let d = decode_text(&bytes);
            assert_eq!((d.text.as_str(), d.encoding, d.lossy), (text.as_str(), encoding, false));
        }
        // Past the sample, and cut inside a surrogate pair at its end.
        let long = format!("{}通知：𠀀二〇一九年\n", "政府信息公开\n".repeat(292));
        assert_eq!(long.encode_utf16().position(|u| (0xD800..0xDC00).contains(&u)), Some(UTF16_SAMPLE_BYTES / 2 - 1));
        assert_eq!(decode_text(&utf16(&long, u16::to_be_bytes)).text, long);
    }

    #[test]
    fn the_corpus_in_every_encoding_is_detected_as_that_encoding() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
        let mut checked = 0;
        for entry in walkdir::WalkDir::new(corpus).into_iter().map(Result::unwrap) {
            let name = entry.file_name().to_string_lossy();
            if !(name.ends_with(".txt") || name.ends_with(".md")) {
                continue;
            }
            // The corpus's texts in other encodings are left to the other tests.
            let Ok(text) = String::from_utf8(std::fs::read(entry.path()).unwrap()) else { continue };
            let text = text.trim_start_matches('\u{FEFF}');
            let cases = [
                (encoding_rs::GB18030.encode(text).0.into_owned(), "gb18030"),
                (utf16(text, u16::to_le_bytes), "UTF-16LE"),
                (utf16(text, u16::to_be_bytes), "UTF-16BE"),
            ];
            for (bytes, encoding) in cases {
                let d = decode_text(&bytes);
                assert_eq!((d.encoding, d.text == text), (encoding, true), "{name}");
            }
            checked += 1;
        }
        assert!(checked >= 40, "only {checked} corpus texts");
    }

    #[test]
    fn legacy_text_that_reads_as_plausible_utf16_is_not_taken_for_it() {
        // GB18030's four-byte Mongolian and Tibetan, and ASCII-heavy GBK, read
        // as UTF-16 code units would be mostly ideographs; they hold no zero byte.
        for text in [
            "ᠮᠣᠩᠭᠣᠯ ᠬᠡᠯᠡ ᠪᠢᠴᠢᠭ ᠦᠨ ᠠᠯᠪᠠᠨ ᠪᠢᠴᠢᠭ",
            "བོད་ཡིག་གི་ཡིག་ཆ་",
            "ID,Name,Date,Amount\n1001,abc,2019-03-15,580\n1002,xyz,2019-03-16,620\n备注\n",
        ] {
            let d = decode_text(&encoding_rs::GB18030.encode(text).0);
            assert_eq!((d.encoding, d.text.as_str()), ("gb18030", text));
        }
    }

    #[test]
    fn binary_junk_with_a_text_extension_is_rejected() {
        let junk: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert_eq!(extract(&junk, &Limits::default()).unwrap_err(), ExtractError::Binary);
        // Zero bytes do not make junk UTF-16.
        let zeros: Vec<u8> = junk.iter().enumerate().map(|(i, &b)| if i % 7 == 0 { 0 } else { b }).collect();
        assert_eq!(extract(&zeros, &Limits::default()).unwrap_err(), ExtractError::Binary);
    }

    #[test]
    fn text_past_the_limit_is_cut_and_reported() {
        let limits = Limits { max_text_bytes: 10, ..Limits::default() };
        let r = extract("一二三四五六七八".as_bytes(), &limits).unwrap();
        assert_eq!(r.text, "一二三");
        assert_eq!(r.encoding, None);
        assert_eq!(r.warnings.len(), 1);
    }
}
