//! A syntax tree read out of tree-sitter's once, into one flat array in
//! pre-order, for the two walks that read every node: lowering and chalice's
//! import.
//!
//! tree-sitter's node API is built for editing, not for reading a tree
//! again and again: finding a node's field scans its parent's children and
//! the grammar's field map, and each step of a cursor recomputes positions
//! through hidden nodes. Both walks asked for each node's fields and
//! children several times, and together cost more than the parse. Here a
//! node is 24 bytes, its children follow it, and its next sibling's index
//! is stored with it: a field is a scan of a few entries, a child list a
//! few jumps.
//!
//! A tree is read whole ([`SyntaxTree::new`]), so the tree-sitter tree can be
//! dropped right after: a large file parsed in chunks never holds all its
//! tree-sitter trees at once. A tree cursor spends about a thousand
//! instructions a node (each step climbs back through the hidden nodes it
//! left); `flatten.c` walks tree-sitter's subtrees directly, for a quarter
//! of that. The one-shot commands read with `flatten.c`: their trees are
//! fresh parses, each read by the thread that made it, and reading a large
//! file with the cursor costs more than a quarter of its parse. The
//! language server reads with the cursor: its trees are edited and shared
//! with background threads, and it reads little at a time. Both readers are
//! compared node by node with tree-sitter's API
//! (`tests::reads_every_node_as_tree_sitter_does`).

use std::ops::Range;

use super::Field;

/// The kind id tree-sitter gives ERROR nodes.
const ERROR_KIND: u16 = u16::MAX;

/// A syntax tree of one tree-sitter node (a module, a chunk of one, or a
/// single top-level statement) and everything below it.
pub struct SyntaxTree {
    nodes: Vec<Entry>,
}

/// Laid out as `FlatEntry` in `flatten.c`, which writes it.
#[derive(Clone, Copy)]
#[repr(C)]
struct Entry {
    kind: u16,
    /// The field this node is in its parent (0: none).
    field: u16,
    flags: u8,
    // tree-sitter keeps offsets and points in 32 bits too.
    start: u32,
    end: u32,
    row: u32,
    /// The index after this node's last descendant: its next sibling's,
    /// when it has one.
    next: u32,
}

unsafe extern "C" {
    /// Writes `root` and its visible descendants, in pre-order, into `out`
    /// (room for `capacity`); returns how many, or u32::MAX when it ran out
    /// of room or memory.
    fn chalice_iam_flatten(root: tree_sitter::ffi::TSNode, out: *mut Entry, capacity: u32, named_by_kind: *const u8, kind_count: u32) -> u32;
    /// Writes the visible children of `root` into `out` (room for
    /// `capacity`); returns how many, or u32::MAX when it ran out of room or
    /// memory.
    fn chalice_iam_top_level(root: tree_sitter::ffi::TSNode, out: *mut tree_sitter::ffi::TSNode, capacity: u32) -> u32;
}

