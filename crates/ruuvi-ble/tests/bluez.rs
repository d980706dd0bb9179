//! The live feed on btleplug's real Linux backend (btleplug → bluez-async → libdbus), against
//! the BlueZ stand-in on a private D-Bus: there is no Bluetooth radio on this machine, so the
//! stand-in plays BlueZ and the tags (`ruuvi-bluez-standin`). Everything else — the D-Bus
//! calls, signals, btleplug's events, our feed — is the real code.

use std::time::Duration;

use ruuvi_ble::{scan, Advertisement, BleStatus, ScanOptions, Unavailable};
use ruuvi_bluez_standin::{BlueZ, Policy, PrivateBus};
use ruuvi_gw_sim::rng::Rng;
use ruuvi_gw_sim::tags::{SimTag, TagKind};
use ruuvi_protocol::clock::now_ms;
use tokio::sync::{mpsc, watch};

fn options() -> ScanOptions {
    ScanOptions {
        retry_every: Duration::from_millis(300),
        ..ScanOptions::default()
    }
}

/// Waits (at most 10 s) for a status that `want` accepts; returns it.
async fn status_where(
    status: &mut watch::Receiver<BleStatus>,
    want: impl Fn(&BleStatus) -> bool,
) -> BleStatus {
    let wait = async {
        loop {
            let now = status.borrow_and_update().clone();
            if want(&now) {
                return now;
            }
            status.changed().await.expect("the feed runs");
        }
    };
    match tokio::time::timeout(Duration::from_secs(10), wait).await {
        Ok(s) => s,
        Err(_) => panic!("no such status within 10 s; last {:?}", *status.borrow()),
    }
}

/// Waits for the feed to stop scanning and says it is `kind`.
async fn stopped_with(status: &mut watch::Receiver<BleStatus>, kind: Unavailable) {
    let s = status_where(status, |s| !matches!(s, BleStatus::Scanning { .. })).await;
    assert!(
        matches!(&s, BleStatus::Unavailable { kind: k, .. } if *k == kind),
        "{s:?}"
    );
}

/// Scanning again, and the tags heard again (what is still on its way drained after).
async fn scanning_and_heard_again(
    bluez: &BlueZ,
    tags: &mut [SimTag],
    rx: &mut mpsc::Receiver<Advertisement>,
    status: &mut watch::Receiver<BleStatus>,
) {
    status_where(status, |s| matches!(s, BleStatus::Scanning { .. })).await;
    radio(bluez, "hci0", tags, 5).await;
    assert!(!received(rx, Duration::from_secs(2), |got| !got.is_empty())
        .await
        .is_empty());
    drain(rx).await;
}

