//! The one pipeline every observation goes through, whatever feed produced it: copies dropped
//! ([`Dedupe`]), persisted in batches, then the latest state per sensor updated and the new
//! observations broadcast to subscribers (UI, alerts).
//!
//! Feeds know nothing of the hub; the app and `ruuvictl` hand what feeds produce to
//! [`Hub::submit`]. A submission is answered only once it is committed, so a receiver can
//! acknowledge a gateway's POST knowing the data is stored. The queue is bounded: when it is
//! full, [`Hub::try_submit`] says so at once (a receiver answers 503 and the gateway retries)
//! and [`Hub::submit`] waits.

mod dedupe;

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

pub use dedupe::Dedupe;
use ruuvi_protocol::{Feed, MacAddress, Observation};
use ruuvi_store::{ObservationStore, Retention, Trimmed};
use tokio::sync::{broadcast, mpsc, oneshot};

#[derive(Debug, Clone)]
pub struct HubOptions {
    /// Submissions waiting to be stored.
    pub queue: usize,
    /// Observations per transaction at most.
    pub batch_max: usize,
    /// How long a batch may wait for more before it is written. 0 (the default): write what
    /// is queued at once; under load batches grow by themselves (group commit).
    pub batch_delay: Duration,
    /// Broadcast buffer per subscriber (a slow subscriber misses updates, never blocks ingest).
    pub broadcast: usize,
}

impl Default for HubOptions {
    fn default() -> Self {
        Self {
            queue: 1024,
            batch_max: 2000,
            batch_delay: Duration::ZERO,
            broadcast: 4096,
        }
    }
}

/// What became of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// New observations, now committed.
    pub stored: usize,
    /// Copies of measurements already kept.
    pub duplicates: usize,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum HubError {
    #[error("the hub is busy: try again")]
    Full,
    #[error("the hub has stopped")]
    Stopped,
    #[error("storing failed: {0}")]
    Store(String),
}

struct Submission {
    observations: Vec<Observation>,
    done: oneshot::Sender<Result<Stored, HubError>>,
}

/// What the writer task is asked to do, in queue order.
enum Job {
    Store(Submission),
    /// One bounded step of a retention policy, between batches.
    Trim {
        policy: Retention,
        now_ms: i64,
        max_rows: usize,
        done: oneshot::Sender<Result<Trimmed, HubError>>,
    },
}

/// A queued submission; [`Pending::stored`] resolves once it is committed.
pub struct Pending(oneshot::Receiver<Result<Stored, HubError>>);

impl Pending {
    pub async fn stored(self) -> Result<Stored, HubError> {
        self.0.await.map_err(|_| HubError::Stopped)?
    }
}

/// Counts since the hub started, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HubStats {
    pub stored: u64,
    pub duplicates: u64,
    /// Transactions committed.
    pub batches: u64,
    /// Time spent committing them.
    pub commit_seconds: f64,
    /// Batches that failed to commit (their senders were told to retry).
    pub failed_batches: u64,
    /// Submissions turned away because the queue was full.
    pub refused_busy: u64,
    /// Rows removed by retention.
    pub trimmed: u64,
    /// Submissions waiting now.
    pub queued: usize,
    /// Sensors with a latest state.
    pub sensors: usize,
}

/// What a metric family counts, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
}

/// One family of the hub's metrics (`ruuvi_hub_…`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub kind: MetricKind,
    pub help: &'static str,
    pub value: f64,
}

impl HubStats {
    /// The hub's metric families, as `/metrics` shows them.
    pub fn families(&self) -> [Family; 9] {
        use MetricKind::{Counter, Gauge};
        let f = |name, kind, help, value| Family {
            name,
            kind,
            help,
            value,
        };
        [
            f(
                "ruuvi_hub_stored_total",
                Counter,
                "Observations committed.",
                self.stored as f64,
            ),
            f(
                "ruuvi_hub_duplicates_total",
                Counter,
                "Copies dropped (same sensor and sequence).",
                self.duplicates as f64,
            ),
            f(
                "ruuvi_hub_batches_total",
                Counter,
                "Transactions committed.",
                self.batches as f64,
            ),
            f(
                "ruuvi_hub_commit_seconds_total",
                Counter,
                "Time spent committing.",
                self.commit_seconds,
            ),
            f(
                "ruuvi_hub_failed_batches_total",
                Counter,
                "Batches that failed to commit.",
                self.failed_batches as f64,
            ),
            f(
                "ruuvi_hub_busy_total",
                Counter,
                "Submissions refused because the queue was full.",
                self.refused_busy as f64,
            ),
            f(
                "ruuvi_hub_trimmed_total",
                Counter,
                "Rows removed by retention.",
                self.trimmed as f64,
            ),
            f(
                "ruuvi_hub_queued",
                Gauge,
                "Submissions waiting to be stored.",
                self.queued as f64,
            ),
            f(
                "ruuvi_hub_sensors",
                Gauge,
                "Sensors with a latest state.",
                self.sensors as f64,
            ),
        ]
    }
}

