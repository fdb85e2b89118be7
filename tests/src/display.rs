//! A private headless X server (Xvfb) on a display number it picks itself, stopped on drop.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::process;

/// How long Xvfb may take to report the display it listens on.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `Xvfb` with a 1366x768 24-bit screen, listening on a local socket only.
#[derive(Debug)]
pub struct Display {
    number: u32,
    child: Child,
    /// Xvfb's stdout, kept open: it is where Xvfb reported the display number (`-displayfd 1`).
    _report: BufReader<ChildStdout>,
}

impl Display {
    /// Starts Xvfb and waits until it accepts connections.
    ///
    /// `-displayfd` makes Xvfb choose a free display number itself and write it to the given
    /// file descriptor once it is listening, so parallel tests never race for a number.
    pub fn start() -> Display {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1366x768x24", "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start Xvfb: {e}; install the xvfb package \
                     (`cargo xtask test` installs what the tests need)"
                )
            });
        let stdout = child.stdout.take().expect("Xvfb's stdout is piped");

        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line);
            // The receiver is gone only if start() already gave up.
            let _ = sender.send((read.map(|_| line), reader));
        });

        let (number, report) = match receiver.recv_timeout(START_TIMEOUT) {
            Ok((Ok(line), reader)) => match line.trim().parse::<u32>() {
                Ok(number) => (number, reader),
                Err(_) => {
                    process::stop(&mut child, Duration::from_secs(5));
                    panic!(
                        "Xvfb did not report a display number (it printed {line:?}); \
                         run `Xvfb -displayfd 1` by hand to see why"
                    );
                }
            },
            Ok((Err(e), _)) => {
                process::stop(&mut child, Duration::from_secs(5));
                panic!("could not read Xvfb's display number: {e}");
            }
            Err(_) => {
                process::stop(&mut child, Duration::from_secs(5));
                let _ = child.kill();
                let _ = child.wait();
                panic!("Xvfb did not start listening within {START_TIMEOUT:?}");
            }
        };
        Display { number, child, _report: report }
    }

    /// The display number N (as in `:N`).
    pub fn number(&self) -> u32 {
        self.number
    }

    /// The value for the `DISPLAY` environment variable, e.g. `:3`.
    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }

    /// The X server's local socket, which exists while it runs.
    pub fn socket(&self) -> PathBuf {
        PathBuf::from(format!("/tmp/.X11-unix/X{}", self.number))
    }

    /// Xvfb's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        if !process::stop(&mut self.child, Duration::from_secs(5)) {
            // An X server ignoring SIGTERM for 5 s is stuck; nothing of ours is left to lose.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
