//! The gateway's LAN access (gateway-local-api §3.1, §3.6, the `lan_auth_*` rules of §6.3): how
//! people and programs log in over the LAN, and its two API keys. Changing it is the one push
//! that can lock Ruuvi Desk out, so it is not an ordinary [`crate::push::push_profile`]:
//!
//! 1. log in as now, read the configuration, check the change (a change that leaves no way back
//!    in for the credentials Ruuvi Desk will use afterwards is refused);
//! 2. post it — the firmware drops every login session when the type, user or password changes;
//! 3. prove the credentials Ruuvi Desk will use from now on: a fresh login with them and a read
//!    back that shows the change;
//! 4. if that fails, put the previous access back with whichever credentials still get in (the
//!    new ones, the old ones), the old password's hash recomputed from the password we held.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rand_core::RngCore;
use ruuvi_secrets::Sensitive;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::auth::Credentials;
use crate::client::GatewayClient;
use crate::config::GatewayConfig;
use crate::push::{log_in_and_read, GatewayState, Progress, PushOutcome};
use crate::GatewayError;

/// How people log in over the LAN (`lan_auth_type` and its user and password).
#[derive(Debug, Clone)]
pub enum LanLogin {
    /// The factory login: user `Admin`, the device id on the label as password.
    Default,
    /// The web page's own login with a user and password of one's choice.
    Ruuvi {
        user: String,
        password: Sensitive<String>,
    },
    Basic {
        user: String,
        password: Sensitive<String>,
    },
    Digest {
        user: String,
        password: Sensitive<String>,
    },
    /// No password at all.
    Allow,
    /// No LAN access but with an API key.
    Deny,
}

impl LanLogin {
    /// The stored `lan_auth_type`.
    pub fn kind(&self) -> &'static str {
        match self {
            LanLogin::Default => "lan_auth_default",
            LanLogin::Ruuvi { .. } => "lan_auth_ruuvi",
            LanLogin::Basic { .. } => "lan_auth_basic",
            LanLogin::Digest { .. } => "lan_auth_digest",
            LanLogin::Allow => "lan_auth_allow",
            LanLogin::Deny => "lan_auth_deny",
        }
    }

    fn user_and_password(&self) -> Option<(&str, &Sensitive<String>)> {
        match self {
            LanLogin::Ruuvi { user, password }
            | LanLogin::Basic { user, password }
            | LanLogin::Digest { user, password } => Some((user, password)),
            _ => None,
        }
    }

    /// The login these credentials would be, for `kind` (the gateway's current type).
    fn from_credentials(kind: &str, credentials: &Credentials) -> Option<LanLogin> {
        let (user, password) = match credentials {
            Credentials::Password { user, password } => (user.clone(), password.clone()),
            _ => (String::new(), Sensitive::new(String::new())),
        };
        Some(match kind {
            "lan_auth_default" => LanLogin::Default,
            "lan_auth_ruuvi" if !user.is_empty() => LanLogin::Ruuvi { user, password },
            "lan_auth_basic" if !user.is_empty() => LanLogin::Basic { user, password },
            "lan_auth_digest" if !user.is_empty() => LanLogin::Digest { user, password },
            "lan_auth_allow" => LanLogin::Allow,
            "lan_auth_deny" => LanLogin::Deny,
            _ => return None,
        })
    }
}

/// What happens to one API key.
#[derive(Debug, Clone, Default)]
pub enum KeyChange {
    #[default]
    Keep,
    Set(Sensitive<String>),
    Remove,
}

/// LAN access as Ruuvi Desk sets it.
#[derive(Debug, Clone, Default)]
pub struct LanAccessProfile {
    /// `None`: the login stays as it is.
    pub login: Option<LanLogin>,
    /// The read-only key (`lan_auth_api_key`).
    pub api_key: KeyChange,
    /// The read-write key (`lan_auth_api_key_rw`).
    pub api_key_rw: KeyChange,
}

