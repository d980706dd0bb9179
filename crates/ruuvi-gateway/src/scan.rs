//! The gateway's Bluetooth scanning (gateway-local-api §6.1 `company_*`, `scan_*`; the merge
//! rules of §6.3): which advertisements it forwards (a manufacturer id, an allow or deny list
//! of tags) and how it listens (PHYs, advertising channels). Pushed like the backends
//! ([`crate::push::push_profile`]): validated, posted, read back and compared, put back on
//! failure.
//!
//! Generations: v1.13 has the flags without a list or `scan_default`; v1.14 adds the tag list;
//! v1.16 adds `scan_default` and renames `scan_extended_payload` to `scan_2mbit_phy`. What a
//! gateway has is read from the keys its own configuration shows.

use ruuvi_protocol::MacAddress;
use ruuvi_secrets::Sensitive;
use serde_json::{json, Map, Value};

use crate::config::{GatewayConfig, Scan};
use crate::push::BackendProfile;
use crate::{FirmwareVersion, GatewayError};

/// Ruuvi's Bluetooth SIG company identifier (0x0499), the firmware's default filter.
pub const RUUVI_COMPANY_ID: u16 = 0x0499;

/// The firmware keeps at most this many tags in its list.
pub const MAX_LISTED: usize = 100;

/// Which tags' advertisements the gateway forwards.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "mode", content = "tags", rename_all = "snake_case")]
pub enum TagFilter {
    /// Every tag (that passes the manufacturer filter).
    #[default]
    Off,
    /// Only these.
    Allow(Vec<MacAddress>),
    /// All but these.
    Deny(Vec<MacAddress>),
}

/// How the radio listens; `None` in a profile is the firmware's defaults (`scan_default`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Radio {
    /// Long range (Coded PHY).
    pub coded_phy: bool,
    pub phy_1m: bool,
    /// Extended advertisements on 2M (`scan_extended_payload` before v1.16).
    pub phy_2m: bool,
    pub channel_37: bool,
    pub channel_38: bool,
    pub channel_39: bool,
}

impl Radio {
    /// What `scan_default` stands for (§6.1 defaults).
    pub const DEFAULT: Radio = Radio {
        coded_phy: false,
        phy_1m: true,
        phy_2m: true,
        channel_37: true,
        channel_38: true,
        channel_39: true,
    };

    fn flags(self) -> [(&'static str, bool); 6] {
        [
            ("scan_coded_phy", self.coded_phy),
            ("scan_1mbit_phy", self.phy_1m),
            ("scan_2mbit_phy", self.phy_2m),
            ("scan_channel_37", self.channel_37),
            ("scan_channel_38", self.channel_38),
            ("scan_channel_39", self.channel_39),
        ]
    }
}

/// Bluetooth scanning as Ruuvi Desk sets it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct ScanProfile {
    /// Forward only advertisements with this manufacturer id; `None`: all manufacturers.
    pub company_filter: Option<u16>,
    pub tags: TagFilter,
    /// `None`: the firmware's defaults.
    pub radio: Option<Radio>,
}

impl Default for ScanProfile {
    /// The factory settings.
    fn default() -> Self {
        Self {
            company_filter: Some(RUUVI_COMPANY_ID),
            tags: TagFilter::Off,
            radio: None,
        }
    }
}

fn bad(message: impl Into<String>) -> GatewayError {
    GatewayError::BadInput(message.into())
}

/// What a gateway's configuration shows it can do.
struct ScanKeys {
    /// The tag list (v1.14+).
    list: bool,
    /// `scan_default` and `scan_2mbit_phy` (v1.16+).
    default_flag: bool,
}

impl ScanKeys {
    fn of(config: &GatewayConfig) -> Self {
        Self {
            list: config.raw().contains_key("scan_filter_list"),
            default_flag: config.raw().contains_key("scan_default"),
        }
    }
}

