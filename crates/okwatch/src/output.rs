//! Rendering results: tables that fit the terminal, CSV, JSON and NDJSON.

use okwatch_query::resolve;
use serde_json::Value;
use std::io::{self, Write};

/// The columns shown when `--fields` is not given.
pub const DEFAULT_FIELDS: &[&str] = &[
    "published",
    "eventType",
    "actor.alternateId",
    "client.ipAddress",
    "client.geographicalContext.country",
    "outcome.result",
    "displayMessage",
];

/// The text of an attribute of an event: every reached value, joined with `, `.
pub fn field_text(event: &Value, path: &str) -> String {
    let segments: Vec<String> = path.split('.').map(str::to_string).collect();
    let mut found = Vec::new();
    resolve(event, &segments, &mut found);
    found
        .into_iter()
        .filter(|v| !v.is_null())
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub use okwatch_model::csv::cell as csv_cell;

/// Writes one CSV record.
pub fn write_csv_row(out: &mut dyn Write, cells: &[String]) -> io::Result<()> {
    let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
    writeln!(out, "{}", line.join(","))
}

/// The terminal's width, or a wide default when output is not a terminal.
pub fn terminal_width() -> usize {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return cols;
    }
    console::Term::stdout()
        .size_checked()
        .map(|(_, cols)| cols as usize)
        .unwrap_or(200)
}

fn clip(text: &str, width: usize) -> String {
    let text = text.replace(['\n', '\r', '\t'], " ");
    if text.chars().count() <= width {
        return text;
    }
    let mut clipped: String = text.chars().take(width.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

/// Writes rows as aligned columns no wider than `width`, shrinking the widest columns first.
pub fn write_table(
    out: &mut dyn Write,
    headers: &[String],
    rows: &[Vec<String>],
    width: usize,
) -> io::Result<()> {
    let n = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let gaps = 2 * n.saturating_sub(1);
    while widths.iter().sum::<usize>() + gaps > width {
        let (widest, w) = widths
            .iter()
            .enumerate()
            .max_by_key(|(_, w)| **w)
            .map(|(i, w)| (i, *w))
            .unwrap_or((0, 0));
        if w <= 8 {
            break;
        }
        widths[widest] -= 1;
    }
    let line = |cells: &[String]| -> String {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:<w$}", clip(c, *w), w = *w))
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    writeln!(out, "{}", line(headers))?;
    for row in rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_join_array_values_and_skip_nulls() {
        let e = json!({"target": [{"displayName": "Slack"}, {"displayName": "Ana"}, {"displayName": null}], "n": 3});
        assert_eq!(field_text(&e, "target.displayName"), "Slack, Ana");
        assert_eq!(field_text(&e, "n"), "3");
        assert_eq!(field_text(&e, "missing"), "");
    }

    #[test]
    fn csv_cells_are_quoted_only_when_needed() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn tables_fit_the_width_by_clipping_the_widest_column() {
        let headers = vec!["a".to_string(), "b".to_string()];
        let rows = vec![vec!["short".to_string(), "x".repeat(100)]];
        let mut out = Vec::new();
        write_table(&mut out, &headers, &rows, 40).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
        assert!(text.contains('…'));
    }
}
