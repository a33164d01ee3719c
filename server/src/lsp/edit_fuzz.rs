//! Random edit sequences through the real incremental path: `didChange`
//! notifications built the way editors send them (ranged insertions and
//! deletions with multi-byte characters, surrogate pairs in UTF-16 columns,
//! CRLF, whole-line pastes, positions past the end of a line or inside a
//! character, the occasional whole-document replacement) are applied to
//! open documents of real projects (`examples/`, `tests/fixtures/analysis/`)
//! through [`Document::apply_changes`] and [`Session`], with diagnostics
//! computed at random points in between. After every sequence:
//!
//! - each document's text is what an independent reference computes;
//! - each Python document's incrementally edited tree equals a fresh parse
//!   (every node's kind, byte range and points) unless both have syntax
//!   errors (tree-sitter's error recovery may then depend on the old tree;
//!   the engine parses such a text afresh), and its line index equals a
//!   fresh one;
//! - what the client was sent, file by file, equals what a new session that
//!   opens the final texts sends, and so do the fixes its diagnostics name;
//! - nothing panicked and nothing was logged as an error.
//!
//! `CHALICE_IAM_FUZZ_EDITS` sets the number of edits (default 3,000, a few
//! seconds in a debug build; `tests/robustness/run` runs 100,000 in release),
//! `CHALICE_IAM_FUZZ_SEED` the seed. A failure names the sequence's own seed;
//! `CHALICE_IAM_FUZZ_SEQUENCE=<seed>` replays just that sequence, and its
//! edits are written to a JSON file in the temporary directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::json;
use tower_lsp_server::ls_types::{self as lsp, MessageType, Position, Range, TextDocumentContentChangeEvent, Uri};

use super::convert;
use super::document::{input_edit, ChangeOutcome, Document};
use super::line_index::{LineIndex, PositionEncoding};
use super::outbox::{Outbox, OutboxQueue, Outgoing};
use super::session::{load_all, Session};
use super::test_support::{dump, reference_lines, reference_offset, reference_position, Rng};
use crate::project::Settings;

/// A project to edit: its files, by path relative to the root.
pub(crate) struct Case {
    pub name: String,
    pub files: Vec<(String, String)>,
}

/// A config with an autogen stage and a file-based one, given to the
/// analysis fixtures (which have none) so both role kinds are exercised.
const FIXTURE_CONFIG: &str = r#"{
  "version": "2.0",
  "app_name": "fuzz",
  "stages": {
    "dev": {},
    "prod": {"autogen_policy": false, "iam_policy_file": "policy-prod.json"}
  }
}
"#;

const FIXTURE_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["dynamodb:Scan", "s3:GetObject"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:*:*:*"}
  ]
}
"#;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files_under(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "py" || e == "json") {
            let rel = path.strip_prefix(root).unwrap().to_str().unwrap().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The text of every Python file of the [`corpus`].
pub(crate) fn corpus_python_texts() -> Vec<String> {
    corpus().into_iter().flat_map(|case| case.files.into_iter().filter(|(rel, _)| rel.ends_with(".py")).map(|(_, text)| text)).collect()
}

/// Every example project and every analysis fixture.
pub(crate) fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    let examples = repo().join("examples");
    let mut dirs: Vec<_> = std::fs::read_dir(&examples).unwrap().flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| d.is_dir()) {
        let mut files = Vec::new();
        files_under(&dir, &dir, &mut files);
        cases.push(Case { name: format!("examples/{}", dir.file_name().unwrap().to_string_lossy()), files });
    }
    let fixtures = repo().join("tests/fixtures/analysis");
    let mut paths: Vec<_> = std::fs::read_dir(&fixtures).unwrap().flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "fixture")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut files = crate::analysis::tests::fixture_python_files(&text);
        files.push((".chalice/config.json".into(), FIXTURE_CONFIG.into()));
        files.push((".chalice/policy-prod.json".into(), FIXTURE_POLICY.into()));
        cases.push(Case { name: format!("tests/fixtures/analysis/{}", path.file_name().unwrap().to_string_lossy()), files });
    }
    cases
}

