//! Who may read and write what: the one access table (DOMAIN §1), and the vocabulary it is
//! written in, shared by the sync server's checks, the phone's offered actions and the
//! dashboard.
//!
//! [`Role`] is an account's role (DOMAIN §1): the three cadre roles of a village work team, the
//! supervisors above them, and the administrator who creates reference data; [`ScopeLevel`] is
//! a level of the administrative division tree (village, township, county, city), and it is the
//! one place that says how many digits a level's code has ([`ScopeLevel::code_len`]: 12, 9, 6,
//! 4). Both are code lists (`code_enum!`): a stored code, a Chinese and an English label,
//! exported to TypeScript.
//!
//! ## The access table
//! [`rights`] says, for every role and record kind, what the role may do, and where:
//!
//! - **read** ([`Sight`]): in clear; with sensitive personal information masked (above the
//!   township, and for a team member the households not assigned to it); only its own records (a team member's attendance); or only through the reports'
//!   aggregates (the city).
//! - **write**: create records of the kind, and change them (its own event records; any record
//!   of a shared kind, such as a household).
//! - **review**: change a record someone else wrote without creating any (endorse or approve
//!   leave, review a log, accept a visit, take a 动态调整 case's township or county step); what
//!   a reviewer may change of the record, and in which order, is
//!   [`crate::rules::approvals`]'s.
//!
//! Each right has a [`Reach`]: the villages of the cadre's team, the households assigned to the
//! cadre, the account's division, the county the account lies in (where a 投诉建议 is placed:
//! [`super::feedback`], which says who reads one and why), or reference data not bound to a
//! village. A team's or an
//! assignment's reach is **dated** (DOMAIN §1, "write rights follow the assignment valid on the
//! record date"): a write counts on the record's own day ([`crate::domain::Record::record_date`]:
//! a visit's start, a check-in's day, a leave's request), or on today for shared data with no such
//! day (a household, an entitlement, a case); reads follow today. So a cadre who left stops
//! receiving the village, and nothing it records after its last day is taken, while a visit it
//! made on its last day and synced a week later still is, within [`LATE_SYNC_DAYS`].
//!
//! The server's checks (`sync-server/src/accounts.rs`) and the phone's offered actions
//! ([`crate::field::RecordRights`]) derive from this table; nothing else says what a role may do.
//! The table's own tests hold it to DOMAIN §1's invariants, and the end-to-end authorisation
//! tests walk it against a real server.
//!
//! Decisions DOMAIN leaves open, taken here:
//! - Reference data without a village (units, cadres, the policy catalog) is written by the
//!   administrator only, whose writes stay inside its division; county offices no longer edit
//!   the city-wide catalog or another county's cadres.
//! - Teams and assignments decide who reads a village's personal data, so the village's own first
//!   secretary does not write them: the administrator does, the organisation department keeps
//!   teams (it dispatches and recalls cadres), and the county poverty office assigns pairing
//!   cadres (结对帮扶).
//! - 动态调整's village steps (申请 to 公示) are the first secretary's; in a village where no
//!   work team serves on the step's day, the township records them for the village committee.
//!   The table therefore lets the township create a case in its division, and the server's
//!   step check (`sync-server/src/checks.rs`) refuses a township's village step wherever a team
//!   serves.
//! - Entitlements are the county poverty office's (DOMAIN §1) and the administrator's imports;
//!   the village team records deliveries against them.
//! - The 建档立卡 register (households and their ID and bank numbers) is imported by the county
//!   poverty office inside its county, and by the administrator (issue 15: counties keep it
//!   as spreadsheets); the office still reads the numbers masked.
//! - Cadres' files (phone and ID number) are placed with their cadre, not the city (on the
//!   server, one `cadres:` pull scope per reader holds the files it may read): the cadre, its
//!   team's colleagues today and the township read them in clear, the
//!   county office and the administrator masked, the city not at all. A phone no longer
//!   receives the city's cadres.
//!
//! ## A household's numbers on a team member's phone
//! DOMAIN §1 gives a team member "all village households (ID/bank numbers masked unless
//! assigned)". A CRDT document travels as its changes and every change carries the values it
//! set: there is no masked copy of a change. So a household's members' ID (and disability
//! certificate) numbers and its bank account are a record of their own, kind
//! `household_private` ([`super::household_private`]), placed in the household's village and
//! household. Its read right is the household's clear readers': the first secretary, the
//! household's assigned cadres, the township (masked above). The change log gives its changes
//! the owner [`HOUSEHOLD_OWNER`], so a team member's `village-member:` pull leaves them out and
//! only its `household:` scopes (its assignments) bring them; a phone that held them once and
//! no longer may forgets them (`crate::sync`). Health and home coordinates stay in the
//! household: DOMAIN §1 masks them only above the township, and team members need them for
//! 三保障 and the visits' geofence; the phone still shows them masked for unassigned
//! households ([`Sight::MaskedUnlessAssigned`]).
//!
//! Costs: one more document and one more change when numbers change; the checks that join the
//! two (R10, birth date against ID number) run where both are held: the server
//! (`sync-server/src/checks.rs`) and the phones of clear readers.
//!
//! Households stored before the split held their numbers in their own history. The sync
//! server's migration (`sync-server/src/rebuild.rs`, run once when the server starts) gives
//! each a new history under the same id, so visits, entitlements, assignments and cases still
//! find it, made from its merged state without the numbers, and moves the numbers to its
//! numbers record; the old history stays on the server, never served. A phone that held the
//! old history drops it when the new one arrives and carries its unsent edits over
//! ([`crate::store`]'s rebuilt records). The server then refuses old-history changes
//! (`record_rebuilt`) and numbers written into a household (`numbers_in_household`).

