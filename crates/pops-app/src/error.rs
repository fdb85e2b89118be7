//! The app's one error type: what every command answers when it fails, as `{kind, message, problems}`.
//! Technical detail goes to the log (ids only, never personal data); the person sees plain words.

use crate::api::{ErrorBody, ErrorKind};
use pops_domain::{Invalid, Problem};
use serde::Serialize;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub problems: Vec<Problem>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), problems: Vec::new() }
    }

    /// One problem with one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Invalid::one(field, message).into()
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody { kind: self.kind, message: self.message.clone(), problems: self.problems.clone() }
    }
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.body().serialize(s)
    }
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        let message = match e.0.as_slice() {
            [one] => one.message.clone(),
            _ => "There is a problem: check the fields marked in red".into(),
        };
        Error { kind: ErrorKind::Invalid, message, problems: e.0 }
    }
}

impl From<pops_store::Error> for Error {
    fn from(e: pops_store::Error) -> Self {
        use pops_store::Error as S;
        match e {
            S::NotFound(what) => Error::new(
                ErrorKind::NotFound,
                format!("That {what} could not be found: it may have been removed. Refresh and try again."),
            ),
            S::Conflict(message) => Error::new(ErrorKind::Conflict, message),
            S::TooNew { .. } => Error::new(
                ErrorKind::Storage,
                "This laptop's records were saved by a newer version of the app. Install the newer version to open them.",
            ),
            other => {
                tracing::error!(error = %other, "storage error");
                Error::new(
                    ErrorKind::Storage,
                    "The centre's records could not be read or saved, so nothing was changed. Try again; if it happens again, tell the centre manager.",
                )
            }
        }
    }
}
