//! Draft breach notices: one per tenant and audience that is owed a notice, with the
//! headings each applicable law requires (California's five headings, GDPR Arts.
//! 33-34, PIPEDA SOR/2018-64 ss.2-3, Québec Reg. s.5), filled with what Vow knows
//! (what happened, when, which information, how many people, the contacts of the
//! policy). What only the privacy team can say (measures taken, advice) is marked
//! for them to complete. Drafts hold no personal data: counts and categories only.

use super::types::{DeadlineView, NoticeDraft, TenantImpact};
use std::collections::BTreeMap;
use std::sync::Arc;
use vow_core::breach::Audience;
use vow_core::policy::ContactChannel;
use vow_core::{Category, Policy};
use vow_render::breach::BreachDraft;
use vow_store::IncidentRow;

const TO_COMPLETE: &str = "[The privacy team completes this section before sending.]";

fn day(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(vow_render::long_date)
        .unwrap_or_default()
}

struct Facts<'a> {
    row: &'a IncidentRow,
    t: &'a TenantImpact,
    policy: Option<&'a Policy>,
    audience: Audience,
}

impl Facts<'_> {
    fn what_happened(&self) -> String {
        format!(
            "{} It took place between {} and {}, and we discovered it on {}.",
            self.row.description.trim_end_matches('.').to_string() + ".",
            day(self.row.window_from),
            day(self.row.window_to),
            day(self.row.discovered_at)
        )
    }

    fn when(&self) -> String {
        format!(
            "Between {} and {} (discovered on {}).",
            day(self.row.window_from),
            day(self.row.window_to),
            day(self.row.discovered_at)
        )
    }

    fn information(&self) -> String {
        let names: Vec<String> = self
            .t
            .categories
            .iter()
            .filter(|c| c.subjects > 0)
            .map(|c| {
                let described = Category::new(c.category.as_str()).ok().and_then(|cat| {
                    self.policy
                        .and_then(|p| p.category(&cat))
                        .map(|d| d.description.trim_end_matches('.').to_string())
                });
                described.unwrap_or_else(|| c.category.clone())
            })
            .collect();
        if names.is_empty() {
            "No personal information of this organisation was found in the systems involved."
                .to_string()
        } else {
            format!("The information involved: {}.", names.join("; "))
        }
    }

    fn number(&self) -> String {
        let records: i64 = self.t.categories.iter().map(|c| c.records).sum();
        format!(
            "{} people are affected ({} records).",
            self.t.affected, records
        )
    }

    fn consequences(&self) -> String {
        format!(
            "We assessed the risk to the people affected as {}. {}",
            self.row.risk, TO_COMPLETE
        )
    }

    fn contact(&self) -> String {
        let Some(p) = self.policy else {
            return TO_COMPLETE.to_string();
        };
        let ways: Vec<String> = p
            .contacts
            .iter()
            .map(|c| {
                let how = match c.channel {
                    ContactChannel::Email => "e-mail",
                    ContactChannel::Phone => "telephone",
                    ContactChannel::Mail => "post",
                    ContactChannel::Web => "web",
                };
                format!("{how}: {}", c.address.replace('\n', ", "))
            })
            .collect();
        if ways.is_empty() {
            format!("The privacy team at {}. {TO_COMPLETE}", p.organisation.name)
        } else {
            format!(
                "The privacy team at {} — {}.",
                p.organisation.name,
                ways.join("; ")
            )
        }
    }

    /// The text under a heading the law requires, chosen by what the heading asks.
    fn fill(&self, heading: &str) -> String {
        let h = heading.to_lowercase();
        let has = |w: &str| h.contains(w);
        if has("sample copy") {
            "Attach a copy of the notice sent to the residents.".to_string()
        } else if has("contact") || has("more information") || has("officer") {
            self.contact()
        } else if has("nature") {
            let mut s = format!("{} {}", self.what_happened(), self.information());
            if self.audience != Audience::Individuals {
                s = format!("{s} {}", self.number());
            }
            s
        } else if has("what happened") || has("circumstances") {
            self.what_happened()
        } else if has("day on which") || has("period") || has("date") {
            self.when()
        } else if has("number") {
            self.number()
        } else if has("information") {
            self.information()
        } else if has("consequences") {
            self.consequences()
        } else {
            TO_COMPLETE.to_string()
        }
    }
}

/// Headings when no applicable law lists the contents (e.g. a processor's notice to
/// its client, or the LGPD, whose lists RULES.md does not give).
fn default_headings(audience: Audience) -> Vec<String> {
    let mut h = vec!["What happened", "When", "The information involved"];
    if audience != Audience::Individuals {
        h.push("The number of people affected");
    }
    h.extend(["The likely consequences", "What we are doing", "Contact"]);
    h.into_iter().map(str::to_string).collect()
}

fn default_title(audience: Audience) -> &'static str {
    match audience {
        Audience::Authority => "Notification of a personal data breach",
        Audience::Individuals => "Notice of a personal data breach",
        Audience::Clients => "Notice of a security incident affecting your data",
    }
}

fn render(
    title: &str,
    org: &str,
    id: &str,
    sections: &[(String, String)],
    to: &[String],
) -> (String, String) {
    let draft = BreachDraft {
        title: title.to_string(),
        from: org.to_string(),
        to: to.to_vec(),
        reference: id.to_string(),
        sections: sections.to_vec(),
    };
    (draft.to_text(), draft.to_html())
}

/// A draft for every (tenant, audience) with an owed duty.
pub(crate) fn drafts(
    row: &IncidentRow,
    tenants: &[TenantImpact],
    deadlines: &[DeadlineView],
    policies: &BTreeMap<String, Arc<Policy>>,
) -> Vec<NoticeDraft> {
    let mut out = Vec::new();
    for t in tenants {
        for audience in Audience::ALL {
            let owed: Vec<&DeadlineView> = deadlines
                .iter()
                .filter(|d| d.required && d.tenant == t.tenant && d.audience == audience.as_str())
                .collect();
            if owed.is_empty() {
                continue;
            }
            let policy = policies.get(&t.tenant).map(AsRef::as_ref);
            let facts = Facts {
                row,
                t,
                policy,
                audience,
            };
            let mut headings: Vec<String> = Vec::new();
            for d in &owed {
                for c in &d.contents {
                    if !headings.contains(c) {
                        headings.push(c.clone());
                    }
                }
            }
            if headings.is_empty() {
                headings = default_headings(audience);
            }
            let title = owed
                .iter()
                .find_map(|d| d.title.clone())
                .unwrap_or_else(|| default_title(audience).to_string());
            let mut to: Vec<String> = Vec::new();
            for d in &owed {
                let who = if audience == Audience::Clients {
                    match (&t.client, &t.client_contact) {
                        (Some(n), Some(c)) => format!("{n} <{c}>"),
                        (Some(n), None) => n.clone(),
                        _ => d.to.clone(),
                    }
                } else {
                    d.to.clone()
                };
                if !to.contains(&who) {
                    to.push(who);
                }
            }
            let sections: Vec<(String, String)> = headings
                .iter()
                .map(|h| (h.clone(), facts.fill(h)))
                .collect();
            let org = policy.map_or(t.tenant.as_str(), |p| p.organisation.name.as_str());
            let (text, html) = render(&title, org, &row.id, &sections, &to);
            out.push(NoticeDraft {
                tenant: t.tenant.clone(),
                audience: audience.as_str().to_string(),
                to,
                rules: owed.iter().map(|d| d.rule.clone()).collect(),
                contents: headings.clone(),
                title,
                text,
                html,
                edited_at: None,
                edited_by: None,
            });
        }
    }
    out
}
