//! Decomposed events as one Arrow record batch: the form a backend copies in (DuckDB's appender
//! takes it a vector at a time). Encoding runs on the thread that decomposed the events:
//! freeing their strings on another thread made the two threads fight over the allocator's
//! lock. Also the Arrow helpers a backend needs to store a batch: arrival numbers, and the key
//! columns for the duplicate check.

use crate::layout::{Cell, EventRow, Kind, COLUMNS};
use crate::StoreError;
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::RecordBatch;
use arrow_array::{Array, ArrayRef, Int64Array, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use std::sync::Arc;

enum Builder {
    Str(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Time(TimestampMicrosecondBuilder),
}

impl Builder {
    fn for_kind(kind: Kind, rows: usize, text_bytes: usize) -> Builder {
        match kind {
            Kind::Str | Kind::Json => Builder::Str(StringBuilder::with_capacity(rows, text_bytes)),
            Kind::Int => Builder::Int(Int64Builder::with_capacity(rows)),
            Kind::Float => Builder::Float(Float64Builder::with_capacity(rows)),
            Kind::Bool => Builder::Bool(BooleanBuilder::with_capacity(rows)),
            Kind::Time => Builder::Time(TimestampMicrosecondBuilder::with_capacity(rows)),
        }
    }

    fn data_type(kind: Kind) -> DataType {
        match kind {
            Kind::Str | Kind::Json => DataType::Utf8,
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Bool => DataType::Boolean,
            Kind::Time => DataType::Timestamp(TimeUnit::Microsecond, None),
        }
    }

    fn push(&mut self, cell: Cell) {
        match (self, cell) {
            (Builder::Str(b), Cell::Str(s)) => b.append_value(s),
            (Builder::Int(b), Cell::Int(i)) => b.append_value(i),
            (Builder::Float(b), Cell::Float(f)) => b.append_value(f),
            (Builder::Bool(b), Cell::Bool(v)) => b.append_value(v),
            (Builder::Time(b), Cell::Time(t)) => b.append_value(t),
            (Builder::Str(b), _) => b.append_null(),
            (Builder::Int(b), _) => b.append_null(),
            (Builder::Float(b), _) => b.append_null(),
            (Builder::Bool(b), _) => b.append_null(),
            (Builder::Time(b), _) => b.append_null(),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Builder::Str(mut b) => Arc::new(b.finish()),
            Builder::Int(mut b) => Arc::new(b.finish()),
            Builder::Float(mut b) => Arc::new(b.finish()),
            Builder::Bool(mut b) => Arc::new(b.finish()),
            Builder::Time(mut b) => Arc::new(b.finish()),
        }
    }
}

/// The `events` table's columns, in order: `org, seq, ingested_at, irregular`, then [`COLUMNS`].
fn kinds() -> impl Iterator<Item = (&'static str, Kind)> {
    [
        ("org", Kind::Str),
        ("seq", Kind::Int),
        ("ingested_at", Kind::Time),
        ("irregular", Kind::Bool),
    ]
    .into_iter()
    .chain(COLUMNS.iter().map(|c| (c.name, c.kind)))
}

/// `ingested_at` of a row whose arrival the store sets when it inserts.
const UNSET_ARRIVAL: i64 = i64::MIN;

/// Encodes rows. `seq` is left 0 and `ingested_at` unset unless the row has an arrival: the
/// store assigns them when it inserts.
pub fn record_batch(rows: Vec<EventRow>) -> Result<RecordBatch, StoreError> {
    let n = rows.len();
    // Exact text sizes up front: growing multi-megabyte buffers copies them again and again.
    let mut text_bytes = vec![0usize; COLUMNS.len() + 4];
    for row in &rows {
        text_bytes[0] += row.org.len();
        for (i, cell) in row.cells.iter().enumerate() {
            if let Cell::Str(s) = cell {
                text_bytes[i + 4] += s.len();
            }
        }
    }
    let mut builders: Vec<Builder> = kinds()
        .zip(&text_bytes)
        .map(|((_, kind), bytes)| Builder::for_kind(kind, n, *bytes))
        .collect();
    for row in rows {
        builders[0].push(Cell::Str(row.org));
        builders[1].push(Cell::Int(0));
        builders[2].push(Cell::Time(
            row.arrival.map_or(UNSET_ARRIVAL, |t| t.timestamp_micros()),
        ));
        builders[3].push(Cell::Bool(row.irregular));
        for (builder, cell) in builders[4..].iter_mut().zip(row.cells) {
            builder.push(cell);
        }
    }
    let schema = Schema::new(
        kinds()
            .map(|(name, kind)| Field::new(name, Builder::data_type(kind), true))
            .collect::<Vec<_>>(),
    );
    let columns: Vec<ArrayRef> = builders.into_iter().map(Builder::finish).collect();
    RecordBatch::try_new(Arc::new(schema), columns).map_err(|e| StoreError::Encoding(e.to_string()))
}

/// The batch with its arrival filled in: `seq` numbers from `first_seq`, an unset `ingested_at`
/// becomes `now` (microseconds since the epoch).
pub fn with_arrival(
    records: RecordBatch,
    first_seq: i64,
    now: i64,
) -> Result<RecordBatch, StoreError> {
    let n = records.num_rows() as i64;
    let mut columns = records.columns().to_vec();
    columns[1] = Arc::new(Int64Array::from_iter_values(first_seq..first_seq + n));
    let arrivals = columns[2]
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .ok_or_else(|| StoreError::Encoding("ingested_at is not a timestamp column".into()))?;
    columns[2] = Arc::new(TimestampMicrosecondArray::from_iter_values(
        arrivals
            .values()
            .iter()
            .map(|&t| if t == UNSET_ARRIVAL { now } else { t }),
    ));
    RecordBatch::try_new(records.schema(), columns).map_err(|e| StoreError::Encoding(e.to_string()))
}

/// `i, org, uuid, published` of every row, `i` being its position: what the duplicate check
/// needs, sharing the batch's buffers.
pub fn keys(records: &RecordBatch) -> Result<RecordBatch, StoreError> {
    let schema = records.schema();
    let column = |name: &str| {
        schema
            .index_of(name)
            .map(|i| records.column(i).clone())
            .map_err(|e| StoreError::Encoding(e.to_string()))
    };
    let n = records.num_rows() as i64;
    let positions: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n));
    let fields = vec![
        Field::new("i", DataType::Int64, false),
        Field::new("org", DataType::Utf8, true),
        Field::new("uuid", DataType::Utf8, true),
        Field::new("published", Builder::data_type(Kind::Time), true),
    ];
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        vec![
            positions,
            column("org")?,
            column("uuid")?,
            column("published")?,
        ],
    )
    .map_err(|e| StoreError::Encoding(e.to_string()))
}
