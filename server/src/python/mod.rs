//! Python source handling: the tree-sitter grammar, the compiled `.scm`
//! queries from `grammar-queries/python/`, and parsing.

pub mod arena;
pub mod queries;
pub mod syntax;

use tree_sitter::{Language, Parser, Tree};

pub use syntax::{ReadNode, SyntaxNode, SyntaxTree};

/// The tree-sitter Python grammar.
pub fn language() -> Language {
    tree_sitter_python::LANGUAGE.into()
}

/// A parser set to the Python grammar. Fails with a clear message when the
/// grammar's ABI does not match the tree-sitter runtime (a mismatch compiles
/// fine and only shows up here).
pub fn parser() -> Result<Parser, String> {
    let lang = language();
    let mut parser = Parser::new();
    parser.set_language(&lang).map_err(|e| {
        format!(
            "tree-sitter-python grammar ABI {} is not supported by this tree-sitter runtime \
             (accepts {}..={}): {e}",
            lang.abi_version(),
            tree_sitter::MIN_COMPATIBLE_LANGUAGE_VERSION,
            tree_sitter::LANGUAGE_VERSION
        )
    })?;
    Ok(parser)
}

/// The name of a node kind of the grammar, as `Node::kind` gives it.
/// tree-sitter's own `kind()` measures and UTF-8-checks the name on every
/// call; the walks that read a tree ask for every node's kind.
pub fn kind_name_of(kind_id: u16) -> &'static str {
    static KINDS: std::sync::LazyLock<Vec<Box<str>>> = std::sync::LazyLock::new(|| {
        let lang = language();
        (0..lang.node_kind_count()).map(|id| lang.node_kind_for_id(id as u16).unwrap_or("").into()).collect()
    });
    // Every node's kind id is a symbol of the grammar, but for ERROR nodes'
    // (tree-sitter's own symbol, not the grammar's).
    match KINDS.get(kind_id as usize) {
        Some(name) => name,
        None if kind_id == u16::MAX => "ERROR",
        None => "",
    }
}

/// Whether nodes of a kind are named, as `Node::is_named` tells (ERROR
/// nodes are).
pub fn kind_is_named(kind_id: u16) -> bool {
    named_by_kind().get(kind_id as usize).map_or(kind_id == u16::MAX, |&named| named != 0)
}

/// For each kind id, 1 if its nodes are named, else 0 (ERROR nodes, whose
/// id is past the end, are named): `flatten.c` reads it.
fn named_by_kind() -> &'static [u8] {
    static NAMED: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
        let lang = language();
        (0..lang.node_kind_count()).map(|id| lang.node_kind_is_named(id as u16) as u8).collect()
    });
    &NAMED
}

/// A field name of the grammar, with its id looked up on first use
/// (`child_by_field_name` compares the name with every field of the
/// grammar on every call).
pub struct Field {
    name: &'static str,
    id: std::sync::OnceLock<std::num::NonZeroU16>,
}

impl Field {
    pub const fn new(name: &'static str) -> Field {
        Field { name, id: std::sync::OnceLock::new() }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The field's id; for a name the grammar does not know, an id no
    /// node has, so lookups find nothing, like `child_by_field_name`.
    pub fn id(&self) -> std::num::NonZeroU16 {
        *self.id.get_or_init(|| language().field_id_for_name(self.name).unwrap_or(std::num::NonZeroU16::MAX))
    }
}

macro_rules! fields {
    ($($constant:ident = $name:literal),* $(,)?) => {
        /// The fields the lowering and the conversion read.
        pub mod field {
            use super::Field;
            $(pub static $constant: Field = Field::new($name);)*
        }

        /// Every field of [`field`].
        #[cfg(test)]
        pub(crate) fn all_fields() -> Vec<&'static Field> {
            vec![$(&field::$constant),*]
        }
    };
}

fields! {
    ALIAS = "alias",
    ALTERNATIVE = "alternative",
    ARGUMENT = "argument",
    ARGUMENTS = "arguments",
    ATTRIBUTE = "attribute",
    BODY = "body",
    CAUSE = "cause",
    CONDITION = "condition",
    CONSEQUENCE = "consequence",
    DEFINITION = "definition",
    EXPRESSION = "expression",
    FORMAT_SPECIFIER = "format_specifier",
    FUNCTION = "function",
    GUARD = "guard",
    KEY = "key",
    LEFT = "left",
    MODULE_NAME = "module_name",
    NAME = "name",
    OBJECT = "object",
    OPERATOR = "operator",
    PARAMETERS = "parameters",
    RETURN_TYPE = "return_type",
    RIGHT = "right",
    SUBJECT = "subject",
    SUBSCRIPT = "subscript",
    SUPERCLASSES = "superclasses",
    TYPE = "type",
    TYPE_PARAMETERS = "type_parameters",
    VALUE = "value",
}

