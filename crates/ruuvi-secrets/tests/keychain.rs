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
    // A PEM private key (the Windows Credential Manager holds at most 2560 bytes per entry:
    // longer secrets are kept in parts, below).
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

/// Secrets longer than a Windows credential may hold (an RSA-4096 key is 3.3 kB of PEM, an
/// RSA-8192 key 6.4 kB) are kept in several entries and read back whole; a shorter value
/// stored over them leaves no part behind.
#[test]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
fn long_secrets_round_trip_and_leave_no_parts_behind() {
    let store = keychain("long");
    let key = name(SecretKind::PrivateKey, "ca");
    for len in [3268, 6400] {
        // Multi-byte characters, so that a part boundary falls inside one somewhere.
        let long: String = "Ruuvi→ÄÖ🔑".chars().cycle().take(len).collect();
        store.set(&key, &long.clone().into()).unwrap();
        assert_eq!(store.get(&key).unwrap().unwrap().expose(), &long);
    }
    let part = |i: usize| keyring::Entry::new(store.service(), &format!("private-key/ca#part{i}"));
    if cfg!(windows) {
        assert!(part(1).unwrap().get_secret().is_ok(), "kept in parts");
    }
    store.set(&key, &"short".to_string().into()).unwrap();
    assert_eq!(store.get(&key).unwrap().unwrap().expose(), "short");
    for i in 1..=8 {
        assert!(
            matches!(part(i).unwrap().get_secret(), Err(keyring::Error::NoEntry)),
            "part {i} left behind"
        );
    }
    assert!(store.delete(&key).unwrap());
    assert!(store.get(&key).unwrap().is_none());
}

/// An installation made under the earlier identifier (`com.ruuvidesk.app`): its entries are
/// found under the new one and moved there on first read; set and delete leave no stale copy.
#[test]
#[ignore = "needs an unlocked keychain: make test runs it in tests/with-keychain.sh"]
fn entries_of_an_earlier_identifier_move_on_first_read() {
    let earlier = keychain("earlier-id");
    let now = Keychain::with_earlier(
        &format!("com.ruuvidesk.test.new-id.{}", std::process::id()),
        &[earlier.service()],
    );
    let pw = name(SecretKind::GatewayPassword, "C8:25:2D:8E:9C:2C");
    let key = name(SecretKind::PrivateKey, "ca");
    let hmac = name(SecretKind::HmacKey, "D8:B2:2F:25:E5:9F");
    let long: String = "-----BEGIN PRIVATE KEY-----"
        .chars()
        .cycle()
        .take(3268)
        .collect();
    earlier
        .set(&pw, &"old pässword".to_string().into())
        .unwrap();
    earlier.set(&key, &long.clone().into()).unwrap();
    earlier.set(&hmac, &"stale".to_string().into()).unwrap();

    assert_eq!(now.get(&pw).unwrap().unwrap().expose(), "old pässword");
    assert!(earlier.get(&pw).unwrap().is_none(), "moved, not copied");
    assert_eq!(now.get(&pw).unwrap().unwrap().expose(), "old pässword");
    assert_eq!(now.get(&key).unwrap().unwrap().expose(), &long);
    assert!(earlier.get(&key).unwrap().is_none());
    // Setting under the new identifier drops the earlier copy; deleting reaches both.
    now.set(&hmac, &"fresh".to_string().into()).unwrap();
    assert!(earlier.get(&hmac).unwrap().is_none());
    earlier
        .set(&hmac, &"stale again".to_string().into())
        .unwrap();
    assert_eq!(
        now.get(&hmac).unwrap().unwrap().expose(),
        "fresh",
        "the new one wins"
    );
    assert!(now.delete(&hmac).unwrap());
    assert!(earlier.get(&hmac).unwrap().is_none());
    assert!(now.get(&hmac).unwrap().is_none());
    for n in [&pw, &key] {
        assert!(now.delete(n).unwrap());
    }
    assert!(!now.delete(&pw).unwrap());
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
