//! PDF with a text layer, through pdf-extract (built on lopdf): text in
//! content order, page by page, each font's characters mapped to Unicode
//! through its `ToUnicode` CMap, so CJK text in Type0/Identity-H fonts
//! comes out as Chinese. A PDF whose pages hold no text (a scan) gives a
//! record with empty text and the warning "no text layer (needs OCR)", to
//! be indexed by its catalog data. Title and creation date come from the
//! `Info` dictionary (`Author` is the login name of whoever made the file,
//! not the issuing organ, so it is not taken).
//!
//! pdf-extract trusts its input: it unwraps, recurses without bound and
//! unpacks streams without limit. So this reader checks a file before
//! handing it over, and keeps pdf-extract bounded:
//! * Flate and LZW streams are measured, without being kept, before lopdf
//!   loads the file (it unpacks object and cross-reference streams while
//!   loading) and again, exactly, after: all but images together may
//!   unpack to at most `max_unpacked_bytes`. Image data is dropped
//!   unread: no text is in it, and pdf-extract would parse an image drawn
//!   with `Do` as if it were page content.
//! * Each page is checked before it is read: its parent chain must not
//!   loop (pdf-extract would recurse forever), forms drawn inside forms may
//!   nest at most [`MAX_FORM_DEPTH`] deep (a form that draws itself would
//!   overflow the stack), and the content it runs, counting each form each
//!   time it is drawn, may be at most an eighth of `max_unpacked_bytes`
//!   (parsed content takes many times its size in memory). A page that
//!   fails is skipped and reported.
//! * Each page runs under `catch_unwind`, so one page that makes
//!   pdf-extract panic is skipped and reported, and the others are kept.
//! * Text goes to a sink that stops pdf-extract once the text is past
//!   `max_text_bytes` or the time budget is spent.
//!
//! CJK fonts pdf-extract cannot read as they come are made readable page
//! by page ([`fonts`]): those encoded with a predefined charset CMap
//! (`UniGB-UCS2-H`, `GBK-EUC-H`, `ETen-B5-H`, …, with no `ToUnicode` map,
//! as Chinese typesetting systems and OFD→PDF converters write them) are
//! read through their charset ([`cmaps`]), and a page in a vertical (`-V`)
//! font is read in columns ([`columns`]).
//!
//! A file is reported as damaged only for what is wrong with the file
//! itself (no PDF header, no readable structure, no pages, a page tree or
//! forms that loop); streams past the unpack limit are a zip bomb. A page
//! this reader cannot read for want of understanding (a CMap it does not
//! know, anything pdf-extract gives up or panics on, content past the
//! limits) is skipped with the reason, and a file none of whose pages
//! could be read is rejected as unsupported with the first such reason.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::OnceLock;

use pdf_extract::{Dictionary, Document, Object, ObjectId, PlainTextOutput, Stream};
use regex::bytes::Regex;

use super::zipped::{properties_catalog, TextSink};
use super::{panic_message, Clock, ExtractError, Limits, Record};
use crate::analysis::is_han;
use columns::Columns;
use fonts::Type0Fonts;

mod cmaps;
mod columns;
mod fonts;

