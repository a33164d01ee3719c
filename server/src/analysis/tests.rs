//! Data-driven tests: one fixture (files separated by `#- path` lines) →
//! the rendered facts.

use expect_test::{expect, Expect};

use super::*;

/// Splits a fixture into `(path, text)` files; text before the first
/// marker is `app.py`.
pub(crate) fn split_fixture(fixture: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = vec![("app.py".into(), String::new())];
    for line in fixture.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("#- ") {
            files.push((path.trim().to_string(), String::new()));
        } else {
            files.last_mut().unwrap().1.push_str(line);
        }
    }
    files.retain(|(p, t)| !(p == "app.py" && t.trim().is_empty()) || files_len_one(fixture));
    files
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
    let inputs: Vec<ModuleInput> = files.iter().zip(&irs).map(|((p, _), ir)| ModuleInput { rel_path: p, ir }).collect();
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
