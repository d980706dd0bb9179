//! For Ruuvi Desk's own tests: a fresh PostgreSQL database on the server that
//! `tests/with-servers.sh` starts.

use crate::location::PostgresTarget;
use crate::StoreLocation;

/// The server's URL, when the tests run under `tests/with-servers.sh`.
pub const POSTGRES_ENV: &str = "RUUVI_TEST_POSTGRES";

/// Creates an empty database named after `hint` (and this process) on the test server and
/// returns where it is; `None` when no test server was started.
pub fn fresh_postgres_database(hint: &str) -> Option<StoreLocation> {
    let admin = std::env::var(POSTGRES_ENV).ok()?;
    let name: String = format!("t_{hint}_{}", std::process::id())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    let target = PostgresTarget::parse(&admin).expect("RUUVI_TEST_POSTGRES is a URL");
    let created = name.clone();
    // The synchronous client runs a runtime of its own: keep it off the caller's (maybe async)
    // thread.
    std::thread::spawn(move || {
        let mut admin = target
            .config()
            .connect(postgres::NoTls)
            .expect("the test server");
        // One statement each: neither may run in a transaction block.
        for sql in [
            format!("DROP DATABASE IF EXISTS {created} WITH (FORCE)"),
            format!("CREATE DATABASE {created}"),
        ] {
            admin.batch_execute(&sql).expect("creating a test database");
        }
    })
    .join()
    .expect("creating a test database");
    let url = match admin.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => admin,
    };
    Some(StoreLocation::parse(&url).expect("a PostgreSQL URL"))
}
