//! Applying a backend profile (HTTP or MQTT) to a gateway safely: validate → upload
//! certificates → POST the configuration → read it back and compare; on any failure put back
//! what can be put back and say exactly what state the gateway is in.

use ruuvi_secrets::Sensitive;
use serde_json::{Map, Value};

use crate::client::GatewayClient;
use crate::config::{GatewayConfig, HttpProfile};
use crate::{FirmwareVersion, GatewayError};

/// One area of the gateway's settings that Ruuvi Desk sets (the HTTP backend, the MQTT
/// target), as the push needs it.
pub trait BackendProfile {
    /// Everything checkable before touching the gateway; `current` is its configuration now.
    fn validate(
        &self,
        firmware: Option<FirmwareVersion>,
        current: Option<&GatewayConfig>,
    ) -> Result<(), GatewayError>;
    /// The files to put into the gateway's store, in upload order.
    fn uploads(&self) -> Vec<(&'static str, Sensitive<String>)>;
    /// The `POST /ruuvi.json` body.
    fn post_body(&self, current: &GatewayConfig) -> Map<String, Value>;
    /// How the configuration read back differs from what was meant (empty: applied).
    fn differences(&self, firmware: Option<FirmwareVersion>, after: &GatewayConfig) -> Vec<String>;
    /// A body that puts this area back as `before` has it (secrets stay what the gateway has).
    fn restore_body(&self, before: &GatewayConfig) -> Map<String, Value>;
    /// The secret keys the body overwrites (they cannot be put back).
    fn secret_keys(&self) -> &'static [&'static str];
}

impl BackendProfile for HttpProfile {
    fn validate(
        &self,
        firmware: Option<FirmwareVersion>,
        current: Option<&GatewayConfig>,
    ) -> Result<(), GatewayError> {
        HttpProfile::validate(self, firmware, current)
    }

    fn uploads(&self) -> Vec<(&'static str, Sensitive<String>)> {
        let mut out = Vec::new();
        if let Some(c) = &self.custom {
            if let Some(ca) = &c.server_ca_pem {
                out.push(("http_srv_cert", Sensitive::new(ca.clone())));
            }
            if let Some(id) = &c.client_identity {
                out.push(("http_cli_cert", Sensitive::new(id.cert_pem.clone())));
                out.push(("http_cli_key", id.key_pem.clone()));
            }
            // The long-URL files; a part left empty keeps its old file, switched off.
            if !c.extra.path.is_empty() {
                out.push(("http_path", Sensitive::new(c.extra.path.clone())));
            }
            if !c.extra.query.is_empty() {
                out.push(("http_query", Sensitive::new(c.extra.query.clone())));
            }
            if !c.extra.headers.is_empty() {
                out.push(("http_headers", Sensitive::new(c.extra.headers_file())));
            }
        }
        out
    }

    fn post_body(&self, current: &GatewayConfig) -> Map<String, Value> {
        HttpProfile::post_body(self, current)
    }

    fn differences(&self, firmware: Option<FirmwareVersion>, after: &GatewayConfig) -> Vec<String> {
        self.expected(firmware).differences(&after.http())
    }

    fn restore_body(&self, before: &GatewayConfig) -> Map<String, Value> {
        before.restore_http_body()
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["http_pass", "http_bearer_token", "http_api_key"]
    }
}

/// The undo of a change: the settings one area had before it, put back as they were read
/// (`BackendProfile::restore_body`). Secrets cannot be read, so they stay as the change left
/// them; files stay in the store.
#[derive(Debug, Clone)]
pub struct Restore {
    body: Map<String, Value>,
    /// The values read before the change, for the keys the body sets (what must read back).
    before: Map<String, Value>,
}

impl Restore {
    /// Puts `area` back as `before` has it.
    pub fn of(area: &dyn BackendProfile, before: &GatewayConfig) -> Self {
        let body = area.restore_body(before);
        let before = body
            .keys()
            .filter_map(|k| before.raw().get(k).map(|v| (k.clone(), v.clone())))
            .collect();
        Self { body, before }
    }
}

impl BackendProfile for Restore {
    fn validate(
        &self,
        _firmware: Option<FirmwareVersion>,
        _current: Option<&GatewayConfig>,
    ) -> Result<(), GatewayError> {
        Ok(())
    }

    fn uploads(&self) -> Vec<(&'static str, Sensitive<String>)> {
        Vec::new()
    }

