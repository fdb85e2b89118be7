//! Child processes of the harness: stopping them politely, waiting with a deadline, finding strays.

use std::fs::{self, File, TryLockError};
use std::path::Path;
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Sends SIGTERM to `pid`; false when there is no such process (any more).
pub(crate) fn terminate(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    kill(Pid::from_raw(raw), Signal::SIGTERM).is_ok()
}

/// Waits for `child` to exit, up to `within`; true when it did (and has been reaped).
pub(crate) fn wait_exit(child: &mut Child, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return true,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
            Ok(None) => return false,
            // Not ours to wait for any more (already reaped): as good as gone.
            Err(_) => return true,
        }
    }
}

/// Stops `child` with SIGTERM and waits up to `within` for it; true when it exited.
pub(crate) fn stop(child: &mut Child, within: Duration) -> bool {
    if let Ok(Some(_)) = child.try_wait() {
        return true;
    }
    terminate(child.id());
    wait_exit(child, within)
}

/// The ids of live processes whose command line (argv) satisfies `matches`.
pub(crate) fn find(matches: impl Fn(&[String]) -> bool) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // A zombie's cmdline is empty, so it never matches.
            let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let argv: Vec<String> = raw
                .split(|b| *b == 0)
                .filter(|part| !part.is_empty())
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect();
            !argv.is_empty() && matches(&argv)
        })
        .collect()
}

/// Waits until no live process satisfies `matches`, up to `within`; true when none is left.
pub(crate) fn wait_none(matches: impl Fn(&[String]) -> bool, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if find(&matches).is_empty() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until nothing holds a lock on `file`, up to `within`; true when it is free (or there is
/// no such file). It takes the lock for a moment to find out, and lets it go at once.
pub(crate) fn wait_unlocked(file: &Path, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let Ok(handle) = File::open(file) else {
            return true;
        };
        match handle.try_lock() {
            Ok(()) => return true, // closing `handle` lets the lock go
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Err(_) => return false,
        }
    }
}

/// Whether `argv` has `flag` immediately followed by `value`, or `flag=value`.
pub(crate) fn has_arg(argv: &[String], flag: &str, value: &str) -> bool {
    argv.windows(2).any(|w| w[0] == flag && w[1] == value)
        || argv.iter().any(|a| a.strip_prefix(flag).and_then(|rest| rest.strip_prefix('=')).is_some_and(|v| v == value))
}

/// Whether `argv` is a run of `application` with `--data-dir data_dir` (directly, or as the
/// script an interpreter runs).
pub(crate) fn is_app(argv: &[String], application: &std::path::Path, data_dir: &str) -> bool {
    let named = |arg: &String| std::path::Path::new(arg).file_name() == application.file_name();
    argv.iter().take(2).any(named) && has_arg(argv, "--data-dir", data_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_unlocked_waits_for_the_holder_to_let_go() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("app.lock");
        assert!(wait_unlocked(&path, Duration::ZERO), "no file: nothing to wait for");

        let holder = File::create(&path).expect("create the lock file");
        holder.lock().expect("take the lock");
        assert!(!wait_unlocked(&path, Duration::from_millis(100)), "it is held throughout");

        let start = Instant::now();
        let releaser = thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            drop(holder);
        });
        assert!(wait_unlocked(&path, Duration::from_secs(5)), "it is let go within the wait");
        assert!(start.elapsed() >= Duration::from_millis(250), "returned before the holder let go");
        releaser.join().expect("the releasing thread");

        // And it let go of the lock itself: it can be taken again at once.
        File::open(&path).expect("open the lock file").try_lock().expect("the lock is free");
    }
}
