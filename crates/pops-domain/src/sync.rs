//! The wire format between a centre's device and the head-office hub (`shared/brief/sync.md`,
//! `docs/openapi/sync.yaml`): every request and reply body, the limits both sides keep, and the
//! checks both sides make. No IO: the hub (`pops-hub`) and the device's worker (`pops-sync`) both
//! build on this module, so they cannot drift apart.

use crate::change::{Change, Op, entity};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// At most this many changes in one batch.
pub const MAX_BATCH_CHANGES: usize = 500;
/// A batch's JSON, before gzip, is at most this many bytes (the device packs to it).
pub const MAX_BATCH_JSON_BYTES: usize = 1024 * 1024;
/// The hub refuses (413) a request body above this many bytes, before or after gunzip. Larger than
/// [`MAX_BATCH_JSON_BYTES`] so that a device's last change never tips a full batch over.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// A page of `/changes` holds at most this many changes.
pub const MAX_CHANGES_PAGE: i64 = 1000;
/// A page of `/changes` holds this many changes unless asked otherwise.
pub const DEFAULT_CHANGES_PAGE: i64 = 500;
/// A page of reference data holds at most this many items.
pub const REFERENCE_PAGE: i64 = 200;
/// The newest `schema_version` a change may carry: the device's database version
/// (`pops_store::schema::VERSION`). pops-store's schema test asserts the two are equal, so raising
/// the store's version without raising this one fails a test.
pub const MAX_SCHEMA_VERSION: i64 = 9;

/// An enrolment code has this many characters, from Crockford's base32 alphabet.
pub const ENROLMENT_CODE_CHARS: usize = 16;
/// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or copied by hand survives.
pub const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// An enrolment code as typed (any case, spaces and dashes, `O` for 0 and `I` or `L` for 1, as
/// Crockford's base32 reads them) in its normal form, or `None` when it cannot be a code. The hub
/// reads codes with this same function.
pub fn normalise_enrolment_code(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(ENROLMENT_CODE_CHARS);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\t' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !CROCKFORD.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == ENROLMENT_CODE_CHARS).then_some(out)
}

/// Where one record's latest change has got to on its way to head office, as a list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// Saved on this laptop; the laptop is not enrolled, so nothing will send it yet.
    Saved,
    /// Waiting to be sent.
    Queued,
    /// In a batch that went out; head office's reply is not yet in.
    Sent,
    /// Acknowledged by head office.
    Confirmed,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
}

/// `POST /v1/enrol` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub enrolment_code: String,
}

/// `POST /v1/enrol` reply. The token is shown once; the hub keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub device_id: Uuid,
    pub centre_id: Uuid,
    pub device_token: String,
}

/// `POST /v1/devices/{device_id}/batches` body. `P` is how each change's payload is held (see
/// [`Change`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch<P = serde_json::Value> {
    pub batch_id: Uuid,
    pub first_seq: i64,
    pub last_seq: i64,
    pub changes: Vec<Change<P>>,
}

impl<P> Batch<P> {
    /// Whether the batch's fields agree with each other (a 400 at the hub when they do not): one
    /// to [`MAX_BATCH_CHANGES`] changes, numbered `first_seq`, `first_seq + 1`, … `last_seq`.
    pub fn check(&self) -> Result<(), String> {
        if self.changes.is_empty() {
            return Err("a batch must hold at least one change".into());
        }
        if self.changes.len() > MAX_BATCH_CHANGES {
            return Err(format!("a batch holds at most {MAX_BATCH_CHANGES} changes"));
        }
        if self.first_seq < 1 {
            return Err("first_seq must be 1 or more".into());
        }
        let too_large = || "the seqs are too large".to_string();
        for (i, change) in self.changes.iter().enumerate() {
            let want = self.first_seq.checked_add(i as i64).ok_or_else(too_large)?;
            if change.seq != want {
                return Err(format!("change {} has seq {} where {want} was expected", i + 1, change.seq));
            }
        }
        // Below i64::MAX, so that `last_seq + 1` (the next expected seq) exists too.
        let last = self.first_seq.checked_add(self.changes.len() as i64).ok_or_else(too_large)? - 1;
        if self.last_seq != last {
            return Err(format!("last_seq is {} but the changes end at {last}", self.last_seq));
        }
        Ok(())
    }
}

