//! Breaches (R16): the register of incidents (`incidents`), who is affected, the
//! notice duties with their deadlines, and draft notices (`notices`). The shapes
//! the API takes and gives are in `types`.

mod edits;
mod incidents;
mod mailing;
mod notices;
mod types;

pub use edits::DraftEdit;
pub use mailing::IndividualMailing;
pub use types::{
    CategoryImpact, DeadlineView, DueView, Encryption, ImpactView, IncidentView, NewIncident,
    NewNotification, NoticeDraft, NotificationView, Scope, TenantImpact, Window,
};
