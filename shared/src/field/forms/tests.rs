#![allow(clippy::unwrap_used)]
use super::*;
use crate::domain::codes::{InspectionLevel, InspectionMethod, OnPost, Satisfaction, SurveySource};
use crate::domain::{Beneficiaries, Funding, HouseholdCheck, Objection, Village};
use crate::store::Store;
use crate::values::Money;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

use crate::field::tests::signed_in;

fn store(app: &FieldApp) -> &Store {
    &app.store
}

fn petition_input(household: Option<&str>) -> PetitionInput {
    PetitionInput {
        household_id: household.map(String::from),
        received_date: d("2015-10-09"),
        channel: PetitionChannel::InPerson,
        source: PetitionSource::PublicComplaint,
        domain: PetitionDomain::HousingRenovation,
        subject_level: None,
        summary: " 危房改造补助尚无答复 ".into(),
        due_date: None,
    }
}

#[test]
fn rights_follow_the_servers_write_matrix() {
    // tests/tests/it/authz_matrix.rs WRITES, for the roles that sign in on a phone.
    let r = RecordRights::of("first_secretary");
    assert!(r.petition && r.status_change && r.project && !r.inspection && !r.survey);
    let r = RecordRights::of("team_member");
    assert!(r.petition && !r.status_change && !r.project && !r.inspection && !r.survey);
    let r = RecordRights::of("pairing_cadre");
    assert!(!r.petition && !r.status_change && !r.project && !r.inspection && r.survey);
    // The township opens 动态调整 only where no team serves (the server checks where).
    let r = RecordRights::of("township");
    assert!(r.petition && r.status_change && !r.project && r.inspection && r.survey);
    let r = RecordRights::of("county_org");
    assert_eq!(
        r,
        RecordRights {
            inspection: true,
            ..RecordRights::default()
        }
    );
    assert_eq!(RecordRights::of("city"), RecordRights::default());
    assert_eq!(RecordRights::of("admin"), RecordRights::default());
}

