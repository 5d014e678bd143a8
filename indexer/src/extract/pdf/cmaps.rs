//! The predefined CJK CMaps (PDF 32000-1 § 9.7.5.2) whose character codes
//! are those of a known charset, so that a code maps to Unicode without
//! the CMap's table of CIDs: `UniGB-UCS2` and the other `Uni…` CMaps are
//! Unicode (UCS-2, UTF-16BE, UTF-8 or UTF-32BE code units), `GB-EUC` and
//! `GBpc-EUC` are GB 2312 in EUC form, `GBK-EUC` and `GBKp-EUC` are GBK,
//! `GBK2K` is GB 18030, and `B5pc`, `ETen-B5`, `ETenms-B5` and
//! `HKscs-B5` are Big5. Each comes as `-H` (horizontal writing) and `-V`
//! (vertical). Chinese typesetting systems and OFD→PDF converters write
//! STSong-Light and the other Adobe CJK fonts with these, unembedded and
//! without a `ToUnicode` map.

use encoding_rs::{Encoding, BIG5, GB18030, GBK, UTF_16BE, UTF_8};

/// A predefined CMap: how its codes split and what they mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Cmap {
    charset: Charset,
    /// Written in columns (a `-V` CMap).
    pub(super) vertical: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Charset {
    /// Two bytes a code.
    Ucs2,
    /// Two bytes, or four for a surrogate pair.
    Utf16,
    /// One to four bytes, as the lead byte says.
    Utf8,
    /// Four bytes a code.
    Utf32,
    /// One byte (ASCII) unless the lead byte is within `leads` (first and
    /// last): then two, or four when `four_bytes` (GB 18030) and a digit
    /// follows the lead.
    Multibyte { encoding: &'static Encoding, leads: (u8, u8), four_bytes: bool },
}

/// The Chinese charset CMaps by name (without `-H`/`-V`), with the lead
/// bytes of their two-byte codes (the CMaps' code space ranges).
const MULTIBYTE: [(&str, &Encoding, (u8, u8), bool); 9] = [
    ("GB-EUC", GBK, (0xA1, 0xFE), false),
    ("GBpc-EUC", GBK, (0xA1, 0xFC), false),
    ("GBK-EUC", GBK, (0x81, 0xFE), false),
    ("GBKp-EUC", GBK, (0x81, 0xFE), false),
    ("GBK2K", GB18030, (0x81, 0xFE), true),
    ("B5pc", BIG5, (0xA1, 0xFC), false),
    ("ETen-B5", BIG5, (0xA1, 0xFE), false),
    ("ETenms-B5", BIG5, (0xA1, 0xFE), false),
    ("HKscs-B5", BIG5, (0x88, 0xFE), false),
];

/// The Unicode CMaps end in these (`UniGB-UCS2`, `UniCNS-UTF16`,
/// `UniJIS-UCS2-HW`, `UniKS-UTF8`, …).
const UNICODE: [(&str, Charset); 5] = [
    ("-UCS2", Charset::Ucs2),
    ("-UCS2-HW", Charset::Ucs2),
    ("-UTF16", Charset::Utf16),
    ("-UTF8", Charset::Utf8),
    ("-UTF32", Charset::Utf32),
];

/// The predefined CMap named `name` (`GBK-EUC-H`), or None when it is not
/// one whose codes this reader can map (`Identity-H` is not: its codes
/// are glyph numbers).
pub(super) fn predefined(name: &[u8]) -> Option<Cmap> {
    let name = std::str::from_utf8(name).ok()?;
    let (base, vertical) = match name.rsplit_once('-')? {
        (base, "H") => (base, false),
        (base, "V") => (base, true),
        _ => return None,
    };
    let unicode = || UNICODE.iter().find(|(end, _)| base.starts_with("Uni") && base.ends_with(end)).map(|&(_, charset)| charset);
    let multibyte = || {
        MULTIBYTE.iter().find(|(cmap, ..)| *cmap == base).map(|&(_, encoding, leads, four_bytes)| Charset::Multibyte {
            encoding,
            leads,
            four_bytes,
        })
    };
    Some(Cmap { charset: unicode().or_else(multibyte)?, vertical })
}

impl Cmap {
    /// The codes of a shown string, in order (a cut-off code at the end
    /// is left out).
    pub(super) fn codes<'s>(&self, mut bytes: &'s [u8]) -> impl Iterator<Item = &'s [u8]> + use<'s> {
        let charset = self.charset;
        std::iter::from_fn(move || {
            let length = charset.code_length(bytes)?;
            let (code, rest) = bytes.split_at_checked(length)?;
            bytes = rest;
            Some(code)
        })
    }

    /// The text of one code (None when the charset has none for it).
    pub(super) fn unicode(&self, code: &[u8]) -> Option<String> {
        let decode =
            |encoding: &'static Encoding| encoding.decode_without_bom_handling_and_without_replacement(code).map(|s| s.into_owned());
        match self.charset {
            Charset::Ucs2 | Charset::Utf16 => decode(UTF_16BE),
            Charset::Utf8 => decode(UTF_8),
            Charset::Utf32 => code.try_into().ok().map(u32::from_be_bytes).and_then(char::from_u32).map(String::from),
            Charset::Multibyte { encoding, .. } => decode(encoding),
        }
    }
}

