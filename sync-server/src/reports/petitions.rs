//! Report 7, petitions and requests: its query (`from`, `to`) and the petitions it reads.

use cunji_core::reports::DateRange;
use cunji_core::reports::petitions::{
    PetitionFact, PetitionFacts, PetitionReport, PetitionRow, PetitionSummary,
};

use super::{Def, ReportScope, facts};
use crate::store::{StoreResult, Tx};

pub(crate) const PETITIONS: Def<PetitionSummary, PetitionRow> = Def {
    run: |tx, scope, q| {
        let r = petitions(tx, scope, q.period()?)?;
        Ok((r.summary, r.rows))
    },
};

/// R15's ⚙ days within which a closed petition gets its 回访.
pub const RETURN_VISIT_DAYS: i64 = 15;

/// Report 7 over P.
pub fn petitions(
    tx: &mut dyn Tx,
    scope: &ReportScope,
    p: DateRange,
) -> StoreResult<PetitionReport> {
    use cunji_core::domain::codes::{
        PetitionChannel, PetitionDomain, PetitionStatus, ReturnVisitResult,
    };
    let filter = scope.filter();
    let villages = facts::villages(tx, filter)?;
    let petitions = facts::load(
        tx,
        "p_petition",
        &[
            "village_code",
            "received_date",
            "channel",
            "domain",
            "status",
            "due_date",
            "closed_date",
            "return_visit_date",
            "return_visit_result",
            "state",
        ],
        filter,
        |r| {
            r.submitted(9).then_some(())?;
            Some(PetitionFact {
                village_code: r.s(0)?,
                received_date: r.date(1)?,
                channel: r.s(2).as_deref().and_then(PetitionChannel::from_code)?,
                domain: r.s(3).as_deref().and_then(PetitionDomain::from_code)?,
                status: r.s(4).as_deref().and_then(PetitionStatus::from_code)?,
                due_date: r.date(5)?,
                closed_date: r.date(6),
                return_visit_date: r.date(7),
                return_visit_result: r.s(8).as_deref().and_then(ReturnVisitResult::from_code),
            })
        },
    )?;
    let f = PetitionFacts {
        petitions,
        village_names: facts::village_names(&villages),
    };
    Ok(cunji_core::reports::petitions::petitions(
        &f,
        p,
        RETURN_VISIT_DAYS,
    ))
}