/// One change as the hub reads it off the wire: its payload kept as the JSON text it came as. The
/// hub checks it ([`check_raw_change`]) and, as a rule, stores that text without ever building the
/// payload as a [`serde_json::Value`].
pub type RawChange = Change<Box<serde_json::value::RawValue>>;

/// A [`Batch`] as the hub reads it: its changes are [`RawChange`]s.
pub type RawBatch = Batch<Box<serde_json::value::RawValue>>;

impl RawChange {
    /// `change` with its payload written out as compact JSON text.
    pub fn from_change(change: &Change) -> serde_json::Result<RawChange> {
        Ok(Change {
            change_id: change.change_id,
            seq: change.seq,
            entity: change.entity.clone(),
            entity_id: change.entity_id,
            op: change.op,
            occurred_at: change.occurred_at.clone(),
            user_id: change.user_id,
            schema_version: change.schema_version,
            payload: serde_json::value::to_raw_value(&change.payload)?,
        })
    }

    /// The payload read as a value.
    pub fn payload_value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_str(self.payload.get())
    }
}

impl RawBatch {
    /// `batch` with each payload written out as compact JSON text.
    pub fn from_batch(batch: &Batch) -> serde_json::Result<RawBatch> {
        Ok(Batch {
            batch_id: batch.batch_id,
            first_seq: batch.first_seq,
            last_seq: batch.last_seq,
            changes: batch.changes.iter().map(RawChange::from_change).collect::<serde_json::Result<_>>()?,
        })
    }
}

/// A change the hub acknowledged but would not apply, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub change_id: Uuid,
    pub reason: String,
}

/// `POST /v1/devices/{device_id}/batches` reply: the same for the same batch, however often sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReply {
    pub acked_through_seq: i64,
    pub rejected: Vec<Rejected>,
    /// RFC 3339 UTC.
    pub server_time: String,
}

/// `GET /v1/devices/{device_id}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    pub acked_through_seq: i64,
}

/// `GET /v1/devices/{device_id}/changes?after=N&limit=M`: the centre's acknowledged changes, in the
/// order the hub stored them. `next_after` is the cursor for the next page; `total` is how many
/// changes the centre has in all (on every page, so a laptop restoring the centre can show how far
/// it has got; it grows while the centre's other devices keep sending).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesPage {
    pub changes: Vec<Change>,
    pub next_after: i64,
    pub has_more: bool,
    pub total: i64,
}

/// One entry of a reference dataset's log. Each import at the hub appends, for every item that is
/// new or different, the item; and for every item gone from the new version, `item: null`. A device
/// applies entries in order, keyed by `key`, so any prefix of the log is a consistent state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceEntry {
    /// The item's `id`.
    pub key: String,
    /// The dataset version (import) this entry came from: 1, 2, 3 …
    pub version: i64,
    /// The item's whole state, or `None` when the item was removed.
    pub item: Option<serde_json::Value>,
}

/// `GET /v1/reference/{dataset}?since=N`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferencePage {
    pub items: Vec<ReferenceEntry>,
    pub next_since: i64,
    pub has_more: bool,
}

/// An RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemDoc {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// On 409: the `seq` the device must send next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<i64>,
}

/// The reference datasets head office maintains.
pub mod dataset {
    pub const PARTNER_AGENCIES: &str = "partner_agencies";
    pub const PRICE_LIST: &str = "price_list";
    pub const SESSION_SLOTS: &str = "session_slots";
    pub const ALL: [&str; 3] = [PARTNER_AGENCIES, PRICE_LIST, SESSION_SLOTS];
}

fn text(item: &serde_json::Map<String, serde_json::Value>, field: &str, max: usize) -> Result<String, String> {
    match item.get(field) {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= max => Ok(s.clone()),
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
            Err(format!("\"{field}\" is longer than {max} characters"))
        }
        _ => Err(format!("\"{field}\" is missing or empty")),
    }
}

