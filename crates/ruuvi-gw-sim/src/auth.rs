//! LAN authentication (gateway-local-api §3): the "Ruuvi interactive" challenge state machine,
//! Basic, Digest, API keys, and the decision table of §3.8.

use std::collections::VecDeque;
use std::net::IpAddr;

use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::config::{GatewayConfig, LanAuth};
use crate::firmware::Firmware;
use crate::http::{Method, Request};
use crate::identity::Identity;
use crate::rng::Rng;

const MAX_SESSIONS: usize = 4;

#[derive(Debug, Clone)]
struct Pending {
    challenge: String,
    session_id: String,
    ip: IpAddr,
}

/// One pending challenge (a new one replaces it) and up to four authorized sessions (FIFO),
/// each bound to the client IP.
#[derive(Debug, Clone)]
pub struct Sessions {
    pending: Option<Pending>,
    authorized: VecDeque<(String, IpAddr)>,
    rng: Rng,
}

/// A fresh challenge to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub challenge: String,
    pub session_id: String,
}

impl Sessions {
    pub fn new(rng: Rng) -> Self {
        Self {
            pending: None,
            authorized: VecDeque::new(),
            rng,
        }
    }

    /// Every new challenge replaces the previous one (two clients logging in break each other).
    pub fn new_challenge(&mut self, ip: IpAddr) -> Challenge {
        let random: [u8; 32] = self.rng.bytes();
        let challenge = hex::encode(Sha256::digest(random));
        let session_id = self.rng.letters(16);
        self.pending = Some(Pending {
            challenge: challenge.clone(),
            session_id: session_id.clone(),
            ip,
        });
        Challenge {
            challenge,
            session_id,
        }
    }

    /// A session that is authorized without a login (`lan_auth_allow`).
    pub fn pre_authorized(&mut self, ip: IpAddr) -> Challenge {
        let c = self.new_challenge(ip);
        self.pending = None;
        self.authorize(c.session_id.clone(), ip);
        c
    }

    fn authorize(&mut self, session_id: String, ip: IpAddr) {
        if self.authorized.len() == MAX_SESSIONS {
            self.authorized.pop_front();
        }
        self.authorized.push_back((session_id, ip));
    }

    pub fn is_authorized(&self, session_id: &str, ip: IpAddr) -> bool {
        !session_id.is_empty()
            && self
                .authorized
                .iter()
                .any(|(s, i)| s == session_id && *i == ip)
    }

    pub fn remove(&mut self, session_id: &str) -> bool {
        let before = self.authorized.len();
        self.authorized.retain(|(s, _)| s != session_id);
        before != self.authorized.len()
    }

    /// Auth settings changed or the gateway rebooted.
    pub fn drop_all(&mut self) {
        self.pending = None;
        self.authorized.clear();
    }

