//! Remote configuration from this computer: gateways are set to download their settings from
//! this computer's receiver ([`ThisComputer::serve_config_to`]), and a profile made of the
//! Gateways page's areas becomes each gateway's own document ([`ThisComputer::documents`]),
//! which the app core publishes. `/gw_cfg_download` makes a gateway fetch at once.

use std::collections::HashMap;

use ruuvi_gateway::remote_cfg::{document, RemoteAuth, RemoteCfgProfile, RemoteSource};
use ruuvi_gateway::BackendProfile;
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::Sensitive;
use serde_json::{Map, Value};

use crate::this_computer::{resolve, ThisComputer};
use crate::{form, ApplyResult, Areas, OnStep, ReceiverTarget, SetupError, UrlCheck};

/// One gateway's document, ready to publish.
pub struct RemoteDocument {
    pub endpoint: String,
    pub gateway: MacAddress,
    pub body: Map<String, Value>,
}

/// Where the documents are: the receiver's listener, below this path.
pub const SERVED_PATH: &str = "/gw-cfg/";

impl ThisComputer {
    /// Sets each gateway to download its configuration from this computer every
    /// `refresh_minutes` (and at start), over HTTPS trusting our CA, with `token`.
    pub async fn serve_config_to(
        &self,
        endpoints: Vec<String>,
        target: &ReceiverTarget,
        token: &Sensitive<String>,
        refresh_minutes: u16,
        on_step: OnStep,
    ) -> Vec<ApplyResult> {
        if !target.https {
            let refused = |endpoint: String| {
                ApplyResult {
                endpoint,
                mac: None,
                state: ruuvi_gateway::GatewayState::Unchanged,
                error: Some("the receiver runs plain HTTP: configurations carry secrets and are served over HTTPS only".into()),
                undoable: false,
            }
            };
            return endpoints.into_iter().map(refused).collect();
        }
        // The host each gateway reaches (the server certificate names it), by gateway MAC.
        let mut sources: HashMap<String, Result<RemoteSource, String>> = HashMap::new();
        let our_ca = self.certificates.our_ca();
        for endpoint in &endpoints {
            let Ok(session) = self.sessions.session(endpoint) else {
                continue;
            };
            let session = session.lock().await;
            let Some(mac) = session.client.mac().map(str::to_string) else {
                continue;
            };
            let source = async {
                let ip = resolve(session.client.endpoint()).await?;
                let host = self.host_for(ip, true)?;
                Ok::<_, SetupError>(RemoteSource {
                    url: format!(
                        "https://{}:{}{SERVED_PATH}",
                        ruuvi_pki::url_host(&host),
                        target.port
                    ),
                    auth: RemoteAuth::Bearer(Some(token.clone())),
                    server_ca_pem: Some(
                        our_ca
                            .as_ref()
                            .map_err(|e| SetupError::Certificates(e.to_string()))?
                            .clone(),
                    ),
                    client_identity: None,
                    refresh_minutes,
                })
            }
            .await
            .map_err(|e| e.to_string());
            sources.insert(mac, source);
        }
        self.backends
            .apply_each(endpoints, on_step, move |_, mac| {
                let source = mac
                    .and_then(|m| sources.get(m))
                    .ok_or_else(|| SetupError::Gateway("the gateway did not say its MAC".into()))?;
                Ok(RemoteCfgProfile {
                    source: Some(source.clone().map_err(SetupError::Gateway)?),
                })
            })
            .await
    }

    /// Switches the gateways' remote configuration off (they keep their settings).
    pub async fn stop_serving_config_to(
        &self,
        endpoints: Vec<String>,
        on_step: OnStep,
    ) -> Vec<ApplyResult> {
        self.backends
            .apply_each(endpoints, on_step, |_, _| {
                Ok(RemoteCfgProfile { source: None })
            })
            .await
    }

    /// Each gateway's document: `areas` as they would be pushed to it (its own client
    /// certificate, its MQTT keys) over what it has, and its remote source kept on. Every
    /// gateway must have remote configuration on and already hold the certificates.
    pub async fn documents(
        &self,
        endpoints: &[String],
        areas: &Areas,
    ) -> Vec<(String, Result<RemoteDocument, SetupError>)> {
        let mut out = Vec::new();
        for endpoint in endpoints {
            let made = async {
                let session = self.sessions.session(endpoint)?;
                let session = session.lock().await;
                let mac = session.client.mac().map(str::to_string);
                let gateway = form::gateway_mac(mac.as_deref().or(session.config.gw_mac()))?;
                let profiles = self.backends.profiles_for(areas, mac.as_deref(), false)?;
                let refs: Vec<&(dyn BackendProfile + Sync)> = profiles
                    .iter()
                    .map(|p| p.as_ref() as &(dyn BackendProfile + Sync))
                    .collect();
                let body = document(&refs, &session.config)
                    .map_err(|e| SetupError::BadInput(e.to_string()))?;
                Ok(RemoteDocument {
                    endpoint: endpoint.clone(),
                    gateway,
                    body,
                })
            }
            .await;
            out.push((endpoint.clone(), made));
        }
        out
    }

    /// `POST /gw_cfg_download` on the gateway: it downloads and applies its document now.
    /// Its settings are not read back: with remote configuration on, a read pauses the
    /// gateway's forwarding for 60 s (§5.4); the download log says what it took.
    pub async fn fetch_now(&self, endpoint: &str) -> Result<UrlCheck, SetupError> {
        let session = self.sessions.session(endpoint)?;
        let mut session = session.lock().await;
        let outcome = session.client.download_config_now().await?;
        Ok(UrlCheck {
            ok: outcome.ok(),
            status: outcome.status,
            summary: if outcome.ok() {
                "the gateway downloaded and applied its configuration".into()
            } else {
                outcome.message.clone()
            },
        })
    }
}
