//! The PKI directory with its keys in the real OS keychain (no mock). On Linux `make test` runs
//! these inside `tests/with-keychain.sh` (a private D-Bus session with gnome-keyring).

use parking_lot::RwLock;
use std::sync::Arc;

use ruuvi_pki::{
    certificate_der, inspect, server_config, ClientAuth, KeyAlgorithm, OffsetDateTime, Pki,
    PkiError, ServerState, Validity,
};
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::{Keychain, SecretKind, SecretName, SecretStore, Sensitive};
use time::Duration;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

struct Scratch {
    dir: std::path::PathBuf,
    keychain: Keychain,
}

impl Scratch {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ruuvi-pki-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self {
            dir,
            keychain: Keychain::new(&format!(
                "com.ruuvidesk.test.pki.{test}.{}",
                std::process::id()
            )),
        }
    }

    fn pki(&self) -> Pki<'_> {
        Pki::new(self.dir.join("pki"), &self.keychain)
    }

    /// The PKI with a fresh CA.
    fn pki_with_ca(&self, algorithm: KeyAlgorithm) -> Pki<'_> {
        let pki = self.pki();
        pki.init("CA", algorithm, Validity::days_from(now(), 3650), false)
            .unwrap();
        pki
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        for id in [
            "ca",
            "server",
            "client-C8252D8E9C2C",
            "client-AABBCCDDEEFF",
            "desk-client",
        ] {
            let _ = self
                .keychain
                .delete(&SecretName::new(SecretKind::PrivateKey, id).unwrap());
        }
    }
}