/// The children of `root` as its cursor gives them (`root.children(..)`),
/// read in one walk of tree-sitter's subtrees (`flatten.c`). A module's
/// statements hang from a balanced tree of hidden nodes, which a cursor
/// climbs back through at every step: a tenth of a millisecond for the 558
/// statements of a 5,000-line app.py, which the language server reads at
/// every keystroke (lowering, and converting for chalice's import).
pub fn children_of(root: tree_sitter::Node<'_>) -> Vec<tree_sitter::Node<'_>> {
    let capacity = root.child_count() as usize;
    let mut raw: Vec<tree_sitter::ffi::TSNode> = Vec::with_capacity(capacity);
    // SAFETY: `root` belongs to a live tree, borrowed for this call; `raw`
    // has room for `capacity` nodes, the root's visible children, and the C
    // walk writes no more than it is told (returning u32::MAX instead).
    let written = unsafe { chalice_iam_top_level(root.into_raw(), raw.as_mut_ptr(), u32::try_from(capacity).unwrap_or(u32::MAX)) };
    assert!(written != u32::MAX && written as usize <= capacity, "tree-sitter node's children: more than it counts, or no memory for the walk");
    // SAFETY: the first `written` nodes were initialised by the walk.
    unsafe { raw.set_len(written as usize) };
    // SAFETY: each is a node of `root`'s tree, made as tree-sitter makes
    // its nodes (`ts_node_new`), and lives as long as the tree.
    raw.into_iter().map(|n| unsafe { tree_sitter::Node::from_raw(n) }).collect()
}

// The flags `flatten.c` sets.
const NAMED: u8 = 1;
const MISSING: u8 = 2;
const HAS_ERROR: u8 = 4;

impl SyntaxTree {
    /// Reads `node` and all its descendants (see the module's comment for
    /// which reader a run uses).
    pub fn new(node: tree_sitter::Node) -> SyntaxTree {
        if crate::process::is_one_shot() {
            SyntaxTree::read_subtrees(node)
        } else {
            SyntaxTree::read_with_cursor(node)
        }
    }

    /// [`SyntaxTree::new`] in one pass over tree-sitter's subtrees
    /// (`flatten.c`).
    fn read_subtrees(node: tree_sitter::Node) -> SyntaxTree {
        let capacity = node.descendant_count();
        let mut nodes: Vec<Entry> = Vec::with_capacity(capacity);
        let named = super::named_by_kind();
        // SAFETY: `node` belongs to a live tree, borrowed for this call;
        // `nodes` has room for `capacity` entries, the root and its visible
        // descendants, and the C walk writes no more than it is told
        // (returning u32::MAX instead); `Entry` is `repr(C)` as its C twin.
        let written = unsafe {
            chalice_iam_flatten(node.into_raw(), nodes.as_mut_ptr(), u32::try_from(capacity).unwrap_or(u32::MAX), named.as_ptr(), named.len() as u32)
        };
        assert!(written != u32::MAX && written as usize <= capacity, "tree-sitter tree read into a syntax tree: more nodes than it counts, or no memory for the walk");
        // SAFETY: the first `written` entries were initialised by the walk.
        unsafe { nodes.set_len(written as usize) };
        SyntaxTree { nodes }
    }

    /// [`SyntaxTree::new`] with one pass of a tree cursor.
    fn read_with_cursor(node: tree_sitter::Node) -> SyntaxTree {
        let mut nodes = Vec::with_capacity(node.descendant_count());
        // Indices of the nodes whose descendants are still being read.
        let mut open: Vec<u32> = Vec::new();
        let mut cursor = node.walk();
        // Each question to tree-sitter is a call into its C code and most of
        // the cost of reading a node: what the kind tells, and what a tree
        // without errors tells of all its nodes, is not asked.
        let clean = !node.has_error();
        let entry = |n: tree_sitter::Node, field: u16| {
            let kind = n.kind_id();
            let mut flags = super::kind_is_named(kind) as u8 * NAMED;
            if !clean {
                flags |= (n.is_missing() as u8 * MISSING) | (n.has_error() as u8 * HAS_ERROR);
            }
            Entry {
                kind,
                field,
                flags,
                start: n.start_byte() as u32,
                end: n.end_byte() as u32,
                row: n.start_position().row as u32,
                next: 0,
            }
        };
        nodes.push(entry(cursor.node(), 0));
        open.push(0);
        loop {
            // The cursor moves to the next node in pre-order: the first
            // child, or else the next sibling of the node or of its nearest
            // ancestor that has one, closing the nodes it leaves.
            if !cursor.goto_first_child() {
                loop {
                    let closed = open.pop().expect("the cursor never leaves the node it started at");
                    nodes[closed as usize].next = nodes.len() as u32;
                    if open.is_empty() {
                        return SyntaxTree { nodes };
                    }
                    if cursor.goto_next_sibling() {
                        break;
                    }
                    cursor.goto_parent();
                }
            }
            open.push(nodes.len() as u32);
            nodes.push(entry(cursor.node(), cursor.field_id().map_or(0, |f| f.get())));
        }
    }

    /// The first ERROR or MISSING node, in the order of the text.
    pub fn first_error(&self) -> Option<SyntaxNode<'_>> {
        if self.nodes.first().is_none_or(|root| root.flags & HAS_ERROR == 0) {
            return None;
        }
        (0..self.nodes.len() as u32).map(|index| SyntaxNode { tree: self, index }).find(|n| n.is_error() || n.is_missing())
    }

    /// How many nodes the tree has.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node this tree was read from.
    pub fn root(&self) -> SyntaxNode<'_> {
        SyntaxNode { tree: self, index: 0 }
    }
}

