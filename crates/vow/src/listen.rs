//! `vow serve`'s connections: one accept loop of our own, so that clients that
//! connect and then say nothing, or too little too slowly, cannot hold the server.
//!
//! - **A cap on connections, with a reserve for health checks.** Up to `max`
//!   connections are served in full. The next `health_reserve` are served too, but
//!   they reach only `/healthz`, `/livez` and `/metrics` (`vow_server::reserve`);
//!   beyond those, a connection is closed as soon as it is accepted. A connection is
//!   judged once, when it is accepted: one from the reserve stays so.
//! - **A cap per client address** (`per_address`; an IPv6 client counts by its /64):
//!   over it, the connection is closed at once. Behind a reverse proxy every
//!   connection comes from the proxy, so the proxy must apply its own.
//! - **Timeouts, kept by a watchdog per connection** over what its socket does
//!   ([`Activity`]): a request's head must be complete within `header_timeout` of
//!   its first byte, and a new connection's first request within `header_timeout` of
//!   the connection (after the TLS handshake, which has `header_timeout` of its
//!   own); a connection with no request in progress is closed after
//!   `idle_timeout`, and so is one whose client takes none of a response for
//!   `idle_timeout`. A request's body is read within the router's 30-second request
//!   timeout. An HTTP/2 connection is closed after `idle_timeout` without a request;
//!   its frames between requests are not a request's head.
//! - **Shutdown** stops accepting, lets each connection finish what it is doing, and
//!   gives up on those still open after [`DRAIN`].
//!
//! Client addresses are personal data: they are counted, never logged.

use crate::common::bad;
use crate::config::ConnectionConfig;
use anyhow::{Context, Result};
use axum::Router;
use http_body_util::BodyExt as _;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// How long connections may take to finish once shutdown begins.
pub const DRAIN: Duration = Duration::from_secs(30);

/// Open files beyond the connections: the database, the log, webhook and SMTP
/// connections.
const FILE_HEADROOM: u64 = 128;