use std::str::FromStr;

use crate::domain::Kind;
use crate::values::{Date, code_enum};

code_enum! {
    /// What an account is (DOMAIN §1).
    pub enum Role {
        Admin = "admin", "管理员", "Administrator";
        FirstSecretary = "first_secretary", "第一书记", "First secretary";
        TeamMember = "team_member", "驻村工作队员", "Team member";
        PairingCadre = "pairing_cadre", "帮扶干部", "Pairing cadre";
        Township = "township", "乡镇", "Township";
        CountyOffice = "county_office", "县扶贫办", "County poverty office";
        CountyOrg = "county_org", "县委组织部", "County organisation department";
        City = "city", "市", "City";
    }
}

impl Role {
    /// Supervisors read a division; cadres read their team's villages or their households.
    pub fn is_supervisor(self) -> bool {
        matches!(
            self,
            Role::Township | Role::CountyOffice | Role::CountyOrg | Role::City | Role::Admin
        )
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::from_code(s)
            .ok_or_else(|| format!("unknown role `{s}` (one of {})", Role::CODES.join(", ")))
    }
}

code_enum! {
    /// A level of the administrative division tree: a report's scope or an account's division.
    pub enum ScopeLevel {
        Village = "village", "行政村", "Village";
        Township = "township", "乡镇", "Township";
        County = "county", "县", "County";
        City = "city", "市", "City";
    }
}

impl ScopeLevel {
    /// Digits of the administrative code at this level (village 12, township 9, county 6,
    /// city 4: the prefixes accounts' divisions use). The only place these lengths are written.
    pub const fn code_len(self) -> usize {
        match self {
            ScopeLevel::Village => 12,
            ScopeLevel::Township => 9,
            ScopeLevel::County => 6,
            ScopeLevel::City => 4,
        }
    }

    /// The code of this level that `code` lies in (`530326` for county and `530326126203`),
    /// `None` when `code` is shorter than this level's.
    pub fn part_of(self, code: &str) -> Option<&str> {
        code.get(..self.code_len())
    }

    /// Above the township, sensitive personal information is masked (DOMAIN §1).
    pub fn above_township(self) -> bool {
        matches!(self, ScopeLevel::County | ScopeLevel::City)
    }
}

/// How far back a write may reach past the end of its writer's team membership or assignment:
/// a record made on the last day (its [`crate::domain::Record::record_date`]) is still taken when
/// the phone syncs up to this many days later; after that, a cadre who left writes nothing.
pub const LATE_SYNC_DAYS: i64 = 30;

