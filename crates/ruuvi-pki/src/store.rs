//! The installation's certificates on disk and their private keys in the keychain.
//!
//! Layout of the PKI directory (certificates only; nothing in it is secret):
//! `ca.pem`, `server.pem`, `clients/<MAC>.pem` (current), `clients/<MAC>.previous.pem` (the one
//! before a rotation, still accepted until it expires so a gateway keeps posting until it gets
//! the new one), `pki.json` (settings). Keys: `private-key/ca`, `private-key/server`,
//! `private-key/client-<MAC>` in the [`SecretStore`].

use std::fs;
use std::path::{Path, PathBuf};

use ruuvi_protocol::MacAddress;
use ruuvi_secrets::{SecretKind, SecretName, SecretStore, Sensitive};
use time::OffsetDateTime;

use crate::issue::{KeyAlgorithm, LocalCa, Validity};
use crate::tls::ClientAllowList;
use crate::{inspect, CertInfo, PkiError};

/// Client certificates are renewed this many days before they expire.
pub const ROTATION_WARNING_DAYS: i64 = 30;
/// Default lifetimes.
pub const CA_DAYS: i64 = 20 * 365;
pub const SERVER_DAYS: i64 = 825;
pub const CLIENT_DAYS: i64 = 2 * 365;

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Settings {
    /// The key type of new server and client keys.
    leaf_algorithm: KeyAlgorithm,
    ca_imported: bool,
    /// Names the user added to the receiver's certificate (a DNS name for a routed network,
    /// a port-forwarded address): kept across re-issues.
    #[serde(default)]
    extra_server_names: Vec<String>,
}

/// Where the receiver's certificate stands against the names it should carry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ServerState {
    Missing,
    Current,
    NamesChanged {
        added: Vec<String>,
        removed: Vec<String>,
    },
    ExpiresSoon,
}

/// A gateway's client certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClientCert {
    pub gateway: MacAddress,
    /// The certificate before the latest rotation (accepted until it expires).
    pub previous: bool,
    pub info: CertInfo,
    pub path: PathBuf,
}

pub struct Pki<'a> {
    dir: PathBuf,
    secrets: &'a dyn SecretStore,
}

fn key_name(id: &str) -> SecretName {
    SecretName::new(SecretKind::PrivateKey, id).expect("fixed key ids are valid")
}

fn client_key_name(mac: &MacAddress) -> SecretName {
    key_name(&format!("client-{}", file_stem(mac)))
}

fn file_stem(mac: &MacAddress) -> String {
    mac.to_string().replace(':', "")
}

/// Writes through a temporary file so a crash never leaves half a certificate.
fn write_atomic(path: &Path, content: &[u8]) -> Result<(), PkiError> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, content).map_err(|e| PkiError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| PkiError::io(path, e))
}

fn read(path: &Path) -> Result<String, PkiError> {
    fs::read_to_string(path).map_err(|e| PkiError::io(path, e))
}

