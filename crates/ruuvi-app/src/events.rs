//! What the running system tells the faces without being asked: a new card, a step of a
//! gateway change, a fired alert. The window gets them as Tauri events and `serve --ui`'s pages
//! over their WebSocket, by the same names.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// A stored observation, as the dashboard shows it.
    Card(Box<ruuvi_dashboard::SensorCard>),
    /// A step of a gateway change in progress.
    Step(ruuvi_setup::StepEvent),
    /// An alert that fired.
    Alert(Box<ruuvi_alerts::HistoryEntry>),
    /// A step of a sensor's log being downloaded over Bluetooth.
    Download(crate::history::DownloadProgress),
}

impl Event {
    /// The event's name for listeners (`card`, `step`, `alert`).
    pub fn name(&self) -> &'static str {
        match self {
            Event::Card(_) => "card",
            Event::Step(_) => "step",
            Event::Alert(_) => "alert",
            Event::Download(_) => "download",
        }
    }
}
