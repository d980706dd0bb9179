//! The live feed: btleplug's central on the chosen adapter, scanning with repeated
//! advertisements kept (btleplug 0.13 asks BlueZ for `DuplicateData` and CoreBluetooth for
//! `AllowDuplicates`, so a tag that keeps advertising keeps arriving), Ruuvi manufacturer data
//! (0x0499) turned into [`Advertisement`]s. Every call into the Bluetooth stack has a time
//! limit; failures become a typed [`BleStatus`] and the feed retries, so an adapter that
//! appears (or is switched on) later is picked up.

use std::collections::HashMap;
use std::time::Duration;

use btleplug::api::{
    Central, CentralEvent, CentralState, Manager as _, Peripheral as _, ScanFilter,
};
use btleplug::platform::{Adapter, Manager};
use futures::StreamExt;
use ruuvi_protocol::MacAddress;
use tokio::sync::{mpsc, watch};

use crate::{now_ms, Advertisement};

/// Ruuvi Innovations' Bluetooth SIG company identifier.
pub(crate) const RUUVI_COMPANY_ID: u16 = 0x0499;

/// Why there is no scanning, for the UI: what happened and what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Unavailable {
    /// No Bluetooth service to talk to (Linux: no system D-Bus or no BlueZ).
    NoStack,
    NoAdapter,
    AdapterOff,
    PermissionDenied,
    /// The stack answered with an error or not at all.
    Failed,
}

/// Where the live feed stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BleStatus {
    /// Scanning is switched off (the app's Settings).
    Off,
    /// Looking for an adapter.
    Starting,
    Scanning {
        adapter: String,
    },
    Unavailable {
        kind: Unavailable,
        reason: String,
        /// What the user can do about it.
        hint: String,
    },
}

impl std::fmt::Display for BleStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BleStatus::Off => write!(f, "Bluetooth off (switch it on in Settings)"),
            BleStatus::Starting => write!(f, "Bluetooth starting"),
            BleStatus::Scanning { adapter } => write!(f, "Bluetooth scanning with {adapter}"),
            BleStatus::Unavailable { reason, hint, .. } => {
                write!(f, "Bluetooth unavailable: {reason} ({hint})")
            }
        }
    }
}

fn unavailable(kind: Unavailable, reason: impl Into<String>) -> BleStatus {
    let hint = match kind {
        Unavailable::NoStack if cfg!(target_os = "linux") => {
            "install and start BlueZ (bluetoothd) and make sure the system D-Bus runs"
        }
        Unavailable::NoStack => "check that this computer has Bluetooth",
        Unavailable::NoAdapter => "plug in or enable a Bluetooth adapter",
        Unavailable::AdapterOff => "switch Bluetooth on",
        Unavailable::PermissionDenied if cfg!(target_os = "macos") => {
            "allow Bluetooth for Ruuvi Desk in System Settings → Privacy & Security → Bluetooth"
        }
        Unavailable::PermissionDenied if cfg!(target_os = "windows") => {
            "allow apps to use Bluetooth in Settings → Privacy & security"
        }
        Unavailable::PermissionDenied => "allow this user to use Bluetooth (the bluetooth group)",
        Unavailable::Failed => "try again; if it persists, restart the Bluetooth service",
    };
    BleStatus::Unavailable {
        kind,
        reason: reason.into(),
        hint: hint.to_string(),
    }
}

/// The stack's error as a status. btleplug wraps most platform errors as `Other`, so only
/// the typed ones are told apart; the text is kept as the reason.
fn classify(error: &btleplug::Error, stage: &str) -> BleStatus {
    use btleplug::Error as E;
    // On Linux every BlueZ error is `Other`; a refusal is told by its D-Bus error name: the
    // bus's (BlueZ's policy lets only the `bluetooth` group in) or BlueZ's own.
    let detail = format!("{error:?}");
    if [
        "org.freedesktop.DBus.Error.AccessDenied",
        "org.bluez.Error.NotAuthorized",
        "org.bluez.Error.NotPermitted",
    ]
    .iter()
    .any(|name| detail.contains(name))
    {
        tracing::debug!("{stage}: {error}");
        return unavailable(
            Unavailable::PermissionDenied,
            format!("{stage}: Bluetooth refused this user"),
        );
    }
    let kind = match error {
        E::PermissionDenied => Unavailable::PermissionDenied,
        E::NoAdapterAvailable => Unavailable::NoAdapter,
        E::NotSupported(_) => Unavailable::NoStack,
        // Connecting to the stack itself failed: there is no usable stack.
        E::Other(_) if stage == "connecting" || stage == "listing adapters" => Unavailable::NoStack,
        _ => Unavailable::Failed,
    };
    unavailable(kind, format!("{stage}: {error}"))
}

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Use the adapter whose name contains this (e.g. `hci1`); the first one otherwise.
    pub adapter: Option<String>,
    /// Limit for each call into the Bluetooth stack.
    pub call_timeout: Duration,
    /// How long to wait before looking for an adapter again.
    pub retry_every: Duration,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            adapter: None,
            call_timeout: Duration::from_millis(1500),
            retry_every: Duration::from_secs(5),
        }
    }
}

