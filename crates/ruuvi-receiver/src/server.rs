//! The listener: TLS (optional), HTTP/1.1 with header and body time limits, a body size cap,
//! connection caps per peer and in all (see `connections`), a memory budget for bodies in
//! flight, and the checks of each post in the order that costs least first.
//!
//! Anyone on the network reaches this code: nothing in it may panic on what a peer sends, and
//! no lock is held where a panic could happen (parking_lot's locks do not poison anyway).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use parking_lot::{Mutex, RwLock};
use ruuvi_pki::SharedAllowList;
use ruuvi_protocol::{Feed, GatewayDocument, MacAddress, Observation};
use ruuvi_secrets::Sensitive;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::connections::Connections;
use crate::log::{Outcome, ReceiveLog};
use crate::policy::{GatewayPolicy, HmacCheck, Policies, UnknownGateways};
use crate::{Deliver, DeliverError, ReceiverError};

#[derive(Clone)]
pub struct ReceiverOptions {
    pub listen: SocketAddr,
    /// The path gateways POST to (their `http_url`'s path).
    pub path: String,
    /// `None`: plain HTTP (only when the user allows it).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Client certificates are identified with this allow-list (issued certificates).
    pub allowed: Option<SharedAllowList>,
    pub max_body: usize,
    /// Time for the TLS handshake and the request head.
    pub header_timeout: Duration,
    /// Time for the body.
    pub body_timeout: Duration,
    /// Connections in all.
    pub max_connections: usize,
    /// Connections from one peer (an IPv4 address or an IPv6 /64). A gateway uses one.
    pub max_connections_per_peer: usize,
    /// Bytes of request bodies held in memory at once, over all connections; past it a post is
    /// answered 503 (the gateway retries).
    pub max_bodies_in_flight: usize,
    /// Gateways allowed to post the signed Gateway API form (`x-ruuvi-*` headers).
    pub whitelist: Arc<Mutex<crate::network::Whitelist>>,
    /// Remote configuration documents offered below [`crate::CONFIG_PATH`] (GET).
    pub served: Arc<crate::ServedConfigs>,
}

impl ReceiverOptions {
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            path: "/record".to_string(),
            tls: None,
            allowed: None,
            // 100 tags × ~400 bytes decoded is ~40 KiB; leave room, refuse the absurd.
            max_body: 1 << 20,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
            max_connections_per_peer: 64,
            max_bodies_in_flight: 64 << 20,
            whitelist: Arc::default(),
            served: Arc::default(),
        }
    }
}

type RotatedKeys = Arc<Mutex<std::collections::HashMap<MacAddress, Sensitive<String>>>>;

struct Context {
    options: ReceiverOptions,
    policies: Arc<RwLock<Policies>>,
    deliver: Arc<dyn Deliver>,
    log: Arc<ReceiveLog>,
    /// Keys given to gateways with `Ruuvi-HMAC-KEY` (RAM only on the gateway, too).
    rotated: RotatedKeys,
    connections: Arc<Connections>,
    /// KiB of request bodies held in memory (`max_bodies_in_flight`).
    body_budget: Arc<Semaphore>,
}

/// A fresh HMAC key: 32 random bytes as 64 hex characters would reach the firmware's limit, so
/// 24 bytes (48 characters).
fn new_hmac_key() -> Sensitive<String> {
    ruuvi_secrets::random_hex(24)
}

pub struct Receiver;

/// The receiver's handling of connections without its listener: `Receiver::start` feeds it
/// what it accepts; anything else that holds a connection (a test's in-memory stream, a fuzz
/// target) can hand one over too.
#[derive(Clone)]
pub struct ConnectionHandler {
    ctx: Arc<Context>,
}

impl ConnectionHandler {
    pub fn new(
        options: ReceiverOptions,
        policies: Arc<RwLock<Policies>>,
        deliver: Arc<dyn Deliver>,
    ) -> Self {
        let connections =
            Connections::new(options.max_connections, options.max_connections_per_peer);
        let budget_kib = (options.max_bodies_in_flight / 1024).clamp(1, Semaphore::MAX_PERMITS);
        Self {
            ctx: Arc::new(Context {
                options,
                policies,
                deliver,
                log: Arc::new(ReceiveLog::default()),
                rotated: Arc::default(),
                connections,
                body_budget: Arc::new(Semaphore::new(budget_kib)),
            }),
        }
    }

    pub fn log(&self) -> Arc<ReceiveLog> {
        self.ctx.log.clone()
    }

