//! Aggregates in SQL: one GROUP BY over the matching rows (regular and irregular), then a
//! ranking of key combinations for `top`. When some matching row is one SQL cannot decide (a
//! filter the evaluator must finish), the answer comes from the reference implementation
//! instead, because distinct values cannot be merged from counts.

use super::db_err;
use super::plan::{plan_query, union_all};
use super::read::{count_unsure, group_key_sql, Reader};
use super::sql::quote;
use okwatch_model::Timestamp;
use okwatch_query::AttrPath;
use okwatch_store::{AggregateRow, Aggregation, EventQuery, Key, StoreError};

/// SQL for one key's value as text (NULL where the event has none).
fn key_sql(key: &Key) -> Result<String, StoreError> {
    match key {
        Key::Field(path) => group_key_sql(&AttrPath::from_dotted(path)),
        Key::Target { kind, field } => Ok(format!(
            "json_extract_string(list_filter(json_extract(target, '$[*]'), \
             lambda x: json_extract_string(x, '$.type') = {})[1], {})",
            quote(kind),
            quote(&format!("$.\"{}\"", field.replace('"', "")))
        )),
    }
}

/// The aggregate computed in SQL, or `None` when SQL cannot decide every row.
pub(super) fn in_sql(
    r: &Reader<'_>,
    query: &EventQuery,
    aggregation: &Aggregation,
) -> Result<Option<Vec<AggregateRow>>, StoreError> {
    let plan = plan_query(r, query)?;
    // SQL answers the rows it can decide; rows only the evaluator can decide (irregular ones,
    // a path SQL reads approximately) are almost always none, and then SQL's answer is whole.
    if !plan.exact && count_unsure(r, query, &plan, |_| {})? > 0 {
        return Ok(None);
    }
    let mut select = Vec::new();
    let mut names = Vec::new();
    if let Some(bucket) = aggregation.bucket {
        select.push(format!(
            "epoch_us(date_trunc('{}', published)) AS b",
            bucket.name()
        ));
        names.push("b".to_string());
    }
    let keys: Vec<String> = (0..aggregation.keys.len())
        .map(|i| format!("k{i}"))
        .collect();
    for (key, name) in aggregation.keys.iter().zip(&keys) {
        select.push(format!("{} AS {name}", key_sql(key)?));
        names.push(name.clone());
    }
    let measure = match &aggregation.distinct {
        Some(distinct) => {
            select.push(format!("{} AS d", key_sql(distinct)?));
            "count(DISTINCT d)"
        }
        None => {
            select.push("1 AS one".into());
            "count(*)"
        }
    };
    let select = select.join(", ");
    let union = union_all(query, &plan, |_| select.clone(), |p| p.sure.clone(), &[]);
    let grouped = if names.is_empty() {
        format!("SELECT {measure} AS n FROM ({union})")
    } else {
        format!(
            "SELECT {}, {measure} AS n FROM ({union}) GROUP BY ALL",
            names.join(", ")
        )
    };
    // The ranking of key combinations: DuckDB orders text by bytes, as Rust does, and NULLs
    // first, as `None < Some` does.
    let order_keys: String = keys.iter().map(|k| format!(", {k} NULLS FIRST")).collect();
    let sql = if keys.is_empty() {
        grouped
    } else {
        let list = keys.join(", ");
        let joined: Vec<String> = keys
            .iter()
            .map(|k| format!("g.{k} IS NOT DISTINCT FROM t.{k}"))
            .collect();
        format!(
            "WITH g AS ({grouped}), \
             t AS (SELECT {list}, sum(n) AS total FROM g GROUP BY ALL \
                   ORDER BY total DESC{order_keys} LIMIT {top}) \
             SELECT g.* FROM g JOIN t ON {on}",
            top = aggregation.top,
            on = joined.join(" AND ")
        )
    };
    let bucket_order = if aggregation.bucket.is_some() {
        "b, "
    } else {
        ""
    };
    let sql = format!("SELECT * FROM ({sql}) ORDER BY {bucket_order}n DESC{order_keys}");
    tracing::debug!(%sql, "aggregate");
    let mut stmt = r
        .conn
        .prepare(&sql)
        .map_err(db_err("preparing an aggregate"))?;
    let mut rows = stmt.query([]).map_err(db_err("aggregating events"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err("reading an aggregate"))? {
        let mut at = 0;
        let time = match aggregation.bucket {
            Some(_) => {
                let micros: i64 = row.get(0).map_err(db_err("reading a bucket"))?;
                at = 1;
                Timestamp::from_timestamp_micros(micros)
            }
            None => None,
        };
        let mut values = Vec::with_capacity(keys.len());
        for i in 0..keys.len() {
            values.push(row.get(at + i).map_err(db_err("reading a group key"))?);
        }
        let n: i64 = row
            .get(at + keys.len())
            .map_err(db_err("reading a group count"))?;
        out.push(AggregateRow {
            time,
            keys: values,
            count: n as u64,
        });
    }
    // With no keys and no events, SQL still answers one row of 0; the reference has none.
    if keys.is_empty() && aggregation.bucket.is_none() && out.iter().all(|r| r.count == 0) {
        let any = super::read::count(r, query)? > 0;
        if !any {
            out.clear();
        }
    }
    Ok(Some(out))
}
