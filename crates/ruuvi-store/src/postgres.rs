//! The shared engine: a PostgreSQL database that several Ruuvi Desk processes (on different
//! machines) may write to at once.
//!
//! The table is the SQLite one. Batches go in as one multi-row `INSERT … SELECT FROM unnest(…)`
//! per transaction. Copies are dropped across writers: each measurement (sensor, format,
//! sequence number) is first claimed in `recent_measurements` with `INSERT … ON CONFLICT`,
//! which PostgreSQL serialises per key, so of two processes storing the same measurement at
//! the same moment exactly one stores it. A claim older than [`CLAIM_MS`] is taken
//! over (the sequence counter wrapped: a new measurement). Retention is plain deletes, in
//! bounded steps like SQLite's.
//!
//! The connection lives on a thread of its own: the synchronous client runs a small runtime
//! of its own, which must neither start nor be dropped on an async worker.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc;
use std::thread::JoinHandle;

use postgres::{Client, NoTls};
use ruuvi_protocol::{DataFormat, MacAddress, Observation, SensorProfile};

use crate::location::PostgresTarget;
use crate::rollup::{Bucket, Buckets, FieldStats, Gather, Level, Stats};
use crate::{
    trim_with, Columns, ObservationStore, Query, Retention, Row, StoreError, StoredReadings,
    TrimSql, Trimmed, COLUMNS,
};

/// Bumped when the tables change; a newer database is refused.
/// 2 added `rollups` (kept from then on; older buckets are computed from raw rows).
const SCHEMA_VERSION: i64 = 2;

/// The statistics kept in `rollups`: hours (a day is its hours merged when read).
const STORED: Level = Level::Hour;

/// The `field` of a rollup row that holds a bucket's observation count.
const COUNT_FIELD: i16 = -1;

/// How long a measurement's claim holds: copies of one measurement reach the writers within
/// this (a gateway's post period at most), and its sequence number does not come round again
/// within it. Format 6 counts in 8 bits (round in ~4 minutes at its fastest), the others in
/// 16 or 24 bits.
const CLAIM_MS: i64 = 600_000;
const FORMAT_6_CLAIM_MS: i64 = 60_000;

static FORMAT_6: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| serde_json::to_string(&DataFormat::Df6).expect("plain enum"));

/// Claims older than this are removed (a few windows).
const CLAIMS_KEPT_MS: i64 = 3_600_000;

type Job = Box<dyn FnOnce(&mut Client) + Send>;

pub struct PostgresStore {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    inserts: u64,
}

fn pg(e: postgres::Error) -> StoreError {
    // The server's message (with its SQLSTATE) says more than "db error".
    match e.as_db_error() {
        Some(db) => StoreError::Postgres(format!("{} ({})", db.message(), db.code().code())),
        None => StoreError::Postgres(e.to_string()),
    }
}

impl PostgresStore {
    /// Connects and creates the tables if needed.
    pub fn connect(target: &PostgresTarget) -> Result<Self, StoreError> {
        let config = target.config();
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("postgres".into())
            .spawn(move || {
                let client = config
                    .connect(NoTls)
                    .map_err(pg)
                    .and_then(|mut c| init(&mut c).map(|()| c));
                let mut client = match client {
                    Ok(c) => {
                        let _ = ready.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                for job in queue {
                    job(&mut client);
                }
            })
            .map_err(StoreError::Io)?;
        connected
            .recv()
            .map_err(|_| StoreError::Postgres("the connection thread ended".into()))??;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
            inserts: 0,
        })
    }

