//! The accept loop for plain HTTP and HTTPS, with the limits a server on the open internet
//! needs against clients that never finish (RELIABILITY.md, "Hardening"):
//!
//! - **connections**: at most [`Limits::max_connections`] at once, and at most
//!   [`Limits::max_connections_per_address`] from one address (generous: a township's phones
//!   may share one carrier-grade NAT address); a connection over either is closed at once,
//!   before any byte is read, so that it costs no task and no buffer;
//! - **TLS handshake**: a ClientHello and the rest of the handshake within
//!   [`Limits::tls_handshake_timeout`];
//! - **request line and headers**: within [`Limits::header_timeout`], measured from when the
//!   server starts waiting for them: the first request of a connection and every later one on
//!   a kept-alive connection (hyper's header read timeout, which needs the timer set here), so
//!   an idle kept-alive connection is closed after the same time; headers hold at most
//!   [`MAX_HEADER_BYTES`];
//! - **writes**: a response the client stops reading fails after [`Limits::write_timeout`]
//!   without progress ([`WriteDeadline`]); reads of a body are bounded where the handlers run
//!   (`tower_http`'s body timeout in the router, reset by every chunk that arrives).
//!
//! Each connection runs on its own task; on shutdown the server stops accepting and waits for
//! the requests in flight (hyper-util's graceful shutdown), for both schemes.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::config::Config;

/// The largest request head (request line and headers) read, in bytes.
pub(crate) const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The connection limits of the module docs, from the config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub tls_handshake_timeout: Duration,
    pub header_timeout: Duration,
    pub write_timeout: Duration,
}

impl Limits {
    pub(crate) fn of(config: &Config) -> Limits {
        Limits {
            max_connections: config.max_connections.max(1),
            max_connections_per_address: config.max_connections_per_address.max(1),
            tls_handshake_timeout: Duration::from_secs(config.tls_handshake_timeout_secs.max(1)),
            header_timeout: Duration::from_secs(config.header_timeout_secs.max(1)),
            write_timeout: Duration::from_secs(config.write_timeout_secs.max(1)),
        }
    }
}

/// The address a request came from, put in each request's extensions by the accept loop
/// (absent when the router is called without it, as in unit tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerAddr(pub SocketAddr);

/// Open connections, in all and per address.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// A connection's place in [`Open`], given back when it ends.
struct Slot {
    open: Arc<Mutex<Open>>,
    address: IpAddr,
}

impl Slot {
    /// A place for a connection from `address`, if the limits leave one.
    fn take(open: &Arc<Mutex<Open>>, address: IpAddr, limits: &Limits) -> Option<Slot> {
        let mut o = open.lock().unwrap_or_else(|p| p.into_inner());
        let from_address = o.by_address.get(&address).copied().unwrap_or(0);
        if o.total >= limits.max_connections || from_address >= limits.max_connections_per_address {
            return None;
        }
        o.total += 1;
        *o.by_address.entry(address).or_insert(0) += 1;
        Some(Slot {
            open: open.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|p| p.into_inner());
        o.total = o.total.saturating_sub(1);
        if let Some(n) = o.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                o.by_address.remove(&self.address);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown`, over TLS when `tls` is given, within `limits`.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = Slot::take(&open, peer.ip(), &limits) else {
            metrics::counter!("cunji_connections_refused_total").increment(1);
            tracing::debug!(%peer, "connection refused: too many open");
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                req.extensions_mut().insert(PeerAddr(peer));
                tower::ServiceExt::oneshot(app.clone(), req)
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .max_buf_size(MAX_HEADER_BYTES);
            let io = WriteDeadline::new(tcp, limits.write_timeout);
            let result = match acceptor {
                None => {
                    let conn = builder.serve_connection(TokioIo::new(io), service);
                    watcher.watch(conn).await
                }
                Some(acceptor) => {
                    let stream = match tokio::time::timeout(
                        limits.tls_handshake_timeout,
                        acceptor.accept(io),
                    )
                    .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::info!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::info!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(conn).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A stream whose writes fail once one has made no progress for `timeout`: a client that
/// stops reading its response does not hold its connection for ever. Reads are left alone
/// (waiting for a request is bounded by hyper's header timeout, a body by the router's).
pub(crate) struct WriteDeadline<S> {
    inner: S,
    timeout: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteDeadline<S> {
    pub(crate) fn new(inner: S, timeout: Duration) -> WriteDeadline<S> {
        WriteDeadline {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// After a pending write: whether it has been pending for the whole timeout.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        let timeout = self.timeout;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        sleep.as_mut().poll(cx).is_ready()
    }

    fn timed_out() -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the client has not read its response",
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(Self::timed_out())),
            Poll::Pending => Poll::Pending,
            ready => {
                self.stalled = None;
                ready
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(Self::timed_out())),
            Poll::Pending => Poll::Pending,
            ready => {
                self.stalled = None;
                ready
            }
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_limited_in_all_and_per_address_and_given_back() {
        let limits = Limits {
            max_connections: 3,
            max_connections_per_address: 2,
            tls_handshake_timeout: Duration::from_secs(1),
            header_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(1),
        };
        let open = Arc::new(Mutex::new(Open::default()));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = Slot::take(&open, a, &limits).unwrap();
        let _a2 = Slot::take(&open, a, &limits).unwrap();
        assert!(
            Slot::take(&open, a, &limits).is_none(),
            "a third from one address"
        );
        let _b1 = Slot::take(&open, b, &limits).unwrap();
        assert!(Slot::take(&open, b, &limits).is_none(), "a fourth in all");
        drop(a1);
        assert!(Slot::take(&open, b, &limits).is_some(), "a slot given back");
    }
}