    /// Serves one HTTP/1.1 connection (already through TLS, if any) until it ends.
    pub async fn serve<I>(&self, io: I, peer: IpAddr, peer_cert: Option<Vec<u8>>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        serve(self.ctx.clone(), TokioIo::new(io), peer, peer_cert).await;
    }
}

pub struct RunningReceiver {
    pub addr: SocketAddr,
    pub log: Arc<ReceiveLog>,
    rotated: RotatedKeys,
    whitelist: Arc<Mutex<crate::network::Whitelist>>,
    connections: Arc<Connections>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningReceiver {
    /// The HMAC key a gateway was last given (to keep in the keychain; `None` until rotated).
    pub fn rotated_hmac_key(&self, gateway: MacAddress) -> Option<Sensitive<String>> {
        self.rotated.lock().get(&gateway).cloned()
    }

    /// Every key given so far, to persist: the gateway keeps using its key across our
    /// restarts, so a restarted receiver must know it.
    pub fn rotated_hmac_keys(&self) -> Vec<(MacAddress, Sensitive<String>)> {
        self.rotated
            .lock()
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }

    /// A key given before a restart (read back from the keychain).
    pub fn remember_hmac_key(&self, gateway: MacAddress, key: Sensitive<String>) {
        self.rotated.lock().insert(gateway, key);
    }

    /// What `/metrics` reads of this receiver (keeps working after it stops).
    pub fn metrics(&self) -> ReceiverMetrics {
        ReceiverMetrics {
            log: self.log.clone(),
            connections: self.connections.clone(),
            whitelist: self.whitelist.clone(),
        }
    }

    /// (connections, peers) open now.
    pub fn connections(&self) -> (usize, usize) {
        self.connections.counts()
    }

    /// Stops accepting; connections in progress finish on their own.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The receiver's counters, for `/metrics`.
#[derive(Clone)]
pub struct ReceiverMetrics {
    log: Arc<ReceiveLog>,
    connections: Arc<Connections>,
    whitelist: Arc<Mutex<crate::network::Whitelist>>,
}

impl ReceiverMetrics {
    /// Posts by outcome, observations stored, whitelisted gateways.
    pub fn write(&self, out: &mut crate::MetricsText) {
        use crate::MetricKind::{Counter, Gauge};
        let (posts, observations) = self.log.totals();
        let samples: Vec<([(&str, &str); 1], f64)> = posts
            .iter()
            .map(|(outcome, n)| ([("outcome", *outcome)], *n as f64))
            .collect();
        let samples: Vec<(&[(&str, &str)], f64)> =
            samples.iter().map(|(l, n)| (&l[..], *n)).collect();
        out.family(
            "ruuvi_receiver_posts_total",
            Counter,
            "Gateway posts by outcome.",
            &samples,
        );
        out.single(
            "ruuvi_receiver_observations_total",
            Counter,
            "Observations in accepted posts.",
            observations as f64,
        );
        let (connections, peers) = self.connections.counts();
        out.single(
            "ruuvi_receiver_connections",
            Gauge,
            "Connections open to the receiver.",
            connections as f64,
        );
        out.single(
            "ruuvi_receiver_connected_peers",
            Gauge,
            "Peers (IPv4 addresses, IPv6 /64s) holding connections.",
            peers as f64,
        );
        let whitelisted = self.whitelist.lock().entries().count();
        out.single(
            "ruuvi_receiver_whitelisted_gateways",
            Gauge,
            "Gateways on the Gateway API whitelist.",
            whitelisted as f64,
        );
    }
}

impl Receiver {
    pub async fn start(
        options: ReceiverOptions,
        policies: Arc<RwLock<Policies>>,
        deliver: Arc<dyn Deliver>,
    ) -> Result<RunningReceiver, ReceiverError> {
        let (listener, addr) = crate::bind(options.listen).await?;
        let whitelist = options.whitelist.clone();
        let handler = ConnectionHandler::new(options, policies, deliver);
        let ctx = handler.ctx.clone();
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = stopped.changed() => return,
                };
                let Ok((tcp, peer)) = accepted else {
                    continue;
                };
                // Over a cap: close at once rather than queue without bound.
                let Ok(mut admitted) = ctx.connections.admit(peer.ip()) else {
                    continue;
                };
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let storing = admitted.storing.clone();
                    tokio::select! {
                        _ = connection(ctx, tcp, peer.ip(), storing) => {}
                        // Shed for a newcomer: dropping the connection closes it.
                        _ = &mut admitted.shed => {}
                    }
                    drop(admitted);
                });
            }
        });
        Ok(RunningReceiver {
            addr,
            log: handler.ctx.log.clone(),
            rotated: handler.ctx.rotated.clone(),
            whitelist,
            connections: handler.ctx.connections.clone(),
            stop,
            task,
        })
    }
}

