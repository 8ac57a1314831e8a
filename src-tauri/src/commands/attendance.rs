//! Attendance: check-in with its photo, leave, my month.

use cunji_core::field::{
    CheckInDone, CheckInInput, LeaveInput, LeaveRow, MyMonth, Notice, now, today,
};

commands! {
    sync fn check_in[state](input: CheckInInput) -> CheckInDone {
        Ok(state.app()?.check_in(&input, now())?)
    }

    /// Keeps a check-in photo on the phone (the raw bytes of the invoke) and returns its
    /// SHA-256 (hex), hashed by the core.
    sync fn save_check_in_photo[state, request]() -> String {
        Ok(state
            .app()?
            .save_check_in_photo(&crate::raw_bytes(&request)?)?)
    }

    sync fn my_leaves[state]() -> Vec<LeaveRow> {
        Ok(state.app()?.my_leaves(today())?)
    }

    /// What R3 says of the request at entry (late: recorded, but excusing nothing).
    sync fn leave_notice[state](input: LeaveInput) -> Option<Notice> {
        Ok(state.app()?.leave_notice(&input, now())?)
    }

    sync fn request_leave[state](input: LeaveInput) -> String {
        Ok(state.app()?.request_leave(&input, now())?)
    }

    sync fn return_from_leave[state](id: String) -> () {
        Ok(state.app()?.return_from_leave(&id, now())?)
    }

    sync fn my_month[state](year: i32, month: u32) -> MyMonth {
        Ok(state.app()?.my_month(year, month, today())?)
    }
}
