//! Imports System Log exports into the store.
//!
//! Accepts NDJSON (one event a line), a JSON array as `/api/v1/logs` returns it, an Event Hook
//! delivery (`{"data": {"events": [...]}}`), each optionally gzip-compressed (detected from the
//! content, not the name), from a file or standard input. Reading and parsing run on their own
//! thread while the store appends, so both cores work.
//!
//! A line that is not a storable event never stops an import: it is reported as
//! `FILE:LINE: reason`, written whole to a rejects file, and the rest goes on.

use flate2::read::MultiGzDecoder;
use okwatch_store::{EventBatch, EventRow, Store, StoreError};
use serde_json::Value;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// Where events come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file.
    File(PathBuf),
    /// Standard input.
    Stdin,
}

impl Source {
    /// `-` means standard input.
    pub fn from_arg(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::File(PathBuf::from(arg))
        }
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".into(),
        }
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The org the events belong to.
    pub org: String,
    /// Events per store transaction.
    pub batch_size: usize,
    /// Where rejected lines are written (created only if something is rejected).
    pub rejects_path: PathBuf,
}

/// One line that could not be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// The file.
    pub source: String,
    /// 1-based line number where the event starts.
    pub line: u64,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.reason)
    }
}

/// Progress, reported after each stored batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Compressed or plain bytes read from the source so far.
    pub bytes_read: u64,
    /// Total size of the source, when known.
    pub bytes_total: Option<u64>,
    /// Events read so far.
    pub events_read: u64,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Events read.
    pub read: u64,
    /// Events newly stored.
    pub stored: u64,
    /// Events already in the store.
    pub duplicates: u64,
    /// Lines refused.
    pub rejected: u64,
    /// The rejects file, if anything was rejected.
    pub rejects_file: Option<PathBuf>,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The source could not be read.
    #[error("reading {source_name}: {error}")]
    Read {
        /// Which source.
        source_name: String,
        /// The I/O error.
        #[source]
        error: io::Error,
    },
    /// The rejects file could not be written.
    #[error("writing rejected lines to {path}: {error}")]
    Rejects {
        /// Where.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// One of the import's threads panicked; the input after the last stored batch was not
    /// imported.
    #[error(
        "the import's {worker} thread failed ({message}); events stored before it stay stored, \
         the rest of the input was not imported"
    )]
    Worker {
        /// Which thread: `splitter` or `parser`.
        worker: &'static str,
        /// The panic's message.
        message: String,
    },
}

/// Counts bytes as they are read, for progress.
struct Counting<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// A parser thread's batch: events encoded for the store, and the lines it refused.
struct Encoded {
    events: u64,
    batch: Result<EventBatch, StoreError>,
    rejects: Vec<(u64, String, String)>,
}

fn encode(parsed: Vec<Parsed>) -> Encoded {
    let events = parsed.len() as u64;
    let mut rows = Vec::with_capacity(parsed.len());
    let mut rejects = Vec::new();
    for p in parsed {
        match p {
            Parsed::Row(row) => rows.push(row),
            Parsed::Reject { line, reason, text } => rejects.push((line, reason, text)),
        }
    }
    Encoded {
        events,
        batch: EventBatch::encode(rows),
        rejects,
    }
}

/// A parsed line: an event ready to store, or a rejection with the raw text.
enum Parsed {
    Row(EventRow),
    Reject {
        line: u64,
        reason: String,
        text: String,
    },
}

/// Splits a JSON text into top-level values, tracking the line each starts on. Used for JSON
/// arrays, which may be pretty-printed over many lines.
struct ArrayElements<R> {
    reader: R,
    line: u64,
    started: bool,
    done: bool,
}

impl<R: BufRead> ArrayElements<R> {
    fn next_byte(&mut self) -> io::Result<Option<u8>> {
        let buf = self.reader.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.reader.consume(1);
        if b == b'\n' {
            self.line += 1;
        }
        Ok(Some(b))
    }

