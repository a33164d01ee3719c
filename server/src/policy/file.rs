//! A user's IAM policy file (`iam_policy_file`): what it grants, what in it
//! is wrong, and edits that add or remove actions while keeping everything
//! else the user wrote, byte for byte.
//!
//! Evaluation is per action, like IAM's: an explicit `Deny` beats any
//! `Allow`; `Action` and `NotAction` patterns use `*` and `?` and match
//! case-insensitively. Resources and conditions cannot be known statically,
//! so an `Allow` counts as granting whatever its resources and conditions
//! (the call may be on one of those resources), while a `Deny` counts only
//! when it applies to every resource without conditions.

use serde_json::json;

use crate::analysis::TextRange;
use crate::json::{self, JsonKind, JsonValue, MemberEdit};
use crate::model::ActionCatalogue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// One `Action` / `NotAction` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPattern {
    pub text: String,
    pub range: TextRange,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub range: TextRange,
    pub effect: Option<Effect>,
    /// `true` for `NotAction`.
    pub negated: bool,
    pub patterns: Vec<ActionPattern>,
    /// `Resource` is `"*"` or contains `"*"`, and there is no `NotResource`.
    pub all_resources: bool,
    pub has_condition: bool,
    /// `Action` is a list (new actions can be inserted into it).
    pub action_is_list: bool,
}

/// A structural problem in the file, located by byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    pub range: TextRange,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct PolicyFile {
    pub text: String,
    pub root: JsonValue,
    pub statements: Vec<Statement>,
    pub problems: Vec<PolicyProblem>,
}

/// Why a policy file could not be read as JSON at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyParseError {
    pub message: String,
    pub offset: usize,
}

