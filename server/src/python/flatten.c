// Reads a tree-sitter tree into the flat pre-order array of
// `python::syntax::SyntaxTree`, in one pass over tree-sitter's own subtrees.
//
// tree-sitter's public API answers the same questions (a tree cursor gives
// each visible node, its kind, offsets and field), but a cursor step climbs
// back through every hidden node it left and re-derives its position, and
// asking a node's field walks up the cursor's stack and scans the field
// map: about a thousand instructions a node, a third of the parse itself.
// Here each subtree is visited once, with its parent's alias sequence and
// field map at hand, for the same answers. It is compiled against the
// headers of the tree-sitter version Cargo.lock pins, and
// `python::syntax::tests::reads_every_node_as_tree_sitter_does` compares
// every node it reads with tree-sitter's API.

#include <stdint.h>
#include <stdlib.h>

#include "tree_sitter/api.h"
#include "./subtree.h"
#include "./language.h"
#include "./tree.h"

// Mirrors `syntax::Entry` (#[repr(C)]).
typedef struct {
  uint16_t kind;
  uint16_t field;
  uint8_t flags;
  uint32_t start;
  uint32_t end;
  uint32_t row;
  uint32_t next;
} FlatEntry;

enum { FLAG_NAMED = 1, FLAG_MISSING = 2, FLAG_HAS_ERROR = 4 };

// A node whose children are being read: a visible one (an entry of the
// output) or a hidden one (its children belong to the nearest visible
// ancestor).
typedef struct {
  Subtree subtree;
  // Where the next child starts.
  uint32_t bytes;
  uint32_t row;
  uint32_t child_index;
  uint32_t structural_child_index;
  const TSSymbol *alias_sequence;
  // The output index of this node when it is visible, else UINT32_MAX.
  uint32_t entry;
  // The field a visible child inherits through this hidden node (the one
  // tree-sitter's cursor finds by walking up through hidden ancestors).
  TSFieldId inherited_field;
} Frame;

static TSFieldId field_in_parent(const TSLanguage *language, const Frame *parent, uint32_t structural_child_index) {
  if (language->field_count == 0) return 0;
  const TSFieldMapEntry *map, *end;
  ts_language_field_map(language, parent->subtree.ptr->production_id, &map, &end);
  for (; map < end; map++) {
    if (!map->inherited && map->child_index == structural_child_index) return map->field_id;
  }
  return 0;
}

static uint8_t flags_of(Subtree subtree, TSSymbol kind, const uint8_t *named_by_kind, uint32_t kind_count) {
  uint8_t flags = 0;
  // ERROR nodes are named; the grammar's kinds say for themselves.
  if (kind == ts_builtin_sym_error || (kind < kind_count && named_by_kind[kind])) flags |= FLAG_NAMED;
  if (ts_subtree_missing(subtree)) flags |= FLAG_MISSING;
  if (ts_subtree_error_cost(subtree) > 0) flags |= FLAG_HAS_ERROR;
  return flags;
}

// Writes `root` and its visible descendants into `out` (room for `capacity`
// entries: the root's visible descendant count plus one) and returns how
// many were written, or UINT32_MAX when memory for the walk ran out.
// `named_by_kind[k]` says whether public kind `k` is named.
uint32_t chalice_iam_flatten(TSNode root, FlatEntry *out, uint32_t capacity, const uint8_t *named_by_kind, uint32_t kind_count) {
  const TSLanguage *language = root.tree->language;
  const Subtree *root_subtree = (const Subtree *)root.id;
  uint32_t count = 0;
  if (capacity == 0) return 0;

  TSSymbol root_symbol = root.context[3] ? root.context[3] : ts_subtree_symbol(*root_subtree);
  TSSymbol root_kind = ts_language_public_symbol(language, root_symbol);
  out[count++] = (FlatEntry){
    .kind = root_kind,
    .field = 0,
    .flags = flags_of(*root_subtree, root_kind, named_by_kind, kind_count),
    .start = root.context[0],
    .end = root.context[0] + ts_subtree_size(*root_subtree).bytes,
    .row = root.context[1],
    .next = 0,
  };

  uint32_t stack_capacity = 64;
  uint32_t depth = 0;
  Frame *stack = malloc(stack_capacity * sizeof(Frame));
  if (!stack) return UINT32_MAX;
  stack[depth++] = (Frame){
    .subtree = *root_subtree,
    .bytes = root.context[0],
    .row = root.context[1],
    .alias_sequence = ts_subtree_child_count(*root_subtree)
      ? ts_language_alias_sequence(language, root_subtree->ptr->production_id)
      : NULL,
    .entry = 0,
    .inherited_field = 0,
  };

  while (depth > 0) {
    Frame *frame = &stack[depth - 1];
    uint32_t child_count = ts_subtree_child_count(frame->subtree);
    if (frame->child_index == child_count) {
      if (frame->entry != UINT32_MAX) out[frame->entry].next = count;
      depth--;
      continue;
    }
    const Subtree *children = ts_subtree_children(frame->subtree);
    Subtree child = children[frame->child_index];
    uint32_t bytes = frame->bytes, row = frame->row;
    uint32_t structural_child_index = frame->structural_child_index;
    bool extra = ts_subtree_extra(child);
    TSSymbol alias = 0;
    if (!extra) {
      if (frame->alias_sequence) alias = frame->alias_sequence[structural_child_index];
      frame->structural_child_index++;
    }
    // The next child starts after this one and the next one's padding.
    Length size = ts_subtree_size(child);
    frame->bytes += size.bytes;
    frame->row += size.extent.row;
    frame->child_index++;
    if (frame->child_index < child_count) {
      Length padding = ts_subtree_padding(children[frame->child_index]);
      frame->bytes += padding.bytes;
      frame->row += padding.extent.row;
    }

    bool visible = ts_subtree_visible(child) || alias;
    if (!visible && ts_subtree_visible_child_count(child) == 0) continue;

    // The field tree-sitter's cursor gives: from the parent's field map,
    // or else inherited through the hidden parent; none for an extra.
    TSFieldId field = 0;
    if (!extra) {
      field = field_in_parent(language, frame, structural_child_index);
      if (!field && frame->entry == UINT32_MAX) field = frame->inherited_field;
    }

    uint32_t entry = UINT32_MAX;
    if (visible) {
      if (count == capacity) {
        free(stack);
        return UINT32_MAX;
      }
      TSSymbol kind = ts_language_public_symbol(language, alias ? alias : ts_subtree_symbol(child));
      entry = count;
      out[count++] = (FlatEntry){
        .kind = kind,
        .field = field,
        .flags = flags_of(child, kind, named_by_kind, kind_count),
        .start = bytes,
        .end = bytes + size.bytes,
        .row = row,
        .next = 0,
      };
    }
    if (ts_subtree_child_count(child) == 0) {
      if (visible) out[entry].next = count;
      continue;
    }
    if (depth == stack_capacity) {
      stack_capacity *= 2;
      Frame *grown = realloc(stack, stack_capacity * sizeof(Frame));
      if (!grown) {
        free(stack);
        return UINT32_MAX;
      }
      stack = grown;
    }
    stack[depth++] = (Frame){
      .subtree = child,
      .bytes = bytes,
      .row = row,
      .child_index = 0,
      .structural_child_index = 0,
      .alias_sequence = ts_language_alias_sequence(language, child.ptr->production_id),
      .entry = entry,
      .inherited_field = field,
    };
  }
  free(stack);
  return count;
}

