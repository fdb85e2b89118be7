//! Reading a reference dataset file for `pops-hub reference import`: a CSV file with a header row,
//! or a JSON array of objects. Every row is checked with the same rule a device applies
//! (`check_reference_item`); one bad row refuses the whole file, naming the row and the problem.

use crate::error::{Error, Result};
use pops_domain::sync::{check_reference_item, dataset};
use std::path::Path;

/// The CSV columns read as whole numbers, per dataset; every other column is text.
fn numeric_columns(name: &str) -> &'static [&'static str] {
    match name {
        dataset::PRICE_LIST => &["price_pence"],
        dataset::SESSION_SLOTS => &["weekday"],
        _ => &[],
    }
}

/// The items of `path` for `dataset`, every one checked. CSV or JSON is told by the extension
/// (`.csv`, `.json`), else by the content (JSON starts with `[`).
pub fn read_items(dataset_name: &str, path: &Path) -> Result<Vec<serde_json::Value>> {
    if !dataset::ALL.contains(&dataset_name) {
        return Err(Error::Invalid(format!(
            "there is no reference dataset called \"{dataset_name}\"; the datasets are {}",
            dataset::ALL.join(", ")
        )));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::Invalid(format!("{} cannot be read: {e}", path.display())))?;
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let json = match ext.as_deref() {
        Some("json") => true,
        Some("csv") => false,
        _ => text.trim_start_matches('\u{feff}').trim_start().starts_with('['),
    };
    if json { read_json(dataset_name, &text) } else { read_csv(dataset_name, &text) }
}

fn refuse(problems: Vec<String>) -> Error {
    const SHOWN: usize = 20;
    let more = problems.len().saturating_sub(SHOWN);
    let mut text = String::from("nothing was imported:");
    for p in problems.iter().take(SHOWN) {
        text.push_str("\n  ");
        text.push_str(p);
    }
    if more > 0 {
        text.push_str(&format!("\n  … and {more} more"));
    }
    Error::Invalid(text)
}

/// Duplicate ids are a problem of the later row.
fn check_all(dataset_name: &str, rows: &[(usize, serde_json::Value)], word: &str, problems: &mut Vec<String>) {
    let mut seen = std::collections::HashMap::new();
    for (n, item) in rows {
        match check_reference_item(dataset_name, item) {
            Err(e) => problems.push(format!("{word} {n}: {e}")),
            Ok(id) => {
                if let Some(first) = seen.insert(id.clone(), *n) {
                    problems.push(format!("{word} {n}: the id \"{id}\" is already used by {word} {first}"));
                }
            }
        }
    }
}

fn read_json(dataset_name: &str, text: &str) -> Result<Vec<serde_json::Value>> {
    let value: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        Error::Invalid(format!("the file is not valid JSON (line {}, column {})", e.line(), e.column()))
    })?;
    let serde_json::Value::Array(items) = value else {
        return Err(Error::Invalid("a JSON file must hold an array of items".into()));
    };
    let rows: Vec<(usize, serde_json::Value)> = items.into_iter().enumerate().map(|(i, v)| (i + 1, v)).collect();
    let mut problems = Vec::new();
    check_all(dataset_name, &rows, "item", &mut problems);
    if !problems.is_empty() {
        return Err(refuse(problems));
    }
    Ok(rows.into_iter().map(|(_, v)| v).collect())
}

/// Row numbers count the header as row 1, as a spreadsheet shows them.
fn read_csv(dataset_name: &str, text: &str) -> Result<Vec<serde_json::Value>> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Invalid(format!("row 1 (the header) cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if !headers.iter().any(|h| h == "id") {
        return Err(Error::Invalid("row 1 (the header) has no \"id\" column".into()));
    }
    let numeric = numeric_columns(dataset_name);
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let n = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("row {n}: cannot be read ({})", csv_problem(&e)));
                continue;
            }
        };
        let mut item = serde_json::Map::new();
        for (header, cell) in headers.iter().zip(record.iter()) {
            let cell = cell.trim();
            if cell.is_empty() || header.is_empty() {
                continue;
            }
            let value = if numeric.contains(&header.as_str()) {
                match cell.parse::<i64>() {
                    Ok(v) => serde_json::Value::from(v),
                    Err(_) => {
                        problems.push(format!("row {n}: \"{header}\" must be a whole number"));
                        continue;
                    }
                }
            } else {
                serde_json::Value::String(cell.to_string())
            };
            item.insert(header.clone(), value);
        }
        rows.push((n, serde_json::Value::Object(item)));
    }
    check_all(dataset_name, &rows, "row", &mut problems);
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.split(':').next().and_then(|r| r.trim_start_matches("row ").parse::<usize>().ok()));
        return Err(refuse(problems));
    }
    Ok(rows.into_iter().map(|(_, v)| v).collect())
}

/// The csv crate's error without the cell contents.
fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("it has {len} cells where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text".into(),
        _ => "it is not valid CSV".into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn csv_rows_become_items_with_whole_numbers_where_the_dataset_has_them() {
        let (_d, path) = file("prices.csv", "id,name,category,price_pence\ntea,Tea,Drinks,120\ncake,Cake,,250\n");
        let items = read_items(dataset::PRICE_LIST, &path).unwrap();
        assert_eq!(
            items,
            vec![
                json!({"id": "tea", "name": "Tea", "category": "Drinks", "price_pence": 120}),
                json!({"id": "cake", "name": "Cake", "price_pence": 250}),
            ]
        );
    }

    #[test]
    fn a_bad_row_refuses_the_file_with_its_row_number() {
        let (_d, path) =
            file("prices.csv", "id,name,price_pence\ntea,Tea,120\ncake,Cake,lots\nbun,,90\ntea,Tea again,1\n");
        let e = read_items(dataset::PRICE_LIST, &path).unwrap_err().to_string();
        assert!(e.contains("row 3: \"price_pence\" must be a whole number"), "{e}");
        assert!(e.contains("row 4: \"name\" is missing"), "{e}");
        assert!(e.contains("row 5: the id \"tea\" is already used by row 2"), "{e}");
    }

    #[test]
    fn json_is_told_by_extension_or_content() {
        let slots =
            r#"[{"id":"mon-am","name":"Morning","weekday":1,"starts_at":"09:30","ends_at":"11:00","kind":"open"}]"#;
        let (_d, path) = file("slots.txt", slots);
        assert_eq!(read_items(dataset::SESSION_SLOTS, &path).unwrap().len(), 1);
        let (_d, path) = file(
            "slots.json",
            r#"[{"id":"x","name":"M","weekday":9,"starts_at":"09:30","ends_at":"11:00","kind":"open"}]"#,
        );
        let e = read_items(dataset::SESSION_SLOTS, &path).unwrap_err().to_string();
        assert!(e.contains("item 1: \"weekday\""), "{e}");
        assert!(read_items("menu", &path).unwrap_err().to_string().contains("no reference dataset"));
    }
}
