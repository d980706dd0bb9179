//! Applying an HTTP backend profile to a gateway safely: validate → upload certificates → POST
//! the configuration → read it back and compare; on any failure put back what can be put back
//! and say exactly what state the gateway is in.

use ruuvi_secrets::Sensitive;

use crate::client::GatewayClient;
use crate::config::{GatewayConfig, HttpProfile};
use crate::GatewayError;

/// Where a push got to (for progress bars and logs; carries no secrets).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Progress {
    LoggedIn {
        firmware: Option<String>,
    },
    ReadConfig,
    Validated,
    Uploaded {
        file: String,
    },
    Posted,
    Verified,
    /// Reading the configuration back paused forwarding; an unchanged POST resumes it in 5 s.
    Resumed,
    RollingBack {
        reason: String,
    },
}

/// The gateway's state after a push.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum GatewayState {
    /// Nothing on the gateway was changed.
    Unchanged,
    /// The profile is in effect: read back and compared.
    Applied,
    /// A step failed; what had been changed was put back except `lost` (what the gateway cannot
    /// give back: a replaced certificate, an overwritten secret).
    RolledBack { lost: Vec<String> },
    /// Putting things back failed too: `changed` lists what now differs from before.
    Partial { changed: Vec<String> },
}

/// The result of one push.
#[derive(Debug, serde::Serialize)]
pub struct PushOutcome {
    pub endpoint: String,
    pub mac: Option<String>,
    pub state: GatewayState,
    /// Why it did not apply (`None` when applied).
    #[serde(serialize_with = "error_text")]
    pub error: Option<GatewayError>,
    /// The configuration as read back after an applied push (what the gateway now has).
    #[serde(skip)]
    pub read_back: Option<GatewayConfig>,
}

fn error_text<S: serde::Serializer>(e: &Option<GatewayError>, s: S) -> Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.serialize_some(&e.to_string()),
        None => s.serialize_none(),
    }
}

/// The files a profile puts into the gateway's store, in upload order.
fn uploads(profile: &HttpProfile) -> Vec<(&'static str, Sensitive<String>)> {
    let mut out = Vec::new();
    if let Some(c) = &profile.custom {
        if let Some(ca) = &c.server_ca_pem {
            out.push(("http_srv_cert", Sensitive::new(ca.clone())));
        }
        if let Some(id) = &c.client_identity {
            out.push(("http_cli_cert", Sensitive::new(id.cert_pem.clone())));
            out.push(("http_cli_key", id.key_pem.clone()));
        }
    }
    out
}