fn optional_text(item: &serde_json::Map<String, serde_json::Value>, field: &str, max: usize) -> Result<(), String> {
    match item.get(field) {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(serde_json::Value::String(s)) if s.chars().count() <= max => Ok(()),
        Some(serde_json::Value::String(_)) => Err(format!("\"{field}\" is longer than {max} characters")),
        Some(_) => Err(format!("\"{field}\" must be text")),
    }
}

fn clock(item: &serde_json::Map<String, serde_json::Value>, field: &str) -> Result<u32, String> {
    let s = text(item, field, 5)?;
    let bad = || format!("\"{field}\" must be a time like 14:00");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 || s.len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Checks one reference item of `dataset` and answers its key (`id`). Both the hub's import and the
/// device's pull check items with this, so head office cannot publish what a device would refuse.
pub fn check_reference_item(dataset: &str, item: &serde_json::Value) -> Result<String, String> {
    let item = item.as_object().ok_or("an item must be a JSON object")?;
    let id = text(item, "id", 64)?;
    match dataset {
        dataset::PARTNER_AGENCIES => {
            text(item, "name", 200)?;
            for field in ["services", "phone", "email", "website", "area"] {
                optional_text(item, field, 500)?;
            }
        }
        dataset::PRICE_LIST => {
            text(item, "name", 100)?;
            optional_text(item, "category", 100)?;
            match item.get("price_pence").and_then(|v| v.as_i64()) {
                Some(p) if (0..=100_000).contains(&p) => {}
                _ => return Err("\"price_pence\" must be a whole number of pence from 0 to 100000".into()),
            }
        }
        dataset::SESSION_SLOTS => {
            text(item, "name", 100)?;
            match item.get("weekday").and_then(|v| v.as_i64()) {
                Some(1..=7) => {}
                _ => return Err("\"weekday\" must be 1 (Monday) to 7 (Sunday)".into()),
            }
            if clock(item, "starts_at")? >= clock(item, "ends_at")? {
                return Err("\"ends_at\" must be after \"starts_at\"".into());
            }
            match item.get("kind").and_then(|v| v.as_str()) {
                Some("open" | "closed") => {}
                _ => return Err("\"kind\" must be \"open\" or \"closed\"".into()),
            }
        }
        other => return Err(format!("there is no reference dataset called \"{other}\"")),
    }
    Ok(id)
}

/// The entities a hub accepts. A change about anything else is quarantined.
pub const KNOWN_ENTITIES: [&str; 11] = [
    entity::CENTRE,
    entity::ACCOUNT,
    entity::SETTINGS,
    entity::VISITS_SESSION,
    entity::CHECK_IN,
    entity::SESSION_TEMPLATE,
    entity::ENQUIRY,
    entity::FEEDBACK,
    entity::CENTRE_EVENT,
    entity::ROLL_CALL,
    entity::FAMILY,
];

/// Reads `value` as a `T`. On failure the message names the field (`changes[2].entity_id`) and what
/// was expected, but never repeats a value from the input: the input may hold a person's name, and
/// these messages end up in problem documents, logs and the quarantine list.
pub fn decode<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let mut path = String::new();
        for segment in e.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                serde_path_to_error::Segment::Map { key } | serde_path_to_error::Segment::Enum { variant: key } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                serde_path_to_error::Segment::Unknown => path.push_str(".?"),
            }
        }
        let what = quiet_message(&e.inner().to_string());
        if path.is_empty() { what } else { format!("{path}: {what}") }
    })
}

/// serde's message without the offending value: "missing field `x`" names only a field and is kept;
/// "invalid type: string \"…\", expected a UUID" keeps only what was expected.
fn quiet_message(message: &str) -> String {
    if message.starts_with("missing field") || message.starts_with("duplicate field") {
        return message.to_string();
    }
    let valued = ["invalid type", "invalid value", "unknown variant", "invalid length"];
    if valued.iter().any(|p| message.starts_with(p))
        && let Some(at) = message.rfind(", expected ")
    {
        return format!("expected {}", &message[at + ", expected ".len()..]);
    }
    "has a value that is not allowed here".to_string()
}

/// A payload that can be read as a record type, as a value or as JSON text.
trait RecordSource {
    /// Whether the payload reads as a `T`; the reason, naming the field, when it does not.
    fn reads_as<T: DeserializeOwned>(&self, what: &str) -> Result<(), String>;
}

