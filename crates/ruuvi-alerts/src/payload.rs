//! The seed's push payload (seed 004, "FCM proposal"; spec `ruuvi-network-api.md` §4): the
//! notification, the localisation block and the data block, values as strings in the rule's
//! unit. A webhook receives exactly this.

use serde_json::{json, Value};

use crate::Fired;

/// A number as the payload carries it: as few decimals as it needs, at most two.
fn text(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The payload for `fired`; `token` and `email` identify the receiver (empty for a webhook).
pub fn push_payload(fired: &Fired, token: &str, email: &str) -> Value {
    let alert_type = fired.alert_type.as_str();
    let trigger = fired.trigger.as_str();
    let (current, threshold) = (text(fired.current), text(fired.threshold));
    json!({
        "notification": {"body": fired.text, "title": fired.title()},
        "alert": {
            "title-loc-key": format!("RUUVI_{alert_type}"),
            "title-loc-args": [alert_type, trigger],
            "loc-key": format!("RUUVI_{alert_type}_{trigger}"),
            "loc-args": [fired.name, current, fired.unit, threshold, fired.unit],
        },
        "content_available": 1,
        "mutable-content": 1,
        "token": token,
        "email": email,
        "type": "alert",
        "data": {
            "name": fired.name,
            "id": fired.sensor.to_string(),
            "alertType": alert_type,
            "triggerType": trigger,
            "currentValue": current,
            "thresholdValue": threshold,
            "alertUnit": fired.unit,
            "alertData": fired.text,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlertType, TriggerType};

    #[test]
    fn the_payload_has_every_field_of_the_seed() {
        let f = Fired {
            rule_id: 1,
            sensor: "C8:25:2D:8E:9C:2C".parse().unwrap(),
            name: "Freezer".into(),
            alert_type: AlertType::Temperature,
            trigger: TriggerType::Over,
            current: -11.5,
            threshold: -12.0,
            unit: "C".into(),
            text: "The freezer is warming up".into(),
            at_ms: 0,
        };
        let p = push_payload(&f, "tok", "a@b.c");
        assert_eq!(
            p["notification"]["title"],
            "Ruuvi Temperature alert: Freezer"
        );
        assert_eq!(p["notification"]["body"], "The freezer is warming up");
        assert_eq!(p["alert"]["title-loc-key"], "RUUVI_Temperature");
        assert_eq!(p["alert"]["title-loc-args"], json!(["Temperature", "Over"]));
        assert_eq!(p["alert"]["loc-key"], "RUUVI_Temperature_Over");
        assert_eq!(
            p["alert"]["loc-args"],
            json!(["Freezer", "-11.5", "C", "-12", "C"])
        );
        assert_eq!(
            (
                p["content_available"].as_i64(),
                p["mutable-content"].as_i64()
            ),
            (Some(1), Some(1))
        );
        assert_eq!(
            (p["token"].as_str(), p["email"].as_str(), p["type"].as_str()),
            (Some("tok"), Some("a@b.c"), Some("alert"))
        );
        assert_eq!(
            p["data"],
            json!({"name": "Freezer", "id": "C8:25:2D:8E:9C:2C", "alertType": "Temperature",
                   "triggerType": "Over", "currentValue": "-11.5", "thresholdValue": "-12",
                   "alertUnit": "C", "alertData": "The freezer is warming up"})
        );
        let moved = Fired {
            alert_type: AlertType::Movement,
            trigger: TriggerType::DifferentFrom,
            unit: "count".into(),
            ..f
        };
        assert_eq!(
            push_payload(&moved, "", "")["alert"]["loc-key"],
            "RUUVI_Movement_Different from"
        );
    }
}
