//! `.chalice/config.json` as chalice 1.34.0 resolves it
//! (`chalice/config.py Config._chain_lookup`, `CLIFactory.create_config_obj`).
//!
//! Every setting is resolved for one stage and one Lambda function name, in
//! chalice's order: `stages.<s>.lambda_functions.<fn>`, the CLI flag,
//! `stages.<s>`, top-level `lambda_functions.<fn>`, top level, defaults. The
//! first value that is not JSON `null` wins, so `false` counts as set. Values
//! are kept as JSON with their byte spans: chalice tests them with Python
//! truthiness (`"autogen_policy": "false"` is a non-empty string, hence
//! *true*), and diagnostics need to point at the key that decided.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::json::{self, JsonKind, JsonValue};
use crate::analysis::TextRange;

/// chalice's `DEFAULT_STAGE_NAME`.
pub const DEFAULT_STAGE: &str = "dev";
/// chalice's `DEFAULT_HANDLER_NAME`: the function name a `Config` that is
/// not scoped to a function looks settings up under.
pub const API_HANDLER: &str = "api_handler";

#[derive(Debug, Clone)]
pub struct ChaliceConfig {
    pub project_dir: PathBuf,
    /// `.chalice/config.json`; `None` when there is no config (a lone `.py`
    /// file analysed with chalice's defaults).
    pub path: Option<PathBuf>,
    /// The file's text; the spans below index into it.
    pub text: String,
    root: JsonValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigErrorKind {
    /// No `.chalice/config.json`: chalice says "Are you sure this is a
    /// chalice project?".
    Missing,
    /// The file exists but cannot be read as UTF-8 text.
    Unreadable,
    /// `json.loads` fails.
    InvalidJson,
    /// A value of a type chalice's code cannot handle (it crashes with
    /// `AttributeError` / `TypeError`).
    WrongType,
    /// `version` above 2.0 or not a number (`UnknownConfigFileVersion`).
    UnknownVersion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigError {
    pub kind: ConfigErrorKind,
    pub message: String,
    /// Where in config.json, when the problem is inside it.
    pub span: Option<TextRange>,
}

/// Which of chalice's lookup layers supplied a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// `stages.<stage>.lambda_functions.<function>`
    StageFunction,
    /// `--autogen-policy` / `--no-autogen-policy` on `chalice deploy`.
    CliFlag,
    /// `stages.<stage>`
    Stage,
    /// top-level `lambda_functions.<function>`
    TopLevelFunction,
    /// top level of config.json
    TopLevel,
    /// chalice's built-in default
    Default,
    /// nothing sets it (chalice's `None`)
    Unset,
}

/// One resolved setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    pub name: &'static str,
    /// The value chalice reads; `None` when nothing sets it.
    #[serde(skip)]
    pub value: Option<JsonValue>,
    pub layer: Layer,
    /// The key in config.json that supplied the value.
    pub key_span: Option<TextRange>,
}

impl Setting {
    /// Python truthiness of the value (`None` is false).
    pub fn truthy(&self) -> bool {
        self.value.as_ref().is_some_and(|v| v.is_truthy())
    }

    pub fn is_set(&self) -> bool {
        self.value.is_some()
    }

    pub fn value_span(&self) -> Option<TextRange> {
        match self.layer {
            Layer::CliFlag | Layer::Default | Layer::Unset => None,
            _ => self.value.as_ref().map(|v| v.span),
        }
    }
}

/// A note about a value chalice accepts but probably not as meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigWarning {
    pub message: String,
    pub span: Option<TextRange>,
}

/// The settings that decide a Lambda function's role, for one stage and
/// function name (`Config.scope(stage, function)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScopedSettings {
    pub stage: String,
    pub function: String,
    pub autogen_policy: Setting,
    pub iam_policy_file: Setting,
    pub manage_iam_role: Setting,
    pub iam_role_arn: Setting,
    pub xray: Setting,
    pub subnet_ids: Setting,
    pub security_group_ids: Setting,
}

