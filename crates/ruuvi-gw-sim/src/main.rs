//! `ruuvi-gw-sim`: start a fleet of simulated Ruuvi Gateways on loopback.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use ruuvi_gw_sim::{Firmware, GatewayOptions, LanAuth, RunningGateway};

#[derive(Debug, Parser)]
#[command(
    name = "ruuvi-gw-sim",
    version,
    about = "Simulated Ruuvi Gateways: the firmware's local HTTP API, login, configuration, /history and the data sender",
    after_help = "On start one JSON line per gateway is printed (address, MAC, device id, default password, API keys).\nStop with Ctrl-C."
)]
struct Args {
    /// How many gateways to start (one port each).
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Where to listen. Port 0 gives each gateway a free port; any other port is the first of
    /// `count` consecutive ports.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Firmware version to imitate: 1.13, 1.14, 1.15, 1.16, 1.17.2, 1.17.3 or head.
    #[arg(long = "fw", default_value = "head")]
    firmware: Firmware,
    /// Simulated sensors per gateway (every fourth is a Ruuvi Air).
    #[arg(long, default_value_t = 5)]
    tags: usize,
    /// Only RuuviTags, no Ruuvi Air.
    #[arg(long)]
    no_air: bool,
    /// Seed for identities and sensor data: the same seed gives the same fleet.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Initial LAN authentication: default, ruuvi, basic, digest, allow or deny.
    #[arg(long, default_value = "default")]
    lan_auth: String,
    /// User for --lan-auth ruuvi/basic/digest.
    #[arg(long, default_value = "Admin")]
    user: String,
    /// Plain password for --lan-auth ruuvi/basic/digest (stored hashed, as the firmware does).
    #[arg(long)]
    password: Option<String>,
    /// Read-only API key (Authorization: Bearer).
    #[arg(long, default_value = "")]
    api_key: String,
    /// Read-write API key.
    #[arg(long, default_value = "")]
    api_key_rw: String,
    /// The firmware's delay before answering a POST, in ms (1000 on real gateways).
    #[arg(long, default_value_t = 1000)]
    post_delay_ms: u64,
    /// Wait after a failed data post, in ms (67000 on real gateways).
    #[arg(long, default_value_t = 67_000)]
    retry_after_failure_ms: u64,
    /// Also POST the Ruuvi Network Gateway API's signed form (x-ruuvi-timestamp, x-ruuvi-nonce,
    /// x-ruuvi-signature; secret = device id + gateway MAC) to this URL every period.
    #[arg(long)]
    network_url: Option<String>,
    /// Also listen here as each gateway's own Wi-Fi hotspot (10.10.0.1): no authentication,
    /// captive-portal redirects, /info.json and /connect.json. Port 0 = a free port each.
    #[arg(long)]
    hotspot_listen: Option<SocketAddr>,
    /// Keep each gateway's configuration and uploaded files here across restarts.
    #[arg(long)]
    state_dir: Option<std::path::PathBuf>,
    /// Advertise each gateway over mDNS as `_http._tcp` instance RuuviGatewayXXXX. With a
    /// loopback --listen address only the loopback interface is used.
    #[arg(long)]
    mdns: bool,
    /// Answer as peers that are not quite the firmware, comma-separated: lan-as-number (the
    /// auth JSON's `lan` as 0/1), metrics-redirect (/metrics answers 302), metrics-without-info
    /// (/metrics has no ruuvigw_info line).
    #[arg(long, default_value = "")]
    quirks: ruuvi_gw_sim::gateway::Quirks,
    /// Start as someone set the gateway up by hand in its web page: a JSON file
    /// `{"ruuvi_json": {…keys its page POSTs…}, "files": {"http_path": "…", …}}`.
    #[arg(long)]
    set_up: Option<std::path::PathBuf>,
    /// How long one minute of `remote_cfg_refresh_interval_minutes` lasts, in ms (60000 on
    /// real gateways; shorter to watch the periodic remote-configuration download).
    #[arg(long, default_value_t = 60_000)]
    remote_cfg_minute_ms: u64,
    /// How long configuration mode (no data forwarding, no remote-configuration downloads)
    /// lasts after a read of the settings, in ms (60000 on real gateways).
    #[arg(long, default_value_t = 60_000)]
    config_mode_ms: u64,
}

