//! The hub's one error type. Messages carry ids, counts and the database's own words, never a
//! payload, a name, an enrolment code or a token.

/// What went wrong, in the words a head-office operator or a log reader needs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database cannot be reached just now (PostgreSQL down, SQLite file busy): worth retrying.
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    /// The database answered with an error that retrying will not fix.
    #[error("database error: {0}")]
    Database(String),
    /// A centre, device or dataset that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Input that cannot be used, with the reason in plain English.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::*;
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    DatabaseBusy | DatabaseLocked | CannotOpen | SystemIoFailure | DiskFull | OutOfMemory
                ) =>
            {
                Error::Unavailable(e.to_string())
            }
            _ => Error::Database(e.to_string()),
        }
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => {
                let code = db.code().code();
                // 08: connection exception, 53: insufficient resources, 57P: operator intervention
                // (shutdown), 3D000: the database is gone, 40001/40P01: serialisation failure or
                // deadlock, which a retry resolves.
                let retry = code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57P")
                    || matches!(code, "3D000" | "40001" | "40P01");
                let text = format!("{code} {}", db.message());
                if retry { Error::Unavailable(text) } else { Error::Database(text) }
            }
            None => {
                // No answer from the server (connection closed, network failure, time-out) is
                // worth retrying; anything else (a column of the wrong type) is not.
                use std::error::Error as _;
                let io = e.source().is_some_and(|s| s.is::<std::io::Error>());
                let text = e.to_string();
                if e.is_closed() || io || text.starts_with("error connecting") || text.starts_with("timeout") {
                    Error::Unavailable(text)
                } else {
                    Error::Database(text)
                }
            }
        }
    }
}

impl From<r2d2::Error> for Error {
    fn from(e: r2d2::Error) -> Self {
        Error::Unavailable(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Database(format!("stored JSON cannot be read (line {}, column {})", e.line(), e.column()))
    }
}
