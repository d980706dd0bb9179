//! Connections to servers beyond this computer, as both faces configure them: the store (a
//! SQLite file or PostgreSQL) and MQTT brokers, with passwords from the keychain.

use std::path::Path;
use std::sync::Arc;

use ruuvi_secrets::{SecretKind, SecretName, SecretStore};
use ruuvi_store::StoreLocation;

/// Where observations go and what the MQTT links are doing (the Settings page, both faces).
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct Connections {
    /// The database in use (never with a password).
    pub storage: String,
    /// Why the database in the settings is not the one in use.
    pub storage_problem: Option<String>,
    pub mqtt: MqttView,
}

/// The MQTT feed's and sink's states (`None`: not running).
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct MqttView {
    pub feed: Option<ruuvi_mqtt::feed::FeedStatus>,
    pub sink: Option<ruuvi_mqtt::sink::SinkStatus>,
}

/// `None` → the SQLite file in `database_dir` ([`crate::identifier::database_folder`]);
/// otherwise a path or a `postgres://` URL. A PostgreSQL password comes from the keychain
/// (`database-password/host:port:user`) unless the URL has one.
pub fn store_location(
    database_dir: &Path,
    store: Option<&str>,
    secrets: &dyn SecretStore,
) -> Result<StoreLocation, String> {
    let Some(text) = store else {
        return Ok(StoreLocation::Sqlite(
            database_dir.join(crate::identifier::DATABASE),
        ));
    };
    match StoreLocation::parse(text).map_err(|e| e.to_string())? {
        StoreLocation::Postgres(target) if !target.has_password() => {
            let name = database_password_name(&target)?;
            // No keychain (a headless server) is not an error: the server may trust us.
            match secrets.get(&name) {
                Ok(Some(password)) => Ok(StoreLocation::Postgres(target.with_password(password))),
                Ok(None) => Ok(StoreLocation::Postgres(target)),
                Err(e) => {
                    tracing::warn!("no password for {target} from the keychain: {e}");
                    Ok(StoreLocation::Postgres(target))
                }
            }
        }
        other => Ok(other),
    }
}

/// Where a PostgreSQL target's password is kept.
pub fn database_password_name(
    target: &ruuvi_store::location::PostgresTarget,
) -> Result<SecretName, String> {
    SecretName::new(SecretKind::DatabasePassword, &target.keychain_id()).map_err(|e| e.to_string())
}

/// The client id Ruuvi Desk uses at a broker for `role` (`feed`, `sink`): unique per host and
/// process, as a broker drops the older of two connections with one id.
pub fn mqtt_client_id(role: &str) -> String {
    let host = ruuvi_pki::local_host_name().unwrap_or_else(|| "host".into());
    format!("ruuvi-desk-{host}-{}-{role}", std::process::id())
}

/// Where a broker login's password is kept: `mqtt-password/host:port:user`.
pub fn mqtt_password_name(broker: &ruuvi_mqtt::Broker, user: &str) -> Result<SecretName, String> {
    SecretName::new(
        SecretKind::MqttPassword,
        &format!("{}:{}:{user}", broker.host, broker.port),
    )
    .map_err(|e| e.to_string())
}

/// How Ruuvi Desk proves itself to a broker and which broker certificates it trusts.
#[derive(Debug, Clone, Default)]
pub struct MqttTls {
    /// Trust only this CA (PEM) instead of the public roots.
    pub ca_pem: Option<String>,
    /// Present Ruuvi Desk's own client certificate from the PKI in this directory (issued
    /// from our CA on first use), for brokers that require one.
    pub own_client_cert: Option<std::path::PathBuf>,
}

/// A broker by URL, logging in as `user` (its password from the keychain), with `tls`.
pub fn mqtt_broker(
    url: &str,
    client_id: &str,
    user: Option<&str>,
    tls: &MqttTls,
    secrets: &dyn SecretStore,
) -> Result<ruuvi_mqtt::Broker, String> {
    let mut broker = ruuvi_mqtt::Broker::parse_url(url, client_id).map_err(|e| e.to_string())?;
    if let Some(user) = user.filter(|u| !u.is_empty()) {
        let name = mqtt_password_name(&broker, user)?;
        broker.user = Some(user.to_string());
        broker.password = secrets
            .get(&name)
            .map_err(|e| format!("the MQTT password ({name}): {e}"))?
            .map(Arc::new);
    }
    broker.server_ca_pem = tls.ca_pem.clone();
    if let Some(pki_dir) = &tls.own_client_cert {
        let (cert, key) = ruuvi_pki::Pki::new(pki_dir, secrets)
            .ensure_own_client(ruuvi_pki::OffsetDateTime::now_utc())
            .map_err(|e| format!("Ruuvi Desk's client certificate: {e}"))?;
        broker.client_cert_pem = Some(cert);
        broker.client_key_pem = Some(Arc::new(key));
    }
    Ok(broker)
}
