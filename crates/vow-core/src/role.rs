//! API key roles and what each may do.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages tenants, policies and keys. Does not read personal data.
    Admin,
    /// The privacy team: subjects, consents, purpose-bound reads for any purpose of the policy.
    Operator,
    /// Writes subjects, fields and consents (forms, imports). Cannot read values.
    Ingest,
    /// An application: purpose-bound reads and decisions for the purposes listed on its key only.
    App,
    /// Verifies and reads the audit chain. Never personal data.
    Auditor,
}

/// Things a caller may ask to do; each endpoint names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    ManageTenants,
    ManageKeys,
    PublishPolicy,
    ReadPolicy,
    WriteSubjects,
    LookupSubjects,
    RecordConsent,
    ReadConsents,
    Decide,
    ReadPersonalData,
    /// Every stored version of every field, whatever its purpose: the privacy team only,
    /// for corrections and requests. Apps read through the decision function instead.
    ReadHistory,
    /// Enter a data-subject request (web form back end, the privacy team, an import).
    SubmitRequest,
    /// Run requests: verify, extend, fulfil, deny, read their records.
    ManageRequests,
    /// Record breaches, assess their impact and track notifications (counts only, no
    /// personal data).
    ManageIncidents,
    VerifyAudit,
    /// Reports of counts from Vow's own records (the self-assessment): never a value.
    ReadReports,
    /// Register recipients' webhook endpoints; see and retry deliveries.
    ManageWebhooks,
    /// De-identified counts with small groups suppressed (R10, S9): no values, no identifiers.
    ReadAggregates,
    /// Run retention (destroy what is due) and read the record of runs.
    ManageRetention,
    /// Register the organisation's own databases: connections (credentials sealed) and
    /// the datasets describing them. Never reads a value by itself.
    ManageConnections,
    /// List security events: failed authentication, forbidden and cross-tenant
    /// attempts (key ids, routes and reason codes; never a secret or a value).
    ReadSecurityEvents,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Operator,
        Role::Ingest,
        Role::App,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Ingest => "ingest",
            Role::App => "app",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The role table. Need-to-know: only operator and app keys ever see values.
    pub fn may(self, cap: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Admin => matches!(
                cap,
                ManageTenants
                    | ManageKeys
                    | PublishPolicy
                    | ReadPolicy
                    | VerifyAudit
                    | Decide
                    | ReadConsents
                    | ReadReports
                    | ManageWebhooks
                    | ReadAggregates
                    | ManageIncidents
                    | ManageConnections
            ),
            Role::Operator => matches!(
                cap,
                PublishPolicy
                    | ReadPolicy
                    | WriteSubjects
                    | LookupSubjects
                    | RecordConsent
                    | ReadConsents
                    | Decide
                    | ReadPersonalData
                    | ReadHistory
                    | SubmitRequest
                    | ManageRequests
                    | ManageIncidents
                    | VerifyAudit
                    | ReadReports
                    | ManageWebhooks
                    | ReadAggregates
                    | ManageRetention
                    | ManageConnections
            ),
            Role::Ingest => matches!(
                cap,
                ReadPolicy | WriteSubjects | LookupSubjects | RecordConsent | SubmitRequest
            ),
            Role::App => matches!(
                cap,
                ReadPolicy
                    | LookupSubjects
                    | RecordConsent
                    | ReadConsents
                    | Decide
                    | ReadPersonalData
                    | SubmitRequest
            ),
            Role::Auditor => matches!(
                cap,
                ReadPolicy | VerifyAudit | ReadReports | ReadSecurityEvents
            ),
        }
    }

    /// Whether a key of this role can ever see a personal value (a purpose-bound read,
    /// a disclosure, or field history).
    pub fn reads_values(self) -> bool {
        self.may(Capability::ReadPersonalData) || self.may(Capability::ReadHistory)
    }

    /// The grant table ([`GRANTS`]): may a key of this role, bound to a tenant, create
    /// a key of `role` for that tenant? A refusal names the rule it breaks. A global
    /// admin key and the command line (which holds the root key) may create any key;
    /// they are not in the table. An app key made by an operator key must also be
    /// limited to purposes the operator holds (checked by the engine against the
    /// policy: [`GrantRule::PurposesNotHeld`]).
    pub fn may_grant(self, role: Role) -> Result<(), GrantRule> {
        let granted = GRANTS
            .iter()
            .find(|(granter, _)| *granter == self)
            .map_or(&[][..], |(_, roles)| *roles);
        if granted.contains(&role) {
            Ok(())
        } else if granted.is_empty() {
            Err(GrantRule::KeysNotManaged)
        } else if role.reads_values() && !self.reads_values() {
            Err(GrantRule::ValuesNeedValues)
        } else {
            Err(GrantRule::ExceedsGranter)
        }
    }
}

