//! Every fixture under `tests/fixtures/analysis/` and `tests/fixtures/coverage/`
//! (the corpora the moto oracle runs for real) must be predicted exactly by
//! the static analysis.
//!
//! Fixture sections: `#- setup` and `#- run` are executed by the oracle and
//! not analysed; `#- <path>.py` sections are the project's files; `#- expect`
//! lists `<client> <Operation>` lines (`? ` = may be sent depending on size
//! or failure, `~ ` = needed but never sent, e.g. presigned URLs), and
//! `+ <client> <Operation> <action>` lines, the dependent actions the
//! analysis must attach to the calls sending that operation (`+ none`: no
//! call gets any); a fixture without `+` lines does not check them.

use std::collections::BTreeSet;
use std::path::Path;

use chalice_iam::analysis::{self, Construct, ModuleInput};

struct Fixture {
    files: Vec<(String, String)>,
    sent: BTreeSet<String>,
    maybe: BTreeSet<String>,
    presigned: BTreeSet<String>,
    /// `Some` when the fixture has `+` lines.
    dependent: Option<BTreeSet<String>>,
}

fn parse_fixture(text: &str) -> Fixture {
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("#- ") {
            sections.push((name.trim().to_string(), String::new()));
        } else if let Some(last) = sections.last_mut() {
            last.1.push_str(line);
        }
    }
    let mut fx = Fixture { files: Vec::new(), sent: BTreeSet::new(), maybe: BTreeSet::new(), presigned: BTreeSet::new(), dependent: None };
    for (name, body) in sections {
        if name == "expect" {
            for line in body.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                if let Some(rest) = line.strip_prefix("+ ") {
                    let set = fx.dependent.get_or_insert_with(BTreeSet::new);
                    if rest.trim() != "none" {
                        set.insert(rest.trim().to_string());
                    }
                } else if let Some(rest) = line.strip_prefix("? ") {
                    fx.maybe.insert(rest.trim().to_string());
                } else if let Some(rest) = line.strip_prefix("~ ") {
                    fx.presigned.insert(rest.trim().to_string());
                } else {
                    fx.sent.insert(line.to_string());
                }
            }
        } else if name.ends_with(".py") {
            fx.files.push((name, body));
        }
    }
    fx
}

/// Every `*.fixture` below `dir`, recursively, sorted.
fn fixture_paths(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())).flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "fixture") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Analyses every fixture below `tests/fixtures/<rel>` and returns one
/// message per fixture whose prediction differs from its expect section.
fn mispredicted(rel: &str, at_least: usize) -> (usize, Vec<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(rel);
    let paths = fixture_paths(&dir);
    assert!(paths.len() >= at_least, "expected at least {at_least} fixtures in {rel}, found {}", paths.len());
    let mut failures = Vec::new();
    for path in &paths {
        let fx = parse_fixture(&std::fs::read_to_string(path).unwrap());
        let irs: Vec<_> = fx.files.iter().map(|(_, t)| analysis::lower_text(t)).collect();
        let texts: Vec<std::sync::Arc<str>> = fx.files.iter().map(|(_, t)| t.as_str().into()).collect();
        let inputs: Vec<_> =
            fx.files.iter().zip(&irs).zip(&texts).map(|(((p, _), ir), text)| ModuleInput { rel_path: p, ir, text }).collect();
        let result = analysis::analyze(&inputs);
        let (mut sent, mut maybe, mut presigned) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let mut dependent = BTreeSet::new();
        let mut unresolved = Vec::new();
        for (file, facts) in fx.files.iter().zip(&result.files) {
            for c in &facts.calls {
                let target = if matches!(c.construct, Construct::Presigned { .. }) { &mut presigned } else { &mut sent };
                for op in &c.operations {
                    target.insert(format!("{} {op}", c.service));
                }
                for op in &c.conditional_operations {
                    maybe.insert(format!("{} {op}", c.service));
                }
                for d in &c.dependent_actions {
                    dependent.insert(format!("{} {} {}", c.service, d.operation, d.action));
                }
            }
            for u in &facts.unresolved {
                unresolved.push(format!("{}@{}: {}", file.0, u.range.start, u.reason));
            }
        }
        // An operation that is sent on every call is not also "maybe".
        let maybe: BTreeSet<String> = maybe.difference(&sent).cloned().collect();
        let name = path.strip_prefix(&dir).unwrap_or(path).to_string_lossy();
        if sent != fx.sent || maybe != fx.maybe || presigned != fx.presigned || !unresolved.is_empty() {
            failures.push(format!(
                "{name}:\n  sent      expected {:?}\n            got      {:?}\n  maybe     expected {:?}\n            got      {:?}\n  presigned expected {:?}\n            got      {:?}\n  unresolved {:?}",
                fx.sent, sent, fx.maybe, maybe, fx.presigned, presigned, unresolved
            ));
        }
        if fx.dependent.as_ref().is_some_and(|want| *want != dependent) {
            failures.push(format!("{name}:\n  dependent expected {:?}\n            got      {:?}", fx.dependent.as_ref().unwrap(), dependent));
        }
    }
    (paths.len(), failures)
}

#[test]
fn static_analysis_predicts_every_fixture() {
    let (n, failures) = mispredicted("analysis", 60);
    assert!(failures.is_empty(), "{} of {n} fixtures differ:\n{}", failures.len(), failures.join("\n"));
}