impl ScanProfile {
    /// The scanning settings a configuration shows, as a profile (what "undo" puts back).
    pub fn read(config: &GatewayConfig) -> Self {
        let scan: Scan = config.areas().scan;
        let keys = ScanKeys::of(config);
        let listed: Vec<MacAddress> = scan
            .scan_filter_list
            .iter()
            .filter_map(|m| m.parse().ok())
            // The firmware leaves a zero MAC where it could not read one.
            .filter(|m: &MacAddress| m.to_string() != "00:00:00:00:00:00")
            .collect();
        let tags = match (scan.scan_filter_allow_listed, listed.is_empty()) {
            (true, _) => TagFilter::Allow(listed),
            (false, true) => TagFilter::Off,
            (false, false) => TagFilter::Deny(listed),
        };
        let radio = Radio {
            coded_phy: scan.scan_coded_phy,
            phy_1m: scan.scan_1mbit_phy,
            phy_2m: scan.scan_2mbit_phy.unwrap_or(true),
            channel_37: scan.scan_channel_37,
            channel_38: scan.scan_channel_38,
            channel_39: scan.scan_channel_39,
        };
        let radio = match scan.scan_default {
            Some(true) => None,
            _ if !keys.default_flag && radio == Radio::DEFAULT => None,
            _ => Some(radio),
        };
        Self {
            company_filter: scan
                .company_use_filtering
                .then(|| u16::try_from(scan.company_id).unwrap_or(RUUVI_COMPANY_ID)),
            tags,
            radio,
        }
    }

    fn listed(&self) -> &[MacAddress] {
        match &self.tags {
            TagFilter::Off => &[],
            TagFilter::Allow(l) | TagFilter::Deny(l) => l,
        }
    }

    /// Everything the firmware would refuse or silently change.
    pub fn check(&self, current: &GatewayConfig) -> Result<(), GatewayError> {
        let keys = ScanKeys::of(current);
        if self.tags != TagFilter::Off && !keys.list {
            return Err(GatewayError::Unsupported(
                "this firmware has no list of tags (v1.14+): update the gateway first".into(),
            ));
        }
        let listed = self.listed();
        if listed.is_empty() && matches!(self.tags, TagFilter::Allow(_)) {
            return Err(bad(
                "an allow list without tags would forward nothing: add tags or switch the list off",
            ));
        }
        if listed.len() > MAX_LISTED {
            return Err(bad(format!(
                "{} tags listed; the gateway keeps at most {MAX_LISTED}",
                listed.len()
            )));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = listed.iter().find(|m| !seen.insert(**m)) {
            return Err(bad(format!("{twice} is listed twice")));
        }
        if let Some(r) = self.radio {
            if !(r.channel_37 || r.channel_38 || r.channel_39) {
                return Err(bad(
                    "no advertising channel: the gateway would hear nothing (keep 37, 38 or 39)",
                ));
            }
            if !(r.coded_phy || r.phy_1m || r.phy_2m) {
                return Err(bad("no PHY: the gateway would hear nothing"));
            }
        }
        Ok(())
    }

    fn body_onto(&self, body: &mut Map<String, Value>, keys: &ScanKeys) {
        body.insert(
            "company_use_filtering".into(),
            self.company_filter.is_some().into(),
        );
        if let Some(id) = self.company_filter {
            body.insert("company_id".into(), id.into());
        }
        if keys.list {
            body.insert(
                "scan_filter_allow_listed".into(),
                matches!(self.tags, TagFilter::Allow(_)).into(),
            );
            let list: Vec<Value> = self.listed().iter().map(|m| json!(m.to_string())).collect();
            body.insert("scan_filter_list".into(), Value::Array(list));
        }
        let radio = self.radio.unwrap_or(Radio::DEFAULT);
        if keys.default_flag {
            body.insert("scan_default".into(), self.radio.is_none().into());
            // With scan_default true the firmware resets the flags itself (§6.3).
            if self.radio.is_some() {
                for (key, on) in radio.flags() {
                    body.insert(key.into(), on.into());
                }
            }
        } else {
            for (key, on) in radio.flags() {
                let key = if key == "scan_2mbit_phy" {
                    "scan_extended_payload"
                } else {
                    key
                };
                body.insert(key.into(), on.into());
            }
        }
    }
}

impl BackendProfile for ScanProfile {
    fn validate(
        &self,
        _firmware: Option<FirmwareVersion>,
        current: Option<&GatewayConfig>,
    ) -> Result<(), GatewayError> {
        match current {
            Some(c) => self.check(c),
            None => Ok(()),
        }
    }

