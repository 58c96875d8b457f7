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
            Role::Auditor => matches!(cap, ReadPolicy | VerifyAudit | ReadReports),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
