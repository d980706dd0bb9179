//! One simulated gateway: its state, its HTTP server (requests strictly one at a time) and
//! its data sender.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ruuvi_protocol::gateway::{FirmwareStyle, GatewayDocument, GatewayTag, TagFields, TagTime};
use ruuvi_protocol::MacAddress;
use tokio::net::TcpListener;
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use crate::auth::Sessions;
use crate::config::{GatewayConfig, LanAuth};
use crate::firmware::Firmware;
use crate::identity::Identity;
use crate::rng::Rng;
use crate::tags::{Advertisement, SimTag, TagKind};
use crate::{routes, sender};

/// How to start one gateway.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    pub listen: SocketAddr,
    pub firmware: Firmware,
    /// Position in the fleet: with the seed, it fixes the identity and the tags.
    pub index: u64,
    pub seed: u64,
    pub tags: usize,
    /// Every fourth tag is a Ruuvi Air when true (relayed raw by firmware before v1.16).
    pub air_tags: bool,
    /// The firmware's sleep before answering a POST (1 s on real hardware).
    pub post_delay: Duration,
    /// Wait after a failed data post (67 s on real hardware).
    pub retry_after_failure: Duration,
    /// Initial LAN auth: type, user, plain password (hashed here as the firmware stores it).
    pub lan_auth: Option<(LanAuth, String, String)>,
    pub api_key: String,
    pub api_key_rw: String,
    /// Also send the Ruuvi Network Gateway API's signed form here (`x-ruuvi-signature`).
    pub network_url: Option<String>,
    /// A second listener that plays the gateway's own Wi-Fi hotspot (10.10.0.1).
    pub hotspot_listen: Option<SocketAddr>,
    /// Where configuration and stored files survive restarts (`<gw_mac>.json`), like flash.
    pub state_dir: Option<std::path::PathBuf>,
    /// Statistics POST (`use_http_stat`): first one after this, then every `stats_period`
    /// (about 30 s and an hour on real gateways).
    pub stats_first: Duration,
    pub stats_period: Duration,
    /// Configuration mode lasts this long after `GET /ruuvi.json` or `GET /status.json` (60 s
    /// on real gateways)…
    pub config_mode: Duration,
    /// …and this long after a `POST /ruuvi.json` (5 s).
    pub config_mode_after_post: Duration,
    /// Advertise over mDNS as `_http._tcp` instance `RuuviGatewayXXXX` (off by default). On a
    /// loopback address only the loopback interface is used, so nothing leaves the host.
    pub mdns: bool,
    /// Store files whose writes fail like a flash write error does (`/ssl_cert` → 500,
    /// spec §5.14): for testing how clients recover from a failed upload.
    pub storage_write_errors: Vec<String>,
    /// Ways a peer differs from the firmware that clients must tolerate (off by default).
    pub quirks: Quirks,
    /// Settings made by hand in the web page before anyone else (a saved state wins over it).
    pub preset: Option<crate::config::Preset>,
    /// How long one minute of `remote_cfg_refresh_interval_minutes` lasts (60 s on real
    /// gateways; shorter only to test the periodic download).
    pub remote_cfg_minute: Duration,
}

/// Answers that are not the firmware's own but that a client meets in the field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quirks {
    /// The auth JSON's `lan` as 0/1 (Ruuvi's own development simulator, spec §10.1).
    pub lan_as_number: bool,
    pub metrics: MetricsQuirk,
}

/// How `GET /metrics` answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MetricsQuirk {
    #[default]
    AsFirmware,
    /// 302 to the login page, as a proxy in front of the gateway (or a build without the
    /// metrics page) answers.
    Redirect,
    /// No `ruuvigw_info{mac=…,esp_fw=…}` line.
    WithoutInfo,
}

impl std::str::FromStr for Quirks {
    type Err = String;

