//! Plain-English words for the records' choices, as a manager reads them in an export.

use crate::desk::{EnquiryResolution, EnquiryTopic, EventKind, FeedbackChannel};
use crate::visits::{HelpGiven, SupportNeeds, VisitOutcome};

pub fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

pub fn outcome(o: VisitOutcome) -> &'static str {
    match o {
        VisitOutcome::Visited => "Visited",
        VisitOutcome::DidNotGoIn => "Did not go in",
        VisitOutcome::DeclinedEntry => "Declined entry",
        VisitOutcome::FailedSecurity => "Failed security checks",
        VisitOutcome::CancelledByPrison => "Cancelled by the prison",
    }
}

pub fn topic(t: EnquiryTopic) -> &'static str {
    match t {
        EnquiryTopic::VisitBooking => "Visit booking",
        EnquiryTopic::Property => "Property",
        EnquiryTopic::MoneyForPrisoner => "Money for a prisoner",
        EnquiryTopic::Release => "Release",
        EnquiryTopic::HealthAndWelfare => "Health and welfare",
        EnquiryTopic::Transport => "Transport",
        EnquiryTopic::Other => "Other",
    }
}

pub fn resolution(r: EnquiryResolution) -> &'static str {
    match r {
        EnquiryResolution::Answered => "Answered",
        EnquiryResolution::Signposted => "Signposted",
        EnquiryResolution::PassedToCoordinator => "Passed to the coordinator",
    }
}

pub fn channel(c: FeedbackChannel) -> &'static str {
    match c {
        FeedbackChannel::InPerson => "In person",
        FeedbackChannel::CommentCard => "Comment card",
        FeedbackChannel::FamilyForum => "Family forum",
    }
}

pub fn event_kind(k: EventKind) -> &'static str {
    match k {
        EventKind::FamilyDay => "Family day",
        EventKind::FamilyForum => "Family forum",
    }
}

/// The needs noticed, as one cell: "Induction loop; Interpreter (Polish)".
pub fn needs(n: &SupportNeeds) -> String {
    let mut out: Vec<String> = Vec::new();
    for (on, label) in [
        (n.induction_loop, "Induction loop"),
        (n.bsl_interpreter, "BSL interpreter"),
        (n.step_free_access, "Step-free access"),
        (n.distress, "Distress"),
    ] {
        if on {
            out.push(label.into());
        }
    }
    if !n.interpreter_language.is_empty() {
        out.push(format!("Interpreter ({})", n.interpreter_language));
    }
    if !n.other.is_empty() {
        out.push(format!("Other: {}", n.other));
    }
    out.join("; ")
}

pub fn help(h: &HelpGiven) -> String {
    let mut out: Vec<String> = Vec::new();
    for (on, label) in
        [(h.information, "Information"), (h.locker, "Locker"), (h.walkthrough, "First-visit walkthrough")]
    {
        if on {
            out.push(label.into());
        }
    }
    if !h.signposted_to.is_empty() {
        out.push(format!("Signposted to {}", h.signposted_to));
    }
    out.join("; ")
}

/// A spreadsheet opens a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return as a
/// formula: such a cell is prefixed with `'` so that it shows as text. Every CSV file the app or
/// the hub writes passes its cells through this.
pub fn spreadsheet_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_read_as_one_cell() {
        let n = SupportNeeds { induction_loop: true, interpreter_language: "Polish".into(), ..Default::default() };
        assert_eq!(needs(&n), "Induction loop; Interpreter (Polish)");
        assert_eq!(needs(&SupportNeeds::default()), "");
    }
}
