//! `chalice-iam policy` as a user runs it: exit codes, stdout, stderr.

use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_chalice-iam")).args(args).output().expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn project(dir: &Path, app: &str, config: Option<&str>) {
    std::fs::write(dir.join("app.py"), app).unwrap();
    if let Some(c) = config {
        std::fs::create_dir_all(dir.join(".chalice")).unwrap();
        std::fs::write(dir.join(".chalice/config.json"), c).unwrap();
    }
}

const APP: &str = "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='t')\n@app.route('/')\ndef index():\n    return boto3.client('dynamodb').scan(TableName='t')\n";

#[test]
fn prints_the_autogen_document_for_a_project() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), APP, Some(r#"{"app_name": "t"}"#));
    let r = run(&["policy", "--autogen", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["Statement"][0]["Action"], serde_json::json!(["dynamodb:Scan"]));
    assert_eq!(doc["Statement"][1]["Resource"], "arn:*:logs:*:*:*");
    assert!(doc["Statement"][0].get("Sid").is_none());
}

#[test]
fn chalice_crash_exits_2_naming_construct_and_location() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snippet.py");
    std::fs::write(&file, "import boto3 as b\nfrom chalice import Chalice\napp = Chalice(app_name='t')\n").unwrap();
    let r = run(&["policy", "--autogen", file.to_str().unwrap(), "--python-version", "3.11"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("KeyError: 'boto3'"), "{}", r.stderr);
    assert!(r.stderr.contains("import boto3 as b"), "{}", r.stderr);
    assert!(r.stderr.contains("snippet.py:1:1"), "{}", r.stderr);
}

#[test]
fn config_errors_point_into_config_json() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), APP, Some("{\n  \"app_name\": \"t\",\n}"));
    let r = run(&["policy", "--autogen", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("config.json:3:1"), "{}", r.stderr);

    let missing = tempfile::tempdir().unwrap();
    project(missing.path(), APP, None);
    let r = run(&["policy", "--autogen", missing.path().to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("Are you sure this is a chalice project?"), "{}", r.stderr);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let r = run(&["policy", "--autogen", "/nonexistent/chalice-iam-test"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
    let r = run(&["policy", "--autogen", ".", "--python-version", "three"]);
    assert_eq!(r.code, 2);
    let r = run(&["policy", "/nonexistent/chalice-iam-test"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no such file or directory"), "{}", r.stderr);
    let r = run(&["policy", "--function", "nope", &format!("{}/../examples/thread-resource", env!("CARGO_MANIFEST_DIR"))]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no Lambda function named 'nope' (functions: api_handler)"), "{}", r.stderr);
}

#[test]
fn function_roles_file_based_and_precreated() {
    let dir = tempfile::tempdir().unwrap();
    project(
        dir.path(),
        APP,
        Some(r#"{"app_name": "t", "stages": {"dev": {"autogen_policy": false}, "pre": {"manage_iam_role": false, "iam_role_arn": "arn:aws:iam::1:role/r"}}}"#),
    );
    std::fs::write(dir.path().join(".chalice/policy-dev.json"), r#"{"Version": "2012-10-17", "Statement": []}"#).unwrap();
    let path = dir.path().to_str().unwrap();
    let r = run(&["policy", "--autogen", path, "--function", "api_handler"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()["Statement"], serde_json::json!([]));

    let r = run(&["policy", "--autogen", path, "--stage", "pre", "--function", "api_handler"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("pre-created role arn:aws:iam::1:role/r"), "{}", r.stderr);

    let r = run(&["policy", "--autogen", path, "--function", "nope"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no Lambda function named 'nope'"), "{}", r.stderr);
}
