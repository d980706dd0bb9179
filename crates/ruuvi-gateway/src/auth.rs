//! LAN authentication (spec §3): the challenges the gateway sends, what a client answers, and
//! the auth JSON. Pure functions; the exchange itself is in [`crate::client`].

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use md5::{Digest as _, Md5};
use rand_core::RngCore;
use ruuvi_secrets::Sensitive;

/// How to authenticate to a gateway.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Nothing: works for `lan_auth_allow` (and the hotspot).
    None,
    /// User and password for the interactive (default/ruuvi), Basic and Digest modes. For the
    /// factory default the user is `Admin` and the password the device id on the label.
    Password {
        user: String,
        password: Sensitive<String>,
    },
    /// An API key (`Authorization: Bearer`): the read-only or the read-write one. Works in
    /// every mode, `lan_auth_deny` included.
    ApiKey(Sensitive<String>),
}

/// A `WWW-Authenticate` challenge, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `x-ruuvi-interactive realm=… challenge=… session_cookie=… session_id=…`.
    Interactive {
        realm: String,
        challenge: String,
        session_cookie: String,
        session_id: String,
    },
    Basic {
        realm: String,
    },
    /// The firmware's Digest (no commas, `qop="auth"`).
    Digest {
        realm: String,
        nonce: String,
        opaque: String,
    },
}

/// `name="value"` or `name=value` in a parameter list separated by spaces and/or commas.
fn param(header: &str, name: &str) -> Option<String> {
    let mut rest = header;
    while let Some(at) = rest.find(&format!("{name}=")) {
        let before = rest[..at].chars().last();
        let after = &rest[at + name.len() + 1..];
        if before.is_none_or(|c| c == ' ' || c == ',') {
            return Some(match after.strip_prefix('"') {
                Some(quoted) => quoted.split('"').next().unwrap_or("").to_string(),
                None => after.split([' ', ',']).next().unwrap_or("").to_string(),
            });
        }
        rest = after;
    }
    None
}

impl Challenge {
    pub fn parse(header: &str) -> Option<Self> {
        let (scheme, params) = header.trim().split_once(' ')?;
        let p = |name| param(params, name);
        match scheme.to_ascii_lowercase().as_str() {
            "x-ruuvi-interactive" => Some(Challenge::Interactive {
                realm: p("realm")?,
                challenge: p("challenge")?,
                session_cookie: p("session_cookie").unwrap_or_else(|| "RUUVISESSION".into()),
                session_id: p("session_id")?,
            }),
            "basic" => Some(Challenge::Basic {
                realm: p("realm").unwrap_or_default(),
            }),
            "digest" => Some(Challenge::Digest {
                realm: p("realm")?,
                nonce: p("nonce")?,
                opaque: p("opaque").unwrap_or_default(),
            }),
            _ => None,
        }
    }
}

/// The body of `POST /auth` for the interactive login (spec §3.4).
pub fn interactive_login_body(
    user: &str,
    password: &Sensitive<String>,
    realm: &str,
    challenge: &str,
) -> String {
    let stored = ruuvi_protocol::login::stored_password_hash(user, realm, password.expose());
    let hash = ruuvi_protocol::login::login_password_hash(challenge, &stored);
    serde_json::json!({"login": user, "password": hash}).to_string()
}

/// `Authorization: Basic …`: the gateway compares this token with its stored value.
pub fn basic_authorization(user: &str, password: &Sensitive<String>) -> Sensitive<String> {
    Sensitive::new(format!(
        "Basic {}",
        B64.encode(format!("{user}:{}", password.expose()))
    ))
}

/// `Authorization: Digest …` as the firmware checks it: HA2 always hashes `GET:<uri>` whatever
/// the method, `qop` and `nc` unquoted and followed by commas.
pub fn digest_authorization(
    user: &str,
    password: &Sensitive<String>,
    realm: &str,
    nonce: &str,
    opaque: &str,
    uri: &str,
    nc: u32,
) -> Sensitive<String> {
    let mut cnonce = [0u8; 8];
    rand_core::OsRng.fill_bytes(&mut cnonce);
    let cnonce = hex::encode(cnonce);
    let ha1 = hex::encode(Md5::digest(format!("{user}:{realm}:{}", password.expose())));
    let ha2 = hex::encode(Md5::digest(format!("GET:{uri}")));
    let nc = format!("{nc:08x}");
    let response = hex::encode(Md5::digest(format!(
        "{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"
    )));
    Sensitive::new(format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", qop=auth, nc={nc}, cnonce=\"{cnonce}\", response=\"{response}\", opaque=\"{opaque}\""
    ))
}

/// The auth JSON (spec §3.7) in every generation: `success`-style (≤ v1.13) or with
/// `fw_ver`/`lan` (v1.14+), version fields optional (hidden from strangers after v1.17.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthInfo {
    #[serde(default)]
    pub gateway_name: String,
    #[serde(default)]
    pub fw_ver: Option<String>,
    #[serde(default)]
    pub nrf52_fw_ver: Option<String>,
    #[serde(default)]
    pub lan_auth_type: String,
    #[serde(default)]
    pub lan: Option<bool>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub success: Option<bool>,
}

