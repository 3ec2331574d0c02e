//! CSV cells, one rule for every CSV okwatch writes (the explorer's export, reports, the CLI).
//!
//! Values come from the System Log, which anyone who can type a user name or a user agent can
//! write to: a cell a spreadsheet would run as a formula (`=HYPERLINK(…)`, `@SUM(…)`) gets a
//! leading apostrophe, so it opens as text. Numbers, negative ones included, stay numbers.

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

#[cfg(test)]
mod tests {
    use super::cell;

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
