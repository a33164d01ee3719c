//! boto3 value inference over a Chalice project: which call sends which
//! AWS API operations, and so needs which IAM actions.
//!
//! Inputs are file texts (plus trees when the caller keeps them); outputs are
//! plain-data facts with byte ranges. Nothing here knows LSP or JSON output.

mod facts;

pub use facts::{CallFact, Construct, FileFacts, Origin, TextRange, UnresolvedCall};
