//! tree-sitter allocating from arenas (`python::arena`), as it does in the
//! one-shot commands: every file read that way is lowered and imported as
//! when its tree is parsed with the ordinary allocator and kept. A test
//! binary of its own, since the allocator is the process's.

use std::path::{Path, PathBuf};

use chalice_iam::python::{self, arena, ParsedFile};

/// Every Python file under `dir`, sorted.
fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

fn texts() -> Vec<String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the crate is in the workspace");
    let mut files = Vec::new();
    python_files(&repo.join("examples"), &mut files);
    python_files(&repo.join("tests/differential/cases"), &mut files);
    let sources: Vec<String> = files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).collect();
    assert!(sources.len() > 100, "{} Python files found", sources.len());
    let all: String = sources.iter().map(|s| s.clone() + "\n").collect();
    let joined = all.repeat(python::CHUNKED_PARSE_MIN / all.len() + 1);
    // Every third line dropped: syntax errors, parsed again outside.
    let dropped: String = joined.split_inclusive('\n').enumerate().filter(|(i, _)| i % 3 != 1).map(|(_, l)| l).collect();
    // One statement larger than an arena block, non-ASCII text and CRLF.
    let items: String = (0..150_000).map(|i| format!("    'é{i}',\r\n")).collect();
    let large = format!("import boto3\r\nnames = [\r\n{items}]\r\nboto3.client('s3').get_object(Bucket=names[0])\r\n");
    let mut texts = sources;
    // Joined, the files are parsed in chunks on several threads.
    assert!(joined.len() >= python::CHUNKED_PARSE_MIN);
    texts.extend([all, joined, dropped, large]);
    texts
}

#[test]
fn trees_read_from_arenas_are_read_as_kept_trees_are() {
    chalice_iam::process::set_one_shot();
    // SAFETY: the C library's allocator is the one tree-sitter used before,
    // and no tree exists yet.
    unsafe {
        arena::install(arena::Fallback { malloc: libc::malloc, calloc: libc::calloc, realloc: libc::realloc, free: libc::free });
    }
    assert!(arena::is_installed());
    let texts = texts();
    let check = |text: &String| {
        let read = ParsedFile::parse(text, false);
        // Parsed with the thread's parser, outside any arena, and kept.
        let kept = ParsedFile::Tree(python::parse(text, None));
        let lowered = |parsed: &ParsedFile| format!("{:?}", chalice_iam::analysis::lower_parsed(parsed, text));
        let imported = |parsed: &ParsedFile| format!("{:?}", chalice_iam::chalice::import_app(text, parsed, (3, 12)));
        assert_eq!(lowered(&read), lowered(&kept), "{}", &text[..text.len().min(200)]);
        assert_eq!(imported(&read), imported(&kept), "{}", &text[..text.len().min(200)]);
        matches!(read, ParsedFile::Syntax(_))
    };
    // Twice over on two threads at once: each has an arena of its own, and
    // one rewound is used again.
    let read_from_arenas: Vec<usize> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2).map(|_| scope.spawn(|| texts.iter().chain(&texts).filter(|t| check(t)).count())).collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    // Every text without syntax errors (twice) was read from an arena; the
    // others were parsed again and kept.
    let clean = texts.iter().filter(|t| !python::parse(t, None).root_node().has_error()).count();
    assert!(clean + 5 >= texts.len() && clean < texts.len(), "{clean} of {} texts parse without errors", texts.len());
    assert_eq!(read_from_arenas, vec![2 * clean; 2]);
}
