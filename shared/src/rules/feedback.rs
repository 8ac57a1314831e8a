//! The rules of a 投诉建议 ([`crate::domain::feedback`], whose module docs are the design): what
//! its author may write, who answers and how. The sync server's checks
//! (`sync-server/src/checks.rs`) refuse a change that breaks one with the [`Refusal`]'s code;
//! the phone and the dashboard make the answer with [`answer_step`], so what they offer is
//! what the server takes.
//!
//! | step | who | order | codes |
//! |---|---|---|---|
//! | submit | any account in a county, as its author (the access table and `forged_author`) | new, not yet answered | `wrong_order` |
//! | (any edit by the author) | nobody: a follow-up is a new submission | | `feedback_locked`, `self_answer` |
//! | withdraw or void (the record's state) | nobody: it would leave the lists unanswered | | `feedback_locked` (the author), `review_only` (anyone else) |
//! | answer (text required) | the county poverty office of the record's county, in its own name, not the author | once, while submitted | `not_answerer`, `answer_required`, `answer_final`, `review_only`, `self_answer` |

use crate::domain::access::Role;
use crate::domain::codes::FeedbackStatus;
use crate::domain::{Feedback, FeedbackAnswer, RecordState};
use crate::values::Timestamp;

pub use super::approvals::{Actor, Refusal};

/// Every code the feedback rules refuse with (the server's API documents them).
pub const CODES: &[&str] = &[
    "feedback_locked",
    "self_answer",
    "not_answerer",
    "answer_required",
    "answer_final",
];

fn refusal(code: &'static str, zh: &str, en: &str) -> Refusal {
    Refusal {
        code,
        zh: zh.into(),
        en: en.into(),
    }
}

/// The answer `who` gives to `f`, at `at`: the record after the step (the text trimmed).
pub fn answer_step(f: &Feedback, who: &Actor, text: &str, at: Timestamp) -> Feedback {
    let mut after = f.clone();
    after.status = FeedbackStatus::Answered;
    after.answer = Some(FeedbackAnswer {
        by: who.login.to_string(),
        ts: at,
        text: text.trim().to_string(),
    });
    after
}

/// Checks a feedback as `who` writes it: new (`before` `None`) or changed from `before`.
pub fn check_feedback(
    who: &Actor,
    before: Option<&Feedback>,
    after: &Feedback,
) -> Result<(), Refusal> {
    let Some(before) = before else {
        if after.answer.is_some() || after.status != FeedbackStatus::Submitted {
            return Err(refusal(
                "wrong_order",
                "新提交的投诉建议还没有答复",
                "a new feedback has no answer yet",
            ));
        }
        return Ok(());
    };
    if before == after {
        return Ok(());
    }
    let answering = before.answer != after.answer || before.status != after.status;
    if who.login == before.author_id {
        return Err(if answering {
            refusal(
                "self_answer",
                "不能答复自己提交的投诉建议",
                "nobody answers its own feedback",
            )
        } else {
            refusal(
                "feedback_locked",
                "投诉建议提交后不能修改;如需补充,请再提交一条",
                "a feedback cannot be changed once submitted: submit another to add to it",
            )
        });
    }
    if who.role != Role::CountyOffice {
        return Err(refusal(
            "not_answerer",
            "投诉建议由提交人所在县的县扶贫办答复",
            "feedback is answered by the poverty office of its author's county",
        ));
    }
    if before.answer.is_some() || before.status != FeedbackStatus::Submitted {
        return Err(refusal(
            "answer_final",
            "这条投诉建议已经答复,答复不能修改;如有新情况,请提交人再提交一条",
            "this feedback is answered and the answer is final: a new question is a new feedback",
        ));
    }
    let unanswered = Feedback {
        status: before.status,
        answer: None,
        ..after.clone()
    };
    if &unanswered != before {
        return Err(refusal(
            "review_only",
            "答复人只能填写答复,不能修改提交人写的内容",
            "the answer adds itself and changes nothing the author wrote",
        ));
    }
    let Some(answer) = &after.answer else {
        return Err(answer_required());
    };
    if answer.text.trim().is_empty() || after.status != FeedbackStatus::Answered {
        return Err(answer_required());
    }
    if answer.by != who.login {
        return Err(refusal(
            "not_answerer",
            "答复以答复人自己的名义记录",
            "an answer is recorded in its answerer's own name",
        ));
    }
    Ok(())
}

