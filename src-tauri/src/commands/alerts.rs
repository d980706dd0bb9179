//! The Alerts page's commands over `ruuvi_alerts::Alerting`.

use ruuvi_alerts::{AlertError, AlertsView, Rule};
use tauri::State;

use crate::error::IpcError;
use crate::feeds::{now_ms, Feeds};

impl From<AlertError> for IpcError {
    fn from(e: AlertError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

fn alerting(feeds: &Feeds) -> Result<&ruuvi_alerts::Alerting, IpcError> {
    feeds.alerts.as_deref().ok_or(IpcError {
        code: "alerts",
        message: "alerts are not running".into(),
    })
}

/// The rules, the latest 100 alerts and how many wait for acknowledgement.
#[tauri::command]
pub fn alerts(feeds: State<'_, Feeds>) -> Result<AlertsView, IpcError> {
    Ok(alerting(&feeds)?.view(100)?)
}

/// Saves a rule (new when its id is 0); it applies at once.
#[tauri::command]
pub fn alerts_save(feeds: State<'_, Feeds>, rule: Rule) -> Result<Rule, IpcError> {
    Ok(alerting(&feeds)?.save(rule)?)
}

#[tauri::command]
pub fn alerts_remove(feeds: State<'_, Feeds>, id: i64) -> Result<bool, IpcError> {
    Ok(alerting(&feeds)?.remove(id)?)
}

#[tauri::command]
pub fn alerts_acknowledge(feeds: State<'_, Feeds>, id: i64) -> Result<bool, IpcError> {
    Ok(alerting(&feeds)?.acknowledge(id, now_ms())?)
}

/// Fires a rule's alert now (current value = threshold) through every delivery.
#[tauri::command]
pub fn alerts_test(feeds: State<'_, Feeds>, id: i64) -> Result<(), IpcError> {
    Ok(alerting(&feeds)?.test_rule(id, now_ms())?)
}
