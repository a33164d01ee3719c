//! Data-driven diagnostics tests: each `tests/fixtures/diagnostics/*.fixture`
//! is a small project (`#- <path>` sections) and an `#- expect` section with
//! every diagnostic rendered as `path:line:col-line:col severity CODE message`
//! followed by its fixes. Run with `UPDATE_EXPECT=1` to rewrite the expect
//! sections after an intended change, then review the diff.
//!
//! The same fixtures are the examples of `docs/diagnostics.md`, which
//! `diagnostics_doc_is_up_to_date` regenerates and compares.

use std::path::{Path, PathBuf};

use chalice_iam::diagnostics::{codes, Diagnostic, FileEdit, Severity};
use chalice_iam::project::{Project, Settings};

struct Fixture {
    title: String,
    files: Vec<(String, String)>,
    settings: Settings,
    /// The `#- settings` section as written, for the docs.
    settings_text: String,
    expect: String,
}

fn parse(text: &str) -> Fixture {
    let mut title = String::new();
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("#- ") {
            sections.push((name.trim().to_string(), String::new()));
        } else if let Some(last) = sections.last_mut() {
            last.1.push_str(line);
        } else if let Some(t) = line.strip_prefix("# ") {
            title = t.trim().to_string();
        }
    }
    let mut fx = Fixture { title, files: Vec::new(), settings: Settings::default(), settings_text: String::new(), expect: String::new() };
    for (name, body) in sections {
        match name.as_str() {
            "expect" => fx.expect = body,
            "settings" => {
                fx.settings_text = body.clone();
                for line in body.lines() {
                    match line.split_once('=') {
                        Some(("stage", v)) => fx.settings.stage = Some(v.trim().to_string()),
                        Some(("python", v)) => {
                            let (a, b) = v.trim().split_once('.').unwrap();
                            fx.settings.python_version = (a.parse().unwrap(), b.parse().unwrap());
                        }
                        // `severity=CIAM020:information`, as the editor setting.
                        Some(("severity", v)) => {
                            let (code, level) = v.trim().split_once(':').unwrap();
                            let level = match level {
                                "error" => Some(Severity::Error),
                                "warning" => Some(Severity::Warning),
                                "information" => Some(Severity::Info),
                                "hint" => Some(Severity::Hint),
                                "off" => None,
                                other => panic!("unknown level {other}"),
                            };
                            fx.settings.severities.insert(code.to_string(), level);
                        }
                        _ => {}
                    }
                }
            }
            _ => fx.files.push((name, body)),
        }
    }
    fx
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    (before.matches('\n').count() + 1, before.rsplit('\n').next().unwrap_or("").chars().count() + 1)
}

fn render(root: &Path, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let rel = d.path.strip_prefix(root).unwrap_or(&d.path).display().to_string();
        let text = std::fs::read_to_string(&d.path).unwrap_or_default();
        let (l1, c1) = line_col(&text, d.range.start);
        let (l2, c2) = line_col(&text, d.range.end);
        let sev = format!("{:?}", d.severity).to_lowercase();
        out.push_str(&format!("{rel}:{l1}:{c1}-{l2}:{c2} {sev} {}: {}\n", d.code, d.message.replace(&root.display().to_string(), "<root>")));
        for f in d.fixes.iter() {
            out.push_str(&format!("  fix: {}\n", f.title));
            for e in f.edits.iter() {
                match e {
                    FileEdit::Create { path, text } => {
                        let rel = path.strip_prefix(root).unwrap_or(path).display().to_string();
                        out.push_str(&format!("    create {rel} ({} lines)\n", text.lines().count()));
                    }
                    FileEdit::Replace { path, range, new_text } => {
                        let rel = path.strip_prefix(root).unwrap_or(path).display().to_string();
                        out.push_str(&format!("    edit {rel} @{}..{}: {:?}\n", range.start, range.end, new_text));
                    }
                }
            }
        }
    }
    out
}

