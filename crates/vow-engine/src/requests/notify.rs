//! A request's notices: rendered, kept sealed with the request in the step's
//! transaction, and mailed after the commit.

use super::notices::{NoticeContext, NoticeKind, Rendered};
use super::record::request_aad;
use crate::Engine;
use crate::engine::at;
use crate::error::Result;
use jiff::Timestamp;
use serde_json::{Value, json};
use vow_core::{Channel, Policy, RequestType};
use vow_crypto::{Key32, seal};
use vow_store::{NoticeRow, RequestRow, Tx};

/// What a notice says beyond the request itself.
#[derive(Default)]
pub(crate) struct Extra<'a> {
    pub(crate) extension_reason: Option<&'a str>,
    pub(crate) complaint_statement: bool,
    pub(crate) denial_reasons: &'a [(String, String)],
    pub(crate) appeal: Option<&'a str>,
    pub(crate) outcome: Option<&'a str>,
    pub(crate) download_url: Option<&'a str>,
    pub(crate) controller: Option<(&'a str, &'a str)>,
    pub(crate) link_expires: Option<Timestamp>,
    /// This request appeals the decision on that request.
    pub(crate) appeal_of: Option<&'a str>,
}

/// Plain words for the verification a rule asks.
fn verification_words(v: &Value) -> String {
    match v["level"].as_str() {
        Some("none") => "No identity check is needed for this kind of request.".to_string(),
        _ => {
            let points = v["points"].as_u64().unwrap_or(1);
            let mut s = format!(
                "We confirm who you are by matching {points} piece(s) of information you give us with what we already hold (for example your e-mail address, phone number or date of birth), or by your signing in to your account."
            );
            if v["signed_declaration"].as_bool().unwrap_or(false) {
                s.push_str(" We also need a declaration, signed under penalty of perjury, that you are the person the request is about.");
            }
            s
        }
    }
}

impl Engine {
    /// Render, store (sealed) and queue a notice; it is mailed after the commit.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn notice(
        &self,
        kind: NoticeKind,
        policy: &Policy,
        r: &RequestRow,
        key: &Key32,
        to: Option<&str>,
        extra: Extra<'_>,
    ) -> Result<(NoticeRow, Option<(String, Rendered)>)> {
        let rules: Vec<String> = serde_json::from_str(&r.rules).unwrap_or_default();
        let verification: Value = serde_json::from_str(&r.verification).unwrap_or(Value::Null);
        let words = verification_words(&verification);
        let rt = RequestType::parse(&r.kind).unwrap_or(RequestType::Access);
        let cx = NoticeContext {
            organisation: &policy.organisation,
            contacts: &policy.contacts,
            request_id: &r.id,
            request_type: rt,
            channel: Channel::parse(&r.channel).unwrap_or(Channel::Api),
            received_at: at(r.received_at),
            response_due: at(r.response_due),
            acknowledgement_due: r.ack_due.map(at),
            extended_to: r.extended_due.map(at),
            extension_reason: extra.extension_reason,
            complaint_statement: extra.complaint_statement,
            verification: &words,
            rules: &rules,
            denial_reasons: extra.denial_reasons,
            appeal: extra.appeal,
            outcome: extra.outcome,
            download_url: extra.download_url,
            controller: extra.controller,
            code: None,
            code_expires: extra.link_expires,
            appeal_of: extra.appeal_of,
        };
        let rendered = super::notices::render(kind, &cx);
        let id = uuid::Uuid::now_v7().to_string();
        let body = json!({"to": to, "subject": rendered.subject, "text": rendered.text, "html": rendered.html});
        let sealed = seal(
            key,
            body.to_string().as_bytes(),
            &request_aad(&r.tenant_id, &r.id, &id),
        )?;
        let row = NoticeRow {
            id,
            request_id: r.id.clone(),
            kind: kind.as_str().to_string(),
            created_at: self.now_ms(),
            sealed,
            sent_at: None,
            message_id: None,
        };
        Ok((row, to.map(|t| (t.to_string(), rendered))))
    }

    /// Mail what was queued, after the commit. A failure leaves the notice unsent
    /// (visible on the request) rather than undoing the step.
    pub(crate) async fn mail(&self, queued: Vec<(String, String, Rendered)>) {
        let Some(mailer) = self.mailer() else { return };
        for (notice_id, to, rendered) in queued {
            match mailer.send(&to, &rendered).await {
                Ok(message_id) => {
                    if let Ok(mut tx) = self.store.write().await
                        && tx
                            .mark_notice_sent(&notice_id, self.now_ms(), &message_id)
                            .await
                            .is_ok()
                    {
                        let _ = tx.commit().await;
                    }
                }
                Err(e) => {
                    tracing::warn!(notice = %notice_id, code = e.code(), "a notice could not be mailed")
                }
            }
        }
    }

    pub(crate) fn notice_with_code(
        &self,
        policy: &Policy,
        r: &RequestRow,
        key: &Key32,
        to: &str,
        code: &str,
        expires: Timestamp,
    ) -> Result<(NoticeRow, Option<(String, Rendered)>)> {
        let rules: Vec<String> = serde_json::from_str(&r.rules).unwrap_or_default();
        let mut cx = NoticeContext::new(
            &policy.organisation,
            &policy.contacts,
            &r.id,
            RequestType::parse(&r.kind).unwrap_or(RequestType::Access),
            Channel::parse(&r.channel).unwrap_or(Channel::Api),
            at(r.received_at),
            at(r.response_due),
        );
        cx.rules = &rules;
        cx.code = Some(code);
        cx.code_expires = Some(expires);
        let rendered = super::notices::render(NoticeKind::VerificationCode, &cx);
        let id = uuid::Uuid::now_v7().to_string();
        // The code itself is not kept in the stored copy of the notice: only its hash exists.
        let stored = rendered.text.replace(code, "••••••");
        let body = json!({"to": to, "subject": rendered.subject, "text": stored});
        let sealed = seal(
            key,
            body.to_string().as_bytes(),
            &request_aad(&r.tenant_id, &r.id, &id),
        )?;
        let row = NoticeRow {
            id,
            request_id: r.id.clone(),
            kind: NoticeKind::VerificationCode.as_str().to_string(),
            created_at: self.now_ms(),
            sealed,
            sent_at: None,
            message_id: None,
        };
        Ok((row, Some((to.to_string(), rendered))))
    }
}

/// Keep a notice with its request (in `tx`) and return it queued for mailing after
/// the commit, if there is an address to send it to.
pub(crate) async fn queue_notice(
    tx: &mut Tx,
    row: NoticeRow,
    mail: Option<(String, Rendered)>,
) -> Result<Vec<(String, String, Rendered)>> {
    tx.insert_notice(&row).await?;
    Ok(mail
        .map(|(to, rendered)| vec![(row.id, to, rendered)])
        .unwrap_or_default())
}
