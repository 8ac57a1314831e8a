//! Load: many devices syncing at once against a real server on loopback, over the real
//! protocol (signed brotli(postcard) pushes, per-scope pulls) with real accounts (one per
//! device, password-checked at sign-in) in real village teams; then the same load again with
//! hostile clients beside it (issue 14's mixed load).
//!
//! Devices are light: each is an actor, an Ed25519 key, a token and its own loopback address
//! (127.10.x.y, so that the per-address limits apply as they would to phones on different
//! networks), with its check-ins prepared before the clock starts (made with the core's
//! `RecordDoc::create`, as a phone makes them). During the run every device, concurrently and
//! without pause, pushes a batch of its check-ins and pulls its village's new changes, until
//! it has pushed them all or the time is up. The run fails on any error or refused change, and
//! checks that every accepted change is in the server's log exactly once.
//!
//! The second run of each backend has, from before the devices sign in until they finish:
//! - slow clients (`CUNJI_LOAD_SLOW`, half the devices by default) on ten addresses of their
//!   own (127.20.0.x), half of them sending half a request line and then nothing, half sending
//!   nothing at all (on plain HTTP, what a client that never says TLS hello amounts to); each
//!   opens a new connection as soon as the server drops one;
//! - one password-guessing client, four guesses in flight, rotating over
//!   `CUNJI_LOAD_GUESS_ADDRESSES` (16) addresses of its own (127.30.0.x), alternating a real
//!   account's login and unknown ones.
//!
//! It checks that the honest devices see no error, that every slow client was dropped by the
//! server at least once, that guessing was throttled (`sign_in_throttled`) and never answered
//! with a server error, and that the guessed account, by then locked, refuses even its right
//! password. Both runs have the same server configuration: the defaults, except the
//! per-device request rate (raised: devices here sync back to back, far more often than the
//! 10 requests a minute a phone makes), `max_connections` (at least twice the devices and slow
//! clients) and the header timeout (a third of the run, at most the default 20 s, so that slow
//! clients are dropped within a short run).
//!
//! It runs on SQLite and, when `CUNJI_TEST_POSTGRES_URL` is set, on PostgreSQL, one after the
//! other (a server each).
//!
//! Figures (p50/p99 per request, changes/s, the hostile clients' counts) are printed, with the
//! mixed run's push p99 over the plain run's; BENCHMARKS.md has release runs of 1,000 devices.
//! The default (100 devices, 10 s) is the bounded variant CI runs:
//!
//!   CUNJI_LOAD_DEVICES=1000 CUNJI_LOAD_SECONDS=60 \
//!     cargo test --release -p cunji-tests --test it load:: -- --nocapture
//!
//! 1,000 devices and 500 slow clients hold ~3,000 sockets in this one process (client and
//! server ends): mind `ulimit -n` (1,024 by default on many systems; this test raises nothing
//! itself).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cunji_core::doc::{ChangeMeta, Edit, RecordDoc};
use cunji_core::domain::{CheckIn, Envelope, Kind, RecordState, Team};
use cunji_core::sync::protocol::{
    self, LoginRequest, LoginResponse, PullRequest, PullResponse, PushItem, PushOutcome,
    PushRequest, PushResponse, ScopeCursor,
};
use cunji_sync_server::accounts::{self, Role};
use cunji_sync_server::config::Config;
use cunji_sync_server::store::Account;
use cunji_tests::{Backend, Device, PASSWORD, TestServer};
use ed25519_dalek::SigningKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

const TEAM_SIZE: usize = 10;
const BATCH: usize = 5;
/// The account the guessing client tries passwords on (not one of the devices').
const VICTIM: &str = "load-victim";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The loopback address `i` of the block `127.<block>.0.0/16`.
fn loopback(block: u8, i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        127,
        block,
        (i / 250) as u8,
        (i % 250 + 1) as u8,
    ))
}

struct SimDevice {
    login: String,
    device_id: String,
    actor: automerge::ActorId,
    key: SigningKey,
    village: String,
    address: IpAddr,
    /// Signed push bodies, ready to send.
    pushes: Vec<Vec<u8>>,
}

fn village_of(i: usize) -> String {
    format!("530322101{:03}", i / TEAM_SIZE)
}

