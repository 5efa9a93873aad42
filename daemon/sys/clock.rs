//! The monotonic clock, read directly.

use std::time::Duration;

/// A reading of `CLOCK_MONOTONIC`: std's `Instant` without the 2 KB of code its `now` brings
/// along (an `unwrap` of the clock's result, and with it the `Debug` of `Errno`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment(Duration);

impl Moment {
    /// Returns the current time on the monotonic clock.
    #[must_use]
    pub fn now() -> Moment {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is writable for the call. CLOCK_MONOTONIC exists on every system the
        // daemon runs on, so the call cannot fail (clock_gettime(2)); were it to, time would
        // stand still at zero and rate limits would only admit less.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
        let seconds = u64::try_from(now.tv_sec).unwrap_or(0);
        let nanos = u32::try_from(now.tv_nsec).unwrap_or(0) % 1_000_000_000;
        Moment(Duration::new(seconds, nanos))
    }

    /// Returns the time from `earlier` to this moment, zero when `earlier` is later.
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Moment) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl core::ops::Add<Duration> for Moment {
    type Output = Moment;

    fn add(self, duration: Duration) -> Moment {
        Moment(self.0.saturating_add(duration))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn moment_follows_the_monotonic_clock() {
        let (start, std_start) = (Moment::now(), Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let std_elapsed = std_start.elapsed();
        let end = Moment::now();
        let elapsed = end.saturating_duration_since(start);
        // Both read CLOCK_MONOTONIC; ours is read first at the start and last at the end. The
        // upper bound only has to hold across a preemption between two reads.
        assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
        assert!(elapsed >= std_elapsed, "{elapsed:?} < {std_elapsed:?}");
        assert!(
            elapsed < std_elapsed + Duration::from_secs(1),
            "{elapsed:?}"
        );
        assert_eq!(start.saturating_duration_since(end), Duration::ZERO);
        assert_eq!(
            (start + Duration::from_secs(1)).saturating_duration_since(start),
            Duration::from_secs(1)
        );
    }
}
