//! The one error shape every command answers with: `{code, message}`. The code comes from the
//! core crate whose error it is (`SetupError::code`, `AlertError::code`, `DecodeError::code`,
//! [`DeskError::code`]); the UI branches on it, never on the message.

use serde::Serialize;

/// What went wrong in the app core itself (not in a core crate with its own enum).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeskError {
    /// Arguments that do not parse or do not make sense.
    #[error("{0}")]
    BadInput(String),
    /// This face does not offer it (e.g. `ruuvictl serve` takes its settings from its options).
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Receiver(String),
    #[error("{0}")]
    Mqtt(String),
    #[error("{0}")]
    Store(String),
    #[error("keychain: {0}")]
    Keychain(String),
    #[error("{0}")]
    Io(String),
    /// A gateway that is polled could not be read.
    #[error("{0}")]
    Gateway(String),
    /// This computer's Bluetooth could not do it (no adapter, the sensor out of reach…).
    #[error("{0}")]
    Bluetooth(String),
    /// No command of that name.
    #[error("no command {0:?}")]
    UnknownCommand(String),
}

impl DeskError {
    pub fn code(&self) -> &'static str {
        match self {
            DeskError::BadInput(_) => "bad_input",
            DeskError::Unsupported(_) => "unsupported",
            DeskError::Receiver(_) => "receiver",
            DeskError::Mqtt(_) => "mqtt",
            DeskError::Store(_) => "store",
            DeskError::Keychain(_) => "keychain",
            DeskError::Io(_) => "io",
            DeskError::Gateway(_) => "gateway",
            DeskError::Bluetooth(_) => "bluetooth",
            DeskError::UnknownCommand(_) => "not_found",
        }
    }
}

/// `{code, message}` as it crosses to the window or to a browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{message}")]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
}

macro_rules! coded {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                Self { code: e.code(), message: e.to_string() }
            }
        }
    )*};
}

coded!(
    DeskError,
    ruuvi_setup::SetupError,
    ruuvi_alerts::AlertError,
    ruuvi_protocol::DecodeError
);

impl From<ruuvi_store::StoreError> for DeskError {
    fn from(e: ruuvi_store::StoreError) -> Self {
        match e {
            ruuvi_store::StoreError::BadProfile(m) => DeskError::BadInput(m),
            other => DeskError::Store(other.to_string()),
        }
    }
}

impl From<ruuvi_store::StoreError> for ApiError {
    fn from(e: ruuvi_store::StoreError) -> Self {
        DeskError::from(e).into()
    }
}
