//! Where observations are kept: one SQLite file in WAL mode, written in batches (one
//! transaction per batch), read as the latest state per sensor or as a range, exported as CSV or
//! JSON lines, trimmed by age.
//!
//! Durability: WAL with `synchronous=NORMAL` keeps every committed batch through a crash or a
//! `kill -9` of the process (the WAL is written before the commit returns); only an operating
//! system crash or power loss can lose the last batches. A caller acknowledges data (e.g. a 2xx
//! to a gateway) only after [`Store::insert`] has returned.

use std::io::Write;
use std::path::Path;

mod codec;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use ruuvi_protocol::{DataFormat, Feed, MacAddress, Observation, Readings};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored row {id} is damaged: {reason}")]
    Corrupt { id: i64, reason: String },
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("the database was written by a newer Ruuvi Desk (schema {0})")]
    NewerSchema(i64),
}

/// 2 added the `meta` table (how far thinning got); 3 writes readings as compact blobs
/// (older JSON rows are still read).
const SCHEMA_VERSION: i64 = 3;

/// Which observations a read covers; empty = everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub sensor: Option<MacAddress>,
    /// Received at or after (Unix ms).
    pub from_ms: Option<i64>,
    /// Received before (Unix ms).
    pub to_ms: Option<i64>,
    pub limit: Option<usize>,
}

pub struct Store {
    conn: Connection,
}

/// How long observations are kept and how finely: a subscription's `maxHistoryDays` and
/// `maxResolutionMinutes` applied locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    /// Older than this (ms) is deleted; `None` keeps everything.
    pub max_history_ms: Option<i64>,
    /// Beyond the full-resolution span, one observation (the first) per sensor per this many
    /// ms; `None` keeps every observation.
    pub resolution_ms: Option<i64>,
    /// The most recent span (ms) kept at full resolution, for live charts and alerts.
    pub full_resolution_ms: i64,
}

impl Retention {
    /// `maxHistoryDays` / `maxResolutionMinutes` (0 or absent: no limit) with 24 hours kept
    /// at full resolution.
    pub fn from_plan(max_history_days: Option<u32>, max_resolution_minutes: Option<u32>) -> Self {
        Self {
            max_history_ms: max_history_days
                .filter(|d| *d > 0)
                .map(|d| i64::from(d) * 86_400_000),
            resolution_ms: max_resolution_minutes
                .filter(|m| *m > 0)
                .map(|m| i64::from(m) * 60_000),
            full_resolution_ms: 86_400_000,
        }
    }
}

/// What one [`Store::trim`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Trimmed {
    /// Older than the history limit.
    pub expired: usize,
    /// Finer than the resolution.
    pub thinned: usize,
    /// The row limit was reached: there is more to do.
    pub more: bool,
}

