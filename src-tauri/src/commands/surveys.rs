//! Satisfaction surveys (满意度测评).

use cunji_core::domain::SatisfactionSurvey;
use cunji_core::field::SurveyItem;

commands! {
    sync fn record_survey[state](survey: SatisfactionSurvey) -> String {
        Ok(state.app()?.record_survey(&survey)?)
    }

    sync fn surveys[state](household: String) -> Vec<SurveyItem> {
        Ok(state.app()?.surveys(&household)?)
    }
}
