//! CSV exports for the manager: each list as a table of plain columns, written with the `csv` crate
//! (which quotes commas, quotes and line breaks correctly) to a new file that is never overwritten.

use crate::api::ExportList;
use crate::error::{Error, Result};
use crate::time::london_minute;
use chrono::{DateTime, Utc};
use pops_domain::labels::yes_no;
use pops_domain::visits::AgeBands;
use pops_store::Connection;
use pops_store::{desk, visits};
use std::path::{Path, PathBuf};

/// A list as rows of text, with its header.
pub struct Table {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The five age-band counts, in the columns' order.
fn bands(c: &AgeBands) -> [String; 5] {
    [c.age_0_1, c.age_2, c.age_3_4, c.age_5_11, c.age_12_17].map(|n| n.to_string())
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

/// The list as a table; `date` is today in Europe/London (for the fire list).
pub fn table(conn: &Connection, list: ExportList, date: &str) -> pops_store::Result<Table> {
    Ok(match list {
        ExportList::FireList => {
            let day = visits::day(conn, date)?;
            let accounted = day.roll_call.map(|r| r.accounted).unwrap_or_default();
            Table {
                header: vec!["arrived", "session", "adults", "children", "lead visitor", "accounted for"],
                rows: day
                    .on_site
                    .iter()
                    .map(|row| &row.record)
                    .map(|c| {
                        let session = day.sessions.iter().find(|s| s.session.id == c.session_id);
                        vec![
                            london_minute(&c.arrived_at),
                            session.map(|s| s.session.name.clone()).unwrap_or_default(),
                            c.adults.to_string(),
                            c.children.total().to_string(),
                            opt(&c.lead_name),
                            yes_no(accounted.contains(&c.id)).into(),
                        ]
                    })
                    .collect(),
            }
        }
        ExportList::CheckIns => Table {
            header: vec![
                "date",
                "session",
                "arrived",
                "left",
                "adults",
                "under 2",
                "aged 2",
                "aged 3 to 4",
                "aged 5 to 11",
                "aged 12 to 17",
                "first time",
                "lead visitor",
                "needs",
                "help given",
                "outcome",
                "welfare offered",
                "walkthrough items",
            ],
            rows: visits::all_check_ins(conn)?
                .into_iter()
                .map(|(date, session, c)| {
                    vec![
                        date,
                        session,
                        london_minute(&c.arrived_at),
                        c.left_at.as_deref().map(london_minute).unwrap_or_default(),
                        c.adults.to_string(),
                    ]
                    .into_iter()
                    .chain(bands(&c.children))
                    .chain([
                        yes_no(c.first_time).into(),
                        opt(&c.lead_name),
                        pops_domain::labels::needs(&c.needs),
                        pops_domain::labels::help(&c.help),
                        c.outcome.map(|o| pops_domain::labels::outcome(o).to_string()).unwrap_or_default(),
                        c.welfare_offered.map(|w| yes_no(w).to_string()).unwrap_or_default(),
                        c.walkthrough.len().to_string(),
                    ])
                    .collect()
                })
                .collect(),
        },
        ExportList::Families => {
            let today = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap_or_default();
            Table {
                header: vec!["members", "visits", "first visit", "last visit", "consent expires", "consent"],
                rows: pops_store::families::all_families(conn, today)?
                    .into_iter()
                    .map(|f| {
                        vec![
                            f.names.join("; "),
                            f.visits.check_ins.to_string(),
                            f.visits.first_visit.as_deref().map(london_minute).unwrap_or_default(),
                            f.visits.last_visit.as_deref().map(london_minute).unwrap_or_default(),
                            f.consent_expires_on,
                            f.consent_status.as_str().replace('_', " "),
                        ]
                    })
                    .collect(),
            }
        }
        ExportList::Enquiries => Table {
            header: vec!["received", "topic", "resolution", "signposted to", "note"],
            rows: desk::all_enquiries(conn)?
                .into_iter()
                .map(|e| {
                    vec![
                        london_minute(&e.received_at),
                        pops_domain::labels::topic(e.topic).into(),
                        pops_domain::labels::resolution(e.resolution).into(),
                        opt(&e.signposted_to),
                        opt(&e.note),
                    ]
                })
                .collect(),
        },
        ExportList::Feedback => Table {
            header: vec!["received", "kind", "channel", "what was said", "status", "response", "responded", "closed"],
            rows: desk::all_feedback(conn)?
                .into_iter()
                .map(|f| {
                    vec![
                        london_minute(&f.received_at),
                        f.kind.as_str().into(),
                        pops_domain::labels::channel(f.channel).into(),
                        f.summary,
                        f.status.as_str().into(),
                        opt(&f.response),
                        f.responded_at.as_deref().map(london_minute).unwrap_or_default(),
                        f.closed_at.as_deref().map(london_minute).unwrap_or_default(),
                    ]
                })
                .collect(),
        },
        ExportList::Events => Table {
            header: vec![
                "date",
                "kind",
                "title",
                "adults",
                "under 2",
                "aged 2",
                "aged 3 to 4",
                "aged 5 to 11",
                "aged 12 to 17",
                "notes",
            ],
            rows: desk::events(conn)?
                .into_iter()
                .map(|e| {
                    vec![e.date, pops_domain::labels::event_kind(e.kind).into(), e.title, e.adults.to_string()]
                        .into_iter()
                        .chain(bands(&e.children))
                        .chain([opt(&e.notes)])
                        .collect()
                })
                .collect(),
        },
    })
}

pub fn to_csv(table: &Table) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| {
        tracing::error!(error = %e, "csv");
        Error::new(crate::api::ErrorKind::Internal, "The export could not be written. Try again.")
    };
    w.write_record(&table.header).map_err(fail)?;
    for row in &table.rows {
        w.write_record(row.iter().map(|c| pops_domain::labels::spreadsheet_safe(c))).map_err(fail)?;
    }
    w.into_inner().map_err(|e| fail(e.into_error().into()))
}

/// Writes the table to a new file in `dir`, named by list and time, and answers its path.
pub fn write(dir: &Path, list: ExportList, table: &Table, at: DateTime<Utc>) -> Result<PathBuf> {
    let bytes = to_csv(table)?;
    let storage = |e: std::io::Error| {
        tracing::error!(error = %e, "export");
        Error::new(
            crate::api::ErrorKind::Storage,
            format!("The export could not be saved in {}. Check the folder exists and has space.", dir.display()),
        )
    };
    std::fs::create_dir_all(dir).map_err(storage)?;
    let stamp = at.with_timezone(&chrono_tz::Europe::London).format("%Y-%m-%d %H%M%S");
    let mut path = dir.join(format!("POPS {} {stamp}.csv", list.as_str()));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("POPS {} {stamp} ({n}).csv", list.as_str()));
    }
    std::fs::write(&path, bytes).map_err(storage)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_quotes_line_breaks_and_formulas_are_quoted_safely() {
        let t = Table {
            header: vec!["a", "b"],
            rows: vec![
                vec!["Smith, Jo".into(), "said \"thanks\"".into()],
                vec!["two\nlines".into(), "=HYPERLINK(\"x\")".into()],
                vec!["مرحبا 👋".into(), "-5".into()],
            ],
        };
        let text = String::from_utf8(to_csv(&t).unwrap()).unwrap();
        assert_eq!(
            text,
            "a,b\n\"Smith, Jo\",\"said \"\"thanks\"\"\"\n\"two\nlines\",\"'=HYPERLINK(\"\"x\"\")\"\nمرحبا 👋,'-5\n"
        );
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
        assert_eq!(&rows[0][0], "Smith, Jo");
        assert_eq!(&rows[1][0], "two\nlines");
    }
}
