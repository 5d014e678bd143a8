//! Catalog exports: `.json` (an object or a list of objects), `.jsonl` (one
//! object per line) and `.csv` (one row per document when it has a text
//! column; otherwise the table itself is one document). Each record carries
//! catalog fields and its text.

use serde_json::{Map, Value};

use super::text::{decode_text, looks_binary};
use super::{cap_text, ExtractError, Limits, Record};
use crate::catalog::Catalog;

/// Keys that hold a record's text, in order of preference.
const TEXT_KEYS: [&str; 6] = ["text", "content", "body", "正文", "内容", "fulltext"];

pub(super) fn extract_json(bytes: &[u8], limits: &Limits) -> Result<Vec<Record>, ExtractError> {
    let text = decode_text(bytes).text;
    let value: Value = serde_json::from_str(&text).map_err(|e| ExtractError::Corrupt(format!("not valid JSON: {e}")))?;
    let objects = match value {
        Value::Array(items) => items,
        object @ Value::Object(_) => vec![object],
        _ => return Err(ExtractError::Corrupt("JSON export must be an object or a list of objects".into())),
    };
    let mut records = Vec::new();
    for (i, item) in objects.into_iter().enumerate() {
        match item {
            Value::Object(object) => records.push(record_of(&object, limits)),
            _ => records.push(skipped(format!("item {} is not an object; skipped", i + 1))),
        }
    }
    non_empty(records)
}

pub(super) fn extract_jsonl(bytes: &[u8], limits: &Limits) -> Result<Vec<Record>, ExtractError> {
    let text = decode_text(bytes).text;
    let mut records = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => records.push(record_of(&object, limits)),
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
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(decoded.text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ExtractError::Corrupt(format!("CSV header unreadable: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if !headers.iter().any(|h| TEXT_KEYS.contains(&h.as_str())) {
        // A table without a text column is a document in its own right.
        let mut warnings = Vec::new();
        let whole = decoded.text.len() <= limits.max_text_bytes;
        let text = cap_text(decoded.text, limits.max_text_bytes, &mut warnings);
        return Ok(vec![Record { text, encoding: whole.then_some(decoded.encoding), warnings, ..Record::default() }]);
    }
    let mut records = Vec::new();
    for (n, row) in reader.records().enumerate() {
        match row {
            Ok(row) => {
                let object: Map<String, Value> =
                    headers.iter().zip(row.iter()).map(|(h, v)| (h.clone(), Value::String(v.to_string()))).collect();
                records.push(record_of(&object, limits));
            }
            Err(e) => records.push(skipped(format!("row {} unreadable ({e}); skipped", n + 2))),
        }
    }
    non_empty(records)
}

/// A placeholder that carries only a warning; dropped by [`non_empty`]
/// after its warning moved to a real record.
fn skipped(warning: String) -> Record {
    Record { warnings: vec![warning], ..Record::default() }
}

fn record_of(object: &Map<String, Value>, limits: &Limits) -> Record {
    let (catalog, mut warnings) = Catalog::from_json(object);
    let text = TEXT_KEYS.iter().find_map(|k| object.get(*k).and_then(Value::as_str)).unwrap_or("").to_string();
    let text = cap_text(text, limits.max_text_bytes, &mut warnings);
    Record { text, catalog, encoding: None, warnings }
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

    #[test]
    fn broken_json_is_rejected_with_the_reason() {
        let e = extract_json(b"{\"title\": ", &Limits::default()).unwrap_err();
        assert!(matches!(e, ExtractError::Corrupt(m) if m.contains("not valid JSON")));
    }
}
