//! What every handler is given: [`AppState`], the store and the config behind it, the
//! Prometheus handle, the per-caller rate limiter ([`RateLimiter`]) and the queue for password
//! checks. Passed in, never global; only the handlers use it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Config;
use crate::error::ApiError;
use crate::store::Db;

/// Everything a handler needs; passed in, never global.
#[derive(Clone)]
pub struct AppState {
    pub db: Arc<Db>,
    pub config: Arc<Config>,
    pub(crate) metrics: Option<PrometheusHandle>,
    limiter: Arc<RateLimiter>,
    /// Password checks running at once. Argon2id takes ~19 MiB and tens of milliseconds of a
    /// core each: 1,000 sign-ins at once (found by the load test) made 1,000 of them run
    /// together, and sign-in needs no token, so anyone could. They now queue, cheaply.
    password_checks: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .field("config", &self.config)
            .finish()
    }
}

impl AppState {
    pub fn new(db: Db, config: Config) -> AppState {
        AppState {
            db: Arc::new(db),
            config: Arc::new(config),
            metrics: None,
            limiter: Arc::new(RateLimiter::default()),
            password_checks: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        }
    }

    /// Serves `/metrics` from this Prometheus recorder (installed once per process).
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> AppState {
        self.metrics = Some(handle);
        self
    }

    /// Token bucket per device: `requests_per_minute` sustained, the same as burst.
    pub(crate) fn allow(&self, device: &str) -> bool {
        self.limiter.allow(device, self.config.requests_per_minute)
    }

    /// A turn to check a password: Argon2 is slow and memory-hungry on purpose, so checks
    /// queue, one per core, whichever endpoint signs in (devices or browsers).
    pub(crate) async fn password_permit(
        &self,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.password_checks
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Runs blocking storage work off the async threads.
    pub(crate) async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Db) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
    }
}

/// A token bucket per key (a device, or `web:<login>` for a browser session), each holding at
/// most a minute's requests and refilled continuously.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Takes a token from `key`'s bucket if it has one: `per_minute` requests sustained, the
    /// same as burst.
    pub(crate) fn allow(&self, key: &str, per_minute: u32) -> bool {
        let rate = f64::from(per_minute.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let (tokens, last) = buckets.entry(key.to_string()).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate / 60.0).min(rate);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimiter;

    #[test]
    fn a_bucket_holds_a_minutes_requests_per_key() {
        let limiter = RateLimiter::default();
        assert!((0..3).all(|_| limiter.allow("d1", 3)));
        assert!(!limiter.allow("d1", 3), "the fourth within the minute");
        assert!(limiter.allow("d2", 3), "another key has its own bucket");
    }
}
