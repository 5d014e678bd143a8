//! Catalog exports: `.json` (an object or a list of objects), `.jsonl` (one
//! object per line) and `.csv` (one row per document when it has a text
//! column; otherwise the table itself is one document). Each record carries
//! catalog fields, its text and its own original: the record alone (its
//! JSON, or the CSV header line and its row), never the whole export, so
//! that serving one record's original gives out nothing of the others.

use serde_json::{Map, Value};

use super::text::{bom_note, decode_text, looks_binary, replaced_note};
use super::{cap_text, ExtractError, Limits, Record};
use crate::catalog::Catalog;

/// Keys that hold a record's text, in order of preference.
const TEXT_KEYS: [&str; 6] = ["text", "content", "body", "正文", "内容", "fulltext"];

pub(super) fn extract_json(bytes: &[u8], limits: &Limits) -> Result<Vec<Record>, ExtractError> {
    let text = decode_text(bytes).text;
    let value: Value = serde_json::from_str(&text).map_err(|e| ExtractError::Corrupt(format!("not valid JSON: {e}")))?;
    let items: Vec<(Value, String)> = match value {
        Value::Array(items) => {
            let raw = array_items(&text);
            // Should the scan ever disagree with the parser, each record is
            // written out again rather than cut wrongly.
            let raw = if raw.len() == items.len() {
                raw.into_iter().map(str::to_string).collect()
            } else {
                items.iter().map(Value::to_string).collect::<Vec<_>>()
            };
            items.into_iter().zip(raw).collect()
        }
        object @ Value::Object(_) => vec![(object, text.trim().to_string())],
        _ => return Err(ExtractError::Corrupt("JSON export must be an object or a list of objects".into())),
    };
    let mut records = Vec::new();
    for (i, (item, raw)) in items.into_iter().enumerate() {
        match item {
            Value::Object(object) => records.push(record_of(&object, i + 1, raw, limits)),
            _ => records.push(skipped(format!("item {} is not an object; skipped", i + 1))),
        }
    }
    non_empty(records)
}

/// The source text of each item of the JSON array `text` (already parsed
/// once, so it is known to be valid), in order: a record's original is
/// its object exactly as the export wrote it.
fn array_items(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut start) = (0usize, false, false, 0);
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => {
                depth += 1;
                if depth == 1 {
                    start = i + 1;
                }
            }
            // A comma or the closing bracket of the top-level array ends an item.
            ',' | ']' if depth == 1 => {
                let item = text[start..i].trim();
                if !item.is_empty() {
                    items.push(item);
                }
                start = i + 1;
                if c != ',' {
                    depth -= 1;
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    items
}

pub(super) fn extract_jsonl(bytes: &[u8], limits: &Limits) -> Result<Vec<Record>, ExtractError> {
    let text = decode_text(bytes).text;
    let mut records = Vec::new();
    let lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    for (number, (n, line)) in lines.enumerate() {
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => records.push(record_of(&object, number + 1, format!("{}\n", line.trim()), limits)),
            Ok(_) => records.push(skipped(format!("line {} is not a JSON object; skipped", n + 1))),
            Err(e) => records.push(skipped(format!("line {} is not valid JSON ({e}); skipped", n + 1))),
        }
    }
    non_empty(records)
}