async fn connection(
    ctx: Arc<Context>,
    tcp: tokio::net::TcpStream,
    peer: IpAddr,
    storing: Arc<std::sync::atomic::AtomicBool>,
) {
    let timeout = ctx.options.header_timeout;
    let ctx = StoringFlag { ctx, storing };
    match ctx.ctx.options.tls.clone() {
        Some(config) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            let Ok(Ok(tls)) = tokio::time::timeout(timeout, acceptor.accept(tcp)).await else {
                return;
            };
            let peer_cert = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| c.to_vec());
            serve_flagged(ctx, TokioIo::new(tls), peer, peer_cert).await;
        }
        None => serve_flagged(ctx, TokioIo::new(tcp), peer, None).await,
    }
}

/// A connection's context and the flag that says it is storing a post (not to be shed then).
struct StoringFlag {
    ctx: Arc<Context>,
    storing: Arc<std::sync::atomic::AtomicBool>,
}

async fn serve<I>(ctx: Arc<Context>, io: I, peer: IpAddr, peer_cert: Option<Vec<u8>>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let storing = Arc::default();
    serve_flagged(StoringFlag { ctx, storing }, io, peer, peer_cert).await;
}

async fn serve_flagged<I>(conn: StoringFlag, io: I, peer: IpAddr, peer_cert: Option<Vec<u8>>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let header_timeout = conn.ctx.options.header_timeout;
    let peer_cert = Arc::new(peer_cert);
    let conn = Arc::new(conn);
    let service = hyper::service::service_fn(move |req| {
        let conn = conn.clone();
        let peer_cert = peer_cert.clone();
        async move {
            let answer = handle(&conn, req, peer, peer_cert.as_deref()).await;
            conn.storing.store(false, Ordering::Relaxed);
            Ok::<_, Infallible>(answer)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        // A gateway's request head is well under 4 KiB; a connection's read buffer is the
        // memory a silent peer holds.
        .max_buf_size(32 * 1024)
        // A client that closes its sending side after its request still gets the answer
        // (without this, hyper drops the request being handled at that EOF).
        .half_close(true)
        .serve_connection(io, service)
        .await;
}

fn reply(status: StatusCode, extra: &[(&str, &str)]) -> Response<Full<Bytes>> {
    let mut r = Response::builder().status(status);
    for (k, v) in extra {
        // A header value we cannot send is left out rather than fail the answer.
        if let Ok(value) = hyper::header::HeaderValue::from_str(v) {
            r = r.header(*k, value);
        }
    }
    r.header("Content-Length", "0")
        .body(Full::new(Bytes::new()))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

use ruuvi_protocol::clock::now_ms;

/// Why a body was not read whole.
enum BodyRefusal {
    TooLarge,
    /// Ended before its length, or broke off.
    Truncated,
    /// Still incomplete when the body time ran out.
    Slow,
    /// The memory budget for bodies is spent.
    Busy,
}

/// Reads a body up to `max_body`, taking its size from the shared budget as it arrives (the
/// permit is held until the post is answered).
async fn read_body(
    ctx: &Context,
    mut body: Incoming,
) -> Result<(Bytes, Option<OwnedSemaphorePermit>), BodyRefusal> {
    let deadline = tokio::time::Instant::now() + ctx.options.body_timeout;
    let mut buf = BytesMut::new();
    let mut held: Option<OwnedSemaphorePermit> = None;
    let mut held_kib = 0usize;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyRefusal::Slow),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(BodyRefusal::Truncated),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let len = buf.len().saturating_add(data.len());
        if len > ctx.options.max_body {
            return Err(BodyRefusal::TooLarge);
        }
        let kib = len.div_ceil(1024);
        if kib > held_kib {
            let more = u32::try_from(kib - held_kib).map_err(|_| BodyRefusal::TooLarge)?;
            let permit = ctx
                .body_budget
                .clone()
                .try_acquire_many_owned(more)
                .map_err(|_| BodyRefusal::Busy)?;
            match &mut held {
                Some(h) => h.merge(permit),
                None => held = Some(permit),
            }
            held_kib = kib;
        }
        buf.extend_from_slice(&data);
    }
    Ok((buf.freeze(), held))
}

/// A gateway's remote configuration download (`GET /gw-cfg/<file>`).
fn served_config(
    ctx: &Context,
    req: &Request<Incoming>,
    file: &str,
    peer: IpAddr,
) -> Response<Full<Bytes>> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let (status, body) = ctx.options.served.answer(
        file,
        header("Authorization"),
        header("ruuvi_gw_mac"),
        peer,
        ctx.options.tls.is_some(),
    );
    match body {
        Some(body) => Response::builder()
            .status(status)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::CACHE_CONTROL, "no-store")
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_else(|_| reply(StatusCode::INTERNAL_SERVER_ERROR, &[])),
        None => reply(status, &[]),
    }
}

