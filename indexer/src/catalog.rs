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

    /// The name a 政府信息公开目录 gives it: 主动公开, 依申请公开, 不予公开.
    pub fn as_chinese(self) -> &'static str {
        match self {
            Disclosure::Public => "主动公开",
            Disclosure::OnRequest => "依申请公开",
            Disclosure::Withheld => "不予公开",
        }
    }

    /// Read a disclosure as catalogs write it, in English (any case) or
    /// Chinese; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" | "主动公开" | "公开" => Some(Disclosure::Public),
            "on_request" | "依申请公开" => Some(Disclosure::OnRequest),
            "withheld" | "不予公开" | "不公开" => Some(Disclosure::Withheld),
            _ => None,
        }
    }
}

/// The names each catalog field goes by in a sidecar, an export record
/// and a `catalog.csv` header: the English name first, then the Chinese
/// ones of a 政府信息公开目录 (the first Chinese one heads the column of
/// `indexer catalog export --format csv`). `path` is the `catalog.csv`
/// column naming the file a row describes; `format`, `bytes` and `sha256`
/// say what the original is, and are only written (by the export).
pub const FIELD_NAMES: [(&str, &[&str]); 14] = [
    ("id", &["id"]),
    ("path", &["path", "file", "filename", "文件名", "文件", "路径", "文件路径"]),
    ("index_no", &["index_no", "索引号"]),
    ("title", &["title", "标题", "题名"]),
    ("publisher", &["publisher", "发布机构", "发文机关", "发文单位"]),
    ("doc_number", &["doc_number", "文号", "发文字号"]),
    ("written_date", &["written_date", "成文日期"]),
    ("published_date", &["published_date", "发布日期"]),
    ("category", &["category", "主题分类"]),
    ("disclosure", &["disclosure", "公开属性", "公开方式"]),
    ("validity", &["validity", "有效性"]),
    ("format", &["format", "格式"]),
    ("bytes", &["bytes", "字节数"]),
    ("sha256", &["sha256"]),
];

