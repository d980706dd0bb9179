//! A connectable sensor's GATT database: the Nordic UART Service with RX (we are written to)
//! and TX (we notify), as `org.bluez.GattService1` and `org.bluez.GattCharacteristic1`
//! objects under the device, present while it is connected. A log-read written to RX is
//! answered on TX by notifications (`PropertiesChanged` of `Value`, as BlueZ delivers them).

use std::collections::HashMap;
use std::sync::Arc;

use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedObjectPath, OwnedValue};
use zbus::Connection;

use crate::log::SensorLog;
use crate::objects::{BluezError, Device1};

pub const NUS_SERVICE: &str = "6e400001-b5a3-f393-e0a9-e50e24dcca9e";
pub const NUS_RX: &str = "6e400002-b5a3-f393-e0a9-e50e24dcca9e";
pub const NUS_TX: &str = "6e400003-b5a3-f393-e0a9-e50e24dcca9e";

/// What the objects of one bus share: the tokio runtime the tests run (for the sensor's
/// timed sending) and the logs sensors keep, by device path.
pub(crate) struct Shared {
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) logs: parking_lot::Mutex<HashMap<String, SensorLog>>,
}

fn path(p: String) -> OwnedObjectPath {
    OwnedObjectPath::try_from(p).expect("a valid path")
}

fn service_path(device: &str) -> String {
    format!("{device}/service000c")
}
fn rx_path(device: &str) -> String {
    format!("{device}/service000c/char000d")
}
fn tx_path(device: &str) -> String {
    format!("{device}/service000c/char000f")
}

pub struct GattService1 {
    device: OwnedObjectPath,
}

#[zbus::interface(name = "org.bluez.GattService1")]
impl GattService1 {
    #[zbus(property, name = "UUID")]
    fn uuid(&self) -> String {
        NUS_SERVICE.into()
    }
    #[zbus(property)]
    fn primary(&self) -> bool {
        true
    }
    #[zbus(property)]
    fn device(&self) -> OwnedObjectPath {
        self.device.clone()
    }
    #[zbus(property)]
    fn includes(&self) -> Vec<OwnedObjectPath> {
        Vec::new()
    }
}

/// RX: the central writes requests here.
pub struct RxCharacteristic {
    device: String,
    shared: Arc<Shared>,
}

#[zbus::interface(name = "org.bluez.GattCharacteristic1")]
impl RxCharacteristic {
    async fn write_value(
        &self,
        value: Vec<u8>,
        _options: HashMap<String, OwnedValue>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), BluezError> {
        let log = self.shared.logs.lock().get(&self.device).cloned();
        let now = ruuvi_protocol::clock::now_ms() / 1000;
        let Some(messages) = log
            .as_ref()
            .and_then(|l| l.answer(&value, u32::try_from(now).unwrap_or(u32::MAX)))
        else {
            // Not a request this sensor knows: ignored, as the firmware does.
            return Ok(());
        };
        let behaviour = log.expect("answered").behaviour;
        let (conn, device) = (conn.clone(), self.device.clone());
        self.shared.runtime.spawn(async move {
            for (i, mut m) in messages.into_iter().enumerate() {
                tokio::time::sleep(behaviour.delay).await;
                if behaviour.drop_after == Some(i) {
                    let _ = drop_connection(&conn, &device).await;
                    return;
                }
                if behaviour.malformed_at == Some(i) {
                    m.truncate(m.len() / 2);
                }
                if notify(&conn, &device, m).await.is_err() {
                    return; // disconnected meanwhile, or nobody listens
                }
            }
        });
        Ok(())
    }

    async fn read_value(
        &self,
        _options: HashMap<String, OwnedValue>,
    ) -> Result<Vec<u8>, BluezError> {
        Err(BluezError::NotPermitted("Read not permitted".into()))
    }

    #[zbus(property, name = "UUID")]
    fn uuid(&self) -> String {
        NUS_RX.into()
    }
    #[zbus(property)]
    fn service(&self) -> OwnedObjectPath {
        path(service_path(&self.device))
    }
    #[zbus(property)]
    fn value(&self) -> Vec<u8> {
        Vec::new()
    }
    #[zbus(property)]
    fn flags(&self) -> Vec<String> {
        vec!["write".into(), "write-without-response".into()]
    }
}

