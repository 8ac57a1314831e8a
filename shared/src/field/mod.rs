//! The field app's use cases: what the phone screens ask of the core, one method each.
//!
//! The Tauri shell (`src-tauri/`) holds one [`FieldApp`] and forwards each command to one
//! method here, so every behaviour of the app is testable without a window: sign in once
//! online ([`FieldApp::login`]), then record check-ins, leave, visits, deliveries and work logs
//! offline, list and filter households, read a household's page with its history, see "my
//! month" as day statuses (R1) and settle conflicts. Form drafts are saved as the cadre types
//! ([`FieldApp::save_draft`]) so closing the app mid-form loses nothing.
//!
//! The forms of the process records (petitions, 动态调整 cases, projects, inspections,
//! satisfaction surveys) live in `forms`, which also says which role may record which.
//!
//! ## State kept beside the store
//! The store's own tables hold records; this module adds three small tables of its own in the
//! same SQLite file: `app_session` (server, token, who is signed in, last sync), `app_drafts`
//! (one JSON draft per form) and `app_settings` (the county's ⚙ settings as last fetched). None
//! of them syncs.
//!
//! ## County settings
//! After each successful sync, a [`SyncJob`] fetches the county's settings
//! (`GET /v1/settings`, a [`crate::rules::EffectiveSettings`]) and keeps them in
//! `app_settings`; until the next successful fetch, offline included, those apply. Every use
//! reads them from the table ([`FieldApp::settings`]: one small row), so settings a sync job
//! fetched on its own connection apply at once. A phone that never fetched any uses DOMAIN's
//! defaults. They give the rules' thresholds ([`crate::rules::RulesConfig`]: R1–R3 in "my
//! month", R3's approval level, R5's visit interval, the home screen's clock warning) and
//! whether the check-in offers a photo ([`crate::rules::CheckInPhoto`]). A failed fetch never
//! fails the sync: the records were exchanged, and the last settings stay.
//!
//! ## Check-in photos
//! When the county's setting is `optional` or `required`, the UI hands the photo's bytes to
//! [`FieldApp::save_check_in_photo`], which checks they are an image, hashes them (SHA-256)
//! and keeps them as `photos/<sha256>.<ext>` in the app's data directory; the check-in records
//! only the hash (`photo_sha256`), which is all that syncs. The photo files stay on the phone,
//! **outside the encrypted store** (they are not records and the server never asks for them);
//! deleting the app's data deletes them. `required` refuses a check-in without a photo, with a
//! message saying so.
//!
//! Not here: windows, events and the HTTP health check's scheduling (the shell and the UI
//! decide when to call [`FieldApp::sync`]), uploading photo files, and supervisors' reports
//! (issue 5).

mod forms;
mod month;
mod types;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::Datelike;
use rusqlite::{OptionalExtension, params};

use crate::domain::codes::{CadreRole, LeaveStatus, LeaveType};
use crate::domain::{CheckIn, Delivery, Entitlement, Household, Leave, Record, Visit, WorkLog};
use crate::error::Error;
use crate::rules::{CheckInPhoto, EffectiveSettings, RulesConfig};
use crate::store::key::{DeviceKey, KeySalt};
use crate::store::{Author, CreateOptions, HouseholdFilter, Page, Store};
use crate::sync::client::{self, HttpTransport, SyncEvent, SyncOptions, SyncReport};
use crate::values::{Date, Geo, Timestamp};

pub use forms::*;
pub use month::{MyMonth, month_grid};
pub use types::*;

/// The name of the store file inside the app's data directory.
pub const STORE_FILE: &str = "cunji.sqlite3";

/// The directory, inside the app's data directory, that keeps check-in photos.
pub const PHOTO_DIR: &str = "photos";

/// The largest photo [`FieldApp::save_check_in_photo`] keeps: a phone camera's full-size
/// JPEG is 2–8 MB.
pub const MAX_PHOTO_BYTES: usize = 20 * 1024 * 1024;