/// See [`Hub::stats_reader`].
#[derive(Clone)]
pub struct StatsReader {
    counters: Arc<Counters>,
    queue: mpsc::WeakSender<Job>,
    latest: std::sync::Weak<RwLock<HashMap<MacAddress, Observation>>>,
}

impl StatsReader {
    /// The counters now; queue and sensors read 0 once the hub has stopped.
    pub fn read(&self) -> HubStats {
        let c = &self.counters;
        HubStats {
            stored: c.stored.load(Relaxed),
            duplicates: c.duplicates.load(Relaxed),
            batches: c.batches.load(Relaxed),
            commit_seconds: c.commit_micros.load(Relaxed) as f64 / 1e6,
            failed_batches: c.failed_batches.load(Relaxed),
            refused_busy: c.refused_busy.load(Relaxed),
            trimmed: c.trimmed.load(Relaxed),
            queued: self
                .queue
                .upgrade()
                .map(|q| q.max_capacity() - q.capacity())
                .unwrap_or(0),
            sensors: self.latest.upgrade().map(|l| l.read().len()).unwrap_or(0),
        }
    }
}

#[derive(Default)]
struct Counters {
    stored: AtomicU64,
    duplicates: AtomicU64,
    batches: AtomicU64,
    commit_micros: AtomicU64,
    failed_batches: AtomicU64,
    refused_busy: AtomicU64,
    trimmed: AtomicU64,
}

/// A handle to the running hub; clone it freely. The hub stops when every handle is gone.
#[derive(Clone)]
pub struct Hub {
    counters: Arc<Counters>,
    queue: mpsc::Sender<Job>,
    latest: Arc<RwLock<HashMap<MacAddress, Observation>>>,
    updates: broadcast::Sender<Observation>,
}

/// Called on the hub's task with every observation once it is stored, before it is
/// broadcast (the alert engine): it sees every one, none is missed by a lagging receiver.
/// Must be quick and must not block.
pub type Evaluate = Arc<dyn Fn(&Observation) + Send + Sync>;

