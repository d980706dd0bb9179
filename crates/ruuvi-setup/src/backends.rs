//! Changing logged-in gateways' backends: preview a form's changes, push it to one or many
//! gateways with progress (validated, certificates uploaded, posted, read back, rolled back),
//! and let a gateway test a URL itself.

use std::sync::Arc;

use std::collections::HashMap;

use parking_lot::Mutex;
use ruuvi_gateway::{
    push_profile, BackendProfile, GatewayState, HttpProfile, Progress, PushOutcome, Restore,
    ScanProfile, ValidateOutcome,
};

use crate::certs::OurCertificates;
use crate::sessions::{Session, Sessions};
use crate::{
    ApplyResult, ClientCertChoice, MqttForm, OnStep, OwnServerForm, Preview, ProfileForm,
    ServerCaChoice, SetupError, StepEvent, UrlCheck,
};

#[derive(Clone)]
pub struct Backends {
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) certificates: Arc<OurCertificates>,
    /// Per gateway, the settings its last undoable change replaced (in memory: an undo is for
    /// the change just made, not across restarts).
    undo: Arc<Mutex<HashMap<String, Arc<dyn BackendProfile + Send + Sync>>>>,
}

/// How far a push is: uploads share 30–75 % (`uploaded` of `uploads` done).
pub(crate) fn percent_of(progress: &Progress, uploaded: usize, uploads: usize) -> u8 {
    match progress {
        Progress::LoggedIn { .. } => 10,
        Progress::ReadConfig => 20,
        Progress::Validated => 30,
        Progress::Uploaded { .. } => (30 + 45 * uploaded.min(uploads) / uploads.max(1)) as u8,
        Progress::Posted => 75,
        Progress::Verified => 90,
        Progress::Resumed => 100,
        Progress::RollingBack { .. } => 90,
    }
}

pub(crate) fn describe(progress: &Progress) -> String {
    match progress {
        Progress::LoggedIn { firmware } => match firmware {
            Some(f) => format!("logged in (firmware {f})"),
            None => "logged in".into(),
        },
        Progress::ReadConfig => "read its settings".into(),
        Progress::Validated => "checked the new settings".into(),
        Progress::Uploaded { file } => format!("uploaded {file}"),
        Progress::Posted => "sent the settings".into(),
        Progress::Verified => "read them back: they are in effect".into(),
        Progress::Resumed => "data forwarding resumed".into(),
        Progress::RollingBack { reason } => format!("putting the old settings back: {reason}"),
    }
}

pub(crate) fn result_of(outcome: &PushOutcome) -> ApplyResult {
    let error = outcome.error.as_ref().map(|e| {
        let what = match &outcome.state {
            GatewayState::RolledBack { lost } if !lost.is_empty() => {
                format!(
                    "; the old settings were put back except {}",
                    lost.join("; ")
                )
            }
            GatewayState::RolledBack { .. } => "; the old settings were put back".into(),
            GatewayState::Partial { changed } => format!(
                "; the gateway is partly changed ({}): open its web page and check",
                changed.join("; ")
            ),
            _ => "; nothing on the gateway was changed".into(),
        };
        format!("{e}{what}")
    });
    ApplyResult {
        endpoint: outcome.endpoint.clone(),
        mac: outcome.mac.clone(),
        state: outcome.state.clone(),
        error,
        undoable: false,
    }
}

impl Backends {
    pub fn new(sessions: Arc<Sessions>, certificates: Arc<OurCertificates>) -> Self {
        Self {
            sessions,
            certificates,
            undo: Arc::default(),
        }
    }

    /// The profile for a logged-in gateway; `issue` false: reuse certificates, never create.
    pub(crate) fn profile_for(
        &self,
        form: &ProfileForm,
        mac: Option<&str>,
        issue: bool,
    ) -> Result<HttpProfile, SetupError> {
        form.profile(self.certificates.for_form(
            form.issues_client_cert(),
            form.uses_our_ca(),
            mac,
            issue,
        )?)
    }

    /// The MQTT profile for a logged-in gateway; `issue` false: reuse certificates, never create.
    pub(crate) fn mqtt_profile_for(
        &self,
        form: &MqttForm,
        mac: Option<&str>,
        issue: bool,
    ) -> Result<ruuvi_gateway::MqttProfile, SetupError> {
        form.profile(self.certificates.for_form(
            form.issues_client_cert(),
            form.uses_our_ca(),
            mac,
            issue,
        )?)
    }

