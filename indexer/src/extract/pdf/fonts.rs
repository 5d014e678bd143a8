//! Type0 (CJK) fonts that pdf-extract cannot read as the file has them,
//! made readable page by page, just before it reads the page.
//!
//! * A font encoded with a predefined charset CMap ([`super::cmaps`],
//!   `UniGB-UCS2-H`, `GBK-EUC-H`, `ETen-B5-V`, …): pdf-extract knows only
//!   `Identity-H`/`-V` and panics on any other name. The strings the page
//!   shows in such a font are re-coded to two-byte codes, the font becomes
//!   an Identity one, and it gets a `ToUnicode` map of those codes, made
//!   from the charset (a map the file gives is set aside: the charset
//!   says what the codes are). Codes and map are the page's own:
//!   pdf-extract parses a font's map again on every page, and its parser
//!   slows down faster than the map grows (measured on the project
//!   machine: 7.7 ms a page for a map of 1,000 codes, 39 ms for 5,000,
//!   453 ms for the 22,000 of GBK), so a map of the whole charset, or of
//!   a whole book, would cost up to half a second a page.
//!
//!   Describing the CMap's code space to pdf-extract instead, with an
//!   embedded CMap stream, would spare the re-coding, but its CMap parser
//!   (adobe-cmap-parser 0.4) takes a code space range's byte width as half
//!   of what it is: a faithful `GBK-EUC-H` code space gives no text at
//!   all, and one written to suit that misreading would break the day it
//!   is fixed.
//! * A vertical font (`-V`, `Identity-V` included): pdf-extract moves
//!   along a line after each character whatever the writing mode. With
//!   zero advance widths a string stays where it starts, and a page that
//!   shows text in such a font is read in columns ([`super::columns`]).
//! * A font whose CMap name this reader does not know (`CNS-EUC-H`): a
//!   page that shows text in it is skipped, with that reason.
//!
//! Only fonts that are objects of their own (referenced, as writers do)
//! are found; a font written inside a resource dictionary is left to
//! pdf-extract.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use pdf_extract::content::Content;
use pdf_extract::{Dictionary, Document, Object, ObjectId, Stream};

use super::cmaps::{predefined, Cmap};
use super::{inherited_resources, MAX_FORM_DEPTH};

/// Advance width (thousandths of an em) of printable ASCII in a re-coded
/// horizontal font; every other character gets the em of a CJK glyph.
const ASCII_WIDTH: i64 = 500;
const CJK_WIDTH: i64 = 1000;
/// First code given to a character other than printable ASCII (which
/// keeps its own byte as code, so one width table fits every page).
const FIRST_CODE: u16 = 0x100;

/// What a Type0 font needs before pdf-extract may read it.
enum Kind {
    /// Encoded with this predefined CMap: its strings are re-coded.
    Recoded(Cmap),
    /// `Identity-V`: read as it is, in columns.
    Vertical,
    /// Encoded with a CMap this reader does not know; says why its text
    /// cannot be read.
    Unknown(String),
}

/// The Type0 fonts of a document that need more than pdf-extract does.
pub(super) struct Type0Fonts {
    kinds: HashMap<ObjectId, Kind>,
    /// The `ToUnicode` stream given to each re-coded font, rewritten for
    /// every page.
    to_unicode: HashMap<ObjectId, ObjectId>,
    /// Each form re-coded so far, with its content as the file has it.
    original_forms: HashMap<ObjectId, Vec<u8>>,
}