impl<'a> Pki<'a> {
    pub fn new(dir: impl Into<PathBuf>, secrets: &'a dyn SecretStore) -> Self {
        Self {
            dir: dir.into(),
            secrets,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    fn server_path(&self) -> PathBuf {
        self.dir.join("server.pem")
    }

    fn client_path(&self, mac: &MacAddress, previous: bool) -> PathBuf {
        let suffix = if previous { ".previous.pem" } else { ".pem" };
        self.dir
            .join("clients")
            .join(format!("{}{suffix}", file_stem(mac)))
    }

    fn settings(&self) -> Result<Settings, PkiError> {
        let path = self.dir.join("pki.json");
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| PkiError::Corrupt(path.display().to_string(), e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(PkiError::io(&path, e)),
        }
    }

    fn save_settings(&self, settings: &Settings) -> Result<(), PkiError> {
        let json = serde_json::to_vec_pretty(settings).expect("plain struct");
        write_atomic(&self.dir.join("pki.json"), &json)
    }

    fn secret(&self, name: &SecretName) -> Result<Sensitive<String>, PkiError> {
        self.secrets
            .get(name)?
            .ok_or_else(|| PkiError::MissingKey(name.to_string()))
    }

    pub fn is_initialised(&self) -> bool {
        self.ca_path().exists()
    }

    /// Creates the installation's CA. With `replace`, an existing CA and everything it issued
    /// (server and client certificates and their keys) are discarded.
    pub fn init(
        &self,
        common_name: &str,
        algorithm: KeyAlgorithm,
        validity: Validity,
        replace: bool,
    ) -> Result<CertInfo, PkiError> {
        let ca = LocalCa::generate(common_name, algorithm, validity)?;
        self.install_ca(ca, false, replace)
    }

    /// Creates a CA named `common_name` (default key type, [`CA_DAYS`]) unless there is one;
    /// whether it did.
    pub fn ensure_ca(&self, common_name: &str, now: OffsetDateTime) -> Result<bool, PkiError> {
        if self.is_initialised() {
            return Ok(false);
        }
        self.init(
            common_name,
            KeyAlgorithm::default(),
            Validity::days_from(now, CA_DAYS),
            false,
        )?;
        Ok(true)
    }

    /// Uses an existing CA (PEM certificate + key) instead of generating one.
    pub fn import_ca(
        &self,
        cert_pem: &str,
        key_pem: &Sensitive<String>,
        replace: bool,
    ) -> Result<CertInfo, PkiError> {
        let ca = LocalCa::import(cert_pem, key_pem)?;
        self.install_ca(ca, true, replace)
    }

    fn install_ca(&self, ca: LocalCa, imported: bool, replace: bool) -> Result<CertInfo, PkiError> {
        if self.is_initialised() {
            if !replace {
                return Err(PkiError::AlreadyInitialised(self.dir.clone()));
            }
            self.discard_issued()?;
        }
        fs::create_dir_all(self.dir.join("clients")).map_err(|e| PkiError::io(&self.dir, e))?;
        // The key first: if the keychain refuses it, no certificate without a key is left.
        self.secrets.set(&key_name("ca"), ca.key_pem())?;
        write_atomic(&self.ca_path(), ca.cert_pem.as_bytes())?;
        let extra_server_names = self.settings()?.extra_server_names;
        self.save_settings(&Settings {
            leaf_algorithm: ca.algorithm(),
            ca_imported: imported,
            extra_server_names,
        })?;
        tracing::info!(imported, algorithm = ?ca.algorithm(), "installed the CA");
        inspect(&ca.cert_pem)
    }

    fn discard_issued(&self) -> Result<(), PkiError> {
        for client in self.clients()? {
            self.revoke_client(&client.gateway)?;
        }
        if self.server_path().exists() {
            fs::remove_file(self.server_path())
                .map_err(|e| PkiError::io(&self.server_path(), e))?;
        }
        self.secrets.delete(&key_name("server"))?;
        Ok(())
    }

    /// The key type for new server and client keys (`ecdsa-p256` unless changed).
    pub fn set_leaf_algorithm(&self, algorithm: KeyAlgorithm) -> Result<(), PkiError> {
        let mut settings = self.settings()?;
        settings.leaf_algorithm = algorithm;
        self.save_settings(&settings)
    }

    /// Adds names the receiver's certificate must always carry (checked, then kept in
    /// `pki.json`).
    pub fn add_server_names(&self, names: &[String]) -> Result<(), PkiError> {
        let mut settings = self.settings()?;
        for name in names {
            if name.parse::<std::net::IpAddr>().is_err() && !crate::issue::is_dns_name(name) {
                return Err(PkiError::BadName(name.clone()));
            }
            if !settings.extra_server_names.contains(name) {
                settings.extra_server_names.push(name.clone());
            }
        }
        self.save_settings(&settings)
    }

    /// The names the receiver's certificate should carry: `machine` (see
    /// [`crate::server_names`]) plus the user's own.
    pub fn wanted_server_names(&self, machine: &[String]) -> Result<Vec<String>, PkiError> {
        let mut names = machine.to_vec();
        for name in self.settings()?.extra_server_names {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(names)
    }

    pub fn ca_pem(&self) -> Result<String, PkiError> {
        if !self.is_initialised() {
            return Err(PkiError::NotInitialised(self.dir.clone()));
        }
        read(&self.ca_path())
    }

    fn ca(&self) -> Result<LocalCa, PkiError> {
        let cert = self.ca_pem()?;
        let key = self.secret(&key_name("ca"))?;
        Ok(LocalCa::import(&cert, &key)?.with_leaf_algorithm(self.settings()?.leaf_algorithm))
    }

    /// How the receiver's certificate compares with the `names` it should carry at `now`.
    pub fn server_state(
        &self,
        names: &[String],
        now: OffsetDateTime,
    ) -> Result<ServerState, PkiError> {
        if !self.server_path().exists() {
            return Ok(ServerState::Missing);
        }
        let info = inspect(&read(&self.server_path())?)?;
        let added: Vec<String> = names
            .iter()
            .filter(|n| !info.sans.contains(n))
            .cloned()
            .collect();
        let removed: Vec<String> = info
            .sans
            .iter()
            .filter(|n| !names.contains(n))
            .cloned()
            .collect();
        Ok(if !added.is_empty() || !removed.is_empty() {
            ServerState::NamesChanged { added, removed }
        } else if info.expires_within(now, ROTATION_WARNING_DAYS) {
            ServerState::ExpiresSoon
        } else {
            ServerState::Current
        })
    }

    /// Issues the receiver's certificate for `names` unless the current one already carries
    /// exactly those names and is not about to expire. Returns the certificate and the state
    /// that made it re-issue (`None`: kept).
    pub fn ensure_server(
        &self,
        names: &[String],
        now: OffsetDateTime,
        days: i64,
    ) -> Result<(CertInfo, Option<ServerState>), PkiError> {
        let state = self.server_state(names, now)?;
        if state == ServerState::Current {
            return Ok((inspect(&read(&self.server_path())?)?, None));
        }
        tracing::info!(?state, "the receiver's certificate needs re-issuing");
        Ok((self.issue_server(names, now, days)?, Some(state)))
    }

    /// Issues the receiver's certificate for `names` whatever the current one is.
    pub fn issue_server(
        &self,
        names: &[String],
        now: OffsetDateTime,
        days: i64,
    ) -> Result<CertInfo, PkiError> {
        let issued = self
            .ca()?
            .issue_server(names, Validity::days_from(now, days))?;
        self.secrets.set(&key_name("server"), &issued.key_pem)?;
        write_atomic(&self.server_path(), issued.cert_pem.as_bytes())?;
        tracing::info!(names = ?names, "issued the receiver's certificate");
        inspect(&issued.cert_pem)
    }

    /// The receiver's certificate and key, to serve TLS with.
    /// The receiver's certificate (no key), when issued.
    pub fn server_pem(&self) -> Result<Option<String>, PkiError> {
        let path = self.server_path();
        if !path.exists() {
            return Ok(None);
        }
        read(&path).map(Some)
    }

    pub fn server_identity(&self) -> Result<(String, Sensitive<String>), PkiError> {
        if !self.server_path().exists() {
            return Err(PkiError::NotIssued(
                "the receiver's certificate".to_string(),
            ));
        }
        Ok((
            read(&self.server_path())?,
            self.secret(&key_name("server"))?,
        ))
    }

    /// Issues (or rotates) the client certificate of a gateway. The one it replaces stays
    /// accepted until it expires, so the gateway keeps posting until it has the new one.
    pub fn issue_client(
        &self,
        gateway: &MacAddress,
        validity: Validity,
    ) -> Result<CertInfo, PkiError> {
        let issued = self.ca()?.issue_client(&gateway.to_string(), validity)?;
        let current = self.client_path(gateway, false);
        self.secrets
            .set(&client_key_name(gateway), &issued.key_pem)?;
        if current.exists() {
            fs::rename(&current, self.client_path(gateway, true))
                .map_err(|e| PkiError::io(&current, e))?;
        }
        write_atomic(&current, issued.cert_pem.as_bytes())?;
        tracing::info!(%gateway, "issued a client certificate");
        inspect(&issued.cert_pem)
    }

    /// A gateway's client certificate and key, to upload as `http_cli_cert` / `http_cli_key`.
    pub fn client_identity(
        &self,
        gateway: &MacAddress,
    ) -> Result<(String, Sensitive<String>), PkiError> {
        let path = self.client_path(gateway, false);
        if !path.exists() {
            return Err(PkiError::NotIssued(format!(
                "a client certificate for {gateway}"
            )));
        }
        Ok((read(&path)?, self.secret(&client_key_name(gateway))?))
    }

    /// A gateway's client certificate and key: the one on record, else one issued now
    /// ([`CLIENT_DAYS`]).
    pub fn ensure_client(
        &self,
        gateway: &MacAddress,
        now: OffsetDateTime,
    ) -> Result<(String, Sensitive<String>), PkiError> {
        if self.client_identity(gateway).is_err() {
            self.issue_client(gateway, Validity::days_from(now, CLIENT_DAYS))?;
        }
        self.client_identity(gateway)
    }

    /// Ruuvi Desk's own client certificate (CN `ruuvi-desk`), for brokers that require one
    /// and trust our CA: the one on record while it has more than 30 days left, else a new
    /// one. Not a gateway's: the receiver's allow-list never contains it.
    pub fn ensure_own_client(
        &self,
        now: OffsetDateTime,
    ) -> Result<(String, Sensitive<String>), PkiError> {
        let path = self.dir.join("desk-client.pem");
        let name = key_name("desk-client");
        let current = read(&path)
            .ok()
            .filter(|pem| inspect(pem).is_ok_and(|info| !info.expires_within(now, 30)));
        if let (Some(cert), Ok(key)) = (current, self.secret(&name)) {
            return Ok((cert, key));
        }
        let issued = self
            .ca()?
            .issue_client("ruuvi-desk", Validity::days_from(now, CLIENT_DAYS))?;
        self.secrets.set(&name, &issued.key_pem)?;
        write_atomic(&path, issued.cert_pem.as_bytes())?;
        tracing::info!("issued Ruuvi Desk's own client certificate");
        Ok((issued.cert_pem, issued.key_pem))
    }

    /// Revokes a gateway's client certificates (current and previous): they leave the
    /// allow-list and the key leaves the keychain. Whether there was anything to revoke.
    pub fn revoke_client(&self, gateway: &MacAddress) -> Result<bool, PkiError> {
        let mut any = false;
        for previous in [false, true] {
            let path = self.client_path(gateway, previous);
            if path.exists() {
                fs::remove_file(&path).map_err(|e| PkiError::io(&path, e))?;
                any = true;
            }
        }
        any |= self.secrets.delete(&client_key_name(gateway))?;
        if any {
            tracing::info!(%gateway, "revoked the client certificate");
        }
        Ok(any)
    }

    /// Every client certificate on record, current ones first per gateway.
    pub fn clients(&self) -> Result<Vec<ClientCert>, PkiError> {
        let dir = self.dir.join("clients");
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(PkiError::io(&dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| PkiError::io(&dir, e))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let (stem, previous) = if let Some(stem) = name.strip_suffix(".previous.pem") {
                (stem, true)
            } else if let Some(stem) = name.strip_suffix(".pem") {
                (stem, false)
            } else {
                continue;
            };
            let Ok(gateway) = stem.parse::<MacAddress>() else {
                continue;
            };
            out.push(ClientCert {
                gateway,
                previous,
                info: inspect(&read(&path)?)?,
                path,
            });
        }
        out.sort_by_key(|c| (c.gateway.to_string(), c.previous));
        Ok(out)
    }

    /// The receiver's allow-list: every client certificate on record.
    pub fn allow_list(&self) -> Result<ClientAllowList, PkiError> {
        let mut list = ClientAllowList::default();
        for client in self.clients()? {
            let der = crate::certificate_der(&read(&client.path)?)?;
            list.allow(&der, &client.gateway.to_string());
        }
        Ok(list)
    }

    /// Current client certificates that expire within [`ROTATION_WARNING_DAYS`] of `now`.
    pub fn rotation_due(&self, now: OffsetDateTime) -> Result<Vec<ClientCert>, PkiError> {
        Ok(self
            .clients()?
            .into_iter()
            .filter(|c| !c.previous && c.info.expires_within(now, ROTATION_WARNING_DAYS))
            .collect())
    }

    /// For users who run their own server: writes `ca.pem`, `server.pem`, `server.key` and, for
    /// each of `clients`, `<MAC>.pem` and `<MAC>.key` into `dest`. Key files are readable by
    /// the owner only. Returns the files written.
    pub fn export(&self, dest: &Path, clients: &[MacAddress]) -> Result<Vec<PathBuf>, PkiError> {
        fs::create_dir_all(dest).map_err(|e| PkiError::io(dest, e))?;
        let mut files = Vec::new();
        let mut put = |name: String, content: &str, secret: bool| -> Result<(), PkiError> {
            let path = dest.join(name);
            write_file(&path, content.as_bytes(), secret)?;
            files.push(path);
            Ok(())
        };
        put("ca.pem".into(), &self.ca_pem()?, false)?;
        match self.server_identity() {
            Ok((cert, key)) => {
                put("server.pem".into(), &cert, false)?;
                put("server.key".into(), key.expose(), true)?;
            }
            // Gateways' bundles need only the CA beside them (for a server of one's own that
            // has its own certificate).
            Err(PkiError::NotIssued(_)) if !clients.is_empty() => {}
            Err(e) => return Err(e),
        }
        for gateway in clients {
            let (cert, key) = self.client_identity(gateway)?;
            put(format!("{}.pem", file_stem(gateway)), &cert, false)?;
            put(format!("{}.key", file_stem(gateway)), key.expose(), true)?;
        }
        tracing::info!(dest = %dest.display(), count = files.len(), "exported certificates");
        Ok(files)
    }
}

/// Creates `path` (replacing it); secret files get mode 0600 before any byte is written.
fn write_file(path: &Path, content: &[u8], secret: bool) -> Result<(), PkiError> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(|e| PkiError::io(path, e))?;
    #[cfg(unix)]
    if secret {
        // An existing file keeps its old mode through open(); tighten it explicitly.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| PkiError::io(path, e))?;
    }
    file.write_all(content).map_err(|e| PkiError::io(path, e))
}
