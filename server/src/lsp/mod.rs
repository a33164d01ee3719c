//! The language server. The only module that knows LSP types.

mod document;
mod line_index;