    /// Runs `f` on the connection's thread and waits for its answer.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, result) = mpsc::sync_channel(1);
        self.jobs
            .as_ref()
            .expect("open until dropped")
            .send(Box::new(move |c| {
                let _ = answer.send(f(c));
            }))
            .map_err(|_| StoreError::Postgres("the connection is closed".into()))?;
        result
            .recv()
            .map_err(|_| StoreError::Postgres("the connection thread ended".into()))?
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn init(c: &mut Client) -> Result<(), StoreError> {
    // One process at a time creates the tables (others wait, then find them).
    let mut tx = c.transaction().map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock(7235011)", &[])
        .map_err(pg)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS observations (
             id BIGSERIAL PRIMARY KEY,
             sensor TEXT NOT NULL,
             received_at_ms BIGINT NOT NULL,
             seen_at_s BIGINT,
             feed TEXT NOT NULL,
             rssi INTEGER,
             format TEXT,
             seq BIGINT,
             readings BYTEA NOT NULL
         );
         CREATE INDEX IF NOT EXISTS observations_sensor_time
             ON observations(sensor, received_at_ms);
         CREATE INDEX IF NOT EXISTS observations_time ON observations(received_at_ms);
         CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
         CREATE TABLE IF NOT EXISTS rollups (
             sensor TEXT NOT NULL,
             level SMALLINT NOT NULL,
             bucket_ms BIGINT NOT NULL,
             field SMALLINT NOT NULL,
             min DOUBLE PRECISION NOT NULL,
             max DOUBLE PRECISION NOT NULL,
             sum DOUBLE PRECISION NOT NULL,
             count BIGINT NOT NULL,
             PRIMARY KEY (sensor, level, bucket_ms, field)
         );
         CREATE TABLE IF NOT EXISTS recent_measurements (
             sensor TEXT NOT NULL,
             format TEXT NOT NULL,
             seq BIGINT NOT NULL,
             at_ms BIGINT NOT NULL,
             PRIMARY KEY (sensor, format, seq)
         );
         CREATE TABLE IF NOT EXISTS sensor_profiles (
             sensor TEXT PRIMARY KEY,
             name TEXT NOT NULL,
             location TEXT NOT NULL,
             note TEXT NOT NULL,
             temperature_offset_c DOUBLE PRECISION NOT NULL,
             humidity_offset_pct DOUBLE PRECISION NOT NULL,
             pressure_offset_pa DOUBLE PRECISION NOT NULL,
             updated_ms BIGINT NOT NULL
         );",
    )
    .map_err(pg)?;
    let version: Option<i64> = tx
        .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])
        .map_err(pg)?
        .map(|r| r.get(0));
    if let Some(v) = version.filter(|v| *v > SCHEMA_VERSION) {
        return Err(StoreError::NewerSchema(v));
    }
    if version.unwrap_or(0) < 2 {
        // Rollups are kept from the next whole day on; before it, a chart's statistics come
        // from the raw rows (a fresh database has none: everything is covered).
        let newest: Option<i64> = tx
            .query_one("SELECT MAX(received_at_ms) FROM observations", &[])
            .map_err(pg)?
            .get(0);
        let from = match newest {
            Some(t) => Level::Day
                .bucket_of(t.max(ruuvi_protocol::clock::now_ms()))
                .saturating_add(Level::Day.width_ms()),
            None => i64::MIN,
        };
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('rollups_from_ms', $1)
             ON CONFLICT (key) DO NOTHING",
            &[&from],
        )
        .map_err(pg)?;
    }
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('schema_version', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&SCHEMA_VERSION],
    )
    .map_err(pg)?;
    tx.commit().map_err(pg)
}

/// A measurement's claim key.
type Claim = (String, String, i64);

