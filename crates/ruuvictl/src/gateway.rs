//! `ruuvictl gateway`: find gateways, log in, show and change their HTTP(S) backend and
//! certificates. Credentials come from the environment, standard input or the keychain and are
//! never printed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use ruuvi_gateway::discovery::{self, Found};
use ruuvi_gateway::{
    push_http_profile, ClientIdentity, ClientOptions, Credentials, CustomProfile, DataFormat,
    Endpoint, GatewayClient, GatewayError, GatewayState, HttpAuth, HttpProfile,
};
use ruuvi_secrets::{SecretKind, SecretName, SecretStore, Sensitive};

/// How to log in to the gateway.
#[derive(Debug, Clone, Args)]
pub struct Login {
    /// The gateway: host name or address, `:port` for the simulator.
    gateway: String,
    /// Log in with an API key instead of a password: `RUUVI_GATEWAY_API_KEY`, else the
    /// keychain's `gateway-api-key-rw/<ID>`, then `gateway-api-key/<ID>`.
    #[arg(long)]
    api_key: bool,
    /// The LAN user (the factory one is Admin; its password is the device id on the label).
    #[arg(long, default_value = "Admin")]
    user: String,
    /// Read the password from standard input (else `RUUVI_GATEWAY_PASSWORD`, else the
    /// keychain's `gateway-password/<ID>`; none at all logs in without credentials).
    #[arg(long)]
    password_stdin: bool,
    /// The keychain id of this gateway's secrets [default: the gateway argument].
    #[arg(long)]
    id: Option<String>,
    /// Print JSON for scripts.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Find gateways: mDNS, and optionally a probe of hosts you name (`GET /` only).
    Discover {
        /// How long to listen for mDNS answers.
        #[arg(long, default_value_t = 3)]
        mdns_seconds: u64,
        /// Also probe these hosts: `a, b`, `192.168.1.10-40`, `host:port`.
        #[arg(long)]
        probe: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Log in and show firmware, MAC, LAN auth and network status (no configuration mode).
    Info(Login),
    /// The gateway's configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The gateway's certificate store.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Update the firmware of one gateway or several (--also), N at a time, waiting for each
    /// to come back with the new version; after a failure no further gateway is started.
    Update(Update),
    /// Make the gateway itself test a server URL (`/validate_url`).
    Validate {
        #[command(flatten)]
        login: Login,
        #[arg(long)]
        url: String,
        /// none, basic, bearer, token or api_key.
        #[arg(long, default_value = "none")]
        auth: String,
        #[arg(long, default_value = "")]
        auth_user: String,
        /// Test with the secret the gateway has saved (else `RUUVI_HTTP_SECRET` is sent,
        /// encrypted).
        #[arg(long)]
        saved: bool,
        #[arg(long)]
        client_cert: bool,
        #[arg(long)]
        server_cert: bool,
    },
    /// The latest decoded measurement of every sensor the gateway hears (`/history`).
    History(Login),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show the HTTP backend and the certificate store. Note: reading the configuration
    /// pauses the gateway's data forwarding for 60 s.
    Show(Login),
    /// Set Ruuvi Cloud and the own server: validated, certificates uploaded, configuration
    /// posted, read back and compared; rolled back on failure.
    SetHttp(SetHttp),
    /// Set the MQTT target (broker, transport, topics' prefix, data format, login,
    /// certificates) the same way, or switch MQTT off.
    SetMqtt(SetMqtt),
    /// Set Bluetooth scanning: the manufacturer filter, a list of tags to forward (or to
    /// leave out), and the radio's PHYs and channels; read back and compared, put back on
    /// failure.
    SetScan(SetScan),
    /// Set LAN access: the login (type, user, password) and the read-only and read-write API
    /// keys (generated here, kept in the keychain). The credentials Ruuvi Desk uses afterwards
    /// are proved by logging in with them; if they do not work the old access is put back.
    SetLanAccess(SetLanAccess),
    /// Set where the gateway's clock comes from (NTP servers, DHCP, or none: counters instead
    /// of times in its data) and/or the coordinates it copies into every message.
    SetTime(SetTime),
    /// Set where the gateway downloads its configuration from (remote configuration: at
    /// start and every --refresh minutes), or switch it off with --off.
    SetRemote(SetRemote),
    /// Make the gateway download and apply its remote configuration now (`/gw_cfg_download`).
    FetchRemote(Login),
    /// Set when the gateway installs firmware updates by itself.
    SetAutoUpdate(SetAutoUpdate),
    /// Set where the gateway sends its hourly statistics, or switch them off with --off.
    SetStatistics(SetStatistics),
    /// Set where the gateway looks for firmware releases (v1.15+).
    SetUpdateUrl {
        #[command(flatten)]
        login: Login,
        url: String,
    },
}

#[derive(Debug, Args)]
pub struct SetAutoUpdate {
    #[command(flatten)]
    login: Login,
    /// regular (releases), beta (betas too) or manual (never by itself).
    #[arg(long, default_value = "regular")]
    cycle: String,
    /// Days it may update on, comma-separated: sun,mon,tue,wed,thu,fri,sat [default: all].
    #[arg(long, default_value = "sun,mon,tue,wed,thu,fri,sat")]
    days: String,
    /// Hours it may update in, e.g. `1-5` (0–24).
    #[arg(long, default_value = "0-24")]
    hours: String,
    /// Its time zone, hours from UTC.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    tz: i8,
}

#[derive(Debug, Args)]
pub struct SetStatistics {
    #[command(flatten)]
    login: Login,
    #[arg(long, required_unless_present = "off", conflicts_with = "off")]
    url: Option<String>,
    #[arg(long)]
    off: bool,
    /// Basic auth user; its password from `RUUVI_STAT_PASSWORD` (none: the gateway keeps its).
    #[arg(long, default_value = "")]
    stat_user: String,
    /// Trust Ruuvi Desk's own CA for the statistics server.
    #[arg(long)]
    our_ca: bool,
}

#[derive(Debug, Args)]
pub struct SetRemote {
    #[command(flatten)]
    login: Login,
    /// A base URL (the gateway asks for `<url>/<MAC>.json`, then `<url>/gw_cfg.json`) or a
    /// `.json` URL. `ruuvictl serve` serves at `https://<this computer>:<port>/gw-cfg/`.
    #[arg(long, required_unless_present = "off", conflicts_with = "off")]
    url: Option<String>,
    /// Switch remote configuration off (the gateway keeps its settings).
    #[arg(long)]
    off: bool,
    /// none, basic or bearer.
    #[arg(long, default_value = "none")]
    auth: String,
    #[arg(long, default_value = "")]
    auth_user: String,
    /// The password or token from standard input (else `RUUVI_REMOTE_CFG_SECRET`; none: the
    /// gateway keeps the one it has).
    #[arg(long)]
    secret_stdin: bool,
    /// Minutes between downloads; 0: only at start and when asked.
    #[arg(long, default_value_t = 60)]
    refresh: u16,
    #[command(flatten)]
    certificates: Certificates,
}

#[derive(Debug, Args)]
pub struct SetTime {
    #[command(flatten)]
    login: Login,
    /// `off`, `dhcp`, or up to four servers, comma-separated [default: unchanged].
    #[arg(long)]
    ntp: Option<String>,
    /// Free text of at most 63 characters, e.g. `60.1699,24.9384`; "" clears [default: unchanged].
    #[arg(long)]
    coordinates: Option<String>,
}

#[derive(Debug, Args)]
pub struct SetLanAccess {
    #[command(flatten)]
    login: Login,
    /// The new LAN login: default, ruuvi, basic, digest, allow or deny [default: unchanged].
    /// ruuvi/basic/digest take --lan-user and a password from `RUUVI_NEW_LAN_PASSWORD` or
    /// --new-password-stdin.
    #[arg(long = "login")]
    new_login: Option<String>,
    #[arg(long, default_value = "Admin")]
    lan_user: String,
    #[arg(long)]
    new_password_stdin: bool,
    /// The read-only API key: `generate` (a new one, kept as gateway-api-key/<ID>) or `remove`.
    #[arg(long)]
    read_key: Option<String>,
    /// The read-write API key: `generate` (kept as gateway-api-key-rw/<ID>, and used by Ruuvi
    /// Desk from then on) or `remove`.
    #[arg(long)]
    write_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct Update {
    #[command(flatten)]
    login: Login,
    /// More gateways, logged in to the same way (their keychain ids are their addresses).
    #[arg(long)]
    also: Vec<String>,
    /// `latest` or `beta` (what the first gateway's update server offers), or a release
    /// folder's URL (holding ruuvi_gateway_esp.bin, fatfs_gwui.bin, fatfs_nrf52.bin).
    #[arg(long, default_value = "latest")]
    release: String,
    /// How many gateways update at once.
    #[arg(long, default_value_t = 1)]
    at_a_time: usize,
    /// Give up on a gateway not back after this many seconds.
    #[arg(long, default_value_t = 900)]
    timeout_s: u64,
}

#[derive(Debug, Args)]
pub struct SetScan {
    #[command(flatten)]
    login: Login,
    /// Forward only this manufacturer's advertisements: `ruuvi` (0x0499, the default), a
    /// number (decimal or 0x…), or `off` for every manufacturer.
    #[arg(long, default_value = "ruuvi")]
    company: String,
    /// Forward only these tags (repeat for each).
    #[arg(long = "allow", conflicts_with = "deny")]
    allow: Vec<ruuvi_protocol::MacAddress>,
    /// Forward every tag but these (repeat for each).
    #[arg(long = "deny")]
    deny: Vec<ruuvi_protocol::MacAddress>,
    /// PHYs to listen on, comma-separated from 1m, 2m, coded [default: the firmware's].
    #[arg(long, value_delimiter = ',')]
    phys: Vec<String>,
    /// Advertising channels, comma-separated from 37, 38, 39 [default: the firmware's].
    #[arg(long, value_delimiter = ',')]
    channels: Vec<u8>,
}

#[derive(Debug, Args)]
pub struct SetMqtt {
    #[command(flatten)]
    login: Login,
    /// The broker: mqtt://host:port (TCP), mqtts:// (SSL), ws:// or wss://.
    #[arg(long, required_unless_present = "off")]
    broker: Option<String>,
    /// Switch the gateway's MQTT off.
    #[arg(long, conflicts_with = "broker")]
    off: bool,
    /// Topics are <prefix><TAG MAC> [default: the gateway's, ruuvi/<GW MAC>/].
    #[arg(long, default_value = "")]
    prefix: String,
    /// The gateway's client id [default: its MAC].
    #[arg(long, default_value = "")]
    client_id: String,
    /// ruuvi_raw, ruuvi_raw_and_decoded or ruuvi_decoded.
    #[arg(long, default_value = "ruuvi_raw")]
    format: String,
    /// Seconds between sends; 0 sends every advertisement at once.
    #[arg(long, default_value_t = 0)]
    interval: u32,
    /// Publish without the retain flag.
    #[arg(long)]
    no_retain: bool,
    /// The broker user; its password from standard input (--mqtt-password-stdin), else
    /// `RUUVI_MQTT_PASSWORD`, else the keychain's `mqtt-password/host:port:user`.
    #[arg(long, default_value = "")]
    mqtt_user: String,
    #[arg(long)]
    mqtt_password_stdin: bool,
    #[command(flatten)]
    certificates: Certificates,
}

/// The certificate options of `set-http` and `set-mqtt`.
#[derive(Debug, Args)]
pub struct Certificates {
    /// Client certificate and key (PEM files) for the gateway to present.
    #[arg(long, requires = "client_key")]
    client_cert: Option<PathBuf>,
    #[arg(long, requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Issue (or reuse) this gateway's client certificate from Ruuvi Desk's CA.
    #[arg(long, conflicts_with = "client_cert")]
    issue_client_cert: bool,
    /// The CA the gateway should trust for the server (PEM file).
    #[arg(long)]
    server_ca: Option<PathBuf>,
    /// Trust Ruuvi Desk's own CA for the server.
    #[arg(long, conflicts_with = "server_ca")]
    our_ca: bool,
}

#[derive(Debug, Args)]
pub struct SetHttp {
    #[command(flatten)]
    login: Login,
    /// Send to Ruuvi Cloud: on or off.
    #[arg(long, default_value = "on")]
    ruuvi_cloud: String,
    /// The own server's URL (none: the own server is switched off).
    #[arg(long)]
    url: Option<String>,
    /// ruuvi, ruuvi_raw_and_decoded or ruuvi_decoded.
    #[arg(long, default_value = "ruuvi")]
    format: DataFormat,
    /// Seconds between posts.
    #[arg(long, default_value_t = 10)]
    interval: u32,
    /// none, basic, bearer, token or api_key.
    #[arg(long, default_value = "none")]
    auth: String,
    /// The Basic auth user.
    #[arg(long, default_value = "")]
    auth_user: String,
    /// The auth secret from standard input (else `RUUVI_HTTP_SECRET`, else the keychain's
    /// `receiver-auth/<ID>`; none: the gateway keeps the one it has).
    #[arg(long)]
    secret_stdin: bool,
    #[command(flatten)]
    certificates: Certificates,
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Upload a PEM file as one of the store's files (e.g. http_srv_cert).
    Upload {
        #[command(flatten)]
        login: Login,
        name: String,
        file: PathBuf,
    },
    /// Remove one of the store's files.
    Remove {
        #[command(flatten)]
        login: Login,
        name: String,
    },
}

/// A failure with the exit code that says what kind it is.
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl From<GatewayError> for Failure {
    fn from(e: GatewayError) -> Self {
        Failure {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure { message, code: 1 }
    }
}

fn secret_from(
    env: &str,
    stdin: bool,
    keychain: &dyn SecretStore,
    names: &[SecretName],
) -> Result<Option<Sensitive<String>>, Failure> {
    if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading standard input: {e}"))?;
        let text = Sensitive::new(text);
        let value = text.expose().trim_end_matches(['\r', '\n']).to_string();
        return Ok(Some(Sensitive::new(value)));
    }
    if let Ok(value) = std::env::var(env) {
        return Ok(Some(Sensitive::new(value)));
    }
    for name in names {
        match keychain.get(name) {
            Ok(Some(value)) => return Ok(Some(value)),
            Ok(None) => {}
            // Nothing stored is possible without a keychain: go on without, but say why.
            Err(e @ ruuvi_secrets::SecretError::Unavailable { .. }) => {
                eprintln!("ruuvictl: not looking in the keychain for {name}: {e}");
                return Ok(None);
            }
            Err(e) => return Err(e.to_string().into()),
        }
    }
    Ok(None)
}

fn name(kind: SecretKind, id: &str) -> Result<SecretName, Failure> {
    SecretName::new(kind, id).map_err(|e| Failure {
        message: format!("{e} (pass --id)"),
        code: 2,
    })
}

fn connect(login: &Login, keychain: &dyn SecretStore) -> Result<GatewayClient, Failure> {
    let endpoint = Endpoint::parse(&login.gateway)?;
    let id = login.id.clone().unwrap_or_else(|| login.gateway.clone());
    let credentials = if login.api_key {
        let names = [
            name(SecretKind::GatewayApiKeyRw, &id)?,
            name(SecretKind::GatewayApiKey, &id)?,
        ];
        match secret_from("RUUVI_GATEWAY_API_KEY", false, keychain, &names)? {
            Some(key) => Credentials::ApiKey(key),
            None => {
                return Err(Failure {
                    message: format!(
                        "no API key: set RUUVI_GATEWAY_API_KEY or store gateway-api-key-rw/{id}"
                    ),
                    code: 2,
                })
            }
        }
    } else {
        let names = [name(SecretKind::GatewayPassword, &id)?];
        match secret_from(
            "RUUVI_GATEWAY_PASSWORD",
            login.password_stdin,
            keychain,
            &names,
        )? {
            Some(password) => Credentials::Password {
                user: login.user.clone(),
                password,
            },
            None => Credentials::None,
        }
    };
    Ok(GatewayClient::new(
        endpoint,
        credentials,
        ClientOptions::default(),
    ))
}

fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("plain data")
    );
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::from(format!("{}: {e}", path.display())))
}

