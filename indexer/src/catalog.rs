//! Catalog data of a document (政府信息公开目录 fields) and where it comes
//! from, in order of precedence: a sidecar `<file>.meta.json`, a
//! `catalog.csv` in the file's folder, the text itself (title, 文号, 成文日期,
//! publisher, 附注) and the folder name (category).

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// 公开属性: who may see a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disclosure {
    /// 主动公开: searchable and readable by everyone.
    Public,
    /// 依申请公开: findable by catalog fields only; text and original on application.
    OnRequest,
    /// 不予公开: never indexed.
    Withheld,
}

impl Disclosure {
    pub fn as_str(self) -> &'static str {
        match self {
            Disclosure::Public => "public",
            Disclosure::OnRequest => "on_request",
            Disclosure::Withheld => "withheld",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "public" | "主动公开" | "公开" => Some(Disclosure::Public),
            "on_request" | "依申请公开" => Some(Disclosure::OnRequest),
            "withheld" | "不予公开" | "不公开" => Some(Disclosure::Withheld),
            _ => None,
        }
    }
}

/// The catalog fields a document can carry; `None` where unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub id: Option<String>,
    pub index_no: Option<String>,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub doc_number: Option<String>,
    pub written_date: Option<String>,
    pub published_date: Option<String>,
    pub category: Option<String>,
    pub disclosure: Option<Disclosure>,
    pub validity: Option<String>,
}

impl Catalog {
    /// Fill every field still unknown from `lower` (a source of lower precedence).
    pub fn or(self, lower: Catalog) -> Catalog {
        Catalog {
            id: self.id.or(lower.id),
            index_no: self.index_no.or(lower.index_no),
            title: self.title.or(lower.title),
            publisher: self.publisher.or(lower.publisher),
            doc_number: self.doc_number.or(lower.doc_number),
            written_date: self.written_date.or(lower.written_date),
            published_date: self.published_date.or(lower.published_date),
            category: self.category.or(lower.category),
            disclosure: self.disclosure.or(lower.disclosure),
            validity: self.validity.or(lower.validity),
        }
    }

    /// Read catalog fields from a JSON object (a sidecar, or a record of a
    /// JSON export). Fields of the wrong type or form are left out and each
    /// is described in the returned problems; unknown keys are ignored.
    pub fn from_json(object: &serde_json::Map<String, serde_json::Value>) -> (Catalog, Vec<String>) {
        let mut problems = Vec::new();
        let mut get = |key: &str, date: bool| -> Option<String> {
            let value = object.get(key)?;
            let text = match value {
                serde_json::Value::String(s) => s.trim().to_string(),
                serde_json::Value::Number(n) if key == "id" => n.to_string(),
                serde_json::Value::Null => return None,
                other => {
                    problems.push(format!("field `{key}` must be a string, found {}", json_kind(other)));
                    return None;
                }
            };
            if text.is_empty() {
                return None;
            }
            if date {
                let parsed = parse_date(&text);
                if parsed.is_none() {
                    problems.push(format!("field `{key}` must be a date like 2016-12-30, found {text:?}"));
                }
                return parsed;
            }
            Some(text)
        };
        let mut catalog = Catalog {
            id: get("id", false),
            index_no: get("index_no", false),
            title: get("title", false),
            publisher: get("publisher", false),
            doc_number: get("doc_number", false),
            written_date: get("written_date", true),
            published_date: get("published_date", true),
            category: get("category", false),
            disclosure: None,
            validity: get("validity", false),
        };
        if let Some(raw) = get("disclosure", false) {
            catalog.disclosure = Disclosure::parse(&raw);
            if catalog.disclosure.is_none() {
                problems.push(format!(
                    "field `disclosure` must be public, on_request or withheld, found {raw:?}"
                ));
            }
        }
        if let Some(id) = &catalog.id {
            if !is_safe_id(id) {
                problems.push(format!("field `id` may hold only letters, digits, - and _, found {id:?}"));
                catalog.id = None;
            }
        }
        (catalog, problems)
    }
}

