//! `ruuvictl secret`: set, get and delete named secrets in the OS keychain.

use std::io::{IsTerminal, Read};

use clap::Subcommand;
use ruuvi_secrets::{SecretName, SecretStore, Sensitive};

const NAMES: &str = "NAME is <kind>/<id>, kind one of gateway-password, gateway-api-key, \
                     gateway-api-key-rw, receiver-auth, hmac-key, internal-api-secret, private-key, \
                     database-password, mqtt-password \
                     (e.g. gateway-password/C8:25:2D:8E:9C:2C, database-password/db.lan:5432:ruuvi)";

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret, read from standard input (never from the command line, which other
    /// users can see). One trailing newline is dropped.
    #[command(after_help = NAMES)]
    Set { name: SecretName },
    /// Say whether a secret is stored; print it only with --show.
    #[command(after_help = NAMES)]
    Get {
        name: SecretName,
        /// Print the secret itself on standard output.
        #[arg(long)]
        show: bool,
    },
    /// Remove a secret from the keychain.
    #[command(after_help = NAMES)]
    Delete { name: SecretName },
}

pub fn run(command: SecretCommand, store: &dyn SecretStore) -> Result<(), String> {
    match command {
        SecretCommand::Set { name } => {
            if std::io::stdin().is_terminal() {
                eprintln!("Type the secret for {name}, then Enter and Ctrl-D:");
            }
            let mut raw = String::new();
            std::io::stdin()
                .read_to_string(&mut raw)
                .map_err(|e| format!("reading the secret from standard input: {e}"))?;
            let raw = Sensitive::new(raw);
            let text = raw.expose();
            let value = text
                .strip_suffix("\r\n")
                .or_else(|| text.strip_suffix('\n'))
                .unwrap_or(text);
            if value.is_empty() {
                return Err("the secret is empty; nothing was stored".to_string());
            }
            store
                .set(&name, &Sensitive::new(value.to_string()))
                .map_err(|e| e.to_string())?;
            tracing::info!(%name, "stored a secret");
            println!("stored {name}");
        }
        SecretCommand::Get { name, show } => match store.get(&name).map_err(|e| e.to_string())? {
            Some(value) if show => println!("{}", value.expose()),
            Some(_) => println!("{name} is set (use --show to print it)"),
            None => return Err(format!("{name} is not set")),
        },
        SecretCommand::Delete { name } => {
            if store.delete(&name).map_err(|e| e.to_string())? {
                tracing::info!(%name, "deleted a secret");
                println!("deleted {name}");
            } else {
                return Err(format!("{name} is not set"));
            }
        }
    }
    Ok(())
}
