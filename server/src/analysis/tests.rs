//! Data-driven tests: one fixture (files separated by `#- path` lines) →
//! the rendered facts.

use expect_test::{expect, Expect};

use super::*;

/// Splits a fixture into `(path, text)` files; text before the first
/// marker is `app.py`.
pub(crate) fn split_fixture(fixture: &str) -> Vec<(String, String)> {
    let mut files = sections(fixture, Some("app.py"));
    files.retain(|(p, t)| !(p == "app.py" && t.trim().is_empty()) || files_len_one(fixture));
    files
}

/// The `.py` sections of a fixture file of `tests/fixtures/` (`#- path.py`
/// headers; the oracle's `setup`, `run` and `expect` sections and the JSON
/// files are left out).
pub(crate) fn fixture_python_files(text: &str) -> Vec<(String, String)> {
    let mut files = sections(text, None);
    files.retain(|(name, _)| name.ends_with(".py"));
    files
}

/// The `#- name` sections of a fixture, in order; the text before the
/// first header is the section `first`, or is left out.
fn sections(text: &str, first: Option<&str>) -> Vec<(String, String)> {
    let mut sections: Vec<(String, String)> = first.map(|name| (name.to_string(), String::new())).into_iter().collect();
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("#- ") {
            sections.push((name.trim().to_string(), String::new()));
        } else if let Some(last) = sections.last_mut() {
            last.1.push_str(line);
        }
    }
    sections
}

fn files_len_one(fixture: &str) -> bool {
    !fixture.contains("\n#- ") && !fixture.starts_with("#- ")
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map(|p| offset - p - 1).unwrap_or(offset) + 1;
    (line, col)
}

pub(crate) fn render(fixture: &str) -> String {
    let files = split_fixture(fixture);
    let irs: Vec<ModuleIr> = files.iter().map(|(_, t)| lower_text(t)).collect();
    let texts: Vec<std::sync::Arc<str>> = files.iter().map(|(_, t)| std::sync::Arc::from(t.as_str())).collect();
    let inputs: Vec<ModuleInput> =
        files.iter().zip(&irs).zip(&texts).map(|(((p, _), ir), text)| ModuleInput { rel_path: p, ir, text }).collect();
    let result = analyze(&inputs);
    let mut out = String::new();
    for ((path, text), facts) in files.iter().zip(&result.files) {
        for c in &facts.calls {
            let (l, col) = line_col(text, c.range.start);
            let mut ops = c.operations.join(",");
            if !c.conditional_operations.is_empty() {
                if !ops.is_empty() {
                    ops.push(' ');
                }
                ops.push_str(&format!("?{}", c.conditional_operations.join(",")));
            }
            out.push_str(&format!(
                "{path}:{l}:{col} {} {ops} -> {}{}\n",
                c.service,
                c.actions.join(","),
                c.function.as_ref().map(|f| format!(" in {f}")).unwrap_or_default()
            ));
        }
        for u in &facts.unresolved {
            let (l, col) = line_col(text, u.range.start);
            out.push_str(&format!("{path}:{l}:{col} unresolved: {}\n", u.reason));
        }
    }
    out
}

fn check(fixture: &str, expect: Expect) {
    expect.assert_eq(&render(fixture));
}

