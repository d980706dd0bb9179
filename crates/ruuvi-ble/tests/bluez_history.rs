//! A sensor's log downloaded over Bluetooth on btleplug's real Linux backend, the sensor played
//! by the BlueZ stand-in on a private D-Bus (no radio here): its GATT service, the log-read
//! request and the answers as Ruuvi documents them, from a RuuviTag and a Ruuvi Air whose logs
//! come from the gateway simulator's tag model — and the ways real downloads go wrong.

use std::time::Duration;

use ruuvi_ble::history::LogKind;
use ruuvi_ble::{download, DownloadError, DownloadOptions, DownloadStep, Downloaded};
use ruuvi_bluez_standin::{Behaviour, BlueZ, Policy, PrivateBus, SensorLog};
use ruuvi_gw_sim::rng::Rng;
use ruuvi_gw_sim::tags::{SimTag, TagKind};
use ruuvi_protocol::clock::now_ms;
use ruuvi_protocol::{DataFormat, MacAddress};
use tokio::sync::watch;

const HOUR: u32 = 3600;

fn options() -> DownloadOptions {
    DownloadOptions {
        find_within: Duration::from_secs(5),
        connect_within: Duration::from_secs(5),
        quiet_limit: Duration::from_secs(2),
        ..DownloadOptions::default()
    }
}

struct Sensor {
    mac: MacAddress,
    log: SensorLog,
}

/// A sensor that has been logging every 5 minutes for two days, heard once by the adapter.
async fn sensor(bluez: &BlueZ, index: u64, kind: TagKind, behaviour: Behaviour) -> Sensor {
    let now = (now_ms() / 1000) as u32;
    let from = now - 48 * HOUR;
    let mut tag = SimTag::new(&Rng::new(77), index, kind, u64::from(from) * 1000);
    let mut log = SensorLog::from_sim_tag(&mut tag, from, now, 300);
    log.behaviour = behaviour;
    let a = tag.latest(now_ms() as u64, true);
    bluez.keep_log("hci0", a.mac, log.clone());
    assert!(bluez
        .advertise("hci0", a.mac, a.rssi, &a.data)
        .await
        .unwrap());
    Sensor { mac: a.mac, log }
}