/// The TLS configuration from PEM files. The private key is refused when group or
/// others can read it (a configuration error: exit 2).
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key_pem = vow_crypto::read_private_key_file(key).map_err(|e| match e {
        vow_crypto::CryptoError::KeyFile(m) => bad(format!("the TLS private key {m}")),
        e => bad(format!("the TLS private key: {e}")),
    })?;
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            bad(format!(
                "reading the TLS certificate {}: {e}",
                cert.display()
            ))
        })?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        bad(format!(
            "reading the TLS private key {}: {e}",
            key.display()
        ))
    })?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .with_context(|| {
            format!(
                "loading TLS certificate {} and key {}",
                cert.display(),
                key.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on `listener` until `signal`, then drains (up to [`DRAIN`]).
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: ConnectionConfig,
    signal: impl Future<Output = ()>,
) -> Result<()> {
    raise_open_file_limit(&limits);
    let listener = TcpListener::from_std(listener)?;
    let gate = Arc::new(Gate {
        limits,
        open: Mutex::new(Open::default()),
    });
    let (stop_tx, stop_rx) = watch::channel(());
    // Every connection's task holds a sender; when all are gone, all have finished.
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    let mut last_warning: Option<Instant> = None;
    tokio::pin!(signal);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = &mut signal => break,
        };
        let (tcp, peer) = match accepted {
            Ok(c) => c,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors, most likely: say so now and then, and let
                // connections close before trying again.
                if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    tracing::warn!(error = %e, "cannot accept connections");
                    last_warning = Some(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (slot, reserve) = match gate.admit(peer.ip()) {
            Admission::Refused(reason) => {
                metrics::counter!("vow_connections_refused_total", "reason" => reason).increment(1);
                drop(tcp);
                continue;
            }
            Admission::Full(slot) => (slot, false),
            Admission::Reserve(slot) => {
                metrics::counter!("vow_connections_reserve_total").increment(1);
                (slot, true)
            }
        };
        let _ = tcp.set_nodelay(true);
        let (app, tls, stop, alive) = (app.clone(), tls.clone(), stop_rx.clone(), alive_tx.clone());
        tokio::spawn(async move {
            // Both are held until the connection ends.
            let (slot, _alive) = (slot, alive);
            let limits = &slot.gate.limits;
            let Some(acceptor) = tls else {
                return drive(tcp, peer, app, reserve, limits, stop).await;
            };
            match tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => drive(stream, peer, app, reserve, limits, stop).await,
                Ok(Err(_)) | Err(_) => closed("tls_handshake"),
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(());
    drop(alive_tx);
    if tokio::time::timeout(DRAIN, alive_rx.recv()).await.is_err() {
        tracing::warn!(
            seconds = DRAIN.as_secs(),
            "connections still open after the drain time; closing them"
        );
    }
    Ok(())
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

fn closed(reason: &'static str) {
    metrics::counter!("vow_connections_closed_total", "reason" => reason).increment(1);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ------------------------------------------------------------------ the caps

/// The open connections, in all and per client address.
struct Gate {
    limits: ConnectionConfig,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    full: usize,
    reserve: usize,
    by_address: HashMap<IpAddr, usize>,
}

impl Open {
    fn publish(&self) {
        metrics::gauge!("vow_connections_open").set((self.full + self.reserve) as f64);
    }
}

enum Admission {
    Full(Slot),
    Reserve(Slot),
    Refused(&'static str),
}

/// One admitted connection; dropping it frees its place.
struct Slot {
    gate: Arc<Gate>,
    address: IpAddr,
    reserve: bool,
}

impl Gate {
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Admission {
        let address = address_key(peer);
        let mut open = lock(&self.open);
        let reserve = open.full >= self.limits.max;
        if reserve && open.reserve >= self.limits.health_reserve {
            return Admission::Refused("capacity");
        }
        let mine = open.by_address.entry(address).or_insert(0);
        if *mine >= self.limits.per_address {
            return Admission::Refused("per_address");
        }
        *mine += 1;
        if reserve {
            open.reserve += 1;
        } else {
            open.full += 1;
        }
        open.publish();
        let slot = Slot {
            gate: Arc::clone(self),
            address,
            reserve,
        };
        if reserve {
            Admission::Reserve(slot)
        } else {
            Admission::Full(slot)
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = lock(&self.gate.open);
        if self.reserve {
            open.reserve = open.reserve.saturating_sub(1);
        } else {
            open.full = open.full.saturating_sub(1);
        }
        if let Some(n) = open.by_address.get_mut(&self.address) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.by_address.remove(&self.address);
            }
        }
        open.publish();
    }
}

/// The address a connection is counted under: IPv4 as is (also when mapped into
/// IPv6), IPv6 by its /64, since one host usually holds a whole /64.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut s = v6.segments();
            s[4..].fill(0);
            IpAddr::V6(Ipv6Addr::from(s))
        }
        v4 => v4,
    }
}

/// Raises the soft limit on open files to what the caps need, within the hard
/// limit (a service manager's default soft limit is often 1,024), and warns when
/// the hard limit is lower.
#[cfg(unix)]
fn raise_open_file_limit(limits: &ConnectionConfig) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let want = (limits.max as u64)
        .saturating_add(limits.health_reserve as u64)
        .saturating_add(FILE_HEADROOM);
    let now = getrlimit(Resource::Nofile);
    // None is "unlimited".
    let Some(soft) = now.current.filter(|soft| *soft < want) else {
        return;
    };
    let target = now.maximum.map_or(want, |hard| hard.min(want));
    let raised = target > soft
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: now.maximum,
            },
        )
        .is_ok();
    let limit = if raised { target } else { soft };
    if limit < want {
        tracing::warn!(
            open_files = limit,
            needed = want,
            "the open-file limit is lower than [connections] max + health_reserve need: raise it (LimitNOFILE= in a systemd unit, ulimit -n) or lower max"
        );
    }
}

#[cfg(not(unix))]
fn raise_open_file_limit(_limits: &ConnectionConfig) {}

// ------------------------------------------------------------------ one connection

/// Serves one connection (after its TLS handshake) until it ends, the watchdog ends
/// it, or shutdown has drained it.
async fn drive<T>(
    io: T,
    peer: SocketAddr,
    app: Router,
    reserve: bool,
    limits: &ConnectionConfig,
    mut stop: watch::Receiver<()>,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new(Instant::now()));
    let io = TokioIo::new(Watched {
        io,
        activity: Arc::clone(&activity),
    });
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            let busy = Busy::begin(&activity);
            if reserve {
                req.extensions_mut().insert(vow_server::FromReserve);
            }
            // The client's address, for per-address limits and security events (the
            // pages' forms, keyless attempts); never stored.
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let app = app.clone();
            async move {
                let Ok(res) = app.oneshot(req.map(axum::body::Body::new)).await;
                // The request counts as in progress until its body has been sent.
                Ok::<_, Infallible>(res.map(|body| {
                    axum::body::Body::new(body.map_frame(move |frame| {
                        let _ = &busy;
                        frame
                    }))
                }))
            }
        })
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's own header timeout would also count the wait between requests; the
    // watchdog below counts from a request's first byte instead.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None);
    builder.http2().timer(TokioTimer::new());
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        // Closing: an HTTP/1 connection with no request in progress (idle, or a head
        // not yet complete) has nothing to finish.
        if draining && activity.quiet_http1() {
            return;
        }
        let wake = match activity.verdict(Instant::now(), limits) {
            Verdict::Close(reason) => return closed(reason),
            Verdict::Idle if !draining => {
                closed("idle");
                conn.as_mut().graceful_shutdown();
                draining = true;
                continue;
            }
            Verdict::Idle => Instant::now() + limits.idle_timeout,
            Verdict::Until(at) => at,
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.changed(), if !draining => {
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
            () = tokio::time::sleep_until(wake) => {}
        }
    }
}