impl RecordSource for serde_json::Value {
    fn reads_as<T: DeserializeOwned>(&self, what: &str) -> Result<(), String> {
        // Straight through first (every valid change, so every batch, pays only this); the slower
        // reading that tracks the path runs only to word a refusal.
        if T::deserialize(self).is_ok() {
            return Ok(());
        }
        decode::<T>(self).map(|_| ()).map_err(|e| format!("the payload is not a valid {what} record ({e})"))
    }
}

impl RecordSource for str {
    /// Unworded: a payload this refuses is read again as a value, which words the reason.
    fn reads_as<T: DeserializeOwned>(&self, _what: &str) -> Result<(), String> {
        serde_json::from_str::<T>(self).map(|_| ()).map_err(|_| String::new())
    }
}

/// Whether an upsert's payload reads as its entity's record type, where this crate knows the type.
fn check_record<S: RecordSource + ?Sized>(entity: &str, payload: &S) -> Result<(), String> {
    match entity {
        entity::CHECK_IN => payload.reads_as::<crate::visits::CheckIn>("check_in"),
        entity::VISITS_SESSION => payload.reads_as::<crate::visits::VisitsSession>("visits_session"),
        entity::SESSION_TEMPLATE => payload.reads_as::<crate::visits::SessionTemplate>("session_template"),
        entity::ROLL_CALL => payload.reads_as::<crate::visits::RollCall>("roll_call"),
        entity::FAMILY => payload.reads_as::<crate::families::Family>("family"),
        entity::FEEDBACK => payload.reads_as::<crate::desk::Feedback>("feedback"),
        entity::ENQUIRY => payload.reads_as::<crate::desk::Enquiry>("enquiry"),
        entity::CENTRE_EVENT => payload.reads_as::<crate::desk::CentreEvent>("centre_event"),
        entity::ACCOUNT => payload.reads_as::<crate::account::Account>("account"),
        // `centre` and `settings` payloads are pops-store's `CentreRecord` and `Settings`, which this
        // crate cannot see (the dependency runs the other way); for them the other checks suffice.
        _ => Ok(()),
    }
}

/// The checks of a change that do not look at its payload.
fn check_envelope(entity: &str, schema_version: i64, occurred_at: &str) -> Result<(), String> {
    if !KNOWN_ENTITIES.contains(&entity) {
        return Err("the entity is not one the hub knows".into());
    }
    if !(1..=MAX_SCHEMA_VERSION).contains(&schema_version) {
        return Err(format!("schema_version must be from 1 to {MAX_SCHEMA_VERSION}"));
    }
    if chrono::DateTime::parse_from_rfc3339(occurred_at).is_err() {
        return Err("occurred_at is not an RFC 3339 time".into());
    }
    Ok(())
}

/// The checks of a change's payload, read as a value.
fn check_payload(entity: &str, entity_id: Uuid, op: Op, payload: &serde_json::Value) -> Result<(), String> {
    let Some(object) = payload.as_object() else {
        return Err("the payload must be a JSON object".into());
    };
    if let Some(id) = object.get("id")
        && id.as_str().and_then(|s| Uuid::parse_str(s).ok()) != Some(entity_id)
    {
        return Err("the payload's id is not the change's entity_id".into());
    }
    if op == Op::Erase {
        return Ok(());
    }
    check_record(entity, payload)
}

/// Whether the hub can apply `change`: a known entity, a payload that is a JSON object whose `id`
/// (if it has one) is the change's `entity_id`, a `schema_version` from 1 to [`MAX_SCHEMA_VERSION`],
/// an RFC 3339 `occurred_at`, and for an upsert of a record whose type this crate knows, a payload
/// that reads as that record. A change that fails is acknowledged but quarantined at the hub. The
/// reason is plain English and never contains text from the payload.
pub fn check_change(change: &Change) -> Result<(), String> {
    check_envelope(&change.entity, change.schema_version, &change.occurred_at)?;
    check_payload(&change.entity, change.entity_id, change.op, &change.payload)
}

