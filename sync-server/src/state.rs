//! What every handler is given: [`AppState`], the store and the config behind it, the
//! Prometheus handle, the per-caller rate limiter ([`RateLimiter`]), the queue for password
//! checks and the failed sign-ins' back-off ([`SignInThrottle`]). Passed in, never global; only the handlers use it.

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
    /// Password checks running at once: half the cores, at least one. Argon2id takes ~19 MiB
    /// and tens of milliseconds of a core each: 1,000 sign-ins at once (found by the load
    /// test) made 1,000 of them run together, and sign-in needs no token, so anyone could.
    /// They now queue, cheaply, and leave the other cores to syncing devices however many
    /// addresses a guesser brings (each buys its 20 free failures, see [`SignInThrottle`]).
    password_checks: Arc<tokio::sync::Semaphore>,
    /// The writer thread's queue: see [`AppState::write`].
    writer: Arc<Writer>,
    pub(crate) sign_ins: Arc<SignInThrottle>,
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
        let db = Arc::new(db);
        let limiter = Arc::new(RateLimiter::new(config.requests_per_minute));
        AppState {
            writer: Arc::new(Writer::start(db.clone())),
            db,
            config: Arc::new(config),
            metrics: None,
            limiter,
            password_checks: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            )),
            sign_ins: Arc::new(SignInThrottle::default()),
        }
    }

    /// Serves `/metrics` from this Prometheus recorder (installed once per process).
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> AppState {
        self.metrics = Some(handle);
        self
    }

    /// A request of `device` (or a browser's `web:<login>`) against its rate limit:
    /// `requests_per_minute` sustained, the same as burst; `Err` holds the seconds to wait.
    pub(crate) fn allow(&self, device: &str) -> Result<(), u64> {
        self.limiter.allow(device)
    }

    /// A turn to check a password: Argon2 is slow and memory-hungry on purpose, so checks
    /// queue, one per two cores, whichever endpoint signs in (devices or browsers).
    pub(crate) async fn password_permit(
        &self,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.password_checks
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Runs `f` in a write transaction on the writer thread, after the writes queued before
    /// it.
    ///
    /// Both stores take one writer at a time (SQLite's one writer connection, PostgreSQL's
    /// writers' lock; see [`crate::store`]), so this process's writes go through one thread
    /// that runs them back to back, in the order they came. A write waiting for its turn holds
    /// neither a thread nor a database connection. Waiting inside the store, as they once did,
    /// each held a blocking thread and, on PostgreSQL, one of the pool's connections, so that
    /// under load pulls queued for a connection behind the writers and timed out (found by
    /// the mixed load test, `tests/tests/it/load.rs`). One thread also hands each write to
    /// the next without waking a task or starting a thread in between. Do the work that needs
    /// no transaction (checking a batch, a password) before, with [`AppState::blocking`].
    pub(crate) async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn crate::store::Tx) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.writer.send(Box::new(move |db: &Db| {
            // A request dropped meanwhile (the client hung up) still has its write done,
            // as with any blocking task; only the answer is lost.
            let _ = done.send(db.write(f));
        }))?;
        result
            .await
            .map_err(|_| ApiError::Internal("the write was lost: its thread panicked".into()))?
    }

    /// Runs `f` in a write transaction on the writer thread and rolls it back, whatever `f`
    /// answers: what the checks would say now, with nothing stored (a step composed for a
    /// browser to sign, [`crate::approvals::prepare`]).
    pub(crate) async fn trial<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn crate::store::Tx) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        self.write_or_discard(move |tx| Ok(Written::Discard(f(tx))))
            .await
    }

    /// Like [`AppState::write`], but `f` says whether its writes are kept: a
    /// [`Written::Discard`] answer is returned with the transaction rolled back (an import's
    /// dry run, or one whose files have problems, [`crate::import`]).
    pub(crate) async fn write_or_discard<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn crate::store::Tx) -> Result<Written<R>, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        /// Why the transaction ended early: discarded on purpose, or failed.
        enum Ended<R> {
            Discarded(R),
            Failed(ApiError),
        }
        impl<R> From<crate::store::StoreError> for Ended<R> {
            fn from(e: crate::store::StoreError) -> Ended<R> {
                Ended::Failed(ApiError::Store(e))
            }
        }
        let (done, result) = tokio::sync::oneshot::channel();
        self.writer.send(Box::new(move |db: &Db| {
            let answer = match db.write(|tx| match f(tx) {
                Ok(Written::Keep(r)) => Ok(r),
                Ok(Written::Discard(r)) => Err(Ended::Discarded(r)),
                Err(e) => Err(Ended::Failed(e)),
            }) {
                Ok(r) | Err(Ended::Discarded(r)) => Ok(r),
                Err(Ended::Failed(e)) => Err(e),
            };
            let _ = done.send(answer);
        }))?;
        result
            .await
            .map_err(|_| ApiError::Internal("the write was lost: its thread panicked".into()))?
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

