//! Downloading a sensor's log over Bluetooth: find it, connect, switch on notifications from
//! the Nordic UART Service's TX, write the log-read request to RX, read the answers until the
//! end marker, disconnect. Every step has a time limit; a sensor that goes quiet, drops the
//! link or sends a malformed message ends the download with a clear error and everything
//! received until then. The caller turns the records into observations.

use std::time::Duration;

use btleplug::api::{Central, CentralEvent, Peripheral as _, ScanFilter, WriteType};
use btleplug::platform::{Adapter, Peripheral};
use futures::StreamExt;
use ruuvi_protocol::MacAddress;
use tokio::sync::watch;

use crate::history::{self, HistoryError, LogKind, LogReader, LogRecord};
use crate::scan::{find_adapter, ScanOptions, RUUVI_COMPANY_ID};
use crate::BleStatus;

type Events = std::pin::Pin<Box<dyn futures::Stream<Item = CentralEvent> + Send>>;

#[derive(Debug, Clone)]
pub struct DownloadOptions {
    pub scan: ScanOptions,
    /// How long to look for the sensor before giving up.
    pub find_within: Duration,
    /// Connecting and finding its services.
    pub connect_within: Duration,
    /// The longest pause between two answers (a slow tag is slow, a gone one is silent).
    pub quiet_limit: Duration,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            scan: ScanOptions::default(),
            find_within: Duration::from_secs(15),
            connect_within: Duration::from_secs(20),
            quiet_limit: Duration::from_secs(15),
        }
    }
}