// A node whose children `chalice_iam_top_level` reads: the root, or a
// hidden node among its descendants.
typedef struct {
  const Subtree *subtree;
  uint32_t child_index;
  uint32_t structural_child_index;
  const TSSymbol *alias_sequence;
  // Where the next child starts (before its padding, but for the first).
  Length position;
} TopFrame;

// Writes the visible children of `root`, as tree-sitter's API gives them
// (`ts_node_child`, a cursor's steps), into `out`, which has room for
// `capacity` (the root's `ts_node_child_count`), and returns how many were
// written, or UINT32_MAX when there were more or memory ran out. A long
// module's statements hang from a balanced tree of hidden `module_repeat`
// nodes: a cursor climbs back through them and re-derives its position at
// every step, where this walk visits each once.
uint32_t chalice_iam_top_level(TSNode root, TSNode *out, uint32_t capacity) {
  const TSLanguage *language = root.tree->language;
  const Subtree *root_subtree = (const Subtree *)root.id;
  if (ts_subtree_child_count(*root_subtree) == 0) return 0;
  uint32_t count = 0;
  uint32_t stack_capacity = 64;
  uint32_t depth = 0;
  TopFrame *stack = malloc(stack_capacity * sizeof(TopFrame));
  if (!stack) return UINT32_MAX;
  stack[depth++] = (TopFrame){
    .subtree = root_subtree,
    .alias_sequence = ts_language_alias_sequence(language, root_subtree->ptr->production_id),
    .position = {root.context[0], {root.context[1], root.context[2]}},
  };
  while (depth > 0) {
    TopFrame *frame = &stack[depth - 1];
    if (frame->child_index == ts_subtree_child_count(*frame->subtree)) {
      depth--;
      continue;
    }
    const Subtree *child = &ts_subtree_children(*frame->subtree)[frame->child_index];
    TSSymbol alias = 0;
    if (!ts_subtree_extra(*child)) {
      if (frame->alias_sequence) alias = frame->alias_sequence[frame->structural_child_index];
      frame->structural_child_index++;
    }
    // As tree-sitter's child iterator: a node's position excludes its
    // padding, which is its first child's.
    if (frame->child_index > 0) frame->position = length_add(frame->position, ts_subtree_padding(*child));
    Length position = frame->position;
    frame->position = length_add(frame->position, ts_subtree_size(*child));
    frame->child_index++;
    if (ts_subtree_visible(*child) || alias) {
      if (count == capacity) {
        free(stack);
        return UINT32_MAX;
      }
      out[count++] = ts_node_new(root.tree, child, position, alias);
      continue;
    }
    if (ts_subtree_visible_child_count(*child) == 0) continue;
    if (depth == stack_capacity) {
      stack_capacity *= 2;
      TopFrame *grown = realloc(stack, stack_capacity * sizeof(TopFrame));
      if (!grown) {
        free(stack);
        return UINT32_MAX;
      }
      stack = grown;
    }
    stack[depth++] = (TopFrame){
      .subtree = child,
      .alias_sequence = ts_language_alias_sequence(language, child->ptr->production_id),
      .position = position,
    };
  }
  free(stack);
  return count;
}
