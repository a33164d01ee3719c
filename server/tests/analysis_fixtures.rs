//! Every fixture under `tests/fixtures/analysis/` and `tests/fixtures/coverage/`
//! (the corpora the moto oracle runs for real) must be predicted exactly by
//! the static analysis.
//!
//! Fixture sections: `#- setup` and `#- run` are executed by the oracle and
//! not analysed; `#- <path>.py` sections are the project's files; `#- expect`
//! lists `<client> <Operation>` lines (`? ` = may be sent depending on size
//! or failure, `~ ` = needed but never sent, e.g. presigned URLs).

use std::collections::BTreeSet;
use std::path::Path;

use chalice_iam::analysis::{self, Construct, ModuleInput};

struct Fixture {
    files: Vec<(String, String)>,
    sent: BTreeSet<String>,
    maybe: BTreeSet<String>,
    presigned: BTreeSet<String>,
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
    let mut fx = Fixture { files: Vec::new(), sent: BTreeSet::new(), maybe: BTreeSet::new(), presigned: BTreeSet::new() };
    for (name, body) in sections {
        if name == "expect" {
            for line in body.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                if let Some(rest) = line.strip_prefix("? ") {
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
        let inputs: Vec<_> = fx.files.iter().zip(&irs).map(|((p, _), ir)| ModuleInput { rel_path: p, ir }).collect();
        let result = analysis::analyze(&inputs);
        let (mut sent, mut maybe, mut presigned) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
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
