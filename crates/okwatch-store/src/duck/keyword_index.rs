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
    let mut terms: Vec<String> = blocks_condition(&blocks).into_iter().collect();
    if indexed_from > 1 {
        terms.push(format!("seq < {indexed_from}"));
    }
    Ok(Some(if terms.is_empty() {
        "FALSE".to_string()
    } else {
        format!("({})", terms.join(" OR "))
    }))
}

/// The `seq` condition for rows in `blocks` (ascending): the range they span, which DuckDB
/// checks against its block statistics, and the blocks themselves unless they fill most of
/// that range anyway (then testing each row's block costs more than it saves).
fn blocks_condition(blocks: &[i64]) -> Option<String> {
    let (&first, &last) = (blocks.first()?, blocks.last()?);
    let span = format!(
        "seq BETWEEN {} AND {}",
        first * BLOCK_ROWS,
        (last + 1) * BLOCK_ROWS - 1
    );
    if blocks.len() as i64 * 2 > last - first + 1 {
        return Some(format!("({span})"));
    }
    let list: Vec<String> = blocks.iter().map(i64::to_string).collect();
    Some(format!(
        "({span} AND (seq >> {BLOCK_SHIFT}) IN ({}))",
        list.join(",")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blocks_condition_selects_exactly_the_rows_of_its_blocks() {
        let store = crate::DuckDbStore::open_in_memory().unwrap();
        let condition = blocks_condition(&[2, 3, 9]).unwrap();
        let rows = store
            .query_text(&format!(
                "SELECT count(*), min(seq), max(seq) FROM (SELECT range AS seq FROM range(0, 20 * {BLOCK_ROWS})) WHERE {condition}"
            ))
            .unwrap();
        let r = BLOCK_ROWS;
        assert_eq!(
            rows[0],
            vec![
                format!("BigInt({})", 3 * r),
                format!("BigInt({})", 2 * r),
                format!("BigInt({})", 10 * r - 1)
            ]
        );
        assert!(blocks_condition(&[]).is_none());
        // Blocks that fill their span need no list.
        assert_eq!(
            blocks_condition(&[4, 5, 7]).unwrap(),
            format!("(seq BETWEEN {} AND {})", 4 * r, 8 * r - 1)
        );
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
