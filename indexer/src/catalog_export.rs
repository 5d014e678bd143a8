//! The 政府信息公开目录 of a data folder, for the city and province exchange
//! platforms (`indexer catalog export`): one row per public and on_request
//! document with every catalog field of [`FIELD_NAMES`], then the text of
//! public documents (never of on_request ones; withheld documents are not
//! in the index at all).
//!
//! It is what ingest reads back: a `.csv` export has Chinese headers
//! (`标题`, `发布机构`, … and `正文`) and Chinese disclosures (主动公开,
//! 依申请公开), a `.jsonl` export the English keys of PRODUCT.md; either,
//! ingested into an empty data folder, gives the same catalog fields.

use std::io::Write;

use crate::archive::{Archive, DocumentView};
use crate::catalog::{Disclosure, FIELD_NAMES};
use crate::error::{Error, Result};

/// The column of the text of public documents: `正文` in CSV, `text` in JSON.
const TEXT_COLUMN: (&str, &str) = ("text", "正文");

/// How the export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A header row of Chinese field names, then one row per document.
    Csv,
    /// One JSON object per line, with the English field names.
    Jsonl,
}

/// The character encoding of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportEncoding {
    /// UTF-8 without a byte order mark.
    Utf8,
    /// GBK, as platforms and spreadsheet programs of mainland China expect;
    /// written as GB18030, which is GBK for every character GBK has and
    /// also encodes the few it lacks instead of dropping them.
    Gbk,
}

/// Write the catalog of `archive` to `out`: documents dated `since` or
/// later (a `YYYYMMDD` key) when given, ordered by date then id. Calls
/// `progress` after each document. Returns how many were written.
/// Errors: [`Error::ExportWithoutText`] once every row is written, when
/// the text of some public documents could not be read.
pub fn export(
    archive: &Archive,
    format: ExportFormat,
    encoding: ExportEncoding,
    since: Option<u64>,
    out: &mut dyn Write,
    progress: impl Fn(),
) -> Result<u64> {
    let mut written = 0;
    if format == ExportFormat::Csv {
        let header: Vec<&str> = columns().map(|(_, chinese)| chinese).collect();
        out.write_all(&encode(&csv_line(&header)?, encoding)).map_err(writing)?;
    }
    let unread = archive.catalog(since, |view| {
        let line = match format {
            ExportFormat::Csv => csv_line(&columns().map(|(name, _)| value_of(&view, name, true)).collect::<Vec<_>>())?,
            ExportFormat::Jsonl => json_line(&view)?,
        };
        out.write_all(&encode(&line, encoding)).map_err(writing)?;
        written += 1;
        progress();
        Ok(())
    })?;
    out.flush().map_err(writing)?;
    if !unread.is_empty() {
        let examples = unread.iter().take(3).map(Error::to_string).collect();
        return Err(Error::ExportWithoutText { written, count: unread.len(), examples });
    }
    Ok(written)
}

/// Every column: its English and Chinese name ([`FIELD_NAMES`], then the text).
fn columns() -> impl Iterator<Item = (&'static str, &'static str)> {
    let chinese =
        |(name, names): &(&'static str, &'static [&'static str])| (*name, names.iter().copied().find(|n| !n.is_ascii()).unwrap_or(name));
    FIELD_NAMES.iter().map(chinese).chain(std::iter::once(TEXT_COLUMN))
}

/// The value of column `name` of a document ("" when it has none): its
/// disclosure in Chinese when `chinese`, its text only when it is public.
fn value_of(view: &DocumentView, name: &str, chinese: bool) -> String {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    match name {
        "id" => view.id.clone(),
        "path" => view.path.clone(),
        "index_no" => text(&view.index_no),
        "title" => view.title.clone(),
        "publisher" => text(&view.publisher),
        "doc_number" => text(&view.doc_number),
        "written_date" => text(&view.written_date),
        "published_date" => text(&view.published_date),
        "category" => text(&view.category),
        "disclosure" => match Disclosure::parse(&view.disclosure) {
            Some(disclosure) if chinese => disclosure.as_chinese().to_string(),
            _ => view.disclosure.clone(),
        },
        "validity" => text(&view.validity),
        "format" => view.format.clone(),
        "bytes" => view.bytes.to_string(),
        "sha256" => view.sha256.clone(),
        "text" => view.public_text().unwrap_or_default().to_string(),
        _ => String::new(),
    }
}

fn writing(e: std::io::Error) -> Error {
    Error::io("writing the catalog export")(e)
}

fn csv_line(fields: &[impl AsRef<[u8]>]) -> Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    writer.write_record(fields).map_err(|e| writing(e.into()))?;
    writer.into_inner().map_err(|e| writing(e.into_error()))
}

/// One JSON object: the fields a document has, by their English names,
/// in the order of [`FIELD_NAMES`], and the text of a public document.
fn json_line(view: &DocumentView) -> Result<Vec<u8>> {
    let mut members = Vec::new();
    for (name, _) in columns() {
        let value = match name {
            "bytes" => serde_json::Value::from(view.bytes),
            _ => serde_json::Value::String(value_of(view, name, false)),
        };
        // A public document's text is always there, even empty (its
        // original unreadable): no text means not public.
        let public_text = view.public_text().is_some() || view.text_unavailable;
        if value != "" || (name == "text" && public_text) {
            members.push(format!("{}:{value}", serde_json::Value::from(name)));
        }
    }
    Ok(format!("{{{}}}\n", members.join(",")).into_bytes())
}

fn encode(utf8: &[u8], encoding: ExportEncoding) -> Vec<u8> {
    match encoding {
        ExportEncoding::Utf8 => utf8.to_vec(),
        ExportEncoding::Gbk => encoding_rs::GB18030.encode(&String::from_utf8_lossy(utf8)).0.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_field_has_a_column_with_its_value_and_on_request_text_none() {
        let some = |s: &str| Some(s.to_string());
        let view = DocumentView {
            id: "a1".into(),
            path: "p.txt".into(),
            title: "标题".into(),
            index_no: some("索引"),
            publisher: some("局"),
            doc_number: some("临政发〔2020〕1号"),
            written_date: some("2020-01-01"),
            published_date: some("2020-01-02"),
            category: some("分类"),
            disclosure: "public".into(),
            validity: some("有效"),
            format: "txt".into(),
            bytes: 3,
            sha256: "ab".into(),
            text: some("正文"),
            text_unavailable: false,
        };
        let empty: Vec<&str> = columns().map(|(name, _)| name).filter(|name| value_of(&view, name, false).is_empty()).collect();
        assert_eq!(empty, Vec::<&str>::new(), "columns without a value");
        assert_eq!(value_of(&view, "disclosure", true), "主动公开");
        let on_request = DocumentView { disclosure: "on_request".into(), ..view };
        assert_eq!((value_of(&on_request, "disclosure", true).as_str(), value_of(&on_request, "text", true).as_str()), ("依申请公开", ""));
    }
}
