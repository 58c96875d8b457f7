//! The preference centre (issue 10): a person proves who they are by a link mailed
//! to the address on file, then sees each consent purpose of the policy in force with
//! its state and history, and changes it through the consent ledger. And Global
//! Privacy Control: a `Sec-GPC: 1` signal withdraws the sale and sharing purposes of
//! the person identified, or is recorded once for a browser no one is identified in.
//!
//! Links and sessions are tokens sealed (XChaCha20-Poly1305, `vow_crypto::seal_link`)
//! under a key derived from the root key (HKDF, `vow:v1:preferences`), each kind bound
//! to its own associated data, so a link is never a session and the reverse. They name
//! the tenant, the subject and when they stop working; they reveal nothing, cannot be
//! made without the root key, and survive `vow keys rotate` (no tenant KEK is used).

use crate::error::{EngineError, Result};
use crate::input::NewConsent;
use crate::{Actor, Engine};
use serde_json::{Value, json};
use vow_core::{Caller, ConsentState, PurposeId, Role, TenantId};
use vow_crypto::IdentifierKind;
use vow_render::Lang;
use vow_render::letter::{Letter, para};

/// How long a link mailed from the page's form works: one day.
pub const MAILED_LINK_SECS: i64 = 24 * 3600;
/// How long a link a sending system asks for works: 60 days (CASL's minimum for an
/// unsubscribe mechanism; a preference link travels in the same messages).
pub const SENDER_LINK_SECS: i64 = 60 * 86_400;
/// How long a preference session lasts: 30 minutes.
pub const SESSION_SECS: i64 = 30 * 60;

const KEY: &[u8] = b"vow:v1:preferences";
const LINK_AAD: &[u8] = b"vow:v1:preference-link";
const SESSION_AAD: &[u8] = b"vow:v1:preference-session";
const BROWSER_KEY: &[u8] = b"vow:v1:gpc-browser";
const LIMIT_KEY: &[u8] = b"vow:v1:form-limit";
const FORMAT: u8 = 1;
/// The form's name in the rate limiters' keys.
const FORM: &str = "preferences";

/// What a link or a session says.
struct Pass {
    tenant: String,
    subject: String,
    /// Seconds since the epoch after which it no longer works.
    until: i64,
}

impl Pass {
    fn encode(&self) -> Result<Vec<u8>> {
        let mut out = vec![FORMAT];
        out.extend_from_slice(&self.until.to_be_bytes());
        let n = u8::try_from(self.tenant.len())
            .map_err(|_| EngineError::Internal("tenant id too long".into()))?;
        out.push(n);
        out.extend_from_slice(self.tenant.as_bytes());
        out.extend_from_slice(self.subject.as_bytes());
        Ok(out)
    }

    fn decode(b: &[u8]) -> Option<Pass> {
        let (&format, rest) = b.split_first()?;
        if format != FORMAT {
            return None;
        }
        let (until, rest) = rest.split_first_chunk::<8>()?;
        let (&n, rest) = rest.split_first()?;
        let (tenant, subject) = rest.split_at_checked(usize::from(n))?;
        Some(Pass {
            tenant: String::from_utf8(tenant.to_vec()).ok()?,
            subject: String::from_utf8(subject.to_vec()).ok()?,
            until: i64::from_be_bytes(*until),
        })
    }
}

/// One consent purpose as the preference page shows it.
#[derive(Debug, Clone)]
pub struct PurposePreference {
    pub id: String,
    /// The policy's own words for it.
    pub description: String,
    /// `granted`, `withdrawn`, `expired` or `none`.
    pub state: &'static str,
    /// Oldest first.
    pub history: Vec<PreferenceEvent>,
}

/// One event of a purpose's ledger.
#[derive(Debug, Clone)]
pub struct PreferenceEvent {
    /// RFC 3339.
    pub at: String,
    /// `grant` or `withdraw`.
    pub action: String,
    /// The evidence's `channel` (`web`, `one-click`, `request`, …), if it named one.
    pub channel: Option<String>,
    /// Whether it was a Global Privacy Control signal.
    pub gpc: bool,
}

/// What the preference page shows.
#[derive(Debug, Clone)]
pub struct Preferences {
    pub tenant_name: String,
    pub purposes: Vec<PurposePreference>,
}

