//! Writes a phone of this release for the tests of later ones (issue 14, "old phones keep
//! working"): in the directory given, `phone.sqlite3`, a first secretary's store holding a
//! household, a check-in and a work log made offline and not yet sent, and `push.bin`, the
//! push request this release's app sends for them (`brotli(postcard)`, signed by the store's
//! device), with `README.md` saying what they are.
//!
//!     cargo run -p cunji-tests --example protocol_fixture -- tests/fixtures/protocol-v1
//!
//! Run when [`PROTOCOL_VERSION`] or the store's schema changes, into a new directory named for
//! the version: the directories of earlier versions stay, and
//! `tests/tests/it/protocol.rs` syncs each against today's server.
//!
//! [`PROTOCOL_VERSION`]: cunji_core::sync::protocol::PROTOCOL_VERSION
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use cunji_core::domain::{CheckIn, WorkLog};
use cunji_core::sync::protocol::{self, PushItem, PushRequest};
use cunji_core::{Author, Store};

/// The first secretary of `Village::example` in `cunji_tests::serving_team`.
const LEADER: &str = "cadre-wang-zhigang";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir] = args.as_slice() else {
        eprintln!("usage: protocol_fixture DIR");
        std::process::exit(2);
    };
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("phone.sqlite3");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut store = Store::open(&path).unwrap();
    let at: chrono::DateTime<chrono::FixedOffset> = "2026-12-01T09:00:00+08:00".parse().unwrap();
    let who = Author::at(LEADER, "入户建档", at);
    let household = store.create(&who, &cunji_tests::household(7100)).unwrap();
    let mut check_in = CheckIn::example();
    check_in.cadre_id = LEADER.into();
    check_in.ts = at;
    let check_in = store
        .create(&Author::at(LEADER, "打卡", at), &check_in)
        .unwrap();
    let mut log = WorkLog::example();
    log.date = at.date_naive();
    log.review = None;
    let log = store
        .create(&Author::at(LEADER, "驻村日志", at), &log)
        .unwrap();

    // The push this release's client sends for that outbox (`sync::client::push`).
    let batch = store.outbox_batch_after(0, 500, 1 << 20).unwrap();
    let items: Vec<PushItem> = batch
        .iter()
        .map(|i| PushItem {
            doc_id: i.doc_id.clone(),
            change: i.change.clone(),
            signature: i.signature.clone(),
        })
        .collect();
    let request = PushRequest { items };
    std::fs::write(dir.join("push.bin"), protocol::encode(&request)).unwrap();
    let changes = batch.len();
    // Small in the repository: the file's free pages go.
    store.conn().execute_batch("VACUUM").unwrap();
    drop(store);

    let readme = format!(
        "# A phone of sync protocol {version}, store schema {schema}\n\n\
         Written by `cargo run -p cunji-tests --example protocol_fixture -- <this directory>`\n\
         on the release that spoke protocol {version}; kept unchanged since, so that\n\
         `tests/tests/it/protocol.rs` proves today's server still syncs such a phone.\n\n\
         - `phone.sqlite3`: the store of {LEADER}'s phone (the first secretary of the\n\
         \x20 example village), never signed in, holding three records made offline and not\n\
         \x20 yet sent: household `{household}`, check-in `{check_in}`,\n\
         \x20 work log `{log}`.\n\
         - `push.bin`: the push request that phone's app sends for them ({changes} changes,\n\
         \x20 `brotli(postcard(PushRequest))`, each change signed by the store's device key), sent with\n\
         \x20 `x-cunji-protocol: {version}`.\n",
        version = protocol::PROTOCOL_VERSION,
        schema = cunji_core::store::schema::SCHEMA_VERSION,
    );
    std::fs::write(dir.join("README.md"), readme).unwrap();
    println!("wrote {}: {changes} changes", dir.display());
}
