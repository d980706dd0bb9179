//! Ruuvi Desk's secrets: gateway logins, API keys, the receiver's auth secrets, HMAC keys, the
//! Internal API secret and every private key.
//!
//! They live only in the OS keychain ([`Keychain`]: macOS Keychain, Windows Credential Manager,
//! the Secret Service on Linux) and travel in memory as [`Sensitive`], which prints
//! `<redacted>`, cannot be serialised and is wiped when dropped. When no keychain is reachable the
//! error says what to install or unlock; there is no plaintext fallback.

mod name;
mod parts;
mod replaced;
mod sensitive;

pub use name::{SecretKind, SecretName};
pub use replaced::Replaced;
pub use sensitive::Sensitive;

/// A new random secret: `bytes` bytes from the OS generator as lower-case hex.
pub fn random_hex(bytes: usize) -> Sensitive<String> {
    use rand_core::RngCore;
    let mut raw = zeroize::Zeroizing::new(vec![0u8; bytes]);
    rand_core::OsRng.fill_bytes(&mut raw);
    Sensitive::new(hex::encode(&raw[..]))
}

/// The keychain "service" Ruuvi Desk files its entries under: the app's identifier (as in
/// tauri.conf.json; its data directory is named so too).
pub const DEFAULT_SERVICE: &str = "com.ruuvidesk.desktop";

/// The identifiers of earlier versions, newest first. Until 0.1 it was `com.ruuvidesk.app`, which
/// ends in `.app` and so clashes with macOS bundle naming. Their keychain entries are moved to
/// [`DEFAULT_SERVICE`] the first time they are read.
pub const EARLIER_SERVICES: &[&str] = &["com.ruuvidesk.app"];

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// No keychain is reachable or it is locked: the message says what to do.
    #[error("no keychain available: {detail}. {hint}")]
    Unavailable { detail: String, hint: &'static str },
    #[error("the keychain refused the secret {name}: {detail}")]
    Rejected { name: String, detail: String },
    #[error("the keychain holds something other than text for {0}")]
    NotText(String),
    #[error("bad secret name {name:?}: {reason}")]
    BadName { name: String, reason: &'static str },
    /// A secret kept in several entries ([`parts`]) whose entries do not fit together.
    #[error("damaged keychain entries: {0}")]
    Damaged(String),
    #[error("keychain failure: {0}")]
    Other(String),
}

/// Where secrets are kept. [`Keychain`] is the real one; the trait lets the faces and the PKI
/// take "a secret store" without knowing which OS backend is behind it.
pub trait SecretStore: Send + Sync {
    fn set(&self, name: &SecretName, value: &Sensitive<String>) -> Result<(), SecretError>;
    /// `None` when nothing is stored under `name`.
    fn get(&self, name: &SecretName) -> Result<Option<Sensitive<String>>, SecretError>;
    /// Whether something was deleted.
    fn delete(&self, name: &SecretName) -> Result<bool, SecretError>;
}

/// The OS keychain through keyring 3.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
    /// Services whose entries are moved to `service` when read (an earlier identifier's).
    earlier: Vec<String>,
}

impl Default for Keychain {
    fn default() -> Self {
        Self::new(DEFAULT_SERVICE)
    }
}

impl Keychain {
    /// Entries go under `service` (one per installation or profile; tests use their own).
    /// The default service also finds, and moves, entries of [`EARLIER_SERVICES`].
    pub fn new(service: &str) -> Self {
        let earlier = if service == DEFAULT_SERVICE {
            EARLIER_SERVICES
        } else {
            &[]
        };
        Self::with_earlier(service, earlier)
    }

    /// Entries go under `service`; one not there yet but under one of `earlier` is moved here
    /// when it is first read (and deleted there when it is set or deleted here).
    pub fn with_earlier(service: &str, earlier: &[&str]) -> Self {
        Self {
            service: service.to_string(),
            earlier: earlier.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, name: &SecretName) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, name.as_str()).map_err(|e| classify(e, name))
    }

    fn entries(&self, name: &SecretName) -> Result<ServiceEntries<'_>, SecretError> {
        // Refuse a name the platform refuses before anything is written.
        self.entry(name)?;
        Ok(ServiceEntries {
            service: &self.service,
        })
    }
}

impl SecretStore for Keychain {
    fn set(&self, name: &SecretName, value: &Sensitive<String>) -> Result<(), SecretError> {
        let bytes = encode(value.expose());
        parts::set(&self.entries(name)?, name.as_str(), &bytes, ENTRY_BYTES)
            .map_err(|e| damage(e, name))?;
        // An earlier identifier's copy would be stale now.
        for service in &self.earlier {
            let _ = parts::delete(&ServiceEntries { service }, name.as_str());
        }
        Ok(())
    }

    fn get(&self, name: &SecretName) -> Result<Option<Sensitive<String>>, SecretError> {
        let here = self.entries(name)?;
        let mut bytes = parts::get(&here, name.as_str()).map_err(|e| damage(e, name))?;
        if bytes.is_none() {
            for service in &self.earlier {
                let there = ServiceEntries { service };
                let Some(found) = parts::get(&there, name.as_str()).map_err(|e| damage(e, name))?
                else {
                    continue;
                };
                // Moved: written here first, so a failure leaves it where it was.
                parts::set(&here, name.as_str(), &found, ENTRY_BYTES)
                    .map_err(|e| damage(e, name))?;
                parts::delete(&there, name.as_str()).map_err(|e| classify(e, name))?;
                bytes = Some(found);
                break;
            }
        }
        match bytes {
            Some(bytes) => decode(&bytes)
                .map(|text| Some(Sensitive::new(text)))
                .ok_or_else(|| SecretError::NotText(name.to_string())),
            None => Ok(None),
        }
    }