impl ScopedSettings {
    /// `if not config.autogen_policy` decides file-based vs autogen.
    pub fn autogen_enabled(&self) -> bool {
        self.autogen_policy.truthy()
    }

    /// `Config.manage_iam_role`: `None` means true.
    pub fn manages_role(&self) -> bool {
        match &self.manage_iam_role.value {
            None => true,
            Some(v) => v.is_truthy(),
        }
    }

    pub fn xray_enabled(&self) -> bool {
        self.xray.truthy()
    }

    /// Both VPC lists are non-empty (what chalice tests before adding the
    /// VPC statement or attaching the function to a VPC).
    pub fn has_vpc(&self) -> bool {
        self.subnet_ids.truthy() && self.security_group_ids.truthy()
    }

    /// `_get_vpc_params` raises when only one of the two lists is set.
    pub fn vpc_error(&self) -> Option<ConfigError> {
        if self.subnet_ids.truthy() == self.security_group_ids.truthy() {
            return None;
        }
        let (set, unset) = if self.subnet_ids.truthy() { ("subnet_ids", "security_group_ids") } else { ("security_group_ids", "subnet_ids") };
        let span = if self.subnet_ids.truthy() { self.subnet_ids.key_span } else { self.security_group_ids.key_span };
        Some(ConfigError {
            kind: ConfigErrorKind::WrongType,
            message: format!(
                "Invalid VPC params for function '{}': `{set}` is set but `{unset}` is not; chalice needs both \
                 (ChaliceBuildError)",
                self.function
            ),
            span,
        })
    }

    /// The policy file chalice loads for a file-based role:
    /// `os.path.join(project_dir, '.chalice', iam_policy_file)`, or
    /// `.chalice/policy-<stage>.json` when unset.
    pub fn policy_file(&self, project_dir: &Path) -> Result<PathBuf, ConfigError> {
        let chalice_dir = project_dir.join(".chalice");
        match &self.iam_policy_file.value {
            None => Ok(chalice_dir.join(format!("policy-{}.json", self.stage))),
            Some(v) => match &v.kind {
                // `os.path.join` drops everything before an absolute part.
                JsonKind::String(s) => Ok(join_like_python(&chalice_dir, s)),
                _ => Err(ConfigError {
                    kind: ConfigErrorKind::WrongType,
                    message: format!(
                        "`iam_policy_file` must be a string, not {}: chalice fails with TypeError in os.path.join",
                        v.python_type()
                    ),
                    span: Some(v.span),
                }),
            },
        }
    }
}

/// `os.path.join(base, part)` on POSIX: an absolute `part` replaces `base`;
/// an empty one leaves a trailing separator (a directory, which then fails
/// to load as a file, as in chalice).
fn join_like_python(base: &Path, part: &str) -> PathBuf {
    if part.is_empty() {
        let mut s = base.as_os_str().to_owned();
        s.push("/");
        return PathBuf::from(s);
    }
    base.join(part)
}

fn wrong_type(path: &str, v: &JsonValue) -> ConfigError {
    ConfigError {
        kind: ConfigErrorKind::WrongType,
        message: format!(
            "`{path}` must be an object, not {}: chalice fails with AttributeError: '{}' object has no attribute 'get'",
            v.python_type(),
            v.python_type().replace("None", "NoneType")
        ),
        span: Some(v.span),
    }
}

impl ChaliceConfig {
    /// Reads `<project_dir>/.chalice/config.json` the way
    /// `CLIFactory.create_config_obj` does.
    pub fn load(project_dir: &Path) -> Result<ChaliceConfig, ConfigError> {
        let path = project_dir.join(".chalice").join("config.json");
        let bytes = match crate::files::read(&path) {
            Ok(b) => b,
            Err(e) => {
                return Err(ConfigError {
                    kind: ConfigErrorKind::Missing,
                    message: format!(
                        "Unable to load the project config file {}: {e}. Are you sure this is a chalice project?",
                        path.display()
                    ),
                    span: None,
                })
            }
        };
        let text = String::from_utf8(bytes).map_err(|e| ConfigError {
            kind: ConfigErrorKind::Unreadable,
            message: format!("{} is not valid UTF-8 (byte {}); chalice cannot read it", path.display(), e.utf8_error().valid_up_to()),
            span: Some(TextRange::new(e.utf8_error().valid_up_to(), e.utf8_error().valid_up_to() + 1)),
        })?;
        Self::from_text(project_dir, Some(path), text)
    }