/// An error of the field app: a stable code and a message a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    #[error("请先登录 / sign in first")]
    NotSignedIn,
    #[error("{message}")]
    Input { code: &'static str, message: String },
    #[error(
        "无法连接服务器,记录已保存在本机,有网络时再同步 / cannot reach the server, records are kept on this phone: {0}"
    )]
    Network(String),
    #[error("服务器拒绝: {0}")]
    Server(String),
    #[error(
        "服务器存储已满,记录仍保存在本机,请稍后再同步并告知管理员 / the server's storage is full; records stay on this phone, sync later: {0}"
    )]
    ServerFull(String),
    #[error(
        "服务器证书不受信任,未发送任何数据,请核对服务器地址或联系管理员 / the server's certificate is not trusted; nothing was sent: {0}"
    )]
    UntrustedServer(String),
    #[error("登录已过期,请重新登录 / sign in again: {0}")]
    Unauthorized(String),
    #[error(transparent)]
    Core(#[from] Error),
}

impl FieldError {
    /// A stable code for the UI to branch on.
    pub fn code(&self) -> &str {
        match self {
            FieldError::NotSignedIn => "not_signed_in",
            FieldError::Input { code, .. } => code,
            FieldError::Network(_) => "network",
            FieldError::Server(_) => "refused",
            FieldError::ServerFull(_) => "server_full",
            FieldError::UntrustedServer(_) => "untrusted_server",
            FieldError::Unauthorized(_) => "unauthorized",
            FieldError::Core(e) => e.code(),
        }
    }

    fn input(code: &'static str, message: impl Into<String>) -> Self {
        FieldError::Input {
            code,
            message: message.into(),
        }
    }
}

impl From<rusqlite::Error> for FieldError {
    fn from(e: rusqlite::Error) -> Self {
        FieldError::Core(Error::from(e))
    }
}

impl From<client::SyncError> for FieldError {
    fn from(e: client::SyncError) -> Self {
        match e {
            client::SyncError::Unauthorized(m) => FieldError::Unauthorized(m),
            client::SyncError::GaveUp { last, .. } => FieldError::Network(last.to_string()),
            client::SyncError::ServerFull(m) => FieldError::ServerFull(m),
            client::SyncError::Refused(client::TransportError::Untrusted(m)) => {
                FieldError::UntrustedServer(m)
            }
            client::SyncError::Refused(t) => FieldError::Server(t.to_string()),
            client::SyncError::Store(e) => FieldError::Core(e),
        }
    }
}

impl From<client::TransportError> for FieldError {
    fn from(e: client::TransportError) -> Self {
        match e {
            client::TransportError::Network(m) => FieldError::Network(m),
            client::TransportError::Status { status: 401, body } => {
                FieldError::input("bad_login", format!("账号或密码不对 / {}", body.message))
            }
            other => FieldError::Server(other.to_string()),
        }
    }
}

pub type FieldResult<T> = std::result::Result<T, FieldError>;

/// The app's state: the device's store and who is signed in.
#[derive(Debug)]
pub struct FieldApp {
    store: Store,
    dir: PathBuf,
    /// The store's key, derived from the PIN, held only in memory: a [`SyncJob`] opens its
    /// own connection with it.
    key: Arc<DeviceKey>,
    /// Held by the running [`SyncJob`], so two syncs never push the same outbox at once.
    syncing: Arc<Mutex<()>>,
}

impl FieldApp {
    /// Whether `dir` already holds the app's store: the app then asks for the PIN that opens
    /// it; otherwise it asks the cadre to choose one.
    pub fn exists(dir: &Path) -> bool {
        dir.join(STORE_FILE).exists()
    }

    /// Opens (creating if needed) the app's data in `dir`, encrypted with a key derived from
    /// the cadre's `pin` ([`Store::open_with_pin`]; the key is held only in memory). A wrong
    /// PIN is `wrong_pin` and changes nothing; a PIN shorter than the minimum when the store is
    /// created is `pin_too_short`.
    pub fn open(dir: &Path, pin: &str) -> FieldResult<FieldApp> {
        std::fs::create_dir_all(dir).map_err(|e| {
            FieldError::input(
                "data_dir",
                format!("无法创建数据目录 {}: {e}", dir.display()),
            )
        })?;
        let path = dir.join(STORE_FILE);
        let key = DeviceKey::from_pin(pin, &KeySalt::load_or_create(&path)?)?;
        let store = Store::open_encrypted(&path, &key)?;
        store.conn().execute_batch(
            "CREATE TABLE IF NOT EXISTS app_session (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 server_url TEXT NOT NULL, login TEXT NOT NULL, token TEXT NOT NULL,
                 expires_at TEXT NOT NULL, cadre_id TEXT NOT NULL, role TEXT NOT NULL,
                 last_sync TEXT);
             CREATE TABLE IF NOT EXISTS app_drafts (
                 form TEXT PRIMARY KEY, json TEXT NOT NULL, saved_at TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS app_settings (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 json TEXT NOT NULL, fetched_at TEXT NOT NULL);",
        )?;
        Ok(FieldApp {
            store,
            dir: dir.to_path_buf(),
            key: Arc::new(key),
            syncing: Arc::new(Mutex::new(())),
        })
    }

