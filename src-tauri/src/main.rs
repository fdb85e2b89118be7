//! `pops-centre`: the desktop app. Parses the command line, makes sure only one instance runs per
//! data folder, and hands everything else to `pops-app` through thin Tauri commands.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod cli;
mod commands;
mod single_instance;

use pops_app::{App, Config};
use pops_sync::{SyncConfig, Syncer};
use std::sync::Arc;
use std::time::Duration;
use tauri::{Emitter, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder};

/// The Tauri event the UI listens to when the app's state changes on its own (the idle lock).
pub const STATE_EVENT: &str = "app-state-changed";

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("POPS_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let code = match cli::parse(std::env::args().skip(1)) {
        Ok(cli::Invocation::Help) => {
            println!("{}", cli::HELP);
            0
        }
        Ok(cli::Invocation::Demo { data_dir, weeks }) => cli::run_demo(&data_dir, weeks),
        Ok(cli::Invocation::Run { data_dir, idle_lock, export_dir }) => run(data_dir, idle_lock, export_dir),
        Err(message) => {
            eprintln!("pops-centre: {message}\n\n{}", cli::HELP);
            2
        }
    };
    std::process::exit(code);
}

fn run(data_dir: std::path::PathBuf, idle_lock: Option<Duration>, export_dir: Option<std::path::PathBuf>) -> i32 {
    let guard = match single_instance::claim(&data_dir) {
        Ok(single_instance::Claim::First(guard)) => guard,
        Ok(single_instance::Claim::AlreadyRunning) => {
            eprintln!("pops-centre: the app is already open for this centre; it has been brought to the front.");
            return 0;
        }
        Err(e) => {
            eprintln!("pops-centre: cannot use the data folder {}: {e}", data_dir.display());
            return 1;
        }
    };
    let mut config = Config::new(&data_dir);
    config.idle_lock = idle_lock;
    config.export_dir = export_dir;
    // One sync worker for the app's whole life, on a thread of its own. It does nothing until
    // someone signs in (the app then gives it its own connection to the database).
    let syncer = Arc::new(Syncer::start(SyncConfig::default()));
    let app = match App::start_with_sync(config, syncer.clone()) {
        Ok(app) => Arc::new(app),
        Err(e) => {
            eprintln!("pops-centre: {}", e.message);
            syncer.shutdown();
            return 1;
        }
    };
    let built = tauri::Builder::default()
        .manage(app.clone())
        .invoke_handler(commands::handler())
        .setup(move |tauri_app| {
            let window = WebviewWindowBuilder::new(tauri_app, "main", WebviewUrl::App("index.html".into()))
                .title("POPS Visitor Centre")
                .inner_size(1280.0, 800.0)
                .min_inner_size(1024.0, 640.0)
                // Only the app's own pages: nothing remote is ever loaded.
                .on_navigation(|url| {
                    matches!(url.scheme(), "tauri") || matches!(url.host_str(), Some("tauri.localhost"))
                })
                .build()?;
            let handle = tauri_app.handle().clone();
            guard.on_raise(move || {
                if let Some(w) = handle.get_webview_window("main") {
                    let _ = w.unminimize();
                    let _ = w.show();
                    let _ = w.set_focus();
                }
            })?;
            let handle = tauri_app.handle().clone();
            let watched = app.clone();
            std::thread::Builder::new().name("idle-lock".into()).spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(500));
                    if watched.lock_if_idle() {
                        tracing::info!("screen locked after idle time");
                        let _ = handle.emit(STATE_EVENT, watched.get_app_state());
                    }
                }
            })?;
            drop(window);
            // Held for the app's whole life: dropping it would let a second instance in.
            tauri_app.manage(guard);
            Ok(())
        })
        .build(tauri::generate_context!());
    match built {
        Ok(tauri_app) => {
            tauri_app.run(move |_, event| {
                if let RunEvent::Exit = event {
                    // A request in flight is abandoned: nothing counts as sent until head
                    // office's reply is committed, so the next start sends it again.
                    syncer.shutdown();
                }
            });
            0
        }
        Err(e) => {
            eprintln!("pops-centre: the window could not start: {e}");
            syncer.shutdown();
            1
        }
    }
}
