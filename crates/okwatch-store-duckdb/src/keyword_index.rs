//! The keyword index: which blocks of stored events contain which `q` tokens, and in which
//! columns.
//!
//! `q` looks into every string of an event, about thirty columns and the JSON ones, so without
//! help each search reads the whole table (seconds at a few million events). The index keeps a
//! `(token hash, block, columns)` row per distinct token per block of [`BLOCK_ROWS`]
//! consecutive `seq`s; `columns` has a bit per [`COLUMNS`] entry the token was found in, each
//! event's token counted only in the first column of [`search_rank`] order that holds it. A
//! search first asks which blocks hold every token the keywords require and in which columns,
//! then tests only those columns in only that range of `seq`s. Tokens that are rare (an IP, a
//! user, a session id) point at a handful of blocks and usually one column.
//!
//! **Invariant:** every token of every event with `seq >= keywords_indexed_from` has a row for
//! its block whose `columns` include the first column holding it. Extra rows (hash collisions,
//! rows left by a failed insert or a purge) only cost a wider scan: the keyword predicate itself
//! still decides each row. A row whose `columns` is NULL (written before columns were
//! recorded) stands for every column.
//!
//! [`COLUMNS`]: okwatch_store::layout::COLUMNS
//! [`search_rank`]: okwatch_store::layout::search_rank

use ::duckdb::arrow::array::{ArrayRef, Int32Array, Int64Array};
use ::duckdb::arrow::datatypes::{DataType, Field, Schema};
use ::duckdb::arrow::record_batch::RecordBatch;
use ::duckdb::Connection;
use okwatch_query::{word_tokens, Keywords};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::db_err;
use okwatch_store::StoreError;

/// log2 of the rows per index block: DuckDB's vector size, the unit its scans skip.
pub const BLOCK_SHIFT: u32 = 11;
/// Consecutive `seq`s per index block.
pub const BLOCK_ROWS: i64 = 1 << BLOCK_SHIFT;

/// The meta key holding the first `seq` the index covers. Stores created before the index
/// existed get it set to their next `seq` on first writable open; older rows are scanned.
pub const INDEXED_FROM_KEY: &str = "keywords_indexed_from";

/// DDL for the index table and its coverage mark; also adds the `columns` mask to an index
/// created before it existed.
pub const CREATE_SQL: &str = "
    CREATE TABLE IF NOT EXISTS keyword_blocks
        (token INTEGER NOT NULL, block INTEGER NOT NULL, col_mask BIGINT);
    ALTER TABLE keyword_blocks ADD COLUMN IF NOT EXISTS col_mask BIGINT;
    INSERT INTO okwatch_meta
        SELECT 'keywords_indexed_from', CAST(COALESCE(max(seq), 0) + 1 AS VARCHAR) FROM events
        ON CONFLICT DO NOTHING;";

/// Whether the index records columns (a store opened read-only may predate the mask).
pub fn has_column_masks(conn: &Connection) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_columns()
         WHERE table_name = 'keyword_blocks' AND column_name = 'col_mask'",
        [],
        |r| r.get(0),
    )
    .map_err(db_err("reading the keyword index's layout"))
}

/// The tokens already indexed for the block being filled, and in which columns, so each is
/// written once per block and column.
#[derive(Default)]
pub struct OpenBlock {
    block: Option<i64>,
    columns: HashMap<u32, u64, BuildHasherDefault<TokenHasher>>,
}

impl OpenBlock {
    /// Forgets what was written: the next rows of any block are indexed in full. Call it when
    /// an insert fails (its rows were rolled back) or after a purge.
    pub fn forget(&mut self) {
        self.block = None;
        self.columns.clear();
    }

