//! Bounded exponential backoff with full jitter, shared by the HTTP sinks and the delivery loop.

use std::time::Duration;

/// How often and how patiently a failed operation is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry).
    pub max_retries: u32,
    /// Upper bound of the first delay.
    pub initial_backoff: Duration,
    /// Upper bound of any delay.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 5 retries, delays drawn up to 1 s, 2 s, 4 s, 8 s, 16 s (capped at 30 s).
    fn default() -> Self {
        Self {
            max_retries: 5,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub const fn none() -> Self {
        Self {
            max_retries: 0,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
        }
    }

    /// The delay before retry number `retry` (0-based): uniform in `[0, cap]` where the cap
    /// doubles from `initial_backoff` up to `max_backoff` (full jitter spreads retrying
    /// clients apart). A server's `Retry-After` hint raises it, still capped.
    pub fn delay(&self, retry: u32, hint: Option<Duration>) -> Duration {
        let cap = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry.min(31)))
            .min(self.max_backoff);
        let jittered = cap.mul_f64(rand::random::<f64>());
        match hint {
            Some(hint) => jittered.max(hint.min(self.max_backoff)),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn delays_stay_within_the_cap(retry in 0u32..100, initial_ms in 0u64..5_000, max_ms in 0u64..60_000, hint_ms in proptest::option::of(0u64..120_000)) {
            let policy = RetryPolicy {
                max_retries: 10,
                initial_backoff: Duration::from_millis(initial_ms),
                max_backoff: Duration::from_millis(max_ms),
            };
            let delay = policy.delay(retry, hint_ms.map(Duration::from_millis));
            proptest::prop_assert!(delay <= policy.max_backoff);
            if let Some(hint) = hint_ms {
                proptest::prop_assert!(delay >= Duration::from_millis(hint).min(policy.max_backoff));
            }
        }
    }
}
