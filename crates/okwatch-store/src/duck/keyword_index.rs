//! The keyword index: which blocks of stored events contain which `q` tokens.
//!
//! `q` looks into every string of an event, about thirty columns and the JSON ones, so without
//! help each search reads the whole table (seconds at a few million events). The index keeps one
//! `(token hash, block)` row per distinct token per block of [`BLOCK_ROWS`] consecutive `seq`s.
//! A search first asks it which blocks hold every token the keywords require, then scans only
//! those `seq` ranges; DuckDB's per-block statistics on `seq` skip the rest. Tokens that are
//! rare (an IP, a user, a session id) point at a handful of blocks.
//!
//! **Invariant:** every token of every event with `seq >= keywords_indexed_from` has a row for
//! its block. Extra rows (hash collisions, rows left by a failed insert or a purge) only cost a
//! wider scan: the keyword predicate itself still decides each row.

use ::duckdb::arrow::array::{ArrayRef, Int32Array};
use ::duckdb::arrow::datatypes::{DataType, Field, Schema};
use ::duckdb::arrow::record_batch::RecordBatch;
use ::duckdb::Connection;
use okwatch_query::Keywords;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::db_err;
use crate::StoreError;

/// log2 of the rows per index block: DuckDB's vector size, the unit its scans skip.
pub const BLOCK_SHIFT: u32 = 11;
/// Consecutive `seq`s per index block.
pub const BLOCK_ROWS: i64 = 1 << BLOCK_SHIFT;

/// More `seq` ranges than this are merged (across the smallest gaps) into this many: a longer
/// `OR` costs more to evaluate than the few extra rows it would skip.
const MAX_RANGES: usize = 256;

/// The meta key holding the first `seq` the index covers. Stores created before the index
/// existed get it set to their next `seq` on first writable open; older rows are scanned.
pub const INDEXED_FROM_KEY: &str = "keywords_indexed_from";

/// DDL for the index table and its coverage mark.
pub const CREATE_SQL: &str = "
    CREATE TABLE IF NOT EXISTS keyword_blocks (token INTEGER NOT NULL, block INTEGER NOT NULL);
    INSERT INTO okwatch_meta
        SELECT 'keywords_indexed_from', CAST(COALESCE(max(seq), 0) + 1 AS VARCHAR) FROM events
        ON CONFLICT DO NOTHING;";

/// The tokens already indexed for the block being filled, so each is written once per block.
#[derive(Default)]
pub struct OpenBlock {
    block: Option<i64>,
    tokens: HashSet<u32, BuildHasherDefault<TokenHasher>>,
}

impl OpenBlock {
    /// Forgets what was written: the next rows of any block are indexed in full. Call it when
    /// an insert fails (its rows were rolled back) or after a purge.
    pub fn forget(&mut self) {
        self.block = None;
        self.tokens.clear();
    }

    /// The index rows for events numbered `seqs`, with their tokens, that are not already in
    /// the index.
    pub fn rows_for<'a>(
        &mut self,
        events: impl Iterator<Item = (i64, &'a [u32])>,
    ) -> Result<Option<RecordBatch>, StoreError> {
        let mut tokens = Vec::new();
        let mut blocks = Vec::new();
        for (seq, event_tokens) in events {
            let block = seq >> BLOCK_SHIFT;
            if self.block != Some(block) {
                self.block = Some(block);
                self.tokens.clear();
            }
            let block = i32::try_from(block).map_err(|_| {
                StoreError::Encoding(format!("seq {seq} is past the index's range"))
            })?;
            for &token in event_tokens {
                if self.tokens.insert(token) {
                    tokens.push(token as i32);
                    blocks.push(block);
                }
            }
        }
        if tokens.is_empty() {
            return Ok(None);
        }
        let schema = Schema::new(vec![
            Field::new("token", DataType::Int32, false),
            Field::new("block", DataType::Int32, false),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(tokens)),
            Arc::new(Int32Array::from(blocks)),
        ];
        RecordBatch::try_new(Arc::new(schema), columns)
            .map(Some)
            .map_err(|e| StoreError::Encoding(e.to_string()))
    }
}

/// Token hashes are already uniform; spreading them over the high bits (which the hash table
/// uses for its control bytes) is all that is left to do.
#[derive(Default)]
pub struct TokenHasher(u64);