thread_local! {
    static PARSER: std::cell::RefCell<Option<Parser>> = const { std::cell::RefCell::new(None) };
}

fn with_parser<R>(f: impl FnOnce(&mut Parser) -> R) -> R {
    PARSER.with(|p| {
        let mut p = p.borrow_mut();
        let parser = p.get_or_insert_with(|| parser().expect("grammar ABI is checked at start-up"));
        f(parser)
    })
}

/// `tree`, parsed from scratch from `text`, reparsed twice without an edit:
/// the same tree, on which incremental reparses are quick at once. After a
/// parse from scratch, tree-sitter's first two incremental reparses each
/// took 2 to 3 ms on a 5,000-line file, where later ones take 0.2 to 0.4
/// ms; reparsed twice first (4 ms, off the keystroke path), the first
/// keystroke's reparse took 0.5 ms.
pub fn settle(text: &str, tree: &Tree) -> Tree {
    with_parser(|parser| {
        let once = parse_with(parser, text, Some(tree));
        parse_with(parser, text, Some(&once))
    })
}

/// Parses a whole file. tree-sitter always returns a tree (with ERROR nodes
/// for broken code) unless cancelled, which we never do.
pub fn parse(text: &str, old: Option<&Tree>) -> Tree {
    with_parser(|parser| parse_with(parser, text, old))
}

fn parse_with(parser: &mut Parser, text: &str, old: Option<&Tree>) -> Tree {
    parser.parse(text, old).expect("parsing without a timeout or cancellation flag always yields a tree")
}

/// A tree read into a [`SyntaxTree`], unless it has syntax errors (whose
/// readers need tree-sitter's tree).
fn read_unless_broken(tree: &Tree) -> Option<SyntaxTree> {
    (!tree.root_node().has_error()).then(|| SyntaxTree::new(tree.root_node()))
}

/// [`parse`] of a whole file, given up as soon as `given_up` says so:
/// `None` then. tree-sitter asks for progress every few hundred tokens.
pub fn parse_unless(text: &str, given_up: impl Fn() -> bool) -> Option<Tree> {
    let bytes = text.as_bytes();
    let mut read = |offset: usize, _: tree_sitter::Point| bytes.get(offset..).unwrap_or_default();
    let mut progress = |_: &tree_sitter::ParseState| if given_up() { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) };
    with_parser(|parser| {
        let tree = parser.parse_with_options(&mut read, None, Some(tree_sitter::ParseOptions::new().progress_callback(&mut progress)));
        if tree.is_none() {
            // A parser stopped this way resumes where it stopped: the next
            // parse on this thread is of another text.
            parser.reset();
        }
        tree
    })
}

/// Whether two trees read a text the same way: the same nodes (kind,
/// byte range, and whether tree-sitter made them up) in the same shape.
pub fn same_reading(a: &Tree, b: &Tree) -> bool {
    let (mut x, mut y) = (a.walk(), b.walk());
    loop {
        let (n, m) = (x.node(), y.node());
        if n.kind_id() != m.kind_id() || n.byte_range() != m.byte_range() || n.is_missing() != m.is_missing() {
            return false;
        }
        // Depth first, both cursors in step: the shapes differ as soon as
        // one can move where the other cannot.
        let down = x.goto_first_child();
        if down != y.goto_first_child() {
            return false;
        }
        if down {
            continue;
        }
        loop {
            let next = x.goto_next_sibling();
            if next != y.goto_next_sibling() {
                return false;
            }
            if next {
                break;
            }
            let up = x.goto_parent();
            if up != y.goto_parent() {
                return false;
            }
            if !up {
                return true;
            }
        }
    }
}

/// Splits `text[start..end]` at lines that begin a new top-level statement:
/// not indented, not a comment or closing bracket, not a clause continuing
/// the previous statement (`else:`, `except:`), and not a decorated
/// definition's second decorator or `def` line.
pub fn top_level_blocks(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let region = &text[start..end];
    let mut cuts = vec![start];
    let mut offset = start;
    let mut prev_decorator = false;
    for line in region.split_inclusive('\n') {
        let first = line.chars().next();
        let starts_statement = first.is_some_and(|c| c.is_alphabetic() || c == '_' || c == '@') && !continues_a_statement(line);
        if starts_statement && offset != start && !prev_decorator {
            cuts.push(offset);
        }
        if first.is_some_and(|c| !c.is_whitespace()) && first != Some('#') {
            prev_decorator = first == Some('@');
        }
        offset += line.len();
    }
    cuts.push(end);
    cuts.windows(2).filter(|w| w[0] < w[1]).map(|w| (w[0], w[1])).collect()
}