    /// What `form` would change on the gateway, and whether it can be applied.
    pub async fn preview(&self, endpoint: &str, form: &ProfileForm) -> Result<Preview, SetupError> {
        let session = self.sessions.session(endpoint)?;
        let session = session.lock().await;
        let firmware = session.client.firmware();
        // Certificates not issued yet (a dry run issues nothing) are checked once they exist;
        // the preview counts them as in use.
        let profile = self.profile_for(form, session.client.mac(), false)?;
        let mut expected = profile.expected(firmware);
        let mut uploads = Vec::new();
        if let Some(c) = expected.custom.as_mut() {
            c.use_client_cert |= form.issues_client_cert();
            c.use_server_cert |= form.uses_our_ca();
            if c.use_server_cert {
                uploads.push("http_srv_cert".to_string());
            }
            if c.use_client_cert {
                uploads.extend(["http_cli_cert".to_string(), "http_cli_key".to_string()]);
            }
        }
        if let Some(c) = &profile.custom {
            for (file, used) in [
                ("http_path", !c.extra.path.is_empty()),
                ("http_query", !c.extra.query.is_empty()),
                ("http_headers", !c.extra.headers.is_empty()),
            ] {
                if used {
                    uploads.push(file.to_string());
                }
            }
        }
        let mut problems = Vec::new();
        if let Err(e) = profile.validate(firmware, Some(&session.config)) {
            problems.push(e.to_string());
        }
        if !uploads.is_empty() && !session.config.storage().ready {
            problems.push("the gateway's certificate storage is not initialised: prepare it in its web page first".into());
        }
        Ok(Preview {
            endpoint: endpoint.to_string(),
            changes: session.config.http().changes(&expected, &profile),
            uploads,
            problems,
        })
    }

    /// Applies `form` to every gateway in `endpoints` (logged in), at most 8 at a time.
    pub async fn apply(
        &self,
        endpoints: Vec<String>,
        form: ProfileForm,
        on_step: OnStep,
    ) -> Vec<ApplyResult> {
        self.apply_each(endpoints, on_step, move |backends, mac| {
            backends.profile_for(&form, mac, true)
        })
        .await
    }

    /// Applies an MQTT `form` to every gateway in `endpoints`, at most 8 at a time, each like
    /// the HTTP backend: validated, certificates uploaded, posted, read back, rolled back.
    pub async fn apply_mqtt(
        &self,
        endpoints: Vec<String>,
        form: MqttForm,
        on_step: OnStep,
    ) -> Vec<ApplyResult> {
        self.apply_each(endpoints, on_step, move |backends, mac| {
            backends.mqtt_profile_for(&form, mac, true)
        })
        .await
    }

    /// Sets Bluetooth scanning on every gateway in `endpoints`, at most 8 at a time; each
    /// gateway's previous scanning is kept for [`Backends::undo`].
    pub async fn apply_scan(
        &self,
        endpoints: Vec<String>,
        scan: ScanProfile,
        on_step: OnStep,
    ) -> Vec<ApplyResult> {
        self.apply_each(endpoints, on_step, move |_, _| Ok(scan.clone()))
            .await
    }

    /// Puts back what the last undoable change on this gateway replaced (read back and compared
    /// like any change). Nothing to undo is `not_found`.
    pub async fn undo(&self, endpoint: &str, on_step: OnStep) -> Result<ApplyResult, SetupError> {
        let previous = self
            .undo
            .lock()
            .remove(endpoint)
            .ok_or_else(|| SetupError::NotFound(format!("no change on {endpoint} to undo")))?;
        let session = self.sessions.session(endpoint)?;
        let mut session = session.lock().await;
        let result = self
            .push(endpoint, &mut session, previous.as_ref(), &on_step)
            .await;
        if result.state != GatewayState::Applied {
            // Still there to try again.
            self.undo.lock().insert(endpoint.to_string(), previous);
        }
        Ok(result)
    }