fn sim_device(i: usize, batches: usize) -> SimDevice {
    let login = format!("load-cadre-{i:05}");
    let device_id = uuid::Uuid::now_v7().to_string();
    let actor = automerge::ActorId::random();
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let identity = cunji_core::identity::DeviceIdentity::from_parts(
        device_id.clone(),
        actor.to_bytes(),
        &key.to_bytes(),
    )
    .unwrap();
    let village = village_of(i);
    let mut pushes = Vec::with_capacity(batches);
    for b in 0..batches {
        let items: Vec<PushItem> = (0..BATCH)
            .map(|k| {
                let mut c = CheckIn::example();
                c.cadre_id = login.clone();
                c.village_code = village.clone();
                c.ts = (chrono::Utc::now() - chrono::Duration::minutes((b * BATCH + k) as i64))
                    .fixed_offset();
                let env = Envelope {
                    id: uuid::Uuid::now_v7().to_string(),
                    kind: Kind::CheckIn,
                    author_id: login.clone(),
                    device_id: device_id.clone(),
                    created_device_ts: chrono::Utc::now().fixed_offset(),
                    device_uptime_ms: 1000,
                    geo: None,
                    server_received_ts: None,
                    state: RecordState::Submitted,
                };
                let edit = Edit {
                    meta: ChangeMeta {
                        reason: "打卡".into(),
                        cadre_id: login.clone(),
                        device_id: device_id.clone(),
                    },
                    time_ms: chrono::Utc::now().timestamp_millis(),
                };
                let (_, change) = RecordDoc::create(actor.clone(), &env, &c, &edit).unwrap();
                PushItem::signed(&identity, &env.id, change.raw_bytes().to_vec()).unwrap()
            })
            .collect();
        pushes.push(protocol::encode(&PushRequest { items }));
    }
    SimDevice {
        login,
        device_id,
        actor,
        key,
        village,
        address: loopback(10, i),
        pushes,
    }
}

