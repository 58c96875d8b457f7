//! What a tenant is to its data and the states of the things it keeps, as enums:
//! stored as their names, parsed once where they are read, compared as values.

/// Declares a closed set of names: the enum, its `as_str`, `parse` and `Display`.
macro_rules! names {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value named `text` exactly as [`Self::as_str`] writes it.
            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use names;

names!(
    /// Whose data a tenant holds: its own (controller), or a client's on the client's
    /// instructions (processor, or service provider).
    TenantRole {
        Controller => "controller",
        Processor => "processor",
    }
);

names!(
    /// How a processor tenant answers a data-subject request.
    RequestHandling {
        /// The person is sent to the controlling client (the default).
        Redirect => "redirect",
        /// Forwarded to the client and carried through here on its instructions.
        ForwardAssist => "forward_assist",
    }
);

names!(
    /// A subject's record: live, or erased (its key destroyed, only a tombstone kept).
    SubjectStatus {
        Active => "active",
        Erased => "erased",
    }
);

names!(
    /// Where an outbound webhook event stands.
    DeliveryState {
        /// Waiting for its next attempt (or for an endpoint to be registered).
        Pending => "pending",
        Delivered => "delivered",
        /// Given up: the horizon passed, or the event can no longer be sent.
        Dead => "dead",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_strangers_are_refused() {
        for r in TenantRole::ALL {
            assert_eq!(TenantRole::parse(r.as_str()), Some(*r));
        }
        for h in RequestHandling::ALL {
            assert_eq!(RequestHandling::parse(h.as_str()), Some(*h));
        }
        for s in SubjectStatus::ALL {
            assert_eq!(SubjectStatus::parse(s.as_str()), Some(*s));
        }
        for d in DeliveryState::ALL {
            assert_eq!(DeliveryState::parse(d.as_str()), Some(*d));
        }
        assert_eq!(TenantRole::parse("Processor"), None);
        assert_eq!(RequestHandling::parse("forward-assist"), None);
        assert_eq!(
            serde_json::to_string(&RequestHandling::ForwardAssist).unwrap(),
            "\"forward_assist\""
        );
    }
}
