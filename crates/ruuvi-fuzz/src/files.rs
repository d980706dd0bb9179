//! Files anyone with access to the data directory may have edited (`receiver.json`,
//! `network.json`, `gateways.json`, `app.json`), what a person types or pastes (store URLs,
//! alert rules, PEM), and Bluetooth recordings.

use std::collections::HashMap;

use parking_lot::Mutex;
use ruuvi_alerts::{AlertStore, AlertType, Engine, Rule, TriggerType};
use ruuvi_ble::Identify;
use ruuvi_protocol::{Feed, MacAddress, Observation, Readings};
use ruuvi_receiver::{PolicyFile, SavedNetwork};
use ruuvi_secrets::{SecretError, SecretName, SecretStore, Sensitive};
use ruuvi_store::StoreLocation;
use ruuvi_wiring::app_settings::AppSettings;

/// A keychain in memory that has every secret asked for (a made-up one), so that the files'
/// parsers go all the way.
#[derive(Default)]
struct AnySecret(Mutex<HashMap<String, String>>);

impl SecretStore for AnySecret {
    fn set(&self, name: &SecretName, value: &Sensitive<String>) -> Result<(), SecretError> {
        self.0
            .lock()
            .insert(name.as_str().to_string(), value.expose().clone());
        Ok(())
    }

    fn get(&self, name: &SecretName) -> Result<Option<Sensitive<String>>, SecretError> {
        let value = self
            .0
            .lock()
            .get(name.as_str())
            .cloned()
            .unwrap_or_else(|| format!("secret of {}", name.as_str()));
        Ok(Some(Sensitive::new(value)))
    }

    fn delete(&self, name: &SecretName) -> Result<bool, SecretError> {
        Ok(self.0.lock().remove(name.as_str()).is_some())
    }
}

/// Any bytes as `receiver.json`: what parses becomes policies, and writes back to the same.
pub fn receiver_json(data: &[u8]) {
    let Ok(file) = PolicyFile::parse(data) else {
        return;
    };
    let _ = file.to_policies(&AnySecret::default());
    let text = serde_json::to_vec(&file).expect("plain data");
    assert_eq!(
        PolicyFile::parse(&text).expect("our own output parses"),
        file
    );
}

/// Any bytes as `network.json`: loaded with its secrets, the plans are asked about at any
/// time, and what was loaded saves and loads back the same.
pub fn network_json(data: &[u8]) {
    let secrets = AnySecret::default();
    let path = std::env::temp_dir().join(format!("ruuvi-fuzz-network-{}.json", std::process::id()));
    let Ok((mut saved, whitelist, registry)) =
        SavedNetwork::from_contents(&path, Some(data), &secrets)
    else {
        return;
    };
    for now_s in [0, 1_800_000_000, i64::MAX, i64::MIN] {
        let _ = registry.active_plan(now_s);
    }
    let entries = whitelist.entries().count();
    let (whitelist, registry) = (Mutex::new(whitelist), Mutex::new(registry));
    // Marked changed, so that it is written.
    whitelist.lock().version += 1;
    if saved
        .save(&whitelist, &registry, &secrets)
        .expect("saving what was loaded")
    {
        let (_, w, r) = SavedNetwork::load(&path, &secrets).expect("our own file loads");
        assert_eq!(w.entries().count(), entries);
        assert_eq!(r.subscriptions.len(), registry.lock().subscriptions.len());
        assert_eq!(r.sensors.len(), registry.lock().sensors.len());
    }
    let _ = std::fs::remove_file(&path);
}

/// Any bytes as `gateways.json` (the Gateways page's list).
pub fn gateways_json(data: &[u8]) {
    let Ok(list) = ruuvi_setup::parse_gateway_list(data) else {
        return;
    };
    for g in &list {
        let _ = serde_json::to_string(g).expect("plain data");
    }
}

/// Any bytes as `app.json`: checked as the Settings page checks it, retention derived.
pub fn app_json(data: &[u8]) {
    let Ok(settings) = AppSettings::parse(data) else {
        return;
    };
    if settings.validate().is_ok() {
        let _ = settings.retention();
    }
    let text = serde_json::to_vec(&settings).expect("plain data");
    assert_eq!(
        AppSettings::parse(&text).expect("our own output parses"),
        settings
    );
}

