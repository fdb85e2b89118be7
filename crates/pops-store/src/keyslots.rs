//! The key slots file beside the database. The random database key is stored only wrapped: once per
//! account under a key derived from that person's passphrase (Argon2id), and once under the recovery
//! code that head office keeps, each sealed with XChaCha20-Poly1305. Removing a slot removes that
//! person's way in; nobody's passphrase alone owns the data.

use crate::key::{DbKey, fill_random};
use crate::{Error, Result};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use uuid::Uuid;
use zeroize::Zeroizing;

/// The key slots file's name inside the data directory.
pub const FILE: &str = "keyslots.json";

/// Argon2id cost. Stored with each wrapped key so it can be raised later without breaking old slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

/// OWASP's recommended Argon2id settings (64 MiB, 3 passes): about a third of a second here.
pub const DEFAULT_KDF: KdfParams = KdfParams { m_cost: 64 * 1024, t_cost: 3, p_cost: 1 };

/// The database key sealed under a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    pub kdf: KdfParams,
    pub salt: String,
    pub nonce: String,
    pub sealed: String,
}

fn derive(secret: &[u8], salt: &[u8], kdf: KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    let params = Params::new(kdf.m_cost, kdf.t_cost, kdf.p_cost, Some(32))
        .map_err(|e| Error::BadKeySlots(format!("key derivation settings: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(secret, salt, out.as_mut())
        .map_err(|e| Error::BadKeySlots(format!("key derivation: {e}")))?;
    Ok(out)
}

impl WrappedKey {
    /// Seals `key` under `secret`. `context` binds the sealed key to its slot, so a slot's blob
    /// cannot be moved to another slot.
    pub fn seal(key: &DbKey, secret: &[u8], context: &[u8], kdf: KdfParams) -> Result<Self> {
        let mut salt = [0u8; 16];
        fill_random(&mut salt);
        let mut nonce = [0u8; 24];
        fill_random(&mut nonce);
        let kek = derive(secret, &salt, kdf)?;
        let cipher = XChaCha20Poly1305::new(Key::from_slice(kek.as_ref()));
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: key.as_bytes(), aad: context })
            .map_err(|_| Error::BadKeySlots("sealing failed".into()))?;
        Ok(WrappedKey { kdf, salt: B64.encode(salt), nonce: B64.encode(nonce), sealed: B64.encode(sealed) })
    }

    /// Opens the sealed key with `secret`: `Ok(None)` when the secret is wrong.
    pub fn open(&self, secret: &[u8], context: &[u8]) -> Result<Option<DbKey>> {
        let bad = |what: &str| Error::BadKeySlots(format!("{what} is not valid"));
        let salt = B64.decode(&self.salt).map_err(|_| bad("a salt"))?;
        let nonce = B64.decode(&self.nonce).map_err(|_| bad("a nonce"))?;
        let sealed = B64.decode(&self.sealed).map_err(|_| bad("a sealed key"))?;
        if nonce.len() != 24 {
            return Err(bad("a nonce"));
        }
        let kek = derive(secret, &salt, self.kdf)?;
        let cipher = XChaCha20Poly1305::new(Key::from_slice(kek.as_ref()));
        match cipher.decrypt(XNonce::from_slice(&nonce), Payload { msg: &sealed, aad: context }) {
            Ok(plain) => {
                let plain = Zeroizing::new(plain);
                let bytes: [u8; 32] = plain.as_slice().try_into().map_err(|_| bad("a sealed key"))?;
                Ok(Some(DbKey::from_bytes(bytes)))
            }
            Err(_) => Ok(None),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    Account,
    Recovery,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub id: Uuid,
    pub kind: SlotKind,
    /// For account slots: whose slot it is.
    pub account_id: Option<Uuid>,
    /// For account slots: a salted hash of the username, to find the slot without trying every one.
    pub lookup: Option<String>,
    pub key: WrappedKey,
}

impl Slot {
    fn context(&self) -> Vec<u8> {
        slot_context(self.id, self.kind, self.account_id)
    }
}

/// What binds a sealed key to its slot.
fn slot_context(id: Uuid, kind: SlotKind, account_id: Option<Uuid>) -> Vec<u8> {
    let account = account_id.map(|a| a.to_string()).unwrap_or_default();
    format!("pops-keyslot-v1|{id}|{kind:?}|{account}").into_bytes()
}

/// The whole file. It holds the centre's name (not personal data) so the sign-in screen can show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySlots {
    pub format: u32,
    pub centre_name: String,
    pub prison: String,
    pub lookup_salt: String,
    pub slots: Vec<Slot>,
}

/// Recovery codes: 25 characters of Crockford's base32 (125 bits), shown in five groups.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn new_recovery_code() -> String {
    let mut bytes = [0u8; 25];
    fill_random(&mut bytes);
    let chars: Vec<char> = bytes.iter().map(|b| RECOVERY_ALPHABET[usize::from(b & 31)] as char).collect();
    chars.chunks(5).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Uppercases a typed recovery code and drops spaces and dashes; reads O as 0 and I or L as 1.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

impl KeySlots {
    pub fn new(centre_name: &str, prison: &str) -> Self {
        let mut salt = [0u8; 16];
        fill_random(&mut salt);
        KeySlots {
            format: 1,
            centre_name: centre_name.into(),
            prison: prison.into(),
            lookup_salt: B64.encode(salt),
            slots: Vec::new(),
        }
    }

    fn lookup(&self, username: &str) -> String {
        let mut h = Sha256::new();
        h.update(b"pops-username-v1|");
        h.update(self.lookup_salt.as_bytes());
        h.update(b"|");
        h.update(username.as_bytes());
        hex::encode(h.finalize())
    }

    /// Reads the file; `Ok(None)` when there is none (the centre is not set up).
    pub fn load(dir: &Path) -> Result<Option<Self>> {
        match std::fs::read(dir.join(FILE)) {
            Ok(bytes) => {
                let slots: KeySlots = serde_json::from_slice(&bytes).map_err(|e| Error::BadKeySlots(e.to_string()))?;
                if slots.format != 1 {
                    return Err(Error::BadKeySlots(format!("unknown format {}", slots.format)));
                }
                Ok(Some(slots))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the file so that a crash leaves either the old or the new file, never half of one.
    pub fn save(&self, dir: &Path) -> Result<()> {
        crate::files::write_atomically(dir, FILE, &serde_json::to_vec_pretty(self)?)
    }

    /// Seals `key` under `secret` in a new slot and adds it.
    fn add_slot(
        &mut self,
        kind: SlotKind,
        account_id: Option<Uuid>,
        lookup: Option<String>,
        secret: &[u8],
        key: &DbKey,
        kdf: KdfParams,
    ) -> Result<()> {
        let id = Uuid::now_v7();
        let key = WrappedKey::seal(key, secret, &slot_context(id, kind, account_id), kdf)?;
        self.slots.push(Slot { id, kind, account_id, lookup, key });
        Ok(())
    }

    /// Adds (or replaces) the slot of an account, with the key derivation cost `kdf`
    /// (`DEFAULT_KDF` outside tests).
    pub fn set_account_slot(
        &mut self,
        account_id: Uuid,
        username: &str,
        passphrase: &str,
        key: &DbKey,
        kdf: KdfParams,
    ) -> Result<()> {
        self.remove_account_slot(account_id);
        let lookup = Some(self.lookup(username));
        self.add_slot(SlotKind::Account, Some(account_id), lookup, passphrase.as_bytes(), key, kdf)
    }

    /// Removes an account's slot; answers whether there was one.
    pub fn remove_account_slot(&mut self, account_id: Uuid) -> bool {
        let before = self.slots.len();
        self.slots.retain(|s| s.account_id != Some(account_id));
        before != self.slots.len()
    }

    pub fn set_recovery_slot(&mut self, code: &str, key: &DbKey) -> Result<()> {
        self.slots.retain(|s| s.kind != SlotKind::Recovery);
        let code = normalise_recovery_code(code);
        self.add_slot(SlotKind::Recovery, None, None, code.as_bytes(), key, DEFAULT_KDF)
    }

    /// Opens the database key with a username and passphrase: the account's id and the key, or
    /// `None` when either is wrong. Takes as long for an unknown username as for a wrong passphrase.
    pub fn open_with_passphrase(&self, username: &str, passphrase: &str) -> Result<Option<(Uuid, DbKey)>> {
        let lookup = self.lookup(username);
        match self.slots.iter().find(|s| s.kind == SlotKind::Account && s.lookup.as_deref() == Some(&lookup)) {
            Some(slot) => {
                let key = slot.key.open(passphrase.as_bytes(), &slot.context())?;
                Ok(key.and_then(|k| slot.account_id.map(|a| (a, k))))
            }
            None => {
                // Spend the same work as a real attempt so timing does not reveal which usernames exist.
                let _ = derive(passphrase.as_bytes(), b"pops-no-such-user", DEFAULT_KDF)?;
                Ok(None)
            }
        }
    }

    /// Opens the database key with the recovery code.
    pub fn open_with_recovery_code(&self, code: &str) -> Result<Option<DbKey>> {
        let code = normalise_recovery_code(code);
        match self.slots.iter().find(|s| s.kind == SlotKind::Recovery) {
            Some(slot) => slot.key.open(code.as_bytes(), &slot.context()),
            None => Ok(None),
        }
    }

    pub fn has_account_slot(&self, account_id: Uuid) -> bool {
        self.slots.iter().any(|s| s.account_id == Some(account_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };

    #[test]
    fn each_slot_opens_only_with_its_own_secret() {
        let key = DbKey::generate();
        let mut slots = KeySlots::new("Test Centre", "liverpool");
        let sam = Uuid::now_v7();
        let ali = Uuid::now_v7();
        slots.set_account_slot(sam, "sam", "correct horse battery", &key, FAST).unwrap();
        slots.set_account_slot(ali, "ali", "another long passphrase", &key, FAST).unwrap();
        let (id, k) = slots.open_with_passphrase("sam", "correct horse battery").unwrap().unwrap();
        assert_eq!(id, sam);
        assert_eq!(k.as_bytes(), key.as_bytes());
        assert!(slots.open_with_passphrase("sam", "another long passphrase").unwrap().is_none());
        assert!(slots.open_with_passphrase("nobody", "correct horse battery").unwrap().is_none());
        assert!(slots.remove_account_slot(sam));
        assert!(slots.open_with_passphrase("sam", "correct horse battery").unwrap().is_none());
        assert!(slots.open_with_passphrase("ali", "another long passphrase").unwrap().is_some());
    }

    #[test]
    fn recovery_code_opens_and_tolerates_typing() {
        let key = DbKey::generate();
        let mut slots = KeySlots::new("Test Centre", "liverpool");
        let code = new_recovery_code();
        assert_eq!(code.len(), 29);
        slots.set_recovery_slot(&code, &key).unwrap();
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(slots.open_with_recovery_code(&typed).unwrap().unwrap().as_bytes(), key.as_bytes());
        assert!(slots.open_with_recovery_code("00000-00000-00000-00000-00000").unwrap().is_none());
    }

    #[test]
    fn a_sealed_key_moved_to_another_slot_does_not_open() {
        let key = DbKey::generate();
        let mut slots = KeySlots::new("Test Centre", "liverpool");
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        slots.set_account_slot(a, "aaa", "same passphrase!", &key, FAST).unwrap();
        slots.set_account_slot(b, "bbb", "same passphrase!", &key, FAST).unwrap();
        let a_key = slots.slots[0].key.clone();
        slots.slots[1].key = a_key;
        assert!(slots.open_with_passphrase("bbb", "same passphrase!").unwrap().is_none());
    }

    #[test]
    fn file_round_trips_and_holds_no_key_or_username() {
        let dir = tempfile::tempdir().unwrap();
        let key = DbKey::generate();
        let mut slots = KeySlots::new("Test Centre", "liverpool");
        slots.set_account_slot(Uuid::now_v7(), "zebedee.q", "correct horse battery", &key, FAST).unwrap();
        slots.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(!text.contains("zebedee"));
        assert!(!text.contains(&hex::encode(key.as_bytes())));
        assert!(!text.contains(&B64.encode(key.as_bytes())));
        assert_eq!(KeySlots::load(dir.path()).unwrap().unwrap(), slots);
    }
}
