//! The first secretary's steps on real phones (issue 16; `cunji_core::field::team`): each
//! phone is a `FieldApp` over its own SQLite file, signed in to a real sync server. A team
//! member requests leave and syncs; its first secretary's phone syncs, sees it waiting, takes
//! 队长同意 (or sends a request back, with its reason) and syncs; the server holds the step as
//! the secretary's own change, signed by its phone (`verify-log`); the township approves from a
//! browser session (`POST /v1/records/{id}/steps` + `POST /v1/steps`), and the member's phone,
//! after its sync, shows the approved request with who acted, by name, and reports back. The
//! first secretary's comment on a log goes the same way, and the member's later edit of its log
//! keeps it.
//!
//! On SQLite, and on PostgreSQL when `CUNJI_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used)]

use chrono::Duration;
use cunji_core::domain::codes::{LeaveStatus, LeaveType, WorkActivity};
use cunji_core::domain::{Leave, Village, WorkLog};
use cunji_core::field::{FieldApp, LeaveInput, LeaveStage, LeaveStepKind, LoginInput, now};
use cunji_sync_server::accounts::today;
use cunji_tests::{Backend, PASSWORD, TestServer};
use serde_json::json;

use super::access::cadre_file;
use super::approvals::{Clerk, LEADER, MEMBER, TOWNSHIP, world};

/// A phone signed in as `login`, with the records its scope pulls.
pub(crate) fn phone(server: &TestServer, login: &str) -> (tempfile::TempDir, FieldApp) {
    let dir = tempfile::tempdir().unwrap();
    let mut app = FieldApp::open(dir.path(), "246810").unwrap();
    app.login(&LoginInput {
        server_url: server.url.clone(),
        login: login.into(),
        password: PASSWORD.into(),
    })
    .unwrap();
    (dir, app)
}

/// Syncs and asserts the server took every change.
pub(crate) fn synced(app: &mut FieldApp) {
    let report = app.sync(&mut |_| {}).unwrap();
    assert_eq!(
        report.rejected,
        0,
        "{:?}",
        app.store().rejected_changes().unwrap()
    );
}

fn leave_input(from: chrono::NaiveDate, days: i64, reason: &str) -> LeaveInput {
    LeaveInput {
        leave_type: LeaveType::Personal,
        from,
        to: from + Duration::days(days - 1),
        reason: reason.into(),
        evidence: None,
    }
}