/// A store location as typed (`--store`, Settings): a password in it is never printed.
pub fn store_url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(location) = StoreLocation::parse(&text) else {
        return;
    };
    let shown = location.to_string();
    let debug = format!("{location:?}");
    if let StoreLocation::Postgres(target) = &location {
        if target.has_password() {
            assert!(debug.contains("<redacted>"), "{debug}");
        }
    }
    let _ = (shown, location.is_postgres());
}

/// Any bytes as a Bluetooth recording (`ruuvictl ble record`, `--ble-replay`): every line it
/// holds becomes an observation or a typed error.
pub fn ble_replay(data: &[u8]) {
    let Ok(recording) = ruuvi_ble::replay::read_recording(data) else {
        return;
    };
    let mut identify = Identify::default();
    for adv in &recording {
        let _ = identify.observe(adv);
    }
    // Played without waiting (the times are only computed), recorded and retimed.
    for retime_to_now in [false, true] {
        let options = ruuvi_ble::replay::ReplayOptions {
            speed: ruuvi_ble::replay::Speed::Instant,
            retime_to_now,
            rounds: 2,
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel(recording.len().max(1) * 2);
        let sent = crate::block_on(ruuvi_ble::replay::play(&recording, options, tx));
        assert_eq!(sent, recording.len() * 2);
        while rx.try_recv().is_ok() {}
    }
}

/// An alert rule as the app, `serve --ui` or the command line hands it over (JSON): a rule
/// that validates is stored, read back the same, and evaluated at any time without a panic.
pub fn alert_rule(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        // The command line's words for the type and trigger.
        let _ = text.parse::<AlertType>();
        let _ = text.parse::<TriggerType>();
    }
    let Ok(rule) = serde_json::from_slice::<Rule>(data) else {
        return;
    };
    if rule.validate().is_err() {
        return;
    }
    let mut store = AlertStore::open_in_memory().expect("in-memory SQLite");
    let saved = store.add(rule.clone()).expect("a valid rule is stored");
    let back = store.rules().expect("rules");
    assert_eq!(back.len(), 1);
    let mut expected = rule.clone();
    expected.id = saved.id;
    assert_eq!(back[0], expected);
    let mut engine = Engine::new(back);
    let sensor: MacAddress = rule.sensor;
    // Far over and far under the threshold in turn, so that the rule fires, re-arms and
    // fires again (its cooldown is checked), at ordinary and extreme times.
    let times = [0, 1, 1_800_000_000_000, i64::MAX / 2, i64::MAX, i64::MIN, 0];
    for (i, now_ms) in times.into_iter().enumerate() {
        for offset in [1000.0, -1000.0] {
            let value = rule.threshold + offset;
            let o = Observation {
                sensor,
                feed: Feed::Ble,
                received_at_ms: now_ms,
                seen_at_s: None,
                rssi: Some(-60),
                format: None,
                readings: Readings {
                    temperature_c: Some(value),
                    humidity_pct: Some(value.clamp(0.0, 100.0)),
                    pressure_pa: Some(value * 100.0),
                    movement_counter: Some(i as u32),
                    battery_v: Some(value / 1000.0),
                    co2_ppm: Some(value.abs()),
                    luminosity_lux: Some(value.abs()),
                    ..Readings::default()
                },
            };
            let _ = engine.observe(&o, now_ms);
        }
        let _ = engine.tick(now_ms);
    }
}

/// PEM as pasted into the app or given to `ruuvictl pki show` / `import-ca`; a
/// `-----BEGIN PRIVATE KEY-----` block splits the certificate from the key.
pub fn pem(data: &[u8]) {
    let _ = ruuvi_pki::inspect_der(data);
    let text = String::from_utf8_lossy(data);
    let _ = ruuvi_pki::inspect_all(&text);
    let _ = ruuvi_pki::certificates_der(&text);
    if let Ok(info) = ruuvi_pki::inspect(&text) {
        let _ = info.expires_within(ruuvi_pki::OffsetDateTime::now_utc(), 30);
    }
    let (cert, key) = match text.split_once("-----BEGIN PRIVATE KEY-----") {
        Some((cert, key)) => (
            cert.to_string(),
            format!("-----BEGIN PRIVATE KEY-----{key}"),
        ),
        None => (text.to_string(), String::new()),
    };
    let _ = ruuvi_pki::LocalCa::import(&cert, &Sensitive::new(key));
}
