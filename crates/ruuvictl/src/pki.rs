//! `ruuvictl pki`: the installation's CA, the receiver's certificate, gateway certificates.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use ruuvi_pki::{
    host_for_gateway, inspect, local_addresses, local_host_name, route_source, server_names,
    CertInfo, KeyAlgorithm, NameCheck, OffsetDateTime, Pki, ServerState, Validity, CA_DAYS,
    CLIENT_DAYS, ROTATION_WARNING_DAYS, SERVER_DAYS,
};
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::{SecretStore, Sensitive};

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create this installation's CA (key in the keychain, certificate in the data directory).
    Init {
        /// The CA's common name [default: "Ruuvi Desk CA (<host name>)"].
        #[arg(long)]
        name: Option<String>,
        /// Key type: ecdsa-p256 (accepted by the gateway's mbedTLS) or rsa-2048.
        #[arg(long, default_value = "ecdsa-p256")]
        algorithm: KeyAlgorithm,
        #[arg(long, default_value_t = CA_DAYS)]
        days: i64,
        /// Replace an existing CA; every certificate it issued is discarded.
        #[arg(long)]
        replace: bool,
    },
    /// Use an existing CA (PEM certificate and unencrypted PEM key) instead of a new one.
    ImportCa {
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        replace: bool,
    },
    /// Issue the receiver's certificate for this machine's names and addresses (re-issued only
    /// when they changed or it is about to expire, unless --force).
    IssueServer {
        /// Extra DNS names or IP addresses to include, now and in every later re-issue.
        #[arg(long = "name")]
        names: Vec<String>,
        #[arg(long, default_value_t = SERVER_DAYS)]
        days: i64,
        #[arg(long)]
        force: bool,
    },
    /// Issue (or rotate) a gateway's client certificate: CN = its MAC, clientAuth.
    IssueClient {
        gateway: MacAddress,
        #[arg(long, default_value_t = CLIENT_DAYS)]
        days: i64,
    },
    /// Revoke a gateway's client certificates: the receiver stops accepting them.
    Revoke { gateway: MacAddress },
    /// List the CA, the receiver's certificate and the gateways' certificates.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show what a PEM file holds (every certificate in it).
    Show {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Write the CA certificate, the receiver's certificate and key when issued (and, with --client,
    /// gateways' certificates and keys) to DIR, for running your own server.
    Export {
        dir: PathBuf,
        #[arg(long = "client")]
        clients: Vec<MacAddress>,
    },
    /// The host a gateway at this address should use in the receiver's URL.
    HostFor {
        gateway: IpAddr,
        /// The gateway's TLS matches DNS names only (firmware with mbedTLS 2.x): pick a name.
        #[arg(long)]
        dns_only: bool,
    },
    /// The key type of new server and client keys.
    SetAlgorithm { algorithm: KeyAlgorithm },
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn date(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.date().to_string())
        .unwrap_or_else(|_| unix.to_string())
}

/// One certificate, human-readable.
fn describe(label: &str, info: &CertInfo) -> String {
    let days_left = (info.not_after - now().unix_timestamp()) / 86_400;
    let state = if days_left < 0 {
        "EXPIRED".to_string()
    } else if days_left <= ROTATION_WARNING_DAYS {
        format!("expires in {days_left} days: renew now")
    } else {
        format!("valid for {days_left} more days")
    };
    let mut text = format!(
        "{label}\n  subject:     {}\n  issuer:      {}\n  valid:       {} .. {} ({state})\n  key:         {}\n  sha256:      {}\n",
        info.subject,
        info.issuer,
        date(info.not_before),
        date(info.not_after),
        info.key_type,
        info.fingerprint_sha256
    );
    if !info.sans.is_empty() {
        text.push_str(&format!("  names:       {}\n", info.sans.join(", ")));
    }
    let mut usage = Vec::new();
    if info.is_ca {
        usage.push("CA");
    }
    if info.server_auth {
        usage.push("server");
    }
    if info.client_auth {
        usage.push("client");
    }
    if !usage.is_empty() {
        text.push_str(&format!("  use:         {}\n", usage.join(", ")));
    }
    text
}