pub async fn run(
    command: GatewayCommand,
    data_dir: &Path,
    keychain: &dyn SecretStore,
) -> Result<(), Failure> {
    match command {
        GatewayCommand::Discover {
            mdns_seconds,
            probe,
            json,
        } => {
            let mut found =
                discovery::discover(Duration::from_secs(mdns_seconds), Duration::from_secs(3))
                    .await?;
            if let Some(text) = probe {
                let targets = discovery::parse_targets(&text)?;
                found.extend(
                    discovery::probe(targets, Found::Probe, 32, Duration::from_secs(3)).await,
                );
            }
            if json {
                print_json(&found);
            } else if found.is_empty() {
                println!("no gateways found");
            } else {
                for d in &found {
                    let state = match &d.reachable {
                        Ok(()) => "Ruuvi Gateway".to_string(),
                        Err(why) => why.clone(),
                    };
                    println!(
                        "{}\t{}\t{:?}\t{}\t{}\t{state}",
                        d.endpoint,
                        d.name.as_deref().unwrap_or("-"),
                        d.found,
                        d.firmware.as_deref().unwrap_or("-"),
                        d.lan_auth.as_deref().unwrap_or("-"),
                    );
                }
            }
        }
        GatewayCommand::Info(login) => {
            let mut c = connect(&login, keychain)?;
            c.login().await?;
            let status = c.status().await?;
            let info = serde_json::json!({
                "endpoint": c.endpoint().to_string(),
                "name": c.info().map(|i| i.gateway_name.clone()),
                "mac": c.mac(),
                "firmware": c.firmware().map(|f| f.to_string()),
                "lan_auth_type": c.info().map(|i| i.lan_auth_type.clone()),
                "encrypted_posts": c.encrypts(),
                "status": status,
            });
            if login.json {
                print_json(&info);
            } else {
                for key in [
                    "endpoint",
                    "name",
                    "mac",
                    "firmware",
                    "lan_auth_type",
                    "encrypted_posts",
                ] {
                    println!("{key:16}{}", info[key]);
                }
                println!("{:16}{}", "status", info["status"]);
            }
        }
        GatewayCommand::Config(ConfigCommand::Show(login)) => {
            let mut c = connect(&login, keychain)?;
            let config = c.config().await?;
            let shown = serde_json::json!({
                "fw_ver": config.fw_ver(),
                "gw_mac": config.gw_mac(),
                "areas": config.areas(),
            });
            if login.json {
                print_json(&shown);
            } else {
                eprintln!(
                    "(the gateway pauses data forwarding for 60 s after its configuration is read)"
                );
                print_json(&shown);
            }
        }
        GatewayCommand::Config(ConfigCommand::SetMqtt(args)) => {
            set_mqtt(args, data_dir, keychain).await?;
        }
        GatewayCommand::Config(ConfigCommand::SetHttp(args)) => {
            set_http(args, data_dir, keychain).await?;
        }
        GatewayCommand::Update(args) => update(args, keychain).await?,
        GatewayCommand::Config(ConfigCommand::SetTime(args)) => {
            use ruuvi_gateway::{Clock, TimePlaceProfile};
            let clock = args.ntp.as_deref().map(|n| match n {
                "off" => Clock::Off,
                "dhcp" => Clock::Dhcp,
                list => Clock::Servers(
                    list.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                ),
            });
            if clock.is_none() && args.coordinates.is_none() {
                return Err(Failure {
                    message: "nothing to set: --ntp and/or --coordinates".into(),
                    code: 2,
                });
            }
            let profile = TimePlaceProfile {
                clock,
                coordinates: args.coordinates.clone(),
            };
            push_area(&args.login, keychain, &profile).await?;
        }
        GatewayCommand::Config(ConfigCommand::SetAutoUpdate(args)) => {
            let profile = auto_update_profile(&args)?;
            push_area(&args.login, keychain, &profile).await?;
        }
        GatewayCommand::Config(ConfigCommand::SetStatistics(args)) => {
            let target = match &args.url {
                None => None,
                Some(url) => Some(ruuvi_gateway::StatisticsTarget {
                    url: url.clone(),
                    user: args.stat_user.clone(),
                    password: std::env::var("RUUVI_STAT_PASSWORD")
                        .ok()
                        .map(Sensitive::new),
                    server_ca_pem: if args.our_ca {
                        Some(
                            ruuvi_pki::Pki::new(data_dir.join("pki"), keychain)
                                .ca_pem()
                                .map_err(|e| Failure::from(e.to_string()))?,
                        )
                    } else {
                        None
                    },
                    client_identity: None,
                }),
            };
            let profile = ruuvi_gateway::StatisticsProfile { target };
            push_area(&args.login, keychain, &profile).await?;
        }
        GatewayCommand::Config(ConfigCommand::SetUpdateUrl { login, url }) => {
            let mut client = connect(&login, keychain)?;
            client.login().await?;
            client.set_update_url(&url).await?;
            println!("{}: looks for releases at {url}", login.gateway);
        }
        GatewayCommand::Config(ConfigCommand::SetRemote(args)) => {
            set_remote(args, data_dir, keychain).await?;
        }
        GatewayCommand::Config(ConfigCommand::FetchRemote(login)) => {
            let mut client = connect(&login, keychain)?;
            let outcome = client.download_config_now().await?;
            if login.json {
                print_json(
                    &serde_json::json!({"status": outcome.status, "message": outcome.message}),
                );
            } else {
                println!(
                    "{}: {}",
                    login.gateway,
                    if outcome.ok() {
                        "downloaded and applied".to_string()
                    } else {
                        outcome.summary()
                    }
                );
            }
            if !outcome.ok() {
                return Err(Failure {
                    message: format!("the download failed: {}", outcome.summary()),
                    code: 1,
                });
            }
        }
        GatewayCommand::Config(ConfigCommand::SetLanAccess(args)) => {
            set_lan_access(args, keychain).await?;
        }
        GatewayCommand::Config(ConfigCommand::SetScan(args)) => {
            let profile = scan_profile(&args)?;
            push_area(&args.login, keychain, &profile).await?;
        }
        GatewayCommand::Cert(CertCommand::Upload { login, name, file }) => {
            let content = Sensitive::new(read(&file)?);
            let mut c = connect(&login, keychain)?;
            c.upload_file(&name, &content).await?;
            println!("uploaded {name}");
        }
        GatewayCommand::Cert(CertCommand::Remove { login, name }) => {
            let mut c = connect(&login, keychain)?;
            c.delete_file(&name).await?;
            println!("removed {name}");
        }
        GatewayCommand::Validate {
            login,
            url,
            auth,
            auth_user,
            saved,
            client_cert,
            server_cert,
        } => {
            let secret = if saved {
                None
            } else {
                std::env::var("RUUVI_HTTP_SECRET").ok().map(Sensitive::new)
            };
            let mut c = connect(&login, keychain)?;
            let outcome = c
                .validate_url(
                    &url,
                    &auth,
                    &auth_user,
                    secret.as_ref(),
                    client_cert,
                    server_cert,
                )
                .await?;
            if login.json {
                print_json(&outcome);
            } else {
                println!("{} ({})", outcome.summary(), outcome.status);
            }
            if !outcome.ok() {
                return Err(Failure {
                    message: format!("the check failed: {}", outcome.summary()),
                    code: 5,
                });
            }
        }
        GatewayCommand::History(login) => {
            let mut c = connect(&login, keychain)?;
            let doc = c.history().await?;
            let now_ms = ruuvi_protocol::clock::now_ms();
            let feed = ruuvi_protocol::Feed::GatewayHistory {
                gateway: doc.gw_mac,
            };
            let (ok, failed) = ruuvi_protocol::Observation::from_gateway(&doc, feed, now_ms);
            for o in &ok {
                println!("{}", serde_json::to_string(o).expect("plain data"));
            }
            for (mac, e) in failed {
                eprintln!("ruuvictl: {mac}: {e}");
            }
        }
    }
    Ok(())
}

