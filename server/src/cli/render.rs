//! Output formats of `chalice-iam check`: text with code frames (like rustc
//! and ruff), JSON, SARIF 2.1.0 and GitHub Actions annotations.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::diagnostics::{Diagnostic, Severity};

/// A 1-based line and column; columns count Unicode scalar values for
/// text/GitHub and UTF-16 code units for SARIF (its default column kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
    pub col_utf16: usize,
}

/// Converts byte offsets of one file to lines and columns.
pub struct SourceLines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> SourceLines<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceLines { text, starts }
    }

    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let before = &self.text[self.starts[line]..offset];
        LineCol { line: line + 1, col: before.chars().count() + 1, col_utf16: before.encode_utf16().count() + 1 }
    }

    /// The text of 1-based line `line`, without its line ending.
    pub fn line_text(&self, line: usize) -> &'a str {
        let start = self.starts.get(line - 1).copied().unwrap_or(self.text.len());
        let end = self.starts.get(line).copied().unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Diagnostics with the texts of the files they point into.
pub struct Report<'a> {
    pub diagnostics: &'a [Diagnostic],
    /// Each file a diagnostic points into, once.
    files: Vec<ReportFile<'a>>,
    /// Per diagnostic, its file's index in `files`.
    file_of: Vec<usize>,
}

/// A file as the report shows it: its line index and its path as printed.
struct ReportFile<'a> {
    lines: SourceLines<'a>,
    /// Relative to the report's base directory when under it.
    display: String,
}

/// Diagnostics rendered by one thread at a time: findings are rendered on
/// every core, in order. Each takes a microsecond or two, so the 900 of the
/// 5,000-line benchmark app are already worth spreading.
const RENDERED_TOGETHER: usize = 128;

impl<'a> Report<'a> {
    /// `base`: paths are shown relative to this directory when under it.
    pub fn new(diagnostics: &'a [Diagnostic], texts: &'a BTreeMap<PathBuf, Arc<str>>, base: &'a Path) -> Self {
        use rayon::prelude::*;
        // A file's diagnostics share its path (one `Arc`): it is found by
        // address, and compared as a path only the first time. Comparing
        // paths for every diagnostic took a millisecond of the 50,000-line
        // project's 1,500 findings.
        let mut by_address: HashMap<*const Path, usize> = HashMap::new();
        let mut by_path: BTreeMap<&'a Path, usize> = BTreeMap::new();
        let mut paths: Vec<&'a Path> = Vec::new();
        let file_of = diagnostics
            .iter()
            .map(|d| {
                *by_address.entry(Arc::as_ptr(&d.path)).or_insert_with(|| {
                    *by_path.entry(&*d.path).or_insert_with(|| {
                        paths.push(&*d.path);
                        paths.len() - 1
                    })
                })
            })
            .collect();
        let files = paths
            .par_iter()
            .map(|&path| ReportFile {
                lines: SourceLines::new(texts.get(path).map(|t| &**t).unwrap_or("")),
                display: path.strip_prefix(base).unwrap_or(path).display().to_string(),
            })
            .collect();
        Report { diagnostics, files, file_of }
    }
}