    /// Parses config text (for editors holding unsaved buffers).
    pub fn from_text(project_dir: &Path, path: Option<PathBuf>, text: String) -> Result<ChaliceConfig, ConfigError> {
        let root = json::parse(&text).map_err(|e| ConfigError {
            kind: ConfigErrorKind::InvalidJson,
            message: format!("Unable to load the project config file: {}", e.message),
            span: Some(e.span),
        })?;
        if !root.is_object() {
            return Err(ConfigError {
                kind: ConfigErrorKind::WrongType,
                message: format!(
                    "config.json must hold a JSON object, not {}: chalice fails with AttributeError",
                    root.python_type()
                ),
                span: Some(root.span),
            });
        }
        let config = ChaliceConfig { project_dir: project_dir.to_path_buf(), path, text, root };
        config.check_version()?;
        Ok(config)
    }

    /// No config file: chalice's defaults only (used for a lone `.py`).
    pub fn defaults(project_dir: &Path) -> ChaliceConfig {
        ChaliceConfig {
            project_dir: project_dir.to_path_buf(),
            path: None,
            text: String::new(),
            root: JsonValue { kind: JsonKind::Object(Vec::new()), span: TextRange::new(0, 0) },
        }
    }

    /// `_validate_config_from_disk`: `float(config.get('version', '1.0'))`
    /// must not fail or exceed 2.0.
    fn check_version(&self) -> Result<(), ConfigError> {
        let Some(m) = self.root.member("version") else { return Ok(()) };
        let v = &m.value;
        let number = match &v.kind {
            JsonKind::Number { value, .. } => Some(*value),
            JsonKind::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            JsonKind::String(s) => match python_float(s) {
                Some(f) => Some(f),
                None => {
                    return Err(ConfigError {
                        kind: ConfigErrorKind::UnknownVersion,
                        message: format!("Unknown version '{s}' in config.json"),
                        span: Some(v.span),
                    })
                }
            },
            _ => {
                return Err(ConfigError {
                    kind: ConfigErrorKind::WrongType,
                    message: format!(
                        "`version` must be a number or a string, not {}: chalice fails with TypeError in float()",
                        v.python_type()
                    ),
                    span: Some(v.span),
                })
            }
        };
        match number {
            Some(n) if n > 2.0 => Err(ConfigError {
                kind: ConfigErrorKind::UnknownVersion,
                message: format!("Unknown version '{}' in config.json", v.python_str()),
                span: Some(v.span),
            }),
            _ => Ok(()),
        }
    }

    /// Top-level `app_name` (not per stage in chalice).
    pub fn app_name(&self) -> Setting {
        match self.root.member("app_name").filter(|m| !m.value.is_null()) {
            Some(m) => Setting { name: "app_name", value: Some(m.value.clone()), layer: Layer::TopLevel, key_span: Some(m.key_span) },
            None => Setting { name: "app_name", value: None, layer: Layer::Unset, key_span: None },
        }
    }

    /// `'%s' % config.app_name` as chalice formats role names (`None` when
    /// unset).
    pub fn app_name_text(&self) -> String {
        self.app_name().value.map(|v| v.python_str()).unwrap_or_else(|| "None".into())
    }

    /// Stage names under `stages`, with their key spans.
    pub fn stages(&self) -> Vec<(String, TextRange)> {
        match self.root.member("stages").map(|m| &m.value.kind) {
            Some(JsonKind::Object(members)) => members.iter().map(|m| (m.key.clone(), m.key_span)).collect(),
            _ => Vec::new(),
        }
    }

    /// chalice does not reject an unknown stage: it silently uses the
    /// top-level settings. This tells callers to warn about it.
    pub fn stage_is_defined(&self, stage: &str) -> bool {
        self.path.is_none() || self.stages().iter().any(|(s, _)| s == stage)
    }

