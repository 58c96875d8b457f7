//! Policy changes (S5): what a new version changed, who must consent again, and the
//! notice that tells the tenant's administrators.
//!
//! [`Engine::publish_policy`] calls [`Engine::prepare_version`] before it stores the
//! compiled policy (so the version carries its `consent_since` requirements, which
//! the decision function reads) and [`Engine::record_changes`] in the same
//! transaction (the diff, the count of people affected, the notices). The notices are
//! mailed after the commit by [`Engine::mail_policy_notices`]; a mail failure leaves
//! them recorded and unsent.
//!
//! The administrators are reached at the new version's e-mail contacts (the privacy
//! team that runs the tenant) and, for a processor tenant, at its controlling
//! client's contact: the client is the platform's user that S5 says must be told.

use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;
use utoipa::ToSchema;
use vow_core::Policy;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_policy::diff::{FreshConsent, PolicyDiff};
use vow_render::letter::{Section, render_sections};
use vow_store::{PolicyChangeRow, PolicyNoticeRow, Tx};

/// A purpose that needs consent again from this version, and how many people it reaches.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FreshConsentView {
    pub purpose: String,
    /// `new_purpose`, `became_consent` or `categories_widened`.
    pub reason: String,
    /// The categories the purpose may use in this version.
    pub categories: Vec<String>,
    /// People holding data in those categories when the version was published.
    pub affected_subjects: i64,
}

/// An administrators' notice of a new version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyNoticeView {
    pub id: String,
    /// None when the policy names no e-mail contact and the tenant no client contact.
    pub to: Option<String>,
    pub subject: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub message_id: Option<String>,
}

/// What one version changed from the one before.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyChanges {
    pub version: i64,
    /// None for a first version.
    pub previous_version: Option<i64>,
    pub effective_date: String,
    /// Purposes, recipients, categories, retention rules, response times and the rest
    /// of the notice: added, removed or changed, with the values before and after.
    #[schema(value_type = Object)]
    pub diff: PolicyDiff,
    /// One plain line per change.
    pub summary: Vec<String>,
    pub fresh_consent: Vec<FreshConsentView>,
    /// People holding data in a purpose that needs fresh consent, when published.
    pub affected_subjects: i64,
    pub notices: Vec<PolicyNoticeView>,
}

/// One version in the history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyVersionView {
    pub version: i64,
    pub effective_date: String,
    pub published_at: String,
    pub published_by: String,
    pub summary: Vec<String>,
    /// Purposes that need consent again from this version.
    pub fresh_consent: Vec<String>,
    pub affected_subjects: i64,
}

/// What is kept in `policy_changes.changes`.
#[derive(Serialize, Deserialize)]
struct Stored {
    diff: PolicyDiff,
    summary: Vec<String>,
    fresh_consent: Vec<FreshConsentView>,
}

/// A version about to be published: its number, the one before and what changed.
pub(crate) struct Prepared {
    pub version: i64,
    previous: Option<(i64, Policy)>,
    diff: PolicyDiff,
    fresh: Vec<FreshConsent>,
}

use crate::engine::ts;

fn compiled(text: &str) -> Result<Policy> {
    serde_json::from_str(text)
        .map_err(|_| EngineError::Internal("stored policy is unreadable".into()))
}

fn notice_view(n: PolicyNoticeRow) -> PolicyNoticeView {
    PolicyNoticeView {
        id: n.id,
        to: (!n.address.is_empty()).then_some(n.address),
        subject: n.subject,
        created_at: ts(n.created_at),
        sent_at: n.sent_at.map(ts),
        message_id: n.message_id,
    }
}

impl Engine {
    /// Compare `policy` with the newest published version and set its `consent_since`.
    /// Inside the publishing transaction; the version number it expects is checked
    /// against the one the store assigns.
    pub(crate) async fn prepare_version(
        &self,
        tx: &mut Tx,
        tenant: &str,
        policy: &mut Policy,
    ) -> Result<Prepared> {
        let previous = match tx.current_policy(tenant).await? {
            Some(row) => Some((row.version, compiled(&row.compiled)?)),
            None => None,
        };
        let version = previous.as_ref().map_or(1, |(v, _)| v + 1);
        let old = previous.as_ref().map(|(_, p)| p);
        let (since, fresh) =
            vow_policy::consent_since(old, policy, u32::try_from(version).unwrap_or(u32::MAX));
        policy.consent_since = since;
        Ok(Prepared {
            version,
            diff: vow_policy::diff(old, policy),
            previous,
            fresh,
        })
    }