    fn uploads(&self) -> Vec<(&'static str, Sensitive<String>)> {
        Vec::new()
    }

    fn post_body(&self, current: &GatewayConfig) -> Map<String, Value> {
        let mut body = current.unchanged_body();
        self.body_onto(&mut body, &ScanKeys::of(current));
        body
    }

    fn differences(
        &self,
        _firmware: Option<FirmwareVersion>,
        after: &GatewayConfig,
    ) -> Vec<String> {
        let got = ScanProfile::read(after);
        let keys = ScanKeys::of(after);
        let mut out = Vec::new();
        if got.company_filter != self.company_filter {
            out.push(format!(
                "the manufacturer filter is {:?}, not {:?}",
                got.company_filter, self.company_filter
            ));
        }
        if keys.list && got.tags != self.tags {
            out.push(format!(
                "the tag list is {:?}, not {:?}",
                got.tags, self.tags
            ));
        }
        // Before v1.16 the gateway does not show the 2M flag: compare what it shows.
        let want = self.radio.unwrap_or(Radio::DEFAULT);
        let have = got.radio.unwrap_or(Radio::DEFAULT);
        let shown_2m = after.raw().contains_key("scan_2mbit_phy");
        let comparable = |r: Radio| Radio {
            phy_2m: shown_2m && r.phy_2m,
            ..r
        };
        if comparable(want) != comparable(have) {
            out.push(format!("the radio is {have:?}, not {want:?}"));
        }
        if keys.default_flag && got.radio.is_none() != self.radio.is_none() {
            out.push(format!(
                "scan_default is {}, not {}",
                got.radio.is_none(),
                self.radio.is_none()
            ));
        }
        out
    }