/// One batch in one transaction: claim the measurements, insert the observations whose claim
/// was won. Returns which were stored.
fn insert_batch(
    c: &mut Client,
    rows: &[Columns],
    readings: &[ruuvi_protocol::Readings],
    prune_before: Option<i64>,
) -> Result<Vec<bool>, StoreError> {
    // First occurrence of each key in the batch claims it; later ones in the batch are copies.
    let mut first: HashMap<Claim, usize> = HashMap::new();
    let mut claims: Vec<(Claim, i64)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if let (Some(format), Some(seq)) = (&r.format, r.seq) {
            let key = (r.sensor.clone(), format.clone(), seq);
            if !first.contains_key(&key) {
                first.insert(key.clone(), i);
                let at = r
                    .seen_at_s
                    .map_or(r.received_at_ms, |s| s.saturating_mul(1000));
                claims.push((key, at));
            }
        }
    }
    // The same key order in every writer: concurrent claims queue instead of deadlocking.
    claims.sort();
    let mut tx = c.transaction().map_err(pg)?;
    let won: HashSet<Claim> = if claims.is_empty() {
        HashSet::new()
    } else {
        let sensors: Vec<&str> = claims.iter().map(|((s, _, _), _)| s.as_str()).collect();
        let formats: Vec<&str> = claims.iter().map(|((_, f, _), _)| f.as_str()).collect();
        let seqs: Vec<i64> = claims.iter().map(|((_, _, q), _)| *q).collect();
        let ats: Vec<i64> = claims.iter().map(|(_, at)| *at).collect();
        tx.query(
            "INSERT INTO recent_measurements AS r (sensor, format, seq, at_ms)
             SELECT s, f, q, a FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
                 AS t(s, f, q, a)
             ON CONFLICT (sensor, format, seq) DO UPDATE SET at_ms = excluded.at_ms
                 WHERE abs(r.at_ms - excluded.at_ms)
                     >= CASE WHEN excluded.format = $5 THEN $6::bigint ELSE $7::bigint END
             RETURNING sensor, format, seq",
            &[
                &sensors,
                &formats,
                &seqs,
                &ats,
                &FORMAT_6.as_str(),
                &FORMAT_6_CLAIM_MS,
                &CLAIM_MS,
            ],
        )
        .map_err(pg)?
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
    };
    let kept: Vec<bool> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| match (&r.format, r.seq) {
            (Some(format), Some(seq)) => {
                let key = (r.sensor.clone(), format.clone(), seq);
                first.get(&key) == Some(&i) && won.contains(&key)
            }
            _ => true,
        })
        .collect();
    let stored: Vec<&Columns> = rows
        .iter()
        .zip(&kept)
        .filter(|(_, k)| **k)
        .map(|(r, _)| r)
        .collect();
    if !stored.is_empty() {
        let sensor: Vec<&str> = stored.iter().map(|r| r.sensor.as_str()).collect();
        let received: Vec<i64> = stored.iter().map(|r| r.received_at_ms).collect();
        let seen: Vec<Option<i64>> = stored.iter().map(|r| r.seen_at_s).collect();
        let feed: Vec<&str> = stored.iter().map(|r| r.feed.as_str()).collect();
        let rssi: Vec<Option<i32>> = stored.iter().map(|r| r.rssi.map(i32::from)).collect();
        let format: Vec<Option<&str>> = stored.iter().map(|r| r.format.as_deref()).collect();
        let seq: Vec<Option<i64>> = stored.iter().map(|r| r.seq).collect();
        let readings: Vec<&[u8]> = stored.iter().map(|r| r.readings.as_slice()).collect();
        tx.execute(
            "INSERT INTO observations
                 (sensor, received_at_ms, seen_at_s, feed, rssi, format, seq, readings)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[],
                                  $5::integer[], $6::text[], $7::bigint[], $8::bytea[])",
            &[
                &sensor, &received, &seen, &feed, &rssi, &format, &seq, &readings,
            ],
        )
        .map_err(pg)?;
    }
    add_rollups(
        &mut tx,
        rows.iter()
            .zip(readings)
            .zip(&kept)
            .filter(|(_, k)| **k)
            .map(|((c, r), _)| (c, r)),
    )?;
    if let Some(before) = prune_before {
        tx.execute(
            "DELETE FROM recent_measurements WHERE at_ms < $1",
            &[&before],
        )
        .map_err(pg)?;
    }
    tx.commit().map_err(pg)?;
    Ok(kept)
}

/// The stored rows' statistics added to `rollups`, merged in the database (min, max, sum,
/// count), so writers at the same moment never lose each other's; keys in one order so they
/// queue rather than deadlock.
fn add_rollups<'a>(
    tx: &mut postgres::Transaction<'_>,
    stored: impl Iterator<Item = (&'a Columns, &'a ruuvi_protocol::Readings)>,
) -> Result<(), StoreError> {
    let mut buckets: std::collections::BTreeMap<(String, i16, i64), Stats> = Default::default();
    for (c, r) in stored {
        buckets
            .entry((
                c.sensor.clone(),
                STORED.code() as i16,
                STORED.bucket_of(c.received_at_ms),
            ))
            .or_default()
            .add(r);
    }
    if buckets.is_empty() {
        return Ok(());
    }
    let (mut sensor, mut level, mut bucket, mut field) = (vec![], vec![], vec![], vec![]);
    let (mut min, mut max, mut sum, mut count) = (vec![], vec![], vec![], vec![]);
    for ((s, l, b), stats) in &buckets {
        for (f, part) in parts_of(stats) {
            sensor.push(s.as_str());
            level.push(*l);
            bucket.push(*b);
            field.push(f);
            min.push(part.min);
            max.push(part.max);
            sum.push(part.sum);
            count.push(i64::from(part.count));
        }
    }
    tx.execute(
        "INSERT INTO rollups AS r (sensor, level, bucket_ms, field, min, max, sum, count)
         SELECT * FROM unnest($1::text[], $2::smallint[], $3::bigint[], $4::smallint[],
                              $5::float8[], $6::float8[], $7::float8[], $8::bigint[])
         ON CONFLICT (sensor, level, bucket_ms, field) DO UPDATE SET
             min = LEAST(r.min, excluded.min), max = GREATEST(r.max, excluded.max),
             sum = r.sum + excluded.sum, count = r.count + excluded.count",
        &[&sensor, &level, &bucket, &field, &min, &max, &sum, &count],
    )
    .map_err(pg)?;
    Ok(())
}

