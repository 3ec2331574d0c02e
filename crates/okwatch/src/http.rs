//! Serving HTTP connections for `okwatch serve` and `okwatch demo`, so that no client can hold
//! the server: request headers must arrive within [`HEADER_TIMEOUT`], a request body may not
//! stall for longer than [`BODY_IDLE`], and connections are capped below the process's file
//! limit. At the cap, the oldest connection with no request in progress (idle, or still
//! sending its headers slowly) is closed to make room, so a new client (a health check) is
//! always served while many half-open connections sit on the server. A stop lets requests in
//! progress finish for [`STOP_GRACE`] and then closes everything left.

use axum::extract::ConnectInfo;
use axum::Router;
use http_body::{Body, Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tower_service::Service;

/// How long a client has to send a request's headers (and how long a connection may idle
/// between requests).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request body may go without sending anything.
pub const BODY_IDLE: Duration = Duration::from_secs(20);
/// How long a stop waits for requests in progress.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// File descriptors kept for everything but client connections (the store, Okta, SMTP…).
const FD_RESERVE: usize = 128;

/// One connection, as the cap sees it.
struct Conn {
    /// Requests in progress (until their response's body is sent).
    busy: AtomicUsize,
    /// Closes it (it was the oldest idle one at the cap).
    evict: Notify,
}

/// The live connections, oldest first.
#[derive(Default)]
struct Conns {
    next: AtomicUsize,
    live: Mutex<BTreeMap<usize, Arc<Conn>>>,
}

impl Conns {
    /// Registers a new connection; at `cap`, closes the oldest one with nothing in progress.
    fn admit(&self, cap: usize) -> (usize, Arc<Conn>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            evict: Notify::new(),
        });
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if live.len() >= cap {
            let idle = live
                .iter()
                .find(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
                .map(|(id, _)| *id);
            if let Some(oldest) = idle.and_then(|id| live.remove(&id)) {
                oldest.evict.notify_one();
            }
        }
        live.insert(id, conn.clone());
        (id, conn)
    }

    fn gone(&self, id: usize) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
}

/// The most client connections: the open-file limit less a reserve.
fn connection_cap() -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse::<usize>().ok())
        })
        .unwrap_or(1024);
    limit.saturating_sub(FD_RESERVE).clamp(32, 65_536)
}

/// Serves `app` on `listener` until `stop` resolves; then stops accepting, lets requests in
/// progress finish for [`STOP_GRACE`], and closes what is left.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stopping, stopped) = watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stopping.send(true);
    });
    let conns = Arc::new(Conns::default());
    let cap = connection_cap();
    let mut tasks = tokio::task::JoinSet::new();
    let mut until_stop = stopped.clone();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = until_stop.wait_for(|s| *s) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: pause rather than spin.
                tracing::warn!("accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (id, conn) = conns.admit(cap);
        let (app, conns, stopped) = (app.clone(), conns.clone(), stopped.clone());
        tasks.spawn(async move {
            connection(stream, peer, app, &conn, stopped).await;
            conns.gone(id);
        });
        // Finished connections leave the set as they end.
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    let closing = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(STOP_GRACE + Duration::from_secs(1), closing)
        .await
        .is_err()
    {
        tasks.abort_all();
    }
    Ok(())
}

/// One client connection, until it ends, is evicted, or the server stops.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    conn: &Arc<Conn>,
    mut stopped: watch::Receiver<bool>,
) {
    let tracked = conn.clone();
    let service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let busy = Busy::start(tracked.clone());
            let mut request = request.map(|body| axum::body::Body::new(Timed::new(body)));
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut app = app.clone();
            async move {
                let response = app.call(request).await?;
                // Busy until the whole body is sent (an export streams for minutes).
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| axum::body::Body::new(Guarded { body, _busy: busy })),
                )
            }
        });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let served = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(served);
    tokio::select! {
        _ = served.as_mut() => return,
        _ = conn.evict.notified() => return,
        _ = stopped.wait_for(|s| *s) => {}
    }
    // Stopping: an idle or half-sent connection closes now; a request in progress gets the
    // grace period.
    served.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(STOP_GRACE, served).await;
}

/// A request in progress on a connection, from its headers to its response's last byte.
struct Busy(Arc<Conn>);

impl Busy {
    fn start(conn: Arc<Conn>) -> Busy {
        conn.busy.fetch_add(1, Ordering::AcqRel);
        Busy(conn)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection counted as busy.
struct Guarded {
    body: axum::body::Body,
    _busy: Busy,
}

impl Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body that fails when the client sends nothing for [`BODY_IDLE`].
struct Timed {
    body: hyper::body::Incoming,
    idle: Pin<Box<tokio::time::Sleep>>,
}

impl Timed {
    fn new(body: hyper::body::Incoming) -> Timed {
        Timed {
            body,
            idle: Box::pin(tokio::time::sleep(BODY_IDLE)),
        }
    }
}

/// Why a request body was cut off.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("the request body stalled for {0:?}")]
    Stalled(Duration),
    #[error(transparent)]
    Read(#[from] hyper::Error),
}

impl Body for Timed {
    type Data = axum::body::Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                let deadline = tokio::time::Instant::now() + BODY_IDLE;
                self.idle.as_mut().reset(deadline);
                Poll::Ready(frame.map(|f| f.map_err(BodyError::from)))
            }
            Poll::Pending => match self.idle.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::Stalled(BODY_IDLE)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let conns = Conns::default();
        let (first, a) = conns.admit(2);
        let _busy = Busy::start(a.clone());
        let (second, _b) = conns.admit(2);
        let (_third, _c) = conns.admit(2);
        let live = conns.live.lock().unwrap();
        assert!(live.contains_key(&first), "busy connections are kept");
        assert!(!live.contains_key(&second), "the oldest idle one made room");
        assert_eq!(live.len(), 2);
    }

    #[test]
    fn the_cap_follows_the_file_limit() {
        assert!(connection_cap() >= 32);
    }
}