fn mac(s: &str) -> MacAddress {
    s.parse().unwrap()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
fn ca_lifecycle_keys_in_the_keychain_certificates_on_disk() {
    let s = Scratch::new("ca");
    let pki = s.pki();
    assert!(matches!(pki.ca_pem(), Err(PkiError::NotInitialised(_))));
    let ca = pki
        .init(
            "Test CA",
            KeyAlgorithm::EcdsaP256,
            Validity::days_from(now(), 3650),
            false,
        )
        .unwrap();
    assert!(ca.is_ca);
    let key = s
        .keychain
        .get(&SecretName::new(SecretKind::PrivateKey, "ca").unwrap())
        .unwrap()
        .expect("the CA key is in the keychain");
    assert!(key.expose().contains("PRIVATE KEY"));
    assert!(matches!(
        pki.init(
            "Again",
            KeyAlgorithm::EcdsaP256,
            Validity::days_from(now(), 1),
            false
        ),
        Err(PkiError::AlreadyInitialised(_))
    ));

    // Replacing the CA discards what the old one issued.
    let old_pem = pki.ca_pem().unwrap();
    pki.ensure_server(&names(&["localhost"]), now(), 825)
        .unwrap();
    pki.issue_client(&mac("C8:25:2D:8E:9C:2C"), Validity::days_from(now(), 730))
        .unwrap();
    let new_ca = pki
        .init(
            "New CA",
            KeyAlgorithm::EcdsaP256,
            Validity::days_from(now(), 3650),
            true,
        )
        .unwrap();
    assert_ne!(new_ca.fingerprint_sha256, ca.fingerprint_sha256);
    assert!(pki.clients().unwrap().is_empty());
    assert_eq!(
        pki.server_state(&names(&["localhost"]), now()).unwrap(),
        ServerState::Missing
    );

    // Import: an existing CA and its key.
    let other = Scratch::new("import");
    let imported = other
        .pki()
        .import_ca(&old_pem, &key_of(&s, "ca"), false)
        .unwrap_err();
    assert!(matches!(imported, PkiError::KeyMismatch), "{imported}");
    let (cert, key) = (pki.ca_pem().unwrap(), key_of(&s, "ca"));
    let info = other.pki().import_ca(&cert, &key, false).unwrap();
    assert_eq!(info.subject, new_ca.subject);
    other
        .pki()
        .issue_client(&mac("AA:BB:CC:DD:EE:FF"), Validity::days_from(now(), 1))
        .unwrap();
}

fn key_of(s: &Scratch, id: &str) -> Sensitive<String> {
    s.keychain
        .get(&SecretName::new(SecretKind::PrivateKey, id).unwrap())
        .unwrap()
        .unwrap()
}

#[test]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
fn server_certificate_is_reissued_only_when_the_names_change_or_it_expires() {
    let s = Scratch::new("server");
    let pki = s.pki_with_ca(KeyAlgorithm::EcdsaP256);
    let first = names(&["desk", "desk.local", "192.0.2.10", "localhost", "127.0.0.1"]);
    let (info, why) = pki.ensure_server(&first, now(), 825).unwrap();
    assert_eq!(why, Some(ServerState::Missing));
    assert_eq!(info.sans, first);
    let (same, why) = pki.ensure_server(&first, now(), 825).unwrap();
    assert_eq!(
        (why, &same.fingerprint_sha256),
        (None, &info.fingerprint_sha256)
    );

    // The machine got a new address and lost the old one.
    let moved = names(&[
        "desk",
        "desk.local",
        "198.51.100.7",
        "localhost",
        "127.0.0.1",
    ]);
    let (info2, why) = pki.ensure_server(&moved, now(), 825).unwrap();
    assert_eq!(
        why,
        Some(ServerState::NamesChanged {
            added: names(&["198.51.100.7"]),
            removed: names(&["192.0.2.10"])
        })
    );
    assert_eq!(info2.sans, moved);
    // The user's own names stay through re-issues.
    pki.add_server_names(&names(&["receiver.example.org"]))
        .unwrap();
    let wanted = pki.wanted_server_names(&moved).unwrap();
    assert_eq!(wanted.last().unwrap(), "receiver.example.org");
    assert!(matches!(
        pki.add_server_names(&names(&["bad name"])),
        Err(PkiError::BadName(_))
    ));
    // 29 days before expiry it is renewed.
    assert_eq!(
        pki.server_state(&moved, now() + Duration::days(825 - 29))
            .unwrap(),
        ServerState::ExpiresSoon
    );

    // The receiver's TLS config comes straight from the store.
    let (cert, key) = pki.server_identity().unwrap();
    let allowed = Arc::new(RwLock::new(pki.allow_list().unwrap()));
    server_config(
        &pki.ca_pem().unwrap(),
        &cert,
        &key,
        ClientAuth::Required(allowed),
    )
    .unwrap();

    // A key lost from the keychain is reported as such, not as a TLS error.
    s.keychain
        .delete(&SecretName::new(SecretKind::PrivateKey, "server").unwrap())
        .unwrap();
    assert!(matches!(
        pki.server_identity(),
        Err(PkiError::MissingKey(_))
    ));
}

#[test]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
fn client_rotation_keeps_the_previous_certificate_until_revoked() {
    let s = Scratch::new("clients");
    let pki = s.pki_with_ca(KeyAlgorithm::EcdsaP256);
    let gw = mac("C8:25:2D:8E:9C:2C");
    let other = mac("AA:BB:CC:DD:EE:FF");
    pki.issue_client(&gw, Validity::days_from(now() - Duration::days(710), 730))
        .unwrap();
    pki.issue_client(&other, Validity::days_from(now(), 730))
        .unwrap();
    let due = pki.rotation_due(now()).unwrap();
    assert_eq!(due.len(), 1, "only the one expiring within 30 days");
    assert_eq!(due[0].gateway, gw);

    let (old_cert, _) = pki.client_identity(&gw).unwrap();
    pki.issue_client(&gw, Validity::days_from(now(), 730))
        .unwrap();
    let (new_cert, new_key) = pki.client_identity(&gw).unwrap();
    assert_ne!(old_cert, new_cert);
    assert!(new_key.expose().contains("PRIVATE KEY"));
    assert!(pki.rotation_due(now()).unwrap().is_empty());
    let list = pki.allow_list().unwrap();
    assert_eq!(list.len(), 3, "new + previous for gw, one for the other");
    for cert in [&old_cert, &new_cert] {
        assert_eq!(
            list.gateway_of(&certificate_der(cert).unwrap()),
            Some("C8:25:2D:8E:9C:2C")
        );
    }
    assert_eq!(inspect(&new_cert).unwrap().subject, "CN=C8:25:2D:8E:9C:2C");

    assert!(pki.revoke_client(&gw).unwrap());
    assert!(!pki.revoke_client(&gw).unwrap(), "nothing left");
    let list = pki.allow_list().unwrap();
    assert_eq!(list.len(), 1);
    assert!(list
        .gateway_of(&certificate_der(&new_cert).unwrap())
        .is_none());
    assert!(matches!(
        pki.client_identity(&gw),
        Err(PkiError::NotIssued(_))
    ));
}

#[test]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
fn export_writes_keys_for_the_owner_only() {
    let s = Scratch::new("export");
    let pki = s.pki_with_ca(KeyAlgorithm::Rsa2048);
    pki.ensure_server(&names(&["localhost"]), now(), 825)
        .unwrap();
    let gw = mac("C8:25:2D:8E:9C:2C");
    pki.issue_client(&gw, Validity::days_from(now(), 730))
        .unwrap();
    let dest = s.dir.join("bundle");
    let files = pki.export(&dest, std::slice::from_ref(&gw)).unwrap();
    let file_names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        file_names,
        [
            "ca.pem",
            "server.pem",
            "server.key",
            "C8252D8E9C2C.pem",
            "C8252D8E9C2C.key"
        ]
    );
    let server_key = std::fs::read_to_string(dest.join("server.key")).unwrap();
    assert_eq!(&server_key, pki.server_identity().unwrap().1.expose());
    assert_eq!(
        inspect(&std::fs::read_to_string(dest.join("server.pem")).unwrap())
            .unwrap()
            .key_type,
        "RSA 2048"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for name in ["server.key", "C8252D8E9C2C.key"] {
            let mode = std::fs::metadata(dest.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }
    // Nothing secret in the PKI directory itself.
    for entry in walk(&s.dir.join("pki")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(!text.contains("PRIVATE KEY"), "{}", entry.display());
    }
}

#[test]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
fn a_client_bundle_needs_no_receiver_certificate() {
    let s = Scratch::new("export-client");
    let pki = s.pki_with_ca(KeyAlgorithm::EcdsaP256);
    let gw = mac("C8:25:2D:8E:9C:2C");
    pki.issue_client(&gw, Validity::days_from(now(), 730))
        .unwrap();
    let dest = s.dir.join("bundle");
    let files = pki.export(&dest, std::slice::from_ref(&gw)).unwrap();
    let file_names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        file_names,
        ["ca.pem", "C8252D8E9C2C.pem", "C8252D8E9C2C.key"]
    );
    // Without gateways there is nothing but the receiver's files to export: say so plainly.
    let e = pki.export(&s.dir.join("empty"), &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the receiver's certificate has not been issued yet"
    );
    let e = pki.client_identity(&mac("AA:00:00:00:00:01")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a client certificate for AA:00:00:00:00:01 has not been issued yet"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
fn ruuvi_desks_own_client_certificate_is_kept_and_renewed_near_its_end() {
    let s = Scratch::new("own-client");
    let pki = s.pki_with_ca(KeyAlgorithm::EcdsaP256);
    let (cert, key) = pki.ensure_own_client(now()).unwrap();
    let info = inspect(&cert).unwrap();
    assert!(info.subject.contains("ruuvi-desk"), "{}", info.subject);
    assert!(info.client_auth && !info.server_auth);
    assert!(ruuvi_pki::key_matches(&cert, &key).unwrap());
    // Kept while it has time left; the key only in the keychain.
    assert_eq!(pki.ensure_own_client(now()).unwrap().0, cert);
    assert!(!walk(&s.dir)
        .iter()
        .any(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("PRIVATE KEY"))));
    // Close to its end (2 years on, less 10 days): a new one.
    let later = now() + Duration::days(ruuvi_pki::CLIENT_DAYS - 10);
    let (renewed, renewed_key) = pki.ensure_own_client(later).unwrap();
    assert_ne!(renewed, cert);
    assert!(ruuvi_pki::key_matches(&renewed, &renewed_key).unwrap());
    // It is not a gateway's: the receiver's allow-list does not know it.
    assert!(pki.clients().unwrap().is_empty());
}