/// Whether `line` begins with a clause that continues the statement
/// before it: `else`, `elif`, `except` or `finally` as a whole word. Asked
/// of every line of a file that is parsed in chunks, so it looks at the
/// line's first bytes only.
fn continues_a_statement(line: &str) -> bool {
    ["else", "elif", "except", "finally"].iter().any(|clause| {
        line.strip_prefix(clause).is_some_and(|rest| !rest.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_'))
    })
}

/// Files at least this large are parsed in chunks, side by side. A
/// 5,000-line app.py (about 190 KB) is already worth spreading: parsing is
/// the largest single cost of `check`, and the chunks need no more work in
/// total than one whole parse.
pub const CHUNKED_PARSE_MIN: usize = 64 << 10;

/// How much text one chunk holds: about a quarter of one thread's share, so
/// that the threads finish close together even though cuts fall only
/// between top-level statements, but not so little that a tree per chunk
/// costs much, and at most 64 KB: a chunk's tree-sitter tree is read and
/// freed right after its parse, and a smaller one is still in the cache
/// then (on the 10 MB benchmark app, 64 KB chunks took 3 to 6% less CPU
/// than 256 KB ones in three interleaved comparisons).
fn chunk_bytes(len: usize, threads: usize) -> usize {
    (len / (4 * threads.max(1))).clamp(16 << 10, 64 << 10)
}

/// A file as lowering and chalice's import read it.
#[derive(Clone)]
pub enum ParsedFile {
    /// Read without syntax errors, whole or in chunks (see
    /// [`ParsedFile::parse`]), and shared by both.
    Syntax(std::sync::Arc<[SyntaxTree]>),
    /// A tree-sitter tree of the whole file: one with syntax errors, whose
    /// readers work out what is still readable; an editor's, whose readers
    /// reuse what they made of its unchanged top-level statements; or, in
    /// the language server, one only lowered, which reads it once (see
    /// [`ReadNode`]).
    Tree(Tree),
}

impl ParsedFile {
    /// Parses a file text. A large one is parsed as consecutive runs of
    /// whole top-level statements on every core (see [`parse_in_chunks`]
    /// for when), each read into a [`SyntaxTree`] by the thread that parsed
    /// it as soon as it is parsed: the tree-sitter trees are dropped there
    /// and then, so that a large file never holds them all at once. The
    /// chunks together are the file. A file parsed whole is read into a
    /// [`SyntaxTree`] unless `keep_tree` or it has syntax errors.
    pub fn parse(text: &str, keep_tree: bool) -> ParsedFile {
        if text.len() >= CHUNKED_PARSE_MIN {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            if threads > 1 {
                if let Some(chunks) = parse_in_chunks(text, chunk_bytes(text.len(), threads), threads) {
                    return ParsedFile::Syntax(chunks.into());
                }
            }
        }
        // A tree to be read and dropped is parsed in an arena when there is
        // one (a one-shot run); with syntax errors it is kept, so it is
        // parsed again outside.
        if !keep_tree && arena::is_installed() {
            if let Some(read) = arena::parse_and_read(|parser| parse_with(parser, text, None), read_unless_broken) {
                return ParsedFile::Syntax(std::sync::Arc::new([read]));
            }
        }
        ParsedFile::whole(parse(text, None), keep_tree)
    }

    /// A whole tree, read unless `keep_tree` or it has syntax errors.
    pub fn whole(tree: Tree, keep_tree: bool) -> ParsedFile {
        if keep_tree || tree.root_node().has_error() {
            ParsedFile::Tree(tree)
        } else {
            ParsedFile::Syntax(std::sync::Arc::new([SyntaxTree::new(tree.root_node())]))
        }
    }
}

/// Parses `text` as runs of top-level statements ([`top_level_blocks`]) of
/// about `chunk_bytes`, on `threads` threads, each tree keeping the file's
/// offsets and points. `None` when a chunk has a syntax error: a cut may then
/// lie inside a statement (an unclosed bracket or string runs across it), and
/// only a whole parse reads the file the way Python does. Without errors,
/// every chunk is a run of complete statements that starts at the left margin
/// with no bracket open, which is how a whole parse reads them too. Each
/// chunk's tree is read into a [`SyntaxTree`] by the thread that parsed it.
fn parse_in_chunks(text: &str, chunk_bytes: usize, threads: usize) -> Option<Vec<SyntaxTree>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for (_, end) in top_level_blocks(text, 0, text.len()) {
        if end - start >= chunk_bytes {
            ranges.push((start, end));
            start = end;
        }
    }
    if start < text.len() {
        ranges.push((start, text.len()));
    }
    if ranges.len() < 2 {
        return None;
    }
    let lines = LineStarts::new(text);
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Set when a chunk has a syntax error: the others need not be parsed.
    let broken = std::sync::atomic::AtomicBool::new(false);
    let mut chunks: Vec<Option<SyntaxTree>> = ranges.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, ranges.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut parsed = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(start, end)) = ranges.get(i) else { return parsed };
                        if broken.load(std::sync::atomic::Ordering::Relaxed) {
                            return parsed;
                        }
                        let read = arena::parse_and_read(|parser| parse_range_with(parser, text, &lines, start, end), read_unless_broken);
                        let Some(read) = read else {
                            broken.store(true, std::sync::atomic::Ordering::Relaxed);
                            return parsed;
                        };
                        parsed.push((i, read));
                    }
                })
            })
            .collect();
        for worker in workers {
            for (i, chunk) in worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)) {
                chunks[i] = Some(chunk);
            }
        }
    });
    chunks.into_iter().collect()
}

