//! "Send data to this computer" in two steps, so that the receiver learns what to expect
//! from whoever runs it (the app core) before the gateway is pointed at it:
//! [`ThisComputer::prepare`] chooses the host the gateway can reach, issues its client
//! certificate and a bearer token; [`ThisComputer::send`] pushes the settings.

use std::net::IpAddr;
use std::sync::Arc;

use ruuvi_gateway::{DataFormat, Endpoint, HttpProfile};
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::Sensitive;

use crate::backends::Backends;
use crate::certs::OurCertificates;
use crate::sessions::Sessions;
use crate::{form, ApplyResult, OnStep, ReceiverTarget, SetupError, StepEvent};

pub struct ThisComputer {
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) certificates: Arc<OurCertificates>,
    pub(crate) backends: Backends,
}

/// A gateway about to be pointed at this computer's receiver.
pub struct SendHere {
    pub endpoint: String,
    pub gateway: MacAddress,
    /// The URL the gateway will post to.
    pub url: String,
    /// The gateway's bearer token: the receiver must expect it before the push.
    pub token: Sensitive<String>,
    /// HTTPS: the receiver must also require the gateway's client certificate.
    pub require_client_cert: bool,
    profile: HttpProfile,
}

impl ThisComputer {
    pub fn new(
        sessions: Arc<Sessions>,
        certificates: Arc<OurCertificates>,
        backends: Backends,
    ) -> Self {
        Self {
            sessions,
            certificates,
            backends,
        }
    }

    /// Everything but the push: the URL (a host of ours the gateway reaches, one of the server
    /// certificate's names over HTTPS), the gateway's client certificate (HTTPS) and a fresh
    /// bearer token. Ruuvi Cloud is left as the gateway has it.
    pub async fn prepare(
        &self,
        endpoint: &str,
        target: &ReceiverTarget,
        on_step: &OnStep,
    ) -> Result<SendHere, SetupError> {
        let session = self.sessions.session(endpoint)?;
        let session = session.lock().await;
        let gateway = form::gateway_mac(session.client.mac().or(session.config.gw_mac()))?;
        let gateway_ip = resolve(session.client.endpoint()).await?;
        let host = self.host_for(gateway_ip, target.https)?;
        let url = format!(
            "{}://{}:{}{}",
            if target.https { "https" } else { "http" },
            ruuvi_pki::url_host(&host),
            target.port,
            target.path
        );
        let (client, our_ca) = if target.https {
            on_step(StepEvent {
                endpoint: endpoint.to_string(),
                percent: 5,
                message: "issuing the gateway's client certificate".into(),
            });
            (
                Some(self.certificates.client_identity(&gateway)?),
                Some(self.certificates.our_ca()?),
            )
        } else {
            (None, None)
        };
        let token = ruuvi_secrets::random_hex(16);
        let firmware = session.client.firmware();
        let format = if firmware.is_none_or(|f| f.has_http_period_and_formats()) {
            DataFormat::RuuviRawAndDecoded
        } else {
            DataFormat::Ruuvi
        };
        let profile = form::to_this_computer(
            session.config.http().ruuvi_cloud,
            url.clone(),
            format,
            token.clone(),
            client,
            our_ca,
        );
        Ok(SendHere {
            endpoint: endpoint.to_string(),
            gateway,
            url,
            token,
            require_client_cert: target.https,
            profile,
        })
    }

    /// Points the gateway at this computer (validated, uploaded, posted, read back, rolled
    /// back like any push).
    pub async fn send(&self, plan: SendHere, on_step: OnStep) -> Result<ApplyResult, SetupError> {
        on_step(StepEvent {
            endpoint: plan.endpoint.clone(),
            percent: 8,
            message: format!("the receiver expects {} at {}", plan.gateway, plan.url),
        });
        let session = self.sessions.session(&plan.endpoint)?;
        let mut session = session.lock().await;
        Ok(self
            .backends
            .push(&plan.endpoint, &mut session, &plan.profile, &on_step)
            .await)
    }

    /// The host the gateway at `gateway` must use for this computer: one of the server
    /// certificate's names over HTTPS, else an address of ours it can reach.
    pub(crate) fn host_for(&self, gateway: IpAddr, https: bool) -> Result<String, SetupError> {
        let addresses = ruuvi_pki::local_addresses().unwrap_or_default();
        let names = if https {
            let (pem, _) = self
                .certificates
                .pki()
                .server_identity()
                .map_err(|e| SetupError::Certificates(e.to_string()))?;
            ruuvi_pki::inspect(&pem)
                .map_err(|e| SetupError::Certificates(e.to_string()))?
                .sans
        } else {
            ruuvi_pki::server_names(ruuvi_pki::local_host_name().as_deref(), &addresses)
        };
        ruuvi_pki::host_for_gateway(
            gateway,
            &addresses,
            ruuvi_pki::route_source(gateway),
            &names,
            ruuvi_pki::NameCheck::IpSans,
        )
        .ok_or_else(|| {
            SetupError::Certificates(format!(
                "none of this computer's names ({}) reaches {gateway}: re-issue the server certificate",
                names.join(", ")
            ))
        })
    }
}

pub(crate) async fn resolve(endpoint: &Endpoint) -> Result<IpAddr, SetupError> {
    if let Ok(ip) = endpoint.host.parse() {
        return Ok(ip);
    }
    tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port))
        .await
        .ok()
        .and_then(|mut a| a.next())
        .map(|a| a.ip())
        .ok_or_else(|| SetupError::Gateway(format!("cannot resolve {}", endpoint.host)))
}
