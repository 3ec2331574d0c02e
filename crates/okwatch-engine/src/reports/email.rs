//! A report as one HTML page that mail programs show as it was meant: inline styles only, and
//! the chart drawn as table cells (mail programs drop SVG and scripts, and images would have
//! to be hosted somewhere). Every number links to its search when okwatch's address is known.

use super::render::{change_text, period_text};
use super::{Linked, Report};
use okwatch_model::format_timestamp;
use std::fmt::Write;

/// The series' colours, the console's palette.
const COLOURS: [&str; 6] = [
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A number, linked to the search that counts it when `base` (okwatch's public URL) is known.
fn number(value: &Linked, base: Option<&str>) -> String {
    match base {
        Some(base) if !value.search.is_empty() => format!(
            "<a href=\"{}/?{}\" style=\"color:#1d4ed8;text-decoration:none\">{}</a>",
            escape(base.trim_end_matches('/')),
            escape(&value.search),
            value.value
        ),
        _ => value.value.to_string(),
    }
}

/// The report as an HTML document: title and period, the figures with their change, the
/// chart as horizontal bars per bucket (stacked by series, with a legend), then the tables.
pub fn html(report: &Report, base: Option<&str>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111827;\
         max-width:760px;margin:0 auto;padding:16px\">\
         <h1 style=\"font-size:20px;margin:0 0 4px\">{title}</h1>\
         <p style=\"color:#4b5563;margin:0 0 4px\">{period}{org}</p>\
         <p style=\"color:#4b5563;margin:0 0 16px\">{description}</p>",
        title = escape(&report.title),
        period = escape(&period_text(report)),
        org = report
            .org
            .as_ref()
            .map_or(String::new(), |o| format!(" · org {}", escape(o))),
        description = escape(&report.description),
    );
    figures(&mut out, report, base);
    chart(&mut out, report);
    for table in &report.tables {
        let _ = write!(
            out,
            "<h2 style=\"font-size:16px;margin:20px 0 6px\">{}</h2>",
            escape(&table.title)
        );
        if table.rows.is_empty() {
            out.push_str("<p style=\"color:#6b7280\">Nothing in this period.</p>");
            continue;
        }
        out.push_str(
            "<table cellpadding=\"4\" cellspacing=\"0\" style=\"border-collapse:collapse;width:100%\"><tr>",
        );
        let head = "style=\"text-align:left;border-bottom:1px solid #d1d5db\"";
        for column in &table.columns {
            let _ = write!(out, "<th {head}>{}</th>", escape(column));
        }
        let _ = write!(out, "<th {head}>{}</th>", escape(&table.measure));
        if report.previous.is_some() {
            let _ = write!(out, "<th {head}>Before</th><th {head}>Change</th>");
        }
        out.push_str("</tr>");
        for row in &table.rows {
            out.push_str("<tr>");
            for key in &row.keys {
                let _ = write!(
                    out,
                    "<td style=\"border-bottom:1px solid #f3f4f6\">{}</td>",
                    escape(key.as_deref().unwrap_or("(none)"))
                );
            }
            let _ = write!(
                out,
                "<td style=\"border-bottom:1px solid #f3f4f6\">{}</td>",
                number(&row.current, base)
            );
            if let Some(previous) = row.previous {
                let _ = write!(
                    out,
                    "<td style=\"border-bottom:1px solid #f3f4f6;color:#6b7280\">{previous}</td>\
                     <td style=\"border-bottom:1px solid #f3f4f6;color:#6b7280\">{}</td>",
                    change_text(row.current.value, previous)
                );
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");
    }
    if let Some(alerts) = &report.alerts {
        let _ = write!(
            out,
            "<h2 style=\"font-size:16px;margin:20px 0 6px\">Alerts raised by okwatch: {}</h2>",
            alerts.total
        );
        for row in &alerts.rows {
            let count = match base {
                Some(base) => format!(
                    "<a href=\"{}{}\">{}</a>",
                    escape(base.trim_end_matches('/')),
                    escape(&row.href),
                    row.count
                ),
                None => row.count.to_string(),
            };
            let _ = write!(
                out,
                "<div>{} — {count}{}</div>",
                escape(&row.name),
                row.previous.map_or(String::new(), |p| format!(
                    " <span style=\"color:#6b7280\">({} vs {p})</span>",
                    change_text(row.count, p)
                ))
            );
        }
    }
    if let Some(base) = base {
        let _ = write!(
            out,
            "<p style=\"margin-top:20px\"><a href=\"{}/reports/{}\">Open this report in okwatch</a></p>",
            escape(base.trim_end_matches('/')),
            escape(&report.id)
        );
    }
    out.push_str(
        "<p style=\"color:#9ca3af;font-size:12px\">Sent by okwatch. The CSV attached has every \
         number with the search that counts it.</p></body></html>",
    );
    out
}

fn figures(out: &mut String, report: &Report, base: Option<&str>) {
    out.push_str(
        "<table cellpadding=\"8\" cellspacing=\"0\" style=\"border-collapse:collapse\"><tr>",
    );
    for figure in &report.figures {
        let change = figure.previous.as_ref().map_or(String::new(), |p| {
            format!(
                "<div style=\"color:#6b7280;font-size:12px\">{} vs {}</div>",
                change_text(figure.current.value, p.value),
                p.value
            )
        });
        let _ = write!(
            out,
            "<td style=\"border:1px solid #e5e7eb;vertical-align:top\">\
             <div style=\"color:#4b5563;font-size:12px\">{}</div>\
             <div style=\"font-size:22px;font-weight:600\">{}</div>{change}</td>",
            escape(&figure.label),
            number(&figure.current, base)
        );
    }
    out.push_str("</tr></table>");
}

/// The chart as rows of coloured cells: a row per bucket, its bar as long as its total,
/// split by series.
fn chart(out: &mut String, report: &Report) {
    let chart = &report.chart;
    let totals: Vec<u64> = (0..chart.buckets.len())
        .map(|i| {
            chart
                .series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let Some(&most) = totals.iter().max().filter(|m| **m > 0) else {
        out.push_str("<p style=\"color:#6b7280\">No events to chart in this period.</p>");
        return;
    };
    let _ = write!(
        out,
        "<h2 style=\"font-size:16px;margin:20px 0 6px\">{} per {}</h2><p style=\"margin:0 0 6px\">",
        escape(chart.unit),
        chart.bucket
    );
    for (i, series) in chart.series.iter().enumerate() {
        let _ = write!(
            out,
            "<span style=\"display:inline-block;width:10px;height:10px;background:{}\"></span> {} &nbsp; ",
            COLOURS[i % COLOURS.len()],
            escape(&series.name)
        );
    }
    out.push_str(
        "</p><table cellpadding=\"0\" cellspacing=\"2\" style=\"width:100%;font-size:12px\">",
    );
    // At most 400 pixels for the longest bar.
    const WIDTH: u64 = 400;
    for (i, start) in chart.buckets.iter().enumerate() {
        let label = &format_timestamp(*start)[..if chart.bucket == "hour" { 16 } else { 10 }];
        let _ = write!(
            out,
            "<tr><td style=\"white-space:nowrap;color:#4b5563;width:1%;padding-right:8px\">{}</td><td>\
             <table cellpadding=\"0\" cellspacing=\"0\"><tr>",
            label.replace('T', " ")
        );
        for (s, series) in chart.series.iter().enumerate() {
            let value = series.values.get(i).copied().unwrap_or(0);
            let width = value * WIDTH / most;
            if width > 0 {
                let _ = write!(
                    out,
                    "<td style=\"background:{};height:12px;width:{width}px\" title=\"{}: {value}\"></td>",
                    COLOURS[s % COLOURS.len()],
                    escape(&series.name)
                );
            }
        }
        let _ = write!(
            out,
            "<td style=\"padding-left:6px;color:#374151\">{}</td></tr></table></td></tr>",
            totals[i]
        );
    }
    out.push_str("</table>");
}
