//! Attendance (考勤): the one-tap check-in with its geofence and photo, leave and official
//! trips with 销假, and "my month" (R1–R3 over the cadre's days, and the team's for a first
//! secretary).

use super::{
    CheckInDone, CheckInInput, FieldApp, FieldError, FieldResult, LeaveInput, LeaveRow, LeaveStage,
    LeaveStepDone, LeaveStepKind, MAX_PHOTO_BYTES, Me, MyMonth, Notice, PHOTO_DIR, month_grid,
};
use crate::domain::Role;
use crate::domain::codes::{ApprovalLevel, CadreRole, LeaveStatus, LeaveType};
use crate::domain::{CheckIn, Leave};
use crate::rules::CheckInPhoto;
use crate::rules::approvals::{
    Actor, LeaveAction, Refusal, check_leave, leave_standing, leave_step, leave_timing,
};
use crate::store::Author;
use crate::values::{Date, Geo, Timestamp};

impl FieldApp {
    /// Keeps a check-in photo on the phone and returns its SHA-256 (hex), for
    /// [`CheckInInput::photo_sha256`]. The bytes must be a JPEG, PNG, WebP or HEIC image of at
    /// most [`MAX_PHOTO_BYTES`]; the same photo saved twice is kept once.
    pub fn save_check_in_photo(&self, bytes: &[u8]) -> FieldResult<String> {
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(FieldError::input(
                "photo_too_large",
                format!(
                    "照片太大({} MB),请降低相机分辨率后重拍 / the photo is over {} MB",
                    bytes.len() / (1024 * 1024),
                    MAX_PHOTO_BYTES / (1024 * 1024)
                ),
            ));
        }
        let ext = photo_extension(bytes).ok_or_else(|| {
            FieldError::input(
                "not_a_photo",
                "这不是照片(需要 JPEG、PNG、WebP 或 HEIC),请用相机重拍 / not a photo",
            )
        })?;
        let hash = sha256_hex(bytes);
        let dir = self.dir.join(PHOTO_DIR);
        let path = dir.join(format!("{hash}.{ext}"));
        if !path.exists() {
            let save = || -> std::io::Result<()> {
                std::fs::create_dir_all(&dir)?;
                // Written aside, then renamed: a photo file is whole or absent.
                let partial = dir.join(format!("{hash}.partial"));
                std::fs::write(&partial, bytes)?;
                std::fs::rename(&partial, &path)
            };
            save().map_err(|e| {
                FieldError::input(
                    "photo_not_saved",
                    format!("照片没能保存到手机(存储空间可能已满):{e}"),
                )
            })?;
        }
        Ok(hash)
    }

    /// Whether a photo with this hash is kept on the phone.
    fn photo_kept(&self, hash: &str) -> bool {
        ["jpg", "png", "webp", "heic"].iter().any(|ext| {
            self.dir
                .join(PHOTO_DIR)
                .join(format!("{hash}.{ext}"))
                .exists()
        })
    }

    pub(super) fn inside_geofence(
        &self,
        village_code: &str,
        at: &Geo,
    ) -> FieldResult<Option<bool>> {
        let Some(id) = self.store.village_id(village_code)? else {
            return Ok(None);
        };
        let village = self.store.get::<crate::domain::Village>(&id)?.record;
        Ok(Some(village.geofence.contains(at)))
    }

    /// One-tap check-in. The geofence result is reported, never a reason to refuse. A photo
    /// is recorded by its hash when one was taken ([`FieldApp::save_check_in_photo`]); when the
    /// county requires one, a check-in without it is refused (`photo_required`).
    pub fn check_in(&mut self, input: &CheckInInput, at: Timestamp) -> FieldResult<CheckInDone> {
        let me = self.require_me()?;
        let photo = input.photo_sha256.as_deref().filter(|h| !h.is_empty());
        match photo {
            None if self.settings()?.settings.check_in_photo == CheckInPhoto::Required => {
                return Err(FieldError::input(
                    "photo_required",
                    "本县要求打卡时拍照:请先点“拍照”,再打卡 / your county requires a photo with each check-in: take one first",
                ));
            }
            Some(hash) if !self.photo_kept(hash) => {
                return Err(FieldError::input(
                    "photo_missing",
                    "这张照片没有保存在手机上,请重新拍照 / that photo is not on this phone: take it again",
                ));
            }
            _ => {}
        }
        let village = self
            .my_village(&me.cadre_id, at.date_naive())?
            .ok_or_else(|| {
                FieldError::input(
                    "no_team",
                    "还没有你的驻村工作队记录:请联网同步一次,或联系管理员",
                )
            })?;
        let geo = Geo {
            accuracy_m: input.accuracy_m,
            fix_ts: Some(at),
            ..Geo::at(input.lat, input.lon)
        };
        let record = CheckIn {
            cadre_id: me.cadre_id.clone(),
            village_code: village.code.clone(),
            ts: at,
            geo,
            slot: None,
            photo_sha256: photo.map(str::to_string),
            mock_flag: false,
        };
        let id = self.create(&me, "打卡 check-in", &record, Some(geo))?;
        let inside_geofence = self.inside_geofence(&village.code, &geo)?;
        Ok(CheckInDone {
            id,
            inside_geofence,
            village_name: village.name,
        })
    }

    /// This cadre's leave requests, latest first day first, each with where it stands on
    /// `today`.
    pub fn my_leaves(&self, today: Date) -> FieldResult<Vec<LeaveRow>> {
        let me = self.require_me()?;
        self.store
            .leave_ids(&me.cadre_id)?
            .into_iter()
            .map(|id| {
                let leave = self.store.get::<Leave>(&id)?.record;
                self.leave_row(id, leave, today)
            })
            .collect()
    }

    /// Whether `cadre_id`'s leave waits for 队长同意: the requester is not its team's first
    /// secretary (whose own leave goes straight to the approver), as the server judges it.
    pub(super) fn needs_endorsement(&self, cadre_id: &str, on: Date) -> FieldResult<bool> {
        Ok(self
            .store
            .team_village(cadre_id, on)?
            .is_none_or(|t| t.leader_id != cadre_id))
    }

    /// A cadre's name for the screens: from its file, else its id.
    pub(super) fn cadre_name(&self, cadre_id: &str) -> FieldResult<String> {
        Ok(self
            .store
            .cadre_name(cadre_id)?
            .unwrap_or_else(|| cadre_id.to_string()))
    }

    /// A leave with where it stands on `today`, who took each step and when, and whether
    /// its requester may report back now.
    pub(super) fn leave_row(&self, id: String, leave: Leave, today: Date) -> FieldResult<LeaveRow> {
        let needs_endorsement = self.needs_endorsement(&leave.cadre_id, leave.from)?;
        let stage = match leave_standing(&leave, today) {
            LeaveStatus::Rejected => LeaveStage::SentBack,
            LeaveStatus::Returned => LeaveStage::Returned,
            LeaveStatus::Overdue => LeaveStage::Overdue,
            LeaveStatus::Approved => LeaveStage::Approved,
            LeaveStatus::Pending if needs_endorsement && leave.endorsed_by.is_none() => {
                LeaveStage::AwaitingEndorsement
            }
            LeaveStatus::Pending => match leave.level {
                ApprovalLevel::Township => LeaveStage::AwaitingTownship,
                ApprovalLevel::CountyOrg => LeaveStage::AwaitingCountyOrg,
            },
        };
        let mut steps = vec![LeaveStepDone {
            step: LeaveStepKind::Requested,
            by_name: Some(self.cadre_name(&leave.cadre_id)?),
            by_level: None,
            at: Some(leave.requested_ts),
            note: None,
        }];
        if let Some(leader) = &leave.endorsed_by {
            // The record keeps who endorsed; when is the time of the change that set it.
            let at = self
                .store
                .history(&id)?
                .into_iter()
                .find(|h| {
                    h.fields
                        .iter()
                        .any(|f| f.path.iter().any(|p| p == "endorsed_by"))
                })
                .and_then(|h| chrono::DateTime::from_timestamp_millis(h.time_ms))
                .map(|t| t.with_timezone(leave.requested_ts.offset()));
            steps.push(LeaveStepDone {
                step: LeaveStepKind::Endorsed,
                by_name: Some(self.cadre_name(leader)?),
                by_level: None,
                at,
                note: None,
            });
        }
        if let Some(d) = &leave.decision {
            let step = if leave.status == LeaveStatus::Rejected {
                LeaveStepKind::SentBack
            } else {
                LeaveStepKind::Approved
            };
            // A team leader sending back is named (its id when its file is not here); an
            // approver by name when its file is on the phone, else by its level.
            let leader = self
                .store
                .team_village(&leave.cadre_id, leave.from)?
                .is_some_and(|t| t.leader_id == d.reviewer_id);
            let by_name = match self.store.cadre_name(&d.reviewer_id)? {
                Some(n) => Some(n),
                None if leader => Some(d.reviewer_id.clone()),
                None => None,
            };
            steps.push(LeaveStepDone {
                step,
                by_level: by_name.is_none().then_some(leave.level),
                by_name,
                at: Some(d.ts),
                note: d.comment.clone(),
            });
        }
        if let Some(at) = leave.returned_ts {
            steps.push(LeaveStepDone {
                step: LeaveStepKind::Returned,
                by_name: Some(self.cadre_name(&leave.cadre_id)?),
                by_level: None,
                at: Some(at),
                note: None,
            });
        }
        let requester = Actor {
            login: &leave.cadre_id,
            role: Role::TeamMember,
        };
        let now = super::now();
        let returned = leave_step(&leave, &requester, &LeaveAction::Return, now);
        let cfg = self.rules()?.attendance;
        let return_blocked = check_leave(&requester, &leave, &returned, needs_endorsement, &cfg)
            .err()
            .map(Notice::from);
        Ok(LeaveRow {
            id,
            cadre_name: self.cadre_name(&leave.cadre_id)?,
            leave,
            stage,
            steps,
            return_blocked,
        })
    }

    pub(super) fn current_leave(&self, today: Date) -> FieldResult<Option<LeaveRow>> {
        if self.me()?.is_none() {
            return Ok(None);
        }
        Ok(self.my_leaves(today)?.into_iter().find(|l| {
            l.leave.covers(today)
                && !matches!(
                    l.leave.status,
                    LeaveStatus::Returned | LeaveStatus::Rejected
                )
        }))
    }

    /// The leave `input` would request at `at`, with its days and the level they need (R3).
    fn leave_of(&self, me: &Me, input: &LeaveInput, at: Timestamp) -> FieldResult<Leave> {
        if input.to < input.from {
            return Err(FieldError::input(
                "bad_dates",
                "结束日期不能早于开始日期 / the last day is before the first",
            ));
        }
        let village = self.my_village(&me.cadre_id, input.from)?;
        let days = u32::try_from((input.to - input.from).num_days() + 1).unwrap_or(u32::MAX);
        let mut leave = Leave {
            cadre_id: me.cadre_id.clone(),
            leave_type: input.leave_type,
            from: input.from,
            to: input.to,
            days,
            reason: input.reason.trim().to_string(),
            requested_ts: at,
            endorsed_by: None,
            approver_id: village
                .map(|v| v.leader_id)
                .unwrap_or_else(|| me.cadre_id.clone()),
            level: ApprovalLevel::Township,
            status: LeaveStatus::Pending,
            returned_ts: None,
            evidence: input.evidence.clone().filter(|e| !e.trim().is_empty()),
            decision: None,
        };
        leave.level = leave.required_level(self.rules()?.attendance.township_max_leave_days);
        if leave.leave_type == LeaveType::OfficialTrip {
            // A trip is reported, not asked for.
            leave.status = LeaveStatus::Approved;
        }
        Ok(leave)
    }

    /// What R3 says of a request at entry, before it is sent: made after the leave began
    /// (sick leave: more than 2 days⚙ after), it is recorded but excuses none of its days
    /// ([`crate::rules::approvals::leave_timing`]). `None` when it is in time.
    pub fn leave_notice(&self, input: &LeaveInput, at: Timestamp) -> FieldResult<Option<Notice>> {
        let me = self.require_me()?;
        let leave = self.leave_of(&me, input, at)?;
        Ok(leave_timing(&leave, &self.rules()?.attendance)
            .err()
            .map(Notice::from))
    }

    /// Requests leave or reports an official trip. The team leader is named as approver
    /// until the county's approver lists reach devices. A late request is recorded (R3 makes
    /// it excuse nothing; [`FieldApp::leave_notice`] says so at entry).
    pub fn request_leave(&mut self, input: &LeaveInput, at: Timestamp) -> FieldResult<String> {
        let me = self.require_me()?;
        let leave = self.leave_of(&me, input, at)?;
        self.create(&me, "请假/外出报备", &leave, None)
    }

    /// 销假: reports back from approved leave (the core's step, [`leave_step`], checked as the
    /// server checks it: only the requester, only from 已批准 or 超期未销假).
    pub fn return_from_leave(&mut self, id: &str, at: Timestamp) -> FieldResult<()> {
        let me = self.require_me()?;
        let leave = self.store.get::<Leave>(id)?.record;
        if leave.cadre_id != me.cadre_id {
            return Err(FieldError::input(
                "wrong_approver",
                "销假由请假人本人办理 / only the requester reports back from leave",
            ));
        }
        let who = Actor {
            login: &me.login,
            role: role_of(&me),
        };
        let after = leave_step(&leave, &who, &LeaveAction::Return, at);
        let needs = self.needs_endorsement(&leave.cadre_id, leave.from)?;
        check_leave(&who, &leave, &after, needs, &self.rules()?.attendance).map_err(refusal)?;
        self.store
            .update(&Author::now(me.cadre_id, "销假"), id, &after)?;
        Ok(())
    }

    /// "My log": the month as day statuses, R1 days against required and my households due a
    /// visit; a first secretary also sees each team member's month.
    pub fn my_month(&self, year: i32, month: u32, today: Date) -> FieldResult<MyMonth> {
        let me = self.require_me()?;
        if chrono::NaiveDate::from_ymd_opt(year, month, 1).is_none() {
            return Err(FieldError::input("bad_month", "月份不对 / not a month"));
        }
        let rules = self.rules()?;
        let cfg = &rules.attendance;
        let mine = self
            .store
            .attendance_month(&me.cadre_id, year, month, today, cfg)?;
        let due = self
            .store
            .households_overdue(&me.cadre_id, today, &rules.visits)?;
        let mut team = Vec::new();
        if me.role == CadreRole::FirstSecretary.code()
            && let Some(village) = self.my_village(&me.cadre_id, today)?
        {
            for m in self
                .store
                .village_team_members(&village.code, &me.cadre_id)?
            {
                team.push(month_grid(
                    self.store.attendance_month(&m, year, month, today, cfg)?,
                    year,
                    month,
                ));
            }
        }
        Ok(MyMonth {
            year,
            month,
            me: month_grid(mine, year, month),
            due,
            team,
        })
    }
}

/// The account role the signed-in session has (an unknown code acts as a team member: the
/// least a phone's account may do).
pub(super) fn role_of(me: &Me) -> Role {
    Role::from_code(&me.role).unwrap_or(Role::TeamMember)
}

/// A refusal of the core's approval rules, as the phone says it: the same code as the
/// server's, the message Chinese first.
pub(super) fn refusal(r: Refusal) -> FieldError {
    FieldError::input(r.code, r.message())
}

/// The file extension of an image by its first bytes, `None` when it is not one the camera
/// gives (JPEG, PNG, WebP, HEIC).
fn photo_extension(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("webp")
    } else if bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && matches!(
            &bytes[8..12],
            b"heic" | b"heix" | b"mif1" | b"msf1" | b"hevc"
        )
    {
        Some("heic")
    } else {
        None
    }
}

/// SHA-256 of `bytes`, lowercase hex (the form `photo_sha256` is validated in).
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
