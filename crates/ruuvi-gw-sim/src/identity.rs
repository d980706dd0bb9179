//! Who a simulated gateway is: addresses, device id, host name.

use ruuvi_protocol::MacAddress;

use crate::firmware::Firmware;
use crate::rng::Rng;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// nRF52 BLE MAC: the gateway's id everywhere (`gw_mac`).
    pub ble_mac: MacAddress,
    pub eth_mac: MacAddress,
    pub wifi_mac: MacAddress,
    /// 8 bytes from the nRF52, printed on the label; also the default password.
    pub device_id: [u8; 8],
    pub firmware: Firmware,
}

impl Identity {
    /// A reproducible identity for gateway number `index` of a fleet made from `seed`.
    pub fn generate(rng: &Rng, index: u64, firmware: Firmware) -> Self {
        let mut r = rng.fork(0x6A7E_0000 + index);
        let mut ble: [u8; 6] = r.bytes();
        ble[0] |= 0xC0; // static random address: two top bits set
        let esp: [u8; 3] = r.bytes();
        let eth = [0x30, 0xAE, 0xA4, esp[0], esp[1], esp[2]];
        let mut wifi = eth;
        wifi[5] = wifi[5].wrapping_sub(3);
        Self {
            ble_mac: MacAddress(ble),
            eth_mac: MacAddress(eth),
            wifi_mac: MacAddress(wifi),
            device_id: r.bytes(),
            firmware,
        }
    }

    /// `XX:XX:XX:XX:XX:XX:XX:XX`, upper case.
    pub fn device_id_string(&self) -> String {
        ruuvi_protocol::mac::colon_hex(&self.device_id)
    }

    /// The last two BLE MAC bytes in upper-case hex, e.g. `9C2C`.
    pub fn suffix(&self) -> String {
        let b = self.ble_mac.bytes();
        format!("{:02X}{:02X}", b[4], b[5])
    }

    /// `RuuviGatewayXXXX`: host name, mDNS instance and (v1.14+) auth realm.
    pub fn hostname(&self) -> String {
        format!("RuuviGateway{}", self.suffix())
    }

    /// The realm of the login hash: the host name, or on ≤ v1.13 the hotspot SSID.
    pub fn realm(&self) -> String {
        if self.firmware.legacy_auth() {
            format!("Configure Ruuvi Gateway {}", self.suffix())
        } else {
            self.hostname()
        }
    }

    /// Factory LAN user and password.
    pub fn default_user(&self) -> &'static str {
        "Admin"
    }

    pub fn default_password(&self) -> String {
        self.device_id_string()
    }

    /// The stored form of the default password: `MD5("Admin:" realm ":" device id)`.
    pub fn default_password_hash(&self) -> String {
        ruuvi_protocol::login::stored_password_hash(
            self.default_user(),
            &self.realm(),
            &self.default_password(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_mac() {
        let mut id = Identity::generate(&Rng::new(1), 0, Firmware::Head);
        id.ble_mac = "C8:25:2D:8E:9C:2C".parse().unwrap();
        assert_eq!(id.hostname(), "RuuviGateway9C2C");
        assert_eq!(id.realm(), "RuuviGateway9C2C");
        id.firmware = Firmware::V1_13;
        assert_eq!(id.realm(), "Configure Ruuvi Gateway 9C2C");
        id.device_id = [0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
        assert_eq!(id.default_password(), "00:11:22:33:44:55:66:77");
    }

    #[test]
    fn fleet_members_differ_and_repeat_with_the_seed() {
        let a = Identity::generate(&Rng::new(9), 0, Firmware::Head);
        let b = Identity::generate(&Rng::new(9), 1, Firmware::Head);
        assert_ne!(a.ble_mac, b.ble_mac);
        assert_eq!(a, Identity::generate(&Rng::new(9), 0, Firmware::Head));
        assert_eq!(a.ble_mac.bytes()[0] & 0xC0, 0xC0);
    }
}