/// Where a right reaches (DOMAIN §1 "Scope").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// The villages whose team lists the cadre on the day in question.
    TeamVillage,
    /// The households assigned to the cadre on the day in question.
    Assigned,
    /// The villages under the account's division code (township, county or city).
    Division,
    /// Reference data not bound to any village (units, cadres, the policy catalog).
    Reference,
    /// The county the account lies in: a supervisor's division's county, a cadre's team
    /// villages' and assigned households' counties on the day in question. A record placed
    /// at a county's 6-digit code (a 投诉建议, [`super::feedback`]) is written there.
    County,
}

/// How much of a record a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sight {
    /// Every field in clear.
    Clear,
    /// Every field, sensitive personal information masked unless the household is assigned to
    /// the reader (a team member reading the village's households, DOMAIN §1).
    MaskedUnlessAssigned,
    /// Sensitive personal information (ID, bank and disability numbers, health data, home
    /// coordinates) masked: above the township (DOMAIN §1).
    Masked,
    /// [`Sight::Masked`], and the households' names and phones too (the organisation
    /// department: "household PII masked").
    MaskedWithNames,
    /// Only the reader's own records (a team member's attendance and logs; a pairing cadre's
    /// own file), wherever they are.
    Own,
    /// Not record by record: only through the reports' aggregates (the city).
    Aggregates,
}

/// What one role may do with records of one kind. `None`: not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rights {
    pub read: Option<(Reach, Sight)>,
    /// Create records of the kind, and change them (for event records: its own).
    pub write: Option<Reach>,
    /// Change records others wrote, without creating any (endorse, approve, review, step).
    pub review: Option<Reach>,
}

/// What a change does to a record, as [`Rights::allows`] judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The record's first change.
    Create,
    /// A later change by its author, or of a shared kind's record (a household) by anyone.
    Edit,
    /// A later change of an event record by someone who did not write it.
    Review,
}

impl Rights {
    /// The reach an action needs, if the role has it: creating needs the write right; a review
    /// the review right; an edit either (a township stepping a case edits a shared record).
    pub fn reach_for(self, action: Action) -> Option<Reach> {
        match action {
            Action::Create => self.write,
            Action::Review => self.review,
            Action::Edit => self.write.or(self.review),
        }
    }
}

