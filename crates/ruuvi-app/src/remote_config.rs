//! Remote configuration served by this computer: the documents the receiver hands out (see
//! `ruuvi_receiver::ServedConfigs`), kept across restarts without putting a secret on disk —
//! `remote-config.json` holds each document without its secret values, the keychain holds
//! those (`remote-config/<file>`) and the token gateways download with (`remote-config/token`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use ruuvi_gateway::remote_cfg::SECRET_KEYS;
use ruuvi_receiver::{Published, ServedConfigs};
use ruuvi_secrets::{SecretKind, SecretName, SecretStore, Sensitive};
use serde_json::{Map, Value};

use crate::error::DeskError;

const FILE: &str = "remote-config.json";

/// One document as saved: everything but its secret values.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Saved {
    gateway: String,
    version: u32,
    published_at_ms: i64,
    areas: Vec<String>,
    body: Map<String, Value>,
}

/// A served document as the page shows it.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct ServedFile {
    pub file: String,
    pub gateway: String,
    pub version: u32,
    pub published_at_ms: i64,
    /// http, mqtt, scan, time_place.
    pub areas: Vec<String>,
}

/// One download attempt.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct ConfigFetch {
    pub at_ms: i64,
    pub peer: String,
    pub gateway: Option<String>,
    pub file: String,
    pub status: u16,
    pub version: Option<u32>,
}

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct RemoteConfigView {
    /// The path below the receiver's address.
    pub path: String,
    pub files: Vec<ServedFile>,
    /// Newest first.
    pub fetches: Vec<ConfigFetch>,
}

pub(crate) struct RemoteConfigs {
    pub served: Arc<ServedConfigs>,
    path: PathBuf,
    secrets: Arc<dyn SecretStore>,
    saved: Mutex<BTreeMap<String, Saved>>,
}

fn name(id: &str) -> Result<SecretName, DeskError> {
    SecretName::new(SecretKind::RemoteConfig, id).map_err(|e| DeskError::Keychain(e.to_string()))
}

fn keychain(e: impl std::fmt::Display) -> DeskError {
    DeskError::Keychain(e.to_string())
}