    /// A comma-separated list: `lan-as-number`, `metrics-redirect`, `metrics-without-info`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut q = Quirks::default();
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "lan-as-number" => q.lan_as_number = true,
                "metrics-redirect" => q.metrics = MetricsQuirk::Redirect,
                "metrics-without-info" => q.metrics = MetricsQuirk::WithoutInfo,
                other => {
                    return Err(format!(
                        "unknown quirk {other:?}: lan-as-number, metrics-redirect, metrics-without-info"
                    ))
                }
            }
        }
        Ok(q)
    }
}

impl GatewayOptions {
    pub fn new(listen: SocketAddr, firmware: Firmware) -> Self {
        Self {
            listen,
            firmware,
            index: 0,
            seed: 1,
            tags: 5,
            air_tags: true,
            post_delay: Duration::from_secs(1),
            retry_after_failure: Duration::from_secs(67),
            lan_auth: None,
            api_key: String::new(),
            api_key_rw: String::new(),
            network_url: None,
            hotspot_listen: None,
            state_dir: None,
            stats_first: Duration::from_secs(30),
            stats_period: Duration::from_secs(3600),
            mdns: false,
            storage_write_errors: Vec::new(),
            quirks: Quirks::default(),
            preset: None,
            remote_cfg_minute: Duration::from_secs(60),
            config_mode: Duration::from_secs(60),
            config_mode_after_post: Duration::from_secs(5),
        }
    }
}

/// Counters of what the sender did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SenderStats {
    pub custom_ok: u64,
    pub custom_failed: u64,
    /// Ruuvi Cloud is never contacted: its posts are only counted.
    pub ruuvi_cloud_skipped: u64,
    pub stats_sent: u64,
    /// Statistics for Ruuvi's own status URL: counted, never sent.
    pub stats_skipped: u64,
    /// Advertisements published to the MQTT broker.
    pub mqtt_published: u64,
}

