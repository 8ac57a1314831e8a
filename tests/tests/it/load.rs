//! Load: many devices syncing at once against a real server on loopback, over the real
//! protocol (signed brotli(postcard) pushes, per-scope pulls) with real accounts (one per
//! device, password-checked at sign-in) in real village teams.
//!
//! Devices are light: each is an actor, an Ed25519 key and a token, with its check-ins
//! prepared before the clock starts (made with the core's `RecordDoc::create`, as a phone
//! makes them). During the run every device, concurrently and without pause, pushes a batch
//! of its check-ins and pulls its village's new changes, until it has pushed them all or the
//! time is up. The run fails on any error or refused change, and checks that every accepted
//! change is in the server's log exactly once.
//!
//! It runs on SQLite and, when `CUNJI_TEST_POSTGRES_URL` is set, on PostgreSQL, one after the
//! other (a server each).
//!
//! Figures (p50/p99 per request, changes/s) are printed; BENCHMARKS.md has a release run of
//! 1,000 devices. The default (100 devices, 10 s) is the bounded variant CI runs:
//!
//!   CUNJI_LOAD_DEVICES=1000 CUNJI_LOAD_SECONDS=60 \
//!     cargo test --release -p cunji-tests --test it load:: -- --nocapture
//!
//! 1,000 devices hold ~2,000 sockets in this one process (client and server ends): mind
//! `ulimit -n` (1,024 by default on many systems; this test raises nothing itself).
//! The per-device rate limit is raised for the run: devices here sync back to back, far more
//! often than the 10 requests a minute a phone makes.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

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

const TEAM_SIZE: usize = 10;
const BATCH: usize = 5;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct SimDevice {
    login: String,
    device_id: String,
    actor: automerge::ActorId,
    key: SigningKey,
    village: String,
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

#[test]
fn many_devices_sync_at_once_without_errors() {
    for backend in Backend::available() {
        load_run(backend);
    }
}

fn load_run(backend: Backend) {
    let devices_n = env("CUNJI_LOAD_DEVICES", 100);
    let seconds = env("CUNJI_LOAD_SECONDS", 10);
    let batches = env("CUNJI_LOAD_BATCHES", 10);
    let server = TestServer::start_with(
        backend,
        Config {
            requests_per_minute: 1_000_000,
            // Every simulated phone connects from 127.0.0.1: one address, a connection each.
            max_connections: 8_192,
            max_connections_per_address: 8_192,
            ..Config::default()
        },
    );

    // Accounts (one Argon2 hash shared: hashing 1,000 passwords would only slow the setup;
    // each sign-in still verifies it) and the village teams, made by the admin.
    server.account("admin", Role::Admin, "");
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
    let (outcome, healthz_ms, wall) = rt.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(devices_n)
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        // Sign-in, all at once: the server checks each password.
        let mut logins = Vec::new();
        for d in &sims {
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
        for _ in 0..devices_n {
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
        for (d, token) in sims.into_iter().zip(tokens) {
            let (client, url) = (client.clone(), url.clone());
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
        (all, healthz_ms, wall.elapsed())
    });

    let mut o = outcome;
    assert!(
        o.errors.is_empty(),
        "{backend:?}: {} errors, first: {:?}",
        o.errors.len(),
        &o.errors[..o.errors.len().min(5)]
    );
    assert!(o.accepted > 0);
    // Every accepted change is in the log once.
    assert_eq!(server.change_count() - before, o.accepted as i64);
    let mut h = healthz_ms;
    for v in [&mut o.push_ms, &mut o.pull_ms, &mut h] {
        v.sort_by(f64::total_cmp);
    }
    let secs = wall.as_secs_f64();
    eprintln!(
        "load on {backend:?}: {devices_n} devices, {secs:.1}s: {} pushes ({} changes, {:.0} changes/s), {} pulls \
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
        percentile(&h, 0.5),
        percentile(&h, 0.99),
    );
}
