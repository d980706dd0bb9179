//! Where observations are kept, behind one trait ([`ObservationStore`]) with two engines:
//! [`SqliteStore`] (one file in WAL mode, the embedded default) and [`PostgresStore`] (a
//! PostgreSQL database that several Ruuvi Desk processes may write to at once). Both keep the
//! same table, written in batches (one transaction per batch), read as the latest state per
//! sensor or as a range, exported as CSV or JSON lines, trimmed by age and resolution.
//!
//! A caller acknowledges data (e.g. a 2xx to a gateway) only after
//! [`ObservationStore::insert`] has returned.

use std::io::Write;

mod codec;
mod csv;
pub mod import;
pub mod location;
mod packed;
mod postgres;
pub mod rollup;
mod sqlite;
/// A fresh PostgreSQL database for tests (`testing` feature).
#[cfg(feature = "testing")]
pub mod testing;

pub use location::StoreLocation;
pub use postgres::PostgresStore;
pub use rollup::{Bucket, Gather, Level, Stats};
use ruuvi_protocol::{MacAddress, Observation, SensorProfile};
pub use sqlite::{Migration, SqliteStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("stored row {id} is damaged: {reason}")]
    Corrupt { id: i64, reason: String },
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("the database was written by a newer Ruuvi Desk (schema {0})")]
    NewerSchema(i64),
    #[error("{0}")]
    Location(String),
    /// A profile change that cannot be kept (too long a name, too large an offset).
    #[error("{0}")]
    BadProfile(String),
}

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

/// Where observations are kept. Every method blocks (call it from a blocking thread, e.g.
/// `tokio::task::spawn_blocking`, as the hub does).
pub trait ObservationStore: Send {
    /// Stores a batch in one transaction: all of it or nothing. Returns, per observation,
    /// whether it was stored (`false`: a copy of a measurement another writer of the same
    /// database stored already, by sensor + format + sequence number).
    fn insert(&mut self, batch: &[Observation]) -> Result<Vec<bool>, StoreError>;

    fn count(&mut self) -> Result<u64, StoreError>;

    /// The newest observation of every sensor, by sensor.
    fn latest(&mut self) -> Result<Vec<Observation>, StoreError>;

    /// The newest observation of one sensor.
    fn latest_of(&mut self, sensor: MacAddress) -> Result<Option<Observation>, StoreError>;

