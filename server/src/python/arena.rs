//! An arena for the tree-sitter trees that are read once and dropped.
//!
//! A one-shot run reads every tree it parses into a [`SyntaxTree`] and then
//! drops it (unless it has syntax errors). tree-sitter allocates a node at a
//! time and frees each one again, during the parse (its stack's versions,
//! the tokens it looks ahead) and after it (the whole tree, node by node):
//! on the 10 MB benchmark app, allocating and freeing was about a tenth of
//! the run's CPU. In an arena scope (see [`parse_and_read`]) tree-sitter
//! allocates by moving a pointer, frees nothing, and the parser and tree
//! are forgotten, not deleted: the arena is rewound for the next parse, and
//! its pages, still in the cache, are written again.
//!
//! [`install`] points tree-sitter's allocator at this module: inside a
//! scope, the calling thread's arena; anywhere else, the allocator given to
//! it (the one that was in use before, so that memory allocated before the
//! switch is freed where it came from). Without [`install`] (the language
//! server, which keeps its trees) a scope parses with the thread's parser
//! and drops the tree as usual.
//!
//! Memory from an arena must never outlive its scope: only data read out of
//! the tree (a [`SyntaxTree`]) leaves it, and the parser is made in the
//! scope, so that nothing tree-sitter keeps between parses (its node pool)
//! points into the arena.
//!
//! [`SyntaxTree`]: super::SyntaxTree

use std::alloc::Layout;
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::sync::OnceLock;

use tree_sitter::{Parser, Tree};

/// An allocator tree-sitter can use outside arena scopes.
#[derive(Clone, Copy)]
pub struct Fallback {
    pub malloc: unsafe extern "C" fn(usize) -> *mut c_void,
    pub calloc: unsafe extern "C" fn(usize, usize) -> *mut c_void,
    pub realloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
    pub free: unsafe extern "C" fn(*mut c_void),
}

static FALLBACK: OnceLock<Fallback> = OnceLock::new();

/// Routes tree-sitter's allocations through this module (see the module's
/// documentation), with `fallback` outside arena scopes.
///
/// # Safety
/// `fallback` must be the allocator tree-sitter used until now (or nothing
/// tree-sitter allocated may be alive), and no other thread may be calling
/// into tree-sitter while this runs.
pub unsafe fn install(fallback: Fallback) {
    if FALLBACK.set(fallback).is_err() {
        return;
    }
    // SAFETY: the caller guarantees that memory allocated before is the
    // fallback's, which is where whatever is not the arena's goes.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: arena_malloc,
            calloc: arena_calloc,
            realloc: arena_realloc,
            free: arena_free,
        }));
    }
}

/// Whether tree-sitter allocates through this module (see [`install`]).
pub fn is_installed() -> bool {
    FALLBACK.get().is_some()
}

/// Parses with a parser of its own (`parse`) and reads the tree (`read`),
/// allocating from this thread's arena when one is installed. `read` must
/// return data of its own, nothing that refers to the tree (a node, a
/// copy of the tree): the tree's memory is reused by the next parse.
pub(super) fn parse_and_read<R>(parse: impl FnOnce(&mut Parser) -> Tree, read: impl FnOnce(&Tree) -> R) -> R {
    if !is_installed() {
        let tree = super::with_parser(parse);
        return read(&tree);
    }
    let _scope = Scope::enter();
    let mut parser = super::parser().expect("grammar ABI is checked at start-up");
    let tree = parse(&mut parser);
    let out = read(&tree);
    // Deleting them would visit every node to free nothing; the scope's
    // end takes their memory back at once. (Should `parse` or `read`
    // panic, they are dropped before the scope ends, freeing nothing.)
    std::mem::forget(tree);
    std::mem::forget(parser);
    out
}

/// While alive, tree-sitter allocates on this thread from its arena.
struct Scope;

impl Scope {
    fn enter() -> Scope {
        ARENA.with(|arena| {
            // SAFETY: only this thread touches its arena, and no reference
            // to it outlives a call.
            let arena = unsafe { &mut *arena.get() };
            assert!(!arena.active, "arena scopes do not nest");
            arena.active = true;
        });
        Scope
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        ARENA.with(|arena| {
            // SAFETY: as in `enter`.
            let arena = unsafe { &mut *arena.get() };
            arena.active = false;
            arena.rewind();
        });
    }
}

/// Blocks of memory handed out in order; each allocation is preceded by a
/// header holding its size (for `realloc`).
struct Arena {
    active: bool,
    /// Start and size of each block; those before `current` are full.
    blocks: Vec<(*mut u8, usize)>,
    current: usize,
    /// The free part of the current block.
    top: *mut u8,
    end: *mut u8,
    /// The last allocation: it can grow where it is.
    last: *mut u8,
}

