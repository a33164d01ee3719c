//! IAM policy documents: the one the code needs, and (in `file`) the
//! user's policy file with edits that keep everything it had.

pub mod file;

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// The statement chalice adds to every role it generates, so a function can
/// write its logs (chalice/constants.py CLOUDWATCH_LOGS).
pub fn cloudwatch_logs_statement() -> Value {
    json!({
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "arn:*:logs:*:*:*"
    })
}

/// A policy granting `actions`: one Allow statement per IAM prefix (sorted),
/// `Resource: ["*"]`, actions sorted and de-duplicated, then the CloudWatch
/// Logs statement.
pub fn needed_policy<'a>(actions: impl IntoIterator<Item = &'a str>) -> Value {
    let mut by_prefix: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for a in actions {
        let prefix = a.split(':').next().unwrap_or(a).to_string();
        by_prefix.entry(prefix).or_default().push(a);
    }
    let mut statements: Vec<Value> = by_prefix
        .into_values()
        .map(|mut acts| {
            acts.sort_unstable();
            acts.dedup();
            json!({"Effect": "Allow", "Action": acts, "Resource": ["*"]})
        })
        .collect();
    statements.push(cloudwatch_logs_statement());
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Pretty JSON with a trailing newline, as written to stdout and files.
pub fn to_pretty(doc: &Value) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}
