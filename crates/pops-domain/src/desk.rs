//! What else the front desk logs: enquiries, feedback (with its response and closing), and events
//! (family days and family forums) with their attendance.

use crate::error::{Invalid, Problems, clean_text};
use crate::visits::{AgeBands, NOTE_MAX_CHARS, SHORT_TEXT_MAX_CHARS};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

macro_rules! choice {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}
pub(crate) use choice;

choice!(
    /// What an enquiry was about.
    EnquiryTopic {
        VisitBooking => "visit_booking",
        Property => "property",
        MoneyForPrisoner => "money_for_prisoner",
        Release => "release",
        HealthAndWelfare => "health_and_welfare",
        Transport => "transport",
        Other => "other",
    }
);

choice!(
    /// How an enquiry was dealt with.
    EnquiryResolution {
        Answered => "answered",
        Signposted => "signposted",
        PassedToCoordinator => "passed_to_coordinator",
    }
);

choice!(
    FeedbackKind {
        Compliment => "compliment",
        Complaint => "complaint",
        Suggestion => "suggestion",
    }
);

choice!(
    /// How the feedback reached the centre.
    FeedbackChannel {
        InPerson => "in_person",
        CommentCard => "comment_card",
        FamilyForum => "family_forum",
    }
);

choice!(
    FeedbackStatus {
        Open => "open",
        Responded => "responded",
        Closed => "closed",
    }
);

choice!(
    EventKind {
        FamilyDay => "family_day",
        FamilyForum => "family_forum",
    }
);

#[derive(Debug, Clone, Deserialize, TS)]
pub struct LogEnquiryInput {
    pub topic: Option<EnquiryTopic>,
    pub resolution: Option<EnquiryResolution>,
    /// Where the person was signposted (needed when the resolution is `signposted`).
    #[serde(default)]
    pub signposted_to: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Enquiry {
    pub id: Uuid,
    /// RFC 3339, UTC.
    pub received_at: String,
    pub topic: EnquiryTopic,
    pub resolution: EnquiryResolution,
    pub signposted_to: Option<String>,
    pub note: Option<String>,
    pub recorded_by: Uuid,
}

/// An enquiry as a list shows it: the record's fields and where its change to head office has got to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EnquiryRow {
    #[serde(flatten)]
    pub record: Enquiry,
    /// Where the enquiry's change to head office has got to.
    pub sync_state: Option<crate::sync::RecordState>,
}

/// A checked enquiry, before it has an id and a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnquiryDetails {
    pub topic: EnquiryTopic,
    pub resolution: EnquiryResolution,
    pub signposted_to: Option<String>,
    pub note: Option<String>,
}

