//! The everyday records: visits, deliveries, work logs.

use cunji_core::domain::{Delivery, Visit, WorkLog};
use cunji_core::values::Date;

commands! {
    sync fn record_visit[state](visit: Visit) -> String {
        Ok(state.app()?.record_visit(&visit)?)
    }

    sync fn record_delivery[state](delivery: Delivery) -> String {
        Ok(state.app()?.record_delivery(&delivery)?)
    }

    sync fn write_work_log[state](log: WorkLog) -> String {
        Ok(state.app()?.write_work_log(&log)?)
    }

    sync fn work_log[state](date: Date) -> Option<WorkLog> {
        Ok(state.app()?.work_log(date)?)
    }
}
