//! `textDocument/codeAction`: a quick fix for each fix carried by the
//! diagnostics the client sends back, and `source.fixAll.chalice-iam`.
//!
//! Quick fixes are found by `Diagnostic.data`, which names the diagnostic's
//! fixes among those the server keeps for the last diagnostics it computed
//! (see `convert::FixKeys::key`), never by the range the client sends: Neovim 0.7
//! reports byte columns there whatever encoding was negotiated. Clients that
//! drop `data` (LSP allows it without `publishDiagnostics.dataSupport`), or
//! send a diagnostic whose fixes a newer computation replaced, get those of
//! the matching diagnostic as last published.

use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse,
};

use super::convert::{self, DiagnosticData, SOURCE};
use super::session::Session;

/// Grants every missing action of the project at once.
pub const FIX_ALL: CodeActionKind = CodeActionKind::new("source.fixAll.chalice-iam");

pub(super) fn handle(session: &mut Session, params: CodeActionParams) -> Option<CodeActionResponse> {
    let only = params.context.only.as_deref();
    let mut actions = Vec::new();
    if wanted(only, &CodeActionKind::QUICKFIX) {
        for diagnostic in &params.context.diagnostics {
            if diagnostic.source.as_deref() != Some(SOURCE) {
                continue;
            }
            let uri = &params.text_document.uri;
            let named = |data: Option<serde_json::Value>| {
                let data = serde_json::from_value::<DiagnosticData>(data?).ok()?;
                session.fixes_named(uri, &data.fix)
            };
            // A client that does not keep `data` gets the fixes of the
            // diagnostic as last published; so does one whose `data` names
            // fixes a newer computation replaced (its request crossed the
            // newer publish): those were computed for the current texts.
            // A diagnostic no longer published: no fixes to offer.
            let fixes = named(diagnostic.data.clone()).or_else(|| named(session.published_data(uri, diagnostic)));
            let Some(fixes) = fixes else { continue };
            let single = fixes.len() == 1;
            for fix in &fixes {
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: fix.title.clone(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic.clone()]),
                    edit: Some(convert::workspace_edit(fix, session.support.edits)),
                    is_preferred: Some(single),
                    ..Default::default()
                }));
            }
        }
    }
    if wanted(only, &FIX_ALL) {
        if let Some(fix) = session.fix_all(&params.text_document.uri) {
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: fix.title.clone(),
                kind: Some(FIX_ALL),
                edit: Some(convert::workspace_edit(&fix, session.support.edits)),
                ..Default::default()
            }));
        }
    }
    Some(actions)
}

/// Whether the client asked for `kind`: it asked for everything, or for
/// `kind` or one of its parents (`source` covers `source.fixAll.chalice-iam`).
fn wanted(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    only.is_none_or(|only| {
        only.iter().any(|asked| {
            let (asked, kind) = (asked.as_str(), kind.as_str());
            kind == asked || kind.strip_prefix(asked).is_some_and(|rest| rest.starts_with('.'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_match_themselves_and_their_parents() {
        let source = CodeActionKind::SOURCE;
        let fix_all = CodeActionKind::SOURCE_FIX_ALL;
        assert!(wanted(None, &FIX_ALL));
        assert!(wanted(Some(std::slice::from_ref(&source)), &FIX_ALL));
        assert!(wanted(Some(&[fix_all]), &FIX_ALL));
        assert!(wanted(Some(&[FIX_ALL]), &FIX_ALL));
        assert!(!wanted(Some(&[CodeActionKind::QUICKFIX]), &FIX_ALL));
        assert!(!wanted(Some(&[source]), &CodeActionKind::QUICKFIX));
        assert!(!wanted(Some(&[CodeActionKind::new("source.fix")]), &FIX_ALL));
    }
}
