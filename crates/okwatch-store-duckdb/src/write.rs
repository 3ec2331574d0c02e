//! Writing: new events (de-duplicated against the store and within the batch), their keyword
//! index rows and a collector's checkpoint, in one transaction; purging old events. Only the
//! writer connection, behind the store's mutex, runs these.

use super::{db_err, keyword_index, timestamp_literal, DuckDbStore, Inner};
use ::duckdb::Connection;
use okwatch_model::Timestamp;
use okwatch_store::{Checkpoint, EventBatch, InsertOutcome, StoreError};

/// Appends `records` to `table` through DuckDB's appender (a vector at a time).
fn append(
    conn: &Connection,
    table: &str,
    records: ::duckdb::arrow::record_batch::RecordBatch,
    doing: &str,
) -> Result<(), StoreError> {
    let mut appender = conn
        .appender(table)
        .map_err(db_err("opening the appender"))?;
    appender
        .append_record_batch(records)
        .map_err(db_err(doing))?;
    appender.flush().map_err(db_err(doing))
}

/// Positions (ascending) of the rows in `records` that must not be stored: already in the
/// store, or an earlier row of the same batch has the same identity. Identity is (org, uuid,
/// published): real uuids are unique, and a repeated event has the same `published`, which lets
/// the block statistics skip everything outside the batch's time span. Only the key columns
/// are staged, so the common case (nothing repeated) appends the batch straight to `events`.
fn repeated_rows(
    conn: &Connection,
    records: &::duckdb::arrow::record_batch::RecordBatch,
    min: Timestamp,
    max: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    let keys = okwatch_store::arrow_batch::keys(records)?;
    conn.execute_batch("DELETE FROM staging_keys")
        .map_err(db_err("clearing the staging table"))?;
    append(conn, "staging_keys", keys, "staging event keys")?;
    let sql = format!(
        "SELECT i FROM staging_keys s
         QUALIFY row_number() OVER (PARTITION BY org, uuid, published ORDER BY i) > 1
            OR EXISTS (
                SELECT 1 FROM events e
                WHERE e.published BETWEEN {lo} AND {hi}
                  AND e.org = s.org AND e.uuid = s.uuid AND e.published = s.published)
         ORDER BY i",
        lo = timestamp_literal(min),
        hi = timestamp_literal(max),
    );
    let mut stmt = conn
        .prepare(&sql)
        .map_err(db_err("looking for stored events"))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, i64>(0))
        .map_err(db_err("looking for stored events"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(db_err("looking for stored events"))
}

impl DuckDbStore {
    /// Stores the batch, and the checkpoint if there is one, in one transaction.
    pub(super) fn insert_with(
        &self,
        batch: EventBatch,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<InsertOutcome, StoreError> {
        let total = batch.len() as u64;
        let mut inner = self.lock();
        let inner = &mut *inner;
        let result = Self::insert_locked(inner, batch, checkpoint);
        match result {
            Ok(stored) => inner.next_seq += stored as i64,
            // The rows went away with the transaction; so did their index rows.
            Err(_) => inner.open_block.forget(),
        }
        let stored = result?;
        Ok(InsertOutcome {
            stored,
            duplicates: total - stored,
        })
    }

    /// Stores the batch's new events, their keyword index rows and the checkpoint in one
    /// transaction; returns how many events were new.
    fn insert_locked(
        inner: &mut Inner,
        batch: EventBatch,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<u64, StoreError> {
        let first_seq = inner.next_seq;
        let tx = inner
            .conn
            .transaction()
            .map_err(db_err("starting an insert"))?;
        if let Some(checkpoint) = checkpoint {
            // A literal, as elsewhere: DuckDB's now() is a TIMESTAMPTZ, which this build (no
            // ICU) should not be asked to convert.
            tx.execute(
                &format!(
                    "INSERT INTO collector_checkpoints VALUES (?, ?, ?, {})
                     ON CONFLICT (org, collector) DO UPDATE
                     SET state = excluded.state, saved_at = excluded.saved_at",
                    timestamp_literal(chrono::Utc::now())
                ),
                [&checkpoint.org, &checkpoint.collector, &checkpoint.state],
            )
            .map_err(db_err("saving the collector's checkpoint"))?;
        }
        let Some((min, max)) = batch.span() else {
            tx.commit().map_err(db_err("committing a checkpoint"))?;
            return Ok(0);
        };
        let (records, tokens) = batch.into_parts();
        let repeated = repeated_rows(&tx, &records, min, max)?;
        let is_new = |i: usize| repeated.binary_search(&(i as i64)).is_err();
        let fresh = if repeated.is_empty() {
            records
        } else {
            let keep: ::duckdb::arrow::array::BooleanArray =
                (0..records.num_rows()).map(|i| Some(is_new(i))).collect();
            ::duckdb::arrow::compute::filter_record_batch(&records, &keep)
                .map_err(|e| StoreError::Encoding(e.to_string()))?
        };
        let stored = fresh.num_rows() as u64;
        if stored > 0 {
            let now = chrono::Utc::now().timestamp_micros();
            let fresh = okwatch_store::arrow_batch::with_arrival(fresh, first_seq, now)?;
            append(&tx, "events", fresh, "storing events")?;
            let new_tokens = tokens
                .iter()
                .enumerate()
                .filter(|(i, _)| is_new(*i))
                .zip(first_seq..)
                .map(|((_, tokens), seq)| (seq, tokens.as_slice()));
            if let Some(index_rows) = inner.open_block.rows_for(new_tokens)? {
                append(&tx, "keyword_blocks", index_rows, "indexing keywords")?;
            }
        }
        tx.commit().map_err(db_err("committing events"))?;
        Ok(stored)
    }

    pub(super) fn purge(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let n = inner
            .conn
            .execute(
                &format!(
                    "DELETE FROM events WHERE published < {}",
                    timestamp_literal(cutoff)
                ),
                [],
            )
            .map_err(db_err("purging old events"))?;
        // Index rows of blocks now wholly purged; a partly purged block keeps its rows (they
        // only widen a scan) and the open block's memory is dropped in case it was emptied.
        inner
            .conn
            .execute(
                &format!(
                    "DELETE FROM keyword_blocks WHERE block < (SELECT COALESCE(min(seq), {}) FROM events) >> {}",
                    inner.next_seq,
                    keyword_index::BLOCK_SHIFT
                ),
                [],
            )
            .map_err(db_err("purging the keyword index"))?;
        inner.open_block.forget();
        Ok(n as u64)
    }
}