fn run(fx: &Fixture) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for (path, text) in &fx.files {
        // `#- name !latin1` writes the section in Latin-1 (not valid UTF-8).
        let (path, bytes) = match path.strip_suffix(" !latin1") {
            Some(p) => (p, text.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>()),
            None => (path.as_str(), text.as_bytes().to_vec()),
        };
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
    }
    let project = Project::load(&root, fx.settings.clone()).unwrap();
    let all: Vec<Diagnostic> = std::sync::Arc::unwrap_or_clone(project.diagnostics()).into_values().flatten().collect();
    let rendered = render(&root, &all);
    (dir, rendered)
}

fn fixture_paths() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/diagnostics");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "fixture"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_diagnostics_fixture_matches() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    let mut covered = std::collections::BTreeSet::new();
    for path in fixture_paths() {
        let text = std::fs::read_to_string(&path).unwrap();
        let fx = parse(&text);
        let (_dir, got) = run(&fx);
        for code in codes::ALL {
            if got.contains(&format!(" {}: ", code.code)) {
                covered.insert(code.code);
            }
        }
        if got != fx.expect {
            if update {
                let head = &text[..text.find("#- expect\n").map(|i| i + "#- expect\n".len()).unwrap_or(text.len())];
                let head = if head.ends_with("#- expect\n") { head.to_string() } else { format!("{head}#- expect\n") };
                std::fs::write(&path, format!("{head}{got}")).unwrap();
            } else {
                failures.push(format!("{}:\n--- expected\n{}--- got\n{}", path.display(), fx.expect, got));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let missing: Vec<&str> = codes::ALL.iter().map(|c| c.code).filter(|c| !covered.contains(c)).collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}

/// docs/diagnostics.md: every code with its summary and a fixture as the
/// example. Regenerated with `UPDATE_EXPECT=1`.
#[test]
fn diagnostics_doc_is_up_to_date() {
    let mut doc = String::from(
        "# Diagnostics\n\nGenerated from the code catalogue (`server/src/diagnostics/codes.rs`) and the fixtures in\n\
         `tests/fixtures/diagnostics/` by `cargo test --test diagnostics_fixtures` (`UPDATE_EXPECT=1` rewrites it).\n\n\
         Severities can be changed per code with the `severity` setting (`error`, `warning`, `information`, `hint`, `off`).\n\
         `chalice-iam check` exits 1 when a warning or an error remains.\n\n| code | name | default | summary |\n|---|---|---|---|\n",
    );
    for c in codes::ALL {
        let default = if c.on_by_default() { format!("{:?}", c.default_severity) } else { "off (hover)".to_string() };
        doc.push_str(&format!("| [{}](#{}) | `{}` | {default} | {} |\n", c.code, c.code.to_lowercase(), c.name, c.summary));
    }
    let fixtures: Vec<(PathBuf, Fixture)> = fixture_paths().into_iter().map(|p| { let t = std::fs::read_to_string(&p).unwrap(); (p, parse(&t)) }).collect();
    for c in codes::ALL {
        doc.push_str(&format!("\n## {}\n\n`{}` — {}\n", c.code, c.name, c.summary));
        let Some((path, fx)) = fixtures.iter().find(|(_, fx)| fx.title.starts_with(c.code)) else { continue };
        doc.push_str(&format!("\nExample (`tests/fixtures/diagnostics/{}`):\n", path.file_name().unwrap().to_string_lossy()));
        for line in fx.settings_text.lines() {
            if let Some((code, level)) = line.strip_prefix("severity=").and_then(|v| v.split_once(':')) {
                doc.push_str(&format!("\nWith the setting `\"severity\": {{ \"{code}\": \"{level}\" }}` (`check --severity {code}={level}`).\n"));
            }
        }
        for (name, body) in &fx.files {
            let lang = if name.ends_with(".py") { "python" } else { "json" };
            doc.push_str(&format!("\n`{name}`\n\n```{lang}\n{}```\n", body));
        }
        doc.push_str(&format!("\n```text\n{}```\n", fx.expect.lines().filter(|l| l.contains(c.code) || l.starts_with("  fix")).map(|l| format!("{l}\n")).collect::<String>()));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/diagnostics.md");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != doc {
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&path, doc).unwrap();
        } else {
            panic!("docs/diagnostics.md is out of date; run UPDATE_EXPECT=1 cargo test --test diagnostics_fixtures");
        }
    }
}
