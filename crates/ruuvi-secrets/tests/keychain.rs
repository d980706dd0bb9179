//! The secret store against the real OS keychain (no mock). On Linux `make test` runs these
//! inside `tests/with-keychain.sh`: a private D-Bus session with an unlocked gnome-keyring.

use ruuvi_secrets::{Keychain, SecretKind, SecretName, SecretStore, Sensitive};

fn keychain(test: &str) -> Keychain {
    Keychain::new(&format!("com.ruuvidesk.test.{test}.{}", std::process::id()))
}

fn name(kind: SecretKind, id: &str) -> SecretName {
    SecretName::new(kind, id).unwrap()
}

#[test]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
fn set_get_overwrite_delete() {
    let store = keychain("roundtrip");
    let pw = name(SecretKind::GatewayPassword, "C8:25:2D:8E:9C:2C");
    assert!(store.get(&pw).unwrap().is_none());
    store
        .set(&pw, &Sensitive::new("pässwörd 🔑".to_string()))
        .unwrap();
    assert_eq!(store.get(&pw).unwrap().unwrap().expose(), "pässwörd 🔑");
    store
        .set(&pw, &Sensitive::new("second".to_string()))
        .unwrap();
    assert_eq!(store.get(&pw).unwrap().unwrap().expose(), "second");
    assert!(store.delete(&pw).unwrap());
    assert!(store.get(&pw).unwrap().is_none());
    assert!(!store.delete(&pw).unwrap(), "nothing left to delete");
}

#[test]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
fn names_and_services_do_not_collide() {
    let a = keychain("a");
    let b = keychain("b");
    let key = name(SecretKind::PrivateKey, "ca");
    let hmac = name(SecretKind::HmacKey, "ca");
    a.set(&key, &"key in a".to_string().into()).unwrap();
    a.set(&hmac, &"hmac in a".to_string().into()).unwrap();
    b.set(&key, &"key in b".to_string().into()).unwrap();
    assert_eq!(a.get(&key).unwrap().unwrap().expose(), "key in a");
    assert_eq!(a.get(&hmac).unwrap().unwrap().expose(), "hmac in a");
    assert_eq!(b.get(&key).unwrap().unwrap().expose(), "key in b");
    assert!(b.get(&hmac).unwrap().is_none());
    // A PEM private key fits (the Windows Credential Manager limit is 2560 bytes per blob).
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        "A".repeat(1700)
    );
    b.set(&key, &pem.clone().into()).unwrap();
    assert_eq!(b.get(&key).unwrap().unwrap().expose(), &pem);
    for (store, n) in [(&a, &key), (&a, &hmac), (&b, &key)] {
        store.delete(n).unwrap();
    }
}

/// The value really is in the Secret Service: another program (libsecret's `secret-tool`) finds
/// it under the service and user name keyring uses.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
fn another_program_sees_the_entry_in_the_secret_service() {
    let store = keychain("visible");
    let n = name(SecretKind::ReceiverAuth, "gw1");
    store.set(&n, &"bearer-xyz".to_string().into()).unwrap();
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", store.service(), "username", n.as_str()])
        .output()
        .expect("secret-tool (package libsecret-tools)");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "bearer-xyz");
    store.delete(&n).unwrap();
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", store.service(), "username", n.as_str()])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty(), "deleted from the Secret Service too");
}
