//! Families kept on record, only with their consent: the members (each with a date of birth or an age
//! band), contact details, the linked prisoner, and the consent itself, which lasts the centre's
//! `consent_months` and must then be renewed or the record removed.
//!
//! The whole family is one record: one change to head office carries all of it. The first member is
//! the lead visitor, the person the centre deals with.

use crate::desk::choice;
use crate::error::{Invalid, Problems, clean_text};
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use ts_rs::TS;
use uuid::Uuid;

/// The longest name of a member, of the person who gave consent, or of the prisoner.
pub const NAME_MAX_CHARS: usize = 80;
/// Most members one family record may have.
pub const MAX_MEMBERS: usize = 20;
pub const PHONE_MAX_CHARS: usize = 30;
pub const EMAIL_MAX_CHARS: usize = 254;
pub const ADDRESS_MAX_CHARS: usize = 300;
/// A date of birth making someone older than this is taken for a typing mistake.
pub const MAX_AGE_YEARS: i32 = 120;
/// Consent expiring within this many days is due for renewal.
pub const RENEWAL_WARNING_DAYS: i64 = 30;
/// The longest consent period a centre may set.
pub const MAX_CONSENT_MONTHS: i32 = 120;

choice!(
    /// How the family gave its consent.
    ConsentMethod {
        Verbal => "verbal",
        Written => "written",
    }
);

choice!(
    /// How a member is related to the prisoner.
    Relationship {
        Partner => "partner",
        Parent => "parent",
        Child => "child",
        Stepchild => "stepchild",
        Grandparent => "grandparent",
        Grandchild => "grandchild",
        Sibling => "sibling",
        OtherRelative => "other_relative",
        Friend => "friend",
        /// A foster carer, kinship carer or social worker bringing children to visit.
        Carer => "carer",
    }
);

choice!(
    /// Where a family's consent stands on a given day.
    ConsentStatus {
        Current => "current",
        /// It expires within `RENEWAL_WARNING_DAYS`: ask the family to renew it.
        DueForRenewal => "due_for_renewal",
        /// It has expired: renew it or remove the record.
        Expired => "expired",
    }
);

choice!(
    /// Why a family's record was removed.
    RemovalReason {
        ConsentWithdrawn => "consent_withdrawn",
        ConsentExpired => "consent_expired",
        ErasureRequested => "erasure_requested",
    }
);

/// A member's age band: the bands of a check-in's children, and adults. The names are the field
/// names of `visits::AgeBands`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum AgeBand {
    #[serde(rename = "adult")]
    Adult,
    #[serde(rename = "age_0_1")]
    Age0To1,
    #[serde(rename = "age_2")]
    Age2,
    #[serde(rename = "age_3_4")]
    Age3To4,
    #[serde(rename = "age_5_11")]
    Age5To11,
    #[serde(rename = "age_12_17")]
    Age12To17,
}

impl AgeBand {
    pub const ALL: [AgeBand; 6] =
        [AgeBand::Adult, AgeBand::Age0To1, AgeBand::Age2, AgeBand::Age3To4, AgeBand::Age5To11, AgeBand::Age12To17];

    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::Adult => "adult",
            AgeBand::Age0To1 => "age_0_1",
            AgeBand::Age2 => "age_2",
            AgeBand::Age3To4 => "age_3_4",
            AgeBand::Age5To11 => "age_5_11",
            AgeBand::Age12To17 => "age_12_17",
        }
    }

    pub fn parse(s: &str) -> Option<AgeBand> {
        AgeBand::ALL.iter().copied().find(|b| b.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            AgeBand::Adult => "Adult",
            AgeBand::Age0To1 => "Under 2",
            AgeBand::Age2 => "Aged 2",
            AgeBand::Age3To4 => "Aged 3 to 4",
            AgeBand::Age5To11 => "Aged 5 to 11",
            AgeBand::Age12To17 => "Aged 12 to 17",
        }
    }

    /// The band of someone `years` old (whole years).
    pub fn for_age(years: i32) -> AgeBand {
        match years {
            ..=1 => AgeBand::Age0To1,
            2 => AgeBand::Age2,
            3..=4 => AgeBand::Age3To4,
            5..=11 => AgeBand::Age5To11,
            12..=17 => AgeBand::Age12To17,
            _ => AgeBand::Adult,
        }
    }
}

/// Whole years from `born` to `day` (a 29 February birthday comes on 1 March in other years).
pub fn age_on(born: NaiveDate, day: NaiveDate) -> i32 {
    let years = day.year() - born.year();
    if (day.month(), day.day()) < (born.month(), born.day()) { years - 1 } else { years }
}

/// Reads a date typed as `YYYY-MM-DD` or `DD/MM/YYYY`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let four_digit_year = |d: NaiveDate| (1000..=9999).contains(&d.year());
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
        .filter(|d| four_digit_year(*d))
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Where consent that ends on `expires_on` stands on `today`. It has expired on its expiry date.
pub fn consent_status(expires_on: NaiveDate, today: NaiveDate) -> ConsentStatus {
    let days_left = (expires_on - today).num_days();
    if days_left <= 0 {
        ConsentStatus::Expired
    } else if days_left <= RENEWAL_WARNING_DAYS {
        ConsentStatus::DueForRenewal
    } else {
        ConsentStatus::Current
    }
}

