//! What the MicroTaskHub components have in common.
//!
//! Each module has one job; the components compose them. Everything that
//! touches the outside world (HTTP, Postgres, variables) goes through here so
//! that error mapping and logging are the same in every service.

pub mod auth;
pub mod body;
pub mod config;
pub mod db;
pub mod deadline;
pub mod error;
pub mod event_stream;
pub mod health;
pub mod hex;
pub mod incoming;
pub mod internal;
pub mod outbound;
pub mod precondition;
pub mod query;
pub mod request;
pub mod respond;
pub mod route;
pub mod send;
pub mod serve;
pub mod time;
pub mod token;

pub use error::{ApiError, FieldError};
pub use serve::{RequestContext, serve};