fn on_off(text: &str) -> Result<bool, Failure> {
    match text {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(Failure {
            message: format!("--ruuvi-cloud {text:?}: on or off"),
            code: 2,
        }),
    }
}

async fn set_http(
    args: SetHttp,
    data_dir: &Path,
    keychain: &dyn SecretStore,
) -> Result<(), Failure> {
    let login = &args.login;
    let id = login.id.clone().unwrap_or_else(|| login.gateway.clone());
    let mut client = connect(login, keychain)?;
    client.login().await?;
    let custom = match &args.url {
        None => None,
        Some(url) => {
            let secret = if args.auth == "none" {
                None
            } else {
                secret_from(
                    "RUUVI_HTTP_SECRET",
                    args.secret_stdin,
                    keychain,
                    &[name(SecretKind::ReceiverAuth, &id)?],
                )?
            };
            let auth = HttpAuth::from_kind(&args.auth, args.auth_user.clone(), secret)?;
            if args.certificates.issue_client_cert {
                // Its certificate is filed under its MAC (from /ruuvi.json when /metrics failed).
                client.learn_mac().await?;
            }
            let (client_identity, server_ca_pem) =
                args.certificates.resolve(&client, data_dir, keychain)?;
            Some(CustomProfile {
                extra: Default::default(),
                url: url.clone(),
                data_format: args.format,
                period_s: args.interval,
                auth,
                client_identity,
                server_ca_pem,
            })
        }
    };
    let profile = HttpProfile {
        ruuvi_cloud: on_off(&args.ruuvi_cloud)?,
        custom,
    };
    let json = login.json;
    let report = print_progress(json);
    let outcome = push_http_profile(&mut client, &profile, &report).await;
    outcome_result(outcome, json)
}

