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

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use dedupe::Dedupe;
use ruuvi_protocol::{MacAddress, Observation};
use ruuvi_store::Store;
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

/// A queued submission; [`Pending::stored`] resolves once it is committed.
pub struct Pending(oneshot::Receiver<Result<Stored, HubError>>);

impl Pending {
    pub async fn stored(self) -> Result<Stored, HubError> {
        self.0.await.map_err(|_| HubError::Stopped)?
    }
}

/// A handle to the running hub; clone it freely. The hub stops when every handle is gone.
#[derive(Clone)]
pub struct Hub {
    queue: mpsc::Sender<Submission>,
    latest: Arc<RwLock<HashMap<MacAddress, Observation>>>,
    updates: broadcast::Sender<Observation>,
}

impl Hub {
    /// Starts the hub on the current tokio runtime. The join handle gives the store back when
    /// the hub stops.
    pub fn start(store: Store, options: HubOptions) -> (Hub, tokio::task::JoinHandle<Store>) {
        let (queue, rx) = mpsc::channel(options.queue.max(1));
        let (updates, _) = broadcast::channel(options.broadcast.max(1));
        let latest: Arc<RwLock<HashMap<MacAddress, Observation>>> = Arc::default();
        if let Ok(stored) = store.latest() {
            let mut map = latest.write().expect("fresh lock");
            for o in stored {
                map.insert(o.sensor, o);
            }
        }
        let hub = Hub {
            queue,
            latest: latest.clone(),
            updates: updates.clone(),
        };
        let task = tokio::spawn(run(store, rx, latest, updates, options));
        (hub, task)
    }

    /// Stores `observations` (waiting for room in the queue) and answers once committed.
    pub async fn submit(&self, observations: Vec<Observation>) -> Result<Stored, HubError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Submission { observations, done })
            .await
            .map_err(|_| HubError::Stopped)?;
        answer.await.map_err(|_| HubError::Stopped)?
    }

    /// Queues `observations` without waiting: [`HubError::Full`] at once when the queue is
    /// full (answer 503 and let the sender retry). Await the returned [`Pending`] for the commit.
    pub fn try_submit(&self, observations: Vec<Observation>) -> Result<Pending, HubError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .try_send(Submission { observations, done })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => HubError::Full,
                mpsc::error::TrySendError::Closed(_) => HubError::Stopped,
            })?;
        Ok(Pending(answer))
    }

    /// New observations as they are stored.
    pub fn subscribe(&self) -> broadcast::Receiver<Observation> {
        self.updates.subscribe()
    }

    /// The newest observation of every sensor.
    pub fn latest(&self) -> Vec<Observation> {
        let mut all: Vec<Observation> = self
            .latest
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        all.sort_by_key(|o| o.sensor.to_string());
        all
    }
}

async fn run(
    mut store: Store,
    mut rx: mpsc::Receiver<Submission>,
    latest: Arc<RwLock<HashMap<MacAddress, Observation>>>,
    updates: broadcast::Sender<Observation>,
    options: HubOptions,
) -> Store {
    let mut dedupe = Dedupe::default();
    while let Some(first) = rx.recv().await {
        // Gather a batch: what is queued now, and more for up to batch_delay.
        let mut pending = vec![first];
        let mut size = pending[0].observations.len();
        while size < options.batch_max {
            match rx.try_recv() {
                Ok(s) => {
                    size += s.observations.len();
                    pending.push(s);
                }
                Err(_) => break,
            }
        }
        let deadline = tokio::time::Instant::now() + options.batch_delay;
        while size < options.batch_max && !options.batch_delay.is_zero() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(s)) => {
                    size += s.observations.len();
                    pending.push(s);
                }
                Ok(None) | Err(_) => break,
            }
        }
        let mut batch = Vec::with_capacity(size);
        let mut counts = Vec::with_capacity(pending.len());
        for s in &pending {
            let mut stored = 0;
            for o in &s.observations {
                if dedupe.accept(o) {
                    batch.push(o.clone());
                    stored += 1;
                }
            }
            counts.push(Stored {
                stored,
                duplicates: s.observations.len() - stored,
            });
        }
        // SQLite blocks: write on the blocking pool, then take the store back.
        let (returned, result) = tokio::task::spawn_blocking(move || {
            let result = store.insert(&batch).map(|()| batch);
            (store, result)
        })
        .await
        .expect("the store does not panic");
        store = returned;
        match result {
            Ok(batch) => {
                if let Ok(mut map) = latest.write() {
                    for o in &batch {
                        map.insert(o.sensor, o.clone());
                    }
                }
                for o in batch {
                    // No subscribers is fine.
                    let _ = updates.send(o);
                }
                for (s, count) in pending.into_iter().zip(counts) {
                    let _ = s.done.send(Ok(count));
                }
            }
            Err(e) => {
                tracing::error!("storing {size} observations failed: {e}");
                // Nothing of this batch was kept: let the senders retry (the dedupe memory
                // must not swallow the retry).
                dedupe = Dedupe::default();
                for s in pending {
                    let _ = s.done.send(Err(HubError::Store(e.to_string())));
                }
            }
        }
    }
    store
}
