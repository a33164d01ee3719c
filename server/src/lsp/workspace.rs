//! Where the Chalice project of a file is, when no loaded project claims
//! it (projects under the workspace folders are found by
//! [`crate::project::discover_projects`]).

use std::path::{Path, PathBuf};

/// A Chalice project root has `app.py`, `.chalice/config.json`, or both.
pub fn is_project_root(dir: &Path) -> bool {
    dir.join("app.py").is_file() || dir.join(".chalice").join("config.json").is_file()
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
