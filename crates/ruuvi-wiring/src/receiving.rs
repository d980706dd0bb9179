//! Ruuvi Desk's own receiver as the data directory configures it, for both faces: the rules
//! of `receiver.json` with their secrets from the keychain, HTTPS with the PKI's server
//! certificate (re-issued when this computer's names or addresses changed) and client
//! certificates checked against what the PKI issued. [`Receiving::refresh`] picks up changes
//! without a restart: an edited `receiver.json`, issued or revoked client certificates, and HMAC
//! keys given to gateways (kept in the keychain so a restart still knows them).

use parking_lot::RwLock;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use ruuvi_hub::Hub;
use ruuvi_protocol::MacAddress;
use ruuvi_receiver::{HmacCheck, Policies, PolicyFile, Receiver, ReceiverOptions, RunningReceiver};
use ruuvi_secrets::{SecretKind, SecretName, SecretStore, Sensitive};

/// What the receiver is doing, for the Receiver page and the tray.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct ReceiverStatus {
    /// Where gateways post (`None`: the receiver is off).
    pub url: Option<String>,
    /// Posts since the start by outcome (`stored`, `auth_failed`, …).
    pub posts: Vec<OutcomeCount>,
    /// Observations in stored posts since the start.
    pub observations: u64,
    /// Every gateway with a rule or a post, by MAC (unreadable ones last).
    pub gateways: Vec<GatewayActivity>,
}

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct OutcomeCount {
    pub outcome: String,
    pub count: u64,
}

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct GatewayActivity {
    /// `None`: posts whose gateway could not be read.
    pub gateway: Option<MacAddress>,
    /// Its rule in `receiver.json` (`None`: accepted as an unknown gateway, or refused).
    pub rule: Option<ruuvi_receiver::GatewayEntry>,
    /// Its latest posts, newest first (at most 20).
    pub recent: Vec<ruuvi_receiver::Received>,
}

impl ReceiverStatus {
    /// The receiver is off.
    pub fn off() -> Self {
        Self {
            url: None,
            posts: Vec::new(),
            observations: 0,
            gateways: Vec::new(),
        }
    }

    /// One line for the tray: where it listens and what it took.
    pub fn summary(&self) -> String {
        let Some(url) = &self.url else {
            return "Receiver off".to_string();
        };
        let stored = self
            .posts
            .iter()
            .filter(|p| p.outcome == "stored")
            .map(|p| p.count)
            .sum::<u64>();
        let refused = self.posts.iter().map(|p| p.count).sum::<u64>() - stored;
        format!("Receiving at {url}: {stored} posts stored, {refused} refused")
    }
}

/// Reads a running receiver's status.
#[derive(Clone)]
pub struct StatusSource {
    log: Arc<ruuvi_receiver::ReceiveLog>,
    url: String,
    data_dir: PathBuf,
}

impl StatusSource {
    pub fn status(&self) -> ReceiverStatus {
        let log = &self.log;
        let (posts, observations) = log.totals();
        let rules = PolicyFile::load(&self.data_dir.join("receiver.json"))
            .map(|f| f.gateways)
            .unwrap_or_default();
        let mut macs: Vec<MacAddress> = rules.keys().copied().collect();
        for mac in log.gateways() {
            if !macs.contains(&mac) {
                macs.push(mac);
            }
        }
        macs.sort();
        let recent = |gateway: Option<MacAddress>| {
            let mut all = log.of(gateway);
            all.reverse();
            all.truncate(20);
            all
        };
        let mut gateways: Vec<GatewayActivity> = macs
            .into_iter()
            .map(|mac| GatewayActivity {
                gateway: Some(mac),
                rule: rules.get(&mac).cloned(),
                recent: recent(Some(mac)),
            })
            .collect();
        let unreadable = recent(None);
        if !unreadable.is_empty() {
            gateways.push(GatewayActivity {
                gateway: None,
                rule: None,
                recent: unreadable,
            });
        }
        ReceiverStatus {
            url: Some(self.url.clone()),
            posts: posts
                .into_iter()
                .map(|(outcome, count)| OutcomeCount {
                    outcome: outcome.to_string(),
                    count,
                })
                .collect(),
            observations,
            gateways,
        }
    }
}

