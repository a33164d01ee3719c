//! `textDocument/didOpen`: the editor's text of a file now wins over the disk's.

use tower_lsp_server::ls_types::DidOpenTextDocumentParams;

use super::document::Document;
use super::session::Session;

/// Test builds only: a language id whose `didOpen` panics, to show that a
/// panic in a notification handler is caught and logged.
#[cfg(test)]
pub(super) const TEST_PANIC_LANGUAGE: &str = "chalice-iam-test-panic";

pub(super) fn handle(session: &mut Session, params: DidOpenTextDocumentParams) {
    let item = params.text_document;
    #[cfg(test)]
    if item.language_id == TEST_PANIC_LANGUAGE {
        panic!("test panic in a notification handler");
    }
    session.open_document(Document::new(item.uri, &item.language_id, item.text, item.version));
}
