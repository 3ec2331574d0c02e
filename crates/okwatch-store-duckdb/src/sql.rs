//! Compiles filter ASTs and `q` keywords to DuckDB SQL over the columns of [`crate::layout`].
//!
//! Each predicate compiles to two SQL booleans: `sure`, true only for rows that certainly
//! match, and `maybe`, false only for rows that certainly do not. Paths held in typed columns
//! compile exactly (`sure == maybe`). Paths inside JSON columns compile `sure` for the shape
//! Okta documents (`target` is an array of objects) and `maybe` as a cheap text pre-filter; the
//! store re-checks rows where `maybe && !sure` with the reference evaluator. `not` swaps the
//! two, so the pair stays sound through any nesting. The result is the evaluator's answer,
//! computed mostly by DuckDB.

use okwatch_query::{AttrPath, CompareOp, Expr, Keywords, Literal, TOKEN_BOUNDARIES};
use okwatch_store::layout::{column_for, Column, Kind, COLUMNS};

/// A compiled predicate (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Pred {
    /// True only for rows that certainly match.
    pub sure: String,
    /// False only for rows that certainly do not match.
    pub maybe: String,
}

impl Pred {
    fn exact(sql: String) -> Pred {
        Pred {
            sure: sql.clone(),
            maybe: sql,
        }
    }

    /// A predicate that holds for every row.
    pub fn always() -> Pred {
        Pred::exact("TRUE".into())
    }

    /// Whether SQL alone decides every row.
    pub fn is_exact(&self) -> bool {
        self.sure == self.maybe
    }

    /// Conjunction.
    pub fn and(items: Vec<Pred>) -> Pred {
        combine(items, "AND", "TRUE")
    }

    fn or(items: Vec<Pred>) -> Pred {
        combine(items, "OR", "FALSE")
    }

    fn not(self) -> Pred {
        Pred {
            sure: format!("(NOT {})", self.maybe),
            maybe: format!("(NOT {})", self.sure),
        }
    }
}

fn combine(items: Vec<Pred>, op: &str, empty: &str) -> Pred {
    let join = |parts: Vec<String>| -> String {
        match parts.len() {
            0 => empty.to_string(),
            1 => parts.into_iter().next().unwrap(),
            _ => format!("({})", parts.join(&format!(" {op} "))),
        }
    };
    let exact = items.iter().all(Pred::is_exact);
    let sure = join(items.iter().map(|p| p.sure.clone()).collect());
    if exact {
        return Pred::exact(sure);
    }
    Pred {
        sure,
        maybe: join(items.into_iter().map(|p| p.maybe).collect()),
    }
}

/// Quotes a SQL string literal.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Which rows a compiled predicate will be applied to.
///
/// In rows not flagged `irregular`, a typed column's path reaches nothing outside the column,
/// so comparisons compile to the column alone and DuckDB can push them into the scan. The few
/// irregular rows get the full treatment in a query branch of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Rows with `irregular = false`.
    Regular,
    /// Rows with `irregular = true`.
    Irregular,
}

/// Compiles a validated filter for one kind of rows.
pub fn compile_filter(expr: &Expr, rows: Rows) -> Pred {
    match expr {
        Expr::And(items) => Pred::and(items.iter().map(|e| compile_filter(e, rows)).collect()),
        Expr::Or(items) => Pred::or(items.iter().map(|e| compile_filter(e, rows)).collect()),
        Expr::Not(inner) => compile_filter(inner, rows).not(),
        Expr::Present(path) => leaf(path, Test::Present, rows),
        Expr::Compare { path, op, value } => leaf(path, Test::Compare(*op, value), rows),
    }
}

#[derive(Clone, Copy)]
enum Test<'a> {
    Present,
    Compare(CompareOp, &'a Literal),
}

fn leaf(path: &AttrPath, test: Test, rows: Rows) -> Pred {
    let dotted = path.dotted();
    let mut terms: Vec<Pred> = Vec::new();
    let scalar = column_for(&dotted)
        .map(|(_, c)| c)
        .filter(|c| c.kind != Kind::Json);
    if let Some(column) = scalar {
        if let Some(sql) = scalar_test(column, test) {
            terms.push(Pred::exact(sql));
        }
    }
    // A typed column below the path means the path holds a non-empty object.
    if matches!(
        test,
        Test::Present | Test::Compare(CompareOp::Ne, Literal::Null)
    ) {
        let prefix = format!("{dotted}.");
        for column in COLUMNS.iter().filter(|c| c.path.starts_with(&prefix)) {
            terms.push(Pred::exact(format!("({} IS NOT NULL)", column.name)));
        }
    }
    // A typed column's path reaches a non-null value outside the column only in irregular
    // rows; only `eq null` needs to see the nulls left in JSON.
    let nulls_matter = matches!(test, Test::Compare(CompareOp::Eq, Literal::Null));
    if scalar.is_none() || nulls_matter || rows == Rows::Irregular {
        let (json_column, relative) = enclosing_json(&path.segments);
        terms.push(json_test(json_column, &dotted, relative, test));
    }
    Pred::or(terms)
}

