//! Ruuvi Desk as the gateways' own server (issue 6, first part): HTTPS (or plain HTTP) on a
//! configurable POST path; per gateway the expected auth, the client certificate and the
//! `Ruuvi-HMAC-SHA256` signature are checked; every accepted body becomes [`Observation`]s
//! handed to a [`Deliver`] (the app wires it to the hub) and the gateway is answered 2xx only
//! after the delivery says they are stored. A receive log per gateway says what happened.
//!
//! The receiver knows nothing of the hub: it only produces observations.

mod admin;
mod connections;
mod log;
mod metrics;
mod network;
mod policy;
mod policy_file;
mod saved;
mod served_config;
mod server;

pub use admin::{
    claim_id, query_param, route, start_admin, AdminOptions, AdminRequest, MetricsSource,
    RegisteredSensor, Registry, RunningAdmin, Subscription,
};
pub use connections::PeerKey;
pub use log::{Outcome, ReceiveLog, Received};
pub use metrics::{MetricKind, MetricsText};
pub use network::{SignedRefusal, Whitelist, WhitelistEntry};
pub use policy::{
    constant_time_eq, ExpectedAuth, GatewayPolicy, HmacCheck, Policies, UnknownGateways,
};
pub use policy_file::{GatewayEntry, PolicyFile};
pub use saved::{SavedError, SavedNetwork};
pub use served_config::{file_for, Fetch, Published, ServedConfigs, CONFIG_PATH, SHARED_FILE};
pub use server::{ConnectionHandler, Receiver, ReceiverMetrics, ReceiverOptions, RunningReceiver};

use std::future::Future;
use std::pin::Pin;

use ruuvi_protocol::Observation;

/// Why a delivery did not store the observations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliverError {
    /// Try again later (answered 503 with `Retry-After`).
    #[error("busy")]
    Busy,
    #[error("storing failed: {0}")]
    Failed(String),
}

/// Where accepted observations go; resolves once they are safely stored.
pub trait Deliver: Send + Sync + 'static {
    fn deliver(
        &self,
        observations: Vec<Observation>,
    ) -> Pin<Box<dyn Future<Output = Result<(), DeliverError>> + Send + '_>>;
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// Binds a listener and says where it really listens (port 0 picks a free one).
pub(crate) async fn bind(
    addr: std::net::SocketAddr,
) -> Result<(tokio::net::TcpListener, std::net::SocketAddr), ReceiverError> {
    let fail = |source| ReceiverError::Bind { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(fail)?;
    let local = listener.local_addr().map_err(fail)?;
    Ok((listener, local))
}
