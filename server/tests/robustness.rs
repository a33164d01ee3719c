//! The malformed-input matrix for the command line: Python sources that are
//! binary, not UTF-8, nested 10,000 deep or 10 MB large; a chalicelib with
//! symbolic link loops, a FIFO, a dangling link and a file nobody may read;
//! config and policy files that are FIFOs. Each case must end with a clear
//! diagnostic or error, in bounded time, and not stop the rest of the
//! project from being checked. (docs/robustness.md lists every case.)

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chalice-iam"))
}

/// Runs `chalice-iam args... path`, killing it after `limit`: a hang is a
/// failure, not a stuck test run.
fn run_within(args: &[&str], path: &Path, limit: Duration) -> Output {
    let mut child = bin().args(args).arg(path).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!("chalice-iam {args:?} {} still running after {limit:?}; stderr: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn check_json(path: &Path) -> (Option<i32>, serde_json::Value) {
    let out = run_within(&["check", "--format", "json"], path, Duration::from_secs(60));
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: exit {:?}, stderr {}", out.status, String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), json)
}

/// `(file, code, message)` of every diagnostic.
fn findings(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["path"].as_str().unwrap().to_owned(), d["code"].as_str().unwrap().to_owned(), d["message"].as_str().unwrap().to_owned()))
        .collect()
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

const APP: &str = "import boto3\nfrom chalice import Chalice\nfrom chalicelib import good\n\napp = Chalice(app_name='demo')\n\n\n@app.route('/')\ndef index():\n    return good.scan()\n";
const GOOD: &str = "import boto3\n\ndef scan():\n    return boto3.resource('dynamodb').Table('t').scan()\n";
const CONFIG: &str = r#"{"version": "2.0", "app_name": "demo", "stages": {"dev": {}}}"#;

/// A project whose chalicelib/good.py needs dynamodb:Scan, which chalice's
/// autogen does not grant: the finding that must survive every bad neighbour.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.py", APP.as_bytes());
    write(dir.path(), "chalicelib/__init__.py", b"");
    write(dir.path(), "chalicelib/good.py", GOOD.as_bytes());
    write(dir.path(), ".chalice/config.json", CONFIG.as_bytes());
    dir
}

fn assert_good_still_checked(found: &[(String, String, String)]) {
    assert!(
        found.iter().any(|(p, c, m)| p.ends_with("chalicelib/good.py") && c == "CIAM002" && m.starts_with("dynamodb:Scan")),
        "the healthy module is no longer checked: {found:#?}"
    );
}

/// Deterministic noise: every byte value, NULs included.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn binary_and_non_utf8_sources_are_reported_and_the_rest_is_checked() {
    let dir = project();
    write(dir.path(), "chalicelib/blob.py", &noise(200_000));
    write(dir.path(), "chalicelib/latin1.py", b"# caf\xe9\nimport boto3\nboto3.client('sqs').send_message(QueueUrl='q', MessageBody='m')\n");
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1));
    let found = findings(&report);
    assert!(found.iter().any(|(p, c, m)| p.ends_with("blob.py") && c == "CIAM017" && m.contains("binary")), "{found:#?}");
    assert!(found.iter().any(|(p, c, m)| p.ends_with("latin1.py") && c == "CIAM017" && m.contains("not valid UTF-8")), "{found:#?}");
    // The Latin-1 file is still analysed as far as it decodes.
    assert!(found.iter().any(|(p, c, m)| p.ends_with("latin1.py") && c == "CIAM002" && m.starts_with("sqs:SendMessage")), "{found:#?}");
    assert_good_still_checked(&found);

    // app.py itself binary: reported; chalice could not import it either.
    write(dir.path(), "app.py", &noise(50_000));
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1));
    assert!(findings(&report).iter().any(|(p, c, _)| p.ends_with("app.py") && c == "CIAM017"), "{report:#}");
}