impl Certificates {
    /// The client identity and server CA these options name.
    fn resolve(
        &self,
        client: &GatewayClient,
        data_dir: &Path,
        keychain: &dyn SecretStore,
    ) -> Result<(Option<ClientIdentity>, Option<String>), Failure> {
        let pki = ruuvi_pki::Pki::new(data_dir.join("pki"), keychain);
        let client_identity = if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key)
        {
            Some(ClientIdentity {
                cert_pem: read(cert)?,
                key_pem: Sensitive::new(read(key)?),
            })
        } else if self.issue_client_cert {
            let mac: ruuvi_protocol::MacAddress = client
                .mac()
                .ok_or_else(|| Failure::from("the gateway's MAC is not known yet".to_string()))?
                .parse()
                .map_err(|e| Failure::from(format!("the gateway's MAC: {e}")))?;
            let (cert_pem, key_pem) = pki
                .ensure_client(&mac, ruuvi_pki::OffsetDateTime::now_utc())
                .map_err(|e| Failure::from(e.to_string()))?;
            Some(ClientIdentity { cert_pem, key_pem })
        } else {
            None
        };
        let server_ca_pem = match (&self.server_ca, self.our_ca) {
            (Some(path), _) => Some(read(path)?),
            (None, true) => Some(pki.ca_pem().map_err(|e| Failure::from(e.to_string()))?),
            (None, false) => None,
        };
        Ok((client_identity, server_ca_pem))
    }
}