/// TX: the sensor notifies its answers here.
pub struct TxCharacteristic {
    device: String,
    value: Vec<u8>,
    notifying: bool,
}

#[zbus::interface(name = "org.bluez.GattCharacteristic1")]
impl TxCharacteristic {
    async fn start_notify(
        &mut self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<(), BluezError> {
        if !self.notifying {
            self.notifying = true;
            self.notifying_changed(&emitter).await?;
        }
        Ok(())
    }

    async fn stop_notify(
        &mut self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<(), BluezError> {
        if !self.notifying {
            return Err(BluezError::Failed("No notify session started".into()));
        }
        self.notifying = false;
        self.notifying_changed(&emitter).await?;
        Ok(())
    }

    async fn read_value(&self, _options: HashMap<String, OwnedValue>) -> Vec<u8> {
        self.value.clone()
    }

    #[zbus(property, name = "UUID")]
    fn uuid(&self) -> String {
        NUS_TX.into()
    }
    #[zbus(property)]
    fn service(&self) -> OwnedObjectPath {
        path(service_path(&self.device))
    }
    #[zbus(property)]
    fn value(&self) -> Vec<u8> {
        self.value.clone()
    }
    #[zbus(property)]
    fn notifying(&self) -> bool {
        self.notifying
    }
    #[zbus(property)]
    fn flags(&self) -> Vec<String> {
        vec!["read".into(), "notify".into()]
    }
}

/// One notification on TX (only while notifications are on, as BlueZ).
async fn notify(conn: &Connection, device: &str, value: Vec<u8>) -> zbus::Result<()> {
    let tx = conn
        .object_server()
        .interface::<_, TxCharacteristic>(tx_path(device))
        .await?;
    let mut t = tx.get_mut().await;
    if !t.notifying {
        return Err(zbus::Error::Failure("not notifying".into()));
    }
    t.value = value;
    t.value_changed(tx.signal_emitter()).await
}

/// The sensor's services appear once connected; then `ServicesResolved` (bluez-async waits
/// for it, as for real BlueZ).
pub(crate) async fn expose(
    conn: &Connection,
    device: &str,
    shared: Arc<Shared>,
) -> zbus::Result<()> {
    let server = conn.object_server();
    server
        .at(
            service_path(device),
            GattService1 {
                device: path(device.to_string()),
            },
        )
        .await?;
    server
        .at(
            rx_path(device),
            RxCharacteristic {
                device: device.to_string(),
                shared,
            },
        )
        .await?;
    server
        .at(
            tx_path(device),
            TxCharacteristic {
                device: device.to_string(),
                value: Vec::new(),
                notifying: false,
            },
        )
        .await?;
    let d = server.interface::<_, Device1>(device).await?;
    d.get_mut().await.services_resolved = true;
    let dev = d.get().await;
    dev.services_resolved_changed(d.signal_emitter()).await
}

/// The services go away (the device is disconnected).
pub(crate) async fn withdraw(conn: &Connection, device: &str) -> zbus::Result<()> {
    let server = conn.object_server();
    server
        .remove::<TxCharacteristic, _>(tx_path(device))
        .await?;
    server
        .remove::<RxCharacteristic, _>(rx_path(device))
        .await?;
    server
        .remove::<GattService1, _>(service_path(device))
        .await?;
    Ok(())
}

/// The link is lost (out of range, the sensor reset): `Connected` and `ServicesResolved` go
/// false and the services disappear.
pub(crate) async fn drop_connection(conn: &Connection, device: &str) -> zbus::Result<()> {
    let d = conn.object_server().interface::<_, Device1>(device).await?;
    {
        let mut dev = d.get_mut().await;
        if !dev.connected {
            return Ok(());
        }
        dev.connected = false;
        dev.services_resolved = false;
    }
    let dev = d.get().await;
    dev.services_resolved_changed(d.signal_emitter()).await?;
    dev.connected_changed(d.signal_emitter()).await?;
    drop(dev);
    withdraw(conn, device).await
}