#[test]
fn the_first_secretary_endorses_on_its_phone_and_the_township_approves() {
    for backend in Backend::available() {
        let w = world(backend);
        // The cadres' files, as the administrator imports them: the phones show names.
        let leader_name = cadre_file(&w.server, LEADER, 1).name;
        let member_name = cadre_file(&w.server, MEMBER, 2).name;
        let (_m, mut member) = phone(&w.server, MEMBER);
        let (_l, mut leader) = phone(&w.server, LEADER);

        let from = today() + Duration::days(3);
        let leave = member
            .request_leave(&leave_input(from, 2, "母亲住院手术"), now())
            .unwrap();
        let refused = member
            .request_leave(
                &leave_input(from + Duration::days(10), 2, "回乡办事"),
                now(),
            )
            .unwrap();
        synced(&mut member);
        let mine = member.my_leaves(today()).unwrap();
        assert!(
            mine.iter()
                .all(|l| l.stage == LeaveStage::AwaitingEndorsement),
            "{mine:?}"
        );
        // The member may not endorse its own request: refused on the phone, nothing stored.
        let waiting = member.store().outbox_len().unwrap();
        assert_eq!(
            member
                .endorse_leave(&leave, true, None, now())
                .unwrap_err()
                .code(),
            "self_approval"
        );
        assert_eq!(member.store().outbox_len().unwrap(), waiting);

        // The first secretary's phone pulls both and shows them waiting, by name.
        synced(&mut leader);
        let pending = leader.team_pending(today()).unwrap();
        let ids: Vec<_> = pending.leaves.iter().map(|l| l.id.clone()).collect();
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert!(ids.contains(&leave) && ids.contains(&refused));
        assert!(pending.leaves.iter().all(|l| l.cadre_name == member_name));

        // 队长同意 on one, sent back with a reason on the other; both pushed and taken.
        leader.endorse_leave(&leave, true, None, now()).unwrap();
        assert_eq!(
            leader
                .endorse_leave(&refused, false, Some(" "), now())
                .unwrap_err()
                .code(),
            "reason_required"
        );
        leader
            .endorse_leave(&refused, false, Some("汛期值班,请改期"), now())
            .unwrap();
        synced(&mut leader);
        assert!(leader.team_pending(today()).unwrap().leaves.is_empty());
        // Endorsing again is refused on the phone with the core's code.
        assert_eq!(
            leader
                .endorse_leave(&leave, true, None, now())
                .unwrap_err()
                .code(),
            "wrong_order"
        );

        // The server holds the endorsement as the leader's change, made on its phone.
        let mut doc = w.server.stored_doc(&leave);
        let stored: Leave = doc.read().unwrap();
        assert_eq!(stored.endorsed_by.as_deref(), Some(LEADER));
        assert_eq!(stored.status, LeaveStatus::Pending);
        let last = doc.history().unwrap().pop().unwrap();
        assert_eq!(last.cadre_id, LEADER);
        assert_eq!(last.reason, "队长同意");
        assert_eq!(last.device_id, leader.store().device().device_id);
        let back: Leave = w.server.stored_doc(&refused).read().unwrap();
        assert_eq!(back.status, LeaveStatus::Rejected);
        let decision = back.decision.unwrap();
        assert_eq!(
            (decision.reviewer_id.as_str(), decision.comment.as_deref()),
            (LEADER, Some("汛期值班,请改期"))
        );

        // The member's phone sees where each stands: waiting for the township (2 days ≤ 3⚙),
        // and sent back with the reason, by the leader's name.
        synced(&mut member);
        let row = |app: &FieldApp, id: &str| {
            app.my_leaves(today())
                .unwrap()
                .into_iter()
                .find(|l| l.id == id)
                .unwrap()
        };
        let r = row(&member, &leave);
        assert_eq!(r.stage, LeaveStage::AwaitingTownship);
        let endorsed = &r.steps[1];
        assert_eq!(endorsed.step, LeaveStepKind::Endorsed);
        assert_eq!(endorsed.by_name.as_deref(), Some(leader_name.as_str()));
        assert!(endorsed.at.is_some());
        assert_eq!(r.return_blocked.unwrap().code, "wrong_order");
        let b = row(&member, &refused);
        assert_eq!(b.stage, LeaveStage::SentBack);
        let sent_back = b.steps.last().unwrap();
        assert_eq!(sent_back.by_name.as_deref(), Some(leader_name.as_str()));
        assert_eq!(sent_back.note.as_deref(), Some("汛期值班,请改期"));

        // The township approves from its browser session, signing the step with its key.
        let town = Clerk::sign_in(&w.server, TOWNSHIP);
        let done = town
            .step(&leave, json!({"action": "leave_approve"}))
            .unwrap();
        assert_eq!(done["outcome"], "accepted");
        synced(&mut member);
        let r = row(&member, &leave);
        assert_eq!(r.stage, LeaveStage::Approved);
        let approved = r.steps.last().unwrap();
        assert_eq!(approved.step, LeaveStepKind::Approved);
        assert_eq!(
            approved.by_level,
            Some(cunji_core::domain::codes::ApprovalLevel::Township),
            "the township's account has no cadre file: its level stands for it"
        );
        assert_eq!(r.return_blocked, None);
        // 销假, from approved leave, taken by the server.
        member.return_from_leave(&leave, now()).unwrap();
        synced(&mut member);
        let l: Leave = w.server.stored_doc(&leave).read().unwrap();
        assert_eq!(l.status, LeaveStatus::Returned);

        // Every change is provable: the phones' by their keys, the browser's by its own.
        let report = cunji_sync_server::verify::verify_log(&w.server.db, &mut |_| {}).unwrap();
        assert!(report.ok(), "{:?}", report.failures);
    }
}

#[test]
fn the_first_secretary_comments_on_a_members_log_on_its_phone() {
    for backend in Backend::available() {
        let w = world(backend);
        let member_name = cadre_file(&w.server, MEMBER, 2).name;
        let (_m, mut member) = phone(&w.server, MEMBER);
        let (_l, mut leader) = phone(&w.server, LEADER);
        let log = WorkLog {
            date: today(),
            village_code: Village::example().code,
            activities: vec![WorkActivity::HouseholdVisits],
            summary: "走访张建国户,核实收入".into(),
            visit_ids: vec![],
            problems: None,
            next_plan: None,
            review: None,
            leader_comment: None,
        };
        let id = member.write_work_log(&log).unwrap();
        synced(&mut member);
        synced(&mut leader);
        let pending = leader.team_pending(today()).unwrap();
        assert_eq!(pending.logs.len(), 1, "{pending:?}");
        assert_eq!(
            (
                pending.logs[0].id.as_str(),
                pending.logs[0].author_name.as_str()
            ),
            (id.as_str(), member_name.as_str())
        );
        leader
            .comment_log(&id, "记录详实,下一步跟进危房改造", now())
            .unwrap();
        synced(&mut leader);
        assert!(leader.team_pending(today()).unwrap().logs.is_empty());
        let mut doc = w.server.stored_doc(&id);
        let stored: WorkLog = doc.read().unwrap();
        let c = stored.leader_comment.unwrap();
        assert_eq!(c.reviewer_id, LEADER);
        assert_eq!(doc.history().unwrap().pop().unwrap().device_id, {
            leader.store().device().device_id.clone()
        });
        // The member edits its log afterwards, from the form (which knows nothing of the
        // comment): the comment stays, and the server takes the edit.
        synced(&mut member);
        member
            .write_work_log(&WorkLog {
                summary: "走访张建国户,核实收入;补记:联系危房改造".into(),
                ..log
            })
            .unwrap();
        synced(&mut member);
        let after: WorkLog = w.server.stored_doc(&id).read().unwrap();
        assert!(after.summary.contains("补记"));
        assert_eq!(after.leader_comment.unwrap().reviewer_id, LEADER);
    }
}
