//! One external command run as a named, timed step, and the error every step reports.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Instant;

/// Why an xtask command stopped: a sentence for the person at the terminal.
#[derive(Debug)]
pub struct Failure(String);

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure(message.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

/// A command line to run with inherited stdin/stdout/stderr, in a given directory.
pub struct Cmd {
    /// What the program is called in messages (`cargo`, not the toolchain's full path).
    name: String,
    program: OsString,
    args: Vec<OsString>,
    cwd: PathBuf,
    envs: Vec<(OsString, OsString)>,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>, cwd: &Path) -> Cmd {
        let program = program.as_ref().to_os_string();
        Cmd {
            name: program.to_string_lossy().into_owned(),
            program,
            args: Vec::new(),
            cwd: cwd.to_path_buf(),
            envs: Vec::new(),
        }
    }

    /// `cargo`, the same one that runs xtask (cargo sets `CARGO` for `cargo run`).
    pub fn cargo(root: &Path) -> Cmd {
        let program = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut cmd = Cmd::new(program, root);
        cmd.name = "cargo".to_string();
        cmd
    }

    /// `npm`, run inside `ui/`.
    pub fn npm(root: &Path) -> Cmd {
        Cmd::new("npm", &root.join("ui"))
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cmd {
        self.envs.push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// The command line as a person would type it (environment first, if any).
    pub fn line(&self) -> String {
        let mut words: Vec<String> =
            self.envs.iter().map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())).collect();
        words.push(self.name.clone());
        words.extend(self.args.iter().map(|a| a.to_string_lossy().into_owned()));
        words.join(" ")
    }

    /// Runs the command to completion and returns how it ended.
    pub fn status(&self) -> Result<ExitStatus> {
        Command::from(self).status().map_err(|e| {
            let hint = if e.kind() == io::ErrorKind::NotFound {
                match self.name.as_str() {
                    "npm" => " (not found: install Node.js 20 or newer with npm)",
                    _ => " (not found on PATH)",
                }
            } else {
                ""
            };
            Failure::new(format!("could not start `{}` in {}: {e}{hint}", self.name, self.cwd.display()))
        })
    }

    /// Runs the command and fails unless it exits successfully.
    pub fn run(&self) -> Result<()> {
        let status = self.status()?;
        if status.success() { Ok(()) } else { Err(Failure::new(format!("`{}` failed ({status})", self.line()))) }
    }
}

impl From<&Cmd> for Command {
    fn from(cmd: &Cmd) -> Command {
        let mut command = Command::new(&cmd.program);
        command.args(&cmd.args).current_dir(&cmd.cwd).envs(cmd.envs.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// Runs `work` as a step called `label`, printing one line with its duration when it ends.
pub fn timed<T>(label: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    eprintln!("xtask: ==> {label}");
    let start = Instant::now();
    let result = work();
    let secs = start.elapsed().as_secs_f64();
    let verdict = if result.is_ok() { "ok  " } else { "FAIL" };
    eprintln!("xtask: {verdict} {secs:>7.2} s  {label}");
    result
}

/// Whether an executable called `name` is on PATH (or in cargo's own bin directory).
pub fn on_path(name: &str) -> bool {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(cargo_home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(cargo_home).join("bin"));
    } else if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.iter().any(|d| d.join(name).is_file())
}
