//! Firmware on logged-in gateways: what each runs and what its update server offers, where it
//! looks for releases, a rolling update of the ticked ones with progress, and the settings
//! that go with it (automatic updates, statistics, time and place) pushed like the backends.

use ruuvi_gateway::{
    roll_out, AutoUpdateProfile, FirmwareVersion, Release, RolloutState, StatisticsProfile,
    StatisticsTarget, TimePlaceProfile, UpdateStep, UpdateTiming,
};
use ruuvi_secrets::Sensitive;

use crate::backends::Backends;
use crate::{ApplyResult, OnStep, SetupError, StepEvent};

/// What a gateway runs and what its update server offers now.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct FirmwareOffer {
    pub endpoint: String,
    pub running: Option<String>,
    pub update_url: Option<String>,
    pub latest: Option<Release>,
    pub beta: Option<Release>,
    /// The release it would update to (newer than what it runs), if any.
    pub newer: Option<Release>,
}

/// How a firmware update ended on one gateway.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct UpdateResult {
    pub endpoint: String,
    pub outcome: RolloutState,
}

/// The statistics target as the page sends it.
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct StatisticsForm {
    /// `None`: no statistics at all.
    pub target: Option<StatisticsTargetForm>,
}

#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct StatisticsTargetForm {
    pub url: String,
    #[serde(default)]
    pub user: String,
    /// Empty or absent: the gateway keeps the password it has.
    #[serde(default)]
    #[ts(type = "string | null")]
    pub password: Option<Sensitive<String>>,
    /// Trust Ruuvi Desk's CA for the statistics server (else the built-in bundle).
    #[serde(default)]
    pub our_ca: bool,
}

/// How far an update is, for the page's progress bars: 5 % started, stages 1–4 share 5–85 %,
/// 90 % rebooting, 100 % back.
fn percent(step: &UpdateStep) -> u8 {
    match step {
        UpdateStep::Started => 5,
        UpdateStep::Running { stage, percent, .. } => {
            5 + (stage.saturating_sub(1).min(3)) * 20 + percent.min(&100) / 5
        }
        UpdateStep::Rebooting => 90,
        UpdateStep::Back { .. } => 100,
    }
}

fn describe(step: &UpdateStep) -> String {
    match step {
        UpdateStep::Started => "update started".into(),
        UpdateStep::Running { what, percent, .. } => format!("{what}: {percent} %"),
        UpdateStep::Rebooting => "rebooting into the new firmware".into(),
        UpdateStep::Back { version } => format!("back with {version}"),
    }
}

impl Backends {
    /// Asks the gateway what its update server offers (the gateway fetches it: up to 40 s).
    pub async fn firmware_offer(&self, endpoint: &str) -> Result<FirmwareOffer, SetupError> {
        let session = self.sessions.session(endpoint)?;
        let mut session = session.lock().await;
        let offered = session.client.releases().await?;
        let running = session.client.firmware();
        let newer = running.and_then(|r| offered.newer_than(r, false).cloned());
        Ok(FirmwareOffer {
            endpoint: endpoint.to_string(),
            running: running.map(|r| r.to_string()),
            update_url: session.config.str("fw_update_url").map(str::to_string),
            latest: offered.latest,
            beta: offered.beta,
            newer,
        })
    }

    /// Where the gateway looks for releases (v1.15+).
    pub async fn set_update_url(&self, endpoint: &str, url: &str) -> Result<(), SetupError> {
        let session = self.sessions.session(endpoint)?;
        let mut session = session.lock().await;
        session.client.set_update_url(url.trim()).await?;
        session.config.note("fw_update_url", url.trim().into());
        self.sessions
            .record_change(endpoint, format!("update server set to {}", url.trim()));
        Ok(())
    }

