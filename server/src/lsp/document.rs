//! The open documents: their text as the editor has it, a line index in the
//! negotiated position encoding, the version, and for Python the tree-sitter
//! tree kept in step with every incremental change.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};
use tree_sitter::{InputEdit, Point, Tree};

use super::line_index::{LineIndex, PositionEncoding};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Python,
    Json,
    /// Anything else the client sends us; kept so versions stay right, never
    /// analysed.
    Other,
}

impl DocumentKind {
    fn detect(language_id: &str, path: Option<&Path>) -> Self {
        let extension = path.and_then(|p| p.extension()).and_then(|e| e.to_str());
        match (language_id, extension) {
            ("python", _) | (_, Some("py")) => DocumentKind::Python,
            ("json" | "jsonc", _) | (_, Some("json")) => DocumentKind::Json,
            _ => DocumentKind::Other,
        }
    }
}

#[derive(Debug)]
pub struct Document {
    uri: Uri,
    /// `None` for URIs that are not files (`untitled:`, ...).
    path: Option<PathBuf>,
    kind: DocumentKind,
    text: String,
    line_index: LineIndex,
    version: i32,
    /// Present exactly for Python documents.
    tree: Option<Tree>,
    /// The last `didChange`, when it was one edit within a line (see
    /// [`LineEdit`]), with the version it applied to.
    last_edit: Option<(i32, LineEdit)>,
    /// Incremental reparses since the tree was parsed from scratch, up to
    /// two; two as well once the tree was handed out to be settled (see
    /// [`crate::python::settle`]).
    reparses: u8,
}

/// One edit that neither removed nor inserted a line break: every line but
/// the edited one keeps its number and its text, so a position on another
/// line is the same LSP position before and after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineEdit {
    /// Byte offsets, before the edit, of the edited line's start and of the
    /// next line's start (`usize::MAX` for the last line).
    line_start: usize,
    next_line: usize,
    /// How much the text after the edit moved.
    delta: isize,
}

impl LineEdit {
    /// Where `range` of the text before the edit is after it, when it lies
    /// wholly on other lines than the edited one (its LSP range is then the
    /// same); `None` otherwise.
    pub fn off_the_line(&self, range: crate::analysis::TextRange) -> Option<crate::analysis::TextRange> {
        if range.end <= self.line_start {
            Some(range)
        } else if range.start >= self.next_line {
            Some(range.shifted(self.delta))
        } else {
            None
        }
    }
}

/// What became of a `didChange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOutcome {
    Applied,
    /// The notification's version was not newer than the document's: a
    /// duplicate or out-of-order message, left unapplied.
    NotNewer {
        current: i32,
    },
}

impl Document {
    pub fn new(uri: Uri, language_id: &str, text: String, version: i32) -> Self {
        let path = file_path(&uri);
        let kind = DocumentKind::detect(language_id, path.as_deref());
        let tree = (kind == DocumentKind::Python).then(|| crate::python::parse(&text, None));
        Document { line_index: LineIndex::new(&text), uri, path, kind, text, version, tree, last_edit: None, reparses: 0 }
    }

    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn line_index(&self) -> &LineIndex {
        &self.line_index
    }

    pub fn version(&self) -> i32 {
        self.version
    }

    pub fn tree(&self) -> Option<&Tree> {
        self.tree.as_ref()
    }

    /// The edit from version `from` to this one, when that was one edit
    /// within a line.
    pub fn line_edit_since(&self, from: Option<i32>) -> Option<LineEdit> {
        self.last_edit.filter(|(version, _)| Some(*version) == from).map(|(_, edit)| edit)
    }

    /// The text and tree to settle off the handlers' path (see
    /// [`crate::python::settle`]) when the tree was parsed from scratch and
    /// has not been reparsed twice since; asked once per such tree.
    pub fn tree_to_settle(&mut self) -> Option<(String, Tree)> {
        if self.reparses >= 2 {
            return None;
        }
        let tree = self.tree.clone()?;
        self.reparses = 2;
        Some((self.text.clone(), tree))
    }