    /// The next element's text and starting line, or `None` at the closing bracket.
    fn next_element(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        if self.done {
            return Ok(None);
        }
        loop {
            let Some(b) = self.next_byte()? else {
                self.done = true;
                return Ok(None);
            };
            match b {
                b'[' if !self.started => self.started = true,
                b']' => {
                    self.done = true;
                    return Ok(None);
                }
                b',' | b' ' | b'\t' | b'\r' | b'\n' => {}
                first => {
                    let start_line = self.line;
                    let mut text = vec![first];
                    let (mut depth, mut in_string, mut escaped) = (0i64, first == b'"', false);
                    if first == b'{' || first == b'[' {
                        depth = 1;
                    }
                    while depth > 0 || in_string {
                        let Some(b) = self.next_byte()? else { break };
                        text.push(b);
                        if in_string {
                            match (escaped, b) {
                                (true, _) => escaped = false,
                                (false, b'\\') => escaped = true,
                                (false, b'"') => in_string = false,
                                _ => {}
                            }
                            continue;
                        }
                        match b {
                            b'"' => in_string = true,
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' => depth -= 1,
                            _ => {}
                        }
                    }
                    if first != b'{' && first != b'[' && first != b'"' {
                        // A bare scalar: read up to the next separator.
                        while let Some(&b) = self.reader.fill_buf()?.first() {
                            if matches!(b, b',' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                                break;
                            }
                            text.push(b);
                            self.reader.consume(1);
                        }
                    }
                    return Ok(Some((start_line, text)));
                }
            }
        }
    }
}

fn open(
    source: &Source,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> io::Result<(Box<dyn BufRead + Send>, Option<u64>)> {
    let (raw, total): (Box<dyn Read + Send>, Option<u64>) = match source {
        Source::File(path) => {
            let file = File::open(path)?;
            let total = file.metadata().ok().map(|m| m.len());
            (Box::new(file), total)
        }
        Source::Stdin => (Box::new(io::stdin()), None),
    };
    let mut buffered = BufReader::with_capacity(1 << 20, Counting { inner: raw, count });
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            1 << 20,
            MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    };
    Ok((reader, total))
}

/// The events inside one parsed JSON value: the value itself, or a hook delivery's events.
fn events_of(value: Value) -> Vec<Value> {
    match value {
        Value::Object(mut map)
            if map.get("eventType").and_then(Value::as_str) == Some("com.okta.event_hook") =>
        {
            match map
                .remove("data")
                .and_then(|mut d| d.get_mut("events").map(Value::take))
            {
                Some(Value::Array(events)) => events,
                _ => Vec::new(),
            }
        }
        Value::Array(items) => items,
        other => vec![other],
    }
}

/// Parser threads. Two keep both cores of a small machine busy while the store appends.
const PARSERS: usize = 2;

/// A numbered run of input texts (lines, or array elements) for a parser thread.
struct Chunk {
    index: u64,
    text: Vec<u8>,
    /// Each item's starting line and its bytes in `text`.
    items: Vec<(u64, std::ops::Range<usize>)>,
}

impl Chunk {
    fn new(index: u64, batch_size: usize) -> Chunk {
        Chunk {
            index,
            text: Vec::with_capacity(batch_size * 2048),
            items: Vec::with_capacity(batch_size),
        }
    }
}

/// Appends the next item's text to the buffer and returns the line it starts on.
type NextItem = dyn FnMut(&mut Vec<u8>) -> io::Result<Option<u64>>;

