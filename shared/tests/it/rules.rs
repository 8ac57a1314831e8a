//! The local rules read through the store: facts come from the projections of real records.
#![allow(clippy::unwrap_used)]

use crate::common::{TempStore, author, household};
use cunji_core::domain::codes::{DayStatus, DeliveryStatus, VisitMode};
use cunji_core::domain::{
    Assignment, CheckIn, Delivery, Entitlement, Leave, RecordState, Team, Village, Visit,
};
use cunji_core::rules::attendance::AttendanceConfig;
use cunji_core::values::{Date, Geo};

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd_opt(y, m, day).unwrap()
}

fn check_in(day: u32, geo: Geo) -> CheckIn {
    let mut c = CheckIn::example();
    c.ts = format!("2015-10-{day:02}T08:00:00+08:00").parse().unwrap();
    c.geo = geo;
    c
}

#[test]
fn attendance_month_counts_in_village_leave_and_missing_days() {
    let mut s = TempStore::new();
    let li = "cadre-li-ming";
    s.create(&author("admin"), &Village::example()).unwrap();
    s.create(&author("admin"), &Team::example()).unwrap();
    let inside = CheckIn::example().geo;
    for day in (1..=20).filter(|d| *d != 8 && *d != 9) {
        s.create(&author(li), &check_in(day, inside)).unwrap();
    }
    // Outside the 1.5 km fence, a mocked location, and a voided check-in: none count.
    s.create(&author(li), &check_in(21, Geo::at(25.2, 103.9)))
        .unwrap();
    s.create(
        &author(li),
        &check_in(
            22,
            Geo {
                mock_flag: true,
                ..inside
            },
        ),
    )
    .unwrap();
    let void = s.create(&author(li), &check_in(23, inside)).unwrap();
    s.set_state(&author(li), &void, RecordState::Void).unwrap();
    // Personal leave on 8–9 October, requested before, approved by the township, returned.
    s.create(&author(li), &Leave::example()).unwrap();

    let month = s
        .attendance_month(li, 2015, 10, d(2015, 10, 31), &AttendanceConfig::default())
        .unwrap();
    let status = |day: u32| {
        month
            .days
            .iter()
            .find(|(dd, _)| *dd == d(2015, 10, day))
            .unwrap()
            .1
    };
    assert_eq!(month.days.len(), 31);
    assert_eq!(status(1), DayStatus::InVillage);
    assert_eq!(status(8), DayStatus::OnLeave);
    assert_eq!(status(21), DayStatus::NoRecord);
    assert_eq!(status(22), DayStatus::NoRecord);
    assert_eq!(status(23), DayStatus::NoRecord);
    let sum = &month.summary;
    assert_eq!(
        (sum.in_village_days, sum.leave_days, sum.no_record_days),
        (18, 2, 11)
    );
    assert_eq!(
        (sum.required_days, sum.counted_days, sum.compliant),
        (20, 18, false)
    );

    // Another cadre of the team has no records: every day is 无记录. A stranger has no days.
    let zhao = s
        .attendance_month(
            "cadre-wang-zhigang",
            2015,
            10,
            d(2015, 10, 15),
            &AttendanceConfig::default(),
        )
        .unwrap();
    assert_eq!(zhao.days.len(), 15);
    assert!(zhao.days.iter().all(|(_, st)| *st == DayStatus::NoRecord));
    let nobody = s
        .attendance_month(
            "nobody",
            2015,
            10,
            d(2015, 10, 31),
            &AttendanceConfig::default(),
        )
        .unwrap();
    assert!(nobody.days.is_empty());
    assert_eq!(nobody.summary.required_days, 0);
}

#[test]
fn households_due_follow_r5_to_r7() {
    let mut s = TempStore::new();
    let li = "cadre-li-ming";
    let visited = s.create(&author(li), &household(1)).unwrap();
    let never = s.create(&author(li), &household(2)).unwrap();
    for h in [&visited, &never] {
        let mut a = Assignment::example();
        a.household_id = h.clone();
        s.create(&author("admin"), &a).unwrap();
    }
    let mut v = Visit::example(); // 2015-09-12, in person
    v.household_id = visited.clone();
    s.create(&author(li), &v).unwrap();

    let due = s.households_due(li, d(2015, 12, 31), 60).unwrap();
    let got: Vec<(&str, Option<Date>, i64)> = due
        .iter()
        .map(|x| (x.household_id.as_str(), x.last_visit, x.days))
        .collect();
    assert_eq!(
        got,
        vec![
            (never.as_str(), None, 128),
            (visited.as_str(), Some(d(2015, 9, 12)), 110)
        ]
    );

    // A phone call on 1 December does not count (R7); a visit in person does.
    let mut call = v.clone();
    call.mode = VisitMode::Phone;
    call.start_ts = "2015-12-01T10:00:00+08:00".parse().unwrap();
    call.end_ts = "2015-12-01T10:10:00+08:00".parse().unwrap();
    call.follow_up_due = None;
    s.create(&author(li), &call).unwrap();
    assert_eq!(s.households_due(li, d(2015, 12, 31), 60).unwrap().len(), 2);
    let mut again = call.clone();
    again.mode = VisitMode::InHome;
    s.create(&author(li), &again).unwrap();
    let due = s.households_due(li, d(2015, 12, 31), 60).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].household_id, never);
}

#[test]
fn delivery_gaps_follow_r11() {
    let mut s = TempStore::new();
    let h = s.create(&author("c1"), &household(1)).unwrap();
    let mut e = Entitlement::example(); // due 2015-10-31
    e.household_id = h.clone();
    let ent = s.create(&author("c1"), &e).unwrap();
    let mut partial = Delivery::example();
    partial.entitlement_id = ent.clone();
    partial.status = DeliveryStatus::Partial;
    partial.delivered_date = d(2015, 11, 5);
    s.create(&author("c1"), &partial).unwrap();

    let gaps = s
        .delivery_gaps(Some(&household(1).village_code), d(2015, 12, 1))
        .unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!(
        (gaps[0].entitlement_id.as_str(), gaps[0].days_overdue),
        (ent.as_str(), 31)
    );
    assert!(gaps[0].partially_delivered);
    assert!(
        s.delivery_gaps(Some("999999999999"), d(2015, 12, 1))
            .unwrap()
            .is_empty()
    );
    // Not yet past due on its due date.
    assert!(s.delivery_gaps(None, d(2015, 10, 31)).unwrap().is_empty());

    let mut full = partial.clone();
    full.status = DeliveryStatus::Delivered;
    full.delivered_date = d(2015, 11, 20);
    s.create(&author("c1"), &full).unwrap();
    assert!(s.delivery_gaps(None, d(2015, 12, 1)).unwrap().is_empty());
}