/// Inserted text: Python tokens, line breaks of every kind, characters of
/// two, three and four UTF-8 bytes (the last a surrogate pair in UTF-16),
/// a combining accent, a BOM and a NUL in the middle of a file.
const PY_SNIPPETS: &[&str] = &[
    "x", " ", "    ", "\t", "\n", "\r\n", "\r", "\n\n", "é", "日本語", "😀", "🎉 コメント", "e\u{301}", "\u{feff}", "\0",
    "(", ")", "[", "]", "{", "}", ":", ",", "=", ".", "'", "\"", "'''", "\"\"\"", "#", "\\", "\\\n", "@", "*", "**",
    "import boto3\n", "boto3", "s3", ".client('s3')", ".resource('dynamodb')", ".Table('t').scan()", ".list_buckets()",
    "def f(a, *b, **c):\n    return a\n", "class C:\n    pass\n", "lambda: 0", "async ", "await ", "global s3\n",
    "@app.route('/')\n", "def handler(event, context):\n    ", "if x:\n    pass\nelse:\n    pass\n",
    "try:\n    pass\nexcept Exception:\n    pass\n", "with open('f') as fh:\n    ", "[c for c in s3.list_buckets()]",
    "from chalicelib import db\n", "s3 = boto3.client('s3')\r\n", "f'{s3}'", "x: int = 1\n", "match x:\n    case 1:\n        pass\n",
];

const JSON_SNIPPETS: &[&str] = &[
    "{", "}", "[", "]", ",", ":", "\"", " ", "\n", "\r\n", "\t", "null", "true", "false", "0", "-1.5e3", "NaN", "😀", "\\u00e9",
    "\"stages\"", "\"dev\"", "\"prod\"", "\"autogen_policy\": false", "\"autogen_policy\": \"false\"",
    "\"iam_policy_file\": \"policy-prod.json\"", "\"iam_policy_file\": \"../outside.json\"", "\"manage_iam_role\": false",
    "\"lambda_functions\": {}", "\"Statement\"", "\"Effect\": \"Deny\"", "\"Action\": \"s3:*\"", "\"NotAction\": [\"iam:*\"]",
    "\"Resource\": \"*\"", "{\"Effect\": \"Allow\", \"Action\": \"dynamodb:Query\", \"Resource\": \"*\"}",
];

/// One open document as the client knows it.
struct Model {
    uri: Uri,
    language: &'static str,
    text: String,
    version: i32,
}

/// A position somewhere in `text`, usually on a character boundary,
/// sometimes past the end of a line or of the text, or inside a character.
fn random_position(rng: &mut Rng, text: &str, encoding: PositionEncoding) -> Position {
    let lines = reference_lines(text);
    if rng.chance(8) {
        // Anything at all, clamped by the server.
        return Position::new(rng.below(lines.len() + 3) as u32, rng.below(120) as u32);
    }
    let line = rng.below(lines.len());
    let (start, end) = lines[line];
    let boundaries: Vec<usize> = (start..=end).filter(|&i| text.is_char_boundary(i)).collect();
    let offset = *rng.pick(&boundaries);
    let (l, mut c) = reference_position(text, offset, encoding);
    if rng.chance(5) {
        c += 1 + rng.below(3) as u32; // maybe inside a character, maybe past the end
    }
    Position::new(l, c)
}

fn line_start(text: &str, rng: &mut Rng) -> Position {
    let lines = reference_lines(text);
    Position::new(rng.below(lines.len() + 1) as u32, 0)
}

fn ranged(start: Position, end: Position, text: &str) -> TextDocumentContentChangeEvent {
    TextDocumentContentChangeEvent { range: Some(Range::new(start, end)), range_length: None, text: text.to_owned() }
}

