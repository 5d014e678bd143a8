//! The report as one self-contained HTML page: inline CSS and inline SVG
//! bar charts, nothing fetched (the archive network may be air-gapped),
//! laid out to print on A4. Every text from the log or the catalog is
//! escaped: queries are whatever the public typed.

use std::fmt::Write;

use crate::highlight::escape_html;

use super::{percent, period_label, Documents, QueryCount, Report, Searches, TOP, WEB};

/// Width of a chart in CSS pixels, the part of it for the labels, and the
/// height of one bar's row.
const CHART_WIDTH: u32 = 680;
const LABEL_WIDTH: u32 = 260;
const ROW_HEIGHT: u32 = 22;

const STYLE: &str =
    "body{font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei','Microsoft YaHei',sans-serif;margin:24px auto;max-width:760px;color:#1a1a1a}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #8b1a1a;padding-bottom:4px}\
p.period{color:#555;margin:0 0 16px}table{border-collapse:collapse;width:100%;font-size:14px}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
.facts{display:flex;gap:12px;flex-wrap:wrap}.fact{border:1px solid #ccc;padding:8px 12px;min-width:140px}\
.fact b{display:block;font-size:22px}svg text{font-size:13px;fill:#1a1a1a}svg rect{fill:#8b1a1a}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}svg,table{break-inside:avoid}}";

/// A horizontal bar chart of `rows` (label, count), longest bar = largest count.
fn bar_chart(title: &str, rows: &[(String, u64)]) -> String {
    if rows.is_empty() {
        return format!("<p>{}: —</p>", escape_html(title));
    }
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let height = ROW_HEIGHT * rows.len() as u32 + 4;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{CHART_WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        escape_html(title)
    );
    let bar_room = CHART_WIDTH - LABEL_WIDTH - 70;
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = i as u32 * ROW_HEIGHT + 2;
        let width = ((*n as f64 / max as f64) * bar_room as f64).round().max(1.0) as u32;
        let label = if label.is_empty() { "（未编目）" } else { label };
        let shown: String = label.chars().take(18).collect();
        let shown = if shown.len() < label.len() { format!("{shown}…") } else { shown };
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{width}\" height=\"{}\"/><text x=\"{}\" y=\"{}\">{n}</text>",
            LABEL_WIDTH - 8,
            y + 15,
            escape_html(&shown),
            ROW_HEIGHT - 6,
            LABEL_WIDTH + width + 6,
            y + 15
        );
    }
    svg.push_str("</svg>");
    svg
}

fn counts<'a>(rows: impl Iterator<Item = (&'a String, &'a u64)>) -> Vec<(String, u64)> {
    rows.map(|(k, v)| (k.clone(), *v)).collect()
}

/// The [`TOP`] largest counts, largest first, and the rest summed in one row.
fn largest(table: &std::collections::BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut rows = counts(table.iter());
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if rows.len() > TOP {
        let rest = rows.split_off(TOP - 1);
        rows.push((format!("其余 {} 项", rest.len()), rest.iter().map(|(_, n)| n).sum()));
    }
    rows
}

fn queries(list: &[QueryCount]) -> Vec<(String, u64)> {
    list.iter().take(TOP).map(|q| (q.query.clone(), q.count)).collect()
}

/// The whole report as one page.
pub fn page(report: &Report) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>阅览 · 检索与公开目录统计报告</h1><p class=\"period\">检索日志 {}；“{WEB}”为网站用户</p>",
        escape_html(&period_label(report))
    );
    searches_section(&mut body, &report.searches);
    documents_section(&mut body, &report.documents);
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>阅览 · 统计报告</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
    )
}

fn searches_section(body: &mut String, s: &Searches) {
    let _ = write!(
        body,
        "<h2>检索情况</h2><div class=\"facts\"><div class=\"fact\"><b>{}</b>检索次数</div><div class=\"fact\"><b>{} ({})</b>无结果</div><div class=\"fact\"><b>{} ({})</b>仅部分匹配</div></div>",
        s.total,
        s.zero_results,
        percent(s.zero_results, s.total),
        s.partial_only,
        percent(s.partial_only, s.total)
    );
    if !s.counts_exact {
        body.push_str("<p>检索词种类过多，以下次数可能偏低。</p>");
    }
    let days: Vec<(String, u64)> = s.by_day.iter().map(|(day, points)| (day.clone(), points.values().sum())).collect();
    let _ = write!(body, "<h2>每日检索次数</h2>{}", bar_chart("每日检索次数", &days));
    let points: Vec<&String> = s.by_point.keys().collect();
    let mut table = String::from("<table><tr><th>日期</th>");
    for point in &points {
        let _ = write!(table, "<th class=\"n\">{}</th>", escape_html(point));
    }
    table.push_str("</tr>");
    for (day, per_point) in &s.by_day {
        let _ = write!(table, "<tr><td>{}</td>", escape_html(day));
        for point in &points {
            let _ = write!(table, "<td class=\"n\">{}</td>", per_point.get(*point).copied().unwrap_or(0));
        }
        table.push_str("</tr>");
    }
    table.push_str("</table>");
    let _ = write!(body, "<h2>各查阅点检索次数</h2>{}{table}", bar_chart("各查阅点检索次数", &counts(s.by_point.iter())));
    let _ = write!(body, "<h2>热门检索词</h2>{}", bar_chart("热门检索词", &queries(&s.top_queries)));
    let _ = write!(body, "<h2>无结果检索词</h2>{}", bar_chart("无结果检索词", &queries(&s.zero_result_queries)));
}

fn documents_section(body: &mut String, d: &Documents) {
    let _ = write!(body, "<h2>公开目录：共 {} 件</h2>", d.total);
    let ranked = [("按主题分类", &d.category), ("按发布机构", &d.publisher), ("按公开属性", &d.disclosure), ("按有效性", &d.validity)];
    for (title, table) in ranked {
        let _ = write!(body, "<h2>{title}</h2>{}", bar_chart(title, &largest(table)));
    }
    let _ = write!(body, "<h2>按年份</h2>{}", bar_chart("按年份", &counts(d.year.iter())));
    body.push_str("<h2>各年制发、失效与现行有效件数</h2><table><tr><th>年份</th><th class=\"n\">制发</th><th class=\"n\">已失效</th><th class=\"n\">现行有效</th><th class=\"n\">有效性未编目</th></tr>");
    for (year, c) in &d.per_year {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape_html(year),
            c.made,
            c.repealed,
            c.in_force,
            c.validity_unknown
        );
    }
    body.push_str("</table>");
}
