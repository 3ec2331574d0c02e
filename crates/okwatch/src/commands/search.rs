//! `okwatch search`: arguments → query → results → output.

use crate::cli::{Format, Per, SearchArgs, Sort};
use crate::output::{field_text, terminal_width, write_csv_row, write_table, DEFAULT_FIELDS};
use anyhow::{anyhow, Result};
use okwatch_model::{format_timestamp, parse_time_bound, Timestamp};
use okwatch_query::{parse_and_validate, AttrPath, Dialect, Keywords};
use okwatch_store::{Bucket, Cursor, EventQuery, Order, Store, StoredEvent};
use serde_json::{json, Value};
use std::io::Write;

/// Page size used when `--all` walks a whole result.
const ALL_PAGE: usize = 10_000;

/// What a search produced.
pub enum Outcome {
    /// Events, and where the next page starts.
    Events(Vec<StoredEvent>, Option<Cursor>),
    /// A count.
    Count(u64),
    /// Counts per value.
    Groups(String, Vec<(Option<String>, u64)>),
    /// Counts per time bucket.
    Buckets(Vec<(Timestamp, u64)>),
}

/// Turns arguments into a store query, with errors that point into the filter.
pub fn build_query(args: &SearchArgs) -> Result<EventQuery> {
    let now = chrono::Utc::now();
    let filter = match &args.filter {
        Some(text) => Some(
            parse_and_validate(text, Dialect::Okwatch)
                .map_err(|e| anyhow!("{}", e.render(text)))?,
        ),
        None => None,
    };
    let keywords = match &args.q {
        Some(q) => Keywords::parse(q).map_err(|e| anyhow!("in --q: {}", e.message))?,
        None => Keywords::default(),
    };
    let bound = |text: &Option<String>| -> Result<Option<Timestamp>> {
        Ok(match text {
            Some(t) => Some(parse_time_bound(t, now)?),
            None => None,
        })
    };
    Ok(EventQuery {
        org: args.org.clone(),
        filter,
        keywords,
        since: bound(&args.since)?,
        until: bound(&args.until)?,
        order: match args.sort {
            Sort::Asc => Order::Asc,
            Sort::Desc => Order::Desc,
        },
        limit: if args.all { ALL_PAGE } else { args.limit },
        after: args.after.as_deref().map(Cursor::decode).transpose()?,
        // A table or CSV shows only its columns, so only those need reading.
        fields: matches!(args.format, Format::Table | Format::Csv).then(|| display_fields(args)),
    })
}

/// The attributes a table or CSV shows.
fn display_fields(args: &SearchArgs) -> Vec<String> {
    if args.fields.is_empty() {
        DEFAULT_FIELDS.iter().map(|f| f.to_string()).collect()
    } else {
        args.fields.clone()
    }
}

/// Runs the search.
pub fn execute(store: &dyn Store, args: &SearchArgs) -> Result<Outcome> {
    let mut query = build_query(args)?;
    if args.count {
        return Ok(Outcome::Count(store.count(&query)?));
    }
    if let Some(field) = &args.group_by {
        let path = parse_and_validate(&format!("{field} pr"), Dialect::Okwatch)
            .map_err(|e| anyhow!("--group-by {field}: {}", e.message))?;
        let path = match path {
            okwatch_query::Expr::Present(p) => p,
            _ => AttrPath::from_dotted(field),
        };
        return Ok(Outcome::Groups(
            field.clone(),
            store.count_by_field(&query, &path, args.limit)?,
        ));
    }
    if let Some(per) = args.per {
        let bucket = match per {
            Per::Hour => Bucket::Hour,
            Per::Day => Bucket::Day,
            Per::Week => Bucket::Week,
            Per::Month => Bucket::Month,
        };
        return Ok(Outcome::Buckets(store.count_by_time(&query, bucket)?));
    }
    if !args.all {
        let page = store.search(&query)?;
        return Ok(Outcome::Events(page.events, page.next));
    }
    let mut events = Vec::new();
    loop {
        let page = store.search(&query)?;
        events.extend(page.events);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(Outcome::Events(events, None)),
        }
    }
}

/// Runs the search and writes the result.
pub fn run(store: &dyn Store, args: &SearchArgs, out: &mut dyn Write) -> Result<u8> {
    let outcome = execute(store, args)?;
    render(&outcome, args, out)?;
    if let (Outcome::Events(_, Some(next)), Format::Table) = (&outcome, args.format) {
        eprintln!("more results: add --after {}", next.encode());
    }
    Ok(super::EXIT_OK)
}

fn render(outcome: &Outcome, args: &SearchArgs, out: &mut dyn Write) -> Result<()> {
    let fields = display_fields(args);
    let (headers, rows): (Vec<String>, Vec<Vec<String>>) = match outcome {
        Outcome::Count(n) => {
            match args.format {
                Format::Json | Format::Ndjson => writeln!(out, "{}", json!({ "count": n }))?,
                Format::Csv => writeln!(out, "count\n{n}")?,
                Format::Table => writeln!(out, "{n}")?,
            }
            return Ok(());
        }
        Outcome::Groups(field, groups) => (
            vec![field.clone(), "count".into()],
            groups
                .iter()
                .map(|(k, n)| vec![k.clone().unwrap_or_default(), n.to_string()])
                .collect(),
        ),
        Outcome::Buckets(buckets) => (
            vec!["time".into(), "count".into()],
            buckets
                .iter()
                .map(|(t, n)| vec![format_timestamp(*t), n.to_string()])
                .collect(),
        ),
        Outcome::Events(events, _) => match args.format {
            Format::Ndjson => {
                for e in events {
                    serde_json::to_writer(&mut *out, &e.event)?;
                    writeln!(out)?;
                }
                return Ok(());
            }
            Format::Json => {
                let all: Vec<&Value> = events.iter().map(|e| &e.event).collect();
                serde_json::to_writer_pretty(&mut *out, &all)?;
                writeln!(out)?;
                return Ok(());
            }
            Format::Csv | Format::Table => (
                fields.clone(),
                events
                    .iter()
                    .map(|e| fields.iter().map(|f| field_text(&e.event, f)).collect())
                    .collect(),
            ),
        },
    };
    match args.format {
        Format::Table => write_table(out, &headers, &rows, terminal_width())?,
        Format::Csv => {
            write_csv_row(out, &headers)?;
            for row in &rows {
                write_csv_row(out, row)?;
            }
        }
        Format::Json | Format::Ndjson => {
            let objects: Vec<Value> = rows
                .iter()
                .map(|row| {
                    Value::Object(
                        headers
                            .iter()
                            .cloned()
                            .zip(row.iter())
                            .map(|(header, cell)| {
                                // Counts are numbers in JSON, whatever the table shows.
                                let value = match cell.parse::<u64>() {
                                    Ok(n) if header == "count" => json!(n),
                                    _ => json!(cell),
                                };
                                (header, value)
                            })
                            .collect(),
                    )
                })
                .collect();
            if args.format == Format::Json {
                serde_json::to_writer_pretty(&mut *out, &objects)?;
                writeln!(out)?;
            } else {
                for o in objects {
                    writeln!(out, "{o}")?;
                }
            }
        }
    }
    Ok(())
}