/// A node of a [`SyntaxTree`]. Its methods answer as tree-sitter's
/// `Node` methods of the same names do.
#[derive(Clone, Copy)]
pub struct SyntaxNode<'t> {
    tree: &'t SyntaxTree,
    index: u32,
}

impl PartialEq for SyntaxNode<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.tree, other.tree) && self.index == other.index
    }
}

impl Eq for SyntaxNode<'_> {}

impl std::fmt::Debug for SyntaxNode<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.kind_name(), self.byte_range())
    }
}

impl<'t> SyntaxNode<'t> {
    fn entry(&self) -> &'t Entry {
        &self.tree.nodes[self.index as usize]
    }

    fn has(&self, flag: u8) -> bool {
        self.entry().flags & flag != 0
    }

    pub fn kind_id(&self) -> u16 {
        self.entry().kind
    }

    /// The line the node starts on, from 0.
    pub fn start_row(&self) -> usize {
        self.entry().row as usize
    }

    pub fn has_error(&self) -> bool {
        self.has(HAS_ERROR)
    }

    #[cfg(test)]
    fn child_count(&self) -> usize {
        self.children().count()
    }

    #[cfg(test)]
    fn named_child_count(&self) -> usize {
        self.named_children().count()
    }
}

/// What the walks read of a node, from a [`SyntaxTree`] or straight from
/// tree-sitter's tree, each method answering as tree-sitter's method of the
/// same name does. Reading a tree into a [`SyntaxTree`] pays when two walks
/// read it (app.py, which chalice's import reads too) or when it is read in
/// chunks; a module only lowered is read once, and its lowering skips what
/// it does not need (strings' parts, annotations, punctuation), so it is
/// lowered from tree-sitter's tree directly.
pub trait ReadNode<'t>: Copy {
    /// The node's kind, as `Node::kind` names it.
    fn kind_name(&self) -> &'static str;
    fn start_byte(&self) -> usize;
    fn end_byte(&self) -> usize;
    fn is_named(&self) -> bool;
    fn is_error(&self) -> bool;
    fn is_missing(&self) -> bool;
    /// The first child in `field`, as `child_by_field_name` finds it.
    fn field(&self, field: &Field) -> Option<Self>;
    /// Every child in `field`, as `children_by_field_name` lists them.
    fn fields(&self, field: &Field) -> impl Iterator<Item = Self> + 't;
    /// Every child, named or not (comments included), in order.
    fn children(&self) -> impl Iterator<Item = Self> + 't;

    fn byte_range(&self) -> Range<usize> {
        self.start_byte()..self.end_byte()
    }

    /// The named children (comments included, as in tree-sitter).
    fn named_children(&self) -> impl Iterator<Item = Self> + 't {
        self.children().filter(|c| c.is_named())
    }

    fn named_child(&self, i: usize) -> Option<Self> {
        self.named_children().nth(i)
    }
}

impl<'t> ReadNode<'t> for SyntaxNode<'t> {
    fn kind_name(&self) -> &'static str {
        super::kind_name_of(self.kind_id())
    }
    fn start_byte(&self) -> usize {
        self.entry().start as usize
    }
    fn end_byte(&self) -> usize {
        self.entry().end as usize
    }
    fn is_named(&self) -> bool {
        self.has(NAMED)
    }
    fn is_error(&self) -> bool {
        self.kind_id() == ERROR_KIND
    }
    fn is_missing(&self) -> bool {
        self.has(MISSING)
    }
    fn field(&self, field: &Field) -> Option<Self> {
        let id = field.id().get();
        self.children().find(|c| c.entry().field == id)
    }
    fn fields(&self, field: &Field) -> impl Iterator<Item = Self> + 't {
        let id = field.id().get();
        self.children().filter(move |c| c.entry().field == id)
    }
    fn children(&self) -> impl Iterator<Item = Self> + 't {
        Children { tree: self.tree, next: self.index + 1, end: self.entry().next }
    }
}

