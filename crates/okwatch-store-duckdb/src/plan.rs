//! Planning: a query (filter, keywords, time, org) compiled into SQL over regular and irregular
//! rows, narrowed by the keyword index, and the column lists that read only what a page shows.

use super::keyword_index;
use super::read::Reader;
use super::sql::{compile_filter, compile_keywords, quote, Pred, Rows};
use super::{sql_type, timestamp_literal};
use okwatch_query::matches;
use okwatch_store::layout::{Column, Kind, COLUMNS};
use okwatch_store::{EventQuery, Order, StoreError};
use serde_json::Value;

/// A query compiled for regular and for irregular rows (see [`Rows`]).
pub(super) struct Plan {
    branches: [(&'static str, Pred); 2],
    /// Whether SQL decides every row (no row needs the Rust evaluator).
    pub(super) exact: bool,
    /// A `seq` condition from the keyword index that every match satisfies.
    keyword_blocks: Option<String>,
}

pub(super) fn base_where(query: &EventQuery) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(org) = &query.org {
        parts.push(format!("org = {}", quote(org)));
    }
    let time = match query.order {
        Order::Arrival => "ingested_at",
        Order::Asc | Order::Desc => "published",
    };
    if let Some(since) = query.since {
        parts.push(format!("{time} >= {}", timestamp_literal(since)));
    }
    if let Some(until) = query.until {
        parts.push(format!("{time} < {}", timestamp_literal(until)));
    }
    parts
}

pub(super) fn predicate(
    query: &EventQuery,
    rows: Rows,
    hits: Option<&keyword_index::Hits>,
) -> Pred {
    let mut preds = Vec::new();
    if let Some(filter) = &query.filter {
        preds.push(compile_filter(filter, rows));
    }
    if !query.keywords.is_empty() {
        let word_columns = hits.map(|h| h.word_columns.as_slice());
        preds.push(compile_keywords(&query.keywords, word_columns));
    }
    Pred::and(preds)
}

pub(super) fn plan_query(r: &Reader<'_>, query: &EventQuery) -> Result<Plan, StoreError> {
    let hits = if query.keywords.is_empty() {
        None
    } else {
        keyword_index::lookup(
            r.conn,
            &query.keywords,
            r.keywords_indexed_from,
            r.index_has_masks,
        )?
    };
    let regular = predicate(query, Rows::Regular, hits.as_ref());
    let irregular = predicate(query, Rows::Irregular, hits.as_ref());
    Ok(Plan {
        exact: regular.is_exact() && irregular.is_exact(),
        branches: [("NOT irregular", regular), ("irregular", irregular)],
        keyword_blocks: hits.map(|h| h.seq_condition),
    })
}

/// `SELECT select FROM events WHERE …` for regular and for irregular rows, glued with
/// UNION ALL. Each branch's own predicate (`pick` chooses `sure`, `maybe` or a mix) stays a
/// plain conjunction DuckDB can push into the scan; the irregular branch is almost always
/// skipped whole by the block statistics on `irregular`.
pub(super) fn union_all(
    query: &EventQuery,
    plan: &Plan,
    select: impl Fn(&Pred) -> String,
    pick: impl Fn(&Pred) -> String,
    extra: &[String],
) -> String {
    union_of(query, plan, |_| true, select, pick, extra)
}

/// Like [`union`], over the branches whose predicate `keep` accepts (an empty string
/// when there are none).
pub(super) fn union_of(
    query: &EventQuery,
    plan: &Plan,
    keep: impl Fn(&Pred) -> bool,
    select: impl Fn(&Pred) -> String,
    pick: impl Fn(&Pred) -> String,
    extra: &[String],
) -> String {
    let branches: Vec<String> = plan
        .branches
        .iter()
        .filter(|(_, pred)| keep(pred))
        .map(|(rows, pred)| {
            let mut conditions = base_where(query);
            conditions.extend(plan.keyword_blocks.clone());
            conditions.push(rows.to_string());
            conditions.push(pick(pred));
            conditions.extend(extra.iter().cloned());
            format!(
                "SELECT {} FROM events WHERE {}",
                select(pred),
                conditions.join(" AND ")
            )
        })
        .collect();
    branches.join(" UNION ALL ")
}

/// The query whose conditions [`fetch_window`] repeats: the search without `q`,
/// which is no filter DuckDB can push into its scan, only a second evaluation over every
/// row of the range.
pub(super) fn rows_query(query: &EventQuery) -> EventQuery {
    EventQuery {
        keywords: Default::default(),
        ..query.clone()
    }
}

/// The reference check for rows SQL could not decide.
pub(super) fn verify(query: &EventQuery, event: &Value) -> bool {
    query.filter.as_ref().is_none_or(|f| matches(f, event)) && query.keywords.matches(event)
}

/// `org, seq` and every column of [`COLUMNS`], in order; with `fields`, the columns none
/// of them needs are NULL (the event then holds only those fields).
pub(super) fn select_list(fields: Option<&[String]>) -> String {
    let names: Vec<String> = COLUMNS
        .iter()
        .map(|c| match fields {
            Some(fields) if !fields.iter().any(|f| column_serves(c, f)) => {
                format!("CAST(NULL AS {}) AS {}", sql_type(c.kind), c.name)
            }
            _ => c.name.to_string(),
        })
        .collect();
    format!("org, seq, {}", names.join(", "))
}

/// Whether `field` (dotted) can need `column`: it is the field, inside it, or encloses it.
/// `published` (for the cursor) and `extra` (where anything can end up) always serve.
pub(super) fn column_serves(column: &Column, field: &str) -> bool {
    let within = |outer: &str, inner: &str| {
        inner.len() > outer.len()
            && inner.starts_with(outer)
            && inner.as_bytes()[outer.len()] == b'.'
    };
    column.kind == Kind::Time
        || column.path.is_empty()
        || column.path == field
        || within(column.path, field)
        || within(field, column.path)
}