async fn handle(
    conn: &StoringFlag,
    req: Request<Incoming>,
    peer: IpAddr,
    peer_cert: Option<&[u8]>,
) -> Response<Full<Bytes>> {
    let ctx = &*conn.ctx;
    if req.method() == hyper::Method::GET {
        if let Some(file) = req.uri().path().strip_prefix(crate::CONFIG_PATH) {
            return served_config(ctx, &req, file, peer);
        }
    }
    if req.method() != hyper::Method::POST || req.uri().path() != ctx.options.path {
        return reply(StatusCode::NOT_FOUND, &[]);
    }
    let unexpected = crate::log::unexpected_headers(req.headers().keys().map(|k| k.as_str()));
    let log = |gw: Option<MacAddress>, status: StatusCode, outcome: Outcome| {
        ctx.log
            .record_post(gw, Some(peer), status.as_u16(), outcome, unexpected.clone());
        reply(status, &[])
    };
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > ctx.options.max_body as u64) {
        return log(None, StatusCode::PAYLOAD_TOO_LARGE, Outcome::TooLarge);
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header("Authorization");
    let signature = header("Ruuvi-HMAC-SHA256");
    let network = match (
        header(ruuvi_protocol::signature::NETWORK_TIMESTAMP_HEADER),
        header(ruuvi_protocol::signature::NETWORK_NONCE_HEADER),
        header(ruuvi_protocol::signature::NETWORK_SIGNATURE_HEADER),
    ) {
        (Some(t), Some(n), Some(s)) => Some((t, n, s)),
        _ => None,
    };
    let (body, _budget) = match read_body(ctx, req.into_body()).await {
        Ok(read) => read,
        Err(BodyRefusal::TooLarge) => {
            return log(None, StatusCode::PAYLOAD_TOO_LARGE, Outcome::TooLarge)
        }
        Err(BodyRefusal::Truncated) => {
            return log(None, StatusCode::BAD_REQUEST, Outcome::Truncated)
        }
        Err(BodyRefusal::Slow) => {
            return log(None, StatusCode::REQUEST_TIMEOUT, Outcome::Truncated)
        }
        Err(BodyRefusal::Busy) => {
            ctx.log.record(None, Some(peer), 503, Outcome::Busy);
            return reply(StatusCode::SERVICE_UNAVAILABLE, &[("Retry-After", "5")]);
        }
    };
    let doc = match GatewayDocument::parse(&body) {
        Ok(doc) => doc,
        Err(e) => {
            tracing::debug!("unreadable post: {e}");
            return log(None, StatusCode::BAD_REQUEST, Outcome::BadJson);
        }
    };
    let gw = doc.gw_mac;
    if let Some((timestamp, nonce, sig)) = network {
        // The signed Gateway API form: the whitelist decides, not the per-gateway policy.
        use crate::network::SignedRefusal;
        let Some(mac) = gw else {
            return log(None, StatusCode::BAD_REQUEST, Outcome::BadJson);
        };
        let checked = ctx.options.whitelist.lock().check(
            mac,
            &timestamp,
            &nonce,
            &sig,
            &body,
            now_ms() / 1000,
        );
        if let Err(why) = checked {
            let (status, outcome) = match why {
                SignedRefusal::NotWhitelisted => (StatusCode::FORBIDDEN, Outcome::NotWhitelisted),
                SignedRefusal::Blocked => (StatusCode::FORBIDDEN, Outcome::Blocked),
                SignedRefusal::BadTimestamp => (StatusCode::UNAUTHORIZED, Outcome::BadTimestamp),
                SignedRefusal::Replay => (StatusCode::CONFLICT, Outcome::Replay),
                SignedRefusal::BadSignature => (StatusCode::UNAUTHORIZED, Outcome::BadSignature),
            };
            return log(gw, status, outcome);
        }
        return match store(conn, &doc, peer, unexpected.clone()).await {
            Ok(()) => reply(StatusCode::OK, &[]),
            Err(refused) => refused,
        };
    }
    let policy: GatewayPolicy = {
        let policies = ctx.policies.read();
        match gw.and_then(|m| policies.gateways.get(&m)) {
            Some(p) => p.clone(),
            None if policies.unknown == UnknownGateways::AcceptAsNew => GatewayPolicy::default(),
            None => return log(gw, StatusCode::FORBIDDEN, Outcome::UnknownGateway),
        }
    };
    if !policy.auth.accepts(authorization.as_deref()) {
        return log(gw, StatusCode::UNAUTHORIZED, Outcome::AuthFailed);
    }
    if policy.require_client_cert {
        let Some(cert) = peer_cert else {
            return log(gw, StatusCode::FORBIDDEN, Outcome::ClientCertMissing);
        };
        let owner = ctx
            .options
            .allowed
            .as_ref()
            .and_then(|list| list.read().gateway_of(cert).map(str::to_string));
        // The certificate must be the one issued to the gateway named in the body.
        if owner.is_none() || owner != gw.map(|m| m.to_string()) {
            return log(gw, StatusCode::FORBIDDEN, Outcome::ClientCertMismatch);
        }
    }
    let signed_with = |key: &Sensitive<String>| {
        signature.as_deref().is_some_and(|sig| {
            ruuvi_protocol::signature::verify_firmware_signature(
                key.expose().as_bytes(),
                &body,
                sig,
            )
        })
    };
    // A new key to hand out with the answer (rotation).
    let mut give_key: Option<Sensitive<String>> = None;
    match &policy.hmac {
        HmacCheck::Off => {}
        HmacCheck::Key(key) => {
            if !signed_with(key) {
                return log(gw, StatusCode::UNAUTHORIZED, Outcome::BadSignature);
            }
        }
        HmacCheck::Rotating { device_id } => {
            let current = gw.and_then(|m| ctx.rotated.lock().get(&m).cloned());
            if current.as_ref().is_some_and(&signed_with) {
                // Signed with the key we gave it.
            } else if signed_with(device_id) {
                // First contact, or the gateway rebooted and forgot our key: a new one.
                give_key = Some(new_hmac_key());
            } else {
                return log(gw, StatusCode::UNAUTHORIZED, Outcome::BadSignature);
            }
        }
    }
    if let Err(refused) = store(conn, &doc, peer, unexpected.clone()).await {
        return refused;
    }
    let rate = policy
        .rate_s
        .filter(|r| (1..=3600).contains(r))
        .map(|r| r.to_string());
    let mut extra: Vec<(&str, &str)> = Vec::new();
    if let Some(rate) = &rate {
        extra.push(("X-Ruuvi-Gateway-Rate", rate));
    }
    if let (Some(key), Some(mac)) = (&give_key, gw) {
        ctx.rotated.lock().insert(mac, key.clone());
        extra.push(("Ruuvi-HMAC-KEY", key.expose()));
    }
    reply(StatusCode::OK, &extra)
}

