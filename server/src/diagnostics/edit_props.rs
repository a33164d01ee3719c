//! Property tests of the edits fixes make, on random but valid policy
//! files and config.json files in random formatting (indentation, tabs,
//! CRLF, inline or multi-line containers, Unicode in names and values):
//!
//! - the result is valid JSON (as `json.loads` reads it);
//! - everything that was there is still there: the old document, compared
//!   structurally, is contained in the new one (a lone value may have become
//!   a list holding it);
//! - what the fix is for holds afterwards: the needed actions are granted
//!   (except those an explicit Deny takes away, which no Allow can give), the
//!   stage and the functions that were on the autogen role use the policy
//!   file, and nothing else changed meaning.
//!
//! `CHALICE_IAM_FUZZ_CASES` sets the number of cases per property (default
//! 1,500) and `CHALICE_IAM_FUZZ_SEED` picks another set; a failure prints the
//! case's seed, and `CHALICE_IAM_FUZZ_CASE` replays it.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::check::{config_edit_for_file_policy, turn_off_autogen_fix, FunctionView, RoleGrant, StageView};
use super::FileEdit;
use crate::chalice::{ChaliceConfig, API_HANDLER};
use crate::json;
use crate::lsp::test_support::Rng;
use crate::policy::file::PolicyFile;

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "dynamodb:Scan",
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "sqs:SendMessage",
    "sns:Publish",
    "lambda:InvokeFunction",
    "logs:CreateLogGroup",
    "logs:PutLogEvents",
    "kms:Decrypt",
];

const PATTERNS: &[&str] = &["s3:Get*", "dynamodb:*", "*", "s3:?etObject", "sqs:Send*", "logs:*", "iam:*", "S3:getobject"];

const NAMES: &[&str] = &["Käse", "日本語", "😀 emoji", "tab\there", "quote\"d", "back\\slash", "ascii", "\u{e9}\u{301}", "line\nbreak"];

// ---- random documents -------------------------------------------------

fn action_value(rng: &mut Rng) -> Value {
    let one = |rng: &mut Rng| if rng.chance(75) { rng.pick(ACTIONS).to_string() } else { rng.pick(PATTERNS).to_string() };
    if rng.chance(30) {
        json!(one(rng))
    } else {
        Value::Array((0..rng.below(5)).map(|_| json!(one(rng))).collect())
    }
}

fn resource_value(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 => json!("*"),
        1 => json!(["*"]),
        2 => json!("arn:aws:s3:::bucket/*"),
        3 => json!(["arn:aws:dynamodb:*:*:table/t", "*"]),
        _ => json!(["arn:aws:sqs:eu-west-1:123456789012:q"]),
    }
}

fn statement(rng: &mut Rng) -> Value {
    let mut s = Map::new();
    if rng.chance(40) {
        s.insert("Sid".into(), json!(rng.pick(NAMES)));
    }
    s.insert("Effect".into(), json!(if rng.chance(80) { "Allow" } else { "Deny" }));
    let key = if rng.chance(85) { "Action" } else { "NotAction" };
    s.insert(key.into(), action_value(rng));
    match rng.below(10) {
        0 => {}
        1 => {
            s.insert("NotResource".into(), resource_value(rng));
        }
        _ => {
            s.insert("Resource".into(), resource_value(rng));
        }
    }
    if rng.chance(15) {
        s.insert("Condition".into(), json!({"StringEquals": {"aws:RequestedRegion": rng.pick(NAMES)}}));
    }
    Value::Object(s)
}

/// A valid policy document (valid JSON; IAM may find fault with it, which
/// is what the diagnostics are for).
fn policy(rng: &mut Rng) -> Value {
    let mut doc = Map::new();
    if rng.chance(70) {
        doc.insert("Version".into(), json!("2012-10-17"));
    }
    if rng.chance(20) {
        doc.insert("Id".into(), json!(rng.pick(NAMES)));
    }
    let statements: Vec<Value> = (0..rng.below(5)).map(|_| statement(rng)).collect();
    let container = match (rng.below(10), statements.len()) {
        (0, 1) => statements[0].clone(),
        _ => Value::Array(statements),
    };
    doc.insert("Statement".into(), container);
    Value::Object(doc)
}