impl RemoteConfigs {
    /// Reads what was published before and offers it again (with the token, if there is one).
    /// A document whose secrets the keychain no longer has is dropped (with a warning).
    pub fn load(data_dir: &std::path::Path, secrets: Arc<dyn SecretStore>) -> Self {
        let path = data_dir.join(FILE);
        let saved: BTreeMap<String, Saved> = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; serving no remote configuration", path.display());
                BTreeMap::new()
            }),
            Err(_) => BTreeMap::new(),
        };
        let served = Arc::new(ServedConfigs::default());
        if let Ok(Some(token)) = name("token").and_then(|n| secrets.get(&n).map_err(keychain)) {
            served.set_token(Some(token));
        }
        let mut kept = BTreeMap::new();
        for (file, s) in saved {
            let mut body = s.body.clone();
            match name(&file).and_then(|n| secrets.get(&n).map_err(keychain)) {
                Ok(Some(values)) => {
                    if let Ok(Value::Object(values)) = serde_json::from_str(values.expose()) {
                        body.extend(values);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!("remote configuration {file}: {e}; not served");
                    continue;
                }
            }
            served.restore(
                &file,
                Published {
                    body: Sensitive::new(Value::Object(body).to_string()),
                    version: s.version,
                    published_at_ms: s.published_at_ms,
                },
            );
            kept.insert(file, s);
        }
        Self {
            served,
            path,
            secrets,
            saved: Mutex::new(kept),
        }
    }

    /// The token gateways download with, made (and kept in the keychain) on first use.
    pub fn token(&self) -> Result<Sensitive<String>, DeskError> {
        let n = name("token")?;
        let token = match self.secrets.get(&n).map_err(keychain)? {
            Some(t) => t,
            None => {
                let t = ruuvi_secrets::random_hex(24);
                self.secrets.set(&n, &t).map_err(keychain)?;
                t
            }
        };
        self.served.set_token(Some(token.clone()));
        Ok(token)
    }

    /// Publishes `body` for `gateway` over what it was offered before (keys of earlier areas
    /// stay); returns the new version.
    pub fn publish(
        &self,
        gateway: ruuvi_protocol::MacAddress,
        areas: Vec<String>,
        body: Map<String, Value>,
    ) -> Result<u32, DeskError> {
        let file = ruuvi_receiver::file_for(gateway);
        let mut merged = match self.served.published(&file) {
            Some(p) => match serde_json::from_str(p.body.expose()) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            },
            None => Map::new(),
        };
        merged.extend(body);
        let mut secret_values = Map::new();
        let mut plain = merged.clone();
        for key in SECRET_KEYS {
            if let Some(v) = plain.remove(key) {
                secret_values.insert(key.to_string(), v);
            }
        }
        // Secrets first: a file on disk never points at secrets the keychain does not have.
        let n = name(&file)?;
        if secret_values.is_empty() {
            self.secrets.delete(&n).map_err(keychain)?;
        } else {
            let text = Sensitive::new(Value::Object(secret_values).to_string());
            self.secrets.set(&n, &text).map_err(keychain)?;
        }
        let version = self
            .served
            .publish(&file, Sensitive::new(Value::Object(merged).to_string()));
        let published = self.served.published(&file).expect("just published");
        let mut saved = self.saved.lock();
        let mut all_areas = saved
            .get(&file)
            .map(|s| s.areas.clone())
            .unwrap_or_default();
        for a in areas {
            if !all_areas.contains(&a) {
                all_areas.push(a);
            }
        }
        saved.insert(
            file,
            Saved {
                gateway: gateway.to_string(),
                version,
                published_at_ms: published.published_at_ms,
                areas: all_areas,
                body: plain,
            },
        );
        let text = serde_json::to_vec_pretty(&*saved).expect("plain data");
        let temporary = self.path.with_extension("json.new");
        std::fs::write(&temporary, text)
            .and_then(|()| std::fs::rename(&temporary, &self.path))
            .map_err(|e| DeskError::Io(format!("{}: {e}", self.path.display())))?;
        Ok(version)
    }

    pub fn view(&self) -> RemoteConfigView {
        let saved = self.saved.lock();
        RemoteConfigView {
            path: ruuvi_receiver::CONFIG_PATH.to_string(),
            files: saved
                .iter()
                .map(|(file, s)| ServedFile {
                    file: file.clone(),
                    gateway: s.gateway.clone(),
                    version: s.version,
                    published_at_ms: s.published_at_ms,
                    areas: s.areas.clone(),
                })
                .collect(),
            fetches: self
                .served
                .fetches()
                .into_iter()
                .take(100)
                .map(|f| ConfigFetch {
                    at_ms: f.at_ms,
                    peer: f.peer,
                    gateway: f.gateway,
                    file: f.file,
                    status: f.status,
                    version: f.version,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruuvi_secrets::SecretError;
    use std::collections::HashMap;

    /// The keychain's behaviour without one (the real one is tested in ruuvi-secrets).
    #[derive(Default)]
    struct MemoryStore(Mutex<HashMap<String, String>>);

    impl SecretStore for MemoryStore {
        fn set(&self, name: &SecretName, value: &Sensitive<String>) -> Result<(), SecretError> {
            self.0
                .lock()
                .insert(name.to_string(), value.expose().clone());
            Ok(())
        }
        fn get(&self, name: &SecretName) -> Result<Option<Sensitive<String>>, SecretError> {
            Ok(self
                .0
                .lock()
                .get(name.as_str())
                .cloned()
                .map(Sensitive::new))
        }
        fn delete(&self, name: &SecretName) -> Result<bool, SecretError> {
            Ok(self.0.lock().remove(name.as_str()).is_some())
        }
    }

    #[test]
    fn documents_survive_a_restart_with_their_secrets_only_in_the_keychain() {
        let dir = std::env::temp_dir().join(format!("remote-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secrets: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
        let gw: ruuvi_protocol::MacAddress = "C8:25:2D:8E:9C:2C".parse().unwrap();
        let configs = RemoteConfigs::load(&dir, secrets.clone());
        let token = configs.token().unwrap();
        let body =
            serde_json::json!({"remote_cfg_use": true, "mqtt_pass": "hunter2", "mqtt_user": "u"});
        assert_eq!(
            configs
                .publish(gw, vec!["mqtt".into()], body.as_object().unwrap().clone())
                .unwrap(),
            1
        );
        let scan = serde_json::json!({"company_id": 1177});
        assert_eq!(
            configs
                .publish(gw, vec!["scan".into()], scan.as_object().unwrap().clone())
                .unwrap(),
            2
        );
        let on_disk = std::fs::read_to_string(dir.join(FILE)).unwrap();
        assert!(!on_disk.contains("hunter2"), "{on_disk}");
        assert!(on_disk.contains("mqtt_user"));
        drop(configs);

        let again = RemoteConfigs::load(&dir, secrets.clone());
        assert_eq!(again.token().unwrap().expose(), token.expose());
        let (status, body) = again.served.answer(
            "C8252D8E9C2C.json",
            Some(&format!("Bearer {}", token.expose())),
            None,
            "127.0.0.1".parse().unwrap(),
            true,
        );
        assert_eq!(status, 200);
        let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
        assert_eq!(body["mqtt_pass"], "hunter2");
        assert_eq!(body["company_id"], 1177);
        let view = again.view();
        assert_eq!(view.files[0].version, 2);
        assert_eq!(view.files[0].areas, ["mqtt", "scan"]);
        assert_eq!(view.fetches[0].version, Some(2));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