impl Hub {
    /// Starts the hub on the current tokio runtime with the store's latest state (read here,
    /// blocking briefly). The join handle gives the store back when the hub stops.
    pub fn start<S: ObservationStore + 'static>(
        store: S,
        options: HubOptions,
    ) -> (Hub, tokio::task::JoinHandle<S>) {
        Self::start_evaluated(store, options, None)
    }

    /// [`Hub::start`] with `evaluate` seeing every stored observation.
    pub fn start_evaluated<S: ObservationStore + 'static>(
        mut store: S,
        options: HubOptions,
        evaluate: Option<Evaluate>,
    ) -> (Hub, tokio::task::JoinHandle<S>) {
        let (queue, rx) = mpsc::channel(options.queue.max(1));
        let (updates, _) = broadcast::channel(options.broadcast.max(1));
        let latest: Arc<RwLock<HashMap<MacAddress, Observation>>> = Arc::default();
        match store.latest() {
            Ok(stored) => {
                let mut map = latest.write();
                for o in stored {
                    map.insert(o.sensor, o);
                }
            }
            Err(e) => tracing::warn!("reading the latest state: {e}"),
        }
        let counters: Arc<Counters> = Arc::default();
        let hub = Hub {
            counters: counters.clone(),
            queue,
            latest: latest.clone(),
            updates: updates.clone(),
        };
        let writer = Writer {
            dedupe: Dedupe::default(),
            latest,
            updates,
            counters,
            evaluate,
        };
        let task = tokio::spawn(run(store, rx, writer, options));
        (hub, task)
    }

    /// Stores `observations` (waiting for room in the queue) and answers once committed.
    pub async fn submit(&self, observations: Vec<Observation>) -> Result<Stored, HubError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Job::Store(Submission { observations, done }))
            .await
            .map_err(|_| HubError::Stopped)?;
        answer.await.map_err(|_| HubError::Stopped)?
    }

    /// Queues `observations` without waiting: [`HubError::Full`] at once when the queue is
    /// full (answer 503 and let the sender retry). Await the returned [`Pending`] for the commit.
    pub fn try_submit(&self, observations: Vec<Observation>) -> Result<Pending, HubError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .try_send(Job::Store(Submission { observations, done }))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    self.counters.refused_busy.fetch_add(1, Relaxed);
                    HubError::Full
                }
                mpsc::error::TrySendError::Closed(_) => HubError::Stopped,
            })?;
        Ok(Pending(answer))
    }

    /// One step of `policy` (at most `max_rows` rows removed), queued behind the submissions
    /// already waiting so ingest is never held up for long; repeat while
    /// [`Trimmed::more`].
    pub async fn trim(
        &self,
        policy: Retention,
        now_ms: i64,
        max_rows: usize,
    ) -> Result<Trimmed, HubError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Job::Trim {
                policy,
                now_ms,
                max_rows,
                done,
            })
            .await
            .map_err(|_| HubError::Stopped)?;
        answer.await.map_err(|_| HubError::Stopped)?
    }

    /// Runs `policy` to the end in steps of at most [`RETENTION_STEP`] rows, each queued
    /// behind ingest.
    /// Returns the rows expired and thinned; stops at the first error (logged).
    pub async fn retain(&self, policy: Retention, now_ms: i64) -> (u64, u64) {
        let (mut expired, mut thinned) = (0, 0);
        if policy == Retention::from_plan(None, None) {
            return (0, 0);
        }
        loop {
            match self.trim(policy, now_ms, RETENTION_STEP).await {
                Ok(t) => {
                    expired += t.expired as u64;
                    thinned += t.thinned as u64;
                    if !t.more {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!("retention: {e}");
                    break;
                }
            }
        }
        if expired + thinned > 0 {
            tracing::info!(expired, thinned, ?policy, "retention applied");
        }
        (expired, thinned)
    }

    pub fn stats(&self) -> HubStats {
        self.stats_reader().read()
    }

    /// Reads the counters without keeping the hub alive (for a `/metrics` page that may
    /// outlive it).
    pub fn stats_reader(&self) -> StatsReader {
        StatsReader {
            counters: self.counters.clone(),
            queue: self.queue.downgrade(),
            latest: Arc::downgrade(&self.latest),
        }
    }

    /// New observations as they are stored.
    pub fn subscribe(&self) -> broadcast::Receiver<Observation> {
        self.updates.subscribe()
    }

    /// Takes in observations stored around the hub (an import of history): a sensor's latest
    /// state becomes the newer of its own and the given one. Nothing is stored, broadcast or
    /// alerted on: history is not news.
    pub fn note_stored(&self, newest: &[Observation]) {
        let mut map = self.latest.write();
        for o in newest {
            match map.get(&o.sensor) {
                Some(known) if known.received_at_ms >= o.received_at_ms => {}
                _ => {
                    map.insert(o.sensor, o.clone());
                }
            }
        }
    }

    /// The newest observation of every sensor.
    pub fn latest(&self) -> Vec<Observation> {
        let mut all: Vec<Observation> = self.latest.read().values().cloned().collect();
        // Byte order is the order of the upper-case text form: no strings needed.
        all.sort_by_key(|o| o.sensor);
        all
    }
}

/// Rows one retention step may remove: the writer waits for a step, so it is kept to a few
/// milliseconds (5,000 expired rows: ~6 ms on a month of 100 sensors, the history benchmark).
pub const RETENTION_STEP: usize = 5_000;

/// The writer task's state besides the store.
struct Writer {
    dedupe: Dedupe,
    latest: Arc<RwLock<HashMap<MacAddress, Observation>>>,
    updates: broadcast::Sender<Observation>,
    counters: Arc<Counters>,
    evaluate: Option<Evaluate>,
}

