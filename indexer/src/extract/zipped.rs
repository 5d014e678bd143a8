//! What DOCX and OFD share: a zip package of XML parts read under
//! [`Limits`], and the catalog fields a file's own properties give (DOCX core
//! properties, OFD `DocInfo`, PDF `Info`).
//!
//! The limits are enforced while reading, never by trusting what a file
//! claims: every byte a part decompresses to is counted against
//! `max_unpacked_bytes` as it streams out of the zip (the sizes in a zip's
//! headers can lie), the package may hold at most `max_entries` entries, XML
//! nesting is counted against `max_xml_depth` as the parser goes, text stops
//! growing just past `max_text_bytes`, and parsing gives up when
//! `time_budget` is spent. Parts are parsed as they stream out, so a part is
//! never held in memory whole.

use std::borrow::Cow;
use std::cell::Cell;
use std::io::{BufReader, Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::{cap_text, Clock, ExtractError, Limits};
use crate::analysis::is_han;
use crate::catalog::{self, Catalog};

/// Events parsed between two looks at the clock.
const EVENTS_PER_CLOCK_CHECK: u32 = 4096;

/// A zip package opened for reading its parts under limits.
pub(super) struct Package<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    /// Bytes still allowed to be decompressed, over all parts.
    unpacked_left: Cell<u64>,
    /// Set once a read went past `max_unpacked_bytes`.
    unpacked_over: Cell<bool>,
    limits: &'a Limits,
    clock: Clock,
}

impl<'a> Package<'a> {
    /// Open a package; `kind` names the format in error messages.
    pub(super) fn open(bytes: &'a [u8], limits: &'a Limits, kind: &str) -> Result<Self, ExtractError> {
        let archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| ExtractError::Corrupt(format!("not a readable {kind} file (its zip structure is broken: {e})")))?;
        if archive.len() > limits.max_entries {
            return Err(ExtractError::Corrupt(format!("{kind} package holds {} entries (limit {})", archive.len(), limits.max_entries)));
        }
        Ok(Package {
            archive,
            unpacked_left: Cell::new(limits.max_unpacked_bytes),
            unpacked_over: Cell::new(false),
            limits,
            clock: Clock::start(limits),
        })
    }

    /// Whether the package holds a part of this name.
    pub(super) fn has(&self, name: &str) -> bool {
        self.archive.index_for_name(name).is_some()
    }

    /// Start parsing the XML part `name`.
    pub(super) fn xml(&mut self, name: &str) -> Result<Xml<'_, PartReader<'_, 'a>>, ExtractError> {
        let index = self.archive.index_for_name(name).ok_or_else(|| ExtractError::Corrupt(format!("part {name} is missing")))?;
        let entry = self.archive.by_index(index).map_err(|e| ExtractError::Corrupt(format!("part {name} unreadable: {e}")))?;
        let counted = Counted {
            inner: entry,
            left: &self.unpacked_left,
            over: &self.unpacked_over,
            run: 0,
            token_limit: token_limit(self.limits),
            token_over: false,
        };
        let mut reader = Reader::from_reader(BufReader::new(counted));
        reader.config_mut().check_end_names = true;
        Ok(Xml {
            reader,
            buf: Vec::new(),
            depth: 0,
            part: name.to_string(),
            limits: self.limits,
            clock: self.clock.clone(),
            since_clock: 0,
        })
    }

    /// Whether a failure came from `max_unpacked_bytes` or the time budget,
    /// which end the whole file, rather than from one broken part.
    pub(super) fn is_fatal(error: &ExtractError) -> bool {
        matches!(error, ExtractError::Timeout(_) | ExtractError::ZipBomb { .. })
    }
}

/// Longest XML token (text node or tag) read: twice `max_text_bytes`, so
/// that text up to the limit is always read (and then cut), and at least
/// 1 MiB.
fn token_limit(limits: &Limits) -> usize {
    limits.max_text_bytes.saturating_mul(2).max(1 << 20)
}