async fn set_mqtt(
    args: SetMqtt,
    data_dir: &Path,
    keychain: &dyn SecretStore,
) -> Result<(), Failure> {
    let login = &args.login;
    let mut client = connect(login, keychain)?;
    client.login().await?;
    let target = match &args.broker {
        None => None,
        Some(url) => {
            let broker = ruuvi_mqtt::Broker::parse_url(url, "").map_err(|e| Failure {
                message: e.to_string(),
                code: 2,
            })?;
            let password = if args.mqtt_user.is_empty() {
                None
            } else {
                secret_from(
                    "RUUVI_MQTT_PASSWORD",
                    args.mqtt_password_stdin,
                    keychain,
                    &[name(
                        SecretKind::MqttPassword,
                        &format!("{}:{}:{}", broker.host, broker.port, args.mqtt_user),
                    )?],
                )?
            };
            let data_format =
                ruuvi_gateway::MqttDataFormat::parse(&args.format).ok_or_else(|| Failure {
                    message: format!(
                        "--format {:?}: ruuvi_raw, ruuvi_raw_and_decoded or ruuvi_decoded",
                        args.format
                    ),
                    code: 2,
                })?;
            if args.certificates.issue_client_cert {
                // Its certificate is filed under its MAC (from /ruuvi.json when /metrics failed).
                client.learn_mac().await?;
            }
            let (client_identity, server_ca_pem) =
                args.certificates.resolve(&client, data_dir, keychain)?;
            Some(ruuvi_gateway::MqttTarget {
                transport: broker.transport.firmware_name().to_string(),
                server: broker.host.clone(),
                port: broker.port,
                prefix: args.prefix.clone(),
                client_id: args.client_id.clone(),
                user: args.mqtt_user.clone(),
                password,
                data_format,
                sending_interval_s: args.interval,
                disable_retained_messages: args.no_retain,
                client_identity,
                server_ca_pem,
            })
        }
    };
    let json = login.json;
    let report = print_progress(json);
    let profile = ruuvi_gateway::MqttProfile { target };
    let outcome = ruuvi_gateway::push_profile(&mut client, &profile, &report).await;
    outcome_result(outcome, json)
}