/// Rollup rows (ordered by bucket) gathered into buckets.
fn buckets_of(rows: &[postgres::Row]) -> Result<Vec<Bucket>, StoreError> {
    let mut out: Vec<Bucket> = Vec::new();
    let mut emit = |start_ms, stats| out.push(Bucket { start_ms, stats });
    let mut gather = Gather::default();
    for r in rows {
        let start_ms: i64 = r.get(0);
        let field: i16 = r.get(1);
        let stats = gather.group(start_ms, &mut emit, |_| Stats::default());
        let count = u32::try_from(r.get::<_, i64>(5)).unwrap_or(u32::MAX);
        if field == COUNT_FIELD {
            stats.count = count;
        } else if !stats.set_part(
            usize::try_from(field).unwrap_or(usize::MAX),
            FieldStats {
                min: r.get(2),
                max: r.get(3),
                sum: r.get(4),
                count,
            },
        ) {
            return Err(StoreError::Corrupt {
                id: start_ms,
                reason: format!("rollup of unknown field {field}"),
            });
        }
    }
    gather.finish(&mut emit);
    Ok(out)
}

/// Deadlocks and serialisation failures are worth another try; anything else is not.
fn retryable(e: &StoreError) -> bool {
    matches!(e, StoreError::Postgres(m) if m.ends_with("(40P01)") || m.ends_with("(40001)"))
}

fn pg_row(r: &postgres::Row) -> Row {
    Row {
        id: r.get(0),
        sensor: r.get(1),
        received_at_ms: r.get(2),
        seen_at_s: r.get(3),
        feed: r.get(4),
        rssi: r.get::<_, Option<i32>>(5).map(i64::from),
        format: r.get(6),
        readings: StoredReadings::Blob(r.get(7)),
    }
}

impl ObservationStore for PostgresStore {
    fn profiles(&mut self) -> Result<Vec<SensorProfile>, StoreError> {
        self.run(|c| {
            c.query(
                "SELECT sensor, name, location, note, temperature_offset_c, humidity_offset_pct,
                        pressure_offset_pa, updated_ms FROM sensor_profiles ORDER BY sensor",
                &[],
            )
            .map_err(pg)?
            .iter()
            .map(|r| {
                let text: String = r.get(0);
                Ok(SensorProfile {
                    sensor: text.parse().map_err(|_| StoreError::Corrupt {
                        id: 0,
                        reason: format!("sensor_profiles: sensor {text:?}"),
                    })?,
                    name: r.get(1),
                    location: r.get(2),
                    note: r.get(3),
                    calibration: ruuvi_protocol::Calibration {
                        temperature_c: r.get(4),
                        humidity_pct: r.get(5),
                        pressure_pa: r.get(6),
                    },
                    updated_ms: r.get(7),
                })
            })
            .collect()
        })
    }

    fn save_profile(&mut self, p: &SensorProfile) -> Result<(), StoreError> {
        let p = p.clone();
        self.run(move |c| {
            let sensor = p.sensor.to_string();
            if p.is_empty() {
                c.execute("DELETE FROM sensor_profiles WHERE sensor = $1", &[&sensor])
                    .map_err(pg)?;
                return Ok(());
            }
            c.execute(
                "INSERT INTO sensor_profiles (sensor, name, location, note, temperature_offset_c,
                     humidity_offset_pct, pressure_offset_pa, updated_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (sensor) DO UPDATE SET name = $2, location = $3, note = $4,
                     temperature_offset_c = $5, humidity_offset_pct = $6,
                     pressure_offset_pa = $7, updated_ms = $8",
                &[
                    &sensor,
                    &p.name,
                    &p.location,
                    &p.note,
                    &p.calibration.temperature_c,
                    &p.calibration.humidity_pct,
                    &p.calibration.pressure_pa,
                    &p.updated_ms,
                ],
            )
            .map_err(pg)?;
            Ok(())
        })
    }

