//! A user outside BlueZ's D-Bus policy (on Linux, not in the `bluetooth` group): the bus itself
//! refuses every call to `org.bluez` with `org.freedesktop.DBus.Error.AccessDenied`. Played by a
//! private bus with that policy and the BlueZ stand-in (no radio here); btleplug's real
//! backend makes the calls. Its own binary: libdbus reads the bus address once per process.

use ruuvi_ble::{BleStatus, Unavailable};
use ruuvi_bluez_standin::{BlueZ, Policy, PrivateBus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_bluez_refuses_is_told_to_join_the_bluetooth_group() {
    let bus = PrivateBus::start(Policy::BluezDenied).await.unwrap();
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", bus.address());
    let bluez = BlueZ::start(&bus).await.unwrap();
    bluez.add_adapter("hci0", true).await.unwrap();
    let s = ruuvi_ble::status_now(None).await;
    assert!(
        matches!(
            s,
            BleStatus::Unavailable {
                kind: Unavailable::PermissionDenied,
                ..
            }
        ),
        "{s:?}"
    );
    assert!(s.to_string().contains("bluetooth group"), "{s}");
}
