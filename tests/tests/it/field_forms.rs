//! The field app's forms against a real sync server: each role that the app offers a form
//! to signs in on its own phone (a `FieldApp` over a real SQLite file), records through the
//! form, syncs, and the server accepts every change. This is the other half of
//! `RecordRights` (tested in the core against the write matrix): a form is offered only where
//! the server's authorisation takes its record.
#![allow(clippy::unwrap_used)]

use cunji_core::domain::codes::{
    InspectionLevel, InspectionMethod, OnPost, PetitionChannel, PetitionDomain, PetitionSource,
    ProjectCategory, ReturnVisitResult, Satisfaction, StatusChangeStep, StatusChangeType,
    StepOutcome, SurveySource,
};
use cunji_core::domain::{
    Funding, HouseholdCheck, Inspection, Petition, Progress, Project, SatisfactionSurvey,
    StatusChange, Village,
};
use cunji_core::field::{
    FieldApp, PetitionInput, PetitionStep, RecordRights, StatusChangeInput, StepInput,
};
use cunji_core::values::{Date, Money};
use cunji_sync_server::accounts::Role;
use cunji_tests::{Backend, Device, TestServer, field_phone as phone, field_synced, household};

const X: &str = "530322101201";
const LEADER: &str = "cadre-wang-zhigang";
const MEMBER: &str = "cadre-li-ming";

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

/// Syncs, asserts the server took every change, and that there was one to take.
fn synced(app: &mut FieldApp) {
    assert!(field_synced(app).pushed > 0, "nothing was pushed");
}

