//! The live feed on a computer without Bluetooth (this one: no radio, and here no system bus
//! either, forced so whatever the machine has): it reports why, keeps retrying without
//! spinning, and stops as soon as nobody listens.

use std::time::Duration;

use ruuvi_ble::{scan, BleStatus, ScanOptions, Unavailable};
use tokio::sync::{mpsc, watch};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_retries_while_bluetooth_is_unavailable_and_stops_when_dropped() {
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let options = ScanOptions {
        retry_every: Duration::from_millis(100),
        ..ScanOptions::default()
    };
    let (tx, rx) = mpsc::channel(8);
    let (status_tx, mut status) = watch::channel(BleStatus::Starting);
    let feed = tokio::spawn(scan(options, tx, status_tx));
    tokio::time::timeout(Duration::from_secs(2), status.changed())
        .await
        .expect("a status within 2 s")
        .unwrap();
    let first = status.borrow_and_update().clone();
    assert!(
        matches!(
            first,
            BleStatus::Unavailable {
                kind: Unavailable::NoStack,
                ..
            }
        ),
        "{first:?}"
    );
    // It tries again (the same status is sent again each round) rather than giving up.
    for _ in 0..3 {
        tokio::time::timeout(Duration::from_secs(2), status.changed())
            .await
            .expect("another attempt")
            .unwrap();
    }
    drop(rx);
    tokio::time::timeout(Duration::from_millis(500), feed)
        .await
        .expect("the feed stops once nobody listens")
        .unwrap();
}
