//! Ruuvi Desk's gateway client (spec: `gateway-local-api.md`): finding gateways, logging in in
//! every LAN auth mode, reading and safely changing the HTTP(S) backend and the MQTT target
//! with certificates,
//! gateway-side connectivity checks, many gateways at once, and a `/history` feed.

pub mod auth;
pub mod client;
pub mod config;
pub mod discovery;
pub mod ecdh;
pub mod firmware;
pub mod fleet;
pub mod history;
pub mod http;
pub mod lan;
pub mod mqtt;
pub mod push;
pub mod remote_cfg;
pub mod scan;
pub mod schedule;
pub mod time_place;
pub mod update;

pub use auth::{AuthInfo, Credentials};
pub use client::{ClientOptions, GatewayClient, ValidateOutcome};
pub use config::{
    Change, ClientIdentity, CustomProfile, DataFormat, ExtraHttp, GatewayConfig, HttpAuth,
    HttpBackend, HttpProfile, LongUrl,
};
pub use firmware::FirmwareVersion;
pub use fleet::{push_fleet, FleetEvent, FleetTarget, ProfileFor};
pub use http::Endpoint;
pub use lan::{push_lan_access, KeyChange, LanAccessProfile, LanLogin};
pub use mqtt::{MqttDataFormat, MqttProfile, MqttTarget};
pub use push::{
    push_http_profile, push_profile, BackendProfile, GatewayState, Progress, PushOutcome, Restore,
};
pub use remote_cfg::{RemoteAuth, RemoteCfgProfile, RemoteCfgState, RemoteSource};
pub use scan::{Radio, ScanProfile, TagFilter};
pub use schedule::{AutoUpdateProfile, StatisticsProfile, StatisticsState, StatisticsTarget};
pub use time_place::{Clock, TimePlaceProfile};
pub use update::{
    roll_out, update_firmware, Release, Releases, RolloutState, UpdateStep, UpdateTiming,
};

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("cannot reach {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error("{0} did not answer in time")]
    Timeout(String),
    #[error("{0} closed the connection without answering (a request too large for its firmware is dropped like this)")]
    Dropped(String),
    #[error("not allowed: {0}")]
    Unauthorized(String),
    #[error("{0}: another client kept logging in at the same moment; try again")]
    LoginCollision(String),
    #[error("the gateway refused it (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("{what} is too large for this gateway: {size} bytes, at most {limit}")]
    TooLarge {
        what: String,
        size: usize,
        limit: usize,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    BadInput(String),
    #[error("unexpected answer: {0}")]
    Protocol(String),
    #[error("discovery: {0}")]
    Discovery(String),
}

impl GatewayError {
    /// Process exit codes for `ruuvictl gateway`: 3 unreachable, 4 unauthorised, 5 rejected,
    /// 2 bad input, 1 anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            GatewayError::Unreachable { .. }
            | GatewayError::Timeout(_)
            | GatewayError::Dropped(_) => 3,
            GatewayError::Unauthorized(_) | GatewayError::LoginCollision(_) => 4,
            GatewayError::Rejected { .. }
            | GatewayError::TooLarge { .. }
            | GatewayError::Unsupported(_) => 5,
            GatewayError::BadInput(_) => 2,
            GatewayError::Protocol(_) | GatewayError::Discovery(_) => 1,
        }
    }
}
