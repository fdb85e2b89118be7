//! Validation problems: each names the form field it belongs to and says, in plain words, what to do.

use serde::Serialize;
use ts_rs::TS;

/// One thing wrong with what was typed, tied to the field where it was typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Problem {
    /// The input field's name, as the UI knows it (for example `adults`).
    pub field: String,
    /// What to do about it, in plain English.
    pub message: String,
}

/// Everything wrong with one input. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s) with the input", .0.len())]
pub struct Invalid(pub Vec<Problem>);

impl Invalid {
    pub fn one(field: &str, message: impl Into<String>) -> Self {
        Invalid(vec![Problem { field: field.into(), message: message.into() }])
    }
}

/// Collects problems while checking an input, then answers `Ok` only if there were none.
#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(Problem { field: field.into(), message: message.into() });
    }
    pub fn finish(self) -> Result<(), Invalid> {
        if self.0.is_empty() { Ok(()) } else { Err(Invalid(self.0)) }
    }
}

/// Checks a free-text field: trims it, refuses control characters and text over `max` characters.
/// Returns the trimmed text, or `None` when it is empty.
pub fn clean_text(problems: &mut Problems, field: &str, label: &str, value: &str, max: usize) -> Option<String> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max {
        problems.add(field, format!("{label} must be {max} characters or fewer"));
        return None;
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        problems.add(field, format!("{label} must not contain control characters"));
        return None;
    }
    if trimmed.is_empty() { None } else { Some(trimmed.to_string()) }
}