const STAGES: &[&str] = &["dev", "prod", "ステージ", "test"];
const FUNCTIONS: &[&str] = &[API_HANDLER, "worker", "on_upload"];

fn setting_value(rng: &mut Rng, key: &str) -> Value {
    match key {
        "autogen_policy" => rng.pick(&[json!(true), json!(false), json!("false"), json!(null), json!(0)]).clone(),
        "iam_policy_file" => rng.pick(&[json!("policy-dev.json"), json!("custom.json"), json!("sub/dir/p.json"), json!(null)]).clone(),
        "manage_iam_role" => rng.pick(&[json!(true), json!(false)]).clone(),
        _ => json!(rng.below(3000)),
    }
}

fn settings(rng: &mut Rng, depth: usize) -> Map<String, Value> {
    let mut m = Map::new();
    for key in ["autogen_policy", "iam_policy_file", "manage_iam_role", "memory_size"] {
        if rng.chance(if key == "manage_iam_role" { 8 } else { 35 }) {
            m.insert(key.into(), setting_value(rng, key));
        }
    }
    if m.get("manage_iam_role") == Some(&json!(false)) {
        m.insert("iam_role_arn".into(), json!("arn:aws:iam::123456789012:role/r"));
    }
    if rng.chance(20) {
        m.insert("environment_variables".into(), json!({ rng.pick(NAMES).to_string(): rng.pick(NAMES).to_string() }));
    }
    if depth == 0 && rng.chance(40) {
        let functions: Map<String, Value> =
            (0..1 + rng.below(3)).map(|_| (rng.pick(FUNCTIONS).to_string(), Value::Object(settings(rng, 1)))).collect();
        m.insert("lambda_functions".into(), Value::Object(functions));
    }
    m
}

fn config(rng: &mut Rng) -> Value {
    let mut c = Map::new();
    c.insert("version".into(), json!("2.0"));
    c.insert("app_name".into(), json!(rng.pick(NAMES)));
    c.extend(settings(rng, 0));
    if rng.chance(85) {
        let stages: Map<String, Value> = (0..rng.below(4)).map(|_| (rng.pick(STAGES).to_string(), Value::Object(settings(rng, 0)))).collect();
        c.insert("stages".into(), Value::Object(stages));
    }
    Value::Object(c)
}

/// How a document is laid out: indentation unit, line ending, and for
/// each container (decided as it is written) inline or one child per line.
struct Style {
    unit: &'static str,
    eol: &'static str,
    colon: &'static str,
    inline_percent: u64,
}

fn random_style(rng: &mut Rng) -> Style {
    Style {
        unit: *rng.pick(&["  ", "    ", "\t", " "]),
        eol: *rng.pick(&["\n", "\r\n"]),
        colon: *rng.pick(&[": ", ":", " : "]),
        inline_percent: *rng.pick(&[0, 30, 70, 100]),
    }
}

fn render(rng: &mut Rng, style: &Style, value: &Value, depth: usize, out: &mut String) {
    let (open, close, items): (&str, &str, Vec<(Option<&String>, &Value)>) = match value {
        Value::Array(a) => ("[", "]", a.iter().map(|v| (None, v)).collect()),
        Value::Object(o) => ("{", "}", o.iter().map(|(k, v)| (Some(k), v)).collect()),
        scalar => {
            out.push_str(&scalar.to_string());
            return;
        }
    };
    if items.is_empty() {
        out.push_str(open);
        out.push_str(close);
        return;
    }
    let inline = rng.chance(style.inline_percent);
    out.push_str(open);
    for (i, (key, item)) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
            if inline {
                out.push(' ');
            }
        }
        if !inline {
            out.push_str(style.eol);
            out.push_str(&style.unit.repeat(depth + 1));
        }
        if let Some(key) = key {
            out.push_str(&json::quote(key));
            out.push_str(style.colon);
        }
        render(rng, style, item, depth + 1, out);
    }
    if !inline {
        out.push_str(style.eol);
        out.push_str(&style.unit.repeat(depth));
    }
    out.push_str(close);
}

