//! The language server. The only module that knows LSP types.

mod convert;
mod document;
mod line_index;
mod outbox;
mod settings;
mod watcher;
