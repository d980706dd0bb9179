//! Every batch whose insert returned is still there after the writing process is killed with
//! SIGKILL (no chance to flush or close anything).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use ruuvi_protocol::{DataFormat, Feed, Observation, Readings};
use ruuvi_store::{ObservationStore, Query, SqliteStore};

const PATH_ENV: &str = "RUUVI_STORE_DURABILITY_DB";
const BATCH: u32 = 100;

#[test]
fn acknowledged_batches_survive_kill_9() {
    let dir = std::env::temp_dir().join(format!("ruuvi-store-kill9-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("observations.sqlite");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "writer_until_killed", "--ignored", "--nocapture"])
        .env(PATH_ENV, &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acknowledged = 0u32;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("committed ") {
            acknowledged = n.trim().parse().unwrap();
            if acknowledged >= 50 * BATCH {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(acknowledged >= 50 * BATCH, "the writer ran");

    let mut store = SqliteStore::open(&db).unwrap();
    let stored = store.query(&Query::default()).unwrap();
    assert!(
        stored.len() as u32 >= acknowledged,
        "{} < {acknowledged}",
        stored.len()
    );
    // Exactly the acknowledged sequence numbers, in order, with no gaps.
    for (i, o) in stored.iter().take(acknowledged as usize).enumerate() {
        assert_eq!(o.readings.measurement_sequence, Some(i as u32));
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "the child process of acknowledged_batches_survive_kill_9"]
fn writer_until_killed() {
    let path = std::env::var(PATH_ENV).expect("started by acknowledged_batches_survive_kill_9");
    let mut store = SqliteStore::open(std::path::Path::new(&path)).unwrap();
    let stdout = std::io::stdout();
    // Bounded: the parent kills it long before this ends.
    for b in 0..10_000u32 {
        let batch: Vec<Observation> = (0..BATCH)
            .map(|i| Observation {
                sensor: "AA:BB:CC:DD:EE:FF".parse().unwrap(),
                feed: Feed::Ble,
                received_at_ms: i64::from(b * BATCH + i),
                seen_at_s: None,
                rssi: Some(-70),
                format: Some(DataFormat::Df5),
                readings: Readings {
                    measurement_sequence: Some(b * BATCH + i),
                    temperature_c: Some(21.0),
                    ..Readings::default()
                },
            })
            .collect();
        store.insert(&batch).unwrap();
        let mut out = stdout.lock();
        writeln!(out, "committed {}", (b + 1) * BATCH).unwrap();
        out.flush().unwrap();
    }
}
