//! 投诉建议 end to end (issue 16 item 9; `cunji_core::domain::feedback`, `sync-server/src/feedback.rs`):
//! a team member's phone (the core's `FieldApp` over its own SQLite file) saves a feedback
//! before any sync and pushes it; the county poverty office finds it in its 待办 and answers
//! from a browser session whose own key signs the step; the member's phone shows the answer
//! after its next sync. Refused with their codes, nothing stored: another county's office, a
//! township, the author answering, an empty answer, a second answer, the author editing its
//! text, a forged author. Who reads: the author and the county office; not the member's first
//! secretary, not the township, not the organisation department (records API, pulls, the
//! supervisors' pull, 待办). A township submits from the dashboard; the city, in no county,
//! cannot.
//!
//! On SQLite, and on PostgreSQL when `CUNJI_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used)]

use cunji_core::IncomingChange;
use cunji_core::domain::codes::{FeedbackCategory, FeedbackStatus};
use cunji_core::domain::{Feedback, Village};
use cunji_core::field::{FeedbackInput, now};
use cunji_core::rules::approvals::Actor;
use cunji_core::rules::feedback::answer_step;
use cunji_sync_server::accounts::Role;
use cunji_tests::{Backend, Device, field_phone as phone, field_synced as synced};
use serde_json::{Value, json};

use super::approvals::{COUNTY, Clerk, LEADER, MEMBER, ORG, TOWNSHIP, count, world};

const OTHER_COUNTY: &str = "county-office-y";
const CITY: &str = "city-x";

/// A phone of `login` that holds record `id` as `from` holds it (a copy of its changes), to
/// try edits the server must refuse.
fn holding(url: &str, login: &str, from: &cunji_core::store::Store, id: &str) -> Device {
    let mut d = Device::new(url, login).sign_in();
    let changes: Vec<IncomingChange> = from
        .changes_of(id)
        .unwrap()
        .into_iter()
        .map(|bytes| IncomingChange {
            doc_id: id.to_string(),
            bytes,
        })
        .collect();
    d.store.apply_changes(&changes).unwrap();
    d
}

