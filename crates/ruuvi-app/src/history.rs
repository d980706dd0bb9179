//! A Bluetooth sensor's own log downloaded into the store (`ble_history`): the records become
//! observations (`feed: ble_history`, at the time the sensor measured them), those at a time
//! the store already covers — received live or from a gateway — are left out, the rest go
//! through the hub like any other feed and fill the chart's gap. Progress goes out as
//! `download` events; `ble_history_cancel` stops a download, keeping what arrived.

use std::collections::HashMap;
use std::time::Duration;

use ruuvi_ble::history::{LogKind, LogRecord};
use ruuvi_ble::{DownloadOptions, DownloadStep};
use ruuvi_protocol::{Feed, MacAddress, Observation, Readings};
use tokio::sync::watch;

use crate::desk::Desk;
use crate::error::DeskError;
use crate::events::Event;

/// A record closer than this to a stored observation of the sensor is a copy: half the
/// sensors' logging interval (5 minutes).
pub const COVERED_WITHIN_MS: i64 = 150_000;
/// How far back a sensor's log reaches at most (RuuviTag: about 10 days).
pub const LOG_REACH_MS: i64 = 10 * 86_400_000;

/// Downloads under way, by sensor: the switch that cancels each.
#[derive(Default)]
pub(crate) struct Downloads {
    running: parking_lot::Mutex<HashMap<MacAddress, watch::Sender<bool>>>,
}

/// A step of a download, as the `download` event carries it.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct DownloadProgress {
    pub sensor: String,
    #[serde(flatten)]
    pub step: DownloadStep,
}

/// What a download brought.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct HistoryReport {
    pub sensor: String,
    pub kind: LogKind,
    /// Records the sensor sent.
    pub received: usize,
    /// New in the store.
    pub stored: usize,
    /// At a time already covered (live or from a gateway), or stored before.
    pub already_had: usize,
    /// Why it ended early (what arrived before is stored).
    pub error: Option<String>,
}

/// The observation of one logged record.
pub fn observation(sensor: MacAddress, r: &LogRecord) -> Observation {
    Observation {
        sensor,
        feed: Feed::BleHistory,
        received_at_ms: i64::from(r.at_s) * 1000,
        seen_at_s: Some(u64::from(r.at_s)),
        rssi: None,
        format: r.format,
        readings: Readings {
            mac: Some(sensor),
            ..r.readings.clone()
        },
    }
}

/// Drops the observations at times the store already covers for the sensor (`stored_ms`:
/// its stored times, sorted).
pub fn uncovered(observations: Vec<Observation>, stored_ms: &[i64]) -> Vec<Observation> {
    observations
        .into_iter()
        .filter(|o| {
            let t = o.received_at_ms;
            let i = stored_ms.partition_point(|s| *s < t - COVERED_WITHIN_MS);
            stored_ms.get(i).is_none_or(|s| *s > t + COVERED_WITHIN_MS)
        })
        .collect()
}

impl Desk {
    /// Downloads `sensor`'s log from `since_ms` on (the log's whole reach when `None`).
    pub(crate) async fn download_history(
        &self,
        sensor: MacAddress,
        since_ms: Option<i64>,
    ) -> Result<HistoryReport, DeskError> {
        let now_ms = (self.clock)();
        let since_ms = since_ms
            .unwrap_or(now_ms - LOG_REACH_MS)
            .max(now_ms - LOG_REACH_MS);
        let (cancel, cancelled) = watch::channel(false);
        {
            let mut running = self.downloads.running.lock();
            if running.contains_key(&sensor) {
                return Err(DeskError::BadInput(format!(
                    "{sensor}'s log is being downloaded already"
                )));
            }
            running.insert(sensor, cancel);
        }
        let (progress, mut steps) = watch::channel(DownloadStep::Finding);
        let events = self.events.clone();
        let told = tokio::spawn(async move {
            loop {
                let step = steps.borrow_and_update().clone();
                let _ = events.send(Event::Download(DownloadProgress {
                    sensor: sensor.to_string(),
                    step,
                }));
                if steps.changed().await.is_err() {
                    return;
                }
            }
        });
        let options = DownloadOptions {
            scan: ruuvi_ble::ScanOptions {
                adapter: self.ble.adapter().clone(),
                ..Default::default()
            },
            ..DownloadOptions::default()
        };
        let since_s = u32::try_from(since_ms.max(0) / 1000).unwrap_or(0);
        let result = ruuvi_ble::download(&options, sensor, since_s, &progress, cancelled).await;
        self.downloads.running.lock().remove(&sensor);
        drop(progress);
        let _ = tokio::time::timeout(Duration::from_secs(1), told).await;
        let got = result.map_err(|e| DeskError::Bluetooth(e.to_string()))?;
        let received = got.records.len();
        let observations: Vec<Observation> =
            got.records.iter().map(|r| observation(sensor, r)).collect();
        let (from, to) = match (observations.first(), observations.last()) {
            (Some(a), Some(b)) => (a.received_at_ms, b.received_at_ms),
            _ => (0, 0),
        };
        let db = self.db.clone();
        let stored_ms = tokio::task::spawn_blocking(move || {
            let mut store = db.open().map_err(|e| DeskError::Store(e.to_string()))?;
            // Oldest first, as `times` promises.
            Ok::<_, DeskError>(store.times(
                sensor,
                from - COVERED_WITHIN_MS,
                to + COVERED_WITHIN_MS + 1,
            )?)
        })
        .await
        .map_err(|e| DeskError::Store(e.to_string()))??;
        let new = uncovered(observations, &stored_ms);
        let stored = if new.is_empty() {
            0
        } else {
            self.hub
                .submit(new)
                .await
                .map_err(|e| DeskError::Store(e.to_string()))?
                .stored
        };
        Ok(HistoryReport {
            sensor: sensor.to_string(),
            kind: got.kind,
            received,
            stored,
            already_had: received - stored,
            error: got.error.map(|e| e.to_string()),
        })
    }

    /// Stops `sensor`'s download (what arrived is stored); false when none runs.
    pub(crate) fn cancel_history(&self, sensor: MacAddress) -> bool {
        match self.downloads.running.lock().get(&sensor) {
            Some(cancel) => {
                cancel.send_replace(true);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_at_covered_times_are_left_out() {
        let sensor: MacAddress = "C8:25:2D:8E:9C:2C".parse().unwrap();
        let records: Vec<Observation> = (0..6)
            .map(|i| {
                observation(
                    sensor,
                    &LogRecord {
                        at_s: 1_000_000 + i * 300,
                        format: None,
                        readings: Readings::default(),
                    },
                )
            })
            .collect();
        // Live data until the second record's time, then a gap, then live again at the end.
        let stored: Vec<i64> = (0..200)
            .map(|i| 1_000_000_000 - 60_000 + i * 1_300)
            .chain([1_001_500_000])
            .collect();
        let kept: Vec<i64> = uncovered(records, &stored)
            .iter()
            .map(|o| o.received_at_ms / 1000)
            .collect();
        assert_eq!(kept, vec![1_000_600, 1_000_900, 1_001_200]);
    }
}