/// Deepest nesting of forms drawn inside forms.
const MAX_FORM_DEPTH: usize = 16;
/// Largest share of `max_unpacked_bytes` one page may run as content.
const PAGE_WORK_SHARE: u64 = 8;
/// How far before a `stream` keyword its dictionary is looked for.
const DICT_WINDOW: usize = 4096;

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<Record, ExtractError> {
    let clock = Clock::start(limits);
    if !bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
        return Err(ExtractError::Corrupt("not a PDF (no %PDF- header)".into()));
    }
    check_raw_streams(bytes, limits.max_unpacked_bytes)?;
    let mut doc = Document::load_mem(bytes).map_err(|e| ExtractError::Corrupt(format!("not a readable PDF: {e}")))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(ExtractError::Unsupported("password-protected PDF (save an unprotected copy)".into()));
    }
    let (title, created) = info(&doc);
    let sizes = drop_images_and_measure(&mut doc, limits.max_unpacked_bytes)?;
    let mut fonts = Type0Fonts::new(&mut doc);
    let mut text = PageText { sink: TextSink::new(limits.max_text_bytes), clock: clock.clone(), late: false };
    let mut warnings = Vec::new();
    let pages = doc.get_pages();
    let (mut failed, mut not_understood) = (0, None);
    for (&number, &id) in &pages {
        if clock.is_up() {
            return Err(ExtractError::Timeout(limits.time_budget));
        }
        let problem = match page_work(&doc, id, &sizes) {
            Ok(work) if work > limits.max_unpacked_bytes / PAGE_WORK_SHARE => {
                Some(Skip::Unsupported(format!("its content is too large to read ({work} bytes)")))
            }
            Ok(_) => read_page(&mut doc, &mut fonts, (number, id), &mut text).err(),
            Err(reason) => Some(Skip::Damaged(reason)),
        };
        if text.late {
            return Err(ExtractError::Timeout(limits.time_budget));
        }
        if let Some(problem) = problem.filter(|_| !text.sink.full()) {
            failed += 1;
            let (Skip::Damaged(reason) | Skip::Unsupported(reason)) = &problem;
            let warning = format!("page {number} skipped: {reason}");
            if let Skip::Unsupported(_) = problem {
                not_understood.get_or_insert_with(|| warning.clone());
            }
            warnings.push(warning);
        }
        if text.sink.full() {
            break;
        }
        text.sink.end_line();
    }
    if pages.is_empty() {
        return Err(ExtractError::Corrupt("PDF has no pages".into()));
    }
    if failed == pages.len() {
        return Err(match not_understood {
            Some(reason) => ExtractError::Unsupported(format!("no page of this PDF could be read ({reason})")),
            None => ExtractError::Corrupt(format!("no page could be read ({})", warnings[0])),
        });
    }
    let text = join_han_spaces(&text.sink.finish(&mut warnings));
    if text.is_empty() {
        warnings.push("no text layer (needs OCR)".into());
    }
    let catalog = properties_catalog(title.as_deref(), None, created.as_deref(), &text);
    Ok(Record { text, catalog, warnings, ..Record::default() })
}

/// Why a page was skipped.
enum Skip {
    /// Something is wrong with the file itself.
    Damaged(String),
    /// The page is beyond this reader: what it did not understand, or
    /// which limit the page is past.
    Unsupported(String),
}

/// Make a page readable ([`Type0Fonts::prepare_page`]) and run
/// pdf-extract on it, catching the panics of either. Whatever stops
/// pdf-extract short of the page's end, other than a full text or the time
/// budget, is something it does not understand.
fn read_page(doc: &mut Document, fonts: &mut Type0Fonts, (number, id): (u32, ObjectId), text: &mut PageText) -> Result<(), Skip> {
    let not_understood = |why: String| Skip::Unsupported(format!("the text reader does not understand it ({why})"));
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let read = if fonts.prepare_page(doc, id).map_err(Skip::Unsupported)? {
            let mut columns = Columns::new(text);
            let read = pdf_extract::output_doc_page(doc, &mut columns, number);
            columns.finish();
            read
        } else {
            let mut output = PlainTextOutput::new(text as &mut dyn Write);
            pdf_extract::output_doc_page(doc, &mut output, number)
        };
        read.map_err(|e| not_understood(e.to_string()))
    }));
    run.unwrap_or_else(|panic| Err(not_understood(panic_message(&panic))))
}

/// Where pdf-extract writes a page's text: it fails the write, which stops
/// pdf-extract, once the text is full or the time is up.
struct PageText {
    sink: TextSink,
    clock: Clock,
    late: bool,
}

impl PageText {
    /// Err, to stop pdf-extract, once the time is up or `more` bytes would
    /// not fit in the text.
    fn go_on(&mut self, more: usize) -> std::io::Result<()> {
        if self.clock.is_up() {
            self.late = true;
            return Err(std::io::Error::other("time budget spent"));
        }
        if self.sink.full() || more > self.sink.room() {
            return Err(std::io::Error::other("text limit reached"));
        }
        Ok(())
    }
}

impl Write for PageText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.go_on(0)?;
        match buf {
            // pdf-extract starts every page on a new line; one is enough.
            b"\n" => self.sink.end_line(),
            _ => self.sink.push_str(&String::from_utf8_lossy(buf)),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Title and creation date (ISO) of the `Info` dictionary.
fn info(doc: &Document) -> (Option<String>, Option<String>) {
    let Some(info) = doc.trailer.get(b"Info").ok().and_then(|o| doc.dereference(o).ok()).and_then(|(_, o)| o.as_dict().ok()) else {
        return (None, None);
    };
    let field = |key: &[u8]| {
        let value = doc.dereference(info.get(key).ok()?).ok()?.1;
        pdf_extract::decode_text_string(value).ok()
    };
    (field(b"Title"), field(b"CreationDate").and_then(|d| pdf_date(&d)))
}

/// `D:20161230083000+08'00'` → `2016-12-30`.
fn pdf_date(raw: &str) -> Option<String> {
    let digits = raw.trim().trim_start_matches("D:");
    let date = digits.get(..8).filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
    Some(format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]))
}

