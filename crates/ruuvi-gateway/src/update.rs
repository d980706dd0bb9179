//! Firmware updates (gateway-local-api §5.12, the update progress of §5.6): what a gateway is
//! offered, one gateway updated and waited for until it is back with its new version, and a
//! rolling update of many (N at a time, stopping at the first failure).

use std::time::Duration;

use crate::client::GatewayClient;
use crate::http::{Method, Request};
use crate::{FirmwareVersion, GatewayError};

/// One release as the gateway's update server lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Release {
    pub version: String,
    /// The folder with `ruuvi_gateway_esp.bin`, `fatfs_gwui.bin`, `fatfs_nrf52.bin`.
    pub url: String,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// `GET /firmware_update.json`: what the gateway's update server (`fw_update_url`) offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Releases {
    #[serde(default)]
    pub latest: Option<Release>,
    #[serde(default)]
    pub beta: Option<Release>,
}

impl Releases {
    /// The release newer than `running`, if the server offers one (`beta`: from that channel).
    pub fn newer_than(&self, running: FirmwareVersion, beta: bool) -> Option<&Release> {
        let offered = if beta {
            self.beta.as_ref()
        } else {
            self.latest.as_ref()
        };
        offered.filter(|r| FirmwareVersion::parse(&r.version).is_some_and(|v| v > running))
    }
}

/// Where an update is (`extra` of `/status.json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum UpdateStep {
    Started,
    /// Stages 1–4 of the firmware: the three downloads and flashing the co-processor.
    Running {
        stage: u8,
        what: String,
        percent: u8,
    },
    /// Stage 5: written; the gateway reboots.
    Rebooting,
    /// Back with this version.
    Back {
        version: String,
    },
}

fn stage_name(stage: u8) -> &'static str {
    match stage {
        1 => "downloading the firmware",
        2 => "downloading the web interface",
        3 => "downloading the Bluetooth co-processor's firmware",
        4 => "flashing the Bluetooth co-processor",
        _ => "updating",
    }
}

/// How long waiting may take in all (real gateways: a few minutes) and how often to look.
#[derive(Debug, Clone, Copy)]
pub struct UpdateTiming {
    pub total: Duration,
    pub poll: Duration,
}

impl Default for UpdateTiming {
    fn default() -> Self {
        Self {
            total: Duration::from_secs(15 * 60),
            poll: Duration::from_secs(2),
        }
    }
}

impl GatewayClient {
    /// What the gateway's update server offers (the gateway fetches it: up to 40 s).
    pub async fn releases(&mut self) -> Result<Releases, GatewayError> {
        let value = self.get_json("/firmware_update.json").await?;
        serde_json::from_value(value).map_err(|e| {
            GatewayError::Protocol(format!(
                "the update server's answer is not a release list: {e}"
            ))
        })
    }

    /// `POST /fw_update.json`: the gateway checks that the three files exist under `url`, then
    /// starts. Its answer is always HTTP 200 with a status inside.
    pub async fn start_update(&mut self, url: &str) -> Result<(), GatewayError> {
        let body = serde_json::json!({ "url": url.trim_end_matches('/') }).to_string();
        let response = self
            .request(Request::new(Method::Post, "/fw_update.json").body(body.into_bytes()))
            .await?;
        crate::client::expect_ok(&response, "/fw_update.json")?;
        let answer = response.json()?;
        match answer.get("status").and_then(serde_json::Value::as_u64) {
            Some(200) => Ok(()),
            status => Err(GatewayError::Rejected {
                status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(500),
                message: format!(
                    "the gateway did not start the update: {}",
                    answer
                        .get("message")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("no reason given")
                ),
            }),
        }
    }

    /// `(stage, percent or failure message)` of a running update, `None` when none runs.
    async fn update_extra(&mut self) -> Result<Option<(u8, Result<u8, String>)>, GatewayError> {
        let status = self.status().await?;
        let Some(extra) = status.get("extra") else {
            return Ok(None);
        };
        let stage = extra
            .get("fw_updating")
            .and_then(serde_json::Value::as_u64)
            .map_or(0, |s| s.min(255) as u8);
        Ok(Some(match stage {
            6 | 7 => (
                stage,
                Err(extra
                    .get("message")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("the update failed")
                    .to_string()),
            ),
            _ => (
                stage,
                Ok(extra
                    .get("percentage")
                    .and_then(serde_json::Value::as_u64)
                    .map_or(0, |p| p.min(100) as u8)),
            ),
        }))
    }
}