/// One content change against `text` and the text after it.
pub(super) fn random_change(
    rng: &mut Rng,
    text: &str,
    encoding: PositionEncoding,
    snippets: &[&str],
    pastes: &[String],
) -> (TextDocumentContentChangeEvent, String) {
    let kind = rng.below(100);
    let change = if kind < 97 {
        let (start, end, insert) = match kind {
            // Typing.
            0..=39 => {
                let at = random_position(rng, text, encoding);
                (at, at, rng.pick(snippets).to_string())
            }
            // Deleting near the cursor, or a selection.
            40..=59 => {
                let start = random_position(rng, text, encoding);
                let end = if rng.chance(70) {
                    Position::new(start.line, start.character + 1 + rng.below(6) as u32)
                } else {
                    random_position(rng, text, encoding)
                };
                (start, end, String::new())
            }
            // Replacing a selection.
            60..=71 => (random_position(rng, text, encoding), random_position(rng, text, encoding), rng.pick(snippets).to_string()),
            // Pasting whole lines.
            72..=84 => {
                let at = line_start(text, rng);
                let eol = if rng.chance(30) { "\r\n" } else { "\n" };
                let count = 1 + rng.below(4);
                let lines: String = (0..count).map(|_| format!("{}{eol}", rng.pick(pastes))).collect();
                (at, at, lines)
            }
            // Deleting whole lines.
            85..=92 => {
                let start = line_start(text, rng);
                (start, Position::new(start.line + 1 + rng.below(3) as u32, 0), String::new())
            }
            // Ends given in reverse order, or both far outside the text.
            _ => {
                let a = random_position(rng, text, encoding);
                let b = random_position(rng, text, encoding);
                let far = Position::new(u32::MAX - rng.below(2) as u32, u32::MAX);
                if rng.chance(50) {
                    (a.max(b), a.min(b), rng.pick(snippets).to_string())
                } else {
                    (far, far, rng.pick(snippets).to_string())
                }
            }
        };
        ranged(start, end, &insert)
    } else {
        // A whole-document replacement: the text with a slice cut out or
        // doubled (what "reload from disk" or a formatter sends).
        let cuts: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
        let (a, b) = (*rng.pick(&cuts), *rng.pick(&cuts));
        let (a, b) = (a.min(b), a.max(b));
        let new = if rng.chance(50) { format!("{}{}", &text[..a], &text[b..]) } else { format!("{}{}", &text[..b], &text[a..]) };
        TextDocumentContentChangeEvent { range: None, range_length: None, text: new }
    };
    let expected = match change.range {
        None => change.text.clone(),
        Some(range) => {
            let a = reference_offset(text, range.start.line, range.start.character, encoding);
            let b = reference_offset(text, range.end.line, range.end.character, encoding);
            let mut new = text.to_owned();
            new.replace_range(a.min(b)..a.max(b), &change.text);
            new
        }
    };
    (change, expected)
}

/// tree-sitter's point of a byte offset, counted naively: rows end at `\n`
/// only, columns are bytes.
fn reference_point(text: &str, offset: usize) -> tree_sitter::Point {
    let before = &text.as_bytes()[..offset];
    let row = before.iter().filter(|&&b| b == b'\n').count();
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count();
    tree_sitter::Point::new(row, column)
}

/// The edit the document hands tree-sitter for a change must describe it
/// exactly. A wrong point mostly goes unnoticed by the reparse (the changed
/// region is lexed again), so it is checked here, against the text before
/// and after, rather than through the tree.
fn check_input_edit(text: &str, range: Range, insert: &str, encoding: PositionEncoding) -> Result<(), String> {
    let a = reference_offset(text, range.start.line, range.start.character, encoding);
    let b = reference_offset(text, range.end.line, range.end.character, encoding);
    let (start, end) = (a.min(b), a.max(b));
    let after = format!("{}{insert}{}", &text[..start], &text[end..]);
    let got = input_edit(text, start, end, insert);
    let expected = tree_sitter::InputEdit {
        start_byte: start,
        old_end_byte: end,
        new_end_byte: start + insert.len(),
        start_position: reference_point(text, start),
        old_end_position: reference_point(text, end),
        new_end_position: reference_point(&after, start + insert.len()),
    };
    if got != expected {
        return Err(format!("input edit for {range:?} {insert:?} in {text:?}: {got:?}, expected {expected:?}"));
    }
    Ok(())
}

/// What a client holds after the publishes it was sent: per URI, the last
/// version and diagnostics.
type ClientView = BTreeMap<String, (Option<i32>, Vec<lsp::Diagnostic>)>;

