//! axe-core, run inside the app's own webview: the library's source, the scripts that inject and
//! run it, and a readable account of what it found.
//!
//! The app's Content Security Policy allows no inline or evaluated script, so the page cannot load
//! axe-core itself. WebDriver's script executor is not bound by the page's CSP: the library's
//! source is sent as the body of an "execute script" command, which defines `window.axe` for
//! the rest of that page's life. Nothing in the app or its CSP changes for this.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::workspace_root;

/// The WCAG 2.0, 2.1 and 2.2 level A and AA rules: axe-core's tags for them.
pub const WCAG_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// Where the library comes from: the UI's npm dev dependency.
pub fn source_path() -> PathBuf {
    workspace_root().join("ui/node_modules/axe-core/axe.min.js")
}

/// The source of axe.min.js, read once per test binary.
pub fn source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = source_path();
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "could not read axe-core from {}: {e}\n(it is a dev dependency of the UI: run `npm ci` \
                 in ui/, which `cargo xtask test` does)",
                path.display()
            )
        })
    })
}

/// A synchronous script that defines `window.axe` unless the page has it already, and returns
/// axe-core's version (or `null` when the library did not load).
pub fn inject_script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        // The newline keeps a trailing `//` comment in the library from swallowing the closing brace.
        format!(
            "if (typeof window.axe === 'undefined') {{\n{}\n}}\n\
             return typeof window.axe === 'object' && window.axe !== null ? window.axe.version : null;",
            source()
        )
    })
}

/// An asynchronous script that runs axe-core on the whole document with the rules tagged
/// `arguments[0]`, and calls back with `{ result: <JSON text> }` or `{ error: <text> }`.
pub const RUN_SCRIPT: &str = r#"
const done = arguments[arguments.length - 1];
window.axe
  .run(document, { runOnly: { type: 'tag', values: arguments[0] } })
  .then(
    (result) => done({ result: JSON.stringify(result) }),
    (error) => done({ error: String((error && error.stack) || error) }),
  );
"#;

/// The rule ids of the violations in an axe-core result, in order.
pub fn violation_ids(result: &Value) -> Vec<&str> {
    violations(result).iter().filter_map(|v| v["id"].as_str()).collect()
}

fn violations(result: &Value) -> &[Value] {
    result["violations"].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// A readable list of the violations in an axe-core `result` for `screen`: for each rule its id,
/// impact, help text and link, then each offending node's selector and axe-core's summary of what
/// to fix. `None` when there are none.
pub fn describe_violations(screen: &str, result: &Value) -> Option<String> {
    let violations = violations(result);
    if violations.is_empty() {
        return None;
    }
    let nodes: usize = violations.iter().map(|v| v["nodes"].as_array().map_or(0, Vec::len)).sum();
    let mut text = format!(
        "axe-core found {} accessibility violation(s), on {nodes} element(s), on the {screen:?} screen:",
        violations.len()
    );
    for violation in violations {
        text.push_str(&format!(
            "\n\n- {} ({}): {}\n  {}",
            violation["id"].as_str().unwrap_or("?"),
            violation["impact"].as_str().unwrap_or("impact unknown"),
            violation["help"].as_str().unwrap_or(""),
            violation["helpUrl"].as_str().unwrap_or(""),
        ));
        for node in violation["nodes"].as_array().map(Vec::as_slice).unwrap_or_default() {
            text.push_str(&format!("\n  * {}", target(&node["target"])));
            for line in node["failureSummary"].as_str().unwrap_or("").lines() {
                text.push_str(&format!("\n      {}", line.trim()));
            }
        }
    }
    Some(text)
}

/// A node's target as one selector: axe-core gives a list, with a nested list for each step into
/// a shadow root or frame.
fn target(target: &Value) -> String {
    match target {
        Value::String(selector) => selector.clone(),
        Value::Array(steps) => steps.iter().map(target_step).collect::<Vec<_>>().join(" >>> "),
        other => other.to_string(),
    }
}

fn target_step(step: &Value) -> String {
    match step {
        Value::Array(inner) => inner.iter().map(target_step).collect::<Vec<_>>().join(" >>> "),
        Value::String(selector) => selector.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn no_violations_means_nothing_to_say() {
        let result = json!({ "violations": [], "passes": [{ "id": "label", "nodes": [] }] });
        assert_eq!(describe_violations("sign-in", &result), None);
        assert!(violation_ids(&result).is_empty());
    }

    #[test]
    fn each_violation_names_its_rule_impact_help_and_nodes() {
        let result = json!({
            "violations": [
                {
                    "id": "color-contrast",
                    "impact": "serious",
                    "help": "Elements must meet minimum color contrast ratio thresholds",
                    "helpUrl": "https://example.invalid/color-contrast",
                    "nodes": [
                        {
                            "target": [".muted"],
                            "failureSummary": "Fix any of the following:\n  Element has insufficient color contrast of 3.1"
                        },
                        { "target": [["#host", "button"]], "failureSummary": "Fix all of the following:\n  x" }
                    ]
                },
                {
                    "id": "label",
                    "impact": "critical",
                    "help": "Form elements must have labels",
                    "helpUrl": "https://example.invalid/label",
                    "nodes": [{ "target": ["#field-x"] }]
                }
            ]
        });
        assert_eq!(violation_ids(&result), ["color-contrast", "label"]);
        let text = describe_violations("today", &result).expect("violations are described");
        assert!(
            text.starts_with("axe-core found 2 accessibility violation(s), on 3 element(s), on the \"today\" screen:")
        );
        assert!(text.contains(
            "- color-contrast (serious): Elements must meet minimum color contrast ratio thresholds\n  \
             https://example.invalid/color-contrast\n  * .muted\n      Fix any of the following:\n      \
             Element has insufficient color contrast of 3.1"
        ));
        assert!(text.contains("\n  * #host >>> button\n"), "{text}");
        assert!(text.contains("- label (critical): Form elements must have labels"), "{text}");
        assert!(text.ends_with("\n  * #field-x"), "{text}");
    }
}