#[test]
fn a_petition_is_taken_in_handled_closed_and_visited_back() {
    let (_dir, mut app, hh) = signed_in("cadre-li-ming", "team_member");
    let id = app.record_petition(&petition_input(Some(&hh))).unwrap();
    let p = store(&app).get::<Petition>(&id).unwrap().record;
    assert_eq!(p.handler_id, "cadre-li-ming");
    assert_eq!(p.village_code, Village::example().code);
    assert_eq!(p.status, PetitionStatus::Accepted);
    assert_eq!(p.due_date, d("2015-12-08"), "60 days by default");
    assert_eq!(p.summary, "危房改造补助尚无答复");

    // A return visit before the closing is refused and changes nothing.
    let visit = PetitionStep::ReturnVisit {
        date: d("2015-11-10"),
        result: ReturnVisitResult::Satisfied,
    };
    let err = app.advance_petition(&id, &visit).unwrap_err();
    assert_eq!(err.code(), "bad_step");
    assert!(err.to_string().contains("办结以后才能回访"), "{err}");

    app.advance_petition(&id, &PetitionStep::InProgress)
        .unwrap();
    // Closing without saying how: the field is named in Chinese.
    let err = app
        .advance_petition(
            &id,
            &PetitionStep::Close {
                date: d("2015-11-02"),
                resolution: "  ".into(),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "invalid_record");
    assert!(err.to_string().contains("「办理结果」必须填写"), "{err}");
    // Closed before it was received.
    let err = app
        .advance_petition(
            &id,
            &PetitionStep::Close {
                date: d("2015-10-01"),
                resolution: "已列入改造计划".into(),
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("「办结日期」"), "{err}");
    assert_eq!(
        store(&app).get::<Petition>(&id).unwrap().record.status,
        PetitionStatus::InProgress
    );

    app.advance_petition(
        &id,
        &PetitionStep::Close {
            date: d("2015-11-02"),
            resolution: "已列入改造计划".into(),
        },
    )
    .unwrap();
    app.advance_petition(&id, &visit).unwrap();
    assert_eq!(
        app.advance_petition(&id, &visit).unwrap_err().code(),
        "already_done"
    );
    let p = store(&app).get::<Petition>(&id).unwrap().record;
    assert_eq!(p.status, PetitionStatus::Closed);
    assert_eq!(p.closed_date, Some(d("2015-11-02")));
    assert_eq!(p.return_visit.unwrap().result, ReturnVisitResult::Satisfied);
    let reasons: Vec<_> = store(&app)
        .history(&id)
        .unwrap()
        .into_iter()
        .map(|h| h.reason)
        .collect();
    assert_eq!(
        reasons,
        [
            "受理信访诉求",
            "信访诉求转办理中",
            "信访诉求办结",
            "信访诉求回访"
        ]
    );
}

#[test]
fn petitions_list_by_household_or_village_and_flag_overdue() {
    let (_dir, mut app, hh) = signed_in("cadre-li-ming", "team_member");
    let named = app.record_petition(&petition_input(Some(&hh))).unwrap();
    let anonymous = app
        .record_petition(&PetitionInput {
            received_date: d("2015-10-20"),
            ..petition_input(None)
        })
        .unwrap();
    let p = store(&app).get::<Petition>(&anonymous).unwrap().record;
    assert_eq!(p.household_id, None);
    assert_eq!(
        p.village_code,
        Village::example().code,
        "the team's village"
    );

    let of_household = app.petitions(Some(&hh), d("2015-12-09")).unwrap();
    assert_eq!(of_household.len(), 1);
    assert_eq!(of_household[0].id, named);
    assert!(of_household[0].overdue, "due 12-08, still open on 12-09");
    let of_village = app.petitions(None, d("2015-12-09")).unwrap();
    let ids: Vec<_> = of_village.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [anonymous.as_str(), named.as_str()], "newest first");
    assert!(!of_village[0].overdue, "due 12-19");
}

#[test]
fn petition_refusals_and_wrong_roles() {
    let (_dir, mut app, hh) = signed_in("cadre-li-ming", "team_member");
    let id = app.record_petition(&petition_input(Some(&hh))).unwrap();
    let refuse = |reason: &str| PetitionStep::NotAccepted {
        date: d("2015-10-10"),
        reason: reason.into(),
    };
    assert_eq!(
        app.advance_petition(&id, &refuse(" ")).unwrap_err().code(),
        "reason_required"
    );
    app.advance_petition(&id, &refuse("不属于扶贫领域,已告知向信访局反映"))
        .unwrap();
    let p = store(&app).get::<Petition>(&id).unwrap().record;
    assert_eq!(p.status, PetitionStatus::NotAccepted);
    assert_eq!(
        app.advance_petition(&id, &PetitionStep::InProgress)
            .unwrap_err()
            .code(),
        "bad_step"
    );
    // Blank summary and an unknown household.
    let err = app
        .record_petition(&PetitionInput {
            summary: " ".into(),
            ..petition_input(Some(&hh))
        })
        .unwrap_err();
    assert!(err.to_string().contains("「诉求内容」必须填写"), "{err}");
    assert_eq!(
        app.record_petition(&petition_input(Some("hh-none")))
            .unwrap_err()
            .code(),
        "unknown_household"
    );

    // A pairing cadre does not take petitions in (the server would refuse them).
    let (_dir, mut app, hh) = signed_in("pairing-zhou", "pairing_cadre");
    let before = store(&app).outbox_len().unwrap();
    let err = app.record_petition(&petition_input(Some(&hh))).unwrap_err();
    assert_eq!(err.code(), "not_your_role");
    assert_eq!(store(&app).outbox_len().unwrap(), before);
}

fn exit_case(hh: &str) -> StatusChangeInput {
    StatusChangeInput {
        household_id: hh.into(),
        change_type: StatusChangeType::MarkedExit,
        reason: "人均纯收入超过扶贫标准,两不愁三保障达标".into(),
        date: d("2016-10-08"),
        note: Some(" ".into()),
    }
}

fn step(step: StatusChangeStep, date: &str) -> StepInput {
    StepInput {
        step,
        date: d(date),
        outcome: StepOutcome::Passed,
        note: None,
        votes_for: None,
        votes_against: None,
        publicity: None,
    }
}

#[test]
fn a_case_is_opened_only_in_the_countys_window() {
    let (_dir, mut app, hh) = signed_in("cadre-wang-zhigang", "first_secretary");
    let before = store(&app).outbox_len().unwrap();
    let november = StatusChangeInput {
        date: d("2016-11-08"),
        ..exit_case(&hh)
    };
    let err = app
        .open_status_change(&november, d("2016-11-08"))
        .unwrap_err();
    assert_eq!(err.code(), "outside_window");
    assert!(err.to_string().contains("10月"), "{err}");
    assert_eq!(
        store(&app).outbox_len().unwrap(),
        before,
        "nothing recorded"
    );
    // Inclusions and data changes take the quarterly window (January, April, July, October).
    let member_change = StatusChangeInput {
        change_type: StatusChangeType::MemberChange,
        reason: "新生儿入户".into(),
        date: d("2016-07-04"),
        ..exit_case(&hh)
    };
    app.open_status_change(&member_change, d("2016-07-04"))
        .unwrap();
}

#[test]
fn a_first_secretary_takes_an_exit_case_through_the_village_steps() {
    let (_dir, mut app, hh) = signed_in("cadre-wang-zhigang", "first_secretary");
    let id = app
        .open_status_change(&exit_case(&hh), d("2016-10-08"))
        .unwrap();
    let case = store(&app).get::<StatusChange>(&id).unwrap().record;
    assert_eq!(case.steps.len(), 1);
    assert_eq!(case.steps[0].step, StatusChangeStep::Application);
    assert_eq!(case.steps[0].actor_id, "cadre-wang-zhigang");
    assert_eq!(case.steps[0].note, None, "blank note dropped");
    // The snapshot: the latest income year recorded (2015) and today's flags.
    assert_eq!(case.snapshot.income_year, 2015);
    assert_eq!(
        case.snapshot.per_capita,
        Household::example().per_capita(2015)
    );
    assert_eq!(
        app.open_status_change(&exit_case(&hh), d("2016-10-08"))
            .unwrap_err()
            .code(),
        "case_open"
    );

    let items = app.status_changes(&hh).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].next_steps,
        [
            StatusChangeStep::Application,
            StatusChangeStep::DemocraticReview,
            StatusChangeStep::Verification,
            StatusChangeStep::HouseholdConsent,
            StatusChangeStep::Publicity
        ]
    );
    assert_eq!(
        items[0].blockers,
        ["consent_not_signed", "publicity_missing"]
    );

    app.add_status_change_step(
        &id,
        &StepInput {
            votes_for: Some(31),
            votes_against: Some(2),
            ..step(StatusChangeStep::DemocraticReview, "2016-10-12")
        },
    )
    .unwrap();
    // Steps never go back.
    let err = app
        .add_status_change_step(&id, &step(StatusChangeStep::Application, "2016-10-13"))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_record");
    assert!(err.to_string().contains("第3步"), "{err}");
    app.add_status_change_step(&id, &step(StatusChangeStep::Verification, "2016-10-14"))
        .unwrap();
    app.add_status_change_step(&id, &step(StatusChangeStep::HouseholdConsent, "2016-10-15"))
        .unwrap();
    // A notice without its period, then a notice ending before it starts.
    let err = app
        .add_status_change_step(&id, &step(StatusChangeStep::Publicity, "2016-10-17"))
        .unwrap_err();
    assert!(err.to_string().contains("公示期」必须填写"), "{err}");
    let notice = |end: &str| StepInput {
        publicity: Some(Publicity {
            start: d("2016-10-17"),
            end: d(end),
            objections: vec![Objection {
                summary: "村民反映务工收入未如实登记".into(),
                resolution: Some("  ".into()),
            }],
        }),
        ..step(StatusChangeStep::Publicity, "2016-10-17")
    };
    let err = app
        .add_status_change_step(&id, &notice("2016-10-16"))
        .unwrap_err();
    assert!(err.to_string().contains("公示结束日期"), "{err}");
    app.add_status_change_step(&id, &notice("2016-10-23"))
        .unwrap();
    let items = app.status_changes(&hh).unwrap();
    assert_eq!(items[0].blockers, ["objections_unresolved"]);
    assert_eq!(items[0].next_steps, [StatusChangeStep::Publicity]);

    // The township's step is not the village's to take.
    assert_eq!(
        app.add_status_change_step(&id, &step(StatusChangeStep::TownshipReview, "2016-10-25"))
            .unwrap_err()
            .code(),
        "not_your_step"
    );
    assert_eq!(
        app.resolve_objection(&id, 0, " ").unwrap_err().code(),
        "reason_required"
    );
    assert_eq!(
        app.resolve_objection(&id, 5, "x").unwrap_err().code(),
        "no_objection"
    );
    app.resolve_objection(&id, 0, "经核实已计入工资性收入")
        .unwrap();
    assert!(app.status_changes(&hh).unwrap()[0].blockers.is_empty());
    assert_eq!(store(&app).history(&id).unwrap().len(), 6);
}

