//! Which engine and where: a SQLite file or a PostgreSQL URL, as given to
//! `ruuvictl serve --store` or kept in the app's settings.

use std::fmt;
use std::path::PathBuf;

use ruuvi_secrets::Sensitive;

use crate::{ObservationStore, PostgresStore, SqliteStore, StoreError};

/// Where observations are kept. Its `Display` never shows a password.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    /// `postgres://user@host:port/database` (the password, if any, is kept apart).
    Postgres(Box<PostgresTarget>),
}

/// A PostgreSQL connection: the URL without its password, and the password.
#[derive(Clone)]
pub struct PostgresTarget {
    config: postgres::Config,
    password: Option<SensitivePassword>,
}

/// `Sensitive` is not `Clone`/`Eq`; this keeps a password redacted and comparable.
#[derive(Clone)]
struct SensitivePassword(std::sync::Arc<Sensitive<String>>);

impl PartialEq for SensitivePassword {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose() == other.0.expose()
    }
}
impl Eq for SensitivePassword {}

/// The same server, database, user and password.
impl PartialEq for PostgresTarget {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string() && self.password == other.password
    }
}
impl Eq for PostgresTarget {}

impl StoreLocation {
    /// `postgres://…` or `postgresql://…` → PostgreSQL; anything else is a SQLite file path.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(Self::Postgres(Box::new(PostgresTarget::parse(text)?)))
        } else if text.is_empty() {
            Err(StoreError::Location("no database given".into()))
        } else {
            Ok(Self::Sqlite(PathBuf::from(text)))
        }
    }

    /// Opens (creating the tables if needed). Blocks while connecting.
    pub fn open(&self) -> Result<Box<dyn ObservationStore>, StoreError> {
        self.open_with_progress(&mut |_| {})
    }

    /// [`Self::open`], telling `progress` how the migration of an older SQLite store goes.
    pub fn open_with_progress(
        &self,
        progress: &mut dyn FnMut(crate::Migration),
    ) -> Result<Box<dyn ObservationStore>, StoreError> {
        Ok(match self {
            Self::Sqlite(path) => Box::new(SqliteStore::open_with_progress(path, progress)?),
            Self::Postgres(target) => Box::new(PostgresStore::connect(target)?),
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

impl PostgresTarget {
    /// A `postgres://` URL (or a libpq `key=value` string). A password in it is taken out and
    /// kept as [`Sensitive`]; prefer [`PostgresTarget::with_password`] from the keychain.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Location(format!("not a PostgreSQL URL: {e}")))?;
        if config.get_hosts().is_empty() {
            return Err(StoreError::Location(
                "the PostgreSQL URL names no host".into(),
            ));
        }
        let password = config
            .get_password()
            .map(|p| SensitivePassword(Sensitive::new(String::from_utf8_lossy(p).into()).into()));
        // A Config keeps the password it was given; rebuild it without.
        let mut clean = postgres::Config::new();
        for host in config.get_hosts() {
            match host {
                postgres::config::Host::Tcp(h) => clean.host(h),
                #[cfg(unix)]
                postgres::config::Host::Unix(p) => clean.host_path(p),
            };
        }
        for port in config.get_ports() {
            clean.port(*port);
        }
        if let Some(user) = config.get_user() {
            clean.user(user);
        }
        if let Some(db) = config.get_dbname() {
            clean.dbname(db);
        }
        clean.application_name("ruuvi-desk");
        clean.connect_timeout(
            config
                .get_connect_timeout()
                .copied()
                .unwrap_or(std::time::Duration::from_secs(10)),
        );
        config = clean;
        Ok(Self { config, password })
    }

    /// The same target with this password (e.g. from the keychain).
    pub fn with_password(mut self: Box<Self>, password: Sensitive<String>) -> Box<Self> {
        self.password = Some(SensitivePassword(password.into()));
        self
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// `host:port:user`: the keychain id of this target's password (`database-password/<id>`).
    pub fn keychain_id(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(p)) => p.display().to_string().replace('/', "_"),
            None => String::new(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let user = self.config.get_user().unwrap_or_default();
        format!("{host}:{port}:{user}")
    }

    /// The connection settings with the password, for connecting only.
    pub(crate) fn config(&self) -> postgres::Config {
        let mut config = self.config.clone();
        if let Some(p) = &self.password {
            config.password(p.0.expose().as_bytes());
        }
        config
    }
}

impl fmt::Display for PostgresTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "postgres://")?;
        if let Some(user) = self.config.get_user() {
            write!(f, "{user}@")?;
        }
        match self.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) if h.contains(':') => write!(f, "[{h}]")?,
            Some(postgres::config::Host::Tcp(h)) => write!(f, "{h}")?,
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(p)) => write!(f, "{}", p.display())?,
            None => {}
        }
        if let Some(port) = self.config.get_ports().first() {
            write!(f, ":{port}")?;
        }
        write!(f, "/{}", self.config.get_dbname().unwrap_or_default())
    }
}

impl fmt::Debug for PostgresTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PostgresTarget({self}, password: {})",
            if self.password.is_some() {
                "<redacted>"
            } else {
                "none"
            }
        )
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(target) => write!(f, "{target}"),
        }
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            Self::Postgres(target) => write!(f, "{target:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_url_is_kept_apart_and_never_shown() {
        let loc = StoreLocation::parse("postgres://ruuvi:hunter2@db.example:6543/obs").unwrap();
        let StoreLocation::Postgres(target) = &loc else {
            panic!("not postgres")
        };
        assert!(target.has_password());
        assert_eq!(loc.to_string(), "postgres://ruuvi@db.example:6543/obs");
        assert!(!format!("{loc:?}").contains("hunter2"));
        assert!(format!("{loc:?}").contains("<redacted>"));
        assert_eq!(target.keychain_id(), "db.example:6543:ruuvi");
        assert_eq!(target.config().get_password(), Some(&b"hunter2"[..]));
    }

    #[test]
    fn paths_urls_and_mistakes() {
        assert_eq!(
            StoreLocation::parse("/var/lib/ruuvi/obs.sqlite").unwrap(),
            StoreLocation::Sqlite("/var/lib/ruuvi/obs.sqlite".into())
        );
        assert!(StoreLocation::parse("postgresql://u@127.0.0.1/db")
            .unwrap()
            .is_postgres());
        assert!(StoreLocation::parse("postgres://").is_err());
        assert!(StoreLocation::parse("postgres://u@h:notaport/db").is_err());
        assert!(StoreLocation::parse("  ").is_err());
    }
}
