//! `ruuvictl`: Ruuvi Desk's command line, a thin front over the core crates.

mod alert;
mod ble;
mod decode;
mod gateway;
mod pki;
mod secret;
mod sensor;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ruuvi_secrets::Keychain;

#[derive(Debug, Parser)]
#[command(
    name = "ruuvictl",
    version,
    about = "Ruuvi Desk without a window: decode advertisements, manage certificates and secrets",
    override_usage = "ruuvictl [OPTIONS] <decode|ble|gateway|pki|secret|serve|export> ..."
)]
struct Cli {
    /// Ruuvi Desk's data directory (certificates in `pki/`, logs in `logs/`); the app's own
    /// by default.
    #[arg(long, env = "RUUVI_DESK_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// The keychain service Ruuvi Desk files its secrets under (one per installation or
    /// profile).
    #[arg(
        long,
        env = "RUUVI_DESK_KEYCHAIN_SERVICE",
        default_value = ruuvi_secrets::DEFAULT_SERVICE,
        global = true
    )]
    keychain_service: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode advertisements (`ruuvictl decode --help`).
    #[command(disable_help_flag = true)]
    Decode {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// This computer's Bluetooth: scan nearby tags, record and replay advertisement streams.
    #[command(subcommand)]
    Ble(ble::BleCommand),
    /// Gateways: find them, log in, show and change their HTTP(S) backend and certificates.
    #[command(subcommand)]
    Gateway(gateway::GatewayCommand),
    /// Certificates: the local CA, the receiver's certificate, one per gateway.
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// Be the gateways' own server: receive, check and store their posts (Ctrl-C stops).
    Serve(Box<serve::Serve>),
    /// Stored observations as CSV or JSON lines.
    Export(serve::Export),
    /// Stored observations from a file: our CSV or JSON-lines export, or Ruuvi Station's CSV.
    Import(serve::Import),
    /// Sensors: names, locations, notes and calibration offsets (kept in the store).
    #[command(subcommand)]
    Sensor(sensor::SensorCommand),
    /// Alert rules, the alerts that fired, a test alert.
    #[command(subcommand)]
    Alert(alert::AlertCommand),
    /// Secrets in the OS keychain (gateway passwords, API keys, HMAC keys, …).
    #[command(subcommand)]
    Secret(secret::SecretCommand),
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn main() -> ExitCode {
    // `decode` predates the other commands and keeps its own argument handling.
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().map(String::as_str) == Some("decode") {
        return decode::run(&raw[1..]);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // The app's folders (an earlier identifier's moved first), unless --data-dir names one.
    let (data_dir, local_dir, log_dir, adoptions) = match cli.data_dir {
        Some(dir) => (dir.clone(), dir.clone(), dir.join("logs"), Vec::new()),
        None => match ruuvi_wiring::identifier::DefaultFolders::find() {
            Some(f) => (f.data, f.local, f.logs, f.adoptions),
            None => {
                eprintln!(
                    "ruuvictl: no data directory: pass --data-dir or set RUUVI_DESK_DATA_DIR"
                );
                return ExitCode::from(2);
            }
        },
    };
    // Logs go where the app keeps its own (`ruuvictl.log` next to `ruuvi-desk.log`).
    ruuvi_wiring::log_to_file(
        &log_dir,
        "ruuvictl.log",
        ruuvi_wiring::LogLimits::from_env(),
    );
    for note in adoptions.iter().filter_map(|a| a.note()) {
        tracing::warn!("{note}");
    }
    let (database_dir, moved) = ruuvi_wiring::identifier::database_folder(&data_dir, &local_dir);
    if let Some(note) = moved {
        tracing::warn!("{note}");
    }
    let keychain = Keychain::new(&cli.keychain_service);
    let result = match cli.command {
        Command::Decode { args } => return decode::run(&args),
        Command::Serve(args) => match runtime() {
            Ok(rt) => rt.block_on(serve::serve(
                *args,
                &data_dir,
                &database_dir,
                std::sync::Arc::new(keychain.clone()),
            )),
            Err(e) => Err(e),
        },
        Command::Export(args) => serve::export(args, &database_dir, &keychain),
        Command::Import(args) => serve::import(args, &database_dir, &keychain),
        Command::Sensor(command) => sensor::run(command, &database_dir, &keychain),
        Command::Ble(command) => {
            return match runtime() {
                Ok(rt) => {
                    let code = rt.block_on(ble::run(command));
                    // A Bluetooth call given up on may still block a pool thread: do not wait.
                    rt.shutdown_background();
                    code
                }
                Err(e) => {
                    eprintln!("ruuvictl: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Gateway(command) => {
            let runtime = match runtime() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("ruuvictl: {e}");
                    return ExitCode::FAILURE;
                }
            };
            return match runtime.block_on(gateway::run(command, &data_dir, &keychain)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(failure) => {
                    tracing::error!("{}", failure.message);
                    eprintln!("ruuvictl: {}", failure.message);
                    ExitCode::from(failure.code)
                }
            };
        }
        Command::Pki(command) => pki::run(command, &data_dir, &keychain),
        Command::Alert(command) => match runtime() {
            Ok(rt) => rt.block_on(alert::run(command, &data_dir)),
            Err(e) => Err(e),
        },
        Command::Secret(command) => secret::run(command, &keychain),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("ruuvictl: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every subcommand's options are consistent (unique names, valid requirements): clap
    /// checks this only when a command is run, so check them all here.
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