/// The access table: what `role` may do with records of `kind` (see the module docs).
pub fn rights(role: Role, kind: Kind) -> Rights {
    use Kind::*;
    use Reach::*;
    use Sight::*;
    let read = |reach, sight| Some((reach, sight));
    // Reference data without a village: everyone reads units and the catalog, only the
    // administrator writes them.
    if matches!(kind, Unit | PolicyItem) {
        return Rights {
            read: read(Reference, Clear),
            write: (role == Role::Admin).then_some(Reference),
            review: None,
        };
    }
    // A cadre's file (phone and ID number) is read where the cadre works: by its team's
    // villages, the township and county above them, and the cadre itself; the administrator
    // writes it. Its places are the villages of its teams and assigned households today.
    if kind == Cadre {
        let sight = match role {
            Role::FirstSecretary | Role::TeamMember => read(TeamVillage, Clear),
            Role::PairingCadre => read(Assigned, Own),
            Role::Township | Role::CountyOrg => read(Division, Clear),
            Role::CountyOffice | Role::Admin => read(Division, Masked),
            Role::City => read(Division, Aggregates),
        };
        return Rights {
            read: sight,
            write: (role == Role::Admin).then_some(Reference),
            review: None,
        };
    }
    // A household's ID and bank numbers (`super::household_private`): in clear to the first
    // secretary, the township and the household's assigned cadres (DOMAIN §1: "masked unless
    // assigned"), masked above; kept by the first secretary and an assigned team member,
    // imported by the administrator and the county poverty office.
    if kind == HouseholdPrivate {
        let (read, write) = match role {
            Role::Admin => (read(Division, Masked), Some(Division)),
            Role::FirstSecretary => (read(TeamVillage, Clear), Some(TeamVillage)),
            Role::TeamMember => (read(Assigned, Clear), Some(Assigned)),
            Role::PairingCadre => (read(Assigned, Clear), None),
            Role::Township => (read(Division, Clear), None),
            // The county's register, imported by its poverty office (issue 15).
            Role::CountyOffice => (read(Division, Masked), Some(Division)),
            Role::CountyOrg => (read(Division, MaskedWithNames), None),
            Role::City => (read(Division, Aggregates), None),
        };
        return Rights {
            read,
            write,
            review: None,
        };
    }
    // The township's signature on an attendance ledger (`super::ledger`): the township signs
    // in its division; the organisation department receives it and the county office reads
    // it; the first secretary sees its village's; the city reads aggregates.
    if kind == LedgerSignature {
        let (read, write) = match role {
            Role::Township => (read(Division, Clear), Some(Division)),
            Role::CountyOrg => (read(Division, Clear), None),
            Role::CountyOffice => (read(Division, Masked), None),
            Role::FirstSecretary => (read(TeamVillage, Clear), None),
            Role::Admin | Role::City => (read(Division, Aggregates), None),
            Role::TeamMember | Role::PairingCadre => (None, None),
        };
        return Rights {
            read,
            write,
            review: None,
        };
    }
    // 投诉建议 (`super::feedback`): every account in a county submits its own; the county's
    // poverty office reads its county's and answers them; the administrator reads them (it
    // keeps the app). Nobody else reads others': a complaint may be about the reader (a first
    // secretary, the township, the organisation department).
    if kind == Feedback {
        let (read, write, review) = match role {
            Role::CountyOffice => (read(Division, Clear), Some(Division), Some(Division)),
            Role::Admin => (read(Division, Clear), Some(County), None),
            Role::City => (read(Division, Aggregates), None, None),
            Role::FirstSecretary
            | Role::TeamMember
            | Role::PairingCadre
            | Role::Township
            | Role::CountyOrg => (read(County, Own), Some(County), None),
        };
        return Rights {
            read,
            write,
            review,
        };
    }
    let (read, write, review) = match role {
        // Reference data, teams and assignments, and the imported register.
        Role::Admin => match kind {
            Village | Team | Assignment | Household | Entitlement => {
                (read(Division, Masked), Some(Division), None)
            }
            _ => (read(Division, Aggregates), None, None),
        },
        Role::FirstSecretary => {
            let w = match kind {
                Household | Delivery | Visit | CheckIn | Leave | WorkLog | Petition
                | StatusChange | Project => Some(TeamVillage),
                _ => None,
            };
            // 队长同意 on team leave, comments on team logs.
            let r = matches!(kind, Leave | WorkLog).then_some(TeamVillage);
            let sight = if kind == Inspection {
                None
            } else {
                read(TeamVillage, Clear)
            };
            (sight, w, r)
        }
        Role::TeamMember => {
            let w = match kind {
                Household | Delivery | Visit | CheckIn | Leave | WorkLog | Petition => {
                    Some(TeamVillage)
                }
                _ => None,
            };
            let sight = match kind {
                CheckIn | Leave | WorkLog => read(TeamVillage, Own),
                Household => read(TeamVillage, MaskedUnlessAssigned),
                Inspection => None,
                _ => read(TeamVillage, Clear),
            };
            (sight, w, None)
        }
        // Their households' full files; visits and survey answers for them.
        Role::PairingCadre => match kind {
            Visit | SatisfactionSurvey => (read(Assigned, Clear), Some(Assigned), None),
            Household | Assignment | Entitlement | Delivery | Petition | StatusChange => {
                (read(Assigned, Clear), None, None)
            }
            _ => (None, None, None),
        },
        // 乡镇: its villages in clear; leave approval, log review, 乡镇审核, visit acceptance,
        // petitions, inspections, surveys.
        Role::Township => {
            // 动态调整 only where no team serves (see the module docs).
            let w = matches!(
                kind,
                Petition | Inspection | SatisfactionSurvey | StatusChange
            )
            .then_some(Division);
            // R8: it accepts level-C and mock-location visits.
            let r = matches!(kind, Leave | WorkLog | StatusChange | Visit).then_some(Division);
            (read(Division, Clear), w, r)
        }
        // 县扶贫办: everything in the county, masked; entitlements, 动态调整 approval (a step),
        // petition assignment, projects, pairing assignments.
        Role::CountyOffice => {
            // Households: the county's 建档立卡 register, which its poverty office imports
            // and keeps in step (issue 15; the households' numbers above).
            let w = matches!(
                kind,
                Entitlement | Petition | Project | Assignment | Household
            )
            .then_some(Division);
            let r = (kind == StatusChange).then_some(Division);
            (read(Division, Masked), w, r)
        }
        // 县委组织部: cadres, attendance, logs, inspections (household data masked); leave over
        // three days, inspections, teams (dispatch and recall).
        Role::CountyOrg => {
            let sight = match kind {
                Team | CheckIn | Leave | WorkLog | Inspection => read(Division, Clear),
                _ => read(Division, MaskedWithNames),
            };
            let w = matches!(kind, Inspection | Team).then_some(Division);
            let r = (kind == Leave).then_some(Division);
            (sight, w, r)
        }
        // 市联席办: aggregates, no writes.
        Role::City => (read(Division, Aggregates), None, None),
    };
    Rights {
        read,
        write,
        review,
    }
}

