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

/// Reads a command's input from the JSON the window sent. Anything that does not fit the input's
/// shape (a word where a number goes, a number too large, a missing field) becomes an `invalid`
/// error at the field it belongs to, never a crash or a message in programmer's words.
pub fn decode<T: serde::de::DeserializeOwned>(input: serde_json::Value) -> Result<T> {
    serde_path_to_error::deserialize(input).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.inner().to_string();
        let message = if inner.contains("expected i32") || inner.contains("integer") {
            "Enter a whole number, for example 2"
        } else if inner.starts_with("missing field") {
            "This is missing: fill it in and try again"
        } else {
            "This could not be read: check it and try again"
        };
        tracing::warn!(field = %field, "input did not fit its shape");
        let field = if field == "." || field.starts_with('[') { "input".to_string() } else { field };
        Error::field(&field, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pops_domain::visits::CheckInPartyInput;
    use serde_json::json;

    #[test]
    fn inputs_of_the_wrong_shape_are_refused_at_their_field() {
        let base = json!({"session_id": null, "adults": 1, "first_time": false, "lead_name": "",
            "children": {"age_0_1": 0, "age_2": 0, "age_3_4": 0, "age_5_11": 0, "age_12_17": 0}});
        assert!(decode::<CheckInPartyInput>(base.clone()).is_ok());
        let cases = [
            ("adults", json!("two"), "adults"),
            ("adults", json!(1e12), "adults"),
            ("adults", json!(1.5), "adults"),
            ("session_id", json!("not-a-uuid"), "session_id"),
        ];
        for (key, value, field) in cases {
            let mut input = base.clone();
            input[key] = value;
            let e = decode::<CheckInPartyInput>(input).unwrap_err();
            assert_eq!(e.kind, crate::api::ErrorKind::Invalid);
            assert_eq!(e.problems[0].field, field);
        }
        let mut input = base.clone();
        input["children"]["age_5_11"] = json!(-99999999999i64);
        assert_eq!(decode::<CheckInPartyInput>(input).unwrap_err().problems[0].field, "children.age_5_11");
        assert_eq!(decode::<CheckInPartyInput>(json!([1, 2])).unwrap_err().problems[0].field, "input");
        assert_eq!(decode::<CheckInPartyInput>(json!(null)).unwrap_err().kind, crate::api::ErrorKind::Invalid);
    }

    /// Every input type, fed a few thousand random JSON values: always an answer, never a panic.
    #[test]
    fn random_json_never_panics() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        fn value(next: &mut dyn FnMut() -> u64, depth: u32) -> serde_json::Value {
            let keys = ["adults", "children", "age_5_11", "session_id", "slot", "pin", "username", "role", "x"];
            match next() % if depth > 2 { 5 } else { 7 } {
                0 => json!(null),
                1 => json!(next().is_multiple_of(2)),
                2 => json!((next() as i64) >> (next() % 64)),
                3 => json!(
                    ["morning", "manager", "", "٣", "😀", "0190a0e0-0000-7000-8000-000000000000"]
                        [(next() % 6) as usize]
                ),
                4 => {
                    let f = f64::from_bits(next());
                    json!(if f.is_finite() { f } else { 0.5 })
                }
                5 => serde_json::Value::Array((0..next() % 3).map(|_| value(next, depth + 1)).collect()),
                _ => serde_json::Value::Object(
                    (0..next() % 6)
                        .map(|_| (keys[(next() % 9) as usize].to_string(), value(next, depth + 1)))
                        .collect(),
                ),
            }
        }
        for _ in 0..3000 {
            let v = value(&mut next, 0);
            let _ = decode::<CheckInPartyInput>(v.clone()).map(|i| pops_domain::visits::check_party(&i));
            let _ = decode::<pops_domain::centre::SetUpCentreInput>(v.clone())
                .map(|i| pops_domain::centre::check_set_up(&i));
            let _ = decode::<pops_domain::account::AddAccountInput>(v.clone())
                .map(|i| pops_domain::account::check_add_account(&i));
            let _ = decode::<crate::api::UpdateSettingsInput>(v);
        }
    }
}