    /// Takes the settled tree of `text`, unless the document's text is
    /// another by now. The text, not the version, says: a document closed
    /// and opened again can have the same version and another text.
    pub fn settled(&mut self, text: &str, tree: Tree) {
        if self.tree.is_some() && self.text == text {
            self.tree = Some(tree);
        }
    }

    /// Applies one `didChange` notification: each change in order to the
    /// text and (for Python) to the tree, then a single reparse that reuses
    /// the edited tree.
    pub fn apply_changes(
        &mut self,
        version: i32,
        changes: &[TextDocumentContentChangeEvent],
        encoding: PositionEncoding,
    ) -> ChangeOutcome {
        if version <= self.version {
            return ChangeOutcome::NotNewer { current: self.version };
        }
        // The old tree is only worth handing to the parser while every change
        // so far was described to it; a whole-document replacement is not.
        let mut reusable_tree = self.tree.take();
        let mut line_edit = None;
        for change in changes {
            // Every later change's range is relative to the text after this
            // one, and so is the line index.
            match change.range {
                None => {
                    self.text.clone_from(&change.text);
                    reusable_tree = None;
                    self.reparses = 0;
                    self.line_index = LineIndex::new(&self.text);
                }
                Some(range) => {
                    let a = self.line_index.offset(&self.text, range.start, encoding);
                    let b = self.line_index.offset(&self.text, range.end, encoding);
                    let (start, end) = (a.min(b), a.max(b));
                    let breaks = |s: &str| s.contains(['\n', '\r']);
                    let bytes = self.text.as_bytes();
                    // A `\r` before the edit and a `\n` after it become one
                    // line break, or stop being one.
                    let joins = start > 0 && bytes[start - 1] == b'\r' && bytes.get(end) == Some(&b'\n');
                    line_edit = (changes.len() == 1 && !joins && !breaks(&self.text[start..end]) && !breaks(&change.text)).then(|| {
                        let line_start = memchr::memrchr2(b'\n', b'\r', &bytes[..start]).map_or(0, |i| i + 1);
                        let next_line = match memchr::memchr2(b'\n', b'\r', &bytes[end..]).map(|i| end + i) {
                            Some(i) if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') => i + 2,
                            Some(i) => i + 1,
                            // The last line: nothing after it.
                            None => usize::MAX,
                        };
                        LineEdit { line_start, next_line, delta: change.text.len() as isize - (end - start) as isize }
                    });
                    let edit = input_edit(&self.text, start, end, &change.text);
                    self.text.replace_range(start..end, &change.text);
                    if let Some(tree) = &mut reusable_tree {
                        tree.edit(&edit);
                    }
                    self.line_index.edited(&self.text, start, end, change.text.len());
                }
            }
        }
        if self.kind == DocumentKind::Python {
            if reusable_tree.is_some() {
                self.reparses = self.reparses.saturating_add(1);
            }
            self.tree = Some(crate::python::parse(&self.text, reusable_tree.as_ref()));
        }
        self.last_edit = line_edit.map(|edit| (self.version, edit));
        self.version = version;
        ChangeOutcome::Applied
    }
}

/// The tree-sitter edit for replacing `text[start..end]` with `new_text`.
pub(super) fn input_edit(text: &str, start: usize, end: usize, new_text: &str) -> InputEdit {
    let start_position = point_at(text, start);
    InputEdit {
        start_byte: start,
        old_end_byte: end,
        new_end_byte: start + new_text.len(),
        start_position,
        old_end_position: advance(start_position, &text[start..end]),
        new_end_position: advance(start_position, new_text),
    }
}

/// tree-sitter's position of byte `offset`: rows are counted at `\n` only
/// (a lone `\r` is not a row break to tree-sitter, unlike LSP) and columns
/// are bytes, whatever the LSP position encoding.
fn point_at(text: &str, offset: usize) -> Point {
    advance(Point::new(0, 0), &text[..offset])
}

fn advance(from: Point, text: &str) -> Point {
    match text.rfind('\n') {
        None => Point::new(from.row, from.column + text.len()),
        Some(last) => {
            let rows = memchr::memchr_iter(b'\n', text.as_bytes()).count();
            Point::new(from.row + rows, text.len() - last - 1)
        }
    }
}

