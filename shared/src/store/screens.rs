//! Reads the field app's screens make on the projections: which records of a cadre, a
//! household or a village to show, and the few projected values a screen needs without
//! loading a record. Each returns ids (or small rows) in the screen's order; the records
//! themselves are read with [`Store::get`]. Submitted records only, as every screen shows.

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::Result;
use crate::values::Date;

/// A check-in as the home screen lists it (`p_checkin`).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInRow {
    pub id: String,
    /// The device's local time of day.
    pub time: String,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub village_code: String,
}

/// The village of the team a cadre serves, and its leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamVillage {
    pub village_code: String,
    pub leader_id: String,
    /// The village's name, when its record is on the phone.
    pub village_name: Option<String>,
}

/// Whose petitions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PetitionsOf<'a> {
    Household(&'a str),
    Village(&'a str),
    /// Every petition on the phone.
    All,
}

impl Store {
    fn ids_where(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<String>> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_map(args, |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// `cadre_id`'s check-ins of `date`, by time.
    pub fn check_ins_of_day(&self, cadre_id: &str, date: Date) -> Result<Vec<CheckInRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id, local_time, lat, lon, accuracy_m, village_code FROM p_checkin
             WHERE cadre_id = ?1 AND local_date = ?2 AND state = 'submitted'
             ORDER BY local_time",
        )?;
        let rows = stmt.query_map(params![cadre_id, date.to_string()], |r| {
            Ok(CheckInRow {
                id: r.get(0)?,
                time: r.get(1)?,
                lat: r.get(2)?,
                lon: r.get(3)?,
                accuracy_m: r.get(4)?,
                village_code: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The village of the team `cadre_id` serves on `date` (the latest membership), if any.
    pub fn team_village(&self, cadre_id: &str, date: Date) -> Result<Option<TeamVillage>> {
        Ok(self
            .conn
            .query_row(
                "SELECT m.village_code, t.leader_id, v.name FROM p_team_member m
                 JOIN p_team t ON t.doc_id = m.doc_id
                 LEFT JOIN p_village v ON v.code = m.village_code
                 WHERE m.cadre_id = ?1 AND t.state <> 'void'
                   AND (m.from_date IS NULL OR m.from_date <= ?2)
                   AND (m.to_date IS NULL OR m.to_date >= ?2)
                 ORDER BY m.from_date DESC LIMIT 1",
                params![cadre_id, date.to_string()],
                |r| {
                    Ok(TeamVillage {
                        village_code: r.get(0)?,
                        leader_id: r.get(1)?,
                        village_name: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// The other cadres on the teams of `village_code` (any date), by id.
    pub fn village_team_members(&self, village_code: &str, except: &str) -> Result<Vec<String>> {
        self.ids_where(
            "SELECT DISTINCT m.cadre_id FROM p_team_member m JOIN p_team t
             ON t.doc_id = m.doc_id WHERE m.village_code = ?1 AND m.cadre_id <> ?2
             ORDER BY m.cadre_id",
            params![village_code, except],
        )
    }

    /// The record id of the village `code`, unless voided.
    pub fn village_id(&self, code: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT doc_id FROM p_village WHERE code = ?1 AND state <> 'void'",
                [code],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Whether the village `code` is marked water-scarce (`false` when it is not on the phone).
    pub fn village_water_scarce(&self, code: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT water_scarce FROM p_village WHERE code = ?1",
                [code],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false))
    }

    /// The villages on the phone as (code, name), unless voided, by code.
    pub fn village_names(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT code, name FROM p_village WHERE state <> 'void' AND ?1 = ?1 ORDER BY code",
            )?
            .query_map([""], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The resident cadres of a village's teams as (id, name), the id standing for the name
    /// when the cadre's file is not on the phone, by id.
    pub fn village_cadre_names(&self, village_code: &str) -> Result<Vec<(String, String)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT DISTINCT m.cadre_id, COALESCE(c.name, m.cadre_id) FROM p_team_member m
                 JOIN p_team t ON t.doc_id = m.doc_id
                 LEFT JOIN p_cadre c ON c.doc_id = m.cadre_id
                 WHERE m.village_code = ?1 AND t.state <> 'void' ORDER BY m.cadre_id",
            )?
            .query_map([village_code], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// A cadre's name from its file (`p_cadre`, keyed by the cadre id), when on the phone.
    pub fn cadre_name(&self, cadre_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT name FROM p_cadre WHERE doc_id = ?1 AND state <> 'void'",
                [cadre_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The pending leave requests of `cadre_ids` that no team leader endorsed yet, earliest
    /// first day first.
    pub fn unendorsed_leave_ids(&self, cadre_ids: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for c in cadre_ids {
            out.extend(self.ids_where(
                "SELECT doc_id FROM p_leave WHERE cadre_id = ?1 AND state = 'submitted'
                 AND status = 'pending' AND endorsed_by IS NULL ORDER BY from_date",
                [c],
            )?);
        }
        Ok(out)
    }

    /// The work logs of a village from `since` on, except `except`'s, as (id, author), latest
    /// day first.
    pub fn village_work_logs(
        &self,
        village_code: &str,
        since: Date,
        except: &str,
    ) -> Result<Vec<(String, String)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT doc_id, author_id FROM p_work_log WHERE village_code = ?1
                 AND date >= ?2 AND author_id <> ?3 AND state = 'submitted'
                 ORDER BY date DESC, doc_id",
            )?
            .query_map(params![village_code, since.to_string(), except], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// `cadre_id`'s leave requests, latest first day first.
    pub fn leave_ids(&self, cadre_id: &str) -> Result<Vec<String>> {
        self.ids_where(
            "SELECT doc_id FROM p_leave WHERE cadre_id = ?1 AND state = 'submitted'
             ORDER BY from_date DESC",
            [cadre_id],
        )
    }

    /// An account's own 投诉建议, latest first.
    pub fn feedback_ids(&self, author_id: &str) -> Result<Vec<String>> {
        self.ids_where(
            "SELECT doc_id FROM p_feedback WHERE author_id = ?1 AND state = 'submitted'
             ORDER BY submitted_ts DESC",
            [author_id],
        )
    }

    /// The village of a household assigned to `cadre_id` on `date`, if any.
    pub fn assigned_village(&self, cadre_id: &str, date: Date) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT h.village_code FROM p_assignment a JOIN p_household h ON h.doc_id = a.household_id
                 WHERE a.cadre_id = ?1 AND a.state = 'submitted' AND a.from_date <= ?2
                 AND (a.to_date IS NULL OR a.to_date >= ?2) ORDER BY a.from_date LIMIT 1",
            )?
            .query_row(params![cadre_id, date.to_string()], |r| r.get(0))
            .optional()?)
    }

    /// Whether a change of record `doc_id` still waits in the outbox.
    pub fn unsent(&self, doc_id: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM outbox WHERE doc_id = ?1 LIMIT 1")?
            .query_row([doc_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// A household's visits, latest first.
    pub fn visit_ids(&self, household_id: &str) -> Result<Vec<String>> {
        self.ids_where(
            "SELECT doc_id FROM p_visit WHERE household_id = ?1 AND state = 'submitted'
             ORDER BY start_ts DESC",
            [household_id],
        )
    }

    /// The day (`YYYY-MM-DD`) of a household's latest visit, if it had one.
    pub fn last_visit_date(&self, household_id: &str) -> Result<Option<String>> {
        Ok(self.conn.prepare_cached(
            "SELECT MAX(start_date) FROM p_visit WHERE household_id = ?1 AND state = 'submitted'",
        )?
        .query_row([household_id], |r| r.get(0))?)
    }

    /// Whether a household is assigned to `cadre_id` (by any assignment on the phone).
    pub fn is_assigned(&self, household_id: &str, cadre_id: &str) -> Result<bool> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM p_assignment WHERE household_id = ?1 AND cadre_id = ?2
                 AND state = 'submitted'",
            )?
            .query_row(params![household_id, cadre_id], |r| r.get(0))?;
        Ok(n > 0)
    }

    /// The id of a household's ID and bank numbers record, if this store holds it (a team
    /// member's phone holds only its assigned households': DOMAIN §1).
    pub fn numbers_id(&self, household_id: &str) -> Result<Option<String>> {
        Ok(self
            .ids_where(
                "SELECT doc_id FROM p_household_private WHERE household_id = ?1 ORDER BY doc_id",
                [household_id],
            )?
            .into_iter()
            .next())
    }

    /// A household's entitlements, earliest due first.
    pub fn entitlement_ids(&self, household_id: &str) -> Result<Vec<String>> {
        self.ids_where(
            "SELECT doc_id FROM p_entitlement WHERE household_id = ?1 AND state = 'submitted'
             ORDER BY due_date",
            [household_id],
        )
    }

    /// An entitlement's deliveries, earliest first.
    pub fn delivery_ids(&self, entitlement_id: &str) -> Result<Vec<String>> {
        self.ids_where(
            "SELECT doc_id FROM p_delivery WHERE entitlement_id = ?1
             AND state = 'submitted' ORDER BY delivered_date",
            [entitlement_id],
        )
    }

    /// `author_id`'s work log of `date`, if written.
    pub fn work_log_id(&self, author_id: &str, date: Date) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT doc_id FROM p_work_log WHERE author_id = ?1 AND date = ?2
                 AND state = 'submitted'",
                params![author_id, date.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Petitions, latest received first.
    pub fn petition_ids(&self, of: PetitionsOf<'_>) -> Result<Vec<String>> {
        let (sql, arg) = match of {
            PetitionsOf::Household(h) => ("household_id = ?1", h),
            PetitionsOf::Village(v) => ("village_code = ?1", v),
            PetitionsOf::All => ("?1 = ?1", ""),
        };
        self.ids_where(
            &format!(
                "SELECT doc_id FROM p_petition WHERE {sql} AND state = 'submitted'
                 ORDER BY received_date DESC, doc_id DESC"
            ),
            [arg],
        )
    }

    /// A household's 动态调整 cases, first step first.
    pub fn status_change_ids(&self, household_id: &str) -> Result<Vec<String>> {
        self.ids_where(
            "SELECT doc_id FROM p_status_change WHERE household_id = ?1 AND state = 'submitted'
             ORDER BY first_step_date, doc_id",
            [household_id],
        )
    }

    /// The projects of a village (every one on the phone for `None`), latest start first.
    pub fn project_ids(&self, village_code: Option<&str>) -> Result<Vec<String>> {
        match village_code {
            Some(v) => self.ids_where(
                "SELECT doc_id FROM p_project WHERE village_code = ?1 AND state = 'submitted'
                 ORDER BY planned_start DESC, doc_id",
                [v],
            ),
            None => self.ids_where(
                "SELECT doc_id FROM p_project WHERE ?1 = ?1 AND state = 'submitted'
                 ORDER BY planned_start DESC, doc_id",
                [""],
            ),
        }
    }

    /// An inspector's inspections, latest first.
    pub fn inspection_ids(&self, inspector_id: &str) -> Result<Vec<String>> {
        self.ids_where(
            "SELECT doc_id FROM p_inspection WHERE inspector_id = ?1 AND state = 'submitted'
             ORDER BY date DESC, doc_id DESC",
            [inspector_id],
        )
    }

    /// A household's satisfaction surveys, latest period first.
    pub fn survey_ids(&self, household_id: &str) -> Result<Vec<String>> {
        self.ids_where(
            "SELECT doc_id FROM p_survey WHERE household_id = ?1 AND state = 'submitted'
             ORDER BY period DESC, doc_id DESC",
            [household_id],
        )
    }
}