impl Type0Fonts {
    /// Find the fonts, and give the re-coded and vertical ones what
    /// pdf-extract will look for (an Identity encoding, a descendant font
    /// with the widths above and a font descriptor, a `ToUnicode` stream).
    pub(super) fn new(doc: &mut Document) -> Type0Fonts {
        let kinds: HashMap<ObjectId, Kind> =
            doc.objects.iter().filter_map(|(&id, object)| Some((id, kind(doc, object.as_dict().ok()?)?))).collect();
        let mut to_unicode = HashMap::new();
        for (&font, kind) in &kinds {
            let recoded = match kind {
                Kind::Recoded(cmap) => Some(cmap),
                Kind::Vertical => None,
                Kind::Unknown(_) => continue,
            };
            let vertical = recoded.is_none_or(|cmap| cmap.vertical);
            let descendant = doc.add_object(descendant_font(doc, font, recoded.is_some(), vertical));
            let map = recoded.map(|_| doc.add_object(Stream::new(Dictionary::new(), Vec::new())));
            let Ok(dict) = doc.get_object_mut(font).and_then(Object::as_dict_mut) else { continue };
            dict.set("DescendantFonts", vec![Object::Reference(descendant)]);
            if let Some(map) = map {
                dict.set("Encoding", Object::Name(if vertical { b"Identity-V".to_vec() } else { b"Identity-H".to_vec() }));
                dict.set("ToUnicode", Object::Reference(map));
                to_unicode.insert(font, map);
            }
        }
        Type0Fonts { kinds, to_unicode, original_forms: HashMap::new() }
    }

    /// Make `page` readable: re-code what it shows in re-coded fonts (its
    /// content and the forms it draws) and give those fonts the page's
    /// `ToUnicode` maps. Ok(true) when it shows text in a vertical font;
    /// Err says which font it shows text in that cannot be read.
    pub(super) fn prepare_page(&mut self, doc: &mut Document, page: ObjectId) -> Result<bool, String> {
        if self.kinds.is_empty() {
            return Ok(false);
        }
        let mut walk = Walk {
            doc,
            kinds: &self.kinds,
            original_forms: &self.original_forms,
            codes: HashMap::new(),
            forms: Vec::new(),
            walked: HashSet::new(),
            vertical: false,
            unknown: None,
        };
        let resources = doc.get_dictionary(page).ok().and_then(|dict| inherited_resources(doc, dict).ok().flatten());
        let content = doc.get_page_content(page).ok().and_then(|content| walk.stream(&content, resources, 0));
        let Walk { codes, forms, vertical, unknown, .. } = walk;
        if let Some(reason) = unknown {
            return Err(reason);
        }
        if let Some(content) = content {
            let content = doc.add_object(Stream::new(Dictionary::new(), content));
            if let Ok(dict) = doc.get_object_mut(page).and_then(Object::as_dict_mut) {
                dict.set("Contents", Object::Reference(content));
            }
        }
        for (form, original, recoded) in forms {
            self.original_forms.entry(form).or_insert(original);
            if let Ok(stream) = doc.get_object_mut(form).and_then(Object::as_stream_mut) {
                stream.set_plain_content(recoded);
            }
        }
        for (font, codes) in codes {
            let map = self.to_unicode.get(&font).and_then(|&map| doc.get_object_mut(map).ok()).and_then(|o| o.as_stream_mut().ok());
            if let Some(map) = map {
                map.set_plain_content(codes.to_unicode());
            }
        }
        Ok(vertical)
    }
}

/// What the Type0 font `font` needs, if anything.
fn kind(doc: &Document, font: &Dictionary) -> Option<Kind> {
    if !font.get(b"Subtype").and_then(Object::as_name).is_ok_and(|s| s == b"Type0") {
        return None;
    }
    let encoding = doc.dereference(font.get(b"Encoding").ok()?).ok()?.1.as_name().ok()?;
    match encoding {
        b"Identity-H" => None,
        b"Identity-V" => Some(Kind::Vertical),
        name => Some(predefined(name).map(Kind::Recoded).unwrap_or_else(|| {
            let base_font = font.get(b"BaseFont").and_then(Object::as_name).map(String::from_utf8_lossy).unwrap_or_default();
            let cmap = String::from_utf8_lossy(name);
            Kind::Unknown(format!("its text is in the font {base_font}, whose CMap {cmap} this reader cannot map to Unicode"))
        })),
    }
}

