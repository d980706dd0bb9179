use thiserror::Error;

/// Why a byte string is not a Ruuvi measurement we can decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("empty input")]
    Empty,
    #[error("not valid hex: {0}")]
    InvalidHex(String),
    #[error("malformed advertisement: AD structure at byte {offset} claims {claimed} bytes but only {available} remain")]
    MalformedAdvertisement {
        offset: usize,
        claimed: usize,
        available: usize,
    },
    #[error("no Ruuvi manufacturer data (company id 0x0499) in the advertisement")]
    NoRuuviData,
    #[error("unsupported data format 0x{0:02X}")]
    UnsupportedFormat(u8),
    #[error("data format 0x{format:02X} needs {expected} bytes of payload, got {actual}")]
    WrongLength {
        format: u8,
        expected: usize,
        actual: usize,
    },
    #[error("data format 8 is encrypted: a 16-byte key is needed to decode it")]
    KeyRequired,
    #[error("data format 8 CRC mismatch (expected 0x{expected:02X}, computed 0x{computed:02X}): wrong key or corrupted data")]
    CrcMismatch { expected: u8, computed: u8 },
}

impl DecodeError {
    /// A stable name for programs (the `code` of an IPC or HTTP error); the text is for people.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty_input",
            DecodeError::InvalidHex(_) => "invalid_hex",
            DecodeError::MalformedAdvertisement { .. } => "malformed_advertisement",
            DecodeError::NoRuuviData => "no_ruuvi_data",
            DecodeError::UnsupportedFormat(_) => "unsupported_format",
            DecodeError::WrongLength { .. } => "wrong_length",
            DecodeError::KeyRequired => "key_required",
            DecodeError::CrcMismatch { .. } => "crc_mismatch",
        }
    }
}

/// Why a gateway JSON document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GatewayJsonError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("field `{field}` has an unexpected value: {problem}")]
    BadField { field: String, problem: String },
}

/// A MAC address that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a MAC address: {0:?} (expected 6 hex bytes such as AA:BB:CC:DD:EE:FF)")]
pub struct MacParseError(pub String);
