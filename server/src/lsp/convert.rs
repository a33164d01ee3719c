//! Every conversion between the engine's plain data (paths, byte ranges,
//! [`crate::diagnostics`]) and LSP types happens here, against the exact text
//! the byte offsets refer to.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::{
    self as lsp, CreateFile, DiagnosticSeverity, DocumentChangeOperation, DocumentChanges, NumberOrString, OneOf,
    OptionalVersionedTextDocumentIdentifier, Position, Range, ResourceOp, TextDocumentEdit, TextEdit, Uri,
    WorkspaceEdit,
};

use super::line_index::{LineIndex, PositionEncoding};
use crate::analysis::TextRange;
use crate::diagnostics::{Diagnostic, FileEdit, Fix, Severity};

/// `Diagnostic.source` of everything this server reports.
pub const SOURCE: &str = "chalice-iam";

/// One file's text as the engine saw it: the open document's, or the disk's.
#[derive(Debug)]
pub struct FileView<'a> {
    pub uri: Uri,
    /// The open document's version; `None` when the text came from disk.
    pub version: Option<i32>,
    pub text: Cow<'a, str>,
    pub line_index: Cow<'a, LineIndex>,
}

impl FileView<'_> {
    pub fn range(&self, range: TextRange, encoding: PositionEncoding) -> Range {
        Range::new(self.position(range.start, encoding), self.position(range.end, encoding))
    }

    pub fn position(&self, offset: usize, encoding: PositionEncoding) -> Position {
        self.line_index.position(&self.text, offset, encoding)
    }

    pub fn offset(&self, position: Position, encoding: PositionEncoding) -> usize {
        self.line_index.offset(&self.text, position, encoding)
    }
}

/// What the client may do with a `WorkspaceEdit`
/// (`workspace.workspaceEdit` client capabilities).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EditSupport {
    pub document_changes: bool,
    pub create_files: bool,
}

/// A fix with its edits already in LSP coordinates, carried in
/// `Diagnostic.data`. Code actions are built from it rather than from the
/// range the client sends back, which some clients (Neovim 0.7) report in
/// byte columns whatever the negotiated encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixData {
    pub title: String,
    pub edits: Vec<EditData>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EditData {
    Create {
        uri: Uri,
        text: String,
    },
    Replace {
        uri: Uri,
        /// The version of the document the range refers to, so the client
        /// refuses the edit once the document has moved on.
        version: Option<i32>,
        range: Range,
        new_text: String,
    },
}

/// `Diagnostic.data`: which of the fixes the server keeps for the project
/// the diagnostic's are (see [`FixKeys::key`]). The fixes themselves are not
/// carried: a large app has thousands of diagnostics sharing a handful of
/// fixes, each with a whole policy document, and every keystroke would send
/// and compare them all again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticData {
    pub fix: String,
}

/// Names the fixes of the diagnostics of one computation (see
/// [`FixKeys::key`]). Diagnostics share their fixes' edits (see
/// [`Fix::edits`]): each shared list of edits, which can hold a whole policy
/// document, is hashed once rather than once per diagnostic.
pub struct FixKeys<'a> {
    root: &'a Path,
    views: &'a HashMap<PathBuf, FileView<'a>>,
    /// By the address of a shared list of edits, which is kept alive here
    /// so that the address cannot be reused for another list.
    hashed: HashMap<*const FileEdit, (std::sync::Arc<[FileEdit]>, u64)>,
}

impl<'a> FixKeys<'a> {
    pub fn new(root: &'a Path, views: &'a HashMap<PathBuf, FileView<'a>>) -> Self {
        FixKeys { root, views, hashed: HashMap::new() }
    }

    /// A name for a diagnostic's fixes as they would be converted against
    /// `views`: a hash of their titles and edits (paths relative to `root`, so
    /// that the name does not depend on where the project lies) and of the
    /// version of every document they edit. Equal fixes get equal names in any
    /// session; a fix of another version of a document gets another one.
    pub fn key(&mut self, fixes: &[Fix]) -> String {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        fixes.len().hash(&mut hasher);
        for fix in fixes {
            fix.title.hash(&mut hasher);
            let (root, views) = (self.root, self.views);
            let (_, edits_hash) = self.hashed.entry(fix.edits.as_ptr()).or_insert_with(|| (fix.edits.clone(), hash_edits(&fix.edits, root, views)));
            edits_hash.hash(&mut hasher);
        }
        format!("{:016x}", hasher.finish())
    }
}

