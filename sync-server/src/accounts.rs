//! Accounts, roles and what each may read and write (DOMAIN §1), passwords and tokens.
//!
//! Roles: the three cadre roles of a village work team, the supervisors above them, and the
//! administrator who creates reference data. Cadres' scopes come from the merged records
//! themselves: a team's members read and write their village; a pairing cadre reads and writes
//! (visits to) the households assigned to them. Supervisors hold a division code prefix
//! (township `530322101`, county `530322`, city `5303`): a township reads every village under
//! it; above the township ID and bank numbers are masked (DOMAIN §1), so county and city
//! accounts read village records only through the reports, never as raw documents, and write
//! within their division what their role allows.
//!
//! Passwords are Argon2id PHC strings. Tokens are 32 random bytes, given to the device once
//! and stored only as their SHA-256, with an expiry; revocation marks them.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use crate::store::{Account, ScopeFilter, StoreResult, Tx};
use cunji_core::domain::Kind;

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
    /// The cadre's villages and households, looked up once per request (shared by the clones
    /// a request makes) and forgotten when the request changes a team or an assignment.
    pub(crate) cache: ScopeCache,
}

/// See [`Principal::cache`].
#[derive(Debug, Clone, Default)]
pub(crate) struct ScopeCache(std::sync::Arc<std::sync::Mutex<CachedScopes>>);

/// (villages, households), each looked up on first use.
type CachedScopes = (Option<Vec<String>>, Option<Vec<String>>);

impl ScopeCache {
    fn villages(&self, tx: &mut dyn Tx, login: &str) -> StoreResult<Vec<String>> {
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if c.0.is_none() {
            c.0 = Some(tx.cadre_villages(login)?);
        }
        Ok(c.0.clone().unwrap_or_default())
    }

    fn households(&self, tx: &mut dyn Tx, login: &str) -> StoreResult<Vec<String>> {
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if c.1.is_none() {
            c.1 = Some(tx.cadre_households(login)?);
        }
        Ok(c.1.clone().unwrap_or_default())
    }

    /// Forgets the lookups (after a team or an assignment changed).
    pub(crate) fn forget(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = (None, None);
    }
}

/// A pull scope: its name on the wire and the changes it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub name: String,
    pub filter: ScopeFilter,
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

    /// Every scope this account may read (DOMAIN §1), reference data included.
    pub fn readable_scopes(&self, tx: &mut dyn Tx) -> StoreResult<Vec<Scope>> {
        let mut out = vec![Scope {
            name: "global".into(),
            filter: ScopeFilter::Global,
        }];
        match self.role {
            Role::FirstSecretary | Role::TeamMember => {
                for v in tx.cadre_villages(&self.login)? {
                    out.push(Scope {
                        name: format!("village:{v}"),
                        filter: ScopeFilter::Village(v),
                    });
                }
            }
            Role::PairingCadre => {
                for h in tx.cadre_households(&self.login)? {
                    out.push(Scope {
                        name: format!("household:{h}"),
                        filter: ScopeFilter::Household(h),
                    });
                }
            }
            Role::Township => out.push(Scope {
                name: format!("division:{}", self.division),
                filter: ScopeFilter::Division(self.division.clone()),
            }),
            // Above the township, ID and bank numbers are masked (DOMAIN §1): those accounts
            // read village records through the reports, never as raw documents.
            Role::CountyOffice | Role::CountyOrg | Role::City | Role::Admin => {}
        }
        Ok(out)
    }

    /// Whether this account may read a record of `village` / `household`.
    pub fn may_read(
        &self,
        tx: &mut dyn Tx,
        village: Option<&str>,
        household: Option<&str>,
    ) -> StoreResult<bool> {
        let Some(village) = village else {
            return Ok(true);
        };
        Ok(match self.role {
            Role::FirstSecretary | Role::TeamMember => self
                .cache
                .villages(tx, &self.login)?
                .iter()
                .any(|v| v == village),
            Role::PairingCadre => match household {
                Some(h) => self
                    .cache
                    .households(tx, &self.login)?
                    .iter()
                    .any(|x| x == h),
                None => false,
            },
            Role::Township => village.starts_with(&self.division),
            // Masked above the township: see `readable_scopes`.
            Role::CountyOffice | Role::CountyOrg | Role::City | Role::Admin => false,
        })
    }

    /// Whether this account may create or change a record of `kind` in `village` /
    /// `household` (authorship of event records is checked separately).
    pub fn may_write(
        &self,
        tx: &mut dyn Tx,
        kind: Kind,
        village: Option<&str>,
        household: Option<&str>,
    ) -> StoreResult<bool> {
        use Kind::*;
        let reference = matches!(
            kind,
            Village | Unit | Cadre | Team | Assignment | PolicyItem
        );
        let in_division = village.is_some_and(|v| v.starts_with(&self.division));
        Ok(match self.role {
            // The administrator also imports the 建档立卡 register (households), as counties
            // bring it over from the national system.
            Role::Admin => reference || matches!(kind, Entitlement | Household),
            // 县扶贫办: catalog, entitlements, 动态调整 approval, petition assignment, projects.
            Role::CountyOffice => {
                (reference || matches!(kind, Entitlement | StatusChange | Petition | Project))
                    && village.is_none_or(|v| v.starts_with(&self.division))
            }
            // 乡镇: leave approval, log review, 乡镇审核 step, petitions, inspections, surveys.
            Role::Township => {
                matches!(
                    kind,
                    Leave | WorkLog | StatusChange | Petition | Inspection | SatisfactionSurvey
                ) && in_division
            }
            // 县委组织部: leave over three days, inspections of cadres.
            Role::CountyOrg => matches!(kind, Leave | WorkLog | Inspection) && in_division,
            Role::City => false,
            Role::FirstSecretary | Role::TeamMember => {
                let allowed = matches!(
                    kind,
                    Household
                        | Entitlement
                        | Delivery
                        | Visit
                        | CheckIn
                        | Leave
                        | WorkLog
                        | Petition
                ) || (self.role == Role::FirstSecretary
                    && matches!(kind, Team | Assignment | StatusChange | Project));
                allowed && self.may_read(tx, village, household)? && village.is_some()
            }
            // 帮扶干部: visits and survey answers for their households.
            Role::PairingCadre => {
                matches!(kind, Visit | SatisfactionSurvey)
                    && self.may_read(tx, village, household)?
                    && household.is_some()
            }
        })
    }

    /// Whether this account may create a record of `kind` at all ([`Principal::may_write`]
    /// still decides where). The township and the organisation department review leave and
    /// work logs (an edit, see [`Principal::reviews`]) but do not write their own: those are
    /// the resident cadres' records (DOMAIN §1).
    pub fn may_create(&self, kind: Kind) -> bool {
        !matches!(
            (self.role, kind),
            (
                Role::Township | Role::CountyOrg,
                Kind::Leave | Kind::WorkLog
            )
        )
    }

    /// Reviewers may change event records they did not write (endorse or approve leave,
    /// review logs); nobody else may.
    pub fn reviews(&self, kind: Kind) -> bool {
        matches!(
            (self.role, kind),
            (
                Role::FirstSecretary | Role::Township | Role::CountyOrg,
                Kind::Leave
            ) | (Role::FirstSecretary | Role::Township, Kind::WorkLog)
        )
    }
}

/// Argon2id hash of a password, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
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
