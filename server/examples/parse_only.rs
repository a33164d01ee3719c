//! The benchmarks' baseline: tree-sitter alone on the files `check` reads.
//!
//! `parse_only PATH` finds the same Python files as `chalice-iam check PATH`
//! (app.py and chalicelib/, or a single .py file), reads them and parses
//! each whole with the Python grammar, spread over the same thread pool,
//! and does nothing else. `bench/run` divides `check`'s wall time by this
//! program's to show what the analysis costs on top of parsing.

use std::path::Path;

use rayon::prelude::*;

fn main() {
    let arg = std::env::args().nth(1).expect("usage: parse_only PATH");
    let path = Path::new(&arg);
    let files: Vec<std::path::PathBuf> = if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        let mut v = vec![path.join("app.py")];
        v.extend(chalice_iam::project::python_files_under(path, "chalicelib").into_iter().map(|rel| path.join(rel)));
        v
    };
    let nodes: usize = files
        .par_iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let tree = chalice_iam::python::parse(&text, None);
            tree.root_node().descendant_count()
        })
        .sum();
    // Printed so that the work cannot be optimised away.
    println!("{} files, {nodes} nodes", files.len());
}
