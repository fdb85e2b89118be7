//! Enrolment codes, device tokens and the hashes the hub keeps of them, and the canonical hash of a
//! batch. Codes and tokens come from the operating system's CSPRNG; only their SHA-256 is stored.

use crate::error::{Error, Result};
use base64::Engine;
use pops_domain::sync::Batch;
use sha2::{Digest, Sha256};

use pops_domain::sync::CROCKFORD;
pub use pops_domain::sync::ENROLMENT_CODE_CHARS as CODE_CHARS;

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| Error::Io(std::io::Error::other(format!("no randomness: {e}"))))?;
    Ok(buf)
}

/// A new enrolment code, shown as `XXXX-XXXX-XXXX-XXXX`.
pub fn new_code() -> Result<String> {
    let bytes = random::<10>()?;
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    let mut out = String::with_capacity(CODE_CHARS + 3);
    for i in 0..CODE_CHARS {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let shift = 5 * (CODE_CHARS - 1 - i);
        out.push(char::from(CROCKFORD[((bits >> shift) & 31) as usize]));
    }
    Ok(out)
}

/// The code as stored: upper case, without spaces or dashes, with the letters Crockford reads as
/// digits (O → 0, I and L → 1) turned into them. `None` when it cannot be a code at all.
pub fn normalise_code(typed: &str) -> Option<String> {
    pops_domain::sync::normalise_enrolment_code(typed)
}

/// What the hub stores of an enrolment code: the SHA-256 of its normal form.
pub fn code_hash(typed: &str) -> Option<String> {
    normalise_code(typed).map(|c| sha256_hex(c.as_bytes()))
}

/// A new device token: 32 random bytes, base64url without padding (43 characters).
pub fn new_token() -> Result<String> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<32>()?))
}

/// What the hub stores of a token. `None` for anything that cannot be a token, so a garbage header
/// costs no database look-up.
pub fn token_hash(token: &str) -> Option<String> {
    let ok = token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| sha256_hex(token.as_bytes()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `value` with every object's keys in sorted order, whatever order they arrived in (and whether or
/// not serde_json keeps insertion order), so equal batches hash equal.
fn canonical(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                if let Some(v) = map.get(k) {
                    out.insert(k.clone(), canonical(v));
                }
            }
            serde_json::Value::Object(out)
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The SHA-256 of the batch in canonical JSON: the same changes give the same hash however the
/// device's JSON was spaced or ordered.
pub fn batch_hash(batch: &Batch) -> Result<String> {
    let value = serde_json::to_value(batch)?;
    Ok(sha256_hex(&serde_json::to_vec(&canonical(&value))?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_are_16_crockford_characters_in_groups_of_four() {
        let code = new_code().unwrap();
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        let bare = normalise_code(&code).unwrap();
        assert_eq!(bare.len(), CODE_CHARS);
        assert_ne!(new_code().unwrap(), code);
    }

    #[test]
    fn a_code_is_read_without_case_spaces_or_dashes() {
        let code = "ABCD-EFGH-JKMN-PQRS";
        let want = code_hash(code).unwrap();
        assert_eq!(code_hash("abcd efgh jkmn pqrs").unwrap(), want);
        assert_eq!(code_hash(" abcdefghjkmnpqrs ").unwrap(), want);
        assert_eq!(code_hash("0000-1111-2222-3333"), code_hash("oooo-iiii-2222-3333"));
        assert_eq!(code_hash("ABCD-EFGH-JKMN-PQR"), None);
        assert_eq!(code_hash("ABCD-EFGH-JKMN-PQRU"), None);
        assert_eq!(code_hash("ÄBCD-EFGH-JKMN-PQRS"), None);
    }

    #[test]
    fn tokens_are_43_url_safe_characters() {
        let t = new_token().unwrap();
        assert_eq!(t.len(), 43);
        assert!(token_hash(&t).is_some());
        assert!(token_hash("short").is_none());
        assert!(token_hash(&format!("{}=", &t[..42])).is_none());
    }

    #[test]
    fn key_order_does_not_change_a_batch_hash() {
        let a: Batch = serde_json::from_str(
            r#"{"batch_id":"0190b8e4-0000-7000-8000-000000000001","first_seq":1,"last_seq":1,"changes":[
            {"change_id":"0190b8e4-0000-7000-8000-000000000002","seq":1,"entity":"x","entity_id":"0190b8e4-0000-7000-8000-000000000003",
             "op":"upsert","occurred_at":"t","user_id":"0190b8e4-0000-7000-8000-000000000004","schema_version":5,"payload":{"a":1,"b":{"c":2,"d":3}}}]}"#,
        )
        .unwrap();
        let mut b = a.clone();
        b.changes[0].payload = serde_json::from_str(r#"{"b":{"d":3,"c":2},"a":1}"#).unwrap();
        assert_eq!(batch_hash(&a).unwrap(), batch_hash(&b).unwrap());
        b.changes[0].payload = serde_json::from_str(r#"{"b":{"d":3,"c":2},"a":2}"#).unwrap();
        assert_ne!(batch_hash(&a).unwrap(), batch_hash(&b).unwrap());
    }
}