#[test]
fn consent_is_for_exits_and_a_withdrawn_case_takes_no_more_steps() {
    let (_dir, mut app, hh) = signed_in("cadre-wang-zhigang", "first_secretary");
    let id = app
        .open_status_change(
            &StatusChangeInput {
                change_type: StatusChangeType::MemberChange,
                reason: "新生儿落户".into(),
                ..exit_case(&hh)
            },
            d("2016-10-08"),
        )
        .unwrap();
    let item = &app.status_changes(&hh).unwrap()[0];
    assert!(
        !item
            .next_steps
            .contains(&StatusChangeStep::HouseholdConsent)
    );
    assert!(item.blockers.is_empty(), "R12 is for exits");
    let err = app
        .add_status_change_step(&id, &step(StatusChangeStep::HouseholdConsent, "2016-10-09"))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_record");
    assert_eq!(
        app.withdraw_status_change(&id, "").unwrap_err().code(),
        "reason_required"
    );
    app.withdraw_status_change(&id, "户籍尚未办理").unwrap();
    let item = &app.status_changes(&hh).unwrap()[0];
    assert_eq!(item.case.result, Some(StatusChangeResult::Withdrawn));
    assert!(item.next_steps.is_empty());
    assert_eq!(
        app.add_status_change_step(&id, &step(StatusChangeStep::Verification, "2016-10-10"))
            .unwrap_err()
            .code(),
        "case_closed"
    );
    // Blank reason on opening.
    let err = app
        .open_status_change(
            &StatusChangeInput {
                reason: " ".into(),
                ..exit_case(&hh)
            },
            d("2016-10-08"),
        )
        .unwrap_err();
    assert!(err.to_string().contains("「调整理由」必须填写"), "{err}");
}