async fn fetch(
    mac: MacAddress,
    since_s: u32,
    options: &DownloadOptions,
) -> (Result<Downloaded, DownloadError>, Vec<DownloadStep>) {
    let (progress, mut steps_rx) = watch::channel(DownloadStep::Finding);
    let (_cancel, cancel_rx) = watch::channel(false);
    let watching = tokio::spawn(async move {
        let mut steps = vec![steps_rx.borrow_and_update().clone()];
        while steps_rx.changed().await.is_ok() {
            steps.push(steps_rx.borrow_and_update().clone());
        }
        steps
    });
    let result = download(options, mac, since_s, &progress, cancel_rx).await;
    drop(progress);
    (result, watching.await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_downloaded_whole_and_broken_downloads_keep_what_came() {
    let bus = PrivateBus::start(Policy::Allowed).await.unwrap();
    // Only this test runs in this binary: libdbus reads the variable once per process.
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", bus.address());
    let bluez = BlueZ::start(&bus).await.unwrap();
    bluez.add_adapter("hci0", true).await.unwrap();
    // The adapter discovers (as when the app scans) so advertisements are heard.
    bluez.set_discovering_for_tests("hci0").await.unwrap();
    let now = (now_ms() / 1000) as u32;
    let since = now - 24 * HOUR;

    // A RuuviTag: the last day of its log, every record with its three values.
    let tag = sensor(&bluez, 0, TagKind::RuuviTag, Behaviour::default()).await;
    let (result, steps) = fetch(tag.mac, since, &options()).await;
    let got = result.unwrap();
    assert_eq!(got.kind, LogKind::RuuviTag);
    assert_eq!(got.error, None);
    let expected: Vec<_> = tag
        .log
        .records
        .iter()
        .filter(|l| tag.log.booted_at_s + l.uptime_s >= since)
        .collect();
    assert_eq!(
        got.records.len(),
        expected.len(),
        "a day of 5-minute records"
    );
    assert!(got.records.len() >= 287, "{}", got.records.len());
    for (r, l) in got.records.iter().zip(&expected) {
        // The tag's clock was set from the time we sent: real times come back (±1 s).
        assert!((i64::from(r.at_s) - i64::from(tag.log.booted_at_s + l.uptime_s)).abs() <= 1);
        let (a, b) = (
            r.readings.temperature_c.unwrap(),
            l.readings.temperature_c.unwrap(),
        );
        assert!((a - b).abs() < 0.006, "{a} vs {b}");
        assert!(r.readings.humidity_pct.is_some() && r.readings.pressure_pa.is_some());
    }
    assert!(
        !bluez.connected("hci0", tag.mac).await,
        "disconnected afterwards"
    );
    assert_eq!(steps.first(), Some(&DownloadStep::Finding));
    assert!(steps.contains(&DownloadStep::Connecting), "{steps:?}");
    assert!(
        steps
            .iter()
            .any(|s| matches!(s, DownloadStep::Reading { records } if *records > 100)),
        "{steps:?}"
    );
    assert_eq!(
        steps.last(),
        Some(&DownloadStep::Done {
            records: expected.len() as u32
        })
    );

    // A Ruuvi Air: E1 records with their sequence numbers and air quality.
    let air = sensor(&bluez, 1, TagKind::RuuviAir, Behaviour::default()).await;
    let got = fetch(air.mac, since, &options()).await.0.unwrap();
    assert_eq!((got.kind, &got.error), (LogKind::RuuviAir, &None));
    assert!(got.records.len() >= 287, "{}", got.records.len());
    let r = &got.records[0];
    assert_eq!(r.format, Some(DataFormat::E1));
    assert!(
        r.readings.co2_ppm.is_some()
            && r.readings.pm2_5.is_some()
            && r.readings.measurement_sequence.is_some()
    );

    // A slow tag (40 ms a message, 0.9 s of quiet allowed) is waited for.
    let slow = sensor(
        &bluez,
        2,
        TagKind::RuuviTag,
        Behaviour {
            delay: Duration::from_millis(40),
            ..Behaviour::default()
        },
    )
    .await;
    let quick = DownloadOptions {
        quiet_limit: Duration::from_millis(900),
        ..options()
    };
    let got = fetch(slow.mac, now - 2 * HOUR, &quick).await.0.unwrap();
    assert_eq!((got.records.len(), &got.error), (24, &None));

    // The link drops after 30 messages: said so, the 10 whole records kept.
    let dropping = sensor(
        &bluez,
        3,
        TagKind::RuuviTag,
        Behaviour {
            drop_after: Some(30),
            ..Behaviour::default()
        },
    )
    .await;
    let got = fetch(dropping.mac, since, &options()).await.0.unwrap();
    assert_eq!(got.error, Some(DownloadError::Dropped));
    assert_eq!(got.records.len(), 10);

    // A malformed message: a clear error, what came before kept.
    let broken = sensor(
        &bluez,
        4,
        TagKind::RuuviTag,
        Behaviour {
            malformed_at: Some(9),
            ..Behaviour::default()
        },
    )
    .await;
    let got = fetch(broken.mac, since, &options()).await.0.unwrap();
    assert!(
        matches!(got.error, Some(DownloadError::Log(_))),
        "{:?}",
        got.error
    );
    assert!(got.error.unwrap().to_string().contains("malformed"));
    assert_eq!(got.records.len(), 3);

    // A sensor that stops answering: the quiet limit ends it.
    let silent = sensor(
        &bluez,
        5,
        TagKind::RuuviTag,
        Behaviour {
            delay: Duration::from_secs(3),
            ..Behaviour::default()
        },
    )
    .await;
    let started = std::time::Instant::now();
    let got = fetch(
        silent.mac,
        since,
        &DownloadOptions {
            quiet_limit: Duration::from_millis(500),
            ..options()
        },
    )
    .await
    .0
    .unwrap();
    assert_eq!(
        got.error,
        Some(DownloadError::Quiet(Duration::from_millis(500)))
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    // Out of reach for a connection.
    let refusing = sensor(
        &bluez,
        6,
        TagKind::RuuviTag,
        Behaviour {
            refuse_connection: true,
            ..Behaviour::default()
        },
    )
    .await;
    let got = fetch(refusing.mac, since, &options()).await.0.unwrap();
    assert!(
        matches!(got.error, Some(DownloadError::Connect(_))),
        "{:?}",
        got.error
    );

    // Not heard at all.
    let nobody = MacAddress([0xC0, 1, 2, 3, 4, 5]);
    let (result, _) = fetch(
        nobody,
        since,
        &DownloadOptions {
            find_within: Duration::from_millis(500),
            ..options()
        },
    )
    .await;
    assert!(
        matches!(result, Err(DownloadError::NotFound(_))),
        "{result:?}"
    );

    // Cancelled while reading: stops at once, what came is kept, the link closed.
    let long = sensor(
        &bluez,
        7,
        TagKind::RuuviTag,
        Behaviour {
            delay: Duration::from_millis(20),
            ..Behaviour::default()
        },
    )
    .await;
    let (progress, mut steps) = watch::channel(DownloadStep::Finding);
    let (cancel, cancel_rx) = watch::channel(false);
    let task =
        tokio::spawn(
            async move { download(&options(), long.mac, since, &progress, cancel_rx).await },
        );
    steps
        .wait_for(|s| matches!(s, DownloadStep::Reading { records } if *records >= 5))
        .await
        .unwrap();
    cancel.send_replace(true);
    let got = tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got.error, Some(DownloadError::Cancelled));
    assert!(
        (5..200).contains(&got.records.len()),
        "{}",
        got.records.len()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!bluez.connected("hci0", long.mac).await);
}