fn to_text(rng: &mut Rng, value: &Value) -> String {
    let style = random_style(rng);
    let mut out = String::new();
    if rng.chance(10) {
        out.push_str(style.eol);
    }
    render(rng, &style, value, 0, &mut out);
    if rng.chance(8) {
        // A repeated key before the real one: `json.loads` keeps the last,
        // and so must every reader and edit.
        if let (Some(open), Some((key, _))) = (out.find('{'), value.as_object().and_then(|o| o.iter().last())) {
            out.insert_str(open + 1, &format!("{}{}[\"shadowed\", {{\"Effect\": 1}}],{}", json::quote(key), style.colon, style.eol));
        }
    }
    if rng.chance(60) {
        out.push_str(style.eol);
    }
    out
}

// ---- checks -------------------------------------------------------------

/// Parses as `json.loads` does, into plain JSON (the last of repeated keys
/// wins, as in a Python dict).
fn loads(text: &str) -> Result<Value, String> {
    json::parse(text).map(|v| crate::chalice::to_serde(&v)).map_err(|e| e.message)
}

/// `old` is contained in `new`: every member and item is still there
/// (items in order), a scalar or object may have become a list holding it.
/// `exempt` names object keys whose values may change.
fn contained(old: &Value, new: &Value, exempt: &dyn Fn(&[String]) -> bool, path: &mut Vec<String>) -> Result<(), String> {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for (k, v) in o {
                path.push(k.clone());
                let result = match n.get(k) {
                    None => Err(format!("{} is gone", path.join("."))),
                    Some(_) if exempt(path) => Ok(()),
                    Some(nv) => contained(v, nv, exempt, path),
                };
                path.pop();
                result?;
            }
            Ok(())
        }
        (Value::Array(o), Value::Array(n)) => {
            let mut next = 0;
            for (i, item) in o.iter().enumerate() {
                path.push(i.to_string());
                let found = (next..n.len()).find(|&j| contained(item, &n[j], exempt, path).is_ok());
                path.pop();
                match found {
                    Some(j) => next = j + 1,
                    None => return Err(format!("{}[{i}] = {item} is gone", path.join("."))),
                }
            }
            Ok(())
        }
        (o, Value::Array(n)) if !o.is_array() && n.iter().any(|item| contained(o, item, exempt, path).is_ok()) => Ok(()),
        (o, n) if o == n => Ok(()),
        (o, n) => Err(format!("{}: {o} became {n}", path.join("."))),
    }
}

fn check_contained(old: &Value, new: &Value, exempt: &dyn Fn(&[String]) -> bool) -> Result<(), String> {
    contained(old, new, exempt, &mut Vec::new())
}

/// What a policy does with an action: granted, not granted, or denied.
fn verdict(policy: &PolicyFile, action: &str) -> &'static str {
    match policy.grants(action) {
        Ok(Some(_)) => "granted",
        Ok(None) => "not granted",
        Err(_) => "denied",
    }
}

fn cases() -> u64 {
    std::env::var("CHALICE_IAM_FUZZ_CASES").map_or(1_500, |v| v.parse().expect("CHALICE_IAM_FUZZ_CASES is a number"))
}