fn drain(queue: &mut OutboxQueue, view: &mut ClientView, errors: &mut Vec<String>) {
    while let Ok(message) = queue.try_recv() {
        match message {
            Outgoing::Diagnostics(file) => {
                view.insert(file.uri.as_str().to_owned(), (file.version, file.diagnostics.iter().map(|d| (**d).clone()).collect()));
            }
            Outgoing::Log { level, message } if level == MessageType::ERROR => errors.push(message),
            Outgoing::Log { .. } => {}
        }
    }
}

/// A session with the project at `root` loaded and `documents` open.
fn open_session(root: &Path, encoding: PositionEncoding, documents: &[Model]) -> (Session, OutboxQueue) {
    let (outbox, queue) = Outbox::new();
    let mut session = Session::new(outbox.clone());
    session.encoding = encoding;
    session.set_folders(vec![root.to_path_buf()]);
    session.add_loaded_projects(load_all(&[root.to_path_buf()], &Settings::default(), &outbox));
    for d in documents {
        session.open_document(Document::new(d.uri.clone(), d.language, d.text.clone(), d.version));
    }
    (session, queue)
}

/// An empty list and no list show the same: a file the engine stopped
/// reporting on (a policy file config.json no longer names) is sent an empty
/// list once, and a new session sends it nothing.
fn normalized(view: ClientView) -> ClientView {
    view.into_iter().filter(|(_, (_, d))| !d.is_empty()).collect()
}

pub(super) struct Outcome {
    pub edits: usize,
    pub diagnostics_runs: usize,
    /// Of those, how many gave the last run's diagnostics, moved.
    pub moved: usize,
    /// Versions read provisionally from an edited tree with syntax errors
    /// at the end of the sequence, and how many of them a fresh parse read
    /// differently (see `project::Unverified`).
    pub provisional: usize,
    pub reread: usize,
}

/// `case`'s files written to a new temporary directory (removed when the
/// first value is dropped), and the directory's canonical path.
fn written(case: &Case) -> Result<(tempfile::TempDir, PathBuf), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = dir.path().canonicalize().map_err(|e| e.to_string())?;
    for (rel, text) in &case.files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    Ok((dir, root))
}