impl AuthInfo {
    /// Read as loosely as the gateway's own web page reads it: any JSON object, each field
    /// taken when it has a usable value and skipped otherwise (`lan`/`success` as `true`/`false`,
    /// 0/1 or their strings: Ruuvi's own development simulator writes 0/1). One odd field must
    /// not throw away the name, firmware and the firmware's own error message.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let object = value.as_object()?;
        let text = |key: &str| match object.get(key)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let flag = |key: &str| match object.get(key)? {
            serde_json::Value::Bool(b) => Some(*b),
            serde_json::Value::Number(n) => n.as_f64().map(|v| v != 0.0),
            serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        };
        Some(AuthInfo {
            gateway_name: text("gateway_name").unwrap_or_default(),
            fw_ver: text("fw_ver").filter(|v| !v.is_empty()),
            nrf52_fw_ver: text("nrf52_fw_ver").filter(|v| !v.is_empty()),
            lan_auth_type: text("lan_auth_type").unwrap_or_default(),
            lan: flag("lan"),
            message: text("message").filter(|m| !m.is_empty()),
            success: flag("success"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_in_the_firmwares_own_forms() {
        let c = Challenge::parse(r#"x-ruuvi-interactive realm="RuuviGateway9C2C" challenge="ab12" session_cookie="RUUVISESSION" session_id="QWERTYUIOPASDFGH""#).unwrap();
        assert_eq!(
            c,
            Challenge::Interactive {
                realm: "RuuviGateway9C2C".into(),
                challenge: "ab12".into(),
                session_cookie: "RUUVISESSION".into(),
                session_id: "QWERTYUIOPASDFGH".into()
            }
        );
        assert_eq!(
            Challenge::parse(r#"Basic realm="RuuviGateway9C2C", charset="UTF-8""#),
            Some(Challenge::Basic {
                realm: "RuuviGateway9C2C".into()
            })
        );
        let d = Challenge::parse(
            r#"Digest realm="RuuviGateway9C2C" qop="auth" nonce="n1" opaque="o1""#,
        )
        .unwrap();
        assert_eq!(
            d,
            Challenge::Digest {
                realm: "RuuviGateway9C2C".into(),
                nonce: "n1".into(),
                opaque: "o1".into()
            }
        );
        assert_eq!(Challenge::parse("Negotiate abc"), None);
        // `challenge=` must not be found inside `session_cookie=`-like names.
        assert_eq!(
            param(r#"xchallenge="1" challenge="2""#, "challenge").as_deref(),
            Some("2")
        );
    }

    #[test]
    fn login_body_uses_the_spec_vector() {
        // realm RuuviGatewayAABB, Admin / 00:11:…:77 (spec §3.4).
        let body = interactive_login_body(
            "Admin",
            &Sensitive::new("00:11:22:33:44:55:66:77".to_string()),
            "RuuviGatewayAABB",
            "03601dc11c92170713b68d4bfe430899b61c3df9c2559a9b7bce70ab451d9ade",
        );
        assert_eq!(
            body,
            r#"{"login":"Admin","password":"afe9fdeee1ebfb38ffff038fc62aa5b90fce7aa50e302280708dc0b112b0776b"}"#
        );
    }

    #[test]
    fn auth_json_of_every_generation() {
        let old = AuthInfo::parse(br#"{"success": false, "gateway_name": "Configure Ruuvi Gateway 9C2C", "lan_auth_type": "lan_auth_default"}"#).unwrap();
        assert_eq!((old.success, old.fw_ver), (Some(false), None));
        let new = AuthInfo::parse(br#"{"gateway_name": "RuuviGateway9C2C", "fw_ver": "v1.17.3", "nrf52_fw_ver": "v2.0.0", "lan_auth_type": "lan_auth_default", "lan": true, "message": "Incorrect password"}"#).unwrap();
        assert_eq!(new.fw_ver.as_deref(), Some("v1.17.3"));
        assert_eq!(new.message.as_deref(), Some("Incorrect password"));
        let hidden = AuthInfo::parse(br#"{"gateway_name": "RuuviGateway9C2C", "lan_auth_type": "lan_auth_ruuvi", "lan": true}"#).unwrap();
        assert_eq!(hidden.fw_ver, None);
        // `lan` as 0/1 (Ruuvi's development simulator): the rest is kept, the message too.
        let numeric = AuthInfo::parse(br#"{"gateway_name": "RuuviGateway9C2C", "fw_ver": "v1.17.3", "lan_auth_type": "lan_auth_ruuvi", "lan": 1, "message": "Incorrect password"}"#).unwrap();
        assert_eq!(
            (
                numeric.lan,
                numeric.fw_ver.as_deref(),
                numeric.message.as_deref()
            ),
            (Some(true), Some("v1.17.3"), Some("Incorrect password"))
        );
        assert_eq!(AuthInfo::parse(br#"{"lan": 0}"#).unwrap().lan, Some(false));
        assert_eq!(
            AuthInfo::parse(br#"{"lan": "true"}"#).unwrap().lan,
            Some(true)
        );
        let odd = AuthInfo::parse(
            br#"{"gateway_name": 7, "lan": [], "lan_auth_type": "lan_auth_basic"}"#,
        )
        .unwrap();
        assert_eq!((odd.gateway_name.as_str(), odd.lan), ("7", None));
        assert_eq!(odd.lan_auth_type, "lan_auth_basic");
        assert_eq!(AuthInfo::parse(b"[1]"), None);
        assert_eq!(AuthInfo::parse(b"<html>"), None);
        assert!(format!(
            "{:?}",
            basic_authorization("u", &Sensitive::new("p".into()))
        )
        .contains("redacted"));
    }
}
