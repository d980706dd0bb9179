//! The listener: TLS (optional), HTTP/1.1 with header and body time limits, a body size cap, a
//! connection cap, and the checks of each post in the order that costs least first.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use ruuvi_pki::SharedAllowList;
use ruuvi_protocol::{Feed, GatewayDocument, MacAddress, Observation};
use ruuvi_secrets::Sensitive;
use tokio::sync::{watch, Semaphore};

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
    pub max_connections: usize,
    /// Gateways allowed to post the signed Gateway API form (`x-ruuvi-*` headers).
    pub whitelist: Arc<std::sync::Mutex<crate::network::Whitelist>>,
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
            whitelist: Arc::default(),
        }
    }
}

struct Context {
    options: ReceiverOptions,
    policies: Arc<RwLock<Policies>>,
    deliver: Arc<dyn Deliver>,
    log: Arc<ReceiveLog>,
    /// Keys given to gateways with `Ruuvi-HMAC-KEY` (RAM only on the gateway, too).
    rotated: Arc<std::sync::Mutex<std::collections::HashMap<MacAddress, Sensitive<String>>>>,
}

/// A fresh HMAC key: 32 random bytes as 64 hex characters would reach the firmware's limit, so
/// 24 bytes (48 characters).
fn new_hmac_key() -> Sensitive<String> {
    ruuvi_secrets::random_hex(24)
}

pub struct Receiver;

pub struct RunningReceiver {
    pub addr: SocketAddr,
    pub log: Arc<ReceiveLog>,
    rotated: Arc<std::sync::Mutex<std::collections::HashMap<MacAddress, Sensitive<String>>>>,
    whitelist: Arc<std::sync::Mutex<crate::network::Whitelist>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningReceiver {
    /// The HMAC key a gateway was last given (to keep in the keychain; `None` until rotated).
    pub fn rotated_hmac_key(&self, gateway: MacAddress) -> Option<Sensitive<String>> {
        self.rotated.lock().ok()?.get(&gateway).cloned()
    }

    /// Every key given so far, to persist: the gateway keeps using its key across our
    /// restarts, so a restarted receiver must know it.
    pub fn rotated_hmac_keys(&self) -> Vec<(MacAddress, Sensitive<String>)> {
        self.rotated
            .lock()
            .map(|m| m.iter().map(|(k, v)| (*k, v.clone())).collect())
            .unwrap_or_default()
    }

    /// A key given before a restart (read back from the keychain).
    pub fn remember_hmac_key(&self, gateway: MacAddress, key: Sensitive<String>) {
        if let Ok(mut m) = self.rotated.lock() {
            m.insert(gateway, key);
        }
    }

    /// What `/metrics` reads of this receiver (keeps working after it stops).
    pub fn metrics(&self) -> ReceiverMetrics {
        ReceiverMetrics {
            log: self.log.clone(),
            whitelist: self.whitelist.clone(),
        }
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
    whitelist: Arc<std::sync::Mutex<crate::network::Whitelist>>,
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
        let whitelisted = self
            .whitelist
            .lock()
            .map(|w| w.entries().count())
            .unwrap_or(0);
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
        let log = Arc::new(ReceiveLog::default());
        let rotated = Arc::default();
        let whitelist = options.whitelist.clone();
        let ctx = Arc::new(Context {
            options,
            policies,
            deliver,
            log: log.clone(),
            rotated: Arc::clone(&rotated),
        });
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(ctx.options.max_connections.max(1)));
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = stopped.changed() => return,
                };
                let Ok((tcp, _peer)) = accepted else {
                    continue;
                };
                // Over the cap: close at once rather than queue without bound.
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    continue;
                };
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    connection(ctx, tcp).await;
                    drop(permit);
                });
            }
        });
        Ok(RunningReceiver {
            addr,
            log,
            rotated,
            whitelist,
            stop,
            task,
        })
    }
}

