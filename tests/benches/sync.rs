//! Sync benchmarks, each against a baseline in the same run:
//! 1. bytes on the wire per record for a 1,000-record sync vs gzip of the records as NDJSON;
//! 2. round trips to sync 1,000 records vs Automerge's per-document sync protocol;
//! 3. server ingest with 100 devices pushing at once: changes/s and p99 sync latency, on
//!    SQLite (and PostgreSQL when `CUNJI_TEST_POSTGRES_URL` is set).
//!
//! Run: `cargo bench -p cunji-tests --bench sync`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::io::Write;
use std::time::{Duration, Instant};

use automerge::sync::{State, SyncDoc};
use cunji_core::domain::{CheckIn, Household, Team, TeamMember, Village, Visit};
use cunji_core::sync::Transport;
use cunji_core::sync::protocol::{self, PushItem, PushOutcome, PushRequest, PushResponse};
use cunji_sync_server::accounts::Role;
use cunji_tests::{Backend, Device, TestServer, household};
use rand::{Rng, SeedableRng};

const VILLAGE: &str = "530322101201";

fn gzip(bytes: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap().len()
}

/// A server with `villages` villages, each with a team of `per_team` members (logins
/// `c{village}-{member}`), created by an admin device.
fn server_with_teams(backend: Backend, villages: usize, per_team: usize) -> TestServer {
    let server = TestServer::start(backend);
    server.account("admin", Role::Admin, "");
    let mut admin = Device::new(&server.url, "admin").sign_in();
    for v in 0..villages {
        let mut village = Village::example();
        village.code = format!("5303221012{:02}", v + 1);
        admin.store.create(&admin.author("建村"), &village).unwrap();
        let mut team = Team::example();
        team.village_code = village.code.clone();
        // Serving since the first day of the records the benchmarks make (rights follow the
        // record's date, DOMAIN §1).
        let from = "2015-01-01".parse().unwrap();
        team.members = (0..per_team)
            .map(|m| (format!("c{v}-{m}"), TeamMember { from, to: None }))
            .collect();
        team.leader_id = format!("c{v}-0");
        admin
            .store
            .create(&admin.author("组建工作队"), &team)
            .unwrap();
        for m in 0..per_team {
            let role = if m == 0 {
                Role::FirstSecretary
            } else {
                Role::TeamMember
            };
            server.account(&format!("c{v}-{m}"), role, "");
        }
    }
    admin.sync().unwrap();
    server
}

const SURNAMES: &[&str] = &[
    "张", "李", "王", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙",
];
const GIVEN: &[&str] = &[
    "建国", "秀英", "伟", "丽", "浩", "芳", "明", "红", "军", "霞", "强", "梅",
];
const NOTES: &[&str] = &[
    "希望申请危房改造补助",
    "孩子上学交通不便",
    "需要养殖技术培训",
    "医保报销比例有疑问",
    "想外出务工需要介绍",
    "饮水管道漏水",
    "申请小额信贷发展种植",
    "家中老人慢性病需要送药",
];

fn pick<'a>(rng: &mut impl Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.gen_range(0..xs.len())]
}

/// Records that differ the way real ones do: names, phones, notes, times and places.
fn varied_household(n: u64, rng: &mut impl Rng) -> Household {
    let mut h = household(n);
    h.village_code = VILLAGE.into();
    h.phone = Some(format!("13{:09}", rng.gen_range(0..1_000_000_000u64)));
    h.plan = Some(format!("{},{}", pick(rng, NOTES), pick(rng, NOTES)));
    h.land_mu = Some(f64::from(rng.gen_range(1..40)) / 4.0);
    for m in h.members.values_mut() {
        m.name = format!("{}{}", pick(rng, SURNAMES), pick(rng, GIVEN));
    }
    h
}

