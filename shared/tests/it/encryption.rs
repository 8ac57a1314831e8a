//! Encryption at rest: a store opened with a PIN is a SQLCipher file with no plaintext in it,
//! a wrong PIN is refused without harm, and the PIN can be changed.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use crate::common::{author, household, numbers};
use cunji_core::domain::Household;
use cunji_core::{DeviceKey, KeySalt, Store};

const PIN: &str = "246810";

/// Every byte the store left on disk: the database, its WAL and its shared memory.
fn bytes_on_disk(db: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(b) = std::fs::read(PathBuf::from(p)) {
            all.extend(b);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Writes households with a known name, each with its ID numbers; returns the households' ids
/// and the secret bytes.
fn fill(store: &mut Store) -> (Vec<String>, Vec<Vec<u8>>) {
    let ids: Vec<String> = (0..20)
        .map(|n| {
            let id = store.create(&author("c1"), &household(n)).unwrap();
            store.create(&author("c1"), &numbers(n, &id)).unwrap();
            id
        })
        .collect();
    let h = household(7);
    let head = h.members.values().next().unwrap();
    let id_no = numbers(7, &ids[7]).id_numbers[&h.head_member_id].clone();
    let secrets = vec![
        head.name.as_bytes().to_vec(),
        id_no.as_bytes().to_vec(),
        b"CREATE TABLE".to_vec(),
    ];
    (ids, secrets)
}

#[test]
fn the_file_on_disk_holds_no_plaintext_and_the_plain_store_would() {
    let dir = tempfile::tempdir().unwrap();

    // The control: the same records in an unencrypted store are readable in the bytes, so the
    // search below can find what it looks for.
    let plain = dir.path().join("plain.sqlite3");
    let mut s = Store::open(&plain).unwrap();
    let (_, secrets) = fill(&mut s);
    let device_secret_row = s.device().public_key();
    drop(s);
    let bytes = bytes_on_disk(&plain);
    for secret in &secrets {
        assert!(contains(&bytes, secret), "control store lacks {secret:?}");
    }
    assert!(contains(&bytes, &device_secret_row));

    // Encrypted: none of it, neither in the database nor in the WAL, not even the public key
    // stored beside the signing key, nor the SQLite header.
    let enc = dir.path().join("enc.sqlite3");
    let mut s = Store::open_with_pin(&enc, PIN).unwrap();
    let (ids, secrets) = fill(&mut s);
    let public = s.device().public_key();
    // Check the WAL while it still holds the latest pages, and the file after a checkpoint.
    let live = bytes_on_disk(&enc);
    assert!(
        live.len() > 4096 * 4,
        "nothing written? {} bytes",
        live.len()
    );
    drop(s);
    let closed = bytes_on_disk(&enc);
    for bytes in [&live, &closed] {
        for secret in &secrets {
            assert!(!contains(bytes, secret), "plaintext {secret:?} on disk");
        }
        assert!(!contains(bytes, &public), "device key row readable on disk");
        assert!(!contains(bytes, b"SQLite format 3"));
    }

    // And the PIN opens it again with everything there.
    let s = Store::open_with_pin(&enc, PIN).unwrap();
    assert!(s.is_encrypted());
    // Each household and its numbers.
    assert_eq!(s.record_ids().unwrap().len(), 2 * ids.len());
    assert_eq!(s.get::<Household>(&ids[7]).unwrap().record, household(7));
    assert_eq!(s.device().public_key(), public);
}

#[test]
fn a_wrong_pin_is_refused_clearly_and_harms_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.sqlite3");
    let mut s = Store::open_with_pin(&db, PIN).unwrap();
    let (ids, _) = fill(&mut s);
    drop(s);
    let before = std::fs::read(&db).unwrap();

    for wrong in ["246811", "000000", "2468100"] {
        let err = Store::open_with_pin(&db, wrong).unwrap_err();
        assert_eq!(err.code(), "wrong_pin", "{err}");
    }
    // Too short is its own error, before any key is tried.
    assert_eq!(
        Store::open_with_pin(&db, "12").unwrap_err().code(),
        "pin_too_short"
    );
    // Without a key the file is not a database at all.
    assert!(Store::open(&db).is_err());
    assert_eq!(std::fs::read(&db).unwrap(), before, "a failed open wrote");

    let s = Store::open_with_pin(&db, PIN).unwrap();
    // Each household and its numbers.
    assert_eq!(s.record_ids().unwrap().len(), 2 * ids.len());
    let check: String = s
        .conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn changing_the_pin_re_encrypts_everything() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.sqlite3");
    let mut s = Store::open_with_pin(&db, PIN).unwrap();
    let (ids, secrets) = fill(&mut s);
    let device = s.device().device_id.clone();
    s.change_pin(&db, "135799").unwrap();
    // The open store goes on working under the new key.
    let extra = s.create(&author("c1"), &household(99)).unwrap();
    drop(s);

    assert_eq!(
        Store::open_with_pin(&db, PIN).unwrap_err().code(),
        "wrong_pin"
    );
    let s = Store::open_with_pin(&db, "135799").unwrap();
    assert_eq!(s.record_ids().unwrap().len(), 2 * ids.len() + 1);
    assert!(s.get::<Household>(&extra).is_ok());
    assert_eq!(s.device().device_id, device, "the device identity survived");
    let bytes = bytes_on_disk(&db);
    for secret in &secrets {
        assert!(!contains(&bytes, secret));
    }

    // A key from elsewhere (a keystore) works the same way.
    let mut s = s;
    let raw = DeviceKey::from_bytes([9; 32]);
    s.rekey(&raw).unwrap();
    drop(s);
    let s = Store::open_encrypted(&db, &DeviceKey::from_bytes([9; 32])).unwrap();
    assert_eq!(s.record_ids().unwrap().len(), 2 * ids.len() + 1);
}

#[test]
fn plaintext_and_encrypted_stores_are_not_mixed_up() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.sqlite3");
    let mut s = Store::open(&plain).unwrap();
    s.create(&author("c1"), &household(1)).unwrap();
    assert_eq!(
        s.rekey(&DeviceKey::from_bytes([1; 32])).unwrap_err().code(),
        "store_not_encrypted"
    );
    drop(s);
    let salt = KeySalt::generate();
    let key = DeviceKey::from_pin(PIN, &salt).unwrap();
    assert_eq!(
        Store::open_encrypted(&plain, &key).unwrap_err().code(),
        "store_not_encrypted"
    );

    // An encrypted store whose salt is lost cannot be opened, and says why.
    let db = dir.path().join("enc.sqlite3");
    drop(Store::open_with_pin(&db, PIN).unwrap());
    std::fs::remove_file(KeySalt::path_for(&db)).unwrap();
    assert_eq!(
        Store::open_with_pin(&db, PIN).unwrap_err().code(),
        "key_salt_missing"
    );
}
