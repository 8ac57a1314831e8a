//! Accounts, roles and what each may read and write (DOMAIN §1), passwords and tokens.
//!
//! What a role may do is the core's access table ([`cunji_core::domain::access::rights`]);
//! this module applies it to an account: [`Principal::may`] (writes), [`Principal::sight`]
//! (reads) and [`Principal::readable_scopes`] (pulls). Cadres' reaches come from the merged
//! records themselves, dated: a team's members read and write their village while their
//! membership runs; a pairing cadre reads and writes (visits to) the households assigned to
//! them while the assignment runs. Supervisors hold a division code prefix (township
//! `530322101`, county `530322`, city `5303`): a township reads every village under it in clear;
//! above the township sensitive numbers are masked (DOMAIN §1), so county and city accounts read
//! village records only through the reports and the masked views, never as raw documents, and
//! write within their division what their role allows.
//!
//! Passwords are Argon2id PHC strings. Tokens are 32 random bytes, given to the device once
//! and stored only as their SHA-256, with an expiry; revocation marks them.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use crate::store::{Account, Period, ScopeFilter, StoreResult, Tx};
use cunji_core::domain::Kind;
use cunji_core::domain::ScopeLevel;
use cunji_core::domain::access::{Action, Reach, Sight, owner_of, period_covers, rights};
use cunji_core::rules::CountySettings;
use cunji_core::values::Date;

/// Roles are core vocabulary (`cunji_core::domain::Role`); re-exported here, where what
/// each may read and write is decided.
pub use cunji_core::domain::Role;

/// A browser session tried what only a registered device may do (the HTTP layer answers
/// `device_required`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRequired;

/// The authenticated account and device of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub login: String,
    pub role: Role,
    pub division: String,
    pub device_id: String,
    pub actor: Vec<u8>,
    pub public_key: Vec<u8>,
    /// The cadre's team memberships and assignments, looked up once per request (shared by
    /// the clones a request makes) and forgotten when the request changes a team or an
    /// assignment.
    pub(crate) cache: ScopeCache,
}

/// See [`Principal::cache`].
#[derive(Debug, Clone, Default)]
pub(crate) struct ScopeCache(std::sync::Arc<std::sync::Mutex<CachedScopes>>);

/// What a request looks up once: the cadre's team memberships and assignments, and the ⚙
/// settings of each county its records fall in (settings do not change within a push).
#[derive(Debug, Default)]
struct CachedScopes {
    teams: Option<Vec<Period>>,
    assignments: Option<Vec<Period>>,
    settings: std::collections::HashMap<String, std::sync::Arc<CountySettings>>,
}

impl ScopeCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CachedScopes> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn teams(&self, tx: &mut dyn Tx, login: &str) -> StoreResult<Vec<Period>> {
        let mut c = self.lock();
        if c.teams.is_none() {
            c.teams = Some(tx.cadre_teams(login)?);
        }
        Ok(c.teams.clone().unwrap_or_default())
    }

    fn assignments(&self, tx: &mut dyn Tx, login: &str) -> StoreResult<Vec<Period>> {
        let mut c = self.lock();
        if c.assignments.is_none() {
            c.assignments = Some(tx.cadre_assignments(login)?);
        }
        Ok(c.assignments.clone().unwrap_or_default())
    }

    /// Forgets the teams and assignments (after a team or an assignment changed).
    pub(crate) fn forget(&self) {
        let mut c = self.lock();
        c.teams = None;
        c.assignments = None;
    }
}

/// A pull scope: its name on the wire and the changes it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub name: String,
    pub filter: ScopeFilter,
}

/// Where a record lives, as authorisation reads it: its village (`None`: reference data and
/// cadres' files), its household (for household-bound records) and, for a personal record,
/// whose it is ([`owner_of`]).
#[derive(Debug, Clone, Copy)]
pub struct RecordPlace<'a> {
    pub kind: Kind,
    pub village: Option<&'a str>,
    pub household: Option<&'a str>,
    pub owner: Option<&'a str>,
}

