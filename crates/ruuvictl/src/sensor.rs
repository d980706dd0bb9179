//! `ruuvictl sensor`: each sensor's name, location, note and calibration, kept in the store
//! next to its observations (the app reads them again within a minute).

use std::path::Path;

use clap::{Args, Subcommand};
use ruuvi_protocol::{Calibration, MacAddress, SensorProfile};
use ruuvi_secrets::SecretStore;
use ruuvi_store::{ObservationStore, StoreLocation};

#[derive(Debug, Subcommand)]
pub enum SensorCommand {
    /// Every sensor with data or a name: its name, location, calibration and last observation.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Give a sensor a name (and a location or a note).
    Name {
        sensor: MacAddress,
        /// The name; "" removes it.
        name: String,
        #[arg(long)]
        location: Option<String>,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Set offsets added to what the sensor measures (omitted: unchanged).
    Calibrate {
        sensor: MacAddress,
        /// °C added to the temperature.
        #[arg(long, allow_hyphen_values = true)]
        temperature: Option<f64>,
        /// Percentage points added to the relative humidity.
        #[arg(long, allow_hyphen_values = true)]
        humidity: Option<f64>,
        /// hPa added to the pressure.
        #[arg(long, allow_hyphen_values = true)]
        pressure: Option<f64>,
        /// Remove every offset.
        #[arg(long, conflicts_with_all = ["temperature", "humidity", "pressure"])]
        reset: bool,
        #[command(flatten)]
        store: StoreArg,
    },
}

#[derive(Debug, Args)]
pub struct StoreArg {
    /// A SQLite file or a `postgres://` URL, as for `serve --store`.
    #[arg(long, alias = "db")]
    store: Option<String>,
}

fn open(
    arg: &StoreArg,
    database_dir: &Path,
    secrets: &dyn SecretStore,
) -> Result<Box<dyn ObservationStore>, String> {
    let location = ruuvi_wiring::store_location(database_dir, arg.store.as_deref(), secrets)?;
    if let StoreLocation::Sqlite(path) = &location {
        if !path.exists() {
            return Err(format!("no database at {}", path.display()));
        }
    }
    location
        .open()
        .map_err(|e| format!("opening {location}: {e}"))
}

fn now_ms() -> i64 {
    ruuvi_protocol::clock::now_ms()
}

fn offsets(c: &Calibration) -> String {
    let mut parts = Vec::new();
    if c.temperature_c != 0.0 {
        parts.push(format!("{:+} °C", c.temperature_c));
    }
    if c.humidity_pct != 0.0 {
        parts.push(format!("{:+} %", c.humidity_pct));
    }
    if c.pressure_pa != 0.0 {
        parts.push(format!("{:+} hPa", c.pressure_pa / 100.0));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}

fn print_saved(p: &SensorProfile) {
    println!(
        "{}  {}{}  calibration: {}",
        p.sensor,
        p.display_name(),
        if p.location.is_empty() {
            String::new()
        } else {
            format!(" ({})", p.location)
        },
        offsets(&p.calibration)
    );
}

pub fn run(
    command: SensorCommand,
    database_dir: &Path,
    secrets: &dyn SecretStore,
) -> Result<(), String> {
    let store_error = |e: ruuvi_store::StoreError| e.to_string();
    match command {
        SensorCommand::List { json, store } => {
            let mut s = open(&store, database_dir, secrets)?;
            let profiles = ruuvi_protocol::Profiles::of(s.profiles().map_err(store_error)?);
            let latest = s.latest().map_err(store_error)?;
            let mut sensors: Vec<MacAddress> = latest.iter().map(|o| o.sensor).collect();
            sensors.extend(profiles.all().iter().map(|p| p.sensor));
            sensors.sort();
            sensors.dedup();
            let rows: Vec<serde_json::Value> = sensors
                .iter()
                .map(|m| {
                    let p = profiles
                        .get(*m)
                        .unwrap_or_else(|| SensorProfile::new(*m));
                    let last = latest.iter().find(|o| o.sensor == *m);
                    serde_json::json!({
                        "sensor": m.to_string(),
                        "name": p.display_name(),
                        "named": !p.name.is_empty(),
                        "location": p.location,
                        "note": p.note,
                        "calibration": p.calibration,
                        "last_seen_ms": last.map(|o| o.received_at_ms),
                        "temperature_c": last.and_then(|o| p.calibration.applied(&o.readings).temperature_c),
                    })
                })
                .collect();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).expect("plain JSON")
                );
                return Ok(());
            }
            if rows.is_empty() {
                println!("no sensors yet");
            }
            for m in sensors {
                let p = profiles.get(m).unwrap_or_else(|| SensorProfile::new(m));
                let last = latest.iter().find(|o| o.sensor == m);
                let shown = last.map(|o| p.calibration.applied(&o.readings));
                println!(
                    "{m}  {:<24} {:<16} calibration: {:<24} {}",
                    p.display_name(),
                    p.location,
                    offsets(&p.calibration),
                    shown
                        .and_then(|r| r.temperature_c)
                        .map(|t| format!("{t:.2} °C"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        SensorCommand::Name {
            sensor,
            name,
            location,
            note,
            store,
        } => {
            let mut s = open(&store, database_dir, secrets)?;
            let saved = s
                .edit_profile(sensor, now_ms(), &mut |p| {
                    p.name = name.clone();
                    if let Some(l) = &location {
                        p.location = l.clone();
                    }
                    if let Some(n) = &note {
                        p.note = n.clone();
                    }
                })
                .map_err(store_error)?;
            print_saved(&saved);
            Ok(())
        }
        SensorCommand::Calibrate {
            sensor,
            temperature,
            humidity,
            pressure,
            reset,
            store,
        } => {
            if !reset && temperature.is_none() && humidity.is_none() && pressure.is_none() {
                return Err("give --temperature, --humidity or --pressure (or --reset)".to_string());
            }
            let mut s = open(&store, database_dir, secrets)?;
            let saved = s
                .edit_profile(sensor, now_ms(), &mut |p| {
                    let c = &mut p.calibration;
                    if reset {
                        *c = Calibration::default();
                    }
                    if let Some(t) = temperature {
                        c.temperature_c = t;
                    }
                    if let Some(h) = humidity {
                        c.humidity_pct = h;
                    }
                    if let Some(hpa) = pressure {
                        c.pressure_pa = hpa * 100.0;
                    }
                })
                .map_err(store_error)?;
            print_saved(&saved);
            Ok(())
        }
    }
}
