//! The one error type of sync. Every message is for a volunteer: plain words, what happens next,
//! and never a token, an enrolment code, an address with credentials or a change's payload.

/// Words shown when the hub's address cannot be reached.
pub const UNREACHABLE: &str = "Head office cannot be reached. Changes are kept safely on this laptop and will be sent \
                               when the connection is back.";

/// Words shown when head office has withdrawn the laptop's token.
pub const REVOKED: &str = "Head office has withdrawn this laptop's permission to send. Ask head office for a new \
                           enrolment code.";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The address is not one the app can use (not a web address, has a user name, …).
    #[error("That head office address cannot be used: {reason}. Check the address head office gave you.")]
    BadAddress { reason: &'static str },
    /// `http://` to anything but this computer.
    #[error(
        "That head office address starts with http://, which is not encrypted: http:// is allowed only for a head \
         office server on this laptop itself (127.0.0.1 or localhost). Use the https:// address head office gave you."
    )]
    InsecureAddress,
    #[error("Type the enrolment code head office gave you.")]
    NoCode,
    #[error(
        "That enrolment code was not accepted. It may have been used already, have expired, or been typed wrongly. \
         Ask head office for a new code."
    )]
    CodeRefused,
    #[error("{UNREACHABLE}")]
    Unreachable,
    #[error("Head office did not answer in time. Changes are kept safely on this laptop and will be sent later.")]
    TimedOut,
    #[error("{REVOKED}")]
    Revoked,
    #[error("Head office is busy. This laptop will try again in a few minutes.")]
    Busy,
    /// A 4xx the laptop cannot fix by itself.
    #[error(
        "Head office could not accept what this laptop sent (error {status}). This laptop will try again; if this \
         keeps happening, tell head office."
    )]
    Refused { status: u16 },
    /// A 5xx.
    #[error("Head office had a problem (error {status}). This laptop will try again.")]
    HubProblem { status: u16 },
    #[error(
        "Head office's answer could not be understood. This laptop will try again; if this keeps happening, tell \
         head office."
    )]
    BadReply,
    #[error(
        "Change {seq} is too large for head office to accept. It is kept on this laptop; tell head office so they can \
         help."
    )]
    TooLarge { seq: i64 },
    #[error("This laptop is not enrolled with head office yet.")]
    NotEnrolled,
    #[error("Sign in first: the centre's records must be open to do this.")]
    NotSignedIn,
    #[error("This laptop's records could not be read or saved ({0}).")]
    Store(String),
    #[error("The connection to head office could not be set up ({0}).")]
    Setup(String),
    #[error("Sending to head office has stopped; restart the app.")]
    Stopped,
}

/// Why a restore from head office did not start ([`crate::Syncer::restore`]). Kept apart from
/// [`SyncError`] so that code matching every sync error needs no new arm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// This laptop cannot be restored onto; the words (for the manager) say why: not enrolled,
    /// blocked, restored already, or records of its own beyond set-up (see
    /// `pops_store::restore::check_can_start`).
    #[error("{0}")]
    Refused(String),
    /// The worker could not record the start (not signed in, a store error, stopped).
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl From<pops_store::Error> for SyncError {
    fn from(e: pops_store::Error) -> Self {
        match e {
            // Conflict's words are already for a volunteer.
            pops_store::Error::Conflict(words) => SyncError::Store(words),
            other => SyncError::Store(other.to_string()),
        }
    }
}

impl SyncError {
    /// What the error says about the hub: `Some(false)` it could not be reached or did not answer in
    /// time, `Some(true)` it answered, `None` no request was made.
    pub fn hub_answered(&self) -> Option<bool> {
        match self {
            SyncError::Unreachable | SyncError::TimedOut => Some(false),
            SyncError::CodeRefused
            | SyncError::Revoked
            | SyncError::Busy
            | SyncError::Refused { .. }
            | SyncError::HubProblem { .. }
            | SyncError::BadReply
            | SyncError::TooLarge { .. } => Some(true),
            _ => None,
        }
    }
}