/// A part's decompressed bytes, counted against the package's allowance.
/// The zip reader also checks each part's CRC as it reaches the end.
///
/// It also refuses a run of bytes without `<` or `>` longer than
/// [`token_limit`]: the parser buffers a whole token (a text node, a tag)
/// before handing it over, so one endless token from a zip bomb would
/// otherwise take as much memory as the bomb unpacks to.
struct Counted<'p, R> {
    inner: R,
    left: &'p Cell<u64>,
    over: &'p Cell<bool>,
    /// Bytes since the last `<` or `>`.
    run: usize,
    token_limit: usize,
    token_over: bool,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Ask for one byte more than allowed, so going over is seen.
        let room = usize::try_from(self.left.get().saturating_add(1)).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(&mut buf[..room])?;
        if n as u64 > self.left.get() {
            self.over.set(true);
            return Err(std::io::Error::other("unpack limit reached"));
        }
        self.left.set(self.left.get() - n as u64);
        self.run = match memchr::memrchr2(b'<', b'>', &buf[..n]) {
            Some(at) => n - at - 1,
            None => self.run + n,
        };
        if self.run > self.token_limit {
            self.token_over = true;
            return Err(std::io::Error::other("XML token too long"));
        }
        Ok(n)
    }
}

/// The decompressing reader of one part.
pub(super) type PartReader<'p, 'a> = zip::read::ZipFile<'p, Cursor<&'a [u8]>>;

/// A pull parser over one part that counts nesting depth and watches the
/// clock.
pub(super) struct Xml<'p, R> {
    reader: Reader<BufReader<Counted<'p, R>>>,
    buf: Vec<u8>,
    depth: usize,
    part: String,
    limits: &'p Limits,
    clock: Clock,
    since_clock: u32,
}

impl<R: Read> Xml<'_, R> {
    /// The next event; errors end the part (a broken part, nesting past
    /// `max_xml_depth`, decompression past `max_unpacked_bytes`, or time).
    pub(super) fn next(&mut self) -> Result<Event<'_>, ExtractError> {
        self.since_clock += 1;
        if self.since_clock >= EVENTS_PER_CLOCK_CHECK {
            self.since_clock = 0;
            if self.clock.is_up() {
                return Err(ExtractError::Timeout(self.limits.time_budget));
            }
        }
        self.buf.clear();
        let event = match self.reader.read_event_into(&mut self.buf) {
            Ok(event) => event,
            Err(e) => {
                let counted = self.reader.get_ref().get_ref();
                if counted.over.get() {
                    return Err(ExtractError::ZipBomb { part: self.part.clone(), limit: self.limits.max_unpacked_bytes });
                }
                if counted.token_over {
                    return Err(ExtractError::Corrupt(format!(
                        "{}: one XML text or tag is longer than {} bytes (twice max_text_bytes)",
                        self.part,
                        token_limit(self.limits)
                    )));
                }
                return Err(ExtractError::Corrupt(format!("{}: broken XML near byte {}: {e}", self.part, self.reader.error_position())));
            }
        };
        match &event {
            Event::Start(_) => {
                self.depth += 1;
                if self.depth > self.limits.max_xml_depth {
                    return Err(ExtractError::Corrupt(format!(
                        "{}: XML nested deeper than {} levels",
                        self.part, self.limits.max_xml_depth
                    )));
                }
            }
            Event::End(_) => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        Ok(event)
    }

    /// The text of an element whose start was just read, up to its end
    /// (nested markup is skipped, its text kept).
    pub(super) fn text_to_end(&mut self) -> Result<String, ExtractError> {
        let mut text = String::new();
        let limit = self.limits.max_text_bytes;
        let mut open = 1usize;
        while open > 0 {
            match self.next()? {
                Event::Start(_) => open += 1,
                Event::End(_) => open -= 1,
                Event::Eof => break,
                event => {
                    if let Some(t) = text_of(&event) {
                        if text.len() < limit {
                            text.push_str(&t);
                        }
                    }
                }
            }
        }
        Ok(text)
    }
}

/// The character data an event carries (text, CDATA, or an entity or
/// character reference), if any.
pub(super) fn text_of<'e>(event: &'e Event<'_>) -> Option<Cow<'e, str>> {
    match event {
        Event::Text(t) => Some(t.xml_content(XmlVersion::Implicit1_0)),
        Event::CData(c) => Some(c.xml_content(XmlVersion::Implicit1_0)),
        Event::GeneralRef(r) => match r.resolve_char_ref() {
            Ok(Some(c)) => Some(Cow::Owned(c.to_string())),
            Ok(None) => quick_xml::escape::resolve_predefined_entity(r).map(Cow::Borrowed),
            Err(_) => None,
        },
        _ => None,
    }
}