impl<'a> RecordPlace<'a> {
    /// The place of a stored document.
    pub fn of(row: &'a crate::store::DocRow) -> RecordPlace<'a> {
        RecordPlace {
            kind: row.kind,
            village: row.village_code.as_deref(),
            household: row.household_id.as_deref(),
            owner: owner_of(row.kind, &row.id, &row.author_id),
        }
    }
}

/// Today in China (UTC+8), the day reads and undated writes are judged on.
pub fn today() -> Date {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// Whether a reader with this sight receives the raw documents (pull, repair, heads): masked
/// and aggregate sights read only through the server's masked views and reports. A team
/// member's [`Sight::MaskedUnlessAssigned`] receives the village's households: their ID and
/// bank numbers are a record of their own, which reaches it only for its assigned households
/// (households stored before that split still hold theirs until they are migrated).
fn raw(sight: Sight) -> bool {
    matches!(
        sight,
        Sight::Clear | Sight::Own | Sight::MaskedUnlessAssigned
    )
}

impl Principal {
    /// The principal of a signed-in account on one of its devices.
    pub fn new(account: crate::store::Account, device: crate::store::DeviceRow) -> Principal {
        Principal {
            login: account.login,
            role: account.role,
            division: account.division,
            device_id: device.device_id,
            actor: device.actor,
            public_key: device.public_key,
            cache: ScopeCache::default(),
        }
    }

    /// A browser session's principal: the account without a device. It may read what the
    /// account may read and cannot sync ([`Principal::require_device`]).
    pub fn web(account: crate::store::Account) -> Principal {
        Principal {
            login: account.login,
            role: account.role,
            division: account.division,
            device_id: String::new(),
            actor: Vec::new(),
            public_key: Vec::new(),
            cache: ScopeCache::default(),
        }
    }

    /// Whether this is a browser session rather than a registered device.
    pub fn is_web(&self) -> bool {
        self.device_id.is_empty()
    }

    /// Syncing needs a registered device: its actor and key sign every change.
    pub fn require_device(&self) -> Result<(), DeviceRequired> {
        if self.is_web() {
            Err(DeviceRequired)
        } else {
            Ok(())
        }
    }

    /// This cadre's team memberships, every period (looked up once per request).
    pub(crate) fn teams(&self, tx: &mut dyn Tx) -> StoreResult<Vec<Period>> {
        self.cache.teams(tx, &self.login)
    }

    /// A county's ⚙ settings as this request already read them ([`crate::settings::for_request`]).
    pub(crate) fn cached_settings(&self, county: &str) -> Option<std::sync::Arc<CountySettings>> {
        self.cache.lock().settings.get(county).cloned()
    }

    /// Keeps a county's ⚙ settings for the rest of this request.
    pub(crate) fn keep_settings(&self, county: &str, settings: std::sync::Arc<CountySettings>) {
        self.cache
            .lock()
            .settings
            .insert(county.to_string(), settings);
    }

    /// The villages whose team lists this cadre on `day`.
    pub fn villages_on(&self, tx: &mut dyn Tx, day: Date) -> StoreResult<Vec<String>> {
        Ok(valid_on(self.cache.teams(tx, &self.login)?, day))
    }

    /// The households assigned to this cadre on `day`.
    pub fn households_on(&self, tx: &mut dyn Tx, day: Date) -> StoreResult<Vec<String>> {
        Ok(valid_on(self.cache.assignments(tx, &self.login)?, day))
    }

    /// The village of this cadre's team: today's, else the latest it served on (a cadre who
    /// left still has a county, for its settings).
    pub fn home_village(&self, tx: &mut dyn Tx) -> StoreResult<Option<String>> {
        let teams = self.cache.teams(tx, &self.login)?;
        let today = today();
        Ok(teams
            .iter()
            .find(|p| p.runs_on(today))
            .or_else(|| teams.iter().max_by_key(|p| p.to.unwrap_or(p.from)))
            .map(|p| p.place.clone()))
    }

    /// Whether `reach` covers a record in `village` / `household` for a write about `day`
    /// arriving `today` (reads pass `day = today`). Teams and assignments count on `day`
    /// ([`period_covers`]); a division covers the villages under it (an administrator without
    /// one, the installation's, covers every village); reference data is the city-wide
    /// accounts' (an empty division or a city's).
    fn reaches(
        &self,
        tx: &mut dyn Tx,
        reach: Reach,
        village: Option<&str>,
        household: Option<&str>,
        day: Date,
    ) -> StoreResult<bool> {
        let today = today();
        let covers = |periods: Vec<Period>, place: &str| {
            periods
                .iter()
                .any(|p| p.place == place && period_covers(p.from, p.to, day, today))
        };
        Ok(match reach {
            Reach::TeamVillage => match village {
                Some(v) => covers(self.cache.teams(tx, &self.login)?, v),
                None => false,
            },
            Reach::Assigned => match household {
                Some(h) => covers(self.cache.assignments(tx, &self.login)?, h),
                None => false,
            },
            Reach::Division => village.is_some_and(|v| v.starts_with(&self.division)),
            Reach::Reference => village.is_none(),
            Reach::County => match village {
                Some(v) => self.counties_on(tx, day)?.iter().any(|c| c == v),
                None => false,
            },
        })
    }

    /// The counties this account lies in on `day` (the [`Reach::County`] of a 投诉建议): a
    /// supervisor's division's county; a cadre's team villages' and assigned households'
    /// counties on that day. None for the city and an installation-wide administrator.
    pub fn counties_on(&self, tx: &mut dyn Tx, day: Date) -> StoreResult<Vec<String>> {
        let county = |code: &str| ScopeLevel::County.part_of(code).map(str::to_string);
        let mut out: Vec<String> = county(&self.division).into_iter().collect();
        for v in self.villages_on(tx, day)? {
            out.extend(county(&v));
        }
        for h in self.households_on(tx, day)? {
            if let Some(v) = tx.household_village(&h)? {
                out.extend(county(&v));
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every scope this account pulls (DOMAIN §1), read from the access table: reference data;
    /// its team villages today (a team member's without others' attendance and logs); its
    /// households today; the files of the cadres it may read, as one scope; a division whose
    /// every record it reads in clear (the township).
    pub fn readable_scopes(&self, tx: &mut dyn Tx) -> StoreResult<Vec<Scope>> {
        // Named `global` until the cadres' files left it (issue 13): the new name retires the
        // old scope on every phone, which then forgets the files it may no longer read.
        let mut out = vec![Scope {
            name: "reference".into(),
            filter: ScopeFilter::Global,
        }];
        let sights: Vec<(Reach, Sight)> = Kind::ALL
            .iter()
            .filter_map(|k| rights(self.role, *k).read)
            .filter(|(reach, _)| *reach != Reach::Reference)
            .collect();
        let has = |reach| sights.iter().any(|(r, s)| *r == reach && raw(*s));
        let today = today();
        if has(Reach::TeamVillage) {
            let own_only = sights
                .iter()
                .any(|(r, s)| *r == Reach::TeamVillage && *s == Sight::Own);
            for v in self.villages_on(tx, today)? {
                out.push(if own_only {
                    Scope {
                        name: format!("village-member:{v}"),
                        filter: ScopeFilter::VillageFor(v, self.login.clone()),
                    }
                } else {
                    Scope {
                        name: format!("village:{v}"),
                        filter: ScopeFilter::Village(v),
                    }
                });
            }
        }
        if has(Reach::Assigned) {
            for h in self.households_on(tx, today)? {
                out.push(Scope {
                    name: format!("household:{h}"),
                    filter: ScopeFilter::Household(h),
                });
            }
        }
        // Its own records placed at a county (投诉建议), which only its author (and the county
        // office, through the dashboard) reads: one scope per county it lies in today.
        if sights
            .iter()
            .any(|(r, s)| *r == Reach::County && *s == Sight::Own)
        {
            for county in self.counties_on(tx, today)? {
                out.push(Scope {
                    name: format!("own:{county}"),
                    filter: ScopeFilter::Owned(county, self.login.clone()),
                });
            }
        }
        // Cadres' files: its own, and those of the cadres it works with (its villages' teams
        // today; for a township, its villages' teams).
        let mut people: Vec<String> = vec![self.login.clone()];
        match rights(self.role, Kind::Cadre).read {
            Some((Reach::TeamVillage, sight)) if raw(sight) => {
                for v in self.villages_on(tx, today)? {
                    people.extend(valid_on(tx.team_members_under(&v)?, today));
                }
            }
            Some((Reach::Division, Sight::Clear)) if !self.division.is_empty() => {
                people.extend(valid_on(tx.team_members_under(&self.division)?, today));
            }
            _ => {}
        }
        people.sort();
        people.dedup();
        // One scope, named by who is in it: when the set changes (a colleague joins), the
        // device starts the new set from 0, so it also gets the newcomer's earlier changes.
        let digest = Sha256::digest(people.join("\n").as_bytes());
        out.push(Scope {
            name: format!("cadres:{}", hex::encode(&digest[..8])),
            filter: ScopeFilter::People(people),
        });
        let whole_division = sights
            .iter()
            .filter(|(r, _)| *r == Reach::Division)
            .all(|(_, s)| *s == Sight::Clear);
        if has(Reach::Division) && whole_division && !self.division.is_empty() {
            out.push(Scope {
                name: format!("division:{}", self.division),
                filter: ScopeFilter::Division(self.division.clone()),
            });
        }
        Ok(out)
    }

    /// How this account sees a record today, if at all (the access table's read right, where
    /// it reaches; [`Sight::Own`] only for the reader's own records).
    pub fn sight(&self, tx: &mut dyn Tx, place: RecordPlace<'_>) -> StoreResult<Option<Sight>> {
        let Some((reach, sight)) = rights(self.role, place.kind).read else {
            return Ok(None);
        };
        let own = place.owner == Some(self.login.as_str());
        if sight == Sight::Own {
            return Ok(own.then_some(Sight::Own));
        }
        let reached = match (place.kind, place.owner) {
            // A cadre's file lies where the cadre works today; the cadre reads its own.
            (Kind::Cadre, Some(cadre)) => {
                own || {
                    let mut any = false;
                    for village in cadre_villages_today(tx, cadre)? {
                        if self.reaches(tx, reach, Some(&village), None, today())? {
                            any = true;
                            break;
                        }
                    }
                    any
                }
            }
            _ => self.reaches(tx, reach, place.village, place.household, today())?,
        };
        if !reached {
            return Ok(None);
        }
        Ok(match sight {
            Sight::MaskedUnlessAssigned => {
                let assigned = match place.household {
                    Some(h) => self.households_on(tx, today())?.iter().any(|x| x == h),
                    None => false,
                };
                Some(if assigned {
                    Sight::Clear
                } else {
                    Sight::MaskedUnlessAssigned
                })
            }
            s => Some(s),
        })
    }

    /// Whether this account receives the record's document as it is (repair, heads).
    pub fn may_read_doc(&self, tx: &mut dyn Tx, place: RecordPlace<'_>) -> StoreResult<bool> {
        Ok(self.sight(tx, place)?.is_some_and(raw))
    }

    /// Whether this account may do `action` to a record of `place.kind` in `place`, for a
    /// record about `day` (`None`: today), by the access table.
    pub fn may(
        &self,
        tx: &mut dyn Tx,
        action: Action,
        place: RecordPlace<'_>,
        day: Option<Date>,
    ) -> StoreResult<bool> {
        match rights(self.role, place.kind).reach_for(action) {
            // Reference data serves the whole city: only an account over the city (or over
            // everything) writes it, never a county's.
            Some(Reach::Reference) if self.division.len() > ScopeLevel::City.code_len() => {
                Ok(false)
            }
            Some(reach) => self.reaches(
                tx,
                reach,
                place.village,
                place.household,
                day.unwrap_or_else(today),
            ),
            None => Ok(false),
        }
    }
}

/// The villages a cadre works in today: its teams' and its assigned households'.
fn cadre_villages_today(tx: &mut dyn Tx, cadre: &str) -> StoreResult<Vec<String>> {
    let day = today();
    let mut out = valid_on(tx.cadre_teams(cadre)?, day);
    for h in valid_on(tx.cadre_assignments(cadre)?, day) {
        out.extend(tx.household_village(&h)?);
    }
    Ok(out)
}

/// The places of the periods valid on `day`.
fn valid_on(periods: Vec<Period>, day: Date) -> Vec<String> {
    let mut out: Vec<String> = periods
        .into_iter()
        .filter(|p| p.runs_on(day))
        .map(|p| p.place)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Argon2id hash of a password, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// A hash of the same cost as the accounts', of no account's password: a sign-in with an
/// unknown login is checked against it, so that it takes as long as a wrong password.
pub fn dummy_password_hash() -> &'static str {
    static HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        hash_password(&hex::encode(rand::random::<[u8; 16]>())).unwrap_or_default()
    });
    &HASH
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A new random bearer token (hex) and the hash under which it is stored.
pub fn new_token() -> (String, Vec<u8>) {
    let token = hex::encode(rand::random::<[u8; 32]>());
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates or replaces an account.
pub fn upsert_account(
    tx: &mut dyn Tx,
    login: &str,
    name: &str,
    role: Role,
    division: &str,
    password: &str,
) -> Result<(), String> {
    if login.trim().is_empty() {
        return Err("login is required".into());
    }
    if role.is_supervisor() && role != Role::Admin && division.trim().is_empty() {
        return Err(format!("a {role} account needs a division code"));
    }
    if password.chars().count() < 8 {
        return Err("the password needs at least 8 characters".into());
    }
    let account = Account {
        login: login.into(),
        name: name.into(),
        role,
        division: division.trim().into(),
        password_hash: hash_password(password)?,
        active: true,
    };
    tx.put_account(&account).map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("correct horse", "not a phc string"));
        let (t1, h1) = new_token();
        let (t2, _) = new_token();
        assert_ne!(t1, t2);
        assert_eq!(token_hash(&t1), h1);
        assert_eq!(t1.len(), 64);
    }
}
