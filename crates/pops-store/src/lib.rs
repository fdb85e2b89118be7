//! The centre's encrypted database and the key slots that open it. This is the only crate that
//! knows SQL: schema and upgrades, the outbox of changes for head office, the hash-chained audit log,
//! accounts, settings, the visits records, the families kept with consent, sync with head office, and
//! restoring a centre from head office onto a replacement laptop.

pub mod accounts;
pub mod attempts;
pub mod audit;
pub mod centre;
mod db;
pub mod desk;
mod error;
pub mod families;
mod files;
pub mod key;
pub mod keyslots;
pub mod outbox;
pub mod restore;
pub mod schema;
pub mod sync;
pub mod visits;

pub use db::{CACHE_KIB, Store, Writer};
pub use error::{Error, Result};
pub use key::DbKey;
/// The connection type `Store::read` hands to its closure.
pub use rusqlite::Connection;

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "centre.db";
