//! `textDocument/didClose`: the disk's text of the file counts again.

use tower_lsp_server::ls_types::DidCloseTextDocumentParams;

use super::session::Session;

pub(super) fn handle(session: &mut Session, params: DidCloseTextDocumentParams) {
    session.close_document(&params.text_document.uri);
}
