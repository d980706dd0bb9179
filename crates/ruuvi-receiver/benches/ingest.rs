//! Load generator and benchmark for the receiver (loopback only, bounded).
//!
//! 100-tag gateway posts with bearer auth and an HMAC signature, decoded, deduplicated and
//! persisted in SQLite (a file in the temp directory) before each 200. Reports:
//! 1. baselines measured in the same run, to show where the time goes: parse + decode alone,
//!    and SQLite batch inserts alone (observations/s, one core);
//! 2. throughput: observations/s with 8 keep-alive clients;
//! 3. latency at a fixed 10,000 observations/s (100 posts/s): p50 / p99, then the same while
//!    retention expires everything stored before (in the hub's steps).
//!
//! `cargo bench -p ruuvi-receiver --bench ingest`

use parking_lot::RwLock;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ruuvi_hub::{Hub, HubOptions};
use ruuvi_protocol::formats::{advertisement_for, Measurement};
use ruuvi_protocol::{DataFormat, Feed, GatewayDocument, MacAddress, Observation, Readings};
use ruuvi_receiver::{ExpectedAuth, GatewayPolicy, HmacCheck, Policies, Receiver, ReceiverOptions};
use ruuvi_secrets::Sensitive;
use ruuvi_store::{ObservationStore, SqliteStore};

const TAGS: u32 = 100;
const GW: &str = "C8:25:2D:8E:9C:2C";
const KEY: &str = "00:11:22:33:44:55:66:77";
const TOKEN: &str = "bench-token";

#[path = "../tests/common/mod.rs"]
mod common;
use common::ToHub;

/// Post bodies with a fresh measurement sequence each, made by patching a template (cheap, so
/// the load generator takes little of the cores it shares with the receiver).
struct Bodies {
    template: Vec<u8>,
    /// Where each tag's sequence (4 hex digits) is in the template.
    sequence_at: Vec<usize>,
}

impl Bodies {
    fn new() -> Self {
        let template = body(0);
        // DF5 advertisement: flags (3 bytes), length, 0xFF, 0x9904, then the payload whose
        // bytes 16-17 are the measurement sequence: hex digits 46..50 of "data".
        let marker = b"\"data\":\"";
        let sequence_at: Vec<usize> = template
            .windows(marker.len())
            .enumerate()
            .filter(|(_, w)| *w == marker)
            .map(|(i, _)| i + marker.len() + 46)
            .collect();
        Self {
            template,
            sequence_at,
        }
    }

    /// Post number `n`: every tag's measurement sequence is `n` (so nothing is a duplicate).
    fn post(&self, n: u16) -> Vec<u8> {
        let mut b = self.template.clone();
        let digits = format!("{n:04X}");
        for &at in &self.sequence_at {
            b[at..at + 4].copy_from_slice(digits.as_bytes());
        }
        b
    }
}

