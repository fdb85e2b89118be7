//! The change format sent to head office (`shared/brief/sync.md`): one committed edit of one record.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// What a change does to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `payload` is the record's whole new state.
    Upsert,
    /// The record's personal data is to be removed.
    Erase,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Upsert => "upsert",
            Op::Erase => "erase",
        }
    }
    pub fn parse(s: &str) -> Option<Op> {
        match s {
            "upsert" => Some(Op::Upsert),
            "erase" => Some(Op::Erase),
            _ => None,
        }
    }
}

/// The kinds of record a change can be about.
pub mod entity {
    pub const CENTRE: &str = "centre";
    pub const ACCOUNT: &str = "account";
    pub const SETTINGS: &str = "settings";
    pub const VISITS_SESSION: &str = "visits_session";
    pub const CHECK_IN: &str = "check_in";
    pub const SESSION_TEMPLATE: &str = "session_template";
    pub const ENQUIRY: &str = "enquiry";
    pub const FEEDBACK: &str = "feedback";
    pub const CENTRE_EVENT: &str = "centre_event";
    pub const ROLL_CALL: &str = "roll_call";
    pub const FAMILY: &str = "family";
}

/// One change, exactly as it travels to the hub. `P` is how the payload is held: as a value
/// everywhere but at the hub, which keeps it as the text it came as ([`crate::sync::RawChange`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(concrete(P = serde_json::Value))]
pub struct Change<P = serde_json::Value> {
    /// UUIDv7.
    pub change_id: Uuid,
    /// 1, 2, 3 … per device, no gaps.
    pub seq: i64,
    pub entity: String,
    pub entity_id: Uuid,
    pub op: Op,
    /// RFC 3339 UTC; for information only, never for ordering.
    pub occurred_at: String,
    pub user_id: Uuid,
    pub schema_version: i64,
    #[ts(type = "Record<string, unknown>")]
    pub payload: P,
}
