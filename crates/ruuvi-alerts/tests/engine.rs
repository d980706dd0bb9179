//! The engine for every alert type × trigger, hysteresis and re-arm, cooldown and noData, on
//! explicit times (no sleeps).

use ruuvi_alerts::{AlertStore, AlertType, Engine, Fired, Rule, TriggerType};
use ruuvi_protocol::{Feed, Observation, Readings};

const SENSOR: &str = "C8:25:2D:8E:9C:2C";
const T0: i64 = 1_800_000_000_000;

/// An observation whose value for `t` grows with `k` (derived quantities through the
/// temperature at 50 % humidity).
fn obs(t: AlertType, k: f64) -> Observation {
    let mut r = Readings::default();
    let mut rssi = None;
    match t {
        AlertType::Temperature => r.temperature_c = Some(k),
        AlertType::DewPoint | AlertType::AbsoluteHumidity => {
            r.temperature_c = Some(k);
            r.humidity_pct = Some(50.0);
        }
        AlertType::Humidity => r.humidity_pct = Some(k),
        AlertType::Pressure => r.pressure_pa = Some(k * 100.0),
        AlertType::Movement => r.movement_counter = Some(k as u32),
        AlertType::Voltage => r.battery_v = Some(k),
        AlertType::Rssi => rssi = Some(k as i16),
        AlertType::Co2 => r.co2_ppm = Some(k),
        AlertType::Pm1_0 => r.pm1_0 = Some(k),
        AlertType::Pm2_5 => r.pm2_5 = Some(k),
        AlertType::Pm4_0 => r.pm4_0 = Some(k),
        AlertType::Pm10 => r.pm10_0 = Some(k),
        AlertType::Voc => r.voc_index = Some(k),
        AlertType::Nox => r.nox_index = Some(k),
        AlertType::Luminosity => r.luminosity_lux = Some(k),
        AlertType::Sound => r.sound_avg_dba = Some(k),
        AlertType::NoData => {}
    }
    Observation {
        sensor: SENSOR.parse().unwrap(),
        feed: Feed::Ble,
        received_at_ms: 0,
        seen_at_s: None,
        rssi,
        format: None,
        readings: r,
    }
}

fn rule(t: AlertType, trigger: TriggerType) -> Rule {
    Rule {
        id: 1,
        sensor: SENSOR.parse().unwrap(),
        name: "Freezer".into(),
        alert_type: t,
        trigger,
        threshold: 0.0,
        unit: t.units()[0].into(),
        tolerance: 0.0,
        hysteresis: 0.0,
        cooldown_s: 0,
        text: "look".into(),
        enabled: true,
    }
}

/// Feeds knob values one second apart; returns which of them fired.
fn run(engine: &mut Engine, t: AlertType, knobs: &[f64]) -> Vec<bool> {
    knobs
        .iter()
        .enumerate()
        .map(|(i, k)| !engine.observe(&obs(t, *k), T0 + i as i64 * 1000).is_empty())
        .collect()
}

/// Every quantity that comes with an observation (not noData).
fn measured() -> impl Iterator<Item = AlertType> {
    AlertType::ALL
        .into_iter()
        .filter(|t| *t != AlertType::NoData)
}

#[test]
fn over_fires_once_and_rearms_past_the_hysteresis() {
    for t in measured() {
        let v = |k: f64| t.value(&obs(t, k), t.units()[0]).unwrap();
        let mut r = rule(t, TriggerType::Over);
        r.threshold = v(10.0);
        r.hysteresis = v(12.0) - v(10.0);
        let mut e = Engine::new(vec![r]);
        // below, over (fires), higher, back within the band, over again (still firing),
        // back below the band (re-armed), over (fires again).
        let fired = run(&mut e, t, &[9.0, 11.0, 13.0, 9.5, 11.0, 7.0, 11.0]);
        assert_eq!(
            fired,
            [false, true, false, false, false, false, true],
            "{t:?}"
        );
    }
}