/// Runs `property` on every case seed (or only `CHALICE_IAM_FUZZ_CASE`).
fn for_each_case(name: &str, property: impl Fn(u64) -> Result<(), String>) {
    let seeds: Vec<u64> = match std::env::var("CHALICE_IAM_FUZZ_CASE") {
        Ok(seed) => vec![seed.parse().expect("CHALICE_IAM_FUZZ_CASE is a case seed")],
        Err(_) => {
            // Another seed, another set of cases (for long campaigns).
            let base = std::env::var("CHALICE_IAM_FUZZ_SEED").map_or(0, |s| s.parse::<u64>().expect("CHALICE_IAM_FUZZ_SEED is a number"));
            (1..=cases()).map(|i| base.wrapping_mul(1_000_003).wrapping_add(i)).collect()
        }
    };
    let mut failures = Vec::new();
    for seed in seeds {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| property(seed)))
            .unwrap_or_else(|_| Err("panicked".into()));
        if let Err(e) = outcome {
            failures.push(format!("{name} case {seed} (replay with CHALICE_IAM_FUZZ_CASE={seed}): {e}"));
            if failures.len() == 5 {
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---- properties ---------------------------------------------------------

fn adding_actions(seed: u64) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let doc = policy(&mut rng);
    let text = to_text(&mut rng, &doc);
    let old = PolicyFile::parse(&text).map_err(|e| format!("generated policy does not parse: {} in {text:?}", e.message))?;
    let needed: Vec<&str> = (0..1 + rng.below(5)).map(|_| *rng.pick(ACTIONS)).collect();
    let out = old.with_actions_added(&needed);
    let context = || format!("\n--- before\n{text}\n--- after\n{out}\n--- needed {needed:?}");
    let after = loads(&out).map_err(|e| format!("not valid JSON: {e}{}", context()))?;
    serde_json::from_str::<Value>(&out).map_err(|e| format!("not strict JSON: {e}{}", context()))?;
    check_contained(&loads(&text)?, &after, &|_| false).map_err(|e| format!("{e}{}", context()))?;
    let new = PolicyFile::parse(&out).map_err(|e| e.message)?;
    for action in ACTIONS {
        let (before, now) = (verdict(&old, action), verdict(&new, action));
        let expected = if needed.contains(action) && before == "not granted" { "granted" } else { before };
        if now != expected {
            return Err(format!("{action} is {now} after the edit, expected {expected}{}", context()));
        }
    }
    Ok(())
}

#[test]
fn adding_actions_keeps_everything_and_grants_what_is_needed() {
    for_each_case("with_actions_added", adding_actions);
}

/// The role chalice gives every function in each of `stages`.
fn resolved(config: &ChaliceConfig, stages: &[&str]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for stage in stages {
        for function in FUNCTIONS {
            let role = match config.scope(stage, function, None) {
                Err(e) => format!("error {}", e.message),
                Ok(s) if !s.manages_role() => "pre-created".to_string(),
                Ok(s) if s.autogen_enabled() => "autogen".to_string(),
                Ok(s) => format!("file {:?}", s.policy_file(Path::new("/p")).map_err(|e| e.message)),
            };
            out.push((stage.to_string(), function.to_string(), role));
        }
    }
    out
}

fn config_edit(seed: u64) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let doc = config(&mut rng);
    let text = to_text(&mut rng, &doc);
    let stage = *rng.pick(STAGES);
    let setting = *rng.pick(&["policy-dev.json", "p.json", "日本.json"]);
    let root = Path::new("/project");
    let before = ChaliceConfig::from_text(root, None, text.clone()).map_err(|e| e.message)?;
    let on_autogen: Vec<&str> = FUNCTIONS
        .iter()
        .copied()
        .filter(|f| before.scope(stage, f, None).is_ok_and(|s| s.autogen_enabled() && s.manages_role()))
        .collect();
    let others: Vec<&str> = FUNCTIONS.iter().copied().filter(|f| !on_autogen.contains(f)).collect();
    let Some(edit) = config_edit_for_file_policy(&text, stage, setting, &on_autogen, &others) else {
        return Err(format!("no edit for a valid config:\n{text}"));
    };
    let out = json::apply(&text, std::slice::from_ref(&edit));
    let context = || format!("\n--- before (stage {stage}, functions {on_autogen:?})\n{text}\n--- after\n{out}");
    let after = loads(&out).map_err(|e| format!("not valid JSON: {e}{}", context()))?;
    // The stage's and its functions' autogen_policy and iam_policy_file
    // change; nothing else does.
    let exempt = |path: &[String]| {
        let key = path.last().map(String::as_str);
        let in_stage = path.len() >= 3 && path[0] == "stages" && path[1] == stage;
        in_stage && matches!(key, Some("autogen_policy" | "iam_policy_file")) && (path.len() == 3 || path.get(2).map(String::as_str) == Some("lambda_functions"))
    };
    check_contained(&loads(&text)?, &after, &exempt).map_err(|e| format!("{e}{}", context()))?;
    let config = ChaliceConfig::from_text(root, None, out.clone()).map_err(|e| format!("{}{}", e.message, context()))?;
    for function in &on_autogen {
        let s = config.scope(stage, function, None).map_err(|e| e.message)?;
        if s.autogen_enabled() || s.iam_policy_file.value.as_ref().and_then(|v| v.as_str()) != Some(setting) {
            return Err(format!("{function} in {stage} is not on {setting} afterwards{}", context()));
        }
    }
    let others: Vec<&str> = STAGES.iter().copied().filter(|s| *s != stage).collect();
    if resolved(&before, &others) != resolved(&config, &others) {
        return Err(format!("another stage's roles changed{}", context()));
    }
    let unchanged = |c: &ChaliceConfig| resolved(c, &[stage]).into_iter().filter(|r| !on_autogen.contains(&r.1.as_str())).collect::<Vec<_>>();
    if unchanged(&before) != unchanged(&config) {
        return Err(format!("a function that was not on autogen changed{}", context()));
    }
    Ok(())
}

