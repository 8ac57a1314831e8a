//! Who is signed in: the sign-in (online, once), the session kept in the store, the home
//! screen, and what every form offers (code lists, the desktop's fixed location).

use super::{
    CheckInInput, CheckInSummary, CodeLists, FieldApp, FieldError, FieldResult, Home, LoginInput,
    Me, VillageInfo,
};
use crate::store::AppSession;
use crate::sync::client;
use crate::values::{Date, Geo};

impl FieldApp {
    /// Who is signed in on this device, if anyone.
    pub fn me(&self) -> FieldResult<Option<Me>> {
        Ok(self.store.app_session()?.map(|s| Me {
            login: s.login,
            cadre_id: s.cadre_id,
            role: s.role,
            server_url: s.server_url,
            last_sync: s.last_sync,
        }))
    }

    pub(super) fn require_me(&self) -> FieldResult<Me> {
        self.me()?.ok_or(FieldError::NotSignedIn)
    }

    /// The village of the team `cadre_id` serves on `date`, if any.
    pub(super) fn my_village(
        &self,
        cadre_id: &str,
        date: Date,
    ) -> FieldResult<Option<VillageInfo>> {
        Ok(self
            .store
            .team_village(cadre_id, date)?
            .map(|t| VillageInfo {
                name: t.village_name.unwrap_or_else(|| t.village_code.clone()),
                code: t.village_code,
                leader_id: t.leader_id,
            }))
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
        self.store.set_app_session(&AppSession {
            server_url: url.to_string(),
            login: input.login.trim().to_string(),
            token: resp.token,
            expires_at: resp.expires_at,
            cadre_id: resp.cadre_id,
            role: resp.role,
            last_sync: None,
        })?;
        self.sync(&mut |_| {})?;
        self.require_me()
    }

    /// Forgets the session (records stay on the device).
    pub fn logout(&mut self) -> FieldResult<()> {
        self.store.clear_app_session()?;
        Ok(())
    }

    /// The server's address, when signed in.
    pub fn server_url(&self) -> FieldResult<Option<String>> {
        Ok(self.me()?.map(|me| me.server_url))
    }

    /// The home screen: today's check-ins, what waits to sync, the last sync.
    pub fn home(&self, today: Date) -> FieldResult<Home> {
        let me = self.me()?;
        let mut check_ins = Vec::new();
        let mut village = None;
        let mut my_name = None;
        if let Some(me) = &me {
            my_name = self.store.cadre_name(&me.cadre_id)?;
            for row in self.store.check_ins_of_day(&me.cadre_id, today)? {
                let inside = self.inside_geofence(&row.village_code, &Geo::at(row.lat, row.lon))?;
                check_ins.push(CheckInSummary {
                    id: row.id,
                    time: row.time,
                    accuracy_m: row.accuracy_m,
                    inside_geofence: inside,
                });
            }
            village = self.my_village(&me.cadre_id, today)?;
        }
        let conflicts = self.store.all_conflicts()?.len();
        let settings = self.settings()?;
        Ok(Home {
            me,
            my_name,
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

    /// Every code list the forms offer, with Chinese and English labels.
    pub fn code_lists(&self) -> CodeLists {
        CodeLists::all()
    }
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
