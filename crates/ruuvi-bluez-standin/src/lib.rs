//! **Tests only.** A stand-in for BlueZ, the Linux Bluetooth service, on a private D-Bus: it
//! stands in for a radio that cannot exist on the machines that build and test Ruuvi Desk (no
//! Bluetooth hardware, no kernel Bluetooth). With it, btleplug's real Linux backend
//! (btleplug → bluez-async → libdbus) runs unchanged: the code under test is only told
//! `DBUS_SYSTEM_BUS_ADDRESS`.
//!
//! It follows BlueZ's documented D-Bus API (`doc/org.bluez.Adapter.rst`, `org.bluez.Device.rst`,
//! `org.bluez.GattService.rst`, `org.bluez.GattCharacteristic.rst`): the object tree under `/`
//! with `org.freedesktop.DBus.ObjectManager`, adapters at `/org/bluez/hciN`, devices at
//! `…/dev_AA_BB_CC_DD_EE_FF`, advertisements reported only while an adapter discovers, as
//! `PropertiesChanged` of `ManufacturerData` and `RSSI` in one signal (as BlueZ sends them with
//! `DuplicateData`), errors with BlueZ's names. What only a real radio shows — timing, range,
//! interference, a real adapter's quirks, CoreBluetooth and WinRT — it cannot.

mod bus;
mod gatt;
mod log;
mod objects;

use std::collections::HashMap;

use ruuvi_protocol::MacAddress;
use zbus::zvariant::{OwnedObjectPath, Value};