/// The file path behind a `file:` URI, without a trailing separator (folder
/// URIs sometimes have one) and with `.` and `..` segments removed (as URI
/// normalisation does), so the same file always has the same path. `None`
/// for other schemes and for a path that is not absolute.
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    use std::path::Component;
    if !uri.scheme().as_str().eq_ignore_ascii_case("file") {
        return None;
    }
    let path = uri.to_file_path()?;
    if !path.is_absolute() {
        return None;
    }
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// All open documents, by URI.
#[derive(Debug, Default)]
pub struct DocumentStore {
    documents: HashMap<Uri, Document>,
    /// When each document was last opened or changed, counted in
    /// notifications: of several documents for one file (two spellings of
    /// its URI), the latest one's text is the file's.
    touched: HashMap<Uri, u64>,
    clock: u64,
}

impl DocumentStore {
    pub fn open(&mut self, document: Document) {
        self.touch(&document.uri);
        self.documents.insert(document.uri.clone(), document);
    }

    /// Records that `uri` was just changed.
    pub fn touch(&mut self, uri: &Uri) {
        self.clock += 1;
        self.touched.insert(uri.clone(), self.clock);
    }

    pub fn close(&mut self, uri: &Uri) -> Option<Document> {
        self.touched.remove(uri);
        self.documents.remove(uri)
    }

    pub fn get(&self, uri: &Uri) -> Option<&Document> {
        self.documents.get(uri)
    }

    pub fn get_mut(&mut self, uri: &Uri) -> Option<&mut Document> {
        self.documents.get_mut(uri)
    }

