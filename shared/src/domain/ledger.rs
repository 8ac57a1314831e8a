//! The township's signature on an attendance ledger (考勤台账签字, DOMAIN §4 report 1: "township
//! signs, 组织部 receives by day 10⚙"; issue 16 item 6).
//!
//! One record per scope and month: the township signs the ledger of one of its villages
//! (`scope` a 12-digit village code) or its own (`scope` its 9-digit code) for a month that is
//! over. The record holds who signed (`signer_id`, the township account's login, and its name
//! as the account gives it), when (`signed_at`, the server's clock in China's zone when the
//! change was composed) and what: `figures_sha256`, the SHA-256 of report 1's rows for that
//! scope and month in the canonical form of
//! [`crate::reports::attendance::figures_sha256`], as the server computes them when it stores
//! the signature. Anyone holding the same facts (a verifier rebuilding the projections from the
//! change log) computes the same hash; figures changed after signing (a check-in synced late,
//! a leave approved afterwards) show as a different hash, which report 1 says
//! (`figures_changed`).
//!
//! Like any record it is an Automerge document whose one change the signer's key signs (the
//! dashboard's session key: `sync-server/src/ledger.rs`). It is an event record of its signer
//! ([`Kind::is_event`]): nobody else writes it, and the server refuses any later change to it
//! (a signature is never edited; a second one for the same scope and month is refused too).
//!
//! The record's place is its scope: a village's signature lies in the village, a township's
//! at the township's code, so the access table's division reach (a code prefix) places both
//! under the township and its county.
//!
//! Not here: the checks (only a township inside its division; one per scope and month; the
//! hash the server's own), which are the server's (`sync-server/src/checks.rs`).

use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty};
use super::org::opt_text;
use super::{Envelope, Kind, Record, ScopeHint, ScopeLevel};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::{Date, Timestamp};

/// A township's signature on one scope's attendance ledger for one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LedgerSignature {
    /// A village's 12-digit code or a township's 9-digit code.
    pub scope: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Lower-case hex SHA-256 of report 1's canonical rows for the scope and month
    /// ([`crate::reports::attendance::figures_sha256`]).
    pub figures_sha256: String,
    /// How many cadre rows the signed figures hold.
    pub cadres: u32,
    /// The signing township account's login.
    pub signer_id: String,
    /// Its name, as the account gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_name: Option<String>,
    pub signed_at: Timestamp,
}

impl LedgerSignature {
    /// The scope's level: village (12 digits) or township (9), `None` for anything else.
    pub fn scope_level(&self) -> Option<ScopeLevel> {
        scope_level(&self.scope)
    }

    /// The month's first day, if `month` is `YYYY-MM`.
    pub fn month_start(&self) -> Option<Date> {
        month_start(&self.month)
    }

    /// A valid example: the township signs the example village's May 2016.
    pub fn example() -> Self {
        LedgerSignature {
            scope: "530322101201".into(),
            month: "2016-05".into(),
            figures_sha256: "0".repeat(64),
            cadres: 3,
            signer_id: "township-zhang".into(),
            signer_name: Some("张乡长".into()),
            signed_at: "2016-06-08T09:30:00+08:00".parse().expect("example time"),
        }
    }
}

/// The level of a ledger signature's scope: a village (12 digits) or a township (9).
pub fn scope_level(scope: &str) -> Option<ScopeLevel> {
    if !scope.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    [ScopeLevel::Village, ScopeLevel::Township]
        .into_iter()
        .find(|l| l.code_len() == scope.len())
}

