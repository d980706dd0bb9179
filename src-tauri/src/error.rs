//! The one error shape that crosses the IPC boundary: `{code, message}`. The UI branches on
//! `code`, never on the message text.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{message}")]
pub struct IpcError {
    pub code: &'static str,
    pub message: String,
}

impl From<ruuvi_protocol::DecodeError> for IpcError {
    fn from(e: ruuvi_protocol::DecodeError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<ruuvi_setup::SetupError> for IpcError {
    fn from(e: ruuvi_setup::SetupError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}