thread_local! {
    static ARENA: UnsafeCell<Arena> = const {
        UnsafeCell::new(Arena {
            active: false,
            blocks: Vec::new(),
            current: 0,
            top: std::ptr::null_mut(),
            end: std::ptr::null_mut(),
            last: std::ptr::null_mut(),
        })
    };
}

/// Alignment of every allocation, as C's `malloc` gives (`max_align_t`).
const ALIGN: usize = 16;
/// The header before each allocation: its size, padded to `ALIGN`.
const HEADER: usize = ALIGN;
const BLOCK: usize = 8 << 20;

impl Arena {
    fn contains(&self, ptr: *mut u8) -> bool {
        let p = ptr as usize;
        self.blocks[..self.blocks.len().min(self.current + 1)].iter().any(|&(start, len)| p >= start as usize && p < start as usize + len)
    }

    fn alloc(&mut self, size: usize) -> *mut u8 {
        let Some(needed) = size.checked_add(HEADER + ALIGN - 1).map(|n| n & !(ALIGN - 1)) else { return std::ptr::null_mut() };
        if (self.end as usize) - (self.top as usize) < needed && !self.next_block(needed) {
            return std::ptr::null_mut();
        }
        let header = self.top;
        // SAFETY: `needed` bytes from `top` lie in the current block.
        unsafe {
            header.cast::<usize>().write(size);
            self.top = header.add(needed);
            self.last = header.add(HEADER);
        }
        self.last
    }

    /// Moves to the next block, or to a new one put there when it lacks
    /// room for `needed` bytes (or there is none).
    fn next_block(&mut self, needed: usize) -> bool {
        let next = if self.top.is_null() { 0 } else { self.current + 1 };
        if self.blocks.get(next).is_none_or(|&(_, len)| len < needed) {
            let len = needed.max(BLOCK);
            let Ok(layout) = Layout::from_size_align(len, ALIGN) else { return false };
            // SAFETY: `layout` has a non-zero size.
            let start = unsafe { std::alloc::alloc(layout) };
            if start.is_null() {
                return false;
            }
            self.blocks.insert(next, (start, len));
        }
        self.current = next;
        let (start, len) = self.blocks[next];
        self.top = start;
        // SAFETY: `len` is the block's size.
        self.end = unsafe { start.add(len) };
        true
    }

    fn rewind(&mut self) {
        self.current = 0;
        self.last = std::ptr::null_mut();
        match self.blocks.first() {
            Some(&(start, len)) => {
                self.top = start;
                // SAFETY: `len` is the block's size.
                self.end = unsafe { start.add(len) };
            }
            None => {
                self.top = std::ptr::null_mut();
                self.end = std::ptr::null_mut();
            }
        }
    }

    /// The size `ptr` was allocated with.
    fn size_of(ptr: *mut u8) -> usize {
        // SAFETY: `ptr` is an allocation of this arena, after its header.
        unsafe { ptr.sub(HEADER).cast::<usize>().read() }
    }

    fn realloc(&mut self, ptr: *mut u8, size: usize) -> *mut u8 {
        let old = Arena::size_of(ptr);
        if ptr == self.last {
            let Some(needed) = size.checked_add(ALIGN - 1).map(|n| n & !(ALIGN - 1)) else { return std::ptr::null_mut() };
            if (self.end as usize) - (ptr as usize) >= needed {
                // SAFETY: the grown allocation still lies in the block.
                unsafe {
                    ptr.sub(HEADER).cast::<usize>().write(size);
                    self.top = ptr.add(needed);
                }
                return ptr;
            }
        }
        let new = self.alloc(size);
        if !new.is_null() {
            // SAFETY: both allocations hold at least `min(old, size)` bytes
            // and do not overlap (the new one is past the old one).
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, old.min(size)) };
        }
        new
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        for &(start, len) in &self.blocks {
            // SAFETY: allocated in `next_block` with this layout.
            unsafe { std::alloc::dealloc(start, Layout::from_size_align_unchecked(len, ALIGN)) };
        }
    }
}

fn fallback() -> &'static Fallback {
    FALLBACK.get().expect("the arena allocator is only installed with a fallback")
}

/// Runs `f` on this thread's arena when a scope is open (`None` otherwise,
/// or while the thread is being torn down).
fn in_scope<R>(f: impl FnOnce(&mut Arena) -> R) -> Option<R> {
    ARENA
        .try_with(|arena| {
            // SAFETY: only this thread touches its arena, and allocation
            // calls do not nest (blocks come from Rust's allocator).
            let arena = unsafe { &mut *arena.get() };
            arena.active.then(|| f(arena))
        })
        .ok()
        .flatten()
}

unsafe extern "C" fn arena_malloc(size: usize) -> *mut c_void {
    match in_scope(|arena| arena.alloc(size)) {
        Some(ptr) => ptr.cast(),
        // SAFETY: the fallback is a C allocator.
        None => unsafe { (fallback().malloc)(size) },
    }
}

