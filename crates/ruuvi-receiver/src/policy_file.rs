//! `<data dir>/receiver.json`: the per-gateway rules as a user (or the app) writes them. No
//! secrets in it; the secrets it names are read from the keychain when it becomes
//! [`Policies`]. Unknown keys are kept out: the file is read into typed fields only.

use std::collections::BTreeMap;
use std::path::Path;

use ruuvi_protocol::MacAddress;
use ruuvi_secrets::{SecretKind, SecretName, SecretStore, Sensitive};

use crate::policy::{ExpectedAuth, GatewayPolicy, HmacCheck, Policies, UnknownGateways};

#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct PolicyFile {
    /// `accept` (the default) or `reject` posts from gateways not listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
    pub gateways: BTreeMap<MacAddress, GatewayEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize, ts_rs::TS)]
#[serde(default)]
pub struct GatewayEntry {
    /// none, basic, bearer, token or api_key; the secret is `receiver-auth/<MAC>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    pub require_client_cert: bool,
    pub hmac: bool,
    /// Give the gateway a random HMAC key (`Ruuvi-HMAC-KEY`) instead of keeping its device id.
    pub rotate_hmac: bool,
    /// Seconds between posts (`X-Ruuvi-Gateway-Rate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
}

impl PolicyFile {
    /// The file at `path`; a missing file is the default (accept every gateway).
    pub fn load(path: &Path) -> Result<Self, String> {
        match std::fs::read(path) {
            Ok(bytes) => Self::parse(&bytes).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// The contents of a `receiver.json`.
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Replaces the file atomically (a running receiver reloads it when it changes).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_vec_pretty(self).expect("plain data");
        let temporary = path.with_extension("json.new");
        std::fs::write(&temporary, text)
            .and_then(|()| std::fs::rename(&temporary, path))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The rules with the secrets they name, read from `secrets`.
    pub fn to_policies(&self, secrets: &dyn SecretStore) -> Result<Policies, String> {
        let secret = |kind, mac: &MacAddress| -> Result<Sensitive<String>, String> {
            let name = SecretName::new(kind, &mac.to_string()).map_err(|e| e.to_string())?;
            secrets
                .get(&name)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("the keychain has no {name} (receiver.json asks for it)"))
        };
        let mut policies = Policies {
            unknown: match self.unknown.as_deref() {
                None | Some("accept") => UnknownGateways::AcceptAsNew,
                Some("reject") => UnknownGateways::Reject,
                Some(other) => {
                    return Err(format!(
                        "receiver.json: unknown {other:?} (accept or reject)"
                    ))
                }
            },
            ..Policies::default()
        };
        for (mac, entry) in &self.gateways {
            let auth = match entry.auth.as_deref().unwrap_or("none") {
                "none" => ExpectedAuth::None,
                "basic" => ExpectedAuth::Basic {
                    user: entry.user.clone(),
                    password: secret(SecretKind::ReceiverAuth, mac)?,
                },
                "bearer" => ExpectedAuth::Bearer(secret(SecretKind::ReceiverAuth, mac)?),
                "token" => ExpectedAuth::Token(secret(SecretKind::ReceiverAuth, mac)?),
                "api_key" => ExpectedAuth::ApiKey(secret(SecretKind::ReceiverAuth, mac)?),
                other => return Err(format!("receiver.json: {mac}: unknown auth {other:?}")),
            };
            let hmac = match (entry.hmac, entry.rotate_hmac) {
                (false, _) => HmacCheck::Off,
                (true, false) => HmacCheck::Key(secret(SecretKind::HmacKey, mac)?),
                (true, true) => HmacCheck::Rotating {
                    device_id: secret(SecretKind::HmacKey, mac)?,
                },
            };
            if entry.rate.is_some_and(|r| !(1..=3600).contains(&r)) {
                return Err(format!(
                    "receiver.json: {mac}: rate must be 1 to 3600 seconds"
                ));
            }
            policies.gateways.insert(
                *mac,
                GatewayPolicy {
                    auth,
                    require_client_cert: entry.require_client_cert,
                    hmac,
                    rate_s: entry.rate,
                },
            );
        }
        Ok(policies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_rules_read_back_identical() {
        let dir = std::env::temp_dir().join(format!("policy-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("receiver.json");
        assert_eq!(PolicyFile::load(&path).unwrap(), PolicyFile::default());
        let mac: MacAddress = "C8:25:2D:8E:9C:2C".parse().unwrap();
        let mut file = PolicyFile::default();
        file.gateways.insert(
            mac,
            GatewayEntry {
                auth: Some("bearer".into()),
                require_client_cert: true,
                ..GatewayEntry::default()
            },
        );
        file.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"C8:25:2D:8E:9C:2C\""), "{text}");
        assert_eq!(PolicyFile::load(&path).unwrap(), file);
        std::fs::write(&path, b"{\"gateways\": 5}").unwrap();
        assert!(PolicyFile::load(&path)
            .unwrap_err()
            .contains("receiver.json"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