/// The start of an HTTP/2 connection (RFC 9113 §3.4); no HTTP/1 request starts so.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// What the watchdog knows of one connection, kept by its socket ([`Watched`]) and
/// its requests ([`Busy`]).
struct Activity(Mutex<Seen>);

struct Seen {
    /// Requests whose response has not been sent in full.
    busy: usize,
    /// Since when no request has been in progress.
    idle_since: Instant,
    /// When the pending request's head began: the first byte after the last
    /// response, or the connection's start.
    head_since: Option<Instant>,
    /// Since when the client has taken none of what is written to it.
    blocked_since: Option<Instant>,
    /// How many bytes of the start matched [`H2_PREFACE`], and whether one did not.
    preface: usize,
    http1: bool,
}

enum Verdict {
    /// Nothing to do before then.
    Until(Instant),
    /// No request in progress for `idle_timeout`: close when the connection allows.
    Idle,
    /// Close now.
    Close(&'static str),
}

impl Activity {
    fn new(now: Instant) -> Activity {
        Activity(Mutex::new(Seen {
            busy: 0,
            idle_since: now,
            head_since: Some(now),
            blocked_since: None,
            preface: 0,
            http1: false,
        }))
    }

    fn read(&self, bytes: &[u8]) {
        let mut s = lock(&self.0);
        if !s.http1 && s.preface < H2_PREFACE.len() {
            for b in bytes.iter().take(H2_PREFACE.len() - s.preface) {
                if H2_PREFACE.get(s.preface) == Some(b) {
                    s.preface += 1;
                } else {
                    s.http1 = true;
                    break;
                }
            }
        }
        if s.busy == 0 && s.head_since.is_none() {
            s.head_since = Some(Instant::now());
        }
    }

    fn wrote(&self, blocked: bool) {
        let mut s = lock(&self.0);
        s.blocked_since = if blocked {
            Some(s.blocked_since.unwrap_or_else(Instant::now))
        } else {
            None
        };
    }

    /// No request in progress on a connection that is not HTTP/2.
    fn quiet_http1(&self) -> bool {
        let s = lock(&self.0);
        s.busy == 0 && s.preface < H2_PREFACE.len()
    }