fn varied_visit(household_id: &str, visitor: &str, rng: &mut impl Rng) -> Visit {
    let mut v = Visit::example();
    v.household_id = household_id.into();
    v.visitor_id = visitor.into();
    let (day, hour, min) = (
        rng.gen_range(1..=28),
        rng.gen_range(8..18),
        rng.gen_range(0..60),
    );
    v.start_ts = format!("2015-10-{day:02}T{hour:02}:{min:02}:00+08:00")
        .parse()
        .unwrap();
    v.end_ts = v.start_ts + chrono::Duration::minutes(rng.gen_range(10..90));
    v.follow_up_due = None;
    v.demands = Some(pick(rng, NOTES).into());
    v.actions = Some(format!("{},已登记", pick(rng, NOTES)));
    v.changes_found = None;
    if let Some(g) = v.geo.as_mut() {
        g.lat += rng.gen_range(-0.01..0.01);
        g.lon += rng.gen_range(-0.01..0.01);
        g.fix_ts = Some(v.start_ts);
    }
    let hex = |rng: &mut dyn rand::RngCore| {
        (0..32)
            .map(|_| format!("{:02x}", rng.next_u32() as u8))
            .collect::<String>()
    };
    v.confirmation_image_sha256 = Some(hex(rng));
    for p in v.photos.iter_mut() {
        p.sha256 = hex(rng);
        p.ts = Some(v.start_ts);
        p.geo = v.geo;
    }
    v
}

fn varied_check_in(cadre: &str, n: u32, rng: &mut impl Rng) -> CheckIn {
    let mut c = CheckIn::example();
    c.cadre_id = cadre.into();
    c.village_code = VILLAGE.into();
    let (hour, min) = (rng.gen_range(6..10), rng.gen_range(0..60));
    c.ts = format!(
        "2015-{:02}-{:02}T{hour:02}:{min:02}:00+08:00",
        1 + n / 28 % 12,
        1 + n % 28
    )
    .parse()
    .unwrap();
    c.geo.lat += rng.gen_range(-0.005..0.005);
    c.geo.lon += rng.gen_range(-0.005..0.005);
    c.geo.accuracy_m = Some(f64::from(rng.gen_range(3..40)));
    c.geo.fix_ts = Some(c.ts);
    c
}

fn bytes_and_round_trips() {
    let server = server_with_teams(Backend::Sqlite, 1, 2);
    let mut a = Device::new(&server.url, "c0-0").sign_in();
    let mut b = Device::new(&server.url, "c0-1").sign_in();
    b.sync().unwrap(); // reference data first, so the measured pull is the records alone
    a.sync().unwrap();
    let who = a.author("入户");
    let mut rng = rand::rngs::StdRng::seed_from_u64(2015);
    let mut ndjson = Vec::new();
    let mut hids = Vec::new();
    for n in 0..100 {
        let h = varied_household(n, &mut rng);
        hids.push(a.store.create(&who, &h).unwrap());
        serde_json::to_writer(&mut ndjson, &h).unwrap();
        ndjson.push(b'\n');
    }
    for n in 0..500 {
        let v = varied_visit(&hids[n % hids.len()], "c0-0", &mut rng);
        a.store.create(&who, &v).unwrap();
        serde_json::to_writer(&mut ndjson, &v).unwrap();
        ndjson.push(b'\n');
    }
    for n in 0..400u32 {
        let c = varied_check_in("c0-0", n, &mut rng);
        a.store.create(&who, &c).unwrap();
        serde_json::to_writer(&mut ndjson, &c).unwrap();
        ndjson.push(b'\n');
    }
    let baseline = gzip(&ndjson);
    assert_eq!(ndjson.iter().filter(|b| **b == b'\n').count(), 1000);
    let push = a.sync().unwrap();
    assert_eq!(
        (push.pushed, push.rejected),
        (1000, 0),
        "{:?}",
        a.store.rejected_changes()
    );
    let pull = b.sync().unwrap();
    assert_eq!(pull.pulled, 1000);
    println!("1,000-record sync (100 households, 500 visits, 400 check-ins):");
    println!(
        "  baseline gzip(NDJSON of the records)   {:>9} B  ({:.0} B/record)",
        baseline,
        baseline as f64 / 1000.0
    );
    println!(
        "  push, request bodies                   {:>9} B  ({:.0} B/record)  ratio {:.2}x (target <= 1.2x)",
        push.bytes_sent,
        push.bytes_sent as f64 / 1000.0,
        push.bytes_sent as f64 / baseline as f64
    );
    println!(
        "  pull, response bodies                  {:>9} B  ({:.0} B/record)  ratio {:.2}x",
        pull.bytes_received,
        pull.bytes_received as f64 / 1000.0,
        pull.bytes_received as f64 / baseline as f64
    );
    println!(
        "  round trips: push {} + pull {} (device A); pull {} (device B)",
        push.requests - 1,
        1,
        pull.requests
    );

    // Baseline: Automerge's sync protocol document by document, as a client without a batch
    // protocol would run it: one request per message exchange.
    let mut round_trips = 0;
    for id in a.store.record_ids().unwrap() {
        let mut source = automerge::AutoCommit::new();
        for c in a.store.changes_of(&id).unwrap() {
            source.load_incremental(&c).unwrap();
        }
        let mut target = automerge::AutoCommit::new();
        let (mut s1, mut s2) = (State::new(), State::new());
        loop {
            let m1 = target.sync().generate_sync_message(&mut s2);
            let m2 = source.sync().generate_sync_message(&mut s1);
            if m1.is_none() && m2.is_none() {
                break;
            }
            round_trips += 1;
            if let Some(m) = m1 {
                source.sync().receive_sync_message(&mut s1, m).unwrap();
            }
            if let Some(m) = m2 {
                target.sync().receive_sync_message(&mut s2, m).unwrap();
            }
        }
    }
    println!(
        "  baseline: Automerge per-document sync protocol: {round_trips} round trips for {} records",
        a.store.record_ids().unwrap().len()
    );
}