pub use bus::{Policy, PrivateBus};
pub use log::{Behaviour, LogFormat, Logged, SensorLog};
use objects::{Adapter1, Device1};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StandInError {
    #[error("the private bus: {0}")]
    Bus(String),
    #[error("D-Bus: {0}")]
    DBus(#[from] zbus::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no adapter {0}")]
    NoAdapter(String),
}

/// The BlueZ stand-in: owns `org.bluez` on a [`PrivateBus`].
pub struct BlueZ {
    conn: zbus::Connection,
    shared: Arc<gatt::Shared>,
}

pub fn adapter_path(hci: &str) -> OwnedObjectPath {
    OwnedObjectPath::try_from(format!("/org/bluez/{hci}")).expect("a valid path")
}

pub fn device_path(hci: &str, mac: MacAddress) -> OwnedObjectPath {
    let m = mac.0;
    OwnedObjectPath::try_from(format!(
        "/org/bluez/{hci}/dev_{:02X}_{:02X}_{:02X}_{:02X}_{:02X}_{:02X}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    ))
    .expect("a valid path")
}

/// The manufacturer-specific data (AD type 0xFF) of raw advertisement AD structures, as BlueZ
/// reports it: the company identifier, then the rest.
pub fn manufacturer_data(ad: &[u8]) -> HashMap<u16, Vec<u8>> {
    let mut out = HashMap::new();
    let mut rest = ad;
    while let [len, tail @ ..] = rest {
        let len = usize::from(*len);
        if len == 0 || tail.len() < len {
            break;
        }
        let (structure, next) = tail.split_at(len);
        if let [0xFF, lo, hi, data @ ..] = structure {
            out.insert(u16::from_le_bytes([*lo, *hi]), data.to_vec());
        }
        rest = next;
    }
    out
}

impl BlueZ {
    /// Connects to `bus` and takes the name `org.bluez`, with an empty object tree (no
    /// adapter: add one with [`BlueZ::add_adapter`]).
    pub async fn start(bus: &PrivateBus) -> Result<Self, StandInError> {
        let conn = zbus::connection::Builder::address(bus.address())?
            .serve_at("/", zbus::fdo::ObjectManager)?
            .name("org.bluez")?
            .build()
            .await?;
        let shared = Arc::new(gatt::Shared {
            runtime: tokio::runtime::Handle::current(),
            logs: parking_lot::Mutex::new(HashMap::new()),
        });
        Ok(Self { conn, shared })
    }

    /// An adapter appears (`InterfacesAdded`), as when a USB dongle is plugged in.
    pub async fn add_adapter(&self, hci: &str, powered: bool) -> Result<(), StandInError> {
        let index = hci.trim_start_matches("hci").parse::<u8>().unwrap_or(0);
        let adapter = Adapter1::new(hci, [0x00, 0x1A, 0x7D, 0xDA, 0x71, 0x10 + index], powered);
        self.conn
            .object_server()
            .at(adapter_path(hci), adapter)
            .await?;
        Ok(())
    }

    /// The adapter and every device it knew go away (`InterfacesRemoved`), as when the dongle
    /// is pulled out.
    pub async fn remove_adapter(&self, hci: &str) -> Result<(), StandInError> {
        let devices = self.adapter(hci).await?.get().await.devices.clone();
        for path in devices {
            self.conn
                .object_server()
                .remove::<Device1, _>(&path)
                .await?;
        }
        self.conn
            .object_server()
            .remove::<Adapter1, _>(adapter_path(hci))
            .await?;
        Ok(())
    }

    async fn adapter(
        &self,
        hci: &str,
    ) -> Result<zbus::object_server::InterfaceRef<Adapter1>, StandInError> {
        self.conn
            .object_server()
            .interface::<_, Adapter1>(adapter_path(hci))
            .await
            .map_err(|_| StandInError::NoAdapter(hci.to_string()))
    }

    /// Switches the adapter on or off (as `rfkill` or the desktop's switch would); off ends any
    /// discovery.
    pub async fn set_powered(&self, hci: &str, powered: bool) -> Result<(), StandInError> {
        let adapter = self.adapter(hci).await?;
        adapter
            .get_mut()
            .await
            .power(powered, adapter.signal_emitter())
            .await?;
        Ok(())
    }

    /// Starts discovery as a scanning central would (for tests whose code under test only
    /// connects).
    pub async fn set_discovering_for_tests(&self, hci: &str) -> Result<(), StandInError> {
        let adapter = self.adapter(hci).await?;
        let mut a = adapter.get_mut().await;
        a.sessions.insert("a test".into());
        a.discovering = true;
        a.discovering_changed(adapter.signal_emitter()).await?;
        Ok(())
    }

    /// Whether someone has started discovery on the adapter.
    pub async fn discovering(&self, hci: &str) -> Result<bool, StandInError> {
        Ok(self.adapter(hci).await?.get().await.discovering)
    }

    /// One advertisement from `mac` heard by the adapter (raw AD structures, as a radio hears
    /// them). While the adapter discovers, a new device appears (`InterfacesAdded`) and a known
    /// one reports `ManufacturerData` and `RSSI`; otherwise nothing is reported (false).
    pub async fn advertise(
        &self,
        hci: &str,
        mac: MacAddress,
        rssi: i16,
        ad: &[u8],
    ) -> Result<bool, StandInError> {
        let adapter = self.adapter(hci).await?;
        if !adapter.get().await.discovering {
            return Ok(false);
        }
        let data = manufacturer_data(ad);
        let path = device_path(hci, mac);
        let server = self.conn.object_server();
        match server.interface::<_, Device1>(&path).await {
            Ok(device) => {
                let mut d = device.get_mut().await;
                d.rssi = rssi;
                d.manufacturer_data = data;
                let mut changed: HashMap<&str, Value<'_>> = HashMap::new();
                changed.insert("RSSI", Value::from(rssi));
                changed.insert("ManufacturerData", Value::from(d.manufacturer_data_value()));
                zbus::fdo::Properties::properties_changed(
                    device.signal_emitter(),
                    objects::DEVICE1.try_into().expect("an interface name"),
                    changed,
                    std::borrow::Cow::Borrowed(&[]),
                )
                .await?;
            }
            Err(_) => {
                server
                    .at(
                        &path,
                        Device1::new(hci, mac, rssi, data, self.shared.clone()),
                    )
                    .await?;
                adapter.get_mut().await.devices.push(path);
            }
        }
        Ok(true)
    }

    /// The sensor `mac` (heard on `hci`) keeps `log`, and can be connected to and read.
    pub fn keep_log(&self, hci: &str, mac: MacAddress, log: SensorLog) {
        self.shared
            .logs
            .lock()
            .insert(device_path(hci, mac).to_string(), log);
    }

    /// Whether a central is connected to the sensor now.
    pub async fn connected(&self, hci: &str, mac: MacAddress) -> bool {
        match self
            .conn
            .object_server()
            .interface::<_, Device1>(device_path(hci, mac))
            .await
        {
            Ok(d) => d.get().await.connected,
            Err(_) => false,
        }
    }

    /// A simulated tag's latest advertisements at `now_ms` (a Ruuvi Air's E1 and format 6, as
    /// it sends both); the measurement's sequence number when the adapter heard them.
    pub async fn advertise_tag(
        &self,
        hci: &str,
        tag: &mut ruuvi_gw_sim::tags::SimTag,
        now_ms: u64,
    ) -> Result<Option<u64>, StandInError> {
        let mut heard = None;
        let air = tag.kind == ruuvi_gw_sim::tags::TagKind::RuuviAir;
        for extended in [true, false] {
            if !extended && !air {
                continue;
            }
            let a = tag.latest(now_ms, extended);
            if self.advertise(hci, a.mac, a.rssi, &a.data).await? && extended {
                heard = Some(a.sequence);
            }
        }
        Ok(heard)
    }

    /// The device is forgotten (`InterfacesRemoved`), as BlueZ drops a temporary device it has
    /// not heard for a while.
    pub async fn forget(&self, hci: &str, mac: MacAddress) -> Result<(), StandInError> {
        let path = device_path(hci, mac);
        self.conn
            .object_server()
            .remove::<Device1, _>(&path)
            .await?;
        self.adapter(hci)
            .await?
            .get_mut()
            .await
            .devices
            .retain(|p| *p != path);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manufacturer_data_is_read_from_ad_structures() {
        // Flags, then Ruuvi's company id (0x0499, little-endian) and a format-5 start.
        let ad = [0x02, 0x01, 0x06, 0x05, 0xFF, 0x99, 0x04, 0x05, 0x12];
        let md = manufacturer_data(&ad);
        assert_eq!(md.get(&0x0499), Some(&vec![0x05, 0x12]));
        // A truncated structure ends the reading without a panic.
        assert!(manufacturer_data(&[0x09, 0xFF, 0x99]).is_empty());
    }

    #[test]
    fn paths_are_bluez_paths() {
        let mac = MacAddress([0xC8, 0x25, 0x2D, 0x8E, 0x9C, 0x2C]);
        assert_eq!(
            device_path("hci0", mac).as_str(),
            "/org/bluez/hci0/dev_C8_25_2D_8E_9C_2C"
        );
    }
}
