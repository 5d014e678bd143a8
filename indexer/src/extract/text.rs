//! Plain text and Markdown, and the encoding detection every text format
//! shares: BOM first, then UTF-8 validity, then a statistical detector for
//! the legacy Chinese encodings (GB18030/GBK, Big5).

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

/// Decode with a known encoding (BOM, if any, is honoured and dropped).
pub fn decode_with(bytes: &[u8], encoding: &'static Encoding) -> Decoded {
    let (text, used, lossy) = encoding.decode(bytes);
    Decoded { text: text.into_owned(), encoding: used.name(), lossy }
}

/// Look up an encoding by the name [`Decoded::encoding`] gave.
pub fn encoding_named(name: &str) -> Option<&'static Encoding> {
    Encoding::for_label(name.as_bytes())
}

fn detect(bytes: &[u8]) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    if let Some(utf16) = utf16_without_bom(bytes) {
        return utf16;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    // No top-level-domain hint: a `.cn` hint would bias Big5 text to GBK.
    // GB18030 is the superset of GBK and GB2312: decode with it whenever the
    // detector says simplified Chinese.
    match detector.guess(None, chardetng::Utf8Detection::Allow) {
        e if e == encoding_rs::GBK || e == encoding_rs::GB18030 => encoding_rs::GB18030,
        e => e,
    }
}

/// UTF-16 without a BOM shows as every other byte zero in CJK-free text,
/// which the detector would not guess; accept it only when that is clear.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || bytes.len() % 2 != 0 {
        return None;
    }
    let pairs = bytes.len() / 2;
    let zero_at = |parity: usize| bytes.iter().skip(parity).step_by(2).filter(|&&b| b == 0).count();
    if zero_at(1) * 10 > pairs * 9 {
        Some(UTF_16LE)
    } else if zero_at(0) * 10 > pairs * 9 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Whether decoded text is really binary data with a text extension.
pub(super) fn looks_binary(text: &str) -> bool {
    let sample: Vec<char> = text.chars().take(4096).collect();
    if sample.is_empty() {
        return false;
    }
    let bad = sample.iter().filter(|&&c| c == '\u{FFFD}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))).count();
    bad * 20 > sample.len()
}

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<Record, ExtractError> {
    let decoded = decode_text(bytes);
    if looks_binary(&decoded.text) {
        return Err(ExtractError::Binary);
    }
    let mut warnings = Vec::new();
    if decoded.lossy {
        warnings.push(format!("some bytes are not valid {}; they were replaced", decoded.encoding));
    }
    let whole = decoded.text.len() <= limits.max_text_bytes;
    let text = cap_text(decoded.text, limits.max_text_bytes, &mut warnings);
    Ok(Record { text, encoding: whole.then_some(decoded.encoding), warnings, ..Record::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "关于做好政府信息公开工作的通知：各乡镇人民政府，区政府各部门，现将有关事项通知如下。";

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

    #[test]
    fn binary_junk_with_a_text_extension_is_rejected() {
        let junk: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert_eq!(extract(&junk, &Limits::default()).unwrap_err(), ExtractError::Binary);
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