/// A hash of edits (paths relative to `root`) and of the version of every
/// document they edit.
fn hash_edits(edits: &[FileEdit], root: &Path, views: &HashMap<PathBuf, FileView>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    let relative = |path: &Path| path.strip_prefix(root).unwrap_or(path).to_path_buf();
    edits.len().hash(&mut hasher);
    for edit in edits {
        match edit {
            FileEdit::Create { path, text } => {
                (0u8, relative(path), text).hash(&mut hasher);
            }
            FileEdit::Replace { path, range, new_text } => {
                let version = views.get(path).map(|v| v.version);
                (1u8, relative(path), version, range, new_text).hash(&mut hasher);
            }
        }
    }
    hasher.finish()
}

pub fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

/// The LSP diagnostic for `diagnostic`, whose range converts to `range`.
/// `fix` is the name of its fixes (see [`FixKeys::key`]), when it has any
/// that can be offered.
pub fn diagnostic(diagnostic: &Diagnostic, range: Range, fix: Option<String>) -> lsp::Diagnostic {
    let data = fix.map(|fix| serde_json::json!({ "fix": fix }));
    lsp::Diagnostic {
        range,
        severity: Some(severity(diagnostic.severity)),
        code: Some(NumberOrString::String(diagnostic.code.to_owned())),
        source: Some(SOURCE.to_owned()),
        message: diagnostic.message.to_string(),
        data,
        ..Default::default()
    }
}

/// Converts a fix's byte-offset edits. `views` holds the text each edited
/// file had when the fix was computed (see [`edited_files`]). `None` when
/// an edited file has none (then the fix cannot be offered).
pub fn fix_data(fix: &Fix, views: &HashMap<PathBuf, FileView>, encoding: PositionEncoding) -> Option<FixData> {
    let mut edits = Vec::with_capacity(fix.edits.len());
    for edit in fix.edits.iter() {
        edits.push(match edit {
            FileEdit::Create { path, text } => EditData::Create { uri: file_uri(path)?, text: text.clone() },
            FileEdit::Replace { path, range, new_text } => {
                let file = views.get(path)?;
                EditData::Replace {
                    range: file.range(*range, encoding),
                    uri: file.uri.clone(),
                    version: file.version,
                    new_text: new_text.clone(),
                }
            }
        });
    }
    Some(FixData { title: fix.title.clone(), edits })
}

/// The name [`FixKeys::key`] gave a converted diagnostic's fixes, from
/// its `data`.
pub fn fix_key_of(diagnostic: &lsp::Diagnostic) -> Option<&str> {
    diagnostic.data.as_ref()?.get("fix")?.as_str()
}

/// What the names of fixes depend on besides the fixes: each edited file's
/// version and text (a hash of it), by path.
pub fn fix_documents(views: &HashMap<PathBuf, FileView>) -> Vec<(PathBuf, Option<i32>, u64)> {
    use std::hash::{Hash, Hasher};
    let mut documents: Vec<(PathBuf, Option<i32>, u64)> = views
        .iter()
        .map(|(path, view)| {
            let mut hasher = rustc_hash::FxHasher::default();
            view.text.hash(&mut hasher);
            (path.clone(), view.version, hasher.finish())
        })
        .collect();
    documents.sort();
    documents
}

/// The existing files `fixes` edit, whose texts [`fix_data`] needs.
pub fn edited_files<'a>(fixes: impl IntoIterator<Item = &'a Fix>) -> BTreeSet<&'a Path> {
    // Call sites with the same gap share one list of edits: each list is
    // read once (a large file has hundreds of diagnostics with fixes).
    let mut seen: rustc_hash::FxHashSet<*const FileEdit> = rustc_hash::FxHashSet::default();
    let edits = fixes.into_iter().filter(|fix| seen.insert(fix.edits.as_ptr())).flat_map(|fix| fix.edits.iter());
    edits
        .filter_map(|edit| match edit {
            FileEdit::Replace { path, .. } => Some(path.as_path()),
            FileEdit::Create { .. } => None,
        })
        .collect()
}