impl<'a> Report<'a> {
    /// The file the `i`th diagnostic points into.
    fn file(&self, i: usize) -> &ReportFile<'a> {
        &self.files[self.file_of[i]]
    }

    fn span(&self, i: usize) -> (LineCol, LineCol) {
        let (lines, range) = (&self.file(i).lines, self.diagnostics[i].range);
        (lines.line_col(range.start), lines.line_col(range.end))
    }

    /// `render` of every diagnostic (with its index), in order, on every
    /// core.
    fn each<T: Send>(&self, render: impl Fn(usize, &Diagnostic) -> T + Sync + Send) -> Vec<T> {
        use rayon::prelude::*;
        self.diagnostics.par_iter().enumerate().with_min_len(RENDERED_TOGETHER).map(|(i, d)| render(i, d)).collect()
    }

    /// What `render` writes for each diagnostic (with its index), one after
    /// another.
    fn concatenated(&self, render: impl Fn(&mut String, usize, &Diagnostic) + Sync + Send) -> String {
        use rayon::prelude::*;
        let parts: Vec<String> = self
            .diagnostics
            .par_chunks(RENDERED_TOGETHER)
            .enumerate()
            .map(|(chunk_index, chunk)| {
                let mut out = String::new();
                for (offset, d) in chunk.iter().enumerate() {
                    render(&mut out, chunk_index * RENDERED_TOGETHER + offset, d);
                }
                out
            })
            .collect();
        parts.concat()
    }

    pub fn text(&self) -> String {
        let mut out = self.concatenated(|out, i, d| {
            let (start, end) = self.span(i);
            let file = self.file(i);
            let lines = &file.lines;
            let gutter = start.line.to_string().len();
            let pad = " ".repeat(gutter);
            let _ = writeln!(out, "{}[{}]: {}", severity_word(d.severity), d.code, d.message);
            let _ = writeln!(out, "{pad}--> {}:{}:{}", file.display, start.line, start.col);
            let _ = writeln!(out, "{pad} |");
            // The first line of the range, underlined to the range's end or
            // the end of the line; a range going on is marked with `...`.
            let src = lines.line_text(start.line);
            let _ = writeln!(out, "{:>gutter$} | {}", start.line, src.replace('\t', "    "));
            let to = if end.line == start.line { end.col } else { src.chars().count() + 1 };
            let width = to.saturating_sub(start.col).max(1);
            let lead: String = src.chars().take(start.col - 1).map(|c| if c == '\t' { "    " } else { " " }).collect();
            let more = if end.line > start.line { " ..." } else { "" };
            let _ = writeln!(out, "{pad} | {lead}{}{more}", "^".repeat(width));
            for f in d.fixes.iter() {
                let _ = writeln!(out, "{pad} = fix: {}", f.title);
            }
            out.push('\n');
        });
        let (errors, warnings, others) = counts(self.diagnostics);
        if self.diagnostics.is_empty() {
            out.push_str("No problems found.\n");
        } else {
            let _ = writeln!(out, "Found {} problem{} ({errors} error{}, {warnings} warning{}, {others} other).",
                self.diagnostics.len(), plural(self.diagnostics.len()), plural(errors), plural(warnings));
        }
        out
    }

    pub fn json(&self) -> String {
        let items: Vec<Value> = self.each(|i, d| {
            let (s, e) = self.span(i);
            json!({
                "path": self.file(i).display,
                "code": d.code,
                "severity": d.severity,
                "message": d.message,
                "range": {
                    "start": {"line": s.line, "column": s.col, "offset": d.range.start},
                    "end": {"line": e.line, "column": e.col, "offset": d.range.end}
                },
                "fixes": d.fixes.iter().map(|f| json!({"title": f.title, "edits": f.edits})).collect::<Vec<_>>(),
            })
        });
        let mut s = serde_json::to_string_pretty(&items).unwrap_or_default();
        s.push('\n');
        s
    }

    pub fn sarif(&self) -> String {
        let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
        for d in self.diagnostics {
            rules.entry(d.code).or_insert_with(|| {
                let doc = crate::diagnostics::code_doc(d.code);
                json!({
                    "id": d.code,
                    "name": doc.map(|c| c.name).unwrap_or(d.code),
                    "shortDescription": {"text": doc.map(|c| c.summary).unwrap_or(d.code)},
                    "helpUri": format!("docs/diagnostics.md#{}", d.code.to_ascii_lowercase()),
                })
            });
        }
        let results: Vec<Value> = self.each(|i, d| {
            let (s, e) = self.span(i);
            json!({
                "ruleId": d.code,
                "level": match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info | Severity::Hint => "note",
                },
                "message": {"text": d.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": self.file(i).display.replace('\\', "/")},
                        "region": {
                            "startLine": s.line, "startColumn": s.col_utf16,
                            "endLine": e.line, "endColumn": e.col_utf16
                        }
                    }
                }]
            })
        });
        let doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "chalice-iam",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules.into_values().collect::<Vec<_>>()
                }},
                "results": results
            }]
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        s
    }

    /// GitHub Actions workflow commands (`::warning file=...::message`).
    pub fn github(&self) -> String {
        self.concatenated(|out, i, d| {
            let (s, e) = self.span(i);
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info | Severity::Hint => "notice",
            };
            let _ = writeln!(
                out,
                "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                escape_property(&self.file(i).display),
                s.line,
                s.col,
                e.line,
                e.col,
                escape_property(d.code),
                escape_data(&d.message)
            );
        })
    }
}

fn counts(ds: &[Diagnostic]) -> (usize, usize, usize) {
    let errors = ds.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = ds.iter().filter(|d| d.severity == Severity::Warning).count();
    (errors, warnings, ds.len() - errors - warnings)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
        Severity::Hint => "hint",
    }
}

/// GitHub's escaping for the message part of a workflow command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// GitHub's escaping for property values of a workflow command.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_columns_count_characters_and_utf16_units() {
        let text = "a = 1\r\n# 日本語😀 x\nlast";
        let l = SourceLines::new(text);
        let x = text.find(" x").unwrap() + 1;
        assert_eq!(l.line_col(x), LineCol { line: 2, col: 8, col_utf16: 9 });
        assert_eq!(l.line_text(1), "a = 1");
        assert_eq!(l.line_col(text.len()), LineCol { line: 3, col: 5, col_utf16: 5 });
        // An offset inside a multi-byte character is clamped to its start.
        assert_eq!(l.line_col(text.find('日').unwrap() + 1).col, 3);
    }
}