/// The local name of a start or end tag (`w:p w:rsidR="…"` → `p`).
pub(super) fn local_name(tag: &str) -> &str {
    let name = tag.split(|c: char| c.is_ascii_whitespace() || c == '/').next().unwrap_or("");
    name.rsplit(':').next().unwrap_or(name)
}

/// An attribute's value by local name, entities resolved.
pub(super) fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element.attributes().with_checks(false).flatten().find_map(|a| {
        let key = a.key.as_ref();
        (key.rsplit(':').next() == Some(name)).then(|| a.normalized_value(XmlVersion::Implicit1_0).ok().map(Cow::into_owned))?
    })
}

/// Resolve a location written in part `base` to a part name: a leading `/`
/// starts at the package root, anything else is relative to `base`'s
/// folder. `.` and `..` are resolved; a location that would climb out of the
/// package, or names a drive or a URL, is refused.
pub(super) fn resolve(base: &str, location: &str) -> Result<String, ExtractError> {
    let location = location.trim().replace('\\', "/");
    let refuse = || ExtractError::Corrupt(format!("{base} names a part outside the package: {location:?}"));
    if location.is_empty() || location.contains("://") || location.contains('\0') || location.get(1..2) == Some(":") {
        return Err(refuse());
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    // Relative to the naming part's folder, or to the root.
    parts.pop();
    if location.starts_with('/') {
        parts.clear();
    }
    for segment in location.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or_else(refuse)?;
            }
            name => parts.push(name),
        }
    }
    if parts.is_empty() {
        return Err(refuse());
    }
    Ok(parts.join("/"))
}

/// Text collected from a document, which stops growing once it is past
/// `max_text_bytes` (the reader then stops; [`TextSink::finish`] cuts and
/// reports).
pub(super) struct TextSink {
    text: String,
    limit: usize,
}

impl TextSink {
    pub(super) fn new(limit: usize) -> Self {
        TextSink { text: String::new(), limit }
    }

    pub(super) fn push_str(&mut self, s: &str) {
        if !self.full() {
            self.text.push_str(s);
        }
    }

    pub(super) fn push(&mut self, c: char) {
        if !self.full() {
            self.text.push(c);
        }
    }

    /// Bytes that can still be added before the text is past the limit.
    pub(super) fn room(&self) -> usize {
        (self.limit + 1).saturating_sub(self.text.len())
    }

    /// Whether the text is already past the limit (read no further).
    pub(super) fn full(&self) -> bool {
        self.text.len() > self.limit
    }

    /// Start a new line unless at the start of one.
    pub(super) fn end_line(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.push('\n');
        }
    }

    /// Drop trailing characters that are in `chars`.
    pub(super) fn trim_end(&mut self, chars: &[char]) {
        let kept = self.text.trim_end_matches(chars).len();
        self.text.truncate(kept);
    }

    /// The text with blank space tidied (no trailing blanks on a line, at
    /// most one empty line in a row), cut to the limit with a warning.
    pub(super) fn finish(self, warnings: &mut Vec<String>) -> String {
        let limit = self.limit;
        let mut tidy = String::with_capacity(self.text.len());
        let mut blank_run = 0;
        for line in self.text.lines().map(str::trim_end) {
            blank_run = if line.trim().is_empty() { blank_run + 1 } else { 0 };
            if blank_run <= 1 {
                tidy.push_str(line);
                tidy.push('\n');
            }
        }
        let mut text = cap_text(tidy.trim().to_string(), limit, warnings);
        text.truncate(text.trim_end().len());
        text
    }
}

/// Catalog fields from a file's own properties. The title is taken unless
/// it is an editor's placeholder. The publisher (OFD author) and the
/// creation date only fill what the text itself does not say: the issuing
/// organ and 成文日期 of a 公文's signature are the legal ones, and a file is
/// often created from an older template.
pub(super) fn properties_catalog(title: Option<&str>, publisher: Option<&str>, created: Option<&str>, text: &str) -> Catalog {
    let stated = catalog::from_text(text);
    let clean = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    Catalog {
        title: title.and_then(real_title),
        publisher: clean(publisher).filter(|_| stated.publisher.is_none()),
        written_date: created.and_then(iso_date).filter(|_| stated.written_date.is_none()),
        ..Catalog::default()
    }
}