#[test]
fn only_a_first_secretary_opens_a_case() {
    let (_dir, mut app, hh) = signed_in("cadre-li-ming", "team_member");
    assert_eq!(
        app.open_status_change(&exit_case(&hh), d("2016-10-08"))
            .unwrap_err()
            .code(),
        "not_your_role"
    );
    assert!(app.status_changes(&hh).unwrap().is_empty());
}

fn project() -> Project {
    Project {
        village_code: String::new(),
        progress: Vec::new(),
        publicity: None,
        ..Project::example()
    }
}

#[test]
fn a_project_is_created_in_the_village_and_reports_cumulative_progress() {
    let (_dir, mut app, _) = signed_in("cadre-wang-zhigang", "first_secretary");
    let id = app.create_project(&project(), d("2016-02-20")).unwrap();
    assert_eq!(
        store(&app).get::<Project>(&id).unwrap().record.village_code,
        Village::example().code
    );
    let report = |date: &str, percent, yuan| Progress {
        date: d(date),
        percent,
        disbursed: Money::from_yuan(yuan),
        photo_sha256: None,
    };
    app.report_project_progress(&id, &report("2016-04-15", 40, 80_000))
        .unwrap();
    // Percent cannot fall; more money than funded is refused.
    let err = app
        .report_project_progress(&id, &report("2016-05-15", 30, 90_000))
        .unwrap_err();
    assert!(err.to_string().contains("「第2次进度完成比例」"), "{err}");
    let err = app
        .report_project_progress(&id, &report("2016-05-15", 60, 300_000))
        .unwrap_err();
    assert!(err.to_string().contains("已拨付资金"), "{err}");
    app.report_project_progress(&id, &report("2016-06-20", 100, 234_000))
        .unwrap();
    let list = app.projects(d("2016-06-21")).unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].project.is_complete());
    assert_eq!(list[0].project.progress.len(), 2);

    // No money at all, and an end before the start.
    let err = app
        .create_project(
            &Project {
                funding: Funding {
                    fiscal_special: Money::ZERO,
                    integrated: Money::ZERO,
                    sending_unit: Money::ZERO,
                    self_raised: Money::ZERO,
                },
                ..project()
            },
            d("2016-02-20"),
        )
        .unwrap_err();
    assert!(err.to_string().contains("「资金来源」必须填写"), "{err}");
    let err = app
        .create_project(
            &Project {
                planned_end: d("2016-01-01"),
                beneficiaries: Some(Beneficiaries {
                    households: 3,
                    persons: None,
                }),
                ..project()
            },
            d("2016-02-20"),
        )
        .unwrap_err();
    assert!(err.to_string().contains("计划完工日期"), "{err}");

    let (_dir, mut member, _) = signed_in("cadre-li-ming", "team_member");
    assert_eq!(
        member
            .create_project(&project(), d("2016-02-20"))
            .unwrap_err()
            .code(),
        "not_your_role"
    );
}

