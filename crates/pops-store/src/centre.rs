//! The centre's own row (one per database) and its settings.

use crate::db::{exec, row};
use crate::{Error, Result, Writer};
use pops_domain::change::{Op, entity};
use pops_domain::visits::WalkthroughItem;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CentreRecord {
    pub id: Uuid,
    pub name: String,
    pub prison: String,
    /// This installation's id (it becomes the hub's device id when enrolled).
    pub device_id: Uuid,
    pub created_at: String,
}

pub const DEFAULT_IDLE_LOCK_MINUTES: i32 = 5;

pub fn create(w: &Writer<'_>, centre: &CentreRecord) -> Result<()> {
    exec(
        w.tx(),
        "INSERT INTO centre (id, name, prison, device_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![centre.id.to_string(), centre.name, centre.prison, centre.device_id.to_string(), centre.created_at],
    )?;
    w.record(entity::CENTRE, centre.id, Op::Upsert, centre, "centre_set_up", &format!("prison={}", centre.prison))?;
    Ok(())
}

pub fn get(conn: &Connection) -> Result<Option<CentreRecord>> {
    row(conn, "SELECT id, name, prison, device_id, created_at FROM centre LIMIT 1", [], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?, r.get(4)?))
    })
    .optional()?
    .map(|(id, name, prison, device, created_at)| {
        let parse = |s: String| Uuid::parse_str(&s).map_err(|_| Error::Malformed("centre id".into()));
        Ok(CentreRecord { id: parse(id)?, name, prison, device_id: parse(device)?, created_at })
    })
    .transpose()
}

fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(row(conn, "SELECT value FROM setting WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

/// The settings record as it travels to head office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub idle_lock_minutes: i32,
    /// The first-visit walkthrough, in the order it is gone through.
    pub walkthrough: Vec<WalkthroughItem>,
    /// How long a family's consent lasts before it must be renewed, in months.
    pub consent_months: i32,
    /// When the laptop sends to head office each night at the latest, London time, `HH:MM`.
    #[serde(default = "default_nightly_at")]
    pub nightly_at: String,
}

pub const DEFAULT_CONSENT_MONTHS: i32 = 12;

/// The nightly send to head office unless the manager sets another time.
pub const DEFAULT_NIGHTLY_AT: &str = "02:00";

fn default_nightly_at() -> String {
    DEFAULT_NIGHTLY_AT.to_string()
}

/// The centre's nightly sync time as saved (`HH:MM`, checked by the app before it is saved), or
/// `None` when the manager has never set one. One row: the sync worker reads it at every cycle.
pub fn nightly_at(conn: &Connection) -> Result<Option<String>> {
    setting(conn, "nightly_at")
}

pub fn settings(conn: &Connection) -> Result<Settings> {
    let idle = setting(conn, "idle_lock_minutes")?.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_IDLE_LOCK_MINUTES);
    let walkthrough = match setting(conn, "walkthrough")? {
        Some(v) => serde_json::from_str(&v)?,
        None => Vec::new(),
    };
    let consent_months =
        setting(conn, "consent_months")?.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CONSENT_MONTHS);
    let nightly_at = nightly_at(conn)?.unwrap_or_else(default_nightly_at);
    Ok(Settings { idle_lock_minutes: idle, walkthrough, consent_months, nightly_at })
}

/// Writes the settings' values (no change, no audit entry: `save_settings` adds them; a restore
/// writes only the values, since head office has the change already).
pub(crate) fn write_settings(conn: &Connection, s: &Settings) -> Result<()> {
    let values = [
        ("idle_lock_minutes", s.idle_lock_minutes.to_string()),
        ("walkthrough", serde_json::to_string(&s.walkthrough)?),
        ("consent_months", s.consent_months.to_string()),
        ("nightly_at", s.nightly_at.clone()),
    ];
    for (key, value) in values {
        exec(
            conn,
            "INSERT INTO setting (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
    }
    Ok(())
}

pub fn save_settings(w: &Writer<'_>, centre_id: Uuid, s: &Settings) -> Result<()> {
    write_settings(w.tx(), s)?;
    w.record(
        entity::SETTINGS,
        centre_id,
        Op::Upsert,
        s,
        "settings_changed",
        &format!(
            "idle_lock_minutes={} walkthrough_items={} consent_months={} nightly_at={}",
            s.idle_lock_minutes,
            s.walkthrough.len(),
            s.consent_months,
            s.nightly_at
        ),
    )?;
    Ok(())
}
