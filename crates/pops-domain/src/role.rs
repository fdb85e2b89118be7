//! The four roles a person can hold at a centre.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Front desk, café till, play register.
    Volunteer,
    /// Early Years Worker: play sessions and support flags.
    EarlyYears,
    /// Family Services Coordinator: families, referrals, case notes.
    Coordinator,
    /// Centre manager: everything at the centre.
    Manager,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Volunteer, Role::EarlyYears, Role::Coordinator, Role::Manager];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Volunteer => "volunteer",
            Role::EarlyYears => "early_years",
            Role::Coordinator => "coordinator",
            Role::Manager => "manager",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// How the role is named on screen.
    pub fn label(self) -> &'static str {
        match self {
            Role::Volunteer => "Volunteer",
            Role::EarlyYears => "Early Years Worker",
            Role::Coordinator => "Family Services Coordinator",
            Role::Manager => "Centre manager",
        }
    }
}