pub struct GatewayState {
    pub identity: Identity,
    pub config: GatewayConfig,
    pub sessions: Sessions,
    pub tags: Vec<SimTag>,
    pub options: GatewayOptions,
    pub rng: Rng,
    pub boot: Instant,
    /// Configuration mode (after `GET /ruuvi.json`) pauses relaying until this instant.
    pub config_mode_until: Option<Instant>,
    pub nonce: u32,
    /// HMAC key of the custom target: the device id until a server sends `Ruuvi-HMAC-KEY`.
    pub hmac_key: String,
    /// HMAC key of the statistics target (same rule).
    pub stats_hmac_key: String,
    pub stats: SenderStats,
    /// AES key of the latest ECDH handshake (one context for all clients).
    pub ecdh_key: Option<[u8; 32]>,
    /// A `/validate_url` check is running (relaying is suspended meanwhile).
    pub validating: bool,
    /// A simulated firmware update.
    pub fw_update: Option<crate::fw_update::FwUpdate>,
    /// Wakes the sender when the configuration changes, so new settings apply at once.
    pub config_changed: Arc<tokio::sync::Notify>,
    /// Remote configurations downloaded and applied.
    pub remote_cfg_downloads: u64,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl GatewayState {
    pub fn new(options: GatewayOptions) -> Self {
        let rng = Rng::new(options.seed);
        let identity = Identity::generate(&rng, options.index, options.firmware);
        let mut config = GatewayConfig::factory(&identity);
        if let Some((auth, user, password)) = &options.lan_auth {
            let stored = stored_password(*auth, user, password, &identity);
            let user = match auth {
                LanAuth::Allow | LanAuth::Deny => "",
                LanAuth::Default => "Admin",
                _ => user.as_str(),
            };
            config.set_lan_auth(*auth, user, &stored);
        }
        config.set_api_keys(&options.api_key, &options.api_key_rw);
        if let Some(preset) = &options.preset {
            config.apply_lan_post(&preset.ruuvi_json, options.firmware);
            for (name, content) in &preset.files {
                config.files.insert(name, content.clone());
            }
        }
        if let Some(saved) = options
            .state_dir
            .as_ref()
            .and_then(|d| std::fs::read(state_file(d, &identity)).ok())
        {
            match serde_json::from_slice(&saved) {
                Ok(state) => config.restore(&state),
                Err(e) => tracing::warn!(
                    "ignoring unreadable saved state of {}: {e}",
                    identity.ble_mac
                ),
            }
        }
        let gateway_rng = rng.fork(0x5EED_0000 + options.index);
        let now = now_ms();
        let tags = (0..options.tags)
            .map(|i| {
                let air = options.air_tags && i % 4 == 3;
                let kind = if air {
                    TagKind::RuuviAir
                } else {
                    TagKind::RuuviTag
                };
                SimTag::new(&gateway_rng, i as u64, kind, now)
            })
            .collect();
        let mut nonce_rng = gateway_rng.fork(1);
        Self {
            hmac_key: identity.device_id_string(),
            stats_hmac_key: identity.device_id_string(),
            identity,
            config,
            sessions: Sessions::new(gateway_rng.fork(2)),
            tags,
            nonce: nonce_rng.next_u64() as u32,
            rng: gateway_rng.fork(3),
            options,
            boot: Instant::now(),
            config_mode_until: None,
            stats: SenderStats::default(),
            ecdh_key: None,
            validating: false,
            fw_update: None,
            config_changed: Arc::new(tokio::sync::Notify::new()),
            remote_cfg_downloads: 0,
        }
    }

    /// Writes the configuration to `--state-dir`, atomically (write, then rename).
    pub fn save(&self) {
        let Some(dir) = &self.options.state_dir else {
            return;
        };
        let path = state_file(dir, &self.identity);
        let tmp = path.with_extension("json.tmp");
        let text =
            serde_json::to_vec_pretty(&self.config.to_state()).expect("JSON values serialise");
        if let Err(e) = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&tmp, text))
            .and_then(|()| std::fs::rename(&tmp, &path))
        {
            tracing::warn!("cannot save state to {}: {e}", path.display());
        }
    }

    /// Finishes a simulated update: after the last stage the gateway "reboots" into the
    /// release's version (login sessions and the ECDH context are lost, as on a real reboot).
    pub fn poll_fw_update(&mut self) {
        if self.fw_update.as_ref().is_some_and(|u| u.rebooted()) {
            if let Some(target) = self.fw_update.take().and_then(|u| u.target) {
                self.identity.firmware = target;
                self.options.firmware = target;
            }
            self.sessions.drop_all();
            self.ecdh_key = None;
            self.hmac_key = self.identity.device_id_string();
            self.boot = Instant::now();
        }
    }

    pub fn updating(&self) -> bool {
        self.fw_update.is_some()
    }

    pub fn firmware(&self) -> Firmware {
        self.identity.firmware
    }

    pub fn in_config_mode(&self) -> bool {
        self.config_mode_until.is_some_and(|t| Instant::now() < t)
    }

    /// Whether the radio keeps extended (E1) advertisements.
    fn scans_extended(&self) -> bool {
        self.firmware().decodes_air_formats() && self.config.bool("scan_2mbit_phy")
    }

    /// Whether the scanning settings let a tag's advertisements through: the manufacturer
    /// filter (every simulated tag is Ruuvi's, 0x0499) and the tag list (v1.14+).
    fn forwards(&self, tag: &MacAddress) -> bool {
        let c = &self.config;
        if c.bool("company_use_filtering") && c.u64("company_id") != 0x0499 {
            return false;
        }
        if !self.firmware().has_cert_store() {
            return true;
        }
        let listed = c
            .get("scan_filter_list")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|l| {
                l.iter()
                    .filter_map(serde_json::Value::as_str)
                    .any(|m| m.eq_ignore_ascii_case(&tag.to_string()))
            });
        listed == c.bool("scan_filter_allow_listed")
    }

    /// The latest advertisement of every tag the scanning settings let through.
    pub fn latest_advertisements(&mut self) -> Vec<Advertisement> {
        let now = now_ms();
        let extended = self.scans_extended();
        let forwarded: Vec<bool> = self.tags.iter().map(|t| self.forwards(&t.mac)).collect();
        self.tags
            .iter_mut()
            .zip(forwarded)
            .filter(|(_, on)| *on)
            .map(|(t, _)| t.latest(now, extended))
            .collect()
    }

    /// Advertisements received since boot (one per tag per advertising interval); also the
    /// monotonic counter of entries when `ntp_use` is false.
    pub fn received_advertisements(&self) -> u64 {
        (self.boot.elapsed().as_millis() as u64 / 1285) * self.tags.len().max(1) as u64
    }

    /// The data envelope (§7.2 / §8) for the given advertisements.
    pub fn document(&self, advs: &[Advertisement], nonce: Option<u32>) -> GatewayDocument {
        let ntp = self.config.bool("ntp_use");
        let now = now_ms();
        let base = self.received_advertisements();
        let ble = self.firmware().has_ble_fields();
        GatewayDocument {
            coordinates: self.config.str("coordinates").to_string(),
            timestamp: ntp.then_some(now / 1000),
            nonce: nonce.map(u64::from),
            gw_mac: Some(self.identity.ble_mac),
            tags: advs
                .iter()
                .enumerate()
                .map(|(i, a)| GatewayTag {
                    mac: a.mac,
                    rssi: a.rssi,
                    time: Some(if ntp {
                        TagTime::Timestamp(a.at_ms / 1000)
                    } else {
                        TagTime::Counter(base + i as u64)
                    }),
                    ble_phy: ble.then(|| a.ble_phy.to_string()),
                    ble_chan: ble.then_some(a.ble_chan),
                    ble_tx_power: if ble { a.ble_tx_power } else { None },
                    data: Some(a.data.clone()),
                    decoded_format: None,
                    decoded: None,
                })
                .collect(),
            rejected: vec![],
        }
    }

    /// How the custom target's posts are written, from `http_data_format`.
    pub fn post_style(&self) -> FirmwareStyle {
        let fw = self.firmware();
        let fields = match self.config.str("http_data_format") {
            "ruuvi_raw_and_decoded" if fw.has_http_period() => TagFields::RawAndDecoded,
            "ruuvi_decoded" if fw.has_http_period() => TagFields::Decoded,
            _ => TagFields::Raw,
        };
        FirmwareStyle {
            fields,
            legacy: fw.numbers_as_strings(),
            air_formats: fw.decodes_air_formats(),
        }
    }
}