fn parse_lan_auth(s: &str) -> Result<LanAuth, String> {
    Ok(match s {
        "default" => LanAuth::Default,
        "ruuvi" => LanAuth::Ruuvi,
        "basic" => LanAuth::Basic,
        "digest" => LanAuth::Digest,
        "allow" => LanAuth::Allow,
        "deny" => LanAuth::Deny,
        other => {
            return Err(format!(
                "--lan-auth {other:?}: use default, ruuvi, basic, digest, allow or deny"
            ))
        }
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let lan_auth = match parse_lan_auth(&args.lan_auth) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ruuvi-gw-sim: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if matches!(lan_auth, LanAuth::Ruuvi | LanAuth::Basic | LanAuth::Digest)
        && args.password.is_none()
    {
        eprintln!(
            "ruuvi-gw-sim: --lan-auth {} needs --password",
            args.lan_auth
        );
        return std::process::ExitCode::from(2);
    }
    let preset = match &args.set_up {
        None => None,
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|text| ruuvi_gw_sim::config::Preset::parse(&text, args.firmware))
        {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("ruuvi-gw-sim: {e}");
                return std::process::ExitCode::from(2);
            }
        },
    };
    let mut gateways = Vec::new();
    for i in 0..args.count {
        let mut listen = args.listen;
        if listen.port() != 0 {
            listen.set_port(listen.port() + i as u16);
        }
        let mut options = GatewayOptions::new(listen, args.firmware);
        options.index = u64::from(i);
        options.seed = args.seed;
        options.tags = args.tags;
        options.air_tags = !args.no_air;
        options.post_delay = Duration::from_millis(args.post_delay_ms);
        options.retry_after_failure = Duration::from_millis(args.retry_after_failure_ms);
        options.lan_auth = Some((
            lan_auth,
            args.user.clone(),
            args.password.clone().unwrap_or_default(),
        ));
        options.api_key = args.api_key.clone();
        options.api_key_rw = args.api_key_rw.clone();
        options.network_url = args.network_url.clone();
        options.state_dir = args.state_dir.clone();
        options.mdns = args.mdns;
        options.quirks = args.quirks;
        options.preset = preset.clone();
        options.remote_cfg_minute = Duration::from_millis(args.remote_cfg_minute_ms.max(1));
        options.config_mode = Duration::from_millis(args.config_mode_ms);
        options.hotspot_listen = args.hotspot_listen.map(|mut a| {
            if a.port() != 0 {
                a.set_port(a.port() + i as u16);
            }
            a
        });
        let gw = match RunningGateway::start(options).await {
            Ok(gw) => gw,
            Err(e) => {
                eprintln!("ruuvi-gw-sim: cannot listen on {listen}: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let id = gw.identity().await;
        let lan_auth_type = gw.state.lock().await.config.reported_lan_auth().as_str();
        let line = serde_json::json!({
            "address": gw.addr.to_string(),
            "hotspot_address": gw.hotspot_addr.map(|a| a.to_string()),
            "gw_mac": id.ble_mac.to_string(),
            "hostname": id.hostname(),
            "device_id": id.device_id_string(),
            "default_user": id.default_user(),
            "default_password": id.default_password(),
            "fw_ver": id.firmware.version_string(),
            "lan_auth_type": lan_auth_type,
            "api_key": args.api_key,
            "api_key_rw": args.api_key_rw,
        });
        println!("{line}");
        gateways.push(gw);
    }
    let _ = tokio::signal::ctrl_c().await;
    for gw in gateways {
        gw.stop().await;
    }
    std::process::ExitCode::SUCCESS
}