fn sql_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => unreachable!("string-only operators"),
    }
}

fn string_test(expr: &str, op: CompareOp, literal: &str) -> String {
    let lit = quote(literal);
    match op {
        CompareOp::Co => format!("contains({expr}, {lit})"),
        CompareOp::Sw => format!("starts_with({expr}, {lit})"),
        CompareOp::Ew => format!("suffix({expr}, {lit})"),
        other => format!("{expr} {} {lit}", sql_op(other)),
    }
}

fn number_literal(n: f64) -> String {
    format!("CAST('{n:e}' AS DOUBLE)")
}

fn scalar_test(column: &Column, test: Test) -> Option<String> {
    let c = column.name;
    let sql = match (column.kind, test) {
        (Kind::Time, _) => return None,
        (Kind::Str, Test::Present) => format!("{c} <> ''"),
        (_, Test::Present) => format!("{c} IS NOT NULL"),
        (_, Test::Compare(CompareOp::Ne, Literal::Null)) => format!("{c} IS NOT NULL"),
        (Kind::Str, Test::Compare(op, Literal::String(s))) => string_test(c, op, s),
        (Kind::Int | Kind::Float, Test::Compare(op, Literal::Number(n))) => match op {
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => return None,
            op => format!("CAST({c} AS DOUBLE) {} {}", sql_op(op), number_literal(*n)),
        },
        (Kind::Bool, Test::Compare(op @ (CompareOp::Eq | CompareOp::Ne), Literal::Bool(b))) => {
            format!("{c} {} {b}", sql_op(op))
        }
        _ => return None,
    };
    Some(format!("COALESCE({sql}, FALSE)"))
}

/// Absolute paths that Okta documents as arrays.
const KNOWN_ARRAYS: &[&str] = &[
    "target",
    "request.ipChain",
    "securityContext.userBehaviors",
    "securityContext.ipDetails.ipServiceCategories",
];

/// The JSON column whose subtree holds `segments`, and the path below it.
fn enclosing_json(segments: &[String]) -> (&'static Column, &[String]) {
    let dotted = segments.join(".");
    COLUMNS
        .iter()
        .filter(|c| c.kind == Kind::Json && !c.path.is_empty())
        .filter(|c| dotted == c.path || dotted.starts_with(&format!("{}.", c.path)))
        .max_by_key(|c| c.path.len())
        .map(|c| (c, &segments[c.segments().count()..]))
        .unwrap_or((&COLUMNS[okwatch_store::layout::EXTRA], segments))
}

