//! Demo mode: a few simulated gateways (the simulator crate) on loopback, each set up the way a
//! user sets up a real one — the gateway client logs in and pushes an HTTP profile pointing at
//! our receiver — so a new user sees live sensors within seconds. Everything it produces is
//! labelled by the faces as demo data; nothing leaves 127.0.0.1.

use std::time::Duration;

use ruuvi_gateway::{
    push_http_profile, ClientOptions, Credentials, CustomProfile, DataFormat, Endpoint,
    GatewayClient, GatewayState, HttpAuth, HttpProfile,
};
use ruuvi_gw_sim::{Firmware, GatewayOptions, RunningGateway};
use ruuvi_secrets::Sensitive;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("starting a simulated gateway: {0}")]
    Start(#[from] std::io::Error),
    #[error("setting up simulated gateway {gateway}: {reason}")]
    Setup { gateway: usize, reason: String },
}

/// How the demo looks.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub gateways: usize,
    /// Tags per gateway; every fourth is a Ruuvi Air.
    pub tags: usize,
    /// Seconds between a gateway's posts.
    pub period_s: u32,
    /// Fixes the simulated identities and values, so every start looks the same.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            gateways: 2,
            tags: 4,
            period_s: 2,
            seed: 2026,
        }
    }
}

/// The running demo gateways; [`DemoFleet::stop`] ends them.
pub struct DemoFleet {
    gateways: Vec<RunningGateway>,
}

impl DemoFleet {
    /// Starts the gateways and points each at `receiver_url` (on loopback, no auth, raw +
    /// decoded data); for an HTTPS receiver `server_ca_pem` is the CA they must trust.
    pub async fn start(
        options: &DemoOptions,
        receiver_url: &str,
        server_ca_pem: Option<String>,
    ) -> Result<Self, DemoError> {
        let mut fleet = DemoFleet {
            gateways: Vec::new(),
        };
        for index in 0..options.gateways {
            let mut o = GatewayOptions::new(
                std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                Firmware::Head,
            );
            o.index = index as u64;
            o.seed = options.seed;
            o.tags = options.tags;
            o.air_tags = true;
            // A quick setup; the firmware's 1 s per POST adds nothing to a demo.
            o.post_delay = Duration::from_millis(10);
            o.retry_after_failure = Duration::from_secs(2);
            let key = ruuvi_secrets::random_hex(16);
            o.api_key_rw = key.expose().clone();
            let gateway = RunningGateway::start(o).await?;
            let setup = configure(
                &gateway,
                key,
                receiver_url,
                options.period_s,
                server_ca_pem.clone(),
            )
            .await;
            fleet.gateways.push(gateway);
            if let Err(reason) = setup {
                fleet.stop().await;
                return Err(DemoError::Setup {
                    gateway: index,
                    reason,
                });
            }
        }
        Ok(fleet)
    }

    /// Where each simulated gateway's own web API listens.
    pub fn addresses(&self) -> Vec<std::net::SocketAddr> {
        self.gateways.iter().map(|g| g.addr).collect()
    }

    /// Each simulated gateway's address and factory password (its device id): a demo user
    /// logs in to them on the Gateways page like to a real one.
    pub async fn logins(&self) -> Vec<(std::net::SocketAddr, Sensitive<String>)> {
        let mut out = Vec::new();
        for g in &self.gateways {
            out.push((
                g.addr,
                Sensitive::new(g.identity().await.default_password()),
            ));
        }
        out
    }

    /// Each simulated gateway's address and MAC (the `gw_mac` it posts with).
    pub async fn macs(&self) -> Vec<(std::net::SocketAddr, ruuvi_protocol::MacAddress)> {
        let mut out = Vec::new();
        for g in &self.gateways {
            out.push((g.addr, g.identity().await.ble_mac));
        }
        out
    }

    pub async fn stop(self) {
        for g in self.gateways {
            g.stop().await;
        }
    }
}

async fn configure(
    gateway: &RunningGateway,
    key: Sensitive<String>,
    receiver_url: &str,
    period_s: u32,
    server_ca_pem: Option<String>,
) -> Result<(), String> {
    let mut client = GatewayClient::new(
        Endpoint::new("127.0.0.1", gateway.addr.port()),
        Credentials::ApiKey(key),
        ClientOptions::default(),
    );
    let profile = HttpProfile {
        ruuvi_cloud: false,
        custom: Some(CustomProfile {
            extra: Default::default(),
            url: receiver_url.to_string(),
            data_format: DataFormat::RuuviRawAndDecoded,
            period_s,
            auth: HttpAuth::None,
            client_identity: None,
            server_ca_pem,
        }),
    };
    let outcome = push_http_profile(&mut client, &profile, &|_| {}).await;
    match outcome.state {
        GatewayState::Applied => {
            tracing::info!(gateway = %gateway.addr, "demo gateway posts to {receiver_url}");
            Ok(())
        }
        _ => Err(outcome
            .error
            .map(|e| e.to_string())
            .unwrap_or_else(|| format!("{:?}", outcome.state))),
    }
}
