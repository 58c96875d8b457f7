//! Vow's nouns and the one decision function.
//!
//! Everything here is pure: no I/O, no async, no clock of its own (time is a
//! parameter). Every read, every collection and (later) every disclosure is
//! judged by [`decision::decide`], so the rules live in exactly one place.

pub mod breach;
pub mod calendar;
pub mod clock;
pub mod consent;
pub mod deadline;
pub mod decision;
pub mod error;
pub mod ids;
pub mod json;
pub mod jurisdiction;
pub mod pack;
pub mod period;
pub mod policy;
pub mod redact;
pub mod request;
pub mod retention;
pub mod role;
pub mod tenant;
pub mod term;
pub mod webhook;
pub mod wire;

pub use calendar::{Calendar, CalendarSet};
pub use clock::{Clock, FixedClock, ShiftedClock, SystemClock};
pub use consent::{ConsentAction, ConsentEvent, ConsentKind, ConsentState};
pub use deadline::{DueDates, applicable, due_dates};
pub use decision::{Action, Ask, Caller, Decision, Reason, ReasonCode, SubjectFacts, decide};
pub use error::CoreError;
pub use ids::{Category, PurposeId, TenantId};
pub use jurisdiction::Jurisdiction;
pub use pack::RulePack;
pub use period::{Period, PeriodUnit};
pub use policy::Policy;
pub use redact::Pii;
pub use request::{Channel, RequestState, RequestType, RequesterKind};
pub use role::{GrantRule, Role};
pub use tenant::{DeliveryState, RequestHandling, SubjectStatus, TenantRole};
pub use term::{ClockKind, Term, add_term};
