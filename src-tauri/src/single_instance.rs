//! One instance of the app per data folder. The first instance holds an exclusive lock on a file in
//! the folder (the operating system drops it if the app dies) and, on Unix, listens on a socket
//! there; a second launch finds the lock taken, asks the first to come to the front, and exits.
//! On Windows the second launch only exits (bringing the first forward there is future work).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

const LOCK_FILE: &str = "app.lock";
#[cfg(unix)]
const SOCKET: &str = "app.sock";

pub enum Claim {
    First(Guard),
    AlreadyRunning,
}

/// Held for as long as the app runs.
pub struct Guard {
    _lock: File,
    #[cfg_attr(not(unix), allow(dead_code))]
    dir: PathBuf,
}

pub fn claim(dir: &Path) -> io::Result<Claim> {
    std::fs::create_dir_all(dir)?;
    let lock = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(LOCK_FILE))?;
    match lock.try_lock() {
        Ok(()) => Ok(Claim::First(Guard { _lock: lock, dir: dir.to_path_buf() })),
        Err(std::fs::TryLockError::WouldBlock) => {
            raise_first(dir);
            Ok(Claim::AlreadyRunning)
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(unix)]
fn raise_first(dir: &Path) {
    use std::io::Write;
    if let Ok(mut s) = std::os::unix::net::UnixStream::connect(dir.join(SOCKET)) {
        let _ = s.write_all(b"raise\n");
    }
}

#[cfg(not(unix))]
fn raise_first(_dir: &Path) {}

impl Guard {
    /// Calls `raise` whenever a second launch asks this instance to come to the front.
    #[cfg(unix)]
    pub fn on_raise(&self, raise: impl Fn() + Send + 'static) -> io::Result<()> {
        use std::io::Read;
        let path = self.dir.join(SOCKET);
        // The lock is ours, so any socket file left there is from an instance that died.
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path)?;
        std::thread::Builder::new().name("single-instance".into()).spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut buf = [0u8; 16];
                let mut stream = stream;
                if matches!(stream.read(&mut buf), Ok(n) if buf[..n].starts_with(b"raise")) {
                    raise();
                }
            }
        })?;
        Ok(())
    }

    #[cfg(not(unix))]
    pub fn on_raise(&self, _raise: impl Fn() + Send + 'static) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_on_the_same_folder_is_refused_until_the_first_ends() {
        let dir = std::env::temp_dir().join(format!("pops-single-{}", std::process::id()));
        let first = match claim(&dir).unwrap() {
            Claim::First(g) => g,
            Claim::AlreadyRunning => panic!("the first claim must win"),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        first.on_raise(move || tx.send(()).unwrap()).unwrap();
        assert!(matches!(claim(&dir).unwrap(), Claim::AlreadyRunning));
        #[cfg(unix)]
        rx.recv_timeout(std::time::Duration::from_secs(5)).expect("the first instance was asked to come forward");
        drop(first);
        assert!(matches!(claim(&dir).unwrap(), Claim::First(_)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
