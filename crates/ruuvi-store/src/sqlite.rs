//! The embedded engine: one SQLite file in WAL mode, laid out for years of history.
//!
//! - `samples`: one row per observation, clustered by `(sensor, at_ms, n)` (`WITHOUT ROWID`,
//!   so a sensor's range is one contiguous walk and there is no second copy in an index);
//!   the sensor and the feed are small integers (`sensors`, `feeds`), the measurement is
//!   [`packed`] (a DF5 observation is 19 bytes), `seen` is how many seconds before receipt the
//!   gateway saw it. `n` tells apart two observations of one sensor in the same millisecond.
//! - `latest`: each sensor's newest observation, kept in the insert's transaction.
//! - `rollups`: per sensor, hourly statistics ([`rollup`]), kept in the insert's transaction
//!   (days are their hours merged when read); charts of long ranges read these.
//! - `meta`: the row count and how far thinning got.
//!
//! Durability: WAL with `synchronous=NORMAL` keeps every committed batch through a crash or a
//! `kill -9` of the process (the WAL is written before the commit returns); only an operating
//! system crash or power loss can lose the last batches.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use ruuvi_protocol::{Feed, MacAddress, Observation, SensorProfile};

use crate::rollup::{Bucket, Buckets, Level, Stats};
use crate::{
    packed, trim_with, ObservationStore, Query, Retention, Row, StoreError, StoredReadings,
    TrimSql, Trimmed,
};

/// 2 added the `meta` table; 3 wrote readings as compact blobs; 4 is the clustered layout
/// with `latest` and `rollups` (older stores are migrated on open, see [`migrate`]).
const SCHEMA_VERSION: i64 = 4;

/// The statistics kept in `rollups` (days are merged from them when read).
const STORED: Level = Level::Hour;

/// How many old rows one migration step moves (one transaction each).
const MIGRATION_STEP: i64 = 50_000;

const SAMPLE_COLUMNS: &str = "sensor, at_ms, n, feed, rssi, seen, data";

/// How a migration from an older layout is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Migration {
    pub done: u64,
    pub total: u64,
}

pub struct SqliteStore {
    pub(crate) conn: Connection,
    /// Sensor ids both ways, loaded on open (hundreds at most).
    sensor_ids: HashMap<MacAddress, i64>,
    sensor_macs: HashMap<i64, MacAddress>,
    feed_ids: HashMap<Feed, i64>,
    feeds: HashMap<i64, Feed>,
    /// Each sensor's latest hourly statistics as this connection last wrote them, so a batch
    /// need not read them back; dropped when another connection commits (`data_version`), a
    /// transaction fails, or rows are deleted.
    hours: HashMap<i64, (i64, Stats)>,
    /// Each sensor's newest key this connection wrote (`at_ms`, `n`): posts of the same tags in
    /// one millisecond take the next `n` without meeting a conflict first. Dropped with `hours`.
    last_keys: HashMap<i64, (i64, i64)>,
    /// `PRAGMA data_version` when `hours` and `last_keys` were last known good.
    data_version: i64,
    /// The file's checkpointer, shared by this process's connections to it.
    checkpoints: Option<Arc<Checkpoints>>,
}