/// Updates the gateway behind `client` from the release folder `url` and waits until it is
/// back: follows the stages in `/status.json`, waits out the reboot (the gateway drops every
/// login then; the client logs in again), and reads the version it now runs. `expected`: the
/// version the release should bring (an update that comes back with the old one fails).
pub async fn update_firmware(
    client: &mut GatewayClient,
    url: &str,
    expected: Option<FirmwareVersion>,
    timing: UpdateTiming,
    progress: &(dyn Fn(UpdateStep) + Sync),
) -> Result<FirmwareVersion, GatewayError> {
    client.login().await?;
    let before = client.firmware();
    client.start_update(url).await?;
    progress(UpdateStep::Started);
    let started = tokio::time::Instant::now();
    let deadline = started + timing.total;
    let mut rebooting = false;
    // A gateway may take a moment to show the update: no progress yet is not "done".
    let mut seen = false;
    loop {
        if tokio::time::Instant::now() >= deadline {
            return Err(GatewayError::Timeout(format!(
                "{}: not back from its update after {} s",
                client.endpoint(),
                timing.total.as_secs()
            )));
        }
        tokio::time::sleep(timing.poll).await;
        let extra = client.update_extra().await;
        seen |= matches!(extra, Ok(Some(_)));
        match extra {
            Ok(Some((stage @ 1..=4, Ok(percent)))) => progress(UpdateStep::Running {
                stage,
                what: stage_name(stage).to_string(),
                percent,
            }),
            Ok(Some((_, Err(message)))) => {
                return Err(GatewayError::Rejected {
                    status: 500,
                    message: format!("the update failed: {message}"),
                })
            }
            Ok(Some(_)) => {
                if !rebooting {
                    rebooting = true;
                    progress(UpdateStep::Rebooting);
                }
            }
            // No update any more: it has rebooted (or, after a minute without any sign of
            // one, it was too quick to see; the version read below tells).
            Ok(None) if seen || rebooting || started.elapsed() > Duration::from_secs(60) => break,
            Ok(None) => {}
            // Rebooting: not answering for a while is expected.
            Err(e) => {
                tracing::debug!(gateway = %client.endpoint(), "while updating: {e}");
                if !rebooting {
                    rebooting = true;
                    progress(UpdateStep::Rebooting);
                }
            }
        }
    }
    // Its version as it reports it now (a fresh login: the reboot ended every session).
    *client = client.with_credentials(client.credentials().clone());
    client.login().await?;
    let config = client.config().await?;
    let now = config
        .fw_ver()
        .and_then(FirmwareVersion::parse)
        .or(client.firmware())
        .ok_or_else(|| GatewayError::Protocol("the gateway did not say its firmware".into()))?;
    let _ = client.post_config(&config.unchanged_body()).await;
    if let Some(want) = expected {
        if now != want {
            return Err(GatewayError::Rejected {
                status: 200,
                message: format!("the gateway came back with {now}, not {want}"),
            });
        }
    } else if before == Some(now) {
        tracing::info!(gateway = %client.endpoint(), "came back with the same version {now}");
    }
    progress(UpdateStep::Back {
        version: now.to_string(),
    });
    Ok(now)
}

/// How one gateway of a rolling update ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RolloutState {
    Updated {
        version: String,
    },
    Failed {
        error: String,
    },
    /// Not started: an earlier gateway failed.
    Skipped,
}

/// Updates `clients` from `url`, `at_a_time` of them at once (1: one after another); after a
/// failure no further gateway is started. Results in the order given.
pub async fn roll_out(
    clients: Vec<GatewayClient>,
    url: &str,
    expected: Option<FirmwareVersion>,
    at_a_time: usize,
    timing: UpdateTiming,
    progress: &(dyn Fn(usize, UpdateStep) + Sync),
) -> Vec<(GatewayClient, RolloutState)> {
    let mut results: Vec<Option<(GatewayClient, RolloutState)>> = Vec::new();
    let mut pending: Vec<(usize, GatewayClient)> = clients.into_iter().enumerate().collect();
    pending.reverse();
    results.resize_with(pending.len(), || None);
    let mut failed = false;
    while !pending.is_empty() {
        let wave: Vec<(usize, GatewayClient)> = (0..at_a_time.max(1))
            .filter_map(|_| pending.pop())
            .collect();
        let runs = wave.into_iter().map(|(index, mut client)| async move {
            let step = |s| progress(index, s);
            let state = match update_firmware(&mut client, url, expected, timing, &step).await {
                Ok(v) => RolloutState::Updated {
                    version: v.to_string(),
                },
                Err(e) => RolloutState::Failed {
                    error: e.to_string(),
                },
            };
            (index, client, state)
        });
        for (index, client, state) in futures::future::join_all(runs).await {
            failed |= matches!(state, RolloutState::Failed { .. });
            results[index] = Some((client, state));
        }
        if failed {
            for (index, client) in pending.drain(..) {
                results[index] = Some((client, RolloutState::Skipped));
            }
        }
    }
    results
        .into_iter()
        .map(|r| r.expect("every gateway has an outcome"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_list_of_the_update_server() {
        // The shape of Ruuvi's own server (and of the gateway's configuration guide).
        let r: Releases = serde_json::from_str(
            r#"{"latest": {"version": "v1.17.3", "url": "https://fwupdate.ruuvi.com/v1.17.3", "created_at": "2026-06-01T12:00:00Z"},
                "beta": {"version": "v1.18.0", "url": "https://fwupdate.ruuvi.com/v1.18.0"}}"#,
        )
        .unwrap();
        let running = FirmwareVersion::parse("v1.16.2").unwrap();
        assert_eq!(r.newer_than(running, false).unwrap().version, "v1.17.3");
        assert_eq!(r.newer_than(running, true).unwrap().version, "v1.18.0");
        let current = FirmwareVersion::parse("v1.17.3").unwrap();
        assert!(r.newer_than(current, false).is_none());
        // A development build after v1.17.3 is newer than v1.17.3 itself.
        let head = FirmwareVersion::parse("v1.17.3-24-g5d0ab90").unwrap();
        assert!(r.newer_than(head, false).is_none());
        let only_latest: Releases =
            serde_json::from_str(r#"{"latest": {"version": "v1.15.0", "url": "u"}}"#).unwrap();
        assert!(only_latest.beta.is_none());
    }
}