async fn limited<T>(
    options: &ScanOptions,
    stage: &str,
    call: impl std::future::Future<Output = btleplug::Result<T>>,
) -> Result<T, BleStatus> {
    match tokio::time::timeout(options.call_timeout, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(&e, stage)),
        Err(_) => Err(unavailable(
            Unavailable::Failed,
            format!(
                "{stage}: the Bluetooth stack did not answer within {:?}",
                options.call_timeout
            ),
        )),
    }
}

/// Connects to the stack. On Linux this is a blocking D-Bus connect inside an async fn
/// (bluez-async), which a stalled bus would hold for libdbus' 25 s: run it on the blocking
/// pool so the time limit holds and no async thread is stuck.
async fn connect(options: &ScanOptions) -> Result<Manager, BleStatus> {
    let handle = tokio::runtime::Handle::current();
    let connecting = tokio::task::spawn_blocking(move || handle.block_on(Manager::new()));
    match tokio::time::timeout(options.call_timeout, connecting).await {
        Ok(Ok(result)) => result.map_err(|e| classify(&e, "connecting")),
        Ok(Err(join)) => Err(unavailable(
            Unavailable::Failed,
            format!("connecting: {join}"),
        )),
        Err(_) => Err(unavailable(
            Unavailable::NoStack,
            format!(
                "connecting: the Bluetooth service did not answer within {:?}",
                options.call_timeout
            ),
        )),
    }
}

/// Finds the adapter to scan with (powered on), or says why there is none.
pub(crate) async fn find_adapter(options: &ScanOptions) -> Result<(Adapter, String), BleStatus> {
    let manager = connect(options).await?;
    let adapters = limited(options, "listing adapters", manager.adapters()).await?;
    let mut names = Vec::new();
    for adapter in adapters {
        let name = limited(options, "reading the adapter", adapter.adapter_info())
            .await
            .unwrap_or_else(|_| "adapter".to_string());
        if options
            .adapter
            .as_deref()
            .is_some_and(|wanted| !name.contains(wanted))
        {
            names.push(name);
            continue;
        }
        let state = limited(options, "reading the adapter", adapter.adapter_state()).await?;
        if state == CentralState::PoweredOff {
            return Err(unavailable(
                Unavailable::AdapterOff,
                format!("{name} is switched off"),
            ));
        }
        return Ok((adapter, name));
    }
    Err(match &options.adapter {
        Some(wanted) => unavailable(
            Unavailable::NoAdapter,
            format!("no adapter named {wanted:?} (found: {})", names.join(", ")),
        ),
        None => unavailable(Unavailable::NoAdapter, "no Bluetooth adapter found"),
    })
}

/// Whether this computer can scan now (one attempt, within the call limits).
pub async fn probe(options: &ScanOptions) -> BleStatus {
    match find_adapter(options).await {
        Ok((_, name)) => BleStatus::Scanning { adapter: name },
        Err(status) => status,
    }
}

/// [`probe`] within 2 s whatever the stack does: what the UI and `ruuvictl` show first.
pub async fn status_now(adapter: Option<String>) -> BleStatus {
    let options = ScanOptions {
        adapter,
        call_timeout: Duration::from_millis(800),
        ..ScanOptions::default()
    };
    match tokio::time::timeout(Duration::from_millis(1800), probe(&options)).await {
        Ok(status) => status,
        Err(_) => unavailable(
            Unavailable::Failed,
            "the Bluetooth stack did not answer within 2 s",
        ),
    }
}

/// The Ruuvi part of one manufacturer-data advertisement. A zero address (macOS hides the
/// real one) is no address.
pub fn ruuvi_advertisement(
    manufacturer_data: &HashMap<u16, Vec<u8>>,
    address: Option<[u8; 6]>,
    rssi: Option<i16>,
    at_ms: i64,
) -> Option<Advertisement> {
    let payload = manufacturer_data.get(&RUUVI_COMPANY_ID)?;
    Some(Advertisement {
        at_ms,
        address: address.filter(|a| *a != [0; 6]).map(MacAddress),
        rssi,
        payload: payload.clone(),
    })
}

/// Whether the adapter scanned with is still there; gone is [`Unavailable::NoAdapter`].
async fn still_there(
    options: &ScanOptions,
    adapter: &Adapter,
    name: &str,
) -> Result<(), BleStatus> {
    match tokio::time::timeout(options.call_timeout, adapter.adapter_info()).await {
        Ok(Ok(_)) => Ok(()),
        // BlueZ answers for an object it no longer has with D-Bus's UnknownObject.
        Ok(Err(e)) if format!("{e:?}").contains("UnknownObject") => Err(unavailable(
            Unavailable::NoAdapter,
            format!("{name} was removed"),
        )),
        Ok(Err(e)) => Err(classify(&e, "reading the adapter")),
        Err(_) => Err(unavailable(
            Unavailable::Failed,
            format!(
                "reading the adapter: no answer within {:?}",
                options.call_timeout
            ),
        )),
    }
}

