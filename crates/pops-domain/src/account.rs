//! Staff accounts: usernames, display names, passphrases and PINs, and the rules for each.

use crate::error::{Invalid, Problems, clean_text};
use crate::role::Role;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

pub const PASSPHRASE_MIN_CHARS: usize = 10;
pub const PASSPHRASE_MAX_CHARS: usize = 200;
pub const PIN_MIN_DIGITS: usize = 6;
pub const PIN_MAX_DIGITS: usize = 12;
pub const USERNAME_MAX_CHARS: usize = 32;
pub const DISPLAY_NAME_MAX_CHARS: usize = 60;

/// A staff account as shown to a manager. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Account {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// The account fields after checking.
#[derive(Debug, Clone)]
pub struct NewAccountFields {
    pub display_name: String,
    pub username: String,
    pub passphrase: String,
    pub pin: String,
}

/// A manager adds an account for a colleague.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct AddAccountInput {
    pub display_name: String,
    pub username: String,
    pub role: Option<Role>,
    pub passphrase: String,
    pub passphrase_confirm: String,
    pub pin: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct SetAccountRoleInput {
    pub account_id: Uuid,
    pub role: Role,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct DisableAccountInput {
    pub account_id: Uuid,
}

/// Usernames are compared without regard to case or surrounding spaces.
pub fn normalise_username(username: &str) -> String {
    username.trim().to_lowercase()
}

pub fn check_username(problems: &mut Problems, username: &str) -> Option<String> {
    let u = normalise_username(username);
    if u.is_empty() {
        problems.add("username", "Enter a username, for example sam.jones");
        return None;
    }
    if u.chars().count() > USERNAME_MAX_CHARS {
        problems.add("username", format!("The username must be {USERNAME_MAX_CHARS} characters or fewer"));
        return None;
    }
    if u.chars().count() < 3 {
        problems.add("username", "The username must be at least 3 characters");
        return None;
    }
    if !u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')) {
        problems.add("username", "Use only letters, numbers, dots, hyphens and underscores in the username");
        return None;
    }
    Some(u)
}

pub fn check_passphrase(problems: &mut Problems, field: &str, passphrase: &str) -> bool {
    let n = passphrase.chars().count();
    if n == 0 {
        problems.add(field, "Enter a passphrase of at least 10 characters, for example three words you will remember");
        false
    } else if n < PASSPHRASE_MIN_CHARS {
        problems.add(field, format!("The passphrase must be at least {PASSPHRASE_MIN_CHARS} characters"));
        false
    } else if n > PASSPHRASE_MAX_CHARS {
        problems.add(field, format!("The passphrase must be {PASSPHRASE_MAX_CHARS} characters or fewer"));
        false
    } else {
        true
    }
}

pub fn check_pin(problems: &mut Problems, field: &str, pin: &str) -> bool {
    let pin = pin.trim();
    if pin.is_empty() {
        problems.add(field, "Enter a PIN of 6 digits, for example 402917");
        false
    } else if !pin.chars().all(|c| c.is_ascii_digit()) {
        problems.add(field, "The PIN must be digits only");
        false
    } else if pin.len() < PIN_MIN_DIGITS || pin.len() > PIN_MAX_DIGITS {
        problems.add(field, format!("The PIN must be {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits"));
        false
    } else if pin.chars().all(|c| pin.starts_with(c)) || "0123456789012".contains(pin) || "9876543210987".contains(pin)
    {
        problems.add(field, "Choose a PIN that is harder to guess than a repeated or sequential number");
        false
    } else {
        true
    }
}

/// Checks the fields of a new account. `confirm` is the passphrase typed a second time, where the form asks for it.
pub fn check_new_account(
    problems: &mut Problems,
    display_name: &str,
    username: &str,
    passphrase: &str,
    confirm: Option<&str>,
    pin: &str,
) -> Option<NewAccountFields> {
    let display = clean_text(problems, "display_name", "The name", display_name, DISPLAY_NAME_MAX_CHARS);
    if display.is_none() && display_name.trim().is_empty() {
        problems.add("display_name", "Enter the person's name as colleagues know it, for example Sam Jones");
    }
    let user = check_username(problems, username);
    let pass_ok = check_passphrase(problems, "passphrase", passphrase);
    let mut confirm_ok = true;
    if let Some(confirm) = confirm
        && pass_ok
        && confirm != passphrase
    {
        problems.add("passphrase_confirm", "The two passphrases are different: type the same passphrase twice");
        confirm_ok = false;
    }
    let pin_ok = check_pin(problems, "pin", pin);
    match (display, user) {
        (Some(display_name), Some(username)) if pass_ok && confirm_ok && pin_ok => Some(NewAccountFields {
            display_name,
            username,
            passphrase: passphrase.to_string(),
            pin: pin.trim().to_string(),
        }),
        _ => None,
    }
}

pub fn check_add_account(input: &AddAccountInput) -> Result<(NewAccountFields, Role), Invalid> {
    let mut problems = Problems::new();
    let fields = check_new_account(
        &mut problems,
        &input.display_name,
        &input.username,
        &input.passphrase,
        Some(&input.passphrase_confirm),
        &input.pin,
    );
    if input.role.is_none() {
        problems.add("role", "Choose what this person does at the centre");
    }
    problems.finish()?;
    match (fields, input.role) {
        (Some(f), Some(r)) => Ok((f, r)),
        _ => Err(Invalid::one("username", "Check the details and try again")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_for(pin: &str) -> usize {
        let mut p = Problems::new();
        check_pin(&mut p, "pin", pin);
        p.finish().err().map_or(0, |e| e.0.len())
    }

    #[test]
    fn pins() {
        assert_eq!(problems_for("402917"), 0);
        assert_eq!(problems_for("12345"), 1);
        assert_eq!(problems_for("123456"), 1);
        assert_eq!(problems_for("111111"), 1);
        assert_eq!(problems_for("12a456"), 1);
        assert_eq!(problems_for(""), 1);
    }

    #[test]
    fn passphrase_length_counts_characters_not_bytes() {
        let mut p = Problems::new();
        assert!(check_passphrase(&mut p, "passphrase", "ééééééééééé"));
        assert!(!check_passphrase(&mut p, "passphrase", "short"));
    }

    #[test]
    fn usernames_are_normalised() {
        let mut p = Problems::new();
        assert_eq!(check_username(&mut p, "  Sam.Jones "), Some("sam.jones".into()));
        assert_eq!(check_username(&mut p, "sam jones"), None);
        assert_eq!(check_username(&mut p, &"x".repeat(33)), None);
    }
}
