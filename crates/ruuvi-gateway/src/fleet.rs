//! One profile to many gateways at once, with per-gateway progress.

use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};

use crate::auth::Credentials;
use crate::client::{ClientOptions, GatewayClient};
use crate::config::HttpProfile;
use crate::http::Endpoint;
use crate::push::{push_http_profile, GatewayState, Progress, PushOutcome};
use crate::GatewayError;

/// One gateway of a fleet.
#[derive(Debug, Clone)]
pub struct FleetTarget {
    pub endpoint: Endpoint,
    pub credentials: Credentials,
}

/// Progress of one gateway (`index` into the targets).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FleetEvent {
    pub index: usize,
    pub endpoint: String,
    #[serde(flatten)]
    pub progress: Progress,
}

/// Builds the profile for one gateway once it is logged in: a client certificate is per
/// gateway (CN = its MAC), the rest is usually shared.
pub type ProfileFor =
    Arc<dyn Fn(&GatewayClient) -> Result<HttpProfile, GatewayError> + Send + Sync>;

/// Pushes to every target, at most `concurrency` at a time (the gateways work in parallel:
/// each one's 1 s POST delay is its own). Outcomes come back in target order.
pub async fn push_fleet(
    targets: Vec<FleetTarget>,
    profile_for: ProfileFor,
    options: ClientOptions,
    concurrency: usize,
    events: Option<mpsc::UnboundedSender<FleetEvent>>,
) -> Vec<PushOutcome> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, target) in targets.into_iter().enumerate() {
        let permits = permits.clone();
        let profile_for = profile_for.clone();
        let options = options.clone();
        let events = events.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("never closed");
            let endpoint = target.endpoint.to_string();
            let mut client = GatewayClient::new(target.endpoint, target.credentials, options);
            let outcome = match client.login().await.and_then(|()| profile_for(&client)) {
                Err(e) => PushOutcome {
                    endpoint: endpoint.clone(),
                    mac: client.mac().map(str::to_string),
                    state: GatewayState::Unchanged,
                    error: Some(e),
                    read_back: None,
                },
                Ok(profile) => {
                    let report = |progress: Progress| {
                        if let Some(tx) = &events {
                            let _ = tx.send(FleetEvent {
                                index,
                                endpoint: endpoint.clone(),
                                progress,
                            });
                        }
                    };
                    push_http_profile(&mut client, &profile, &report).await
                }
            };
            (index, outcome)
        });
    }
    let mut outcomes: Vec<Option<PushOutcome>> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, outcome) = joined.expect("push tasks do not panic");
        if outcomes.len() <= index {
            outcomes.resize_with(index + 1, || None);
        }
        outcomes[index] = Some(outcome);
    }
    outcomes
        .into_iter()
        .map(|o| o.expect("every index"))
        .collect()
}