async fn run<S: ObservationStore + 'static>(
    mut store: S,
    mut rx: mpsc::Receiver<Job>,
    mut writer: Writer,
    options: HubOptions,
) -> S {
    // A job taken from the queue while gathering a batch, done after that batch.
    let mut held: Option<Job> = None;
    loop {
        let job = match held.take() {
            Some(job) => job,
            None => match rx.recv().await {
                Some(job) => job,
                None => break,
            },
        };
        let first = match job {
            Job::Store(s) => s,
            Job::Trim {
                policy,
                now_ms,
                max_rows,
                done,
            } => {
                let (returned, result) = tokio::task::spawn_blocking(move || {
                    let result = store.trim(&policy, now_ms, max_rows);
                    (store, result)
                })
                .await
                .expect("the store does not panic");
                store = returned;
                if let Ok(t) = &result {
                    let removed = (t.expired + t.thinned) as u64;
                    writer.counters.trimmed.fetch_add(removed, Relaxed);
                }
                let _ = done.send(result.map_err(|e| HubError::Store(e.to_string())));
                continue;
            }
        };
        // Gather a batch: what is queued now, and more for up to batch_delay.
        let mut pending = vec![first];
        let mut size = pending[0].observations.len();
        let deadline = tokio::time::Instant::now() + options.batch_delay;
        while size < options.batch_max && held.is_none() {
            let next = match rx.try_recv() {
                Ok(job) => Some(job),
                Err(_) if options.batch_delay.is_zero() => None,
                Err(_) => tokio::time::timeout_at(deadline, rx.recv())
                    .await
                    .ok()
                    .flatten(),
            };
            match next {
                Some(Job::Store(s)) => {
                    size += s.observations.len();
                    pending.push(s);
                }
                Some(trim) => held = Some(trim),
                None => break,
            }
        }
        store = writer.write_batch(store, pending, size).await;
    }
    store
}

impl Writer {
    /// Drops copies, commits the rest in one transaction, then updates the latest state, tells
    /// subscribers and answers every submission of the batch.
    async fn write_batch<S: ObservationStore + 'static>(
        &mut self,
        mut store: S,
        pending: Vec<Submission>,
        size: usize,
    ) -> S {
        let mut batch = Vec::with_capacity(size);
        let mut counts = Vec::with_capacity(pending.len());
        for s in &pending {
            let mut stored = 0;
            for o in &s.observations {
                if self.dedupe.accept(o) {
                    batch.push(o.clone());
                    stored += 1;
                }
            }
            counts.push(Stored {
                stored,
                duplicates: s.observations.len() - stored,
            });
        }
        // The store blocks: write on the blocking pool, then take the store back.
        let (returned, result) = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let result = store.insert(&batch).map(|kept| (batch, kept));
            (store, result.map(|b| (b, started.elapsed())))
        })
        .await
        .expect("the store does not panic");
        let c = &self.counters;
        match result {
            Ok(((batch, kept), took)) => {
                // What another writer of a shared database stored first is a copy too.
                let mut flags = kept.iter();
                let counts: Vec<Stored> = counts
                    .into_iter()
                    .map(|count| {
                        let stored = flags.by_ref().take(count.stored).filter(|k| **k).count();
                        Stored {
                            stored,
                            duplicates: count.duplicates + count.stored - stored,
                        }
                    })
                    .collect();
                let batch: Vec<Observation> = batch
                    .into_iter()
                    .zip(kept)
                    .filter_map(|(o, k)| k.then_some(o))
                    .collect();
                c.batches.fetch_add(1, Relaxed);
                c.commit_micros.fetch_add(took.as_micros() as u64, Relaxed);
                c.stored.fetch_add(batch.len() as u64, Relaxed);
                c.duplicates.fetch_add((size - batch.len()) as u64, Relaxed);
                // History is not news: a measurement older than the sensor's latest (a log
                // downloaded, a gateway's backlog) is stored but neither becomes its state nor
                // is told to subscribers; a sensor's own log is never alerted on.
                let news: Vec<bool> = {
                    let mut map = self.latest.write();
                    batch
                        .iter()
                        .map(|o| {
                            let newer = map
                                .get(&o.sensor)
                                .is_none_or(|known| o.received_at_ms >= known.received_at_ms);
                            if newer {
                                map.insert(o.sensor, o.clone());
                            }
                            newer
                        })
                        .collect()
                };
                for (o, news) in batch.into_iter().zip(news) {
                    if !news {
                        continue;
                    }
                    if let Some(evaluate) = &self.evaluate {
                        if o.feed != Feed::BleHistory {
                            evaluate(&o);
                        }
                    }
                    // No subscribers is fine.
                    let _ = self.updates.send(o);
                }
                for (s, count) in pending.into_iter().zip(counts) {
                    let _ = s.done.send(Ok(count));
                }
            }
            Err(e) => {
                tracing::error!("storing {size} observations failed: {e}");
                // Nothing of this batch was kept: let the senders retry (the dedupe memory
                // must not swallow the retry).
                c.failed_batches.fetch_add(1, Relaxed);
                self.dedupe = Dedupe::default();
                for s in pending {
                    let _ = s.done.send(Err(HubError::Store(e.to_string())));
                }
            }
        }
        returned
    }
}