/// The names of catalog field `field` (its [`FIELD_NAMES`] entry).
fn names_of(field: &str) -> &'static [&'static str] {
    FIELD_NAMES.iter().find(|(name, _)| *name == field).map_or(&[], |(_, names)| *names)
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

    /// Read catalog fields from a JSON object (a sidecar, a record of an
    /// export, a `catalog.csv` row), under any of their [`FIELD_NAMES`].
    /// Fields of the wrong type or form are left out and each is described
    /// in the returned problems; unknown keys are ignored. A disclosure
    /// that cannot be read withholds the document: indexing a document its
    /// archivist meant to withhold is the one mistake that cannot be undone.
    pub fn from_json(object: &serde_json::Map<String, serde_json::Value>) -> (Catalog, Vec<String>) {
        let mut problems = Vec::new();
        let mut get = |field: &str, date: bool| -> Option<String> {
            let (key, value) = names_of(field).iter().find_map(|name| object.get(*name).map(|value| (*name, value)))?;
            let text = match value {
                serde_json::Value::String(s) => s.trim().to_string(),
                serde_json::Value::Number(n) if field == "id" => n.to_string(),
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
        let stated = names_of("disclosure").iter().filter_map(|name| object.get(*name)).any(|value| match value {
            serde_json::Value::Null => false,
            serde_json::Value::String(s) => !s.trim().is_empty(),
            _ => true,
        });
        let raw = get("disclosure", false);
        catalog.disclosure = raw.as_deref().and_then(Disclosure::parse);
        let unreadable = match &raw {
            Some(raw) => catalog.disclosure.is_none().then(|| format!(", found {raw:?}")),
            // Stated, but not as text: get() has described what it found.
            None => stated.then(String::new),
        };
        if let Some(found) = unreadable {
            catalog.disclosure = Some(Disclosure::Withheld);
            problems.push(format!(
                "field `disclosure` must be public, on_request or withheld (主动公开, 依申请公开, 不予公开){found}; \
                 the document is withheld until it is corrected"
            ));
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

/// What reading a folder's `catalog.csv` gave: its rows by file name, the
/// catalog of the files it has no row for, and problems to report.
#[derive(Debug, Default)]
pub struct CatalogCsv {
    pub rows: HashMap<String, Catalog>,
    /// Empty, unless the table could not be read and names the withheld
    /// status: then every file of its folder is withheld, as with a broken
    /// sidecar.
    pub others: Catalog,
    pub problems: Vec<String>,
}

impl CatalogCsv {
    /// The catalog row of the file named `name`.
    pub fn row(&self, name: &str) -> Catalog {
        self.rows.get(name).cloned().unwrap_or_else(|| self.others.clone())
    }
}

/// Read a folder's `catalog.csv` (UTF-8, GB18030/GBK, … detected). The
/// first row names the columns, in English or Chinese ([`FIELD_NAMES`]:
/// `title` or `标题`, `disclosure` or `公开属性` with 主动公开 / 依申请公开 /
/// 不予公开, …); the `path` (`文件名`, `路径`) column names the file of each
/// row. A table that cannot be used is reported and ignored, unless it
/// names the withheld status (see [`CatalogCsv::others`]).
pub fn read_catalog_csv(bytes: &[u8]) -> CatalogCsv {
    let text = crate::extract::decode_text(bytes).text;
    parse_catalog_csv(&text).unwrap_or_else(|problem| {
        let others = withheld_if_mentioned(&text);
        let consequence = match others.disclosure {
            Some(_) => "it mentions withheld documents, so every file of its folder is withheld until it is fixed",
            None => "its rows were ignored",
        };
        CatalogCsv { rows: HashMap::new(), others, problems: vec![format!("{problem}; {consequence}")] }
    })
}

fn parse_catalog_csv(text: &str) -> Result<CatalogCsv, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| format!("catalog.csv has no header row: {e}"))?.clone();
    let key_column = headers
        .iter()
        .position(|h| names_of("path").contains(&h.trim()))
        .ok_or_else(|| format!("catalog.csv needs a column naming the file of each row, headed one of {}", names_of("path").join(", ")))?;
    let mut csv = CatalogCsv::default();
    for (line, record) in reader.records().enumerate() {
        let row = line + 2;
        let record = record.map_err(|e| format!("catalog.csv row {row}: {e}"))?;
        let mut object = serde_json::Map::new();
        for (header, value) in headers.iter().zip(record.iter()) {
            object.insert(header.trim().to_string(), serde_json::Value::String(value.to_string()));
        }
        let (catalog, problems) = Catalog::from_json(&object);
        csv.problems.extend(problems.into_iter().map(|p| format!("row {row}: {p}")));
        if let Some(key) = record.get(key_column) {
            let key = key.trim().replace('\\', "/");
            let name = key.rsplit('/').next().unwrap_or(&key).to_string();
            csv.rows.insert(name, catalog);
        }
    }
    Ok(csv)
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
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let valid = (1900..=2200).contains(&y) && (1..=12).contains(&m) && (1..=days).contains(&d);
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
    s.chars()
        .filter_map(|c| "〇一二三四五六七八九".chars().position(|d| d == c).or((c == '零').then_some(0)))
        .map(|d| char::from(b'0' + d as u8))
        .collect()
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
    regex_of(&DOC_NUMBER, r"[\p{Han}A-Za-z]{1,16}\s*[〔\[\(（【［]\s*[0-9０-９]{4}\s*[〕\]\)）】］]\s*[0-9０-９]{1,5}\s*号")
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
/// The year and number may be said in Chinese numerals, as read aloud
/// (临政发二零一九年十二号: year digit by digit, then 年; number up to 99).
pub fn spoken_doc_number(text: &str) -> Option<SpokenDocNumber> {
    static SPOKEN: OnceLock<Regex> = OnceLock::new();
    static SPOKEN_HAN: OnceLock<Regex> = OnceLock::new();
    let re = regex_of(&SPOKEN, r"^(\p{Han}{2,16}?)(?:[〔\[(（【［〖]?([0-9]{4})[〕\])）】］〗年]?)?第?0*([0-9]{1,5})号(?:文件|文)?$");
    let folded: String = text.chars().filter(|c| !c.is_whitespace()).map(fold_digit).collect();
    if let Some(caps) = re.captures(&folded) {
        let year = caps.get(2).map(|m| m.as_str().to_string());
        return Some(SpokenDocNumber { prefix: caps[1].to_string(), year, number: caps[3].to_string() });
    }
    let re = regex_of(&SPOKEN_HAN, r"^(\p{Han}{2,16}?)([〇零一二三四五六七八九]{4})年第?([一二三四五六七八九十]{1,3})号(?:文件|文)?$");
    let caps = re.captures(&folded)?;
    let number = han_number(&caps[3])?.to_string();
    Some(SpokenDocNumber { prefix: caps[1].to_string(), year: Some(han_digits(&caps[2])), number })
}

/// Catalog fields read from a document's text, as a 公文 lays them out:
/// 文号 near the top, title in the heading, publisher and 成文日期 in the
/// signature block at the end, disclosure in the 附注 after it.
pub fn from_text(text: &str) -> Catalog {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let head = &lines[..lines.len().min(40)];
    let tail = &lines[lines.len().saturating_sub(12)..];
    let title = title(head);
    let doc_number = own_doc_number(head, title.as_deref(), tail);
    let (publisher, written_date) = signature(tail);
    let written_date = written_date.or_else(|| head.iter().take(8).find_map(|l| first_date(l)));
    Catalog {
        title,
        doc_number,
        written_date,
        publisher: publisher.or_else(|| issuer_heading(head)),
        disclosure: annotation(tail),
        ..Catalog::default()
    }
}

/// The document's own 文号: a line of the 版头 (the lines before the title)
/// or of the 版记 (the last lines) that holds the 文号 alone (or with its
/// 签发人). A 文号 the text cites, as in 依据《…办法》（临政发〔2019〕12号）,
/// is another document's, never this one's.
fn own_doc_number(head: &[&str], title: Option<&str>, tail: &[&str]) -> Option<String> {
    let title_at = title.and_then(|title| {
        head.iter().position(|l| {
            let l = l.trim_start_matches('#').trim();
            !l.is_empty() && title.starts_with(l)
        })
    });
    // Without a title, the 版头 ends where sentences begin.
    let banner_end = title_at.unwrap_or_else(|| head.iter().position(|l| l.contains(['，', '。'])).unwrap_or(head.len()));
    head[..banner_end].iter().chain(tail).find_map(|line| {
        let found = doc_number_regex().find(line)?;
        let rest = format!("{}{}", &line[..found.start()], &line[found.end()..]);
        let rest = rest.trim().trim_start_matches("文号").trim_start_matches(['：', ':']).trim();
        (rest.is_empty() || rest.starts_with("签发人")).then(|| found.as_str().split_whitespace().collect())
    })
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
        let before_date =
            line.split(|c: char| c.is_ascii_digit() || "０１２３４５６７８９〇零一二三".contains(c)).next().unwrap_or("").trim();
        let publisher = [before_date, if i > 0 { tail[i - 1] } else { "" }]
            .into_iter()
            .find(|c| is_organ_name(c))
            .map(|organs| split_publishers(organs).join("、"));
        return (publisher, Some(date));
    }
    (None, None)
}

/// The catalog line of a document: its 文号, 索引号, publisher and
/// category (in this order, those it has), one a line. What the index
/// analyzes into its `meta` field, so that a query finds a document by
/// them as it does by its title.
pub fn catalog_line(fields: [&Option<String>; 4]) -> String {
    fields.into_iter().flatten().map(String::as_str).collect::<Vec<&str>>().join("\n")
}

/// The organs of a jointly issued document, written side by side in its
/// signature or catalog (`临河区民政局　　临河区财政局`, `甲局、乙局`).
pub fn split_publishers(publishers: &str) -> Vec<&str> {
    publishers.split(|c: char| c.is_whitespace() || matches!(c, '、' | ',' | '，' | ';' | '；')).filter(|p| !p.is_empty()).collect()
}

/// Whether a line reads like the name of an issuing organ.
fn is_organ_name(line: &str) -> bool {
    const ENDINGS: [&str; 16] =
        ["政府", "局", "委员会", "办公室", "办公厅", "院", "厅", "部", "委", "中心", "所", "站", "会", "处", "署", "街道办事处"];
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
        "通知", "办法", "规定", "报告", "决定", "意见", "方案", "预案", "公告", "通告", "批复", "函", "条例", "细则", "规划", "计划",
        "名单", "公示", "纲要", "总结", "法", "规则", "解释", "标准",
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
    candidates().find(|l| l.starts_with("关于") || KINDS.iter().any(|k| l.ends_with(k))).or_else(|| candidates().next()).map(str::to_string)
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

/// Catalog fields the path tells: the category from the nearest enclosing
/// folder that is not a year, date or number (`政务公开/2016/0001/a.txt`
/// and `2016/政务公开/a.txt` are both 政务公开), and a version date written
/// in the file name (`条例(2019-03-24).md`).
pub fn from_path(relative: &str) -> Catalog {
    let mut parts: Vec<&str> = relative.split('/').collect();
    let file = parts.pop().unwrap_or("");
    let re = regex_of(&FILE_DATE, r"[\(（](\d{4}-\d{2}-\d{2})[\)）]");
    Catalog {
        category: parts.iter().rev().find(|folder| !is_numbering(folder)).map(|s| s.to_string()),
        published_date: re.captures(file).and_then(|c| parse_date(&c[1])),
        title: Path::new(file).file_stem().map(|s| s.to_string_lossy().to_string()),
        ..Catalog::default()
    }
}

/// Whether a folder name is a year, a date or a number (`2016`, `0001`,
/// `2016-03`, `2016年3月`, `２０１６`): such folders order an archive, they
/// do not name a category.
fn is_numbering(name: &str) -> bool {
    let digit = |c: char| fold_digit(c).is_ascii_digit();
    name.chars().any(digit) && name.chars().all(|c| digit(c) || c.is_whitespace() || "-_.年月日".contains(c))
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
        assert_eq!(parse_date("2020-02-30"), None);
        assert_eq!(parse_date("2019-02-29"), None);
        assert_eq!(parse_date("2020-02-29").as_deref(), Some("2020-02-29"));
    }

    #[test]
    fn doc_numbers_in_any_bracket_style_normalize_alike() {
        let key = normalize_doc_number("秦政发〔2016〕12号");
        for s in ["秦政发[2016]12号", "秦政发(2016)12号", "秦政发（2016）12号", "秦政发【2016】12号", "秦政发 [２０１６] 12号"]
        {
            assert_eq!(normalize_doc_number(s), key, "{s}");
        }
        assert_eq!(doc_number_keys("秦政发(2016)012号"), ["秦政发〔2016〕012号", "秦政发〔2016〕12号", "秦政发〔〕12号"]);
        assert_eq!(spoken_doc_number("最低生活保障"), None);
        assert_eq!(spoken_doc_number("7号"), None);
        let said = |text: &str| spoken_doc_number(text).map(|s| s.key());
        assert_eq!(said("临政发二零一九年十二号").as_deref(), Some("临政发〔2019〕12号"));
        assert_eq!(said("临政发二〇一九年第七号文件").as_deref(), Some("临政发〔2019〕7号"));
        assert_eq!(said("临政发二零一九年一百号"), None, "numbers past 99 are said in digits");
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
        let c = from_text(
            "# 中华人民共和国民法典\n\n# 婚姻家庭编\n\n2020年5月28日 第十三届全国人民代表大会第三次会议通过\n## 第一章 一般规定\n",
        );
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
        let csv = read_catalog_csv("path,title,disclosure\na.txt,甲,public\nsub/b.txt,乙,on_request\n".as_bytes());
        assert_eq!(csv.rows["a.txt"].title.as_deref(), Some("甲"));
        assert_eq!(csv.rows["b.txt"].disclosure, Some(Disclosure::OnRequest));
        assert!(csv.problems.is_empty());
        let headless = read_catalog_csv(b"title\nx\n");
        assert!(headless.rows.is_empty());
        assert_eq!(headless.others, Catalog::default());
        assert_eq!(
            headless.problems,
            ["catalog.csv needs a column naming the file of each row, headed one of path, file, filename, 文件名, 文件, 路径, 文件路径; its rows were ignored"]
        );
    }

    #[test]
    fn a_gbk_catalog_csv_with_chinese_headers_reads_like_the_english_one() {
        let table = "文件名,标题,发布机构,文号,索引号,成文日期,发布日期,主题分类,公开属性,有效性\n\
                     甲.txt,关于公布征地补偿标准的通知,临河区自然资源局,临政发〔2020〕18号,11629902MB0001021A/2020-00018,2020年8月1日,2020-08-03,征地拆迁,主动公开,有效\n\
                     乙.txt,信访事项答复意见书,临河区信访局,,,,,信访,依申请公开,\n\
                     丙.txt,困难群众名册,,,,,,,不予公开,\n";
        let gbk = encoding_rs::GBK.encode(table).0.into_owned();
        assert!(std::str::from_utf8(&gbk).is_err(), "the fixture really is GBK");
        let csv = read_catalog_csv(&gbk);
        assert!(csv.problems.is_empty(), "{:?}", csv.problems);
        assert_eq!(
            csv.rows["甲.txt"],
            Catalog {
                id: None,
                index_no: Some("11629902MB0001021A/2020-00018".into()),
                title: Some("关于公布征地补偿标准的通知".into()),
                publisher: Some("临河区自然资源局".into()),
                doc_number: Some("临政发〔2020〕18号".into()),
                written_date: Some("2020-08-01".into()),
                published_date: Some("2020-08-03".into()),
                category: Some("征地拆迁".into()),
                disclosure: Some(Disclosure::Public),
                validity: Some("有效".into()),
            }
        );
        assert_eq!(csv.rows["乙.txt"].disclosure, Some(Disclosure::OnRequest));
        assert_eq!(csv.rows["丙.txt"].disclosure, Some(Disclosure::Withheld));
        assert_eq!(csv.row("丁.txt"), Catalog::default(), "a file without a row gets nothing from the table");
    }

    #[test]
    fn a_disclosure_that_cannot_be_read_withholds() {
        for sidecar in [r#"{"disclosure":"secret"}"#, r#"{"公开属性":"部分公开"}"#, r#"{"disclosure":false}"#] {
            let parsed = parse_sidecar(sidecar.as_bytes());
            assert_eq!(parsed.catalog.disclosure, Some(Disclosure::Withheld), "{sidecar}");
            assert!(parsed.problems.iter().any(|p| p.contains("withheld until it is corrected")), "{sidecar}: {:?}", parsed.problems);
        }
        assert_eq!(parse_sidecar(br#"{"disclosure":"Public"}"#).catalog.disclosure, Some(Disclosure::Public));
        assert_eq!(parse_sidecar(br#"{"disclosure":""}"#).catalog.disclosure, None, "left empty: not stated");
        let broken = read_catalog_csv("title,公开属性\n名册,不予公开\n".as_bytes());
        assert_eq!(
            broken.row("名册.txt").disclosure,
            Some(Disclosure::Withheld),
            "a table without a path column that withholds withholds its folder"
        );
    }

    #[test]
    fn path_gives_category_and_version_date() {
        let c = from_path("行政法规/不动产登记暂行条例(2019-03-24).md");
        assert_eq!(c.category.as_deref(), Some("行政法规"));
        assert_eq!(c.published_date.as_deref(), Some("2019-03-24"));
        assert_eq!(from_path("a.txt").category, None);
    }

    #[test]
    fn the_category_is_the_nearest_folder_that_is_not_a_year_date_or_number() {
        for (path, category) in [
            ("x/政务公开/2016/0001/a.txt", Some("政务公开")),
            ("2016/政务公开/a.txt", Some("政务公开")),
            ("财政预决算/2016-12/20161230/a.txt", Some("财政预决算")),
            ("社会救助/2016年3月/a.txt", Some("社会救助")),
            ("社会救助/２０１６/a.txt", Some("社会救助")),
            ("2016/0001/a.txt", None),
            ("社会救助/2016年第三季度/a.txt", Some("2016年第三季度")),
        ] {
            assert_eq!(from_path(path).category.as_deref(), category, "{path}");
        }
    }

    #[test]
    fn a_doc_number_is_the_documents_own_never_one_it_cites() {
        let list = "临河区2023年第三季度城乡最低生活保障资金发放名单\n根据《临河区城乡居民最低生活保障实施办法》（临政发〔2019〕12号）规定，现将发放情况予以公示。\n张*明 780元\n临河区民政局\n2023年10月8日\n";
        assert_eq!(from_text(list).doc_number, None);
        let cited_first = "依据《临河区城乡居民最低生活保障实施办法》（临政发〔2019〕12号）\n低保对象名单\n张*明\n";
        assert_eq!(from_text(cited_first).doc_number, None);
        let repealing = "关于调整征地补偿标准的通知\n各乡镇：\n补偿标准如下。\n本通知自2020年9月1日起施行，《关于调整征地补偿标准的通知》（临政发〔2015〕22号）同时废止。\n临河区人民政府\n2020年8月1日\n";
        assert_eq!(from_text(repealing).doc_number, None);
        let signed = "临河区人民政府文件\n临政发〔2020〕18号　　签发人：王某\n关于公布征地区片综合地价的通知\n依据《土地管理法》（主席令第32号）制定。\n";
        assert_eq!(from_text(signed).doc_number.as_deref(), Some("临政发〔2020〕18号"));
        let record = "关于开展药品安全专项整治的通知\n各单位：\n依照《药品管理法》开展整治。\n临河区市场监督管理局\n2019年5月6日\n抄送：区食安办。\n文号：临市监发〔2019〕14号\n";
        assert_eq!(from_text(record).doc_number.as_deref(), Some("临市监发〔2019〕14号"), "from the 版记");
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