impl LanLogin {
    /// The login a person chose: `default`, `ruuvi`, `basic`, `digest`, `allow` or `deny`
    /// (with or without the `lan_auth_` prefix); the three with a password need `user` and
    /// `password`.
    pub fn parse(
        kind: &str,
        user: &str,
        password: Option<Sensitive<String>>,
    ) -> Result<LanLogin, GatewayError> {
        let kind = kind.strip_prefix("lan_auth_").unwrap_or(kind);
        let with_password = |make: fn(String, Sensitive<String>) -> LanLogin| {
            let password = password
                .clone()
                .filter(|p| !p.expose().is_empty())
                .ok_or_else(|| {
                    GatewayError::BadInput(format!("the {kind} login needs a new password"))
                })?;
            if user.trim().is_empty() {
                return Err(GatewayError::BadInput(format!(
                    "the {kind} login needs a user"
                )));
            }
            Ok(make(user.trim().to_string(), password))
        };
        match kind {
            "default" => Ok(LanLogin::Default),
            "ruuvi" => with_password(|user, password| LanLogin::Ruuvi { user, password }),
            "basic" => with_password(|user, password| LanLogin::Basic { user, password }),
            "digest" => with_password(|user, password| LanLogin::Digest { user, password }),
            "allow" => Ok(LanLogin::Allow),
            "deny" => Ok(LanLogin::Deny),
            other => Err(GatewayError::BadInput(format!(
                "login {other:?}: default, ruuvi, basic, digest, allow or deny"
            ))),
        }
    }
}

impl LanAccessProfile {
    /// What Ruuvi Desk logs in with once this applies: a new read-write key; else the key it
    /// uses `now` if that stays (a login change does not touch it); else the new login's user
    /// and password; else nothing for `allow`; else what it uses now.
    pub fn credentials_after(&self, now: &Credentials) -> Credentials {
        match (&self.api_key_rw, &self.login) {
            (KeyChange::Set(k), _) => Credentials::ApiKey(k.clone()),
            (KeyChange::Keep, _) if matches!(now, Credentials::ApiKey(_)) => now.clone(),
            (_, Some(login)) if login.user_and_password().is_some() => {
                let (user, password) = login.user_and_password().expect("just checked");
                Credentials::Password {
                    user: user.to_string(),
                    password: password.clone(),
                }
            }
            (_, Some(LanLogin::Allow)) => Credentials::None,
            _ => now.clone(),
        }
    }

    /// The new LAN password, if this sets one.
    pub fn new_password(&self) -> Option<&Sensitive<String>> {
        self.login
            .as_ref()
            .and_then(|l| l.user_and_password())
            .map(|(_, p)| p)
    }
}

/// A new API key as the gateway's web page makes one: base64 of SHA-256 of 32 random bytes
/// (44 characters).
pub fn generate_api_key() -> Sensitive<String> {
    let mut seed = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut seed);
    Sensitive::new(B64.encode(Sha256::digest(seed)))
}

/// The realm a gateway's password hashes are made with: its host name `RuuviGatewayXXXX`
/// (the last two bytes of its MAC), or on ≤ v1.13 its hotspot name (§3.2).
pub fn realm(config: &GatewayConfig) -> Option<String> {
    let mac = config.gw_mac()?;
    let hex: String = mac.chars().filter(char::is_ascii_hexdigit).collect();
    if hex.len() != 12 {
        return None;
    }
    let suffix = hex[8..].to_ascii_uppercase();
    let legacy = config
        .fw_ver()
        .and_then(crate::FirmwareVersion::parse)
        .is_some_and(|f| !f.has_http_backend_settings());
    Some(if legacy {
        format!("Configure Ruuvi Gateway {suffix}")
    } else {
        format!("RuuviGateway{suffix}")
    })
}

fn bad(message: impl Into<String>) -> GatewayError {
    GatewayError::BadInput(message.into())
}

