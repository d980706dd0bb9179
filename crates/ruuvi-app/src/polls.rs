//! Gateways read through their `/history` (the gateway's polling mode): for a gateway one may
//! not, or does not want to, reconfigure. A read-only API key (or a login) is enough; nothing on
//! the gateway changes. Observations go to the hub, which drops the copies of a measurement
//! that also arrives by POST or MQTT (same sensor and sequence).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use ruuvi_gateway::auth::Credentials;
use ruuvi_gateway::history::PollReport;
use ruuvi_gateway::{ClientOptions, Endpoint, GatewayClient};
use ruuvi_hub::Hub;
use ruuvi_protocol::clock::Clock;
use ruuvi_secrets::{SecretKind, SecretName, SecretStore, Sensitive};
use ruuvi_wiring::app_settings::PolledGateway;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::DeskError;

/// A polled gateway and how its feed is doing.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct PollStatus {
    #[serde(flatten)]
    pub gateway: PolledGateway,
    /// The gateway's MAC, from its login.
    pub mac: Option<String>,
    pub report: PollReport,
    /// The feed ended (a login refused): it needs new credentials.
    pub stopped: bool,
}

struct Running {
    gateway: PolledGateway,
    mac: Option<String>,
    report: watch::Receiver<PollReport>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

pub(crate) struct Polls {
    hub: Hub,
    secrets: Arc<dyn SecretStore>,
    clock: Clock,
    running: Mutex<BTreeMap<String, Running>>,
}

/// Where a polled gateway's secret is kept: its read-only API key, or a user's password.
pub(crate) fn secret_name(endpoint: &str, user: Option<&str>) -> Result<SecretName, DeskError> {
    let kind = match user {
        Some(_) => SecretKind::GatewayPassword,
        None => SecretKind::GatewayApiKey,
    };
    SecretName::new(kind, endpoint).map_err(|e| DeskError::BadInput(e.to_string()))
}

impl Polls {
    pub fn new(hub: Hub, secrets: Arc<dyn SecretStore>, clock: Clock) -> Self {
        Self {
            hub,
            secrets,
            clock,
            running: Mutex::new(BTreeMap::new()),
        }
    }

    /// Logs in (so wrong credentials are said now, not in a log later), then polls in the
    /// background; one already polled at that endpoint is replaced.
    pub async fn start(&self, gateway: PolledGateway) -> Result<PollStatus, DeskError> {
        if !PolledGateway::INTERVALS.contains(&gateway.interval_s) {
            return Err(DeskError::BadInput(format!(
                "poll every {} to {} seconds",
                PolledGateway::INTERVALS.start(),
                PolledGateway::INTERVALS.end()
            )));
        }
        let endpoint =
            Endpoint::parse(&gateway.endpoint).map_err(|e| DeskError::BadInput(e.to_string()))?;
        let key = endpoint.to_string();
        let name = secret_name(&key, gateway.user.as_deref())?;
        // No keychain (a headless server) is no reason to refuse an open gateway.
        let secret = match self.secrets.get(&name) {
            Ok(secret) => secret,
            Err(e) if gateway.user.is_none() => {
                tracing::warn!(gateway = %key, "no API key from the keychain: {e}");
                None
            }
            Err(e) => return Err(DeskError::Keychain(e.to_string())),
        };
        let credentials = match (&gateway.user, secret) {
            (Some(user), Some(password)) => Credentials::Password {
                user: user.clone(),
                password,
            },
            (Some(_), None) => {
                return Err(DeskError::BadInput(format!(
                    "no password for {key} in the keychain ({name})"
                )))
            }
            (None, Some(api_key)) => Credentials::ApiKey(api_key),
            (None, None) => Credentials::None,
        };
        let mut client = GatewayClient::new(endpoint, credentials, ClientOptions::default());
        client
            .login()
            .await
            .map_err(|e| DeskError::Gateway(format!("{key}: {e}")))?;
        let mac = client.mac().map(str::to_string);
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let (report_tx, report) = watch::channel(PollReport::default());
        let (stop, stopped) = watch::channel(false);
        let period = Duration::from_secs(u64::from(gateway.interval_s));
        let hub = self.hub.clone();
        let clock = self.clock.clone();
        let label = key.clone();
        let task = tokio::spawn(async move {
            let poll = async move {
                if let Err(e) = ruuvi_gateway::history::poll_history(
                    client, period, clock, tx, report_tx, stopped,
                )
                .await
                {
                    tracing::warn!(gateway = %label, "polling stopped: {e}");
                }
            };
            tokio::join!(poll, ruuvi_wiring::observations_to_hub(hub, rx));
        });
        tracing::info!(gateway = %key, every_s = gateway.interval_s, "polling /history");
        let gateway = PolledGateway {
            endpoint: key.clone(),
            ..gateway
        };
        let running = Running {
            gateway,
            mac,
            report,
            stop,
            task,
        };
        let status = running.status();
        if let Some(old) = self.running.lock().insert(key, running) {
            old.end();
        }
        Ok(status)
    }

    /// Keeps a secret for `endpoint` in the keychain (the API key, or `user`'s password).
    pub fn remember(
        &self,
        endpoint: &str,
        user: Option<&str>,
        secret: &Sensitive<String>,
    ) -> Result<String, DeskError> {
        let key = Endpoint::parse(endpoint)
            .map_err(|e| DeskError::BadInput(e.to_string()))?
            .to_string();
        let name = secret_name(&key, user)?;
        self.secrets
            .set(&name, secret)
            .map_err(|e| DeskError::Keychain(e.to_string()))?;
        Ok(key)
    }

    pub fn stop(&self, endpoint: &str) -> bool {
        match self.running.lock().remove(endpoint) {
            Some(r) => {
                r.end();
                true
            }
            None => false,
        }
    }

    pub fn stop_all(&self) {
        for (_, r) in std::mem::take(&mut *self.running.lock()) {
            r.end();
        }
    }

    pub fn list(&self) -> Vec<PollStatus> {
        self.running.lock().values().map(Running::status).collect()
    }
}

impl Running {
    fn status(&self) -> PollStatus {
        PollStatus {
            gateway: self.gateway.clone(),
            mac: self.mac.clone(),
            report: self.report.borrow().clone(),
            stopped: self.task.is_finished(),
        }
    }

    fn end(self) {
        let _ = self.stop.send(true);
        self.task.abort();
    }
}
