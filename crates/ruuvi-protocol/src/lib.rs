//! Ruuvi Desk's protocol core: advertisement formats, gateway JSON, signatures, login hash and
//! the [`Observation`] every feed produces. No I/O, no async.

pub mod adv;
pub mod clock;
pub mod derived;
pub mod error;
pub mod formats;
pub mod gateway;
pub mod login;
pub mod mac;
pub mod mqtt;
pub mod observation;
pub mod output;
pub mod profile;
pub mod readings;
pub mod signature;

pub use error::{DecodeError, GatewayJsonError, MacParseError};
pub use formats::{
    decode_advertisement, decode_any, decode_hex, decode_payload, DataFormat, Measurement,
};
pub use gateway::{FirmwareStyle, GatewayDocument, GatewayTag, TagFields, TagTime};
pub use mac::MacAddress;
pub use mqtt::{MqttAdvertisement, MqttMessage};
pub use observation::{Feed, Observation};
pub use profile::{Calibration, Profiles, SensorProfile};
pub use readings::Readings;
