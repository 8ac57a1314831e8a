//! The UI's TypeScript declarations are generated from the Rust types (ts-rs). This test
//! writes them to `ui/src/bindings/` and fails when the committed files differ, so a change
//! of a Rust type cannot leave the UI's types behind: run
//! `CUNJI_WRITE_BINDINGS=1 cargo test -p cunji-app --test bindings` and commit the result.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cunji_app::{LockState, ShellError};
use cunji_core::domain::{Delivery, Role, ScopeLevel, Visit, WorkLog};
use cunji_core::field::{
    CheckInDone, CheckInInput, CodeLists, ConflictItem, Home, HouseholdItem, HouseholdPage,
    HouseholdQuery, LeaveInput, LeaveRow, LoginInput, Me, MemberOption, MyMonth, ResolveInput,
};
use cunji_core::field::{
    Choice, InspectionItem, PetitionInput, PetitionItem, PetitionStep, ProjectItem, RecordRights,
    StatusChangeInput, StatusChangeItem, StepInput, SurveyItem,
};
use cunji_core::sync::client::{SyncEvent, SyncReport};
use ts_rs::TS;

fn export_all(dir: &Path) {
    macro_rules! export {
        ($($t:ty),*) => { $( <$t>::export_all_to(dir).unwrap(); )* };
    }
    export!(
        ShellError,
        LockState,
        Me,
        LoginInput,
        Home,
        CheckInInput,
        CheckInDone,
        LeaveInput,
        LeaveRow,
        HouseholdQuery,
        HouseholdItem,
        HouseholdPage,
        MemberOption,
        Visit,
        Delivery,
        WorkLog,
        MyMonth,
        ConflictItem,
        ResolveInput,
        CodeLists,
        SyncReport,
        SyncEvent,
        RecordRights,
        Choice,
        PetitionInput,
        PetitionStep,
        PetitionItem,
        StatusChangeInput,
        StepInput,
        StatusChangeItem,
        ProjectItem,
        InspectionItem,
        SurveyItem,
        Role,
        ScopeLevel
    );
}

fn read_tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ts") {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn typescript_bindings_match_the_rust_types() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
    let fresh = tempfile::tempdir().unwrap();
    export_all(fresh.path());
    let generated = read_tree(fresh.path());
    assert!(
        generated.len() > 20,
        "ts-rs exported only {} files",
        generated.len()
    );
    if std::env::var_os("CUNJI_WRITE_BINDINGS").is_some() {
        let _ = std::fs::remove_dir_all(&committed);
        export_all(&committed);
        return;
    }
    let existing = read_tree(&committed);
    let stale: Vec<_> = generated
        .iter()
        .filter(|(p, text)| existing.get(*p) != Some(text))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(
        stale.is_empty(),
        "ui/src/bindings is out of date for {stale:?}: run \
         CUNJI_WRITE_BINDINGS=1 cargo test -p cunji-app --test bindings"
    );
}