#[test]
fn under_fires_once_and_rearms_past_the_hysteresis() {
    for t in measured() {
        let v = |k: f64| t.value(&obs(t, k), t.units()[0]).unwrap();
        let mut r = rule(t, TriggerType::Under);
        r.threshold = v(10.0);
        r.hysteresis = v(12.0) - v(10.0);
        let mut e = Engine::new(vec![r]);
        let fired = run(&mut e, t, &[11.0, 9.0, 8.0, 10.5, 9.0, 13.0, 9.0]);
        assert_eq!(
            fired,
            [false, true, false, false, false, false, true],
            "{t:?}"
        );
    }
}

#[test]
fn different_from_fires_outside_the_tolerance() {
    for t in measured().filter(|t| *t != AlertType::Movement) {
        let v = |k: f64| t.value(&obs(t, k), t.units()[0]).unwrap();
        let mut r = rule(t, TriggerType::DifferentFrom);
        r.threshold = v(10.0);
        r.tolerance = v(12.0) - v(10.0);
        r.hysteresis = r.tolerance / 2.0;
        let mut e = Engine::new(vec![r]);
        // at, within, outside (fires), further, back within tolerance but not past the
        // hysteresis, back near the threshold (re-armed), outside on the other side (fires).
        let fired = run(&mut e, t, &[10.0, 11.0, 13.0, 14.0, 11.5, 10.2, 7.0]);
        assert_eq!(
            fired,
            [false, false, true, false, false, false, true],
            "{t:?}"
        );
    }
}

#[test]
fn movement_different_from_fires_on_every_change_of_the_counter() {
    let mut e = Engine::new(vec![rule(AlertType::Movement, TriggerType::DifferentFrom)]);
    let fired = run(&mut e, AlertType::Movement, &[5.0, 5.0, 6.0, 7.0, 7.0, 8.0]);
    assert_eq!(fired, [false, false, true, true, false, true]);
    // With a cooldown, a burst of movements is one alert.
    let mut r = rule(AlertType::Movement, TriggerType::DifferentFrom);
    r.cooldown_s = 60;
    let mut e = Engine::new(vec![r]);
    let fired = run(&mut e, AlertType::Movement, &[5.0, 6.0, 7.0, 8.0]);
    assert_eq!(fired, [false, true, false, false]);
}

#[test]
fn a_cooldown_keeps_a_rearmed_rule_quiet() {
    let mut r = rule(AlertType::Temperature, TriggerType::Over);
    r.threshold = 10.0;
    r.cooldown_s = 300;
    let mut e = Engine::new(vec![r]);
    let at = |s: i64| T0 + s * 1000;
    let t = AlertType::Temperature;
    assert_eq!(e.observe(&obs(t, 11.0), at(0)).len(), 1);
    assert!(e.observe(&obs(t, 9.0), at(10)).is_empty(), "re-armed");
    assert!(
        e.observe(&obs(t, 11.0), at(20)).is_empty(),
        "within the cooldown"
    );
    assert!(e.observe(&obs(t, 9.0), at(30)).is_empty());
    let later = e.observe(&obs(t, 11.0), at(301));
    assert_eq!(later.len(), 1, "after the cooldown");
    assert_eq!(later[0].at_ms, at(301));
}

#[test]
fn no_data_fires_after_the_silence_and_rearms_when_heard() {
    let mut r = rule(AlertType::NoData, TriggerType::Over);
    r.threshold = 60.0;
    r.validate().unwrap();
    let mut e = Engine::new(vec![r]);
    let at = |s: i64| T0 + s * 1000;
    e.observe(&obs(AlertType::Temperature, 1.0), at(0));
    assert!(e.tick(at(30)).is_empty());
    assert!(
        e.tick(at(60)).is_empty(),
        "exactly 60 s is not more than 60 s"
    );
    let fired = e.tick(at(61));
    assert_eq!(fired.len(), 1);
    assert_eq!((fired[0].current, fired[0].unit.as_str()), (61.0, "s"));
    assert!(e.tick(at(120)).is_empty(), "fires once per silence");
    // Heard from again (any feed): re-armed; silent again: fires again.
    e.observe(&obs(AlertType::Humidity, 1.0), at(130));
    assert!(e.tick(at(150)).is_empty());
    assert_eq!(e.tick(at(191)).len(), 1);
    // A sensor never heard counts from the first check.
    let mut never = rule(AlertType::NoData, TriggerType::Over);
    never.sensor = "AA:AA:AA:AA:AA:AA".parse().unwrap();
    never.threshold = 10.0;
    let mut e = Engine::new(vec![never]);
    assert!(e.tick(at(0)).is_empty());
    assert_eq!(e.tick(at(11)).len(), 1);
}

