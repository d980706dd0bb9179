//! What the receiver expects of each gateway.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::Sensitive;

/// The `Authorization` a gateway must send (spec §7.1), matching its `http_auth`.
#[derive(Debug, Clone)]
pub enum ExpectedAuth {
    None,
    Basic {
        user: String,
        password: Sensitive<String>,
    },
    Bearer(Sensitive<String>),
    /// `Authorization: Token <key>`.
    Token(Sensitive<String>),
    /// `Authorization: <key>` (raw).
    ApiKey(Sensitive<String>),
}

impl ExpectedAuth {
    /// The header value that is expected, if any.
    fn expected_header(&self) -> Option<Sensitive<String>> {
        match self {
            ExpectedAuth::None => None,
            ExpectedAuth::Basic { user, password } => Some(Sensitive::new(format!(
                "Basic {}",
                B64.encode(format!("{user}:{}", password.expose()))
            ))),
            ExpectedAuth::Bearer(t) => Some(Sensitive::new(format!("Bearer {}", t.expose()))),
            ExpectedAuth::Token(k) => Some(Sensitive::new(format!("Token {}", k.expose()))),
            ExpectedAuth::ApiKey(k) => Some(k.clone()),
        }
    }

    /// Whether the request's `Authorization` satisfies this (compared in constant time).
    pub fn accepts(&self, header: Option<&str>) -> bool {
        match self.expected_header() {
            None => true,
            Some(expected) => {
                header.is_some_and(|h| constant_time_eq(h.as_bytes(), expected.expose().as_bytes()))
            }
        }
    }
}

/// Equal bytes, in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How a gateway's `Ruuvi-HMAC-SHA256` is checked.
#[derive(Debug, Clone)]
pub enum HmacCheck {
    /// Not checked.
    Off,
    /// Required, with this key (the gateway's device id unless it was changed).
    Key(Sensitive<String>),
    /// Required; the receiver answers a post signed with `device_id` with a fresh random key
    /// (`Ruuvi-HMAC-KEY`), which the gateway uses from then on until it reboots and falls back
    /// to its device id (then it gets a new key again).
    Rotating { device_id: Sensitive<String> },
}

#[derive(Debug, Clone)]
pub struct GatewayPolicy {
    pub auth: ExpectedAuth,
    /// The gateway must present a client certificate from our CA issued to its MAC.
    pub require_client_cert: bool,
    pub hmac: HmacCheck,
    /// Seconds between the gateway's posts, sent as `X-Ruuvi-Gateway-Rate` (1…3600).
    pub rate_s: Option<u32>,
}

impl Default for GatewayPolicy {
    fn default() -> Self {
        Self {
            auth: ExpectedAuth::None,
            require_client_cert: false,
            hmac: HmacCheck::Off,
            rate_s: None,
        }
    }
}

/// What to do with posts from gateways that have no policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownGateways {
    /// Take their data and list them as new (no auth, no HMAC expected).
    #[default]
    AcceptAsNew,
    Reject,
}

/// Every gateway's policy, by MAC (the `gw_mac` of its posts).
#[derive(Debug, Clone, Default)]
pub struct Policies {
    pub gateways: HashMap<MacAddress, GatewayPolicy>,
    pub unknown: UnknownGateways,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_per_kind() {
        let s = |v: &str| Sensitive::new(v.to_string());
        assert!(ExpectedAuth::None.accepts(None));
        let basic = ExpectedAuth::Basic {
            user: "user1".into(),
            password: s("pass1"),
        };
        assert!(basic.accepts(Some("Basic dXNlcjE6cGFzczE=")));
        assert!(!basic.accepts(Some("Basic dXNlcjE6cGFzczI=")));
        assert!(!basic.accepts(None));
        assert!(ExpectedAuth::Bearer(s("t")).accepts(Some("Bearer t")));
        assert!(!ExpectedAuth::Bearer(s("t")).accepts(Some("Token t")));
        assert!(ExpectedAuth::Token(s("k")).accepts(Some("Token k")));
        assert!(ExpectedAuth::ApiKey(s("raw-k")).accepts(Some("raw-k")));
        assert!(!ExpectedAuth::ApiKey(s("raw-k")).accepts(Some("Bearer raw-k")));
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd"));
    }
}
