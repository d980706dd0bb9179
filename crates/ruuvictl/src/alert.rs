//! `ruuvictl alert`: the alert rules in `<data dir>/alerts.sqlite` (the app's and `serve`'s,
//! which pick changes up within seconds), the alerts that fired, and a test alert.

use std::path::Path;

use clap::{Args, Subcommand};
use ruuvi_alerts::{AlertStore, AlertType, Fired, Rule, TriggerType, Webhook};

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// The rules and the latest alerts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a rule.
    Add(Add),
    /// Remove a rule by its id.
    Remove { id: i64 },
    /// Fire a rule's alert now (current value = threshold): prints the push payload, and POSTs
    /// it to --webhook if given.
    Test {
        id: i64,
        #[arg(long)]
        webhook: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct Add {
    /// The sensor's MAC.
    #[arg(long)]
    sensor: String,
    /// Temperature, Humidity, Pressure, Movement, Voltage, RSSI, noData, CO2, PM1.0, PM2.5,
    /// PM4.0, PM10, VOC, NOx, Luminosity, Sound, DewPoint, AbsoluteHumidity.
    #[arg(long = "type")]
    alert_type: AlertType,
    /// over, under or different (from).
    #[arg(long, default_value = "over")]
    trigger: TriggerType,
    /// In --unit; for noData the seconds without an observation.
    #[arg(long, allow_hyphen_values = true)]
    threshold: f64,
    /// The threshold's unit [default: the quantity's first: C, %, hPa, …].
    #[arg(long)]
    unit: Option<String>,
    /// The sensor's name in the alert.
    #[arg(long, default_value = "")]
    name: String,
    /// The alert's text (the notification body).
    #[arg(long, default_value = "")]
    text: String,
    #[arg(long, default_value_t = 0.0)]
    tolerance: f64,
    #[arg(long, default_value_t = 0.0)]
    hysteresis: f64,
    /// Seconds before the rule may fire again.
    #[arg(long, default_value_t = 0)]
    cooldown: u64,
}

use ruuvi_protocol::clock::now_ms;

pub async fn run(command: AlertCommand, data_dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let mut store = AlertStore::open(&data_dir.join("alerts.sqlite")).map_err(|e| e.to_string())?;
    match command {
        AlertCommand::List { json } => {
            let rules = store.rules().map_err(|e| e.to_string())?;
            let history = store.history(20).map_err(|e| e.to_string())?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"rules": rules, "history": history})
                );
                return Ok(());
            }
            if rules.is_empty() {
                println!("no alert rules");
            }
            for r in &rules {
                println!(
                    "{}\t{}\t{}\t{} {} {} {}{}",
                    r.id,
                    r.sensor,
                    if r.name.is_empty() { "-" } else { &r.name },
                    r.alert_type.as_str(),
                    r.trigger.as_str(),
                    r.threshold,
                    r.unit,
                    if r.enabled { "" } else { "\t(off)" }
                );
            }
            for h in &history {
                println!(
                    "fired {}\t{}\t{} {}{}",
                    h.fired.at_ms,
                    h.fired.title(),
                    h.fired.current,
                    h.fired.unit,
                    if h.acknowledged_at_ms.is_some() {
                        "\t(seen)"
                    } else {
                        ""
                    }
                );
            }
        }
        AlertCommand::Add(a) => {
            let rule = Rule {
                id: 0,
                sensor: a.sensor.parse().map_err(|e| format!("--sensor: {e}"))?,
                name: if a.name.is_empty() {
                    a.sensor.clone()
                } else {
                    a.name
                },
                unit: a
                    .unit
                    .unwrap_or_else(|| a.alert_type.units()[0].to_string()),
                alert_type: a.alert_type,
                trigger: a.trigger,
                threshold: a.threshold,
                tolerance: a.tolerance,
                hysteresis: a.hysteresis,
                cooldown_s: a.cooldown,
                text: a.text,
                enabled: true,
            };
            let saved = store.add(rule).map_err(|e| e.to_string())?;
            println!("{}", saved.id);
        }
        AlertCommand::Remove { id } => {
            if !store.remove(id).map_err(|e| e.to_string())? {
                return Err(format!("no alert rule {id}"));
            }
        }
        AlertCommand::Test { id, webhook } => {
            let r = store.rule(id).map_err(|e| e.to_string())?;
            let fired = Fired {
                rule_id: r.id,
                sensor: r.sensor,
                name: r.name.clone(),
                alert_type: r.alert_type,
                trigger: r.trigger,
                current: r.threshold,
                threshold: r.threshold,
                unit: r.unit.clone(),
                text: r.text.clone(),
                at_ms: now_ms(),
            };
            println!("{}", ruuvi_alerts::push_payload(&fired, "", ""));
            if let Some(url) = webhook {
                let attempts = ruuvi_alerts::deliver(&Webhook::new(url), &fired).await;
                for a in &attempts {
                    eprintln!(
                        "attempt {}: {}",
                        a.attempt,
                        a.error.as_deref().unwrap_or("delivered")
                    );
                }
                if attempts.last().is_some_and(|a| a.error.is_some()) {
                    return Err("the webhook did not take the test alert".into());
                }
            }
        }
    }
    Ok(())
}