/// Advertises each tag's latest measurement every 100 ms until `stop` (or 200 rounds).
async fn radio(bluez: &BlueZ, hci: &str, tags: &mut [SimTag], rounds: usize) {
    for _ in 0..rounds {
        let now = now_ms() as u64;
        for tag in tags.iter_mut() {
            bluez.advertise_tag(hci, tag, now).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What arrives until `enough` says so (at most 5 s: a loaded machine lags), or, with
/// `enough` never satisfied, until nothing has come for `quiet`.
async fn received(
    rx: &mut mpsc::Receiver<Advertisement>,
    quiet: Duration,
    enough: impl Fn(&[Advertisement]) -> bool,
) -> Vec<Advertisement> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !enough(&out) {
        let next =
            tokio::time::timeout_at(deadline.min(tokio::time::Instant::now() + quiet), rx.recv());
        match next.await {
            Ok(Some(a)) => out.push(a),
            _ => break,
        }
    }
    out
}

/// Everything still on its way (until 300 ms pass without any).
async fn drain(rx: &mut mpsc::Receiver<Advertisement>) {
    received(rx, Duration::from_millis(300), |_| false).await;
}

fn of(got: &[Advertisement], mac: ruuvi_protocol::MacAddress) -> usize {
    got.iter().filter(|a| a.address == Some(mac)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanning_and_adapters_coming_and_going_on_the_real_backend() {
    let bus = PrivateBus::start(Policy::Allowed).await.unwrap();
    // Only this test runs in this binary: libdbus reads the variable once per process.
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", bus.address());
    let bluez = BlueZ::start(&bus).await.unwrap();

    // No adapter yet: said so; one plugged in later is picked up without a restart.
    let (tx, mut rx) = mpsc::channel(1024);
    let (status_tx, mut status) = watch::channel(BleStatus::Starting);
    let feed = tokio::spawn(scan(options(), tx, status_tx));
    let s = status_where(&mut status, |s| matches!(s, BleStatus::Unavailable { .. })).await;
    assert!(
        matches!(
            s,
            BleStatus::Unavailable {
                kind: Unavailable::NoAdapter,
                ..
            }
        ),
        "{s:?}"
    );
    bluez.add_adapter("hci0", true).await.unwrap();
    let s = status_where(&mut status, |s| matches!(s, BleStatus::Scanning { .. })).await;
    assert!(s.to_string().contains("hci0"), "{s}");
    assert!(
        bluez.discovering("hci0").await.unwrap(),
        "discovery started"
    );

    // Tags advertise: a RuuviTag (format 5) and a Ruuvi Air (E1 and format 6).
    let rng = Rng::new(24);
    let t0 = now_ms() as u64;
    let mut tags = vec![
        SimTag::new(&rng, 0, TagKind::RuuviTag, t0),
        SimTag::new(&rng, 1, TagKind::RuuviAir, t0),
    ];
    radio(&bluez, "hci0", &mut tags, 20).await;
    let macs: Vec<_> = tags.iter().map(|t| t.mac).collect();
    let got = received(&mut rx, Duration::from_secs(2), |got| {
        macs.iter().all(|m| of(got, *m) >= 10)
    })
    .await;
    drain(&mut rx).await;
    for tag in &tags {
        let mine: Vec<_> = got.iter().filter(|a| a.address == Some(tag.mac)).collect();
        assert!(
            mine.len() >= 10,
            "{:?}: {} advertisements",
            tag.mac,
            mine.len()
        );
        let formats: std::collections::BTreeSet<u8> = mine.iter().map(|a| a.payload[0]).collect();
        match tag.kind {
            TagKind::RuuviTag => assert_eq!(formats, [5].into()),
            TagKind::RuuviAir => assert_eq!(formats, [6, 0xE1].into()),
        }
        assert!(mine
            .iter()
            .all(|a| a.rssi.is_some_and(|r| (-120..=-20).contains(&r))));
    }

    // Switched off: said so, nothing heard; on again: scanning resumes by itself.
    bluez.set_powered("hci0", false).await.unwrap();
    stopped_with(&mut status, Unavailable::AdapterOff).await;
    radio(&bluez, "hci0", &mut tags, 3).await;
    assert!(received(&mut rx, Duration::from_millis(300), |_| false)
        .await
        .is_empty());
    bluez.set_powered("hci0", true).await.unwrap();
    scanning_and_heard_again(&bluez, &mut tags, &mut rx, &mut status).await;

    // Unplugged: said so; plugged back in: scanning again.
    bluez.remove_adapter("hci0").await.unwrap();
    stopped_with(&mut status, Unavailable::NoAdapter).await;
    bluez.add_adapter("hci0", true).await.unwrap();
    scanning_and_heard_again(&bluez, &mut tags, &mut rx, &mut status).await;

    // A device BlueZ forgot (not heard for a while) that advertises again is found again.
    bluez.forget("hci0", tags[0].mac).await.unwrap();
    radio(&bluez, "hci0", &mut tags, 5).await;
    let again = received(&mut rx, Duration::from_secs(2), |got| of(got, macs[0]) > 0).await;
    assert!(of(&again, macs[0]) > 0, "heard again after being forgotten");

    drop(rx);
    tokio::time::timeout(Duration::from_secs(3), feed)
        .await
        .expect("the feed stops once nobody listens")
        .unwrap();
}