    /// `POST /auth` for the ruuvi scheme.
    pub fn login(
        &mut self,
        cookie: Option<&str>,
        ip: IpAddr,
        body: &[u8],
        cfg: &GatewayConfig,
    ) -> LoginOutcome {
        let Some(pending) = self.pending.clone() else {
            return LoginOutcome::Rejected(None);
        };
        if cookie != Some(pending.session_id.as_str()) || pending.ip != ip {
            return LoginOutcome::Rejected(None);
        }
        let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice::<serde_json::Value>(body)
        else {
            return LoginOutcome::Rejected(None);
        };
        let login = obj.get("login").and_then(|v| v.as_str()).unwrap_or("");
        let password = obj.get("password").and_then(|v| v.as_str()).unwrap_or("");
        if login.is_empty() {
            return LoginOutcome::Rejected(Some("The username is empty"));
        }
        if login != cfg.str("lan_auth_user") {
            return LoginOutcome::Rejected(Some("Incorrect username"));
        }
        let expected = ruuvi_protocol::login::login_password_hash(
            &pending.challenge,
            cfg.secret("lan_auth_pass"),
        );
        if password != expected {
            return LoginOutcome::Rejected(Some("Incorrect password"));
        }
        self.pending = None;
        self.authorize(pending.session_id, ip);
        LoginOutcome::Accepted
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Accepted,
    /// 401 with a new challenge, and this message if any.
    Rejected(Option<&'static str>),
}

/// `x-ruuvi-interactive` challenge header value (space separated, no commas).
pub fn interactive_header(realm: &str, c: &Challenge) -> String {
    format!(
        "x-ruuvi-interactive realm=\"{realm}\" challenge=\"{}\" session_cookie=\"RUUVISESSION\" session_id=\"{}\"",
        c.challenge, c.session_id
    )
}

pub fn basic_header(hostname: &str) -> String {
    format!("Basic realm=\"{hostname}\", charset=\"UTF-8\"")
}

/// The non-standard Digest challenge (no commas).
pub fn digest_header(hostname: &str, rng: &mut Rng) -> String {
    let nonce = hex::encode(Sha256::digest(rng.bytes::<32>()));
    let opaque = hex::encode(Sha256::digest(hostname.as_bytes()));
    format!("Digest realm=\"{hostname}\" qop=\"auth\" nonce=\"{nonce}\" opaque=\"{opaque}\"")
}

fn digest_field<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    let at = header.find(&format!("{name}="))? + name.len() + 1;
    let rest = &header[at..];
    if let Some(quoted) = rest.strip_prefix('"') {
        quoted.split('"').next()
    } else {
        rest.split([',', ' ']).next()
    }
}

/// Digest check as the firmware does it: the method is always `GET`, the nonce is not checked
/// against the one issued, the user name is compared separately.
pub fn digest_ok(authorization: &str, cfg: &GatewayConfig) -> bool {
    let Some(h) = authorization.strip_prefix("Digest ") else {
        return false;
    };
    let field = |n| digest_field(h, n).unwrap_or("");
    if field("username") != cfg.str("lan_auth_user") {
        return false;
    }
    let ha2 = hex::encode(Md5::digest(format!("GET:{}", field("uri"))));
    let expected = hex::encode(Md5::digest(format!(
        "{}:{}:{}:{}:{}:{ha2}",
        cfg.secret("lan_auth_pass"),
        field("nonce"),
        field("nc"),
        field("cnonce"),
        field("qop")
    )));
    !field("response").is_empty() && field("response") == expected
}

pub fn basic_ok(authorization: &str, cfg: &GatewayConfig) -> bool {
    // The token after "Basic " is compared byte for byte with the stored pass.
    authorization.strip_prefix("Basic ").is_some_and(|token| {
        !cfg.secret("lan_auth_pass").is_empty() && token == cfg.secret("lan_auth_pass")
    })
}

/// The auth JSON (§3.7), compact with `", "` separators.
pub fn auth_json(
    id: &Identity,
    lan_auth_type: &str,
    lan: bool,
    authenticated: bool,
    message: Option<&str>,
) -> String {
    let fw = id.firmware;
    if fw.legacy_auth() {
        return format!(
            "{{\"success\": {authenticated}, \"gateway_name\": \"{}\", \"lan_auth_type\": \"{lan_auth_type}\"}}",
            id.realm()
        );
    }
    let mut out = format!("{{\"gateway_name\": \"{}\"", id.hostname());
    if authenticated || !fw.hides_versions_from_strangers() {
        out.push_str(&format!(
            ", \"fw_ver\": \"{}\", \"nrf52_fw_ver\": \"{}\"",
            fw.version_string(),
            fw.nrf52_version()
        ));
    }
    out.push_str(&format!(
        ", \"lan_auth_type\": \"{lan_auth_type}\", \"lan\": {lan}"
    ));
    if let Some(m) = message {
        out.push_str(&format!(", \"message\": \"{m}\""));
    }
    out.push('}');
    out
}

/// What the shared check (§3.8) decides for a non-`/auth` request from the LAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// GET under default/ruuvi without a session: 302 to `/#auth`, maybe with the path cookie.
    Redirect {
        prev_url: Option<String>,
    },
    /// 401 + auth JSON with this `lan_auth_type`, maybe with a `WWW-Authenticate` header.
    Unauthorized {
        reported: &'static str,
        www_authenticate: Option<WwwAuth>,
    },
    /// 403 + auth JSON (`lan_auth_deny`).
    Forbidden,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WwwAuth {
    Basic,
    Digest,
}

/// Which requests are auth-checked: every GET whose path has no dot or ends with `.json`
/// (except `/`), and every POST and DELETE.
pub fn is_checked(req: &Request) -> bool {
    match req.method {
        // `/` is the web UI's index page: a static file.
        Method::Get => {
            !req.path.is_empty() && (!req.path.contains('.') || req.path.ends_with(".json"))
        }
        _ => true,
    }
}

pub fn decide(req: &Request, cfg: &GatewayConfig, sessions: &Sessions, fw: Firmware) -> Decision {
    let authorization = req.header("Authorization").unwrap_or_default();
    // API keys first: they work even under deny.
    if let Some(key) = authorization.strip_prefix("Bearer ") {
        let rw = cfg.secret("lan_auth_api_key_rw");
        let ro = cfg.secret("lan_auth_api_key");
        let read_only_ok = req.method == Method::Get && req.path != "ap.json";
        if !rw.is_empty() && key == rw {
            return Decision::Allowed;
        }
        if !ro.is_empty() && key == ro && read_only_ok {
            return Decision::Allowed;
        }
        return Decision::Unauthorized {
            reported: "lan_auth_bearer",
            www_authenticate: None,
        };
    }
    let session_ok = || {
        req.cookie("RUUVISESSION", 16)
            .is_some_and(|s| sessions.is_authorized(&s, req.peer))
    };
    let interactive = |reported: &'static str| {
        if session_ok() {
            Decision::Allowed
        } else if req.method == Method::Get {
            let prev_url = (!matches!(req.path.as_str(), "ap.json" | "status.json"))
                .then(|| format!("/{}", req.path));
            Decision::Redirect { prev_url }
        } else {
            Decision::Unauthorized {
                reported,
                www_authenticate: None,
            }
        }
    };
    match cfg.lan_auth() {
        LanAuth::Allow if fw.allow_needs_no_session() => Decision::Allowed,
        // Before the #1070 fix a session from GET /auth was needed even in allow mode.
        LanAuth::Allow => interactive("lan_auth_allow"),
        LanAuth::Deny => Decision::Forbidden,
        LanAuth::Default | LanAuth::Ruuvi => interactive(cfg.reported_lan_auth().as_str()),
        LanAuth::Basic if basic_ok(&authorization, cfg) => Decision::Allowed,
        LanAuth::Basic => Decision::Unauthorized {
            reported: "lan_auth_basic",
            www_authenticate: Some(WwwAuth::Basic),
        },
        LanAuth::Digest if digest_ok(&authorization, cfg) => Decision::Allowed,
        LanAuth::Digest => Decision::Unauthorized {
            reported: "lan_auth_digest",
            www_authenticate: Some(WwwAuth::Digest),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg_with(auth: LanAuth, user: &str, pass: &str) -> (Identity, GatewayConfig) {
        let id = Identity::generate(&Rng::new(2), 0, Firmware::Head);
        let mut cfg = GatewayConfig::factory(&id);
        cfg.set_lan_auth(auth, user, pass);
        (id, cfg)
    }

    #[test]
    fn interactive_login_state_machine() {
        let (id, cfg) = cfg_with(LanAuth::Default, "Admin", "");
        let mut cfg = cfg;
        cfg.set_lan_auth(LanAuth::Default, "Admin", &id.default_password_hash());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let mut s = Sessions::new(Rng::new(3));
        let c1 = s.new_challenge(ip);
        assert_eq!(c1.challenge.len(), 64);
        assert!(c1.session_id.chars().all(|c| c.is_ascii_uppercase()) && c1.session_id.len() == 16);
        let good = |c: &Challenge| {
            serde_json::json!({"login": "Admin", "password": ruuvi_protocol::login::login_password_hash(&c.challenge, &id.default_password_hash())}).to_string()
        };
        // A second challenge replaces the first.
        let c2 = s.new_challenge(ip);
        assert_eq!(
            s.login(Some(&c1.session_id), ip, good(&c1).as_bytes(), &cfg),
            LoginOutcome::Rejected(None)
        );
        // Wrong IP, wrong user, wrong hash, empty user.
        assert_eq!(
            s.login(Some(&c2.session_id), other, good(&c2).as_bytes(), &cfg),
            LoginOutcome::Rejected(None)
        );
        assert_eq!(
            s.login(
                Some(&c2.session_id),
                ip,
                br#"{"login":"bob","password":"x"}"#,
                &cfg
            ),
            LoginOutcome::Rejected(Some("Incorrect username"))
        );
        assert_eq!(
            s.login(
                Some(&c2.session_id),
                ip,
                br#"{"login":"Admin","password":"x"}"#,
                &cfg
            ),
            LoginOutcome::Rejected(Some("Incorrect password"))
        );
        assert_eq!(
            s.login(
                Some(&c2.session_id),
                ip,
                br#"{"login":"","password":"x"}"#,
                &cfg
            ),
            LoginOutcome::Rejected(Some("The username is empty"))
        );
        assert_eq!(
            s.login(Some(&c2.session_id), ip, good(&c2).as_bytes(), &cfg),
            LoginOutcome::Accepted
        );
        assert!(s.is_authorized(&c2.session_id, ip));
        assert!(
            !s.is_authorized(&c2.session_id, other),
            "sessions are bound to the IP"
        );
        // Four sessions at most, oldest dropped.
        for _ in 0..4 {
            let c = s.pre_authorized(ip);
            assert!(s.is_authorized(&c.session_id, ip));
        }
        assert!(!s.is_authorized(&c2.session_id, ip));
        s.drop_all();
        assert!(s.authorized.is_empty());
    }

    #[test]
    fn digest_and_basic() {
        let (id, cfg) = cfg_with(LanAuth::Digest, "bob", "");
        let ha1 = ruuvi_protocol::login::stored_password_hash("bob", &id.hostname(), "pw");
        let mut cfg = cfg;
        cfg.set_lan_auth(LanAuth::Digest, "bob", &ha1);
        let ha2 = hex::encode(Md5::digest("GET:/ruuvi.json"));
        let response = hex::encode(Md5::digest(format!("{ha1}:N:00000001:C:auth:{ha2}")));
        let header = format!("Digest username=\"bob\", realm=\"{}\", nonce=\"N\", uri=\"/ruuvi.json\", qop=auth, nc=00000001, cnonce=\"C\", response=\"{response}\", opaque=\"x\"", id.hostname());
        assert!(digest_ok(&header, &cfg));
        assert!(!digest_ok(&header.replace("bob", "eve"), &cfg));
        assert!(!digest_ok(&header.replace(&response, "0"), &cfg));

        let token = "dXNlcjE6cGFzczE="; // user1:pass1
        cfg.set_lan_auth(LanAuth::Basic, "user1", token);
        assert!(basic_ok(&format!("Basic {token}"), &cfg));
        assert!(!basic_ok("Basic dXNlcjE6cGFzczI=", &cfg));
    }

    #[test]
    fn auth_json_per_version() {
        let mut id = Identity::generate(&Rng::new(2), 0, Firmware::V1_17_3);
        id.ble_mac = "C8:25:2D:8E:9C:2C".parse().unwrap();
        assert_eq!(
            auth_json(&id, "lan_auth_default", true, false, None),
            "{\"gateway_name\": \"RuuviGateway9C2C\", \"fw_ver\": \"v1.17.3\", \"nrf52_fw_ver\": \"v2.0.0\", \"lan_auth_type\": \"lan_auth_default\", \"lan\": true}"
        );
        assert!(auth_json(
            &id,
            "lan_auth_default",
            true,
            false,
            Some("Incorrect password")
        )
        .ends_with(", \"message\": \"Incorrect password\"}"));
        id.firmware = Firmware::Head;
        assert_eq!(auth_json(&id, "lan_auth_default", true, false, None), "{\"gateway_name\": \"RuuviGateway9C2C\", \"lan_auth_type\": \"lan_auth_default\", \"lan\": true}");
        id.firmware = Firmware::V1_13;
        assert_eq!(
            auth_json(&id, "lan_auth_default", true, false, None),
            "{\"success\": false, \"gateway_name\": \"Configure Ruuvi Gateway 9C2C\", \"lan_auth_type\": \"lan_auth_default\"}"
        );
    }
}