async fn connection(ctx: Arc<Context>, tcp: tokio::net::TcpStream) {
    let timeout = ctx.options.header_timeout;
    match ctx.options.tls.clone() {
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
            serve(ctx, TokioIo::new(tls), peer_cert).await;
        }
        None => serve(ctx, TokioIo::new(tcp), None).await,
    }
}

async fn serve<I>(ctx: Arc<Context>, io: I, peer_cert: Option<Vec<u8>>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let header_timeout = ctx.options.header_timeout;
    let peer_cert = Arc::new(peer_cert);
    let service = hyper::service::service_fn(move |req| {
        let ctx = ctx.clone();
        let peer_cert = peer_cert.clone();
        async move { Ok::<_, Infallible>(handle(&ctx, req, peer_cert.as_deref()).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(io, service)
        .await;
}

fn reply(status: StatusCode, extra: &[(&str, &str)]) -> Response<Full<Bytes>> {
    let mut r = Response::builder().status(status);
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    r.header("Content-Length", "0")
        .body(Full::new(Bytes::new()))
        .expect("valid response")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn handle(
    ctx: &Context,
    req: Request<Incoming>,
    peer_cert: Option<&[u8]>,
) -> Response<Full<Bytes>> {
    if req.method() != hyper::Method::POST || req.uri().path() != ctx.options.path {
        return reply(StatusCode::NOT_FOUND, &[]);
    }
    let log = |gw: Option<MacAddress>, status: StatusCode, outcome: Outcome| {
        ctx.log.record(gw, status.as_u16(), outcome);
        reply(status, &[])
    };
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > ctx.options.max_body) {
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
    let limited = Limited::new(req.into_body(), ctx.options.max_body);
    let body = match tokio::time::timeout(ctx.options.body_timeout, limited.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(_)) => return log(None, StatusCode::PAYLOAD_TOO_LARGE, Outcome::TooLarge),
        Err(_) => return reply(StatusCode::REQUEST_TIMEOUT, &[]),
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
        let checked = ctx.options.whitelist.lock().expect("whitelist lock").check(
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
        return match store(ctx, &doc).await {
            Ok(()) => reply(StatusCode::OK, &[]),
            Err(refused) => refused,
        };
    }
    let policy: GatewayPolicy = {
        let policies = ctx.policies.read().expect("policies lock");
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
        let owner = ctx.options.allowed.as_ref().and_then(|list| {
            list.read()
                .ok()
                .and_then(|l| l.gateway_of(cert).map(str::to_string))
        });
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
            let current = gw.and_then(|m| ctx.rotated.lock().ok()?.get(&m).cloned());
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
    if let Err(refused) = store(ctx, &doc).await {
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
        if let Ok(mut keys) = ctx.rotated.lock() {
            keys.insert(mac, key.clone());
        }
        extra.push(("Ruuvi-HMAC-KEY", key.expose()));
    }
    reply(StatusCode::OK, &extra)
}

/// Decodes an accepted post and delivers its observations; records the outcome in the receive
/// log. `Err` is the answer when they could not be stored (503 busy, 500 failed).
async fn store(ctx: &Context, doc: &GatewayDocument) -> Result<(), Response<Full<Bytes>>> {
    let gw = doc.gw_mac;
    let (observations, failed) =
        Observation::from_gateway(doc, Feed::GatewayPost { gateway: gw }, now_ms());
    for (mac, e) in failed {
        tracing::debug!(?gw, %mac, "undecodable tag: {e}");
    }
    let n = observations.len();
    match ctx.deliver.deliver(observations).await {
        Ok(()) => {
            ctx.log.record(gw, 200, Outcome::Stored { observations: n });
            Ok(())
        }
        Err(DeliverError::Busy) => {
            ctx.log.record(gw, 503, Outcome::Busy);
            Err(reply(
                StatusCode::SERVICE_UNAVAILABLE,
                &[("Retry-After", "5")],
            ))
        }
        Err(DeliverError::Failed(e)) => {
            tracing::error!(?gw, "storing a post failed: {e}");
            ctx.log.record(gw, 500, Outcome::StoreFailed);
            Err(reply(StatusCode::INTERNAL_SERVER_ERROR, &[]))
        }
    }
}