/// `config set-auto-update`: the schedule from the options (days and hours as a person writes
/// them).
fn auto_update_profile(args: &SetAutoUpdate) -> Result<ruuvi_gateway::AutoUpdateProfile, Failure> {
    let bad = |message: String| Failure { message, code: 2 };
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let mut weekdays = 0u8;
    for day in args
        .days
        .split(',')
        .map(|d| d.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty())
    {
        let bit = DAYS
            .iter()
            .position(|d| *d == day)
            .ok_or_else(|| bad(format!("--days: {day:?} is not one of {}", DAYS.join(","))))?;
        weekdays |= 1 << bit;
    }
    let (from, to) = args
        .hours
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
        .ok_or_else(|| bad(format!("--hours {:?}: from-to, e.g. 1-5", args.hours)))?;
    let profile = ruuvi_gateway::AutoUpdateProfile {
        cycle: args.cycle.clone(),
        weekdays,
        from_hour: from,
        to_hour: to,
        tz_offset_hours: args.tz,
    };
    use ruuvi_gateway::BackendProfile as _;
    profile
        .validate(None, None)
        .map_err(|e| bad(e.to_string()))?;
    Ok(profile)
}

/// `config set-remote`: the source from the options (certificates uploaded as `rcfg_*`), pushed
/// like any area.
async fn set_remote(
    args: SetRemote,
    data_dir: &Path,
    keychain: &dyn SecretStore,
) -> Result<(), Failure> {
    use ruuvi_gateway::{RemoteAuth, RemoteCfgProfile, RemoteSource};
    let login = &args.login;
    let mut client = connect(login, keychain)?;
    client.login().await?;
    let source = match &args.url {
        None => None,
        Some(url) => {
            let secret = secret_from("RUUVI_REMOTE_CFG_SECRET", args.secret_stdin, keychain, &[])?
                .filter(|s| !s.expose().is_empty());
            let auth = match args.auth.as_str() {
                "none" => RemoteAuth::None,
                "basic" => RemoteAuth::Basic {
                    user: args.auth_user.clone(),
                    password: secret,
                },
                "bearer" => RemoteAuth::Bearer(secret),
                other => {
                    return Err(Failure {
                        message: format!("--auth {other:?}: none, basic or bearer"),
                        code: 2,
                    })
                }
            };
            if args.certificates.issue_client_cert {
                client.learn_mac().await?;
            }
            let (client_identity, server_ca_pem) =
                args.certificates.resolve(&client, data_dir, keychain)?;
            Some(RemoteSource {
                url: url.clone(),
                auth,
                server_ca_pem,
                client_identity,
                refresh_minutes: args.refresh,
            })
        }
    };
    let json = login.json;
    let profile = RemoteCfgProfile { source };
    let outcome = ruuvi_gateway::push_profile(&mut client, &profile, &print_progress(json)).await;
    outcome_result(outcome, json)
}