/// Ids appear in URLs; only a conservative alphabet is accepted from catalogs.
pub fn is_safe_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// What reading a sidecar gave: its fields, and problems to report.
pub struct Sidecar {
    pub catalog: Catalog,
    pub problems: Vec<String>,
}

/// Parse the bytes of a `<file>.meta.json` sidecar. A sidecar that is not a
/// JSON object is reported and ignored; if its raw text names the withheld
/// status, the document is treated as withheld, because indexing a file its
/// archivist meant to withhold is the one mistake that cannot be undone.
pub fn parse_sidecar(bytes: &[u8]) -> Sidecar {
    let text = crate::extract::decode_text(bytes).text;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(object)) => {
            let (catalog, problems) = Catalog::from_json(&object);
            Sidecar { catalog, problems }
        }
        Ok(other) => Sidecar {
            catalog: withheld_if_mentioned(&text),
            problems: vec![format!("sidecar must be a JSON object, found {}; its fields were ignored", json_kind(&other))],
        },
        Err(e) => Sidecar {
            catalog: withheld_if_mentioned(&text),
            problems: vec![format!("sidecar is not valid JSON ({e}); its fields were ignored")],
        },
    }
}

fn withheld_if_mentioned(raw: &str) -> Catalog {
    let withheld = raw.contains("withheld") || raw.contains("不予公开");
    Catalog { disclosure: withheld.then_some(Disclosure::Withheld), ..Catalog::default() }
}

/// Rows of a folder's `catalog.csv`, by file name. The first row names the
/// columns (the catalog field names, plus `path` or `file`).
pub fn parse_catalog_csv(bytes: &[u8]) -> Result<HashMap<String, Catalog>, String> {
    let text = crate::extract::decode_text(bytes).text;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| format!("catalog.csv has no header row: {e}"))?.clone();
    let key_column = headers
        .iter()
        .position(|h| matches!(h.trim(), "path" | "file" | "filename" | "文件"))
        .ok_or("catalog.csv needs a `path` column naming the file of each row")?;
    let mut rows = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("catalog.csv row {}: {e}", line + 2))?;
        let mut object = serde_json::Map::new();
        for (header, value) in headers.iter().zip(record.iter()) {
            object.insert(header.trim().to_string(), serde_json::Value::String(value.to_string()));
        }
        let (catalog, _) = Catalog::from_json(&object);
        if let Some(key) = record.get(key_column) {
            let key = key.trim().replace('\\', "/");
            let name = key.rsplit('/').next().unwrap_or(&key).to_string();
            rows.insert(name, catalog);
        }
    }
    Ok(rows)
}

/// Normalize a date written `2016-12-30`, `2016/12/30`, `2016.12.30`,
/// `2016年12月30日` or `二〇一六年十二月三十日` to ISO form.
pub fn parse_date(s: &str) -> Option<String> {
    let s: String = s.trim().chars().map(fold_digit).collect();
    let re = regex_of(&DATE_NUMERIC, r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$");
    if let Some(c) = re.captures(&s) {
        return iso(&c[1], &c[2], &c[3]);
    }
    let re = regex_of(&DATE_HAN, r"^([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日$");
    let c = re.captures(&s)?;
    iso(&han_digits(&c[1]), &han_number(&c[2])?.to_string(), &han_number(&c[3])?.to_string())
}

fn iso(y: &str, m: &str, d: &str) -> Option<String> {
    let (y, m, d): (u32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let valid = (1900..=2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d);
    valid.then(|| format!("{y:04}-{m:02}-{d:02}"))
}

fn fold_digit(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        _ => c,
    }
}

/// `二〇一六` → `2016` (digit by digit, as years are written).
fn han_digits(s: &str) -> String {
    s.chars().filter_map(|c| "〇一二三四五六七八九".chars().position(|d| d == c).or((c == '零').then_some(0))).map(|d| char::from(b'0' + d as u8)).collect()
}

/// `十二` → 12, `三十一` → 31, `五` → 5.
fn han_number(s: &str) -> Option<u32> {
    let digit = |c: char| "〇一二三四五六七八九".chars().position(|d| d == c).map(|d| d as u32);
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        [c] if *c == '十' => Some(10),
        [c] => digit(*c),
        ['十', u] => Some(10 + digit(*u)?),
        [t, '十'] => Some(10 * digit(*t)?),
        [t, '十', u] => Some(10 * digit(*t)? + digit(*u)?),
        _ => None,
    }
}