/// Runs one sequence of about `budget` edits on a case picked by `seed`.
fn run_sequence(cases: &[Case], pastes: &(Vec<String>, Vec<String>), seed: u64, budget: usize) -> Result<Outcome, String> {
    let mut rng = Rng::new(seed);
    let case = rng.pick(cases);
    let encoding = if rng.chance(50) { PositionEncoding::Utf8 } else { PositionEncoding::Utf16 };
    let (_dir, root) = written(case)?;
    let mut models: Vec<Model> = Vec::new();
    for (rel, text) in &case.files {
        let open = match rel.as_str() {
            "app.py" => true,
            r if r.ends_with(".py") => rng.chance(30),
            _ => rng.chance(12),
        };
        if open {
            let language = if rel.ends_with(".py") { "python" } else { "json" };
            let uri = convert::file_uri(&root.join(rel)).unwrap();
            models.push(Model { uri, language, text: text.clone(), version: 1 });
        }
    }
    if models.is_empty() {
        return Ok(Outcome { edits: 0, diagnostics_runs: 0, moved: 0, provisional: 0, reread: 0 });
    }
    let (mut session, mut queue) = open_session(&root, encoding, &models);
    let mut client = ClientView::new();
    let mut errors = Vec::new();
    let mut log = Vec::new();
    let (mut edits, mut runs) = (0, 0);
    while edits < budget {
        let d = rng.below(models.len());
        let model = &mut models[d];
        let (snippets, pastes) = if model.language == "python" { (PY_SNIPPETS, &pastes.0) } else { (JSON_SNIPPETS, &pastes.1) };
        let mut text = model.text.clone();
        let mut changes = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let (change, after) = random_change(&mut rng, &text, encoding, snippets, pastes);
            if let Some(range) = change.range {
                check_input_edit(&text, range, &change.text, encoding)?;
            }
            changes.push(change);
            text = after;
        }
        let document = session.documents.get_mut(&model.uri).unwrap();
        if rng.chance(4) {
            // A duplicate or out-of-order notification changes nothing.
            let stale = model.version - rng.below(2) as i32;
            let outcome = document.apply_changes(stale, &changes, encoding);
            if outcome != (ChangeOutcome::NotNewer { current: model.version }) || document.text() != model.text {
                return Err(format!("version {stale} after {} was applied: {outcome:?}", model.version));
            }
        }
        // Versions only have to increase; editors skip some.
        model.version += 1 + if rng.chance(10) { rng.below(5) as i32 } else { 0 };
        log.push(json!({ "uri": model.uri.as_str(), "version": model.version, "changes": changes }));
        edits += changes.len();
        if document.apply_changes(model.version, &changes, encoding) != ChangeOutcome::Applied {
            return Err(format!("version {} was not applied", model.version));
        }
        model.text = text;
        session.document_changed(&model.uri);
        if rng.chance(12) {
            session.publish_stale();
            drain(&mut queue, &mut client, &mut errors);
            runs += 1;
        }
    }
    let failure = |what: String| {
        let file = std::env::temp_dir().join(format!("chalice-iam-fuzz-{seed}.json"));
        let initial: BTreeMap<&str, &str> = case.files.iter().map(|(r, t)| (r.as_str(), t.as_str())).collect();
        let record = json!({ "case": case.name, "encoding": format!("{encoding:?}"), "files": initial, "notifications": log });
        let _ = std::fs::write(&file, serde_json::to_string_pretty(&record).unwrap_or_default());
        format!("{what}\n(case {}, {encoding:?}; edits written to {})", case.name, file.display())
    };
    for model in &models {
        let document = session.documents.get(&model.uri).unwrap();
        if document.text() != model.text {
            return Err(failure(format!("{}: text {:?}, expected {:?}", model.uri.as_str(), document.text(), model.text)));
        }
        if document.line_index() != &LineIndex::new(document.text()) {
            return Err(failure(format!("{}: stale line index", model.uri.as_str())));
        }
        if let Some(tree) = document.tree() {
            let fresh = crate::python::parse(document.text(), None);
            // tree-sitter may recover from syntax errors differently when it
            // reuses an old tree; the engine then reads the text again from
            // a fresh parse (see `project::Unverified`), and the diagnostics
            // are compared below. Whenever either parse is free of errors,
            // they must agree.
            let both_broken = tree.root_node().has_error() && fresh.root_node().has_error();
            if !both_broken && dump(tree) != dump(&fresh) {
                return Err(failure(format!(
                    "{}: the incremental tree differs from a fresh parse of {:?}\n--- incremental\n{}--- fresh\n{}",
                    model.uri.as_str(),
                    document.text(),
                    dump(tree),
                    dump(&fresh)
                )));
            }
        }
    }
    // What the server's background check of provisional versions does once
    // the edits stop.
    let (provisional, reread) = session.settle_now();
    drain(&mut queue, &mut client, &mut errors);
    let (mut fresh_session, mut fresh_queue) = open_session(&root, encoding, &models);
    fresh_session.settle_now();
    let mut fresh = ClientView::new();
    drain(&mut fresh_queue, &mut fresh, &mut errors);
    if !errors.is_empty() {
        return Err(failure(format!("errors logged: {errors:?}")));
    }
    let (client, fresh) = (normalized(client), normalized(fresh));
    if client != fresh {
        let differing: Vec<String> = client
            .keys()
            .chain(fresh.keys())
            .filter(|uri| client.get(*uri) != fresh.get(*uri))
            .map(|uri| format!("{uri}:\n  after the edits {:?}\n  fresh open      {:?}", client.get(uri), fresh.get(uri)))
            .collect();
        let texts: Vec<String> = models.iter().map(|m| format!("{}: {:?}", m.uri.as_str(), m.text)).collect();
        return Err(failure(format!("diagnostics differ from a fresh open\n{}\nfinal texts:\n{}", differing.join("\n"), texts.join("\n"))));
    }
    // The fixes each diagnostic's data names are kept, and are those a
    // fresh open offers.
    for (uri, (_, diagnostics)) in &client {
        let Ok(uri) = uri.parse::<Uri>() else { continue };
        for diagnostic in diagnostics {
            let Some(data) = &diagnostic.data else { continue };
            let key = data["fix"].as_str().unwrap_or_default();
            let (after, fresh) = (session.fixes_named(&uri, key), fresh_session.fixes_named(&uri, key));
            if after.is_none() || after != fresh {
                return Err(failure(format!("{}: the fixes named {key} differ from a fresh open's\n  after the edits {after:?}\n  fresh open      {fresh:?}", uri.as_str())));
            }
        }
    }
    Ok(Outcome { edits, diagnostics_runs: runs + 1, moved: session.moved_checks(), provisional, reread })
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.replace('_', "").parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// Lines to paste: every line of the corpus's Python files, and of its
/// JSON files.
fn paste_lines(cases: &[Case]) -> (Vec<String>, Vec<String>) {
    let mut python = Vec::new();
    let mut json = Vec::new();
    for case in cases {
        for (rel, text) in &case.files {
            let target = if rel.ends_with(".py") { &mut python } else { &mut json };
            target.extend(text.lines().map(str::to_owned));
        }
    }
    python.sort();
    python.dedup();
    json.sort();
    json.dedup();
    (python, json)
}