/// `config set-lan-access`: the profile from the options, generated keys and the new password
/// written to the keychain first (and put back if the change does not apply), the push proved
/// with what Ruuvi Desk will use afterwards.
async fn set_lan_access(args: SetLanAccess, keychain: &dyn SecretStore) -> Result<(), Failure> {
    use ruuvi_gateway::lan::generate_api_key;
    use ruuvi_gateway::{KeyChange, LanAccessProfile, LanLogin};
    let bad = |message: String| Failure { message, code: 2 };
    let id = args
        .login
        .id
        .clone()
        .unwrap_or_else(|| args.login.gateway.clone());
    let key_change = |option: &Option<String>, what: &str| match option.as_deref() {
        None => Ok(KeyChange::Keep),
        Some("generate") => Ok(KeyChange::Set(generate_api_key())),
        Some("remove") => Ok(KeyChange::Remove),
        Some(other) => Err(bad(format!("--{what} {other:?}: generate or remove"))),
    };
    let api_key = key_change(&args.read_key, "read-key")?;
    let api_key_rw = key_change(&args.write_key, "write-key")?;
    let login = match args.new_login.as_deref() {
        None => None,
        Some(kind) => {
            let password = if matches!(kind, "ruuvi" | "basic" | "digest") {
                Some(
                    secret_from("RUUVI_NEW_LAN_PASSWORD", args.new_password_stdin, keychain, &[])?
                        .ok_or_else(|| bad(format!("--login {kind} needs the new password: RUUVI_NEW_LAN_PASSWORD or --new-password-stdin")))?,
                )
            } else {
                None
            };
            Some(LanLogin::parse(kind, &args.lan_user, password).map_err(|e| bad(e.to_string()))?)
        }
    };
    let mut client = connect(&args.login, keychain)?;
    let profile = LanAccessProfile {
        login,
        api_key,
        api_key_rw,
    };
    let after = profile.credentials_after(client.credentials());
    // Into the keychain before the gateway has them: a key the gateway takes must never be one
    // nobody kept. The previous entries come back if the change does not apply.
    let mut kept = ruuvi_secrets::Replaced::new(keychain);
    for (change, kind) in [
        (&profile.api_key, SecretKind::GatewayApiKey),
        (&profile.api_key_rw, SecretKind::GatewayApiKeyRw),
    ] {
        let value = match change {
            KeyChange::Keep => continue,
            KeyChange::Set(k) => Some(k),
            KeyChange::Remove => None,
        };
        kept.put(name(kind, &id)?, value)
            .map_err(|e| e.to_string())?;
    }
    if let Some(p) = profile.new_password() {
        kept.put(name(SecretKind::GatewayPassword, &id)?, Some(p))
            .map_err(|e| e.to_string())?;
    }
    let json = args.login.json;
    let report = print_progress(json);
    let outcome = ruuvi_gateway::push_lan_access(&mut client, &profile, &after, &report).await;
    if outcome.state != GatewayState::Applied {
        for (entry, e) in kept.put_back() {
            eprintln!("ruuvictl: could not put back the keychain's {entry}: {e}");
        }
    }
    outcome_result(outcome, json)
}