/// The kinds whose records a reader may be limited to its own ([`Sight::Own`]): the change log
/// marks their changes with the record's owner (the author of a check-in, leave or log; the
/// cadre of a cadre's file), so that a pull can leave out others'.
pub fn personal_kinds() -> impl Iterator<Item = Kind> {
    Kind::ALL.iter().copied().filter(|k| {
        Role::ALL
            .iter()
            .any(|r| matches!(rights(*r, *k).read, Some((_, Sight::Own))))
    })
}

/// The owner the change log gives a household's ID and bank numbers: no account's login (a
/// login has no `#`), so that a village's pull for a team member, which takes the records
/// without an owner and its own, leaves them out; they reach their readers through the
/// household's scope and the whole village's and division's.
pub const HOUSEHOLD_OWNER: &str = "#household";

/// Whose personal record a record of `kind` with this `id` and `author` is, for the kinds in
/// [`personal_kinds`]: a cadre's file is the cadre's (its id is the cadre's), a check-in, a
/// leave or a log its author's; a household's numbers are [`HOUSEHOLD_OWNER`]'s. `None` for
/// every other kind.
pub fn owner_of<'a>(kind: Kind, id: &'a str, author: &'a str) -> Option<&'a str> {
    if kind == Kind::HouseholdPrivate {
        Some(HOUSEHOLD_OWNER)
    } else if !personal_kinds().any(|k| k == kind) {
        None
    } else if kind == Kind::Cadre {
        Some(id)
    } else {
        Some(author)
    }
}