const COLUMNS: &str = "id, sensor, received_at_ms, seen_at_s, feed, rssi, format, readings";

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::init(Connection::open(path)?)
    }

    /// A database that lives in memory only (tests, previews).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Another connection (an export while ingest writes) waits instead of failing.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema(version));
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS observations (
                 id INTEGER PRIMARY KEY,
                 sensor TEXT NOT NULL,
                 received_at_ms INTEGER NOT NULL,
                 seen_at_s INTEGER,
                 feed TEXT NOT NULL,
                 rssi INTEGER,
                 format TEXT,
                 seq INTEGER,
                 readings BLOB NOT NULL
             );
             CREATE INDEX IF NOT EXISTS observations_sensor_time
                 ON observations(sensor, received_at_ms);
             CREATE INDEX IF NOT EXISTS observations_time ON observations(received_at_ms);
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
        )?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(Self { conn })
    }

    /// Stores a batch in one transaction: all of it or nothing.
    pub fn insert(&mut self, batch: &[Observation]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO observations
                     (sensor, received_at_ms, seen_at_s, feed, rssi, format, seq, readings)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for o in batch {
                stmt.execute(params![
                    o.sensor.to_string(),
                    o.received_at_ms,
                    o.seen_at_s.map(|s| s as i64),
                    serde_json::to_string(&o.feed).expect("plain enum"),
                    o.rssi,
                    o.format
                        .map(|f| serde_json::to_string(&f).expect("plain enum")),
                    o.readings.measurement_sequence,
                    codec::encode(&o.readings),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM observations", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    /// The newest observation of every sensor.
    pub fn latest(&self) -> Result<Vec<Observation>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM observations
             WHERE id IN (SELECT MAX(id) FROM observations GROUP BY sensor)
             ORDER BY sensor"
        ))?;
        let rows = stmt.query_map([], raw_row)?;
        rows.map(|r| decode(r?)).collect()
    }

    /// The newest observation of one sensor.
    pub fn latest_of(&self, sensor: MacAddress) -> Result<Option<Observation>, StoreError> {
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM observations WHERE sensor = ?1 ORDER BY id DESC LIMIT 1"
                ),
                [sensor.to_string()],
                raw_row,
            )
            .optional()?;
        row.map(decode).transpose()
    }

    /// Observations in receive order.
    pub fn query(&self, q: &Query) -> Result<Vec<Observation>, StoreError> {
        let mut out = Vec::new();
        self.each(q, |o| {
            out.push(o);
            Ok(())
        })?;
        Ok(out)
    }

    fn each(
        &self,
        q: &Query,
        mut f: impl FnMut(Observation) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM observations
             WHERE (?1 IS NULL OR sensor = ?1)
               AND (?2 IS NULL OR received_at_ms >= ?2)
               AND (?3 IS NULL OR received_at_ms < ?3)
             ORDER BY id LIMIT ?4"
        ))?;
        let limit = q.limit.map(|l| l as i64).unwrap_or(-1);
        let rows = stmt.query_map(
            params![q.sensor.map(|m| m.to_string()), q.from_ms, q.to_ms, limit],
            raw_row,
        )?;
        let mut n = 0;
        for row in rows {
            f(decode(row?)?)?;
            n += 1;
        }
        Ok(n)
    }

    /// Deletes what was received before `cutoff_ms`; returns how many.
    pub fn delete_older_than(&mut self, cutoff_ms: i64) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM observations WHERE received_at_ms < ?1",
            [cutoff_ms],
        )?)
    }

    /// Applies a retention policy, deleting at most `max_rows` rows (one short transaction, so
    /// inserts waiting for the database are not held up); call again while
    /// [`Trimmed::more`] says so.
    pub fn trim(
        &mut self,
        policy: &Retention,
        now_ms: i64,
        max_rows: usize,
    ) -> Result<Trimmed, StoreError> {
        let mut done = Trimmed::default();
        let limit = max_rows as i64;
        if let Some(keep) = policy.max_history_ms {
            done.expired = self.conn.execute(
                "DELETE FROM observations WHERE id IN (
                     SELECT id FROM observations WHERE received_at_ms < ?1
                     ORDER BY received_at_ms LIMIT ?2)",
                params![now_ms - keep, limit],
            )?;
            done.more = done.expired == max_rows;
        }
        let room = max_rows - done.expired;
        if let (Some(step), true) = (policy.resolution_ms.filter(|r| *r > 0), room > 0) {
            // Whole buckets only, so a bucket is never thinned while it can still grow.
            let cut = (now_ms - policy.full_resolution_ms).div_euclid(step) * step;
            // Rows below the watermark are already thinned at this resolution.
            let from = match self.meta("thinned_until_ms")? {
                Some(until) if self.meta("thinned_resolution_ms")? == Some(step) => until,
                _ => i64::MIN,
            };
            if cut > from {
                done.thinned = self.conn.execute(
                    "DELETE FROM observations WHERE id IN (
                         SELECT o.id FROM observations o
                         WHERE o.received_at_ms >= ?1 AND o.received_at_ms < ?2
                           AND o.id <> (
                               SELECT MIN(p.id) FROM observations p
                               WHERE p.sensor = o.sensor
                                 AND p.received_at_ms >= (o.received_at_ms / ?3) * ?3
                                 AND p.received_at_ms < (o.received_at_ms / ?3 + 1) * ?3)
                         LIMIT ?4)",
                    params![from, cut, step, room as i64],
                )?;
                if done.thinned < room {
                    self.set_meta("thinned_until_ms", cut)?;
                    self.set_meta("thinned_resolution_ms", step)?;
                } else {
                    done.more = true;
                }
            }
        }
        Ok(done)
    }

    fn meta(&self, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&self, key: &str, value: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// One JSON object per line; returns how many.
    pub fn export_json(&self, q: &Query, out: &mut dyn Write) -> Result<usize, StoreError> {
        self.each(q, |o| {
            serde_json::to_writer(&mut *out, &o).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
            Ok(())
        })
    }

    /// CSV with a header: sensor, times, feed, RSSI, format, then every reading (empty when the
    /// format has no such value). Returns how many rows.
    pub fn export_csv(&self, q: &Query, out: &mut dyn Write) -> Result<usize, StoreError> {
        let fields = reading_fields();
        writeln!(
            out,
            "sensor,received_at_ms,seen_at_s,feed,gateway,rssi,format,{}",
            fields.join(",")
        )?;
        self.each(q, |o| {
            let readings = serde_json::to_value(&o.readings).expect("plain struct");
            let (feed, gateway) = match &o.feed {
                Feed::Ble => ("ble", None),
                Feed::GatewayHistory { gateway } => ("gateway_history", *gateway),
                Feed::GatewayPost { gateway } => ("gateway_post", *gateway),
            };
            let mut line = format!(
                "{},{},{},{feed},{},{},{}",
                o.sensor,
                o.received_at_ms,
                o.seen_at_s.map(|s| s.to_string()).unwrap_or_default(),
                gateway.map(|g| g.to_string()).unwrap_or_default(),
                o.rssi.map(|r| r.to_string()).unwrap_or_default(),
                o.format.map(format_name).unwrap_or_default(),
            );
            for field in &fields {
                line.push(',');
                line.push_str(&csv_value(&readings[field.as_str()]));
            }
            writeln!(out, "{line}")?;
            Ok(())
        })
    }
}

