//! The `pops-hub` binary: parses the command line, sets up logging (stderr, `RUST_LOG`, default
//! `info`), and runs the command.

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// `RUST_LOG` (default `info`), except that the PostgreSQL client never logs below `info`: at
/// `debug` it prints every statement's parameters, which are payloads and token hashes.
fn log_filter() -> EnvFilter {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    ["tokio_postgres=info", "postgres=info"]
        .into_iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, |f, d| f.add_directive(d))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = pops_hub::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    match pops_hub::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pops-hub: {e}");
            ExitCode::FAILURE
        }
    }
}