impl<'t> ReadNode<'t> for tree_sitter::Node<'t> {
    fn kind_name(&self) -> &'static str {
        super::kind_name_of(self.kind_id())
    }
    fn start_byte(&self) -> usize {
        tree_sitter::Node::start_byte(self)
    }
    fn end_byte(&self) -> usize {
        tree_sitter::Node::end_byte(self)
    }
    fn is_named(&self) -> bool {
        tree_sitter::Node::is_named(self)
    }
    fn is_error(&self) -> bool {
        tree_sitter::Node::is_error(self)
    }
    fn is_missing(&self) -> bool {
        tree_sitter::Node::is_missing(self)
    }
    fn field(&self, field: &Field) -> Option<Self> {
        self.child_by_field_id(field.id().get())
    }
    fn fields(&self, field: &Field) -> impl Iterator<Item = Self> + 't {
        TsChildren::new(*self, Some(field.id()))
    }
    fn children(&self) -> impl Iterator<Item = Self> + 't {
        TsChildren::new(*self, None)
    }
    fn named_child(&self, i: usize) -> Option<Self> {
        tree_sitter::Node::named_child(self, i as u32)
    }
}

/// A tree-sitter node's children (those in one field, when given), read
/// with a cursor of their own (so the iterator owns what it borrows).
struct TsChildren<'t> {
    cursor: Option<tree_sitter::TreeCursor<'t>>,
    started: bool,
    field: Option<std::num::NonZeroU16>,
}

impl<'t> TsChildren<'t> {
    fn new(node: tree_sitter::Node<'t>, field: Option<std::num::NonZeroU16>) -> Self {
        // A leaf has no children to look for: no cursor (an allocation).
        let cursor = (node.child_count() > 0).then(|| node.walk());
        TsChildren { cursor, started: false, field }
    }
}

impl<'t> Iterator for TsChildren<'t> {
    type Item = tree_sitter::Node<'t>;

    fn next(&mut self) -> Option<Self::Item> {
        let cursor = self.cursor.as_mut()?;
        loop {
            let moved = if self.started { cursor.goto_next_sibling() } else { cursor.goto_first_child() };
            self.started = true;
            if !moved {
                self.cursor = None;
                return None;
            }
            // A child's field is worked out only when one is asked for.
            if self.field.is_none() || cursor.field_id() == self.field {
                return Some(cursor.node());
            }
        }
    }
}

/// The children of a node, in order.
struct Children<'t> {
    tree: &'t SyntaxTree,
    next: u32,
    end: u32,
}

impl<'t> Iterator for Children<'t> {
    type Item = SyntaxNode<'t>;

    fn next(&mut self) -> Option<SyntaxNode<'t>> {
        if self.next >= self.end {
            return None;
        }
        let node = SyntaxNode { tree: self.tree, index: self.next };
        self.next = node.entry().next;
        Some(node)
    }
}

#[cfg(test)]
mod tests {
    use super::{ReadNode, SyntaxTree};

    /// Every node of every Python file of the corpus (and of broken
    /// versions of them) reads the same as through tree-sitter's API.
    #[test]
    fn reads_every_node_as_tree_sitter_does() {
        let mut rng = crate::lsp::test_support::Rng::new(5);
        let mut texts: Vec<String> = crate::lsp::edit_fuzz::corpus_python_texts();
        // Lines dropped, or cut in half: unclosed brackets, strings, blocks.
        let mut broken = Vec::new();
        for text in &texts {
            let mut out = String::new();
            for line in text.split_inclusive('\n') {
                match rng.below(9) {
                    0 | 1 => {}
                    2 => out.extend(line.chars().take(line.chars().count() / 2)),
                    _ => out.push_str(line),
                }
            }
            broken.push(out);
        }
        texts.extend(broken);
        texts.push("x = (\u{3042}, 'é'\r\nif y:\r\n  pass\r\n".to_string());
        let all_fields = crate::python::all_fields();
        let mut seen = 0;
        let readers: [fn(tree_sitter::Node) -> SyntaxTree; 2] = [SyntaxTree::read_subtrees, SyntaxTree::read_with_cursor];
        for (text, read) in texts.iter().flat_map(|text| readers.iter().map(move |read| (text, read))) {
            let tree = crate::python::parse(text, None);
            let flat = read(tree.root_node());
            let mut stack = vec![(tree.root_node(), flat.root())];
            while let Some((ts, ours)) = stack.pop() {
                seen += 1;
                assert_eq!(ours.kind_name(), ts.kind(), "{text}");
                assert_eq!(ReadNode::kind_name(&ts), ts.kind());
                assert_eq!(ours.kind_id(), ts.kind_id());
                assert_eq!(ours.byte_range(), ts.byte_range());
                assert_eq!(ours.start_row(), ts.start_position().row);
                assert_eq!(
                    (ours.is_named(), ours.is_error(), ours.is_missing(), ours.has_error()),
                    (ts.is_named(), ts.is_error(), ts.is_missing(), ts.has_error())
                );
                assert_eq!(ours.child_count(), ts.child_count() as usize);
                assert_eq!(ours.named_child_count(), ts.named_child_count());
                for &f in &all_fields {
                    let theirs = ts.child_by_field_name(f.name()).map(|n| n.byte_range());
                    assert_eq!(ours.field(f).map(|n| n.byte_range()), theirs, "{} of {} in {text}", f.name(), ts.kind());
                    let mut cursor = ts.walk();
                    let theirs: Vec<_> = ts.children_by_field_name(f.name(), &mut cursor).map(|n| (n.kind_id(), n.byte_range())).collect();
                    let ours: Vec<_> = ours.fields(f).map(|n| (n.kind_id(), n.byte_range())).collect();
                    assert_eq!(ours, theirs);
                }
                let mut cursor = ts.walk();
                let named: Vec<_> = ts.named_children(&mut cursor).map(|n| n.byte_range()).collect();
                assert_eq!(ours.named_children().map(|n| n.byte_range()).collect::<Vec<_>>(), named);
                let mut cursor = ts.walk();
                stack.extend(ts.children(&mut cursor).zip(ours.children()));
            }
        }
        assert!(seen > 80_000, "{seen}");
    }