    fn verdict(&self, now: Instant, limits: &ConnectionConfig) -> Verdict {
        let s = lock(&self.0);
        // Look again at least this often, whatever happens.
        let mut next = now + limits.idle_timeout;
        if let Some(t) = s.blocked_since {
            let due = t + limits.idle_timeout;
            if now >= due {
                return Verdict::Close("stalled");
            }
            next = next.min(due);
        }
        if s.busy > 0 {
            return Verdict::Until(next);
        }
        let http2 = s.preface == H2_PREFACE.len();
        match s.head_since {
            Some(t) if !http2 => {
                let due = t + limits.header_timeout;
                if now >= due {
                    return Verdict::Close("header_timeout");
                }
                Verdict::Until(next.min(due))
            }
            _ => {
                let due = s.idle_since + limits.idle_timeout;
                if now >= due {
                    return Verdict::Idle;
                }
                Verdict::Until(next.min(due))
            }
        }
    }
}

/// A request in progress, from its complete head until its response has been sent.
struct Busy(Arc<Activity>);

impl Busy {
    fn begin(activity: &Arc<Activity>) -> Busy {
        let mut s = lock(&activity.0);
        s.busy += 1;
        s.head_since = None;
        drop(s);
        Busy(Arc::clone(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut s = lock(&self.0.0);
        s.busy = s.busy.saturating_sub(1);
        if s.busy == 0 {
            s.idle_since = Instant::now();
            s.head_since = None;
        }
    }
}

/// A connection's socket (the plain side, under TLS), telling its [`Activity`]
/// what is read and whether writes go through.
struct Watched<T> {
    io: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled
            && let Some(new) = buf.filled().get(before..).filter(|b| !b.is_empty())
        {
            self.activity.read(new);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.activity.wrote(polled.is_pending());
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.activity.wrote(polled.is_pending());
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_flush(cx);
        self.activity.wrote(polled.is_pending());
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionConfig {
        ConnectionConfig {
            max: 2,
            health_reserve: 1,
            per_address: 2,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_gate_fills_then_reserves_then_refuses_and_frees() {
        let gate = Arc::new(Gate {
            limits: limits(),
            open: Mutex::new(Open::default()),
        });
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let two: IpAddr = "192.0.2.2".parse().unwrap();
        let a = gate.admit(one);
        assert!(matches!(a, Admission::Full(_)));
        let b = gate.admit(one);
        assert!(matches!(b, Admission::Full(_)));
        assert!(matches!(gate.admit(one), Admission::Refused("per_address")));
        let c = gate.admit(two);
        assert!(matches!(c, Admission::Reserve(_)));
        assert!(matches!(gate.admit(two), Admission::Refused("capacity")));
        // A place served in full, freed, is served in full again.
        drop(a);
        let d = gate.admit(two);
        assert!(matches!(d, Admission::Full(_)));
        assert!(matches!(gate.admit(one), Admission::Refused("capacity")));
        drop(c);
        assert!(matches!(gate.admit(one), Admission::Reserve(_)));
        drop((b, d));
        let open = lock(&gate.open);
        assert_eq!((open.full, open.reserve), (0, 0));
        assert!(open.by_address.is_empty());
    }

    #[test]
    fn the_watchdog_times_heads_from_their_first_byte_and_idles_between() {
        let l = limits();
        let t0 = Instant::now();
        let a = Activity::new(t0);
        // A new connection must send its first request's head in time.
        assert!(matches!(
            a.verdict(t0 + l.header_timeout, &l),
            Verdict::Close("header_timeout")
        ));
        a.read(b"GET / HT");
        let busy = Busy::begin(&Arc::new(a));
        let a = Arc::clone(&busy.0);
        // In progress: neither timeout applies.
        assert!(matches!(
            a.verdict(t0 + l.idle_timeout * 2, &l),
            Verdict::Until(_)
        ));
        drop(busy);
        let t1 = Instant::now();
        // Between requests, the idle timeout applies, not the header timeout.
        assert!(matches!(
            a.verdict(t1 + l.header_timeout, &l),
            Verdict::Until(_)
        ));
        assert!(matches!(a.verdict(t1 + l.idle_timeout, &l), Verdict::Idle));
        // A client that takes nothing of a response is stalled.
        a.wrote(true);
        assert!(matches!(
            a.verdict(Instant::now() + l.idle_timeout, &l),
            Verdict::Close("stalled")
        ));
        a.wrote(false);
        // An HTTP/2 connection is never in a request's head between requests.
        let h2 = Activity::new(t0);
        h2.read(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assert!(matches!(
            h2.verdict(t0 + l.header_timeout, &l),
            Verdict::Until(_)
        ));
        assert!(matches!(h2.verdict(t0 + l.idle_timeout, &l), Verdict::Idle));
    }
}
