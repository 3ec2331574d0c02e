//! Notifications: alerts, scheduled reports and contract renewals told to people where they work — a generic
//! webhook (JSON), Slack (its incoming-webhook format), e-mail over SMTP, and files in a
//! directory.
//!
//! Nothing is sent from where an alert is raised. A notification is first queued in the store
//! ([`okwatch_store::Notifications`]), then a worker ([`worker::run`]) delivers what is due,
//! logs every attempt, and retries failures with exponential backoff until the channel's tries
//! are spent, when it is marked failed and shown as such. A restart finds the queue where it was.

pub mod channel;
pub mod deliver;
pub mod message;
pub mod renewal;
pub mod report;
pub mod schedule;
pub mod worker;

pub use channel::{Channel, Smtp, Target, Tls};
pub use report::{queue_report, ReportMail};
pub use worker::{queue_alert, queue_test};