/// Applies `profile` to the gateway behind `client` (logging in first if needed).
pub async fn push_http_profile(
    client: &mut GatewayClient,
    profile: &HttpProfile,
    progress: &(dyn Fn(Progress) + Sync),
) -> PushOutcome {
    let mut outcome = PushOutcome {
        endpoint: client.endpoint().to_string(),
        mac: None,
        state: GatewayState::Unchanged,
        error: None,
        read_back: None,
    };
    let fail = |mut outcome: PushOutcome, state, e| {
        outcome.state = state;
        outcome.error = Some(e);
        outcome
    };
    if let Err(e) = client.login().await {
        return fail(outcome, GatewayState::Unchanged, e);
    }
    progress(Progress::LoggedIn {
        firmware: client.firmware().map(|f| f.to_string()),
    });
    let current = match client.config().await {
        Ok(c) => c,
        Err(e) => return fail(outcome, GatewayState::Unchanged, e),
    };
    outcome.mac = client.mac().map(str::to_string);
    progress(Progress::ReadConfig);
    if let Err(e) = profile.validate(client.firmware(), Some(&current)) {
        return fail(outcome, GatewayState::Unchanged, e);
    }
    let files = uploads(profile);
    if !files.is_empty() && !current.storage().ready {
        return fail(
            outcome,
            GatewayState::Unchanged,
            GatewayError::Unsupported(
                "the gateway's certificate storage is not initialised (POST /init_storage may reboot it): prepare it in its web page first".into(),
            ),
        );
    }
    // Every upload must fit the firmware's request limit before the first one is sent.
    for (name, content) in &files {
        if let Err(e) = client.upload_fits(name, content.expose().len()) {
            return fail(outcome, GatewayState::Unchanged, e);
        }
    }
    progress(Progress::Validated);

    let mut uploaded = Vec::new();
    for (name, content) in &files {
        if let Err(e) = client.upload_file(name, content).await {
            progress(Progress::RollingBack {
                reason: e.to_string(),
            });
            let state = roll_back(client, &current, &uploaded, false, profile).await;
            return fail(outcome, state, e);
        }
        uploaded.push(*name);
        progress(Progress::Uploaded {
            file: name.to_string(),
        });
    }
    if let Err(e) = client.post_config(&profile.post_body(&current)).await {
        progress(Progress::RollingBack {
            reason: e.to_string(),
        });
        // A POST that failed on the way may or may not have been applied: restore both.
        let state = roll_back(client, &current, &uploaded, true, profile).await;
        return fail(outcome, state, e);
    }
    progress(Progress::Posted);
    let mut read_back = None;
    let problem = match client.config().await {
        Ok(after) => {
            read_back = Some(after.clone());
            let mut diffs = profile
                .expected(client.firmware())
                .differences(&after.http());
            let storage = after.storage();
            for name in &uploaded {
                if !storage.has(name) {
                    diffs.push(format!("{name} is not in the gateway's store"));
                }
            }
            (!diffs.is_empty()).then(|| GatewayError::Rejected {
                status: 200,
                message: format!(
                    "the gateway did not take the settings: {}",
                    diffs.join("; ")
                ),
            })
        }
        Err(e) => Some(e),
    };
    if let Some(e) = problem {
        progress(Progress::RollingBack {
            reason: e.to_string(),
        });
        let state = roll_back(client, &current, &uploaded, true, profile).await;
        return fail(outcome, state, e);
    }
    progress(Progress::Verified);
    outcome.state = GatewayState::Applied;
    // The read-back put the gateway into configuration mode (no forwarding for 60 s). A POST
    // that changes nothing shortens that to 5 s; if it fails, forwarding still resumes in 60 s.
    if let Some(after) = &read_back {
        match client.post_config(&after.unchanged_body()).await {
            Ok(()) => progress(Progress::Resumed),
            Err(e) => {
                tracing::warn!(gateway = %client.endpoint(), "forwarding resumes in 60 s: {e}")
            }
        }
    }
    outcome.read_back = read_back;
    outcome
}

/// Puts back the HTTP settings of `before` (if posted) and removes uploaded files that were
/// not there before.
async fn roll_back(
    client: &mut GatewayClient,
    before: &GatewayConfig,
    uploaded: &[&str],
    posted: bool,
    profile: &HttpProfile,
) -> GatewayState {
    let mut lost = Vec::new();
    let mut failed = Vec::new();
    if posted {
        match client.post_config(&before.restore_http_body()).await {
            Ok(()) => {
                let body = profile.post_body(before);
                for key in ["http_pass", "http_bearer_token", "http_api_key"] {
                    if body.contains_key(key) {
                        lost.push(format!(
                            "the previous {key} (it was overwritten; secrets cannot be read back)"
                        ));
                    }
                }
            }
            Err(e) => failed.push(format!("the HTTP backend settings ({e})")),
        }
    }
    let storage = before.storage();
    for name in uploaded {
        if storage.has(name) {
            lost.push(format!(
                "the previous {name} (it was replaced; the gateway never gives files back)"
            ));
        } else if let Err(e) = client.delete_file(name).await {
            failed.push(format!("{name} ({e})"));
        }
    }
    if !failed.is_empty() {
        failed.extend(lost);
        return GatewayState::Partial { changed: failed };
    }
    if !posted && uploaded.is_empty() {
        return GatewayState::Unchanged;
    }
    GatewayState::RolledBack { lost }
}