    /// Calls `f` with each observation of `q`: sensor by sensor (in MAC order), each sensor's
    /// in time order (equal times in the order they were stored); returns how many.
    fn each(
        &mut self,
        q: &Query,
        f: &mut dyn FnMut(Observation) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError>;

    /// When `sensor` was observed in `[from_ms, to_ms)`, oldest first (what a downloaded log
    /// is checked against). This default reads the observations; an engine can read only the
    /// times.
    fn times(
        &mut self,
        sensor: MacAddress,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut out = Vec::new();
        let range = Query {
            sensor: Some(sensor),
            from_ms: Some(from_ms),
            to_ms: Some(to_ms),
            limit: None,
        };
        self.each(&range, &mut |o| {
            out.push(o.received_at_ms);
            Ok(())
        })?;
        Ok(out)
    }

    /// Deletes what was received before `cutoff_ms`; returns how many.
    fn delete_older_than(&mut self, cutoff_ms: i64) -> Result<usize, StoreError>;

    /// Applies a retention policy, deleting at most `max_rows` rows (one short transaction, so
    /// inserts waiting for the database are not held up); call again while
    /// [`Trimmed::more`] says so. Beyond the full-resolution span the first observation per
    /// sensor per resolution step is kept, in whole steps only.
    fn trim(
        &mut self,
        policy: &Retention,
        now_ms: i64,
        max_rows: usize,
    ) -> Result<Trimmed, StoreError>;

    /// One sensor's statistics per `level` bucket starting in `[from_ms, to_ms)` (the bucket
    /// holding `from_ms` included), in time order; returns how many. This default computes
    /// them from the raw rows; an engine that keeps rollups reads those.
    fn buckets(
        &mut self,
        sensor: MacAddress,
        from_ms: i64,
        to_ms: i64,
        level: Level,
        f: &mut dyn FnMut(Bucket),
    ) -> Result<usize, StoreError> {
        let range = Query {
            sensor: Some(sensor),
            from_ms: Some(level.bucket_of(from_ms)),
            to_ms: Some(to_ms),
            limit: None,
        };
        let mut buckets = rollup::Buckets::new(level, f);
        self.each(&range, &mut |o| {
            buckets.add(o.received_at_ms, &o.readings);
            Ok(())
        })?;
        Ok(buckets.finish())
    }

    /// Every sensor's profile (name, location, note, calibration), by sensor.
    fn profiles(&mut self) -> Result<Vec<SensorProfile>, StoreError>;

    /// Keeps `profile` (already checked), replacing the sensor's earlier one; an empty
    /// profile removes it.
    fn save_profile(&mut self, profile: &SensorProfile) -> Result<(), StoreError>;

    /// Changes one sensor's profile (`change` sees the current one, or an empty one), checks
    /// and keeps it, stamped `now_ms`; returns what was kept.
    fn edit_profile(
        &mut self,
        sensor: MacAddress,
        now_ms: i64,
        change: &mut dyn FnMut(&mut SensorProfile),
    ) -> Result<SensorProfile, StoreError> {
        let mut profile = self
            .profiles()?
            .into_iter()
            .find(|p| p.sensor == sensor)
            .unwrap_or_else(|| SensorProfile::new(sensor));
        change(&mut profile);
        profile.sensor = sensor;
        profile.updated_ms = now_ms;
        let profile = profile.checked().map_err(StoreError::BadProfile)?;
        self.save_profile(&profile)?;
        Ok(profile)
    }

    /// Observations in the engine's order: one sensor's in time order.
    fn query(&mut self, q: &Query) -> Result<Vec<Observation>, StoreError> {
        let mut out = Vec::new();
        self.each(q, &mut |o| {
            out.push(o);
            Ok(())
        })?;
        Ok(out)
    }

    /// One JSON object per line; returns how many.
    fn export_json(&mut self, q: &Query, out: &mut dyn Write) -> Result<usize, StoreError> {
        self.each(q, &mut |o| {
            serde_json::to_writer(&mut *out, &o).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
            Ok(())
        })
    }

    /// CSV with a header: sensor, times, feed, RSSI, format, then every reading as measured
    /// (empty when the format has no such value), then the sensor's name and the calibrated
    /// temperature, humidity and pressure (its profile's offsets applied). Returns how many
    /// rows.
    fn export_csv(&mut self, q: &Query, out: &mut dyn Write) -> Result<usize, StoreError> {
        let profiles = ruuvi_protocol::Profiles::of(self.profiles()?);
        csv::header(out)?;
        let mut line = Vec::with_capacity(512);
        let mut previous = csv::Previous::default();
        let mut labels = csv::Labels::new(profiles);
        self.each(q, &mut |o| {
            line.clear();
            csv::row(&o, &mut line, &mut previous);
            labels.append(&o, &mut line, &mut previous);
            out.write_all(&line)?;
            Ok(())
        })
    }
}

impl<S: ObservationStore + ?Sized> ObservationStore for Box<S> {
    fn insert(&mut self, batch: &[Observation]) -> Result<Vec<bool>, StoreError> {
        (**self).insert(batch)
    }
    fn count(&mut self) -> Result<u64, StoreError> {
        (**self).count()
    }
    fn latest(&mut self) -> Result<Vec<Observation>, StoreError> {
        (**self).latest()
    }
    fn latest_of(&mut self, sensor: MacAddress) -> Result<Option<Observation>, StoreError> {
        (**self).latest_of(sensor)
    }
    fn each(
        &mut self,
        q: &Query,
        f: &mut dyn FnMut(Observation) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        (**self).each(q, f)
    }
    fn delete_older_than(&mut self, cutoff_ms: i64) -> Result<usize, StoreError> {
        (**self).delete_older_than(cutoff_ms)
    }
    fn trim(
        &mut self,
        policy: &Retention,
        now_ms: i64,
        max_rows: usize,
    ) -> Result<Trimmed, StoreError> {
        (**self).trim(policy, now_ms, max_rows)
    }
    fn buckets(
        &mut self,
        sensor: MacAddress,
        from_ms: i64,
        to_ms: i64,
        level: Level,
        f: &mut dyn FnMut(Bucket),
    ) -> Result<usize, StoreError> {
        (**self).buckets(sensor, from_ms, to_ms, level, f)
    }
    fn profiles(&mut self) -> Result<Vec<SensorProfile>, StoreError> {
        (**self).profiles()
    }
    fn save_profile(&mut self, profile: &SensorProfile) -> Result<(), StoreError> {
        (**self).save_profile(profile)
    }
}

/// The statements a retention step needs, in an engine's dialect.
trait TrimSql {
    /// Deletes up to `limit` of the oldest rows received before `before`.
    fn expire(&mut self, before: i64, limit: usize) -> Result<usize, StoreError>;
    /// Deletes up to `limit` rows received in `[from, cut)` that are not the first of their
    /// sensor in their `step`-wide bucket.
    fn thin(&mut self, from: i64, cut: i64, step: i64, limit: usize) -> Result<usize, StoreError>;
    fn meta(&mut self, key: &str) -> Result<Option<i64>, StoreError>;
    fn set_meta(&mut self, key: &str, value: i64) -> Result<(), StoreError>;
}

/// One bounded retention step ([`ObservationStore::trim`]), the same for every engine.
fn trim_with(
    sql: &mut dyn TrimSql,
    policy: &Retention,
    now_ms: i64,
    max_rows: usize,
) -> Result<Trimmed, StoreError> {
    let mut done = Trimmed::default();
    if let Some(keep) = policy.max_history_ms {
        done.expired = sql.expire(now_ms - keep, max_rows)?;
        done.more = done.expired == max_rows;
    }
    let room = max_rows - done.expired;
    if let (Some(step), true) = (policy.resolution_ms.filter(|r| *r > 0), room > 0) {
        // Whole buckets only, so a bucket is never thinned while it can still grow.
        let cut = (now_ms - policy.full_resolution_ms).div_euclid(step) * step;
        // Rows below the watermark are already thinned at this resolution.
        let from = match sql.meta("thinned_until_ms")? {
            Some(until) if sql.meta("thinned_resolution_ms")? == Some(step) => until,
            _ => i64::MIN,
        };
        if cut > from {
            done.thinned = sql.thin(from, cut, step, room)?;
            if done.thinned < room {
                sql.set_meta("thinned_until_ms", cut)?;
                sql.set_meta("thinned_resolution_ms", step)?;
            } else {
                done.more = true;
            }
        }
    }
    Ok(done)
}

/// The columns every engine stores, in `SELECT` order.
const COLUMNS: &str = "id, sensor, received_at_ms, seen_at_s, feed, rssi, format, readings";

/// A stored row before it is checked.
struct Row {
    id: i64,
    sensor: String,
    received_at_ms: i64,
    seen_at_s: Option<i64>,
    feed: String,
    rssi: Option<i64>,
    format: Option<String>,
    readings: StoredReadings,
}

enum StoredReadings {
    /// [`codec`] bytes (SQLite schema 3, PostgreSQL).
    Blob(Vec<u8>),
    /// JSON text (SQLite schema 1 and 2).
    Json(String),
    Other(String),
}

/// The columns an observation is written as (both engines).
struct Columns {
    sensor: String,
    received_at_ms: i64,
    seen_at_s: Option<i64>,
    feed: String,
    rssi: Option<i16>,
    format: Option<String>,
    seq: Option<i64>,
    readings: Vec<u8>,
}

impl Columns {
    fn of(o: &Observation) -> Self {
        Columns {
            sensor: o.sensor.to_string(),
            received_at_ms: o.received_at_ms,
            // Never wraps: a time that does not fit is no time (observations cap it long before).
            seen_at_s: o.seen_at_s.and_then(|s| i64::try_from(s).ok()),
            feed: serde_json::to_string(&o.feed).expect("plain enum"),
            rssi: o.rssi,
            format: o
                .format
                .map(|f| serde_json::to_string(&f).expect("plain enum")),
            seq: o.readings.measurement_sequence.map(i64::from),
            readings: codec::encode(&o.readings),
        }
    }
}

impl Row {
    fn decode(self) -> Result<Observation, StoreError> {
        let id = self.id;
        let bad = |reason: String| StoreError::Corrupt { id, reason };
        Ok(Observation {
            sensor: self
                .sensor
                .parse()
                .map_err(|e| bad(format!("sensor: {e}")))?,
            feed: serde_json::from_str(&self.feed).map_err(|e| bad(format!("feed: {e}")))?,
            received_at_ms: self.received_at_ms,
            // A damaged row's numbers out of range are left out, not wrapped.
            seen_at_s: self.seen_at_s.and_then(|s| u64::try_from(s).ok()),
            rssi: self.rssi.and_then(|r| i16::try_from(r).ok()),
            format: self
                .format
                .map(|f| serde_json::from_str(&f))
                .transpose()
                .map_err(|e| bad(format!("format: {e}")))?,
            readings: match self.readings {
                StoredReadings::Blob(b) => {
                    codec::decode(&b).map_err(|e| bad(format!("readings: {e}")))?
                }
                StoredReadings::Json(t) => {
                    serde_json::from_str(&t).map_err(|e| bad(format!("readings: {e}")))?
                }
                StoredReadings::Other(what) => {
                    return Err(bad(format!("readings: unexpected {what}")))
                }
            },
        })
    }
}