/// JSON text of a string as serde_json writes it, without the surrounding quotes.
fn json_inner(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

fn json_test(column: &Column, dotted: &str, relative: &[String], test: Test) -> Pred {
    let j = column.name;
    // `sure`: follow the documented shape, unwrapping the arrays Okta documents.
    let mut json_path = String::from("$");
    let mut wildcard = false;
    let base = column.path;
    let mut absolute = base.to_string();
    if KNOWN_ARRAYS.contains(&absolute.as_str()) {
        json_path.push_str("[*]");
        wildcard = true;
    }
    for segment in relative {
        json_path.push_str(&format!(".\"{segment}\""));
        absolute = if absolute.is_empty() {
            segment.clone()
        } else {
            format!("{absolute}.{segment}")
        };
        if KNOWN_ARRAYS.contains(&absolute.as_str()) {
            json_path.push_str("[*]");
            wildcard = true;
        }
    }
    debug_assert_eq!(absolute, dotted);
    let pred = value_test("x", test);
    let extract = format!("json_extract({j}, {})", quote(&json_path));
    // A single value is wrapped in a list so that one lambda serves both shapes and the JSON
    // is parsed once per row.
    let values = if wildcard {
        extract
    } else {
        format!("[{extract}]")
    };
    let sure = format!("COALESCE(len(list_filter({values}, lambda x: {pred})) > 0, FALSE)");
    // `maybe`: the text must at least contain the last member name and the literal.
    let mut needles = Vec::new();
    if let Some(last) = relative.last() {
        needles.push(format!("\"{}\":", json_inner(last)));
    }
    if let Test::Compare(op, Literal::String(s)) = test {
        let inner = json_inner(s);
        match op {
            CompareOp::Eq => needles.push(format!("\"{inner}\"")),
            CompareOp::Co => needles.push(inner),
            CompareOp::Sw => needles.push(format!("\"{inner}")),
            CompareOp::Ew => needles.push(format!("{inner}\"")),
            _ => {}
        }
    }
    let mut maybe = vec![format!("{j} IS NOT NULL")];
    maybe.extend(
        needles
            .iter()
            .map(|n| format!("contains({j}, {})", quote(n))),
    );
    let maybe = format!("COALESCE(({}), FALSE)", maybe.join(" AND "));
    // Checking the cheap text pre-filter first spares parsing JSON in most rows.
    Pred {
        sure: format!("({maybe} AND {sure})"),
        maybe,
    }
}

/// SQL for one JSON value `x` passing `test`; arrays never pass (they are left to `maybe`).
fn value_test(x: &str, test: Test) -> String {
    let text = format!("({x}->>'$')");
    let ty = format!("json_type({x})");
    match test {
        Test::Present => format!(
            "({x} IS NOT NULL AND CASE {ty} WHEN 'NULL' THEN FALSE WHEN 'ARRAY' THEN FALSE \
             WHEN 'VARCHAR' THEN {text} <> '' WHEN 'OBJECT' THEN len(json_keys({x})) > 0 ELSE TRUE END)"
        ),
        Test::Compare(op, Literal::String(s)) => {
            format!("({ty} = 'VARCHAR' AND {})", string_test(&text, op, s))
        }
        Test::Compare(op, Literal::Number(n)) => match op {
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => "FALSE".into(),
            op => format!(
                "({ty} IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT') AND TRY_CAST({text} AS DOUBLE) {} {})",
                sql_op(op),
                number_literal(*n)
            ),
        },
        Test::Compare(op @ (CompareOp::Eq | CompareOp::Ne), Literal::Bool(b)) => {
            format!("({ty} = 'BOOLEAN' AND {text} {} '{b}')", sql_op(op))
        }
        Test::Compare(CompareOp::Eq, Literal::Null) => format!("({ty} = 'NULL')"),
        Test::Compare(CompareOp::Ne, Literal::Null) => format!("({ty} NOT IN ('NULL', 'ARRAY'))"),
        Test::Compare(_, _) => "FALSE".into(),
    }
}

/// Compiles `q` keywords: exact over text columns, a pre-filter over JSON columns.
pub fn compile_keywords(keywords: &Keywords, word_columns: Option<&[Option<u64>]>) -> Pred {
    Pred::and(
        keywords
            .words()
            .iter()
            .enumerate()
            .map(|(i, word)| keyword(word, word_columns.and_then(|w| w.get(i).copied().flatten())))
            .collect(),
    )
}

/// `q`'s test of one keyword, in the columns of `columns` (a mask over [`COLUMNS`]; `None`
/// means every column).
fn keyword(word: &str, columns: Option<u64>) -> Pred {
    let wanted = |i: usize| columns.is_none_or(|mask| mask & (1 << i) != 0);
    let mut texts = Vec::new();
    let mut json_hits = Vec::new();
    for (i, column) in COLUMNS.iter().enumerate() {
        if !wanted(i) {
            continue;
        }
        match column.kind {
            Kind::Str => texts.push(token_test(column.name, word)),
            // `published` is a string in the event too, but formatting it for every row is
            // costly: look there only when the word could be part of an Okta timestamp.
            Kind::Time if could_be_in_timestamp(word) => texts.push(token_test(
                &format!("strftime({}, '%Y-%m-%dT%H:%M:%S.%gZ')", column.name),
                word,
            )),
            Kind::Json => json_hits.push(format!(
                "COALESCE(contains({}, {}), FALSE)",
                folded(column.name, word),
                quote(&json_inner(word))
            )),
            _ => {}
        }
    }
    let sure = if texts.is_empty() {
        "FALSE".to_string()
    } else {
        format!("({})", texts.join(" OR "))
    };
    let maybe = if json_hits.is_empty() {
        sure.clone()
    } else {
        format!("({sure} OR {})", json_hits.join(" OR "))
    };
    Pred { maybe, sure }
}

/// `expr` as `q` compares it with `word`: lower-cased, unless lower-casing cannot create or
/// remove a match (a word without letters, such as an IP address), which keeps that common
/// search cheap.
fn folded(expr: &str, word: &str) -> String {
    if word.chars().any(char::is_alphabetic) {
        format!("lower({expr})")
    } else {
        expr.to_string()
    }
}

/// Whether `word` lines up with some part of `####-##-##t##:##:##.###z` (lower-cased, `#` a
/// digit), the only shape `published` takes in a stored row.
fn could_be_in_timestamp(word: &str) -> bool {
    const TEMPLATE: &[u8] = b"####-##-##t##:##:##.###z";
    let word = word.as_bytes();
    word.len() <= TEMPLATE.len()
        && (0..=TEMPLATE.len() - word.len()).any(|offset| {
            word.iter().zip(&TEMPLATE[offset..]).all(|(w, t)| match t {
                b'#' => w.is_ascii_digit(),
                other => w == other,
            })
        })
}

/// Whether `word` occurs in the text `expr` between token boundaries. CASE, unlike an AND
/// inside an expression, runs the regular expression only on rows where `contains` hit.
fn token_test(expr: &str, word: &str) -> String {
    let text = folded(expr, word);
    let class: String = TOKEN_BOUNDARIES
        .iter()
        .map(|c| match c {
            '\t' => "\\t".to_string(),
            '\n' => "\\n".to_string(),
            '\r' => "\\r".to_string(),
            '-' => "\\-".to_string(),
            other => other.to_string(),
        })
        .collect();
    let pattern = format!("(^|[{class}]){}($|[{class}])", regex_escape(word));
    format!(
        "(CASE WHEN contains({text}, {}) THEN regexp_matches({text}, {}) ELSE FALSE END)",
        quote(word),
        quote(&pattern)
    )
}

/// Escapes a keyword for RE2: ASCII punctuation except `_` (RE2 refuses `\_`).
fn regex_escape(word: &str) -> String {
    let mut out = String::with_capacity(word.len() * 2);
    for c in word.chars() {
        if c.is_ascii_punctuation() && c != '_' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use okwatch_query::{parse_and_validate, Dialect};

    fn compile(text: &str) -> Pred {
        compile_filter(
            &parse_and_validate(text, Dialect::Okwatch).unwrap(),
            Rows::Irregular,
        )
    }

    #[test]
    fn typed_columns_are_compared_directly_and_json_only_in_irregular_rows() {
        let filter = parse_and_validate(
            r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#,
            Dialect::Okwatch,
        )
        .unwrap();
        let regular = compile_filter(&filter, Rows::Regular);
        assert!(regular.is_exact());
        assert_eq!(
            regular.sure,
            "(COALESCE(event_type = 'user.session.start', FALSE) AND COALESCE(outcome_result = 'FAILURE', FALSE))"
        );
        let irregular = compile_filter(&filter, Rows::Irregular);
        assert!(
            irregular.sure.contains("json_extract(extra"),
            "{}",
            irregular.sure
        );
    }

    #[test]
    fn only_words_shaped_like_part_of_a_timestamp_are_looked_for_in_published() {
        for yes in [
            "2024",
            "08",
            "2024-08-13t15:58:20.353z",
            "13t15:58",
            "20.353z",
            "-08-",
        ] {
            assert!(could_be_in_timestamp(yes), "{yes}");
        }
        for no in ["102.89.34.17", "slack", "2024:08", "123456", "t15.58"] {
            assert!(!could_be_in_timestamp(no), "{no}");
        }
    }

    #[test]
    fn quotes_in_literals_cannot_escape_the_string() {
        let p = compile(r#"actor.displayName eq "O'Brien') OR TRUE --""#);
        assert!(p.sure.contains("'O''Brien'') OR TRUE --'"), "{}", p.sure);
    }

    #[test]
    fn json_paths_get_a_prefilter_and_not_swaps_it() {
        let p = compile(r#"target.id eq "00u1""#);
        assert!(!p.is_exact());
        assert!(
            p.maybe.contains("contains(target, '\"00u1\"')"),
            "{}",
            p.maybe
        );
        let n = compile(r#"not (target.id eq "00u1")"#);
        assert_eq!(n.sure, format!("(NOT {})", p.maybe));
    }
}