pub fn check_enquiry(input: &LogEnquiryInput) -> Result<EnquiryDetails, Invalid> {
    let mut p = Problems::new();
    if input.topic.is_none() {
        p.add("topic", "Choose what the enquiry was about");
    }
    if input.resolution.is_none() {
        p.add("resolution", "Choose how the enquiry was dealt with");
    }
    let signposted_to =
        clean_text(&mut p, "signposted_to", "Signposted to", &input.signposted_to, SHORT_TEXT_MAX_CHARS);
    if input.resolution == Some(EnquiryResolution::Signposted)
        && signposted_to.is_none()
        && input.signposted_to.trim().is_empty()
    {
        p.add("signposted_to", "Enter where the person was signposted, for example Citizens Advice");
    }
    let note = clean_text(&mut p, "note", "The note", &input.note, NOTE_MAX_CHARS);
    p.finish()?;
    match (input.topic, input.resolution) {
        (Some(topic), Some(resolution)) => Ok(EnquiryDetails {
            topic,
            resolution,
            signposted_to: if resolution == EnquiryResolution::Signposted { signposted_to } else { None },
            note,
        }),
        _ => Err(Invalid::one("topic", "Choose what the enquiry was about")),
    }
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct LogFeedbackInput {
    pub kind: Option<FeedbackKind>,
    pub channel: Option<FeedbackChannel>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Feedback {
    pub id: Uuid,
    /// RFC 3339, UTC.
    pub received_at: String,
    pub kind: FeedbackKind,
    pub channel: FeedbackChannel,
    pub summary: String,
    pub status: FeedbackStatus,
    pub recorded_by: Uuid,
    pub response: Option<String>,
    pub responded_by: Option<Uuid>,
    pub responded_at: Option<String>,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<String>,
}

pub fn check_feedback(input: &LogFeedbackInput) -> Result<(FeedbackKind, FeedbackChannel, String), Invalid> {
    let mut p = Problems::new();
    if input.kind.is_none() {
        p.add("kind", "Choose compliment, complaint or suggestion");
    }
    if input.channel.is_none() {
        p.add("channel", "Choose how the feedback was given");
    }
    let summary = clean_text(&mut p, "summary", "What was said", &input.summary, NOTE_MAX_CHARS);
    if summary.is_none() && input.summary.trim().is_empty() {
        p.add("summary", "Write down what the person said, in their words where you can");
    }
    p.finish()?;
    match (input.kind, input.channel, summary) {
        (Some(k), Some(c), Some(s)) => Ok((k, c, s)),
        _ => Err(Invalid::one("summary", "Write down what the person said")),
    }
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct RespondToFeedbackInput {
    pub feedback_id: Uuid,
    pub response: String,
}

pub fn check_response(input: &RespondToFeedbackInput) -> Result<String, Invalid> {
    let mut p = Problems::new();
    let response = clean_text(&mut p, "response", "The response", &input.response, NOTE_MAX_CHARS);
    if response.is_none() && input.response.trim().is_empty() {
        p.add("response", "Write the response given to the person");
    }
    p.finish()?;
    response.ok_or_else(|| Invalid::one("response", "Write the response given to the person"))
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct CloseFeedbackInput {
    pub feedback_id: Uuid,
}

/// Feedback for the desk's list: open complaints first, oldest first among them.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FeedbackList {
    pub items: Vec<FeedbackItem>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FeedbackItem {
    pub feedback: Feedback,
    /// Whole days since it was received (for open complaints, how long it has waited).
    pub age_days: i32,
    /// The name of whoever recorded the response, when there is one.
    pub responded_by_name: Option<String>,
    /// Where the feedback's latest change to head office has got to.
    pub sync_state: Option<crate::sync::RecordState>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct RecordEventInput {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub kind: Option<EventKind>,
    pub title: String,
    pub adults: i32,
    pub children: AgeBands,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CentreEvent {
    pub id: Uuid,
    pub date: String,
    pub kind: EventKind,
    pub title: String,
    pub adults: i32,
    pub children: AgeBands,
    pub notes: Option<String>,
    pub recorded_by: Uuid,
    pub recorded_at: String,
}

/// Most people one event can record in each count (a family day at a large prison).
pub const MAX_EVENT_COUNT: i32 = 1000;

/// A checked event, before it has an id. `today` bounds how far ahead it may be dated.
pub fn check_event(input: &RecordEventInput, today: chrono::NaiveDate) -> Result<CentreEvent, Invalid> {
    let mut p = Problems::new();
    let date = chrono::NaiveDate::parse_from_str(input.date.trim(), "%Y-%m-%d").ok();
    match date {
        None => p.add("date", "Enter the date of the event, for example 2026-12-19"),
        Some(d) if d > today + chrono::Days::new(366) => p.add("date", "The date must be within the next year"),
        Some(d) if d < today - chrono::Days::new(3660) => p.add("date", "The date is more than ten years ago"),
        Some(_) => {}
    }
    if input.kind.is_none() {
        p.add("kind", "Choose family day or family forum");
    }
    let title = clean_text(&mut p, "title", "The title", &input.title, SHORT_TEXT_MAX_CHARS);
    if title.is_none() && input.title.trim().is_empty() {
        p.add("title", "Enter a title, for example Christmas family day");
    }
    if !(0..=MAX_EVENT_COUNT).contains(&input.adults) {
        p.add("adults", format!("Enter the number of adults, from 0 to {MAX_EVENT_COUNT}"));
    }
    for (field, label, n) in input.children.bands() {
        if !(0..=MAX_EVENT_COUNT).contains(&n) {
            p.add(&format!("children.{field}"), format!("{label}: enter a number from 0 to {MAX_EVENT_COUNT}"));
        }
    }
    let notes = clean_text(&mut p, "notes", "The notes", &input.notes, NOTE_MAX_CHARS);
    p.finish()?;
    match (date, input.kind, title) {
        (Some(d), Some(kind), Some(title)) => Ok(CentreEvent {
            id: Uuid::nil(),
            date: d.format("%Y-%m-%d").to_string(),
            kind,
            title,
            adults: input.adults,
            children: input.children,
            notes,
            recorded_by: Uuid::nil(),
            recorded_at: String::new(),
        }),
        _ => Err(Invalid::one("title", "Enter a title")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: Invalid) -> Vec<String> {
        e.0.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn an_enquiry_needs_a_topic_and_a_resolution_and_signposting_needs_a_place() {
        let i = LogEnquiryInput { topic: None, resolution: None, signposted_to: String::new(), note: String::new() };
        assert_eq!(fields(check_enquiry(&i).unwrap_err()), ["topic", "resolution"]);
        let i = LogEnquiryInput {
            topic: Some(EnquiryTopic::Transport),
            resolution: Some(EnquiryResolution::Signposted),
            ..i
        };
        assert_eq!(fields(check_enquiry(&i).unwrap_err()), ["signposted_to"]);
    }

    #[test]
    fn an_empty_complaint_and_a_ten_thousand_character_one_are_refused() {
        let i = LogFeedbackInput {
            kind: Some(FeedbackKind::Complaint),
            channel: Some(FeedbackChannel::InPerson),
            summary: "   ".into(),
        };
        assert_eq!(fields(check_feedback(&i).unwrap_err()), ["summary"]);
        let i = LogFeedbackInput { summary: "x".repeat(10_000), ..i };
        let e = check_feedback(&i).unwrap_err();
        assert!(e.0[0].message.contains("2000 characters"), "{:?}", e);
    }

    #[test]
    fn emoji_and_right_to_left_text_are_kept_as_typed() {
        let text = "الزيارة كانت رائعة 👍 שלום";
        let i = LogFeedbackInput {
            kind: Some(FeedbackKind::Compliment),
            channel: Some(FeedbackChannel::CommentCard),
            summary: text.into(),
        };
        assert_eq!(check_feedback(&i).unwrap().2, text);
    }

    #[test]
    fn an_event_checks_its_date_and_counts() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let i = RecordEventInput {
            date: "next week".into(),
            kind: None,
            title: String::new(),
            adults: -1,
            children: AgeBands { age_5_11: 5000, ..Default::default() },
            notes: String::new(),
        };
        assert_eq!(
            fields(check_event(&i, today).unwrap_err()),
            ["date", "kind", "title", "adults", "children.age_5_11"]
        );
        let i = RecordEventInput {
            date: "2026-12-19".into(),
            kind: Some(EventKind::FamilyDay),
            title: "Christmas family day".into(),
            adults: 30,
            children: AgeBands { age_5_11: 20, ..Default::default() },
            notes: String::new(),
        };
        assert_eq!(check_event(&i, today).unwrap().date, "2026-12-19");
    }
}
