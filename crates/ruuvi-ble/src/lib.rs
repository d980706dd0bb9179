//! Ruuvi Desk's Bluetooth feed (issue 7): live scanning with btleplug on Linux (BlueZ), macOS
//! (CoreBluetooth) and Windows (WinRT), and a replay feed of recorded advertisement streams.
//! Both produce [`Advertisement`]s; [`Identify`] turns them into `Observation`s. The feed
//! knows nothing of the hub: the faces hand its observations over.

mod download;
pub mod history;
mod identify;
pub mod replay;
mod scan;

pub use download::{download, DownloadError, DownloadOptions, DownloadStep, Downloaded};
pub use identify::{Advertisement, Identify, IdentifyError};
pub use scan::{probe, ruuvi_advertisement, scan, status_now, BleStatus, ScanOptions, Unavailable};

use ruuvi_protocol::clock::now_ms;

/// bluez-async 0.9 removes a dropped event stream's D-Bus match in a task of its own, which
/// panics when a signal arrived in between (libdbus has then removed the match already): a
/// race under a steady stream of advertisements, harmless to the download or scan that ended,
/// but it prints a panic. Installed by the feeds once per process: exactly that panic is logged
/// at debug level; every other panic is reported as before.
pub(crate) fn quiet_dropped_stream_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let dropped_stream = info.location().is_some_and(|l| {
                l.file().contains("bluez-async") && l.file().ends_with("messagestream.rs")
            });
            if dropped_stream {
                tracing::debug!("bluez-async, a dropped event stream: {info}");
            } else {
                previous(info);
            }
        }));
    });
}