    /// Updates the gateways to `release` (`latest`, `beta`: what the first one's update server
    /// offers; else the URL of a release folder), `at_a_time` at once, waiting for each to come
    /// back with the new version; after a failure no further gateway is started.
    pub async fn update_firmware(
        &self,
        endpoints: Vec<String>,
        release: &str,
        at_a_time: usize,
        on_step: OnStep,
        timing: UpdateTiming,
    ) -> Result<Vec<UpdateResult>, SetupError> {
        let Some(first) = endpoints.first() else {
            return Ok(Vec::new());
        };
        let (url, expected) = match release {
            channel @ ("latest" | "beta") => {
                let offer = self.firmware_offer(first).await?;
                let chosen = if channel == "beta" {
                    offer.beta
                } else {
                    offer.latest
                }
                .ok_or_else(|| {
                    SetupError::NotFound(format!("the update server offers no {channel} release"))
                })?;
                (chosen.url, FirmwareVersion::parse(&chosen.version))
            }
            url if url.starts_with("http://") || url.starts_with("https://") => {
                (url.to_string(), None)
            }
            other => {
                return Err(SetupError::BadInput(format!(
                    "release {other:?}: latest, beta or the URL of a release folder"
                )))
            }
        };
        // Each gateway's session is held for its whole update: nothing else talks to it.
        let mut held = Vec::new();
        for endpoint in &endpoints {
            let session = self.sessions.session(endpoint)?;
            held.push(session.lock_owned().await);
        }
        let clients = held
            .iter()
            .map(|s| s.client.with_credentials(s.client.credentials().clone()))
            .collect();
        let report = |index: usize, step: UpdateStep| {
            on_step(StepEvent {
                endpoint: endpoints[index].clone(),
                percent: percent(&step),
                message: describe(&step),
            })
        };
        let results = roll_out(clients, &url, expected, at_a_time.max(1), timing, &report).await;
        let mut out = Vec::new();
        for ((client, outcome), (endpoint, mut session)) in
            results.into_iter().zip(endpoints.iter().zip(held))
        {
            let summary = match &outcome {
                RolloutState::Updated { version } => {
                    session.client = client;
                    format!("firmware updated to {version}")
                }
                RolloutState::Failed { error } => format!("firmware update failed: {error}"),
                RolloutState::Skipped => {
                    "firmware update not started (an earlier one failed)".into()
                }
            };
            if let RolloutState::Updated { version } = &outcome {
                session.config.note("fw_ver", version.clone().into());
                self.sessions.note_firmware(endpoint, version);
            }
            self.sessions.record_change(endpoint, summary);
            out.push(UpdateResult {
                endpoint: endpoint.clone(),
                outcome,
            });
        }
        Ok(out)
    }

    /// Sets automatic firmware updates on the gateways; each one's previous schedule is kept
    /// for [`Backends::undo`].
    pub async fn apply_auto_update(
        &self,
        endpoints: Vec<String>,
        profile: AutoUpdateProfile,
        on_step: OnStep,
    ) -> Vec<ApplyResult> {
        self.apply_each(endpoints, on_step, move |_, _| Ok(profile.clone()))
            .await
    }

    /// Sets the clock source and coordinates; each one's previous ones are kept for undo.
    pub async fn apply_time_place(
        &self,
        endpoints: Vec<String>,
        profile: TimePlaceProfile,
        on_step: OnStep,
    ) -> Vec<ApplyResult> {
        self.apply_each(endpoints, on_step, move |_, _| Ok(profile.clone()))
            .await
    }

    /// Sets (or switches off) where the gateways send their statistics.
    pub async fn apply_statistics(
        &self,
        endpoints: Vec<String>,
        form: StatisticsForm,
        on_step: OnStep,
    ) -> Vec<ApplyResult> {
        self.apply_each(endpoints, on_step, move |backends, _| {
            backends.statistics_profile(&form)
        })
        .await
    }

    pub(crate) fn statistics_profile(
        &self,
        form: &StatisticsForm,
    ) -> Result<StatisticsProfile, SetupError> {
        let target = match &form.target {
            None => None,
            Some(t) => Some(StatisticsTarget {
                url: t.url.trim().to_string(),
                user: t.user.trim().to_string(),
                password: t.password.clone().filter(|p| !p.expose().is_empty()),
                server_ca_pem: if t.our_ca {
                    Some(self.certificates.our_ca()?)
                } else {
                    None
                },
                client_identity: None,
            }),
        };
        Ok(StatisticsProfile { target })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_rises_through_the_stages() {
        let steps = [
            UpdateStep::Started,
            UpdateStep::Running {
                stage: 1,
                what: String::new(),
                percent: 50,
            },
            UpdateStep::Running {
                stage: 4,
                what: String::new(),
                percent: 100,
            },
            UpdateStep::Rebooting,
            UpdateStep::Back {
                version: "v1.17.3".into(),
            },
        ];
        let percents: Vec<u8> = steps.iter().map(percent).collect();
        assert_eq!(percents, [5, 15, 85, 90, 100]);
    }
}
