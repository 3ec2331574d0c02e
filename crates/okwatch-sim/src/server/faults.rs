//! Faults a collector must survive, switched on per kind with a probability each:
//! `5xx` (a 500 with Okta's error body), `slow` (an answer 2–6 s late), `drop` (the connection
//! breaks in the middle of the body), `late` (events become visible minutes after they were
//! published), `duplicates` (a polling page repeats events the previous page already had).

use crate::rng::Rng;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use okwatch_okta::OktaError;
use okwatch_store::Cursor;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Probabilities per request (per event for `late`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// A 500 instead of the answer.
    pub server_error: f64,
    /// The answer after 2–6 seconds.
    pub slow: f64,
    /// The connection breaks after part of the body.
    pub drop: f64,
    /// An event is committed 1–5 minutes after it was published.
    pub late: f64,
    /// A polling page starts up to 5 events before its cursor.
    pub duplicates: f64,
}

/// A `--faults` value that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("--faults: {0}")]
pub struct FaultsError(String);

impl std::str::FromStr for Faults {
    type Err = FaultsError;

    /// `5xx=0.05,slow=0.1,drop=0.02,late=0.1,duplicates=0.05`; empty means none.
    fn from_str(text: &str) -> Result<Faults, FaultsError> {
        let mut faults = Faults::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, p) = part
                .split_once('=')
                .ok_or_else(|| FaultsError(format!("'{part}' is not NAME=PROBABILITY")))?;
            let p: f64 = p
                .trim()
                .parse()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| FaultsError(format!("'{p}' is not a probability from 0 to 1")))?;
            let slot = match name.trim() {
                "5xx" => &mut faults.server_error,
                "slow" => &mut faults.slow,
                "drop" => &mut faults.drop,
                "late" => &mut faults.late,
                "duplicates" => &mut faults.duplicates,
                other => {
                    return Err(FaultsError(format!(
                        "unknown fault '{other}'; known: 5xx, slow, drop, late, duplicates"
                    )))
                }
            };
            *slot = p;
        }
        Ok(faults)
    }
}

/// The fault switches and their dice.
pub struct FaultInjector {
    /// The switches.
    pub faults: Faults,
    rng: Mutex<Rng>,
}

impl FaultInjector {
    /// Faults drawn from `seed`.
    pub fn new(faults: Faults, seed: u64) -> FaultInjector {
        FaultInjector {
            faults,
            rng: Mutex::new(Rng::new(seed, 0xfa17)),
        }
    }

    /// Whether an event of probability `p` happens now.
    pub fn roll(&self, p: f64) -> bool {
        p > 0.0 && self.rng.lock().unwrap_or_else(|e| e.into_inner()).chance(p)
    }

    /// A whole number in `lo..=hi`.
    pub fn between(&self, lo: u64, hi: u64) -> u64 {
        self.rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .range(lo, hi)
    }
}

/// A body that sends its first half and then fails, which makes the server abort the
/// connection mid-response.
struct BrokenBody {
    first: Option<Bytes>,
}

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(match self.first.take() {
            Some(bytes) => Ok(http_body::Frame::data(bytes)),
            None => Err(std::io::Error::other("simulated dropped connection")),
        }))
    }
}

/// Applies the request faults to the API (the System Log and the management API alike).
pub async fn inject(
    State(injector): State<Arc<FaultInjector>>,
    mut request: Request,
    next: Next,
) -> Response {
    let f = injector.faults;
    if injector.roll(f.server_error) {
        return OktaError::internal().into_response();
    }
    if injector.roll(f.slow) {
        let ms = injector.between(2_000, 6_000);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    if injector.roll(f.duplicates) {
        if let Some(uri) = step_back(request.uri(), injector.between(1, 5) as i64) {
            *request.uri_mut() = uri;
        }
    }
    let response = next.run(request).await;
    if response.status().is_success() && injector.roll(f.drop) {
        let (parts, body) = response.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
            return OktaError::internal().into_response();
        };
        let half = bytes.slice(..bytes.len() / 2);
        let mut parts = parts;
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::new(BrokenBody { first: Some(half) }));
    }
    response
}

/// The request with its polling cursor moved back by `by` events, so the page repeats some.
fn step_back(uri: &axum::http::Uri, by: i64) -> Option<axum::http::Uri> {
    let query = uri.query()?;
    let mut changed = false;
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match pair.strip_prefix("after=") {
            Some(text) => match Cursor::decode(text) {
                Ok(c) => {
                    changed = true;
                    let moved = Cursor {
                        seq: (c.seq - by).max(0),
                        ..c
                    };
                    format!("after={}", moved.encode())
                }
                Err(_) => pair.to_string(),
            },
            None => pair.to_string(),
        })
        .collect();
    if !changed || query.contains("until=") {
        return None;
    }
    format!("{}?{}", uri.path(), parts.join("&")).parse().ok()
}