/// Byte offsets of line starts, for turning offsets into tree-sitter
/// points without rescanning the text each time.
pub struct LineStarts(Vec<usize>);

impl LineStarts {
    pub fn new(text: &str) -> Self {
        let mut v = vec![0];
        v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineStarts(v)
    }

    pub fn point(&self, offset: usize) -> tree_sitter::Point {
        let row = self.0.partition_point(|&s| s <= offset) - 1;
        tree_sitter::Point { row, column: offset - self.0[row] }
    }
}

/// Parses only `text[start..end]`, keeping the file's byte offsets in the
/// tree's nodes. Used to re-read the top-level blocks of a region that
/// tree-sitter's error recovery swallowed whole (an unclosed parenthesis
/// in one function must not hide the functions after it).
pub fn parse_range(text: &str, lines: &LineStarts, start: usize, end: usize) -> Tree {
    with_parser(|parser| parse_range_with(parser, text, lines, start, end))
}

fn parse_range_with(parser: &mut Parser, text: &str, lines: &LineStarts, start: usize, end: usize) -> Tree {
    let range = tree_sitter::Range { start_byte: start, end_byte: end, start_point: lines.point(start), end_point: lines.point(end) };
    let tree = match parser.set_included_ranges(&[range]) {
        Ok(()) => parser.parse(text, None),
        Err(_) => None,
    };
    // Back to whole-file parsing for the next caller.
    let _ = parser.set_included_ranges(&[]);
    tree.unwrap_or_else(|| parser.parse("", None).expect("an empty text always parses"))
}

#[cfg(test)]
mod tests {
    use super::ParsedFile;
    use crate::lsp::test_support::Rng;

    /// Every Python file of the corpus, alone and several end to end, whole
    /// and with random lines dropped, parsed in small chunks: whenever the
    /// chunks parse, lowering them and importing them as app.py gives what
    /// the whole parse gives.
    #[test]
    fn chunked_parses_read_files_like_whole_ones() {
        let sources: Vec<String> = crate::lsp::edit_fuzz::corpus()
            .into_iter()
            .flat_map(|case| case.files.into_iter().filter(|(rel, _)| rel.ends_with(".py")).map(|(_, text)| text))
            .collect();
        let mut rng = Rng::new(11);
        let mut texts: Vec<String> = sources.clone();
        for _ in 0..60 {
            let joined: String = (0..2 + rng.below(4)).map(|_| rng.pick(&sources).clone() + "\n").collect();
            let lines: Vec<&str> = joined.split_inclusive('\n').collect();
            let dropped: String = lines.iter().filter(|_| !rng.chance(3)).copied().collect();
            texts.push(joined.clone());
            texts.push(dropped);
        }
        let (mut compared, mut refused) = (0, 0);
        for text in &texts {
            let Some(chunks) = super::parse_in_chunks(text, 1 + rng.below(200), 1 + rng.below(3)) else {
                refused += 1;
                continue;
            };
            compared += 1;
            // The tree-sitter tree, and it read whole, against the chunks.
            let whole = ParsedFile::Tree(super::parse(text, None));
            let whole_read = ParsedFile::whole(super::parse(text, None), false);
            let chunks = ParsedFile::Syntax(chunks.into());
            let lowered = |parsed: &ParsedFile| format!("{:?}", crate::analysis::lower_parsed(parsed, text));
            let imported = |parsed: &ParsedFile| format!("{:?}", crate::chalice::import_app(text, parsed, (3, 12)));
            for parsed in [&whole_read, &chunks] {
                assert_eq!(lowered(&whole), lowered(parsed), "{text}");
                assert_eq!(imported(&whole), imported(parsed), "{text}");
            }
        }
        assert!(compared > 100 && refused > 10, "compared {compared}, refused {refused}");
    }