/// Registers `RuuviGatewayXXXX._http._tcp.local.` (no TXT records), host `ruuvigatewayxxxx.local.`,
/// like the firmware's `start_mdns` (gateway-local-api §9).
fn advertise(id: &Identity, addr: SocketAddr) -> Result<mdns_sd::ServiceDaemon, mdns_sd::Error> {
    let daemon = mdns_sd::ServiceDaemon::new()?;
    if addr.ip().is_loopback() {
        daemon.disable_interface(mdns_sd::IfKind::All)?;
        daemon.enable_interface(mdns_sd::IfKind::LoopbackV4)?;
    }
    let host = format!("{}.local.", id.hostname().to_ascii_lowercase());
    let no_txt = None::<std::collections::HashMap<String, String>>;
    let info = if addr.ip().is_unspecified() {
        // Listening everywhere: advertise every address of the host.
        mdns_sd::ServiceInfo::new(
            "_http._tcp.local.",
            &id.hostname(),
            &host,
            "",
            addr.port(),
            no_txt,
        )?
        .enable_addr_auto()
    } else {
        mdns_sd::ServiceInfo::new(
            "_http._tcp.local.",
            &id.hostname(),
            &host,
            addr.ip(),
            addr.port(),
            no_txt,
        )?
    };
    daemon.register(info)?;
    Ok(daemon)
}