#[test]
fn client_app_from_the_problem_statement() {
    check(
        r#"
from chalice import Chalice, Response
import boto3

app = Chalice(app_name='chalice-sample')
dynamo_client = boto3.client('dynamodb')
TABLE_NAME = 'Thread'

@app.route('/threads', methods=['GET'])
def get_threads():
    items = dynamo_client.scan(TableName=TABLE_NAME)
    return Response(body=items['Items'])

@app.route('/threads/{forum_name_url}', methods=['GET'])
def get_forum_threads(forum_name_url):
    items = dynamo_client.query(TableName=TABLE_NAME, KeyConditions={})
    return Response(body=items['Items'])
"#,
        expect![[r#"
            app.py:11:13 dynamodb Scan -> dynamodb:Scan in get_threads
            app.py:16:13 dynamodb Query -> dynamodb:Query in get_forum_threads
        "#]],
    );
}

#[test]
fn resource_app_from_the_problem_statement() {
    check(
        r#"
import boto3
dynamo_resource = boto3.resource('dynamodb')
TABLE_NAME = 'Thread'

def get_threads():
    # テーブル全体を取得
    items = dynamo_resource.Table(TABLE_NAME).scan()

def get_forum_threads(forum_name_url):
    items = dynamo_resource.Table(TABLE_NAME).query(KeyConditions={})
"#,
        expect![[r#"
            app.py:8:13 dynamodb Scan -> dynamodb:Scan in get_threads
            app.py:11:13 dynamodb Query -> dynamodb:Query in get_forum_threads
        "#]],
    );
}

#[test]
fn imports_sessions_and_keywords() {
    check(
        r#"
import boto3 as b
from boto3 import client, resource, Session
import boto3.session
s1 = b.client('s3')
s1.list_buckets()
client(service_name='sqs').send_message(QueueUrl='q', MessageBody='x')
resource('sns').Topic('arn').publish(Message='m')
Session().client('ssm').get_parameter(Name='p')
boto3.session.Session().resource('dynamodb').Table('t').get_item(Key={})
"#,
        expect![[r#"
            app.py:6:1 s3 ListBuckets -> s3:ListAllMyBuckets
            app.py:7:1 sqs SendMessage -> sqs:SendMessage
            app.py:8:1 sns Publish -> sns:Publish
            app.py:9:1 ssm GetParameter -> ssm:GetParameter
            app.py:10:1 dynamodb GetItem -> dynamodb:GetItem
        "#]],
    );
}

#[test]
fn chalicelib_modules_and_classes() {
    check(
        r#"
from chalicelib.db import table
from chalicelib import aws
from chalicelib.repo import Repo

def handler():
    table.put_item(Item={})
    aws.s3.get_object(Bucket='b', Key='k')
    Repo().save()
#- chalicelib/__init__.py
#- chalicelib/db.py
import boto3
table = boto3.resource('dynamodb').Table('T')
#- chalicelib/aws.py
import boto3
s3 = boto3.client('s3')
#- chalicelib/repo.py
import boto3
class Repo:
    def __init__(self):
        self.q = boto3.client('sqs')
    def save(self):
        self.q.send_message_batch(QueueUrl='u', Entries=[])
"#,
        expect![[r#"
            app.py:7:5 dynamodb PutItem -> dynamodb:PutItem in handler
            app.py:8:5 s3 GetObject -> s3:GetObject in handler
            chalicelib/repo.py:6:9 sqs SendMessageBatch -> sqs:SendMessage in Repo.save
        "#]],
    );
}

#[test]
fn collections_loads_waiters_and_injected_methods() {
    check(
        r#"
import boto3
s3 = boto3.resource('s3')
bucket = s3.Bucket('b')
for obj in bucket.objects.filter(Prefix='x'):
    obj.get()
    obj.Bucket().load()
bucket.objects.all().delete()
t = boto3.resource('dynamodb').Table('T')
print(t.item_count, t.name)
with t.batch_writer() as w:
    w.put_item(Item={})
t.wait_until_exists()
c = boto3.client('s3')
c.upload_file('f', 'b', 'k')
pages = list(c.get_paginator('list_objects_v2').paginate(Bucket='b'))
c.get_waiter('object_exists').wait(Bucket='b', Key='k')
c.generate_presigned_url('get_object', Params={})
[o.key for o in bucket.objects.all()]
"#,
        expect![[r#"
            app.py:5:12 s3 ListObjects -> s3:ListBucket
            app.py:6:5 s3 GetObject -> s3:GetObject
            app.py:7:5 s3 ListBuckets -> s3:ListAllMyBuckets
            app.py:8:1 s3 ListObjects,DeleteObjects -> s3:DeleteObject,s3:ListBucket
            app.py:10:7 dynamodb DescribeTable -> dynamodb:DescribeTable
            app.py:11:6 dynamodb BatchWriteItem -> dynamodb:BatchWriteItem
            app.py:13:1 dynamodb DescribeTable -> dynamodb:DescribeTable
            app.py:15:1 s3 ?PutObject,CreateMultipartUpload,UploadPart,CompleteMultipartUpload,AbortMultipartUpload -> s3:AbortMultipartUpload,s3:PutObject
            app.py:16:14 s3 ListObjectsV2 -> s3:ListBucket
            app.py:17:1 s3 HeadObject -> s3:GetObject
            app.py:18:1 s3 GetObject -> s3:GetObject
            app.py:19:17 s3 ListObjects -> s3:ListBucket
        "#]],
    );
}

#[test]
fn values_through_functions_globals_and_unpacking() {
    check(
        r#"
import boto3
_client = None

def get_client():
    global _client
    if _client is None:
        _client = boto3.client('secretsmanager')
    return _client

def use(c, *, table=None):
    c.get_secret_value(SecretId='s')
    table.scan()

def main():
    use(get_client(), table=boto3.resource('dynamodb').Table('x'))
    s3, sqs = boto3.client('s3'), boto3.client('sqs')
    sqs.receive_message(QueueUrl='q')
    s: "S3Client" = boto3.client('lambda')
    s.invoke(FunctionName='f')
    _client.describe_secret(SecretId='s')
"#,
        expect![[r#"
            app.py:12:5 secretsmanager GetSecretValue -> secretsmanager:GetSecretValue in use
            app.py:13:5 dynamodb Scan -> dynamodb:Scan in use
            app.py:18:5 sqs ReceiveMessage -> sqs:ReceiveMessage in main
            app.py:20:5 lambda Invoke -> lambda:InvokeFunction in main
            app.py:21:5 secretsmanager DescribeSecret -> secretsmanager:DescribeSecret in main
        "#]],
    );
}

#[test]
fn unresolved_calls_are_recorded_not_guessed() {
    check(
        r#"
import os, boto3
c = boto3.client(os.environ['SVC'])
c.do_it()
s3 = boto3.client('s3')
s3.no_such_method()
clients = {'s3': s3}
clients['s3'].list_buckets()
boto3.client('dynamo')
"#,
        expect![[r#"
            app.py:3:5 unresolved: creates a client whose service name is not a string constant
            app.py:4:1 unresolved: calls a boto3 value held in a client of an unknown service, which is not tracked
            app.py:6:1 unresolved: the s3 client has no method 'no_such_method'
            app.py:8:1 unresolved: calls a boto3 value held in a subscript, which is not tracked
            app.py:9:1 unresolved: creates a client for 'dynamo', which is not a boto3 service
        "#]],
    );
}

#[test]
fn a_syntax_error_in_one_function_does_not_stop_the_rest() {
    check(
        r#"
import boto3
ddb = boto3.client('dynamodb')

def broken(:
    ddb.scan(TableName='t'

def fine():
    ddb.query(TableName='t')

class Half:
    def m(self)
        ddb.get_item(TableName='t', Key={})

def last():
    boto3.resource('s3').Bucket('b').objects.all().delete()
"#,
        expect![[r#"
            app.py:9:5 dynamodb Query -> dynamodb:Query in fine
            app.py:13:9 dynamodb GetItem -> dynamodb:GetItem
            app.py:16:5 s3 ListObjects,DeleteObjects -> s3:DeleteObject,s3:ListBucket in last
        "#]],
    );
}

/// tree-sitter's recovery can leave a bare call among the pieces of a
/// broken region (here, after a string and a bracket left open): it is read
/// as the expression statement it would be, not as its callee and
/// arguments apart (found by the protocol fuzzer).
#[test]
fn a_call_left_bare_by_error_recovery_is_still_a_call() {
    check(
        r#"
import boto3
from chalice import Chalice

app''' =😀 Chalice(app_name='links')
s3 = boto3.resource('s3')
('''
@app.route(('/xform')
def form():
    return s3.meta.cliboto3.client('s3').list_buckets()

ent.g(enerate_presigned_post(
 Fields={'acl': 'private'},
        Conditions=[{'acl': 'private'content-length-range', 0, 1048576]],
    )
boto3.client('s3').list_buckets()
"#,
        expect![[r#"
            app.py:16:1 s3 ListBuckets -> s3:ListAllMyBuckets
        "#]],
    );
}

/// Units whose summary reads did not change are not run again (see
/// `eval`): the facts must be exactly those of rounds that run every unit,
/// on every corpus of the repository and on dependencies that point
/// forward, where a unit reads a summary before a later unit changes it.
mod reruns {
    use std::path::{Path, PathBuf};

    use super::super::{analyze, analyze_arriving, analyze_with, eval, lower_text, ModuleInput, ModuleIr};

    /// A project's files as `(path, text)`.
    pub(super) type Files = Vec<(String, String)>;

    fn same_facts_either_way(name: &str, files: &Files) {
        let irs: Vec<ModuleIr> = files.iter().map(|(_, t)| lower_text(t)).collect();
        let texts: Vec<std::sync::Arc<str>> = files.iter().map(|(_, t)| std::sync::Arc::from(t.as_str())).collect();
        let inputs: Vec<ModuleInput> =
            files.iter().zip(&irs).zip(&texts).map(|(((p, _), ir), text)| ModuleInput { rel_path: p, ir, text }).collect();
        let skipping = analyze(&inputs);
        let everything = analyze_with(&inputs, eval::evaluate_rerunning_everything);
        assert!(skipping == everything, "{name}: skipping unchanged units changed the facts\n{skipping:#?}\nvs\n{everything:#?}");
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        let arriving = analyze_arriving(&paths, |i| Some((&irs[i], &texts[i]))).expect("every module arrives");
        assert!(arriving == skipping, "{name}: evaluating modules as they arrive changed the facts\n{arriving:#?}\nvs\n{skipping:#?}");
    }

    pub(super) fn read(p: &Path) -> String {
        String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned()
    }

    pub(super) fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
    }

    pub(super) fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    /// A project directory: app.py and every `.py` file below it.
    pub(super) fn project_files(root: &Path) -> Files {
        let mut paths = Vec::new();
        walk(root, &mut paths);
        paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "py"))
            .map(|p| (p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"), read(p)))
            .collect()
    }

    #[test]
    fn on_every_fixture_example_and_differential_case() {
        let root = repo();
        let mut checked = 0;
        let mut paths = Vec::new();
        walk(&root.join("tests/fixtures"), &mut paths);
        for p in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "fixture")) {
            let files = super::fixture_python_files(&read(p));
            if !files.is_empty() {
                same_facts_either_way(&p.display().to_string(), &files);
                checked += 1;
            }
        }
        let mut snippets = Vec::new();
        walk(&root.join("tests/differential/cases/snippets"), &mut snippets);
        for p in snippets.iter().filter(|p| p.extension().is_some_and(|e| e == "py")) {
            same_facts_either_way(&p.display().to_string(), &vec![("app.py".into(), read(p))]);
            checked += 1;
        }
        for dir in ["examples", "tests/differential/cases/layouts"] {
            for project in std::fs::read_dir(root.join(dir)).unwrap().flatten().map(|e| e.path()).filter(|p| p.join("app.py").is_file()) {
                same_facts_either_way(&project.display().to_string(), &project_files(&project));
                checked += 1;
            }
        }
        assert!(checked > 1000, "only {checked} projects found");
    }

    /// Each kind of summary, read by a unit that runs before the unit that
    /// changes it.
    #[test]
    fn on_dependencies_that_point_forward() {
        let cases: &[(&str, &str)] = &[
            (
                "a global set later by a function",
                "import boto3\ndef use():\n    client.get_object(Bucket='b', Key='k')\ndef init():\n    global client\n    client = boto3.client('s3')\n",
            ),
            (
                "a return read before the function runs",
                "import boto3\ndef handler():\n    make().scan()\ndef make():\n    return boto3.resource('dynamodb').Table('t')\n",
            ),
            (
                "a parameter given after the function ran",
                "import boto3\ndef put(q):\n    q.send_message(QueueUrl='u', MessageBody='m')\ndef main():\n    put(boto3.client('sqs'))\n",
            ),
            (
                "a chain of returns and parameters over three rounds",
                "import boto3\ndef a():\n    return b()\ndef b():\n    return c(boto3.client('sns'))\ndef c(x):\n    return x\ndef go():\n    a().publish(Message='m')\n",
            ),
            (
                "a class attribute set by a later method",
                "import boto3\nclass Repo:\n    def save(self):\n        self.table.put_item(Item={})\n    def __init__(self):\n        self.table = boto3.resource('dynamodb').Table('t')\nRepo().save()\n",
            ),
            (
                "a property defined after its reader",
                "import boto3\nclass Store:\n    def run(self):\n        self.bucket.put_object(Key='k', Body=b'')\n    @property\n    def bucket(self):\n        return boto3.resource('s3').Bucket('b')\n",
            ),
            (
                "a closure over a local that grows in a later round",
                "import boto3\ndef outer(x):\n    c = x\n    def inner():\n        return c.decrypt(CiphertextBlob=b'')\n    return inner\ndef main():\n    outer(boto3.client('kms'))()\n",
            ),
        ];
        for (name, app) in cases {
            same_facts_either_way(name, &vec![("app.py".into(), app.to_string())]);
        }
        let later_module = "import boto3\nclient = None\ndef setup():\n    global client\n    client = boto3.client('dynamodb')\ntable = boto3.resource('dynamodb').Table('t')\n";
        for app in [
            "from chalicelib.db import table\ndef h():\n    table.scan()\n",
            "from chalicelib.db import *\ndef h():\n    table.scan()\n    client.get_item(TableName='t', Key={})\n",
            "import chalicelib.db as db\ndef h():\n    db.table.query()\n    db.client.get_item(TableName='t', Key={})\n",
            "import chalicelib.db\nchalicelib.db.table = boto3.resource('dynamodb').Table('u')\nimport boto3\n",
        ] {
            same_facts_either_way(app, &vec![("app.py".into(), app.to_string()), ("chalicelib/db.py".into(), later_module.to_string())]);
        }
        // A star import of a global whose value grows (its name being
        // there already) after the importing module last ran.
        let app = "import boto3\nfrom chalicelib.db import *\ndef h():\n    client.get_item(TableName='t', Key={})\ndef main():\n    setup(make())\ndef make():\n    return boto3.client('dynamodb')\n";
        let db = "client = None\ndef setup(c):\n    global client\n    client = c\n";
        same_facts_either_way("star import", &vec![("app.py".into(), app.to_string()), ("chalicelib/db.py".into(), db.to_string())]);
    }
}

/// `analyze_again` after edits inside function bodies (and the occasional
/// edit elsewhere), chained from the previous analysis, must give exactly
/// what a fresh `analyze` gives, whether it ran only the edited function or
/// everything; and edits that leave every summary as it was must take the
/// short way often enough for that to be tested.
mod again {
    use std::sync::Arc;

    use super::reruns::{project_files, read, repo, walk, Files};
    use super::super::{analyze, analyze_again, lower_text, EvalState, ModuleInput, ModuleIr, ProjectFacts};
    use crate::lsp::test_support::Rng;

    fn inputs<'a>(files: &'a Files, irs: &'a [ModuleIr], texts: &'a [Arc<str>]) -> Vec<ModuleInput<'a>> {
        files.iter().zip(irs).zip(texts).map(|(((p, _), ir), text)| ModuleInput { rel_path: p, ir, text }).collect()
    }

    /// What an edit inserts on a new line of a function body (after the
    /// line's indentation): some leave every summary alone, some do not.
    const STATEMENTS: &[&str] = &[
        "pass",
        "x = 1",
        "boto3.client('s3').list_buckets()",
        "boto3.resource('dynamodb').Table('t').scan()",
        "return boto3.client('sqs')",
        "self.table = boto3.resource('dynamodb').Table('t')",
        "helper(boto3.client('sns'))",
        "global shared\n{indent}shared = boto3.client('kms')",
        "client = boto3.client('lambda')\n{indent}client.invoke(FunctionName='f')",
        "def nested():\n{indent}    return boto3.client('s3')",
        "f = lambda: boto3.client('sqs')",
        "yield boto3.client('ssm')",
    ];

    /// A random edit inside a random function's body of a random module
    /// (one in ten anywhere in the module), as the edited text; `None` when
    /// the module has no function to edit.
    fn edit(rng: &mut Rng, text: &str) -> Option<String> {
        let ir = lower_text(text);
        let bodies: Vec<(usize, usize)> =
            ir.functions.iter().map(|f| (f.body_range.start, f.body_range.end)).filter(|(s, e)| s < e).collect();
        let (start, end) = if bodies.is_empty() || rng.chance(10) { (0, text.len()) } else { *rng.pick(&bodies) };
        // Whole lines of the region.
        let lines: Vec<(usize, usize)> = text
            .match_indices('\n')
            .scan(0, |from, (nl, _)| {
                let line = (*from, nl);
                *from = nl + 1;
                Some(line)
            })
            .filter(|&(s, e)| e >= start && s <= end && e > s)
            .collect();
        let &(line_start, line_end) = lines.get(rng.below(lines.len().max(1)))?;
        let line = &text[line_start..line_end];
        let indent = &line[..line.len() - line.trim_start().len()];
        let mut out = String::with_capacity(text.len() + 80);
        match rng.below(4) {
            // Type at the end of the line.
            0 => {
                out.push_str(&text[..line_end]);
                const TYPED: [&str; 5] = ["x", "_1", ".y", " ", "()"];
                out.push_str(TYPED[rng.below(TYPED.len())]);
                out.push_str(&text[line_end..]);
            }
            // A new statement after it, indented like it.
            1 => {
                out.push_str(&text[..line_end]);
                out.push('\n');
                out.push_str(indent);
                out.push_str(&rng.pick(STATEMENTS).replace("{indent}", indent));
                out.push_str(&text[line_end..]);
            }
            // Delete it.
            2 => {
                out.push_str(&text[..line_start]);
                out.push_str(text.get(line_end + 1..).unwrap_or(""));
            }
            // Delete one character of it.
            _ => {
                let mut at = line_start + indent.len() + rng.below(line.trim_start().len().max(1));
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let c = text[at..].chars().next().filter(|c| *c != '\n')?;
                out.push_str(&text[..at]);
                out.push_str(&text[at + c.len_utf8()..]);
            }
        }
        Some(out)
    }

    /// Edits `files` a few times over, checking every step; returns how many
    /// steps left no syntax error and how many of them ran only the edited
    /// function.
    fn check_edits(name: &str, mut files: Files, rng: &mut Rng, steps: usize) -> (usize, usize) {
        let mut previous: Option<(EvalState, ProjectFacts)> = None;
        let (mut checked, mut short) = (0, 0);
        for step in 0..=steps {
            if step > 0 {
                let m = rng.below(files.len());
                let Some(edited) = edit(rng, &files[m].1) else { continue };
                files[m].1 = edited;
            }
            let irs: Vec<ModuleIr> = files.iter().map(|(_, t)| lower_text(t)).collect();
            let texts: Vec<Arc<str>> = files.iter().map(|(_, t)| Arc::from(t.as_str())).collect();
            let inputs = inputs(&files, &irs, &texts);
            let (facts, state) = analyze_again(&inputs, previous.take());
            let fresh = analyze(&inputs);
            assert!(
                facts == fresh,
                "{name}, step {step}: analysing again gave other facts than analysing afresh\nedited files: {files:#?}\nagain: {facts:#?}\nfresh: {fresh:#?}"
            );
            // Only an edit that leaves the files without syntax errors may
            // take the short way.
            if step > 0 && irs.iter().all(|ir| ir.syntax_errors.is_empty()) {
                checked += 1;
                short += usize::from(state.ran_edited_function_only());
            }
            previous = Some((state, facts));
        }
        (checked, short)
    }

    /// Analyses `before`, then `after` from it: the facts must be a fresh
    /// analysis's, and the short way taken exactly when `short` says. (An
    /// edit to `before` comes first: the state keeps what the short way
    /// needs for the module last edited only.)
    fn check_pair(name: &str, before: &str, after: &str, short: bool) {
        check_steps(name, before, &[(after.to_string(), short)]);
    }

    /// [`check_pair`] for each text of `steps` in turn, each analysed from
    /// the one before.
    fn check_steps(name: &str, before: &str, steps: &[(String, bool)]) {
        let warm_up = format!("{before}# an edit outside any function\n");
        let mut previous = None;
        let texts = [(warm_up, None), (before.to_string(), None)].into_iter().chain(steps.iter().map(|(t, s)| (t.clone(), Some(*s))));
        for (step, (text, short)) in texts.enumerate() {
            let files: Files = vec![("app.py".into(), text)];
            let irs: Vec<ModuleIr> = files.iter().map(|(_, t)| lower_text(t)).collect();
            let texts: Vec<Arc<str>> = files.iter().map(|(_, t)| Arc::from(t.as_str())).collect();
            let inputs = inputs(&files, &irs, &texts);
            let (facts, state) = analyze_again(&inputs, previous.take());
            assert!(facts == analyze(&inputs), "{name}, step {step}: analysing again gave other facts than analysing afresh");
            if let Some(short) = short {
                assert_eq!(state.ran_edited_function_only(), short, "{name}, step {step}: ran the edited function alone");
            }
            previous = Some((state, facts));
        }
    }

    /// Typing a new last line of a handler, a keystroke at a time: the
    /// line break and the indentation first lie after the body. Every
    /// keystroke from a text without syntax errors to another runs the
    /// handler alone.
    #[test]
    fn typing_a_new_last_line_runs_the_function_alone() {
        let handler = "import boto3\ndef handler():\n    q = boto3.client('sqs')\n    q.delete_queue(QueueUrl='u')\n";
        for next in ["", "\n\ndef other():\n    pass\n", "\n@app.route('/')\ndef other():\n    pass\n"] {
            let before = format!("{handler}{next}");
            let at = handler.len() - 1;
            let typed = "\n    q.purge_queue(QueueUrl='u')";
            let mut was_clean = true;
            let steps: Vec<(String, bool)> = (1..=typed.len())
                .map(|n| format!("{}{}{}", &before[..at], &typed[..n], &before[at..]))
                .map(|text| {
                    let clean = lower_text(&text).syntax_errors.is_empty();
                    let short = clean && was_clean;
                    was_clean = clean;
                    (text, short)
                })
                .collect();
            assert!(steps.iter().filter(|(_, short)| *short).count() >= 8, "most keystrokes leave the text clean");
            check_steps(&format!("typing before {next:?}"), &before, &steps);
        }
    }

    #[test]
    fn an_edit_that_changes_what_a_function_gives_evaluates_everything() {
        let caller = "def use():\n    make().send_message(QueueUrl='u', MessageBody='m')\n";
        let gives = format!("import boto3\ndef make():\n    return boto3.client('sqs')\n{caller}");
        let gives_nothing = format!("import boto3\ndef make():\n    return None\n{caller}");
        check_pair("a return value appears", &gives_nothing, &gives, false);
        check_pair("a return value goes", &gives, &gives_nothing, false);
        let attr = |value: &str| {
            format!("import boto3\nclass Repo:\n    def __init__(self):\n        self.t = {value}\n    def save(self):\n        self.t.put_item(Item={{}})\nRepo().save()\n")
        };
        check_pair("an attribute appears", &attr("None"), &attr("boto3.resource('dynamodb').Table('t')"), false);
        check_pair("an attribute goes", &attr("boto3.resource('dynamodb').Table('t')"), &attr("None"), false);
        let passes = |arg: &str| format!("import boto3\ndef put(q):\n    q.send_message(QueueUrl='u', MessageBody='m')\ndef main():\n    put({arg})\n");
        check_pair("an argument appears", &passes("None"), &passes("boto3.client('sqs')"), false);
        // Renaming a local in a handler changes nothing any other unit sees.
        let local = |name: &str, then: &str| format!("{gives}def handler():\n    {name} = make()\n{then}    {name}.delete_queue(QueueUrl='u')\n");
        check_pair("a local is renamed", &local("q", ""), &local("queue", ""), true);
        check_pair("a call is added", &local("q", ""), &local("q", "    boto3.client('s3').list_buckets()\n"), true);
    }

    #[test]
    fn gives_what_a_fresh_analysis_gives() {
        let root = repo();
        let mut rng = Rng::new(std::env::var("CHALICE_IAM_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1));
        let mut projects: Vec<(String, Files)> = Vec::new();
        for dir in ["examples", "tests/differential/cases/layouts"] {
            for project in std::fs::read_dir(root.join(dir)).unwrap().flatten().map(|e| e.path()).filter(|p| p.join("app.py").is_file()) {
                projects.push((project.display().to_string(), project_files(&project)));
            }
        }
        let mut snippets = Vec::new();
        walk(&root.join("tests/differential/cases/snippets"), &mut snippets);
        for p in snippets.iter().filter(|p| p.extension().is_some_and(|e| e == "py")) {
            projects.push((p.display().to_string(), vec![("app.py".into(), read(p))]));
        }
        let mut fixtures = Vec::new();
        walk(&root.join("tests/fixtures"), &mut fixtures);
        for p in fixtures.iter().filter(|p| p.extension().is_some_and(|e| e == "fixture")) {
            let files = super::fixture_python_files(&read(p));
            if !files.is_empty() {
                projects.push((p.display().to_string(), files));
            }
        }
        let (mut checked, mut short) = (0, 0);
        for (name, files) in projects {
            let (c, s) = check_edits(&name, files, &mut rng, 4);
            checked += c;
            short += s;
        }
        eprintln!("analysing again: {short} of {checked} edits without syntax errors ran the edited function alone");
        assert!(checked > 1000, "only {checked} edits checked");
        assert!(short * 8 > checked, "only {short} of {checked} edits ran the edited function alone");
    }
}