fn ingest(backend: Backend) {
    const DEVICES: usize = 100;
    const PER_DEVICE: usize = 100;
    let villages = 10;
    let server = server_with_teams(backend, villages, DEVICES / villages);
    let mut devices: Vec<Device> = (0..DEVICES)
        .map(|i| {
            Device::new(
                &server.url,
                &format!("c{}-{}", i / (DEVICES / villages), i % (DEVICES / villages)),
            )
            .sign_in()
        })
        .collect();
    for (i, d) in devices.iter_mut().enumerate() {
        let who = d.author("打卡");
        for n in 0..PER_DEVICE {
            let mut c = CheckIn::example();
            c.cadre_id = d.login.clone();
            c.village_code = format!("5303221012{:02}", i / (DEVICES / villages) + 1);
            c.ts = format!(
                "2015-{:02}-{:02}T08:00:00+08:00",
                1 + n / 28 % 12,
                1 + n % 28
            )
            .parse()
            .unwrap();
            d.store.create(&who, &c).unwrap();
        }
    }
    // The bodies are built before the clock starts: this measures the server taking changes
    // in (decode, check, merge, store, project), not the devices preparing them.
    let bodies: Vec<(cunji_core::sync::HttpTransport, Vec<u8>)> = devices
        .iter()
        .map(|d| {
            let items: Vec<PushItem> = d
                .store
                .outbox_batch(10_000, usize::MAX)
                .unwrap()
                .into_iter()
                .map(|i| PushItem {
                    doc_id: i.doc_id,
                    change: i.change,
                    signature: i.signature,
                })
                .collect();
            (d.transport(), protocol::encode(&PushRequest { items }))
        })
        .collect();
    let before = server.change_count();
    let start = Instant::now();
    let handles: Vec<_> = bodies
        .into_iter()
        .map(|(mut transport, body)| {
            std::thread::spawn(move || {
                let t = Instant::now();
                let response = transport.push(body).unwrap();
                let elapsed = t.elapsed();
                let response: PushResponse = protocol::decode(&response, 1 << 26).unwrap();
                let accepted = response
                    .results
                    .iter()
                    .filter(|r| r.outcome == PushOutcome::Accepted)
                    .count();
                assert_eq!(accepted, PER_DEVICE, "{:?}", response.results.first());
                elapsed
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wall = start.elapsed();
    let stored = server.change_count() - before;
    assert_eq!(stored as usize, DEVICES * PER_DEVICE);
    latencies.sort();
    let p =
        |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).min(latencies.len()) - 1];
    println!(
        "ingest, {backend:?}: {DEVICES} devices push {PER_DEVICE} check-ins each at once: {} changes in {:.2} s = {:.0} changes/s checked, stored and merged (target >= 10,000 on SQLite); push request latency p50 {:.0} ms, p99 {:.0} ms",
        stored,
        wall.as_secs_f64(),
        stored as f64 / wall.as_secs_f64(),
        p(0.5).as_secs_f64() * 1000.0,
        p(0.99).as_secs_f64() * 1000.0
    );
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let only = std::env::var("CUNJI_BENCH").unwrap_or_default();
    if only.is_empty() || only == "wire" {
        bytes_and_round_trips();
    }
    if only.is_empty() || only == "ingest" {
        for backend in Backend::available() {
            ingest(backend);
        }
    }
}
