//! A throw-away PostgreSQL cluster for the hub's tests: made in a temporary folder, listening only on
//! 127.0.0.1 at a free port (and a Unix socket inside the folder), stopped and deleted when dropped.
//! As root the server runs as the `postgres` user, since PostgreSQL refuses to run as root.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::step::{Cmd, Failure, Result};
use crate::system::is_root;

pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`: a superuser, trusted on loopback only.
    pub url: String,
}

/// The newest installed server's programs: `/usr/lib/postgresql/<version>/bin` on Debian.
fn server_bin() -> Result<PathBuf> {
    let base = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(base)
        .map_err(|e| Failure::new(format!("PostgreSQL is not installed ({} unreadable: {e})", base.display())))?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_str().and_then(|v| v.parse::<u32>().ok()))
        .filter(|version| base.join(version.to_string()).join("bin/initdb").is_file())
        .max()
        .ok_or_else(|| Failure::new(format!("no PostgreSQL server (initdb) under {}", base.display())))?;
    Ok(base.join(newest.to_string()).join("bin"))
}

fn free_loopback_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Failure::new(format!("cannot find a free loopback port for PostgreSQL: {e}")))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| Failure::new(format!("cannot read the free port: {e}")))
}

impl Cluster {
    pub fn start() -> Result<Cluster> {
        let bin = server_bin()?;
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("pops-pg-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::new(format!("cannot make the PostgreSQL folder {}: {e}", dir.display())))?;
        let as_postgres = is_root();
        let mut cluster = Cluster { bin, dir, as_postgres, url: String::new() };
        if as_postgres {
            Cmd::new("chown", Path::new("/")).args(["postgres:postgres"]).arg(&cluster.dir).run()?;
        }
        let data = cluster.dir.join("data");
        cluster
            .pg("initdb")
            .args(["--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "-D"])
            .arg(&data)
            .run_quiet()?;
        let port = free_loopback_port()?;
        let options = format!(
            "-k {} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            cluster.dir.display()
        );
        cluster
            .pg("pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(cluster.dir.join("server.log"))
            .arg("start")
            .run_quiet()?;
        cluster.url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        Ok(cluster)
    }

    fn pg(&self, program: &str) -> Cmd {
        let program = self.bin.join(program);
        if self.as_postgres {
            Cmd::new("runuser", &self.dir).args(["-u", "postgres", "--"]).arg(program)
        } else {
            Cmd::new(program, &self.dir)
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.url.is_empty() {
            let stopped =
                self.pg("pg_ctl").args(["-w", "-m", "immediate", "-D"]).arg(self.dir.join("data")).arg("stop");
            if let Err(e) = stopped.run_quiet() {
                eprintln!("xtask: could not stop the test PostgreSQL: {e}");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

trait Quiet {
    fn run_quiet(&self) -> Result<()>;
}

impl Quiet for Cmd {
    /// Runs with output captured, shown only when the command fails.
    fn run_quiet(&self) -> Result<()> {
        let output = Command::from(self)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Failure::new(format!("could not start `{}`: {e}", self.line())))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(Failure::new(format!(
                "`{}` failed ({}):\n{}{}",
                self.line(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )))
        }
    }
}