    fn post_body(&self, current: &GatewayConfig) -> Map<String, Value> {
        let mut body = current.unchanged_body();
        body.extend(self.body.clone());
        body
    }

    fn differences(
        &self,
        _firmware: Option<FirmwareVersion>,
        after: &GatewayConfig,
    ) -> Vec<String> {
        self.before
            .iter()
            .filter(|(k, v)| after.raw().get(k.as_str()).is_some_and(|got| got != *v))
            .map(|(k, v)| format!("{k} is {}, not {v}", after.raw()[k.as_str()]))
            .collect()
    }

    fn restore_body(&self, before: &GatewayConfig) -> Map<String, Value> {
        self.body
            .keys()
            .filter_map(|k| before.raw().get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &[]
    }
}

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

impl PushOutcome {
    /// Ends a push in `state` because of `e`.
    pub(crate) fn failed(mut self, state: GatewayState, e: GatewayError) -> Self {
        self.state = state;
        self.error = Some(e);
        self
    }
}

/// How every push begins: log in, read the configuration (both reported to `progress`).
/// `Err`: the outcome of a push that changed nothing.
pub(crate) async fn log_in_and_read(
    client: &mut GatewayClient,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(PushOutcome, GatewayConfig), PushOutcome> {
    let outcome = PushOutcome {
        endpoint: client.endpoint().to_string(),
        mac: None,
        state: GatewayState::Unchanged,
        error: None,
        read_back: None,
    };
    if let Err(e) = client.login().await {
        return Err(outcome.failed(GatewayState::Unchanged, e));
    }
    progress(Progress::LoggedIn {
        firmware: client.firmware().map(|f| f.to_string()),
    });
    let config = match client.config().await {
        Ok(c) => c,
        Err(e) => return Err(outcome.failed(GatewayState::Unchanged, e)),
    };
    let outcome = PushOutcome {
        mac: client.mac().map(str::to_string),
        ..outcome
    };
    progress(Progress::ReadConfig);
    Ok((outcome, config))
}

/// Applies an HTTP backend `profile` to the gateway behind `client` (logging in first if
/// needed).
pub async fn push_http_profile(
    client: &mut GatewayClient,
    profile: &HttpProfile,
    progress: &(dyn Fn(Progress) + Sync),
) -> PushOutcome {
    push_profile(client, profile, progress).await
}

/// Applies any backend `profile` (see [`push_http_profile`]).
pub async fn push_profile(
    client: &mut GatewayClient,
    profile: &(dyn BackendProfile + Sync),
    progress: &(dyn Fn(Progress) + Sync),
) -> PushOutcome {
    let (mut outcome, current) = match log_in_and_read(client, progress).await {
        Ok(started) => started,
        Err(unchanged) => return unchanged,
    };
    if let Err(e) = profile.validate(client.firmware(), Some(&current)) {
        return outcome.failed(GatewayState::Unchanged, e);
    }
    let files = profile.uploads();
    if !files.is_empty() && !current.storage().ready {
        return outcome.failed(GatewayState::Unchanged,
            GatewayError::Unsupported(
                "the gateway's certificate storage is not initialised (POST /init_storage may reboot it): prepare it in its web page first".into(),
            ),
        );
    }
    // Every upload must fit the firmware's request limit before the first one is sent.
    for (name, content) in &files {
        if let Err(e) = client.upload_fits(name, content.expose().len()) {
            return outcome.failed(GatewayState::Unchanged, e);
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
            return outcome.failed(state, e);
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
        return outcome.failed(state, e);
    }
    progress(Progress::Posted);
    let mut read_back = None;
    let problem = match client.config().await {
        Ok(after) => {
            read_back = Some(after.clone());
            let mut diffs = profile.differences(client.firmware(), &after);
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
        return outcome.failed(state, e);
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
    profile: &(dyn BackendProfile + Sync),
) -> GatewayState {
    let mut lost = Vec::new();
    let mut failed = Vec::new();
    if posted {
        match client.post_config(&profile.restore_body(before)).await {
            Ok(()) => {
                let body = profile.post_body(before);
                for key in profile.secret_keys() {
                    if body.contains_key(*key) {
                        lost.push(format!(
                            "the previous {key} (it was overwritten; secrets cannot be read back)"
                        ));
                    }
                }
            }
            Err(e) => failed.push(format!("the settings posted ({e})")),
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