    /// Values chalice accepts but that probably do not mean what they say.
    pub fn warnings(&self, settings: &ScopedSettings) -> Vec<ConfigWarning> {
        let mut out = Vec::new();
        for s in [&settings.autogen_policy, &settings.manage_iam_role, &settings.xray] {
            if let Some(v) = &s.value {
                if !matches!(v.kind, JsonKind::Bool(_)) && s.value_span().is_some() {
                    out.push(ConfigWarning {
                        message: format!(
                            "`{}` is {} (a Python {}), not true/false; chalice tests its truthiness, so this means {}",
                            s.name,
                            &self.text[v.span.start..v.span.end],
                            v.python_type(),
                            if v.is_truthy() { "true" } else { "false" }
                        ),
                        span: Some(v.span),
                    });
                }
            }
        }
        out
    }

    fn member(&self, path: &[&str]) -> Option<&json::JsonMember> {
        let mut cur = &self.root;
        let mut found = None;
        for key in path {
            let m = cur.member(key)?;
            cur = &m.value;
            found = Some(m);
        }
        found
    }

    /// The containers chalice calls `.get` on for a per-function lookup must
    /// be objects (or absent); anything else crashes chalice.
    fn check_containers(&self, stage: &str, function: &str) -> Result<(), ConfigError> {
        for path in [
            vec!["stages"],
            vec!["stages", stage],
            vec!["stages", stage, "lambda_functions"],
            vec!["stages", stage, "lambda_functions", function],
            vec!["lambda_functions"],
        ] {
            // A parent that is not an object was reported on the way down.
            if let Some(m) = self.member(&path) {
                if !m.value.is_object() {
                    return Err(wrong_type(&path.join("."), &m.value));
                }
            }
        }
        Ok(())
    }

    /// `Config._chain_lookup(name, varies_per_chalice_stage=True,
    /// varies_per_function=True)`.
    fn lookup(&self, name: &'static str, stage: &str, function: &str, cli: Option<bool>, default: Option<bool>) -> Setting {
        let layers: [(Layer, Option<&JsonValue>); 4] = [
            (Layer::StageFunction, self.member(&["stages", stage, "lambda_functions", function]).map(|m| &m.value)),
            (Layer::Stage, self.member(&["stages", stage]).map(|m| &m.value)),
            (Layer::TopLevelFunction, self.member(&["lambda_functions", function]).map(|m| &m.value)),
            (Layer::TopLevel, Some(&self.root)),
        ];
        for (i, (layer, container)) in layers.iter().enumerate() {
            if i == 1 {
                if let Some(flag) = cli {
                    return Setting { name, value: Some(bool_value(flag)), layer: Layer::CliFlag, key_span: None };
                }
            }
            let Some(c) = container.filter(|c| c.is_object()) else { continue };
            if let Some(m) = c.member(name).filter(|m| !m.value.is_null()) {
                return Setting { name, value: Some(m.value.clone()), layer: *layer, key_span: Some(m.key_span) };
            }
        }
        match default {
            Some(d) => Setting { name, value: Some(bool_value(d)), layer: Layer::Default, key_span: None },
            None => Setting { name, value: None, layer: Layer::Unset, key_span: None },
        }
    }

    /// `config.scope(stage, function)` and the role-related properties
    /// chalice reads on it. `cli_autogen_policy` is `chalice deploy
    /// --[no-]autogen-policy`.
    pub fn scope(&self, stage: &str, function: &str, cli_autogen_policy: Option<bool>) -> Result<ScopedSettings, ConfigError> {
        self.check_containers(stage, function)?;
        Ok(ScopedSettings {
            stage: stage.to_string(),
            function: function.to_string(),
            autogen_policy: self.lookup("autogen_policy", stage, function, cli_autogen_policy, Some(true)),
            iam_policy_file: self.lookup("iam_policy_file", stage, function, None, None),
            manage_iam_role: self.lookup("manage_iam_role", stage, function, None, None),
            iam_role_arn: self.lookup("iam_role_arn", stage, function, None, None),
            xray: self.lookup("xray", stage, function, None, None),
            subnet_ids: self.lookup("subnet_ids", stage, function, None, None),
            security_group_ids: self.lookup("security_group_ids", stage, function, None, None),
        })
    }
}