#[test]
fn config_edit_keeps_everything_and_moves_the_stage_off_autogen() {
    for_each_case("config_edit_for_file_policy", config_edit);
}

fn autogen_fix(seed: u64) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = dir.path().to_path_buf();
    let config_text = to_text(&mut rng, &json!({"version": "2.0", "app_name": "x", "stages": {"dev": {}}}));
    // What autogen grants today: chalice's document shape (Sid-less
    // statements, lists of actions), random actions.
    let granted: Vec<&str> = (0..rng.below(4)).map(|_| *rng.pick(ACTIONS)).collect();
    let mut statements = vec![json!({"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:*:logs:*:*:*"})];
    if !granted.is_empty() {
        statements.insert(0, json!({"Effect": "Allow", "Action": granted, "Resource": ["*"]}));
    }
    let document = json!({"Version": "2012-10-17", "Statement": statements});
    // The file the fix writes: absent, or there (ignored while autogen is on).
    let existing = rng.chance(60).then(|| {
        let doc = policy(&mut rng);
        to_text(&mut rng, &doc)
    });
    let missing: Vec<String> = (0..1 + rng.below(3)).map(|_| rng.pick(ACTIONS).to_string()).collect();
    let policy_path = root.join(".chalice/policy-dev.json");
    let stage = StageView {
        name: "dev".into(),
        roles: vec![RoleGrant::Autogen { actions: Default::default(), captured: Default::default(), document: document.clone() }],
        functions: vec![FunctionView { name: API_HANDLER.into(), handlers: vec![], role: 0, event_source_actions: vec![], range: Default::default() }],
        config: Some((root.join(".chalice/config.json"), config_text.clone())),
        fix_policy_file: policy_path.clone(),
        fix_policy_text: existing.clone(),
        fix_policy_setting: "policy-dev.json".into(),
        root: root.clone(),
    };
    let needed: Vec<String> = crate::policy::file::PolicyFile::parse(&crate::policy::to_pretty(&document))
        .map(|p| p.statements.iter().flat_map(|s| s.patterns.iter().map(|p| p.text.clone())).collect())
        .map_err(|e| e.message)?;
    let needed: Vec<String> = needed.into_iter().chain(missing.iter().cloned()).collect();
    let existing_policy = existing.as_deref().map(PolicyFile::parse).transpose().map_err(|e| e.message)?;
    let denied = existing_policy.as_ref().is_some_and(|p| needed.iter().any(|a| p.grants(a).is_err()));
    let Some(fix) = turn_off_autogen_fix(&stage, &document, &missing) else {
        // Refusing is right only when the file there would take away what
        // the role has or needs.
        return if denied { Ok(()) } else { Err(format!("no fix (existing file {existing:?})")) };
    };
    if denied {
        return Err(format!("a fix although {existing:?} denies some of {needed:?}"));
    }
    let mut new_policy = None;
    for edit in fix.edits.iter() {
        match edit {
            FileEdit::Replace { path, range, new_text } if *path == policy_path => {
                let old = existing.as_deref().ok_or("a replace of a file that does not exist")?;
                let mut out = old.to_owned();
                out.replace_range(range.start..range.end, new_text);
                let after = loads(&out).map_err(|e| format!("policy not valid JSON: {e}\n{out}"))?;
                check_contained(&loads(old)?, &after, &|_| false).map_err(|e| format!("{e}\n--- before\n{old}\n--- after\n{out}"))?;
                new_policy = Some(out);
            }
            FileEdit::Create { path, text } if *path == policy_path => {
                if existing.is_some() {
                    return Err("creates a file that exists".into());
                }
                let after = loads(text).map_err(|e| format!("policy not valid JSON: {e}\n{text}"))?;
                check_contained(&document, &after, &|_| false).map_err(|e| format!("the autogen document is not kept: {e}\n{text}"))?;
                new_policy = Some(text.clone());
            }
            FileEdit::Replace { range, new_text, .. } => {
                let mut out = config_text.clone();
                out.replace_range(range.start..range.end, new_text);
                let config = ChaliceConfig::from_text(&root, None, out.clone()).map_err(|e| format!("{}\n{out}", e.message))?;
                let s = config.scope("dev", API_HANDLER, None).map_err(|e| e.message)?;
                if s.autogen_enabled() || s.policy_file(&root).ok() != Some(policy_path.clone()) {
                    return Err(format!("config.json does not move dev to the policy file:\n{out}"));
                }
            }
            other => return Err(format!("unexpected edit {other:?}")),
        }
    }
    let new_policy = PolicyFile::parse(&new_policy.ok_or("the policy file is not written")?).map_err(|e| e.message)?;
    for action in &needed {
        if verdict(&new_policy, action) != "granted" {
            return Err(format!("{action} is {} after the fix:\n{}", verdict(&new_policy, action), new_policy.text));
        }
    }
    Ok(())
}