#[test]
fn ten_thousand_nested_parentheses_do_not_overflow_the_stack() {
    let dir = project();
    let deep = format!("import boto3\nx = {}boto3.client('s3').list_buckets(){}\n", "(".repeat(10_000), ")".repeat(10_000));
    write(dir.path(), "chalicelib/deep.py", deep.as_bytes());
    let app = format!("{APP}\ny = {}1{}\n", "[".repeat(10_000), "]".repeat(10_000));
    write(dir.path(), "app.py", app.as_bytes());
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1), "{report:#}");
    let found = findings(&report);
    // Python's parser gives up on such nesting, so chalice cannot import
    // app.py: an error, and the rest is still checked.
    assert!(
        found.iter().any(|(p, c, m)| p.ends_with("app.py") && c == "CIAM016" && m.contains("cannot be imported")),
        "{found:#?}"
    );
    let import_error = report.as_array().unwrap().iter().find(|d| d["code"] == "CIAM016").unwrap();
    assert_eq!(import_error["severity"], "error");
    assert_good_still_checked(&found);
    // Unclosed, too: syntax errors, not a crash.
    write(dir.path(), "chalicelib/deep.py", "(".repeat(10_000).as_bytes());
    let (_, report) = check_json(dir.path());
    assert!(findings(&report).iter().any(|(p, c, _)| p.ends_with("deep.py") && c == "CIAM016"), "{report:#}");
}

#[test]
fn symbolic_link_loops_in_chalicelib_end() {
    let dir = project();
    let lib = dir.path().join("chalicelib");
    std::os::unix::fs::symlink(".", lib.join("loop")).unwrap();
    std::os::unix::fs::symlink("..", lib.join("up")).unwrap();
    std::os::unix::fs::symlink("b.py", lib.join("a.py")).unwrap();
    std::os::unix::fs::symlink("a.py", lib.join("b.py")).unwrap();
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1));
    let found = findings(&report);
    for name in ["a.py", "b.py"] {
        assert!(found.iter().any(|(p, c, m)| p.ends_with(name) && c == "CIAM017" && m.contains("could not be read")), "{found:#?}");
    }
    assert_good_still_checked(&found);
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