/// Runs one sequence, turning a panic into an error that names its seed.
fn checked_sequence(cases: &[Case], pastes: &(Vec<String>, Vec<String>), seed: u64, budget: usize) -> Result<Outcome, String> {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_sequence(cases, pastes, seed, budget)));
    let result = run.unwrap_or_else(|panic| {
        let message = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
        Err(format!("panic: {}", message.unwrap_or_default()))
    });
    result.map_err(|e| format!("sequence {seed} failed (replay with CHALICE_IAM_FUZZ_SEQUENCE={seed}): {e}"))
}

/// How many edits a sequence makes: from its seed, so a replay matches.
fn sequence_budget(seed: u64) -> usize {
    10 + Rng::new(seed ^ 0xB0D6E7).below(150)
}

#[test]
fn random_edits_match_a_fresh_open() {
    let cases = corpus();
    assert!(cases.len() > 60, "corpus too small: {}", cases.len());
    let pastes = paste_lines(&cases);
    if let Ok(seed) = std::env::var("CHALICE_IAM_FUZZ_SEQUENCE") {
        let seed = seed.parse().expect("CHALICE_IAM_FUZZ_SEQUENCE is a sequence seed");
        checked_sequence(&cases, &pastes, seed, sequence_budget(seed)).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    let total = env_number("CHALICE_IAM_FUZZ_EDITS", 3_000) as usize;
    let seed = env_number("CHALICE_IAM_FUZZ_SEED", 1);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let done = AtomicUsize::new(0);
    let sequences = AtomicUsize::new(0);
    let (runs, moved) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let (provisional, reread) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (cases, pastes, done, sequences, runs) = (&cases, &pastes, &done, &sequences, &runs);
                let (moved, provisional, reread) = (&moved, &provisional, &reread);
                scope.spawn(move || {
                    let mut k = 0u64;
                    while done.load(Ordering::Relaxed) < total {
                        let sequence = seed.wrapping_mul(1_000_003).wrapping_add(k * workers as u64 + w as u64);
                        k += 1;
                        match checked_sequence(cases, pastes, sequence, sequence_budget(sequence)) {
                            Ok(o) => {
                                done.fetch_add(o.edits, Ordering::Relaxed);
                                runs.fetch_add(o.diagnostics_runs, Ordering::Relaxed);
                                moved.fetch_add(o.moved, Ordering::Relaxed);
                                provisional.fetch_add(o.provisional, Ordering::Relaxed);
                                reread.fetch_add(o.reread, Ordering::Relaxed);
                                sequences.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => return Some(e),
                        }
                    }
                    None
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().unwrap()).collect()
    });
    println!(
        "edit fuzz: {} edits in {} sequences ({} diagnostics runs, {} of them the last run's moved; {} provisional versions at the end, {} read again from a fresh parse) over {} projects, seed {seed}, {:.1}s",
        done.load(Ordering::Relaxed),
        sequences.load(Ordering::Relaxed),
        runs.load(Ordering::Relaxed),
        moved.load(Ordering::Relaxed),
        provisional.load(Ordering::Relaxed),
        reread.load(Ordering::Relaxed),
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Typing: one letter typed into or deleted from a name, a comment or a
/// string at a time, the project checked after each (as the language
/// server checks at each keystroke), in the corpus's Python files. Most
/// such keystrokes change nothing a check reads but places, and the check
/// then gives the last one's diagnostics moved (`Project::diagnostics`):
/// every such result, and every tenth of the others, must be what a fresh
/// project with the same texts reports. `CHALICE_IAM_FUZZ_KEYSTROKES` sets
/// the number of keystrokes (default 400 in a debug build, 2,000 in
/// release; `tests/robustness/run` types 20,000).
#[test]
fn typing_checked_at_every_keystroke_matches_a_fresh_project() {
    let cases: Vec<Case> = corpus().into_iter().filter(|c| c.files.iter().any(|(rel, _)| rel == "app.py")).collect();
    let total = env_number("CHALICE_IAM_FUZZ_KEYSTROKES", if cfg!(debug_assertions) { 400 } else { 2_000 }) as usize;
    let seed = env_number("CHALICE_IAM_FUZZ_SEED", 1);
    let mut rng = Rng::new(seed ^ 0x07E5_71A6);
    let (mut typed, mut moved, mut reused, mut compared, mut calls_taken) = (0, 0, 0, 0, 0);
    let started = Instant::now();
    while typed < total {
        let case = rng.pick(&cases);
        let (_dir, root) = written(case).unwrap();
        let python: Vec<&(String, String)> = case.files.iter().filter(|(rel, _)| rel.ends_with(".py")).collect();
        let mut texts: BTreeMap<String, String> = python.iter().map(|(rel, text)| (rel.clone(), text.clone())).collect();
        let mut project = crate::project::Project::load(&root, Settings::default()).unwrap();
        let _ = project.diagnostics();
        // A run of keystrokes in one file, then another file.
        for _ in 0..1 + rng.below(3) {
            let (rel, _) = rng.pick(&python);
            for _ in 0..5 + rng.below(60) {
                let text = texts.get_mut(rel).unwrap();
                let Some(next) = keystroke(&mut rng, text) else { break };
                *text = next;
                typed += 1;
                let before = (project.moved_checks(), project.reused_stage_views(), project.calls_taken_from_last_check());
                project.set_overlay(&root.join(rel), std::sync::Arc::from(text.as_str()), None);
                let diagnostics = project.diagnostics();
                let was_moved = project.moved_checks() > before.0;
                let views_reused = project.reused_stage_views() > before.1;
                moved += usize::from(was_moved);
                reused += usize::from(views_reused);
                calls_taken += project.calls_taken_from_last_check() - before.2;
                // (The random draw is made when it was before the stage
                // views were kept, so that a seed types what it typed.)
                let sampled = was_moved || rng.chance(10);
                if sampled || views_reused {
                    compared += 1;
                    let mut fresh = crate::project::Project::load(&root, Settings::default()).unwrap();
                    for (rel, text) in &texts {
                        fresh.set_overlay(&root.join(rel), std::sync::Arc::from(text.as_str()), None);
                    }
                    assert_eq!(
                        diagnostics,
                        fresh.diagnostics(),
                        "{}: after typing in {rel} (moved: {was_moved}, stage views reused: {views_reused}), text now:\n{}",
                        case.name,
                        texts[rel.as_str()]
                    );
                }
            }
        }
    }
    println!(
        "typing fuzz: {typed} keystrokes, {moved} checks moved, {reused} checked against the last stage views ({calls_taken} call sites' diagnostics taken from the last check), {compared} compared with a fresh project, seed {seed}, {:.1}s",
        started.elapsed().as_secs_f64()
    );
    // Most keystrokes in the corpus's small files land in module-level
    // code or in functions that return what they make, which evaluate
    // whole; enough others move the last check to make the comparison mean
    // something.
    assert!(moved * 20 > typed, "too few checks moved the last one's diagnostics: {moved} of {typed}");
    assert!(reused * 40 > typed, "too few checks used the last stage views: {reused} of {typed}");
    assert!(calls_taken > 0, "no call site's diagnostics were taken from the last check");
}

/// Keystrokes in app.py, each sent as one change and published at once, as
/// an editor's are (now and then a line broken or two joined, in both
/// encodings): every publish shows what a fresh open of the text shows, and
/// most diagnostics were found in the last list without converting them
/// (`Published::moved_off_the_line`).
#[test]
fn publishing_each_keystroke_shows_what_a_fresh_open_shows() {
    let cases: Vec<Case> = corpus().into_iter().filter(|c| c.files.iter().any(|(rel, text)| rel == "app.py" && text.contains("@app."))).collect();
    let mut rng = Rng::new(29);
    let (mut typed, mut compared, mut found) = (0, 0, 0);
    while typed < 1500 {
        let case = rng.pick(&cases);
        let (_dir, root) = written(case).unwrap();
        let encoding = if rng.chance(50) { PositionEncoding::Utf8 } else { PositionEncoding::Utf16 };
        let uri = convert::file_uri(&root.join("app.py")).unwrap();
        let mut text = case.files.iter().find(|(rel, _)| rel == "app.py").unwrap().1.clone();
        let mut model = Model { uri: uri.clone(), language: "python", text: text.clone(), version: 1 };
        let (mut session, mut queue) = open_session(&root, encoding, std::slice::from_ref(&model));
        let (mut client, mut errors) = (ClientView::new(), Vec::new());
        session.publish_stale();
        drain(&mut queue, &mut client, &mut errors);
        for _ in 0..30 + rng.below(50) {
            let next = if rng.chance(5) {
                let at = *rng.pick(&(0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect::<Vec<_>>());
                format!("{}\n{}", &text[..at], &text[at..])
            } else {
                let Some(next) = keystroke(&mut rng, &text) else { break };
                next
            };
            let edit = crate::analysis::TextEdit::between(&text, &next);
            let index = LineIndex::new(&text);
            let range = Range::new(index.position(&text, edit.start, encoding), index.position(&text, edit.old_end, encoding));
            let change = TextDocumentContentChangeEvent { range: Some(range), range_length: None, text: next[edit.start..edit.new_end].to_string() };
            model.version += 1;
            let document = session.documents.get_mut(&uri).unwrap();
            assert_eq!(document.apply_changes(model.version, &[change], encoding), ChangeOutcome::Applied);
            assert_eq!(document.text(), next);
            text = next;
            typed += 1;
            session.document_changed(&uri);
            session.publish_stale();
            drain(&mut queue, &mut client, &mut errors);
            if rng.chance(25) {
                compared += 1;
                model.text = text.clone();
                let (mut fresh_session, mut fresh_queue) = open_session(&root, encoding, std::slice::from_ref(&model));
                fresh_session.publish_stale();
                let mut fresh = ClientView::new();
                drain(&mut fresh_queue, &mut fresh, &mut errors);
                assert_eq!(client.get(uri.as_str()), fresh.get(uri.as_str()), "{}, {encoding:?}, after {typed} keystrokes:\n{text}", case.name);
            }
        }
        assert!(errors.is_empty(), "{errors:?}");
        found += session.found_off_the_line;
    }
    assert!(compared > 200 && found > typed, "{compared} compared, {found} diagnostics found off the edited line in {typed} keystrokes");
}

/// `text` with one ASCII letter typed next to, or deleted from, a run of
/// letters (a name, or a word in a comment or a string); `None` when it has
/// no letters.
fn keystroke(rng: &mut Rng, text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let letters: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i].is_ascii_alphabetic()).collect();
    if letters.is_empty() {
        return None;
    }
    let at = *rng.pick(&letters);
    let mut next = text.to_string();
    if rng.chance(60) {
        let letter = (b'a' + rng.below(26) as u8) as char;
        next.insert(at + usize::from(rng.chance(50)), letter);
    } else {
        next.remove(at);
    }
    Some(next)
}
