//! Staff accounts in the database: who they are, their role, and their PIN-sealed copy of the key
//! (which unlocks the screen again within the same run; it is useless without the database open).

use crate::db::{exec, row};
use crate::keyslots::WrappedKey;
use crate::{Error, Result, Writer};
use pops_domain::Role;
use pops_domain::account::Account;
use pops_domain::change::{Op, entity};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

/// What binds a PIN-sealed key to its account.
pub fn pin_context(account_id: Uuid) -> Vec<u8> {
    format!("pops-pin-v1|{account_id}").into_bytes()
}

const COLUMNS: &str = "id, username, display_name, role, active, created_at, pin_key";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(String, String, String, String, bool, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn decode(row: (String, String, String, String, bool, String, String)) -> Result<(Account, WrappedKey)> {
    let (id, username, display_name, role, active, created_at, pin_key) = row;
    let account = Account {
        id: Uuid::parse_str(&id).map_err(|_| Error::Malformed("account id".into()))?,
        username,
        display_name,
        role: Role::parse(&role).ok_or_else(|| Error::Malformed("account role".into()))?,
        active,
        created_at,
    };
    Ok((account, serde_json::from_str(&pin_key)?))
}

pub fn insert(w: &Writer<'_>, account: &Account, pin_key: &WrappedKey) -> Result<()> {
    if username_taken(w.tx(), &account.username)? {
        return Err(Error::Conflict(format!("The username {} is already taken: choose another", account.username)));
    }
    exec(
        w.tx(),
        &format!("INSERT INTO account ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            account.id.to_string(),
            account.username,
            account.display_name,
            account.role.as_str(),
            account.active,
            account.created_at,
            serde_json::to_string(pin_key)?,
        ],
    )?;
    w.record(
        entity::ACCOUNT,
        account.id,
        Op::Upsert,
        account,
        "account_added",
        &format!("role={}", account.role.as_str()),
    )?;
    Ok(())
}

/// Whether an account (active or not) already has this username.
pub fn username_taken(conn: &Connection, username: &str) -> Result<bool> {
    Ok(row(conn, "SELECT EXISTS (SELECT 1 FROM account WHERE username = ?1)", [username], |r| r.get(0))?)
}

pub fn get(conn: &Connection, id: Uuid) -> Result<Option<(Account, WrappedKey)>> {
    row(conn, &format!("SELECT {COLUMNS} FROM account WHERE id = ?1"), [id.to_string()], from_row)
        .optional()?
        .map(decode)
        .transpose()
}

/// Every account, active ones first, then by name.
pub fn list(conn: &Connection) -> Result<Vec<Account>> {
    let mut stmt =
        conn.prepare(&format!("SELECT {COLUMNS} FROM account ORDER BY active DESC, display_name COLLATE NOCASE"))?;
    let rows = stmt.query_map([], from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(decode(row?)?.0);
    }
    Ok(out)
}

pub fn active_managers(conn: &Connection) -> Result<i64> {
    Ok(row(conn, "SELECT count(*) FROM account WHERE active = 1 AND role = 'manager'", [], |r| r.get(0))?)
}

pub fn set_role(w: &Writer<'_>, id: Uuid, role: Role) -> Result<Account> {
    let (mut account, _) = get(w.tx(), id)?.ok_or(Error::NotFound("account"))?;
    if !account.active {
        return Err(Error::Conflict("This account is disabled: add a new account instead".into()));
    }
    if account.role == Role::Manager && role != Role::Manager && active_managers(w.tx())? <= 1 {
        return Err(Error::Conflict("The centre needs at least one manager: make someone else a manager first".into()));
    }
    exec(w.tx(), "UPDATE account SET role = ?1 WHERE id = ?2", params![role.as_str(), id.to_string()])?;
    let from = account.role.as_str();
    account.role = role;
    w.record(
        entity::ACCOUNT,
        id,
        Op::Upsert,
        &account,
        "account_role_changed",
        &format!("from={from} to={}", role.as_str()),
    )?;
    Ok(account)
}

pub fn disable(w: &Writer<'_>, id: Uuid) -> Result<Account> {
    let (mut account, _) = get(w.tx(), id)?.ok_or(Error::NotFound("account"))?;
    if !account.active {
        return Err(Error::Conflict("This account is already disabled".into()));
    }
    if account.role == Role::Manager && active_managers(w.tx())? <= 1 {
        return Err(Error::Conflict("The centre needs at least one manager: this is the last one".into()));
    }
    let at = w.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    exec(w.tx(), "UPDATE account SET active = 0, disabled_at = ?1 WHERE id = ?2", params![at, id.to_string()])?;
    account.active = false;
    w.record(entity::ACCOUNT, id, Op::Upsert, &account, "account_disabled", "")?;
    Ok(account)
}