/// Cuts the input into chunks of `batch_size` items: NDJSON lines, or the elements of a JSON
/// array. An error carries the index of the chunk it interrupted, so that everything before it
/// is still stored.
fn split(
    mut reader: Box<dyn BufRead + Send>,
    batch_size: usize,
    out: &mpsc::SyncSender<Chunk>,
) -> Result<(), (u64, io::Error)> {
    let first = match reader.fill_buf() {
        Ok(buf) => buf.iter().find(|b| !b.is_ascii_whitespace()).copied(),
        Err(e) => return Err((0, e)),
    };
    let mut chunk = Chunk::new(0, batch_size);
    let mut next_item: Box<NextItem> = if first == Some(b'[') {
        let mut elements = ArrayElements {
            reader,
            line: 1,
            started: false,
            done: false,
        };
        Box::new(move |text| {
            Ok(elements.next_element()?.map(|(line, element)| {
                text.extend_from_slice(&element);
                line
            }))
        })
    } else {
        let mut line_no = 0u64;
        Box::new(move |text| loop {
            let start = text.len();
            if reader.read_until(b'\n', text)? == 0 {
                return Ok(None);
            }
            line_no += 1;
            if text[start..].iter().all(u8::is_ascii_whitespace) {
                text.truncate(start);
                continue;
            }
            return Ok(Some(line_no));
        })
    };
    loop {
        let start = chunk.text.len();
        match next_item(&mut chunk.text) {
            Ok(Some(line)) => chunk.items.push((line, start..chunk.text.len())),
            Ok(None) => break,
            Err(e) => {
                let index = chunk.index;
                if !chunk.items.is_empty() {
                    let _ = out.send(chunk);
                    return Err((index + 1, e));
                }
                return Err((index, e));
            }
        }
        if chunk.items.len() >= batch_size {
            let index = chunk.index + 1;
            let full = std::mem::replace(&mut chunk, Chunk::new(index, batch_size));
            if out.send(full).is_err() {
                return Ok(());
            }
        }
    }
    if !chunk.items.is_empty() {
        let _ = out.send(chunk);
    }
    Ok(())
}

fn parse_text(org: &str, line: u64, text: &[u8], out: &mut Vec<Parsed>) {
    let reject = |reason: String| Parsed::Reject {
        line,
        reason,
        text: String::from_utf8_lossy(text).into_owned(),
    };
    match serde_json::from_slice::<Value>(text) {
        Err(e) => out.push(reject(format!("not valid JSON: {e}"))),
        Ok(value) => {
            for event in events_of(value) {
                match EventRow::decompose(org, event) {
                    Ok(row) => out.push(Parsed::Row(row)),
                    Err(e) => out.push(reject(e.to_string())),
                }
            }
        }
    }
}

/// Reads `source` and stores its events, calling `on_reject` for each refused line and
/// `on_progress` after each batch.
pub fn import(
    source: &Source,
    store: &dyn Store,
    options: &ImportOptions,
    mut on_reject: impl FnMut(&Rejection),
    mut on_progress: impl FnMut(Progress),
) -> Result<ImportSummary, ImportError> {
    let read_error = |error| ImportError::Read {
        source_name: source.name(),
        error,
    };
    let bytes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (reader, bytes_total) = open(source, bytes.clone()).map_err(read_error)?;
    let (chunk_tx, chunk_rx) = mpsc::sync_channel::<Chunk>(PARSERS * 2);
    let (tx, rx) = mpsc::sync_channel::<(u64, io::Result<Encoded>)>(PARSERS * 2);
    let batch_size = options.batch_size.max(1);
    let splitter = {
        let tx = tx.clone();
        std::thread::spawn(move || {
            if let Err((index, e)) = split(reader, batch_size, &chunk_tx) {
                let _ = tx.send((index, Err(e)));
            }
        })
    };
    // Parsing is most of an import's work, so it runs on every core; chunks are numbered and
    // stored in input order, so `seq` follows the file.
    let chunk_rx = std::sync::Arc::new(std::sync::Mutex::new(chunk_rx));
    let parsers: Vec<_> = (0..PARSERS)
        .map(|_| {
            let (chunk_rx, tx, org) = (chunk_rx.clone(), tx.clone(), options.org.clone());
            std::thread::spawn(move || loop {
                let next = chunk_rx.lock().map(|rx| rx.recv());
                let Ok(Ok(chunk)) = next else { return };
                let mut parsed = Vec::with_capacity(chunk.items.len());
                for (line, range) in &chunk.items {
                    parse_text(&org, *line, &chunk.text[range.clone()], &mut parsed);
                }
                if tx.send((chunk.index, Ok(encode(parsed)))).is_err() {
                    return;
                }
            })
        })
        .collect();
    drop(tx);
    let mut waiting = std::collections::BTreeMap::new();
    let mut next_index = 0u64;
    let in_order = std::iter::from_fn(move || loop {
        if let Some(message) = waiting.remove(&next_index) {
            next_index += 1;
            return Some(message);
        }
        let (index, message) = rx.recv().ok()?;
        waiting.insert(index, message);
    });

    let mut summary = ImportSummary::default();
    let mut rejects: Option<BufWriter<File>> = None;
    let rejects_error = |error| ImportError::Rejects {
        path: options.rejects_path.clone(),
        error,
    };
    let source_name = source.name();
    let mut outcome = Ok(());
    for message in in_order {
        let encoded = match message {
            Ok(encoded) => encoded,
            Err(e) => {
                outcome = Err(read_error(e));
                break;
            }
        };
        summary.read += encoded.events;
        for (line, reason, text) in encoded.rejects {
            summary.rejected += 1;
            let rejection = Rejection {
                source: source_name.clone(),
                line,
                reason,
            };
            on_reject(&rejection);
            if rejects.is_none() {
                if let Some(dir) = options.rejects_path.parent() {
                    std::fs::create_dir_all(dir).map_err(rejects_error)?;
                }
                let file = File::create(&options.rejects_path).map_err(rejects_error)?;
                rejects = Some(BufWriter::new(file));
                summary.rejects_file = Some(options.rejects_path.clone());
            }
            let record = serde_json::json!({
                "source": rejection.source, "line": rejection.line,
                "reason": rejection.reason, "text": text.trim_end(),
            });
            let writer = rejects.as_mut().expect("opened above");
            writeln!(writer, "{record}").map_err(rejects_error)?;
        }
        let batch = match encoded.batch {
            Ok(batch) => batch,
            Err(e) => {
                outcome = Err(e.into());
                break;
            }
        };
        match store.insert(batch) {
            Ok(done) => {
                summary.stored += done.stored;
                summary.duplicates += done.duplicates;
            }
            Err(e) => {
                outcome = Err(e.into());
                break;
            }
        }
        on_progress(Progress {
            bytes_read: bytes.load(std::sync::atomic::Ordering::Relaxed),
            bytes_total,
            events_read: summary.read,
        });
    }
    if let Some(mut writer) = rejects {
        writer.flush().map_err(rejects_error)?;
    }
    // A store error drops the receiver, which ends the parsers at their next send and then the
    // splitter at its next send.
    let mut workers: Vec<_> = parsers.into_iter().map(|p| ("parser", p)).collect();
    workers.push(("splitter", splitter));
    let joined = join_workers(workers);
    outcome?;
    joined?;
    Ok(summary)
}