    /// Changes the PIN that encrypts the store: `old` must open it (checked on a second
    /// connection, so a phone left unlocked cannot be re-keyed by someone who does not know
    /// it); the whole file is re-encrypted under the new key in one transaction.
    pub fn change_pin(&mut self, old: &str, new: &str) -> FieldResult<()> {
        let path = self.dir.join(STORE_FILE);
        drop(Store::open_with_pin(&path, old)?);
        let key = DeviceKey::from_pin(new, &KeySalt::load(&path)?)?;
        // No sync may hold a connection under the old key while the file is re-keyed.
        let _sync = self.syncing.lock().unwrap_or_else(|e| e.into_inner());
        self.store.rekey(&key)?;
        self.key = Arc::new(key);
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// The county's ⚙ settings as last fetched, or DOMAIN's defaults when none ever were
    /// (see the module docs). Settings this build cannot read count as none.
    pub fn settings(&self) -> FieldResult<EffectiveSettings> {
        let json: Option<String> = self
            .store
            .conn()
            .query_row("SELECT json FROM app_settings WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(json
            .and_then(|j| {
                serde_json::from_str(&j)
                    .map_err(|e| tracing::warn!(error = %e, "stored county settings unreadable"))
                    .ok()
            })
            .unwrap_or_default())
    }

    fn rules(&self) -> FieldResult<RulesConfig> {
        Ok(self.settings()?.settings.rules)
    }

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

    /// Who is signed in on this device, if anyone.
    pub fn me(&self) -> FieldResult<Option<Me>> {
        let me = self
            .store
            .conn()
            .query_row(
                "SELECT login, cadre_id, role, server_url, last_sync FROM app_session",
                [],
                |r| {
                    Ok(Me {
                        login: r.get(0)?,
                        cadre_id: r.get(1)?,
                        role: r.get(2)?,
                        server_url: r.get(3)?,
                        last_sync: r.get(4)?,
                    })
                },
            )
            .optional()?;
        Ok(me)
    }

    fn require_me(&self) -> FieldResult<Me> {
        self.me()?.ok_or(FieldError::NotSignedIn)
    }

    /// Signs in online, registers this device and pulls the village's records. Needed once;
    /// the session is kept in the store file.
    pub fn login(&mut self, input: &LoginInput) -> FieldResult<Me> {
        let url = input.server_url.trim().trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(FieldError::input(
                "bad_server_url",
                "服务器地址应以 http:// 或 https:// 开头",
            ));
        }
        if input.login.trim().is_empty() || input.password.is_empty() {
            return Err(FieldError::input("bad_login", "请输入账号和密码"));
        }
        let resp = client::login(url, input.login.trim(), &input.password, &self.store)?;
        self.store.conn().execute(
            "INSERT INTO app_session (id, server_url, login, token, expires_at, cadre_id, role)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET server_url = ?1, login = ?2, token = ?3,
                 expires_at = ?4, cadre_id = ?5, role = ?6",
            params![
                url,
                input.login.trim(),
                resp.token,
                resp.expires_at,
                resp.cadre_id,
                resp.role
            ],
        )?;
        self.sync(&mut |_| {})?;
        self.require_me()
    }

    /// Forgets the session (records stay on the device).
    pub fn logout(&mut self) -> FieldResult<()> {
        self.store.conn().execute("DELETE FROM app_session", [])?;
        Ok(())
    }

    /// Pushes this device's records and pulls the others', reporting progress (the sign-in's
    /// first sync; the app runs a [`SyncJob`] instead, off the app's lock).
    pub fn sync(&mut self, on_event: &mut dyn FnMut(SyncEvent)) -> FieldResult<SyncReport> {
        self.sync_job()?.run(on_event)
    }