#[derive(Default)]
struct Outcome {
    push_ms: Vec<f64>,
    pull_ms: Vec<f64>,
    accepted: usize,
    pulled: usize,
    errors: Vec<String>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The hostile clients of a mixed run.
#[derive(Clone, Copy)]
struct Hostile {
    slow: usize,
    guesses_in_flight: usize,
    guess_addresses: usize,
}

/// What one slow client saw.
#[derive(Default)]
struct Slow {
    opened: usize,
    /// Connections the server closed while the client sent nothing more.
    dropped: usize,
    /// Of those, closed within a second (refused at once by a connection limit).
    refused_at_once: usize,
    longest_held: Duration,
    held_at_end: usize,
}

/// Holds connections open, sending half a request line or nothing, until told to stop;
/// opens the next as soon as the server drops one.
async fn slow_client(
    local: IpAddr,
    server: SocketAddr,
    half_line: bool,
    mut stop: watch::Receiver<bool>,
) -> Slow {
    let mut s = Slow::default();
    while !*stop.borrow() {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(local, 0)).unwrap();
        let Ok(mut conn) = socket.connect(server).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        s.opened += 1;
        let opened = Instant::now();
        if half_line {
            let _ = conn
                .write_all(b"POST /v1/sync/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
                .await;
        }
        let mut buf = [0u8; 1024];
        loop {
            tokio::select! {
                read = conn.read(&mut buf) => match read {
                    // An answer (a 408, say) before the close: read on to the close.
                    Ok(n) if n > 0 => continue,
                    _ => {
                        let held = opened.elapsed();
                        s.dropped += 1;
                        s.refused_at_once += usize::from(held < Duration::from_secs(1));
                        s.longest_held = s.longest_held.max(held);
                        break;
                    }
                },
                _ = stop.changed() => {
                    s.held_at_end += 1;
                    return s;
                }
            }
        }
    }
    s
}

/// What the password-guessing client got back.
#[derive(Default)]
struct Guesses {
    sent: usize,
    /// 401 `bad_login`: the password was checked.
    checked: usize,
    /// Of those, the victim's.
    victim_checked: usize,
    /// 429 `sign_in_throttled`: refused before any check.
    throttled: usize,
    /// Anything else (a server error, a refused connection): must stay empty.
    other: Vec<String>,
}

/// One of the guessing client's requests in flight: browser sign-ins with wrong passwords,
/// alternating the victim's login and unknown ones, each from the next of its addresses.
async fn guesser(
    first: usize,
    step: usize,
    clients: Arc<Vec<reqwest::Client>>,
    url: Arc<String>,
    stop: watch::Receiver<bool>,
) -> Guesses {
    let mut g = Guesses::default();
    let mut n = first;
    while !*stop.borrow() {
        let login = if n.is_multiple_of(2) {
            VICTIM.to_string()
        } else {
            format!("nobody-{n}")
        };
        let resp = clients[n % clients.len()]
            .post(format!("{url}/v1/session"))
            .json(&serde_json::json!({"login": login, "password": format!("guess-{n}")}))
            .send()
            .await;
        g.sent += 1;
        match resp.map(|r| r.status().as_u16()) {
            Ok(401) => {
                g.checked += 1;
                g.victim_checked += usize::from(login == VICTIM);
            }
            Ok(429) => g.throttled += 1,
            Ok(status) => g.other.push(format!("status {status}")),
            Err(e) => g.other.push(e.to_string()),
        }
        n += step;
    }
    g
}

/// What the hostile clients of a run did, summed.
#[derive(Default)]
struct Hostility {
    slow: Vec<Slow>,
    guesses: Guesses,
    guessing_secs: f64,
}

/// One run's figures.
struct Run {
    outcome: Outcome,
    healthz_ms: Vec<f64>,
    wall: Duration,
    hostility: Option<Hostility>,
}

#[test]
fn many_devices_sync_at_once_without_errors_even_beside_hostile_clients() {
    let devices = env("CUNJI_LOAD_DEVICES", 100);
    let hostile = Hostile {
        slow: env("CUNJI_LOAD_SLOW", devices / 2),
        guesses_in_flight: env("CUNJI_LOAD_GUESSES_IN_FLIGHT", 4),
        guess_addresses: env("CUNJI_LOAD_GUESS_ADDRESSES", 16).max(1),
    };
    for backend in Backend::available() {
        let plain = load_run(backend, devices, hostile, false);
        let mixed = load_run(backend, devices, hostile, true);
        let p99 = |r: &Run| percentile(&r.outcome.push_ms, 0.99);
        let p50 = |r: &Run| percentile(&r.outcome.push_ms, 0.5);
        eprintln!(
            "mixed load on {backend:?}: honest push p99 {:.1} ms beside hostile clients vs {:.1} ms \
             without ({:.2}x); p50 {:.1} vs {:.1} ms ({:.2}x)",
            p99(&mixed),
            p99(&plain),
            p99(&mixed) / p99(&plain),
            p50(&mixed),
            p50(&plain),
            p50(&mixed) / p50(&plain),
        );
    }
}

fn load_run(backend: Backend, devices_n: usize, hostile: Hostile, with_hostile: bool) -> Run {
    let seconds = env("CUNJI_LOAD_SECONDS", 10);
    let batches = env("CUNJI_LOAD_BATCHES", 10);
    let header_timeout = (seconds as u64 / 3).clamp(1, Config::default().header_timeout_secs);
    let server = TestServer::start_with(
        backend,
        Config {
            requests_per_minute: 1_000_000,
            max_connections: Config::default()
                .max_connections
                .max(2 * (devices_n + hostile.slow)),
            header_timeout_secs: header_timeout,
            ..Config::default()
        },
    );

    // Accounts (one Argon2 hash shared: hashing 1,000 passwords would only slow the setup;
    // each sign-in still verifies it) and the village teams, made by the admin.
    server.account("admin", Role::Admin, "");
    server.account(VICTIM, Role::TeamMember, "");
    let hash = accounts::hash_password(PASSWORD).unwrap();
    server
        .db
        .write(|tx| {
            for i in 0..devices_n {
                tx.put_account(&Account {
                    login: format!("load-cadre-{i:05}"),
                    name: format!("干部{i}"),
                    role: if i % TEAM_SIZE == 0 {
                        Role::FirstSecretary
                    } else {
                        Role::TeamMember
                    },
                    division: String::new(),
                    password_hash: hash.clone(),
                    active: true,
                })?;
            }
            Ok::<_, cunji_sync_server::store::StoreError>(())
        })
        .unwrap();
    let mut admin = Device::new(&server.url, "admin").sign_in();
    for v in 0..devices_n.div_ceil(TEAM_SIZE) {
        let mut team = Team::example();
        team.village_code = village_of(v * TEAM_SIZE);
        let template = team.members.values().next().unwrap().clone();
        team.members = (v * TEAM_SIZE..((v + 1) * TEAM_SIZE).min(devices_n))
            .map(|i| (format!("load-cadre-{i:05}"), template.clone()))
            .collect();
        team.leader_id = format!("load-cadre-{:05}", v * TEAM_SIZE);
        admin
            .store
            .create(&admin.author("组建工作队"), &team)
            .unwrap();
    }
    let r = admin.sync().unwrap();
    assert_eq!(r.rejected, 0, "{:?}", admin.store.rejected_changes());
    let before = server.change_count();

    let started = Instant::now();
    let sims: Vec<SimDevice> = (0..devices_n).map(|i| sim_device(i, batches)).collect();
    eprintln!(
        "prepared {} changes for {devices_n} devices in {:.1}s",
        devices_n * batches * BATCH,
        started.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = Arc::new(server.url.clone());
    let server_addr: SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
    // As the app's client does (`HttpTransport`), idle connections are let go before the
    // server's header timeout closes them: a request sent on one just as the server closes
    // it fails (seen here once the sign-ins, slowed by the guesser, left connections idle).
    let client_at = |address: IpAddr| {
        reqwest::Client::builder()
            .local_address(address)
            .timeout(Duration::from_secs(120))
            .pool_idle_timeout(Duration::from_secs(header_timeout) / 2)
            .build()
            .unwrap()
    };
    let run = rt.block_on(async move {
        // The hostile clients, from before the sign-ins until the devices are done (and for
        // at least two header timeouts, so that every slow client is dropped once).
        let (stop_tx, stop_rx) = watch::channel(false);
        let hostile_started = Instant::now();
        let mut slow_tasks = Vec::new();
        let mut guess_tasks = Vec::new();
        if with_hostile {
            for j in 0..hostile.slow {
                slow_tasks.push(tokio::spawn(slow_client(
                    loopback(20, j % 10),
                    server_addr,
                    j.is_multiple_of(2),
                    stop_rx.clone(),
                )));
            }
            let clients: Arc<Vec<reqwest::Client>> = Arc::new(
                (0..hostile.guess_addresses)
                    .map(|a| client_at(loopback(30, a)))
                    .collect(),
            );
            for k in 0..hostile.guesses_in_flight {
                guess_tasks.push(tokio::spawn(guesser(
                    k,
                    hostile.guesses_in_flight,
                    clients.clone(),
                    url.clone(),
                    stop_rx.clone(),
                )));
            }
        }

        // Sign-in, all at once: the server checks each password.
        let clients: Vec<reqwest::Client> = sims.iter().map(|d| client_at(d.address)).collect();
        let mut logins = Vec::new();
        for (d, client) in sims.iter().zip(&clients) {
            let req = LoginRequest {
                login: d.login.clone(),
                password: PASSWORD.into(),
                device_id: d.device_id.clone(),
                actor: d.actor.to_hex_string(),
                public_key: hex::encode(d.key.verifying_key().to_bytes()),
            };
            let (client, url) = (client.clone(), url.clone());
            logins.push(tokio::spawn(async move {
                let resp = client
                    .post(format!("{url}/v1/login"))
                    .json(&req)
                    .send()
                    .await
                    .unwrap();
                assert!(resp.status().is_success(), "{}", resp.status());
                resp.json::<LoginResponse>().await.unwrap().token
            }));
        }
        let mut tokens = Vec::new();
        for l in logins {
            tokens.push(l.await.unwrap());
        }

        // Baseline: the same number of clients hitting /healthz (an HTTP round trip and one
        // indexed read) for a fixed number of requests each.
        let mut base = Vec::new();
        for client in &clients {
            let (client, url) = (client.clone(), url.clone());
            base.push(tokio::spawn(async move {
                let mut ms = Vec::new();
                for _ in 0..3 {
                    let t = Instant::now();
                    let ok = client.get(format!("{url}/healthz")).send().await;
                    assert!(ok.is_ok_and(|r| r.status().is_success()));
                    ms.push(t.elapsed().as_secs_f64() * 1e3);
                }
                ms
            }));
        }
        let mut healthz_ms = Vec::new();
        for b in base {
            healthz_ms.extend(b.await.unwrap());
        }

        // The run.
        let deadline = Instant::now() + Duration::from_secs(seconds as u64);
        let wall = Instant::now();
        let mut tasks = Vec::new();
        for ((d, token), client) in sims.into_iter().zip(tokens).zip(clients) {
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let mut out = Outcome::default();
                let mut cursors: Vec<ScopeCursor> = Vec::new();
                for body in d.pushes {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let t = Instant::now();
                    let resp = client
                        .post(format!("{url}/v1/sync/push"))
                        .bearer_auth(&token)
                        .header(protocol::PROTOCOL_HEADER, protocol::PROTOCOL_VERSION)
                        .header(reqwest::header::CONTENT_TYPE, protocol::CONTENT_TYPE)
                        .body(body)
                        .send()
                        .await;
                    let bytes = match resp {
                        Ok(r) if r.status().is_success() => r.bytes().await.unwrap(),
                        Ok(r) => {
                            out.errors.push(format!("push {}", r.status()));
                            continue;
                        }
                        Err(e) => {
                            out.errors.push(format!("push {e}"));
                            continue;
                        }
                    };
                    out.push_ms.push(t.elapsed().as_secs_f64() * 1e3);
                    let resp: PushResponse = protocol::decode(&bytes, 1 << 26).unwrap();
                    for r in resp.results {
                        match r.outcome {
                            PushOutcome::Accepted => out.accepted += 1,
                            other => out.errors.push(format!("{other:?}")),
                        }
                    }
                    let t = Instant::now();
                    let req = protocol::encode(&PullRequest {
                        cursors: cursors.clone(),
                        max_bytes: 1 << 20,
                    });
                    let resp = client
                        .post(format!("{url}/v1/sync/pull"))
                        .bearer_auth(&token)
                        .header(protocol::PROTOCOL_HEADER, protocol::PROTOCOL_VERSION)
                        .header(reqwest::header::CONTENT_TYPE, protocol::CONTENT_TYPE)
                        .body(req)
                        .send()
                        .await;
                    let bytes = match resp {
                        Ok(r) if r.status().is_success() => r.bytes().await.unwrap(),
                        Ok(r) => {
                            out.errors.push(format!("pull {}", r.status()));
                            continue;
                        }
                        Err(e) => {
                            out.errors.push(format!("pull {e}"));
                            continue;
                        }
                    };
                    out.pull_ms.push(t.elapsed().as_secs_f64() * 1e3);
                    let page: PullResponse = protocol::decode(&bytes, 1 << 26).unwrap();
                    for p in page.pages {
                        out.pulled += p.changes.len();
                        match cursors.iter_mut().find(|c| c.scope == p.scope) {
                            Some(c) => c.cursor = p.cursor,
                            None => cursors.push(ScopeCursor {
                                scope: p.scope,
                                cursor: p.cursor,
                            }),
                        }
                    }
                }
                assert!(
                    cursors
                        .iter()
                        .any(|c| c.scope == format!("village:{}", d.village)
                            || c.scope == format!("village-member:{}", d.village))
                        || out.push_ms.is_empty(),
                    "{} never pulled its village",
                    d.login
                );
                out
            }));
        }
        let mut all = Outcome::default();
        for t in tasks {
            let o = t.await.unwrap();
            all.push_ms.extend(o.push_ms);
            all.pull_ms.extend(o.pull_ms);
            all.accepted += o.accepted;
            all.pulled += o.pulled;
            all.errors.extend(o.errors);
        }
        let wall = wall.elapsed();

        let hostility = if with_hostile {
            let at_least = Duration::from_secs(2 * header_timeout + 1);
            tokio::time::sleep(at_least.saturating_sub(hostile_started.elapsed())).await;
            stop_tx.send(true).unwrap();
            let guessing_secs = hostile_started.elapsed().as_secs_f64();
            let mut h = Hostility {
                guessing_secs,
                ..Hostility::default()
            };
            for t in slow_tasks {
                h.slow.push(t.await.unwrap());
            }
            for t in guess_tasks {
                let g = t.await.unwrap();
                h.guesses.sent += g.sent;
                h.guesses.checked += g.checked;
                h.guesses.throttled += g.throttled;
                h.guesses.victim_checked += g.victim_checked;
                h.guesses.other.extend(g.other);
            }
            Some(h)
        } else {
            None
        };
        Run {
            outcome: all,
            healthz_ms,
            wall,
            hostility,
        }
    });
    let mut run = run;
    report(backend, devices_n, &mut run, &server, before);
    run
}