/// IAM action pattern match: `*` any run, `?` any one character,
/// ASCII case-insensitive.
pub fn pattern_matches(pattern: &str, action: &str) -> bool {
    let p: Vec<u8> = pattern.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let a: Vec<u8> = action.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let (mut pi, mut ai) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ai < a.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == a[ai]) {
            pi += 1;
            ai += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ai;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ai = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

impl Statement {
    fn matches(&self, action: &str) -> bool {
        let any = self.patterns.iter().any(|p| pattern_matches(&p.text, action));
        if self.negated {
            !any
        } else {
            any
        }
    }
}

impl PolicyFile {
    pub fn parse(text: &str) -> Result<PolicyFile, PolicyParseError> {
        let root = json::parse(text).map_err(|e| PolicyParseError { message: e.message, offset: e.span.start })?;
        let mut file = PolicyFile { text: text.to_string(), root: root.clone(), statements: Vec::new(), problems: Vec::new() };
        let problem = |range: TextRange, message: String| PolicyProblem { range, message };
        let Some(_) = root.as_object() else {
            file.problems.push(problem(root.span, format!("a policy document must be a JSON object, not {}", root.type_name())));
            return Ok(file);
        };
        let Some(stmts) = root.get("Statement") else {
            file.problems.push(problem(root.span, "the policy has no \"Statement\"".into()));
            return Ok(file);
        };
        let list: Vec<&JsonValue> = match &stmts.kind {
            JsonKind::Array(items) => items.iter().collect(),
            JsonKind::Object(_) => vec![stmts],
            _ => {
                file.problems.push(problem(stmts.span, format!("\"Statement\" must be a list of statements, not {}", stmts.type_name())));
                return Ok(file);
            }
        };
        for s in list {
            if s.as_object().is_none() {
                file.problems.push(problem(s.span, format!("a statement must be an object, not {}", s.type_name())));
                continue;
            }
            let effect = match s.get("Effect").map(|e| (e, e.as_str())) {
                Some((_, Some("Allow"))) => Some(Effect::Allow),
                Some((_, Some("Deny"))) => Some(Effect::Deny),
                Some((e, _)) => {
                    file.problems.push(problem(e.span, "\"Effect\" must be \"Allow\" or \"Deny\"".into()));
                    None
                }
                None => {
                    file.problems.push(problem(s.span, "the statement has no \"Effect\"".into()));
                    None
                }
            };
            let (negated, actions) = match (s.get("Action"), s.get("NotAction")) {
                (Some(a), None) => (false, Some(a)),
                (None, Some(a)) => (true, Some(a)),
                (Some(a), Some(_)) => {
                    file.problems.push(problem(a.span, "a statement cannot have both \"Action\" and \"NotAction\"".into()));
                    (false, None)
                }
                (None, None) => {
                    file.problems.push(problem(s.span, "the statement has no \"Action\" or \"NotAction\"".into()));
                    (false, None)
                }
            };
            let mut patterns = Vec::new();
            let mut action_is_list = false;
            if let Some(a) = actions {
                match &a.kind {
                    JsonKind::String(t) => patterns.push(ActionPattern { text: t.clone(), range: a.span }),
                    JsonKind::Array(items) => {
                        action_is_list = true;
                        for i in items {
                            match i.as_str() {
                                Some(t) => patterns.push(ActionPattern { text: t.to_string(), range: i.span }),
                                None => file.problems.push(problem(i.span, format!("an action must be a string, not {}", i.type_name()))),
                            }
                        }
                    }
                    _ => file.problems.push(problem(a.span, format!("\"Action\" must be a string or a list of strings, not {}", a.type_name()))),
                }
            }
            let star = |v: &JsonValue| match &v.kind {
                JsonKind::String(t) => t == "*",
                JsonKind::Array(items) => items.iter().any(|i| i.as_str() == Some("*")),
                _ => false,
            };
            let all_resources = s.get("NotResource").is_none() && s.get("Resource").is_some_and(star);
            file.statements.push(Statement {
                range: s.span,
                effect,
                negated,
                patterns,
                all_resources,
                has_condition: s.get("Condition").is_some(),
                action_is_list,
            });
        }
        Ok(file)
    }

    /// The first `Allow` statement granting `action`, unless a `Deny` for
    /// every resource takes it away. `Err(index)` names that `Deny`.
    pub fn grants(&self, action: &str) -> Result<Option<usize>, usize> {
        if let Some(d) = self.statements.iter().position(|s| {
            s.effect == Some(Effect::Deny) && s.all_resources && !s.has_condition && s.matches(action)
        }) {
            return Err(d);
        }
        Ok(self.statements.iter().position(|s| s.effect == Some(Effect::Allow) && s.matches(action)))
    }

    /// Patterns that name no IAM action: a literal not in the catalogue, or
    /// a wildcard that matches nothing in its service.
    pub fn invalid_patterns(&self) -> Vec<&ActionPattern> {
        let cat = ActionCatalogue::get();
        let mut out = Vec::new();
        for s in &self.statements {
            for p in &s.patterns {
                if p.text == "*" {
                    continue;
                }
                let valid = match p.text.split_once(':') {
                    None => false,
                    Some((prefix, name)) if prefix.contains(['*', '?']) => {
                        !name.is_empty() // a wildcard prefix cannot be checked per service
                    }
                    Some((prefix, name)) if name.contains(['*', '?']) => {
                        cat.actions_of_prefix(prefix).any(|a| pattern_matches(name, a))
                    }
                    Some(_) => cat.canonical(&p.text).is_some(),
                };
                if !valid {
                    out.push(p);
                }
            }
        }
        out
    }

    /// The edited text after adding `actions` (each granted by an Allow on
    /// every resource). Actions join an existing single-service statement
    /// with `Resource: "*"` when there is one, else a new statement is
    /// appended. Nothing the file had is removed or reordered.
    pub fn with_actions_added(&self, actions: &[&str]) -> String {
        let mut text = self.text.clone();
        let mut by_prefix: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for a in actions {
            by_prefix.entry(a.split(':').next().unwrap_or(a)).or_default().push(a);
        }
        for (prefix, mut acts) in by_prefix {
            acts.sort_unstable();
            acts.dedup();
            // Re-read after each edit: offsets move.
            let Ok(current) = PolicyFile::parse(&text) else { break };
            if !current.problems.is_empty() && current.statements.is_empty() {
                break;
            }
            let edits = current.edits_adding(prefix, &acts);
            text = json::apply(&text, &edits);
        }
        text
    }

    fn edits_adding(&self, prefix: &str, acts: &[&str]) -> Vec<MemberEdit> {
        let stmts = self.statement_values();
        let target = self.statements.iter().enumerate().find(|(_, s)| {
            s.effect == Some(Effect::Allow)
                && !s.negated
                && s.all_resources
                && !s.has_condition
                && !s.patterns.is_empty()
                && s.patterns.iter().all(|p| p.text.split(':').next().is_some_and(|pp| pp.eq_ignore_ascii_case(prefix)))
        });
        if let Some((i, s)) = target {
            let Some(stmt_value) = stmts.get(i) else { return Vec::new() };
            let Some(action) = stmt_value.get("Action") else { return Vec::new() };
            if !s.action_is_list {
                // `"Action": "s3:GetObject"` becomes a list holding both.
                let mut all: Vec<String> = vec![action.as_str().unwrap_or_default().to_string()];
                all.extend(acts.iter().map(|a| a.to_string()));
                return vec![json::replace_value(&self.text, action, &json!(all))];
            }
            let existing: Vec<String> = s.patterns.iter().map(|p| p.text.clone()).collect();
            let sorted = existing.windows(2).all(|w| w[0].to_ascii_lowercase() <= w[1].to_ascii_lowercase());
            let mut edits = Vec::new();
            for a in acts {
                let index = if sorted {
                    existing.iter().position(|e| e.to_ascii_lowercase() > a.to_ascii_lowercase()).unwrap_or(existing.len())
                } else {
                    existing.len()
                };
                edits.push(json::insert_array_item(&self.text, action, index, &json!(a)));
            }
            return merge_same_point(edits);
        }
        let statement = json!({"Effect": "Allow", "Action": acts, "Resource": ["*"]});
        match self.root.get("Statement") {
            Some(list @ JsonValue { kind: JsonKind::Array(items), .. }) => {
                vec![json::insert_array_item(&self.text, list, items.len(), &statement)]
            }
            Some(single @ JsonValue { kind: JsonKind::Object(_), .. }) => {
                // A lone statement object becomes a list of it and the new one.
                let old = &self.text[single.span.start..single.span.end];
                let new = serde_json::to_string(&statement).unwrap_or_default();
                vec![MemberEdit { span: single.span, new_text: format!("[{old}, {new}]") }]
            }
            _ => match self.root.as_object() {
                Some(_) => vec![json::insert_member(&self.text, &self.root, "Statement", &json!([statement]))],
                None => Vec::new(),
            },
        }
    }

    fn statement_values(&self) -> Vec<&JsonValue> {
        match self.root.get("Statement") {
            Some(JsonValue { kind: JsonKind::Array(items), .. }) => items.iter().filter(|i| i.as_object().is_some()).collect(),
            Some(v @ JsonValue { kind: JsonKind::Object(_), .. }) => vec![v],
            _ => Vec::new(),
        }
    }

    /// The edit removing one action entry from a statement's `Action` list;
    /// `None` when it is the statement's only action (removing it would
    /// leave a statement IAM rejects).
    pub fn edit_removing(&self, pattern: &ActionPattern) -> Option<MemberEdit> {
        let stmts = self.statement_values();
        for (s, v) in self.statements.iter().zip(stmts) {
            if !s.action_is_list || s.patterns.len() < 2 {
                continue;
            }
            let Some(action) = v.get(if s.negated { "NotAction" } else { "Action" }) else { continue };
            let items = action.as_array()?;
            if let Some(i) = items.iter().position(|it| it.span == pattern.range) {
                return json::remove_array_item(&self.text, action, i);
            }
        }
        None
    }
}

/// Insertions at the same offset must be one edit (in order).
fn merge_same_point(edits: Vec<MemberEdit>) -> Vec<MemberEdit> {
    let mut out: Vec<MemberEdit> = Vec::new();
    for e in edits {
        match out.iter_mut().find(|o| o.span == e.span && o.span.start == o.span.end) {
            Some(o) => o.new_text.push_str(&e.new_text),
            None => out.push(e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOG: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
      {
          "Effect": "Allow",
          "Action": [
              "dynamodb:Query",
              "dynamodb:Scan"
          ],
          "Resource": [
              "*"
          ]
      },
      {
          "Effect": "Allow",
          "Action": [
              "logs:CreateLogGroup",
              "logs:CreateLogStream",
              "logs:PutLogEvents"
          ],
          "Resource": "arn:aws:logs:*:*:*"
      }
  ]
}
"#;

    #[test]
    fn wildcards_are_case_insensitive() {
        assert!(pattern_matches("dynamodb:*", "dynamodb:Scan"));
        assert!(pattern_matches("DynamoDB:sc?n", "dynamodb:Scan"));
        assert!(pattern_matches("*", "s3:GetObject"));
        assert!(pattern_matches("s3:Get*Acl", "s3:GetObjectAcl"));
        assert!(!pattern_matches("s3:Get*Acl", "s3:GetObject"));
        assert!(!pattern_matches("dynamodb:Scan", "dynamodb:ScanAll"));
    }

    #[test]
    fn grants_follow_allow_deny_and_not_action() {
        let p = PolicyFile::parse(BLOG).unwrap();
        assert_eq!(p.grants("dynamodb:Scan"), Ok(Some(0)));
        assert_eq!(p.grants("dynamodb:PutItem"), Ok(None));
        let p = PolicyFile::parse(
            r#"{"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
                              {"Effect": "Deny", "Action": "s3:Delete*", "Resource": ["*"]},
                              {"Effect": "Deny", "Action": "s3:Put*", "Resource": "arn:aws:s3:::b/*"}]}"#,
        )
        .unwrap();
        assert_eq!(p.grants("dynamodb:Scan"), Ok(Some(0)));
        assert_eq!(p.grants("iam:PassRole"), Ok(None));
        assert_eq!(p.grants("s3:DeleteObject"), Err(1));
        assert_eq!(p.grants("s3:PutObject"), Ok(Some(0)));
    }

    #[test]
    fn invalid_actions_are_found() {
        let p = PolicyFile::parse(r#"{"Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "s3:HeadObject", "lambda:Invoke", "s3:Nope*", "s3:List*", "ec2"], "Resource": "*"}}"#).unwrap();
        let bad: Vec<&str> = p.invalid_patterns().iter().map(|p| p.text.as_str()).collect();
        assert_eq!(bad, ["s3:HeadObject", "lambda:Invoke", "s3:Nope*", "ec2"]);
    }

    #[test]
    fn adding_actions_keeps_the_file_and_its_formatting() {
        let p = PolicyFile::parse(BLOG).unwrap();
        let out = p.with_actions_added(&["dynamodb:GetItem", "dynamodb:PutItem", "s3:GetObject"]);
        expect_test::expect![[r#"
            {
              "Version": "2012-10-17",
              "Statement": [
                  {
                      "Effect": "Allow",
                      "Action": [
                          "dynamodb:GetItem",
                          "dynamodb:PutItem",
                          "dynamodb:Query",
                          "dynamodb:Scan"
                      ],
                      "Resource": [
                          "*"
                      ]
                  },
                  {
                      "Effect": "Allow",
                      "Action": [
                          "logs:CreateLogGroup",
                          "logs:CreateLogStream",
                          "logs:PutLogEvents"
                      ],
                      "Resource": "arn:aws:logs:*:*:*"
                  },
                  {
                      "Effect": "Allow",
                      "Action": [
                          "s3:GetObject"
                      ],
                      "Resource": [
                          "*"
                      ]
                  }
              ]
            }
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn removing_an_action_leaves_the_rest() {
        let p = PolicyFile::parse(BLOG).unwrap();
        let scan = p.statements[0].patterns[1].clone();
        let out = json::apply(BLOG, &[p.edit_removing(&scan).unwrap()]);
        assert!(out.contains("\"dynamodb:Query\"\n          ],"), "{out}");
        assert!(!out.contains("dynamodb:Scan"));
        let only = PolicyFile::parse(r#"{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}"#).unwrap();
        assert!(only.edit_removing(&only.statements[0].patterns[0]).is_none());
    }
}