/// Waits for the import's threads. A panic in one is an error: the chunk it held was never
/// sent, so the in-order loop above ended early and would otherwise report a partial import as
/// complete.
fn join_workers(
    workers: Vec<(&'static str, std::thread::JoinHandle<()>)>,
) -> Result<(), ImportError> {
    let mut first_failure = Ok(());
    for (worker, handle) in workers {
        if let Err(payload) = handle.join() {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panicked".into());
            if first_failure.is_ok() {
                first_failure = Err(ImportError::Worker { worker, message });
            }
        }
    }
    first_failure
}

/// A rejects file name for an import started now from `source`.
pub fn rejects_path_for(data_dir: &Path, source: &Source) -> PathBuf {
    let stem = match source {
        Source::File(p) => p
            .file_name()
            .map(|n| {
                n.to_string_lossy().replace(
                    |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
                    "_",
                )
            })
            .unwrap_or_else(|| "file".into()),
        Source::Stdin => "stdin".into(),
    };
    let stamp = chrono_like_stamp();
    data_dir
        .join("rejects")
        .join(format!("{stamp}-{stem}.rejects.ndjson"))
}

fn chrono_like_stamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("{now}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_panicked_fails_the_import_and_says_why() {
        let finished = std::thread::spawn(|| {});
        let panicked = std::thread::spawn(|| panic!("index out of bounds"));
        let err = join_workers(vec![("parser", finished), ("parser", panicked)]).unwrap_err();
        match &err {
            ImportError::Worker { worker, message } => {
                assert_eq!(*worker, "parser");
                assert_eq!(message, "index out of bounds");
            }
            other => panic!("expected a worker error, got {other:?}"),
        }
        assert!(err.to_string().contains("was not imported"), "{err}");
        let formatted = std::thread::spawn(|| panic!("chunk {} lost", 7));
        let err = join_workers(vec![("splitter", formatted)]).unwrap_err();
        assert!(err.to_string().contains("chunk 7 lost"), "{err}");
        assert!(join_workers(vec![("parser", std::thread::spawn(|| {}))]).is_ok());
    }
}