/// Checks a run's outcome and prints its figures.
fn report(backend: Backend, devices_n: usize, run: &mut Run, server: &TestServer, before: i64) {
    let o = &mut run.outcome;
    let label = if run.hostility.is_some() {
        "beside hostile clients"
    } else {
        "alone"
    };
    assert!(
        o.errors.is_empty(),
        "{backend:?}, {label}: {} errors, first: {:?}",
        o.errors.len(),
        &o.errors[..o.errors.len().min(5)]
    );
    assert!(o.accepted > 0);
    // Every accepted change is in the log once.
    assert_eq!(server.change_count() - before, o.accepted as i64);
    let h = &mut run.healthz_ms;
    for v in [&mut o.push_ms, &mut o.pull_ms, h] {
        v.sort_by(f64::total_cmp);
    }
    let secs = run.wall.as_secs_f64();
    eprintln!(
        "load on {backend:?} {label}: {devices_n} devices, {secs:.1}s: {} pushes ({} changes, {:.0} changes/s), {} pulls \
         ({} changes received); push p50 {:.1} ms p99 {:.1} ms; pull p50 {:.1} ms p99 {:.1} ms; \
         {:.0} requests/s; baseline /healthz with {devices_n} clients: p50 {:.1} ms p99 {:.1} ms",
        o.push_ms.len(),
        o.accepted,
        o.accepted as f64 / secs,
        o.pull_ms.len(),
        o.pulled,
        percentile(&o.push_ms, 0.5),
        percentile(&o.push_ms, 0.99),
        percentile(&o.pull_ms, 0.5),
        percentile(&o.pull_ms, 0.99),
        (o.push_ms.len() + o.pull_ms.len()) as f64 / secs,
        percentile(&run.healthz_ms, 0.5),
        percentile(&run.healthz_ms, 0.99),
    );
    let Some(h) = &run.hostility else {
        return;
    };
    let never_dropped = h.slow.iter().filter(|s| s.dropped == 0).count();
    let sum = |f: fn(&Slow) -> usize| h.slow.iter().map(f).sum::<usize>();
    let longest = h
        .slow
        .iter()
        .map(|s| s.longest_held)
        .max()
        .unwrap_or_default();
    let g = &h.guesses;
    eprintln!(
        "hostile clients on {backend:?} over {:.1}s: {} slow clients opened {} connections, the server \
         dropped {} ({} at once by a connection limit; longest held {:.1}s), {} still open at the end; \
         {} guesses ({:.0}/s): {} passwords checked ({} of the guessed account), {} throttled",
        h.guessing_secs,
        h.slow.len(),
        sum(|s| s.opened),
        sum(|s| s.dropped),
        sum(|s| s.refused_at_once),
        longest.as_secs_f64(),
        sum(|s| s.held_at_end),
        g.sent,
        g.sent as f64 / h.guessing_secs,
        g.checked,
        g.victim_checked,
        g.throttled,
    );
    assert_eq!(never_dropped, 0, "slow clients the server never dropped");
    assert!(
        g.other.is_empty(),
        "guesses answered otherwise: {:?}",
        &g.other[..g.other.len().min(5)]
    );
    // (No guesser when CUNJI_LOAD_GUESSES_IN_FLIGHT=0, to see the slow clients alone.)
    assert!(
        g.throttled > 0 || g.sent == 0,
        "guessing was never throttled"
    );
    // The guessed account: five free failures, then a lock that doubles from 2 s, so within
    // T seconds at most log2(T + 2) more; twice that, for the two guesses of it in flight
    // that may both pass the lock check before either failure is counted.
    let windows = (h.guessing_secs + 2.0).log2().ceil() as usize;
    assert!(
        g.victim_checked <= 2 * (5 + windows + 1),
        "the guessed account's password was checked {} times in {:.0} s",
        g.victim_checked,
        h.guessing_secs
    );
}