/// What each role may grant: the roles of the keys a key of that role may create for
/// its own tenant. A key never creates a key that can do more than itself, with one
/// exception: a tenant admin key (which manages keys but never reads values) creates
/// admin, ingest and auditor keys, none of which reads values. A key that can read
/// values (operator, app) is created only by a key that can read values itself (an
/// operator, for app keys limited to purposes it holds), by a global admin key, or at
/// the command line. An operator key creates no auditor key (an auditor lists security
/// events, which an operator cannot). Ingest, app and auditor keys create no keys.
pub const GRANTS: [(Role, &[Role]); 5] = [
    (Role::Admin, &[Role::Admin, Role::Ingest, Role::Auditor]),
    (Role::Operator, &[Role::Operator, Role::Ingest, Role::App]),
    (Role::Ingest, &[]),
    (Role::App, &[]),
    (Role::Auditor, &[]),
];

/// A rule of the grant table a key creation broke; its name is in the refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantRule {
    /// Keys of this role create no keys.
    KeysNotManaged,
    /// The new key could read values and the creating key cannot: it needs an operator
    /// key, a global admin key or the command line.
    ValuesNeedValues,
    /// The new key could do something the creating key cannot.
    ExceedsGranter,
    /// An app key for a purpose the creating key does not hold (not a purpose of the
    /// policy in force, or not on the creating key).
    PurposesNotHeld,
}

impl GrantRule {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantRule::KeysNotManaged => "keys_not_managed",
            GrantRule::ValuesNeedValues => "values_need_values",
            GrantRule::ExceedsGranter => "exceeds_granter",
            GrantRule::PurposesNotHeld => "purposes_not_held",
        }
    }

    /// The rule in words, for the refusal's detail.
    pub fn words(self) -> &'static str {
        match self {
            GrantRule::KeysNotManaged => "keys of this role create no keys",
            GrantRule::ValuesNeedValues => {
                "a key that can read values (operator, app) is created only by a key that can read values itself (an operator key), a global admin key, or `vow key create` at the machine"
            }
            GrantRule::ExceedsGranter => {
                "a key may only create keys that can do no more than itself"
            }
            GrantRule::PurposesNotHeld => {
                "an app key may only be limited to purposes the creating key holds (purposes of the policy in force)"
            }
        }
    }
}

impl fmt::Display for GrantRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every capability, so the table's invariant is checked over all of them.
    const ALL_CAPS: [Capability; 21] = [
        Capability::ManageTenants,
        Capability::ManageKeys,
        Capability::PublishPolicy,
        Capability::ReadPolicy,
        Capability::WriteSubjects,
        Capability::LookupSubjects,
        Capability::RecordConsent,
        Capability::ReadConsents,
        Capability::Decide,
        Capability::ReadPersonalData,
        Capability::ReadHistory,
        Capability::SubmitRequest,
        Capability::ManageRequests,
        Capability::ManageIncidents,
        Capability::VerifyAudit,
        Capability::ReadReports,
        Capability::ManageWebhooks,
        Capability::ReadAggregates,
        Capability::ManageRetention,
        Capability::ReadSecurityEvents,
        Capability::ManageConnections,
    ];

    /// The principle the table must keep: what a role grants can do no more than the
    /// role itself, except an admin's grants, which never read values; and a key
    /// that reads values is granted only by a role that reads values.
    #[test]
    fn no_grant_gives_more_power_than_the_granter() {
        for (granter, granted) in GRANTS {
            for role in granted {
                let subset = ALL_CAPS.iter().all(|c| !role.may(*c) || granter.may(*c));
                let admin_exception = granter == Role::Admin && !role.reads_values();
                assert!(subset || admin_exception, "{granter} grants {role}");
                assert!(
                    !role.reads_values() || granter.reads_values(),
                    "{granter} grants {role}, which reads values"
                );
            }
        }
        assert_eq!(GRANTS.len(), Role::ALL.len());
    }

    #[test]
    fn refusals_name_their_rule() {
        use GrantRule::*;
        assert_eq!(Role::Admin.may_grant(Role::Operator), Err(ValuesNeedValues));
        assert_eq!(Role::Admin.may_grant(Role::App), Err(ValuesNeedValues));
        assert_eq!(Role::Admin.may_grant(Role::Auditor), Ok(()));
        assert_eq!(Role::Operator.may_grant(Role::Admin), Err(ExceedsGranter));
        assert_eq!(Role::Operator.may_grant(Role::App), Ok(()));
        assert_eq!(Role::App.may_grant(Role::App), Err(KeysNotManaged));
        assert_eq!(Role::Auditor.may_grant(Role::Auditor), Err(KeysNotManaged));
        assert!(!Role::Admin.reads_values() && Role::App.reads_values());
    }
}
