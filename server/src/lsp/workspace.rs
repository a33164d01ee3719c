//! Where Chalice projects are: under the workspace folders, or above a
//! document opened outside all of them.

use std::path::{Path, PathBuf};

use super::watcher::is_skipped_dir;

/// A Chalice project root has `app.py`, `.chalice/config.json`, or both.
pub fn is_project_root(dir: &Path) -> bool {
    dir.join("app.py").is_file() || dir.join(".chalice").join("config.json").is_file()
}

/// Caps the directories one folder's search visits, so that opening a home
/// directory as a workspace cannot stall start-up.
const MAX_DIRS_SEARCHED: usize = 20_000;

/// Project roots under `folder` (itself included), sorted. A project's own
/// subdirectories are not searched for further projects: `chalicelib/`,
/// `vendor/` and `tests/` belong to it. Returns whether the search stopped
/// early at [`MAX_DIRS_SEARCHED`].
pub fn discover_projects(folder: &Path) -> (Vec<PathBuf>, bool) {
    let mut roots = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    let mut visited = 0;
    while let Some(dir) = pending.pop() {
        visited += 1;
        if visited > MAX_DIRS_SEARCHED {
            roots.sort();
            return (roots, true);
        }
        if is_project_root(&dir) {
            roots.push(dir);
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            // `file_type` does not follow symlinks, so link loops cannot trap us.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let path = entry.path();
                if !is_skipped_dir(&path) {
                    pending.push(path);
                }
            }
        }
    }
    roots.sort();
    (roots, false)
}

/// The project a file belongs to when no loaded project claims it: the
/// nearest directory above it that is a project root. A file under
/// `.chalice/` belongs to the directory holding `.chalice`.
pub fn enclosing_project_root(file: &Path) -> Option<PathBuf> {
    file.ancestors().skip(1).find(|dir| is_project_root(dir)).map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn touch(root: &Path, rel: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "").unwrap();
    }

    #[test]
    fn finds_projects_and_skips_vendored_trees() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(root, "services/api/app.py");
        touch(root, "services/api/chalicelib/app.py"); // inside a project: not another one
        touch(root, "services/worker/.chalice/config.json");
        touch(root, "node_modules/pkg/app.py");
        touch(root, ".venv/lib/app.py");
        touch(root, "docs/readme.md");
        let (roots, truncated) = discover_projects(root);
        assert!(!truncated);
        assert_eq!(roots, [root.join("services/api"), root.join("services/worker")]);
    }

    #[test]
    fn a_folder_that_is_a_project() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "app.py");
        assert_eq!(discover_projects(dir.path()).0, [dir.path().to_path_buf()]);
    }

    #[test]
    fn enclosing_root_of_sources_and_config() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        touch(&root, "app.py");
        touch(&root, ".chalice/config.json");
        touch(&root, "chalicelib/db.py");
        assert_eq!(enclosing_project_root(&root.join("chalicelib/db.py")), Some(root.clone()));
        assert_eq!(enclosing_project_root(&root.join(".chalice/config.json")), Some(root.clone()));
        assert_eq!(enclosing_project_root(&root.join("app.py")), Some(root.clone()));
        assert_eq!(enclosing_project_root(&dir.path().join("other.py")), None);
    }
}