    /// What a sync needs, taken from the app so that the sync can run on its own connection
    /// while the cadre goes on recording: the network may take minutes at 2G rates.
    pub fn sync_job(&self) -> FieldResult<SyncJob> {
        let (url, token): (String, String) = self
            .store
            .conn()
            .query_row("SELECT server_url, token FROM app_session", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?
            .ok_or(FieldError::NotSignedIn)?;
        Ok(SyncJob {
            path: self.dir.join(STORE_FILE),
            key: Arc::clone(&self.key),
            url,
            token,
            syncing: Arc::clone(&self.syncing),
        })
    }

    /// The server's address, when signed in.
    pub fn server_url(&self) -> FieldResult<Option<String>> {
        Ok(self.me()?.map(|me| me.server_url))
    }

    /// The home screen: today's check-ins, what waits to sync, the last sync.
    pub fn home(&self, today: Date) -> FieldResult<Home> {
        let me = self.me()?;
        let conn = self.store.conn();
        let mut check_ins = Vec::new();
        let mut village = None;
        if let Some(me) = &me {
            let mut stmt = conn.prepare_cached(
                "SELECT doc_id, local_time, lat, lon, accuracy_m, village_code FROM p_checkin
                 WHERE cadre_id = ?1 AND local_date = ?2 AND state = 'submitted'
                 ORDER BY local_time",
            )?;
            let rows = stmt.query_map(params![me.cadre_id, today.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, f64>(2)?,
                    r.get::<_, f64>(3)?,
                    r.get::<_, Option<f64>>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?;
            for row in rows {
                let (id, time, lat, lon, accuracy_m, village_code) = row?;
                let inside = self.inside_geofence(&village_code, &Geo::at(lat, lon))?;
                check_ins.push(CheckInSummary {
                    id,
                    time,
                    accuracy_m,
                    inside_geofence: inside,
                });
            }
            village = self.my_village(&me.cadre_id, today)?;
        }
        let conflicts = self.store.all_conflicts()?.len();
        let settings = self.settings()?;
        Ok(Home {
            me,
            today: today.to_string(),
            village,
            check_ins,
            waiting_to_sync: self.store.outbox_len()?,
            conflicts,
            on_leave: self.current_leave(today)?,
            clock_off_s: self
                .store
                .clock_offset()?
                .filter(|o| o.is_off(settings.settings.rules.attendance.max_clock_drift_s))
                .map(|o| o.offset_ms / 1000),
            check_in_photo: settings.settings.check_in_photo,
            settings_source: settings.source,
        })
    }

    /// The village of the team `cadre_id` serves on `date`, if any.
    fn my_village(&self, cadre_id: &str, date: Date) -> FieldResult<Option<VillageInfo>> {
        let row: Option<(String, String, Option<String>)> = self
            .store
            .conn()
            .query_row(
                "SELECT m.village_code, t.leader_id, v.name FROM p_team_member m
                 JOIN p_team t ON t.doc_id = m.doc_id
                 LEFT JOIN p_village v ON v.code = m.village_code
                 WHERE m.cadre_id = ?1 AND t.state <> 'void'
                   AND (m.from_date IS NULL OR m.from_date <= ?2)
                   AND (m.to_date IS NULL OR m.to_date >= ?2)
                 ORDER BY m.from_date DESC LIMIT 1",
                params![cadre_id, date.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(code, leader_id, name)| VillageInfo {
            name: name.unwrap_or_else(|| code.clone()),
            code,
            leader_id,
        }))
    }

    fn inside_geofence(&self, village_code: &str, at: &Geo) -> FieldResult<Option<bool>> {
        let id: Option<String> = self
            .store
            .conn()
            .query_row(
                "SELECT doc_id FROM p_village WHERE code = ?1 AND state <> 'void'",
                [village_code],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else { return Ok(None) };
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

    fn create<T: Record>(
        &mut self,
        me: &Me,
        reason: &str,
        record: &T,
        geo: Option<Geo>,
    ) -> FieldResult<String> {
        let author = Author::now(me.cadre_id.clone(), reason);
        Ok(self.store.create_with(
            &author,
            record,
            CreateOptions {
                geo,
                ..CreateOptions::default()
            },
        )?)
    }

    /// This cadre's leave requests, newest first.
    pub fn my_leaves(&self) -> FieldResult<Vec<LeaveRow>> {
        let me = self.require_me()?;
        let ids: Vec<String> = self
            .store
            .conn()
            .prepare_cached(
                "SELECT doc_id FROM p_leave WHERE cadre_id = ?1 AND state = 'submitted'
                 ORDER BY from_date DESC",
            )?
            .query_map([&me.cadre_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.into_iter()
            .map(|id| {
                let leave = self.store.get::<Leave>(&id)?.record;
                Ok(LeaveRow { id, leave })
            })
            .collect()
    }

    fn current_leave(&self, today: Date) -> FieldResult<Option<LeaveRow>> {
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

    /// Households matching a search and filters, with when each was last visited.
    pub fn households(
        &self,
        query: &HouseholdQuery,
        today: Date,
    ) -> FieldResult<Vec<HouseholdItem>> {
        let filter = HouseholdFilter {
            village_code: None,
            status: query.status,
            search: query.search.clone().filter(|s| !s.trim().is_empty()),
        };
        let rows = self
            .store
            .list_households(&filter, Page::first(query.limit.unwrap_or(200)))?;
        let me = self.me()?;
        let mut last_visit = self.store.conn().prepare_cached(
            "SELECT MAX(start_date) FROM p_visit WHERE household_id = ?1 AND state = 'submitted'",
        )?;
        let mut mine = self.store.conn().prepare_cached(
            "SELECT COUNT(*) FROM p_assignment WHERE household_id = ?1 AND cadre_id = ?2
             AND state = 'submitted'",
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let last: Option<String> = last_visit.query_row([&row.id], |r| r.get(0))?;
            let days_since = last
                .as_deref()
                .and_then(|d| Date::parse_from_str(d, "%Y-%m-%d").ok())
                .map(|d| (today - d).num_days());
            if let Some(n) = query.not_visited_days
                && days_since.is_some_and(|d| d <= n)
            {
                continue;
            }
            let assigned_to_me = match &me {
                Some(me) => {
                    mine.query_row(params![row.id, me.cadre_id], |r| r.get::<_, i64>(0))? > 0
                }
                None => false,
            };
            out.push(HouseholdItem {
                row,
                last_visit: last,
                days_since_visit: days_since,
                assigned_to_me,
            });
        }
        Ok(out)
    }

    /// A household's page: the record, its flags, entitlements with deliveries, visits and
    /// the edit history.
    pub fn household(&self, id: &str, today: Date) -> FieldResult<HouseholdPage> {
        let stored = self.store.get::<Household>(id)?;
        let conn = self.store.conn();
        let visits: Vec<VisitItem> = conn
            .prepare_cached(
                "SELECT doc_id FROM p_visit WHERE household_id = ?1 AND state = 'submitted'
                 ORDER BY start_ts DESC",
            )?
            .query_map([id], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .map(|vid| {
                let visit = self.store.get::<Visit>(&vid)?.record;
                Ok(VisitItem { id: vid, visit })
            })
            .collect::<FieldResult<_>>()?;
        let latest_food = visits
            .first()
            .map(|v| v.visit.checklist.food_clothing.answer);
        let water_scarce: bool = conn
            .query_row(
                "SELECT water_scarce FROM p_village WHERE code = ?1",
                [&stored.record.village_code],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false);
        let flags = stored.record.flags(
            today,
            latest_food,
            &crate::domain::household::FlagConfig::default(),
            water_scarce,
        );
        let entitlement_ids: Vec<String> = conn
            .prepare_cached(
                "SELECT doc_id FROM p_entitlement WHERE household_id = ?1 AND state = 'submitted'
                 ORDER BY due_date",
            )?
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut entitlements = Vec::new();
        for eid in entitlement_ids {
            let entitlement = self.store.get::<Entitlement>(&eid)?.record;
            let delivery_ids: Vec<String> = conn
                .prepare_cached(
                    "SELECT doc_id FROM p_delivery WHERE entitlement_id = ?1
                     AND state = 'submitted' ORDER BY delivered_date",
                )?
                .query_map([&eid], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let deliveries = delivery_ids
                .into_iter()
                .map(|did| {
                    let delivery = self.store.get::<Delivery>(&did)?.record;
                    Ok(DeliveryItem { id: did, delivery })
                })
                .collect::<FieldResult<_>>()?;
            entitlements.push(EntitlementItem {
                id: eid,
                entitlement,
                deliveries,
            });
        }
        Ok(HouseholdPage {
            id: id.to_string(),
            household: stored.record,
            flags,
            visits,
            entitlements,
            history: self.store.history(id)?,
            conflicts: stored.conflicts,
        })
    }

    /// Records a visit by the signed-in cadre (R6: the visitor is always the author).
    pub fn record_visit(&mut self, visit: &Visit) -> FieldResult<String> {
        let me = self.require_me()?;
        let mut visit = visit.clone();
        visit.visitor_id = me.cadre_id.clone();
        let geo = visit.geo;
        self.create(&me, "入户走访", &visit, geo)
    }

    /// Records a delivery of an entitlement.
    pub fn record_delivery(&mut self, delivery: &Delivery) -> FieldResult<String> {
        let me = self.require_me()?;
        self.store
            .get::<Entitlement>(&delivery.entitlement_id)
            .map_err(|_| {
                FieldError::input(
                    "unknown_entitlement",
                    "找不到这项应享政策:请先同步,或从户页面进入",
                )
            })?;
        self.create(&me, "政策兑现", delivery, None)
    }

    /// Writes the day's work log (one per day: a second one for the same day edits the first).
    pub fn write_work_log(&mut self, log: &WorkLog) -> FieldResult<String> {
        let me = self.require_me()?;
        let existing: Option<String> = self
            .store
            .conn()
            .query_row(
                "SELECT doc_id FROM p_work_log WHERE author_id = ?1 AND date = ?2
                 AND state = 'submitted'",
                params![me.cadre_id, log.date.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        match existing {
            Some(id) => {
                self.store
                    .update(&Author::now(me.cadre_id, "修改驻村日志"), &id, log)?;
                Ok(id)
            }
            None => self.create(&me, "驻村日志", log, None),
        }
    }

    /// The signed-in cadre's work log of `date`, if written.
    pub fn work_log(&self, date: Date) -> FieldResult<Option<WorkLog>> {
        let me = self.require_me()?;
        let id: Option<String> = self
            .store
            .conn()
            .query_row(
                "SELECT doc_id FROM p_work_log WHERE author_id = ?1 AND date = ?2
                 AND state = 'submitted'",
                params![me.cadre_id, date.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        id.map(|id| Ok(self.store.get::<WorkLog>(&id)?.record))
            .transpose()
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
            let members: Vec<String> = self
                .store
                .conn()
                .prepare_cached(
                    "SELECT DISTINCT m.cadre_id FROM p_team_member m JOIN p_team t
                     ON t.doc_id = m.doc_id WHERE m.village_code = ?1 AND m.cadre_id <> ?2
                     ORDER BY m.cadre_id",
                )?
                .query_map(params![village.code, me.cadre_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for m in members {
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

    /// Every field on this device holding two values after a merge.
    pub fn conflicts(&self) -> FieldResult<Vec<ConflictItem>> {
        let mut out = Vec::new();
        let kinds: Vec<(String, String)> = self
            .store
            .all_conflicts()?
            .into_iter()
            .map(|(id, kind, _)| (id, kind))
            .collect();
        for (id, kind) in kinds {
            for conflict in self.store.conflicts(&id)? {
                out.push(ConflictItem {
                    record_id: id.clone(),
                    kind: kind.clone(),
                    conflict,
                });
            }
        }
        Ok(out)
    }

    /// Settles one conflict with the chosen value and a reason.
    pub fn resolve_conflict(&mut self, input: &ResolveInput) -> FieldResult<()> {
        let me = self.require_me()?;
        if input.reason.trim().is_empty() {
            return Err(FieldError::input(
                "reason_required",
                "请写明选择这个值的理由 / say why",
            ));
        }
        let author = Author::now(me.cadre_id, input.reason.trim());
        self.store
            .resolve(&author, &input.record_id, &input.path, &input.value)?;
        Ok(())
    }

    /// Saves a form's draft (called as the cadre types).
    pub fn save_draft(&mut self, form: &str, json: &str) -> FieldResult<()> {
        serde_json::from_str::<serde_json::Value>(json)
            .map_err(|e| FieldError::input("bad_draft", format!("草稿不是 JSON: {e}")))?;
        self.store.conn().execute(
            "INSERT INTO app_drafts (form, json, saved_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (form) DO UPDATE SET json = ?2, saved_at = ?3",
            params![form, json, now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// The saved draft of a form, if any.
    pub fn draft(&self, form: &str) -> FieldResult<Option<String>> {
        Ok(self
            .store
            .conn()
            .query_row("SELECT json FROM app_drafts WHERE form = ?1", [form], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Drops a form's draft (after it was saved as a record, or discarded).
    pub fn discard_draft(&mut self, form: &str) -> FieldResult<()> {
        self.store
            .conn()
            .execute("DELETE FROM app_drafts WHERE form = ?1", [form])?;
        Ok(())
    }

    /// Every code list the forms offer, with Chinese and English labels.
    pub fn code_lists(&self) -> CodeLists {
        CodeLists::all()
    }

    /// Members of a household, for the visit form's "met member" choice.
    pub fn household_members(&self, id: &str) -> FieldResult<Vec<MemberOption>> {
        let household = self.store.get::<Household>(id)?.record;
        Ok(household
            .members
            .iter()
            .map(|(mid, m)| MemberOption {
                id: mid.clone(),
                name: m.name.clone(),
            })
            .collect())
    }
}

/// Whether the sync server at `server_url` accepts a connection within two seconds (a plain TCP connect:
/// cheap enough to poll, and no HTTP client to build and drop on every poll).
pub fn server_reachable(server_url: &str) -> bool {
    use std::net::ToSocketAddrs;
    let rest = server_url.split_once("://").map_or(server_url, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    let default_port = if server_url.starts_with("https") {
        443
    } else {
        80
    };
    let addr = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:{default_port}")
    };
    let Ok(mut addrs) = addr.to_socket_addrs() else {
        return false;
    };
    addrs.any(|a| {
        std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(2)).is_ok()
    })
}

/// A sync taken from a [`FieldApp`] ([`FieldApp::sync_job`]): it opens its own connection to
/// the encrypted store, so the app's other commands go on while it waits on the network
/// (SQLite's WAL lets both connections work; a write waits for the other's at most a few
/// seconds). Only one job runs at a time; a second waits for the first.
#[derive(Debug)]
pub struct SyncJob {
    path: PathBuf,
    key: Arc<DeviceKey>,
    url: String,
    token: String,
    syncing: Arc<Mutex<()>>,
}

impl SyncJob {
    /// Pushes this device's records and pulls the others', reporting progress.
    pub fn run(self, on_event: &mut dyn FnMut(SyncEvent)) -> FieldResult<SyncReport> {
        let _running = self.syncing.lock().unwrap_or_else(|e| e.into_inner());
        let mut store = Store::open_encrypted(&self.path, &self.key)?;
        let mut transport = HttpTransport::new(&self.url, &self.token);
        let options = SyncOptions {
            attempts: 2,
            ..SyncOptions::default()
        };
        let report = client::sync_now(&mut store, &mut transport, &options, on_event)?;
        store.conn().execute(
            "UPDATE app_session SET last_sync = ?1",
            [now().to_rfc3339()],
        )?;
        // The records are exchanged: a settings fetch that fails now keeps the last ones.
        let fetched = transport
            .county_settings()
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::to_string(&s).map_err(|e| e.to_string()));
        match fetched {
            Ok(json) => {
                store.conn().execute(
                    "INSERT INTO app_settings (id, json, fetched_at) VALUES (1, ?1, ?2)
                     ON CONFLICT (id) DO UPDATE SET json = ?1, fetched_at = ?2",
                    params![json, now().to_rfc3339()],
                )?;
            }
            Err(e) => tracing::warn!(error = %e, "county settings not fetched; the last ones stay"),
        }
        Ok(report)
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
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// A fixed location given as `lat,lon[,accuracy_m]`: desktops have no GPS, so the desktop
/// build reads its location from `CUNJI_LOCATION` when the webview offers none.
pub fn location_from_env(value: Option<&str>) -> Option<CheckInInput> {
    let mut parts = value?.split(',').map(|p| p.trim().parse::<f64>());
    let lat = parts.next()?.ok()?;
    let lon = parts.next()?.ok()?;
    let accuracy_m = match parts.next() {
        Some(a) => Some(a.ok()?),
        None => None,
    };
    let ok = (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
    ok.then_some(CheckInInput {
        lat,
        lon,
        accuracy_m,
        photo_sha256: None,
    })
}

/// The device's clock with its zone.
pub fn now() -> Timestamp {
    crate::store::now()
}

/// Today's date on the device.
pub fn today() -> Date {
    now().date_naive()
}

/// The current year and month.
pub fn this_month() -> (i32, u32) {
    let t = today();
    (t.year(), t.month())
}

#[cfg(test)]
mod tests;