/// The workspace edit for a fix, in the richest form the client supports:
/// `documentChanges` with a `CreateFile` operation followed by the file's
/// content, or plain `changes` (inserting into the new file's URI, which
/// clients without resource operations open as an empty buffer).
pub fn workspace_edit(fix: &FixData, support: EditSupport) -> WorkspaceEdit {
    let creates = fix.edits.iter().any(|e| matches!(e, EditData::Create { .. }));
    if !support.document_changes || (creates && !support.create_files) {
        let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
        for edit in &fix.edits {
            let (uri, text_edit) = match edit {
                EditData::Create { uri, text } => (uri, insert_at_start(text)),
                EditData::Replace { uri, range, new_text, .. } => (uri, TextEdit::new(*range, new_text.clone())),
            };
            changes.entry(uri.clone()).or_default().push(text_edit);
        }
        return WorkspaceEdit { changes: Some(changes), ..Default::default() };
    }

    let mut operations: Vec<DocumentChangeOperation> = Vec::new();
    for edit in &fix.edits {
        match edit {
            EditData::Create { uri, text } => {
                operations.push(DocumentChangeOperation::Op(ResourceOp::Create(CreateFile {
                    uri: uri.clone(),
                    // No overwrite and no ignore-if-exists: should the file
                    // have appeared since, the client refuses the whole edit
                    // instead of clobbering the file or prepending to it.
                    options: None,
                    annotation_id: None,
                })));
                operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
                    text_document: OptionalVersionedTextDocumentIdentifier { uri: uri.clone(), version: None },
                    edits: vec![OneOf::Left(insert_at_start(text))],
                }));
            }
            EditData::Replace { uri, version, range, new_text } => {
                let text_edit = OneOf::Left(TextEdit::new(*range, new_text.clone()));
                // Edits to one document go into one TextDocumentEdit: they all
                // refer to the same version of it.
                let same_document = operations.iter_mut().find_map(|op| match op {
                    DocumentChangeOperation::Edit(e) if e.text_document.uri == *uri => Some(e),
                    _ => None,
                });
                match same_document {
                    Some(document_edit) => document_edit.edits.push(text_edit),
                    None => operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
                        text_document: OptionalVersionedTextDocumentIdentifier { uri: uri.clone(), version: *version },
                        edits: vec![text_edit],
                    })),
                }
            }
        }
    }
    let document_changes = if creates {
        DocumentChanges::Operations(operations)
    } else {
        DocumentChanges::Edits(
            operations
                .into_iter()
                .filter_map(|op| match op {
                    DocumentChangeOperation::Edit(edit) => Some(edit),
                    DocumentChangeOperation::Op(_) => None,
                })
                .collect(),
        )
    };
    WorkspaceEdit { document_changes: Some(document_changes), ..Default::default() }
}

fn insert_at_start(text: &str) -> TextEdit {
    TextEdit::new(Range::new(Position::new(0, 0), Position::new(0, 0)), text.to_owned())
}

