//! Data-subject requests, from intake to fulfilment.
//!
//! `intake` computes the deadlines, matches the identifiers given and sends the
//! acknowledgement; `verification` confirms who is asking and with what authority.
//! Every later step (`lifecycle`, `fulfilment`) is a transition of the state machine
//! in `vow_core::request`, made by the one helper in `record`, and appended to the
//! request's own event log and to the audit chain in the same transaction. A request
//! is carried out by `fulfilment`, with `erasure` (shared with retention) and
//! `export` (the access package); the person is told at each step (`notify`, in the
//! words of `notices`).

mod appeals;
mod erasure;
mod erasure_ledger;
mod evidence;
mod export;
mod fulfilment;
mod intake;
mod lifecycle;
pub mod notices;
pub(crate) mod notify;
pub mod portal;
pub(crate) mod record;
mod review;
mod types;
mod verification;
mod views;

pub use crate::engine::IntakeLimits;
pub use appeals::{APPEAL_LINK_VALID_DAYS, AppealOutcome, MAX_STATEMENT, NewAppeal};
pub use erasure_ledger::ErasureReconciliation;
pub use export::render_html;
pub(crate) use record::original_kind;
pub use review::DocumentReview;
pub use types::{
    DENIAL_CODES, DenialReason, DueView, EventView, HoldView, NewHold, NewRequest, NoticeView,
    RequestView, Requester, Step,
};