pub(super) fn extract_csv(bytes: &[u8], limits: &Limits) -> Result<Vec<Record>, ExtractError> {
    let decoded = decode_text(bytes);
    if looks_binary(&decoded.text) {
        return Err(ExtractError::Binary);
    }
    // What the decoding noticed: reported with the table, or with its first row.
    let mut notes: Vec<String> = bom_note(bytes, decoded.encoding).into_iter().collect();
    if decoded.lossy {
        notes.push(replaced_note(decoded.encoding));
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(decoded.text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ExtractError::Corrupt(format!("CSV header unreadable: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if !headers.iter().any(|h| TEXT_KEYS.contains(&h.as_str())) {
        // A table without a text column is a document in its own right.
        let mut warnings = notes;
        let whole = decoded.text.len() <= limits.max_text_bytes;
        let text = cap_text(decoded.text, limits.max_text_bytes, &mut warnings);
        return Ok(vec![Record { text, encoding: whole.then_some(decoded.encoding), warnings, ..Record::default() }]);
    }
    // The header line as written, for each row's original.
    let header_end = reader.position().byte() as usize;
    let header_line = decoded.text.get(..header_end).unwrap_or_default().trim_end_matches(['\r', '\n']).to_string();
    let mut records: Vec<Record> = notes.into_iter().map(skipped).collect();
    let mut row = csv::StringRecord::new();
    for n in 0.. {
        let start = reader.position().byte() as usize;
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {
                let object: Map<String, Value> =
                    headers.iter().zip(row.iter()).map(|(h, v)| (h.clone(), Value::String(v.to_string()))).collect();
                let row_text = decoded.text.get(start..reader.position().byte() as usize).unwrap_or_default();
                let line = row_text.trim_matches(['\r', '\n']);
                records.push(record_of(&object, n + 1, format!("{header_line}\n{line}\n"), limits));
            }
            Err(e) => {
                records.push(skipped(format!("row {} unreadable ({e}); skipped", n + 2)));
                if reader.position().byte() as usize == start {
                    break;
                }
            }
        }
    }
    non_empty(records)
}

/// A placeholder that carries only a warning; dropped by [`non_empty`]
/// after its warning moved to a real record.
fn skipped(warning: String) -> Record {
    Record { warnings: vec![warning], ..Record::default() }
}

/// Record `number` of an export, whose source is `original`.
fn record_of(object: &Map<String, Value>, number: usize, original: String, limits: &Limits) -> Record {
    let (catalog, mut warnings) = Catalog::from_json(object);
    let text = TEXT_KEYS.iter().find_map(|k| object.get(*k).and_then(Value::as_str)).unwrap_or("").to_string();
    let text = cap_text(text, limits.max_text_bytes, &mut warnings);
    Record { text, catalog, encoding: None, warnings, number: Some(number), original: Some(original.into_bytes()) }
}

/// Keep real records; move the warnings of skipped items onto the first
/// real one so they still reach the report.
fn non_empty(records: Vec<Record>) -> Result<Vec<Record>, ExtractError> {
    let (mut real, skipped): (Vec<Record>, Vec<Record>) =
        records.into_iter().partition(|r| !r.text.is_empty() || r.catalog != Catalog::default());
    let notes: Vec<String> = skipped.into_iter().flat_map(|r| r.warnings).collect();
    match real.first_mut() {
        Some(first) => {
            first.warnings.extend(notes);
            Ok(real)
        }
        None if notes.is_empty() => Err(ExtractError::Corrupt("export holds no records".into())),
        None => Err(ExtractError::Corrupt(notes.join("; "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_list_gives_one_record_per_object() {
        let json = r#"[{"title":"甲","doc_number":"临政发〔2019〕1号","text":"正文甲"},{"title":"乙","content":"正文乙"}, 3]"#;
        let r = extract_json(json.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].catalog.doc_number.as_deref(), Some("临政发〔2019〕1号"));
        assert_eq!(r[1].text, "正文乙");
        assert!(r[0].warnings.iter().any(|w| w.contains("item 3")));
    }

    #[test]
    fn a_bad_jsonl_line_is_reported_and_the_others_kept() {
        let jsonl = "{\"title\":\"甲\",\"text\":\"一\"}\n{broken\n{\"title\":\"乙\",\"text\":\"二\"}\n";
        let r = extract_jsonl(jsonl.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(r.len(), 2);
        assert!(r[0].warnings.iter().any(|w| w.contains("line 2")));
    }

    #[test]
    fn csv_with_a_text_column_is_a_catalog_and_without_one_a_table() {
        let gbk = encoding_rs::GBK.encode("title,text\n低保名单,张*明 李*华\n").0.into_owned();
        let r = extract_csv(&gbk, &Limits::default()).unwrap();
        assert_eq!(r[0].catalog.title.as_deref(), Some("低保名单"));
        let table = extract_csv("项目,金额\n公务接待费,12.5\n".as_bytes(), &Limits::default()).unwrap();
        assert_eq!(table.len(), 1);
        assert!(table[0].text.contains("公务接待费"));
        assert_eq!(table[0].encoding, Some("UTF-8"));
    }

    /// A GBK export behind a UTF-8 BOM is read, and says so once.
    #[test]
    fn a_gbk_csv_behind_a_utf8_bom_is_read_and_reported() {
        let bytes = [&b"\xEF\xBB\xBF"[..], &encoding_rs::GBK.encode("title,text\n低保名单,张*明\n救助名单,李*华\n").0].concat();
        let r = extract_csv(&bytes, &Limits::default()).unwrap();
        assert_eq!((r.len(), r[0].catalog.title.as_deref(), r[1].text.as_str()), (2, Some("低保名单"), "李*华"));
        assert_eq!(r[0].warnings, vec!["the file starts with a UTF-8 byte-order mark but is written in gb18030; read as gb18030"]);
        assert!(r[1].warnings.is_empty());
    }

    #[test]
    fn each_record_s_original_is_that_record_alone() {
        let original = |r: &Record| String::from_utf8(r.original.clone().unwrap()).unwrap();
        let json = "[\n  {\"title\":\"甲\",\"text\":\"含 ], 与 \\\" 的正文\",\"tags\":[1,{\"a\":[]}]},\n  7,\n  {\"title\":\"乙\",\"text\":\"二\"}\n]\n";
        let r = extract_json(json.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(original(&r[0]), "{\"title\":\"甲\",\"text\":\"含 ], 与 \\\" 的正文\",\"tags\":[1,{\"a\":[]}]}");
        assert_eq!(original(&r[1]), "{\"title\":\"乙\",\"text\":\"二\"}");
        assert_eq!((r[0].number, r[1].number), (Some(1), Some(3)), "the skipped item keeps its place");
        let jsonl = "{\"title\":\"甲\",\"text\":\"一\"}\r\n\n{\"title\":\"乙\",\"text\":\"二\"}";
        let r = extract_jsonl(jsonl.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(original(&r[1]), "{\"title\":\"乙\",\"text\":\"二\"}\n");
        let gbk = encoding_rs::GBK.encode("title,text\r\n甲,\"一，\n续\"\r\n乙,二\r\n").0.into_owned();
        let r = extract_csv(&gbk, &Limits::default()).unwrap();
        assert_eq!(original(&r[0]), "title,text\n甲,\"一，\n续\"\n");
        assert_eq!(original(&r[1]), "title,text\n乙,二\n");
        assert_eq!(r[1].number, Some(2));
    }

    #[test]
    fn broken_json_is_rejected_with_the_reason() {
        let e = extract_json(b"{\"title\": ", &Limits::default()).unwrap_err();
        assert!(matches!(e, ExtractError::Corrupt(m) if m.contains("not valid JSON")));
    }
}
