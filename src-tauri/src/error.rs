//! The one error shape that crosses the IPC boundary: `{code, message}`. The UI branches on
//! `code`, never on the message text.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct IpcError {
    pub code: &'static str,
    pub message: String,
}

impl From<ruuvi_protocol::DecodeError> for IpcError {
    fn from(e: ruuvi_protocol::DecodeError) -> Self {
        use ruuvi_protocol::DecodeError as E;
        let code = match e {
            E::Empty => "empty_input",
            E::InvalidHex(_) => "invalid_hex",
            E::MalformedAdvertisement { .. } => "malformed_advertisement",
            E::NoRuuviData => "no_ruuvi_data",
            E::UnsupportedFormat(_) => "unsupported_format",
            E::WrongLength { .. } => "wrong_length",
            E::KeyRequired => "key_required",
            E::CrcMismatch { .. } => "crc_mismatch",
        };
        Self {
            code,
            message: e.to_string(),
        }
    }
}
