//! Compiles `src/python/flatten.c`, which reads tree-sitter's trees through
//! its internal headers: those of the tree-sitter crate this one links
//! (found through the `include` path its build script publishes).

use std::path::PathBuf;

fn main() {
    let include = PathBuf::from(std::env::var("DEP_TREE_SITTER_INCLUDE").expect("the tree-sitter crate publishes its include path"));
    let internal = include.parent().expect("tree-sitter's include folder has a parent").join("src");
    println!("cargo:rerun-if-changed=src/python/flatten.c");
    cc::Build::new()
        .std("c11")
        .include(&include)
        .include(&internal)
        .flag_if_supported("-Wno-unused-parameter")
        .warnings(true)
        .file("src/python/flatten.c")
        .compile("chalice_iam_flatten");
}
