//! CSV cells, one rule for every CSV okwatch writes (the explorer's export, reports, the CLI).
//!
//! Values come from the System Log, which anyone who can type a user name or a user agent can
//! write to: a cell a spreadsheet would run as a formula (`=HYPERLINK(…)`, `@SUM(…)`) gets a
//! leading apostrophe, so it opens as text. Numbers, negative ones included, stay numbers.
//!
//! And one reader, for the CSV files people give okwatch (contracts): RFC 4180 records with
//! the line each starts on, so a problem can name it.

/// One CSV field: defused if a spreadsheet would read it as a formula, quoted when it must be
/// (RFC 4180).
pub fn cell(value: &str) -> String {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let value = if formula && value.trim().parse::<f64>().is_err() {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// A CSV file okwatch cannot read, and the line where it stopped making sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CsvError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

/// One record of a CSV file: the line it starts on (1-based) and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// The records of `text` (RFC 4180: fields quoted with `"`, quotes doubled inside, line breaks
/// inside quotes kept; CRLF or LF; a byte-order mark ignored). Blank lines are skipped. What a
/// spreadsheet writes reads back as it showed it.
pub fn records(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let (mut line, mut start) = (1, 1);
    // Whether the current field was quoted, and whether we are inside its quotes.
    let (mut quoted, mut inside) = (false, false);
    let mut end_record = |fields: &mut Vec<String>, field: &mut String, start: usize| {
        fields.push(std::mem::take(field));
        let record = std::mem::take(fields);
        if !(record.len() == 1 && record[0].is_empty()) {
            out.push(Record {
                line: start,
                fields: record,
            });
        }
    };
    while let Some(c) = chars.next() {
        if inside {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => inside = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted => {
                quoted = true;
                inside = true;
            }
            '"' => {
                return Err(CsvError {
                    line,
                    message: "a quote inside a field that does not start with one (quote the \
                              whole field and double the quotes inside)"
                        .into(),
                })
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                end_record(&mut fields, &mut field, start);
                quoted = false;
                line += 1;
                start = line;
            }
            _ if quoted => {
                return Err(CsvError {
                    line,
                    message: format!("`{c}` after a quoted field's closing quote"),
                })
            }
            _ => field.push(c),
        }
    }
    if inside {
        return Err(CsvError {
            line: start,
            message: "a quoted field is never closed".into(),
        });
    }
    if !fields.is_empty() || !field.is_empty() {
        end_record(&mut fields, &mut field, start);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{cell, records, CsvError, Record};

    #[test]
    fn records_read_quotes_line_breaks_and_name_their_lines() {
        let text = "\u{feff}app,notes\r\nSlack,\"two\nlines, \"\"quoted\"\"\"\r\n\r\nZoom,\nlast,";
        let read = records(text).unwrap();
        let fields = |r: &Record| r.fields.clone();
        assert_eq!(read.len(), 4);
        assert_eq!(
            (read[0].line, fields(&read[0])),
            (1, vec!["app".to_string(), "notes".into()])
        );
        assert_eq!(
            (read[1].line, fields(&read[1])),
            (
                2,
                vec!["Slack".to_string(), "two\nlines, \"quoted\"".into()]
            )
        );
        assert_eq!(
            (read[2].line, fields(&read[2])),
            (5, vec!["Zoom".to_string(), String::new()])
        );
        assert_eq!(
            (read[3].line, fields(&read[3])),
            (6, vec!["last".to_string(), String::new()])
        );
        // What okwatch writes, it reads back.
        let written = format!("{},{}\n", cell("a,b"), cell("say \"hi\""));
        assert_eq!(records(&written).unwrap()[0].fields, ["a,b", "say \"hi\""]);
    }

    #[test]
    fn broken_quotes_name_the_line() {
        assert_eq!(records("a\nb\"c\n").unwrap_err().line, 2);
        assert_eq!(records("a\n\"b\"c\n").unwrap_err().line, 2);
        assert_eq!(
            records("a\n\"never\nclosed\n"),
            Err(CsvError {
                line: 2,
                message: "a quoted field is never closed".into()
            })
        );
    }

    #[test]
    fn cells_are_quoted_when_needed_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("-3"), "-3");
        assert_eq!(cell("+1.5"), "+1.5");
        assert_eq!(cell("-cmd"), "'-cmd");
    }
}
