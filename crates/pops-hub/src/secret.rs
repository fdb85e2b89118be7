//! Enrolment codes, device tokens and the hashes the hub keeps of them, and the canonical hash of a
//! batch. Codes and tokens come from the operating system's CSPRNG; only their SHA-256 is stored.

use crate::error::{Error, Result};
use base64::Engine;
use pops_domain::sync::{Batch, RawBatch};
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

/// Writes `value` as compact JSON with every object's keys in sorted order, whatever order they
/// arrived in (and whether or not serde_json keeps insertion order), so equal values write equal
/// bytes. Nothing is copied: keys are sorted by reference and scalars written as serde_json would.
fn write_canonical(out: &mut impl std::io::Write, value: &serde_json::Value) -> Result<()> {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.write_all(b"{")?;
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, k)?;
                out.write_all(b":")?;
                write_canonical(out, v)?;
            }
            out.write_all(b"}")?;
        }
        serde_json::Value::Array(items) => {
            out.write_all(b"[")?;
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_canonical(out, v)?;
            }
            out.write_all(b"]")?;
        }
        scalar => serde_json::to_writer(&mut *out, scalar)?,
    }
    Ok(())
}

/// Feeds what is written into a SHA-256.
struct Hashing(Sha256);

impl std::io::Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The SHA-256 of the batch in canonical JSON (keys sorted, no spacing): the same changes give the
/// same hash however the device's JSON was spaced or ordered. [`raw_batch_hash`] of it.
pub fn batch_hash(batch: &Batch) -> Result<String> {
    raw_batch_hash(&RawBatch::from_batch(batch)?)
}

/// [`batch_hash`] of a batch as the hub reads it: the same hash for the same changes. Written field
/// by field straight into the hash, with each payload read as a value and written in canonical
/// form, so a batch of 500 changes is hashed without being copied whole.
pub fn raw_batch_hash(batch: &RawBatch) -> Result<String> {
    let mut h = std::io::BufWriter::with_capacity(8192, Hashing(Sha256::new()));
    let field = |h: &mut std::io::BufWriter<Hashing>, name: &str, value: &dyn erased::Json| -> Result<()> {
        serde_json::to_writer(&mut *h, name)?;
        h.write_all(b":")?;
        value.write_json(h)
    };
    use std::io::Write;
    h.write_all(b"{")?;
    field(&mut h, "batch_id", &batch.batch_id)?;
    h.write_all(b",\"changes\":[")?;
    for (i, c) in batch.changes.iter().enumerate() {
        h.write_all(if i == 0 { b"{" } else { b",{" })?;
        field(&mut h, "change_id", &c.change_id)?;
        h.write_all(b",")?;
        field(&mut h, "entity", &c.entity)?;
        h.write_all(b",")?;
        field(&mut h, "entity_id", &c.entity_id)?;
        h.write_all(b",")?;
        field(&mut h, "occurred_at", &c.occurred_at)?;
        h.write_all(b",")?;
        field(&mut h, "op", &c.op.as_str())?;
        h.write_all(b",\"payload\":")?;
        write_canonical(&mut h, &c.payload_value()?)?;
        h.write_all(b",")?;
        field(&mut h, "schema_version", &c.schema_version)?;
        h.write_all(b",")?;
        field(&mut h, "seq", &c.seq)?;
        h.write_all(b",")?;
        field(&mut h, "user_id", &c.user_id)?;
        h.write_all(b"}")?;
    }
    h.write_all(b"],")?;
    field(&mut h, "first_seq", &batch.first_seq)?;
    h.write_all(b",")?;
    field(&mut h, "last_seq", &batch.last_seq)?;
    h.write_all(b"}")?;
    let hashing = h.into_inner().map_err(|e| Error::Io(e.into_error()))?;
    Ok(hex::encode(hashing.0.finalize()))
}

/// A value that writes itself as JSON, so [`batch_hash`] can take fields of different types.
mod erased {
    pub trait Json {
        fn write_json(&self, out: &mut dyn std::io::Write) -> crate::Result<()>;
    }
    impl<T: serde::Serialize> Json for T {
        fn write_json(&self, out: &mut dyn std::io::Write) -> crate::Result<()> {
            Ok(serde_json::to_writer(out, self)?)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The hash is the SHA-256 of exactly the canonical JSON: the batch as a value with every
    /// object's keys sorted, written compactly.
    #[test]
    fn a_batch_hashes_as_its_canonical_json() {
        fn sorted(v: &serde_json::Value) -> serde_json::Value {
            match v {
                serde_json::Value::Object(m) => {
                    let b: std::collections::BTreeMap<_, _> = m.iter().map(|(k, v)| (k.clone(), sorted(v))).collect();
                    serde_json::to_value(b).unwrap()
                }
                serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
                o => o.clone(),
            }
        }
        let id = uuid::Uuid::now_v7();
        let change = pops_domain::change::Change {
            change_id: uuid::Uuid::now_v7(),
            seq: 7,
            entity: "check_in".into(),
            entity_id: id,
            op: pops_domain::change::Op::Upsert,
            occurred_at: "2026-11-25T10:00:00.000Z".into(),
            user_id: uuid::Uuid::now_v7(),
            schema_version: 8,
            payload: serde_json::json!({"z": [1, {"b": "é\"\n", "a": null}], "id": id, "adults": 2.5}),
        };
        let batch =
            Batch { batch_id: uuid::Uuid::now_v7(), first_seq: 7, last_seq: 8, changes: vec![change.clone(), change] };
        let canonical = serde_json::to_vec(&sorted(&serde_json::to_value(&batch).unwrap())).unwrap();
        assert_eq!(batch_hash(&batch).unwrap(), sha256_hex(&canonical));
    }

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

    /// The hub hashes a batch as it reads it, payloads as text: the hash is the same as of the
    /// batch read as values, however the payload text is spaced or its keys ordered.
    #[test]
    fn a_batch_read_with_its_payloads_as_text_hashes_the_same() {
        let text = |payload: &str| {
            format!(
                r#"{{"batch_id":"0190b8e4-0000-7000-8000-000000000001","first_seq":1,"last_seq":1,"changes":[
                {{"change_id":"0190b8e4-0000-7000-8000-000000000002","seq":1,"entity":"x","entity_id":"0190b8e4-0000-7000-8000-000000000003",
                 "op":"upsert","occurred_at":"t","user_id":"0190b8e4-0000-7000-8000-000000000004","schema_version":5,"payload":{payload}}}]}}"#
            )
        };
        let sorted = text(r#"{"a":1,"b":{"c":2,"d":[3,"é\n"]}}"#);
        let want = batch_hash(&serde_json::from_str::<Batch>(&sorted).unwrap()).unwrap();
        for payload in
            [r#"{"a":1,"b":{"c":2,"d":[3,"é\n"]}}"#, "{ \"b\" : { \"d\": [3, \"\\u00e9\\n\"], \"c\": 2 },\n \"a\": 1 }"]
        {
            let raw: RawBatch = serde_json::from_str(&text(payload)).unwrap();
            assert_eq!(raw.changes[0].payload.get(), payload);
            assert_eq!(raw_batch_hash(&raw).unwrap(), want, "{payload}");
        }
        let other: RawBatch = serde_json::from_str(&text(r#"{"a":2,"b":{"c":2,"d":[3,"é\n"]}}"#)).unwrap();
        assert_ne!(raw_batch_hash(&other).unwrap(), want);
    }
}
