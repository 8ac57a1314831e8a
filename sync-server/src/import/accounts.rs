//! Accounts for the imported cadres (issue 15): the 干部 sheet's 干部编号 is the cadre's login
//! (the cadre record's id, which teams and assignments name), so after an import every cadre
//! without an account gets one, and the administrator hands each cadre its first password.
//!
//! - Who: every cadre record (imported or already on the server) with no account of its login;
//!   with a county code, those whose team villages or assigned households' villages, of any
//!   date, are in that county (as the devices' page places an account). An existing account is
//!   never touched, whatever its role or password.
//! - Role: the cadre record's 角色 (第一书记 → `first_secretary`, 驻村队员 → `team_member`,
//!   帮扶干部 → `pairing_cadre`), with no division: a cadre reads where its teams and
//!   assignments place it (DOMAIN §1), so a move to another village needs no account change.
//! - Password: 10 characters drawn from 31 letters and digits that cannot be misread on paper
//!   (no 0/o, 1/l/i), ~49 bits, behind Argon2id and the sign-in back-off; written once to a CSV
//!   the caller names (UTF-8 with a BOM, so that Excel in China opens it; created new, readable
//!   by its owner only) and stored only as its hash.
//! - Order of writes: the CSV is written first and the accounts stored after it in one
//!   transaction; if storing fails the CSV is removed, so the file never lists a password that
//!   does not work, and a second run creates only what the first did not.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use cunji_core::domain::codes::CadreRole;
use rusqlite::types::Value;

use crate::accounts::{Role, hash_password};
use crate::store::{Account, Db, RowFilter, StoreResult, Tx};

/// Letters and digits that a person copies from paper without mistaking one for another.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const PASSWORD_LEN: usize = 10;

/// A cadre that has no account yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub login: String,
    pub name: String,
    pub role: Role,
}

/// What [`create`] did.
#[derive(Debug, Default)]
pub struct Created {
    /// The accounts made, with the first password each was given.
    pub accounts: Vec<(Pending, String)>,
    /// Cadres (of the county) that already had an account.
    pub existing: usize,
}

/// The cadres without an account, by login; with `county`, only those its places put there.
pub fn pending(tx: &mut dyn Tx, county: Option<&str>) -> StoreResult<(Vec<Pending>, usize)> {
    let mut cadres: BTreeMap<String, (String, String)> = BTreeMap::new();
    tx.scan("p_cadre", &["name", "role"], RowFilter::All, &mut |row| {
        let text = |v: &Value| match v {
            Value::Text(s) => s.clone(),
            _ => String::new(),
        };
        cadres.insert(text(&row[0]), (text(&row[3]), text(&row[4])));
    })?;
    let (mut out, mut existing) = (Vec::new(), 0);
    for (login, (name, role)) in cadres {
        if let Some(county) = county
            && !works_in(tx, &login, county)?
        {
            continue;
        }
        if tx.account(&login)?.is_some() {
            existing += 1;
            continue;
        }
        let role = match CadreRole::from_code(&role) {
            Some(CadreRole::FirstSecretary) => Role::FirstSecretary,
            Some(CadreRole::TeamMember) => Role::TeamMember,
            _ => Role::PairingCadre,
        };
        out.push(Pending { login, name, role });
    }
    Ok((out, existing))
}

/// Whether a cadre's team villages or assigned households, of any date, lie in `county`.
fn works_in(tx: &mut dyn Tx, login: &str, county: &str) -> StoreResult<bool> {
    if tx
        .cadre_teams(login)?
        .iter()
        .any(|t| t.place.starts_with(county))
    {
        return Ok(true);
    }
    for a in tx.cadre_assignments(login)? {
        if tx
            .household_village(&a.place)?
            .is_some_and(|v| v.starts_with(county))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A first password.
pub fn new_password() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..PASSWORD_LEN)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// Creates the accounts of the cadres without one (of `county`, if given) and writes their
/// logins, names, roles and first passwords to `out`, a new file. Nothing to create writes no
/// file.
pub fn create(db: &Db, county: Option<&str>, out: &Path) -> anyhow::Result<Created> {
    let (pending, existing) = db.read(|tx| pending(tx, county))?;
    if pending.is_empty() {
        return Ok(Created {
            accounts: Vec::new(),
            existing,
        });
    }
    let passwords: Vec<String> = pending.iter().map(|_| new_password()).collect();
    let hashes = hash_all(&passwords)?;
    write_csv(out, &pending, &passwords)?;
    let stored = db.write(|tx| {
        for (p, hash) in pending.iter().zip(&hashes) {
            // Made since the read (another run, an administrator): left as it is, and the
            // file would list a password that does not work, so stop.
            if tx.account(&p.login)?.is_some() {
                anyhow::bail!("account {} was created meanwhile; run again", p.login);
            }
            tx.put_account(&Account {
                login: p.login.clone(),
                name: p.name.clone(),
                role: p.role,
                division: String::new(),
                password_hash: hash.clone(),
                active: true,
            })?;
        }
        Ok(())
    });
    if let Err(e) = stored {
        let _ = std::fs::remove_file(out);
        return Err(e);
    }
    Ok(Created {
        accounts: pending.into_iter().zip(passwords).collect(),
        existing,
    })
}

/// Argon2id hashes of `passwords`, on every core (each takes tens of milliseconds).
fn hash_all(passwords: &[String]) -> anyhow::Result<Vec<String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = passwords.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = passwords
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|p| hash_password(p))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(passwords.len());
        for h in handles {
            let part = h
                .join()
                .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))?
                .map_err(anyhow::Error::msg)?;
            out.extend(part);
        }
        Ok(out)
    })
}

/// The hand-out list: `登录账号,姓名,角色,初始密码`, UTF-8 with a BOM, created new and
/// readable by its owner only.
fn write_csv(out: &Path, pending: &[Pending], passwords: &[String]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(out).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e} (the list of first passwords is written to a new file only)",
            out.display()
        )
    })?;
    let mut w = std::io::BufWriter::new(file);
    w.write_all("\u{feff}".as_bytes())?;
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(["登录账号", "姓名", "角色", "初始密码"])?;
    for (p, password) in pending.iter().zip(passwords) {
        csv.write_record([
            p.login.as_str(),
            p.name.as_str(),
            p.role.label_zh(),
            password.as_str(),
        ])?;
    }
    csv.flush()?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn first_passwords_use_only_unmistakable_characters() {
        let p = new_password();
        assert_eq!(p.len(), PASSWORD_LEN);
        assert!(p.bytes().all(|b| ALPHABET.contains(&b)), "{p}");
        assert!(!ALPHABET.iter().any(|b| b"01ilo".contains(b)));
        assert_ne!(new_password(), new_password());
    }
}