/// What a GPC signal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpcOutcome {
    /// Recorded now (the person's purposes withdrawn, or the browser's first signal).
    Recorded,
    /// Recorded before: nothing new.
    AlreadyRecorded,
}

/// The page's answer to "send me a link".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAsked {
    /// The same for a known and an unknown address: "if we know it, a link is on its way".
    Answered,
    /// Too many posts from this address this minute.
    Busy,
}

fn web_actor(tenant: &TenantId, what: &str) -> Actor {
    Actor::key(
        Caller {
            key_id: format!("web:{what}"),
            role: Role::Ingest,
            purposes: None,
        },
        Some(tenant.clone()),
    )
}

impl Engine {
    fn pass(&self, aad: &[u8], tenant: &str, subject: &str, secs: i64) -> Result<String> {
        let pass = Pass {
            tenant: tenant.to_string(),
            subject: subject.to_string(),
            until: self.now().as_second() + secs,
        };
        Ok(vow_crypto::seal_link(
            &self.keys.derived(KEY),
            &pass.encode()?,
            aad,
        )?)
    }

    fn open_pass(&self, aad: &[u8], tenant: &TenantId, token: &str) -> Option<String> {
        let plain = vow_crypto::open_link(&self.keys.derived(KEY), token, aad)?;
        let pass = Pass::decode(&plain)?;
        (pass.tenant == tenant.as_str() && self.now().as_second() <= pass.until)
            .then_some(pass.subject)
    }

    /// The address of a person's preference link, valid `secs` seconds.
    pub(crate) fn preference_url(&self, tenant: &str, subject: &str, secs: i64) -> Result<String> {
        let token = self.pass(LINK_AAD, tenant, subject, secs)?;
        Ok(format!(
            "{}/privacy/{tenant}/preferences/link/{token}",
            self.public_url()
        ))
    }

