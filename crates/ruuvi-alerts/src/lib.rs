//! Alerts (issue 9): rules in the seed's model (`alertType`, `triggerType`, thresholds in the
//! user's units), an engine that evaluates every observation with hysteresis, re-arm,
//! cooldown and no-data, the rules and the history in SQLite, and the seed's push payload.

mod engine;
mod payload;
mod rule;
mod run;
mod store;
mod webhook;

pub use engine::{Engine, Fired};
pub use payload::push_payload;
pub use rule::{AlertType, Rule, TriggerType};
pub use run::{Alerting, AlertsView, Clock, OnFired, TypeUnits, TICK};
pub use store::{AlertStore, HistoryEntry};
pub use webhook::{deliver, Attempt, Webhook};

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("{0}")]
    BadRule(String),
    #[error("no alert rule {0}")]
    NoSuchRule(i64),
    #[error("alerts database: {0}")]
    Store(#[from] rusqlite::Error),
}

impl AlertError {
    pub fn code(&self) -> &'static str {
        match self {
            AlertError::BadRule(_) => "bad_input",
            AlertError::NoSuchRule(_) => "not_found",
            AlertError::Store(_) => "store",
        }
    }
}
