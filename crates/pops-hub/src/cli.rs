//! The `pops-hub` command line: `serve`, and head office's commands for centres, enrolment codes,
//! devices, reference data and the quarantine. Output for people goes to stdout (a command's
//! result on its last line, for scripts); logs go to stderr.

use crate::error::{Error, Result};
use crate::storage::{self, Storage};
use clap::{Args, Parser, Subcommand};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(
    name = "pops-hub",
    version,
    about = "The POPS head-office hub: receives the centres' changes and serves reference data"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Database {
    /// SQLite file (`sqlite://PATH` or a bare path) or `postgres://…` URL.
    #[arg(long = "database", env = "POPS_HUB_DATABASE", default_value = "pops-hub.db")]
    pub url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serves the sync API until SIGTERM or Ctrl-C.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one). Any address that
        /// is not loopback needs --tls-cert and --tls-key.
        #[arg(long)]
        listen: String,
        #[command(flatten)]
        database: Database,
        /// PEM certificate chain for HTTPS.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key for HTTPS.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Centres.
    Centre {
        #[command(subcommand)]
        command: CentreCommand,
    },
    /// Makes a one-time enrolment code for a centre (valid 24 hours).
    EnrolmentCode {
        #[command(flatten)]
        database: Database,
        /// The centre's id (from `centre add` or `centre list`).
        #[arg(long)]
        centre: Uuid,
    },
    /// Devices.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Reference data (partner agencies, price list, session slots).
    Reference {
        #[command(subcommand)]
        command: ReferenceCommand,
    },
    /// Changes the hub acknowledged but would not apply.
    Quarantine {
        #[command(subcommand)]
        command: QuarantineCommand,
    },
    /// Access keys for head office's pages (`/office`).
    OfficeKey {
        #[command(subcommand)]
        command: OfficeKeyCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum OfficeKeyCommand {
    /// Makes an access key for a person or team; prints it, once, as the last line.
    Add {
        #[command(flatten)]
        database: Database,
        /// Who the key is for, e.g. "Head office: reports".
        #[arg(long)]
        name: String,
    },
    /// Lists the keys: ids, names, when made, last used and revoked (never the keys).
    List {
        #[command(flatten)]
        database: Database,
    },
    /// Revokes a key: pages signed in with it are refused from the next page on.
    Revoke {
        #[command(flatten)]
        database: Database,
        #[arg(long)]
        id: Uuid,
    },
}

#[derive(Debug, Subcommand)]
pub enum CentreCommand {
    /// Adds a centre; prints its id as the last line.
    Add {
        #[command(flatten)]
        database: Database,
        #[arg(long)]
        name: String,
    },
    /// Lists the centres with their devices.
    List {
        #[command(flatten)]
        database: Database,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Revokes a device: its token stops working at once.
    Revoke {
        #[command(flatten)]
        database: Database,
        #[arg(long)]
        device: Uuid,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReferenceCommand {
    /// Imports a new version of a dataset from a CSV (with a header row) or JSON file.
    Import {
        #[command(flatten)]
        database: Database,
        /// partner_agencies, price_list or session_slots.
        #[arg(long)]
        dataset: String,
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// Lists quarantined changes: ids and reasons only.
    List {
        #[command(flatten)]
        database: Database,
    },
}

fn open(database: &Database) -> Result<Arc<dyn Storage>> {
    storage::open(&database.url)
}

/// Where `serve` listens, refusing a non-loopback address without TLS.
pub fn listen_address(listen: &str, tls: bool) -> Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| Error::Invalid(format!("--listen {listen} is not an address to listen on: {e}")))?
        .collect();
    let first = *addrs.first().ok_or_else(|| Error::Invalid(format!("--listen {listen} names no address")))?;
    if !tls && addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(Error::Invalid(format!(
            "refusing to serve on {listen} without TLS: it is not a loopback address, so devices' tokens and \
             changes would cross the network in clear. Give --tls-cert FILE and --tls-key FILE, or listen on \
             127.0.0.1"
        )));
    }
    Ok(first)
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn serve(listen: &str, database: &Database, cert: Option<PathBuf>, key: Option<PathBuf>) -> Result<()> {
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(crate::tls_config(&cert, &key)?),
        _ => None,
    };
    let addr = listen_address(listen, tls.is_some())?;
    let storage = open(database)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Invalid(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr()?;
    tracing::info!(%local, storage = storage.kind(), tls = tls.is_some(), "serving");
    println!("listening on {local}");
    use std::io::Write;
    std::io::stdout().flush()?;
    match tls {
        Some(tls) => crate::serve_tls(listener, storage, tls, shutdown_signal()).await?,
        None => crate::serve(listener, storage, shutdown_signal()).await?,
    }
    tracing::info!("stopped");
    Ok(())
}

/// Runs one command.
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve { listen, database, tls_cert, tls_key } => serve(&listen, &database, tls_cert, tls_key).await,
        Command::Centre { command: CentreCommand::Add { database, name } } => {
            let id = open(&database)?.add_centre(&name)?;
            println!("Added the centre. Its id:");
            println!("{id}");
            Ok(())
        }
        Command::Centre { command: CentreCommand::List { database } } => {
            let centres = open(&database)?.centres()?;
            if centres.is_empty() {
                println!("No centres yet: add one with `pops-hub centre add --name NAME`.");
            }
            for c in centres {
                println!(
                    "{}  {}  devices: {}  last seen: {}",
                    c.id,
                    c.name,
                    c.devices,
                    c.last_seen_at.as_deref().unwrap_or("never")
                );
            }
            Ok(())
        }
        Command::EnrolmentCode { database, centre } => {
            let code = open(&database)?.new_enrolment_code(centre)?;
            println!("Enrolment code for centre {centre}. It works once, within 24 hours:");
            println!("{code}");
            Ok(())
        }
        Command::Device { command: DeviceCommand::Revoke { database, device } } => {
            open(&database)?.revoke_device(device)?;
            println!("Revoked device {device}: the hub refuses its token from now on.");
            Ok(())
        }
        Command::Reference { command: ReferenceCommand::Import { database, dataset, file } } => {
            let items = crate::import::read_items(&dataset, &file)?;
            let count = items.len();
            let version = open(&database)?.import_reference(&dataset, items)?;
            println!("Imported {count} items into {dataset}.");
            println!("version {version}");
            Ok(())
        }
        Command::OfficeKey { command: OfficeKeyCommand::Add { database, name } } => {
            let (id, key) = open(&database)?.add_office_key(&name, chrono::Utc::now())?;
            println!("Made office key {id}. Give the key below to its holder: it is shown only now.");
            println!("They sign in at https://<this hub>/office");
            println!("{key}");
            Ok(())
        }
        Command::OfficeKey { command: OfficeKeyCommand::List { database } } => {
            let keys = open(&database)?.office_keys()?;
            if keys.is_empty() {
                println!("No office keys yet: make one with `pops-hub office-key add --name NAME`.");
            }
            for k in keys {
                println!(
                    "{}  {}  made {}  last used {}{}",
                    k.id,
                    k.name,
                    k.made_at,
                    k.last_used_at.as_deref().unwrap_or("never"),
                    k.revoked_at.map(|at| format!("  revoked {at}")).unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::OfficeKey { command: OfficeKeyCommand::Revoke { database, id } } => {
            open(&database)?.revoke_office_key(id, chrono::Utc::now())?;
            println!("Revoked office key {id}: its pages are refused from now on.");
            Ok(())
        }
        Command::Quarantine { command: QuarantineCommand::List { database } } => {
            let entries = open(&database)?.quarantine()?;
            if entries.is_empty() {
                println!("No quarantined changes.");
            }
            for q in entries {
                println!("{}  device {}  seq {}  {}  {}", q.change_id, q.device_id, q.seq, q.at, q.reason);
            }
            Ok(())
        }
    }
}
