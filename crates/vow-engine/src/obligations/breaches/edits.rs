//! The privacy team's own text of an incident's notice to the affected people
//! (issue 10). The generated draft leaves what only the team knows as placeholders
//! (`[The privacy team completes …]`); the team edits the subject and body, which must
//! keep every heading the applicable laws require (the draft's `contents`, from the
//! rule packs: RULES.md), and the notice is mailed only once no placeholder (`[…]` or
//! `{…}`) is left. The edited text replaces the draft wherever it is shown or mailed.

use super::types::{ImpactView, NoticeDraft};
use crate::engine::ts;
use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_store::{NoticeEditRow, Tx};

/// The longest subject and body taken.
const MAX_SUBJECT: usize = 200;
const MAX_BODY: usize = 20_000;

/// The team's text of the notice to individuals.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftEdit {
    /// The mail's subject (1 to 200 characters, one line).
    pub subject: String,
    /// The mail's text (1 to 20,000 characters), keeping every heading in the draft's
    /// `contents`.
    pub body: String,
}

impl Engine {
    /// Replace the text of the incident's notice to individuals (audited as
    /// `incident.notice_edit`); returns the notice as it will be mailed.
    pub async fn edit_individual_notice(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        edit: &DraftEdit,
    ) -> Result<NoticeDraft> {
        let t = tenant.as_str();
        self.authorize(actor, Capability::ManageIncidents, t)?;
        let subject = edit.subject.trim();
        if subject.is_empty() || subject.chars().count() > MAX_SUBJECT || subject.contains('\n') {
            return Err(EngineError::invalid(
                "/subject",
                format!("must be one line of 1 to {MAX_SUBJECT} characters"),
            ));
        }
        let body = edit.body.trim();
        if body.is_empty() || body.chars().count() > MAX_BODY {
            return Err(EngineError::invalid(
                "/body",
                format!("must be 1 to {MAX_BODY} characters"),
            ));
        }
        let draft = individuals(self.incident_impact(actor, tenant, id).await?, t)?;
        let lower = body.to_lowercase();
        let missing: Vec<String> = draft
            .contents
            .iter()
            .filter(|h| !lower.contains(&h.to_lowercase()))
            .map(|h| format!("\"{h}\""))
            .collect();
        if !missing.is_empty() {
            return Err(EngineError::invalid(
                "/body",
                format!(
                    "must keep every heading the notice must contain ({}): missing {}",
                    if draft.rules.is_empty() {
                        "Vow's default contents".to_string()
                    } else {
                        draft.rules.join(", ")
                    },
                    missing.join(", ")
                ),
            ));
        }
        let mut tx = self.store.write().await?;
        tx.put_notice_edit(&NoticeEditRow {
            incident_id: id.to_string(),
            tenant_id: t.to_string(),
            audience: "individuals".into(),
            subject: subject.to_string(),
            body: body.to_string(),
            edited_at: self.now_ms(),
            edited_by: actor.id().to_string(),
        })
        .await?;
        let entry = self.audit_entry(
            actor,
            Some(t),
            "incident.notice_edit",
            None,
            None,
            json!({"incident": id, "audience": "individuals",
                   "placeholders": placeholders(&format!("{subject}\n{body}")).len()}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        individuals(self.incident_impact(actor, tenant, id).await?, t)
    }

    /// Put the team's edited texts in place of the generated drafts.
    pub(crate) async fn apply_notice_edits(
        &self,
        tx: &mut Tx,
        impact: &mut ImpactView,
    ) -> Result<()> {
        for e in tx.notice_edits(&impact.id).await? {
            if let Some(n) = impact
                .notices
                .iter_mut()
                .find(|n| n.tenant == e.tenant_id && n.audience == e.audience)
            {
                n.html = html_of(&e.subject, &e.body);
                n.title = e.subject;
                n.text = e.body;
                n.edited_at = Some(ts(e.edited_at));
                n.edited_by = Some(e.edited_by);
            }
        }
        Ok(())
    }
}

/// The tenant's notice to individuals in an impact, or why there is none.
fn individuals(impact: ImpactView, tenant: &str) -> Result<NoticeDraft> {
    impact
        .notices
        .into_iter()
        .find(|n| n.audience == "individuals" && n.tenant == tenant)
        .ok_or_else(|| {
            EngineError::Conflict(
                "this incident owes no notice to individuals, so there is none to edit or mail"
                    .into(),
            )
        })
}

/// The placeholders left in a text: each `[…]` or `{…}` on one line (at most 80
/// characters shown of each), in order.
pub(crate) fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(start) = rest.find(['[', '{']) {
            let close = if rest[start..].starts_with('[') {
                ']'
            } else {
                '}'
            };
            let Some(len) = rest[start..].find(close) else {
                break;
            };
            let found = &rest[start..start + len + 1];
            out.push(found.chars().take(80).collect());
            rest = &rest[start + len + 1..];
        }
    }
    out
}

/// The mail's HTML part of an edited notice: the text's paragraphs, escaped.
fn html_of(subject: &str, body: &str) -> String {
    let esc = vow_render::escape_html;
    let paras: String = body
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>\n", esc(p.trim()).replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>\n<h1>{}</h1>\n{paras}</body></html>\n",
        esc(subject),
        esc(subject)
    )
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_are_found_with_their_text() {
        assert_eq!(
            placeholders("Dear {name},\nWhat we do: [The privacy team completes this.]\nok"),
            vec!["{name}", "[The privacy team completes this.]"]
        );
        assert!(placeholders("No brackets here; a <mail@example.org>.").is_empty());
        assert_eq!(placeholders("an [unclosed bracket"), Vec::<String>::new());
    }
}
