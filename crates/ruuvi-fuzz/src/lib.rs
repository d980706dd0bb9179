//! What each fuzz target checks. Every parser that reads input from outside (the network, a
//! file, a person) has one function here that takes any bytes, runs them through the parser
//! and what consumes its result, and asserts what must hold. A panic (an overflow included:
//! fuzz builds have overflow checks on) is a bug.
//!
//! `fuzz/fuzz_targets/<name>.rs` hands libFuzzer's input to the function of the same name;
//! `tests/replay.rs` runs every file of `fuzz/seeds/<name>/` and `fuzz/regressions/<name>/`
//! through it as an ordinary test, so a fixed crash stays fixed without the fuzzer.

mod files;
mod gateway;
mod network;
mod protocol;
mod sim;

pub use files::{
    alert_rule, app_json, ble_replay, gateways_json, network_json, pem, receiver_json, store_url,
};
pub use gateway::{ecdh, gateway_auth, gateway_http_response, gateway_targets, ruuvi_json};
pub use network::{internal_api, receiver_request};

/// The gateways (and their one secret) the receiver_request target's receiver knows.
pub mod receiver_gateways {
    pub use crate::network::{
        BASIC_GATEWAY, BEARER_HMAC_GATEWAY, CERT_GATEWAY, ROTATING_GATEWAY, SECRET,
        WHITELISTED_GATEWAY,
    };
}
pub use protocol::{advertisement, gateway_json, mqtt_message, store_roundtrip};
pub use sim::{sim_config_post, sim_http_request};

/// What a fuzz target does with one input.
pub type Target = fn(&[u8]);

/// Every target by name (the names of `fuzz/fuzz_targets/*.rs` and of the seed folders).
pub const TARGETS: &[(&str, Target)] = &[
    ("advertisement", advertisement),
    ("gateway_json", gateway_json),
    ("mqtt_message", mqtt_message),
    ("store_roundtrip", store_roundtrip),
    ("receiver_request", receiver_request),
    ("internal_api", internal_api),
    ("ruuvi_json", ruuvi_json),
    ("gateway_auth", gateway_auth),
    ("gateway_http_response", gateway_http_response),
    ("gateway_targets", gateway_targets),
    ("ecdh", ecdh),
    ("pem", pem),
    ("ble_replay", ble_replay),
    ("alert_rule", alert_rule),
    ("receiver_json", receiver_json),
    ("network_json", network_json),
    ("gateways_json", gateways_json),
    ("app_json", app_json),
    ("store_url", store_url),
    ("sim_config_post", sim_config_post),
    ("sim_http_request", sim_http_request),
];

/// Splits the input at its first newline: (first line, the rest).
fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// One current-thread runtime per fuzzing thread: building one per input would be most of
/// the work.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
    }
    RUNTIME.with(|rt| rt.block_on(f))
}