    fn restore_body(&self, before: &GatewayConfig) -> Map<String, Value> {
        ScanProfile::read(before).post_body(before)
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(v: Value) -> GatewayConfig {
        GatewayConfig::from_json(v).unwrap()
    }

    /// §6.1's example (HEAD firmware), scanning part.
    fn newest() -> GatewayConfig {
        cfg(json!({"fw_ver": "v1.17.3", "mqtt_data_format": "ruuvi_raw",
            "company_id": 1177, "company_use_filtering": true,
            "scan_coded_phy": false, "scan_1mbit_phy": true, "scan_2mbit_phy": true,
            "scan_channel_37": true, "scan_channel_38": true, "scan_channel_39": true,
            "scan_default": true, "scan_filter_allow_listed": false, "scan_filter_list": []}))
    }

    /// v1.13: flags only.
    fn oldest() -> GatewayConfig {
        cfg(
            json!({"fw_ver": "v1.13.1", "company_id": 1177, "company_use_filtering": true,
            "scan_coded_phy": false, "scan_1mbit_phy": true,
            "scan_channel_37": true, "scan_channel_38": true, "scan_channel_39": true}),
        )
    }

    fn mac(s: &str) -> MacAddress {
        s.parse().unwrap()
    }

    #[test]
    fn the_factory_settings_read_as_the_default_profile() {
        assert_eq!(ScanProfile::read(&newest()), ScanProfile::default());
        assert_eq!(ScanProfile::read(&oldest()), ScanProfile::default());
    }

    #[test]
    fn bodies_follow_each_generations_keys() {
        let p = ScanProfile {
            company_filter: None,
            tags: TagFilter::Deny(vec![mac("AA:BB:CC:DD:EE:01")]),
            radio: Some(Radio {
                coded_phy: true,
                channel_38: false,
                ..Radio::DEFAULT
            }),
        };
        let body = p.post_body(&newest());
        assert_eq!(body["company_use_filtering"], false);
        assert!(!body.contains_key("company_id"), "kept as it is");
        assert_eq!(body["scan_filter_allow_listed"], false);
        assert_eq!(body["scan_filter_list"], json!(["AA:BB:CC:DD:EE:01"]));
        assert_eq!(body["scan_default"], false);
        assert_eq!(body["scan_coded_phy"], true);
        assert_eq!(body["scan_channel_38"], false);
        assert_eq!(
            body["mqtt_data_format"], "ruuvi_raw",
            "or the POST resets it"
        );
        // v1.13: no list (so no deny list), the 2M flag under its old name.
        assert!(p.check(&oldest()).is_err());
        let radio_only = ScanProfile {
            tags: TagFilter::Off,
            ..p.clone()
        };
        radio_only.check(&oldest()).unwrap();
        let body = radio_only.post_body(&oldest());
        assert!(!body.contains_key("scan_filter_list") && !body.contains_key("scan_default"));
        assert_eq!(body["scan_extended_payload"], true);
        // Back to the defaults: scan_default alone on v1.16+, every flag before.
        let body = ScanProfile::default().post_body(&newest());
        assert_eq!(body["scan_default"], true);
        assert!(!body.contains_key("scan_coded_phy"));
        assert_eq!(
            ScanProfile::default().post_body(&oldest())["scan_1mbit_phy"],
            true
        );
    }

    #[test]
    fn checks_say_what_the_gateway_would_do_wrong() {
        let c = newest();
        let allow_none = ScanProfile {
            tags: TagFilter::Allow(vec![]),
            ..ScanProfile::default()
        };
        assert!(allow_none
            .check(&c)
            .unwrap_err()
            .to_string()
            .contains("nothing"));
        let twice = ScanProfile {
            tags: TagFilter::Deny(vec![mac("AA:00:00:00:00:01"), mac("AA:00:00:00:00:01")]),
            ..ScanProfile::default()
        };
        assert!(twice.check(&c).unwrap_err().to_string().contains("twice"));
        let many = ScanProfile {
            tags: TagFilter::Allow(
                (0..=MAX_LISTED as u8)
                    .map(|i| MacAddress::from([0xAA, 0, 0, 0, 0, i]))
                    .collect(),
            ),
            ..ScanProfile::default()
        };
        assert!(many
            .check(&c)
            .unwrap_err()
            .to_string()
            .contains("at most 100"));
        let deaf = ScanProfile {
            radio: Some(Radio {
                channel_37: false,
                channel_38: false,
                channel_39: false,
                ..Radio::DEFAULT
            }),
            ..ScanProfile::default()
        };
        assert!(deaf.check(&c).unwrap_err().to_string().contains("channel"));
    }

    #[test]
    fn the_read_back_names_what_differs() {
        let want = ScanProfile {
            company_filter: Some(RUUVI_COMPANY_ID),
            tags: TagFilter::Allow(vec![mac("AA:BB:CC:DD:EE:01")]),
            radio: None,
        };
        let d = want.differences(None, &newest());
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].starts_with("the tag list"));
        // The firmware's zero MAC (an entry it could not read) is not a tag.
        let mut v = newest().raw().clone();
        v.insert("scan_filter_allow_listed".into(), json!(true));
        v.insert(
            "scan_filter_list".into(),
            json!(["aa:bb:cc:dd:ee:01", "00:00:00:00:00:00"]),
        );
        assert!(want.differences(None, &cfg(Value::Object(v))).is_empty());
    }
}