/// Streams that unpack past `max_unpacked_bytes`: a limit of this reader,
/// not damage.
fn bomb(limit: u64) -> ExtractError {
    ExtractError::ZipBomb { part: "PDF stream data".into(), limit }
}

/// Measure, before lopdf loads the file, what its streams unpack to. lopdf
/// unpacks object streams and cross-reference streams while loading, with
/// no limit, so this runs on the raw bytes: every stream after a `stream`
/// keyword is tried as Flate (and as LZW where its dictionary says so),
/// except the streams whose dictionary says it is an image (and not an
/// object or cross-reference stream).
fn check_raw_streams(bytes: &[u8], limit: u64) -> Result<(), ExtractError> {
    let mut left = limit;
    for start in stream_starts(bytes) {
        let dict = stream_dictionary(bytes, start);
        let structural = dict.as_ref().is_none_or(|d| contains(d, b"ObjStm") || contains(d, b"XRef"));
        if !structural && dict.as_ref().is_some_and(|d| contains(d, b"/Image")) {
            continue;
        }
        let data = &bytes[start..];
        let mut size = 0;
        if dict.as_ref().is_some_and(|d| contains(d, b"LZW")) {
            let mut count = Counter::new(left);
            lzw(data, true, &mut count);
            if count.over {
                return Err(bomb(limit));
            }
            size = count.count;
        }
        let mut count = Counter::new(left);
        inflate(data, &mut count);
        if count.over {
            return Err(bomb(limit));
        }
        let size = size.max(count.count);
        left -= size;
    }
    Ok(())
}

/// Offsets where the data of each stream begins.
fn stream_starts(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    static KEYWORD: OnceLock<Regex> = OnceLock::new();
    let keyword = KEYWORD.get_or_init(|| Regex::new(r"(?-u)stream(?:\r\n|\n|\r)").expect("built-in pattern is valid"));
    keyword.find_iter(bytes).filter(|m| !bytes[..m.start()].ends_with(b"end")).map(|m| m.end())
}

/// The dictionary text before the stream starting at `start`, with `#xx`
/// name escapes undone (None when no `obj` keyword is near).
fn stream_dictionary(bytes: &[u8], start: usize) -> Option<Vec<u8>> {
    let window = &bytes[start.saturating_sub(DICT_WINDOW)..start];
    let obj = rfind(window, b"obj")?;
    Some(unescape_names(&window[obj..]))
}

