//! Failed sign-in attempts, kept in a small file beside the database because they happen while the
//! database is still closed. It drives the growing delay between attempts, and holds the attempts'
//! audit entries until the next successful sign-in writes them into the audit log. It holds no
//! usernames or passphrases: only times and, where known, an account id.

use crate::Result;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;
use uuid::Uuid;

pub const FILE: &str = "signin-attempts.json";

/// Attempts allowed before the delay starts.
pub const FREE_ATTEMPTS: u32 = 3;
/// The longest delay between attempts.
pub const MAX_DELAY_SECONDS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAudit {
    pub at: DateTime<Utc>,
    pub action: String,
    pub account_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempts {
    pub failures: u32,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub pending: Vec<PendingAudit>,
}

impl Attempts {
    pub fn load(dir: &Path) -> Result<Self> {
        match std::fs::read(dir.join(FILE)) {
            // A damaged file must not lock everyone out: start counting again, and say so in the audit.
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_else(|_| Attempts {
                failures: FREE_ATTEMPTS,
                last_failure_at: None,
                pending: vec![PendingAudit {
                    at: Utc::now(),
                    action: "sign_in_record_damaged".into(),
                    account_id: None,
                }],
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Attempts::default()),
            Err(e) => Err(e.into()),
        }
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        crate::files::write_atomically(dir, FILE, &serde_json::to_vec(self)?)
    }

    /// The delay that must pass after the last failure before the next attempt: none for the first
    /// few, then 2 s, 4 s, 8 s … up to five minutes.
    pub fn delay(&self) -> Duration {
        if self.failures < FREE_ATTEMPTS {
            return Duration::zero();
        }
        let exp = (self.failures - FREE_ATTEMPTS + 1).min(16);
        Duration::seconds((1i64 << exp).min(MAX_DELAY_SECONDS))
    }

    /// How long the person must still wait at `now`, if at all.
    pub fn wait_at(&self, now: DateTime<Utc>) -> Option<Duration> {
        let last = self.last_failure_at?;
        let left = last + self.delay() - now;
        (left > Duration::zero()).then_some(left)
    }

    pub fn record(&mut self, now: DateTime<Utc>, action: &str, account_id: Option<Uuid>) {
        self.pending.push(PendingAudit { at: now, action: action.into(), account_id });
        // Keep the file small however long someone hammers at it.
        if self.pending.len() > 1000 {
            self.pending.drain(..self.pending.len() - 1000);
        }
    }

    pub fn record_failure(&mut self, now: DateTime<Utc>, account_id: Option<Uuid>) {
        self.failures = self.failures.saturating_add(1);
        self.last_failure_at = Some(now);
        self.record(now, "sign_in_failed", account_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_and_is_capped() {
        let mut a = Attempts::default();
        let t = Utc::now();
        for _ in 0..FREE_ATTEMPTS - 1 {
            a.record_failure(t, None);
        }
        assert_eq!(a.wait_at(t), None);
        a.record_failure(t, None);
        assert_eq!(a.delay(), Duration::seconds(2));
        a.record_failure(t, None);
        assert_eq!(a.delay(), Duration::seconds(4));
        assert!(a.wait_at(t + Duration::seconds(3)).is_some());
        assert_eq!(a.wait_at(t + Duration::seconds(4)), None);
        for _ in 0..50 {
            a.record_failure(t, None);
        }
        assert_eq!(a.delay(), Duration::seconds(MAX_DELAY_SECONDS));
    }

    #[test]
    fn survives_a_restart_and_a_damaged_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Attempts::default();
        a.record_failure(Utc::now(), Some(Uuid::now_v7()));
        a.save(dir.path()).unwrap();
        assert_eq!(Attempts::load(dir.path()).unwrap(), a);
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        let damaged = Attempts::load(dir.path()).unwrap();
        assert_eq!(damaged.failures, FREE_ATTEMPTS);
        assert_eq!(damaged.pending[0].action, "sign_in_record_damaged");
    }
}
