//! The client's `chalice-iam` settings, from `initializationOptions`,
//! `workspace/configuration` and `workspace/didChangeConfiguration`:
//!
//! ```json
//! { "stage": "prod", "pythonVersion": "3.12", "severity": { "CIAM001": "warning", "CIAM003": "off" } }
//! ```
//!
//! Parsing is lenient: a bad value is reported and skipped, the rest is kept,
//! so one typo in an editor config does not turn every setting off.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diagnostics::codes::code_doc;
use crate::diagnostics::Severity;

/// The configuration section this server reads.
pub const SECTION: &str = "chalice-iam";

/// Settings as the client gave them; `None` and missing codes mean "not
/// set here", so layers can be merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSettings {
    pub stage: Option<String>,
    pub python_version: Option<(u8, u8)>,
    /// Diagnostic code (`CIAM001`) → severity; `None` turns the code off.
    pub severities: BTreeMap<String, Option<Severity>>,
}

impl ClientSettings {
    /// Reads settings from a JSON value that is either the section itself or
    /// an object holding it under `"chalice-iam"` (the shape VS Code sends in
    /// `didChangeConfiguration`). Returns what was understood and a message
    /// for each value that was not.
    pub fn from_json(value: &Value) -> (ClientSettings, Vec<String>) {
        let mut settings = ClientSettings::default();
        let mut problems = Vec::new();
        let section = match value.get(SECTION) {
            Some(inner) => inner,
            None => value,
        };
        let object = match section {
            Value::Object(object) => object,
            Value::Null => return (settings, problems),
            other => {
                problems.push(format!("settings: expected an object, got {other}"));
                return (settings, problems);
            }
        };
        for (key, value) in object {
            match key.as_str() {
                "stage" => match value {
                    Value::String(stage) if !stage.trim().is_empty() => settings.stage = Some(stage.trim().to_owned()),
                    Value::Null => {}
                    other => problems.push(format!("settings: `stage` must be a stage name, got {other}")),
                },
                "pythonVersion" => match value {
                    Value::String(text) => match crate::cli::parse_python_version(text.trim()) {
                        Ok(version) => settings.python_version = Some(version),
                        Err(why) => problems.push(format!("settings: `pythonVersion`: {why}")),
                    },
                    Value::Null => {}
                    other => problems.push(format!("settings: `pythonVersion` must look like \"3.12\", got {other}")),
                },
                "severity" => match value {
                    Value::Object(levels) => {
                        for (code, level) in levels {
                            // Codes may be given by number or by name; keyed by
                            // number here so layers using either spelling merge.
                            let Some(doc) = code_doc(code) else {
                                problems.push(format!("settings: unknown diagnostic code {code} in `severity`"));
                                continue;
                            };
                            match level.as_str().and_then(parse_severity) {
                                Some(severity) => {
                                    settings.severities.insert(doc.code.to_owned(), severity);
                                }
                                None => problems.push(format!(
                                    "settings: severity of {code} must be one of \
                                     error, warning, information, hint, off; got {level}"
                                )),
                            }
                        }
                    }
                    Value::Null => {}
                    other => problems.push(format!("settings: `severity` must map codes to levels, got {other}")),
                },
                other => problems.push(format!("settings: unknown key `{other}` ignored")),
            }
        }
        (settings, problems)
    }

    /// `self` with every value it does not set taken from `base`.
    pub fn over(&self, base: &ClientSettings) -> ClientSettings {
        let mut severities = base.severities.clone();
        severities.extend(self.severities.iter().map(|(code, level)| (code.clone(), *level)));
        ClientSettings {
            stage: self.stage.clone().or_else(|| base.stage.clone()),
            python_version: self.python_version.or(base.python_version),
            severities,
        }
    }
}

/// `Some(None)` is "off".
fn parse_severity(text: &str) -> Option<Option<Severity>> {
    Some(match text.to_ascii_lowercase().as_str() {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "information" | "info" => Some(Severity::Info),
        "hint" => Some(Severity::Hint),
        "off" | "none" => None,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_every_setting() {
        let (settings, problems) = ClientSettings::from_json(&json!({
            "stage": "prod",
            "pythonVersion": "3.11",
            "severity": { "CIAM001": "warning", "CIAM002": "off", "CIAM003": "Information" },
        }));
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(settings.stage.as_deref(), Some("prod"));
        assert_eq!(settings.python_version, Some((3, 11)));
        assert_eq!(
            settings.severities.into_iter().collect::<Vec<_>>(),
            [
                ("CIAM001".to_owned(), Some(Severity::Warning)),
                ("CIAM002".to_owned(), None),
                ("CIAM003".to_owned(), Some(Severity::Info)),
            ]
        );
    }

    #[test]
    fn accepts_the_section_nested_and_null() {
        let (nested, _) = ClientSettings::from_json(&json!({ "chalice-iam": { "stage": "dev" } }));
        assert_eq!(nested.stage.as_deref(), Some("dev"));
        // Neovim answers `workspace/configuration` with null for an unset section.
        assert_eq!(ClientSettings::from_json(&Value::Null), (ClientSettings::default(), vec![]));
    }

    #[test]
    fn bad_values_are_reported_and_skipped() {
        let (settings, problems) = ClientSettings::from_json(&json!({
            "stage": 3,
            "pythonVersion": "three",
            "severity": { "CIAM001": "loud", "CIAM002": "hint", "CIAM999": "off" },
            "colour": "blue",
        }));
        assert_eq!(settings.stage, None);
        assert_eq!(settings.python_version, None);
        assert_eq!(settings.severities.into_iter().collect::<Vec<_>>(), [("CIAM002".to_owned(), Some(Severity::Hint))]);
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert_eq!(ClientSettings::from_json(&json!([1])).1.len(), 1);
    }

    #[test]
    fn later_layers_win_per_value() {
        let (init, _) = ClientSettings::from_json(&json!({
            "stage": "dev", "pythonVersion": "3.10", "severity": { "CIAM001": "hint", "CIAM002": "error" },
        }));
        // The same code by name in the later layer.
        let (configured, _) =
            ClientSettings::from_json(&json!({ "stage": "prod", "severity": { "resource-api-not-seen": "off" } }));
        let merged = configured.over(&init);
        assert_eq!(merged.stage.as_deref(), Some("prod"));
        assert_eq!(merged.python_version, Some((3, 10)));
        assert_eq!(merged.severities.get("CIAM001"), Some(&None));
        assert_eq!(merged.severities.get("CIAM002"), Some(&Some(Severity::Error)));
    }
}