    /// The index rows for events numbered `seq`, with their tokens and columns, that are not
    /// already in the index; sorted by token, so that a bulk import leaves long sorted runs
    /// whose block statistics let a lookup skip most of the index.
    pub fn rows_for<'a>(
        &mut self,
        events: impl Iterator<Item = (i64, &'a [(u32, u8)])>,
    ) -> Result<Option<RecordBatch>, StoreError> {
        let mut rows: Vec<(i32, i32, i64)> = Vec::new();
        for (seq, event_tokens) in events {
            let block = seq >> BLOCK_SHIFT;
            if self.block != Some(block) {
                self.block = Some(block);
                self.columns.clear();
            }
            let block = i32::try_from(block).map_err(|_| {
                StoreError::Encoding(format!("seq {seq} is past the index's range"))
            })?;
            for &(token, column) in event_tokens {
                let bit = 1u64 << column;
                let written = self.columns.entry(token).or_insert(0);
                if *written & bit == 0 {
                    *written |= bit;
                    rows.push((token as i32, block, bit as i64));
                }
            }
        }
        if rows.is_empty() {
            return Ok(None);
        }
        rows.sort_unstable();
        let schema = Schema::new(vec![
            Field::new("token", DataType::Int32, false),
            Field::new("block", DataType::Int32, false),
            Field::new("col_mask", DataType::Int64, true),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2))),
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

/// What the index says about a `q` search.
#[derive(Debug, Clone, PartialEq)]
pub struct Hits {
    /// A `seq` condition every match satisfies.
    pub seq_condition: String,
    /// For each keyword (in [`Keywords::words`] order), a mask of the [`COLUMNS`] that can hold
    /// its matches, or `None` when any column can.
    ///
    /// [`COLUMNS`]: okwatch_store::layout::COLUMNS
    pub word_columns: Vec<Option<u64>>,
}

/// Where the index confines a `q` search, or `None` when it cannot narrow it (no index, or
/// keywords that require no token).
pub fn lookup(
    conn: &Connection,
    keywords: &Keywords,
    indexed_from: Option<i64>,
    has_masks: bool,
) -> Result<Option<Hits>, StoreError> {
    let Some(indexed_from) = indexed_from else {
        return Ok(None);
    };
    let required = keywords.required_tokens();
    if required.is_empty() {
        return Ok(None);
    }
    let list: Vec<String> = required.iter().map(|&t| (t as i32).to_string()).collect();
    let mask = if has_masks {
        "bit_or(COALESCE(col_mask, -1))"
    } else {
        "-1::BIGINT"
    };
    let sql = format!(
        "SELECT block, token, {mask} FROM keyword_blocks WHERE token IN ({}) GROUP BY block, token",
        list.join(",")
    );
    tracing::debug!(%sql, "keyword blocks");
    let mut stmt = conn
        .prepare(&sql)
        .map_err(db_err("reading the keyword index"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i32>(1)? as u32,
                r.get::<_, i64>(2)? as u64,
            ))
        })
        .map_err(db_err("reading the keyword index"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err("reading the keyword index"))?;
    let mut by_block: BTreeMap<i64, Vec<(u32, u64)>> = BTreeMap::new();
    for (block, token, columns) in rows {
        by_block.entry(block).or_default().push((token, columns));
    }
    let mut blocks = Vec::new();
    let mut token_columns: HashMap<u32, u64> = HashMap::new();
    for (block, tokens) in by_block {
        if tokens.len() == required.len() {
            blocks.push(block);
            for (token, columns) in tokens {
                *token_columns.entry(token).or_insert(0) |= columns;
            }
        }
    }
    // Rows before the index began can hold a keyword in any column; so can a keyword with a
    // hyphen, whose parts' first columns need not be where the whole keyword is.
    let word_columns: Vec<Option<u64>> = keywords
        .words()
        .iter()
        .map(|word| match word_tokens(word).as_slice() {
            [token] if indexed_from <= 1 && !word.contains('-') => {
                Some(token_columns.get(token).copied().unwrap_or(0))
            }
            _ => None,
        })
        .collect();
    // Testing a row's block costs about as much as testing one short column, so the list of
    // blocks is worth it only when some keyword must be looked for everywhere.
    let list_blocks = word_columns.iter().any(Option::is_none);
    let mut terms: Vec<String> = blocks_condition(&blocks, list_blocks).into_iter().collect();
    if indexed_from > 1 {
        terms.push(format!("seq < {indexed_from}"));
    }
    let seq_condition = if terms.is_empty() {
        "FALSE".to_string()
    } else {
        format!("({})", terms.join(" OR "))
    };
    Ok(Some(Hits {
        seq_condition,
        word_columns,
    }))
}

/// The `seq` condition for rows in `blocks` (ascending): the range they span, which DuckDB
/// checks against its block statistics, and, if `list` is set, the blocks themselves unless
/// they fill most of that range anyway (then testing each row's block costs more than it
/// saves).
fn blocks_condition(blocks: &[i64], list: bool) -> Option<String> {
    let (&first, &last) = (blocks.first()?, blocks.last()?);
    let span = format!(
        "seq BETWEEN {} AND {}",
        first * BLOCK_ROWS,
        (last + 1) * BLOCK_ROWS - 1
    );
    if !list || blocks.len() as i64 * 2 > last - first + 1 {
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
        let condition = blocks_condition(&[2, 3, 9], true).unwrap();
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
        assert!(blocks_condition(&[], true).is_none());
        // Blocks that fill their span need no list.
        assert_eq!(
            blocks_condition(&[4, 5, 7], true).unwrap(),
            format!("(seq BETWEEN {} AND {})", 4 * r, 8 * r - 1)
        );
        // Without the list, only the span.
        assert_eq!(
            blocks_condition(&[2, 3, 9], false).unwrap(),
            format!("(seq BETWEEN {} AND {})", 2 * r, 10 * r - 1)
        );
    }

    #[test]
    fn a_block_indexes_each_token_once_per_column_and_a_new_block_starts_afresh() {
        let mut open = OpenBlock::default();
        let first = open
            .rows_for([(1, &[(7u32, 0u8), (8, 2)][..]), (2, &[(8, 2), (9, 3)][..])].into_iter())
            .unwrap()
            .unwrap();
        assert_eq!(first.num_rows(), 3);
        assert!(open
            .rows_for([(3, &[(7u32, 0u8)][..])].into_iter())
            .unwrap()
            .is_none());
        // The same token first found in another column of a later event: one more row, for
        // that column only.
        let other_column = open
            .rows_for([(4, &[(7u32, 5u8)][..])].into_iter())
            .unwrap()
            .unwrap();
        assert_eq!(other_column.num_rows(), 1);
        let masks = other_column
            .column(2)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(masks.value(0), 1 << 5);
        let next = open
            .rows_for([(BLOCK_ROWS, &[(7u32, 0u8)][..])].into_iter())
            .unwrap()
            .unwrap();
        assert_eq!(next.num_rows(), 1);
        open.forget();
        assert!(open
            .rows_for([(BLOCK_ROWS + 1, &[(7u32, 0u8)][..])].into_iter())
            .unwrap()
            .is_some());
    }
}