/// Post number `n`: 100 tags, each with measurement sequence `n`.
fn body(n: u32) -> Vec<u8> {
    let mut tags = serde_json::Map::new();
    for t in 0..TAGS {
        let readings = Readings {
            temperature_c: Some(20.0 + f64::from(t) / 10.0),
            humidity_pct: Some(45.0),
            pressure_pa: Some(100_500.0),
            accel_x_g: Some(0.0),
            accel_y_g: Some(0.0),
            accel_z_g: Some(1.0),
            battery_v: Some(2.9),
            tx_power_dbm: Some(4),
            movement_counter: Some(1),
            measurement_sequence: Some(n % 65_000),
            mac: Some(MacAddress([
                0xAA,
                0xBB,
                0xCC,
                0xDD,
                (t >> 8) as u8,
                t as u8,
            ])),
            ..Readings::default()
        };
        let payload = Measurement::from_readings(DataFormat::Df5, &readings).encode();
        let adv = advertisement_for(DataFormat::Df5, &payload);
        tags.insert(
            format!("AA:BB:CC:DD:{:02X}:{:02X}", t >> 8, t & 0xFF),
            serde_json::json!({"rssi": -60, "timestamp": 1_795_000_000u64 + u64::from(n), "data": hex::encode_upper(adv)}),
        );
    }
    serde_json::json!({"data": {"coordinates": "", "timestamp": 1_795_000_000u64 + u64::from(n), "nonce": n, "gw_mac": GW, "tags": tags}})
        .to_string()
        .into_bytes()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let bodies = Arc::new(Bodies::new());
    assert_eq!(bodies.sequence_at.len(), TAGS as usize);
    let check = GatewayDocument::parse(&bodies.post(1234)).unwrap();
    let (decoded, _) = Observation::from_gateway(&check, Feed::Ble, 0);
    assert!(decoded
        .iter()
        .all(|o| o.readings.measurement_sequence == Some(1234)));

    // Baseline 1: parse + decode, one core.
    let t = Instant::now();
    let mut decoded = 0usize;
    let rounds = 200u32;
    for i in 0..rounds {
        let doc = GatewayDocument::parse(&bodies.post(i as u16)).unwrap();
        decoded += Observation::from_gateway(
            &doc,
            Feed::GatewayPost {
                gateway: doc.gw_mac,
            },
            0,
        )
        .0
        .len();
    }
    let decode_rate = decoded as f64 / t.elapsed().as_secs_f64();

    // Baseline 2: SQLite inserts in batches of 100, one core.
    let dir = std::env::temp_dir().join(format!("ruuvi-ingest-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut store = SqliteStore::open(&dir.join("baseline.sqlite")).unwrap();
    let batch = Observation::from_gateway(
        &GatewayDocument::parse(&bodies.post(0)).unwrap(),
        Feed::Ble,
        0,
    )
    .0;
    let t = Instant::now();
    for round in 0..rounds {
        // Each post received a millisecond after the one before, as the receiver stamps them.
        let stamped: Vec<Observation> = batch
            .iter()
            .map(|o| Observation {
                received_at_ms: i64::from(round),
                ..o.clone()
            })
            .collect();
        store.insert(&stamped).unwrap();
    }
    let store_rate = (rounds as usize * batch.len()) as f64 / t.elapsed().as_secs_f64();
    drop(store);

    let (throughput, p50, p99, sent_at_rate, (trim_p50, trim_p99, expired)) =
        runtime.block_on(async {
            let (hub, _task) = Hub::start(
                SqliteStore::open(&dir.join("ingest.sqlite")).unwrap(),
                HubOptions::default(),
            );
            let mut policies = Policies::default();
            policies.gateways.insert(
                GW.parse().unwrap(),
                GatewayPolicy {
                    auth: ExpectedAuth::Bearer(Sensitive::new(TOKEN.into())),
                    require_client_cert: false,
                    hmac: HmacCheck::Key(Sensitive::new(KEY.into())),
                    rate_s: None,
                },
            );
            let receiver = Receiver::start(
                ReceiverOptions::new("127.0.0.1:0".parse().unwrap()),
                Arc::new(RwLock::new(policies)),
                Arc::new(ToHub(hub.clone())),
            )
            .await
            .unwrap();
            let url = format!("http://{}/record", receiver.addr);
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(16)
                .build()
                .unwrap();
            // Post `n` carries measurement sequence `n`: distinct for every post of the run.
            let post = move |n: usize| {
                let body = bodies.post(n as u16);
                let sig = ruuvi_protocol::signature::firmware_signature(KEY.as_bytes(), &body);
                client
                    .post(&url)
                    .header("Authorization", format!("Bearer {TOKEN}"))
                    .header("Ruuvi-HMAC-SHA256", sig)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
            };

            // Throughput: 8 clients, 250 posts each (200,000 observations; bounded). A profiler
            // wants a longer run: INGEST_POSTS_PER_CLIENT (at most 8,000: sequences stay distinct).
            let per_client: usize = std::env::var("INGEST_POSTS_PER_CLIENT")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(250)
                .min(8_000);
            let t = Instant::now();
            let mut tasks = Vec::new();
            for c in 0..8usize {
                let post = post.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..per_client {
                        let r = post(c * per_client + i).await.unwrap();
                        assert_eq!(r.status(), 200);
                    }
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            let throughput = (8 * per_client * TAGS as usize) as f64 / t.elapsed().as_secs_f64();

            // Latency at 10,000 observations/s: one 100-tag post every 10 ms for 5 s.
            let fixed_rate = |first: usize| {
                let post = post.clone();
                async move {
                    let mut latencies = Vec::new();
                    let mut ticker = tokio::time::interval(Duration::from_millis(10));
                    let mut pending = Vec::new();
                    let start = Instant::now();
                    for i in 0..500usize {
                        ticker.tick().await;
                        let fut = post(first + i);
                        pending.push(tokio::spawn(async move {
                            let t = Instant::now();
                            let r = fut.await.unwrap();
                            assert_eq!(r.status(), 200);
                            t.elapsed()
                        }));
                    }
                    for p in pending {
                        latencies.push(p.await.unwrap());
                    }
                    let rate = 500.0 * TAGS as f64 / start.elapsed().as_secs_f64();
                    latencies.sort();
                    (latencies, rate)
                }
            };
            let (latencies, sent_at_rate) = fixed_rate(8 * per_client).await;
            // The same while retention expires everything stored before (in the hub's steps,
            // queued between ingest batches).
            let cutoff = ruuvi_protocol::clock::now_ms();
            let before = hub.stats().stored;
            let trimming = {
                let hub = hub.clone();
                tokio::spawn(async move {
                    hub.retain(
                        ruuvi_store::Retention {
                            max_history_ms: Some(1),
                            resolution_ms: None,
                            full_resolution_ms: 0,
                        },
                        cutoff + 1,
                    )
                    .await
                })
            };
            let (trim_latencies, _) = fixed_rate(8 * per_client + 500).await;
            let (expired, _) = trimming.await.unwrap();
            assert_eq!(
                expired, before,
                "retention ran through everything stored before"
            );
            receiver.stop().await;
            // Every observation of the run was new and is in SQLite (no copy was skipped).
            assert_eq!(
                hub.stats().stored,
                ((8 * per_client + 1000) * TAGS as usize) as u64
            );
            (
                throughput,
                percentile(&latencies, 0.5),
                percentile(&latencies, 0.99),
                sent_at_rate,
                (
                    percentile(&trim_latencies, 0.5),
                    percentile(&trim_latencies, 0.99),
                    expired,
                ),
            )
        });
    let _ = std::fs::remove_dir_all(&dir);

    println!("ingest benchmark (100-tag posts, bearer + HMAC + decode + SQLite commit before 200)");
    println!("  baseline parse+decode, 1 core     {decode_rate:>12.0} obs/s");
    println!("  baseline SQLite inserts, 1 core   {store_rate:>12.0} obs/s");
    println!(
        "  receiver throughput, 8 clients    {throughput:>12.0} obs/s  ({:.2} of decode, {:.2} of SQLite)",
        throughput / decode_rate,
        throughput / store_rate
    );
    println!(
        "  at {sent_at_rate:.0} obs/s offered: p50 {:.2} ms, p99 {:.2} ms",
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0
    );
    println!(
        "  the same while retention expires {expired} observations: p50 {:.2} ms, p99 {:.2} ms",
        trim_p50.as_secs_f64() * 1000.0,
        trim_p99.as_secs_f64() * 1000.0
    );
}