/// The last day (`YYYY-MM-DD`) of the renewal warning: consent expiring on or before it is due.
pub fn renewal_horizon(today: NaiveDate) -> String {
    iso(today + chrono::Days::new(RENEWAL_WARNING_DAYS.unsigned_abs()))
}

// ---------------------------------------------------------------------------------------------
// The record

/// One member of a family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FamilyMember {
    pub id: Uuid,
    pub name: String,
    pub relationship: Relationship,
    /// `YYYY-MM-DD`, when the family gave it; the age band then follows from it.
    pub date_of_birth: Option<String>,
    /// The band given instead of a date of birth; `None` when the date of birth is known.
    pub age_band: Option<AgeBand>,
}

impl FamilyMember {
    /// The member's age band on `day`: from the date of birth when known, else the band given.
    pub fn age_band_on(&self, day: NaiveDate) -> AgeBand {
        match self.date_of_birth.as_deref().and_then(parse_date) {
            Some(born) => AgeBand::for_age(age_on(born, day)),
            None => self.age_band.unwrap_or(AgeBand::Adult),
        }
    }
}

/// The family's consent to the centre keeping its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Consent {
    /// Who gave it (usually the lead visitor).
    pub given_by: String,
    pub method: ConsentMethod,
    /// `YYYY-MM-DD`.
    pub given_on: String,
    /// `YYYY-MM-DD`: `given_on` plus the centre's consent period. The consent has expired on this day.
    pub expires_on: String,
    /// Who recorded it in the app, and when (RFC 3339, UTC).
    pub recorded_by: Uuid,
    pub recorded_at: String,
}

impl Consent {
    pub fn status_on(&self, today: NaiveDate) -> ConsentStatus {
        match parse_date(&self.expires_on) {
            Some(expires) => consent_status(expires, today),
            None => ConsentStatus::Expired,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Contact {
    pub phone: Option<String>,
    pub email: Option<String>,
    /// May run over several lines.
    pub address: Option<String>,
}

/// The prisoner the family visits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LinkedPrisoner {
    pub name: Option<String>,
    /// Upper case, like `A1234BC`.
    pub prison_number: Option<String>,
}

/// A family on record: the whole record, as it travels to head office in one change. Coordinators
/// and managers see all of it; the front desk sees `without_private_details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Family {
    pub id: Uuid,
    /// The lead visitor first.
    pub members: Vec<FamilyMember>,
    pub consent: Consent,
    pub contact: Contact,
    pub prisoner: Option<LinkedPrisoner>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub created_by: Uuid,
    pub updated_at: String,
    pub updated_by: Uuid,
}

/// A family as the front desk sees it: names, relationships and age bands; no dates of birth,
/// contact details or prisoner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FamilyOutline {
    pub id: Uuid,
    /// The lead visitor first.
    pub members: Vec<MemberOutline>,
    pub consent_expires_on: String,
    pub consent_status: ConsentStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct MemberOutline {
    pub id: Uuid,
    pub name: String,
    pub relationship: Relationship,
    /// On the day the outline was made.
    pub age_band: AgeBand,
}

/// How often a family has come, from its linked check-ins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct VisitHistory {
    /// RFC 3339, UTC: the arrival of the first and the latest check-in.
    pub first_visit: Option<String>,
    pub last_visit: Option<String>,
    pub check_ins: u32,
}

/// One family in search results and renewal lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FamilySummary {
    pub id: Uuid,
    /// Every member's name, the lead visitor first.
    pub names: Vec<String>,
    pub visits: VisitHistory,
    pub consent_expires_on: String,
    pub consent_status: ConsentStatus,
    /// Where the family's latest change to head office has got to (filled in by the app for the
    /// lists it shows; `None` in exports).
    pub sync_state: Option<crate::sync::RecordState>,
}

impl Family {
    /// The family without what only coordinators and managers may see.
    pub fn without_private_details(&self, today: NaiveDate) -> FamilyOutline {
        FamilyOutline {
            id: self.id,
            members: self
                .members
                .iter()
                .map(|m| MemberOutline {
                    id: m.id,
                    name: m.name.clone(),
                    relationship: m.relationship,
                    age_band: m.age_band_on(today),
                })
                .collect(),
            consent_expires_on: self.consent.expires_on.clone(),
            consent_status: self.consent.status_on(today),
        }
    }

    pub fn summary(&self, visits: VisitHistory, today: NaiveDate) -> FamilySummary {
        FamilySummary {
            id: self.id,
            names: self.members.iter().map(|m| m.name.clone()).collect(),
            visits,
            consent_expires_on: self.consent.expires_on.clone(),
            consent_status: self.consent.status_on(today),
            sync_state: None,
        }
    }
}

