//! The Internal API's state across restarts: `network.json` holds the whitelist with its gwinfo
//! times, the registered sensors and the plans; their secrets (gateway signing secrets, sensor
//! secrets, claim codes) go to the keychain, never to the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ruuvi_protocol::MacAddress;
use ruuvi_secrets::{SecretError, SecretKind, SecretName, SecretStore, Sensitive};
use sha2::Digest;

use crate::admin::{RegisteredSensor, Registry, Subscription};
use crate::network::{Whitelist, WhitelistEntry};

#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is damaged: {source}")]
    Damaged {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Keychain(#[from] SecretError),
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct NetworkFile {
    whitelist: Vec<SavedGateway>,
    sensors: Vec<SavedSensor>,
    subscriptions: Vec<Subscription>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct SavedGateway {
    gateway: MacAddress,
    whitelisted_at: i64,
    blocked_at: Option<i64>,
    connected_at: Option<i64>,
    latest_at: Option<i64>,
    invalid_signature_at: Option<i64>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct SavedSensor {
    sensor: MacAddress,
    registered_at: i64,
}

/// Keychain names: `hmac-key/network.<MAC>` (the gateway's signing secret),
/// `internal-api-secret/sensor.<MAC>`, `internal-api-secret/claim.<claim id>`.
fn gateway_secret(mac: MacAddress) -> SecretName {
    SecretName::new(SecretKind::HmacKey, &format!("network.{mac}")).expect("valid id")
}

fn sensor_secret(mac: MacAddress) -> SecretName {
    SecretName::new(SecretKind::InternalApiSecret, &format!("sensor.{mac}")).expect("valid id")
}

fn claim_secret(id: &str) -> Result<SecretName, SecretError> {
    SecretName::new(SecretKind::InternalApiSecret, &format!("claim.{id}"))
}

/// Reads and writes one `network.json`; writes only what changed.
pub struct SavedNetwork {
    path: PathBuf,
    /// (whitelist, registry) versions last written.
    versions: Option<(u64, u64)>,
    /// Secrets already in the keychain: name → SHA-256 of the value.
    in_keychain: HashMap<String, [u8; 32]>,
}

fn digest(value: &Sensitive<String>) -> [u8; 32] {
    sha2::Sha256::digest(value.expose().as_bytes()).into()
}

impl SavedNetwork {
    /// Loads what was saved at `path` (nothing yet is fine). An entry whose secret is missing
    /// from the keychain is left out with a warning: it cannot be checked without it.
    pub fn load(
        path: &Path,
        secrets: &dyn SecretStore,
    ) -> Result<(Self, Whitelist, Registry), SavedError> {
        let contents = match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(SavedError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        Self::from_contents(path, contents.as_deref(), secrets)
    }

    /// [`SavedNetwork::load`] of a file's `contents` (`None`: there is no file yet).
    pub fn from_contents(
        path: &Path,
        contents: Option<&[u8]>,
        secrets: &dyn SecretStore,
    ) -> Result<(Self, Whitelist, Registry), SavedError> {
        let file: NetworkFile = match contents {
            Some(bytes) => serde_json::from_slice(bytes).map_err(|source| SavedError::Damaged {
                path: path.to_path_buf(),
                source,
            })?,
            None => NetworkFile::default(),
        };
        let mut saved = SavedNetwork {
            path: path.to_path_buf(),
            versions: None,
            in_keychain: HashMap::new(),
        };
        let mut fetch = |name: SecretName| -> Result<Option<Sensitive<String>>, SavedError> {
            let value = secrets.get(&name)?;
            match &value {
                Some(v) => {
                    saved
                        .in_keychain
                        .insert(name.as_str().to_string(), digest(v));
                }
                None => tracing::warn!("{name} is missing from the keychain: entry left out"),
            }
            Ok(value)
        };
        let mut whitelist = Whitelist::default();
        for g in file.whitelist {
            let Some(secret) = fetch(gateway_secret(g.gateway))? else {
                continue;
            };
            whitelist.restore(
                g.gateway,
                WhitelistEntry {
                    secret,
                    whitelisted_at: g.whitelisted_at,
                    blocked_at: g.blocked_at,
                    connected_at: g.connected_at,
                    latest_at: g.latest_at,
                    invalid_signature_at: g.invalid_signature_at,
                },
            );
        }
        let mut registry = Registry::default();
        for s in file.sensors {
            if let Some(secret) = fetch(sensor_secret(s.sensor))? {
                let registered_at = s.registered_at;
                registry.sensors.insert(
                    s.sensor,
                    RegisteredSensor {
                        secret,
                        registered_at,
                    },
                );
            }
        }
        for mut plan in file.subscriptions {
            // The plan still governs retention without its code; only claiming needs it.
            plan.claim_code = match claim_secret(&plan.claim_id) {
                Ok(name) => fetch(name)?,
                Err(_) => None,
            };
            registry.subscriptions.push(plan);
        }
        saved.versions = Some((whitelist.version, registry.version));
        Ok((saved, whitelist, registry))
    }

    /// Writes the state if it changed since the last call: new secrets to the keychain first,
    /// then the file (replaced atomically). Returns whether anything was written.
    pub fn save(
        &mut self,
        whitelist: &parking_lot::Mutex<Whitelist>,
        registry: &parking_lot::Mutex<Registry>,
        secrets: &dyn SecretStore,
    ) -> Result<bool, SavedError> {
        // Copy out under the locks; keychain and disk work happen without them.
        let mut file = NetworkFile::default();
        let mut wanted: Vec<(SecretName, Sensitive<String>)> = Vec::new();
        let versions = {
            let w = whitelist.lock();
            let r = registry.lock();
            let versions = (w.version, r.version);
            if Some(versions) == self.versions {
                return Ok(false);
            }
            for (mac, e) in w.entries() {
                wanted.push((gateway_secret(mac), e.secret.clone()));
                file.whitelist.push(SavedGateway {
                    gateway: mac,
                    whitelisted_at: e.whitelisted_at,
                    blocked_at: e.blocked_at,
                    connected_at: e.connected_at,
                    latest_at: e.latest_at,
                    invalid_signature_at: e.invalid_signature_at,
                });
            }
            for (mac, s) in &r.sensors {
                wanted.push((sensor_secret(*mac), s.secret.clone()));
                file.sensors.push(SavedSensor {
                    sensor: *mac,
                    registered_at: s.registered_at,
                });
            }
            for plan in &r.subscriptions {
                if let (Some(code), Ok(name)) = (&plan.claim_code, claim_secret(&plan.claim_id)) {
                    wanted.push((name, code.clone()));
                }
                file.subscriptions.push(plan.clone());
            }
            versions
        };
        file.whitelist.sort_by_key(|g| g.gateway);
        file.sensors.sort_by_key(|s| s.sensor);
        for (name, value) in wanted {
            let d = digest(&value);
            if self.in_keychain.get(name.as_str()) != Some(&d) {
                secrets.set(&name, &value)?;
                self.in_keychain.insert(name.as_str().to_string(), d);
            }
        }
        let io = |source| SavedError::Io {
            path: self.path.clone(),
            source,
        };
        let text = serde_json::to_vec_pretty(&file).expect("plain data");
        let temporary = self.path.with_extension("json.new");
        std::fs::write(&temporary, text).map_err(io)?;
        std::fs::rename(&temporary, &self.path).map_err(io)?;
        self.versions = Some(versions);
        Ok(true)
    }
}
