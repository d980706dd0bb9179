//! Evaluates every observation against the rules. Time is given by the caller (the hub's clock
//! in the app, explicit times in tests), so nothing here sleeps or reads the clock.
//!
//! A rule is *armed* until its condition holds; then it fires once and is *firing* until the
//! value comes back past the threshold by the hysteresis (re-armed). A cooldown keeps a rule
//! that re-arms quickly from firing again too soon. noData fires from [`Engine::tick`] when a
//! sensor has been silent longer than the rule's seconds and re-arms with its next observation.

use std::collections::HashMap;

use ruuvi_protocol::{MacAddress, Observation};

use crate::rule::{AlertType, Rule, TriggerType};

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Fired {
    pub rule_id: i64,
    pub sensor: MacAddress,
    pub name: String,
    pub alert_type: crate::AlertType,
    pub trigger: TriggerType,
    /// In `unit`.
    pub current: f64,
    pub threshold: f64,
    pub unit: String,
    pub text: String,
    pub at_ms: i64,
}

impl Fired {
    /// The notification title: `Ruuvi <alertType> alert: <name>`.
    pub fn title(&self) -> String {
        format!("Ruuvi {} alert: {}", self.alert_type.as_str(), self.name)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct RuleState {
    firing: bool,
    last_fired_ms: Option<i64>,
    /// Movement: the counter last seen.
    last_counter: Option<f64>,
}

#[derive(Default)]
pub struct Engine {
    rules: Vec<Rule>,
    state: HashMap<i64, RuleState>,
    /// When each sensor was last heard (any feed).
    last_seen_ms: HashMap<MacAddress, i64>,
}

/// Whether `value` meets the rule's condition (`firing` says which side of the hysteresis band
/// counts: a firing rule stays firing until the value is back past it).
fn holds(rule: &Rule, value: f64, firing: bool) -> bool {
    let band = if firing { rule.hysteresis } else { 0.0 };
    match rule.trigger {
        TriggerType::Over => value > rule.threshold - band,
        TriggerType::Under => value < rule.threshold + band,
        TriggerType::DifferentFrom => {
            (value - rule.threshold).abs() > (rule.tolerance - band).max(0.0)
        }
    }
}

impl Engine {
    pub fn new(rules: Vec<Rule>) -> Self {
        let mut e = Engine::default();
        e.set_rules(rules);
        e
    }

    /// Replaces the rules; the state of rules that stay is kept.
    pub fn set_rules(&mut self, rules: Vec<Rule>) {
        self.state.retain(|id, _| rules.iter().any(|r| r.id == *id));
        self.rules = rules;
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// A sensor known from before (the store's latest): noData counts from then.
    pub fn seen(&mut self, sensor: MacAddress, at_ms: i64) {
        let at = self.last_seen_ms.entry(sensor).or_insert(at_ms);
        *at = (*at).max(at_ms);
    }

    fn fire(state: &mut RuleState, rule: &Rule, current: f64, now_ms: i64) -> Option<Fired> {
        // Saturating: the cooldown is what a person typed (any u64), and clocks can step back.
        let cooldown_ms = i64::try_from(rule.cooldown_s)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        let cooling = state
            .last_fired_ms
            .is_some_and(|t| now_ms.saturating_sub(t) < cooldown_ms);
        if cooling {
            return None;
        }
        state.last_fired_ms = Some(now_ms);
        Some(Fired {
            rule_id: rule.id,
            sensor: rule.sensor,
            name: rule.name.clone(),
            alert_type: rule.alert_type,
            trigger: rule.trigger,
            current,
            threshold: rule.threshold,
            unit: rule.unit.clone(),
            text: rule.text.clone(),
            at_ms: now_ms,
        })
    }

    /// Evaluates one observation (received at `now_ms`); returns the rules that fire.
    pub fn observe(&mut self, o: &Observation, now_ms: i64) -> Vec<Fired> {
        self.seen(o.sensor, now_ms);
        let mut out = Vec::new();
        for rule in self
            .rules
            .iter()
            .filter(|r| r.enabled && r.sensor == o.sensor)
        {
            let state = self.state.entry(rule.id).or_default();
            if rule.alert_type == AlertType::NoData {
                // Heard again: re-armed.
                state.firing = false;
                continue;
            }
            let Some(value) = rule.alert_type.value(o, &rule.unit) else {
                continue;
            };
            if rule.alert_type == AlertType::Movement && rule.trigger == TriggerType::DifferentFrom
            {
                // Every change of the counter is a movement; the first value is the baseline.
                let moved = state.last_counter.is_some_and(|c| c != value);
                state.last_counter = Some(value);
                if moved {
                    out.extend(Self::fire(state, rule, value, now_ms));
                }
                continue;
            }
            let now_holds = holds(rule, value, state.firing);
            match (state.firing, now_holds) {
                (false, true) => {
                    if let Some(f) = Self::fire(state, rule, value, now_ms) {
                        state.firing = true;
                        out.push(f);
                    }
                }
                (true, false) => state.firing = false,
                _ => {}
            }
        }
        out
    }

    /// noData: rules whose sensor has been silent longer than their seconds at `now_ms`.
    pub fn tick(&mut self, now_ms: i64) -> Vec<Fired> {
        let mut out = Vec::new();
        for rule in self
            .rules
            .iter()
            .filter(|r| r.enabled && r.alert_type == AlertType::NoData)
        {
            let state = self.state.entry(rule.id).or_default();
            if state.firing {
                continue;
            }
            // A sensor never heard counts from when the rule was first checked.
            let since = *self.last_seen_ms.entry(rule.sensor).or_insert(now_ms);
            let silent_s = now_ms.saturating_sub(since) as f64 / 1000.0;
            if silent_s > rule.threshold {
                if let Some(f) = Self::fire(state, rule, silent_s.floor(), now_ms) {
                    state.firing = true;
                    out.push(f);
                }
            }
        }
        out
    }
}