/// What is left of a removed family, and the payload of its `erase` change: no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FamilyTombstone {
    pub id: Uuid,
    pub reason: RemovalReason,
    /// RFC 3339, UTC.
    pub removed_at: String,
    pub removed_by: Uuid,
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// A family's details as typed. `family_id` is `None` for a new family.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SaveFamilyInput {
    pub family_id: Option<Uuid>,
    pub consent: ConsentInput,
    /// The lead visitor first.
    pub members: Vec<FamilyMemberInput>,
    #[serde(default)]
    pub contact: ContactInput,
    #[serde(default)]
    pub prisoner: PrisonerInput,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct ConsentInput {
    /// The tick box: the family agrees to the centre keeping their details.
    #[serde(default)]
    pub consent_given: bool,
    #[serde(default)]
    pub given_by: String,
    pub method: Option<ConsentMethod>,
    /// `YYYY-MM-DD` (or `DD/MM/YYYY`).
    #[serde(default)]
    pub given_on: String,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct FamilyMemberInput {
    /// The member's id when editing an existing member; `None` adds a member.
    #[serde(default)]
    pub member_id: Option<Uuid>,
    #[serde(default)]
    pub name: String,
    pub relationship: Option<Relationship>,
    /// `YYYY-MM-DD` (or `DD/MM/YYYY`); empty when an age band is given instead.
    #[serde(default)]
    pub date_of_birth: String,
    #[serde(default)]
    pub age_band: Option<AgeBand>,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct ContactInput {
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub address: String,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct PrisonerInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub prison_number: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct RenewConsentInput {
    pub family_id: Uuid,
    pub consent: ConsentInput,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct RemoveFamilyInput {
    pub family_id: Uuid,
    pub reason: Option<RemovalReason>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct SearchFamiliesInput {
    /// Part of any member's name.
    pub query: String,
}

// ---------------------------------------------------------------------------------------------
// Checked inputs

/// Consent after checking, before it is recorded by someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentDetails {
    pub given_by: String,
    pub method: ConsentMethod,
    pub given_on: String,
    pub expires_on: String,
}

impl ConsentDetails {
    pub fn recorded(self, by: Uuid, at: &str) -> Consent {
        Consent {
            given_by: self.given_by,
            method: self.method,
            given_on: self.given_on,
            expires_on: self.expires_on,
            recorded_by: by,
            recorded_at: at.into(),
        }
    }

    /// Whether `consent` is this same consent (who, how and when), whenever it was recorded.
    pub fn is_same_as(&self, consent: &Consent) -> bool {
        self.given_by == consent.given_by && self.method == consent.method && self.given_on == consent.given_on
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedMember {
    pub member_id: Option<Uuid>,
    pub name: String,
    pub relationship: Relationship,
    pub date_of_birth: Option<String>,
    pub age_band: Option<AgeBand>,
}

/// A family's input after checking: every field well-formed, consent given and current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedFamily {
    pub family_id: Option<Uuid>,
    pub consent: ConsentDetails,
    pub members: Vec<CheckedMember>,
    pub contact: Contact,
    pub prisoner: Option<LinkedPrisoner>,
}

// ---------------------------------------------------------------------------------------------
// Checks

/// `clean_text` for a one-line field: line breaks and tabs are refused too.
fn clean_line(p: &mut Problems, field: &str, label: &str, value: &str, max: usize) -> Option<String> {
    if value.trim().contains(['\n', '\r', '\t']) && value.trim().chars().count() <= max {
        p.add(field, format!("{label} must be on one line"));
        return None;
    }
    clean_text(p, field, label, value, max)
}

fn consent_period(months: i32) -> Option<Months> {
    u32::try_from(months).ok().filter(|m| (1..=MAX_CONSENT_MONTHS.unsigned_abs()).contains(m)).map(Months::new)
}

/// Checks the consent part of a form; the fields are `consent.<name>`.
fn check_consent_fields(
    p: &mut Problems,
    c: &ConsentInput,
    today: NaiveDate,
    consent_months: i32,
) -> Option<ConsentDetails> {
    if !c.consent_given {
        p.add(
            "consent.consent_given",
            "A family record can only be kept with the family's consent: ask them, then tick \
             \"The family agrees to the centre keeping their details\"",
        );
    }
    let given_by = clean_line(p, "consent.given_by", "The name of who gave consent", &c.given_by, NAME_MAX_CHARS);
    if given_by.is_none() && c.given_by.trim().is_empty() {
        p.add("consent.given_by", "Enter the name of the person who gave consent");
    }
    if c.method.is_none() {
        p.add("consent.method", "Choose how consent was given: verbally or in writing");
    }
    let period = consent_period(consent_months);
    if period.is_none() {
        p.add(
            "consent_months",
            format!(
                "The centre's consent period must be from 1 to {MAX_CONSENT_MONTHS} months: a manager can set it in Settings"
            ),
        );
    }
    let given_on = parse_date(&c.given_on);
    let mut expires_on = None;
    match given_on {
        None if c.given_on.trim().is_empty() => {
            p.add("consent.given_on", "Enter the date consent was given, for example 2026-11-25")
        }
        None => p.add("consent.given_on", "Enter the date consent was given as year-month-day, for example 2026-11-25"),
        Some(d) if d > today => p.add("consent.given_on", "The date consent was given cannot be in the future"),
        Some(d) => {
            if let Some(period) = period {
                match d.checked_add_months(period) {
                    Some(e) if e > today => expires_on = Some(e),
                    _ => p.add(
                        "consent.given_on",
                        format!(
                            "Consent given on that date has already expired (it lasts {consent_months} months): \
                             ask the family again and record today's date"
                        ),
                    ),
                }
            }
        }
    }
    Some(ConsentDetails {
        given_by: given_by?,
        method: c.method?,
        given_on: iso(given_on?),
        expires_on: iso(expires_on?),
    })
}

fn check_member(p: &mut Problems, i: usize, m: &FamilyMemberInput, today: NaiveDate) -> Option<CheckedMember> {
    let field = |name: &str| format!("members.{i}.{name}");
    let name = clean_line(p, &field("name"), "The name", &m.name, NAME_MAX_CHARS);
    if name.is_none() && m.name.trim().is_empty() {
        p.add(&field("name"), "Enter the family member's name");
    }
    if m.relationship.is_none() {
        p.add(&field("relationship"), "Choose how they are related to the prisoner");
    }
    let dob_text = m.date_of_birth.trim();
    let mut date_of_birth = None;
    let mut ok = true;
    match (dob_text.is_empty(), m.age_band) {
        (true, None) => {
            ok = false;
            p.add(
                &field("date_of_birth"),
                "Enter their date of birth, or choose an age band if they would rather not say",
            );
        }
        (false, Some(_)) => {
            ok = false;
            p.add(&field("age_band"), "Give a date of birth or an age band, not both");
        }
        (true, Some(_)) => {}
        (false, None) => match parse_date(dob_text) {
            None => {
                ok = false;
                p.add(&field("date_of_birth"), "Enter the date of birth as year-month-day, for example 2019-11-25");
            }
            Some(born) if born > today => {
                ok = false;
                p.add(&field("date_of_birth"), "The date of birth cannot be in the future");
            }
            Some(born) if age_on(born, today) > MAX_AGE_YEARS => {
                ok = false;
                p.add(
                    &field("date_of_birth"),
                    format!("Check the date of birth: it would make them over {MAX_AGE_YEARS} years old"),
                );
            }
            Some(born) => date_of_birth = Some(iso(born)),
        },
    }
    if !ok {
        return None;
    }
    Some(CheckedMember {
        member_id: m.member_id,
        name: name?,
        relationship: m.relationship?,
        date_of_birth,
        age_band: if m.date_of_birth.trim().is_empty() { m.age_band } else { None },
    })
}

fn check_members(p: &mut Problems, members: &[FamilyMemberInput], today: NaiveDate) -> Option<Vec<CheckedMember>> {
    if members.is_empty() {
        p.add("members", "Add at least one family member, starting with the lead visitor");
        return None;
    }
    if members.len() > MAX_MEMBERS {
        p.add("members", format!("A family record can have at most {MAX_MEMBERS} members"));
        return None;
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(members.len());
    let mut ok = true;
    for (i, m) in members.iter().enumerate() {
        if let Some(id) = m.member_id
            && !seen.insert(id)
        {
            p.add(&format!("members.{i}.member_id"), "This family member is listed twice: remove one of them");
            ok = false;
        }
        match check_member(p, i, m, today) {
            Some(m) => out.push(m),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// A phone number: digits with spaces, dashes, dots or brackets, an optional leading `+`, and 7 to
/// 15 digits in all (the international limit).
fn phone_shape_ok(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && s.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || " -().".contains(c) || (c == '+' && i == 0))
}

/// An email address of the usual shape: `local@domain.tld`, no spaces, no empty parts.
fn email_shape_ok(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && local.chars().count() <= 64
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
}

fn check_contact(p: &mut Problems, c: &ContactInput) -> Contact {
    let phone = clean_line(p, "contact.phone", "The phone number", &c.phone, PHONE_MAX_CHARS);
    let phone = match phone {
        Some(ph) if !phone_shape_ok(&ph) => {
            p.add("contact.phone", "Enter a phone number like 07700 900123, or +44 7700 900123 for a number abroad");
            None
        }
        other => other,
    };
    let email = clean_line(p, "contact.email", "The email address", &c.email, EMAIL_MAX_CHARS);
    let email = match email {
        Some(e) if !email_shape_ok(&e) => {
            p.add("contact.email", "Enter an email address in the right format, like name@example.com");
            None
        }
        other => other,
    };
    let address = clean_text(p, "contact.address", "The address", &c.address, ADDRESS_MAX_CHARS);
    Contact { phone, email, address }
}

/// A prison number in the format used in England and Wales: a letter, four digits, two letters.
/// Spaces are ignored and letters are made upper case.
pub fn normalise_prison_number(s: &str) -> Option<String> {
    let n: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let b = n.as_bytes();
    let ok = b.len() == 7
        && b[0].is_ascii_uppercase()
        && b[1..5].iter().all(u8::is_ascii_digit)
        && b[5..].iter().all(u8::is_ascii_uppercase);
    ok.then_some(n)
}

fn check_prisoner(p: &mut Problems, input: &PrisonerInput) -> Option<LinkedPrisoner> {
    let name = clean_line(p, "prisoner.name", "The prisoner's name", &input.name, NAME_MAX_CHARS);
    let number = if input.prison_number.trim().is_empty() {
        None
    } else {
        let n = normalise_prison_number(&input.prison_number);
        if n.is_none() {
            p.add("prisoner.prison_number", "Enter the prison number in the right format, like A1234BC");
        }
        n
    };
    (name.is_some() || number.is_some()).then_some(LinkedPrisoner { name, prison_number: number })
}

/// Checks a family's details as typed. `today` is the centre's day (Europe/London);
/// `consent_months` the centre's consent period (`Settings.consent_months`).
pub fn check_family(input: &SaveFamilyInput, today: NaiveDate, consent_months: i32) -> Result<CheckedFamily, Invalid> {
    let mut p = Problems::new();
    let consent = check_consent_fields(&mut p, &input.consent, today, consent_months);
    let members = check_members(&mut p, &input.members, today);
    let contact = check_contact(&mut p, &input.contact);
    let prisoner = check_prisoner(&mut p, &input.prisoner);
    p.finish()?;
    match (consent, members) {
        (Some(consent), Some(members)) => {
            Ok(CheckedFamily { family_id: input.family_id, consent, members, contact, prisoner })
        }
        _ => Err(Invalid::one("members", "Add at least one family member, starting with the lead visitor")),
    }
}

/// Checks renewed consent for a family already on record.
pub fn check_renewal(
    input: &RenewConsentInput,
    today: NaiveDate,
    consent_months: i32,
) -> Result<ConsentDetails, Invalid> {
    let mut p = Problems::new();
    let consent = check_consent_fields(&mut p, &input.consent, today, consent_months);
    p.finish()?;
    consent.ok_or_else(|| Invalid::one("consent.given_on", "Enter the date consent was given"))
}

pub fn check_removal(input: &RemoveFamilyInput) -> Result<RemovalReason, Invalid> {
    input.reason.ok_or_else(|| Invalid::one("reason", "Choose why the family's record is being removed"))
}

/// Builds the record from checked input. For an update, `previous` is the record on file: members
/// keep their ids, and unchanged consent keeps its expiry even if the centre's period has changed
/// since. `new_id` gives ids to new members; `by` and `at` (RFC 3339) stamp the change.
pub fn build_family(
    checked: CheckedFamily,
    previous: Option<&Family>,
    id: Uuid,
    by: Uuid,
    at: &str,
    mut new_id: impl FnMut() -> Uuid,
) -> Result<Family, Invalid> {
    let mut p = Problems::new();
    let mut members = Vec::with_capacity(checked.members.len());
    for (i, m) in checked.members.into_iter().enumerate() {
        let known = |mid: Uuid| previous.is_some_and(|f| f.members.iter().any(|pm| pm.id == mid));
        let member_id = match m.member_id {
            Some(mid) if known(mid) => mid,
            Some(_) => {
                p.add(
                    &format!("members.{i}.member_id"),
                    "This member is no longer on the family's record: reload the family and try again",
                );
                continue;
            }
            None => new_id(),
        };
        members.push(FamilyMember {
            id: member_id,
            name: m.name,
            relationship: m.relationship,
            date_of_birth: m.date_of_birth,
            age_band: m.age_band,
        });
    }
    p.finish()?;
    let consent = match previous {
        Some(f) if checked.consent.is_same_as(&f.consent) => f.consent.clone(),
        _ => checked.consent.recorded(by, at),
    };
    Ok(Family {
        id,
        members,
        consent,
        contact: checked.contact,
        prisoner: checked.prisoner,
        created_at: previous.map_or_else(|| at.to_string(), |f| f.created_at.clone()),
        created_by: previous.map_or(by, |f| f.created_by),
        updated_at: at.into(),
        updated_by: by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2026, 11, 25);

    fn today() -> NaiveDate {
        day(TODAY.0, TODAY.1, TODAY.2)
    }

    fn member(name: &str, dob: &str, band: Option<AgeBand>) -> FamilyMemberInput {
        FamilyMemberInput {
            member_id: None,
            name: name.into(),
            relationship: Some(Relationship::Partner),
            date_of_birth: dob.into(),
            age_band: band,
        }
    }

    fn good() -> SaveFamilyInput {
        SaveFamilyInput {
            family_id: None,
            consent: ConsentInput {
                consent_given: true,
                given_by: "Sarah Jones".into(),
                method: Some(ConsentMethod::Verbal),
                given_on: "2026-11-25".into(),
            },
            members: vec![member("Sarah Jones", "1990-04-02", None), member("Mia Jones", "", Some(AgeBand::Age3To4))],
            contact: ContactInput {
                phone: "07700 900123".into(),
                email: "sarah@example.com".into(),
                address: "1 High Street\nLiverpool".into(),
            },
            prisoner: PrisonerInput { name: "Dan Jones".into(), prison_number: " a1234bc ".into() },
        }
    }

    fn problems(input: &SaveFamilyInput) -> Vec<(String, String)> {
        check_family(input, today(), 12).unwrap_err().0.into_iter().map(|p| (p.field, p.message)).collect()
    }

    fn fields(input: &SaveFamilyInput) -> Vec<String> {
        problems(input).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn a_good_family_is_checked_and_its_consent_lasts_the_centres_period() {
        let f = check_family(&good(), today(), 12).unwrap();
        assert_eq!(f.consent.given_on, "2026-11-25");
        assert_eq!(f.consent.expires_on, "2027-11-25");
        assert_eq!(f.members.len(), 2);
        assert_eq!(f.members[0].date_of_birth.as_deref(), Some("1990-04-02"));
        assert_eq!(f.members[1].age_band, Some(AgeBand::Age3To4));
        assert_eq!(f.prisoner.unwrap().prison_number.as_deref(), Some("A1234BC"));
        assert_eq!(f.contact.address.as_deref(), Some("1 High Street\nLiverpool"));
        let six = check_family(&good(), today(), 6).unwrap();
        assert_eq!(six.consent.expires_on, "2027-05-25");
    }

    #[test]
    fn consent_from_the_last_day_of_a_month_expires_on_the_last_day_of_the_shorter_month() {
        let mut i = good();
        i.consent.given_on = "2025-12-31".into();
        let today = day(2026, 1, 10);
        assert_eq!(check_family(&i, today, 2).unwrap().consent.expires_on, "2026-02-28");
        i.consent.given_on = "29/02/2024".into();
        assert_eq!(check_family(&i, day(2024, 3, 1), 12).unwrap().consent.expires_on, "2025-02-28");
    }

    #[test]
    fn without_consent_nothing_is_kept() {
        let mut i = good();
        i.consent = ConsentInput::default();
        let p = problems(&i);
        let f: Vec<&str> = p.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(f, ["consent.consent_given", "consent.given_by", "consent.method", "consent.given_on"]);
        assert!(p[0].1.starts_with("A family record can only be kept with the family's consent: ask them, then tick"));
    }

    #[test]
    fn consent_dated_in_the_future_or_already_expired_is_refused() {
        let mut i = good();
        i.consent.given_on = "2026-11-26".into();
        assert_eq!(
            problems(&i),
            [("consent.given_on".into(), "The date consent was given cannot be in the future".into())]
        );
        i.consent.given_on = "2025-11-25".into();
        let p = problems(&i);
        assert_eq!(p[0].0, "consent.given_on");
        assert!(p[0].1.contains("already expired"), "{p:?}");
        i.consent.given_on = "2025-11-26".into();
        assert!(check_family(&i, today(), 12).is_ok(), "the last day before expiry");
        i.consent.given_on = "yesterday".into();
        assert!(problems(&i)[0].1.contains("year-month-day"));
    }

    #[test]
    fn a_consent_period_outside_one_to_120_months_is_a_settings_problem() {
        for months in [0, -3, 121] {
            let e = check_family(&good(), today(), months).unwrap_err();
            assert_eq!(e.0[0].field, "consent_months");
        }
    }

    #[test]
    fn a_family_needs_members_with_names_relationships_and_an_age() {
        let mut i = good();
        i.members.clear();
        assert_eq!(fields(&i), ["members"]);
        i.members = (0..=MAX_MEMBERS).map(|n| member(&format!("Child {n}"), "", Some(AgeBand::Age5To11))).collect();
        assert_eq!(fields(&i), ["members"]);
        i.members = vec![
            FamilyMemberInput { relationship: None, ..member("  ", "", Some(AgeBand::Adult)) },
            member("Mia", "", None),
            member("Leo", "2020-01-01", Some(AgeBand::Age5To11)),
        ];
        assert_eq!(
            fields(&i),
            ["members.0.name", "members.0.relationship", "members.1.date_of_birth", "members.2.age_band"]
        );
    }

    #[test]
    fn a_date_of_birth_must_be_a_real_past_date_within_120_years() {
        let mut i = good();
        i.members[1] = member("Mia Jones", "2026-11-26", None);
        assert_eq!(
            problems(&i),
            [("members.1.date_of_birth".into(), "The date of birth cannot be in the future".into())]
        );
        i.members[1] = member("Mia Jones", "1905-11-25", None);
        let p = problems(&i);
        assert_eq!(p[0].0, "members.1.date_of_birth");
        assert!(p[0].1.contains("over 120"), "{p:?}");
        i.members[1] = member("Mia Jones", "1905-11-26", None);
        assert!(check_family(&i, today(), 12).is_ok(), "120 and 364 days is allowed");
        i.members[1] = member("Mia Jones", "2023-02-30", None);
        assert_eq!(fields(&i), ["members.1.date_of_birth"]);
        i.members[1] = member("Mia Jones", "25/11/2026", None);
        assert_eq!(check_family(&i, today(), 12).unwrap().members[1].date_of_birth.as_deref(), Some("2026-11-25"));
    }

    #[test]
    fn a_member_with_a_date_of_birth_gets_the_age_band_of_the_day() {
        let m = |dob: &str| FamilyMember {
            id: Uuid::nil(),
            name: "A".into(),
            relationship: Relationship::Child,
            date_of_birth: Some(dob.into()),
            age_band: None,
        };
        let cases = [
            ("2026-11-25", AgeBand::Age0To1),
            ("2024-11-26", AgeBand::Age0To1),
            ("2024-11-25", AgeBand::Age2),
            ("2022-11-25", AgeBand::Age3To4),
            ("2021-11-26", AgeBand::Age3To4),
            ("2021-11-25", AgeBand::Age5To11),
            ("2014-11-25", AgeBand::Age12To17),
            ("2008-11-26", AgeBand::Age12To17),
            ("2008-11-25", AgeBand::Adult),
        ];
        for (dob, band) in cases {
            assert_eq!(m(dob).age_band_on(today()), band, "{dob}");
        }
        // A 29 February birthday comes on 1 March in other years.
        assert_eq!(age_on(day(2020, 2, 29), day(2022, 2, 28)), 1);
        assert_eq!(age_on(day(2020, 2, 29), day(2022, 3, 1)), 2);
        let banded = FamilyMember { date_of_birth: None, age_band: Some(AgeBand::Age2), ..m("") };
        assert_eq!(banded.age_band_on(today()), AgeBand::Age2);
    }

    #[test]
    fn ten_thousand_characters_are_refused_with_the_limit_in_the_message() {
        let long = "x".repeat(10_000);
        let mut i = good();
        i.members[0].name = long.clone();
        i.consent.given_by = long.clone();
        i.contact = ContactInput { phone: long.clone(), email: long.clone(), address: long.clone() };
        i.prisoner = PrisonerInput { name: long.clone(), prison_number: long };
        let p = problems(&i);
        let f: Vec<&str> = p.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            f,
            [
                "consent.given_by",
                "members.0.name",
                "contact.phone",
                "contact.email",
                "contact.address",
                "prisoner.name",
                "prisoner.prison_number"
            ]
        );
        assert_eq!(p[1].1, "The name must be 80 characters or fewer");
        assert_eq!(p[4].1, "The address must be 300 characters or fewer");
    }

    #[test]
    fn control_characters_and_line_breaks_in_names_are_refused() {
        let mut i = good();
        i.members[0].name = "Sarah\u{0}Jones".into();
        i.members[1].name = "Mia\nJones".into();
        i.consent.given_by = "Sarah\u{1b}[31m".into();
        i.prisoner.name = "Dan\tJones".into();
        let p = problems(&i);
        let f: Vec<&str> = p.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(f, ["consent.given_by", "members.0.name", "members.1.name", "prisoner.name"]);
        assert!(p[1].1.contains("control characters"));
        assert_eq!(p[2].1, "The name must be on one line");
    }

    #[test]
    fn emoji_and_right_to_left_names_are_kept_exactly() {
        let names = ["محمد علي", "שרה כהן", "عائشہ خان", "Zoë 🌸 Nowak", "Łukasz Wiśniewski"];
        let mut i = good();
        i.members = names.iter().map(|n| member(n, "", Some(AgeBand::Adult))).collect();
        i.consent.given_by = "محمد علي".into();
        i.prisoner.name = "יוסף 👍".into();
        let f = check_family(&i, today(), 12).unwrap();
        let kept: Vec<&str> = f.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(kept, names);
        assert_eq!(f.consent.given_by, "محمد علي");
        assert_eq!(f.prisoner.unwrap().name.as_deref(), Some("יוסף 👍"));
    }

    #[test]
    fn contact_details_are_checked_for_shape() {
        let mut i = good();
        i.contact = ContactInput { phone: "call me".into(), email: "sarah at example".into(), address: String::new() };
        assert_eq!(fields(&i), ["contact.phone", "contact.email"]);
        for bad in ["123", "+44 (0) 7700 900123 123456", "07700+900123"] {
            assert!(!phone_shape_ok(bad), "{bad}");
        }
        for ok in ["07700 900123", "+44 7700 900123", "(0151) 496-0000", "0151.496.0000"] {
            assert!(phone_shape_ok(ok), "{ok}");
        }
        for bad in ["@example.com", "a@b", "a@@b.com", "a b@c.com", "a@.com", "a@b..com", "a@b.com."] {
            assert!(!email_shape_ok(bad), "{bad}");
        }
        for ok in ["a@b.co", "sarah.jones+visits@example.org.uk", "محمد@example.com"] {
            assert!(email_shape_ok(ok), "{ok}");
        }
        i.contact = ContactInput::default();
        let f = check_family(&i, today(), 12).unwrap();
        assert_eq!(f.contact, Contact::default());
    }

    #[test]
    fn prison_numbers_are_upper_case_in_the_uk_format() {
        assert_eq!(normalise_prison_number("a1234bc").as_deref(), Some("A1234BC"));
        assert_eq!(normalise_prison_number(" A 1234 BC ").as_deref(), Some("A1234BC"));
        for bad in ["A1234B", "AB1234C", "A12345BC", "1234ABC", "A1234B1", "Ａ1234BC"] {
            assert_eq!(normalise_prison_number(bad), None, "{bad}");
        }
        let mut i = good();
        i.prisoner.prison_number = "12345".into();
        assert_eq!(
            problems(&i),
            [("prisoner.prison_number".into(), "Enter the prison number in the right format, like A1234BC".into())]
        );
        i.prisoner = PrisonerInput::default();
        assert_eq!(check_family(&i, today(), 12).unwrap().prisoner, None);
        i.prisoner.prison_number = "b9876zz".into();
        let p = check_family(&i, today(), 12).unwrap().prisoner.unwrap();
        assert_eq!((p.name, p.prison_number.as_deref()), (None, Some("B9876ZZ")));
    }

    #[test]
    fn consent_is_current_then_due_then_expired() {
        let e = day(2027, 1, 10);
        assert_eq!(consent_status(e, day(2026, 12, 10)), ConsentStatus::Current);
        assert_eq!(consent_status(e, day(2026, 12, 11)), ConsentStatus::DueForRenewal);
        assert_eq!(consent_status(e, day(2027, 1, 9)), ConsentStatus::DueForRenewal);
        assert_eq!(consent_status(e, day(2027, 1, 10)), ConsentStatus::Expired);
        assert_eq!(renewal_horizon(day(2026, 12, 11)), "2027-01-10");
    }

    fn built(previous: Option<&Family>, input: &SaveFamilyInput, at: &str) -> Result<Family, Invalid> {
        let checked = check_family(input, today(), 12)?;
        let mut n = 0u128;
        build_family(checked, previous, Uuid::from_u128(1), Uuid::from_u128(9), at, || {
            n += 1;
            Uuid::from_u128(100 + n)
        })
    }

    #[test]
    fn an_update_keeps_member_ids_and_unchanged_consent() {
        let first = built(None, &good(), "2026-11-25T10:00:00.000Z").unwrap();
        assert_eq!(
            first.members.iter().map(|m| m.id).collect::<Vec<_>>(),
            [Uuid::from_u128(101), Uuid::from_u128(102)]
        );
        assert_eq!(first.consent.recorded_at, "2026-11-25T10:00:00.000Z");
        let mut edit = good();
        edit.family_id = Some(first.id);
        edit.members[0].member_id = Some(first.members[0].id);
        edit.members.swap(0, 1);
        let second = built(Some(&first), &edit, "2026-11-25T11:00:00.000Z").unwrap();
        assert_eq!(second.members[1].id, first.members[0].id);
        assert_eq!(second.members[0].id, Uuid::from_u128(101), "the new member gets a fresh id");
        assert_eq!(second.consent, first.consent, "unchanged consent is not recorded again");
        assert_eq!(
            (second.created_at.as_str(), second.updated_at.as_str()),
            (first.created_at.as_str(), "2026-11-25T11:00:00.000Z")
        );
        edit.members[1].member_id = Some(Uuid::from_u128(77));
        let e = built(Some(&first), &edit, "2026-11-25T12:00:00.000Z").unwrap_err();
        assert_eq!(e.0[0].field, "members.1.member_id");
        edit.members[1].member_id = Some(first.members[0].id);
        edit.members[0].member_id = Some(first.members[0].id);
        assert_eq!(fields(&edit), ["members.1.member_id"], "a member listed twice");
    }

    #[test]
    fn the_desk_outline_has_no_dates_of_birth_contact_details_or_prisoner() {
        let f = built(None, &good(), "2026-11-25T10:00:00.000Z").unwrap();
        let outline = f.without_private_details(today());
        let json = serde_json::to_string(&outline).unwrap();
        for private in ["1990-04-02", "07700", "example.com", "High Street", "Dan Jones", "A1234BC"] {
            assert!(!json.contains(private), "{private} in {json}");
        }
        assert_eq!(outline.members[0].name, "Sarah Jones");
        assert_eq!(outline.members[0].age_band, AgeBand::Adult);
        assert_eq!(outline.members[1].age_band, AgeBand::Age3To4);
        assert_eq!(outline.consent_status, ConsentStatus::Current);
        let s = f.summary(VisitHistory::default(), day(2027, 11, 1));
        assert_eq!(s.names, ["Sarah Jones", "Mia Jones"]);
        assert_eq!(s.consent_status, ConsentStatus::DueForRenewal);
    }

    #[test]
    fn renewal_and_removal_inputs_are_checked() {
        let i = RenewConsentInput { family_id: Uuid::nil(), consent: ConsentInput::default() };
        assert_eq!(check_renewal(&i, today(), 12).unwrap_err().0[0].field, "consent.consent_given");
        let i = RenewConsentInput { family_id: Uuid::nil(), consent: good().consent };
        assert_eq!(check_renewal(&i, today(), 24).unwrap().expires_on, "2028-11-25");
        let r = RemoveFamilyInput { family_id: Uuid::nil(), reason: None };
        assert_eq!(check_removal(&r).unwrap_err().0[0].field, "reason");
    }

    #[test]
    fn inputs_read_from_json_with_optional_parts_left_out() {
        let i: SaveFamilyInput = serde_json::from_str(
            r#"{"family_id": null, "consent": {"consent_given": true, "given_by": "Sarah", "method": "written",
                "given_on": "2026-11-20"}, "members": [{"name": "Sarah", "relationship": "partner",
                "age_band": "adult"}]}"#,
        )
        .unwrap();
        let f = check_family(&i, today(), 12).unwrap();
        assert_eq!(f.members[0].age_band, Some(AgeBand::Adult));
        assert_eq!(serde_json::to_string(&AgeBand::Age0To1).unwrap(), "\"age_0_1\"");
        assert_eq!(AgeBand::parse("age_12_17"), Some(AgeBand::Age12To17));
        assert_eq!(Relationship::parse("other_relative"), Some(Relationship::OtherRelative));
    }
}
