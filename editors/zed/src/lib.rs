//! Zed extension: runs `chalice-iam lsp` for Python files and passes the
//! user's `lsp.chalice-iam` settings to it.

use serde_json::{json, Value};
use zed_extension_api::{self as zed, settings::LspSettings, LanguageServerId, Result, Worktree};

/// The section the server reads, in `workspace/configuration` and nested
/// in `initializationOptions`.
const SECTION: &str = "chalice-iam";

struct ChaliceIam;

impl zed::Extension for ChaliceIam {
    fn new() -> Self {
        ChaliceIam
    }

    fn language_server_command(&mut self, id: &LanguageServerId, worktree: &Worktree) -> Result<zed::Command> {
        let binary = LspSettings::for_worktree(id.as_ref(), worktree).ok().and_then(|s| s.binary);
        let configured = binary.as_ref().and_then(|b| b.path.clone());
        let command = server_path(configured, || worktree.which("chalice-iam"))?;
        let args = binary.and_then(|b| b.arguments).unwrap_or_else(|| vec!["lsp".to_owned()]);
        Ok(zed::Command { command, args, env: worktree.shell_env() })
    }

    fn language_server_initialization_options(
        &mut self,
        id: &LanguageServerId,
        worktree: &Worktree,
    ) -> Result<Option<Value>> {
        let settings = LspSettings::for_worktree(id.as_ref(), worktree).ok();
        Ok(initialization_options(settings.as_ref()))
    }

    fn language_server_workspace_configuration(
        &mut self,
        id: &LanguageServerId,
        worktree: &Worktree,
    ) -> Result<Option<Value>> {
        let settings = LspSettings::for_worktree(id.as_ref(), worktree).ok();
        Ok(Some(workspace_configuration(settings.as_ref())))
    }
}

zed::register_extension!(ChaliceIam);

/// The configured binary, else `chalice-iam` on the worktree's PATH.
fn server_path(configured: Option<String>, which: impl FnOnce() -> Option<String>) -> Result<String> {
    configured.filter(|p| !p.trim().is_empty()).or_else(which).ok_or_else(|| {
        "chalice-iam is not on PATH: install it (cargo install --path server, from the chalice-iam \
         repository) or set lsp.chalice-iam.binary.path in Zed's settings"
            .to_owned()
    })
}

/// `initialization_options` when the user set them, else `settings`: users
/// configure the server once, under `lsp.chalice-iam.settings`.
fn initialization_options(settings: Option<&LspSettings>) -> Option<Value> {
    let settings = settings?;
    settings.initialization_options.clone().or_else(|| settings.settings.clone())
}

/// Zed answers each `workspace/configuration` item by looking its section up
/// in this value, so the settings go under the section's name.
fn workspace_configuration(settings: Option<&LspSettings>) -> Value {
    let section = settings.and_then(|s| s.settings.clone()).unwrap_or_else(|| json!({}));
    json!({ SECTION: section })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lsp(settings: Option<Value>, initialization_options: Option<Value>) -> LspSettings {
        LspSettings { binary: None, initialization_options, settings }
    }

    #[test]
    fn the_setting_wins_then_path() {
        let which = || Some("/usr/bin/chalice-iam".to_owned());
        assert_eq!(server_path(Some("/opt/ci".into()), which).unwrap(), "/opt/ci");
        assert_eq!(server_path(Some("  ".into()), which).unwrap(), "/usr/bin/chalice-iam");
        assert_eq!(server_path(None, which).unwrap(), "/usr/bin/chalice-iam");
        let missing = server_path(None, || None).unwrap_err();
        assert!(missing.contains("lsp.chalice-iam.binary.path"), "{missing}");
    }

    #[test]
    fn settings_are_sent_once_configured() {
        let stage = json!({ "stage": "prod" });
        assert_eq!(initialization_options(None), None);
        assert_eq!(initialization_options(Some(&lsp(Some(stage.clone()), None))), Some(stage.clone()));
        let explicit = json!({ "stage": "dev" });
        assert_eq!(initialization_options(Some(&lsp(Some(stage.clone()), Some(explicit.clone())))), Some(explicit));
        assert_eq!(workspace_configuration(Some(&lsp(Some(stage.clone()), None))), json!({ "chalice-iam": stage }));
        assert_eq!(workspace_configuration(None), json!({ "chalice-iam": {} }));
    }
}