fn bool_value(b: bool) -> JsonValue {
    JsonValue { kind: JsonKind::Bool(b), span: TextRange::new(0, 0) }
}

/// Python's `float(str)`: surrounding whitespace, `_` between digits,
/// `inf`/`nan` in any case.
fn python_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let bytes = t.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let ok = i > 0 && i + 1 < bytes.len() && bytes[i - 1].is_ascii_digit() && bytes[i + 1].is_ascii_digit();
            if !ok {
                return None;
            }
        }
    }
    let cleaned: String = t.chars().filter(|c| *c != '_').collect();
    let lower = cleaned.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return lower.parse::<f64>().ok().or(Some(if lower.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY }));
    }
    if !cleaned.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    cleaned.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    /// Resolves every role setting for `stage`/`function` and renders
    /// `name = value (layer)` lines, or the error.
    fn check(config: &str, stage: &str, function: &str, cli: Option<bool>, expected: Expect) {
        let rendered = match ChaliceConfig::from_text(Path::new("/p"), Some("/p/.chalice/config.json".into()), config.to_string())
            .and_then(|c| c.scope(stage, function, cli).map(|s| (c, s)))
        {
            Ok((c, s)) => {
                let mut out = String::new();
                for setting in [&s.autogen_policy, &s.iam_policy_file, &s.manage_iam_role, &s.iam_role_arn, &s.xray, &s.subnet_ids, &s.security_group_ids] {
                    if setting.layer == Layer::Unset {
                        continue;
                    }
                    let v = setting.value.as_ref().map(|v| match v.span {
                        sp if sp.end > sp.start => c.text[sp.start..sp.end].to_string(),
                        _ => v.python_str(),
                    });
                    out.push_str(&format!("{} = {} ({:?})\n", setting.name, v.unwrap_or_default(), setting.layer));
                }
                out.push_str(&format!(
                    "=> autogen {} manages_role {} xray {} vpc {} file {}\n",
                    s.autogen_enabled(),
                    s.manages_role(),
                    s.xray_enabled(),
                    s.has_vpc(),
                    s.policy_file(Path::new("/p")).map(|p| p.display().to_string()).unwrap_or_else(|e| e.message)
                ));
                for w in c.warnings(&s) {
                    out.push_str(&format!("warning: {}\n", w.message));
                }
                out
            }
            Err(e) => format!("error {:?}: {}\n", e.kind, e.message),
        };
        expected.assert_eq(&rendered);
    }

    const LAYERED: &str = r#"{
      "app_name": "demo",
      "autogen_policy": true,
      "lambda_functions": {"worker": {"autogen_policy": true, "iam_policy_file": "top-worker.json"}},
      "stages": {
        "dev": {"autogen_policy": false, "xray": true,
                "lambda_functions": {"worker": {"autogen_policy": null, "manage_iam_role": false, "iam_role_arn": "arn:aws:iam::1:role/r"}}},
        "prod": {"iam_policy_file": "../shared.json", "lambda_functions": {"api_handler": {"autogen_policy": true}}}
      }
    }"#;

    #[test]
    fn stage_value_beats_top_level_function_value() {
        check(
            LAYERED,
            "dev",
            "worker",
            None,
            expect![[r#"
                autogen_policy = false (Stage)
                iam_policy_file = "top-worker.json" (TopLevelFunction)
                manage_iam_role = false (StageFunction)
                iam_role_arn = "arn:aws:iam::1:role/r" (StageFunction)
                xray = true (Stage)
                => autogen false manages_role false xray true vpc false file /p/.chalice/top-worker.json
            "#]],
        );
    }

    #[test]
    fn stage_function_value_beats_cli_flag_and_cli_beats_stage() {
        check(
            LAYERED,
            "prod",
            "api_handler",
            Some(false),
            expect![[r#"
                autogen_policy = true (StageFunction)
                iam_policy_file = "../shared.json" (Stage)
                => autogen true manages_role true xray false vpc false file /p/.chalice/../shared.json
            "#]],
        );
        check(
            LAYERED,
            "dev",
            "other",
            Some(true),
            expect![[r#"
                autogen_policy = True (CliFlag)
                xray = true (Stage)
                => autogen true manages_role true xray true vpc false file /p/.chalice/policy-dev.json
            "#]],
        );
    }

    #[test]
    fn unknown_stage_falls_back_to_top_level_and_defaults() {
        check(
            r#"{"lambda_functions": {}}"#,
            "qa",
            "f",
            None,
            expect![[r#"
                autogen_policy = True (Default)
                => autogen true manages_role true xray false vpc false file /p/.chalice/policy-qa.json
            "#]],
        );
    }

    #[test]
    fn string_false_is_truthy_like_in_chalice() {
        check(
            r#"{"autogen_policy": "false", "manage_iam_role": 0, "iam_policy_file": "/abs/p.json"}"#,
            "dev",
            "api_handler",
            None,
            expect![[r#"
                autogen_policy = "false" (TopLevel)
                iam_policy_file = "/abs/p.json" (TopLevel)
                manage_iam_role = 0 (TopLevel)
                => autogen true manages_role false xray false vpc false file /abs/p.json
                warning: `autogen_policy` is "false" (a Python str), not true/false; chalice tests its truthiness, so this means true
                warning: `manage_iam_role` is 0 (a Python int), not true/false; chalice tests its truthiness, so this means false
            "#]],
        );
    }

    #[test]
    fn vpc_needs_both_lists() {
        check(
            r#"{"subnet_ids": ["s"], "stages": {"dev": {"security_group_ids": []}}}"#,
            "dev",
            "f",
            None,
            expect![[r#"
                autogen_policy = True (Default)
                subnet_ids = ["s"] (TopLevel)
                security_group_ids = [] (Stage)
                => autogen true manages_role true xray false vpc false file /p/.chalice/policy-dev.json
            "#]],
        );
    }

    #[test]
    fn structural_errors() {
        check(
            r#"{"stages": {"dev": []}}"#,
            "dev",
            "f",
            None,
            expect![[r#"
                error WrongType: `stages.dev` must be an object, not list: chalice fails with AttributeError: 'list' object has no attribute 'get'
            "#]],
        );
        check(
            r#"{"lambda_functions": null}"#,
            "dev",
            "f",
            None,
            expect![[r#"
                error WrongType: `lambda_functions` must be an object, not None: chalice fails with AttributeError: 'NoneType' object has no attribute 'get'
            "#]],
        );
        check(
            r#"{"version": "3.0"}"#,
            "dev",
            "f",
            None,
            expect![[r#"
                error UnknownVersion: Unknown version '3.0' in config.json
            "#]],
        );
        check(
            "{\"app_name\": \"x\",}",
            "dev",
            "f",
            None,
            expect![[r#"
                error InvalidJson: Unable to load the project config file: Expecting property name enclosed in double quotes: line 1 column 18 (char 17)
            "#]],
        );
        check(
            "[1]",
            "dev",
            "f",
            None,
            expect![[r#"
                error WrongType: config.json must hold a JSON object, not list: chalice fails with AttributeError
            "#]],
        );
        check(
            r#"{"iam_policy_file": 3}"#,
            "dev",
            "f",
            None,
            expect![[r#"
                autogen_policy = True (Default)
                iam_policy_file = 3 (TopLevel)
                => autogen true manages_role true xray false vpc false file `iam_policy_file` must be a string, not int: chalice fails with TypeError in os.path.join
            "#]],
        );
    }

    #[test]
    fn python_float_accepts_what_python_does() {
        assert_eq!(python_float(" 1_0 "), Some(10.0));
        assert_eq!(python_float("2.0"), Some(2.0));
        assert!(python_float("nan").unwrap().is_nan());
        assert_eq!(python_float("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(python_float("1__0"), None);
        assert_eq!(python_float("abc"), None);
    }
}
