//! The store's one error type. Messages carry record ids, never personal data.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the database key is wrong, or the file is not a centre database")]
    WrongKey,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The action does not fit the record's current state; the text is for a volunteer.
    #[error("{0}")]
    Conflict(String),
    #[error("the database was written by a newer version of the app (schema {found}, this app knows {known})")]
    TooNew { found: i64, known: i64 },
    #[error("the key slots file is damaged: {0}")]
    BadKeySlots(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    #[error("record encoding error: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a stored record is malformed: {0}")]
    Malformed(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
