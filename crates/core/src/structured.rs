//! Output a program can read: JSON Schemas (which a grammar can enforce,
//! validation, grounding in the source) and tool calls in each model
//! family's own format. The engine turns a request's
//! [`Constraint`](crate::engine::Constraint) into a grammar; everything
//! here is pure.

pub mod schema;
pub mod toolcall;
