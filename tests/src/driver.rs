//! tauri-driver (with its WebKitWebDriver) on free loopback ports, stopped with SIGTERM on drop.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::display::Display;
use crate::{process, workspace_root};

/// How long tauri-driver may take to answer `/status`.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long tauri-driver may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries with fresh ports when tauri-driver exits at once (a port taken in the meantime).
const START_ATTEMPTS: usize = 3;

/// A running tauri-driver serving W3C WebDriver on `127.0.0.1:port`, with WebKitWebDriver
/// behind it on `native_port`; both see the given X display.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    port: u16,
    native_port: u16,
}

impl Driver {
    /// The tauri-driver binary: `POPS_TAURI_DRIVER`, else `<workspace>/target/tools/bin/tauri-driver`.
    pub fn binary() -> PathBuf {
        std::env::var_os("POPS_TAURI_DRIVER")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target/tools/bin/tauri-driver"))
    }

    /// Starts tauri-driver on `display` and waits until it answers `/status`.
    ///
    /// Its stdout is discarded; its stderr — where WebKitWebDriver and the app it starts also
    /// write — goes to `log` when given, else is discarded. Never a pipe: WebKitWebDriver would
    /// keep it open and hang whoever reads it.
    pub fn start(display: &Display, log: Option<&Path>) -> Driver {
        Driver::start_with_env(display, log, &[])
    }

    /// Like [`Driver::start`], with `env` added to tauri-driver's environment, and so to that of
    /// WebKitWebDriver and every app it starts.
    pub fn start_with_env(display: &Display, log: Option<&Path>, env: &[(&str, &Path)]) -> Driver {
        let binary = Driver::binary();
        if !binary.is_file() {
            panic!(
                "tauri-driver not found at {}: run `cargo xtask test` once (it installs \
                 tauri-driver into target/tools), or set POPS_TAURI_DRIVER to its path",
                binary.display()
            );
        }
        if !on_path("WebKitWebDriver") {
            panic!(
                "WebKitWebDriver not found on PATH: install the webkit2gtk-driver package \
                 (`cargo xtask test` installs what the tests need)"
            );
        }

        let mut last_failure = String::new();
        for _ in 0..START_ATTEMPTS {
            let (port, native_port) = free_ports();
            let stderr = match log {
                Some(path) => Stdio::from(
                    File::create(path)
                        .unwrap_or_else(|e| panic!("could not create the driver log {}: {e}", path.display())),
                ),
                None => Stdio::null(),
            };
            let child = Command::new(&binary)
                .arg("--port")
                .arg(port.to_string())
                .arg("--native-port")
                .arg(native_port.to_string())
                .env("DISPLAY", display.name())
                .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .unwrap_or_else(|e| panic!("could not start {}: {e}", binary.display()));
            let mut driver = Driver { child, port, native_port };
            match driver.wait_ready() {
                Ok(()) => return driver,
                Err(failure) => last_failure = failure,
            }
            // Dropping `driver` stops it and anything it left behind; then try fresh ports.
        }
        let log_hint = log.map(|p| format!(" (its output is in {})", p.display())).unwrap_or_default();
        panic!("tauri-driver did not start: {last_failure}{log_hint}");
    }

    /// Polls `/status` until it answers 200, tauri-driver exits, or the start timeout passes.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("it exited ({status}) before answering on port {}", self.port));
            }
            let last = match self.status() {
                Ok((200, _)) => return Ok(()),
                Ok((code, body)) => format!("/status answered {code}: {body}"),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(format!(
                    "no answer from /status on port {} within {START_TIMEOUT:?}; last: {last}",
                    self.port
                ));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The WebDriver endpoint to create sessions on.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// tauri-driver's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// WebKitWebDriver's port (behind tauri-driver).
    pub fn native_port(&self) -> u16 {
        self.native_port
    }

    /// `GET /status` through tauri-driver: the HTTP status code and the body.
    pub fn status(&self) -> io::Result<(u16, String)> {
        http_get(self.port, "/status")
    }

    /// Whether `argv` is the WebKitWebDriver this tauri-driver started.
    fn is_our_native_driver(&self, argv: &[String]) -> bool {
        argv[0].ends_with("WebKitWebDriver") && process::has_arg(argv, "--port", &self.native_port.to_string())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SIGTERM, never SIGKILL: on SIGTERM tauri-driver stops its WebKitWebDriver first.
        if !process::stop(&mut self.child, STOP_TIMEOUT) {
            eprintln!(
                "pops-e2e: tauri-driver (pid {}) still running {STOP_TIMEOUT:?} after SIGTERM; \
                 leaving it",
                self.child.id()
            );
            return;
        }
        // tauri-driver leaves WebKitWebDriver behind when it exits on its own (say, its port was
        // taken); stop any such stray too.
        for pid in process::find(|argv| self.is_our_native_driver(argv)) {
            process::terminate(pid);
        }
        process::wait_none(|argv| self.is_our_native_driver(argv), STOP_TIMEOUT);
    }
}

/// Two distinct free loopback ports (both held until chosen, so they differ).
fn free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("bound address").port();
    (port(&a), port(&b))
}

/// A minimal HTTP/1.1 GET on the loopback interface (enough for `/status`).
///
/// It reads exactly one response and then closes its end, and never sends `Connection: close`:
/// tauri-driver would pass that on to WebKitWebDriver, which then drops the connection that
/// tauri-driver keeps pooled, and tauri-driver's next request (say, creating a session) fails.
fn http_get(port: u16, path: &str) -> io::Result<(u16, String)> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n\r\n")?;

    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut read_more = |raw: &mut Vec<u8>| -> io::Result<bool> {
        let n = stream.read(&mut chunk)?;
        raw.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    };
    let header_end = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if !read_more(&mut raw)? {
            return Err(invalid(format!(
                "connection closed before a full HTTP response: {:?}",
                String::from_utf8_lossy(&raw)
            )));
        }
    };
    let head = String::from_utf8_lossy(&raw[..header_end]).to_ascii_lowercase();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| invalid(format!("not an HTTP response: {head:?}")))?;
    let content_length =
        head.lines().find_map(|line| line.strip_prefix("content-length:").and_then(|v| v.trim().parse::<usize>().ok()));
    let chunked = head.lines().any(|line| line.starts_with("transfer-encoding:") && line.contains("chunked"));
    loop {
        let body = &raw[header_end..];
        let complete = match content_length {
            Some(length) => body.len() >= length,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if complete || !read_more(&mut raw)? {
            break;
        }
    }
    Ok((code, String::from_utf8_lossy(&raw[header_end..]).into_owned()))
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|dir| dir.join(name).is_file())).unwrap_or(false)
}