    /// Pushes the profile `profile_for` makes for each logged-in gateway (from its MAC), at
    /// most 8 gateways at a time; results in `endpoints` order.
    pub(crate) async fn apply_each<P, F>(
        &self,
        endpoints: Vec<String>,
        on_step: OnStep,
        profile_for: F,
    ) -> Vec<ApplyResult>
    where
        P: BackendProfile + Sync + Send + 'static,
        F: Fn(&Backends, Option<&str>) -> Result<P, SetupError> + Send + Sync + 'static,
    {
        let permits = Arc::new(tokio::sync::Semaphore::new(8));
        let profile_for = Arc::new(profile_for);
        let mut tasks = tokio::task::JoinSet::new();
        for (index, endpoint) in endpoints.into_iter().enumerate() {
            let (backends, profile_for, on_step, permits) = (
                self.clone(),
                profile_for.clone(),
                on_step.clone(),
                permits.clone(),
            );
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.expect("never closed");
                let failed = |error: SetupError| ApplyResult {
                    endpoint: endpoint.clone(),
                    mac: None,
                    state: GatewayState::Unchanged,
                    error: Some(error.to_string()),
                    undoable: false,
                };
                let session = match backends.sessions.session(&endpoint) {
                    Ok(s) => s,
                    Err(e) => return (index, failed(e)),
                };
                let mut session = session.lock().await;
                let before = session.config.clone();
                let result = match profile_for(&backends, session.client.mac()) {
                    Ok(p) => {
                        let mut result = backends.push(&endpoint, &mut session, &p, &on_step).await;
                        if result.state == GatewayState::Applied {
                            // What this area had before, to put back on request.
                            backends
                                .undo
                                .lock()
                                .insert(endpoint.clone(), Arc::new(Restore::of(&p, &before)));
                            result.undoable = true;
                        }
                        result
                    }
                    Err(e) => failed(e),
                };
                (index, result)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            results.push(joined.expect("apply tasks do not panic"));
        }
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    /// Pushes `profile` to the logged-in gateway with progress; its list entry says how it
    /// ended and the session keeps the settings as read back.
    pub(crate) async fn push(
        &self,
        endpoint: &str,
        session: &mut Session,
        profile: &(dyn BackendProfile + Sync),
        on_step: &OnStep,
    ) -> ApplyResult {
        let uploads = profile.uploads().len();
        let uploaded = std::sync::atomic::AtomicUsize::new(0);
        let report = |p: Progress| {
            if let Progress::Uploaded { .. } = p {
                uploaded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            on_step(StepEvent {
                endpoint: endpoint.to_string(),
                percent: percent_of(
                    &p,
                    uploaded.load(std::sync::atomic::Ordering::Relaxed),
                    uploads,
                ),
                message: describe(&p),
            })
        };
        let before = session.config.clone();
        let body = profile.post_body(&before);
        let outcome = push_profile(&mut session.client, profile, &report).await;
        if let Some(after) = &outcome.read_back {
            session.config = after.clone();
            if outcome.state == GatewayState::Applied {
                self.sessions.note_applied(endpoint, &body, &before, after);
            } else {
                self.sessions.note_read(endpoint, after);
            }
        }
        let result = result_of(&outcome);
        let summary = match &result.error {
            None => "applied".to_string(),
            Some(e) => e.clone(),
        };
        self.sessions.record_change(endpoint, summary);
        result
    }

    /// The gateway connects to the MQTT form's broker itself (`/validate_url`, `check_mqtt`),
    /// with the form's password or the one it has saved; certificates are those in its store.
    pub async fn check_mqtt(
        &self,
        endpoint: &str,
        form: &crate::MqttBrokerForm,
    ) -> Result<UrlCheck, SetupError> {
        let broker = ruuvi_mqtt::Broker::parse_url(form.url.trim(), "")
            .map_err(|e| SetupError::BadInput(e.to_string()))?;
        let session = self.sessions.session(endpoint)?;
        let mut session = session.lock().await;
        let password = form.password.clone().filter(|s| !s.expose().is_empty());
        let outcome = session
            .client
            .validate_mqtt(
                broker.transport.firmware_name(),
                &broker.host,
                broker.port,
                form.prefix.trim(),
                form.client_id.trim(),
                form.user.trim(),
                password.as_ref(),
                !form.retain,
            )
            .await?;
        Ok(UrlCheck {
            ok: outcome.ok(),
            status: outcome.status,
            summary: outcome.summary(),
        })
    }

    /// The gateway tests the form's URL itself (`/validate_url`), with the form's secret or
    /// the one it has saved; certificates are the ones already in its store.
    pub async fn check_url(
        &self,
        endpoint: &str,
        form: &OwnServerForm,
    ) -> Result<UrlCheck, SetupError> {
        let session = self.sessions.session(endpoint)?;
        let mut session = session.lock().await;
        let secret = form.secret.clone().filter(|s| !s.expose().is_empty());
        let outcome: ValidateOutcome = session
            .client
            .validate_url(
                form.url.trim(),
                &form.auth,
                &form.user,
                secret.as_ref(),
                !matches!(form.client_cert, ClientCertChoice::None),
                !matches!(form.server_ca, ServerCaChoice::Builtin),
            )
            .await?;
        Ok(UrlCheck {
            ok: outcome.ok(),
            status: outcome.status,
            summary: outcome.summary(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_moves_forward_through_every_upload() {
        let uploaded = |file: &str| Progress::Uploaded { file: file.into() };
        let steps = [
            percent_of(&Progress::Validated, 0, 3),
            percent_of(&uploaded("http_srv_cert"), 1, 3),
            percent_of(&uploaded("http_cli_cert"), 2, 3),
            percent_of(&uploaded("http_cli_key"), 3, 3),
            percent_of(&Progress::Posted, 3, 3),
            percent_of(&Progress::Resumed, 3, 3),
        ];
        assert_eq!(steps, [30, 45, 60, 75, 75, 100]);
    }
}
