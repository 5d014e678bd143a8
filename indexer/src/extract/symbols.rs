//! The characters of the old symbol fonts (Symbol, Wingdings, Wingdings 2)
//! as Unicode. A Word `w:sym` names a font and a code in it, not a
//! character: 年龄≥80周岁 is stored as 年龄, `Symbol` code `F0B3`, 80周岁,
//! and a ticked box as `Wingdings` code `F0FE`. Word writes the code in the
//! private range `F020`–`F0FF` (the font's own code plus `F000`); a bare
//! code `20`–`FF` means the same.
//!
//! Each font has one table of the codes these documents use: Symbol's
//! Greek letters, math and arrows (the Adobe Symbol encoding), the boxes,
//! ticks, bullets, stars and circled numbers of Wingdings and Wingdings 2.
//! A code a table does not hold, or a symbol font not listed here, gives
//! [`UNMAPPED`]: the reader sees that a symbol stood there, never nothing.

/// Shown for a symbol that has no Unicode equivalent here: U+FFFD
/// REPLACEMENT CHARACTER, the character Unicode sets aside for exactly
/// this. It is not □, which is a real symbol (Wingdings `F06F`), so an
/// unknown symbol never reads as a box that was drawn on purpose.
pub(super) const UNMAPPED: char = '\u{FFFD}';

/// Runs of consecutive codes of one font: the first code and the
/// characters from there on, one per code.
type Table = &'static [(u8, &'static str)];

/// Symbol (the Adobe Symbol encoding). Its 0x60 (radical extender) and
/// 0xF0 (no glyph) have no character.
const SYMBOL: Table = &[
    (0x20, " !∀#∃%&∋()∗+,−./0123456789:;<=>?"),
    (0x40, "≅ΑΒΧΔΕΦΓΗΙϑΚΛΜΝΟΠΘΡΣΤΥςΩΞΨΖ[∴]⊥_"),
    (0x61, "αβχδεφγηιϕκλμνοπθρστυϖωξψζ{|}∼"),
    (0xA0, "€ϒ′≤⁄∞ƒ♣♦♥♠↔←↑→↓°±″≥×∝∂•÷≠≡≈…⏐⎯↵"),
    (0xC0, "ℵℑℜ℘⊗⊕∅∩∪⊃⊇⊄⊂⊆∈∉∠∇®©™∏√⋅¬∧∨⇔⇐⇑⇒⇓◊〈®©™∑⎛⎜⎝⎡⎢⎣⎧⎨⎩⎪"),
    (0xF1, "〉∫⌠⎮⌡⎞⎟⎠⎤⎥⎦⎫⎬⎭"),
];

/// Wingdings: office and hand signs, bullets, boxes, stars, circled
/// numbers, arrows, and the ballot boxes and ticks at the end.
const WINGDINGS: Table = &[
    (0x21, "✏✂✁"),
    (0x28, "☎✆✉"),
    (0x36, "⌛⌨"),
    (0x3E, "✇✍"),
    (0x41, "✌👌👍👎☜☞☝☟✋☺😐☹💣☠⚐🚩✈☼💧❄"),
    (0x56, "✞"),
    (0x58, "✠✡☪☯ॐ☸♈♉♊♋♌♍♎♏♐♑♒♓"),
    (0x6C, "●❍■□"),
    (0x71, "❑❒⬧⧫◆❖⬥⌧"),
    (0x7A, "⌘❀✿❝❞"),
    (0x80, "⓪①②③④⑤⑥⑦⑧⑨⑩⓿❶❷❸❹❺❻❼❽❾❿"),
    (0x9E, "·•▪○⭕"),
    (0xA4, "◉◎"),
    (0xA7, "▪◻"),
    (0xAA, "✦★✶✴✹✵"),
    (0xB1, "⌖⟡⌑"),
    (0xB5, "✪✰🕐🕑🕒🕓🕔🕕🕖🕗🕘🕙🕚🕛"),
    (0xD5, "⌫⌦"),
    (0xD8, "➢"),
    (0xDC, "➲"),
    (0xE8, "➔"),
    (0xEF, "⇦⇨⇧⇩⬄⇳"),
    (0xF9, "▭▫✗✓☒☑"),
];

/// Wingdings 2: the ticks and ballot boxes of forms (`R` is ☑, `T` is ☒,
/// `£` the empty box), circled numbers, bullets and diamonds.
const WINGDINGS_2: Table = &[(0x4F, "✗✓"), (0x52, "☑☒☒"), (0x69, "⓪①②③④⑤⑥⑦⑧⑨⑩⓿❶❷❸❹❺❻❼❽❾❿"), (0x95, "•●"), (0xA3, "□"), (0xAE, "◆◇")];

