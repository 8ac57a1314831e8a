//! Reference data imported by the administrator from CSV reaches the devices, and scopes the
//! cadres it names.
#![allow(clippy::unwrap_used)]

use cunji_core::domain::{Assignment, Household, Team, Village};
use cunji_sync_server::accounts::Role;
use cunji_sync_server::records::{self, ImportError};
use cunji_tests::{Backend, Device, TestServer};

const VILLAGES: &str = "code,township_code,name,is_poor_village,lat,lon,radius_m,hamlets
530322101201,530322101,新庄村,是,25.0312,103.6674,,上村;下村
530322101202,530322101,大水井村,否,25.0500,103.7000,2000,
";

const TEAMS: &str = "village_code,cadre_id,role,from,to
530322101201,cadre-wang-zhigang,leader,2015-08-25,
530322101201,cadre-li-ming,member,2015-08-25,
530322101202,cadre-other,leader,2015-09-01,
";

fn import_story(backend: Backend) {
    let server = TestServer::start(backend);
    server.account("admin", Role::Admin, "");
    server.account("cadre-li-ming", Role::TeamMember, "");
    server.account("cadre-other", Role::FirstSecretary, "");
    let report = server
        .db
        .write(|tx| records::import_villages(tx, "admin", VILLAGES))
        .unwrap();
    assert_eq!((report.created, report.skipped), (2, 0));
    let report = server
        .db
        .write(|tx| records::import_teams(tx, "admin", TEAMS))
        .unwrap();
    assert_eq!((report.created, report.skipped), (2, 0));
    // Importing the same files again adds nothing.
    let again = server
        .db
        .write(|tx| records::import_villages(tx, "admin", VILLAGES))
        .unwrap();
    assert_eq!((again.created, again.skipped), (0, 2));
    // A bad row names its line and stores nothing of the file.
    let before = server.change_count();
    let bad = "code,township_code,name,is_poor_village,lat,lon,radius_m,hamlets\n530322101203,530322101,三村,否,25.0,103.0,,\n530322101204,530322101,四村,也许,25.0,103.0,,\n";
    match server
        .db
        .write(|tx| records::import_villages(tx, "admin", bad))
    {
        Err(ImportError::Row { line, message }) => {
            assert_eq!(line, 3);
            assert!(message.contains("也许"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.change_count(), before);

    // The member of 新庄村 pulls its village and team (not the other village's), and may
    // write there because the imported team names them.
    let mut member = Device::new(&server.url, "cadre-li-ming").sign_in();
    member.sync().unwrap();
    let ids = member.store.record_ids().unwrap();
    let villages: Vec<Village> = ids
        .iter()
        .filter_map(|id| member.store.get::<Village>(id).ok())
        .map(|s| s.record)
        .collect();
    assert_eq!(villages.len(), 1);
    assert_eq!(
        (villages[0].name.as_str(), villages[0].hamlets.len()),
        ("新庄村", 2)
    );
    let team = ids
        .iter()
        .find_map(|id| member.store.get::<Team>(id).ok())
        .unwrap()
        .record;
    assert_eq!(team.leader_id, "cadre-wang-zhigang");
    let hid = member
        .store
        .create(&member.author("建档立卡"), &Household::example())
        .unwrap();
    let report = member.sync().unwrap();
    assert_eq!(report.rejected, 0, "{:?}", member.store.rejected_changes());

    // Assignments refer to households the server knows.
    let csv =
        format!("household_id,cadre_id,from,to,is_primary\n{hid},cadre-li-ming,2015-09-01,,是\n");
    let report = server
        .db
        .write(|tx| records::import_assignments(tx, "admin", &csv))
        .unwrap();
    assert_eq!(report.created, 1);
    let again = server
        .db
        .write(|tx| records::import_assignments(tx, "admin", &csv))
        .unwrap();
    assert_eq!((again.created, again.skipped), (0, 1));
    let unknown = "household_id,cadre_id,from,to,is_primary\nno-such-household,cadre-li-ming,2015-09-01,,是\n";
    assert!(matches!(
        server
            .db
            .write(|tx| records::import_assignments(tx, "admin", unknown)),
        Err(ImportError::Row { line: 2, .. })
    ));
    // R10 for the file as a whole: a second primary cadre over the same period is refused,
    // naming its row, and nothing of the file is stored; a handover (end the old row, start the
    // new one) may list the new row first.
    let count = |server: &TestServer| {
        server
            .db
            .read(|tx| tx.find_projected("p_assignment", "household_id", &hid))
            .unwrap()
            .len()
    };
    let second = format!(
        "household_id,cadre_id,from,to,is_primary\n{hid},cadre-zhao-hong,2015-09-01,,false\n{hid},cadre-chen,2016-01-01,,true\n"
    );
    match server
        .db
        .write(|tx| records::import_assignments(tx, "admin", &second))
    {
        Err(ImportError::Row { line: 3, message }) => {
            assert!(message.contains("主要帮扶责任人"), "{message}")
        }
        other => panic!("a second primary cadre was not refused: {other:?}"),
    }
    assert_eq!(count(&server), 1, "nothing of the refused file is stored");
    let handover = format!(
        "household_id,cadre_id,from,to,is_primary\n{hid},cadre-chen,2016-01-01,,true\n{hid},cadre-li-ming,2015-09-01,2015-12-31,是\n"
    );
    let report = server
        .db
        .write(|tx| records::import_assignments(tx, "admin", &handover))
        .unwrap();
    assert_eq!((report.created, report.updated), (1, 1));
    assert_eq!(count(&server), 2);
    member.sync().unwrap();
    let assignment = member
        .store
        .record_ids()
        .unwrap()
        .iter()
        .find_map(|id| member.store.get::<Assignment>(id).ok())
        .unwrap();
    assert_eq!(assignment.record.household_id, hid);
    assert_eq!(assignment.envelope.author_id, "admin");
}

#[test]
fn imported_villages_teams_and_assignments_reach_devices_and_scope_them() {
    for backend in Backend::available() {
        import_story(backend);
    }
}