/// Decodes an accepted post and delivers its observations; records the outcome in the receive
/// log. `Err` is the answer when they could not be stored (503 busy, 500 failed).
async fn store(
    conn: &StoringFlag,
    doc: &GatewayDocument,
    peer: IpAddr,
    unexpected_headers: Vec<String>,
) -> Result<(), Response<Full<Bytes>>> {
    let ctx = &*conn.ctx;
    let gw = doc.gw_mac;
    let (observations, failed) =
        Observation::from_gateway(doc, Feed::GatewayPost { gateway: gw }, now_ms());
    for (mac, e) in failed {
        tracing::debug!(?gw, %mac, "undecodable tag: {e}");
    }
    let n = observations.len();
    // From here the gateway is owed its answer: this connection is not shed for a newcomer.
    conn.storing.store(true, Ordering::Relaxed);
    match ctx.deliver.deliver(observations).await {
        Ok(()) => {
            ctx.log.record_post(
                gw,
                Some(peer),
                200,
                Outcome::Stored { observations: n },
                unexpected_headers,
            );
            Ok(())
        }
        Err(DeliverError::Busy) => {
            ctx.log.record(gw, Some(peer), 503, Outcome::Busy);
            Err(reply(
                StatusCode::SERVICE_UNAVAILABLE,
                &[("Retry-After", "5")],
            ))
        }
        Err(DeliverError::Failed(e)) => {
            tracing::error!(?gw, "storing a post failed: {e}");
            ctx.log.record(gw, Some(peer), 500, Outcome::StoreFailed);
            Err(reply(StatusCode::INTERNAL_SERVER_ERROR, &[]))
        }
    }
}