/// The body keys that set `login` on a gateway with `realm` (the password as the firmware
/// stores it, §3.1: an MD5 hash with the realm, or for Basic the base64 token).
fn login_body(login: &LanLogin, realm: &str, body: &mut Map<String, Value>) {
    body.insert("lan_auth_type".into(), login.kind().into());
    if let Some((user, password)) = login.user_and_password() {
        let stored = match login {
            LanLogin::Basic { .. } => B64.encode(format!("{user}:{}", password.expose())),
            _ => ruuvi_protocol::login::stored_password_hash(user, realm, password.expose()),
        };
        body.insert("lan_auth_user".into(), user.into());
        body.insert("lan_auth_pass".into(), stored.into());
    }
}

fn key_body(change: &KeyChange, key: &str, body: &mut Map<String, Value>) {
    match change {
        KeyChange::Keep => {}
        KeyChange::Set(k) => {
            body.insert(key.into(), k.expose().clone().into());
        }
        KeyChange::Remove => {
            body.insert(key.into(), "".into());
        }
    }
}

impl LanAccessProfile {
    /// Refuses what the firmware would mangle and what would leave Ruuvi Desk without a way in
    /// with `after`, the credentials it will use from now on.
    pub fn check(&self, current: &GatewayConfig, after: &Credentials) -> Result<(), GatewayError> {
        if let Some((user, password)) = self.login.as_ref().and_then(LanLogin::user_and_password) {
            if user.is_empty() || user.len() > 50 || user.contains(':') {
                return Err(bad("user: 1 to 50 characters, no ':'"));
            }
            if password.expose().is_empty() {
                return Err(bad("the password is empty"));
            }
            if matches!(self.login, Some(LanLogin::Basic { .. }))
                && B64.encode(format!("{user}:{}", password.expose())).len() > 64
            {
                return Err(bad(
                    "user and password are too long for Basic auth (the gateway keeps 64 characters of their token)",
                ));
            }
        }
        for (name, change) in [
            ("read-only", &self.api_key),
            ("read-write", &self.api_key_rw),
        ] {
            if let KeyChange::Set(k) = change {
                let k = k.expose();
                if k.is_empty() || k.len() > 256 || !k.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(bad(format!(
                        "the {name} API key: 1 to 256 printable characters without spaces"
                    )));
                }
            }
        }
        let current_kind = current.lan_auth_type().unwrap_or("lan_auth_default");
        let kind_after: &str = match &self.login {
            Some(l) => l.kind(),
            None => current_kind,
        };
        let rw_after = match &self.api_key_rw {
            KeyChange::Set(_) => true,
            KeyChange::Remove => false,
            KeyChange::Keep => current.bool("lan_auth_api_key_rw_use").unwrap_or(false),
        };
        let locked_out = |why: &str| {
            Err(GatewayError::BadInput(format!(
                "this would lock Ruuvi Desk out: {why}"
            )))
        };
        match after {
            Credentials::ApiKey(k) => match &self.api_key_rw {
                KeyChange::Set(new) if new.expose() != k.expose() => {
                    return locked_out(
                        "it would log in with a read-write key other than the new one",
                    );
                }
                KeyChange::Set(_) => {}
                _ if !rw_after => {
                    return locked_out(
                        "it would log in with an API key but no read-write key would be left",
                    );
                }
                _ => {}
            },
            Credentials::Password { user, password } => {
                let matches = match &self.login {
                    None => !matches!(current_kind, "lan_auth_allow" | "lan_auth_deny"),
                    Some(LanLogin::Default) => user == "Admin",
                    Some(l) => l
                        .user_and_password()
                        .is_some_and(|(u, p)| u == user && p.expose() == password.expose()),
                };
                if !matches {
                    return locked_out(&format!(
                        "it would log in as {user:?}, which the new LAN login ({kind_after}) does not accept"
                    ));
                }
            }
            Credentials::None => {
                if kind_after != "lan_auth_allow" {
                    return locked_out(&format!(
                        "it would log in without a password, which {kind_after} does not allow"
                    ));
                }
            }
        }
        if kind_after == "lan_auth_deny" && !rw_after {
            return locked_out(
                "LAN access denied leaves only API keys, and no read-write key would be left",
            );
        }
        Ok(())
    }

    /// The `POST /ruuvi.json` body (with the keys a partial update must repeat).
    pub fn post_body(&self, current: &GatewayConfig) -> Result<Map<String, Value>, GatewayError> {
        let mut body = current.unchanged_body();
        if let Some(login) = &self.login {
            let realm = realm(current).ok_or_else(|| {
                GatewayError::Protocol(
                    "the gateway did not say its MAC: no realm for the password".into(),
                )
            })?;
            login_body(login, &realm, &mut body);
        }
        key_body(&self.api_key, "lan_auth_api_key", &mut body);
        key_body(&self.api_key_rw, "lan_auth_api_key_rw", &mut body);
        Ok(body)
    }

    /// How `after` (read back) differs from the change.
    pub fn differences(&self, after: &GatewayConfig) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(login) = &self.login {
            let kind = after.lan_auth_type().unwrap_or("");
            // A ruuvi login with the factory user and password is reported as the default one.
            let same = kind == login.kind()
                || (kind == "lan_auth_default"
                    && matches!(login, LanLogin::Ruuvi { user, .. } if user == "Admin"));
            if !same {
                out.push(format!("lan_auth_type is {kind:?}, not {:?}", login.kind()));
            }
            if let Some((user, _)) = login.user_and_password() {
                let got = after.str("lan_auth_user").unwrap_or("");
                if got != user {
                    out.push(format!("lan_auth_user is {got:?}, not {user:?}"));
                }
            }
        }
        for (key, change) in [
            ("lan_auth_api_key_use", &self.api_key),
            ("lan_auth_api_key_rw_use", &self.api_key_rw),
        ] {
            let want = match change {
                KeyChange::Keep => continue,
                KeyChange::Set(_) => true,
                KeyChange::Remove => false,
            };
            if let Some(got) = after.bool(key) {
                if got != want {
                    out.push(format!("{key} is {got}, not {want}"));
                }
            }
        }
        out
    }

    /// A body that puts `before`'s login back, the password's hash recomputed from `held` (the
    /// credentials Ruuvi Desk logged in with before); what cannot be put back is named.
    fn restore_body(
        &self,
        before: &GatewayConfig,
        held: &Credentials,
    ) -> (Map<String, Value>, Vec<String>) {
        let mut body = before.unchanged_body();
        let mut lost = Vec::new();
        if self.login.is_some() {
            let kind = before.lan_auth_type().unwrap_or("lan_auth_default");
            match (LanLogin::from_credentials(kind, held), realm(before)) {
                (Some(login), Some(realm))
                    if login.user_and_password().is_none()
                        || before.str("lan_auth_user")
                            == login.user_and_password().map(|u| u.0) =>
                {
                    login_body(&login, &realm, &mut body)
                }
                _ => lost.push(format!(
                    "the previous {kind} password (Ruuvi Desk did not log in with it)"
                )),
            }
        }
        for (name, change) in [
            ("read-only", &self.api_key),
            ("read-write", &self.api_key_rw),
        ] {
            if !matches!(change, KeyChange::Keep) {
                lost.push(format!(
                    "the previous {name} API key (keys cannot be read back)"
                ));
            }
        }
        (body, lost)
    }
}