/// Whether a right valid from `from` to `to` (inclusive; `None`: still running) covers a write
/// about `day` that arrives on `today`: the day lies in the period, and the period ended no
/// more than [`LATE_SYNC_DAYS`] before today.
pub fn period_covers(from: Date, to: Option<Date>, day: Date, today: Date) -> bool {
    from <= day && to.is_none_or(|to| day <= to && (today - to).num_days() <= LATE_SYNC_DAYS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_codes_and_name_the_choices_otherwise() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), *r);
        }
        let err = "mayor".parse::<Role>().unwrap_err();
        assert!(
            err.contains("mayor") && err.contains("county_office"),
            "{err}"
        );
    }

    #[test]
    fn levels_cut_a_village_code_into_its_divisions() {
        let village = "530326126203";
        let parts: Vec<_> = ScopeLevel::ALL
            .iter()
            .map(|l| l.part_of(village).unwrap())
            .collect();
        assert_eq!(parts, ["530326126203", "530326126", "530326", "5303"]);
        assert_eq!(ScopeLevel::County.part_of("5303"), None);
        assert_eq!(
            serde_json::to_string(&ScopeLevel::County).unwrap(),
            "\"county\""
        );
    }

    /// Every role × kind, as the table says, for the invariants below.
    fn table() -> impl Iterator<Item = (Role, Kind, Rights)> {
        Role::ALL
            .iter()
            .flat_map(|r| Kind::ALL.iter().map(move |k| (*r, *k, rights(*r, *k))))
    }

    #[test]
    fn whoever_writes_or_reviews_a_kind_reads_it() {
        for (role, kind, r) in table() {
            if r.write.is_some() || r.review.is_some() {
                assert!(r.read.is_some(), "{role} writes {kind} unread");
            }
            if let (Some(w), Some(rv)) = (r.write, r.review) {
                assert_eq!(w, rv, "{role} {kind}: one reach for writing and reviewing");
            }
        }
    }

    #[test]
    fn the_city_reads_aggregates_and_writes_nothing() {
        for kind in Kind::ALL {
            let r = rights(Role::City, *kind);
            assert_eq!((r.write, r.review), (None, None), "{kind}");
            if !matches!(kind, Kind::Unit | Kind::PolicyItem) {
                assert_eq!(r.read, Some((Reach::Division, Sight::Aggregates)), "{kind}");
            }
        }
    }

    #[test]
    fn reference_data_is_the_administrators_and_teams_not_the_villages() {
        for (role, kind, r) in table() {
            if matches!(kind, Kind::Unit | Kind::Cadre | Kind::PolicyItem) {
                assert_eq!(r.write.is_some(), role == Role::Admin, "{role} {kind}");
                if kind != Kind::Cadre {
                    assert_eq!(r.read, Some((Reach::Reference, Sight::Clear)));
                }
            } else {
                assert_ne!(r.write, Some(Reach::Reference), "{role} {kind}");
            }
            // Who reads a village's personal data is not the village's own decision.
            if matches!(kind, Kind::Team | Kind::Assignment) {
                assert!(
                    matches!(role, Role::Admin | Role::CountyOrg | Role::CountyOffice)
                        || r.write.is_none(),
                    "{role} writes {kind}"
                );
            }
        }
        assert_eq!(rights(Role::FirstSecretary, Kind::Team).write, None);
        assert_eq!(rights(Role::FirstSecretary, Kind::Assignment).write, None);
    }

    #[test]
    fn only_the_village_and_the_township_read_households_in_clear() {
        for (role, kind, r) in table() {
            let Some((_, sight)) = r.read else { continue };
            if kind == Kind::Household && sight == Sight::Clear {
                assert!(
                    matches!(
                        role,
                        Role::FirstSecretary | Role::PairingCadre | Role::Township
                    ),
                    "{role} reads households in clear"
                );
            }
        }
        assert_eq!(
            rights(Role::TeamMember, Kind::Household).read,
            Some((Reach::TeamVillage, Sight::MaskedUnlessAssigned))
        );
    }

    #[test]
    fn a_households_numbers_are_read_in_clear_only_by_its_village_its_cadres_and_the_township() {
        for (role, kind, r) in table() {
            if kind != Kind::HouseholdPrivate {
                continue;
            }
            let clear = matches!(r.read, Some((_, Sight::Clear)));
            assert_eq!(
                clear,
                matches!(
                    role,
                    Role::FirstSecretary | Role::TeamMember | Role::PairingCadre | Role::Township
                ),
                "{role}"
            );
        }
        // A team member: only for the households assigned to it.
        assert_eq!(
            rights(Role::TeamMember, Kind::HouseholdPrivate).read,
            Some((Reach::Assigned, Sight::Clear))
        );
        assert_eq!(
            owner_of(Kind::HouseholdPrivate, "p", "cadre-li"),
            Some(HOUSEHOLD_OWNER)
        );
    }

    #[test]
    fn a_cadres_file_is_read_where_the_cadre_works_not_city_wide() {
        for role in Role::ALL {
            let read = rights(*role, Kind::Cadre).read;
            assert!(
                !matches!(read, Some((Reach::Reference, _))),
                "{role} reads every cadre's file"
            );
        }
        assert_eq!(
            rights(Role::PairingCadre, Kind::Cadre).read,
            Some((Reach::Assigned, Sight::Own))
        );
    }

    #[test]
    fn team_members_read_only_their_own_attendance_and_logs() {
        let personal: Vec<_> = personal_kinds().collect();
        assert_eq!(
            personal,
            [
                Kind::Cadre,
                Kind::CheckIn,
                Kind::Leave,
                Kind::WorkLog,
                Kind::Feedback
            ]
        );
        for kind in &personal[1..4] {
            assert_eq!(
                rights(Role::TeamMember, *kind).read,
                Some((Reach::TeamVillage, Sight::Own))
            );
            assert_eq!(
                rights(Role::FirstSecretary, *kind).read,
                Some((Reach::TeamVillage, Sight::Clear))
            );
        }
    }

    #[test]
    fn attendance_and_visits_are_recorded_by_cadres_and_reviewed_above() {
        for (role, kind, r) in table() {
            if matches!(
                kind,
                Kind::Visit | Kind::CheckIn | Kind::Leave | Kind::WorkLog
            ) {
                let cadre = matches!(
                    role,
                    Role::FirstSecretary | Role::TeamMember | Role::PairingCadre
                );
                assert!(r.write.is_none() || cadre, "{role} records {kind}");
            }
        }
        // A requester's leave goes up: the team leader endorses, the township or the
        // organisation department approves; none of them files it.
        for role in [Role::FirstSecretary, Role::Township, Role::CountyOrg] {
            assert!(rights(role, Kind::Leave).review.is_some(), "{role}");
        }
        assert_eq!(rights(Role::Township, Kind::Leave).write, None);
        assert_eq!(rights(Role::TeamMember, Kind::Leave).review, None);
    }

    #[test]
    fn feedback_is_read_by_its_author_its_county_office_and_the_administrator_only() {
        for (role, kind, r) in table() {
            if kind != Kind::Feedback {
                continue;
            }
            let sight = r.read.map(|(_, s)| s);
            match role {
                Role::CountyOffice | Role::Admin => {
                    assert_eq!(r.read, Some((Reach::Division, Sight::Clear)), "{role}")
                }
                Role::City => assert_eq!(sight, Some(Sight::Aggregates)),
                _ => assert_eq!(sight, Some(Sight::Own), "{role} reads others' feedback"),
            }
            // Only the county office answers.
            assert_eq!(r.review.is_some(), role == Role::CountyOffice, "{role}");
            assert_eq!(r.write.is_some(), role != Role::City, "{role}");
        }
        assert_eq!(
            owner_of(Kind::Feedback, "f-1", "cadre-li"),
            Some("cadre-li")
        );
    }

    #[test]
    fn actions_take_the_right_they_need() {
        let township_case = rights(Role::Township, Kind::StatusChange);
        assert_eq!(
            township_case.reach_for(Action::Create),
            Some(Reach::Division)
        );
        assert_eq!(township_case.reach_for(Action::Edit), Some(Reach::Division));
        assert_eq!(
            township_case.reach_for(Action::Review),
            Some(Reach::Division)
        );
        let member_visit = rights(Role::TeamMember, Kind::Visit);
        assert_eq!(
            member_visit.reach_for(Action::Create),
            Some(Reach::TeamVillage)
        );
        assert_eq!(member_visit.reach_for(Action::Review), None);
    }

    #[test]
    fn a_period_covers_its_days_and_late_syncs_for_a_while() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        let (from, to) = (d("2016-01-01"), Some(d("2016-06-30")));
        assert!(period_covers(from, None, d("2026-12-03"), d("2026-12-03")));
        assert!(!period_covers(from, None, d("2015-12-31"), d("2016-01-05")));
        assert!(period_covers(from, to, d("2016-06-30"), d("2016-07-30")));
        assert!(!period_covers(from, to, d("2016-06-30"), d("2016-07-31")));
        assert!(!period_covers(from, to, d("2016-07-01"), d("2016-07-01")));
    }
}
