//! Data-subject requests: their types, channels and the state machine.
//!
//! The machine is data: [`RequestState::can_go_to`] is the whole table of legal
//! transitions, so the engine validates every step against one place.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What the person asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    /// A copy of the specific pieces of data held.
    Access,
    /// The categories held, their sources, purposes and recipients (California "right to know").
    Know,
    Delete,
    Correct,
    /// Opt out of the sale or sharing of personal information (CCPA §1798.120, the
    /// state opt-outs, GDPR Art. 21 objection). Marketing e-mail is [`RequestType::Unsubscribe`].
    OptOut,
    /// Limit the use of sensitive personal information (California).
    LimitSensitive,
    /// A machine-readable copy to take elsewhere.
    Portability,
    WithdrawConsent,
    /// Stop marketing e-mail (CAN-SPAM §7704(a)(4), CASL s.11(3)): a right of its own,
    /// with its own deadlines, distinct from the opt-out of sale or sharing.
    Unsubscribe,
}

impl RequestType {
    pub const ALL: [RequestType; 9] = [
        RequestType::Access,
        RequestType::Know,
        RequestType::Delete,
        RequestType::Correct,
        RequestType::OptOut,
        RequestType::LimitSensitive,
        RequestType::Portability,
        RequestType::WithdrawConsent,
        RequestType::Unsubscribe,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestType::Access => "access",
            RequestType::Know => "know",
            RequestType::Delete => "delete",
            RequestType::Correct => "correct",
            RequestType::OptOut => "opt_out",
            RequestType::LimitSensitive => "limit_sensitive",
            RequestType::Portability => "portability",
            RequestType::WithdrawConsent => "withdraw_consent",
            RequestType::Unsubscribe => "unsubscribe",
        }
    }

    pub fn parse(s: &str) -> Option<RequestType> {
        RequestType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for RequestType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the request arrived. Phone and mail requests are entered by the privacy team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Email,
    Phone,
    Mail,
    Api,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Web,
        Channel::Email,
        Channel::Phone,
        Channel::Mail,
        Channel::Api,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Mail => "mail",
            Channel::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Received,
    Acknowledged,
    Verifying,
    Verified,
    Unverifiable,
    InProgress,
    Fulfilled,
    PartiallyFulfilled,
    Denied,
    /// Sent to the controlling client: the operator holds the data as a processor.
    Routed,
    Withdrawn,
}

impl RequestState {
    pub const ALL: [RequestState; 11] = [
        RequestState::Received,
        RequestState::Acknowledged,
        RequestState::Verifying,
        RequestState::Verified,
        RequestState::Unverifiable,
        RequestState::InProgress,
        RequestState::Fulfilled,
        RequestState::PartiallyFulfilled,
        RequestState::Denied,
        RequestState::Routed,
        RequestState::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Received => "received",
            RequestState::Acknowledged => "acknowledged",
            RequestState::Verifying => "verifying",
            RequestState::Verified => "verified",
            RequestState::Unverifiable => "unverifiable",
            RequestState::InProgress => "in_progress",
            RequestState::Fulfilled => "fulfilled",
            RequestState::PartiallyFulfilled => "partially_fulfilled",
            RequestState::Denied => "denied",
            RequestState::Routed => "routed",
            RequestState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<RequestState> {
        RequestState::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// No further step is possible.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RequestState::Fulfilled
                | RequestState::PartiallyFulfilled
                | RequestState::Denied
                | RequestState::Routed
                | RequestState::Withdrawn
        )
    }

    /// The table of legal transitions. Extension is not a state: it is an event on an
    /// open request (see [`RequestState::may_extend`]).
    pub fn can_go_to(self, next: RequestState) -> bool {
        use RequestState::*;
        if self.is_final() {
            return false;
        }
        matches!(
            (self, next),
            (_, Withdrawn)
                | (
                    Received,
                    Acknowledged | Verifying | Verified | Routed | Denied | InProgress
                )
                | (
                    Acknowledged,
                    Verifying | Verified | Routed | Denied | InProgress
                )
                | (Verifying, Verified | Unverifiable | Denied)
                | (Unverifiable, Verifying | Denied | Verified)
                | (
                    Verified,
                    InProgress | Fulfilled | PartiallyFulfilled | Denied
                )
                | (InProgress, Fulfilled | PartiallyFulfilled | Denied)
        )
    }

    pub fn may_extend(self) -> bool {
        !self.is_final()
    }
}

impl fmt::Display for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who submits: the person, an authorised agent, or a parent or guardian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequesterKind {
    Subject,
    Agent,
    Parent,
}

impl RequesterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequesterKind::Subject => "subject",
            RequesterKind::Agent => "agent",
            RequesterKind::Parent => "parent",
        }
    }

    pub fn parse(s: &str) -> Option<RequesterKind> {
        [
            RequesterKind::Subject,
            RequesterKind::Agent,
            RequesterKind::Parent,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in RequestType::ALL {
            assert_eq!(RequestType::parse(t.as_str()), Some(t));
        }
        for s in RequestState::ALL {
            assert_eq!(RequestState::parse(s.as_str()), Some(s));
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn final_states_are_final_and_the_happy_path_is_legal() {
        use RequestState::*;
        for s in RequestState::ALL.into_iter().filter(|s| s.is_final()) {
            for n in RequestState::ALL {
                assert!(!s.can_go_to(n), "{s} -> {n}");
            }
        }
        let path = [
            Received,
            Acknowledged,
            Verifying,
            Verified,
            InProgress,
            Fulfilled,
        ];
        for w in path.windows(2) {
            assert!(w[0].can_go_to(w[1]), "{} -> {}", w[0], w[1]);
        }
        assert!(
            !Received.can_go_to(Fulfilled),
            "nothing is fulfilled unverified"
        );
        assert!(!Verifying.can_go_to(Fulfilled));
        assert!(Unverifiable.can_go_to(Denied));
    }
}
