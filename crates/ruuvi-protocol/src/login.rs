//! The gateway's "Ruuvi interactive" login hash (gateway-local-api §3.3–§3.4).

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// The stored form of a LAN password: `md5_hex(user ":" realm ":" password)`, lower case.
pub fn stored_password_hash(user: &str, realm: &str, password: &str) -> String {
    hex::encode(Md5::digest(format!("{user}:{realm}:{password}")))
}

/// What the client POSTs to `/auth` as `password`: `sha256_hex(challenge ":" stored_hash)`.
pub fn login_password_hash(challenge: &str, stored_hash: &str) -> String {
    hex::encode(Sha256::digest(format!("{challenge}:{stored_hash}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vector() {
        let stored = stored_password_hash("Admin", "RuuviGatewayAABB", "00:11:22:33:44:55:66:77");
        assert_eq!(stored, "bb8aa687359c42df2fba7839bc792b4d");
        assert_eq!(
            login_password_hash(
                "03601dc11c92170713b68d4bfe430899b61c3df9c2559a9b7bce70ab451d9ade",
                &stored
            ),
            "afe9fdeee1ebfb38ffff038fc62aa5b90fce7aa50e302280708dc0b112b0776b"
        );
    }
}
