//! `workspace/didChangeConfiguration` and `workspace/configuration`.
//!
//! Clients that answer `workspace/configuration` are asked for the
//! `chalice-iam` section (the notification's own payload is often null or
//! the whole configuration); other clients' payload is read directly.

use serde_json::Value;
use tower_lsp_server::ls_types::{ConfigurationItem, DidChangeConfigurationParams};

use super::server::Handle;
use super::session::Session;
use super::settings::{ClientSettings, SECTION};

pub(super) fn handle(handle: &Handle, params: DidChangeConfigurationParams) {
    let pull = handle.with_session("workspace/didChangeConfiguration", |session| {
        if session.support.configuration_pull {
            return true;
        }
        let ticket = session.next_settings_ticket();
        apply(session, ticket, &params.settings);
        false
    });
    if pull == Some(true) {
        spawn_configuration_pull(handle);
    }
}

/// Asks the client for our section, without waiting for the answer here.
pub(super) fn spawn_configuration_pull(handle: &Handle) {
    let Some(ticket) = handle.with_session("workspace/configuration", |s| s.next_settings_ticket()) else { return };
    let handle = handle.clone();
    tokio::spawn(async move {
        let item = ConfigurationItem { scope_uri: None, section: Some(SECTION.to_owned()) };
        match handle.client.configuration(vec![item]).await {
            Ok(values) => {
                let value = values.into_iter().next().unwrap_or(Value::Null);
                handle.with_session("workspace/configuration", |session| apply(session, ticket, &value));
            }
            Err(error) => handle.outbox.warn(format!("workspace/configuration failed: {error}")),
        }
    });
}

/// Applies settings unless a newer pull or push has been started since
/// `ticket` was taken: answers can arrive out of order.
fn apply(session: &mut Session, ticket: u64, value: &Value) {
    if !session.is_latest_settings_ticket(ticket) {
        return;
    }
    let (settings, problems) = ClientSettings::from_json(value);
    problems.into_iter().for_each(|p| session.outbox.warn(p));
    session.set_configured_settings(settings);
}