    fn insert(&mut self, batch: &[Observation]) -> Result<Vec<bool>, StoreError> {
        let rows: Vec<Columns> = batch.iter().map(Columns::of).collect();
        let readings: std::sync::Arc<Vec<ruuvi_protocol::Readings>> =
            std::sync::Arc::new(batch.iter().map(|o| o.readings.clone()).collect());
        self.inserts += 1;
        // Now and then, forget claims long past (from the batch's own clock).
        let prune_before = (self.inserts % 256 == 1)
            .then(|| rows.iter().map(|r| r.received_at_ms).max())
            .flatten()
            .map(|now| now - CLAIMS_KEPT_MS);
        let rows = std::sync::Arc::new(rows);
        let mut tries = 0;
        loop {
            let (attempt, values) = (rows.clone(), readings.clone());
            match self.run(move |c| insert_batch(c, &attempt, &values, prune_before)) {
                Err(e) if retryable(&e) && tries < 5 => tries += 1,
                other => return other,
            }
        }
    }

    fn count(&mut self) -> Result<u64, StoreError> {
        self.run(|c| {
            let n: i64 = c
                .query_one("SELECT COUNT(*) FROM observations", &[])
                .map_err(pg)?
                .get(0);
            Ok(n as u64)
        })
    }

    fn latest(&mut self) -> Result<Vec<Observation>, StoreError> {
        self.run(|c| {
            // Each sensor found by a walk along the (sensor, time) index (a loose index scan),
            // then its newest row: a few index probes per sensor, not a scan of the table.
            c.query(
                &format!(
                    "WITH RECURSIVE sensors(sensor) AS (
                         (SELECT sensor FROM observations ORDER BY sensor LIMIT 1)
                         UNION ALL
                         SELECT (SELECT o.sensor FROM observations o
                                 WHERE o.sensor > s.sensor ORDER BY o.sensor LIMIT 1)
                         FROM sensors s WHERE s.sensor IS NOT NULL)
                     SELECT n.* FROM sensors s CROSS JOIN LATERAL (
                         SELECT {COLUMNS} FROM observations o WHERE o.sensor = s.sensor
                         ORDER BY o.received_at_ms DESC, o.id DESC LIMIT 1) n
                     WHERE s.sensor IS NOT NULL
                     ORDER BY n.sensor"
                ),
                &[],
            )
            .map_err(pg)?
            .iter()
            .map(|r| pg_row(r).decode())
            .collect()
        })
    }

    fn latest_of(&mut self, sensor: MacAddress) -> Result<Option<Observation>, StoreError> {
        let sensor = sensor.to_string();
        self.run(move |c| {
            c.query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM observations WHERE sensor = $1
                     ORDER BY received_at_ms DESC, id DESC LIMIT 1"
                ),
                &[&sensor],
            )
            .map_err(pg)?
            .map(|r| pg_row(&r).decode())
            .transpose()
        })
    }

    fn each(
        &mut self,
        q: &Query,
        f: &mut dyn FnMut(Observation) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        let sensor = q.sensor.map(|m| m.to_string());
        let (from, to) = (q.from_ms, q.to_ms);
        let limit = q.limit.map(|l| l as i64);
        // Rows stream from the connection's thread through a bounded channel, so a large
        // export never sits in memory whole; dropping the receiver stops the query.
        let (rows_tx, rows) = mpsc::sync_channel::<Result<Row, StoreError>>(512);
        let jobs = self.jobs.as_ref().expect("open until dropped");
        jobs.send(Box::new(move |c: &mut Client| {
            let mut run = || -> Result<(), StoreError> {
                // Only the conditions asked for, so the planner walks the (sensor, time)
                // index (`$1 IS NULL OR …` would make it scan the table).
                let from = from.unwrap_or(i64::MIN);
                let to = to.unwrap_or(i64::MAX);
                let (sql, params): (String, Vec<&(dyn postgres::types::ToSql + Sync)>) =
                    match &sensor {
                        Some(sensor) => (
                            format!(
                                "SELECT {COLUMNS} FROM observations
                                 WHERE sensor = $1 AND received_at_ms >= $2 AND received_at_ms < $3
                                 ORDER BY received_at_ms, id LIMIT $4"
                            ),
                            vec![sensor, &from, &to, &limit],
                        ),
                        None => (
                            format!(
                                "SELECT {COLUMNS} FROM observations
                                 WHERE received_at_ms >= $1 AND received_at_ms < $2
                                 ORDER BY sensor, received_at_ms, id LIMIT $3"
                            ),
                            vec![&from, &to, &limit],
                        ),
                    };
                let it = c.query_raw(&sql, params).map_err(pg)?;
                use postgres::fallible_iterator::FallibleIterator;
                let mut it = it;
                while let Some(r) = it.next().map_err(pg)? {
                    if rows_tx.send(Ok(pg_row(&r))).is_err() {
                        break;
                    }
                }
                Ok(())
            };
            if let Err(e) = run() {
                let _ = rows_tx.send(Err(e));
            }
        }))
        .map_err(|_| StoreError::Postgres("the connection is closed".into()))?;
        let mut n = 0;
        for row in rows {
            f(row?.decode()?)?;
            n += 1;
        }
        Ok(n)
    }

    /// The rows, the rollup buckets that ended before the cut, and the buckets it cuts
    /// recomputed from the rows left.
    fn delete_older_than(&mut self, cutoff_ms: i64) -> Result<usize, StoreError> {
        let deleted = self.run(move |c| {
            let mut tx = c.transaction().map_err(pg)?;
            let n = tx
                .execute(
                    "DELETE FROM observations WHERE received_at_ms < $1",
                    &[&cutoff_ms],
                )
                .map_err(pg)? as usize;
            drop_rollups_before(&mut tx, cutoff_ms)?;
            tx.commit().map_err(pg)?;
            Ok(n)
        })?;
        {
            let level = STORED;
            let start = level.bucket_of(cutoff_ms);
            let mut fresh: std::collections::BTreeMap<String, Stats> = Default::default();
            self.each(
                &Query {
                    sensor: None,
                    from_ms: Some(start),
                    to_ms: Some(start.saturating_add(level.width_ms())),
                    limit: None,
                },
                &mut |o| {
                    fresh
                        .entry(o.sensor.to_string())
                        .or_default()
                        .add(&o.readings);
                    Ok(())
                },
            )?;
            self.run(move |c| {
                let mut tx = c.transaction().map_err(pg)?;
                tx.execute(
                    "DELETE FROM rollups WHERE level = $1 AND bucket_ms = $2",
                    &[&(level.code() as i16), &start],
                )
                .map_err(pg)?;
                for (sensor, stats) in fresh {
                    replace_bucket(&mut tx, &sensor, level, start, &stats)?;
                }
                tx.commit().map_err(pg)
            })?;
        }
        Ok(deleted)
    }

    /// From `rollups`; buckets before `rollups_from_ms` (an upgraded database's older
    /// history) from the raw rows.
    fn buckets(
        &mut self,
        sensor: MacAddress,
        from_ms: i64,
        to_ms: i64,
        level: Level,
        f: &mut dyn FnMut(Bucket),
    ) -> Result<usize, StoreError> {
        let rollups_from: i64 = self.run(|c| {
            Ok(
                c.query_opt("SELECT value FROM meta WHERE key = 'rollups_from_ms'", &[])
                    .map_err(pg)?
                    .map(|r| r.get(0))
                    .unwrap_or(i64::MIN),
            )
        })?;
        let mut n = 0;
        let start = level.bucket_of(from_ms);
        if start < rollups_from {
            n += raw_buckets(self, sensor, start, to_ms.min(rollups_from), level, f)?;
        }
        let (from, text) = (start.max(rollups_from), sensor.to_string());
        let rows = self.run(move |c| {
            c.query(
                "SELECT bucket_ms, field, min, max, sum, count FROM rollups
                 WHERE sensor = $1 AND level = $2 AND bucket_ms >= $3 AND bucket_ms < $4
                 ORDER BY bucket_ms, field",
                &[&text, &(STORED.code() as i16), &from, &to_ms],
            )
            .map_err(pg)
        })?;
        // Hours as stored; a day is its hours merged.
        let mut buckets = Buckets::new(level, f);
        for hour in buckets_of(&rows)? {
            buckets.merge(&hour);
        }
        Ok(n + buckets.finish())
    }

    fn trim(
        &mut self,
        policy: &Retention,
        now_ms: i64,
        max_rows: usize,
    ) -> Result<Trimmed, StoreError> {
        let policy = *policy;
        self.run(move |c| trim_with(&mut PostgresTrim(c), &policy, now_ms, max_rows))
    }
}