/// `gateway update`: the release chosen, then the rolling update with a line per step.
async fn update(args: Update, keychain: &dyn SecretStore) -> Result<(), Failure> {
    let mut clients = vec![connect(&args.login, keychain)?];
    for gateway in &args.also {
        let login = Login {
            gateway: gateway.clone(),
            id: None,
            ..args.login.clone()
        };
        clients.push(connect(&login, keychain)?);
    }
    let (url, expected) = match args.release.as_str() {
        channel @ ("latest" | "beta") => {
            let first = &mut clients[0];
            first.login().await?;
            let running = first.firmware();
            let offered = first.releases().await?;
            let release = match channel {
                "beta" => offered.beta,
                _ => offered.latest,
            }
            .ok_or_else(|| {
                Failure::from(format!("the update server offers no {channel} release"))
            })?;
            if running.is_some()
                && running == ruuvi_gateway::FirmwareVersion::parse(&release.version)
            {
                eprintln!("{} already runs {}", args.login.gateway, release.version);
            }
            let expected = ruuvi_gateway::FirmwareVersion::parse(&release.version);
            (release.url, expected)
        }
        url => (url.to_string(), None),
    };
    let json = args.login.json;
    let names: Vec<String> = std::iter::once(args.login.gateway.clone())
        .chain(args.also.iter().cloned())
        .collect();
    let timing = ruuvi_gateway::UpdateTiming {
        total: std::time::Duration::from_secs(args.timeout_s),
        ..Default::default()
    };
    let results = ruuvi_gateway::roll_out(
        clients,
        &url,
        expected,
        args.at_a_time,
        timing,
        &|i, step| {
            if !json {
                eprintln!(
                    "  {}: {}",
                    names[i],
                    serde_json::to_string(&step).expect("plain data")
                );
            }
        },
    )
    .await;
    let states: Vec<serde_json::Value> = results
        .iter()
        .zip(&names)
        .map(|((_, state), name)| serde_json::json!({"gateway": name, "result": state}))
        .collect();
    if json {
        print_json(&states);
    } else {
        for s in &states {
            println!("{}: {}", s["gateway"].as_str().unwrap_or(""), s["result"]);
        }
    }
    if results
        .iter()
        .any(|(_, s)| !matches!(s, ruuvi_gateway::RolloutState::Updated { .. }))
    {
        return Err(Failure {
            message: "not every gateway was updated".into(),
            code: 5,
        });
    }
    Ok(())
}

/// The scanning profile the options describe (bad values: exit 2).
fn scan_profile(args: &SetScan) -> Result<ruuvi_gateway::ScanProfile, Failure> {
    use ruuvi_gateway::{Radio, ScanProfile, TagFilter};
    let bad = |message: String| Failure { message, code: 2 };
    let company_filter = match args.company.as_str() {
        "off" => None,
        "ruuvi" => Some(ruuvi_gateway::scan::RUUVI_COMPANY_ID),
        text => Some(
            match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                Some(hex) => u16::from_str_radix(hex, 16),
                None => text.parse(),
            }
            .map_err(|_| {
                bad(format!(
                    "--company {text:?}: ruuvi, off or a number up to 0xFFFF"
                ))
            })?,
        ),
    };
    let tags = match (args.allow.is_empty(), args.deny.is_empty()) {
        (false, _) => TagFilter::Allow(args.allow.clone()),
        (true, false) => TagFilter::Deny(args.deny.clone()),
        (true, true) => TagFilter::Off,
    };
    let radio = if args.phys.is_empty() && args.channels.is_empty() {
        None
    } else {
        let mut r = Radio::DEFAULT;
        if !args.phys.is_empty() {
            for phy in &args.phys {
                if !["1m", "2m", "coded"].contains(&phy.as_str()) {
                    return Err(bad(format!("--phys {phy:?}: 1m, 2m or coded")));
                }
            }
            let on = |name: &str| args.phys.iter().any(|p| p == name);
            (r.phy_1m, r.phy_2m, r.coded_phy) = (on("1m"), on("2m"), on("coded"));
        }
        if !args.channels.is_empty() {
            if let Some(c) = args.channels.iter().find(|c| !(37..=39).contains(*c)) {
                return Err(bad(format!("--channels {c}: 37, 38 or 39")));
            }
            let on = |c: u8| args.channels.contains(&c);
            (r.channel_37, r.channel_38, r.channel_39) = (on(37), on(38), on(39));
        }
        Some(r)
    };
    Ok(ScanProfile {
        company_filter,
        tags,
        radio,
    })
}

/// Prints each step of a push on standard error (unless the output is JSON).
fn print_progress(json: bool) -> impl Fn(ruuvi_gateway::Progress) + Sync {
    move |p| {
        if !json {
            eprintln!("  {}", serde_json::to_string(&p).expect("plain data"));
        }
    }
}

/// Logs in as `login` says and pushes one area's `profile` (validated, posted, read back,
/// put back on failure).
async fn push_area(
    login: &Login,
    keychain: &dyn SecretStore,
    profile: &(dyn ruuvi_gateway::BackendProfile + Sync),
) -> Result<(), Failure> {
    let mut client = connect(login, keychain)?;
    let outcome =
        ruuvi_gateway::push_profile(&mut client, profile, &print_progress(login.json)).await;
    outcome_result(outcome, login.json)
}

/// Prints a push's outcome and turns it into the exit status.
fn outcome_result(outcome: ruuvi_gateway::PushOutcome, json: bool) -> Result<(), Failure> {
    if json {
        print_json(&outcome);
    } else {
        println!("{}: {:?}", outcome.endpoint, outcome.state);
    }
    match (&outcome.state, outcome.error) {
        (GatewayState::Applied, _) => Ok(()),
        (_, Some(e)) => {
            let mut failure = Failure::from(e);
            match &outcome.state {
                GatewayState::RolledBack { lost } if !lost.is_empty() => {
                    failure
                        .message
                        .push_str(&format!("; rolled back, but lost: {}", lost.join("; ")));
                }
                GatewayState::RolledBack { .. } => failure.message.push_str("; rolled back"),
                GatewayState::Partial { changed } => {
                    failure.message.push_str(&format!(
                        "; the gateway is partly changed: {}",
                        changed.join("; ")
                    ));
                    failure.code = 6;
                }
                _ => failure.message.push_str("; the gateway is unchanged"),
            }
            Err(failure)
        }
        (state, None) => Err(Failure::from(format!("unexpected state {state:?}"))),
    }
}