/// [`check_change`] of a change as the hub reads it, with the same verdict, read from the payload's
/// text: its `id` and then its record type, without building the payload as a value. Only a payload
/// this quick reading refuses, or cannot judge (it gives a field twice), is read as a value, and
/// [`check_change`]'s rules decide it and word the reason.
///
/// `Ok(None)`: store the payload as it came. `Ok(Some(text))`: a payload the value reading passed
/// and the quick one did not; what was judged is the value (where a field is given twice, the last
/// one), so that is what to store, as compact text, and every reader then sees what was judged.
pub fn check_raw_change(change: &RawChange) -> Result<Option<Box<serde_json::value::RawValue>>, String> {
    check_envelope(&change.entity, change.schema_version, &change.occurred_at)?;
    let text = change.payload.get();
    if quick_payload_check(&change.entity, change.entity_id, change.op, text) {
        return Ok(None);
    }
    let payload = change.payload_value().map_err(|_| "the payload is not valid JSON".to_string())?;
    check_payload(&change.entity, change.entity_id, change.op, &payload)?;
    serde_json::value::to_raw_value(&payload).map(Some).map_err(|_| "the payload could not be written out".to_string())
}

/// Whether the payload text passes [`check_payload`]; `false` when it fails or this cannot tell.
/// Never `true` where `check_payload` would refuse: it passes only an object with no `id`, or with
/// the change's `entity_id` as its one `id`, that reads straight as its record type (which refuses
/// a field given twice).
fn quick_payload_check(entity: &str, entity_id: Uuid, op: Op, text: &str) -> bool {
    // A record type reads from a JSON array too, field by field: the payload must be an object.
    if !text.starts_with('{') {
        return false;
    }
    match pick_fields(text, ["id"]) {
        Ok([None]) => {}
        Ok([Some(serde_json::Value::String(id))]) if Uuid::parse_str(&id).ok() == Some(entity_id) => {}
        _ => return false,
    }
    op == Op::Erase || check_record(entity, text).is_ok()
}

