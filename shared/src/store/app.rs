//! The field app's own tables, beside the records in the same file (migration 4 of
//! [`super::schema`]): `app_session` (server, token, who is signed in, last sync),
//! `app_drafts` (one JSON draft per form) and `app_settings` (the county's ⚙ settings as last
//! fetched). None of them syncs; [`crate::field`] is their only user and reads them through
//! the typed methods here.

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::Result;
use crate::rules::EffectiveSettings;

/// The session a sign-in leaves (`app_session`, one row at most).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSession {
    /// The server's address, without a trailing `/`.
    pub server_url: String,
    pub login: String,
    pub token: String,
    pub expires_at: String,
    pub cadre_id: String,
    /// The account's role code (`team_member`, `first_secretary`…).
    pub role: String,
    /// When the last sync ended (RFC 3339), `None` before the first.
    pub last_sync: Option<String>,
}

impl Store {
    /// The signed-in session, if any.
    pub fn app_session(&self) -> Result<Option<AppSession>> {
        Ok(self
            .conn
            .query_row(
                "SELECT server_url, login, token, expires_at, cadre_id, role, last_sync
                 FROM app_session",
                [],
                |r| {
                    Ok(AppSession {
                        server_url: r.get(0)?,
                        login: r.get(1)?,
                        token: r.get(2)?,
                        expires_at: r.get(3)?,
                        cadre_id: r.get(4)?,
                        role: r.get(5)?,
                        last_sync: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }

    /// Keeps the session of a sign-in in place of the last one, whose `last_sync` stays
    /// (`session.last_sync` is not written: only [`Store::set_last_sync`] writes it).
    pub fn set_app_session(&self, session: &AppSession) -> Result<()> {
        self.conn.execute(
            "INSERT INTO app_session (id, server_url, login, token, expires_at, cadre_id, role)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET server_url = ?1, login = ?2, token = ?3,
                 expires_at = ?4, cadre_id = ?5, role = ?6",
            params![
                session.server_url,
                session.login,
                session.token,
                session.expires_at,
                session.cadre_id,
                session.role
            ],
        )?;
        Ok(())
    }

    /// Forgets the session.
    pub fn clear_app_session(&self) -> Result<()> {
        self.conn.execute("DELETE FROM app_session", [])?;
        Ok(())
    }

    /// Notes when a sync ended (`at`, RFC 3339).
    pub fn set_last_sync(&self, at: &str) -> Result<()> {
        self.conn
            .execute("UPDATE app_session SET last_sync = ?1", [at])?;
        Ok(())
    }

    /// The county's settings as last fetched; `None` when none ever were, or when the kept
    /// ones are not readable by this build (logged).
    pub fn county_settings(&self) -> Result<Option<EffectiveSettings>> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM app_settings WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(json.and_then(|j| {
            serde_json::from_str(&j)
                .map_err(|e| tracing::warn!(error = %e, "stored county settings unreadable"))
                .ok()
        }))
    }

    /// Keeps the county's settings fetched at `fetched_at` (RFC 3339) in place of the last
    /// ones. Settings that cannot be written as JSON are logged and leave the last ones.
    pub fn set_county_settings(
        &self,
        settings: &EffectiveSettings,
        fetched_at: &str,
    ) -> Result<()> {
        let json = match serde_json::to_string(settings) {
            Ok(json) => json,
            Err(e) => {
                tracing::warn!(error = %e, "county settings not fetched; the last ones stay");
                return Ok(());
            }
        };
        self.set_county_settings_json(&json, fetched_at)
    }

    /// [`Store::set_county_settings`] as JSON, unchecked: for tests of settings a build cannot
    /// read.
    #[doc(hidden)]
    pub fn set_county_settings_json(&self, json: &str, fetched_at: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO app_settings (id, json, fetched_at) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET json = ?1, fetched_at = ?2",
            params![json, fetched_at],
        )?;
        Ok(())
    }

    /// Keeps a form's draft (`json`, saved at `saved_at`), replacing its last one.
    pub fn save_draft(&self, form: &str, json: &str, saved_at: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO app_drafts (form, json, saved_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (form) DO UPDATE SET json = ?2, saved_at = ?3",
            params![form, json, saved_at],
        )?;
        Ok(())
    }

    /// A form's draft, if one is kept.
    pub fn draft(&self, form: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT json FROM app_drafts WHERE form = ?1", [form], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Drops a form's draft.
    pub fn discard_draft(&self, form: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM app_drafts WHERE form = ?1", [form])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::store::schema::SCHEMA_VERSION;

    /// What a build before migration 4 left: the store at version 3, and the app's tables as
    /// `FieldApp::open` made them then, with a signed-in session, a draft and settings.
    fn old_device_store(path: &std::path::Path, with_app_tables: bool) {
        drop(Store::open(path).unwrap());
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch(
            "DROP TABLE app_session; DROP TABLE app_drafts; DROP TABLE app_settings;
             DROP TABLE rebuilt_edits; DROP TABLE known_keys; DROP TABLE server_key;
             PRAGMA user_version = 3;",
        )
        .unwrap();
        if with_app_tables {
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS app_session (
                     id INTEGER PRIMARY KEY CHECK (id = 1),
                     server_url TEXT NOT NULL, login TEXT NOT NULL, token TEXT NOT NULL,
                     expires_at TEXT NOT NULL, cadre_id TEXT NOT NULL, role TEXT NOT NULL,
                     last_sync TEXT);
                 CREATE TABLE IF NOT EXISTS app_drafts (
                     form TEXT PRIMARY KEY, json TEXT NOT NULL, saved_at TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS app_settings (
                     id INTEGER PRIMARY KEY CHECK (id = 1),
                     json TEXT NOT NULL, fetched_at TEXT NOT NULL);
                 INSERT INTO app_session VALUES (1, 'https://sync.example', 'liming', 'tok',
                     '2099-01-01T00:00:00Z', 'cadre-li-ming', 'team_member',
                     '2026-11-20T08:00:00+08:00');
                 INSERT INTO app_drafts VALUES ('visit', '{\"a\":1}', '2026-11-20T08:00:00+08:00');",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO app_settings VALUES (1, ?1, '2026-11-20T08:00:00+08:00')",
                [serde_json::to_string(&EffectiveSettings::default()).unwrap()],
            )
            .unwrap();
        }
    }

    fn version(store: &Store) -> i64 {
        store
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_device_store_of_an_older_build_keeps_its_session_drafts_and_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        old_device_store(&path, true);
        let store = Store::open(&path).unwrap();
        assert_eq!(version(&store), SCHEMA_VERSION);
        assert_eq!(
            store.app_session().unwrap(),
            Some(AppSession {
                server_url: "https://sync.example".into(),
                login: "liming".into(),
                token: "tok".into(),
                expires_at: "2099-01-01T00:00:00Z".into(),
                cadre_id: "cadre-li-ming".into(),
                role: "team_member".into(),
                last_sync: Some("2026-11-20T08:00:00+08:00".into()),
            })
        );
        assert_eq!(store.draft("visit").unwrap().as_deref(), Some("{\"a\":1}"));
        assert_eq!(
            store.county_settings().unwrap(),
            Some(EffectiveSettings::default())
        );
    }

    #[test]
    fn a_store_of_an_older_build_without_the_app_tables_gets_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        old_device_store(&path, false);
        let store = Store::open(&path).unwrap();
        assert_eq!(version(&store), SCHEMA_VERSION);
        assert_eq!(store.app_session().unwrap(), None);
        assert_eq!(store.draft("visit").unwrap(), None);
        assert_eq!(store.county_settings().unwrap(), None);
    }

    #[test]
    fn the_session_drafts_and_settings_are_kept_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        let mut session = AppSession {
            server_url: "http://127.0.0.1:9".into(),
            login: "a".into(),
            token: "t1".into(),
            expires_at: "2099-01-01T00:00:00Z".into(),
            cadre_id: "cadre-a".into(),
            role: "team_member".into(),
            last_sync: None,
        };
        store.set_app_session(&session).unwrap();
        store.set_last_sync("2026-11-22T08:00:00+08:00").unwrap();
        // A second sign-in replaces the session but keeps when the last sync was.
        session.token = "t2".into();
        store.set_app_session(&session).unwrap();
        let kept = store.app_session().unwrap().unwrap();
        assert_eq!(kept.token, "t2");
        assert_eq!(kept.last_sync.as_deref(), Some("2026-11-22T08:00:00+08:00"));
        store.clear_app_session().unwrap();
        assert_eq!(store.app_session().unwrap(), None);

        store.save_draft("log", "{}", "t").unwrap();
        store.save_draft("log", "[1]", "t").unwrap();
        assert_eq!(store.draft("log").unwrap().as_deref(), Some("[1]"));
        store.discard_draft("log").unwrap();
        assert_eq!(store.draft("log").unwrap(), None);

        let settings = EffectiveSettings {
            county_code: Some("530322".into()),
            ..EffectiveSettings::default()
        };
        store.set_county_settings(&settings, "t").unwrap();
        assert_eq!(store.county_settings().unwrap(), Some(settings));
        // Settings this build cannot read count as none.
        store
            .set_county_settings_json("{\"settings\": 5}", "t")
            .unwrap();
        assert_eq!(store.county_settings().unwrap(), None);
    }
}