fn format_name(f: DataFormat) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The readings' field names in declaration order.
fn reading_fields() -> Vec<String> {
    match serde_json::to_value(Readings::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn csv_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) if s.contains([',', '"', '\n']) => {
            format!("\"{}\"", s.replace('"', "\"\""))
        }
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

type RawRow = (
    i64,
    String,
    i64,
    Option<i64>,
    String,
    Option<i64>,
    Option<String>,
    SqlValue,
);

fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn decode(
    (id, sensor, received_at_ms, seen_at_s, feed, rssi, format, readings): RawRow,
) -> Result<Observation, StoreError> {
    let bad = |reason: String| StoreError::Corrupt { id, reason };
    Ok(Observation {
        sensor: sensor.parse().map_err(|e| bad(format!("sensor: {e}")))?,
        feed: serde_json::from_str(&feed).map_err(|e| bad(format!("feed: {e}")))?,
        received_at_ms,
        seen_at_s: seen_at_s.map(|s| s as u64),
        rssi: rssi.map(|r| r as i16),
        format: format
            .map(|f| serde_json::from_str(&f))
            .transpose()
            .map_err(|e| bad(format!("format: {e}")))?,
        readings: match readings {
            SqlValue::Blob(b) => codec::decode(&b).map_err(|e| bad(format!("readings: {e}")))?,
            // Schema 1 and 2 rows.
            SqlValue::Text(t) => {
                serde_json::from_str(&t).map_err(|e| bad(format!("readings: {e}")))?
            }
            other => return Err(bad(format!("readings: unexpected {other:?}"))),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(sensor: &str, at: i64, t: f64, seq: u32) -> Observation {
        Observation {
            sensor: sensor.parse().unwrap(),
            feed: Feed::GatewayPost {
                gateway: Some("C8:25:2D:8E:9C:2C".parse().unwrap()),
            },
            received_at_ms: at,
            seen_at_s: Some((at / 1000) as u64),
            rssi: Some(-60),
            format: Some(DataFormat::Df5),
            readings: Readings {
                temperature_c: Some(t),
                measurement_sequence: Some(seq),
                ..Readings::default()
            },
        }
    }

    #[test]
    fn round_trip_latest_range_and_retention() {
        let mut s = Store::open_in_memory().unwrap();
        let a = "AA:AA:AA:AA:AA:01";
        let b = "BB:BB:BB:BB:BB:02";
        s.insert(&[
            obs(a, 1_000, 20.5, 1),
            obs(b, 1_500, -3.25, 7),
            obs(a, 2_000, 21.0, 2),
        ])
        .unwrap();
        assert_eq!(s.count().unwrap(), 3);
        let latest = s.latest().unwrap();
        assert_eq!(latest.len(), 2);
        assert_eq!(
            latest[0],
            obs(a, 2_000, 21.0, 2),
            "the whole observation comes back"
        );
        assert_eq!(
            s.latest_of(b.parse().unwrap())
                .unwrap()
                .unwrap()
                .readings
                .temperature_c,
            Some(-3.25)
        );
        let only_a = s
            .query(&Query {
                sensor: Some(a.parse().unwrap()),
                ..Query::default()
            })
            .unwrap();
        assert_eq!(only_a.len(), 2);
        let window = s
            .query(&Query {
                from_ms: Some(1_200),
                to_ms: Some(2_000),
                ..Query::default()
            })
            .unwrap();
        assert_eq!(window, [obs(b, 1_500, -3.25, 7)]);
        assert_eq!(s.delete_older_than(1_600).unwrap(), 2);
        assert_eq!(s.count().unwrap(), 1);
    }

    #[test]
    fn retention_expires_and_thins_in_whole_buckets() {
        const MIN: i64 = 60_000;
        const DAY: i64 = 86_400_000;
        let now = 100 * DAY;
        let mut s = Store::open_in_memory().unwrap();
        let a = "AA:AA:AA:AA:AA:01";
        let b = "BB:BB:BB:BB:BB:02";
        let mut rows = Vec::new();
        // Three days of one post every 10 s from two sensors: 2 × 25,920 rows.
        for i in 0..(3 * DAY / 10_000) {
            let at = now - 3 * DAY + i * 10_000;
            rows.push(obs(a, at, 20.0, i as u32));
            rows.push(obs(b, at, 5.0, i as u32));
        }
        s.insert(&rows).unwrap();
        let policy = Retention::from_plan(Some(2), Some(15));
        assert_eq!(policy.resolution_ms, Some(15 * MIN));
        let mut total = Trimmed::default();
        let mut calls = 0;
        loop {
            let t = s.trim(&policy, now, 5_000).unwrap();
            assert!(t.expired + t.thinned <= 5_000, "bounded per call");
            total.expired += t.expired;
            total.thinned += t.thinned;
            calls += 1;
            if !t.more {
                break;
            }
        }
        assert!(calls > 2, "{calls} calls: the work was split");
        // Day 1 is gone; day 2 is one row per sensor per 15 minutes; day 3 is untouched.
        assert_eq!(total.expired, 2 * 8_640);
        let day2 = |sensor: &str| {
            s.query(&Query {
                sensor: Some(sensor.parse().unwrap()),
                from_ms: Some(now - 2 * DAY),
                to_ms: Some(now - DAY),
                limit: None,
            })
            .unwrap()
        };
        let kept = day2(a);
        assert_eq!(kept.len(), 96);
        assert!(kept
            .windows(2)
            .all(|w| w[1].received_at_ms - w[0].received_at_ms == 15 * MIN));
        assert_eq!(
            kept[0].received_at_ms % (15 * MIN),
            0,
            "the first of each bucket"
        );
        assert_eq!(day2(b).len(), 96);
        assert_eq!(s.count().unwrap(), 2 * 96 + 2 * 8_640);
        // Nothing more to do; the next day's trim only looks at the new buckets.
        assert_eq!(s.trim(&policy, now, 5_000).unwrap(), Trimmed::default());
        // A finer plan starts over without touching what a coarser one kept.
        let fine = Retention::from_plan(None, Some(5));
        assert_eq!(s.trim(&fine, now, 100_000).unwrap().thinned, 0);
        // No limits: nothing is removed.
        assert_eq!(
            s.trim(&Retention::default(), now + 10 * DAY, 100).unwrap(),
            Trimmed::default()
        );
    }

    #[test]
    fn exports_csv_and_json_lines() {
        let mut s = Store::open_in_memory().unwrap();
        s.insert(&[obs("AA:AA:AA:AA:AA:01", 1_000, 20.5, 1)])
            .unwrap();
        let mut csv = Vec::new();
        assert_eq!(s.export_csv(&Query::default(), &mut csv).unwrap(), 1);
        let csv = String::from_utf8(csv).unwrap();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(header.len(), row.len());
        let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
        assert_eq!(col("temperature_c"), "20.5");
        assert_eq!(col("humidity_pct"), "");
        assert_eq!(col("gateway"), "C8:25:2D:8E:9C:2C");
        assert_eq!(col("format"), "Df5");
        let mut json = Vec::new();
        s.export_json(&Query::default(), &mut json).unwrap();
        let back: Observation = serde_json::from_slice(json.trim_ascii_end()).unwrap();
        assert_eq!(back, obs("AA:AA:AA:AA:AA:01", 1_000, 20.5, 1));
    }

    #[test]
    fn rows_written_as_json_by_schema_2_are_still_read() {
        let s = Store::open_in_memory().unwrap();
        s.conn
            .execute(
                "INSERT INTO observations (sensor, received_at_ms, feed, format, readings)
                 VALUES ('AA:AA:AA:AA:AA:01', 5, '{\"kind\": \"ble\"}', '\"Df5\"',
                         '{\"temperature_c\": 21.5, \"humidity_pct\": null}')",
                [],
            )
            .unwrap();
        let o = s
            .latest_of("AA:AA:AA:AA:AA:01".parse().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(o.readings.temperature_c, Some(21.5));
        assert_eq!(o.readings.humidity_pct, None);
    }

    #[test]
    fn a_damaged_row_is_an_error_not_a_panic() {
        let s = Store::open_in_memory().unwrap();
        s.conn
            .execute(
                "INSERT INTO observations (sensor, received_at_ms, feed, readings)
                 VALUES ('not a mac', 1, '\"ble\"', '{}')",
                [],
            )
            .unwrap();
        assert!(matches!(s.latest(), Err(StoreError::Corrupt { .. })));
    }
}
