//! The centre itself: which prison it serves, its name, and the first-run set-up input.

use crate::account::{NewAccountFields, check_new_account};
use crate::error::{Invalid, Problems, clean_text};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The twelve prisons where POPS runs the visitor centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Prison {
    Manchester,
    ThorneCross,
    BuckleyHall,
    Garth,
    Hindley,
    Kennet,
    Kirkham,
    LancasterFarms,
    Liverpool,
    Risley,
    Wymott,
    Wakefield,
}

impl Prison {
    pub const ALL: [Prison; 12] = [
        Prison::Manchester,
        Prison::ThorneCross,
        Prison::BuckleyHall,
        Prison::Garth,
        Prison::Hindley,
        Prison::Kennet,
        Prison::Kirkham,
        Prison::LancasterFarms,
        Prison::Liverpool,
        Prison::Risley,
        Prison::Wymott,
        Prison::Wakefield,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Prison::Manchester => "HMP Manchester",
            Prison::ThorneCross => "HMYOI Thorne Cross",
            Prison::BuckleyHall => "HMP Buckley Hall",
            Prison::Garth => "HMP Garth",
            Prison::Hindley => "HMYOI Hindley",
            Prison::Kennet => "HMP Kennet",
            Prison::Kirkham => "HMP Kirkham",
            Prison::LancasterFarms => "HMYOI Lancaster Farms",
            Prison::Liverpool => "HMP Liverpool",
            Prison::Risley => "HMP Risley",
            Prison::Wymott => "HMP Wymott",
            Prison::Wakefield => "HMP Wakefield",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Prison::Manchester => "manchester",
            Prison::ThorneCross => "thorne_cross",
            Prison::BuckleyHall => "buckley_hall",
            Prison::Garth => "garth",
            Prison::Hindley => "hindley",
            Prison::Kennet => "kennet",
            Prison::Kirkham => "kirkham",
            Prison::LancasterFarms => "lancaster_farms",
            Prison::Liverpool => "liverpool",
            Prison::Risley => "risley",
            Prison::Wymott => "wymott",
            Prison::Wakefield => "wakefield",
        }
    }

    pub fn parse(s: &str) -> Option<Prison> {
        Prison::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A prison as offered in the set-up form.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PrisonOption {
    pub prison: Prison,
    pub label: String,
}

pub fn prison_options() -> Vec<PrisonOption> {
    Prison::ALL.into_iter().map(|prison| PrisonOption { prison, label: prison.label().into() }).collect()
}

/// First-run set-up: the centre and its first manager.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SetUpCentreInput {
    pub centre_name: String,
    /// `None` until the person picks one.
    pub prison: Option<Prison>,
    pub display_name: String,
    pub username: String,
    pub passphrase: String,
    pub passphrase_confirm: String,
    pub pin: String,
}

/// The set-up input after checking: trimmed and complete.
#[derive(Debug, Clone)]
pub struct CentreSetup {
    pub centre_name: String,
    pub prison: Prison,
    pub manager: NewAccountFields,
}

pub fn check_set_up(input: &SetUpCentreInput) -> Result<CentreSetup, Invalid> {
    let mut problems = Problems::new();
    let centre_name = clean_text(&mut problems, "centre_name", "The centre's name", &input.centre_name, 80);
    if centre_name.is_none() && input.centre_name.trim().is_empty() {
        problems.add("centre_name", "Enter the centre's name, for example HMP Liverpool Visitor Centre");
    }
    if input.prison.is_none() {
        problems.add("prison", "Choose the prison this centre serves");
    }
    let manager = check_new_account(
        &mut problems,
        &input.display_name,
        &input.username,
        &input.passphrase,
        Some(&input.passphrase_confirm),
        &input.pin,
    );
    problems.finish()?;
    match (centre_name, input.prison, manager) {
        (Some(centre_name), Some(prison), Some(fields)) => Ok(CentreSetup { centre_name, prison, manager: fields }),
        _ => Err(Invalid::one("centre_name", "Check the details and try again")),
    }
}
