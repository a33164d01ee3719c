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

/// CIAM020 (a KMS key the table may use) is off by default and turned on
/// with --severity, like the editor setting; it never fails the check nor
/// enters the policy. Bad --severity values are usage errors.
#[test]
fn severity_option_turns_on_may_also_need() {
    let app = examples().join("thread-client");
    let out = run(&["check", "--format", "json", "--severity", "CIAM020=information"], &app);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(codes_and_lines(&out), [("CIAM020".to_string(), 13), ("CIAM020".to_string(), 23)]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["severity"], "info");
    assert_eq!(v[0]["message"], "dynamodb:Scan may also need kms:Decrypt if the table is encrypted with a customer managed KMS key");
    let out = run(&["check", "--format", "json", "--severity", "may-also-need=warning"], &app);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["policy"], &app);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("kms:"));
    for bad in ["CIAM999=info", "CIAM020", "CIAM020=loud"] {
        let out = run(&["check", "--severity", bad], &app);
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
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

const ROUTE_APP: &str = "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='x')\n\n@app.route('/')\ndef index():\n    return boto3.resource('dynamodb').Table('t').scan()\n";

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Every path a fix in `check --format json` output edits or creates.
fn fix_paths(out: &Output) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut paths = Vec::new();
    for d in v.as_array().unwrap() {
        for f in d["fixes"].as_array().into_iter().flatten() {
            for e in f["edits"].as_array().unwrap() {
                paths.push(e["path"].as_str().unwrap().to_string());
            }
        }
    }
    paths
}

/// A policy file outside the project, by `..` or through a symbolic link,
/// is checked and reported, and neither `check`'s fixes nor `fix` touch it.
#[test]
fn policy_files_outside_the_project_are_never_edited() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let outside = r#"{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:NoSuch"], "Resource": "*"}]}"#;
    write(&base, "shared/outside.json", outside);
    let root = base.join("proj");
    write(&root, "app.py", ROUTE_APP);
    // dev: autogen off with the file outside; prod: autogen on, the ignored
    // file outside (its fix would turn autogen off and extend that file);
    // test: through a link inside .chalice.
    write(
        &root,
        ".chalice/config.json",
        r#"{"version": "2.0", "app_name": "x", "stages": {
            "dev": {"autogen_policy": false, "iam_policy_file": "../../shared/outside.json"},
            "prod": {"iam_policy_file": "../../shared/outside.json"},
            "test": {"autogen_policy": false, "iam_policy_file": "linked.json"}}}"#,
    );
    std::os::unix::fs::symlink(base.join("shared/outside.json"), root.join(".chalice/linked.json")).unwrap();

    let out = run(&["check", "--format", "json"], &root);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("the policy file is outside the project; chalice-iam checks it but never edits it"), "{text}");
    assert!(text.contains("CIAM007") && text.contains("CIAM008"), "{text}");
    let paths = fix_paths(&out);
    assert!(paths.iter().all(|p| !p.contains("outside") && !p.contains("linked")), "{paths:?}");

    let out = run(&["fix"], &root);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(base.join("shared/outside.json")).unwrap(), outside);
    assert!(std::fs::symlink_metadata(root.join(".chalice/linked.json")).unwrap().file_type().is_symlink());
    let names: Vec<_> = std::fs::read_dir(&base).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(names.len(), 2, "nothing new beside the project: {names:?}");
}

/// A function's own `autogen_policy` in the stage wins over the stage's:
/// the fix changes it too, so that after it the check is clean.
#[test]
fn fix_covers_a_function_level_autogen_setting() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "app.py", ROUTE_APP);
    let config = r#"{"version": "2.0", "app_name": "x", "stages": {"dev": {"lambda_functions": {"api_handler": {"autogen_policy": true, "memory_size": 256}}}}}"#;
    write(root, ".chalice/config.json", config);
    let out = run(&["fix"], root);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join(".chalice/config.json")).unwrap()).unwrap();
    assert_eq!(after["stages"]["dev"]["lambda_functions"]["api_handler"]["autogen_policy"], false);
    assert_eq!(after["stages"]["dev"]["lambda_functions"]["api_handler"]["memory_size"], 256);
    let out = run(&["check", "--format", "json"], root);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}
