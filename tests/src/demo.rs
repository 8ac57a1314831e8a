//! A small demo village for `scripts/run` and the app's end-to-end tests, made only with what
//! the sync server offers today: accounts and reference data through its CLI (see
//! `scripts/demo-seed`), households recorded by the first secretary's device and their
//! entitlements by the county poverty office's (DOMAIN §1: entitlements are the county's), each
//! pushed like any field record. Kept apart so the data generator can replace it.

use std::fmt::Write as _;
use std::path::Path;

use cunji_core::domain::{Entitlement, Household};
use cunji_core::sync::{HttpTransport, SyncOptions};
use cunji_core::values::{Date, Money};
use cunji_core::{Author, Store};

/// The demo village (the core's example village 新庄村).
pub const VILLAGE_CODE: &str = "530322101201";
/// Accounts: the first secretary records the households, the county poverty office their
/// entitlements; the team member is who the app opens as.
pub const FIRST_SECRETARY: &str = "wangzg";
pub const COUNTY_OFFICE: &str = "xianfpb";
pub const TEAM_MEMBER: &str = "liming";
/// The demo accounts' password (scripts/demo-seed).
pub const DEMO_PASSWORD: &str = "demo-password-1";

const HEADS: [&str; 12] = [
    "张建国",
    "李桂芬",
    "王有才",
    "赵德明",
    "刘秀英",
    "陈永福",
    "杨春花",
    "黄金贵",
    "周玉兰",
    "吴长顺",
    "徐国强",
    "孙美珍",
];
const HAMLETS: [&str; 4] = ["新庄", "上村", "下村", "大凹子"];

/// Household `n` of the demo: the core's example household with its own head name and hamlet
/// (its ID numbers: [`crate::numbers`], unique per `n`, R10).
pub fn demo_household(n: usize) -> Household {
    let mut h = crate::household(n as u64 + 1);
    h.village_code = VILLAGE_CODE.into();
    h.hamlet = Some(HAMLETS[n % HAMLETS.len()].into());
    let head = h.head_member_id.clone();
    if let Some(m) = h.members.get_mut(&head) {
        m.name = HEADS[n % HEADS.len()].into();
    }
    h
}

/// Records `count` households (and their ID and bank numbers) on a device signed in as `login`, then one 2026
/// education-allowance entitlement for each on the county poverty office's device
/// ([`COUNTY_OFFICE`], same password), pushes both, and returns the assignments CSV giving every
/// household to `assignee` as primary pairing cadre.
pub fn seed_households(
    url: &str,
    login: &str,
    password: &str,
    assignee: &str,
    count: usize,
    device_dir: &Path,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut ids = Vec::with_capacity(count);
    push_from_device(
        url,
        login,
        password,
        &device_dir.join("seed-device.sqlite3"),
        |store, author| {
            for n in 0..count {
                let id = store.create(author, &demo_household(n))?;
                store.create(author, &crate::numbers(n as u64 + 1, &id))?;
                ids.push(id);
            }
            Ok(())
        },
    )?;
    let office = device_dir.join("county-office-device.sqlite3");
    push_from_device(url, COUNTY_OFFICE, password, &office, |store, author| {
        let due = Date::from_ymd_opt(2026, 12, 31).ok_or("date")?;
        for id in &ids {
            let entitlement = Entitlement {
                household_id: id.clone(),
                member_id: None,
                policy_code: "JY-YWJY-01".into(),
                year: 2026,
                due_amount: Some(Money::from_yuan(500)),
                due_date: due,
                basis: "义务教育阶段学生生活补助".into(),
            };
            store.create(author, &entitlement)?;
        }
        Ok(())
    })?;
    let mut csv = String::from("household_id,cadre_id,from,to,is_primary\n");
    for id in &ids {
        writeln!(csv, "{id},{assignee},2026-01-01,,true")?;
    }
    Ok(csv)
}

/// Signs a new device in as `login`, lets `record` write on it, and pushes what it wrote; any
/// record the server refuses is an error.
fn push_from_device(
    url: &str,
    login: &str,
    password: &str,
    path: &Path,
    record: impl FnOnce(&mut Store, &Author) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut store = Store::open(path)?;
    let session = cunji_core::sync::login(url, login, password, &store)?;
    let author = Author::now(session.cadre_id.clone(), "建档立卡录入 (demo)");
    record(&mut store, &author)?;
    let mut transport = HttpTransport::new(url, &session.token);
    let report = cunji_core::sync::sync_now(
        &mut store,
        &mut transport,
        &SyncOptions::default(),
        &mut |_| {},
    )?;
    if report.rejected > 0 {
        return Err(format!(
            "the server refused {} of {login}'s demo records",
            report.rejected
        )
        .into());
    }
    Ok(())
}
