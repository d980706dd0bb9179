//! The BlueZ objects the stand-in serves: `org.bluez.Adapter1` and `org.bluez.Device1`, with
//! the properties bluez-async requires and the ones BlueZ documents for a Bluetooth LE device.

use std::collections::HashMap;
use std::sync::Arc;

use ruuvi_protocol::MacAddress;
use zbus::object_server::SignalEmitter;
use zbus::Connection;

use crate::gatt::{self, Shared};
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

pub(crate) const DEVICE1: &str = "org.bluez.Device1";

/// Errors as BlueZ names them (`org.bluez.Error.*`).
#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.bluez.Error")]
pub enum BluezError {
    #[zbus(error)]
    ZBus(zbus::Error),
    NotReady(String),
    Failed(String),
    NotPermitted(String),
    InvalidArguments(String),
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub struct Adapter1 {
    hci: String,
    address: [u8; 6],
    pub(crate) powered: bool,
    pub(crate) discovering: bool,
    /// The clients that started discovery (BlueZ keeps one session per D-Bus client and
    /// discovers while any is open).
    pub(crate) sessions: std::collections::BTreeSet<String>,
    /// What the last `SetDiscoveryFilter` asked for (`DuplicateData`, `Transport`…).
    filter: HashMap<String, OwnedValue>,
    pub(crate) devices: Vec<OwnedObjectPath>,
}

impl Adapter1 {
    pub(crate) fn new(hci: &str, address: [u8; 6], powered: bool) -> Self {
        Self {
            hci: hci.to_string(),
            address,
            powered,
            discovering: false,
            sessions: Default::default(),
            filter: HashMap::new(),
            devices: Vec::new(),
        }
    }