    /// The clause check looks at a line's first bytes; it agrees with
    /// reading the line's first word whole, as `top_level_blocks` did, on
    /// lines made of clause words, their prefixes and extensions, and
    /// non-ASCII letters.
    #[test]
    fn clause_lines_are_told_by_their_first_word() {
        let words = ["else", "elif", "except", "finally", "els", "elsewhere", "except_", "finallyé", "elseé", "é", "_", "x"];
        let tails = ["", ":", " :", "*", "\n", "\r\n", "1", "_", "é", "(", " x"];
        for w in words {
            for t in tails {
                let line = format!("{w}{t}");
                let word: String = line.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let by_word = matches!(word.as_str(), "else" | "elif" | "except" | "finally");
                assert_eq!(super::continues_a_statement(&line), by_word, "{line:?}");
            }
        }
    }

    /// A parse given up midway gives no tree, and leaves the thread's
    /// parser ready for another text (tree-sitter would otherwise resume
    /// the parse it stopped).
    #[test]
    fn a_parse_given_up_leaves_the_parser_ready() {
        let large: String = (0..5_000).map(|i| format!("def f{i}(x):\n    return x + {i}\n\n")).collect();
        let asked = std::cell::Cell::new(0);
        let given_up = super::parse_unless(&large, || {
            asked.set(asked.get() + 1);
            asked.get() > 1
        });
        assert!(given_up.is_none(), "asked {} times", asked.get());
        let small = "import boto3\nclient = boto3.client('s3')\n";
        let after = super::parse(small, None);
        let mut fresh_parser = super::parser().unwrap();
        let fresh = fresh_parser.parse(small, None).unwrap();
        assert_eq!(after.root_node().to_sexp(), fresh.root_node().to_sexp());
        assert!(super::parse_unless(&large, || false).is_some());
    }

    use super::ReadNode;

    #[test]
    fn grammar_abi_is_compatible() {
        super::parser().unwrap();
    }

    #[test]
    fn fast_kinds_and_fields_agree_with_tree_sitter() {
        let text = "import a.b as c\n@d(e=1)\nclass F(G):\n    def h(self, x: int = 2) -> None:\n        return [y for y in x if y] or {k: v for k, v in x}\nmatch z:\n    case [1, *r] if r: pass\nwhile q: raise E from f\n";
        let tree = super::parse(text, None);
        let fields = [
            &super::field::ALIAS, &super::field::ALTERNATIVE, &super::field::ARGUMENT, &super::field::ARGUMENTS,
            &super::field::ATTRIBUTE, &super::field::BODY, &super::field::CAUSE, &super::field::CONDITION,
            &super::field::CONSEQUENCE, &super::field::DEFINITION, &super::field::EXPRESSION,
            &super::field::FORMAT_SPECIFIER, &super::field::FUNCTION, &super::field::GUARD, &super::field::KEY,
            &super::field::LEFT, &super::field::MODULE_NAME, &super::field::NAME, &super::field::OBJECT,
            &super::field::OPERATOR, &super::field::PARAMETERS, &super::field::RETURN_TYPE, &super::field::RIGHT,
            &super::field::SUBJECT, &super::field::SUBSCRIPT, &super::field::SUPERCLASSES, &super::field::TYPE,
            &super::field::TYPE_PARAMETERS, &super::field::VALUE,
        ];
        for f in fields {
            assert_ne!(f.id(), std::num::NonZeroU16::MAX, "{} is not a field of the grammar", f.name());
        }
        let mut cursor = tree.walk();
        let mut stack = vec![tree.root_node()];
        let mut seen = 0;
        while let Some(n) = stack.pop() {
            assert_eq!(ReadNode::kind_name(&n), n.kind());
            for f in fields {
                assert_eq!(n.field(f), n.child_by_field_name(f.name()));
                let mut cursor = n.walk();
                let ours: Vec<_> = n.fields(f).collect();
                let theirs: Vec<_> = n.children_by_field_name(f.name(), &mut cursor).collect();
                assert_eq!(ours, theirs);
            }
            let theirs: Vec<_> = n.named_children(&mut cursor).collect();
            assert_eq!(ReadNode::named_children(&n).collect::<Vec<_>>(), theirs);
            seen += 1;
            stack.extend(n.children(&mut cursor));
        }
        assert!(seen > 100);
    }
}
