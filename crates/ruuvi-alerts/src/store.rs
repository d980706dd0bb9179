//! Rules and alert history in SQLite (`<data dir>/alerts.sqlite`). A rule is kept as JSON in
//! one column, so a new field needs no migration (older rows read it as its default).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::{AlertError, Fired, Rule};

/// One alert that fired, and whether someone acknowledged it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
pub struct HistoryEntry {
    pub id: i64,
    pub fired: Fired,
    pub acknowledged_at_ms: Option<i64>,
}

pub struct AlertStore {
    conn: Connection,
}

impl AlertStore {
    pub fn open(path: &Path) -> Result<Self, AlertError> {
        Self::with(Connection::open(path)?)
    }

    pub fn open_in_memory() -> Result<Self, AlertError> {
        Self::with(Connection::open_in_memory()?)
    }

    fn with(conn: Connection) -> Result<Self, AlertError> {
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS rules (id INTEGER PRIMARY KEY, rule TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS history (
                 id INTEGER PRIMARY KEY,
                 rule_id INTEGER NOT NULL,
                 at_ms INTEGER NOT NULL,
                 fired TEXT NOT NULL,
                 acknowledged_at_ms INTEGER);
             CREATE INDEX IF NOT EXISTS history_at ON history (at_ms);
             CREATE TABLE IF NOT EXISTS deliveries (
                 history_id INTEGER NOT NULL,
                 attempt INTEGER NOT NULL,
                 at_ms INTEGER NOT NULL,
                 status INTEGER,
                 error TEXT);",
        )?;
        Ok(Self { conn })
    }

    /// Checks and saves a new rule; returns it with its id.
    pub fn add(&mut self, mut rule: Rule) -> Result<Rule, AlertError> {
        rule.validate()?;
        self.conn.execute(
            "INSERT INTO rules (rule) VALUES (?1)",
            params![serde_json::to_string(&rule).expect("plain data")],
        )?;
        rule.id = self.conn.last_insert_rowid();
        self.update(&rule)?;
        Ok(rule)
    }

    /// Replaces a rule (same id).
    pub fn update(&mut self, rule: &Rule) -> Result<(), AlertError> {
        rule.validate()?;
        let n = self.conn.execute(
            "UPDATE rules SET rule = ?2 WHERE id = ?1",
            params![rule.id, serde_json::to_string(rule).expect("plain data")],
        )?;
        if n == 0 {
            return Err(AlertError::NoSuchRule(rule.id));
        }
        Ok(())
    }

    /// Whether there was such a rule.
    pub fn remove(&mut self, id: i64) -> Result<bool, AlertError> {
        Ok(self
            .conn
            .execute("DELETE FROM rules WHERE id = ?1", params![id])?
            > 0)
    }

    pub fn rules(&self) -> Result<Vec<Rule>, AlertError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, rule FROM rules ORDER BY id")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, text) = row?;
            match serde_json::from_str::<Rule>(&text) {
                Ok(mut rule) => {
                    rule.id = id;
                    out.push(rule);
                }
                // A damaged row is skipped, not fatal: the other rules keep working.
                Err(e) => tracing::warn!(id, "unreadable alert rule: {e}"),
            }
        }
        Ok(out)
    }

    pub fn rule(&self, id: i64) -> Result<Rule, AlertError> {
        self.rules()?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(AlertError::NoSuchRule(id))
    }

    /// Keeps a fired alert; returns its history id.
    pub fn record(&mut self, fired: &Fired) -> Result<i64, AlertError> {
        self.conn.execute(
            "INSERT INTO history (rule_id, at_ms, fired) VALUES (?1, ?2, ?3)",
            params![
                fired.rule_id,
                fired.at_ms,
                serde_json::to_string(fired).expect("plain data")
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The newest `limit` alerts, newest first.
    pub fn history(&self, limit: usize) -> Result<Vec<HistoryEntry>, AlertError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, fired, acknowledged_at_ms FROM history ORDER BY at_ms DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<i64>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, fired, acknowledged_at_ms) = row?;
            if let Ok(fired) = serde_json::from_str(&fired) {
                out.push(HistoryEntry {
                    id,
                    fired,
                    acknowledged_at_ms,
                });
            }
        }
        Ok(out)
    }

    /// Marks an alert as seen; whether it was waiting for that.
    pub fn acknowledge(&mut self, history_id: i64, at_ms: i64) -> Result<bool, AlertError> {
        let n = self.conn.execute(
            "UPDATE history SET acknowledged_at_ms = ?2 WHERE id = ?1 AND acknowledged_at_ms IS NULL",
            params![history_id, at_ms],
        )?;
        Ok(n > 0)
    }

    /// Keeps a webhook's attempts for a fired alert.
    pub fn log_delivery(
        &mut self,
        history_id: i64,
        attempts: &[crate::Attempt],
    ) -> Result<(), AlertError> {
        let tx = self.conn.transaction()?;
        for a in attempts {
            tx.execute(
                "INSERT INTO deliveries (history_id, attempt, at_ms, status, error) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![history_id, a.attempt, a.at_ms, a.status, a.error],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The delivery log of one fired alert, in attempt order.
    pub fn deliveries(&self, history_id: i64) -> Result<Vec<crate::Attempt>, AlertError> {
        let mut stmt = self.conn.prepare(
            "SELECT attempt, at_ms, status, error FROM deliveries WHERE history_id = ?1 ORDER BY attempt",
        )?;
        let rows = stmt.query_map(params![history_id], |row| {
            Ok(crate::Attempt {
                attempt: row.get(0)?,
                at_ms: row.get(1)?,
                status: row.get(2)?,
                error: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Alerts nobody acknowledged yet (the in-app banner).
    pub fn unacknowledged(&self) -> Result<usize, AlertError> {
        Ok(self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM history WHERE acknowledged_at_ms IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlertType, TriggerType};

    /// Found by fuzzing: rules are kept as JSON, and a threshold must read back exactly.
    #[test]
    fn a_rule_reads_back_exactly_as_it_was_saved() {
        let mut store = AlertStore::open_in_memory().unwrap();
        for threshold in [2.000_000_04e37, 0.1 + 0.2, -40.000_000_000_000_01, f64::MAX] {
            let rule = Rule {
                id: 0,
                sensor: "F4:1F:0C:28:CB:D6".parse().unwrap(),
                name: "x".into(),
                alert_type: AlertType::Temperature,
                trigger: TriggerType::Over,
                threshold,
                unit: "C".into(),
                tolerance: 0.0,
                hysteresis: 0.1,
                cooldown_s: 0,
                text: String::new(),
                enabled: true,
            };
            let saved = store.add(rule).unwrap();
            assert_eq!(store.rule(saved.id).unwrap(), saved, "{threshold}");
        }
    }
}
