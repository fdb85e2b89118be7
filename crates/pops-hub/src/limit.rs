//! The brake on guessing enrolment codes: after [`MAX_FAILURES`] refused codes within
//! [`WINDOW`] from one address, that address is answered 429 until the oldest failure is a window
//! old. (A code has 80 random bits, so guessing is hopeless anyway; this keeps the log quiet and
//! the database idle under a flood.)

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: usize = 10;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Beyond this many addresses tracked, the quiet ones are forgotten first.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Default)]
pub struct EnrolLimiter {
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl EnrolLimiter {
    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err(seconds)` when `from` must wait that long before trying again.
    pub fn check(&self, from: IpAddr, now: Instant) -> Result<(), u64> {
        let mut failures = self.failures();
        let Some(times) = failures.get_mut(&from) else { return Ok(()) };
        while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            times.pop_front();
        }
        if times.len() < MAX_FAILURES {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        let wait = WINDOW.saturating_sub(now.duration_since(oldest));
        Err(wait.as_secs().max(1) + u64::from(wait.subsec_nanos() > 0))
    }

    /// Counts one refused code from `from`.
    pub fn failed(&self, from: IpAddr, now: Instant) {
        let mut failures = self.failures();
        if failures.len() >= MAX_ADDRESSES && !failures.contains_key(&from) {
            failures.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        let times = failures.entry(from).or_default();
        times.push_back(now);
        while times.len() > MAX_FAILURES {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_in_a_minute_stop_an_address_until_the_first_is_a_minute_old() {
        let limiter = EnrolLimiter::default();
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let start = Instant::now();
        for i in 0..MAX_FAILURES {
            assert_eq!(limiter.check(a, start), Ok(()));
            limiter.failed(a, start + Duration::from_secs(i as u64));
        }
        let later = start + Duration::from_secs(20);
        assert_eq!(limiter.check(a, later), Err(40));
        assert_eq!(limiter.check(b, later), Ok(()));
        assert_eq!(limiter.check(a, start + WINDOW), Ok(()));
    }
}