    /// Keep what changed, count the people who must consent again and queue the
    /// administrators' notice (not for a first version: there is nothing to announce).
    /// Returns the changes and the notices to mail after the commit.
    pub(crate) async fn record_changes(
        &self,
        tx: &mut Tx,
        tenant: &str,
        policy: &Policy,
        prepared: Prepared,
    ) -> Result<(PolicyChanges, Vec<PolicyNoticeRow>)> {
        let Prepared {
            version,
            previous,
            diff,
            fresh,
        } = prepared;
        let mut everyone = HashSet::new();
        let mut fresh_views = Vec::new();
        for f in &fresh {
            let mut holders = HashSet::new();
            for c in &f.categories {
                holders.extend(tx.holders_of(tenant, c).await?);
            }
            fresh_views.push(FreshConsentView {
                purpose: f.purpose.clone(),
                reason: f.reason.as_str().to_string(),
                categories: f.categories.clone(),
                affected_subjects: i64::try_from(holders.len()).unwrap_or(i64::MAX),
            });
            everyone.extend(holders);
        }
        // Consents are recorded under the version in force, and this one is new: no one
        // can have consented under it yet, so every holder is affected.
        let affected = i64::try_from(everyone.len()).unwrap_or(i64::MAX);
        let summary = diff.summary();
        let stored = Stored {
            diff,
            summary,
            fresh_consent: fresh_views,
        };
        tx.insert_policy_change(&PolicyChangeRow {
            tenant_id: tenant.to_string(),
            version,
            previous_version: previous.as_ref().map(|(v, _)| *v),
            changes: serde_json::to_string(&stored)
                .map_err(|e| EngineError::Internal(e.to_string()))?,
            affected_subjects: affected,
        })
        .await?;
        let mut notices = Vec::new();
        if let Some((prev, _)) = &previous {
            let row = tx
                .tenant(tenant)
                .await?
                .ok_or(EngineError::NotFound("tenant"))?;
            let mut to: Vec<String> = policy
                .contacts
                .iter()
                .filter(|c| c.channel == vow_core::policy::ContactChannel::Email)
                .map(|c| c.address.trim().to_string())
                .collect();
            if let Some(client) = row.controller_contact.filter(|c| c.contains('@')) {
                to.push(client.trim().to_string());
            }
            let mut seen = HashSet::new();
            to.retain(|a| seen.insert(a.to_ascii_lowercase()));
            if to.is_empty() {
                to.push(String::new());
            }
            let (subject, text, html) =
                render_notice(policy, tenant, version, *prev, &stored, affected);
            for address in to {
                let n = PolicyNoticeRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    tenant_id: tenant.to_string(),
                    version,
                    address,
                    subject: subject.clone(),
                    text: text.clone(),
                    html: html.clone(),
                    created_at: self.now_ms(),
                    sent_at: None,
                    message_id: None,
                };
                tx.insert_policy_notice(&n).await?;
                notices.push(n);
            }
        }
        let changes = PolicyChanges {
            version,
            previous_version: previous.map(|(v, _)| v),
            effective_date: policy.effective_date.to_string(),
            diff: stored.diff,
            summary: stored.summary,
            fresh_consent: stored.fresh_consent,
            affected_subjects: affected,
            notices: notices.iter().cloned().map(notice_view).collect(),
        };
        Ok((changes, notices))
    }

    /// The audit entry's detail for a publish: names and counts, no personal data.
    pub(crate) fn publish_detail(changes: &PolicyChanges) -> serde_json::Value {
        json!({
            "version": changes.version,
            "previous_version": changes.previous_version,
            "effective_date": changes.effective_date,
            "summary": changes.summary,
            "fresh_consent": changes.fresh_consent.iter().map(|f| &f.purpose).collect::<Vec<_>>(),
            "affected_subjects": changes.affected_subjects,
            "notices": changes.notices.len(),
        })
    }

    /// Mail the administrators' notices after the commit, and mark those sent.
    pub(crate) async fn mail_policy_notices(
        &self,
        notices: Vec<PolicyNoticeRow>,
        changes: &mut PolicyChanges,
    ) {
        let Some(mailer) = self.mailer() else { return };
        for n in notices.into_iter().filter(|n| !n.address.is_empty()) {
            match mailer
                .send_message(&n.address, &n.subject, &n.text, &n.html)
                .await
            {
                Ok(message_id) => {
                    let at = self.now_ms();
                    if let Ok(mut tx) = self.store.write().await
                        && tx
                            .mark_policy_notice_sent(&n.id, at, &message_id)
                            .await
                            .is_ok()
                        && tx.commit().await.is_ok()
                        && let Some(v) = changes.notices.iter_mut().find(|v| v.id == n.id)
                    {
                        v.sent_at = Some(ts(at));
                        v.message_id = Some(message_id);
                    }
                }
                Err(e) => {
                    tracing::warn!(notice = %n.id, code = e.code(), "a policy notice could not be mailed")
                }
            }
        }
    }

    /// Every published version with its effective date and what it changed.
    pub async fn policy_history(
        &self,
        actor: &Actor,
        tenant: &TenantId,
    ) -> Result<Vec<PolicyVersionView>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadPolicy, tenant)?;
        let mut tx = self.store.read().await?;
        tx.tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let changes = tx.policy_changes(tenant).await?;
        let mut out = Vec::new();
        for (version, effective_date, published_at) in tx.policy_versions(tenant).await? {
            let row = changes.iter().find(|c| c.version == version);
            let (summary, fresh, affected) = match row {
                Some(r) => {
                    let s = stored(&r.changes)?;
                    (
                        s.summary,
                        s.fresh_consent.into_iter().map(|f| f.purpose).collect(),
                        r.affected_subjects,
                    )
                }
                None => (
                    self.computed_changes(&mut tx, tenant, version)
                        .await?
                        .summary,
                    Vec::new(),
                    0,
                ),
            };
            let published_by = tx
                .policy_version(tenant, version)
                .await?
                .map(|p| p.published_by)
                .unwrap_or_default();
            out.push(PolicyVersionView {
                version,
                effective_date,
                published_at: ts(published_at),
                published_by,
                summary,
                fresh_consent: fresh,
                affected_subjects: affected,
            });
        }
        Ok(out)
    }

    /// What one version changed, with its notices.
    pub async fn policy_changes(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        version: i64,
    ) -> Result<PolicyChanges> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadPolicy, tenant)?;
        let mut tx = self.store.read().await?;
        tx.tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let policy = tx
            .policy_version(tenant, version)
            .await?
            .ok_or(EngineError::NotFound("policy version"))?;
        let notices = tx
            .policy_notices(tenant, version)
            .await?
            .into_iter()
            .map(notice_view)
            .collect();
        let mut changes = match tx.policy_change(tenant, version).await? {
            Some(r) => {
                let s = stored(&r.changes)?;
                PolicyChanges {
                    version,
                    previous_version: r.previous_version,
                    effective_date: policy.effective_date,
                    diff: s.diff,
                    summary: s.summary,
                    fresh_consent: s.fresh_consent,
                    affected_subjects: r.affected_subjects,
                    notices: Vec::new(),
                }
            }
            None => self.computed_changes(&mut tx, tenant, version).await?,
        };
        changes.notices = notices;
        Ok(changes)
    }

    /// For a version published before changes were recorded: the diff, worked out now.
    async fn computed_changes(
        &self,
        tx: &mut Tx,
        tenant: &str,
        version: i64,
    ) -> Result<PolicyChanges> {
        let this = tx
            .policy_version(tenant, version)
            .await?
            .ok_or(EngineError::NotFound("policy version"))?;
        let new = compiled(&this.compiled)?;
        let old = match tx.policy_version(tenant, version - 1).await? {
            Some(p) => Some(compiled(&p.compiled)?),
            None => None,
        };
        let diff = vow_policy::diff(old.as_ref(), &new);
        Ok(PolicyChanges {
            version,
            previous_version: old.as_ref().map(|_| version - 1),
            effective_date: this.effective_date,
            summary: diff.summary(),
            diff,
            fresh_consent: Vec::new(),
            affected_subjects: 0,
            notices: Vec::new(),
        })
    }
}

