//! okwatch's data model: the Okta System Log event, timestamps, and event categories.
//!
//! This crate does no I/O. Everything downstream (query language, store, sources, surfaces)
//! speaks these types.

pub mod category;
pub mod csv;
pub mod event;
pub mod field;
pub mod schema;
pub mod time;

pub use category::Category;
pub use event::{check_required, json_type_name, EventError, LogEvent};
pub use field::Field;
pub use time::{
    format_timestamp, parse_time_bound, parse_timestamp, published_of, TimeParseError, Timestamp,
};