fn read_file(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The names the receiver's certificate should carry: this machine's and the user's own.
fn wanted_names(pki: &Pki) -> Result<Vec<String>, String> {
    let addresses = local_addresses().unwrap_or_default();
    pki.wanted_server_names(&server_names(local_host_name().as_deref(), &addresses))
        .map_err(|e| e.to_string())
}

pub fn run(command: PkiCommand, data_dir: &Path, secrets: &dyn SecretStore) -> Result<(), String> {
    let pki = Pki::new(data_dir.join("pki"), secrets);
    let err = |e: ruuvi_pki::PkiError| e.to_string();
    match command {
        PkiCommand::Init {
            name,
            algorithm,
            days,
            replace,
        } => {
            let name = name.unwrap_or_else(|| match local_host_name() {
                Some(host) => format!("Ruuvi Desk CA ({host})"),
                None => "Ruuvi Desk CA".to_string(),
            });
            let info = pki
                .init(&name, algorithm, Validity::days_from(now(), days), replace)
                .map_err(err)?;
            print!("{}", describe("created the CA", &info));
        }
        PkiCommand::ImportCa { cert, key, replace } => {
            let cert = read_file(&cert)?;
            let key = Sensitive::new(read_file(&key)?);
            let info = pki.import_ca(&cert, &key, replace).map_err(err)?;
            print!("{}", describe("imported the CA", &info));
        }
        PkiCommand::IssueServer { names, days, force } => {
            pki.add_server_names(&names).map_err(err)?;
            let names = wanted_names(&pki)?;
            let (info, reason) = if force {
                let info = pki.issue_server(&names, now(), days).map_err(err)?;
                (info, Some(ServerState::Missing))
            } else {
                pki.ensure_server(&names, now(), days).map_err(err)?
            };
            let label = match reason {
                None => "the receiver's certificate is current (nothing issued)".to_string(),
                Some(ServerState::Missing) => "issued the receiver's certificate".to_string(),
                Some(ServerState::NamesChanged { added, removed }) => format!(
                    "re-issued the receiver's certificate (added: {}; removed: {})",
                    if added.is_empty() {
                        "-".into()
                    } else {
                        added.join(", ")
                    },
                    if removed.is_empty() {
                        "-".into()
                    } else {
                        removed.join(", ")
                    }
                ),
                Some(ServerState::ExpiresSoon) => {
                    "re-issued the receiver's certificate (it was about to expire)".to_string()
                }
                Some(ServerState::Current) => unreachable!("current certificates are kept"),
            };
            print!("{}", describe(&label, &info));
        }
        PkiCommand::IssueClient { gateway, days } => {
            let info = pki
                .issue_client(&gateway, Validity::days_from(now(), days))
                .map_err(err)?;
            print!(
                "{}",
                describe(&format!("issued a client certificate for {gateway}"), &info)
            );
        }
        PkiCommand::Revoke { gateway } => {
            if pki.revoke_client(&gateway).map_err(err)? {
                println!("revoked {gateway}: the receiver no longer accepts its certificate");
            } else {
                return Err(format!("{gateway} has no client certificate"));
            }
        }
        PkiCommand::List { json } => {
            let ca = inspect(&pki.ca_pem().map_err(err)?).map_err(err)?;
            let server = pki
                .server_identity()
                .ok()
                .and_then(|(pem, _)| inspect(&pem).ok());
            let server_state = pki.server_state(&wanted_names(&pki)?, now()).map_err(err)?;
            let clients = pki.clients().map_err(err)?;
            if json {
                let value = serde_json::json!({
                    "ca": ca,
                    "server": server,
                    "server_state": server_state,
                    "clients": clients,
                });
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).expect("plain data")
                );
                return Ok(());
            }
            print!("{}", describe("CA", &ca));
            match &server {
                Some(info) => print!("{}", describe("receiver", info)),
                None => println!("receiver\n  (not issued: ruuvictl pki issue-server)"),
            }
            if let ServerState::NamesChanged { added, removed } = &server_state {
                println!(
                    "  this machine's names changed (added: {:?}, removed: {:?}): run `ruuvictl pki issue-server`",
                    added, removed
                );
            }
            for client in &clients {
                let label = if client.previous {
                    format!(
                        "gateway {} (previous, accepted until it expires)",
                        client.gateway
                    )
                } else {
                    format!("gateway {}", client.gateway)
                };
                print!("{}", describe(&label, &client.info));
            }
        }
        PkiCommand::Show { file, json } => {
            let text = read_file(&file)?;
            let infos = ruuvi_pki::inspect_all(&text).map_err(err)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&infos).expect("plain data")
                );
            } else {
                for (i, info) in infos.iter().enumerate() {
                    print!("{}", describe(&format!("certificate {}", i + 1), info));
                }
            }
        }
        PkiCommand::Export { dir, clients } => {
            for path in pki.export(&dir, &clients).map_err(err)? {
                println!("{}", path.display());
            }
        }
        PkiCommand::HostFor { gateway, dns_only } => {
            let check = if dns_only {
                NameCheck::DnsOnly
            } else {
                NameCheck::IpSans
            };
            let (pem, _) = pki.server_identity().map_err(err)?;
            let sans = inspect(&pem).map_err(err)?.sans;
            let addresses = local_addresses().unwrap_or_default();
            match host_for_gateway(gateway, &addresses, route_source(gateway), &sans, check) {
                Some(host) => println!("{host}"),
                None => {
                    return Err(format!(
                        "none of the receiver certificate's names ({}) reaches {gateway}: run `ruuvictl pki issue-server`",
                        sans.join(", ")
                    ))
                }
            }
        }
        PkiCommand::SetAlgorithm { algorithm } => {
            pki.set_leaf_algorithm(algorithm).map_err(err)?;
            println!("new server and client keys will be {algorithm:?}");
        }
    }
    Ok(())
}
