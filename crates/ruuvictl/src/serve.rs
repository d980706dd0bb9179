//! `ruuvictl serve`: the receiver, the hub and the store without a window; `ruuvictl export`:
//! stored observations as CSV or JSON lines.
//!
//! The receiver's policy lives in `<data dir>/receiver.json` (no secrets in it):
//! `{"unknown": "accept" | "reject", "gateways": {"<MAC>": {"auth": "none" | "basic" |
//! "bearer" | "token" | "api_key", "user": "<basic user>", "require_client_cert": bool,
//! "hmac": bool, "rotate_hmac": bool, "rate": <seconds>}}}`. Secrets come from the keychain: `receiver-auth/<MAC>` (the auth secret) and
//! `hmac-key/<MAC>` (the gateway's HMAC key, its device id unless changed).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use clap::Args;
use ruuvi_hub::{Hub, HubError, HubOptions};
use ruuvi_protocol::{MacAddress, Observation};
use ruuvi_receiver::{
    Deliver, DeliverError, ExpectedAuth, GatewayPolicy, HmacCheck, Policies, Receiver,
    ReceiverOptions, UnknownGateways,
};
use ruuvi_secrets::{SecretKind, SecretName, SecretStore};
use ruuvi_store::{Query, Store};

#[derive(Debug, Args)]
pub struct Serve {
    /// Where to listen.
    #[arg(long, default_value = "0.0.0.0:8443")]
    listen: std::net::SocketAddr,
    /// Plain HTTP instead of HTTPS (gateways then send secrets in the clear).
    #[arg(long)]
    http: bool,
    /// The path gateways post to.
    #[arg(long, default_value = "/record")]
    path: String,
    /// The database [default: <data dir>/observations.sqlite].
    #[arg(long)]
    db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Export {
    /// csv or json (one object per line).
    #[arg(long, default_value = "csv")]
    format: String,
    #[arg(long)]
    sensor: Option<MacAddress>,
    /// From (inclusive): Unix ms, `2026-11-22` or `2026-11-22T10:00:00Z`.
    #[arg(long)]
    from: Option<String>,
    /// To (exclusive), same forms.
    #[arg(long)]
    to: Option<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    db: Option<PathBuf>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct PolicyFile {
    unknown: Option<String>,
    gateways: HashMap<MacAddress, GatewayEntry>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct GatewayEntry {
    auth: Option<String>,
    user: String,
    require_client_cert: bool,
    hmac: bool,
    /// Give the gateway a random HMAC key (`Ruuvi-HMAC-KEY`) instead of keeping its device id.
    rotate_hmac: bool,
    /// Seconds between posts (`X-Ruuvi-Gateway-Rate`).
    rate: Option<u32>,
}

/// Where a gateway's rotated HMAC key is kept: `hmac-key/<MAC>.rotated`.
fn rotated_key_name(mac: &MacAddress) -> SecretName {
    SecretName::new(SecretKind::HmacKey, &format!("{mac}.rotated")).expect("a MAC is a valid id")
}

fn db_path(data_dir: &Path, db: Option<PathBuf>) -> PathBuf {
    db.unwrap_or_else(|| data_dir.join("observations.sqlite"))
}

/// Reads `receiver.json` and the secrets it names.
fn load_policies(data_dir: &Path, secrets: &dyn SecretStore) -> Result<Policies, String> {
    let path = data_dir.join("receiver.json");
    let file: PolicyFile = match std::fs::read(&path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => PolicyFile::default(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let secret = |kind, mac: &MacAddress| -> Result<ruuvi_secrets::Sensitive<String>, String> {
        let name = SecretName::new(kind, &mac.to_string()).map_err(|e| e.to_string())?;
        secrets
            .get(&name)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("the keychain has no {name} (receiver.json asks for it)"))
    };
    let mut policies = Policies {
        unknown: match file.unknown.as_deref() {
            None | Some("accept") => UnknownGateways::AcceptAsNew,
            Some("reject") => UnknownGateways::Reject,
            Some(other) => {
                return Err(format!(
                    "receiver.json: unknown {other:?} (accept or reject)"
                ))
            }
        },
        ..Policies::default()
    };
    for (mac, entry) in file.gateways {
        let auth = match entry.auth.as_deref().unwrap_or("none") {
            "none" => ExpectedAuth::None,
            "basic" => ExpectedAuth::Basic {
                user: entry.user.clone(),
                password: secret(SecretKind::ReceiverAuth, &mac)?,
            },
            "bearer" => ExpectedAuth::Bearer(secret(SecretKind::ReceiverAuth, &mac)?),
            "token" => ExpectedAuth::Token(secret(SecretKind::ReceiverAuth, &mac)?),
            "api_key" => ExpectedAuth::ApiKey(secret(SecretKind::ReceiverAuth, &mac)?),
            other => return Err(format!("receiver.json: {mac}: unknown auth {other:?}")),
        };
        let hmac = match (entry.hmac, entry.rotate_hmac) {
            (false, _) => HmacCheck::Off,
            (true, false) => HmacCheck::Key(secret(SecretKind::HmacKey, &mac)?),
            (true, true) => HmacCheck::Rotating {
                device_id: secret(SecretKind::HmacKey, &mac)?,
            },
        };
        if entry.rate.is_some_and(|r| !(1..=3600).contains(&r)) {
            return Err(format!(
                "receiver.json: {mac}: rate must be 1 to 3600 seconds"
            ));
        }
        policies.gateways.insert(
            mac,
            GatewayPolicy {
                auth,
                require_client_cert: entry.require_client_cert,
                hmac,
                rate_s: entry.rate,
            },
        );
    }
    Ok(policies)
}

/// The receiver's observations go to the hub; a full hub is "busy" (503, the gateway retries).
struct ToHub(Hub);

impl Deliver for ToHub {
    fn deliver(
        &self,
        observations: Vec<Observation>,
    ) -> Pin<Box<dyn std::future::Future<Output = Result<(), DeliverError>> + Send + '_>> {
        Box::pin(async move {
            match self.0.try_submit(observations) {
                Err(HubError::Full) => Err(DeliverError::Busy),
                Err(e) => Err(DeliverError::Failed(e.to_string())),
                Ok(pending) => pending
                    .stored()
                    .await
                    .map(|_| ())
                    .map_err(|e| DeliverError::Failed(e.to_string())),
            }
        })
    }
}

pub async fn serve(args: Serve, data_dir: &Path, secrets: &dyn SecretStore) -> Result<(), String> {
    std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let policies = Arc::new(RwLock::new(load_policies(data_dir, secrets)?));
    let mut allowed_list: Option<ruuvi_pki::SharedAllowList> = None;
    let store = Store::open(&db_path(data_dir, args.db)).map_err(|e| e.to_string())?;
    let (hub, hub_task) = Hub::start(store, HubOptions::default());
    let mut options = ReceiverOptions::new(args.listen);
    options.path = args.path;
    let scheme = if args.http {
        "http"
    } else {
        let pki = ruuvi_pki::Pki::new(data_dir.join("pki"), secrets);
        let addresses = ruuvi_pki::local_addresses().unwrap_or_default();
        let machine = ruuvi_pki::server_names(ruuvi_pki::local_host_name().as_deref(), &addresses);
        let names = pki
            .wanted_server_names(&machine)
            .map_err(|e| e.to_string())?;
        // The certificate follows the machine's names and addresses.
        pki.ensure_server(
            &names,
            ruuvi_pki::OffsetDateTime::now_utc(),
            ruuvi_pki::SERVER_DAYS,
        )
        .map_err(|e| e.to_string())?;
        let (cert, key) = pki.server_identity().map_err(|e| e.to_string())?;
        let allowed: ruuvi_pki::SharedAllowList =
            Arc::new(RwLock::new(pki.allow_list().map_err(|e| e.to_string())?));
        let tls = ruuvi_pki::server_config(
            &pki.ca_pem().map_err(|e| e.to_string())?,
            &cert,
            &key,
            ruuvi_pki::ClientAuth::Optional(allowed.clone()),
        )
        .map_err(|e| e.to_string())?;
        options.tls = Some(Arc::new(tls));
        options.allowed = Some(allowed.clone());
        allowed_list = Some(allowed);
        "https"
    };
    let path = options.path.clone();
    let receiver = Receiver::start(options, policies.clone(), Arc::new(ToHub(hub.clone())))
        .await
        .map_err(|e| e.to_string())?;
    // Keys given to gateways before a restart: they still sign with them.
    let rotating: Vec<MacAddress> = policies
        .read()
        .expect("policies lock")
        .gateways
        .iter()
        .filter(|(_, p)| matches!(p.hmac, HmacCheck::Rotating { .. }))
        .map(|(m, _)| *m)
        .collect();
    let mut persisted: HashMap<MacAddress, ruuvi_secrets::Sensitive<String>> = HashMap::new();
    for mac in rotating {
        if let Ok(Some(key)) = secrets.get(&rotated_key_name(&mac)) {
            persisted.insert(mac, key.clone());
            receiver.remember_hmac_key(mac, key);
        }
    }
    // One line for people and scripts: where to point gateways.
    println!(
        "{}",
        serde_json::json!({"listening": format!("{scheme}://{}{path}", receiver.addr)})
    );
    tracing::info!(addr = %receiver.addr, scheme, "receiver listening");
    // Changed policies and issued/revoked client certificates take effect without a restart.
    let stop = wait_for_stop();
    tokio::pin!(stop);
    let policy_file = data_dir.join("receiver.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut policy_seen = modified(&policy_file);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
        }
        let now = modified(&policy_file);
        if now != policy_seen {
            policy_seen = now;
            match load_policies(data_dir, secrets) {
                Ok(p) => {
                    *policies.write().expect("policies lock") = p;
                    tracing::info!("reloaded receiver.json");
                }
                Err(e) => tracing::warn!("keeping the previous policies: {e}"),
            }
        }
        for (mac, key) in receiver.rotated_hmac_keys() {
            if persisted.get(&mac).map(|k| k.expose()) != Some(key.expose()) {
                match secrets.set(&rotated_key_name(&mac), &key) {
                    Ok(()) => {
                        persisted.insert(mac, key);
                    }
                    Err(e) => tracing::warn!(%mac, "cannot keep the gateway's new HMAC key: {e}"),
                }
            }
        }
        if let Some(allowed) = &allowed_list {
            let pki = ruuvi_pki::Pki::new(data_dir.join("pki"), secrets);
            match pki.allow_list() {
                Ok(list) => *allowed.write().expect("allow-list lock") = list,
                Err(e) => tracing::warn!("keeping the previous allow-list: {e}"),
            }
        }
    }
    receiver.stop().await;
    drop(hub);
    let _ = hub_task.await;
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Unix ms, a date (`2026-11-22`, midnight UTC) or an RFC 3339 time.
fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let rfc3339 = time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(text, &rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(text, &date_format) {
        return Ok(d.midnight().assume_utc().unix_timestamp() * 1000);
    }
    Err(format!(
        "{text:?}: expected Unix ms, 2026-11-22 or 2026-11-22T10:00:00Z"
    ))
}

pub fn export(args: Export, data_dir: &Path) -> Result<(), String> {
    let path = db_path(data_dir, args.db);
    if !path.exists() {
        return Err(format!("no database at {}", path.display()));
    }
    let store = Store::open(&path).map_err(|e| e.to_string())?;
    let query = Query {
        sensor: args.sensor,
        from_ms: args.from.as_deref().map(parse_time).transpose()?,
        to_ms: args.to.as_deref().map(parse_time).transpose()?,
        limit: None,
    };
    let mut out: Box<dyn std::io::Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let n = match args.format.as_str() {
        "csv" => store.export_csv(&query, &mut out),
        "json" => store.export_json(&query, &mut out),
        other => return Err(format!("--format {other:?}: csv or json")),
    }
    .map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    tracing::info!(rows = n, "exported");
    Ok(())
}
