//! Request signatures: the firmware's `Ruuvi-HMAC-SHA256` header and the Ruuvi Network
//! Gateway API's `x-ruuvi-signature` (ruuvi-network-api §2).

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Header the firmware puts on every POST.
pub const FIRMWARE_SIGNATURE_HEADER: &str = "Ruuvi-HMAC-SHA256";
/// Response header with which a server replaces the firmware's HMAC key.
pub const FIRMWARE_KEY_HEADER: &str = "Ruuvi-HMAC-KEY";
/// Gateway API (seed) headers.
pub const NETWORK_SIGNATURE_HEADER: &str = "x-ruuvi-signature";
pub const NETWORK_NONCE_HEADER: &str = "x-ruuvi-nonce";
pub const NETWORK_TIMESTAMP_HEADER: &str = "x-ruuvi-timestamp";

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac
}

fn verify_hex(mac: HmacSha256, signature_hex: &str) -> bool {
    let Ok(given) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    // Constant-time comparison inside `verify_slice`; upper-case hex decodes the same.
    mac.verify_slice(&given).is_ok()
}

/// `Ruuvi-HMAC-SHA256` value: lower-case hex HMAC-SHA256 of the exact body bytes. The key
/// starts as the gateway's device id string (`XX:XX:XX:XX:XX:XX:XX:XX`).
pub fn firmware_signature(key: &[u8], body: &[u8]) -> String {
    hex::encode(hmac_sha256(key, &[body]).finalize().into_bytes())
}

/// Checks a `Ruuvi-HMAC-SHA256` header value (either hex case) in constant time.
pub fn verify_firmware_signature(key: &[u8], body: &[u8], signature_hex: &str) -> bool {
    verify_hex(hmac_sha256(key, &[body]), signature_hex)
}

/// The seed's shared secret: `deviceId + deviceAddr` (plain string concatenation).
pub fn network_secret(device_id: &str, device_addr: &str) -> String {
    format!("{device_id}{device_addr}")
}

/// `x-ruuvi-signature`: HMAC-SHA256 with key = secret over `secret + nonce + timestamp + body`,
/// lower-case hex. (The seed stops after creating the HMAC; hex digest is our documented
/// assumption.)
pub fn network_signature(secret: &str, nonce: &str, timestamp: &str, body: &[u8]) -> String {
    let mac = hmac_sha256(
        secret.as_bytes(),
        &[
            secret.as_bytes(),
            nonce.as_bytes(),
            timestamp.as_bytes(),
            body,
        ],
    );
    hex::encode(mac.finalize().into_bytes())
}

/// Checks an `x-ruuvi-signature` value (either hex case) in constant time.
pub fn verify_network_signature(
    secret: &str,
    nonce: &str,
    timestamp: &str,
    body: &[u8],
    signature_hex: &str,
) -> bool {
    let mac = hmac_sha256(
        secret.as_bytes(),
        &[
            secret.as_bytes(),
            nonce.as_bytes(),
            timestamp.as_bytes(),
            body,
        ],
    );
    verify_hex(mac, signature_hex)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // Vectors computed independently with Python's hmac module:
    //   hmac.new(key, body, hashlib.sha256).hexdigest()
    const DEVICE_ID: &str = "00:11:22:33:44:55:66:77";
    const BODY: &str = FIRMWARE_VECTOR_BODY;
    pub(crate) const FIRMWARE_VECTOR_BODY: &str = "{\n  \"data\": {\n    \"coordinates\": \"\",\n    \"timestamp\": 1787300000,\n    \"nonce\": 2636366621,\n    \"gw_mac\": \"C8:25:2D:8E:9C:2C\",\n    \"tags\": {\n    }\n  }\n}";

    #[test]
    fn firmware_vector() {
        let sig = firmware_signature(DEVICE_ID.as_bytes(), BODY.as_bytes());
        assert_eq!(sig, FIRMWARE_VECTOR_SIG);
        assert!(verify_firmware_signature(
            DEVICE_ID.as_bytes(),
            BODY.as_bytes(),
            &sig
        ));
        assert!(verify_firmware_signature(
            DEVICE_ID.as_bytes(),
            BODY.as_bytes(),
            &sig.to_uppercase()
        ));
        assert!(!verify_firmware_signature(
            b"other key",
            BODY.as_bytes(),
            &sig
        ));
        let mut tampered = BODY.to_string();
        tampered.push(' ');
        assert!(!verify_firmware_signature(
            DEVICE_ID.as_bytes(),
            tampered.as_bytes(),
            &sig
        ));
        assert!(!verify_firmware_signature(
            DEVICE_ID.as_bytes(),
            BODY.as_bytes(),
            "not hex"
        ));
        assert!(!verify_firmware_signature(
            DEVICE_ID.as_bytes(),
            BODY.as_bytes(),
            &sig[..62]
        ));
    }

    #[test]
    fn network_vector() {
        let secret = network_secret(DEVICE_ID, "C8:25:2D:8E:9C:2C");
        assert_eq!(secret, "00:11:22:33:44:55:66:77C8:25:2D:8E:9C:2C");
        let body = br#"{"data":{"coordinates":"","timestamp":1700000000,"gwmac":"11:22:33:AA:BB:CC","tags":{}}}"#;
        let sig = network_signature(&secret, "12345", "1700000000", body);
        assert_eq!(sig, NETWORK_VECTOR_SIG);
        assert!(verify_network_signature(
            &secret,
            "12345",
            "1700000000",
            body,
            &sig.to_uppercase()
        ));
        assert!(!verify_network_signature(
            &secret,
            "12346",
            "1700000000",
            body,
            &sig
        ));
        assert!(!verify_network_signature(
            &secret,
            "12345",
            "1700000001",
            body,
            &sig
        ));
    }

    const FIRMWARE_VECTOR_SIG: &str =
        "9355364680d600eb5d972b482db65d135b738f9350f6a24f9b4e435ea2ff9acb";
    const NETWORK_VECTOR_SIG: &str =
        "be22e60b19eed0e29b79b1478839bc825051b36af60d35c73ed9885bc7dce9ad";
}