static DATE_NUMERIC: OnceLock<Regex> = OnceLock::new();
static DATE_HAN: OnceLock<Regex> = OnceLock::new();
static DOC_NUMBER: OnceLock<Regex> = OnceLock::new();
static DATE_IN_TEXT: OnceLock<Regex> = OnceLock::new();
static FILE_DATE: OnceLock<Regex> = OnceLock::new();

fn regex_of(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("built-in pattern is valid"))
}

fn doc_number_regex() -> &'static Regex {
    regex_of(
        &DOC_NUMBER,
        r"[\p{Han}A-Za-z]{1,16}\s*[〔\[\(（【［]\s*[0-9０-９]{4}\s*[〕\]\)）】］]\s*[0-9０-９]{1,5}\s*号",
    )
}

/// The normalized form of a 文号 or 索引号, as kept in the exact keyword
/// fields: full-width folded, spaces removed, every bracket style (〔〕, [ ],
/// ( ), （）, 【】) written as 〔〕. A pasted 文号 in any style finds its document.
pub fn normalize_doc_number(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '[' | '(' | '（' | '【' | '［' | '〔' => '〔',
            ']' | ')' | '）' | '】' | '］' | '〕' => '〕',
            c => fold_digit(c),
        })
        .collect()
}

/// The keys a 文号 is found by: its normalized form ([`normalize_doc_number`],
/// `临政发〔2019〕7号`) and, when it has a year, the same without the year
/// (`临政发〔〕7号`), for people who say a 文号 without it.
pub fn doc_number_keys(doc_number: &str) -> Vec<String> {
    let full = normalize_doc_number(doc_number);
    let mut keys = vec![full.clone()];
    if let Some(spoken) = spoken_doc_number(&full) {
        let yearless = SpokenDocNumber { year: None, ..spoken.clone() };
        for key in [spoken.key(), yearless.key()] {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// A 文号 as people say or type it: 临政发〔2019〕7号, 临政发2019年7号,
/// 临政发(2019)7号文件, 临政发7号.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpokenDocNumber {
    /// The issuer's code, 临政发.
    pub prefix: String,
    /// The year, when said.
    pub year: Option<String>,
    /// The serial number, without leading zeros.
    pub number: String,
}

impl SpokenDocNumber {
    /// The exact key it is indexed under ([`doc_number_keys`]).
    pub fn key(&self) -> String {
        format!("{}〔{}〕{}号", self.prefix, self.year.as_deref().unwrap_or(""), self.number)
    }
}

/// Read `text` (the whole query, spaces removed) as a 文号, if it is one:
/// 2–16 Han characters, an optional four-digit year in any brackets or
/// followed by 年, an optional 第, a number, 号, and an optional 文 or 文件.
pub fn spoken_doc_number(text: &str) -> Option<SpokenDocNumber> {
    static SPOKEN: OnceLock<Regex> = OnceLock::new();
    let re = regex_of(
        &SPOKEN,
        r"^(\p{Han}{2,16}?)(?:[〔\[(（【［〖]?([0-9]{4})[〕\])）】］〗年]?)?第?0*([0-9]{1,5})号(?:文件|文)?$",
    );
    let folded: String = text.chars().filter(|c| !c.is_whitespace()).map(fold_digit).collect();
    let caps = re.captures(&folded)?;
    Some(SpokenDocNumber {
        prefix: caps[1].to_string(),
        year: caps.get(2).map(|m| m.as_str().to_string()),
        number: caps[3].to_string(),
    })
}


/// Catalog fields read from a document's text, as a 公文 lays them out:
/// 文号 near the top, title in the heading, publisher and 成文日期 in the
/// signature block at the end, disclosure in the 附注 after it.
pub fn from_text(text: &str) -> Catalog {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let head = &lines[..lines.len().min(40)];
    let tail = &lines[lines.len().saturating_sub(12)..];
    let doc_number = head.iter().find_map(|l| doc_number_regex().find(l)).map(|m| m.as_str().split_whitespace().collect::<String>());
    let (publisher, written_date) = signature(tail);
    let written_date = written_date.or_else(|| head.iter().take(8).find_map(|l| first_date(l)));
    Catalog {
        title: title(head),
        doc_number,
        written_date,
        publisher: publisher.or_else(|| issuer_heading(head)),
        disclosure: annotation(tail),
        ..Catalog::default()
    }
}

/// The first date written in a line, in either form.
fn first_date(line: &str) -> Option<String> {
    let re = regex_of(
        &DATE_IN_TEXT,
        r"([0-9０-９]{4}\s*年\s*[0-9０-９]{1,2}\s*月\s*[0-9０-９]{1,2}\s*日)|([〇零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,3}月[一二三四五六七八九十]{1,3}日)",
    );
    re.find_iter(line).find_map(|m| parse_date(&m.as_str().split_whitespace().collect::<String>()))
}

/// Publisher and date of the signature block: a date line near the end,
/// with the issuing organ on the line before it (or before the date on the
/// same line).
fn signature(tail: &[&str]) -> (Option<String>, Option<String>) {
    for (i, line) in tail.iter().enumerate().rev() {
        let Some(date) = first_date(line) else { continue };
        // A date line of a signature is short; a sentence that mentions a date is not one.
        if line.chars().count() > 30 {
            continue;
        }
        let before_date = line.split(|c: char| c.is_ascii_digit() || "０１２３４５６７８９〇零一二三".contains(c)).next().unwrap_or("").trim();
        let publisher = [before_date, if i > 0 { tail[i - 1] } else { "" }]
            .into_iter()
            .find(|c| is_organ_name(c))
            .map(|organs| split_publishers(organs).join("、"));
        return (publisher, Some(date));
    }
    (None, None)
}

/// The organs of a jointly issued document, written side by side in its
/// signature or catalog (`临河区民政局　　临河区财政局`, `甲局、乙局`).
pub fn split_publishers(publishers: &str) -> Vec<&str> {
    publishers.split(|c: char| c.is_whitespace() || matches!(c, '、' | ',' | '，' | ';' | '；')).filter(|p| !p.is_empty()).collect()
}

/// Whether a line reads like the name of an issuing organ.
fn is_organ_name(line: &str) -> bool {
    const ENDINGS: [&str; 16] = [
        "政府", "局", "委员会", "办公室", "办公厅", "院", "厅", "部", "委", "中心", "所", "站", "会", "处", "署", "街道办事处",
    ];
    let n = line.chars().count();
    (2..=40).contains(&n)
        && !line.contains(['，', '。', '：', ':', '；'])
        && line.split_whitespace().any(|part| ENDINGS.iter().any(|e| part.ends_with(e)))
}

/// `临河区人民政府文件` at the head of a 公文 names its issuer.
fn issuer_heading(head: &[&str]) -> Option<String> {
    head.iter().take(3).find_map(|l| l.strip_suffix("文件")).filter(|p| is_organ_name(p)).map(str::to_string)
}

/// Title: a Markdown heading, or the first short line that reads like a
/// 公文 title, skipping the issuer banner, 文号 and date lines.
fn title(head: &[&str]) -> Option<String> {
    const KINDS: [&str; 24] = [
        "通知", "办法", "规定", "报告", "决定", "意见", "方案", "预案", "公告", "通告", "批复", "函", "条例", "细则",
        "规划", "计划", "名单", "公示", "纲要", "总结", "法", "规则", "解释", "标准",
    ];
    // A document in parts (民法典 → 婚姻家庭编) stacks its top headings.
    let headings: Vec<&str> = head.iter().take(5).filter_map(|l| l.strip_prefix("# ")).map(str::trim).collect();
    if !headings.is_empty() {
        return Some(headings.join(" "));
    }
    let candidates = || {
        head.iter().take(12).map(|l| l.trim_start_matches('#').trim()).filter(|l| {
            let n = l.chars().count();
            (4..=80).contains(&n)
                && !l.ends_with("文件")
                && !doc_number_regex().is_match(l)
                && first_date(l).is_none()
                && !l.contains(['，', '。', '；', ':', '：'])
        })
    };
    candidates()
        .find(|l| l.starts_with("关于") || KINDS.iter().any(|k| l.ends_with(k)))
        .or_else(|| candidates().next())
        .map(str::to_string)
}

/// The 附注 of a 公文 states its disclosure: （此件公开发布）, （此件依申请公开）,
/// （此件不予公开）.
fn annotation(tail: &[&str]) -> Option<Disclosure> {
    tail.iter().rev().find_map(|l| {
        let note = l.trim_matches(|c| matches!(c, '(' | ')' | '（' | '）'));
        if !note.starts_with("此件") && !note.starts_with("附注") {
            return None;
        }
        if note.contains("不予公开") || note.contains("不公开") {
            Some(Disclosure::Withheld)
        } else if note.contains("依申请公开") {
            Some(Disclosure::OnRequest)
        } else if note.contains("公开") {
            Some(Disclosure::Public)
        } else {
            None
        }
    })
}

/// Catalog fields the path tells: the category from the top folder, and a
/// version date written in the file name (`条例(2019-03-24).md`).
pub fn from_path(relative: &str) -> Catalog {
    let mut parts: Vec<&str> = relative.split('/').collect();
    let file = parts.pop().unwrap_or("");
    let re = regex_of(&FILE_DATE, r"[\(（](\d{4}-\d{2}-\d{2})[\)）]");
    Catalog {
        category: parts.first().map(|s| s.to_string()),
        published_date: re.captures(file).and_then(|c| parse_date(&c[1])),
        title: Path::new(file).file_stem().map(|s| s.to_string_lossy().to_string()),
        ..Catalog::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTICE: &str = "临河区人民政府文件\n\n临政发〔2016〕12号\n\n关于印发临河区城乡居民最低生活保障实施办法的通知\n\n各乡镇人民政府，区政府各部门：\n现将《临河区城乡居民最低生活保障实施办法》印发给你们，请认真贯彻执行。\n\n临河区人民政府\n2016年12月30日\n\n（此件公开发布）\n";

    #[test]
    fn a_notice_gives_its_title_number_date_publisher_and_disclosure() {
        let c = from_text(NOTICE);
        assert_eq!(c.title.as_deref(), Some("关于印发临河区城乡居民最低生活保障实施办法的通知"));
        assert_eq!(c.doc_number.as_deref(), Some("临政发〔2016〕12号"));
        assert_eq!(c.written_date.as_deref(), Some("2016-12-30"));
        assert_eq!(c.publisher.as_deref(), Some("临河区人民政府"));
        assert_eq!(c.disclosure, Some(Disclosure::Public));
    }

    #[test]
    fn dates_in_han_numerals_and_other_brackets_are_read() {
        let text = "临财发[2020]8号\n关于调整三公经费预算的通知\n正文。\n临河区财政局\n二〇二〇年三月十五日\n（此件依申请公开）";
        let c = from_text(text);
        assert_eq!(c.doc_number.as_deref(), Some("临财发[2020]8号"));
        assert_eq!(c.written_date.as_deref(), Some("2020-03-15"));
        assert_eq!(c.publisher.as_deref(), Some("临河区财政局"));
        assert_eq!(c.disclosure, Some(Disclosure::OnRequest));
        assert_eq!(parse_date("二〇一六年十二月三十日").as_deref(), Some("2016-12-30"));
        assert_eq!(parse_date("２０１６年１月５日").as_deref(), Some("2016-01-05"));
        assert_eq!(parse_date("2016-13-40"), None);
    }

    #[test]
    fn doc_numbers_in_any_bracket_style_normalize_alike() {
        let key = normalize_doc_number("秦政发〔2016〕12号");
        for s in ["秦政发[2016]12号", "秦政发(2016)12号", "秦政发（2016）12号", "秦政发【2016】12号", "秦政发 [２０１６] 12号"] {
            assert_eq!(normalize_doc_number(s), key, "{s}");
        }
        assert_eq!(doc_number_keys("秦政发(2016)012号"), ["秦政发〔2016〕012号", "秦政发〔2016〕12号", "秦政发〔〕12号"]);
        assert_eq!(spoken_doc_number("最低生活保障"), None);
        assert_eq!(spoken_doc_number("7号"), None);
    }

    #[test]
    fn markdown_heading_is_the_title() {
        let c = from_text("# 不动产登记暂行条例\n\n2014年11月24日 中华人民共和国国务院令第656号公布\n");
        assert_eq!(c.title.as_deref(), Some("不动产登记暂行条例"));
        assert_eq!(c.written_date.as_deref(), Some("2014-11-24"));
    }

    #[test]
    fn jointly_issued_documents_name_each_publisher() {
        let c = from_text("关于调整低保标准的通知\n正文。\n临河区民政局\u{3000}\u{3000}临河区财政局\n2022年1月5日\n");
        assert_eq!(c.publisher.as_deref(), Some("临河区民政局、临河区财政局"));
        assert_eq!(split_publishers("甲局、乙局 丙局"), ["甲局", "乙局", "丙局"]);
    }

    #[test]
    fn stacked_headings_make_one_title() {
        let c = from_text("# 中华人民共和国民法典\n\n# 婚姻家庭编\n\n2020年5月28日 第十三届全国人民代表大会第三次会议通过\n## 第一章 一般规定\n");
        assert_eq!(c.title.as_deref(), Some("中华人民共和国民法典 婚姻家庭编"));
    }

    #[test]
    fn wrong_typed_sidecar_fields_are_reported_and_the_rest_kept() {
        let s = parse_sidecar(br#"{"title":"T","written_date":20161230,"published_date":"2016-13-01","disclosure":"secret"}"#);
        assert_eq!(s.catalog.title.as_deref(), Some("T"));
        assert_eq!(s.catalog.written_date, None);
        assert_eq!(s.problems.len(), 3, "{:?}", s.problems);
    }

    #[test]
    fn a_broken_sidecar_that_says_withheld_withholds() {
        let s = parse_sidecar(br#"{"disclosure": "withheld",,}"#);
        assert_eq!(s.catalog.disclosure, Some(Disclosure::Withheld));
        assert_eq!(s.problems.len(), 1);
        assert_eq!(parse_sidecar(b"[1,2]").catalog.disclosure, None);
    }

    #[test]
    fn catalog_csv_rows_are_keyed_by_file_name() {
        let rows = parse_catalog_csv("path,title,disclosure\na.txt,甲,public\nsub/b.txt,乙,on_request\n".as_bytes()).unwrap();
        assert_eq!(rows["a.txt"].title.as_deref(), Some("甲"));
        assert_eq!(rows["b.txt"].disclosure, Some(Disclosure::OnRequest));
        assert!(parse_catalog_csv(b"title\nx\n").is_err());
    }

    #[test]
    fn path_gives_category_and_version_date() {
        let c = from_path("行政法规/不动产登记暂行条例(2019-03-24).md");
        assert_eq!(c.category.as_deref(), Some("行政法规"));
        assert_eq!(c.published_date.as_deref(), Some("2019-03-24"));
        assert_eq!(from_path("a.txt").category, None);
    }

    #[test]
    fn precedence_keeps_the_higher_source() {
        let high = Catalog { title: Some("sidecar".into()), ..Catalog::default() };
        let low = Catalog { title: Some("text".into()), publisher: Some("p".into()), ..Catalog::default() };
        let merged = high.or(low);
        assert_eq!(merged.title.as_deref(), Some("sidecar"));
        assert_eq!(merged.publisher.as_deref(), Some("p"));
    }
}