    fn delete(&self, name: &SecretName) -> Result<bool, SecretError> {
        let mut deleted =
            parts::delete(&self.entries(name)?, name.as_str()).map_err(|e| classify(e, name))?;
        for service in &self.earlier {
            deleted |= parts::delete(&ServiceEntries { service }, name.as_str())
                .map_err(|e| classify(e, name))?;
        }
        Ok(deleted)
    }
}

/// The entries of one keychain service, as raw bytes.
struct ServiceEntries<'a> {
    service: &'a str,
}

impl parts::Entries for ServiceEntries<'_> {
    type Error = keyring::Error;
    fn put(&self, user: &str, bytes: &[u8]) -> Result<(), keyring::Error> {
        keyring::Entry::new(self.service, user)?.set_secret(bytes)
    }
    fn read(&self, user: &str) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, keyring::Error> {
        match keyring::Entry::new(self.service, user)?.get_secret() {
            Ok(bytes) => Ok(Some(zeroize::Zeroizing::new(bytes))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        }
    }
    fn remove(&self, user: &str) -> Result<bool, keyring::Error> {
        match keyring::Entry::new(self.service, user)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The most one entry holds: the Windows Credential Manager's `CRED_MAX_CREDENTIAL_BLOB_SIZE`;
/// the Secret Service and the macOS Keychain have no such small limit.
#[cfg(windows)]
const ENTRY_BYTES: usize = 2560;
#[cfg(not(windows))]
const ENTRY_BYTES: usize = usize::MAX;

/// Text as the platform's keychain tools show it: UTF-16LE on Windows (what keyring's
/// `set_password` and Credential Manager use), UTF-8 elsewhere (what `set_password` wrote
/// before, so entries stored by earlier versions read back unchanged).
fn encode(text: &str) -> zeroize::Zeroizing<Vec<u8>> {
    #[cfg(windows)]
    let bytes = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    #[cfg(not(windows))]
    let bytes = text.as_bytes().to_vec();
    zeroize::Zeroizing::new(bytes)
}

fn decode(bytes: &[u8]) -> Option<String> {
    #[cfg(windows)]
    {
        if bytes.len() % 2 != 0 {
            return None;
        }
        let units: zeroize::Zeroizing<Vec<u16>> = zeroize::Zeroizing::new(
            bytes
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect(),
        );
        String::from_utf16(&units).ok()
    }
    #[cfg(not(windows))]
    {
        String::from_utf8(bytes.to_vec()).ok()
    }
}

fn damage(e: parts::Damage<keyring::Error>, name: &SecretName) -> SecretError {
    match e {
        parts::Damage::Keychain(e) => classify(e, name),
        parts::Damage::Parts(detail) => SecretError::Damaged(detail),
    }
}

/// What a user has to do when the platform's keychain cannot be reached.
#[cfg(target_os = "macos")]
const UNAVAILABLE_HINT: &str =
    "Unlock the login keychain (Keychain Access) and allow Ruuvi Desk to use it";
#[cfg(target_os = "windows")]
const UNAVAILABLE_HINT: &str =
    "Windows Credential Manager is not reachable: sign in to an interactive user session";
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
const UNAVAILABLE_HINT: &str = "Ruuvi Desk keeps secrets only in a Secret Service keychain. \
     On a desktop, install and unlock one (GNOME: the gnome-keyring package; KDE: KWallet with \
     its Secret Service interface). On a headless machine run inside a D-Bus session \
     (dbus-run-session) with an unlocked keyring (gnome-keyring-daemon --unlock, given a \
     non-empty password on stdin)";

fn classify(e: keyring::Error, name: &SecretName) -> SecretError {
    match e {
        keyring::Error::PlatformFailure(detail) | keyring::Error::NoStorageAccess(detail) => {
            SecretError::Unavailable {
                detail: detail.to_string(),
                hint: UNAVAILABLE_HINT,
            }
        }
        keyring::Error::BadEncoding(_) => SecretError::NotText(name.to_string()),
        keyring::Error::TooLong(what, limit) => SecretError::Rejected {
            name: name.to_string(),
            detail: format!("{what} is longer than the platform's limit of {limit}"),
        },
        keyring::Error::Invalid(what, why) => SecretError::Rejected {
            name: name.to_string(),
            detail: format!("{what}: {why}"),
        },
        other => SecretError::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_failures_say_what_to_install_or_unlock() {
        let name = SecretName::new(SecretKind::GatewayPassword, "C8:25:2D:8E:9C:2C").unwrap();
        let e = classify(
            keyring::Error::PlatformFailure("Unable to autolaunch a dbus-daemon".into()),
            &name,
        );
        let text = e.to_string();
        assert!(matches!(e, SecretError::Unavailable { .. }));
        assert!(text.contains("autolaunch"), "{text}");
        #[cfg(target_os = "linux")]
        assert!(
            text.contains("gnome-keyring") && text.contains("unlock"),
            "{text}"
        );
        let e = classify(keyring::Error::NoStorageAccess("locked".into()), &name);
        assert!(matches!(e, SecretError::Unavailable { .. }));
        let e = classify(keyring::Error::TooLong("password".into(), 2560), &name);
        assert!(e.to_string().contains("2560"));
    }
}
