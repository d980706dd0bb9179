#![recursion_limit = "256"]
//! `ruuvi-gw-sim`: simulated Ruuvi Gateways that behave like the real firmware's local HTTP
//! API (`shared/spec/gateway-local-api.md`), oddities included, so code proved against them
//! works against real gateways. A library (tests and the app's demo mode) and a binary.

pub mod auth;
pub mod cjson;
pub mod config;
pub mod ecdh;
pub mod firmware;
pub mod fw_update;
pub mod gateway;
pub mod http;
pub mod identity;
pub mod mqtt;
pub mod mqtt_check;
pub mod netns;
pub mod remote_cfg;
pub mod rng;
mod routes;
pub mod sender;
pub mod stats;
pub mod tags;
mod validate;

pub use config::{GatewayConfig, LanAuth};
pub use firmware::Firmware;
pub use gateway::{GatewayOptions, GatewayState, RunningGateway, SenderStats};
pub use identity::Identity;