fn state_file(dir: &std::path::Path, id: &Identity) -> std::path::PathBuf {
    dir.join(format!("{}.json", id.ble_mac.to_string().replace(':', "")))
}

/// The stored form of a LAN password for each auth type (§3.1).
pub fn stored_password(auth: LanAuth, user: &str, password: &str, id: &Identity) -> String {
    use base64::Engine as _;
    match auth {
        LanAuth::Default => id.default_password_hash(),
        LanAuth::Ruuvi | LanAuth::Digest => {
            ruuvi_protocol::login::stored_password_hash(user, &id.realm(), password)
        }
        LanAuth::Basic => {
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        }
        LanAuth::Allow | LanAuth::Deny => String::new(),
    }
}

/// A started gateway. Dropping it does not stop it; call [`RunningGateway::stop`].
pub struct RunningGateway {
    pub addr: SocketAddr,
    /// The hotspot listener, when one was asked for.
    pub hotspot_addr: Option<SocketAddr>,
    pub state: Arc<Mutex<GatewayState>>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    mdns: Option<mdns_sd::ServiceDaemon>,
}

impl RunningGateway {
    pub async fn start(options: GatewayOptions) -> std::io::Result<Self> {
        let listener = TcpListener::bind(options.listen).await?;
        let addr = listener.local_addr()?;
        let hotspot = match options.hotspot_listen {
            Some(a) => Some(TcpListener::bind(a).await?),
            None => None,
        };
        let hotspot_addr = hotspot.as_ref().map(|l| l.local_addr()).transpose()?;
        let options_mdns = options.mdns;
        let state = Arc::new(Mutex::new(GatewayState::new(options)));
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(listener, hotspot, state.clone(), stopped.clone()));
        let mdns = if options_mdns {
            Some(advertise(&state.lock().await.identity, addr).map_err(std::io::Error::other)?)
        } else {
            None
        };
        let sender = tokio::spawn(sender::run(state.clone(), stopped.clone()));
        let mqtt = tokio::spawn(crate::mqtt::run(state.clone(), stopped.clone()));
        let stats = tokio::spawn(crate::stats::run(state.clone(), stopped.clone()));
        let remote_cfg = tokio::spawn(crate::remote_cfg::run(state.clone(), stopped));
        Ok(Self {
            addr,
            hotspot_addr,
            state,
            stop,
            tasks: vec![server, sender, mqtt, stats, remote_cfg],
            mdns,
        })
    }

    pub async fn identity(&self) -> Identity {
        self.state.lock().await.identity.clone()
    }

    pub async fn stop(self) {
        if let Some(daemon) = &self.mdns {
            let _ = daemon.shutdown();
        }
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Accepts connections and handles them strictly one at a time, like the firmware's single
/// HTTP task: a slow request makes every other client wait.
async fn serve(
    listener: TcpListener,
    hotspot: Option<TcpListener>,
    state: Arc<Mutex<GatewayState>>,
    mut stopped: watch::Receiver<bool>,
) {
    let accept_hotspot = async |l: &Option<TcpListener>| match l {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    };
    loop {
        let (accepted, is_hotspot) = tokio::select! {
            _ = stopped.changed() => return,
            a = listener.accept() => (a, false),
            a = accept_hotspot(&hotspot) => (a, true),
        };
        let Ok((mut stream, peer)) = accepted else {
            continue;
        };
        let fw = state.lock().await.firmware();
        match crate::http::read_request(&mut stream, peer.ip(), fw).await {
            Ok(mut request) => {
                request.hotspot = is_hotspot;
                let response = routes::handle(&state, request, stream.local_addr().ok()).await;
                crate::http::write_response(&mut stream, &response).await;
            }
            // Too large, malformed or too slow: closed without an answer.
            Err(_) => drop(stream),
        }
    }
}
