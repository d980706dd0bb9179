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

/// A SQLite file at `path` laid out as the previous version (schema 3) wrote it, holding
/// `observations` (committed every 50,000): what a migration starts from.
pub fn write_schema_3(
    path: &std::path::Path,
    observations: &mut dyn Iterator<Item = ruuvi_protocol::Observation>,
) -> Result<u64, crate::StoreError> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(crate::sqlite::SCHEMA_3)?;
    let mut total = 0;
    loop {
        let tx = conn.transaction()?;
        let n = crate::sqlite::write_schema_3_rows(&tx, &mut (&mut *observations).take(50_000))?;
        tx.commit()?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
}

/// Runs `sql` on the PostgreSQL database at `location` (a test's own), e.g. to make it look
/// like one an earlier version wrote.
pub fn postgres_execute(location: &StoreLocation, sql: &str) {
    postgres_query(location, sql);
}

/// The rows `sql` answers on the test's PostgreSQL database, each row's columns as text
/// joined by `|` (e.g. an `EXPLAIN`'s plan lines).
pub fn postgres_query(location: &StoreLocation, sql: &str) -> Vec<String> {
    let StoreLocation::Postgres(target) = location else {
        panic!("not a PostgreSQL location: {location}");
    };
    let (config, sql) = (target.config(), sql.to_string());
    std::thread::spawn(move || {
        let mut client = config.connect(postgres::NoTls).expect("the test database");
        let mut lines = Vec::new();
        for message in client.simple_query(&sql).expect("the test's SQL") {
            if let postgres::SimpleQueryMessage::Row(row) = message {
                lines.push(
                    (0..row.len())
                        .map(|i| row.get(i).unwrap_or(""))
                        .collect::<Vec<_>>()
                        .join("|"),
                );
            }
        }
        lines
    })
    .join()
    .expect("the SQL thread")
}
