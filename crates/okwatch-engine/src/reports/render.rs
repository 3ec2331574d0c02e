//! A run report as text for a terminal and as CSV for a spreadsheet: the same rendering for the
//! CLI, the console's download and scheduled deliveries.

use super::{Linked, Report};
use okwatch_model::csv::cell as field;
use okwatch_model::format_timestamp;
use std::fmt::Write;

/// The change from `previous` to `current` as people read it: `+12%`, `-3%`, `new`, `=`.
pub fn change_text(current: u64, previous: u64) -> String {
    if previous == 0 {
        return if current == 0 {
            "=".into()
        } else {
            "new".into()
        };
    }
    let percent = (current as f64 - previous as f64) * 100.0 / previous as f64;
    if percent.abs() < 0.5 {
        "=".into()
    } else {
        format!("{percent:+.0}%")
    }
}

/// The period as people read it: `2026-11-01 00:00 → 2026-12-01 00:00 UTC`.
pub fn period_text(report: &Report) -> String {
    let t = |t| format_timestamp(t)[..16].replace('T', " ");
    format!("{} → {} UTC", t(report.since), t(report.until))
}

/// The report as aligned text: figures, then each table.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} · {}", report.title, period_text(report));
    let _ = writeln!(out, "{}", report.description);
    if let Some(org) = &report.org {
        let _ = writeln!(out, "org: {org}");
    }
    let _ = writeln!(out);
    let width = report
        .figures
        .iter()
        .map(|f| f.label.len())
        .max()
        .unwrap_or(0);
    for figure in &report.figures {
        let trend = figure.previous.as_ref().map_or(String::new(), |p| {
            format!(
                "   ({} vs {})",
                change_text(figure.current.value, p.value),
                p.value
            )
        });
        let _ = writeln!(
            out,
            "  {:<width$}  {:>9}{trend}",
            figure.label, figure.current.value
        );
    }
    for table in &report.tables {
        let _ = writeln!(out, "\n{}", table.title);
        let mut rows: Vec<Vec<String>> = vec![{
            let mut head = table.columns.clone();
            head.push(table.measure.clone());
            if report.previous.is_some() {
                head.push("Before".into());
                head.push("Change".into());
            }
            head
        }];
        for row in &table.rows {
            let mut cells: Vec<String> = row
                .keys
                .iter()
                .map(|k| k.clone().unwrap_or_else(|| "(none)".into()))
                .collect();
            cells.push(row.current.value.to_string());
            if let Some(previous) = row.previous {
                cells.push(previous.to_string());
                cells.push(change_text(row.current.value, previous));
            }
            rows.push(cells);
        }
        if table.rows.is_empty() {
            let _ = writeln!(out, "  (nothing in this period)");
            continue;
        }
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                rows.iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let keys = table.columns.len();
        for row in rows {
            let line: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    if c < keys {
                        format!("{cell:<w$}", w = widths[c])
                    } else {
                        format!("{cell:>w$}", w = widths[c])
                    }
                })
                .collect();
            let _ = writeln!(out, "  {}", line.join("  ").trim_end());
        }
    }
    if let Some(alerts) = &report.alerts {
        let _ = writeln!(out, "\nAlerts raised by okwatch: {}", alerts.total);
        for row in &alerts.rows {
            let trend = row.previous.map_or(String::new(), |p| {
                format!("   ({} vs {p})", change_text(row.count, p))
            });
            let _ = writeln!(out, "  {:<40}  {:>6}{trend}", row.name, row.count);
        }
    }
    out
}

/// The report as one CSV: a row per figure, table row and chart point, with the search that
/// produced each number.
pub fn csv(report: &Report) -> String {
    let keys = report
        .tables
        .iter()
        .map(|t| t.columns.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let mut out = String::new();
    let mut header = vec!["section".to_string(), "measure".to_string()];
    header.extend((1..=keys).map(|i| format!("key {i}")));
    header.extend(["value", "previous", "search"].map(String::from));
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    let mut line =
        |section: &str, measure: &str, cells: &[String], value: &Linked, previous: Option<u64>| {
            let mut row = vec![field(section), field(measure)];
            for i in 0..keys {
                row.push(field(cells.get(i).map_or("", String::as_str)));
            }
            row.push(value.value.to_string());
            row.push(previous.map_or(String::new(), |p| p.to_string()));
            row.push(field(&format!("/?{}", value.search)));
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        };
    for figure in &report.figures {
        line(
            "figure",
            &figure.label,
            &[],
            &figure.current,
            figure.previous.as_ref().map(|p| p.value),
        );
    }
    for table in &report.tables {
        for row in &table.rows {
            let cells: Vec<String> = row
                .keys
                .iter()
                .map(|k| k.clone().unwrap_or_default())
                .collect();
            line(
                &table.title,
                &table.measure,
                &cells,
                &row.current,
                row.previous,
            );
        }
    }
    for series in &report.chart.series {
        let section = format!("chart: {}", series.name);
        for (start, value) in report.chart.buckets.iter().zip(&series.values) {
            // A point's search is its series' search: the bucket is the key beside it.
            let point = Linked {
                value: *value,
                search: series.total.search.clone(),
            };
            let cells = [format_timestamp(*start)];
            line(&section, report.chart.bucket, &cells, &point, None);
        }
    }
    if let Some(alerts) = &report.alerts {
        // Alerts link to the console's alerts list, not to an explorer search.
        for row in &alerts.rows {
            let mut cells = vec![field("alerts raised"), field("Alerts"), field(&row.name)];
            cells.extend((1..keys).map(|_| String::new()));
            cells.push(row.count.to_string());
            cells.push(row.previous.map_or(String::new(), |p| p.to_string()));
            cells.push(field(&row.href));
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
    }
    out
}