/// Changes a gateway's LAN access; `after` is what Ruuvi Desk logs in with from now on (see
/// the module's steps). `client` is logged in as now.
pub async fn push_lan_access(
    client: &mut GatewayClient,
    profile: &LanAccessProfile,
    after: &Credentials,
    progress: &(dyn Fn(Progress) + Sync),
) -> PushOutcome {
    let (mut outcome, before) = match log_in_and_read(client, progress).await {
        Ok(started) => started,
        Err(unchanged) => return unchanged,
    };
    let body = match profile
        .check(&before, after)
        .and_then(|()| profile.post_body(&before))
    {
        Ok(b) => b,
        Err(e) => return outcome.failed(GatewayState::Unchanged, e),
    };
    progress(Progress::Validated);
    let posted = client.post_config(&body).await;
    let problem = match posted {
        // Proof: a fresh login with the credentials of from now on, and the change read back.
        Ok(()) => {
            progress(Progress::Posted);
            let mut proof = client.with_credentials(after.clone());
            let read = match proof.login().await {
                Ok(()) => proof.config().await,
                Err(e) => Err(e),
            };
            match read {
                Ok(read) => {
                    let diffs = profile.differences(&read);
                    if diffs.is_empty() {
                        progress(Progress::Verified);
                        if proof.post_config(&read.unchanged_body()).await.is_ok() {
                            progress(Progress::Resumed);
                        }
                        outcome.state = GatewayState::Applied;
                        outcome.read_back = Some(read);
                        *client = proof;
                        return outcome;
                    }
                    GatewayError::Rejected {
                        status: 200,
                        message: format!(
                            "the gateway did not take the settings: {}",
                            diffs.join("; ")
                        ),
                    }
                }
                Err(e) => GatewayError::Unauthorized(format!(
                    "the new LAN access did not let Ruuvi Desk in ({e})"
                )),
            }
        }
        Err(e) => e,
    };
    progress(Progress::RollingBack {
        reason: problem.to_string(),
    });
    let held = client.credentials().clone();
    let (restore, lost) = profile.restore_body(&before, &held);
    for credentials in [after.clone(), held] {
        let mut back = client.with_credentials(credentials);
        if back.login().await.is_err() {
            continue;
        }
        if back.post_config(&restore).await.is_ok() {
            *client = back;
            return outcome.failed(GatewayState::RolledBack { lost }, problem);
        }
    }
    let mut changed = vec!["the LAN access (no credentials Ruuvi Desk holds get in any more: use the gateway's button or hotspot)".to_string()];
    changed.extend(lost);
    outcome.failed(GatewayState::Partial { changed }, problem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> GatewayConfig {
        GatewayConfig::from_json(v).unwrap()
    }

    fn newest(kind: &str, rw: bool) -> GatewayConfig {
        cfg(
            json!({"fw_ver": "v1.17.3", "gw_mac": "C8:25:2D:8E:9C:2C", "lan_auth_type": kind,
            "lan_auth_user": "Admin", "lan_auth_api_key_use": false, "lan_auth_api_key_rw_use": rw,
            "mqtt_data_format": "ruuvi_raw"}),
        )
    }

    fn pw(user: &str, p: &str) -> Credentials {
        Credentials::Password {
            user: user.into(),
            password: Sensitive::new(p.into()),
        }
    }

    #[test]
    fn realms_and_the_stored_password_forms() {
        assert_eq!(
            realm(&newest("lan_auth_default", false)).unwrap(),
            "RuuviGateway9C2C"
        );
        let old = cfg(json!({"fw_ver": "v1.13.1", "gw_mac": "C8:25:2D:8E:9C:2C"}));
        assert_eq!(realm(&old).unwrap(), "Configure Ruuvi Gateway 9C2C");
        let ruuvi = LanAccessProfile {
            login: Some(LanLogin::Ruuvi {
                user: "Admin".into(),
                password: Sensitive::new("00:11:22:33:44:55:66:77".into()),
            }),
            ..Default::default()
        };
        let c = cfg(json!({"fw_ver": "v1.17.3", "gw_mac": "AA:BB:CC:DD:AA:BB"}));
        // The spec's vector (§3.4): realm RuuviGatewayAABB.
        assert_eq!(
            ruuvi.post_body(&c).unwrap()["lan_auth_pass"],
            "bb8aa687359c42df2fba7839bc792b4d"
        );
        let basic = LanAccessProfile {
            login: Some(LanLogin::Basic {
                user: "u".into(),
                password: Sensitive::new("p".into()),
            }),
            api_key: KeyChange::Remove,
            ..Default::default()
        };
        let body = basic.post_body(&c).unwrap();
        assert_eq!(body["lan_auth_pass"], "dTpw");
        assert_eq!(body["lan_auth_api_key"], "");
        assert!(!body.contains_key("lan_auth_api_key_rw"), "kept");
        let key = generate_api_key();
        assert_eq!(key.expose().len(), 44);
        assert_ne!(key.expose(), generate_api_key().expose());
    }

    #[test]
    fn lock_outs_are_refused() {
        let c = newest("lan_auth_default", false);
        let deny = LanAccessProfile {
            login: Some(LanLogin::Deny),
            ..Default::default()
        };
        let e = deny.check(&c, &pw("Admin", "x")).unwrap_err().to_string();
        assert!(e.contains("lock Ruuvi Desk out"), "{e}");
        // Deny with a new read-write key that Ruuvi Desk then uses: fine.
        let key = generate_api_key();
        let deny_with_key = LanAccessProfile {
            api_key_rw: KeyChange::Set(key.clone()),
            ..deny
        };
        deny_with_key
            .check(&c, &Credentials::ApiKey(key.clone()))
            .unwrap();
        assert!(deny_with_key
            .check(&c, &Credentials::ApiKey(generate_api_key()))
            .is_err());
        // A new password that is not the one Ruuvi Desk will use.
        let ruuvi = LanAccessProfile {
            login: Some(LanLogin::Ruuvi {
                user: "owner".into(),
                password: Sensitive::new("new".into()),
            }),
            ..Default::default()
        };
        assert!(ruuvi.check(&c, &pw("owner", "old")).is_err());
        ruuvi.check(&c, &pw("owner", "new")).unwrap();
        // Removing the read-write key while logging in with one.
        let remove = LanAccessProfile {
            api_key_rw: KeyChange::Remove,
            ..Default::default()
        };
        let with_rw = newest("lan_auth_default", true);
        assert!(remove.check(&with_rw, &Credentials::ApiKey(key)).is_err());
        // Allow: no password needed afterwards.
        let allow = LanAccessProfile {
            login: Some(LanLogin::Allow),
            ..Default::default()
        };
        allow.check(&c, &Credentials::None).unwrap();
        assert!(LanAccessProfile::default()
            .check(&c, &Credentials::None)
            .is_err());
    }

    #[test]
    fn the_read_back_and_the_restore() {
        let ruuvi = LanAccessProfile {
            login: Some(LanLogin::Ruuvi {
                user: "owner".into(),
                password: Sensitive::new("pw".into()),
            }),
            api_key_rw: KeyChange::Set(generate_api_key()),
            ..Default::default()
        };
        let d = ruuvi.differences(&newest("lan_auth_default", false));
        assert_eq!(d.len(), 3, "{d:?}");
        // Restoring a ruuvi login we logged in to recomputes its hash; a key is lost.
        let before = cfg(json!({"fw_ver": "v1.17.3", "gw_mac": "C8:25:2D:8E:9C:2C",
            "lan_auth_type": "lan_auth_ruuvi", "lan_auth_user": "me"}));
        let (body, lost) = ruuvi.restore_body(&before, &pw("me", "old"));
        assert_eq!(body["lan_auth_type"], "lan_auth_ruuvi");
        assert_eq!(
            body["lan_auth_pass"],
            ruuvi_protocol::login::stored_password_hash("me", "RuuviGateway9C2C", "old")
        );
        assert_eq!(lost.len(), 1, "{lost:?}");
        // Logged in with a key: the old password is not known.
        let (body, lost) = ruuvi.restore_body(&before, &Credentials::ApiKey(generate_api_key()));
        assert!(!body.contains_key("lan_auth_pass"));
        assert_eq!(lost.len(), 2, "{lost:?}");
    }
}
