//! Ruuvi Desk's secrets: gateway logins, API keys, the receiver's auth secrets, HMAC keys, the
//! Internal API secret and every private key.
//!
//! They live only in the OS keychain ([`Keychain`]: macOS Keychain, Windows Credential Manager,
//! the Secret Service on Linux) and travel in memory as [`Sensitive`], which prints
//! `<redacted>`, cannot be serialised and is wiped when dropped. When no keychain is reachable the
//! error says what to install or unlock; there is no plaintext fallback.

mod name;
mod sensitive;

pub use name::{SecretKind, SecretName};
pub use sensitive::Sensitive;

/// A new random secret: `bytes` bytes from the OS generator as lower-case hex.
pub fn random_hex(bytes: usize) -> Sensitive<String> {
    use rand_core::RngCore;
    let mut raw = zeroize::Zeroizing::new(vec![0u8; bytes]);
    rand_core::OsRng.fill_bytes(&mut raw);
    Sensitive::new(hex::encode(&raw[..]))
}

/// The keychain "service" Ruuvi Desk files its entries under (the app's identifier).
pub const DEFAULT_SERVICE: &str = "com.ruuvidesk.app";

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
}

impl Default for Keychain {
    fn default() -> Self {
        Self::new(DEFAULT_SERVICE)
    }
}

impl Keychain {
    /// Entries go under `service` (one per installation or profile; tests use their own).
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_string(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, name: &SecretName) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, name.as_str()).map_err(|e| classify(e, name))
    }
}

impl SecretStore for Keychain {
    fn set(&self, name: &SecretName, value: &Sensitive<String>) -> Result<(), SecretError> {
        self.entry(name)?
            .set_password(value.expose())
            .map_err(|e| classify(e, name))
    }

    fn get(&self, name: &SecretName) -> Result<Option<Sensitive<String>>, SecretError> {
        match self.entry(name)?.get_password() {
            Ok(value) => Ok(Some(Sensitive::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(e, name)),
        }
    }

    fn delete(&self, name: &SecretName) -> Result<bool, SecretError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(classify(e, name)),
        }
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