unsafe extern "C" fn arena_calloc(count: usize, size: usize) -> *mut c_void {
    let scoped = in_scope(|arena| {
        let Some(bytes) = count.checked_mul(size) else { return std::ptr::null_mut() };
        let ptr = arena.alloc(bytes);
        if !ptr.is_null() {
            // SAFETY: `ptr` holds `bytes` bytes (a rewound block holds old data).
            unsafe { ptr.write_bytes(0, bytes) };
        }
        ptr
    });
    match scoped {
        Some(ptr) => ptr.cast(),
        // SAFETY: the fallback is a C allocator.
        None => unsafe { (fallback().calloc)(count, size) },
    }
}

unsafe extern "C" fn arena_realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    let scoped = in_scope(|arena| {
        if ptr.is_null() {
            Some(arena.alloc(size))
        } else if arena.contains(ptr.cast()) {
            Some(arena.realloc(ptr.cast(), size))
        } else {
            // Allocated before the scope: it stays the fallback's.
            None
        }
    });
    match scoped.flatten() {
        Some(new) => new.cast(),
        // SAFETY: `ptr` is null or the fallback's.
        None => unsafe { (fallback().realloc)(ptr, size) },
    }
}

unsafe extern "C" fn arena_free(ptr: *mut c_void) {
    if ptr.is_null() || in_scope(|arena| arena.contains(ptr.cast())) == Some(true) {
        return;
    }
    // SAFETY: not the arena's, so the fallback's.
    unsafe { (fallback().free)(ptr) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arena() -> Arena {
        Arena { active: true, blocks: Vec::new(), current: 0, top: std::ptr::null_mut(), end: std::ptr::null_mut(), last: std::ptr::null_mut() }
    }

    fn fill(ptr: *mut u8, len: usize, byte: u8) {
        // SAFETY: the tests fill only what they allocated.
        unsafe { ptr.write_bytes(byte, len) };
    }

    fn holds(ptr: *mut u8, len: usize, byte: u8) -> bool {
        // SAFETY: the tests read only what they allocated and filled.
        unsafe { std::slice::from_raw_parts(ptr, len) }.iter().all(|&b| b == byte)
    }

    /// Allocations are aligned, disjoint and keep what was written to them;
    /// one grows in place while it is the last, and is moved, contents and
    /// all, once it is not; a request larger than a block gets a block of
    /// its own; the arena knows its own pointers only.
    #[test]
    fn allocations_keep_their_bytes_and_grow() {
        let mut a = arena();
        let first = a.alloc(24);
        fill(first, 24, 1);
        let grown = a.realloc(first, 100);
        assert_eq!(grown, first, "the last allocation grows in place");
        assert!(holds(grown, 24, 1));
        fill(grown, 100, 2);
        let second = a.alloc(7);
        fill(second, 7, 3);
        let moved = a.realloc(grown, 5000);
        assert_ne!(moved, grown);
        assert!(holds(moved, 100, 2) && holds(second, 7, 3));
        let shrunk = a.realloc(moved, 10);
        assert!(holds(shrunk, 10, 2));
        let huge = a.alloc(3 * BLOCK);
        fill(huge, 3 * BLOCK, 4);
        let after = a.alloc(64);
        fill(after, 64, 5);
        assert!(holds(huge, 3 * BLOCK, 4) && holds(second, 7, 3));
        for (ptr, size) in [(first, 24), (second, 7), (moved, 5000), (huge, 3 * BLOCK), (after, 64)] {
            assert_eq!(ptr as usize % ALIGN, 0);
            assert!(a.contains(ptr) && a.contains(ptr.wrapping_add(size - 1)));
            assert!(Arena::size_of(ptr) >= size.min(10));
        }
        let outside = Box::new(0u64);
        assert!(!a.contains((&*outside as *const u64).cast_mut().cast()));
    }

    /// A rewound arena hands out its blocks again, from the first, and
    /// needs no new one for what fitted before.
    #[test]
    fn a_rewound_arena_reuses_its_blocks() {
        let mut a = arena();
        let sizes = [100, BLOCK / 2, BLOCK / 2, 40, BLOCK + 1, 8];
        let first_round: Vec<*mut u8> = sizes.iter().map(|&n| a.alloc(n)).collect();
        let blocks = a.blocks.len();
        a.rewind();
        let second_round: Vec<*mut u8> = sizes.iter().map(|&n| a.alloc(n)).collect();
        assert_eq!(first_round, second_round);
        assert_eq!(a.blocks.len(), blocks);
        for (ptr, &n) in second_round.iter().zip(&sizes) {
            fill(*ptr, n, 9);
        }
        assert!(second_round.iter().zip(&sizes).all(|(&p, &n)| holds(p, n, 9)));
    }
}
