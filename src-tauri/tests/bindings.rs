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
    CheckInDone, CheckInInput, CodeLists, ConflictItem, FeedbackInput, FeedbackItem, Home,
    HouseholdItem, HouseholdPage, HouseholdQuery, LeaveInput, LeaveRow, LoginInput, Me,
    MemberOption, MyMonth, Notice, ResolveInput, TeamPending,
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
        Notice,
        TeamPending,
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
        FeedbackInput,
        FeedbackItem,
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

/// The UI's typed calls (`ui/src/commands.ts`) are generated from the commands' one list
/// (`src-tauri/src/commands/`): a command added, renamed or retyped on the Rust side cannot
/// leave the UI calling the old one. Written by the same `CUNJI_WRITE_BINDINGS=1` run.
#[test]
fn typescript_commands_match_the_rust_commands() {
    let all = cunji_app::commands::all();
    let mut names: Vec<_> = all.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "a command is declared twice");
    let generated = cunji_app::commands::typescript(&all);
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/commands.ts");
    if std::env::var_os("CUNJI_WRITE_BINDINGS").is_some() {
        std::fs::write(&committed, &generated).unwrap();
        return;
    }
    let existing = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        existing == generated,
        "ui/src/commands.ts is out of date: run \
         CUNJI_WRITE_BINDINGS=1 cargo test -p cunji-app --test bindings"
    );
}

/// Every type a command takes or answers is among the exported bindings.
#[test]
fn every_command_type_is_exported() {
    let fresh = tempfile::tempdir().unwrap();
    export_all(fresh.path());
    let exported = read_tree(fresh.path());
    for c in cunji_app::commands::all() {
        let types = c.args.iter().map(|(_, t)| t).chain([&c.returns]);
        for t in types {
            for (name, path) in &t.imports {
                assert!(
                    exported.contains_key(&PathBuf::from(format!("{path}.ts"))),
                    "{}: {name} is not exported to ui/src/bindings",
                    c.name
                );
            }
        }
    }
}