    /// The open document for a file, if any; the latest opened or changed
    /// when several URIs name it.
    pub fn by_path(&self, path: &Path) -> Option<&Document> {
        self.documents.values().filter(|d| d.path() == Some(path)).max_by_key(|d| self.touched.get(&d.uri))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Document> {
        self.documents.values()
    }

    /// Every tree to settle (see [`Document::tree_to_settle`]), with its
    /// document's URI.
    pub fn trees_to_settle(&mut self) -> Vec<(Uri, String, Tree)> {
        self.documents.iter_mut().filter_map(|(uri, d)| d.tree_to_settle().map(|(text, tree)| (uri.clone(), text, tree))).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use tower_lsp_server::ls_types::{Position, Range};

    use super::*;
    use crate::lsp::test_support::{dump, reference_offset, Rng};

    fn uri() -> Uri {
        Uri::from_str("file:///project/app.py").unwrap()
    }

    fn change(start: (u32, u32), end: (u32, u32), text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(start.0, start.1), Position::new(end.0, end.1))),
            range_length: None,
            text: text.to_owned(),
        }
    }

    fn assert_matches_fresh_parse(doc: &Document) {
        let fresh = crate::python::parse(doc.text(), None);
        assert_eq!(doc.tree().unwrap().root_node().to_sexp(), fresh.root_node().to_sexp());
        assert_eq!(dump(doc.tree().unwrap()), dump(&fresh), "text: {:?}", doc.text());
        assert_eq!(doc.line_index(), &LineIndex::new(doc.text()));
    }

    #[test]
    fn edits_with_non_ascii_in_utf16_and_utf8() {
        let text = "# 日本語のコメント😀\nx = f('é')\n";
        // The emoji follows "# " and eight CJK characters: UTF-16 columns
        // 10..12 (a surrogate pair), UTF-8 columns 26..30.
        for (encoding, emoji) in [(PositionEncoding::Utf16, (10, 12)), (PositionEncoding::Utf8, (26, 30))] {
            let mut doc = Document::new(uri(), "python", text.to_owned(), 1);
            let edits = [change((0, emoji.0), (0, emoji.1), "🎉!"), change((1, 0), (1, 1), "yy")];
            let outcome = doc.apply_changes(2, &edits, encoding);
            assert_eq!(outcome, ChangeOutcome::Applied);
            assert_eq!(doc.text(), "# 日本語のコメント🎉!\nyy = f('é')\n");
            assert_eq!(doc.version(), 2);
            assert_matches_fresh_parse(&doc);
        }
    }

    #[test]
    fn edits_across_crlf_lines() {
        let mut doc = Document::new(uri(), "python", "a = 1\r\nb = 2\r\n".to_owned(), 1);
        // Join the two lines by deleting "\r\n" (from past the end of line 0).
        doc.apply_changes(2, &[change((0, 5), (1, 0), " ; ")], PositionEncoding::Utf16);
        assert_eq!(doc.text(), "a = 1 ; b = 2\r\n");
        doc.apply_changes(3, &[change((0, 99), (0, 99), "\r\nc = 3")], PositionEncoding::Utf16);
        assert_eq!(doc.text(), "a = 1 ; b = 2\r\nc = 3\r\n");
        assert_matches_fresh_parse(&doc);
    }

    /// Wrong points mostly go unnoticed by a reparse (tree-sitter re-lexes
    /// around every edit), so they are checked here directly.
    #[test]
    fn input_edit_points_count_newlines_and_bytes() {
        let text = "a\r\n日x\rb";
        // Replace "日" (bytes 3..6) with a newline and an emoji.
        let edit = input_edit(text, 3, 6, "\n😀");
        assert_eq!((edit.start_byte, edit.old_end_byte, edit.new_end_byte), (3, 6, 8));
        assert_eq!(edit.start_position, Point::new(1, 0));
        assert_eq!(edit.old_end_position, Point::new(1, 3));
        assert_eq!(edit.new_end_position, Point::new(2, 4));
        // A lone `\r` does not start a tree-sitter row.
        assert_eq!(point_at(text, text.len()), Point::new(1, 6));
        let edit = input_edit(text, 1, 8, "");
        assert_eq!(
            (edit.start_position, edit.old_end_position, edit.new_end_position),
            (Point::new(0, 1), Point::new(1, 5), Point::new(0, 1))
        );
    }

    #[test]
    fn versions_that_are_not_newer_are_ignored() {
        let mut doc = Document::new(uri(), "python", "x = 1\n".to_owned(), 5);
        let edit = [change((0, 4), (0, 5), "2")];
        assert_eq!(doc.apply_changes(5, &edit, PositionEncoding::Utf8), ChangeOutcome::NotNewer { current: 5 });
        assert_eq!(doc.apply_changes(4, &edit, PositionEncoding::Utf8), ChangeOutcome::NotNewer { current: 5 });
        assert_eq!(doc.text(), "x = 1\n");
        assert_eq!(doc.apply_changes(7, &edit, PositionEncoding::Utf8), ChangeOutcome::Applied);
        assert_eq!(doc.text(), "x = 2\n");
    }

    /// Every range that [`LineEdit::off_the_line`] moves has the same LSP
    /// positions, in both encodings, after a one-line edit as before it;
    /// texts with every kind of line break and multi-byte characters, and
    /// edits next to line breaks (a `\r` left before a `\n` is not one).
    #[test]
    fn ranges_off_an_edited_line_keep_their_positions() {
        let pieces = ["\n", "\r", "\r\n", "a", "é", "😀", " x = 1", ""];
        let mut rng = Rng::new(17);
        let (mut moved, mut edits) = (0, 0);
        for _ in 0..3000 {
            let text: String = (0..rng.below(12)).map(|_| *rng.pick(&pieces)).collect();
            let mut doc = Document::new(uri(), "python", text.clone(), 1);
            let places: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            let (a, b) = (*rng.pick(&places), *rng.pick(&places));
            let (start, end) = (a.min(b), a.max(b));
            let inserted = *rng.pick(&["", "y", "é", "😀", "\n", "\r"]);
            let (s, e) = (doc.line_index.position(&text, start, PositionEncoding::Utf16), doc.line_index.position(&text, end, PositionEncoding::Utf16));
            let change = TextDocumentContentChangeEvent { range: Some(Range::new(s, e)), range_length: None, text: inserted.into() };
            doc.apply_changes(2, &[change], PositionEncoding::Utf16);
            let Some(edit) = doc.line_edit_since(Some(1)) else { continue };
            edits += 1;
            let old_index = LineIndex::new(&text);
            for &x in &places {
                for &y in places.iter().filter(|&&y| y >= x) {
                    let Some(now) = edit.off_the_line(crate::analysis::TextRange::new(x, y)) else { continue };
                    moved += 1;
                    for encoding in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
                        for (was, is) in [(x, now.start), (y, now.end)] {
                            assert_eq!(
                                old_index.position(&text, was, encoding),
                                doc.line_index.position(doc.text(), is, encoding),
                                "{text:?} → {:?}: {x}..{y} moved to {now:?}",
                                doc.text()
                            );
                        }
                    }
                }
            }
        }
        assert!(edits > 500 && moved > 5000, "{edits} line edits, {moved} ranges moved");
    }

    /// A tree parsed from scratch is handed out to be settled once; one
    /// reparsed twice is not; a settled tree is taken only for the text it
    /// was parsed from, and reparses like the one it replaces.
    #[test]
    fn a_fresh_tree_is_settled_once_for_its_own_text() {
        let mut doc = Document::new(uri(), "python", "x = 1\n".to_owned(), 1);
        let (text, tree) = doc.tree_to_settle().expect("parsed from scratch");
        assert!(doc.tree_to_settle().is_none(), "asked once");
        let settled = crate::python::settle(&text, &tree);
        assert_eq!(settled.root_node().to_sexp(), tree.root_node().to_sexp());
        // What is handed back for the text is taken as it is.
        let other = crate::python::parse("def f(): pass\n", None);
        doc.settled(&text, other.clone());
        assert_eq!(doc.tree().map(|t| t.root_node().to_sexp()), Some(other.root_node().to_sexp()));
        doc.settled(&text, settled);
        assert_matches_fresh_parse(&doc);
        doc.apply_changes(2, &[change((0, 4), (0, 5), "boto3.client('s3')")], PositionEncoding::Utf8);
        assert_matches_fresh_parse(&doc);
        // A late tree for an older text is dropped, and so is one for a
        // document opened again at the same version with another text.
        doc.settled(&text, other.clone());
        assert_matches_fresh_parse(&doc);
        let mut reopened = Document::new(uri(), "python", "y = 2\n".to_owned(), 1);
        reopened.settled(&text, other);
        assert_matches_fresh_parse(&reopened);

        let mut typed = Document::new(uri(), "python", "x = 1\n".to_owned(), 1);
        typed.apply_changes(2, &[change((0, 4), (0, 5), "2")], PositionEncoding::Utf8);
        assert!(typed.tree_to_settle().is_some(), "one reparse is not enough");
        let mut twice = Document::new(uri(), "python", "x = 1\n".to_owned(), 1);
        twice.apply_changes(2, &[change((0, 4), (0, 5), "2")], PositionEncoding::Utf8);
        twice.apply_changes(3, &[change((0, 4), (0, 5), "3")], PositionEncoding::Utf8);
        assert!(twice.tree_to_settle().is_none(), "reparsed twice already");
        let whole = TextDocumentContentChangeEvent { range: None, range_length: None, text: "y = 2\n".into() };
        twice.apply_changes(4, &[whole], PositionEncoding::Utf8);
        assert!(twice.tree_to_settle().is_some(), "parsed from scratch again");
        let config = Uri::from_str("file:///project/.chalice/config.json").unwrap();
        assert!(Document::new(config, "json", "{}".to_owned(), 1).tree_to_settle().is_none(), "no tree");
    }

    #[test]
    fn full_replacement_and_out_of_range_edits() {
        let mut doc = Document::new(uri(), "python", "x = 1\n".to_owned(), 1);
        let whole = TextDocumentContentChangeEvent { range: None, range_length: None, text: "def f():\n".into() };
        // A whole-document change, then ranged changes against the new text,
        // one of them far past the end and one with its ends reversed.
        doc.apply_changes(
            2,
            &[whole, change((40, 2), (50, 0), "    pass\n"), change((0, 5), (0, 4), "g")],
            PositionEncoding::Utf16,
        );
        assert_eq!(doc.text(), "def g():\n    pass\n");
        assert_matches_fresh_parse(&doc);
    }

    #[test]
    fn file_paths_are_normalised_and_absolute() {
        let path = |u: &str| file_path(&Uri::from_str(u).unwrap());
        assert_eq!(path("file:///p/x/../y/./app.py"), Some(PathBuf::from("/p/y/app.py")));
        assert_eq!(path("file:///p/proj/"), Some(PathBuf::from("/p/proj")));
        assert_eq!(path("file:///../../etc"), Some(PathBuf::from("/etc")));
        assert_eq!(path("file:relative/app.py"), None);
        assert_eq!(path("untitled:Untitled-1"), None);
    }

    #[test]
    fn of_two_uris_for_one_file_the_latest_text_counts() {
        let mut store = DocumentStore::default();
        let a = Uri::from_str("file:///p/app.py").unwrap();
        let b = Uri::from_str("file:///p/./app.py").unwrap();
        store.open(Document::new(a.clone(), "python", "a".into(), 1));
        store.open(Document::new(b.clone(), "python", "b".into(), 1));
        assert_eq!(store.by_path(Path::new("/p/app.py")).unwrap().text(), "b");
        store.touch(&a);
        assert_eq!(store.by_path(Path::new("/p/app.py")).unwrap().text(), "a");
        store.close(&a);
        assert_eq!(store.by_path(Path::new("/p/app.py")).unwrap().text(), "b");
    }

    #[test]
    fn json_documents_have_no_tree() {
        let u = Uri::from_str("file:///project/.chalice/config.json").unwrap();
        let mut doc = Document::new(u, "json", "{}".to_owned(), 1);
        assert_eq!(doc.kind, DocumentKind::Json);
        doc.apply_changes(2, &[change((0, 1), (0, 1), "\"a\": 1")], PositionEncoding::Utf16);
        assert_eq!(doc.text(), "{\"a\": 1}");
        assert!(doc.tree().is_none());
    }

    const SNIPPETS: &[&str] = &[
        "",
        "x",
        " ",
        "\n",
        "\r\n",
        "\r",
        "日本",
        "😀",
        "é",
        "(",
        ")",
        ":",
        "'",
        "\"\"\"",
        "#",
        "    ",
        "def f(a):\n    return a\n",
        "s3 = boto3.client('s3')\r\n",
        "import boto3\n",
        "class C:\n  pass\n",
        "🎉 コメント",
        "[1, 2",
        "}",
        "\\",
    ];

    fn random_position(rng: &mut Rng, text: &str) -> (u32, u32) {
        let lines = text.split('\n').count() as u32;
        // Mostly inside the text, sometimes past the end of a line or file.
        let line = rng.below(lines as usize + 1) as u32;
        let character = rng.below(40) as u32;
        (line, character)
    }

    #[test]
    fn random_incremental_edits_match_a_fresh_parse() {
        let seed_text = "import boto3\r\n# 日本語 😀\ns3 = boto3.client('s3')\n\ndef handler(event):\n    return s3.list_buckets()\n";
        for seed in 1..=60u64 {
            let mut rng = Rng::new(seed);
            let encoding = if seed % 2 == 0 { PositionEncoding::Utf8 } else { PositionEncoding::Utf16 };
            let mut doc = Document::new(uri(), "python", seed_text.to_owned(), 0);
            let mut expected = seed_text.to_owned();
            for version in 1..=25 {
                let mut changes = Vec::new();
                for _ in 0..1 + rng.below(3) {
                    let a = random_position(&mut rng, &expected);
                    let b = random_position(&mut rng, &expected);
                    let insert = SNIPPETS[rng.below(SNIPPETS.len())];
                    let oa = reference_offset(&expected, a.0, a.1, encoding);
                    let ob = reference_offset(&expected, b.0, b.1, encoding);
                    expected.replace_range(oa.min(ob)..oa.max(ob), insert);
                    changes.push(change(a, b, insert));
                }
                doc.apply_changes(version, &changes, encoding);
                assert_eq!(doc.text(), expected, "seed {seed} version {version}");
                assert_matches_fresh_parse(&doc);
            }
        }
    }
}