fn inspection(hh: &str) -> Inspection {
    Inspection {
        inspector_id: "someone-else".into(),
        level: InspectionLevel::Township,
        method: InspectionMethod::FieldVisit,
        date: d("2016-05-18"),
        unannounced: true,
        village_code: Village::example().code,
        target_cadre_id: Some("cadre-li-ming".into()),
        on_post: OnPost::OnPost,
        households_checked: vec![HouseholdCheck {
            household_id: hh.into(),
            knows_cadre: true,
            claimed_visit_confirmed: true,
            satisfaction: Some(Satisfaction::Satisfied),
        }],
        findings: Some(" ".into()),
        deadline: None,
        rectified_date: None,
    }
}

#[test]
fn an_inspector_records_an_inspection_as_its_author() {
    let (_dir, mut app, hh) = signed_in("township-x", "township");
    let id = app.record_inspection(&inspection(&hh)).unwrap();
    let i = store(&app).get::<Inspection>(&id).unwrap().record;
    assert_eq!(
        i.inspector_id, "township-x",
        "the author, whatever the form said"
    );
    assert_eq!(i.findings, None, "blank findings dropped");
    assert_eq!(app.my_inspections().unwrap().len(), 1);

    // Absent without naming the cadre; a deadline without findings; a household twice.
    let err = app
        .record_inspection(&Inspection {
            on_post: OnPost::Absent,
            target_cadre_id: Some(" ".into()),
            ..inspection(&hh)
        })
        .unwrap_err();
    assert!(err.to_string().contains("「被检查干部」必须填写"), "{err}");
    let err = app
        .record_inspection(&Inspection {
            deadline: Some(d("2016-06-15")),
            ..inspection(&hh)
        })
        .unwrap_err();
    assert!(err.to_string().contains("「整改期限」"), "{err}");
    let mut twice = inspection(&hh);
    twice
        .households_checked
        .push(twice.households_checked[0].clone());
    let err = app.record_inspection(&twice).unwrap_err();
    assert!(err.to_string().contains("抽查第2户"), "{err}");
    assert_eq!(app.my_inspections().unwrap().len(), 1);

    // What the form offers to pick from.
    let villages = app.villages().unwrap();
    assert_eq!(villages.len(), 1);
    assert_eq!(villages[0].id, Village::example().code);
    assert_eq!(villages[0].name, Village::example().name);
    let cadres: Vec<_> = app
        .village_cadres(&Village::example().code)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        cadres,
        ["cadre-li-ming", "cadre-wang-zhigang", "cadre-zhao-hong"]
    );
    let households = app.village_households(&Village::example().code).unwrap();
    assert_eq!(households.len(), 1);
    assert_eq!(households[0].id, hh);
    assert_eq!(
        households[0].name,
        Household::example().head().unwrap().name
    );

    let (_dir, mut member, hh) = signed_in("cadre-li-ming", "team_member");
    assert_eq!(
        member
            .record_inspection(&inspection(&hh))
            .unwrap_err()
            .code(),
        "not_your_role"
    );
}

