//! Firmware versions the spec distinguishes (gateway-local-api §11) and what each one does.

use std::fmt;
use std::str::FromStr;

/// A firmware release with API-visible differences. Ordered oldest → newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Firmware {
    V1_13,
    V1_14,
    V1_15,
    V1_16,
    V1_17_2,
    V1_17_3,
    /// Firmware HEAD of Aug 2026 (after v1.17.3).
    Head,
}

impl Firmware {
    pub const ALL: [Firmware; 7] = [
        Self::V1_13,
        Self::V1_14,
        Self::V1_15,
        Self::V1_16,
        Self::V1_17_2,
        Self::V1_17_3,
        Self::Head,
    ];

    /// The `fw_ver` string the gateway reports.
    pub fn version_string(self) -> &'static str {
        match self {
            Self::V1_13 => "v1.13.1",
            Self::V1_14 => "v1.14.3",
            Self::V1_15 => "v1.15.0",
            Self::V1_16 => "v1.16.2",
            Self::V1_17_2 => "v1.17.2",
            Self::V1_17_3 => "v1.17.3",
            Self::Head => "v1.17.3-24-g5d0ab90",
        }
    }

    pub fn nrf52_version(self) -> &'static str {
        if self >= Self::V1_16 {
            "v2.0.0"
        } else {
            "v1.0.0"
        }
    }

    /// ≤ v1.13: realm and `gateway_name` are the hotspot SSID; auth JSON has `success`.
    pub fn legacy_auth(self) -> bool {
        self <= Self::V1_13
    }

    /// ≤ v1.13 writes `timestamp`, `nonce`, `counter` as strings (cJSON generator).
    pub fn numbers_as_strings(self) -> bool {
        self <= Self::V1_13
    }

    /// After v1.17.3 the version fields are not shown to unauthenticated users (#1380). Whether
    /// they are omitted or blanked is UNVERIFIED; we omit them.
    pub fn hides_versions_from_strangers(self) -> bool {
        self >= Self::Head
    }

    /// ≥ v1.17.2: header ≤ 4096 bytes and Content-Length ≤ 11434; older: whole request ≤ 4096.
    pub fn split_size_limits(self) -> bool {
        self >= Self::V1_17_2
    }

    /// The 1 s delay on every POST (#917, Nov 2023; first release with it taken as v1.15).
    pub fn delays_posts(self) -> bool {
        self >= Self::V1_15
    }

    /// Newest wifi-manager: 1 s delay on every 401/403 (after v1.17.3).
    pub fn delays_auth_failures(self) -> bool {
        self >= Self::Head
    }

    /// `lan_auth_allow` lets unauthenticated requests through (#1070, taken as v1.16).
    pub fn allow_needs_no_session(self) -> bool {
        self >= Self::V1_16
    }

    pub fn has_ecdh(self) -> bool {
        self >= Self::V1_15
    }

    pub fn has_cert_store(self) -> bool {
        self >= Self::V1_14
    }

    pub fn has_extra_cfg(self) -> bool {
        self >= Self::V1_17_2
    }

    pub fn has_http_ruuvi_flag(self) -> bool {
        self >= Self::V1_14
    }

    pub fn has_http_period(self) -> bool {
        self >= Self::V1_15
    }

    pub fn has_api_key_auth(self) -> bool {
        self >= Self::V1_16
    }

    /// `scan_2mbit_phy` / `scan_default` (v1.16) instead of `scan_extended_payload`.
    pub fn has_scan_default(self) -> bool {
        self >= Self::V1_16
    }

    /// `ble_phy`, `ble_chan`, `ble_tx_power` in data and history.
    pub fn has_ble_fields(self) -> bool {
        self >= Self::V1_16
    }

    /// Which decoded formats `/history` and `ruuvi_*decoded` carry.
    pub fn decodes_air_formats(self) -> bool {
        self >= Self::V1_16
    }

    pub fn decodes_df5(self) -> bool {
        self >= Self::V1_14
    }

    /// `is_time_valid` in `/status.json` (wifi-manager Apr 2026).
    pub fn has_time_valid_flag(self) -> bool {
        self >= Self::V1_17_2
    }
}

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.version_string())
    }
}

impl FromStr for Firmware {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().trim_start_matches('v').to_ascii_lowercase();
        Ok(match t.as_str() {
            "1.13" | "1.13.0" | "1.13.1" => Self::V1_13,
            "1.14" | "1.14.0" | "1.14.1" | "1.14.2" | "1.14.3" => Self::V1_14,
            "1.15" | "1.15.0" => Self::V1_15,
            "1.16" | "1.16.0" | "1.16.1" | "1.16.2" => Self::V1_16,
            "1.17.2" => Self::V1_17_2,
            "1.17.3" => Self::V1_17_3,
            "head" | "latest" => Self::Head,
            _ => {
                return Err(format!(
                "unknown firmware {s:?}: use one of 1.13, 1.14, 1.15, 1.16, 1.17.2, 1.17.3, head"
            ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        assert_eq!("v1.17.3".parse::<Firmware>().unwrap(), Firmware::V1_17_3);
        assert_eq!("1.13".parse::<Firmware>().unwrap(), Firmware::V1_13);
        assert_eq!("HEAD".parse::<Firmware>().unwrap(), Firmware::Head);
        assert!("1.12".parse::<Firmware>().is_err());
        assert!(Firmware::V1_13 < Firmware::Head);
        for fw in &Firmware::ALL[..6] {
            assert_eq!(fw.version_string().parse::<Firmware>().unwrap(), *fw);
        }
    }
}