/// The generated coverage suite (`tests/coverage/gen.py`): one fixture per
/// entry of boto3's resource models, injected method and irregular mapping.
#[test]
fn static_analysis_predicts_every_coverage_fixture() {
    let (n, failures) = mispredicted("coverage", 200);
    assert!(failures.is_empty(), "{} of {n} coverage fixtures differ:\n{}", failures.len(), failures.join("\n"));
}

/// Every row of the irregular operation → action table
/// (`tools/gen_model.py` IRREGULAR, generated into `irregular.txt`) names
/// its source, only IAM actions that exist, and has a coverage fixture
/// `irregular/<client>.<Operation>.fixture` whose code the oracle runs and
/// records sending exactly that operation; here, the analysis of that code
/// must report exactly the row's actions for it.
#[test]
fn every_irregular_mapping_has_a_source_and_a_fixture_proving_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = std::fs::read_to_string(root.join("src/model/data/irregular.txt")).unwrap();
    let rows: Vec<&str> = table.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    assert!(rows.len() >= 70, "only {} irregular rows", rows.len());
    let mut problems = Vec::new();
    for row in rows {
        let (head, source) = row.split_once('\t').unwrap_or((row, ""));
        let mut f = head.split(' ');
        let (client, op, actions) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let mut want: Vec<&str> = actions.split(',').collect();
        want.sort_unstable();
        if source.trim().is_empty() {
            problems.push(format!("{client} {op}: no source"));
        }
        for a in &want {
            if !chalice_iam::model::is_known_action(a) {
                problems.push(format!("{client} {op}: {a} is not an IAM action"));
            }
        }
        let path = root.join(format!("../tests/fixtures/coverage/irregular/{client}.{op}.fixture"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            problems.push(format!("{client} {op}: no fixture {}", path.display()));
            continue;
        };
        let fx = parse_fixture(&text);
        let key = format!("{client} {op}");
        if fx.sent != BTreeSet::from([key.clone()]) {
            problems.push(format!("{client} {op}: the fixture expects {:?}", fx.sent));
        }
        let irs: Vec<_> = fx.files.iter().map(|(_, t)| analysis::lower_text(t)).collect();
        let texts: Vec<std::sync::Arc<str>> = fx.files.iter().map(|(_, t)| t.as_str().into()).collect();
        let inputs: Vec<_> =
            fx.files.iter().zip(&irs).zip(&texts).map(|(((p, _), ir), text)| ModuleInput { rel_path: p, ir, text }).collect();
        let result = analysis::analyze(&inputs);
        let calls: Vec<_> = result.files.iter().flat_map(|f| &f.calls).filter(|c| c.service == client && c.operations == [op]).collect();
        if calls.is_empty() {
            problems.push(format!("{client} {op}: the analysis finds no call sending it"));
        }
        for c in calls {
            if c.actions != want {
                problems.push(format!("{client} {op}: the analysis maps it to {:?}, the table to {want:?}", c.actions));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A DynamoDB transaction needs the action of each kind of item it holds,
/// and is sent as TransactWriteItems whatever they are: the fixture sends
/// one transaction of each kind (the oracle checks that only
/// TransactWriteItems is sent), and the mapping lists the four per-item
/// actions.
#[test]
fn transact_write_items_fixture_sends_every_item_kind() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/coverage/irregular/dynamodb.TransactWriteItems.fixture");
    let fx = parse_fixture(&std::fs::read_to_string(path).unwrap());
    let app = &fx.files.iter().find(|(p, _)| p == "app.py").unwrap().1;
    for kind in ["'Put'", "'Update'", "'Delete'", "'ConditionCheck'"] {
        assert!(app.contains(kind), "no {kind} item in the TransactWriteItems fixture");
    }
    assert_eq!(fx.sent, BTreeSet::from(["dynamodb TransactWriteItems".to_string()]));
    let svc = chalice_iam::model::service("dynamodb").unwrap();
    assert_eq!(
        svc.actions_of("TransactWriteItems"),
        ["dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    );
}

/// Every row of the dependent-action table (`tools/gen_model.py` DEPENDENT,
/// generated into `dependent.txt`) is exercised by an analysis fixture: a
/// `+ <client> <Operation> <action>` line in a fixture the oracle runs (so
/// the operation is really sent by that code) and the analysis predicts
/// (`static_analysis_predicts_every_fixture` compares the `+` lines). A
/// row conditioned on a parameter also needs a fixture where the call does
/// not pass it and gets no hint (`+ none` or a `+` set without the row).
#[test]
fn every_dependent_action_row_has_a_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/analysis");
    let fixtures: Vec<Fixture> = fixture_paths(&dir).iter().map(|p| parse_fixture(&std::fs::read_to_string(p).unwrap())).collect();
    let mut missing = Vec::new();
    for d in chalice_iam::model::all_dependent_actions() {
        let key = format!("{} {} {}", d.client, d.operation, d.action);
        if !fixtures.iter().any(|f| f.dependent.as_ref().is_some_and(|s| s.contains(&key))) {
            missing.push(format!("{key}: no fixture with `+ {key}`"));
        }
        if d.when_param.is_some() {
            let op = format!("{} {}", d.client, d.operation);
            let without = fixtures.iter().any(|f| f.sent.contains(&op) && f.dependent.as_ref().is_some_and(|s| !s.contains(&key)));
            if !without {
                missing.push(format!("{key}: no fixture sending {op} without the hint (a call not passing {})", d.when_param.unwrap()));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
