//! Projects and their progress.

use cunji_core::domain::{Progress, Project};
use cunji_core::field::{ProjectItem, today};

commands! {
    sync fn create_project[state](project: Project) -> String {
        Ok(state.app()?.create_project(&project, today())?)
    }

    sync fn report_project_progress[state](id: String, progress: Progress) -> () {
        Ok(state.app()?.report_project_progress(&id, &progress)?)
    }

    sync fn projects[state]() -> Vec<ProjectItem> {
        Ok(state.app()?.projects(today())?)
    }
}