/// The rollup buckets that ended at or before `cutoff_ms` go with their rows.
fn drop_rollups_before(
    tx: &mut postgres::Transaction<'_>,
    cutoff_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM rollups WHERE level = $1 AND bucket_ms < $2",
        &[&(STORED.code() as i16), &STORED.bucket_of(cutoff_ms)],
    )
    .map_err(pg)?;
    Ok(())
}

/// Writes one bucket's statistics in place of what was there.
fn replace_bucket(
    tx: &mut postgres::Transaction<'_>,
    sensor: &str,
    level: Level,
    bucket: i64,
    stats: &Stats,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM rollups WHERE sensor = $1 AND level = $2 AND bucket_ms = $3",
        &[&sensor, &(level.code() as i16), &bucket],
    )
    .map_err(pg)?;
    for (field, part) in parts_of(stats) {
        tx.execute(
            "INSERT INTO rollups (sensor, level, bucket_ms, field, min, max, sum, count)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &sensor,
                &(level.code() as i16),
                &bucket,
                &field,
                &part.min,
                &part.max,
                &part.sum,
                &i64::from(part.count),
            ],
        )
        .map_err(pg)?;
    }
    Ok(())
}

/// A bucket as rollup rows: its observation count, then each measured field.
fn parts_of(stats: &Stats) -> impl Iterator<Item = (i16, FieldStats)> + '_ {
    std::iter::once((
        COUNT_FIELD,
        FieldStats {
            min: 0.0,
            max: 0.0,
            sum: 0.0,
            count: stats.count,
        },
    ))
    .chain(stats.parts().map(|(i, f)| (i as i16, f)))
}