/// A copy of the descendant CIDFont of `font` with the widths pdf-extract
/// is to use: none for a vertical font, half an em for ASCII in a re-coded
/// one (its codes are this reader's, not the file's, so the file's widths
/// no longer apply). pdf-extract requires a font descriptor; one that is
/// missing is given as empty, since no text is read from it.
fn descendant_font(doc: &Document, font: ObjectId, recoded: bool, vertical: bool) -> Dictionary {
    let original = doc
        .get_dictionary(font)
        .and_then(|font| font.get(b"DescendantFonts"))
        .and_then(|fonts| doc.dereference(fonts))
        .and_then(|(_, fonts)| fonts.as_array())
        .ok()
        .and_then(|fonts| fonts.first())
        .and_then(|first| doc.dereference(first).ok())
        .and_then(|(_, first)| first.as_dict().ok());
    let mut descendant = original.cloned().unwrap_or_default();
    descendant.remove(b"W");
    descendant.set("DW", if vertical { 0 } else { CJK_WIDTH });
    if recoded && !vertical {
        descendant.set("W", vec![Object::Integer(0x20), Object::Array(vec![Object::Integer(ASCII_WIDTH); 0x7F - 0x20])]);
    }
    let descriptor = descendant.get(b"FontDescriptor").and_then(|d| doc.dereference(d)).and_then(|(_, d)| d.as_dict());
    if descriptor.is_err() {
        descendant.set("FontDescriptor", Dictionary::new());
    }
    descendant
}

/// One walk through the content a page runs.
struct Walk<'d> {
    doc: &'d Document,
    kinds: &'d HashMap<ObjectId, Kind>,
    original_forms: &'d HashMap<ObjectId, Vec<u8>>,
    /// The codes given on this page, by re-coded font.
    codes: HashMap<ObjectId, Codes>,
    /// Forms re-coded: their content as the file has it, and re-coded.
    forms: Vec<(ObjectId, Vec<u8>, Vec<u8>)>,
    walked: HashSet<ObjectId>,
    vertical: bool,
    unknown: Option<String>,
}

impl<'d> Walk<'d> {
    /// Re-code a content stream run with `resources`, as pdf-extract runs
    /// it (a form starts with no font). Gives the new content when any
    /// string in it was re-coded. Inline images are left out of it: lopdf
    /// cannot write them back, and they hold no text.
    fn stream(&mut self, data: &[u8], resources: Option<&'d Dictionary>, depth: usize) -> Option<Vec<u8>> {
        let mut content = Content::decode(data).ok()?;
        let (mut font, mut saved) = (None, Vec::new());
        let mut recoded = false;
        for operation in &mut content.operations {
            match operation.operator.as_str() {
                "q" => saved.push(font),
                "Q" => font = saved.pop().unwrap_or(font),
                "Tf" => font = operation.operands.first().and_then(|name| font_named(self.doc, resources?, name)),
                "Tj" | "TJ" | "'" | "\"" => recoded |= font.is_some_and(|font| self.show(font, &mut operation.operands)),
                "Do" => {
                    if let Some(name) = operation.operands.first() {
                        self.form(name, resources, depth);
                    }
                }
                _ => {}
            }
        }
        if !recoded {
            return None;
        }
        content.operations.retain(|operation| operation.operator != "BI");
        content.encode().ok()
    }

    /// Note text shown in `font`, re-coding its strings when it is a
    /// re-coded font (then true).
    fn show(&mut self, font: ObjectId, operands: &mut [Object]) -> bool {
        match self.kinds.get(&font) {
            None => false,
            Some(Kind::Vertical) => {
                self.vertical = true;
                false
            }
            Some(Kind::Unknown(reason)) => {
                self.unknown.get_or_insert_with(|| reason.clone());
                false
            }
            Some(Kind::Recoded(cmap)) => {
                self.vertical |= cmap.vertical;
                let codes = self.codes.entry(font).or_insert_with(Codes::new);
                operands.iter_mut().for_each(|operand| recode(operand, cmap, codes));
                true
            }
        }
    }

