//! Ruuvi Desk's app core. A face (the window in `src-tauri`, `ruuvictl serve`) builds a
//! [`DeskConfig`], starts a [`Desk`] and reaches every command through [`api::call`]; events
//! come from [`Desk::subscribe`]. Nothing here knows of Tauri, HTTP routes or flags.
//!
//! ```text
//! faces (src-tauri, ruuvictl)  →  ruuvi-app (Desk, api)  →  feeds (receiver, BLE, MQTT, polls,
//!                                                            demo)  →  hub  →  store
//! ```

pub mod api;
pub mod config;
mod desk;
pub mod error;
pub mod events;
pub mod history;
mod polls;
pub mod remote_config;

pub use config::{
    BleConfig, DemoConfig, DeskConfig, MqttConfig, OnMigration, ReceiverConfig, SettingsSource,
};
pub use desk::{Desk, Listening};
pub use error::{ApiError, DeskError};
pub use events::Event;
pub use polls::PollStatus;
pub use ruuvi_store::Migration;
pub use ruuvi_wiring::app_settings::{AppSettings, PolledGateway};