    /// Power changed from outside (rfkill, a switch): off ends discovery.
    pub(crate) async fn power(
        &mut self,
        on: bool,
        emitter: &SignalEmitter<'_>,
    ) -> zbus::Result<()> {
        self.powered = on;
        self.powered_changed(emitter).await?;
        if !on && self.discovering {
            self.sessions.clear();
            self.discovering = false;
            self.discovering_changed(emitter).await?;
        }
        Ok(())
    }
}

#[zbus::interface(name = "org.bluez.Adapter1")]
impl Adapter1 {
    /// Fails with `NotReady` while the adapter is off, as BlueZ does.
    async fn start_discovery(
        &mut self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<(), BluezError> {
        if !self.powered {
            return Err(BluezError::NotReady("Resource Not Ready".into()));
        }
        let client = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.sessions.insert(client);
        if !self.discovering {
            self.discovering = true;
            self.discovering_changed(&emitter).await?;
        }
        Ok(())
    }

    async fn stop_discovery(
        &mut self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<(), BluezError> {
        if !self.powered {
            return Err(BluezError::NotReady("Resource Not Ready".into()));
        }
        let client = header.sender().map(|s| s.to_string()).unwrap_or_default();
        if !self.sessions.remove(&client) {
            return Err(BluezError::Failed("No discovery started".into()));
        }
        if self.sessions.is_empty() {
            self.discovering = false;
            self.discovering_changed(&emitter).await?;
        }
        Ok(())
    }

    async fn set_discovery_filter(
        &mut self,
        filter: HashMap<String, OwnedValue>,
    ) -> Result<(), BluezError> {
        const KNOWN: [&str; 7] = [
            "UUIDs",
            "RSSI",
            "Pathloss",
            "Transport",
            "DuplicateData",
            "Discoverable",
            "Pattern",
        ];
        if let Some(unknown) = filter.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(BluezError::InvalidArguments(format!(
                "unknown filter {unknown}"
            )));
        }
        self.filter = filter;
        Ok(())
    }

    async fn get_discovery_filters(&self) -> Vec<String> {
        [
            "UUIDs",
            "RSSI",
            "Pathloss",
            "Transport",
            "DuplicateData",
            "Discoverable",
            "Pattern",
        ]
        .map(String::from)
        .to_vec()
    }

    #[zbus(property)]
    fn address(&self) -> String {
        mac_text(self.address)
    }

    #[zbus(property)]
    fn address_type(&self) -> String {
        "public".into()
    }

    #[zbus(property)]
    fn name(&self) -> String {
        format!("ruuvi-standin-{}", self.hci)
    }

    #[zbus(property)]
    fn alias(&self) -> String {
        format!("ruuvi-standin-{}", self.hci)
    }

    /// The Linux Foundation's id with BlueZ's version, as a built-in adapter reports it.
    #[zbus(property)]
    fn modalias(&self) -> String {
        "usb:v1D6Bp0246d0548".into()
    }

    #[zbus(property)]
    fn class(&self) -> u32 {
        0
    }

    #[zbus(property)]
    fn powered(&self) -> bool {
        self.powered
    }

    /// Set over D-Bus (bluez-async powers the adapter on before discovering).
    #[zbus(property)]
    async fn set_powered(&mut self, on: bool) {
        self.powered = on;
        if !on {
            self.sessions.clear();
            self.discovering = false;
        }
    }

    #[zbus(property)]
    fn discoverable(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn pairable(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn discovering(&self) -> bool {
        self.discovering
    }

    #[zbus(property, name = "UUIDs")]
    fn uuids(&self) -> Vec<String> {
        Vec::new()
    }

    #[zbus(property)]
    fn roles(&self) -> Vec<String> {
        vec!["central".into(), "peripheral".into()]
    }
}

pub struct Device1 {
    path: String,
    shared: Arc<Shared>,
    adapter: OwnedObjectPath,
    mac: MacAddress,
    pub(crate) rssi: i16,
    pub(crate) manufacturer_data: HashMap<u16, Vec<u8>>,
    pub(crate) connected: bool,
    pub(crate) services_resolved: bool,
}

impl Device1 {
    pub(crate) fn new(
        hci: &str,
        mac: MacAddress,
        rssi: i16,
        manufacturer_data: HashMap<u16, Vec<u8>>,
        shared: Arc<Shared>,
    ) -> Self {
        Self {
            path: crate::device_path(hci, mac).to_string(),
            shared,
            adapter: crate::adapter_path(hci),
            mac,
            rssi,
            manufacturer_data,
            connected: false,
            services_resolved: false,
        }
    }

    /// `a{qv}`, each value an `ay`.
    pub(crate) fn manufacturer_data_value(&self) -> HashMap<u16, Value<'static>> {
        self.manufacturer_data
            .iter()
            .map(|(k, v)| (*k, Value::from(v.clone())))
            .collect()
    }
}

#[zbus::interface(name = "org.bluez.Device1")]
impl Device1 {
    /// Connects to a sensor that keeps a log (others refuse, as a beacon that is not
    /// connectable): `Connected` at once, its services a moment later.
    async fn connect(
        &mut self,
        #[zbus(connection)] conn: &Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<(), BluezError> {
        let refuses = self
            .shared
            .logs
            .lock()
            .get(&self.path)
            .is_none_or(|log| log.behaviour.refuse_connection);
        if refuses {
            // BlueZ's words when the link cannot be made.
            return Err(BluezError::Failed("le-connection-abort-by-local".into()));
        }
        if self.connected {
            return Ok(());
        }
        self.connected = true;
        self.connected_changed(&emitter).await?;
        let (conn, path, shared) = (conn.clone(), self.path.clone(), self.shared.clone());
        self.shared.runtime.spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            if let Err(e) = gatt::expose(&conn, &path, shared).await {
                tracing::warn!("{path}: services: {e}");
            }
        });
        Ok(())
    }

    async fn disconnect(
        &mut self,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), BluezError> {
        if self.connected {
            let (conn, path) = (conn.clone(), self.path.clone());
            self.shared.runtime.spawn(async move {
                let _ = gatt::drop_connection(&conn, &path).await;
            });
        }
        Ok(())
    }

    #[zbus(property)]
    fn address(&self) -> String {
        mac_text(self.mac.0)
    }

    /// RuuviTags and Ruuvi Airs use a static random address.
    #[zbus(property)]
    fn address_type(&self) -> String {
        "random".into()
    }

    #[zbus(property)]
    fn alias(&self) -> String {
        mac_text(self.mac.0).replace(':', "-")
    }

    #[zbus(property)]
    fn paired(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn bonded(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn trusted(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn blocked(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn legacy_pairing(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn connected(&self) -> bool {
        self.connected
    }

    #[zbus(property)]
    fn services_resolved(&self) -> bool {
        self.services_resolved
    }

    #[zbus(property, name = "RSSI")]
    fn rssi(&self) -> i16 {
        self.rssi
    }

    #[zbus(property)]
    fn manufacturer_data(&self) -> HashMap<u16, Value<'static>> {
        self.manufacturer_data_value()
    }

    #[zbus(property, name = "UUIDs")]
    fn uuids(&self) -> Vec<String> {
        Vec::new()
    }

    #[zbus(property)]
    fn adapter(&self) -> OwnedObjectPath {
        self.adapter.clone()
    }
}
