//! The embedded engine: one SQLite file in WAL mode.
//!
//! Durability: WAL with `synchronous=NORMAL` keeps every committed batch through a crash or a
//! `kill -9` of the process (the WAL is written before the commit returns); only an operating
//! system crash or power loss can lose the last batches.

use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use ruuvi_protocol::{MacAddress, Observation};

use crate::{
    trim_with, Columns, ObservationStore, Query, Retention, Row, StoreError, StoredReadings,
    TrimSql, Trimmed, COLUMNS,
};

/// 2 added the `meta` table (how far thinning got); 3 writes readings as compact blobs
/// (older JSON rows are still read).
const SCHEMA_VERSION: i64 = 3;

pub struct SqliteStore {
    pub(crate) conn: Connection,
}

impl SqliteStore {
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
}

impl ObservationStore for SqliteStore {
    /// One writer per file (the process's hub), whose own dedupe has dropped copies: every
    /// observation of the batch is stored.
    fn insert(&mut self, batch: &[Observation]) -> Result<Vec<bool>, StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO observations
                     (sensor, received_at_ms, seen_at_s, feed, rssi, format, seq, readings)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for o in batch {
                let c = Columns::of(o);
                stmt.execute(params![
                    c.sensor,
                    c.received_at_ms,
                    c.seen_at_s,
                    c.feed,
                    c.rssi,
                    c.format,
                    c.seq,
                    c.readings,
                ])?;
            }
        }
        tx.commit()?;
        Ok(vec![true; batch.len()])
    }

    fn count(&mut self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM observations", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    /// The newest observation of every sensor.
    fn latest(&mut self) -> Result<Vec<Observation>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM observations
             WHERE id IN (SELECT MAX(id) FROM observations GROUP BY sensor)
             ORDER BY sensor"
        ))?;
        let rows = stmt.query_map([], sqlite_row)?;
        rows.map(|r| r?.decode()).collect()
    }

    /// The newest observation of one sensor.
    fn latest_of(&mut self, sensor: MacAddress) -> Result<Option<Observation>, StoreError> {
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM observations WHERE sensor = ?1 ORDER BY id DESC LIMIT 1"
                ),
                [sensor.to_string()],
                sqlite_row,
            )
            .optional()?;
        row.map(Row::decode).transpose()
    }

    fn each(
        &mut self,
        q: &Query,
        f: &mut dyn FnMut(Observation) -> Result<(), StoreError>,
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
            sqlite_row,
        )?;
        let mut n = 0;
        for row in rows {
            f(row?.decode()?)?;
            n += 1;
        }
        Ok(n)
    }

    fn delete_older_than(&mut self, cutoff_ms: i64) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM observations WHERE received_at_ms < ?1",
            [cutoff_ms],
        )?)
    }

    fn trim(
        &mut self,
        policy: &Retention,
        now_ms: i64,
        max_rows: usize,
    ) -> Result<Trimmed, StoreError> {
        trim_with(&mut SqliteTrim(&self.conn), policy, now_ms, max_rows)
    }
}

struct SqliteTrim<'a>(&'a Connection);

impl TrimSql for SqliteTrim<'_> {
    fn expire(&mut self, before: i64, limit: usize) -> Result<usize, StoreError> {
        Ok(self.0.execute(
            "DELETE FROM observations WHERE id IN (
                 SELECT id FROM observations WHERE received_at_ms < ?1
                 ORDER BY received_at_ms LIMIT ?2)",
            params![before, limit as i64],
        )?)
    }

    fn thin(&mut self, from: i64, cut: i64, step: i64, limit: usize) -> Result<usize, StoreError> {
        Ok(self.0.execute(
            "DELETE FROM observations WHERE id IN (
                 SELECT o.id FROM observations o
                 WHERE o.received_at_ms >= ?1 AND o.received_at_ms < ?2
                   AND o.id <> (
                       SELECT MIN(p.id) FROM observations p
                       WHERE p.sensor = o.sensor
                         AND p.received_at_ms >= (o.received_at_ms / ?3) * ?3
                         AND p.received_at_ms < (o.received_at_ms / ?3 + 1) * ?3)
                 LIMIT ?4)",
            params![from, cut, step, limit as i64],
        )?)
    }

    fn meta(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .0
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&mut self, key: &str, value: i64) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

fn sqlite_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_written_as_json_by_schema_2_are_still_read() {
        let mut s = SqliteStore::open_in_memory().unwrap();
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
        let mut s = SqliteStore::open_in_memory().unwrap();
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