impl Hasher for TokenHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b) ^ (self.0 as u32));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// The `seq` condition that confines a `q` search to blocks holding all its tokens, or `None`
/// when the index cannot narrow it (no index, or keywords that require no token).
pub fn seq_condition(
    conn: &Connection,
    keywords: &Keywords,
    indexed_from: Option<i64>,
) -> Result<Option<String>, StoreError> {
    let Some(indexed_from) = indexed_from else {
        return Ok(None);
    };
    let required = keywords.required_tokens();
    if required.is_empty() {
        return Ok(None);
    }
    let list: Vec<String> = required.iter().map(|&t| (t as i32).to_string()).collect();
    let sql = format!(
        "SELECT block FROM keyword_blocks WHERE token IN ({}) GROUP BY block
         HAVING count(DISTINCT token) = {} ORDER BY block",
        list.join(","),
        required.len()
    );
    tracing::debug!(%sql, "keyword blocks");
    let mut stmt = conn
        .prepare(&sql)
        .map_err(db_err("reading the keyword index"))?;
    let blocks = stmt
        .query_map([], |r| r.get::<_, i64>(0))
        .map_err(db_err("reading the keyword index"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err("reading the keyword index"))?;
    let mut terms: Vec<String> = block_ranges(&blocks, MAX_RANGES)
        .into_iter()
        .map(|(lo, hi)| format!("seq BETWEEN {lo} AND {hi}"))
        .collect();
    if indexed_from > 1 {
        terms.push(format!("seq < {indexed_from}"));
    }
    Ok(Some(if terms.is_empty() {
        "FALSE".to_string()
    } else {
        format!("({})", terms.join(" OR "))
    }))
}

/// Inclusive `seq` ranges covering `blocks` (ascending): adjacent blocks join, and when there
/// are more than `max` ranges the closest ones merge until `max` remain.
fn block_ranges(blocks: &[i64], max: usize) -> Vec<(i64, i64)> {
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    for &block in blocks {
        let (lo, hi) = (block * BLOCK_ROWS, (block + 1) * BLOCK_ROWS - 1);
        match ranges.last_mut() {
            Some(last) if last.1 + 1 >= lo => last.1 = hi,
            _ => ranges.push((lo, hi)),
        }
    }
    if ranges.len() <= max.max(1) {
        return ranges;
    }
    // Close the smallest gaps: the `len - max` smallest, ties broken by position.
    let mut gaps: Vec<(i64, usize)> = ranges
        .windows(2)
        .enumerate()
        .map(|(i, w)| (w[1].0 - w[0].1, i))
        .collect();
    gaps.sort_unstable();
    let mut close = vec![false; ranges.len()];
    for &(_, i) in &gaps[..ranges.len() - max.max(1)] {
        close[i] = true;
    }
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(max);
    let mut joining = false;
    for (i, range) in ranges.iter().enumerate() {
        match merged.last_mut() {
            Some(last) if joining => last.1 = range.1,
            _ => merged.push(*range),
        }
        joining = close[i];
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_blocks_make_one_range() {
        let r = BLOCK_ROWS;
        assert_eq!(
            block_ranges(&[0, 1, 3], 10),
            vec![(0, 2 * r - 1), (3 * r, 4 * r - 1)]
        );
        assert!(block_ranges(&[], 10).is_empty());
    }

    #[test]
    fn too_many_ranges_merge_across_the_smallest_gaps() {
        let r = BLOCK_ROWS;
        // Gaps: 0→2 is one block, 2→10 seven, 10→12 one.
        let merged = block_ranges(&[0, 2, 10, 12], 2);
        assert_eq!(merged, vec![(0, 3 * r - 1), (10 * r, 13 * r - 1)]);
        let one = block_ranges(&[0, 2, 10, 12], 1);
        assert_eq!(one, vec![(0, 13 * r - 1)]);
        // Every block is still covered.
        for b in [0, 2, 10, 12] {
            assert!(merged
                .iter()
                .any(|&(lo, hi)| lo <= b * r && (b + 1) * r - 1 <= hi));
        }
    }

    #[test]
    fn a_block_indexes_each_token_once_and_a_new_block_starts_afresh() {
        let mut open = OpenBlock::default();
        let first = open
            .rows_for([(1, &[7u32, 8][..]), (2, &[8, 9][..])].into_iter())
            .unwrap()
            .unwrap();
        assert_eq!(first.num_rows(), 3);
        assert!(open
            .rows_for([(3, &[7u32][..])].into_iter())
            .unwrap()
            .is_none());
        let next = open
            .rows_for([(BLOCK_ROWS, &[7u32][..])].into_iter())
            .unwrap()
            .unwrap();
        assert_eq!(next.num_rows(), 1);
        open.forget();
        assert!(open
            .rows_for([(BLOCK_ROWS + 1, &[7u32][..])].into_iter())
            .unwrap()
            .is_some());
    }
}