/// Scans until `out` is closed: finds an adapter (retrying while there is none), forwards
/// Ruuvi advertisements, reports every change of state on `status`.
pub async fn scan(
    options: ScanOptions,
    out: mpsc::Sender<Advertisement>,
    status: watch::Sender<BleStatus>,
) {
    crate::quiet_dropped_stream_panics();
    while !out.is_closed() {
        match scan_once(&options, &out, &status).await {
            Ok(()) => return,
            Err(s) => {
                tracing::info!("{s}");
                status.send_replace(s);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(options.retry_every) => {}
            _ = out.closed() => return,
        }
    }
}

/// One scanning session; `Ok` when `out` closed, `Err` with the reason it ended otherwise.
async fn scan_once(
    options: &ScanOptions,
    out: &mpsc::Sender<Advertisement>,
    status: &watch::Sender<BleStatus>,
) -> Result<(), BleStatus> {
    let (adapter, name) = find_adapter(options).await?;
    let mut events = limited(options, "subscribing", adapter.events()).await?;
    limited(
        options,
        "starting the scan",
        adapter.start_scan(ScanFilter::default()),
    )
    .await?;
    status.send_replace(BleStatus::Scanning {
        adapter: name.clone(),
    });
    // An unplugged adapter sends no event (BlueZ only removes its object): look now and then.
    let mut check = tokio::time::interval(options.retry_every);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let event = tokio::select! {
            e = events.next() => e,
            _ = check.tick() => {
                still_there(options, &adapter, &name).await?;
                continue;
            }
            _ = out.closed() => {
                let _ = limited(options, "stopping the scan", adapter.stop_scan()).await;
                return Ok(());
            }
        };
        match event {
            None => {
                return Err(unavailable(
                    Unavailable::Failed,
                    format!("{name} stopped sending events"),
                ))
            }
            Some(CentralEvent::StateUpdate(CentralState::PoweredOff)) => {
                return Err(unavailable(
                    Unavailable::AdapterOff,
                    format!("{name} was switched off"),
                ))
            }
            Some(CentralEvent::ManufacturerDataAdvertisement {
                id,
                manufacturer_data,
            }) if manufacturer_data.contains_key(&RUUVI_COMPANY_ID) => {
                let at_ms = now_ms();
                // The address and RSSI come from the peripheral's properties.
                let props =
                    match limited(options, "reading a device", adapter.peripheral(&id)).await {
                        Ok(p) => limited(options, "reading a device", p.properties())
                            .await
                            .ok()
                            .flatten(),
                        Err(_) => None,
                    };
                let address = props.as_ref().map(|p| p.address.into_inner());
                let rssi = props.as_ref().and_then(|p| p.rssi);
                if let Some(adv) = ruuvi_advertisement(&manufacturer_data, address, rssi, at_ms) {
                    if out.send(adv).await.is_err() {
                        let _ = limited(options, "stopping the scan", adapter.stop_scan()).await;
                        return Ok(());
                    }
                }
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ruuvi_data_and_no_zero_address() {
        let mut md = HashMap::new();
        md.insert(0x004C, vec![1, 2, 3]);
        assert_eq!(ruuvi_advertisement(&md, Some([1; 6]), None, 0), None);
        md.insert(RUUVI_COMPANY_ID, vec![5, 1, 2]);
        let a = ruuvi_advertisement(&md, Some([0; 6]), Some(-70), 9).unwrap();
        assert_eq!(
            (a.address, a.rssi, a.at_ms, a.payload),
            (None, Some(-70), 9, vec![5, 1, 2])
        );
        let a = ruuvi_advertisement(&md, Some([1, 2, 3, 4, 5, 6]), None, 0).unwrap();
        assert_eq!(a.address, Some(MacAddress([1, 2, 3, 4, 5, 6])));
    }

    #[test]
    fn errors_become_statuses_with_what_to_do() {
        let s = classify(&btleplug::Error::PermissionDenied, "starting the scan");
        assert!(matches!(
            s,
            BleStatus::Unavailable {
                kind: Unavailable::PermissionDenied,
                ..
            }
        ));
        let dbus = btleplug::Error::Other("D-Bus error: Failed to connect to socket".into());
        let s = classify(&dbus, "connecting");
        let text = s.to_string();
        assert!(
            text.starts_with("Bluetooth unavailable: connecting: D-Bus error"),
            "{text}"
        );
        assert!(matches!(
            s,
            BleStatus::Unavailable {
                kind: Unavailable::NoStack,
                ..
            }
        ));
        assert_eq!(
            serde_json::to_value(&s).unwrap()["kind"],
            "no_stack",
            "the UI gets a stable kind"
        );
    }
}
