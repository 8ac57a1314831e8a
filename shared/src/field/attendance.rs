//! Attendance (考勤): the one-tap check-in with its geofence and photo, leave and official
//! trips with 销假, and "my month" (R1–R3 over the cadre's days, and the team's for a first
//! secretary).

use super::{
    CheckInDone, CheckInInput, FieldApp, FieldError, FieldResult, LeaveInput, LeaveRow,
    MAX_PHOTO_BYTES, MyMonth, PHOTO_DIR, month_grid,
};
use crate::domain::codes::{CadreRole, LeaveStatus, LeaveType};
use crate::domain::{CheckIn, Leave};
use crate::rules::CheckInPhoto;
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

    /// This cadre's leave requests, newest first.
    pub fn my_leaves(&self) -> FieldResult<Vec<LeaveRow>> {
        let me = self.require_me()?;
        self.store
            .leave_ids(&me.cadre_id)?
            .into_iter()
            .map(|id| {
                let leave = self.store.get::<Leave>(&id)?.record;
                Ok(LeaveRow { id, leave })
            })
            .collect()
    }

    pub(super) fn current_leave(&self, today: Date) -> FieldResult<Option<LeaveRow>> {
        if self.me()?.is_none() {
            return Ok(None);
        }
        Ok(self.my_leaves()?.into_iter().find(|l| {
            l.leave.covers(today)
                && !matches!(
                    l.leave.status,
                    LeaveStatus::Returned | LeaveStatus::Rejected
                )
        }))
    }

    /// Requests leave or reports an official trip. The team leader is named as approver
    /// until the county's approver lists reach devices.
    pub fn request_leave(&mut self, input: &LeaveInput, at: Timestamp) -> FieldResult<String> {
        let me = self.require_me()?;
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
            level: crate::domain::codes::ApprovalLevel::Township,
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
        self.create(&me, "请假/外出报备", &leave, None)
    }

    /// 销假: reports back from leave.
    pub fn return_from_leave(&mut self, id: &str, at: Timestamp) -> FieldResult<()> {
        let me = self.require_me()?;
        let mut leave = self.store.get::<Leave>(id)?.record;
        if leave.cadre_id != me.cadre_id {
            return Err(FieldError::input("not_yours", "只能为自己的请假销假"));
        }
        leave.status = LeaveStatus::Returned;
        leave.returned_ts = Some(at);
        self.store
            .update(&Author::now(me.cadre_id, "销假"), id, &leave)?;
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