pub struct Receiving {
    pub receiver: RunningReceiver,
    pub policies: Arc<RwLock<Policies>>,
    /// `https` or `http`.
    pub scheme: &'static str,
    pub path: String,
    /// The CA the HTTPS certificate chains to (what a gateway must trust).
    pub ca_pem: Option<String>,
    allowed: Option<ruuvi_pki::SharedAllowList>,
    data_dir: PathBuf,
    policy_seen: Option<SystemTime>,
    persisted: HashMap<MacAddress, Sensitive<String>>,
}

/// Where a gateway's rotated HMAC key is kept: `hmac-key/<MAC>.rotated`.
fn rotated_key_name(mac: &MacAddress) -> SecretName {
    SecretName::new(SecretKind::HmacKey, &format!("{mac}.rotated")).expect("a MAC is a valid id")
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The rules in `<data dir>/receiver.json` with the secrets they name.
pub fn load_policies(data_dir: &Path, secrets: &dyn SecretStore) -> Result<Policies, String> {
    PolicyFile::load(&data_dir.join("receiver.json"))?.to_policies(secrets)
}

/// Makes the receiver expect `gateway` with `token` as its bearer token (and its client
/// certificate when `require_client_cert`): the token goes to the keychain, the rule to
/// `receiver.json`, before the gateway is pointed here. A running receiver takes it in on
/// [`Receiving::refresh`].
pub fn expect_gateway(
    data_dir: &Path,
    secrets: &dyn SecretStore,
    gateway: MacAddress,
    token: &Sensitive<String>,
    require_client_cert: bool,
) -> Result<(), String> {
    let name = SecretName::new(SecretKind::ReceiverAuth, &gateway.to_string())
        .expect("a MAC is a valid id");
    secrets
        .set(&name, token)
        .map_err(|e| format!("keychain: {e}"))?;
    let path = data_dir.join("receiver.json");
    let mut rules = PolicyFile::load(&path)?;
    let rule = rules.gateways.entry(gateway).or_default();
    rule.auth = Some("bearer".into());
    rule.require_client_cert = require_client_cert;
    rules.save(&path)
}

/// The receiver's rules as the Receiver page edits them: what it does with gateways it has no
/// rule for, and each rule with whether the secrets it names are in the keychain (never the
/// secrets themselves).
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
pub struct ReceiverRules {
    /// Posts from gateways without a rule are accepted (`true`) or refused.
    pub accept_unknown: bool,
    pub gateways: Vec<ReceiverRule>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
pub struct ReceiverRule {
    pub gateway: MacAddress,
    pub rule: ruuvi_receiver::GatewayEntry,
    /// Its password, token or key is in the keychain.
    pub has_secret: bool,
    /// Its HMAC key (or the device id a rotated key starts from) is in the keychain.
    pub has_hmac_key: bool,
}

const AUTH_KINDS: [&str; 5] = ["none", "basic", "bearer", "token", "api_key"];

fn has(secrets: &dyn SecretStore, kind: SecretKind, mac: &MacAddress) -> bool {
    SecretName::new(kind, &mac.to_string())
        .ok()
        .and_then(|n| secrets.get(&n).ok().flatten())
        .is_some()
}

pub fn receiver_rules(data_dir: &Path, secrets: &dyn SecretStore) -> Result<ReceiverRules, String> {
    let file = PolicyFile::load(&data_dir.join("receiver.json"))?;
    Ok(ReceiverRules {
        accept_unknown: file.unknown.as_deref() != Some("reject"),
        gateways: file
            .gateways
            .into_iter()
            .map(|(gateway, rule)| ReceiverRule {
                has_secret: has(secrets, SecretKind::ReceiverAuth, &gateway),
                has_hmac_key: has(secrets, SecretKind::HmacKey, &gateway),
                gateway,
                rule,
            })
            .collect(),
    })
}

/// Sets `gateway`'s rule: `secret` (its password, token or key) and `hmac_key` go to the
/// keychain first (`None`: the one there is kept), then the rule to `receiver.json`, but only
/// once every secret it names is there. A running receiver takes it in on
/// [`Receiving::refresh`].
pub fn save_gateway_rule(
    data_dir: &Path,
    secrets: &dyn SecretStore,
    gateway: MacAddress,
    mut rule: ruuvi_receiver::GatewayEntry,
    secret: Option<&Sensitive<String>>,
    hmac_key: Option<&Sensitive<String>>,
) -> Result<(), String> {
    let auth = rule.auth.clone().unwrap_or_else(|| "none".into());
    if !AUTH_KINDS.contains(&auth.as_str()) {
        return Err(format!(
            "authentication {auth:?}: one of {}",
            AUTH_KINDS.join(", ")
        ));
    }
    rule.user = rule.user.trim().to_string();
    if auth == "basic" && rule.user.is_empty() {
        return Err("Basic authentication needs a user".into());
    }
    if auth != "basic" {
        rule.user.clear();
    }
    if rule.rate.is_some_and(|r| !(1..=3600).contains(&r)) {
        return Err("the post interval must be 1 to 3600 seconds".into());
    }
    if !rule.hmac {
        rule.rotate_hmac = false;
    }
    for (given, kind, what) in [
        (secret, SecretKind::ReceiverAuth, "password, token or key"),
        (hmac_key, SecretKind::HmacKey, "HMAC key"),
    ] {
        if let Some(value) = given {
            if value.expose().trim().is_empty() {
                return Err(format!("the {what} is empty"));
            }
            let name = SecretName::new(kind, &gateway.to_string()).expect("a MAC is a valid id");
            secrets
                .set(&name, value)
                .map_err(|e| format!("keychain: {e}"))?;
        }
    }
    let path = data_dir.join("receiver.json");
    let mut rules = PolicyFile::load(&path)?;
    rules.gateways.insert(gateway, rule);
    // Every secret the rules name must be there, or the receiver would refuse to load them.
    rules
        .to_policies(secrets)
        .map_err(|e| e.replace("(receiver.json asks for it)", "(give it with the rule)"))?;
    rules.save(&path)
}

/// Removes `gateway`'s rule (its posts are then treated as an unknown gateway's); whether
/// there was one.
pub fn remove_gateway_rule(data_dir: &Path, gateway: MacAddress) -> Result<bool, String> {
    let path = data_dir.join("receiver.json");
    let mut rules = PolicyFile::load(&path)?;
    let had = rules.gateways.remove(&gateway).is_some();
    if had {
        rules.save(&path)?;
    }
    Ok(had)
}

/// Accepts (the default) or refuses posts from gateways without a rule.
pub fn set_accept_unknown(data_dir: &Path, accept: bool) -> Result<(), String> {
    let path = data_dir.join("receiver.json");
    let mut rules = PolicyFile::load(&path)?;
    rules.unknown = (!accept).then(|| "reject".to_string());
    rules.save(&path)
}

impl Receiving {
    /// Starts the receiver on `options.listen`; `https` uses the PKI under `<data dir>/pki`
    /// (with `create_ca`, a missing CA is created first). Observations go to `hub`.
    pub async fn start(
        mut options: ReceiverOptions,
        https: bool,
        create_ca: bool,
        data_dir: &Path,
        secrets: &dyn SecretStore,
        hub: Hub,
    ) -> Result<Self, String> {
        let policy_seen = modified(&data_dir.join("receiver.json"));
        let policies = Arc::new(RwLock::new(load_policies(data_dir, secrets)?));
        let mut allowed = None;
        let mut ca_pem = None;
        if https {
            let pki = ruuvi_pki::Pki::new(data_dir.join("pki"), secrets);
            let now = ruuvi_pki::OffsetDateTime::now_utc();
            if create_ca {
                pki.ensure_ca("Ruuvi Desk CA", now)
                    .map_err(|e| e.to_string())?;
            }
            let addresses = ruuvi_pki::local_addresses().unwrap_or_default();
            let machine =
                ruuvi_pki::server_names(ruuvi_pki::local_host_name().as_deref(), &addresses);
            let names = pki
                .wanted_server_names(&machine)
                .map_err(|e| e.to_string())?;
            // The certificate follows the machine's names and addresses.
            pki.ensure_server(&names, now, ruuvi_pki::SERVER_DAYS)
                .map_err(|e| e.to_string())?;
            let (cert, key) = pki.server_identity().map_err(|e| e.to_string())?;
            let list: ruuvi_pki::SharedAllowList =
                Arc::new(RwLock::new(pki.allow_list().map_err(|e| e.to_string())?));
            let ca = pki.ca_pem().map_err(|e| e.to_string())?;
            let tls = ruuvi_pki::server_config(
                &ca,
                &cert,
                &key,
                ruuvi_pki::ClientAuth::Optional(list.clone()),
            )
            .map_err(|e| e.to_string())?;
            options.tls = Some(Arc::new(tls));
            options.allowed = Some(list.clone());
            allowed = Some(list);
            ca_pem = Some(ca);
        }
        let path = options.path.clone();
        let receiver = Receiver::start(options, policies.clone(), Arc::new(crate::ToHub(hub)))
            .await
            .map_err(|e| e.to_string())?;
        // Keys given to gateways before a restart: they still sign with them.
        let mut persisted = HashMap::new();
        let rotating: Vec<MacAddress> = policies
            .read()
            .gateways
            .iter()
            .filter(|(_, p)| matches!(p.hmac, HmacCheck::Rotating { .. }))
            .map(|(m, _)| *m)
            .collect();
        for mac in rotating {
            if let Ok(Some(key)) = secrets.get(&rotated_key_name(&mac)) {
                persisted.insert(mac, key.clone());
                receiver.remember_hmac_key(mac, key);
            }
        }
        Ok(Self {
            receiver,
            policies,
            scheme: if https { "https" } else { "http" },
            path,
            ca_pem,
            allowed,
            data_dir: data_dir.to_path_buf(),
            policy_seen,
            persisted,
        })
    }

    /// Where gateways on this computer post: `<scheme>://<listen address><path>`.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.receiver.addr, self.path)
    }

    /// Posts by outcome and each gateway's rule and latest posts.
    pub fn status(&self) -> ReceiverStatus {
        self.status_source().status()
    }

    /// A handle that reads the status while the receiver runs elsewhere (the UI server's).
    pub fn status_source(&self) -> StatusSource {
        StatusSource {
            log: self.receiver.log.clone(),
            url: self.url(),
            data_dir: self.data_dir.clone(),
        }
    }

    /// Takes in what changed since the last call (call every few seconds).
    pub fn refresh(&mut self, secrets: &dyn SecretStore) {
        let policy_file = self.data_dir.join("receiver.json");
        let now = modified(&policy_file);
        if now != self.policy_seen {
            self.policy_seen = now;
            match load_policies(&self.data_dir, secrets) {
                Ok(p) => {
                    *self.policies.write() = p;
                    tracing::info!("reloaded receiver.json");
                }
                Err(e) => tracing::warn!("keeping the previous policies: {e}"),
            }
        }
        for (mac, key) in self.receiver.rotated_hmac_keys() {
            if self.persisted.get(&mac).map(|k| k.expose()) != Some(key.expose()) {
                match secrets.set(&rotated_key_name(&mac), &key) {
                    Ok(()) => {
                        self.persisted.insert(mac, key);
                    }
                    Err(e) => tracing::warn!(%mac, "cannot keep the gateway's new HMAC key: {e}"),
                }
            }
        }
        if let Some(allowed) = &self.allowed {
            let pki = ruuvi_pki::Pki::new(self.data_dir.join("pki"), secrets);
            match pki.allow_list() {
                Ok(list) => *allowed.write() = list,
                Err(e) => tracing::warn!("keeping the previous allow-list: {e}"),
            }
        }
    }

    pub async fn stop(self) {
        self.receiver.stop().await;
    }
}