/// Buckets computed from the raw rows (history from before rollups were kept).
fn raw_buckets(
    store: &mut PostgresStore,
    sensor: MacAddress,
    from_ms: i64,
    to_ms: i64,
    level: Level,
    f: &mut dyn FnMut(Bucket),
) -> Result<usize, StoreError> {
    let mut buckets = Buckets::new(level, f);
    store.each(
        &Query {
            sensor: Some(sensor),
            from_ms: Some(from_ms),
            to_ms: Some(to_ms),
            limit: None,
        },
        &mut |o| {
            buckets.add(o.received_at_ms, &o.readings);
            Ok(())
        },
    )?;
    Ok(buckets.finish())
}

struct PostgresTrim<'a>(&'a mut Client);

impl TrimSql for PostgresTrim<'_> {
    /// Rollup buckets go whole once they ended before the cut (the one holding it stays).
    fn expire(&mut self, before: i64, limit: usize) -> Result<usize, StoreError> {
        let mut tx = self.0.transaction().map_err(pg)?;
        let n = tx
            .execute(
                "DELETE FROM observations WHERE id IN (
                     SELECT id FROM observations WHERE received_at_ms < $1
                     ORDER BY received_at_ms LIMIT $2)",
                &[&before, &(limit as i64)],
            )
            .map_err(pg)? as usize;
        drop_rollups_before(&mut tx, before)?;
        tx.commit().map_err(pg)?;
        Ok(n)
    }

    fn thin(&mut self, from: i64, cut: i64, step: i64, limit: usize) -> Result<usize, StoreError> {
        Ok(self
            .0
            .execute(
                "DELETE FROM observations WHERE id IN (
                     SELECT o.id FROM observations o
                     WHERE o.received_at_ms >= $1 AND o.received_at_ms < $2
                       AND o.id <> (
                           SELECT MIN(p.id) FROM observations p
                           WHERE p.sensor = o.sensor
                             AND p.received_at_ms >= (o.received_at_ms / $3) * $3
                             AND p.received_at_ms < (o.received_at_ms / $3 + 1) * $3)
                     LIMIT $4)",
                &[&from, &cut, &step, &(limit as i64)],
            )
            .map_err(pg)? as usize)
    }

    fn meta(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .0
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
            .map_err(pg)?
            .map(|r| r.get(0)))
    }

    fn set_meta(&mut self, key: &str, value: i64) -> Result<(), StoreError> {
        self.0
            .execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )
            .map_err(pg)?;
        Ok(())
    }
}