#[test]
fn every_form_offered_to_a_role_is_accepted_by_the_server() {
    let server = TestServer::start(Backend::Sqlite);
    server.account("admin", Role::Admin, "");
    server.account(LEADER, Role::FirstSecretary, "");
    server.account(MEMBER, Role::TeamMember, "");
    server.account("cadre-zhao-hong", Role::TeamMember, "");
    server.account("pairing-zhou", Role::PairingCadre, "");
    server.account("township-x", Role::Township, &X[..9]);
    server.account("county-org-x", Role::CountyOrg, &X[..6]);

    let mut admin = Device::new(&server.url, "admin").sign_in();
    let who = admin.author("建村");
    admin.store.create(&who, &Village::example()).unwrap();
    admin
        .store
        .create(&who, &cunji_tests::serving_team())
        .unwrap();
    assert_eq!(admin.sync().unwrap().rejected, 0);
    let mut registrar = Device::new(&server.url, LEADER).sign_in();
    let hh = registrar
        .store
        .create(&registrar.author("建档立卡"), &household(1))
        .unwrap();
    assert_eq!(registrar.sync().unwrap().rejected, 0);
    let csv =
        format!("household_id,cadre_id,from,to,is_primary\n{hh},pairing-zhou,2015-09-01,,是\n");
    server
        .db
        .write(|tx| cunji_sync_server::records::import_assignments(tx, "admin", &csv))
        .unwrap();

    // A team member takes a petition in and starts on it.
    let (_m, mut member) = phone(&server, MEMBER);
    assert_eq!(
        member.record_rights().unwrap(),
        RecordRights::of("team_member")
    );
    let petition = member
        .record_petition(&PetitionInput {
            household_id: Some(hh.clone()),
            received_date: d("2015-10-09"),
            channel: PetitionChannel::InPerson,
            source: PetitionSource::PublicComplaint,
            domain: PetitionDomain::HousingRenovation,
            subject_level: None,
            summary: "危房改造补助尚无答复".into(),
            due_date: None,
        })
        .unwrap();
    member
        .advance_petition(&petition, &PetitionStep::InProgress)
        .unwrap();
    synced(&mut member);

    // The first secretary closes it, opens an exit case, and runs a project.
    let (_l, mut leader) = phone(&server, LEADER);
    assert!(leader.store().get::<Petition>(&petition).is_ok(), "pulled");
    leader
        .advance_petition(
            &petition,
            &PetitionStep::Close {
                date: d("2015-11-02"),
                resolution: "已列入改造计划".into(),
            },
        )
        .unwrap();
    leader
        .advance_petition(
            &petition,
            &PetitionStep::ReturnVisit {
                date: d("2015-11-10"),
                result: ReturnVisitResult::Satisfied,
            },
        )
        .unwrap();
    let case = leader
        .open_status_change(
            &StatusChangeInput {
                household_id: hh.clone(),
                change_type: StatusChangeType::MarkedExit,
                reason: "人均纯收入超过扶贫标准".into(),
                date: d("2016-10-08"),
                note: None,
            },
            d("2016-10-08"),
        )
        .unwrap();
    leader
        .add_status_change_step(
            &case,
            &StepInput {
                step: StatusChangeStep::DemocraticReview,
                date: d("2016-10-12"),
                outcome: StepOutcome::Passed,
                note: None,
                votes_for: Some(31),
                votes_against: Some(2),
                publicity: None,
            },
        )
        .unwrap();
    let project = leader
        .create_project(
            &Project {
                progress: Vec::new(),
                publicity: None,
                funding: Funding {
                    fiscal_special: Money::from_yuan(100_000),
                    integrated: Money::ZERO,
                    sending_unit: Money::ZERO,
                    self_raised: Money::ZERO,
                },
                category: ProjectCategory::Industry,
                ..Project::example()
            },
            d("2016-03-01"),
        )
        .unwrap();
    leader
        .report_project_progress(
            &project,
            &Progress {
                date: d("2016-04-15"),
                percent: 40,
                disbursed: Money::from_yuan(40_000),
                photo_sha256: None,
            },
        )
        .unwrap();
    synced(&mut leader);

    // The pairing cadre asks the household how satisfied it is.
    let (_p, mut pairing) = phone(&server, "pairing-zhou");
    let respondent = pairing.household_members(&hh).unwrap()[0].id.clone();
    let survey = SatisfactionSurvey {
        household_id: hh.clone(),
        period: "2016-Q3".into(),
        surveyor_id: String::new(),
        source: SurveySource::PairingCadreVisit,
        respondent_member_id: respondent,
        result: Satisfaction::Satisfied,
        reasons: None,
    };
    pairing.record_survey(&survey).unwrap();
    synced(&mut pairing);

    // The township inspects the village, surveys the household and takes a petition.
    let (_t, mut township) = phone(&server, "township-x");
    let villages = township.villages().unwrap();
    assert_eq!(villages.len(), 1, "the division's village was pulled");
    let inspection = Inspection {
        inspector_id: String::new(),
        level: InspectionLevel::Township,
        method: InspectionMethod::FieldVisit,
        date: d("2016-05-18"),
        unannounced: true,
        village_code: villages[0].id.clone(),
        target_cadre_id: Some(MEMBER.into()),
        on_post: OnPost::OnPost,
        households_checked: vec![HouseholdCheck {
            household_id: hh.clone(),
            knows_cadre: true,
            claimed_visit_confirmed: true,
            satisfaction: Some(Satisfaction::Satisfied),
        }],
        findings: None,
        deadline: None,
        rectified_date: None,
    };
    township.record_inspection(&inspection).unwrap();
    township
        .record_survey(&SatisfactionSurvey {
            source: SurveySource::TownshipCheck,
            ..survey.clone()
        })
        .unwrap();
    township
        .record_petition(&PetitionInput {
            household_id: Some(hh.clone()),
            received_date: d("2016-05-18"),
            channel: PetitionChannel::InPerson,
            source: PetitionSource::Inspection,
            domain: PetitionDomain::Identification,
            subject_level: None,
            summary: "暗访中农户反映识别不准".into(),
            due_date: None,
        })
        .unwrap();
    synced(&mut township);

    // The organisation department inspects with nothing pulled (above the township).
    let (_o, mut org) = phone(&server, "county-org-x");
    org.record_inspection(&Inspection {
        level: InspectionLevel::County,
        households_checked: Vec::new(),
        ..inspection
    })
    .unwrap();
    synced(&mut org);

    // Everyone's records came back to the first secretary's phone, as written.
    leader.sync(&mut |_| {}).unwrap();
    let p = leader.store().get::<Petition>(&petition).unwrap().record;
    assert_eq!(p.return_visit.unwrap().result, ReturnVisitResult::Satisfied);
    let c = leader.store().get::<StatusChange>(&case).unwrap().record;
    assert_eq!(c.steps.len(), 2);
    assert_eq!(leader.petitions(None, d("2016-06-01")).unwrap().len(), 2);
    assert_eq!(leader.surveys(&hh).unwrap().len(), 2);
    assert_eq!(
        leader.projects(d("2016-06-01")).unwrap()[0]
            .project
            .progress
            .len(),
        1
    );
}