    /// "Send me a link": if `email` is the address of a live person of the tenant, mail
    /// a preference link to it. The answer is the same either way, and the mail is
    /// sent after the answer (a task of its own), so the page takes the same time.
    /// `source` (the client's address) is only counted for the rate limit.
    pub async fn ask_preference_link(
        &self,
        tenant: &TenantId,
        email: &str,
        source: Option<&str>,
        lang: Lang,
    ) -> Result<LinkAsked> {
        let t = tenant.as_str();
        if !self
            .form_limits
            .by_address
            .admit(&format!("{FORM}:{t}:{}", source.unwrap_or("-")))
        {
            return Ok(LinkAsked::Busy);
        }
        let name = self
            .tenant_name(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let Ok(normal) = vow_crypto::normalize(IdentifierKind::Email, email) else {
            return Ok(LinkAsked::Answered);
        };
        // Counted by a hash, so the limiter holds no address.
        let hashed =
            vow_crypto::form_token(&self.keys.derived(LIMIT_KEY), &format!("{t}\0{normal}"));
        if !self
            .form_limits
            .by_identifier
            .admit(&format!("{FORM}:{hashed}"))
        {
            // The same page: a limit on one address must not tell that it is known.
            return Ok(LinkAsked::Answered);
        }
        let found = self
            .lookup(
                &Actor::local("web:preferences"),
                tenant,
                IdentifierKind::Email,
                &normal,
            )
            .await?;
        let Some(subject) = found else {
            return Ok(LinkAsked::Answered);
        };
        let url = self.preference_url(t, &subject, MAILED_LINK_SECS)?;
        let letter = link_letter(&name, &url, lang);
        if let Some(mailer) = self.mailer() {
            // The address the blind index matched: the one on file, normalised.
            tokio::spawn(async move {
                if let Err(e) = mailer
                    .send_message(
                        &normal,
                        &letter.subject,
                        &letter.to_text(),
                        &letter.to_html(),
                    )
                    .await
                {
                    tracing::warn!(code = e.code(), "a preference link could not be mailed");
                }
            });
        }
        Ok(LinkAsked::Answered)
    }

    /// Follow a preference link: a new session for its person, or None (forged,
    /// altered, expired, another tenant's, or a person since erased).
    pub async fn open_preference_link(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> Result<Option<String>> {
        let Some(subject) = self.open_pass(LINK_AAD, tenant, token) else {
            return Ok(None);
        };
        let mut tx = self.store.read().await?;
        if !tx.subject_is_live(tenant.as_str(), &subject).await? {
            return Ok(None);
        }
        drop(tx);
        Ok(Some(self.pass(
            SESSION_AAD,
            tenant.as_str(),
            &subject,
            SESSION_SECS,
        )?))
    }

    /// The person a preference session cookie names, while it lasts.
    pub fn preference_session(&self, tenant: &TenantId, cookie: &str) -> Option<String> {
        self.open_pass(SESSION_AAD, tenant, cookie)
    }

    /// What the preference page shows: every consent purpose of the policy in force
    /// (not the forbidden ones), its state and its history. The reading is audited.
    pub async fn preferences(&self, tenant: &TenantId, subject: &str) -> Result<Preferences> {
        let t = tenant.as_str();
        let name = self
            .tenant_name(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let policy = {
            let mut tx = self.store.read().await?;
            self.policy_for(&mut tx, t).await?.0
        };
        let ledger = self
            .consents(&Actor::local("web:preferences"), tenant, subject)
            .await?;
        let purposes = policy
            .purposes
            .iter()
            .filter(|p| p.basis == vow_core::policy::LegalBasis::Consent && !p.forbidden)
            .map(|p| {
                let id = p.id.to_string();
                let state = ledger
                    .current
                    .get(&id)
                    .and_then(|v| v.get("state"))
                    .and_then(Value::as_str)
                    .map_or("none", |s| match s {
                        "granted" => "granted",
                        "withdrawn" => "withdrawn",
                        "expired" => "expired",
                        _ => "none",
                    });
                let history = ledger
                    .history
                    .iter()
                    .filter(|e| e.purpose == id)
                    .map(|e| PreferenceEvent {
                        at: e.at.clone(),
                        action: e.action.clone(),
                        channel: e
                            .evidence
                            .as_ref()
                            .and_then(|v| v.get("channel"))
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        gpc: e.evidence.as_ref().and_then(|v| v.get("signal"))
                            == Some(&json!("Sec-GPC: 1")),
                    })
                    .collect();
                PurposePreference {
                    id,
                    description: p.description.clone(),
                    state,
                    history,
                }
            })
            .collect();
        Ok(Preferences {
            tenant_name: name,
            purposes,
        })
    }

    /// Change one purpose from the preference page: a grant or a withdrawal through
    /// the consent ledger (recipients get `consent.withdrawn`), with the page as
    /// evidence: `{"channel": "web", "page": "preferences", "policy_version": N,
    /// "shown": <the purpose's description>, "lang": "en"}`. No address, no browser.
    pub async fn set_preference(
        &self,
        tenant: &TenantId,
        subject: &str,
        purpose: &str,
        grant: bool,
        lang: Lang,
    ) -> Result<()> {
        let t = tenant.as_str();
        let (policy, version) = {
            let mut tx = self.store.read().await?;
            self.policy_for(&mut tx, t).await?
        };
        let id =
            PurposeId::new(purpose).map_err(|_| EngineError::invalid("/purpose", "unknown"))?;
        let def = policy
            .purposes
            .iter()
            .find(|p| {
                p.id == id && p.basis == vow_core::policy::LegalBasis::Consent && !p.forbidden
            })
            .ok_or_else(|| EngineError::invalid("/purpose", "not a consent purpose"))?;
        let change = NewConsent {
            purpose: purpose.to_string(),
            action: Some(if grant { "grant" } else { "withdraw" }.into()),
            kind: None,
            evidence: Some(vow_core::Pii::new(json!({
                "channel": "web",
                "page": "preferences",
                "policy_version": version,
                "shown": def.description,
                "lang": lang.code(),
            }))),
            at: None,
            expires_at: None,
            parent: None,
        };
        self.record_consent(&web_actor(tenant, "preferences"), tenant, subject, &change)
            .await?;
        Ok(())
    }

    /// A `Sec-GPC: 1` signal from a person identified by a preference session:
    /// withdraw, through the ledger, every sale or sharing purpose of the policy in
    /// force (`vow_core::policy::is_sale_or_sharing`) that is not withdrawn already,
    /// with the signal as evidence `{"channel": "web", "signal": "Sec-GPC: 1", "page": …}`.
    /// A signal sent again changes nothing.
    pub async fn gpc_for_person(
        &self,
        tenant: &TenantId,
        subject: &str,
        page: &str,
    ) -> Result<GpcOutcome> {
        let t = tenant.as_str();
        let (policy, rows) = {
            let mut tx = self.store.read().await?;
            let policy = self.policy_for(&mut tx, t).await?.0;
            (policy, tx.consents(t, subject).await?)
        };
        let events = Self::events(&rows)?;
        let now = self.now();
        let mut outcome = GpcOutcome::AlreadyRecorded;
        for p in policy
            .purposes
            .iter()
            .filter(|p| vow_core::policy::is_sale_or_sharing(p.id.as_str()))
        {
            if matches!(
                ConsentState::derive(&events, &p.id, now),
                ConsentState::Withdrawn { .. }
            ) {
                continue;
            }
            let change = NewConsent {
                purpose: p.id.to_string(),
                action: Some("withdraw".into()),
                kind: None,
                evidence: Some(vow_core::Pii::new(json!({
                    "channel": "web",
                    "signal": "Sec-GPC: 1",
                    "page": page,
                }))),
                at: None,
                expires_at: None,
                parent: None,
            };
            self.record_consent(&web_actor(tenant, "gpc"), tenant, subject, &change)
                .await?;
            outcome = GpcOutcome::Recorded;
        }
        Ok(outcome)
    }

    /// A `Sec-GPC: 1` signal from a browser no one is identified in: recorded once per
    /// tenant and browser (`browser`: the random id of its cookie; the store keeps an
    /// HMAC of it), audited as `gpc.browser`.
    pub async fn gpc_for_browser(&self, tenant: &TenantId, browser: &str) -> Result<GpcOutcome> {
        let t = tenant.as_str();
        let mac = vow_crypto::form_token(&self.keys.derived(BROWSER_KEY), browser);
        let mut tx = self.store.write().await?;
        if tx.tenant(t).await?.is_none() {
            return Err(EngineError::NotFound("tenant"));
        }
        if !tx.insert_gpc_browser(t, &mac, self.now_ms()).await? {
            return Ok(GpcOutcome::AlreadyRecorded);
        }
        let entry = self.audit_entry(
            &web_actor(tenant, "gpc"),
            Some(t),
            "gpc.browser",
            None,
            None,
            json!({"signal": "Sec-GPC: 1"}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(GpcOutcome::Recorded)
    }

    /// When a browser's GPC signal was recorded, if it was (RFC 3339).
    pub async fn gpc_browser_recorded(
        &self,
        tenant: &TenantId,
        browser: &str,
    ) -> Result<Option<String>> {
        let mac = vow_crypto::form_token(&self.keys.derived(BROWSER_KEY), browser);
        let mut tx = self.store.read().await?;
        Ok(tx
            .gpc_browser(tenant.as_str(), &mac)
            .await?
            .map(crate::engine::ts))
    }
}

/// The mail with a preference link, in the page's language.
fn link_letter(organisation: &str, url: &str, lang: Lang) -> Letter {
    let (subject, intro, act, valid, ignore) = match lang {
        Lang::En => (
            "Your privacy preferences",
            "You asked for a link to your privacy preferences with",
            "Open your preferences",
            "The link works for 24 hours and opens a session of 30 minutes.",
            "If you did not ask for it, ignore this message: nothing changes.",
        ),
        Lang::Fr => (
            "Vos préférences de confidentialité",
            "Vous avez demandé un lien vers vos préférences de confidentialité auprès de",
            "Ouvrir vos préférences",
            "Le lien fonctionne pendant 24 heures et ouvre une session de 30 minutes.",
            "Si vous ne l’avez pas demandé, ignorez ce message : rien ne change.",
        ),
    };
    Letter {
        subject: format!("{subject} · {organisation}"),
        blocks: vec![
            para().t(format!("{intro} {organisation}.")),
            para().link(act, url),
            para().t(valid),
            para().t(ignore),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_round_trips() {
        let p = Pass {
            tenant: "acme".into(),
            subject: "0190a0b4-7c1e-7000-8000-000000000000".into(),
            until: 1_800_000_000,
        };
        let d = Pass::decode(&p.encode().unwrap()).unwrap();
        assert_eq!(
            (d.tenant, d.subject, d.until),
            (p.tenant, p.subject, p.until)
        );
        assert!(Pass::decode(&[]).is_none());
        assert!(Pass::decode(&[2, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_none());
    }
}
