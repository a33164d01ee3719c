//! `textDocument/didOpen`: the editor's text of a file now wins over the disk's.

use tower_lsp_server::ls_types::DidOpenTextDocumentParams;

use super::document::Document;
use super::session::Session;

pub(super) fn handle(session: &mut Session, params: DidOpenTextDocumentParams) {
    let item = params.text_document;
    session.open_document(Document::new(item.uri, &item.language_id, item.text, item.version));
}
