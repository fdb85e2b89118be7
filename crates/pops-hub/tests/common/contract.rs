//! Checks every response a test receives against `docs/openapi/sync.yaml`: the status must be
//! documented for the operation (path + method), the Content-Type must be one the document lists
//! for that status, required headers must be there, and the JSON body must validate against the
//! schema given there (JSON Schema 2020-12, formats checked, `#/components/...` refs resolved by
//! validating against the whole document through a `$ref` pointer).

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub struct Contract {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi/sync.yaml");
        let text = std::fs::read_to_string(path).expect("docs/openapi/sync.yaml");
        let doc: Value = serde_norway::from_str(&text).expect("sync.yaml is YAML");
        Contract { doc, validators: Mutex::new(HashMap::new()) }
    })
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Contract {
    /// The document's path template that `path` matches, e.g. `/v1/devices/{device_id}/status`.
    fn template(&self, path: &str) -> Option<String> {
        let want: Vec<&str> = path.split('/').collect();
        self.doc["paths"].as_object()?.keys().find_map(|tpl| {
            let have: Vec<&str> = tpl.split('/').collect();
            let fits = have.len() == want.len()
                && have.iter().zip(&want).all(|(h, w)| (h.starts_with('{') && !w.is_empty()) || h == w);
            fits.then(|| tpl.clone())
        })
    }

    /// Follows `$ref`s from the object at `pointer`; answers the final object and its pointer.
    fn resolve(&self, mut pointer: String) -> (Value, String) {
        for _ in 0..10 {
            let value = self.doc.pointer(&pointer).unwrap_or_else(|| panic!("sync.yaml has nothing at {pointer}"));
            match value.get("$ref").and_then(Value::as_str) {
                Some(r) => pointer = r.trim_start_matches('#').to_string(),
                None => return (value.clone(), pointer),
            }
        }
        panic!("$ref loop at {pointer}")
    }

    fn validator(&self, pointer: &str) -> Arc<jsonschema::Validator> {
        if let Some(v) = self.validators.lock().unwrap_or_else(|e| e.into_inner()).get(pointer) {
            return v.clone();
        }
        let mut root = self.doc.clone();
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        // A JSON pointer in a URI fragment: braces (from path templates) are percent-encoded.
        let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
        root["$ref"] = json!(format!("#{fragment}"));
        let validator = Arc::new(
            jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("schema at {pointer} does not compile: {e}")),
        );
        self.validators.lock().unwrap_or_else(|e| e.into_inner()).insert(pointer.to_string(), validator.clone());
        validator
    }

    fn validate(&self, pointer: &str, body: &Value, what: &str) {
        let validator = self.validator(pointer);
        let errors: Vec<String> =
            validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{what}: the body does not match sync.yaml {pointer}: {errors:?}\nbody: {body}");
    }

    /// Panics unless the response fits the document.
    pub fn check(&self, method: &str, path: &str, status: u16, headers: &HeaderMap, body: &[u8]) {
        let what = format!("{method} {path} → {status}");
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        let method_key = method.to_ascii_lowercase();
        let operation = self.template(path).and_then(|tpl| {
            self.doc["paths"][&tpl].get(&method_key).map(|_| format!("/paths/{}/{method_key}", escape(&tpl)))
        });
        let Some(operation) = operation else {
            // Not an operation of the API: an unknown address (404) or a method the address does
            // not take (405). Still a problem document.
            assert!(status == 404 || status == 405, "{what}: not an operation of sync.yaml, yet not 404/405");
            if path.starts_with("/office/") && status == 404 {
                // Head office's pages answer an unknown page with a page.
                assert_eq!(content_type.as_deref(), Some("text/html"), "{what}");
                return;
            }
            assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{what}");
            let json: Value = serde_json::from_slice(body).expect("problem JSON");
            self.validate("/components/schemas/Problem", &json, &what);
            return;
        };
        let responses = format!("{operation}/responses");
        assert!(
            self.doc.pointer(&format!("{responses}/{status}")).is_some(),
            "{what}: status {status} is not documented in sync.yaml for this operation"
        );
        let (response, pointer) = self.resolve(format!("{responses}/{status}"));
        if let Some(required) = response.get("headers").and_then(Value::as_object) {
            for (name, spec) in required {
                if spec["required"] == json!(true) {
                    let value = headers.get(name.as_str()).unwrap_or_else(|| panic!("{what}: no {name} header"));
                    if spec["schema"]["type"] == json!("integer") {
                        let n: i64 = value.to_str().unwrap().parse().unwrap_or_else(|_| panic!("{what}: {name}"));
                        assert!(n >= spec["schema"]["minimum"].as_i64().unwrap_or(i64::MIN), "{what}: {name}={n}");
                    }
                }
            }
        }
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            assert!(body.is_empty(), "{what}: sync.yaml documents no body");
            return;
        };
        let ct = content_type.unwrap_or_else(|| panic!("{what}: no Content-Type"));
        assert!(content.contains_key(&ct), "{what}: Content-Type {ct} is not documented ({:?})", content.keys());
        if !ct.ends_with("json") {
            // A page or a download for people (head office's pages): the type is what is promised.
            return;
        }
        let json: Value = serde_json::from_slice(body).unwrap_or_else(|e| panic!("{what}: body is not JSON: {e}"));
        self.validate(&format!("{pointer}/content/{}/schema", escape(&ct)), &json, &what);
    }
}