/// What a write given to [`AppState::write_or_discard`] answers: its result, and whether the
/// transaction is committed (`Keep`) or rolled back (`Discard`).
pub(crate) enum Written<R> {
    Keep(R),
    Discard(R),
}

/// A write queued for the writer thread.
type WriteJob = Box<dyn FnOnce(&Db) + Send>;

/// The thread that runs this process's write transactions one after the other (see
/// [`AppState::write`]). It ends when the last [`AppState`] clone is dropped.
struct Writer {
    /// `None` if the thread could not be started: every write is then refused.
    jobs: Option<std::sync::mpsc::Sender<WriteJob>>,
}

impl Writer {
    fn start(db: Arc<Db>) -> Writer {
        let (jobs, queue) = std::sync::mpsc::channel::<WriteJob>();
        let spawned = std::thread::Builder::new()
            .name("cunji-writer".into())
            .spawn(move || {
                for job in queue {
                    // A panicking write loses its own answer (the caller gets `internal`),
                    // not the thread: the next writes run.
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&db))).is_err()
                    {
                        tracing::error!("a write transaction panicked");
                    }
                }
            });
        Writer {
            jobs: spawned.ok().map(|_| jobs),
        }
    }

    fn send(&self, job: WriteJob) -> Result<(), ApiError> {
        self.jobs
            .as_ref()
            .ok_or_else(|| ApiError::Internal("the writer thread did not start".into()))?
            .send(job)
            .map_err(|_| ApiError::Internal("the writer thread has stopped".into()))
    }
}

/// Failed sign-ins, per account and per address, and the back-off they earn: after
/// [`SignInThrottle::FREE_PER_ACCOUNT`] failures for one account (or
/// [`SignInThrottle::FREE_PER_ADDRESS`] from one address, whatever the accounts), each further
/// failure locks that key for twice as long as the last, from 2 s up to
/// [`SignInThrottle::MAX_LOCK`]; while locked, sign-in is refused before any password is
/// checked, even the right one, with the time to wait. A success clears the account's count,
/// not the address's (a guesser who knows one password does not reset its address). Counts
/// leak: one failure is forgotten per [`SignInThrottle::ACCOUNT_LEAK`] for an account, per
/// [`SignInThrottle::ADDRESS_LEAK`] for an address, so that the many phones behind one
/// carrier NAT address, each mistyping now and then, do not add up to a lock; a guesser
/// stays locked.
///
/// Locking an account by its failures lets anyone delay its owner's sign-in; the lock is
/// short at first and the phone keeps its token for [`crate::config::Config::token_ttl_hours`],
/// so a cadre who is signed in is not affected, and an administrator can see the failures in
/// the log (`sign-in refused`).
#[derive(Debug, Default)]
pub(crate) struct SignInThrottle {
    keys: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

impl SignInThrottle {
    pub(crate) const FREE_PER_ACCOUNT: u32 = 5;
    pub(crate) const FREE_PER_ADDRESS: u32 = 20;
    pub(crate) const MAX_LOCK: std::time::Duration = std::time::Duration::from_secs(15 * 60);
    pub(crate) const ACCOUNT_LEAK: std::time::Duration = std::time::Duration::from_secs(3600);
    pub(crate) const ADDRESS_LEAK: std::time::Duration = std::time::Duration::from_secs(180);
    const FORGET: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

    /// The keys a sign-in counts under, each with its free failures and its leak.
    fn keys(
        login: &str,
        address: Option<std::net::IpAddr>,
    ) -> Vec<(String, u32, std::time::Duration)> {
        let mut keys = vec![(
            format!("login:{login}"),
            Self::FREE_PER_ACCOUNT,
            Self::ACCOUNT_LEAK,
        )];
        if let Some(a) = address {
            keys.push((
                format!("addr:{a}"),
                Self::FREE_PER_ADDRESS,
                Self::ADDRESS_LEAK,
            ));
        }
        keys
    }