    /// `children_of` gives every node's children as a cursor does, in
    /// fresh trees, broken ones, and trees edited and parsed again the way
    /// the language server edits an open document's; and a module long
    /// enough for its statements to hang from several levels of hidden
    /// nodes.
    #[test]
    fn children_of_gives_what_a_cursor_gives() {
        let mut rng = crate::lsp::test_support::Rng::new(11);
        let mut texts: Vec<String> = crate::lsp::edit_fuzz::corpus_python_texts();
        texts.push((0..3000).map(|i| format!("# \u{3042} {i}\r\nx{i} = f({i})\r\n")).collect());
        texts.push("x = (\u{3042}, 'é'\r\nif y:\r\n  pass\r\n".to_string());
        let same = |tree: &tree_sitter::Tree, text: &str| -> usize {
            let mut checked = 0;
            let mut stack = vec![tree.root_node()];
            while let Some(node) = stack.pop() {
                let mut cursor = node.walk();
                let theirs: Vec<_> = node.children(&mut cursor).collect();
                let ours = super::children_of(node);
                assert_eq!(ours, theirs, "{text}");
                for (a, b) in ours.iter().zip(&theirs) {
                    assert_eq!((a.kind_id(), a.byte_range(), a.start_position(), a.end_position()), (b.kind_id(), b.byte_range(), b.start_position(), b.end_position()));
                    assert_eq!((a.is_named(), a.is_extra(), a.has_error(), a.is_missing()), (b.is_named(), b.is_extra(), b.has_error(), b.is_missing()));
                }
                checked += 1;
                stack.extend(theirs);
            }
            checked
        };
        let mut checked = 0;
        for text in &texts {
            let tree = crate::python::parse(text, None);
            checked += same(&tree, text);
            // Edited where a keystroke would edit, and parsed again from the
            // edited tree: what an open document's tree goes through.
            let (mut text, mut tree) = (text.clone(), tree);
            for _ in 0..6 {
                let mut at = rng.below(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let new = ["x", "(", ":", "\n", "'", "  "][rng.below(6)];
                let point = |offset: usize| {
                    let before = &text.as_bytes()[..offset];
                    let row = before.iter().filter(|&&b| b == b'\n').count();
                    tree_sitter::Point::new(row, offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1))
                };
                let start = point(at);
                let new_end = tree_sitter::Point::new(start.row + new.matches('\n').count(), if new.contains('\n') { 0 } else { start.column + new.len() });
                tree.edit(&tree_sitter::InputEdit { start_byte: at, old_end_byte: at, new_end_byte: at + new.len(), start_position: start, old_end_position: start, new_end_position: new_end });
                text.insert_str(at, new);
                tree = crate::python::parse(&text, Some(&tree));
                checked += same(&tree, &text);
            }
        }
        assert!(checked > 50_000, "{checked}");
    }
}