#[test]
fn turning_autogen_off_keeps_the_role_and_grants_what_is_missing() {
    for_each_case("turn_off_autogen_fix", autogen_fix);
}

#[test]
fn containment_is_strict_enough_to_fail() {
    let never = |_: &[String]| false;
    let old = json!({"Statement": [{"Action": "s3:GetObject", "Sid": "a"}, {"Action": ["b", "c"]}]});
    assert!(check_contained(&old, &json!({"Statement": [{"Action": ["s3:GetObject", "x"], "Sid": "a"}, {"Action": ["b", "y", "c"]}, {}]}), &never).is_ok());
    assert!(check_contained(&old, &json!({"Statement": [{"Action": ["s3:GetObject"]}, {"Action": ["b", "c"]}]}), &never).is_err(), "Sid dropped");
    assert!(check_contained(&old, &json!({"Statement": [{"Action": "s3:GetObject", "Sid": "a"}, {"Action": ["c", "b"]}]}), &never).is_err(), "reordered");
    assert!(check_contained(&old, &json!({"Statement": [{"Action": "s3:GetObject", "Sid": "b"}, {"Action": ["b", "c"]}]}), &never).is_err(), "changed");
    assert!(check_contained(&json!({"a": {"b": 1}}), &json!({"a": {"b": 2}}), &|p: &[String]| p == ["a", "b"]).is_ok());
}
