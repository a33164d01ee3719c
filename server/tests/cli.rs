//! The binary end to end on the example apps: `check`, `policy`, `fix`,
//! output formats and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chalice-iam"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn run(args: &[&str], path: &Path) -> Output {
    bin().args(args).arg(path).output().unwrap()
}

/// A copy of an example in a temp dir, so tests can edit it.
fn copy_example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&examples().join(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn codes_and_lines(out: &Output) -> Vec<(String, u64)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_string(), d["range"]["start"]["line"].as_u64().unwrap()))
        .collect()
}

#[test]
fn policy_lists_query_and_scan_for_both_blog_apps() {
    for app in ["thread-client", "thread-resource"] {
        let out = run(&["policy"], &examples().join(app));
        assert!(out.status.success(), "{app}: {}", String::from_utf8_lossy(&out.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["Version"], "2012-10-17");
        assert_eq!(doc["Statement"][0]["Action"], serde_json::json!(["dynamodb:Query", "dynamodb:Scan"]), "{app}");
        assert_eq!(doc["Statement"][0]["Resource"], serde_json::json!(["*"]));
        assert_eq!(doc["Statement"][1]["Action"][0], "logs:CreateLogGroup");
    }
}

#[test]
fn resource_app_has_two_warnings_and_client_app_none() {
    let out = run(&["check", "--format", "json"], &examples().join("thread-resource"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(codes_and_lines(&out), [("CIAM001".to_string(), 14), ("CIAM001".to_string(), 25)]);
    let out = run(&["check", "--format", "json"], &examples().join("thread-client"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(codes_and_lines(&out), []);
}

#[test]
fn custom_policy_file_silences_and_a_removed_action_warns_once() {
    let out = run(&["check", "--format", "json"], &examples().join("thread-resource-fixed"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let dir = copy_example("thread-resource-fixed");
    let policy = dir.path().join(".chalice/custom-policy.json");
    let text = std::fs::read_to_string(&policy).unwrap().replace("\"dynamodb:Query\",\n", "");
    std::fs::write(&policy, text).unwrap();
    let out = run(&["check", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(codes_and_lines(&out), [("CIAM007".to_string(), 25)]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v[0]["message"].as_str().unwrap().starts_with("dynamodb:Query is needed here"));
}

#[test]
fn fix_turns_autogen_off_keeps_config_and_then_check_is_clean() {
    let dir = copy_example("thread-resource");
    let config = dir.path().join(".chalice/config.json");
    let before = std::fs::read_to_string(&config).unwrap();
    let out = run(&["fix"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = std::fs::read_to_string(&config).unwrap();
    // Everything the user had is still there, in place.
    for line in before.lines().filter(|l| !l.trim().is_empty()) {
        assert!(after.contains(line.trim_end_matches(',')), "lost {line:?} from config.json:\n{after}");
    }
    let cfg: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(cfg["stages"]["dev"]["autogen_policy"], false);
    assert_eq!(cfg["stages"]["dev"]["iam_policy_file"], "policy-dev.json");
    let policy: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join(".chalice/policy-dev.json")).unwrap()).unwrap();
    let actions: Vec<&str> = policy["Statement"].as_array().unwrap().iter().flat_map(|s| s["Action"].as_array().unwrap()).map(|a| a.as_str().unwrap()).collect();
    for a in ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "dynamodb:Query", "dynamodb:Scan"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let out = run(&["check", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    // A second fix has nothing to do.
    let out = run(&["fix"], dir.path());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Nothing to fix.");
}

#[test]
fn output_formats_and_exit_codes() {
    let app = examples().join("thread-resource");
    let text = String::from_utf8(run(&["check"], &app).stdout).unwrap();
    assert!(text.contains("warning[CIAM001]: dynamodb:Scan is needed here"), "{text}");
    assert!(text.contains("--> "), "{text}");
    assert!(text.contains("^^^^"), "{text}");
    let gh = String::from_utf8(run(&["check", "--format", "github"], &app).stdout).unwrap();
    assert!(gh.starts_with("::warning file="), "{gh}");
    assert!(gh.contains("line=14,col=13"), "{gh}");
    let sarif: serde_json::Value = serde_json::from_slice(&run(&["check", "--format", "sarif"], &app).stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
    // Usage and I/O errors exit 2 with a message on stderr.
    let out = run(&["check"], Path::new("/no/such/project"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file or directory"));
    let out = bin().args(["check", "--format", "yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin().args(["policy", "--python-version", "banana"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