/// Undo `#xx` escapes (`/Obj#53tm` is `/ObjStm`).
fn unescape_names(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = raw.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (raw[i], hex) {
            (b'#', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

/// Drop the data of every image, and measure what every other stream
/// unpacks to (all together at most `limit`). Gives each stream's size.
fn drop_images_and_measure(doc: &mut Document, limit: u64) -> Result<HashMap<ObjectId, u64>, ExtractError> {
    let mut left = limit;
    let mut sizes = HashMap::new();
    for (&id, object) in doc.objects.iter_mut() {
        let Ok(stream) = object.as_stream_mut() else { continue };
        if stream.dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|s| s == b"Image") {
            stream.dict.remove(b"Filter");
            stream.dict.remove(b"DecodeParms");
            stream.set_content(Vec::new());
            continue;
        }
        let size = unpacked_size(stream, left).ok_or_else(|| bomb(limit))?;
        left -= size;
        sizes.insert(id, size);
    }
    Ok(sizes)
}

/// What a stream unpacks to as lopdf unpacks it, counting no further than
/// `cap` (None: more than `cap`). A filter lopdf cannot undo leaves the
/// stream as it is (pdf-extract then reads it raw).
fn unpacked_size(stream: &Stream, cap: u64) -> Option<u64> {
    let raw = stream.content.len() as u64;
    let Ok(filters) = stream.filters() else { return (raw <= cap).then_some(raw) };
    let early_change = stream
        .dict
        .get(b"DecodeParms")
        .and_then(Object::as_dict)
        .and_then(|p| p.get(b"EarlyChange"))
        .and_then(Object::as_i64)
        .map_or(true, |v| v != 0);
    let mut data: Cow<[u8]> = Cow::Borrowed(&stream.content);
    for (i, filter) in filters.iter().enumerate() {
        let last = i + 1 == filters.len();
        let mut out = Counter { count: 0, cap, over: false, kept: (!last).then(Vec::new) };
        match *filter {
            b"FlateDecode" => inflate(&data, &mut out),
            b"LZWDecode" => lzw(&data, early_change, &mut out),
            // At most four bytes out for each byte in: unpack only what cannot go over.
            b"ASCII85Decode" if (data.len() as u64).saturating_mul(4) <= cap => {
                let mut dict = Dictionary::new();
                dict.set("Filter", Object::Name(b"ASCII85Decode".to_vec()));
                let decoded = Stream::new(dict, data.to_vec());
                let _ = out.write_all(&decoded.decompressed_content().unwrap_or_default());
            }
            b"ASCII85Decode" => return None,
            _ => return (raw <= cap).then_some(raw),
        }
        if out.over {
            return None;
        }
        match out.kept {
            Some(kept) => data = Cow::Owned(kept),
            None => return Some(out.count),
        }
    }
    Some(data.len() as u64)
}

/// A writer that counts bytes (keeping them if asked) and fails past a cap.
struct Counter {
    count: u64,
    cap: u64,
    over: bool,
    kept: Option<Vec<u8>>,
}

impl Counter {
    fn new(cap: u64) -> Self {
        Counter { count: 0, cap, over: false, kept: None }
    }
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.count += buf.len() as u64;
        if self.count > self.cap {
            self.over = true;
            return Err(std::io::Error::other("unpack limit reached"));
        }
        if let Some(kept) = &mut self.kept {
            kept.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Inflate as lopdf does: zlib, and raw deflate after the two header bytes
/// when zlib gives nothing.
fn inflate(data: &[u8], out: &mut Counter) {
    let zlib = std::io::copy(&mut flate2::read::ZlibDecoder::new(data), out);
    if zlib.is_err() && out.count == 0 && !out.over && data.len() > 2 {
        let _ = std::io::copy(&mut flate2::read::DeflateDecoder::new(&data[2..]), out);
    }
}

fn lzw(data: &[u8], early_change: bool, out: &mut Counter) {
    let mut decoder = if early_change {
        weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
    } else {
        weezl::decode::Decoder::new(weezl::BitOrder::Msb, 8)
    };
    let _ = decoder.into_stream(out).decode_all(data);
}

/// Bytes of content pdf-extract would run for a page: its content streams,
/// and each form each time it is drawn. Err says why the page must not be
/// handed to pdf-extract at all.
fn page_work(doc: &Document, page: ObjectId, sizes: &HashMap<ObjectId, u64>) -> Result<u64, String> {
    let page_dict = doc.get_dictionary(page).map_err(|e| format!("no page dictionary ({e})"))?;
    let resources = inherited_resources(doc, page_dict)?;
    let mut walk = FormWalk { doc, sizes, memo: HashMap::new() };
    let mut work = 0u64;
    for id in doc.get_page_contents(page) {
        work = work.saturating_add(sizes.get(&id).copied().unwrap_or(0));
        if let Some(resources) = resources {
            work = work.saturating_add(walk.drawn_forms(id, resources, 1)?);
        }
    }
    Ok(work)
}

/// A page's resources, looked up through its parents as pdf-extract does,
/// refusing a parent chain that loops.
fn inherited_resources<'d>(doc: &'d Document, page: &'d Dictionary) -> Result<Option<&'d Dictionary>, String> {
    let mut seen = HashSet::new();
    let mut node = page;
    let mut resources = None;
    loop {
        if resources.is_none() {
            resources = node.get(b"Resources").ok().and_then(|r| doc.dereference(r).ok()).and_then(|(_, r)| r.as_dict().ok());
        }
        let Ok(parent) = node.get(b"Parent").and_then(Object::as_reference) else { return Ok(resources) };
        if !seen.insert(parent) {
            return Err("its page tree loops back on itself".into());
        }
        match doc.get_dictionary(parent) {
            Ok(dict) => node = dict,
            Err(_) => return Ok(resources),
        }
    }
}

/// The forms drawn by a content stream, followed as pdf-extract follows
/// them: a form's own resources, or else those of whoever draws it.
struct FormWalk<'d> {
    doc: &'d Document,
    sizes: &'d HashMap<ObjectId, u64>,
    /// Work of a form drawn with given resources (by address).
    memo: HashMap<(ObjectId, usize), u64>,
}

impl<'d> FormWalk<'d> {
    /// Bytes of forms run, counting repeats, when `content` is run with
    /// `resources` at nesting `depth`.
    fn drawn_forms(&mut self, content: ObjectId, resources: &'d Dictionary, depth: usize) -> Result<u64, String> {
        if depth > MAX_FORM_DEPTH {
            return Err(format!("its forms nest more than {MAX_FORM_DEPTH} deep (or draw themselves)"));
        }
        let Ok(stream) = self.doc.get_object(content).and_then(Object::as_stream) else { return Ok(0) };
        let xobjects = resources.get(b"XObject").ok().and_then(|x| self.doc.dereference(x).ok()).and_then(|(_, x)| x.as_dict().ok());
        let Some(xobjects) = xobjects else { return Ok(0) };
        let data = stream.decompressed_content().unwrap_or_else(|_| stream.content.clone());
        let mut work = 0u64;
        for name in drawn_names(&data) {
            let Ok(form) = xobjects.get(&name).and_then(Object::as_reference) else { continue };
            work = work.saturating_add(self.form(form, resources, depth)?);
        }
        Ok(work)
    }

    fn form(&mut self, form: ObjectId, caller: &'d Dictionary, depth: usize) -> Result<u64, String> {
        let Ok(stream) = self.doc.get_object(form).and_then(Object::as_stream) else { return Ok(0) };
        let own = stream.dict.get(b"Resources").ok().and_then(|r| self.doc.dereference(r).ok()).and_then(|(_, r)| r.as_dict().ok());
        let resources = own.unwrap_or(caller);
        let key = (form, resources as *const Dictionary as usize);
        if let Some(&work) = self.memo.get(&key) {
            return Ok(work);
        }
        let own_size = self.sizes.get(&form).copied().unwrap_or(0);
        let work = own_size.saturating_add(self.drawn_forms(form, resources, depth + 1)?);
        self.memo.insert(key, work);
        Ok(work)
    }
}

/// Names of the XObjects a content stream draws (`/Fm0 Do`). Text that
/// merely looks like a `Do` is counted too, which can only overcount.
fn drawn_names(content: &[u8]) -> Vec<Vec<u8>> {
    static DO: OnceLock<Regex> = OnceLock::new();
    let pattern = DO.get_or_init(|| {
        Regex::new(r"(?-u)/([^\x00\t\n\x0c\r /\[\]()<>{}%]+)[\x00\t\n\x0c\r ]+Do(?:[\x00\t\n\x0c\r /\[\]()<>{}%]|$)")
            .expect("built-in pattern is valid")
    });
    pattern.captures_iter(content).map(|c| unescape_names(&c[1])).collect()
}

/// Chinese is written without spaces, but PDF text often spaces its
/// characters out; a space between two Han characters is layout, not text.
fn join_han_spaces(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let between_han = c == ' ' && i > 0 && is_han(chars[i - 1]) && chars.get(i + 1).is_some_and(|&n| is_han(n));
        if !between_han {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use pdf_writer::types::{CidFontType, SystemInfo, UnicodeCmap};
    use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

    use super::*;

    /// A PDF whose pages show these lines in a Type0/Identity-H font with a
    /// ToUnicode map, as Chinese PDFs are written (no font program
    /// embedded: text extraction does not need it). `extra` may add
    /// objects and draw them on the first page.
    fn cjk_pdf(pages: &[&[&str]], title: &str, extra: impl FnOnce(&mut Pdf, &mut Content, &mut Vec<(Name<'static>, Ref)>)) -> Vec<u8> {
        let mut chars: Vec<char> = pages.iter().flat_map(|p| p.iter().flat_map(|l| l.chars())).collect();
        chars.sort_unstable();
        chars.dedup();
        let cid = |c: char| chars.iter().position(|&x| x == c).unwrap() as u16 + 1;
        let (catalog, tree, font, cid_font, cmap, info, descriptor) =
            (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6), Ref::new(7));
        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.document_info(info).title(TextStr(title)).creation_date(pdf_writer::Date::new(2016).month(12).day(30));
        let system = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
        pdf.type0_font(font).base_font(Name(b"SimSun")).encoding_predefined(Name(b"Identity-H")).descendant_font(cid_font).to_unicode(cmap);
        pdf.cid_font(cid_font)
            .subtype(CidFontType::Type2)
            .base_font(Name(b"SimSun"))
            .system_info(system)
            .font_descriptor(descriptor)
            .default_width(1000.0);
        pdf.font_descriptor(descriptor)
            .name(Name(b"SimSun"))
            .flags(pdf_writer::types::FontFlags::SYMBOLIC)
            .bbox(Rect::new(0.0, -140.0, 1000.0, 860.0))
            .italic_angle(0.0)
            .ascent(860.0)
            .descent(-140.0)
            .cap_height(700.0)
            .stem_v(80.0);
        let mut unicode = UnicodeCmap::new(Name(b"Custom"), system);
        for &c in &chars {
            unicode.pair(cid(c), c);
        }
        let cmap_data = unicode.finish();
        pdf.cmap(cmap, &cmap_data);
        let page_ids: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(100 + 2 * i as i32)).collect();
        pdf.pages(tree).kids(page_ids.iter().copied()).count(pages.len() as i32);
        let mut extra = Some(extra);
        for (i, lines) in pages.iter().enumerate() {
            let mut content = Content::new();
            let mut xobjects = Vec::new();
            if let Some(extra) = extra.take() {
                extra(&mut pdf, &mut content, &mut xobjects);
            }
            content.begin_text().set_font(Name(b"F1"), 12.0).set_leading(18.0).next_line(72.0, 760.0);
            for line in lines.iter() {
                let codes: Vec<u8> = line.chars().flat_map(|c| cid(c).to_be_bytes()).collect();
                content.show(Str(&codes)).next_line_using_leading();
            }
            content.end_text();
            let data = miniz(&content.finish());
            let mut page = pdf.page(page_ids[i]);
            page.parent(tree).media_box(Rect::new(0.0, 0.0, 595.0, 842.0)).contents(Ref::new(101 + 2 * i as i32));
            let mut resources = page.resources();
            resources.fonts().pair(Name(b"F1"), font);
            let mut named = resources.x_objects();
            for (name, id) in xobjects {
                named.pair(name, id);
            }
            named.finish();
            resources.finish();
            page.finish();
            pdf.stream(Ref::new(101 + 2 * i as i32), &data).filter(Filter::FlateDecode);
        }
        pdf.finish()
    }

    fn miniz(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    fn no_extra(_: &mut Pdf, _: &mut Content, _: &mut Vec<(Name<'static>, Ref)>) {}

    #[test]
    fn cjk_text_comes_through_the_to_unicode_map_in_page_order() {
        let bytes = cjk_pdf(
            &[&["关于印发临河区防汛应急预案的通知", "各乡镇人民政府："], &["临河区人民政府", "2016年12月30日"]],
            "临河区防汛应急预案",
            no_extra,
        );
        let r = extract(&bytes, &Limits::default()).unwrap();
        assert_eq!(r.text, "关于印发临河区防汛应急预案的通知\n各乡镇人民政府：\n临河区人民政府\n2016年12月30日");
        assert_eq!(r.catalog.title.as_deref(), Some("临河区防汛应急预案"));
        // The signature states the 成文日期; the file's own date is not used.
        assert_eq!(r.catalog.written_date, None);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(info(&Document::load_mem(&bytes).unwrap()).1.as_deref(), Some("2016-12-30"));
    }

    #[test]
    fn a_scan_without_text_is_kept_with_an_ocr_warning() {
        let bytes = cjk_pdf(&[&[]], "扫描件", |pdf, content, xobjects| {
            let pixels = miniz(&vec![0x80; 300 * 300]);
            let mut image = pdf.image_xobject(Ref::new(50), &pixels);
            image.filter(Filter::FlateDecode);
            image.width(300).height(300).bits_per_component(8);
            image.color_space().device_gray();
            image.finish();
            content.save_state().transform([500.0, 0.0, 0.0, 700.0, 40.0, 60.0]).x_object(Name(b"Im0")).restore_state();
            xobjects.push((Name(b"Im0"), Ref::new(50)));
        });
        let r = extract(&bytes, &Limits::default()).unwrap();
        assert_eq!(r.text, "");
        assert_eq!(r.warnings, vec!["no text layer (needs OCR)".to_string()]);
    }

    #[test]
    fn a_form_that_draws_itself_skips_its_page_instead_of_overflowing_the_stack() {
        let bytes = cjk_pdf(&[&["第一页"], &["第二页正文"]], "循环", |pdf, content, xobjects| {
            let mut form = pdf.form_xobject(Ref::new(60), b"/Fm0 Do");
            form.bbox(Rect::new(0.0, 0.0, 10.0, 10.0));
            form.finish();
            content.x_object(Name(b"Fm0"));
            xobjects.push((Name(b"Fm0"), Ref::new(60)));
        });
        let r = extract(&bytes, &Limits::default()).unwrap();
        assert_eq!(r.text, "第二页正文");
        assert!(r.warnings[0].starts_with("page 1 skipped: its forms nest more than 16 deep"), "{:?}", r.warnings);
    }

    #[test]
    fn a_page_whose_parent_chain_loops_is_skipped() {
        let (catalog, tree, looped, good) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4));
        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree).kids([looped, good]).count(2);
        // No resources of its own, and a parent that is itself: pdf-extract
        // would look for inherited resources forever.
        pdf.page(looped).parent(looped).media_box(Rect::new(0.0, 0.0, 595.0, 842.0)).contents(Ref::new(5));
        pdf.stream(Ref::new(5), b"BT ET");
        let mut page = pdf.page(good);
        page.parent(tree).media_box(Rect::new(0.0, 0.0, 595.0, 842.0)).contents(Ref::new(6));
        page.resources().fonts().pair(Name(b"F1"), Ref::new(7));
        page.finish();
        pdf.stream(Ref::new(6), b"BT /F1 12 Tf 72 700 Td (Second page) Tj ET");
        pdf.type1_font(Ref::new(7)).base_font(Name(b"Helvetica"));
        let r = extract(&pdf.finish(), &Limits::default()).unwrap();
        assert_eq!(r.text, "Second page");
        assert_eq!(r.warnings, vec!["page 1 skipped: its page tree loops back on itself".to_string()]);
    }

    #[test]
    fn a_flate_bomb_is_refused_before_it_is_unpacked() {
        let zeros = {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            let chunk = vec![0u8; 1 << 20];
            for _ in 0..64 {
                z.write_all(&chunk).unwrap();
            }
            z.finish().unwrap()
        };
        let bytes = cjk_pdf(&[&["正文"]], "炸弹", |pdf, _, _| {
            pdf.stream(Ref::new(70), &zeros).filter(Filter::FlateDecode);
        });
        let e = extract(&bytes, &Limits { max_unpacked_bytes: 32 << 20, ..Limits::default() }).unwrap_err();
        assert_eq!(e.to_string(), "zip bomb: PDF stream data inflates past 32 MB");
        assert!(extract(&bytes, &Limits::default()).is_ok());
    }

    #[test]
    fn broken_pdfs_are_rejected_with_the_reason() {
        let good = cjk_pdf(&[&["正文"]], "好", no_extra);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"just some text".to_vec(), "no %PDF- header"),
            (good[..good.len() / 3].to_vec(), "PDF"),
            (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF".to_vec(), "PDF"),
        ];
        for (bytes, reason) in cases {
            let e = extract(&bytes, &Limits::default()).unwrap_err();
            assert!(e.to_string().contains(reason), "{e} should mention {reason}");
        }
    }

    #[test]
    fn a_file_past_its_time_budget_is_given_up() {
        let bytes = cjk_pdf(&[&["正文"]], "慢", no_extra);
        let limits = Limits { time_budget: std::time::Duration::ZERO, ..Limits::default() };
        assert_eq!(crate::extract::extract("慢.pdf", &bytes, &limits).unwrap_err(), ExtractError::Timeout(limits.time_budget));
    }

    #[test]
    fn spaces_between_han_characters_are_layout() {
        assert_eq!(join_han_spaces("关 于 印 发 the plan 2016 年"), "关于印发 the plan 2016 年");
    }

    #[test]
    fn drawn_names_are_found_with_escapes_undone() {
        let names = drawn_names(b"q /Fm0 Do Q /Im#301 Do BT (x) Tj ET /F1 12 Tf");
        assert_eq!(names, vec![b"Fm0".to_vec(), b"Im01".to_vec()]);
    }
}