/// Special files where sources or settings are expected: reading a FIFO
/// would wait for a writer forever, a device could be endless. They are
/// reported, not read.
#[test]
fn fifos_and_devices_are_reported_not_read() {
    let dir = project();
    let lib = dir.path().join("chalicelib");
    mkfifo(&lib.join("pipe.py"));
    mkfifo(&dir.path().join("elsewhere.fifo"));
    std::os::unix::fs::symlink(dir.path().join("elsewhere.fifo"), lib.join("linked_pipe.py")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", lib.join("zero.py")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("missing.py"), lib.join("dangling.py")).unwrap();
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1));
    let found = findings(&report);
    for name in ["pipe.py", "linked_pipe.py", "zero.py", "dangling.py"] {
        assert!(found.iter().any(|(p, c, m)| p.ends_with(name) && c == "CIAM017" && m.contains("could not be read")), "{name}: {found:#?}");
    }
    assert_good_still_checked(&found);

    // config.json and the policy file as FIFOs.
    let config = dir.path().join(".chalice/config.json");
    std::fs::remove_file(&config).unwrap();
    mkfifo(&config);
    let out = run_within(&["check"], dir.path(), Duration::from_secs(60));
    assert_ne!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    std::fs::remove_file(&config).unwrap();
    write(dir.path(), ".chalice/config.json", br#"{"version": "2.0", "app_name": "demo", "stages": {"dev": {"autogen_policy": false}}}"#);
    mkfifo(&dir.path().join(".chalice/policy-dev.json"));
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1));
    assert!(findings(&report).iter().any(|(_, c, m)| c == "CIAM011" && m.contains("policy-dev.json")), "{report:#}");
    let out = run_within(&["policy", "--autogen"], dir.path(), Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A file the user running chalice-iam may not read. Tests run as root in
/// CI, where permissions do not stop reading, so as root the command runs
/// as the unprivileged `nobody` (uid 65534) instead.
#[test]
fn an_unreadable_file_is_reported_and_the_rest_is_checked() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::Builder::new().prefix("chalice-iam-perm").tempdir().unwrap();
    let root = dir.path().join("proj");
    write(&root, "app.py", APP.as_bytes());
    write(&root, "chalicelib/__init__.py", b"");
    write(&root, "chalicelib/good.py", GOOD.as_bytes());
    write(&root, "chalicelib/secret.py", b"import boto3\n");
    write(&root, ".chalice/config.json", CONFIG.as_bytes());
    let open = std::fs::Permissions::from_mode(0o755);
    for d in [dir.path(), &root, &root.join("chalicelib"), &root.join(".chalice")] {
        std::fs::set_permissions(d, open.clone()).unwrap();
    }
    for f in ["app.py", "chalicelib/__init__.py", "chalicelib/good.py", ".chalice/config.json"] {
        std::fs::set_permissions(root.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::set_permissions(root.join("chalicelib/secret.py"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut command = bin();
    command.args(["check", "--format", "json"]).arg(&root);
    if unsafe { libc::geteuid() } == 0 {
        command.uid(65534).gid(65534);
    }
    let out = command.output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let found = findings(&report);
    assert!(
        found.iter().any(|(p, c, m)| p.ends_with("secret.py") && c == "CIAM017" && m.contains("ermission denied")),
        "{found:#?}"
    );
    assert_good_still_checked(&found);
}

/// CPU time of this process's finished children so far (every thread), in
/// seconds.
fn children_cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    let usage = unsafe { usage.assume_init() };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// A benchmark that prints its figures: the wall and CPU time of
/// `chalice-iam check`, the command a user runs, on a generated app.py of
/// 10 MB in a release build (1 MB in a debug one): route handlers that each
/// read a DynamoDB table through the resource API and an S3 object through
/// a client. The bound asserted is generous on purpose, for a loaded shared
/// machine; the figure is what to look at.
#[test]
fn a_ten_megabyte_app_is_analysed() {
    let target = if cfg!(debug_assertions) { 1_000_000 } else { 10_000_000 };
    let mut app = String::from("import boto3\nfrom chalice import Chalice\n\napp = Chalice(app_name='big')\ns3 = boto3.client('s3')\n\n");
    let mut handlers = 0;
    while app.len() < target {
        app.push_str(&format!(
            "@app.route('/items/{handlers}')\ndef handler_{handlers}():\n    table = boto3.resource('dynamodb').Table('t{handlers}')\n    s3.get_object(Bucket='b', Key='k{handlers}')\n    return table.scan()['Items']\n\n\n"
        ));
        handlers += 1;
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.py", app.as_bytes());
    write(dir.path(), ".chalice/config.json", CONFIG.as_bytes());
    // Three runs, as a benchmark reports them: a shared machine's speed
    // varies from one moment to the next, and the median shows the usual.
    let mut runs: Vec<(f64, f64)> = Vec::new();
    let mut out = None;
    for _ in 0..3 {
        let (started, cpu) = (Instant::now(), children_cpu_seconds());
        out = Some(bin().arg("check").arg(dir.path()).output().unwrap());
        runs.push((started.elapsed().as_secs_f64(), children_cpu_seconds() - cpu));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (wall, cpu) = runs[1];
    println!(
        "{:.1} MB app.py, {handlers} handlers: `chalice-iam check` in {wall:.2}s wall (median of 3; min {:.2}s, max {:.2}s), {cpu:.2}s CPU, {} cores",
        app.len() as f64 / 1e6,
        runs[0].0,
        runs[2].0,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let out = out.expect("three runs");
    // The default text format, as a user reads it: one headline a finding.
    let scans = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with("warning[CIAM001]: dynamodb:Scan ")).count();
    assert_eq!(scans, handlers, "one finding per handler");
    assert!(wall < 120.0, "{wall:.1}s");
}
