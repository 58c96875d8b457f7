//! The consent ledger's events and the state derived from them.
//!
//! Events are only ever appended; the current state of a purpose is the last
//! event for it, with expiry applied at the moment of asking.

use crate::ids::PurposeId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    Grant,
    Withdraw,
    /// Recorded by the engine when an expiry passes (the state would derive it anyway).
    Expire,
}

impl ConsentAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentAction::Grant => "grant",
            ConsentAction::Withdraw => "withdraw",
            ConsentAction::Expire => "expire",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "grant" => Some(Self::Grant),
            "withdraw" => Some(Self::Withdraw),
            "expire" => Some(Self::Expire),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// Given by the person, actively.
    Express,
    /// Inferred from a relationship (a purchase, an inquiry), lapsing by the policy's rule.
    Implied,
    /// Given by a parent or guardian for a child.
    Parental,
}

impl ConsentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentKind::Express => "express",
            ConsentKind::Implied => "implied",
            ConsentKind::Parental => "parental",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "express" => Some(Self::Express),
            "implied" => Some(Self::Implied),
            "parental" => Some(Self::Parental),
            _ => None,
        }
    }
}

/// One entry of the ledger, as the decision function needs it (evidence is kept
/// encrypted beside it and is not needed to decide).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentEvent {
    pub purpose: PurposeId,
    pub action: ConsentAction,
    pub kind: ConsentKind,
    #[serde(with = "crate::wire::serde_time")]
    pub at: Timestamp,
    #[serde(default)]
    #[serde(with = "crate::wire::serde_time_opt")]
    pub expires_at: Option<Timestamp>,
    /// The policy version in force when it was given.
    pub policy_version: u32,
    /// For parental consent: the parent's subject id.
    #[serde(default)]
    pub parent: Option<String>,
}

impl ConsentEvent {
    /// The event that decides `purpose`'s state at `now`: the last one appended for it
    /// at or before `now`. The ledger order is the truth, so a later event with an
    /// earlier `at` (back-dated evidence) still supersedes.
    pub fn last_for<'a>(
        events: &'a [ConsentEvent],
        purpose: &PurposeId,
        now: Timestamp,
    ) -> Option<&'a ConsentEvent> {
        events
            .iter()
            .rev()
            .find(|e| &e.purpose == purpose && e.at <= now)
    }
}

/// What the ledger says about one purpose now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConsentState {
    None,
    Granted {
        kind: ConsentKind,
        since: Timestamp,
        expires_at: Option<Timestamp>,
    },
    Withdrawn {
        at: Timestamp,
    },
    Expired {
        at: Timestamp,
    },
}

impl ConsentState {
    pub fn name(&self) -> &'static str {
        match self {
            ConsentState::None => "none",
            ConsentState::Granted { .. } => "granted",
            ConsentState::Withdrawn { .. } => "withdrawn",
            ConsentState::Expired { .. } => "expired",
        }
    }

    /// The state of `purpose` at `now`, from events in the order they were appended.
    pub fn derive(events: &[ConsentEvent], purpose: &PurposeId, now: Timestamp) -> ConsentState {
        match ConsentEvent::last_for(events, purpose, now) {
            None => ConsentState::None,
            Some(e) => match e.action {
                ConsentAction::Withdraw => ConsentState::Withdrawn { at: e.at },
                ConsentAction::Expire => ConsentState::Expired { at: e.at },
                ConsentAction::Grant => match e.expires_at {
                    Some(x) if x <= now => ConsentState::Expired { at: x },
                    _ => ConsentState::Granted {
                        kind: e.kind,
                        since: e.at,
                        expires_at: e.expires_at,
                    },
                },
            },
        }
    }

    /// Every purpose that appears in `events`, with its state at `now`.
    pub fn all(events: &[ConsentEvent], now: Timestamp) -> Vec<(PurposeId, ConsentState)> {
        let mut purposes: Vec<&PurposeId> = events.iter().map(|e| &e.purpose).collect();
        purposes.sort();
        purposes.dedup();
        purposes
            .into_iter()
            .map(|p| (p.clone(), ConsentState::derive(events, p, now)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(p: &str, action: ConsentAction, at: &str, exp: Option<&str>) -> ConsentEvent {
        ConsentEvent {
            purpose: PurposeId::new(p).unwrap(),
            action,
            kind: ConsentKind::Express,
            at: at.parse().unwrap(),
            expires_at: exp.map(|x| x.parse().unwrap()),
            policy_version: 1,
            parent: None,
        }
    }

    #[test]
    fn last_event_wins_and_expiry_applies() {
        let p = PurposeId::new("marketing.email").unwrap();
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let mut evs = vec![ev(
            "marketing.email",
            ConsentAction::Grant,
            "2026-01-01T00:00:00Z",
            None,
        )];
        assert!(matches!(
            ConsentState::derive(&evs, &p, now),
            ConsentState::Granted { .. }
        ));
        evs.push(ev(
            "marketing.email",
            ConsentAction::Withdraw,
            "2026-02-01T00:00:00Z",
            None,
        ));
        assert!(matches!(
            ConsentState::derive(&evs, &p, now),
            ConsentState::Withdrawn { .. }
        ));
        evs.push(ev(
            "marketing.email",
            ConsentAction::Grant,
            "2026-03-01T00:00:00Z",
            Some("2026-05-01T00:00:00Z"),
        ));
        assert!(matches!(
            ConsentState::derive(&evs, &p, now),
            ConsentState::Expired { .. }
        ));
        let other = PurposeId::new("research").unwrap();
        assert_eq!(ConsentState::derive(&evs, &other, now), ConsentState::None);
    }
}
