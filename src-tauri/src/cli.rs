//! The command line: `pops-centre [--data-dir DIR] [--idle-lock-seconds N] [--export-dir DIR]` opens the app;
//! `pops-centre demo --data-dir DIR [--weeks N]` builds a training centre without opening a window.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub const HELP: &str = "\
POPS Visitor Centre

Usage:
  pops-centre [--data-dir DIR] [--idle-lock-seconds N] [--export-dir DIR]
      Open the app. The centre's data lives in DIR (default: the platform's app-data folder,
      or POPS_DATA_DIR when set). --idle-lock-seconds overrides the centre's idle-lock setting
      (for training and testing). CSV exports are saved in --export-dir (or POPS_EXPORT_DIR; default: a
      \"POPS exports\" folder in Documents).
  pops-centre demo --data-dir DIR [--weeks N]
      Build a training centre with N weeks (default 3) of made-up visits in DIR, which must be
      empty, and print how to sign in to it. Opens no window.
  pops-centre --help

Keys: F9 hides the screen at once (privacy screen); F2 the fire list and roll-call; Alt+1 Today;
Alt+N new check-in; Alt+E log an enquiry; Alt+F log feedback.";

#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    Run { data_dir: PathBuf, idle_lock: Option<Duration>, export_dir: Option<PathBuf> },
    Demo { data_dir: PathBuf, weeks: i64 },
    Help,
}

fn default_data_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("POPS_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir()
        .map(|d| d.join("uk.org.partnersofprisoners.visitorcentre"))
        .ok_or_else(|| "cannot find this computer's app-data folder: give --data-dir".into())
}

pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Invocation, String> {
    let mut args = args.into_iter().peekable();
    let demo = args.peek().map(String::as_str) == Some("demo");
    if demo {
        args.next();
    }
    let (mut data_dir, mut idle, mut weeks, mut export_dir) = (None, None, None, None);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--help" | "-h" => return Ok(Invocation::Help),
            "--data-dir" => data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "--export-dir" if !demo => export_dir = Some(PathBuf::from(value("--export-dir")?)),
            "--idle-lock-seconds" if !demo => {
                let v = value("--idle-lock-seconds")?;
                let n: u64 = v.parse().ok().filter(|n| (1..=86_400).contains(n)).ok_or_else(|| {
                    format!("--idle-lock-seconds must be a whole number of seconds from 1 to 86400, not {v:?}")
                })?;
                idle = Some(Duration::from_secs(n));
            }
            "--weeks" if demo => {
                let v = value("--weeks")?;
                weeks = Some(
                    v.parse()
                        .ok()
                        .filter(|n| (1..=52).contains(n))
                        .ok_or_else(|| format!("--weeks must be a whole number from 1 to 52, not {v:?}"))?,
                );
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if demo {
        let data_dir = data_dir.ok_or("demo needs --data-dir DIR (an empty folder for the training centre)")?;
        return Ok(Invocation::Demo { data_dir, weeks: weeks.unwrap_or(3) });
    }
    Ok(Invocation::Run {
        data_dir: match data_dir {
            Some(d) => d,
            None => default_data_dir()?,
        },
        idle_lock: idle,
        export_dir: export_dir
            .or_else(|| std::env::var_os("POPS_EXPORT_DIR").filter(|d| !d.is_empty()).map(PathBuf::from))
            .or_else(|| dirs::document_dir().map(|d| d.join("POPS exports"))),
    })
}

pub fn run_demo(dir: &Path, weeks: i64) -> i32 {
    let not_empty = std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if not_empty {
        eprintln!("pops-centre demo: {} is not empty; give an empty or new folder", dir.display());
        return 2;
    }
    match pops_app::demo::build(dir, chrono::Utc::now(), weeks) {
        Ok(summary) => {
            println!(
                "Training centre built in {}: {} visits sessions, {} parties over {} days.",
                dir.display(),
                summary.sessions,
                summary.parties,
                summary.days
            );
            println!("Open it with:  pops-centre --data-dir {}", dir.display());
            println!("Sign in with any of these (username / passphrase / PIN):");
            for a in &pops_app::demo::ACCOUNTS {
                println!("  {:<12} {:<26} {}   ({})", a.username, a.passphrase, a.pin, a.role.label());
            }
            println!("Recovery code (training only): {}", summary.recovery_code);
            0
        }
        Err(e) => {
            eprintln!("pops-centre demo: {}", e.message);
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Invocation, String> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(
            p(&["--data-dir", "/x", "--idle-lock-seconds", "3", "--export-dir", "/e"]).unwrap(),
            Invocation::Run {
                data_dir: "/x".into(),
                idle_lock: Some(Duration::from_secs(3)),
                export_dir: Some("/e".into())
            }
        );
        assert_eq!(p(&["demo", "--data-dir", "/d"]).unwrap(), Invocation::Demo { data_dir: "/d".into(), weeks: 3 });
        assert_eq!(
            p(&["demo", "--data-dir", "/d", "--weeks", "5"]).unwrap(),
            Invocation::Demo { data_dir: "/d".into(), weeks: 5 }
        );
        assert_eq!(p(&["--help"]).unwrap(), Invocation::Help);
    }

    #[test]
    fn refuses_bad_arguments_in_words() {
        assert!(p(&["demo"]).unwrap_err().contains("--data-dir"));
        assert!(p(&["--idle-lock-seconds", "0"]).unwrap_err().contains("from 1"));
        assert!(p(&["--idle-lock-seconds", "abc"]).unwrap_err().contains("abc"));
        assert!(p(&["--data-dir"]).unwrap_err().contains("needs a value"));
        assert!(p(&["--frobnicate"]).unwrap_err().contains("unknown"));
        assert!(p(&["demo", "--data-dir", "/d", "--weeks", "99"]).is_err());
    }

    #[test]
    fn the_demo_builds_a_training_centre() {
        let dir = tempfile_dir();
        assert_eq!(run_demo(&dir, 1), 0);
        assert_eq!(run_demo(&dir, 1), 2, "refuses a folder that is not empty");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pops-demo-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }
}
