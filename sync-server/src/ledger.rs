//! The township signs an attendance ledger (report 1, DOMAIN §4: "township signs, 组织部
//! receives by day 10⚙"; issue 16 item 6) from the dashboard.
//!
//! ## What a signature is
//! A record of its own kind, `ledger_signature` ([`cunji_core::domain::ledger`]): the scope (a
//! village's 12-digit code or the township's own 9-digit code), the month `YYYY-MM`, the signer
//! (the township account's login and name), when (`signed_at`), and `figures_sha256`, the
//! SHA-256 of report 1's rows for that scope and month in the core's canonical form
//! ([`cunji_core::reports::attendance::figures_text`]: the month as of its last day, the rows
//! of the scope's villages sorted, every figure, no names). The core defines the form next to
//! report 1's formula, so the server, a verifier rebuilding the projections from the change log,
//! or a later version of the server compute the same hash from the same facts.
//!
//! ## How it is signed
//! The step flow of [`crate::approvals`] composes changes to stored records; a signature is a
//! new record, so it has its own first call and shares the second:
//! 1. `POST /v1/ledgers/sign` with `{scope, month}` ([`SignLedger`]): the server computes the
//!    figures now, composes the record's first change with the session's actor (its envelope
//!    names the account and the session's device), runs every check of a push on it in a
//!    transaction it rolls back ([`crate::state::AppState::trial`]), and answers a
//!    [`PreparedStep`] whose summary names the scope, the month, the number of cadres and the
//!    hash;
//! 2. `POST /v1/steps` with the change and the session key's signature, as for any step: the
//!    signature is checked before the transaction, then every check again and the store.
//!
//! The checks ([`crate::checks`]): the access table lets only a township write signatures, in
//! its division (`out_of_scope` otherwise; the author must be the signer, `forged_author`);
//! the scope must be a village or township the server holds (`unknown_scope`); the month must
//! be over (the record's validation: `invalid_record`); one signature per scope and month
//! (`ledger_already_signed`); `signed_at` the server's time within minutes (`signed_at_off`);
//! the hash the server's own figure at the moment it stores the change (`figures_changed`: a
//! check-in synced between the two calls changes the figures, and the clerk reloads and signs
//! again); a stored signature is never changed (`signature_final`).
//!
//! Signed means "these figures, by this account, at this time": figures that change after
//! signing (a late check-in, a leave approved afterwards) do not void it; report 1 shows
//! `figures_changed` beside it (today's hash against the signed one), and its export prints
//! that line under the signature.
//!
//! ## What reads it
//! Report 1's summary (`signatures`: by, at, `on_time` = signed by day `ledger_due_day`⚙ of the
//! next month, a county setting, 10 by default; `figures_changed`), its export's 审核人 / 签字 /
//! 日期 lines ([`crate::reports::export`]), and the 待办 ([`crate::todo`]): the township's
//! `ledgers_to_sign` (the ledgers of months that are over, of its villages with a team and its
//! own, without a signature: last month's, and earlier months' with check-ins, since an
//! unsigned ledger stays a duty and the generated demo's months lie years back) and the
//! organisation department's `ledgers_received` (last month's signatures in its county, and
//! later-signed ones of earlier months received since, each on time or late).
//!
//! The dashboard's 待办 page signs: the clerk opens a ledger, reads report 1's rows for that
//! scope and month (`GET /v1/reports/attendance`), asks the server to compose the signature
//! (call 1, whose summary names the cadres and the figures' hash), confirms, and the browser's
//! key signs it (call 2).
//!
//! Not here: who may sign (the access table), the rules (the checks), the figures (report 1).

use cunji_core::domain::ScopeLevel;
use cunji_core::domain::ledger::{self, LedgerSignature};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::accounts::Principal;
use crate::approvals::{self, PreparedStep, StepError};
use crate::reports;
use crate::store::Tx;

/// The ledger to sign.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignLedger {
    /// A village's 12-digit code, or the township's 9-digit code.
    pub scope: String,
    /// `YYYY-MM`, a month that is over.
    pub month: String,
}

fn bad(what: impl Into<String>) -> StepError {
    StepError::Bad(what.into())
}

/// Composes the signature of `req`'s ledger as `who`'s new record, checks it like a push, and
/// returns it to sign. Run it in a transaction that is rolled back ([`crate::state::AppState::trial`]).
pub fn prepare(
    tx: &mut dyn Tx,
    who: &Principal,
    req: &SignLedger,
) -> Result<PreparedStep, StepError> {
    if who.is_web() {
        return Err(StepError::KeyRequired);
    }
    if ledger::scope_level(&req.scope).is_none() {
        return Err(bad(
            "scope: a village's 12-digit code or a township's 9-digit code",
        ));
    }
    let first = ledger::month_start(&req.month).ok_or_else(|| bad("month: YYYY-MM"))?;
    let at = approvals::china_now(chrono::Utc::now());
    if at.date_naive() <= cunji_core::rules::attendance::month_end(first) {
        return Err(StepError::Refused {
            code: "month_not_over".into(),
            message: format!(
                "{} 还没有结束,月底之后才能签字 / {} is not over yet: its ledger is signed after the month ends",
                req.month, req.month
            ),
        });
    }
    let (hash, cadres) = reports::current_figures(tx, &req.scope, first)?;
    let signer_name = tx.account(&who.login)?.map(|a| a.name);
    let record = LedgerSignature {
        scope: req.scope.clone(),
        month: req.month.clone(),
        figures_sha256: hash.clone(),
        cadres,
        signer_id: who.login.clone(),
        signer_name,
        signed_at: at,
    };
    let level = if req.scope.len() == ScopeLevel::Village.code_len() {
        ("村", "village")
    } else {
        ("乡镇", "township")
    };
    let summary = format!(
        "签字确认{}{} {} 考勤台账:{} 名干部,数据摘要 {}",
        level.0,
        req.scope,
        req.month,
        cadres,
        &hash[..12]
    );
    let summary_en = format!(
        "sign the attendance ledger of {} {} for {}: {} cadres, figures {}",
        level.1,
        req.scope,
        req.month,
        cadres,
        &hash[..12]
    );
    approvals::try_new_record(tx, who, &record, at, summary, summary_en)
}