    /// Walk the form drawn as `name`, once a page, with its own resources
    /// or else those of whoever draws it (as pdf-extract does), keeping it
    /// when re-coded.
    fn form(&mut self, name: &Object, resources: Option<&'d Dictionary>, depth: usize) {
        let doc = self.doc;
        let form = || {
            let xobjects = doc.dereference(resources?.get(b"XObject").ok()?).ok()?.1.as_dict().ok()?;
            xobjects.get(name.as_name().ok()?).ok()?.as_reference().ok()
        };
        let Some(id) = form() else { return };
        if depth >= MAX_FORM_DEPTH || !self.walked.insert(id) {
            return;
        }
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else { return };
        let own = stream.dict.get(b"Resources").ok().and_then(|r| doc.dereference(r).ok()).and_then(|(_, r)| r.as_dict().ok());
        let original = match self.original_forms.get(&id) {
            Some(original) => original.clone(),
            None => stream.decompressed_content().unwrap_or_else(|_| stream.content.clone()),
        };
        if let Some(recoded) = self.stream(&original, own.or(resources), depth + 1) {
            self.forms.push((id, original, recoded));
        }
    }
}

/// The font a `Tf` operand names in `resources` (when it is an object of
/// its own).
fn font_named(doc: &Document, resources: &Dictionary, name: &Object) -> Option<ObjectId> {
    let fonts = doc.dereference(resources.get(b"Font").ok()?).ok()?.1.as_dict().ok()?;
    fonts.get(name.as_name().ok()?).ok()?.as_reference().ok()
}

/// Re-code the strings of a text operand (a string, or a `TJ` array);
/// a code without text in the charset is left out.
fn recode(operand: &mut Object, cmap: &Cmap, codes: &mut Codes) {
    match operand {
        Object::String(bytes, _) => {
            let recoded = cmap.codes(bytes).filter_map(|code| codes.code(cmap.unicode(code)?)).flat_map(u16::to_be_bytes).collect();
            *bytes = recoded;
        }
        Object::Array(items) => items.iter_mut().for_each(|item| recode(item, cmap, codes)),
        _ => {}
    }
}

/// The two-byte codes given to the text of one font on one page.
struct Codes {
    of: HashMap<String, u16>,
    next: u16,
}

impl Codes {
    fn new() -> Codes {
        Codes { of: HashMap::new(), next: FIRST_CODE }
    }

    /// The code of `text` (one code's text, mostly one character); None
    /// once the page has used every code.
    fn code(&mut self, text: String) -> Option<u16> {
        if let Some(&code) = self.of.get(&text) {
            return Some(code);
        }
        let code = match text.as_bytes() {
            &[byte @ 0x20..=0x7E] => u16::from(byte),
            _ => {
                let code = self.next;
                self.next = code.checked_add(1)?;
                code
            }
        };
        self.of.insert(text, code);
        Some(code)
    }

    /// A `ToUnicode` CMap of these codes (PDF 32000-1 § 9.10.3).
    fn to_unicode(&self) -> Vec<u8> {
        let mut pairs: Vec<(u16, &str)> = self.of.iter().map(|(text, &code)| (code, text.as_str())).collect();
        pairs.sort_unstable();
        let mut cmap = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        for block in pairs.chunks(100) {
            let _ = writeln!(cmap, "{} beginbfchar", block.len());
            for (code, text) in block {
                let _ = write!(cmap, "<{code:04X}> <");
                for unit in text.encode_utf16() {
                    let _ = write!(cmap, "{unit:04X}");
                }
                cmap.push_str(">\n");
            }
            cmap.push_str("endbfchar\n");
        }
        cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        cmap.into_bytes()
    }
}
