//! A Chalice project on disk: its Python sources (texts and lowered IR),
//! its config and policy files, and everything computed from them.
//!
//! The CLI loads a project once; the language server keeps one per project
//! root and replaces single files as they change.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::analysis::{self, FileFacts, ModuleInput, ModuleIr, ProjectFacts};

mod stages;
mod workspace;

pub use workspace::{discover_projects, Project, Settings};

/// Why a project could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    NotFound(PathBuf),
    NotAProject(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound(p) => write!(f, "{}: no such file or directory", p.display()),
            LoadError::NotAProject(p) => {
                write!(f, "{}: not a Chalice project (no app.py) and not a .py file", p.display())
            }
            LoadError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

/// One Python source of the project.
pub struct SourceFile {
    pub text: Arc<str>,
    pub ir: ModuleIr,
    /// The syntax tree, kept for app.py only: the deploy emulation converts
    /// it too, and keeping it saves a second parse. Other files keep just
    /// their IR (trees take several times the memory of the text).
    pub tree: Option<tree_sitter::Tree>,
    /// Set when the text is not valid UTF-8 on disk (it was decoded lossily).
    pub lossy: bool,
    /// Set when the content is not text at all (NUL bytes, mostly invalid
    /// UTF-8): it is not parsed, since tree-sitter's error recovery on
    /// megabytes of noise takes seconds and finds nothing.
    pub binary: bool,
}

impl SourceFile {
    /// Decodes and lowers a file's bytes; `keep_tree` keeps its syntax tree.
    pub fn from_bytes(bytes: Vec<u8>, keep_tree: bool) -> SourceFile {
        let (text, lossy) = match String::from_utf8(bytes) {
            Ok(s) => (s, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        SourceFile::from_text(text.into(), None, lossy, keep_tree)
    }

    /// Lowers a text, reusing its tree when the caller has one.
    pub fn from_text(text: Arc<str>, tree: Option<&tree_sitter::Tree>, lossy: bool, keep_tree: bool) -> SourceFile {
        let binary = looks_binary(&text);
        if binary {
            return SourceFile { text, ir: ModuleIr::default(), tree: None, lossy, binary };
        }
        let parsed;
        let tree = match tree {
            Some(t) => t,
            None => {
                parsed = crate::python::parse(&text, None);
                &parsed
            }
        };
        let ir = analysis::lower(tree, &text);
        // Cloning a tree only takes a reference to it.
        let tree = keep_tree.then(|| tree.clone());
        SourceFile { text, ir, tree, lossy, binary }
    }
}

/// Whether the project keeps the syntax tree of a file (see [`SourceFile::tree`]).
pub fn keeps_tree(rel: &str) -> bool {
    rel == "app.py"
}

/// NUL bytes, or more than one character in twenty replaced while decoding.
fn looks_binary(text: &str) -> bool {
    if text.contains('\0') {
        return true;
    }
    let replaced = text.chars().filter(|&c| c == '\u{fffd}').count();
    replaced > 0 && replaced * 20 > text.chars().count()
}

/// The Python side of a project: `app.py` and every module under
/// `chalicelib/`, keyed by path relative to the root (always `/`-separated).
pub struct Sources {
    pub root: PathBuf,
    /// `Some` when the project is a lone `.py` file analysed as `app.py`.
    pub single_file: Option<PathBuf>,
    pub files: BTreeMap<String, SourceFile>,
    /// Files of the project that could not be read, with the reason; the
    /// rest of the project is still analysed.
    pub unreadable: Vec<(String, String)>,
}

impl Sources {
    /// Loads a project from a directory (app.py + chalicelib) or a single
    /// `.py` file (treated as the app.py of a project with no config).
    pub fn load(path: &Path) -> Result<Sources, LoadError> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::NotFound(path.to_path_buf()),
            _ => LoadError::Io(path.to_path_buf(), e),
        })?;
        if meta.is_file() {
            if path.extension().and_then(|e| e.to_str()) != Some("py") {
                return Err(LoadError::NotAProject(path.to_path_buf()));
            }
            let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut files = BTreeMap::new();
            files.insert("app.py".to_string(), read_source(path, true)?);
            return Ok(Sources { root, single_file: Some(path.to_path_buf()), files, unreadable: Vec::new() });
        }
        let app = path.join("app.py");
        let has_config = path.join(".chalice").join("config.json").is_file();
        if !app.is_file() && !has_config {
            return Err(LoadError::NotAProject(path.to_path_buf()));
        }
        let mut rels = Vec::new();
        if app.is_file() {
            rels.push("app.py".to_string());
        }
        rels.extend(python_files_under(path, "chalicelib"));
        // Reading, parsing and lowering are per file: spread them over
        // every core. app.py comes first (usually the largest file, and
        // the deploy emulation waits for it).
        let loaded: Vec<(String, Result<SourceFile, LoadError>)> = rels
            .into_par_iter()
            .map(|rel| {
                let source = read_source(&path.join(&rel), keeps_tree(&rel));
                (rel, source)
            })
            .collect();
        let mut files = BTreeMap::new();
        let mut unreadable = Vec::new();
        for (rel, source) in loaded {
            match source {
                Ok(source) => {
                    files.insert(rel, source);
                }
                // app.py must be readable: chalice cannot do without it.
                Err(e) if rel == "app.py" => return Err(e),
                Err(LoadError::Io(_, e)) => unreadable.push((rel, e.to_string())),
                Err(e) => unreadable.push((rel, e.to_string())),
            }
        }
        Ok(Sources { root: path.to_path_buf(), single_file: None, files, unreadable })
    }

    /// The absolute path of a project-relative file.
    pub fn path_of(&self, rel: &str) -> PathBuf {
        match (&self.single_file, rel) {
            (Some(p), "app.py") => p.clone(),
            _ => self.root.join(rel),
        }
    }

    /// The project-relative key of an absolute path, if it is a Python file
    /// of this project (`app.py` or under `chalicelib/`).
    pub fn rel_path(&self, path: &Path) -> Option<String> {
        if let Some(single) = &self.single_file {
            return (single == path).then(|| "app.py".to_string());
        }
        let rel = path.strip_prefix(&self.root).ok()?;
        let rel = rel.to_str()?.replace('\\', "/");
        let is_ours = rel == "app.py" || (rel.starts_with("chalicelib/") && rel.ends_with(".py"));
        is_ours.then_some(rel)
    }

    /// Replaces (or adds) one file's text, lowering only that file.
    /// Returns false when the file already had exactly this text (then
    /// nothing is redone).
    pub fn set_text(&mut self, rel: &str, text: Arc<str>, tree: Option<&tree_sitter::Tree>) -> bool {
        if self.files.get(rel).is_some_and(|f| !f.lossy && f.text == text) {
            return false;
        }
        self.files.insert(rel.to_string(), SourceFile::from_text(text, tree, false, keeps_tree(rel)));
        true
    }

    pub fn remove(&mut self, rel: &str) {
        self.files.remove(rel);
    }

    /// Infers facts for every file together.
    pub fn analyze(&self) -> ProjectFacts {
        let inputs: Vec<ModuleInput> =
            self.files.iter().map(|(p, f)| ModuleInput { rel_path: p, ir: &f.ir }).collect();
        analysis::analyze(&inputs)
    }

    /// Facts per relative path, in path order.
    pub fn facts_by_path<'a>(&'a self, facts: &'a ProjectFacts) -> impl Iterator<Item = (&'a str, &'a SourceFile, &'a FileFacts)> {
        self.files.iter().zip(&facts.files).map(|((p, f), ff)| (p.as_str(), f, ff))
    }
}

fn read_source(path: &Path, keep_tree: bool) -> Result<SourceFile, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| LoadError::Io(path.to_path_buf(), e))?;
    Ok(SourceFile::from_bytes(bytes, keep_tree))
}

/// Every `.py` file under `root/dir`, as `/`-separated relative paths,
/// sorted. Symlinked directories are not followed (a link loop in
/// chalicelib must not hang us); unreadable directories are skipped.
pub fn python_files_under(root: &Path, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(dir)];
    while let Some(rel_dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&rel_dir)) else { continue };
        for entry in entries.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let rel = rel_dir.join(name);
            if ft.is_dir() {
                if name != "__pycache__" && !name.starts_with('.') {
                    stack.push(rel);
                }
            } else if (ft.is_file() || ft.is_symlink()) && name.ends_with(".py") {
                if let Some(s) = rel.to_str() {
                    out.push(s.replace('\\', "/"));
                }
            }
        }
    }
    out.sort();
    out
}