fn survey(hh: &str) -> SatisfactionSurvey {
    SatisfactionSurvey {
        household_id: hh.into(),
        period: "2016-Q3".into(),
        surveyor_id: "someone-else".into(),
        source: SurveySource::PairingCadreVisit,
        respondent_member_id: "m1".into(),
        result: Satisfaction::Satisfied,
        reasons: None,
    }
}

#[test]
fn a_pairing_cadre_records_a_households_satisfaction() {
    let (_dir, mut app, hh) = signed_in("pairing-zhou", "pairing_cadre");
    let id = app.record_survey(&survey(&hh)).unwrap();
    let s = store(&app).get::<SatisfactionSurvey>(&id).unwrap().record;
    assert_eq!(s.surveyor_id, "pairing-zhou");
    // 不满意 needs its reasons; a period is a year or a quarter; the respondent is a member.
    let err = app
        .record_survey(&SatisfactionSurvey {
            result: Satisfaction::Dissatisfied,
            reasons: Some("  ".into()),
            ..survey(&hh)
        })
        .unwrap_err();
    assert!(err.to_string().contains("「原因」必须填写"), "{err}");
    let err = app
        .record_survey(&SatisfactionSurvey {
            period: "2016年三季度".into(),
            ..survey(&hh)
        })
        .unwrap_err();
    assert!(err.to_string().contains("「测评期」格式不对"), "{err}");
    assert_eq!(
        app.record_survey(&SatisfactionSurvey {
            respondent_member_id: "m99".into(),
            ..survey(&hh)
        })
        .unwrap_err()
        .code(),
        "unknown_member"
    );
    app.record_survey(&SatisfactionSurvey {
        period: "2016-Q4".into(),
        result: Satisfaction::Dissatisfied,
        reasons: Some("产业补助未到位".into()),
        ..survey(&hh)
    })
    .unwrap();
    let list = app.surveys(&hh).unwrap();
    let periods: Vec<_> = list.iter().map(|s| s.survey.period.as_str()).collect();
    assert_eq!(periods, ["2016-Q4", "2016-Q3"]);
    assert_eq!(
        app.record_rights().unwrap(),
        RecordRights {
            survey: true,
            ..RecordRights::default()
        }
    );

    let (_dir, mut member, hh) = signed_in("cadre-li-ming", "team_member");
    assert_eq!(
        member.record_survey(&survey(&hh)).unwrap_err().code(),
        "not_your_role"
    );
}

#[test]
fn nobody_signed_in_has_no_rights() {
    let dir = tempfile::tempdir().unwrap();
    let app = FieldApp::open(dir.path(), "246810").unwrap();
    assert_eq!(app.record_rights().unwrap(), RecordRights::default());
}