fn stored(text: &str) -> Result<Stored> {
    serde_json::from_str(text)
        .map_err(|_| EngineError::Internal("stored policy changes are unreadable".into()))
}

/// The administrators' notice: what changed, from when, and who must consent again.
fn render_notice(
    policy: &Policy,
    tenant: &str,
    version: i64,
    previous: i64,
    stored: &Stored,
    affected: i64,
) -> (String, String, String) {
    let org = policy.organisation.name.trim();
    let date = vow_render::letter::date(policy.effective_date);
    let mut sections = vec![Section {
        heading: None,
        paragraphs: vec![
            "Hello,".to_string(),
            format!(
                "A new version of the privacy policy of {org} (version {version}, replacing version {previous}) has been published. It takes effect on {date}."
            ),
        ],
        items: Vec::new(),
    }];
    let changes: Vec<String> = stored
        .summary
        .iter()
        .filter(|l| !l.starts_with("effective date:"))
        .cloned()
        .collect();
    sections.push(Section {
        heading: Some("What changed".into()),
        paragraphs: if changes.is_empty() {
            vec!["Only the effective date changed.".into()]
        } else {
            Vec::new()
        },
        items: changes,
    });
    if !stored.fresh_consent.is_empty() {
        sections.push(Section {
            heading: Some("Consent needed again".into()),
            paragraphs: vec![format!(
                "These purposes rest on consent and are new or wider than before. Consent given under an earlier version does not cover them: reads for them are refused with the reason fresh_consent_required until the person consents again. {affected} people hold data in their categories."
            )],
            items: stored
                .fresh_consent
                .iter()
                .map(|f| {
                    format!(
                        "{} ({}): {} people; categories {}",
                        f.purpose,
                        f.reason.replace('_', " "),
                        f.affected_subjects,
                        if f.categories.is_empty() {
                            "none".to_string()
                        } else {
                            f.categories.join(", ")
                        }
                    )
                })
                .collect(),
        });
    }
    sections.push(Section {
        heading: None,
        paragraphs: vec![
            "Consents already given keep the version they were given under.".into(),
            format!(
                "The full list of changes: GET /v1/tenants/{tenant}/policy/versions/{version}/changes, or vow tenant versions --tenant {tenant}."
            ),
        ],
        items: Vec::new(),
    });
    render_sections(
        &format!(
            "{org}: privacy policy version {version} takes effect on {}",
            vow_render::Lang::En.date(policy.effective_date)
        ),
        org,
        &format!("Policy version {version}, effective {date}"),
        &sections,
        &[format!(
            "Sent by Vow to the administrators of tenant {tenant}."
        )],
    )
}