#[test]
fn thresholds_are_in_the_users_unit() {
    let t = AlertType::Temperature;
    for (unit, threshold) in [("C", 0.0), ("F", 32.0), ("K", 273.15)] {
        let mut r = rule(t, TriggerType::Over);
        r.unit = unit.into();
        r.threshold = threshold;
        let mut e = Engine::new(vec![r]);
        assert!(e.observe(&obs(t, -0.5), T0).is_empty(), "{unit}");
        let fired: Vec<Fired> = e.observe(&obs(t, 0.5), T0 + 1);
        assert_eq!(fired.len(), 1, "{unit}");
        let expected = match unit {
            "F" => 32.9,
            "K" => 273.65,
            _ => 0.5,
        };
        assert!(
            (fired[0].current - expected).abs() < 1e-9,
            "{unit}: {}",
            fired[0].current
        );
    }
    let mut hpa = rule(AlertType::Pressure, TriggerType::Under);
    hpa.threshold = 980.0;
    let mut e = Engine::new(vec![hpa]);
    assert_eq!(
        e.observe(&obs(AlertType::Pressure, 979.5), T0)[0].current,
        979.5
    );
    // A wrong unit is refused before it is saved.
    let mut bad = rule(t, TriggerType::Over);
    bad.unit = "hPa".into();
    assert!(bad.validate().unwrap_err().to_string().contains("C, F, K"));
}

#[test]
fn other_sensors_disabled_rules_and_missing_quantities_do_not_fire() {
    let t = AlertType::Co2;
    let mut r = rule(t, TriggerType::Over);
    r.threshold = 1000.0;
    let mut off = r.clone();
    off.id = 2;
    off.enabled = false;
    let mut e = Engine::new(vec![r, off]);
    let mut other = obs(t, 2000.0);
    other.sensor = "AA:AA:AA:AA:AA:AA".parse().unwrap();
    assert!(e.observe(&other, T0).is_empty());
    // A RuuviTag has no CO2.
    assert!(e
        .observe(&obs(AlertType::Temperature, 2000.0), T0)
        .is_empty());
    let fired = e.observe(&obs(t, 2000.0), T0);
    assert_eq!(fired.iter().map(|f| f.rule_id).collect::<Vec<_>>(), [1]);
    assert_eq!(fired[0].title(), "Ruuvi CO2 alert: Freezer");
}

#[test]
fn rules_and_history_are_kept_and_acknowledged() {
    let mut store = AlertStore::open_in_memory().unwrap();
    let mut r = rule(AlertType::Temperature, TriggerType::Over);
    r.threshold = -12.0;
    let saved = store.add(r).unwrap();
    assert!(saved.id > 0);
    assert_eq!(store.rules().unwrap(), std::slice::from_ref(&saved));
    let mut e = Engine::new(store.rules().unwrap());
    let fired = e.observe(&obs(AlertType::Temperature, -10.0), T0);
    let id = store.record(&fired[0]).unwrap();
    assert_eq!(store.unacknowledged().unwrap(), 1);
    assert!(store.acknowledge(id, T0 + 5).unwrap());
    assert!(!store.acknowledge(id, T0 + 6).unwrap(), "only once");
    let history = store.history(10).unwrap();
    assert_eq!(history[0].fired, fired[0]);
    assert_eq!(history[0].acknowledged_at_ms, Some(T0 + 5));
    assert_eq!(store.unacknowledged().unwrap(), 0);
    assert!(store.remove(saved.id).unwrap());
    assert!(store.rules().unwrap().is_empty());
    let mut bad = rule(AlertType::NoData, TriggerType::Under);
    bad.unit = "s".into();
    assert!(
        store.add(bad).is_err(),
        "noData is Over a number of seconds"
    );
}