/// A title from document properties, or `None` for what editors fill in by
/// themselves (`Microsoft Word - 文档1.doc`, `无标题`, an English default).
fn real_title(raw: &str) -> Option<String> {
    const EXTENSIONS: [&str; 7] = [".docx", ".doc", ".wps", ".pdf", ".ofd", ".txt", ".rtf"];
    const PLACEHOLDERS: [&str; 6] = ["无标题", "标题", "文档", "新建文档", "新建 Microsoft Word 文档", "新建 DOCX 文档"];
    let mut title = raw.trim();
    title = title.strip_prefix("Microsoft Word - ").unwrap_or(title).trim();
    for extension in EXTENSIONS {
        if title.len() > extension.len() && title.is_char_boundary(title.len() - extension.len()) {
            let (stem, tail) = title.split_at(title.len() - extension.len());
            if tail.eq_ignore_ascii_case(extension) {
                title = stem.trim();
            }
        }
    }
    let generic = PLACEHOLDERS.contains(&title.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_whitespace()));
    (title.chars().any(is_han) && !generic).then(|| title.to_string())
}

/// `2016-12-30`, `2016-12-30T08:00:00Z` → `2016-12-30`.
fn iso_date(raw: &str) -> Option<String> {
    catalog::parse_date(raw.trim().get(..10)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_inside_the_package_only() {
        assert_eq!(resolve("Doc_0/Document.xml", "Pages/Page_0/Content.xml").unwrap(), "Doc_0/Pages/Page_0/Content.xml");
        assert_eq!(resolve("Doc_0/Document.xml", "/Doc_0/Pages/Page_0/Content.xml").unwrap(), "Doc_0/Pages/Page_0/Content.xml");
        assert_eq!(resolve("OFD.xml", "./Doc_0/Document.xml").unwrap(), "Doc_0/Document.xml");
        assert_eq!(resolve("Doc_0/Document.xml", "../Doc_1/Res.xml").unwrap(), "Doc_1/Res.xml");
        for escape in ["../../etc/passwd", "/../x.xml", "C:/Windows/x.xml", "file:///etc/passwd", "", "..", "Doc_0/../.."] {
            assert!(resolve("Doc_0/Document.xml", escape).is_err(), "{escape:?} was accepted");
        }
    }

    #[test]
    fn editor_placeholder_titles_are_not_taken() {
        assert_eq!(real_title("Microsoft Word - 关于开展控烟宣传月活动的通知.doc").as_deref(), Some("关于开展控烟宣传月活动的通知"));
        for placeholder in ["文档1", "无标题", "Untitled", "Microsoft Word - Document1", "  "] {
            assert_eq!(real_title(placeholder), None, "{placeholder}");
        }
    }

    #[test]
    fn file_dates_only_fill_what_the_text_does_not_say() {
        let signed = "关于印发某办法的通知\n正文。\n临河区人民政府\n2016年12月30日\n";
        let c = properties_catalog(Some("关于印发某办法的通知"), Some("某局"), Some("2015-03-01T08:00:00Z"), signed);
        assert_eq!(c.written_date, None);
        assert_eq!(c.publisher, None);
        let unsigned = properties_catalog(None, Some("临河区统计局"), Some("2015-03-01T08:00:00Z"), "统计公报正文。");
        assert_eq!(unsigned.written_date.as_deref(), Some("2015-03-01"));
        assert_eq!(unsigned.publisher.as_deref(), Some("临河区统计局"));
    }

    #[test]
    fn text_stops_growing_past_the_limit_and_is_tidied() {
        let mut sink = TextSink::new(12);
        sink.push_str("一二三  \n\n\n\n四五");
        assert!(sink.full());
        sink.push_str("never");
        let mut warnings = Vec::new();
        assert_eq!(sink.finish(&mut warnings), "一二三");
        assert_eq!(warnings.len(), 1);
    }
}
