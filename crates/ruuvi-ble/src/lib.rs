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