/// Checks a change of a feedback's record state (submitted, void) by `who`: nobody changes it.
/// An author who withdrew a complaint, or an office that voided one, would take it out of the
/// author's list and the office's 待办 without an answer; a follow-up is a new submission.
pub fn check_feedback_state(
    who: &Actor,
    author_id: &str,
    before: RecordState,
    after: RecordState,
) -> Result<(), Refusal> {
    if before == after {
        Ok(())
    } else if who.login == author_id {
        Err(refusal(
            "feedback_locked",
            "投诉建议提交后不能撤回或作废;如需补充,请再提交一条",
            "a feedback cannot be withdrawn or voided once submitted: submit another to add to it",
        ))
    } else {
        Err(refusal(
            "review_only",
            "答复人只能填写答复,不能作废提交人的投诉建议",
            "an answerer adds its answer and never voids its author's feedback",
        ))
    }
}

fn answer_required() -> Refusal {
    refusal(
        "answer_required",
        "请填写答复内容",
        "write the answer's text",
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn office() -> Actor<'static> {
        Actor {
            login: "county-office",
            role: Role::CountyOffice,
        }
    }

    fn at() -> Timestamp {
        "2016-05-12T10:00:00+08:00".parse().unwrap()
    }

    fn code(r: Result<(), Refusal>) -> &'static str {
        r.err().map_or("ok", |r| r.code)
    }

    #[test]
    fn the_county_office_answers_once_in_its_name() {
        let f = Feedback::example();
        assert_eq!(code(check_feedback(&office(), None, &f)), "ok");
        let a = answer_step(&f, &office(), "  已转乡镇办理 ", at());
        assert_eq!(a.answer.as_ref().unwrap().text, "已转乡镇办理");
        assert_eq!(a.status, FeedbackStatus::Answered);
        assert_eq!(code(check_feedback(&office(), Some(&f), &a)), "ok");
        let again = answer_step(&a, &office(), "再答一次", at());
        assert_eq!(
            code(check_feedback(&office(), Some(&a), &again)),
            "answer_final"
        );
        let empty = answer_step(&f, &office(), "   ", at());
        assert_eq!(
            code(check_feedback(&office(), Some(&f), &empty)),
            "answer_required"
        );
        let other = Actor {
            login: "county-office-2",
            role: Role::CountyOffice,
        };
        assert_eq!(
            code(check_feedback(&other, Some(&f), &a)),
            "not_answerer",
            "in another's name"
        );
        let mut edited = a.clone();
        edited.text = "改过的".into();
        assert_eq!(
            code(check_feedback(&office(), Some(&f), &edited)),
            "review_only"
        );
    }

    #[test]
    fn the_author_changes_nothing_and_answers_nothing() {
        let f = Feedback::example();
        let author = Actor {
            login: "cadre-li-ming",
            role: Role::TeamMember,
        };
        let mut edited = f.clone();
        edited.text = "改过的".into();
        assert_eq!(
            code(check_feedback(&author, Some(&f), &edited)),
            "feedback_locked"
        );
        let own = answer_step(&f, &author, "自己答", at());
        assert_eq!(code(check_feedback(&author, Some(&f), &own)), "self_answer");
        let office_author = Actor {
            login: "county-office",
            role: Role::CountyOffice,
        };
        let theirs = Feedback {
            author_id: "county-office".into(),
            ..f.clone()
        };
        let own = answer_step(&theirs, &office_author, "自己答", at());
        assert_eq!(
            code(check_feedback(&office_author, Some(&theirs), &own)),
            "self_answer"
        );
        let township = Actor {
            login: "township-zhang",
            role: Role::Township,
        };
        let a = answer_step(&f, &township, "乡镇答", at());
        assert_eq!(
            code(check_feedback(&township, Some(&f), &a)),
            "not_answerer"
        );
        let (s, v) = (RecordState::Submitted, RecordState::Void);
        assert_eq!(
            code(check_feedback_state(&author, "cadre-li-ming", s, v)),
            "feedback_locked"
        );
        assert_eq!(
            code(check_feedback_state(&office(), "cadre-li-ming", s, v)),
            "review_only"
        );
        assert_eq!(
            code(check_feedback_state(&office(), "cadre-li-ming", s, s)),
            "ok"
        );
        let born_answered = answer_step(&f, &author, "x", at());
        assert_eq!(
            code(check_feedback(&author, None, &born_answered)),
            "wrong_order"
        );
    }
}