fn ids(todo: &Value, list: &str) -> Vec<String> {
    todo["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["list"] == list)
        .unwrap_or_else(|| panic!("no {list} in {todo}"))["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn has_list(todo: &Value, list: &str) -> bool {
    todo["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["list"] == list)
}

#[test]
fn a_cadre_complains_and_only_its_county_office_reads_and_answers() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let county_code = Village::example().code[..6].to_string();
        w.server.account(OTHER_COUNTY, Role::CountyOffice, "530323");
        w.server.account(CITY, Role::City, &county_code[..4]);
        let (_m, mut app) = phone(&w.server, MEMBER);

        // The form: a category must be chosen, the text written; nothing saved otherwise.
        let waiting = app.store().outbox_len().unwrap();
        let mut input = FeedbackInput {
            category: None,
            subject: "请假审批太慢".into(),
            text: "乡镇审批请假经常要等三四天,第一书记也催不动。".into(),
            about: Some("请假审批".into()),
        };
        assert_eq!(
            app.submit_feedback(&input, now()).unwrap_err().code(),
            "category_required"
        );
        input.category = Some(FeedbackCategory::Complaint);
        let empty = FeedbackInput {
            text: "   ".into(),
            ..input.clone()
        };
        assert_eq!(
            app.submit_feedback(&empty, now()).unwrap_err().code(),
            "text_required"
        );
        assert_eq!(app.store().outbox_len().unwrap(), waiting);

        // Saved on the phone before any sync: listed, not yet sent.
        let id = app.submit_feedback(&input, now()).unwrap();
        let mine = app.my_feedback().unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0].id.as_str(), mine[0].sent), (id.as_str(), false));
        assert_eq!(mine[0].category_label, "投诉");
        assert_eq!(mine[0].status_label, "待答复");
        assert_eq!(mine[0].feedback.county_code, county_code);
        assert_eq!(mine[0].feedback.author_id, MEMBER);
        synced(&mut app);
        assert!(app.my_feedback().unwrap()[0].sent);
        let stored: Feedback = w.server.stored_doc(&id).read().unwrap();
        assert_eq!(stored.status, FeedbackStatus::Submitted);
        assert_eq!(stored.text, input.text);

        // Who reads it: the county office, in clear; nobody above or beside the author.
        let office = Clerk::sign_in(&w.server, COUNTY);
        let (status, record) = office.call("GET", &format!("/v1/records/{id}"), None);
        assert_eq!(status, 200, "{record}");
        assert_eq!(record["record"]["text"], input.text.as_str());
        assert_eq!(ids(&office.todo(), "feedback_to_answer"), [id.as_str()]);
        let town = Clerk::sign_in(&w.server, TOWNSHIP);
        let leader_web = Clerk::sign_in(&w.server, LEADER);
        let org = Clerk::sign_in(&w.server, ORG);
        let other = Clerk::sign_in(&w.server, OTHER_COUNTY);
        for clerk in [&town, &leader_web, &org, &other] {
            let (status, body) = clerk.call("GET", &format!("/v1/records/{id}"), None);
            assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
            let todo = clerk.todo();
            assert!(
                !has_list(&todo, "feedback_to_answer") || count(&todo, "feedback_to_answer") == 0
            );
            assert!(!todo.to_string().contains(&id), "{todo}");
        }
        // Pulls: the author's other phone receives it; its first secretary's phone and a
        // township phone do not.
        w.member.sync().unwrap();
        assert!(w.member.store.get::<Feedback>(&id).is_ok());
        let (_l, mut leader) = phone(&w.server, LEADER);
        synced(&mut leader);
        assert!(leader.store().get::<Feedback>(&id).is_err());
        let mut town_phone = Device::new(&w.server.url, TOWNSHIP).sign_in();
        town_phone.sync().unwrap();
        assert!(town_phone.store.get::<Feedback>(&id).is_err());
        // The supervisors' pull of the county: the office's holds it, the organisation
        // department's does not.
        let path = format!("/v1/supervisor/pull?scope=county:{county_code}&after=0");
        let holds = |clerk: &Clerk| {
            let (status, page) = clerk.call("GET", &path, None);
            assert_eq!(status, 200, "{page}");
            page["records"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["doc_id"] == id.as_str())
        };
        assert!(holds(&office));
        assert!(!holds(&org));

        // Refused, nothing stored.
        let before = w.server.change_count();
        let answer = |text: &str| json!({"action": "feedback_answer", "text": text});
        assert_eq!(
            other.step(&id, answer("已阅")).unwrap_err(),
            (404, "not_found".to_string()),
            "another county's office"
        );
        assert_eq!(
            town.step(&id, answer("已阅")).unwrap_err(),
            (404, "not_found".to_string()),
            "a township"
        );
        assert_eq!(
            office.step(&id, answer("   ")).unwrap_err(),
            (422, "answer_required".to_string())
        );
        let author_web = Clerk::sign_in(&w.server, MEMBER);
        assert_eq!(
            author_web.step(&id, answer("我自己答复")).unwrap_err(),
            (422, "self_answer".to_string())
        );
        // The same through phones that hold the record: a township's, another county's
        // office's, the author's (an answer, an edit of its text), each refused by the push
        // checks with its code.
        let at = now();
        for (login, role, code) in [
            (TOWNSHIP, Role::Township, "not_author"),
            (OTHER_COUNTY, Role::CountyOffice, "out_of_scope"),
            (MEMBER, Role::TeamMember, "self_answer"),
        ] {
            let mut d = holding(&w.server.url, login, app.store(), &id);
            let after = answer_step(&stored, &Actor { login, role }, "已处理", at);
            d.store.review(&d.author("答复"), &id, &after).unwrap();
            assert_eq!(d.sync().unwrap().rejected, 1, "{login}");
            assert_eq!(d.refusal(&id).as_deref(), Some(code), "{login}");
        }
        let mut d = holding(&w.server.url, MEMBER, app.store(), &id);
        let edited = Feedback {
            text: "改成别的内容".into(),
            ..stored.clone()
        };
        d.store.update(&d.author("修改"), &id, &edited).unwrap();
        assert_eq!(d.sync().unwrap().rejected, 1);
        assert_eq!(d.refusal(&id).as_deref(), Some("feedback_locked"));
        // Its author does not withdraw or void it (nor does the office: the same check,
        // `cunji_core::rules::feedback::check_feedback_state`, unit-tested; a phone's store
        // makes no void of another's record to push here).
        let mut d = holding(&w.server.url, MEMBER, app.store(), &id);
        d.store
            .set_state(
                &d.author("撤回"),
                &id,
                cunji_core::domain::RecordState::Void,
            )
            .unwrap();
        assert_eq!(d.sync().unwrap().rejected, 1);
        assert_eq!(d.refusal(&id).as_deref(), Some("feedback_locked"));
        // A feedback in another's name.
        let forged = Feedback {
            author_id: LEADER.into(),
            submitted_ts: now(),
            ..stored.clone()
        };
        let as_leader = cunji_core::Author::now(LEADER, "投诉");
        let fid = w.member.store.create(&as_leader, &forged).unwrap();
        assert_eq!(w.member.sync().unwrap().rejected, 1);
        assert_eq!(w.member.refusal(&fid).as_deref(), Some("forged_author"));
        assert_eq!(w.server.change_count(), before);
        let still: Feedback = w.server.stored_doc(&id).read().unwrap();
        assert_eq!(still, stored);

        // The county office answers from its 待办; once.
        let done = office
            .step(
                &id,
                answer(" 已责成乡镇在两个工作日内办结请假审批,请留意。 "),
            )
            .unwrap();
        assert_eq!(done["outcome"], "accepted");
        let answered: Feedback = w.server.stored_doc(&id).read().unwrap();
        assert_eq!(answered.status, FeedbackStatus::Answered);
        let a = answered.answer.clone().unwrap();
        assert_eq!(a.by, COUNTY);
        assert_eq!(a.text, "已责成乡镇在两个工作日内办结请假审批,请留意。");
        let last = w.server.stored_doc(&id).history().unwrap().pop().unwrap();
        assert_eq!(last.cadre_id, COUNTY);
        assert!(last.device_id.starts_with("web-"), "{}", last.device_id);
        assert_eq!(count(&office.todo(), "feedback_to_answer"), 0);
        let before = w.server.change_count();
        assert_eq!(
            office.step(&id, answer("补充答复")).unwrap_err(),
            (422, "answer_final".to_string())
        );
        assert_eq!(w.server.change_count(), before);

        // The author's phone shows the answer after its sync.
        synced(&mut app);
        let mine = app.my_feedback().unwrap();
        assert_eq!(mine[0].status_label, "已答复");
        assert_eq!(mine[0].feedback.answer.as_ref().unwrap().text, a.text);
        assert_eq!(ids(&author_web.todo(), "my_feedback"), [id.as_str()]);

        // A township submits from the dashboard (its session's key signs the new record);
        // its county's office sees it, the city, in no county, cannot submit.
        let submit = |clerk: &Clerk, body: Value| -> Result<String, (u16, String)> {
            let (status, prepared) = clerk.call("POST", "/v1/feedback", Some(body));
            if status != 200 {
                return Err((status, prepared["code"].as_str().unwrap().to_string()));
            }
            assert!(prepared["summary"].as_str().unwrap().contains("建议"));
            let id = prepared["record_id"].as_str().unwrap().to_string();
            let (status, done) = clerk.commit(&id, &prepared);
            assert_eq!(status, 200, "{done}");
            Ok(id)
        };
        let body = json!({"category": "suggestion", "subject": "台账签字", "text": "希望台账能批量签字。"});
        let city = Clerk::sign_in(&w.server, CITY);
        let before = w.server.change_count();
        assert_eq!(
            submit(&city, body.clone()).unwrap_err(),
            (422, "no_county".to_string())
        );
        assert_eq!(
            submit(
                &town,
                json!({"category": "praise", "subject": "x", "text": "y"})
            )
            .unwrap_err(),
            (400, "malformed".to_string())
        );
        assert_eq!(
            submit(
                &town,
                json!({"category": "suggestion", "subject": "x", "text": " "})
            )
            .unwrap_err(),
            (422, "invalid_record".to_string())
        );
        assert_eq!(w.server.change_count(), before);
        let tid = submit(&town, body).unwrap();
        let theirs: Feedback = w.server.stored_doc(&tid).read().unwrap();
        assert_eq!(
            (theirs.author_id.as_str(), theirs.county_code.as_str()),
            (TOWNSHIP, county_code.as_str())
        );
        assert_eq!(ids(&town.todo(), "my_feedback"), [tid.as_str()]);
        assert_eq!(ids(&office.todo(), "feedback_to_answer"), [tid.as_str()]);
        let (status, _) = org.call("GET", &format!("/v1/records/{tid}"), None);
        assert_eq!(status, 404);
    }
}
