//! chalice-iam: finds the IAM permissions a Chalice app needs that its
//! deployed Lambda role will not have.
//!
//! Data flows one way: text → tree ([`python`]) → facts per file
//! ([`analysis`]) → project result ([`chalice`], [`policy`]) → diagnostics and
//! fixes ([`diagnostics`]). Only [`lsp`] knows the Language Server Protocol;
//! everything else speaks in byte offsets and plain data.

pub mod analysis;
pub mod background;
pub mod chalice;
pub mod cli;
pub mod diagnostics;
pub mod files;
pub mod json;
pub mod lsp;
pub mod model;
pub mod policy;
pub mod project;
pub mod python;
pub mod process;