/// Moves a database file's WAL into the file every second (a passive checkpoint, which never
/// makes a writer or a reader wait), on a thread of its own; one per file in a process, while
/// a connection to it is open.
struct Checkpoints {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

static CHECKPOINTS: parking_lot::Mutex<Vec<(std::path::PathBuf, std::sync::Weak<Checkpoints>)>> =
    parking_lot::Mutex::new(Vec::new());

impl Checkpoints {
    fn for_file(path: &Path) -> Result<Arc<Self>, StoreError> {
        // The canonical path names the file (one checkpointer for two spellings of it); the
        // connection opens the path as given (Windows' canonical `\\?\` form is not for
        // SQLite).
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let mut all = CHECKPOINTS.lock();
        all.retain(|(_, c)| c.strong_count() > 0);
        if let Some(c) = all
            .iter()
            .find(|(p, _)| *p == key)
            .and_then(|(_, c)| c.upgrade())
        {
            return Ok(c);
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(1))?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(std::time::Duration::from_secs(1))
                {
                    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                        tracing::debug!("checkpoint: {e}");
                    }
                }
                // The last connection is going: leave the file whole.
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
            })
            .map_err(StoreError::Io)?;
        let c = Arc::new(Self {
            stop: Some(stop),
            thread: Some(thread),
        });
        all.push((key, Arc::downgrade(&c)));
        Ok(c)
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`; an older layout is migrated first.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_progress(path, &mut |_| {})
    }

    /// [`Self::open`], telling `progress` how a migration of an older store is going.
    pub fn open_with_progress(
        path: &Path,
        progress: &mut dyn FnMut(Migration),
    ) -> Result<Self, StoreError> {
        let mut store = Self::init(Connection::open(path)?, progress)?;
        // Checkpoints move the WAL into the file on a thread of their own: done by the
        // committing writer (SQLite's default) they made a commit wait tens of milliseconds.
        store.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        store.checkpoints = Some(Checkpoints::for_file(path)?);
        Ok(store)
    }

    /// A database that lives in memory only (tests, previews).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?, &mut |_| {})
    }

    fn init(conn: Connection, progress: &mut dyn FnMut(Migration)) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Another connection (an export while ingest writes) waits instead of failing.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema(version));
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS sensors (id INTEGER PRIMARY KEY, mac INTEGER NOT NULL UNIQUE);
             CREATE TABLE IF NOT EXISTS feeds (id INTEGER PRIMARY KEY, feed TEXT NOT NULL UNIQUE);
             CREATE TABLE IF NOT EXISTS samples (
                 sensor INTEGER NOT NULL,
                 at_ms INTEGER NOT NULL,
                 n INTEGER NOT NULL,
                 feed INTEGER NOT NULL,
                 rssi INTEGER,
                 seen INTEGER,
                 data BLOB NOT NULL,
                 PRIMARY KEY (sensor, at_ms, n)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS latest (
                 sensor INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, n INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS rollups (
                 sensor INTEGER NOT NULL,
                 level INTEGER NOT NULL,
                 bucket_ms INTEGER NOT NULL,
                 stats BLOB NOT NULL,
                 PRIMARY KEY (sensor, level, bucket_ms)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS sensor_profiles (
                 mac INTEGER PRIMARY KEY,
                 name TEXT NOT NULL,
                 location TEXT NOT NULL,
                 note TEXT NOT NULL,
                 temperature_offset_c REAL NOT NULL,
                 humidity_offset_pct REAL NOT NULL,
                 pressure_offset_pa REAL NOT NULL,
                 updated_ms INTEGER NOT NULL);",
        )?;
        let mut store = Self {
            conn,
            sensor_ids: HashMap::new(),
            sensor_macs: HashMap::new(),
            feed_ids: HashMap::new(),
            feeds: HashMap::new(),
            hours: HashMap::new(),
            last_keys: HashMap::new(),
            data_version: 0,
            checkpoints: None,
        };
        store.load_ids()?;
        if version < SCHEMA_VERSION {
            store.migrate(progress)?;
        }
        store
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(store)
    }

    /// Reads the ids again: another connection may have added sensors or feeds.
    fn refresh_ids(&mut self) -> Result<(), StoreError> {
        self.sensor_ids.clear();
        self.sensor_macs.clear();
        self.feed_ids.clear();
        self.feeds.clear();
        self.load_ids()
    }

    fn load_ids(&mut self) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("SELECT id, mac FROM sensors")?;
        let sensors = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        for (id, mac) in sensors {
            let mac = mac_of(mac);
            self.sensor_ids.insert(mac, id);
            self.sensor_macs.insert(id, mac);
        }
        let mut stmt = self.conn.prepare("SELECT id, feed FROM feeds")?;
        let feeds = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        for (id, text) in feeds {
            let feed: Feed = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                id,
                reason: format!("feed: {e}"),
            })?;
            self.feed_ids.insert(feed.clone(), id);
            self.feeds.insert(id, feed);
        }
        Ok(())
    }

    /// The id of `sensor`, added when new (inside the caller's transaction).
    fn sensor_id(&mut self, sensor: MacAddress) -> Result<i64, StoreError> {
        if let Some(id) = self.sensor_ids.get(&sensor) {
            return Ok(*id);
        }
        // Another connection (an import next to the app's writer) may have added it since
        // the ids were read.
        self.conn.execute(
            "INSERT INTO sensors (mac) VALUES (?1) ON CONFLICT (mac) DO NOTHING",
            [mac_int(sensor)],
        )?;
        let id: i64 = self.conn.query_row(
            "SELECT id FROM sensors WHERE mac = ?1",
            [mac_int(sensor)],
            |r| r.get(0),
        )?;
        self.sensor_ids.insert(sensor, id);
        self.sensor_macs.insert(id, sensor);
        Ok(id)
    }

    fn feed_id(&mut self, feed: &Feed) -> Result<i64, StoreError> {
        if let Some(id) = self.feed_ids.get(feed) {
            return Ok(*id);
        }
        let text = serde_json::to_string(feed).expect("plain enum");
        self.conn.execute(
            "INSERT INTO feeds (feed) VALUES (?1) ON CONFLICT (feed) DO NOTHING",
            [&text],
        )?;
        let id: i64 =
            self.conn
                .query_row("SELECT id FROM feeds WHERE feed = ?1", [&text], |r| {
                    r.get(0)
                })?;
        self.feed_ids.insert(feed.clone(), id);
        self.feeds.insert(id, feed.clone());
        Ok(id)
    }

    /// Sensors in MAC order.
    fn sensors_by_mac(&self) -> Vec<(MacAddress, i64)> {
        let mut all: Vec<_> = self.sensor_ids.iter().map(|(m, i)| (*m, *i)).collect();
        all.sort();
        all
    }

    /// A `SAMPLE_COLUMNS` row, its measurement read in place (no copy of the blob).
    fn decode_row(&self, r: &rusqlite::Row<'_>) -> Result<Observation, StoreError> {
        let data = r.get_ref(6)?;
        let data = data.as_blob().map_err(|e| StoreError::Corrupt {
            id: r.get(1).unwrap_or_default(),
            reason: format!("measurement: {e}"),
        })?;
        self.decode_parts(r.get(0)?, r.get(1)?, r.get(3)?, r.get(4)?, r.get(5)?, data)
    }

    fn decode(&self, s: Sample) -> Result<Observation, StoreError> {
        self.decode_parts(s.sensor, s.at_ms, s.feed, s.rssi, s.seen, &s.data)
    }

    fn decode_parts(
        &self,
        sensor: i64,
        at_ms: i64,
        feed: i64,
        rssi: Option<i64>,
        seen: Option<i64>,
        data: &[u8],
    ) -> Result<Observation, StoreError> {
        let s = Sample {
            sensor,
            at_ms,
            feed,
            rssi,
            seen,
            data: Vec::new(),
        };
        let bad = |reason: String| StoreError::Corrupt {
            id: s.at_ms,
            reason,
        };
        let sensor = *self
            .sensor_macs
            .get(&s.sensor)
            .ok_or_else(|| bad(format!("unknown sensor id {}", s.sensor)))?;
        let feed = self
            .feeds
            .get(&s.feed)
            .cloned()
            .ok_or_else(|| bad(format!("unknown feed id {}", s.feed)))?;
        let (format, readings) = packed::unpack(sensor, data).map_err(bad)?;
        Ok(Observation {
            sensor,
            feed,
            received_at_ms: s.at_ms,
            seen_at_s: s
                .seen
                .and_then(|ago| s.at_ms.div_euclid(1000).checked_sub(ago))
                .and_then(|v| u64::try_from(v).ok()),
            rssi: s.rssi.and_then(|r| i16::try_from(r).ok()),
            format,
            readings,
        })
    }

    /// Runs `f` in one write transaction: all of it or nothing. The id caches are reloaded
    /// when it fails (ids it added are gone with the rollback).
    fn in_transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let known = (self.sensor_ids.len(), self.feed_ids.len());
        let done = f(self).and_then(|v| {
            self.conn.execute_batch("COMMIT")?;
            Ok(v)
        });
        if done.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
            self.hours.clear();
            self.last_keys.clear();
            if known != (self.sensor_ids.len(), self.feed_ids.len()) {
                self.sensor_ids.clear();
                self.sensor_macs.clear();
                self.feed_ids.clear();
                self.feeds.clear();
                self.load_ids()?;
            }
        }
        done
    }

    /// Stores `batch` in the current transaction: samples, `latest`, rollups and the count.
    fn insert_in(&mut self, batch: &[Observation]) -> Result<(), StoreError> {
        let ids = batch
            .iter()
            .map(|o| Ok((self.sensor_id(o.sensor)?, self.feed_id(&o.feed)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let tx = &self.conn;
        let version: i64 = tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if version != self.data_version {
            self.hours.clear();
            self.last_keys.clear();
            self.data_version = version;
        }
        let mut newest: HashMap<i64, (i64, i64)> = HashMap::new();
        let mut rollups: HashMap<(i64, i64), Stats> = HashMap::new();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO samples (sensor, at_ms, n, feed, rssi, seen, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
            )?;
            let mut stats_of = tx.prepare_cached(
                "SELECT stats FROM rollups WHERE sensor = ?1 AND level = ?2 AND bucket_ms = ?3",
            )?;
            let mut next_n = tx.prepare_cached(
                "SELECT MAX(n) + 1 FROM samples WHERE sensor = ?1 AND at_ms = ?2",
            )?;
            for (o, (sensor, feed)) in batch.iter().zip(ids) {
                let data = packed::pack(o.sensor, o.format, &o.readings);
                // Never wraps: a time that does not fit is no time.
                let seen = o
                    .seen_at_s
                    .and_then(|s| i64::try_from(s).ok())
                    .map(|s| o.received_at_ms.div_euclid(1000) - s);
                // The sensor's millisecond is almost always free; when it is not (posts of
                // the same tags in one millisecond), the next `n` after those taken.
                let mut n = match self.last_keys.get(&sensor) {
                    Some((at, last)) if *at == o.received_at_ms => last + 1,
                    _ => 0,
                };
                while insert.execute(params![
                    sensor,
                    o.received_at_ms,
                    n,
                    feed,
                    o.rssi,
                    seen,
                    data
                ])? == 0
                {
                    n = next_n.query_row(params![sensor, o.received_at_ms], |r| r.get(0))?;
                }
                let last = self
                    .last_keys
                    .entry(sensor)
                    .or_insert((o.received_at_ms, n));
                if (o.received_at_ms, n) > *last {
                    *last = (o.received_at_ms, n);
                }
                let entry = newest.entry(sensor).or_insert((o.received_at_ms, n));
                if (o.received_at_ms, n) > *entry {
                    *entry = (o.received_at_ms, n);
                }
                let key = (sensor, STORED.bucket_of(o.received_at_ms));
                let stats = match rollups.entry(key) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        let cached = self
                            .hours
                            .get(&key.0)
                            .filter(|(bucket, _)| *bucket == key.1)
                            .map(|(_, stats)| stats.clone());
                        let stats = match cached {
                            Some(stats) => stats,
                            None => {
                                let stored: Option<Vec<u8>> = stats_of
                                    .query_row(params![key.0, STORED.code(), key.1], |r| r.get(0))
                                    .optional()?;
                                match stored {
                                    Some(b) => {
                                        Stats::decode(&b).map_err(|reason| StoreError::Corrupt {
                                            id: key.1,
                                            reason: format!("rollup: {reason}"),
                                        })?
                                    }
                                    None => Stats::default(),
                                }
                            }
                        };
                        e.insert(stats)
                    }
                };
                stats.add(&o.readings);
            }
        }
        let mut put_latest = tx.prepare_cached(
            "INSERT INTO latest (sensor, at_ms, n) VALUES (?1, ?2, ?3)
             ON CONFLICT (sensor) DO UPDATE SET at_ms = excluded.at_ms, n = excluded.n
             WHERE (excluded.at_ms, excluded.n) > (latest.at_ms, latest.n)",
        )?;
        for (sensor, (at, n)) in newest {
            put_latest.execute(params![sensor, at, n])?;
        }
        let mut put_rollup = tx.prepare_cached(
            "INSERT OR REPLACE INTO rollups (sensor, level, bucket_ms, stats)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for ((sensor, bucket), stats) in rollups {
            put_rollup.execute(params![sensor, STORED.code(), bucket, stats.encode()])?;
            if self
                .hours
                .get(&sensor)
                .is_none_or(|(known, _)| *known <= bucket)
            {
                self.hours.insert(sensor, (bucket, stats));
            }
        }
        add_count(tx, batch.len() as i64)?;
        Ok(())
    }

    /// After rows of `sensor` were deleted: with a `cutoff`, the rollup buckets that ended
    /// before it go, and the one holding it is recomputed from the rows left when
    /// `recompute` (an explicit delete; periodic retention leaves that one bucket to go
    /// whole, so a trim never reads a day of rows while ingest waits). `latest` is found
    /// again if it was deleted.
    fn after_delete(
        &self,
        sensor: i64,
        cutoff: Option<(i64, bool)>,
        deleted: usize,
    ) -> Result<(), StoreError> {
        if deleted == 0 {
            return Ok(());
        }
        add_count(&self.conn, -(deleted as i64))?;
        if let Some((cutoff, recompute)) = cutoff {
            let bucket = STORED.bucket_of(cutoff);
            self.conn.execute(
                "DELETE FROM rollups WHERE sensor = ?1 AND level = ?2 AND bucket_ms < ?3",
                params![sensor, STORED.code(), bucket],
            )?;
            if recompute {
                self.recompute(sensor, STORED, bucket)?;
            }
        }
        let latest_gone: bool = self.conn.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM latest l CROSS JOIN samples s
                 ON s.sensor = l.sensor AND s.at_ms = l.at_ms AND s.n = l.n
                 WHERE l.sensor = ?1)",
            [sensor],
            |r| r.get(0),
        )?;
        if latest_gone {
            self.conn
                .execute("DELETE FROM latest WHERE sensor = ?1", [sensor])?;
            self.conn.execute(
                "INSERT INTO latest (sensor, at_ms, n)
                 SELECT sensor, at_ms, n FROM samples WHERE sensor = ?1
                 ORDER BY at_ms DESC, n DESC LIMIT 1",
                [sensor],
            )?;
        }
        Ok(())
    }

    /// Recomputes one rollup bucket from the raw rows it covers.
    fn recompute(&self, sensor: i64, level: Level, bucket: i64) -> Result<(), StoreError> {
        let mut stats = Stats::default();
        self.sensor_rows(sensor, bucket, bucket + level.width_ms(), None, &mut |o| {
            stats.add(&o.readings);
            Ok(())
        })?;
        if stats.count == 0 {
            self.conn.execute(
                "DELETE FROM rollups WHERE sensor = ?1 AND level = ?2 AND bucket_ms = ?3",
                params![sensor, level.code(), bucket],
            )?;
        } else {
            self.conn.execute(
                "INSERT OR REPLACE INTO rollups (sensor, level, bucket_ms, stats)
                 VALUES (?1, ?2, ?3, ?4)",
                params![sensor, level.code(), bucket, stats.encode()],
            )?;
        }
        Ok(())
    }

    /// One sensor's rows in `[from, to)` in time order, at most `limit`; returns how many.
    fn sensor_rows(
        &self,
        sensor: i64,
        from: i64,
        to: i64,
        limit: Option<usize>,
        f: &mut dyn FnMut(Observation) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {SAMPLE_COLUMNS} FROM samples
             WHERE sensor = ?1 AND at_ms >= ?2 AND at_ms < ?3
             ORDER BY at_ms, n LIMIT ?4"
        ))?;
        let limit = limit.map_or(-1, |l| l as i64);
        let mut rows = stmt.query(params![sensor, from, to, limit])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            f(self.decode_row(r)?)?;
            n += 1;
        }
        Ok(n)
    }

    /// Moves the rows of an older layout (`observations`) into this one, a step at a time
    /// (each its own transaction, so an interrupted migration goes on where it stopped), then
    /// drops the old table.
    fn migrate(&mut self, progress: &mut dyn FnMut(Migration)) -> Result<(), StoreError> {
        let old = |conn: &Connection| -> Result<bool, StoreError> {
            Ok(conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master
                     WHERE type = 'table' AND name = 'observations')",
                [],
                |r| r.get(0),
            )?)
        };
        if !old(&self.conn)? {
            return Ok(());
        }
        let left = |conn: &Connection| -> Result<u64, StoreError> {
            Ok(
                conn.query_row("SELECT COUNT(*) FROM observations", [], |r| {
                    r.get::<_, i64>(0)
                })? as u64,
            )
        };
        let total = left(&self.conn)? + self.count()?;
        loop {
            let moved = self.in_transaction(|store| {
                // Another process opening the same file may be migrating it too.
                if !old(&store.conn)? {
                    return Ok(false);
                }
                let rows = {
                    let mut stmt = store.conn.prepare(&format!(
                        "SELECT {} FROM observations ORDER BY id LIMIT ?1",
                        crate::COLUMNS
                    ))?;
                    let rows = stmt.query_map([MIGRATION_STEP], old_row)?;
                    rows.collect::<Result<Vec<_>, _>>()?
                };
                let Some(last) = rows.last().map(|r| r.id) else {
                    return Ok(false);
                };
                let batch = rows
                    .into_iter()
                    .map(Row::decode)
                    .collect::<Result<Vec<_>, _>>()?;
                store.insert_in(&batch)?;
                store
                    .conn
                    .execute("DELETE FROM observations WHERE id <= ?1", [last])?;
                Ok(true)
            })?;
            if !moved {
                break;
            }
            progress(Migration {
                done: self.count()?,
                total,
            });
        }
        self.conn
            .execute_batch("DROP TABLE IF EXISTS observations")?;
        // The old rows' pages are free now: give them back, or the file keeps the old size
        // for years. Not being able to (a full disk) leaves a larger file, nothing worse.
        if let Err(e) = self.conn.execute_batch("VACUUM") {
            tracing::warn!("the database keeps its old size (VACUUM failed: {e})");
        }
        Ok(())
    }

    /// Statistics of one sensor per `level` bucket starting in `[from_ms, to_ms)`; days are
    /// their hours merged (24 rows a day read, one written per batch and sensor).
    fn stored_buckets(
        &mut self,
        sensor: i64,
        from_ms: i64,
        to_ms: i64,
        level: Level,
        f: &mut dyn FnMut(Bucket),
    ) -> Result<usize, StoreError> {
        if level != STORED {
            let mut buckets = Buckets::new(level, f);
            self.stored_buckets(
                sensor,
                level.bucket_of(from_ms),
                to_ms,
                STORED,
                &mut |hour| buckets.merge(&hour),
            )?;
            return Ok(buckets.finish());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT bucket_ms, stats FROM rollups
             WHERE sensor = ?1 AND level = ?2 AND bucket_ms >= ?3 AND bucket_ms < ?4
             ORDER BY bucket_ms",
        )?;
        let mut rows = stmt.query(params![
            sensor,
            level.code(),
            level.bucket_of(from_ms),
            to_ms
        ])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            let start_ms: i64 = r.get(0)?;
            let bytes: Vec<u8> = r.get(1)?;
            let stats = Stats::decode(&bytes).map_err(|reason| StoreError::Corrupt {
                id: start_ms,
                reason: format!("rollup: {reason}"),
            })?;
            f(Bucket { start_ms, stats });
            n += 1;
        }
        Ok(n)
    }
}

fn add_count(conn: &Connection, delta: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('rows', ?1)
         ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
    )?
    .execute([delta])?;
    Ok(())
}

/// A MAC as the 48-bit integer SQLite stores in a few bytes.
fn mac_int(m: MacAddress) -> i64 {
    m.0.iter().fold(0i64, |acc, b| (acc << 8) | i64::from(*b))
}

fn mac_of(v: i64) -> MacAddress {
    let b = v.to_be_bytes();
    MacAddress([b[2], b[3], b[4], b[5], b[6], b[7]])
}

struct Sample {
    sensor: i64,
    at_ms: i64,
    feed: i64,
    rssi: Option<i64>,
    seen: Option<i64>,
    data: Vec<u8>,
}

fn sample(r: &rusqlite::Row<'_>) -> rusqlite::Result<Sample> {
    Ok(Sample {
        sensor: r.get(0)?,
        at_ms: r.get(1)?,
        feed: r.get(3)?,
        rssi: r.get(4)?,
        seen: r.get(5)?,
        data: r.get(6)?,
    })
}

impl ObservationStore for SqliteStore {
    fn profiles(&mut self) -> Result<Vec<SensorProfile>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT mac, name, location, note, temperature_offset_c, humidity_offset_pct,
                    pressure_offset_pa, updated_ms FROM sensor_profiles ORDER BY mac",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SensorProfile {
                sensor: mac_of(r.get(0)?),
                name: r.get(1)?,
                location: r.get(2)?,
                note: r.get(3)?,
                calibration: ruuvi_protocol::Calibration {
                    temperature_c: r.get(4)?,
                    humidity_pct: r.get(5)?,
                    pressure_pa: r.get(6)?,
                },
                updated_ms: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn save_profile(&mut self, p: &SensorProfile) -> Result<(), StoreError> {
        if p.is_empty() {
            self.conn.execute(
                "DELETE FROM sensor_profiles WHERE mac = ?1",
                [mac_int(p.sensor)],
            )?;
            return Ok(());
        }
        self.conn.execute(
            "INSERT INTO sensor_profiles (mac, name, location, note, temperature_offset_c,
                 humidity_offset_pct, pressure_offset_pa, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (mac) DO UPDATE SET name = ?2, location = ?3, note = ?4,
                 temperature_offset_c = ?5, humidity_offset_pct = ?6, pressure_offset_pa = ?7,
                 updated_ms = ?8",
            rusqlite::params![
                mac_int(p.sensor),
                p.name,
                p.location,
                p.note,
                p.calibration.temperature_c,
                p.calibration.humidity_pct,
                p.calibration.pressure_pa,
                p.updated_ms
            ],
        )?;
        Ok(())
    }

    /// One writer per file (the process's hub), whose own dedupe has dropped copies: every
    /// observation of the batch is stored.
    fn insert(&mut self, batch: &[Observation]) -> Result<Vec<bool>, StoreError> {
        self.in_transaction(|store| store.insert_in(batch))?;
        Ok(vec![true; batch.len()])
    }

    fn count(&mut self) -> Result<u64, StoreError> {
        let n: Option<i64> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'rows'", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(n.unwrap_or(0).max(0) as u64)
    }

    /// The newest observation of every sensor, by sensor.
    fn latest(&mut self) -> Result<Vec<Observation>, StoreError> {
        self.refresh_ids()?;
        let rows = {
            let mut stmt = self.conn.prepare_cached(&format!(
                // CROSS JOIN keeps `latest` outside: the planner, without statistics, would
                // rather scan `samples`.
                "SELECT {} FROM latest l CROSS JOIN samples s
                     ON s.sensor = l.sensor AND s.at_ms = l.at_ms AND s.n = l.n",
                SAMPLE_COLUMNS
                    .split(", ")
                    .map(|c| format!("s.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))?;
            let rows = stmt.query_map([], sample)?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let mut out = rows
            .into_iter()
            .map(|s| self.decode(s))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|o| o.sensor);
        Ok(out)
    }

    /// The newest observation of one sensor.
    fn latest_of(&mut self, sensor: MacAddress) -> Result<Option<Observation>, StoreError> {
        self.refresh_ids()?;
        let Some(id) = self.sensor_ids.get(&sensor).copied() else {
            return Ok(None);
        };
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT {SAMPLE_COLUMNS} FROM samples WHERE sensor = ?1
                     ORDER BY at_ms DESC, n DESC LIMIT 1"
                ),
                [id],
                sample,
            )
            .optional()?;
        row.map(|s| self.decode(s)).transpose()
    }

    /// One sensor after another (by MAC), each in time order.
    fn each(
        &mut self,
        q: &Query,
        f: &mut dyn FnMut(Observation) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        self.refresh_ids()?;
        let sensors = match q.sensor {
            Some(mac) => match self.sensor_ids.get(&mac) {
                Some(id) => vec![(mac, *id)],
                None => return Ok(0),
            },
            None => self.sensors_by_mac(),
        };
        let (from, to) = (q.from_ms.unwrap_or(i64::MIN), q.to_ms.unwrap_or(i64::MAX));
        let mut n = 0;
        for (_, id) in sensors {
            let left = q.limit.map(|l| l - n);
            if left == Some(0) {
                break;
            }
            n += self.sensor_rows(id, from, to, left, f)?;
        }
        Ok(n)
    }

    /// The times only, from the primary key (no measurement decoded).
    fn times(
        &mut self,
        sensor: MacAddress,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        self.refresh_ids()?;
        let Some(id) = self.sensor_ids.get(&sensor).copied() else {
            return Ok(Vec::new());
        };
        let mut q = self.conn.prepare_cached(
            "SELECT at_ms FROM samples WHERE sensor = ?1 AND at_ms >= ?2 AND at_ms < ?3 ORDER BY at_ms",
        )?;
        let times = q
            .query_map(rusqlite::params![id, from_ms, to_ms], |r| r.get(0))?
            .collect::<Result<Vec<i64>, _>>()?;
        Ok(times)
    }

    fn delete_older_than(&mut self, cutoff_ms: i64) -> Result<usize, StoreError> {
        self.refresh_ids()?;
        self.hours.clear();
        self.last_keys.clear();
        let mut total = 0;
        for (_, id) in self.sensors_by_mac() {
            total += self.in_transaction(|store| {
                let n = store.conn.execute(
                    "DELETE FROM samples WHERE sensor = ?1 AND at_ms < ?2",
                    params![id, cutoff_ms],
                )?;
                store.after_delete(id, Some((cutoff_ms, true)), n)?;
                Ok(n)
            })?;
        }
        Ok(total)
    }

    fn trim(
        &mut self,
        policy: &Retention,
        now_ms: i64,
        max_rows: usize,
    ) -> Result<Trimmed, StoreError> {
        self.refresh_ids()?;
        self.hours.clear();
        self.last_keys.clear();
        self.in_transaction(|store| trim_with(&mut SqliteTrim(store), policy, now_ms, max_rows))
    }

    /// From the `rollups` table.
    fn buckets(
        &mut self,
        sensor: MacAddress,
        from_ms: i64,
        to_ms: i64,
        level: Level,
        f: &mut dyn FnMut(Bucket),
    ) -> Result<usize, StoreError> {
        self.refresh_ids()?;
        match self.sensor_ids.get(&sensor).copied() {
            Some(id) => self.stored_buckets(id, from_ms, to_ms, level, f),
            None => Ok(0),
        }
    }
}

struct SqliteTrim<'a>(&'a SqliteStore);

impl TrimSql for SqliteTrim<'_> {
    /// Sensor by sensor along the clustered key, at most `limit` rows in all.
    fn expire(&mut self, before: i64, limit: usize) -> Result<usize, StoreError> {
        let mut done = 0;
        for (_, id) in self.0.sensors_by_mac() {
            if done == limit {
                break;
            }
            let n = self.0.conn.execute(
                "DELETE FROM samples WHERE (sensor, at_ms, n) IN (
                     SELECT sensor, at_ms, n FROM samples WHERE sensor = ?1 AND at_ms < ?2
                     ORDER BY at_ms LIMIT ?3)",
                params![id, before, (limit - done) as i64],
            )?;
            self.0.after_delete(id, Some((before, false)), n)?;
            done += n;
        }
        Ok(done)
    }

    /// Keeps the first row of each sensor in each `step`-wide bucket of `[from, cut)`.
    /// Rollups keep describing every measurement taken (thinning limits raw rows only).
    fn thin(&mut self, from: i64, cut: i64, step: i64, limit: usize) -> Result<usize, StoreError> {
        let mut done = 0;
        for (_, id) in self.0.sensors_by_mac() {
            if done == limit {
                break;
            }
            // One walk along the sensor's keys finds the rows after each bucket's first;
            // each goes by its key.
            let mut doomed: Vec<(i64, i64)> = Vec::new();
            {
                let mut keys = self.0.conn.prepare_cached(
                    "SELECT at_ms, n FROM samples
                     WHERE sensor = ?1 AND at_ms >= ?2 AND at_ms < ?3 ORDER BY at_ms, n",
                )?;
                let mut rows = keys.query(params![id, from, cut])?;
                let mut bucket = None;
                while let Some(r) = rows.next()? {
                    let (at, n): (i64, i64) = (r.get(0)?, r.get(1)?);
                    let this = at.div_euclid(step);
                    if bucket == Some(this) {
                        doomed.push((at, n));
                        if done + doomed.len() == limit {
                            break;
                        }
                    } else {
                        bucket = Some(this);
                    }
                }
            }
            let mut delete = self.0.conn.prepare_cached(
                "DELETE FROM samples WHERE sensor = ?1 AND at_ms = ?2 AND n = ?3",
            )?;
            for (at, n) in &doomed {
                delete.execute(params![id, at, n])?;
            }
            self.0.after_delete(id, None, doomed.len())?;
            done += doomed.len();
        }
        Ok(done)
    }

    fn meta(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .0
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&mut self, key: &str, value: i64) -> Result<(), StoreError> {
        self.0.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

/// A row of the layout before schema 4.
fn old_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        sensor: r.get(1)?,
        received_at_ms: r.get(2)?,
        seen_at_s: r.get(3)?,
        feed: r.get(4)?,
        rssi: r.get(5)?,
        format: r.get(6)?,
        readings: match r.get::<_, SqlValue>(7)? {
            SqlValue::Blob(b) => StoredReadings::Blob(b),
            SqlValue::Text(t) => StoredReadings::Json(t),
            other => StoredReadings::Other(format!("{other:?}")),
        },
    })
}

/// The layout schema 3 wrote (the version before this one), for migration tests and
/// benchmarks.
#[cfg(any(test, feature = "testing"))]
pub(crate) const SCHEMA_3: &str = "CREATE TABLE observations (
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
     CREATE INDEX observations_sensor_time ON observations(sensor, received_at_ms);
     CREATE INDEX observations_time ON observations(received_at_ms);
     CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
     PRAGMA user_version = 3;";

/// Writes `observations` into a schema 3 table as that version did (in the caller's
/// transaction); returns how many.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn write_schema_3_rows(
    conn: &Connection,
    observations: &mut dyn Iterator<Item = Observation>,
) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO observations
             (sensor, received_at_ms, seen_at_s, feed, rssi, format, seq, readings)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut n = 0;
    for o in observations {
        let c = crate::Columns::of(&o);
        stmt.execute(params![
            c.sensor,
            c.received_at_ms,
            c.seen_at_s,
            c.feed,
            c.rssi,
            c.format,
            c.seq,
            c.readings
        ])?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_3(conn: &Connection) {
        conn.execute_batch(SCHEMA_3).unwrap();
    }

    fn temp_db(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ruuvi-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("observations.sqlite")
    }

    #[test]
    fn rows_written_as_json_by_schema_2_are_migrated() {
        let path = temp_db("json");
        {
            let conn = Connection::open(&path).unwrap();
            schema_3(&conn);
            conn.execute(
                "INSERT INTO observations (sensor, received_at_ms, feed, format, readings)
                 VALUES ('AA:AA:AA:AA:AA:01', 5, '{\"kind\": \"ble\"}', '\"Df5\"',
                         '{\"temperature_c\": 21.5, \"humidity_pct\": null}')",
                [],
            )
            .unwrap();
        }
        let mut s = SqliteStore::open(&path).unwrap();
        let o = s
            .latest_of("AA:AA:AA:AA:AA:01".parse().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(o.readings.temperature_c, Some(21.5));
        assert_eq!(o.readings.humidity_pct, None);
        assert_eq!(s.count().unwrap(), 1);
        // Closed first: Windows deletes no open file.
        drop(s);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_damaged_old_row_is_an_error_not_a_panic() {
        let path = temp_db("damaged");
        {
            let conn = Connection::open(&path).unwrap();
            schema_3(&conn);
            conn.execute(
                "INSERT INTO observations (sensor, received_at_ms, feed, readings)
                 VALUES ('not a mac', 1, '\"ble\"', '{}')",
                [],
            )
            .unwrap();
        }
        assert!(matches!(
            SqliteStore::open(&path),
            Err(StoreError::Corrupt { .. })
        ));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    fn df5(sensor: u8, at_ms: i64, i: u32) -> Observation {
        let mac = MacAddress([0xAA, 0, 0, 0, 0, sensor]);
        let mut r = ruuvi_protocol::Readings {
            temperature_c: Some(f64::from(i % 4000) * 0.005 - 5.0),
            humidity_pct: Some(f64::from(i % 997) * 0.0025 + 20.0),
            pressure_pa: Some(f64::from(50_000 + i % 3000) + 50_000.0),
            accel_x_g: Some(0.004),
            accel_y_g: Some(-0.004),
            accel_z_g: Some(1.036),
            battery_v: Some(2.977),
            tx_power_dbm: Some(4),
            movement_counter: Some(i % 255),
            measurement_sequence: Some(i % 65_535),
            mac: Some(mac),
            ..Default::default()
        };
        if i.is_multiple_of(7) {
            r.humidity_pct = None;
        }
        Observation {
            sensor: mac,
            feed: if i.is_multiple_of(3) {
                Feed::Ble
            } else {
                Feed::GatewayPost {
                    gateway: Some(MacAddress([0xC8, 0x25, 0x2D, 0x8E, 0x9C, 0x2C])),
                }
            },
            received_at_ms: at_ms,
            seen_at_s: i.is_multiple_of(2).then_some((at_ms / 1000 - 1) as u64),
            rssi: Some(-70 - (i % 20) as i16),
            format: Some(ruuvi_protocol::DataFormat::Df5),
            readings: r,
        }
    }

    #[test]
    fn times_read_from_the_key_are_the_observations_times() {
        let mut s = SqliteStore::open_in_memory().unwrap();
        s.insert(&history(3, 1_000_000, 3_600_000, 60_000)).unwrap();
        let sensor = MacAddress([0xAA, 0, 0, 0, 0, 1]);
        let (from, to) = (1_000_000 + 600_000, 1_000_000 + 1_800_000);
        let mut read = Vec::new();
        let range = Query {
            sensor: Some(sensor),
            from_ms: Some(from),
            to_ms: Some(to),
            limit: None,
        };
        s.each(&range, &mut |o| {
            read.push(o.received_at_ms);
            Ok(())
        })
        .unwrap();
        assert_eq!(read.len(), 20);
        assert_eq!(s.times(sensor, from, to).unwrap(), read);
        assert!(s.times(MacAddress([1; 6]), from, to).unwrap().is_empty());
    }

    /// `sensors` sensors, one observation each per `every_ms` over `span_ms` from `start`.
    fn history(sensors: u8, start: i64, span_ms: i64, every_ms: i64) -> Vec<Observation> {
        let mut out = Vec::new();
        let mut i = 0;
        let mut at = start;
        while at < start + span_ms {
            for s in 0..sensors {
                out.push(df5(s, at + i64::from(s), i));
                i += 1;
            }
            at += every_ms;
        }
        out
    }

    /// What a chart bucket must hold: recomputed from the raw rows, in time order (a day as
    /// its hours merged, as days are defined).
    fn recomputed(s: &mut SqliteStore, sensor: MacAddress, level: Level) -> Vec<Bucket> {
        if level != STORED {
            let mut out: Vec<Bucket> = Vec::new();
            for hour in recomputed(s, sensor, STORED) {
                let start_ms = level.bucket_of(hour.start_ms);
                if out.last().is_none_or(|b| b.start_ms != start_ms) {
                    out.push(Bucket {
                        start_ms,
                        stats: Stats::default(),
                    });
                }
                out.last_mut().unwrap().stats.merge(&hour.stats);
            }
            return out;
        }
        let mut out: Vec<Bucket> = Vec::new();
        s.each(
            &Query {
                sensor: Some(sensor),
                ..Query::default()
            },
            &mut |o| {
                let start_ms = level.bucket_of(o.received_at_ms);
                if out.last().is_none_or(|b| b.start_ms != start_ms) {
                    out.push(Bucket {
                        start_ms,
                        stats: Stats::default(),
                    });
                }
                out.last_mut().unwrap().stats.add(&o.readings);
                Ok(())
            },
        )
        .unwrap();
        out
    }

    fn stored(s: &mut SqliteStore, sensor: MacAddress, level: Level) -> Vec<Bucket> {
        let mut out = Vec::new();
        s.buckets(sensor, i64::MIN / 2, i64::MAX, level, &mut |b| out.push(b))
            .unwrap();
        out
    }

    #[test]
    fn rollups_equal_a_recomputation_from_the_raw_rows() {
        let mut s = SqliteStore::open_in_memory().unwrap();
        // Three days of three sensors every 50 s, in batches as the hub writes them.
        let all = history(3, 1_700_000_000_000, 3 * 86_400_000, 50_000);
        for batch in all.chunks(777) {
            s.insert(batch).unwrap();
        }
        assert_eq!(s.count().unwrap(), all.len() as u64);
        for sensor in 0..3 {
            let mac = MacAddress([0xAA, 0, 0, 0, 0, sensor]);
            for level in Level::ALL {
                let want = recomputed(&mut s, mac, level);
                assert!(want.len() >= 3, "{level:?}: {}", want.len());
                assert_eq!(stored(&mut s, mac, level), want, "{mac} {level:?}");
            }
        }
        // Every row reads back exactly as it went in (one sensor's in time order).
        let a = MacAddress([0xAA, 0, 0, 0, 0, 1]);
        let back = s
            .query(&Query {
                sensor: Some(a),
                ..Query::default()
            })
            .unwrap();
        let sent: Vec<_> = all.iter().filter(|o| o.sensor == a).cloned().collect();
        assert_eq!(back, sent);
        assert_eq!(s.latest().unwrap().len(), 3);
        assert_eq!(s.latest_of(a).unwrap().as_ref(), sent.last());
    }

    #[test]
    fn retention_keeps_rollups_and_latest_consistent() {
        let mut s = SqliteStore::open_in_memory().unwrap();
        let start = 1_700_000_000_000;
        s.insert(&history(2, start, 2 * 86_400_000, 60_000))
            .unwrap();
        // Two observations in one millisecond are both kept.
        let twin = df5(0, start + 5, 99);
        s.insert(&[twin.clone(), twin.clone()]).unwrap();
        let before = s.count().unwrap();
        // A cut in the middle of an hour and of a day.
        let cut = start + 86_400_000 / 3 + 1_234_567;
        let gone = s.delete_older_than(cut).unwrap();
        assert!(gone > 0);
        assert_eq!(s.count().unwrap(), before - gone as u64);
        for sensor in 0..2 {
            let mac = MacAddress([0xAA, 0, 0, 0, 0, sensor]);
            for level in Level::ALL {
                assert_eq!(stored(&mut s, mac, level), recomputed(&mut s, mac, level));
            }
        }
        // Thinning that removes a sensor's newest row: latest finds the one before it.
        let lone = MacAddress([0xAA, 0, 0, 0, 0, 9]);
        let mut first = df5(9, start + 86_400_000, 1);
        first.sensor = lone;
        let mut second = first.clone();
        second.received_at_ms += 1_000;
        s.insert(&[first.clone(), second]).unwrap();
        let policy = Retention {
            max_history_ms: None,
            resolution_ms: Some(3_600_000),
            full_resolution_ms: 0,
        };
        let now = start + 10 * 86_400_000;
        while s.trim(&policy, now, 10_000).unwrap().more {}
        assert_eq!(s.latest_of(lone).unwrap(), Some(first.clone()));
        assert!(s.latest().unwrap().contains(&first));
        let counted: usize = s.query(&Query::default()).unwrap().len();
        assert_eq!(s.count().unwrap(), counted as u64);
    }

    #[test]
    fn periodic_retention_drops_whole_rollup_buckets_only() {
        let mut s = SqliteStore::open_in_memory().unwrap();
        let start = 1_700_000_000_000;
        s.insert(&history(1, start, 3 * 86_400_000, 120_000))
            .unwrap();
        let mac = MacAddress([0xAA, 0, 0, 0, 0, 0]);
        let before: Vec<Bucket> = stored(&mut s, mac, Level::Hour);
        let keep = 2 * 86_400_000 - 1_800_000;
        let now = start + 3 * 86_400_000;
        let cut = now - keep;
        let policy = Retention {
            max_history_ms: Some(keep),
            resolution_ms: None,
            full_resolution_ms: 0,
        };
        let mut calls = 0;
        while s.trim(&policy, now, 100).unwrap().more {
            calls += 1;
        }
        assert!(calls > 3, "in bounded steps");
        let after = stored(&mut s, mac, Level::Hour);
        let straddling = Level::Hour.bucket_of(cut);
        // Buckets that ended before the cut are gone; the one holding it stays whole (until
        // it is wholly expired); later ones equal their rows.
        assert_eq!(after[0].start_ms, straddling);
        assert_eq!(
            after[0],
            *before.iter().find(|b| b.start_ms == straddling).unwrap()
        );
        let recomputed = recomputed(&mut s, mac, Level::Hour);
        assert_eq!(after[1..], recomputed[1..]);
        assert!(recomputed[0].stats.count < after[0].stats.count);
    }

    #[test]
    fn reads_walk_the_clustered_key() {
        let s = SqliteStore::open_in_memory().unwrap();
        let plan = |sql: &str| -> String {
            let mut stmt = s
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap();
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            rows.join("; ")
        };
        let range = plan(
            "SELECT * FROM samples WHERE sensor = 1 AND at_ms >= 0 AND at_ms < 9
             ORDER BY at_ms, n LIMIT -1",
        );
        assert!(
            range.contains("SEARCH samples USING PRIMARY KEY (sensor=? AND at_ms>? AND at_ms<?)")
                && !range.contains("TEMP B-TREE"),
            "{range}"
        );
        let latest = plan(
            "SELECT s.* FROM latest l CROSS JOIN samples s
                 ON s.sensor = l.sensor AND s.at_ms = l.at_ms AND s.n = l.n",
        );
        assert!(
            latest.contains("SEARCH s USING PRIMARY KEY (sensor=? AND at_ms=? AND n=?)"),
            "{latest}"
        );
        let rollups = plan(
            "SELECT bucket_ms, stats FROM rollups
             WHERE sensor = 1 AND level = 1 AND bucket_ms >= 0 AND bucket_ms < 9
             ORDER BY bucket_ms",
        );
        assert!(
            rollups.contains("SEARCH rollups USING PRIMARY KEY") && !rollups.contains("TEMP"),
            "{rollups}"
        );
    }

    #[test]
    fn a_schema_3_store_is_migrated_row_for_row() {
        let path = temp_db("migrate");
        // More rows than one migration step, written as schema 3 wrote them.
        let all = history(4, 1_700_000_000_000, 86_400_000 / 2, 1_500);
        assert!(all.len() as i64 > MIGRATION_STEP);
        {
            let mut conn = Connection::open(&path).unwrap();
            schema_3(&conn);
            let tx = conn.transaction().unwrap();
            write_schema_3_rows(&tx, &mut all.iter().cloned()).unwrap();
            tx.commit().unwrap();
        }
        let mut steps = Vec::new();
        let mut s = SqliteStore::open_with_progress(&path, &mut |m| steps.push(m)).unwrap();
        assert!(steps.len() >= 2, "{steps:?}");
        assert!(steps.windows(2).all(|w| w[0].done < w[1].done));
        assert_eq!(
            steps.last(),
            Some(&Migration {
                done: all.len() as u64,
                total: all.len() as u64
            })
        );
        assert_eq!(s.count().unwrap(), all.len() as u64);
        let mut back = s.query(&Query::default()).unwrap();
        let mut sent = all.clone();
        let key = |o: &Observation| (o.sensor, o.received_at_ms);
        back.sort_by_key(key);
        sent.sort_by_key(key);
        assert_eq!(back, sent);
        let version: i64 = s
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        for level in Level::ALL {
            let mac = MacAddress([0xAA, 0, 0, 0, 0, 2]);
            assert_eq!(stored(&mut s, mac, level), recomputed(&mut s, mac, level));
        }
        drop(s);
        // Opened again: nothing left to move.
        let mut again = SqliteStore::open_with_progress(&path, &mut |m| panic!("{m:?}")).unwrap();
        assert_eq!(again.count().unwrap(), all.len() as u64);
        drop(again);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn two_connections_to_one_file_see_each_others_sensors() {
        let path = temp_db("two");
        let mut writer = SqliteStore::open(&path).unwrap();
        let mut import = SqliteStore::open(&path).unwrap();
        let (a, b) = (df5(1, 1_000, 1), df5(2, 2_000, 2));
        import.insert(std::slice::from_ref(&a)).unwrap();
        // The writer has not read `a`'s sensor id; it still stores `a`'s sensor, and `b`.
        writer.insert(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(writer.count().unwrap(), 3);
        let all = import.query(&Query::default()).unwrap();
        assert_eq!(all, [a.clone(), a.clone(), b]);
        // Both add to the same hour in turns: neither loses the other's statistics (the
        // writer's remembered hour is dropped once the other commits).
        for i in 0..3 {
            writer.insert(&[df5(1, 3_000 + i, 10 + i as u32)]).unwrap();
            import.insert(&[df5(1, 4_000 + i, 20 + i as u32)]).unwrap();
        }
        writer.insert(&[df5(1, 5_000, 30)]).unwrap();
        for store in [&mut writer, &mut import] {
            assert_eq!(
                stored(store, a.sensor, Level::Hour),
                recomputed(store, a.sensor, Level::Hour)
            );
        }
        drop((writer, import));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn many_observations_of_one_sensor_in_one_millisecond_keep_their_order() {
        let mut s = SqliteStore::open_in_memory().unwrap();
        let same: Vec<Observation> = (0..2_000).map(|i| df5(1, 5_000, i)).collect();
        for chunk in same.chunks(100) {
            s.insert(chunk).unwrap();
        }
        assert_eq!(s.query(&Query::default()).unwrap(), same);
        assert_eq!(s.latest_of(same[0].sensor).unwrap().as_ref(), same.last());
    }

    #[test]
    fn macs_fit_in_an_integer_both_ways() {
        for m in [
            MacAddress([0; 6]),
            MacAddress([0xFF; 6]),
            MacAddress([0xC8, 0x25, 0x2D, 0x8E, 0x9C, 0x2C]),
        ] {
            assert_eq!(mac_of(mac_int(m)), m);
        }
    }
}