    /// How long `login` from `address` must still wait, if it must.
    pub(crate) fn wait(
        &self,
        login: &str,
        address: Option<std::net::IpAddr>,
        now: Instant,
    ) -> Option<std::time::Duration> {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(login, address)
            .iter()
            .filter_map(|(k, _, _)| keys.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max()
    }

    /// Counts a failed sign-in of `login` from `address`.
    pub(crate) fn failed(&self, login: &str, address: Option<std::net::IpAddr>, now: Instant) {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if keys.len() > 100_000 {
            keys.retain(|_, f| now.duration_since(f.last) < Self::FORGET);
        }
        for (key, free, leak) in Self::keys(login, address) {
            let f = keys.entry(key).or_insert(Failures {
                count: 0,
                last: now,
                locked_until: None,
            });
            let leaked = now.duration_since(f.last).as_secs() / leak.as_secs().max(1);
            f.count = f
                .count
                .saturating_sub(u32::try_from(leaked).unwrap_or(u32::MAX));
            f.count += 1;
            f.last = now;
            if f.count > free {
                let doublings = (f.count - free).min(20);
                let lock = std::time::Duration::from_secs(1u64 << doublings).min(Self::MAX_LOCK);
                f.locked_until = Some(now + lock);
            }
        }
    }

    /// A successful sign-in of `login`: its failures are forgotten.
    pub(crate) fn succeeded(&self, login: &str) {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.remove(&format!("login:{login}"));
    }
}

/// A rate limit per key (a device, or `web:<login>` for a browser session): `per_minute`
/// requests sustained, the same as burst (governor's GCRA, which is a token bucket refilled
/// continuously, with one cell per key).
pub(crate) struct RateLimiter {
    keys: governor::DefaultKeyedRateLimiter<String>,
    clock: governor::clock::DefaultClock,
}

impl RateLimiter {
    pub(crate) fn new(per_minute: u32) -> RateLimiter {
        let burst =
            std::num::NonZeroU32::new(per_minute.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        RateLimiter {
            keys: governor::RateLimiter::keyed(governor::Quota::per_minute(burst)),
            clock: governor::clock::DefaultClock::default(),
        }
    }

    /// Takes one of `key`'s requests, or says how long until it has one again (whole
    /// seconds, at least 1: the 429's `Retry-After`).
    pub(crate) fn allow(&self, key: &str) -> Result<(), u64> {
        use governor::clock::Clock;
        let key = key.to_string();
        self.keys.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            u64::try_from(wait.as_millis().div_ceil(1000))
                .unwrap_or(u64::MAX)
                .max(1)
        })?;
        // Forget keys whose bucket is full again, now and then, so that the map holds only the
        // callers of the last minute.
        if self.keys.len() > 10_000 {
            self.keys.retain_recent();
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{RateLimiter, SignInThrottle};
    use std::time::{Duration, Instant};

    #[test]
    fn failed_sign_ins_lock_the_account_and_the_address_longer_each_time() {
        let t = SignInThrottle::default();
        let ip = Some("10.1.2.3".parse().unwrap());
        let now = Instant::now();
        for _ in 0..SignInThrottle::FREE_PER_ACCOUNT {
            assert_eq!(t.wait("wang", ip, now), None);
            t.failed("wang", ip, now);
        }
        assert_eq!(
            t.wait("wang", ip, now),
            None,
            "the free failures lock nothing"
        );
        t.failed("wang", ip, now);
        assert_eq!(t.wait("wang", ip, now), Some(Duration::from_secs(2)));
        assert_eq!(
            t.wait("wang", None, now),
            Some(Duration::from_secs(2)),
            "from anywhere"
        );
        let later = now + Duration::from_secs(3);
        assert_eq!(t.wait("wang", ip, later), None, "the lock runs out");
        t.failed("wang", ip, later);
        assert_eq!(
            t.wait("wang", ip, later),
            Some(Duration::from_secs(4)),
            "twice as long"
        );
        assert_eq!(
            t.wait("li", None, later),
            None,
            "another account is not locked"
        );
        t.succeeded("wang");
        assert_eq!(
            t.wait("wang", None, later),
            None,
            "a success clears the account"
        );

        // One address guessing at many accounts.
        let guesser = Some("10.9.9.9".parse().unwrap());
        for i in 0..SignInThrottle::FREE_PER_ADDRESS {
            t.failed(&format!("user{i}"), guesser, now);
        }
        assert_eq!(t.wait("someone", guesser, now), None);
        t.failed("someone", guesser, now);
        assert!(
            t.wait("anyone", guesser, now).is_some(),
            "the address is locked"
        );
        assert_eq!(t.wait("anyone", ip, now), None, "other addresses are not");
        for _ in 0..100 {
            t.failed("someone", guesser, now);
        }
        assert_eq!(t.wait("x", guesser, now), Some(SignInThrottle::MAX_LOCK));

        // Behind one carrier NAT address, people mistype now and then: it never adds up.
        let nat = Some("10.7.7.7".parse().unwrap());
        let mut at = now;
        for i in 0..200 {
            t.failed(&format!("cadre{i}"), nat, at);
            assert_eq!(t.wait("anyone", nat, at), None, "failure {i}");
            at += SignInThrottle::ADDRESS_LEAK;
        }
        // An account's failures leak too, an hour each.
        let t = SignInThrottle::default();
        for _ in 0..SignInThrottle::FREE_PER_ACCOUNT {
            t.failed("zhao", None, now);
        }
        let later = now + SignInThrottle::ACCOUNT_LEAK * 2;
        t.failed("zhao", None, later);
        t.failed("zhao", None, later);
        assert_eq!(t.wait("zhao", None, later), None, "two of five leaked away");
        t.failed("zhao", None, later);
        assert!(t.wait("zhao", None, later).is_some());
    }

    #[test]
    fn a_bucket_holds_a_minutes_requests_per_key() {
        let limiter = RateLimiter::new(3);
        assert!((0..3).all(|_| limiter.allow("d1").is_ok()));
        // One request comes back every 20 s: the fourth waits for it.
        let wait = limiter.allow("d1").unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(
            limiter.allow("d2").is_ok(),
            "another key has its own bucket"
        );
    }
}
