//! `cargo xtask`: the project's automation — run the app, run every check, regenerate bindings, benchmark.

mod postgres;
mod step;
mod system;
mod tools;
mod ui;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use step::{Cmd, Failure, Result, timed};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run [ARGS...]  build the UI and start the desktop app (pops-centre), passing ARGS to it
  test           every check CI runs: formatting, UI checks and tests, clippy, all Rust tests
                 (including the end-to-end tests that drive the real app window under Xvfb)
  codegen        regenerate ui/src/backend/bindings.ts from the Rust types
  bench          run the benchmarks of pops-store and pops-sync (extra ARGS go to `cargo bench`)
  postgres       start a throw-away PostgreSQL on 127.0.0.1, print its URL for
                 POPS_TEST_POSTGRES_URL, and stop and delete it when Enter is pressed
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let root = workspace_root();

    let outcome = match command.as_deref() {
        Some("run") => run(&root, &rest),
        Some("test") if rest.is_empty() => test(&root).map(|()| ExitCode::SUCCESS),
        Some("test") => Err(Failure::new("`cargo xtask test` takes no arguments")),
        Some("codegen") => codegen(&root).map(|()| ExitCode::SUCCESS),
        Some("bench") => bench(&root, &rest).map(|()| ExitCode::SUCCESS),
        Some("postgres") => postgres_until_enter().map(|()| ExitCode::SUCCESS),
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprint!("{USAGE}");
            Ok(ExitCode::FAILURE)
        }
        Some(other) => Err(Failure::new(format!("unknown command `{other}`\n\n{USAGE}"))),
    };
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("xtask: error: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this package's directory, as an absolute path.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// `cargo xtask run`: build the UI, then build and start the desktop app.
fn run(root: &Path, app_args: &[String]) -> Result<ExitCode> {
    timed("system packages (build)", || system::ensure(system::BUILD))?;
    timed("ui dependencies", || ui::ensure_deps(root))?;
    let build_ui = Cmd::npm(root).args(["run", "build"]);
    timed(&build_ui.line(), || build_ui.run())?;

    let app = Cmd::cargo(root).args(["run", "-p", "pops-centre", "--"]).args(app_args);
    eprintln!("xtask: ==> {}", app.line());
    let status = app.status()?;
    Ok(exit_code(status))
}

/// `cargo xtask test`: every check, in order, stopping at the first that fails.
fn test(root: &Path) -> Result<()> {
    let start = Instant::now();
    timed("system packages (build + tests)", || system::ensure(&[system::BUILD, system::TEST].concat()))?;
    timed("ui dependencies", || ui::ensure_deps(root))?;
    let tauri_driver = timed("tauri-driver", || tools::tauri_driver(root))?;

    let app_binary = root.join("target/debug/pops-centre");
    let rust_tests = if step::on_path("cargo-nextest") {
        Cmd::cargo(root).args(["nextest", "run", "--workspace", "--no-fail-fast"])
    } else {
        Cmd::cargo(root).args(["test", "--workspace", "--no-fail-fast"])
    }
    .env("POPS_TAURI_DRIVER", &tauri_driver)
    .env("POPS_APP_BINARY", &app_binary);
    // The hub's PostgreSQL tests run against this cluster, and must not skip themselves.
    let postgres = timed("throw-away PostgreSQL on 127.0.0.1", postgres::Cluster::start)?;
    let rust_tests = rust_tests.env("POPS_TEST_POSTGRES_URL", &postgres.url).env("POPS_REQUIRE_POSTGRES", "1");

    let steps = [
        Cmd::cargo(root).args(["fmt", "--all", "--", "--check"]),
        Cmd::npm(root).args(["run", "check"]),
        Cmd::npm(root).arg("test"),
        Cmd::npm(root).args(["run", "build"]),
        Cmd::cargo(root).args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
        // The binary the end-to-end tests drive; it embeds the ui/dist built above.
        Cmd::cargo(root).args(["build", "-p", "pops-centre"]),
        rust_tests,
    ];
    let count = steps.len();
    for (index, cmd) in steps.iter().enumerate() {
        let line = cmd.line();
        timed(&line, || cmd.run()).map_err(|failure| {
            Failure::new(format!(
                "{failure}\nxtask: `cargo xtask test` stopped at step {} of {count} ({line}); \
                 the steps after it did not run",
                index + 1
            ))
        })?;
    }
    eprintln!("xtask: all {count} checks passed in {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// `cargo xtask codegen`: rewrite the generated TypeScript bindings.
fn codegen(root: &Path) -> Result<()> {
    let cmd = Cmd::cargo(root).args(["test", "-p", "pops-app", "bindings"]).env("POPS_WRITE_BINDINGS", "1");
    timed(&cmd.line(), || cmd.run())
}

/// `cargo xtask bench`: the store's and sync's benchmarks; they print their own figures. Sync's
/// twelve-laptop figure needs PostgreSQL: a throw-away cluster, as for the tests.
fn bench(root: &Path, extra: &[String]) -> Result<()> {
    let postgres = timed("throw-away PostgreSQL on 127.0.0.1", postgres::Cluster::start)?;
    let cmd = Cmd::cargo(root)
        .args(["bench", "-p", "pops-store", "-p", "pops-sync"])
        .args(extra)
        .env("POPS_TEST_POSTGRES_URL", &postgres.url);
    timed(&cmd.line(), || cmd.run())
}

/// `cargo xtask postgres`: a cluster for running the hub's PostgreSQL tests by hand.
fn postgres_until_enter() -> Result<()> {
    let cluster = timed("throw-away PostgreSQL on 127.0.0.1", postgres::Cluster::start)?;
    println!("POPS_TEST_POSTGRES_URL={}", cluster.url);
    eprintln!("xtask: press Enter to stop it and delete its files");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    Ok(())
}

fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE, // killed by a signal
    }
}