/// Where a download stands (for a progress bar).
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum DownloadStep {
    Finding,
    Connecting,
    Reading { records: u32 },
    Done { records: u32 },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DownloadError {
    #[error("{0}")]
    Bluetooth(String),
    #[error("the sensor was not heard within {0:?} (out of range, or its battery is flat)")]
    NotFound(Duration),
    #[error("could not connect to the sensor: {0}")]
    Connect(String),
    #[error("the sensor has no log service (RuuviTag firmware 3.x or a Ruuvi Air keeps one)")]
    NoLogService,
    #[error("the connection dropped")]
    Dropped,
    #[error("the sensor sent nothing for {0:?}")]
    Quiet(Duration),
    #[error(transparent)]
    Log(#[from] HistoryError),
    #[error("cancelled")]
    Cancelled,
}

/// What a download got: the records, and why it ended early if it did.
#[derive(Debug)]
pub struct Downloaded {
    pub kind: LogKind,
    pub records: Vec<LogRecord>,
    pub error: Option<DownloadError>,
}

fn bt(stage: &str, e: impl std::fmt::Display) -> DownloadError {
    DownloadError::Bluetooth(format!("{stage}: {e}"))
}

/// The sensor's kind from its advertisement (format 6 or E1: a Ruuvi Air).
async fn kind_of(p: &Peripheral) -> LogKind {
    let props = p.properties().await.ok().flatten();
    match props.and_then(|p| {
        p.manufacturer_data
            .get(&RUUVI_COMPANY_ID)
            .and_then(|d| d.first().copied())
    }) {
        Some(0x06 | 0xE1) => LogKind::RuuviAir,
        _ => LogKind::RuuviTag,
    }
}

/// Finds the sensor among the adapter's devices, scanning for it if it is not known yet.
async fn find(
    adapter: &Adapter,
    events: &mut Events,
    mac: MacAddress,
    within: Duration,
) -> Result<Peripheral, DownloadError> {
    let wanted = btleplug::api::BDAddr::from(mac.0);
    let known =
        |peripherals: Vec<Peripheral>| peripherals.into_iter().find(|p| p.address() == wanted);
    if let Some(p) = known(
        adapter
            .peripherals()
            .await
            .map_err(|e| bt("listing devices", e))?,
    ) {
        return Ok(p);
    }
    adapter
        .start_scan(ScanFilter::default())
        .await
        .map_err(|e| bt("starting the scan", e))?;
    let found = tokio::time::timeout(within, async {
        while let Some(event) = events.next().await {
            if let CentralEvent::DeviceDiscovered(id)
            | CentralEvent::ManufacturerDataAdvertisement { id, .. } = event
            {
                if let Ok(p) = adapter.peripheral(&id).await {
                    if p.address() == wanted {
                        return Some(p);
                    }
                }
            }
        }
        None
    })
    .await;
    // Our discovery session ends (another client's, the live scan's, goes on).
    let _ = adapter.stop_scan().await;
    found.ok().flatten().ok_or(DownloadError::NotFound(within))
}

/// Downloads `mac`'s log from `since_s` (Unix s) on. `progress` is told each step; setting
/// `cancel` to true stops it (what was received is kept). The link is always closed.
pub async fn download(
    options: &DownloadOptions,
    mac: MacAddress,
    since_s: u32,
    progress: &watch::Sender<DownloadStep>,
    mut cancel: watch::Receiver<bool>,
) -> Result<Downloaded, DownloadError> {
    crate::quiet_dropped_stream_panics();
    progress.send_replace(DownloadStep::Finding);
    let (adapter, _) = find_adapter(&options.scan)
        .await
        .map_err(|s: BleStatus| DownloadError::Bluetooth(s.to_string()))?;
    // One stream of the adapter's events for the whole download: finding the sensor, then
    // telling a dropped link at once rather than after the quiet limit.
    let mut events = adapter.events().await.map_err(|e| bt("subscribing", e))?;
    let peripheral = tokio::select! {
        p = find(&adapter, &mut events, mac, options.find_within) => p?,
        _ = cancel.wait_for(|c| *c) => return Err(DownloadError::Cancelled),
    };
    let kind = kind_of(&peripheral).await;
    progress.send_replace(DownloadStep::Connecting);
    let mut reader = LogReader::new(kind);
    let result = tokio::select! {
        r = read(options, &mut events, &peripheral, kind, since_s, &mut reader, progress) => r,
        _ = cancel.wait_for(|c| *c) => Err(DownloadError::Cancelled),
    };
    let _ = tokio::time::timeout(options.scan.call_timeout, peripheral.disconnect()).await;
    let records = reader.into_records();
    progress.send_replace(DownloadStep::Done {
        records: records.len() as u32,
    });
    Ok(Downloaded {
        kind,
        records,
        error: result.err(),
    })
}

async fn read(
    options: &DownloadOptions,
    events: &mut Events,
    p: &Peripheral,
    kind: LogKind,
    since_s: u32,
    reader: &mut LogReader,
    progress: &watch::Sender<DownloadStep>,
) -> Result<(), DownloadError> {
    let connecting = async {
        p.connect()
            .await
            .map_err(|e| DownloadError::Connect(e.to_string()))?;
        p.discover_services()
            .await
            .map_err(|e| DownloadError::Connect(e.to_string()))
    };
    tokio::time::timeout(options.connect_within, connecting)
        .await
        .map_err(|_| {
            DownloadError::Connect(format!("no answer within {:?}", options.connect_within))
        })??;
    let chars = p.characteristics();
    let find = |uuid: &str| chars.iter().find(|c| c.uuid.to_string() == uuid).cloned();
    let (Some(rx), Some(tx)) = (find(history::NUS_RX), find(history::NUS_TX)) else {
        return Err(DownloadError::NoLogService);
    };
    let mut answers = p.notifications().await.map_err(|e| bt("subscribing", e))?;
    p.subscribe(&tx)
        .await
        .map_err(|e| bt("switching on notifications", e))?;
    let now_s = u32::try_from(ruuvi_protocol::clock::now_ms() / 1000).unwrap_or(u32::MAX);
    p.write(
        &rx,
        &history::request(kind, now_s, since_s),
        WriteType::WithResponse,
    )
    .await
    .map_err(|e| bt("asking for the log", e))?;
    progress.send_replace(DownloadStep::Reading { records: 0 });
    let id = p.id();
    let mut quiet_until = tokio::time::Instant::now() + options.quiet_limit;
    while !reader.done() {
        let next = tokio::select! {
            n = answers.next() => n,
            e = events.next() => match e {
                Some(CentralEvent::DeviceDisconnected(gone)) if gone == id => return Err(DownloadError::Dropped),
                _ => continue,
            },
            _ = tokio::time::sleep_until(quiet_until) => return Err(DownloadError::Quiet(options.quiet_limit)),
        };
        let Some(n) = next else {
            return Err(DownloadError::Dropped);
        };
        if n.uuid == tx.uuid {
            quiet_until = tokio::time::Instant::now() + options.quiet_limit;
            reader.push(&n.value)?;
            progress.send_replace(DownloadStep::Reading {
                records: reader.len() as u32,
            });
        }
    }
    Ok(())
}