/// The first day of a `YYYY-MM` month.
pub fn month_start(month: &str) -> Option<Date> {
    let (y, m) = month.split_once('-')?;
    if y.len() != 4 || m.len() != 2 || !format!("{y}{m}").bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Date::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

static LEDGER_TABLES: [Table; 1] = [Table {
    name: "p_ledger_signature",
    columns: &[
        ("scope", SqlType::Text),
        ("month", SqlType::Text),
        ("figures_sha256", SqlType::Text),
        ("cadres", SqlType::Integer),
        ("signer_id", SqlType::Text),
        ("signer_name", SqlType::Text),
        ("signed_at", SqlType::Text),
        ("state", SqlType::Text),
    ],
    indexes: &[&["scope", "month"], &["month"]],
}];

impl Record for LedgerSignature {
    const KIND: Kind = Kind::LedgerSignature;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Village(self.scope.clone())
    }

    fn subject_cadre(&self) -> Option<&str> {
        Some(&self.signer_id)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        if self.scope_level().is_none() {
            return Err(ValidationError::new(
                "scope",
                Problem::Malformed,
                "a village's 12-digit code or a township's 9-digit code",
            ));
        }
        match self.month_start() {
            None => {
                return Err(ValidationError::new(
                    "month",
                    Problem::Malformed,
                    "a month, YYYY-MM",
                ));
            }
            Some(first) => consistent(
                "signed_at",
                self.signed_at.date_naive() > crate::rules::attendance::month_end(first),
                "a month's ledger is signed after the month is over",
            )?,
        }
        let hex_ok = self.figures_sha256.len() == 64
            && self
                .figures_sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex_ok {
            return Err(ValidationError::new(
                "figures_sha256",
                Problem::Malformed,
                "64 lower-case hex digits (SHA-256)",
            ));
        }
        non_empty("signer_id", &self.signer_id)?;
        opt_text("signer_name", &self.signer_name)?;
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &LEDGER_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_ledger_signature",
            vec![
                ("scope", self.scope.sql()),
                ("month", self.month.sql()),
                ("figures_sha256", self.figures_sha256.sql()),
                ("cadres", self.cadres.sql()),
                ("signer_id", self.signer_id.sql()),
                ("signer_name", self.signer_name.sql()),
                ("signed_at", self.signed_at.sql()),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

/// The calendar day in China's zone of a time as projections keep it (in UTC, so that text
/// order is time order): a signature at 00:30 Beijing time on the 11th is the 11th, not the
/// 10th. `None` if it does not parse.
pub fn china_date(rfc3339: &str) -> Option<crate::values::Date> {
    let zone = chrono::FixedOffset::east_opt(8 * 3600)?;
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.with_timezone(&zone).date_naive())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::codes::testkit::{assert_invalid, assert_round_trips, cell, project, text};

    #[test]
    fn the_example_is_valid_and_round_trips() {
        let s = LedgerSignature::example();
        assert_eq!(s.validate(), Ok(()));
        assert_round_trips(&s);
        assert_eq!(s.scope(), ScopeHint::Village("530322101201".into()));
        assert_eq!(s.subject_cadre(), Some("township-zhang"));
        let township = LedgerSignature {
            scope: "530322101".into(),
            ..LedgerSignature::example()
        };
        assert_eq!(township.validate(), Ok(()));
        assert_eq!(township.scope_level(), Some(ScopeLevel::Township));
    }

    #[test]
    fn bad_scopes_months_and_hashes_are_refused() {
        for scope in ["530322", "53032210120", "5303221012011", "53032210120a", ""] {
            let s = LedgerSignature {
                scope: scope.into(),
                ..LedgerSignature::example()
            };
            assert_invalid(&s, "scope", Problem::Malformed);
        }
        for month in ["2016-5", "2016-13", "201605", "2016-05-01", ""] {
            let s = LedgerSignature {
                month: month.into(),
                ..LedgerSignature::example()
            };
            assert_invalid(&s, "month", Problem::Malformed);
        }
        // Signed before the month is over.
        let s = LedgerSignature {
            signed_at: "2016-05-31T23:00:00+08:00".parse().unwrap(),
            ..LedgerSignature::example()
        };
        assert_invalid(&s, "signed_at", Problem::Inconsistent);
        for hash in ["A".repeat(64), "0".repeat(63), "g".repeat(64)] {
            let s = LedgerSignature {
                figures_sha256: hash,
                ..LedgerSignature::example()
            };
            assert_invalid(&s, "figures_sha256", Problem::Malformed);
        }
    }

    #[test]
    fn projection() {
        let rows = project(&LedgerSignature::example());
        assert_eq!(
            cell(&rows, "p_ledger_signature", 0, "scope"),
            &text("530322101201")
        );
        assert_eq!(
            cell(&rows, "p_ledger_signature", 0, "month"),
            &text("2016-05")
        );
    }
}