/// The `file:` URI of an absolute path (which need not exist).
pub fn file_uri(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::str::FromStr;

    use serde_json::json;

    use super::*;

    fn fix_key(fixes: &[Fix], root: &Path, views: &HashMap<PathBuf, FileView>) -> String {
        FixKeys::new(root, views).key(fixes)
    }

    fn view(uri: &str, version: Option<i32>, text: &str) -> FileView<'static> {
        FileView {
            uri: Uri::from_str(uri).unwrap(),
            version,
            line_index: Cow::Owned(LineIndex::new(text)),
            text: Cow::Owned(text.to_owned()),
        }
    }

    fn config_fix() -> Fix {
        Fix {
            title: "Grant dynamodb:Scan in custom-policy.json".into(),
            edits: vec![
                FileEdit::Replace {
                    path: PathBuf::from("/p/.chalice/config.json"),
                    range: TextRange::new(4, 4),
                    new_text: "\"autogen_policy\": false".into(),
                },
                FileEdit::Create { path: PathBuf::from("/p/.chalice/custom-policy.json"), text: "{}\n".into() },
            ]
            .into(),
        }
    }

    fn views() -> HashMap<PathBuf, FileView<'static>> {
        let config = view("file:///p/.chalice/config.json", Some(3), "{\n  \n}");
        HashMap::from([(PathBuf::from("/p/.chalice/config.json"), config)])
    }

    #[test]
    fn diagnostic_ranges_follow_the_encoding_and_carry_fixes() {
        let file = view("file:///p/app.py", Some(7), "# 日本😀\nt.scan()\n");
        let d = Diagnostic {
            path: PathBuf::from("/p/app.py").into(),
            range: TextRange::new(13, 21),
            severity: Severity::Warning,
            code: "CIAM001",
            message: "needs dynamodb:Scan".into(),
            fixes: vec![].into(),
        };
        let key = fix_key(&[config_fix()], Path::new("/p"), &views());
        let converted = diagnostic(&d, file.range(d.range, PositionEncoding::Utf16), Some(key.clone()));
        assert_eq!(converted.range, Range::new(Position::new(1, 0), Position::new(1, 8)));
        let data: DiagnosticData = serde_json::from_value(converted.data.clone().unwrap()).unwrap();
        assert_eq!(data.fix, key);
        let mut shown = serde_json::to_value(&converted).unwrap();
        shown["data"]["fix"] = "[key]".into();
        insta::assert_json_snapshot!(shown, @r#"
        {
          "range": {
            "start": {
              "line": 1,
              "character": 0
            },
            "end": {
              "line": 1,
              "character": 8
            }
          },
          "severity": 2,
          "code": "CIAM001",
          "source": "chalice-iam",
          "message": "needs dynamodb:Scan",
          "data": {
            "fix": "[key]"
          }
        }
        "#);
    }

    /// A fix's name depends on what it does and on the versions of the
    /// documents it edits, not on where the project lies.
    #[test]
    fn fix_keys_name_the_fixes_and_the_versions_they_edit() {
        let key = fix_key(&[config_fix()], Path::new("/p"), &views());
        assert_eq!(fix_key(&[config_fix()], Path::new("/p"), &views()), key);
        let moved = |path: &Path| PathBuf::from("/elsewhere/q").join(path.strip_prefix("/p").unwrap());
        let mut elsewhere = config_fix();
        let mut edits = elsewhere.edits.to_vec();
        for edit in &mut edits {
            match edit {
                FileEdit::Create { path, .. } | FileEdit::Replace { path, .. } => *path = moved(path),
            }
        }
        elsewhere.edits = edits.into();
        let views_elsewhere = HashMap::from([(
            PathBuf::from("/elsewhere/q/.chalice/config.json"),
            view("file:///elsewhere/q/.chalice/config.json", Some(3), "{\n  \n}"),
        )]);
        assert_eq!(fix_key(&[elsewhere], Path::new("/elsewhere/q"), &views_elsewhere), key);
        let newer = HashMap::from([(
            PathBuf::from("/p/.chalice/config.json"),
            view("file:///p/.chalice/config.json", Some(4), "{\n  \n}"),
        )]);
        assert_ne!(fix_key(&[config_fix()], Path::new("/p"), &newer), key);
        let mut retitled = config_fix();
        retitled.title.push('!');
        assert_ne!(fix_key(&[retitled], Path::new("/p"), &views()), key);
        assert_ne!(fix_key(&[config_fix(), config_fix()], Path::new("/p"), &views()), key);
    }

    #[test]
    fn fix_on_an_unreadable_file_is_dropped() {
        let fix = Fix {
            title: "t".into(),
            edits: vec![FileEdit::Replace {
                path: PathBuf::from("/gone.json"),
                range: TextRange::new(0, 0),
                new_text: String::new(),
            }]
            .into(),
        };
        assert_eq!(fix_data(&fix, &views(), PositionEncoding::Utf8), None);
    }

    #[test]
    fn workspace_edit_with_resource_operations() {
        let fix = fix_data(&config_fix(), &views(), PositionEncoding::Utf8).unwrap();
        let edit = workspace_edit(&fix, EditSupport { document_changes: true, create_files: true });
        assert_eq!(
            serde_json::to_value(edit).unwrap(),
            json!({ "documentChanges": [
                { "textDocument": { "uri": "file:///p/.chalice/config.json", "version": 3 },
                  "edits": [{ "range": { "start": { "line": 1, "character": 2 }, "end": { "line": 1, "character": 2 } },
                              "newText": "\"autogen_policy\": false" }] },
                { "kind": "create", "uri": "file:///p/.chalice/custom-policy.json" },
                { "textDocument": { "uri": "file:///p/.chalice/custom-policy.json", "version": null },
                  "edits": [{ "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
                              "newText": "{}\n" }] },
            ]})
        );
    }

    #[test]
    fn workspace_edit_falls_back_to_changes() {
        let fix = fix_data(&config_fix(), &views(), PositionEncoding::Utf8).unwrap();
        let expected = json!({ "changes": {
            "file:///p/.chalice/config.json": [{ "range": { "start": { "line": 1, "character": 2 }, "end": { "line": 1, "character": 2 } },
                                                 "newText": "\"autogen_policy\": false" }],
            "file:///p/.chalice/custom-policy.json": [{ "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
                                                        "newText": "{}\n" }],
        }});
        for support in [EditSupport::default(), EditSupport { document_changes: true, create_files: false }] {
            assert_eq!(serde_json::to_value(workspace_edit(&fix, support)).unwrap(), expected, "{support:?}");
        }
    }

    #[test]
    fn edits_to_one_document_share_one_text_document_edit() {
        let fix = FixData {
            title: "t".into(),
            edits: (0..2)
                .map(|line| EditData::Replace {
                    uri: Uri::from_str("file:///p/a.py").unwrap(),
                    version: Some(1),
                    range: Range::new(Position::new(line, 0), Position::new(line, 1)),
                    new_text: "x".into(),
                })
                .collect(),
        };
        let edit = workspace_edit(&fix, EditSupport { document_changes: true, create_files: true });
        let Some(DocumentChanges::Edits(edits)) = edit.document_changes else { panic!("{edit:?}") };
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].edits.len(), 2);
    }
}
