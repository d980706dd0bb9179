//! Alerts running next to the hub: the engine sees every stored observation (through the
//! hub's evaluate hook), a tick every few seconds checks for silent sensors and picks up rules
//! changed by anyone (the app, `ruuvictl alert`), and each fired alert is kept in the history,
//! handed to the face (notification, banner) and POSTed to the webhook if there is one.

use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ruuvi_protocol::Observation;
use tokio::sync::mpsc;

use crate::{deliver, AlertError, AlertStore, Engine, Fired, HistoryEntry, Webhook};

/// The time now in Unix ms (the system clock in the faces, a test's own clock in tests).
pub use ruuvi_protocol::clock::Clock;
/// Told of every alert once it is in the history.
pub type OnFired = Arc<dyn Fn(&HistoryEntry) + Send + Sync>;

/// The Alerts page: the rules, the latest alerts, how many wait for acknowledgement.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct AlertsView {
    pub rules: Vec<crate::Rule>,
    pub history: Vec<HistoryEntry>,
    pub unacknowledged: usize,
    /// Every alert type with the units its threshold may be given in (first = default).
    pub types: Vec<TypeUnits>,
}

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct TypeUnits {
    pub alert_type: crate::AlertType,
    pub units: Vec<String>,
}

pub struct Alerting {
    engine: Arc<Mutex<Engine>>,
    fired: mpsc::UnboundedSender<Fired>,
    db: PathBuf,
}

/// How often silent sensors are checked and rules re-read.
pub const TICK: Duration = Duration::from_secs(5);

impl Alerting {
    /// Opens `db` (rules and history), starts delivering and ticking on the current runtime.
    pub fn start(
        db: &Path,
        webhook: Option<Webhook>,
        clock: Clock,
        on_fired: OnFired,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), AlertError> {
        let store = AlertStore::open(db)?;
        let engine = Arc::new(Mutex::new(Engine::new(store.rules()?)));
        let (fired, mut queue) = mpsc::unbounded_channel::<Fired>();
        let store = Arc::new(Mutex::new(store));
        let delivery = {
            let store = store.clone();
            tokio::spawn(async move {
                while let Some(f) = queue.recv().await {
                    tracing::info!(rule = f.rule_id, sensor = %f.sensor, "{}", f.title());
                    let kept = {
                        let store = store.clone();
                        let f = f.clone();
                        tokio::task::spawn_blocking(move || {
                            let id = store.lock().record(&f)?;
                            Ok::<_, AlertError>(HistoryEntry {
                                id,
                                fired: f,
                                acknowledged_at_ms: None,
                            })
                        })
                        .await
                    };
                    let entry = match kept {
                        Ok(Ok(entry)) => entry,
                        Ok(Err(e)) => {
                            tracing::error!("alert not kept: {e}");
                            continue;
                        }
                        Err(e) => {
                            tracing::error!("alert not kept: {e}");
                            continue;
                        }
                    };
                    on_fired(&entry);
                    if let Some(hook) = &webhook {
                        let attempts = deliver(hook, &entry.fired).await;
                        let store = store.clone();
                        let _ = tokio::task::spawn_blocking(move || {
                            if let Err(e) = store.lock().log_delivery(entry.id, &attempts) {
                                tracing::warn!("delivery log: {e}");
                            }
                        })
                        .await;
                    }
                }
            })
        };
        {
            let (engine, fired, store) = (engine.clone(), fired.clone(), store.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(TICK).await;
                    if fired.is_closed() {
                        return;
                    }
                    let rules = store.lock().rules();
                    let mut engine = engine.lock();
                    match rules {
                        Ok(rules) if rules != engine.rules() => engine.set_rules(rules),
                        Ok(_) => {}
                        Err(e) => tracing::warn!("alert rules: {e}"),
                    }
                    for f in engine.tick(clock()) {
                        let _ = fired.send(f);
                    }
                }
            });
        }
        Ok((
            Self {
                engine,
                fired,
                db: db.to_path_buf(),
            },
            delivery,
        ))
    }

    /// For the hub: evaluates each stored observation at its receive time.
    pub fn evaluate(&self) -> Arc<dyn Fn(&Observation) + Send + Sync> {
        let (engine, fired) = (self.engine.clone(), self.fired.clone());
        Arc::new(move |o: &Observation| {
            let out = engine.lock().observe(o, o.received_at_ms);
            for f in out {
                let _ = fired.send(f);
            }
        })
    }

    /// Sensors known from before (the hub's latest at start): noData counts from then.
    pub fn seen(&self, known: &[Observation]) {
        let mut engine = self.engine.lock();
        for o in known {
            engine.seen(o.sensor, o.received_at_ms);
        }
    }

    /// Re-reads the rules now (after a change through this face).
    pub fn reload(&self) -> Result<(), AlertError> {
        let rules = AlertStore::open(&self.db)?.rules()?;
        self.engine.lock().set_rules(rules);
        Ok(())
    }

    fn store(&self) -> Result<AlertStore, AlertError> {
        AlertStore::open(&self.db)
    }

    pub fn view(&self, history: usize) -> Result<AlertsView, AlertError> {
        let store = self.store()?;
        Ok(AlertsView {
            rules: store.rules()?,
            history: store.history(history)?,
            unacknowledged: store.unacknowledged()?,
            types: crate::AlertType::ALL
                .into_iter()
                .map(|t| TypeUnits {
                    alert_type: t,
                    units: t.units().iter().map(|u| u.to_string()).collect(),
                })
                .collect(),
        })
    }

    /// Checks and saves a rule (a new one when its id is 0); it applies at once.
    pub fn save(&self, rule: crate::Rule) -> Result<crate::Rule, AlertError> {
        let mut store = self.store()?;
        let saved = if rule.id == 0 {
            store.add(rule)?
        } else {
            store.update(&rule)?;
            rule
        };
        self.reload()?;
        Ok(saved)
    }

    pub fn remove(&self, id: i64) -> Result<bool, AlertError> {
        let removed = self.store()?.remove(id)?;
        self.reload()?;
        Ok(removed)
    }

    pub fn acknowledge(&self, history_id: i64, now_ms: i64) -> Result<bool, AlertError> {
        self.store()?.acknowledge(history_id, now_ms)
    }

    /// Fires rule `id`'s alert as a test, through notification, banner and webhook.
    pub fn test_rule(&self, id: i64, now_ms: i64) -> Result<(), AlertError> {
        let rule = self.store()?.rule(id)?;
        self.test(&rule, now_ms);
        Ok(())
    }

    /// Fires `rule`'s alert as a test (current value = the threshold) through the same path.
    pub fn test(&self, rule: &crate::Rule, now_ms: i64) {
        let _ = self.fired.send(Fired {
            rule_id: rule.id,
            sensor: rule.sensor,
            name: rule.name.clone(),
            alert_type: rule.alert_type,
            trigger: rule.trigger,
            current: rule.threshold,
            threshold: rule.threshold,
            unit: rule.unit.clone(),
            text: rule.text.clone(),
            at_ms: now_ms,
        });
    }
}