/// The top-level fields `names` of a JSON object given as text, each as a value (`None` when it is
/// absent), read without building the rest of the object. An error when the text is not one JSON
/// object, or gives one of these fields twice.
pub fn pick_fields<const N: usize>(
    text: &str,
    names: [&str; N],
) -> Result<[Option<serde_json::Value>; N], serde_json::Error> {
    use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, Visitor};
    use std::fmt;

    /// A key: its place in `names`, if it is one of them.
    struct Key<'n, const N: usize>(&'n [&'n str; N]);
    impl<'de, const N: usize> DeserializeSeed<'de> for Key<'_, N> {
        type Value = Option<usize>;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
            d.deserialize_str(self)
        }
    }
    impl<'de, const N: usize> Visitor<'de> for Key<'_, N> {
        type Value = Option<usize>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a field name")
        }
        fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Option<usize>, E> {
            Ok(self.0.iter().position(|n| *n == key))
        }
    }
    struct Pick<'n, const N: usize>(&'n [&'n str; N]);
    impl<'de, const N: usize> Visitor<'de> for Pick<'_, N> {
        type Value = [Option<serde_json::Value>; N];
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out: [Option<serde_json::Value>; N] = std::array::from_fn(|_| None);
            while let Some(place) = map.next_key_seed(Key(self.0))? {
                match place {
                    Some(i) if out[i].is_some() => return Err(A::Error::custom("a field is given twice")),
                    Some(i) => out[i] = Some(map.next_value()?),
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(out)
        }
    }
    let mut reader = serde_json::Deserializer::from_str(text);
    let out = serde::Deserializer::deserialize_map(&mut reader, Pick(&names))?;
    reader.end()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrolment_codes_are_read_without_case_spaces_or_dashes() {
        let code = "ABCD-EFGH-JKMN-PQRS";
        assert_eq!(normalise_enrolment_code(code).as_deref(), Some("ABCDEFGHJKMNPQRS"));
        assert_eq!(normalise_enrolment_code(" abcd efgh-jkmn  pqrs ").as_deref(), Some("ABCDEFGHJKMNPQRS"));
        assert_eq!(normalise_enrolment_code("0O1I-L000-0000-0000").as_deref(), Some("0011100000000000"));
        for bad in ["", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN-PQRS-T", "ABCD-EFGH-JKMN-PQRU", "ÀBCD-EFGH-JKMN-PQRS"] {
            assert_eq!(normalise_enrolment_code(bad), None, "{bad}");
        }
    }
    use crate::change::Op;
    use serde_json::json;

    fn change(seq: i64) -> Change {
        Change {
            change_id: Uuid::now_v7(),
            seq,
            entity: entity::CHECK_IN.into(),
            entity_id: Uuid::now_v7(),
            op: Op::Upsert,
            occurred_at: "2026-11-25T10:00:00.000Z".into(),
            user_id: Uuid::now_v7(),
            schema_version: 5,
            payload: json!({}),
        }
    }

    #[test]
    fn a_batch_must_be_numbered_without_gaps() {
        let ok = Batch { batch_id: Uuid::now_v7(), first_seq: 3, last_seq: 4, changes: vec![change(3), change(4)] };
        assert_eq!(ok.check(), Ok(()));
        let gap = Batch { changes: vec![change(3), change(5)], last_seq: 5, ..ok.clone() };
        assert!(gap.check().unwrap_err().contains("seq 5 where 4"));
        let last_wrong = Batch { last_seq: 9, ..ok.clone() };
        assert!(last_wrong.check().unwrap_err().contains("last_seq"));
        let empty = Batch { changes: vec![], ..ok.clone() };
        assert!(empty.check().is_err());
        let zero = Batch { first_seq: 0, last_seq: 0, changes: vec![change(0)], ..ok.clone() };
        assert!(zero.check().is_err());
        let huge = Batch {
            first_seq: i64::MAX,
            last_seq: i64::MAX,
            changes: vec![change(i64::MAX), change(i64::MIN)],
            ..ok.clone()
        };
        assert!(huge.check().unwrap_err().contains("too large"));
        let last = Batch { first_seq: i64::MAX, last_seq: i64::MAX, changes: vec![change(i64::MAX)], ..huge.clone() };
        assert!(last.check().unwrap_err().contains("too large"));
        // The hub's reading of a batch is checked by the same rules.
        for b in [ok, gap, last_wrong, last, empty, zero, huge] {
            assert_eq!(RawBatch::from_batch(&b).unwrap().check(), b.check());
        }
    }

    #[test]
    fn reference_items_are_checked_per_dataset() {
        let slot = json!({"id": "mon-am", "name": "Morning", "weekday": 1, "starts_at": "09:30", "ends_at": "11:00", "kind": "open"});
        assert_eq!(check_reference_item(dataset::SESSION_SLOTS, &slot), Ok("mon-am".into()));
        let backwards =
            json!({"id": "x", "name": "M", "weekday": 1, "starts_at": "11:00", "ends_at": "09:30", "kind": "open"});
        assert!(check_reference_item(dataset::SESSION_SLOTS, &backwards).unwrap_err().contains("after"));
        let price = json!({"id": "tea", "name": "Tea", "price_pence": 120});
        assert_eq!(check_reference_item(dataset::PRICE_LIST, &price), Ok("tea".into()));
        let dear = json!({"id": "tea", "name": "Tea", "price_pence": 1.5});
        assert!(check_reference_item(dataset::PRICE_LIST, &dear).is_err());
        let agency = json!({"id": "a1", "name": "Citizens Advice", "phone": "0300 000 0000"});
        assert!(check_reference_item(dataset::PARTNER_AGENCIES, &agency).is_ok());
        assert!(check_reference_item(dataset::PARTNER_AGENCIES, &json!({"name": "No id"})).is_err());
        assert!(check_reference_item("menu", &agency).unwrap_err().contains("no reference dataset"));
    }

    fn check_in_payload(id: Uuid, lead_name: &str) -> serde_json::Value {
        serde_json::to_value(crate::visits::CheckIn {
            id,
            session_id: Uuid::now_v7(),
            adults: 1,
            children: Default::default(),
            first_time: false,
            lead_name: Some(lead_name.into()),
            arrived_at: "2026-11-25T10:00:00.000Z".into(),
            left_at: None,
            checked_in_by: Uuid::now_v7(),
            checked_out_by: None,
            needs: Default::default(),
            help: Default::default(),
            outcome: None,
            welfare_offered: None,
            walkthrough: vec![],
            family_id: None,
        })
        .unwrap()
    }

    #[test]
    fn a_valid_check_in_change_passes() {
        let mut c = change(1);
        c.payload = check_in_payload(c.entity_id, "Zebedee Quartz");
        assert_eq!(checked(&c), Ok(()));
        // An erase carries a tombstone, not the record, so only its shape is checked.
        let erase = Change { op: Op::Erase, payload: json!({"id": c.entity_id.to_string()}), ..c };
        assert_eq!(checked(&erase), Ok(()));
        // Entities whose record type lives in pops-store are checked for shape only.
        let settings =
            Change { entity: entity::SETTINGS.into(), payload: json!({"idle_lock_minutes": 5}), ..change(2) };
        assert_eq!(checked(&settings), Ok(()));
    }

    /// `check_change` of `c`, after asserting that `check_raw_change` answers the same.
    fn checked(c: &Change) -> Result<(), String> {
        let verdict = check_change(c);
        let raw = check_raw_change(&RawChange::from_change(c).unwrap());
        assert_eq!(raw.map(|t| t.map(|t| t.get().to_string())), verdict.clone().map(|()| None), "{c:?}");
        verdict
    }

    /// `check_raw_change` of `c` with `payload` as its payload's text: the verdict, and the text
    /// to store when it is not the text given.
    fn raw_checked_text(c: &Change, payload: &str) -> Result<Option<String>, String> {
        let raw = RawChange {
            payload: serde_json::value::RawValue::from_string(payload.into()).unwrap(),
            ..RawChange::from_change(c).unwrap()
        };
        check_raw_change(&raw).map(|t| t.map(|t| t.get().to_string()))
    }

    /// The verdict of `raw_checked_text`.
    fn raw_checked(c: &Change, payload: &str) -> Result<(), String> {
        raw_checked_text(c, payload).map(|_| ())
    }

    #[test]
    fn a_payload_read_as_text_gets_the_same_verdict_as_one_read_as_a_value() {
        let mut c = change(1);
        c.payload = check_in_payload(c.entity_id, "Zebedee Quartz");
        let text = serde_json::to_string(&c.payload).unwrap();
        assert_eq!(raw_checked(&c, &text), Ok(()));
        // Spacing and key order do not matter.
        let spaced = serde_json::to_string_pretty(&c.payload).unwrap();
        assert_eq!(raw_checked(&c, &spaced), Ok(()));
        // An id written with escapes is still the same id.
        let escaped = text.replacen(
            &format!("\"id\":\"{}\"", c.entity_id),
            &format!("\"id\":\"\\u00{:x}{}\"", c.entity_id.to_string().as_bytes()[0], &c.entity_id.to_string()[1..]),
            1,
        );
        assert_ne!(escaped, text);
        assert_eq!(raw_checked(&c, &escaped), Ok(()));
        // Spaced, it passes straight, and is stored as it came.
        assert_eq!(raw_checked_text(&c, &spaced), Ok(None));
        // A field given twice: read as a value, the last one counts, as it always has; what is
        // stored is that value, written out compact.
        // (Compared as values: with serde_json's `preserve_order`, which another crate of the
        // workspace turns on in a workspace build, a repeated key keeps its first place.)
        let stored_as = |given: &str| {
            let stored = raw_checked_text(&c, given).unwrap().expect("stored as judged, not as given");
            let value: serde_json::Value = serde_json::from_str(&stored).unwrap();
            assert_eq!(stored, serde_json::to_string(&value).unwrap(), "written out compact");
            value
        };
        let twice = format!("{{\"adults\":\"many\",{}", &text[1..]);
        assert_eq!(stored_as(&twice), c.payload);
        let twice_id = format!("{{\"id\":7,{}", &text[1..]);
        assert_eq!(stored_as(&twice_id), c.payload);
        let twice_id = format!("{}, \"id\": 7}}", &text[..text.len() - 1]);
        assert!(raw_checked(&c, &twice_id).unwrap_err().contains("entity_id"));
        // Not an object; an id that is not the entity's, or not text.
        let values: Vec<serde_json::Value> = c.payload.as_object().unwrap().values().cloned().collect();
        assert!(raw_checked(&c, &serde_json::to_string(&values).unwrap()).unwrap_err().contains("JSON object"));
        for id in ["null", "7", "\"x\"", &format!("\"{}\"", Uuid::now_v7())] {
            let other = text.replacen(&format!("\"{}\"", c.entity_id), id, 1);
            assert!(raw_checked(&c, &other).unwrap_err().contains("entity_id"), "{id}");
        }
        let erase = Change { op: Op::Erase, ..c.clone() };
        assert_eq!(raw_checked(&erase, "{}"), Ok(()));
        assert!(raw_checked(&erase, "[]").unwrap_err().contains("JSON object"));
    }

    #[test]
    fn picked_fields_are_read_alone_and_only_once() {
        let text = r#"{"a": 1, "b": {"a": 2}, "c": "x\"y"}"#;
        let [a, c, d] = pick_fields(text, ["a", "c", "d"]).unwrap();
        assert_eq!((a, c, d), (Some(json!(1)), Some(json!("x\"y")), None));
        assert!(pick_fields(r#"{"a": 1, "a": 2}"#, ["a"]).is_err());
        assert!(pick_fields(r#"{"b": 1, "b": 2}"#, ["a"]).is_ok());
        assert!(pick_fields("[1]", ["a"]).is_err());
        assert!(pick_fields("{} {}", ["a"]).is_err());
    }

    #[test]
    fn invalid_changes_are_refused_with_a_reason_that_never_repeats_the_payload() {
        let name = "Zebedee Quartz";
        let valid = {
            let mut c = change(1);
            c.payload = check_in_payload(c.entity_id, name);
            c
        };
        let mut wrong_type = valid.clone();
        wrong_type.payload["adults"] = json!(name);
        let mut wrong_variant = valid.clone();
        wrong_variant.payload["outcome"] = json!(name);
        let mut missing = valid.clone();
        missing.payload.as_object_mut().unwrap().remove("session_id");
        let mut bad_uuid = valid.clone();
        bad_uuid.payload["checked_in_by"] = json!(name);
        let cases = [
            (Change { entity: "menu".into(), ..valid.clone() }, "entity"),
            (Change { schema_version: 0, ..valid.clone() }, "schema_version"),
            (Change { schema_version: MAX_SCHEMA_VERSION + 1, ..valid.clone() }, "schema_version"),
            (Change { occurred_at: name.into(), ..valid.clone() }, "occurred_at"),
            (Change { payload: json!([name]), ..valid.clone() }, "JSON object"),
            (Change { entity_id: Uuid::now_v7(), ..valid.clone() }, "entity_id"),
            (wrong_type, "adults: expected i32"),
            (wrong_variant, "outcome: expected"),
            (missing, "missing field `session_id`"),
            (bad_uuid, "checked_in_by"),
        ];
        for (c, want) in cases {
            let reason = checked(&c).unwrap_err();
            assert!(reason.contains(want), "{reason:?} should mention {want:?}");
            assert!(!reason.contains("Zebedee"), "{reason:?} repeats the payload");
        }
    }

    #[test]
    fn decode_names_the_field_but_not_the_value() {
        let bad = json!({"batch_id": "Zebedee", "first_seq": 1, "last_seq": 1, "changes": []});
        let e = decode::<Batch>(&bad).unwrap_err();
        assert!(e.starts_with("batch_id"), "{e}");
        assert!(!e.contains("Zebedee"), "{e}");
        let e = decode::<Batch>(&json!({"first_seq": "x, expected Zebedee"})).unwrap_err();
        assert!(!e.contains("Zebedee"), "{e}");
    }

    #[test]
    fn a_problem_uses_the_rfc_9457_names() {
        let p = ProblemDoc {
            kind: "about:blank".into(),
            title: "Conflict".into(),
            status: 409,
            detail: None,
            instance: None,
            expected_seq: Some(7),
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"type": "about:blank", "title": "Conflict", "status": 409, "expected_seq": 7})
        );
    }
}