impl Charset {
    /// Bytes of the code that starts `bytes` (None at the end).
    fn code_length(&self, bytes: &[u8]) -> Option<usize> {
        let lead = *bytes.first()?;
        Some(match self {
            Charset::Ucs2 => 2,
            Charset::Utf16 if (0xD8..=0xDB).contains(&lead) => 4,
            Charset::Utf16 => 2,
            Charset::Utf8 => match lead {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            },
            Charset::Utf32 => 4,
            Charset::Multibyte { leads: (first, last), four_bytes, .. } if (*first..=*last).contains(&lead) => match bytes.get(1) {
                Some(b'0'..=b'9') if *four_bytes => 4,
                _ => 2,
            },
            Charset::Multibyte { .. } => 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text of a string shown in the CMap `name`, code by code
    /// (`·` for a code without text).
    fn read(name: &str, bytes: &[u8]) -> String {
        let cmap = predefined(name.as_bytes()).unwrap_or_else(|| panic!("{name} is known"));
        cmap.codes(bytes).map(|code| cmap.unicode(code).unwrap_or_else(|| "·".into())).collect::<Vec<_>>().join("|")
    }

    #[test]
    fn codes_split_by_each_charsets_lead_bytes() {
        assert_eq!(read("UniGB-UCS2-H", b"\x4e\x2d\x00\x41\x65\x87"), "中|A|文");
        assert_eq!(read("UniGB-UTF16-V", b"\x4e\x2d\xd8\x40\xdc\x00\x00\x31"), "中|𠀀|1");
        assert_eq!(read("UniCNS-UTF8-H", "中A文".as_bytes()), "中|A|文");
        assert_eq!(read("UniGB-UTF32-H", b"\x00\x02\x00\x00\x00\x00\x00\x41"), "𠀀|A");
        assert_eq!(read("GB-EUC-H", b"2016\xc4\xea"), "2|0|1|6|年");
        assert_eq!(read("GBK-EUC-H", b"\x81\x40A\xd6\xd0"), "丂|A|中");
        assert_eq!(read("GBK2K-H", b"\x81\x39\xee\x39\xd6\xd0a"), "㐀|中|a");
        assert_eq!(read("ETen-B5-H", b"\xa4\xa4\xb0\xea1"), "中|國|1");
        assert_eq!(read("B5pc-V", b"\xfd\xc6\x57"), "·|灣");
        assert_eq!(read("HKscs-B5-H", b"\x88\x40"), "㇀");
    }

    #[test]
    fn a_code_cut_off_at_the_end_is_left_out() {
        assert_eq!(read("UniGB-UCS2-H", b"\x4e\x2d\x65"), "中");
        assert_eq!(read("GBK-EUC-H", b"A\xd6"), "A");
    }

    #[test]
    fn only_charset_cmaps_are_known() {
        assert_eq!(predefined(b"GBK-EUC-V").map(|c| c.vertical), Some(true));
        assert_eq!(predefined(b"UniJIS-UCS2-HW-H").map(|c| c.vertical), Some(false));
        for unknown in ["Identity-H", "Identity-V", "CNS-EUC-H", "GBK-EUC", "GBK-EUC-X", "H", "UniGB-UCS2-H\u{0}"] {
            assert_eq!(predefined(unknown.as_bytes()), None, "{unknown}");
        }
    }
}
