//! Diagnostics: what the code needs minus what the stage's role grants, per
//! call site, plus problems in `.chalice/config.json` and the policy file.
//! Plain data in byte offsets; `lsp` and `cli` render them.

pub mod check;
pub mod codes;
#[cfg(test)]
mod edit_props;

pub use codes::{code_doc, CodeDoc};

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::TextRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
    Hint,
}

/// One finding, located by file and byte range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Absolute path of the file the diagnostic is on.
    pub path: std::sync::Arc<std::path::Path>,
    pub range: TextRange,
    pub severity: Severity,
    /// Stable code, documented in `docs/diagnostics.md` (e.g. `CIAM001`).
    pub code: &'static str,
    /// Shared with the copies of the diagnostic (see `fixes`).
    pub message: std::sync::Arc<str>,
    /// Fixes computed together with the diagnostic, against the exact texts
    /// it was computed from. Shared, not copied, by the copies of the
    /// diagnostic: the language server moves a file's diagnostics with the
    /// text at each keystroke, and compares each with the one it last
    /// published, which is found equal by address.
    pub fixes: std::sync::Arc<[Fix]>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub title: String,
    /// Shared, not copied, by the diagnostics a fix is offered on: every
    /// call site with the same gap in the same role gets the same edits,
    /// which can hold a whole policy document.
    pub edits: std::sync::Arc<[FileEdit]>,
}

/// An edit to one file. Ranges are byte offsets into the text the fix was
/// computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileEdit {
    /// Create a file that does not exist yet.
    Create { path: PathBuf, text: String },
    /// Replace `range` of an existing file with `new_text`.
    Replace { path: PathBuf, range: TextRange, new_text: String },
}

impl FileEdit {
    /// The file the edit creates or changes.
    pub fn path(&self) -> &Path {
        match self {
            FileEdit::Create { path, .. } | FileEdit::Replace { path, .. } => path,
        }
    }
}