/// The symbol fonts known, by name as Word writes it (compared without
/// regard to case).
const FONTS: [(&str, Table); 3] = [("Symbol", SYMBOL), ("Wingdings", WINGDINGS), ("Wingdings 2", WINGDINGS_2)];

/// The first code of the private range a symbol font's codes are written in.
const PRIVATE_BASE: u32 = 0xF000;

/// The character a `w:sym` stands for, from its `w:font` and its `w:char`
/// (hexadecimal), or `None` when it has none here (the caller shows
/// [`UNMAPPED`]). A font that is not a symbol font takes the code as the
/// Unicode character itself, unless it is a private-use code (which only
/// that font could draw).
pub(super) fn symbol_char(font: Option<&str>, code: Option<&str>) -> Option<char> {
    let code = u32::from_str_radix(code?.trim(), 16).ok()?;
    let font = font.unwrap_or("").trim();
    match FONTS.iter().find(|(name, _)| name.eq_ignore_ascii_case(font)) {
        Some((_, table)) => {
            let code = if code >= PRIVATE_BASE { code - PRIVATE_BASE } else { code };
            lookup(table, u8::try_from(code).ok()?)
        }
        None => char::from_u32(code).filter(|c| !c.is_control() && !is_private_use(*c)),
    }
}

fn lookup(table: Table, code: u8) -> Option<char> {
    table.iter().rev().find(|(first, _)| code >= *first).and_then(|(first, chars)| chars.chars().nth(usize::from(code - first)))
}

fn is_private_use(c: char) -> bool {
    matches!(c as u32, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_run_holds_one_character_per_code_within_the_byte_range() {
        for (font, table) in FONTS {
            for pair in table.windows(2) {
                let (first, chars) = pair[0];
                let end = usize::from(first) + chars.chars().count();
                assert!(end <= usize::from(pair[1].0), "{font}: run at {first:#X} overlaps the next");
            }
            let (first, chars) = table[table.len() - 1];
            assert!(usize::from(first) + chars.chars().count() <= 0x100, "{font}: last run passes 0xFF");
        }
    }

    #[test]
    fn codes_map_in_each_font_and_unknown_ones_do_not() {
        let cases = [
            ("Symbol", "F0B3", Some('≥')),
            ("Symbol", "F0A3", Some('≤')),
            ("symbol", "B4", Some('×')),
            ("Symbol", "F0B1", Some('±')),
            ("Symbol", "F0B8", Some('÷')),
            ("Symbol", "F0B9", Some('≠')),
            ("Symbol", "F0B0", Some('°')),
            ("Symbol", "F0AE", Some('→')),
            ("Symbol", "F0B7", Some('•')),
            ("Symbol", "F061", Some('α')),
            ("Symbol", "F057", Some('Ω')),
            ("Symbol", "F07A", Some('ζ')),
            ("Symbol", "F0E5", Some('∑')),
            ("Symbol", "F0FE", Some('⎭')),
            ("Symbol", "F060", None),
            ("Symbol", "F0F0", None),
            ("Wingdings", "F0FE", Some('☑')),
            ("Wingdings", "F0A8", Some('◻')),
            ("Wingdings", "F06F", Some('□')),
            ("Wingdings", "F0FD", Some('☒')),
            ("Wingdings", "F0FC", Some('✓')),
            ("Wingdings", "F06C", Some('●')),
            ("Wingdings", "F075", Some('◆')),
            ("Wingdings", "F0AB", Some('★')),
            ("Wingdings", "F081", Some('①')),
            ("Wingdings", "F0B7", Some('🕐')),
            ("Wingdings", "F0C2", Some('🕛')),
            ("Wingdings", "F0F5", None),
            ("Wingdings 2", "F052", Some('☑')),
            ("Wingdings 2", "F054", Some('☒')),
            ("Wingdings 2", "F0A3", Some('□')),
            ("Wingdings 2", "F050", Some('✓')),
            ("Wingdings 2", "F06A", Some('①')),
            ("Wingdings 3", "F0E0", None),
            ("Webdings", "F061", None),
            ("Wingdings", "F1FE", None),
            ("Wingdings", "zz", None),
            ("宋体", "2265", Some('≥')),
            ("宋体", "E001", None),
            ("宋体", "0007", None),
        ];
        for (font, code, expected) in cases {
            assert_eq!(symbol_char(Some(font), Some(code)), expected, "{font} {code}");
        }
        assert_eq!(symbol_char(Some("Symbol"), None), None);
        assert_eq!(symbol_char(None, Some("2611")), Some('☑'));
    }
}
