//! `<data dir>/gateways.json`: the gateways a user added (no secrets: a remembered password or
//! API key is in the keychain under the gateway's id).

use std::path::{Path, PathBuf};

use crate::SetupError;

/// How Ruuvi Desk logs in to a gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LoginKind {
    /// `lan_auth_allow`: nothing needed.
    None,
    Password,
    ApiKey,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct SavedGateway {
    /// `host` or `host:port`, as the user reaches it.
    pub endpoint: String,
    pub name: Option<String>,
    pub mac: Option<String>,
    pub firmware: Option<String>,
    pub user: String,
    pub login: LoginKind,
    /// The password or API key is in the keychain.
    pub remembered: bool,
    /// What the last change did ("applied", "rolled back: …"), for the list.
    #[serde(default)]
    pub last_change: Option<String>,
    /// A simulated demo gateway: gone when the app stops, so not kept across starts.
    #[serde(default)]
    pub demo: bool,
    /// What it had when last read (the fleet table).
    #[serde(default)]
    pub summary: Option<crate::FleetSummary>,
    /// The settings Ruuvi Desk's changes set, as read back (never secrets).
    #[serde(default)]
    #[ts(type = "Record<string, unknown>")]
    pub expected: crate::Expected,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct ListFile {
    gateways: Vec<SavedGateway>,
}

/// The gateways in the contents of a `gateways.json`.
pub fn parse_gateway_list(bytes: &[u8]) -> Result<Vec<SavedGateway>, serde_json::Error> {
    Ok(serde_json::from_slice::<ListFile>(bytes)?.gateways)
}

pub(crate) struct GatewayList {
    path: PathBuf,
    gateways: Vec<SavedGateway>,
}

impl GatewayList {
    pub fn load(path: &Path) -> Result<Self, SetupError> {
        let gateways = match std::fs::read(path) {
            Ok(bytes) => parse_gateway_list(&bytes)
                .map_err(|e| SetupError::Io(format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(SetupError::Io(format!("{}: {e}", path.display()))),
        };
        Ok(Self {
            path: path.to_path_buf(),
            gateways: gateways.into_iter().filter(|g| !g.demo).collect(),
        })
    }

    pub fn all(&self) -> &[SavedGateway] {
        &self.gateways
    }

    pub fn get(&self, endpoint: &str) -> Option<&SavedGateway> {
        self.gateways.iter().find(|g| g.endpoint == endpoint)
    }

    /// Adds or replaces the entry for `gateway.endpoint` and saves.
    pub fn put(&mut self, gateway: SavedGateway) -> Result<(), SetupError> {
        match self
            .gateways
            .iter_mut()
            .find(|g| g.endpoint == gateway.endpoint)
        {
            Some(g) => *g = gateway,
            None => self.gateways.push(gateway),
        }
        self.save()
    }

    pub fn update(
        &mut self,
        endpoint: &str,
        change: impl FnOnce(&mut SavedGateway),
    ) -> Result<(), SetupError> {
        if let Some(g) = self.gateways.iter_mut().find(|g| g.endpoint == endpoint) {
            change(g);
            self.save()?;
        }
        Ok(())
    }

    pub fn remove(&mut self, endpoint: &str) -> Result<bool, SetupError> {
        let before = self.gateways.len();
        self.gateways.retain(|g| g.endpoint != endpoint);
        if self.gateways.len() == before {
            return Ok(false);
        }
        self.save()?;
        Ok(true)
    }

    fn save(&self) -> Result<(), SetupError> {
        let io = |e: std::io::Error| SetupError::Io(format!("{}: {e}", self.path.display()));
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = serde_json::to_vec_pretty(&ListFile {
            gateways: self.gateways.clone(),
        })
        .expect("plain data");
        let temporary = self.path.with_extension("json.new");
        std::fs::write(&temporary, text).map_err(io)?;
        std::fs::rename(&temporary, &self.path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateways_survive_a_reload_and_are_replaced_by_endpoint() {
        let dir = std::env::temp_dir().join(format!("gateway-list-{}", std::process::id()));
        let path = dir.join("gateways.json");
        let mut list = GatewayList::load(&path).unwrap();
        assert!(list.all().is_empty());
        let gw = SavedGateway {
            endpoint: "127.0.0.1:8080".into(),
            name: Some("RuuviGateway9C2C".into()),
            mac: Some("C8:25:2D:8E:9C:2C".into()),
            firmware: Some("v1.17.3".into()),
            user: "Admin".into(),
            login: LoginKind::Password,
            remembered: true,
            last_change: None,
            demo: false,
            summary: None,
            expected: Default::default(),
        };
        list.put(gw.clone()).unwrap();
        list.put(SavedGateway {
            firmware: Some("v1.18.0".into()),
            ..gw.clone()
        })
        .unwrap();
        list.update("127.0.0.1:8080", |g| g.last_change = Some("applied".into()))
            .unwrap();
        let again = GatewayList::load(&path).unwrap();
        assert_eq!(again.all().len(), 1);
        assert_eq!(again.all()[0].firmware.as_deref(), Some("v1.18.0"));
        assert_eq!(again.all()[0].last_change.as_deref(), Some("applied"));
        let mut again = again;
        assert!(again.remove("127.0.0.1:8080").unwrap());
        assert!(!again.remove("127.0.0.1:8080").unwrap());
        assert!(GatewayList::load(&path).unwrap().all().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
