//! Verification: matched data points, declarations, an agent's or a parent's
//! authority, and one-time codes sent to the e-mail address on file.

use super::intake::matchable;
use super::notify::queue_notice;
use super::record::{Details, load};
use super::types::{RequestView, Step};
use crate::engine::{at, ts};
use crate::error::{EngineError, Result};
use crate::input::Identifiers;
use crate::vault::keyring::value_aad;
use crate::{Actor, Engine};
use serde_json::{Value, json};
use vow_core::RequestState;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_crypto::{IdentifierKind, Key32, open};
use vow_store::{RequestRow, Tx};

/// A code is kept as an HMAC under the request's own key: a copy of the database alone
/// cannot be searched for the million possible codes.
pub(crate) fn code_hash(key: &Key32, code: &str) -> [u8; 32] {
    vow_crypto::hmac_sha256(
        key,
        format!("vow:v1:request-code:{}", code.trim()).as_bytes(),
    )
}

/// A one-time code lives 15 minutes and allows 5 attempts.
pub(crate) const CODE_LIFETIME_MS: i64 = 15 * 60 * 1000;
const MAX_CODE_ATTEMPTS: i64 = 5;

impl Engine {
    /// Verified if the matched points (and declaration) meet the rule; otherwise
    /// verifying, or unverifiable when `give_up`.
    pub(crate) async fn try_verify(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        r: &mut RequestRow,
        d: &Details,
        give_up: bool,
    ) -> Result<()> {
        let v: Value = serde_json::from_str(&r.verification).unwrap_or(Value::Null);
        let needed = v["points"].as_i64().unwrap_or(1);
        let needs_declaration = v["signed_declaration"].as_bool().unwrap_or(false);
        let none = v["level"].as_str() == Some("none");
        let authority = authority(r, d);
        let enough = authority.is_ok()
            && (none
                || (r.subject_id.is_some()
                    && r.matched_points >= needed
                    && (!needs_declaration || d.declaration)));
        let target = if enough {
            RequestState::Verified
        } else if give_up {
            RequestState::Unverifiable
        } else {
            RequestState::Verifying
        };
        // A specific-pieces request that reaches only the categories level is downgraded.
        if !enough
            && authority.is_ok()
            && let Some(down) = v["downgrade_to"].as_str()
            && r.subject_id.is_some()
            && r.matched_points >= 2
        {
            let from_kind = r.kind.clone();
            r.kind = down.to_string();
            let note = json!({"points": r.matched_points, "downgraded_from": from_kind});
            return self
                .transition(tx, actor, r, RequestState::Verified, note)
                .await;
        }
        if r.state == target.as_str() {
            return Ok(());
        }
        let note = json!({"points": r.matched_points, "needed": needed, "level": v["level"], "authority": authority.err()});
        self.transition(tx, actor, r, target, note).await
    }

    pub async fn verify_request(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        step: &Step,
    ) -> Result<RequestView> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::SubmitRequest, tenant)?;
        // Checked in a transaction of its own (before ours: SQLite has one writer), so a
        // wrong attempt is counted even though this step then fails.
        let code_ok = match &step.code {
            Some(code) => {
                if !self.check_code(tenant, id, code).await? {
                    return Err(EngineError::invalid(
                        "/code",
                        "the code is wrong, has expired or was tried too often; ask for a new one",
                    ));
                }
                true
            }
            None => false,
        };
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let mut r = load(&mut tx, tenant, id).await?;
        let key = self.request_key(&keys, tenant, &r)?;
        let mut d = self.open_details(&key, tenant, &r)?;
        for (k, v) in step.identifiers.iter() {
            if vow_crypto::normalize(k, v.expose()).is_err() {
                return Err(EngineError::invalid(
                    format!("/identifiers/{}", k.as_str()),
                    "malformed",
                ));
            }
        }
        if code_ok {
            tx.delete_code(&r.id).await?;
        }
        // The information the clock waited for has arrived.
        self.resume_in(&mut tx, actor, &mut r).await?;
        merge_identifiers(&mut d.more, &step.identifiers);
        d.declaration |= step.declaration;
        d.subject_confirmed |= step.subject_confirmed;
        let (subject, mut points) = self
            .match_points(
                &mut tx,
                &keys,
                tenant,
                &[
                    &matchable(&d.request.identifiers, &d.request),
                    &matchable(&d.more, &d.request),
                ],
                d.request.birth_date.as_ref().map(|b| b.expose().as_str()),
            )
            .await?;
        if (step.authenticated || code_ok) && subject.is_some() {
            // An account sign-in asserted by the calling app counts as meeting the level.
            let v: Value = serde_json::from_str(&r.verification).unwrap_or(Value::Null);
            points = points.max(v["points"].as_i64().unwrap_or(1));
        }
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        d.parent = self
            .parent_check(
                &mut tx,
                &keys,
                tenant,
                subject.as_deref(),
                &d,
                &policy,
                at(r.received_at),
            )
            .await?;
        r.subject_id = subject;
        r.matched_points = points;
        r.details = self.seal_details(&key, tenant, &r.id, &d)?;
        r.updated_at = self.now_ms();
        if r.state == RequestState::Received.as_str()
            || r.state == RequestState::Acknowledged.as_str()
        {
            self.transition(&mut tx, actor, &mut r, RequestState::Verifying, json!({}))
                .await?;
        }
        self.try_verify(&mut tx, actor, &mut r, &d, step.give_up)
            .await?;
        tx.update_request(&r).await?;
        tx.commit().await?;
        self.request(actor, tenant_id, id).await
    }

    /// Compare a code in its own transaction, so a wrong attempt is counted even though
    /// the step it came with fails.
    pub(crate) async fn check_code(&self, tenant: &str, id: &str, code: &str) -> Result<bool> {
        let mut tx = self.store.write().await?;
        let Some((hash, expires, attempts)) = tx.code(id).await? else {
            return Ok(false);
        };
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let r = load(&mut tx, tenant, id).await?;
        let given = code_hash(&self.request_key(&keys, tenant, &r)?, code);
        let ok = attempts < MAX_CODE_ATTEMPTS
            && expires > self.now_ms()
            && vow_crypto::ct_eq(&hash, &given);
        if !ok {
            tx.count_code_attempt(id).await?;
            tx.commit().await?;
        }
        Ok(ok)
    }

    /// Mail a one-time code to the e-mail address on file of the matched person (not to
    /// an address the requester gave), to verify the request (R20, S6).
    pub async fn send_code(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<RequestView> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::SubmitRequest, tenant)?;
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let r = load(&mut tx, tenant, id).await?;
        if !matches!(
            r.state.as_str(),
            "received" | "acknowledged" | "verifying" | "unverifiable"
        ) {
            return Err(EngineError::Conflict(format!(
                "a request that is {} needs no code",
                r.state
            )));
        }
        let subject = r.subject_id.clone().ok_or_else(|| {
            EngineError::Conflict(
                "no person matched the request, so there is no e-mail on file to send a code to"
                    .into(),
            )
        })?;
        let email = email_on_file(&mut tx, &keys, tenant, &subject)
            .await?
            .ok_or_else(|| {
                EngineError::Conflict("the matched person has no e-mail address on file".into())
            })?;
        let queued = self
            .issue_code(&mut tx, actor, &policy, &keys, &r, &email, true)
            .await?;
        tx.commit().await?;
        self.mail(queued).await;
        self.request(actor, tenant_id, id).await
    }
}

impl Engine {
    /// Make a one-time code for `r`, keep its hash, and queue the notice that carries
    /// it to `to`. `real` false (the portal, when no one on file matched): the same
    /// work and the same mail, but the hash kept is of another random value, so the
    /// code mailed can never verify.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn issue_code(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        policy: &vow_core::Policy,
        keys: &crate::vault::keyring::TenantKeys,
        r: &RequestRow,
        to: &str,
        real: bool,
    ) -> Result<Vec<(String, String, super::notices::Rendered)>> {
        let tenant = r.tenant_id.as_str();
        let n = u32::from_be_bytes(vow_crypto::random_bytes::<4>()?) % 1_000_000;
        let code = format!("{n:06}");
        let kept = if real {
            code.clone()
        } else {
            vow_crypto::random_token()?
        };
        let expires = self.now_ms() + CODE_LIFETIME_MS;
        let key = self.request_key(keys, tenant, r)?;
        tx.put_code(&r.id, &code_hash(&key, &kept), expires).await?;
        let (row, mail) = self.notice_with_code(policy, r, &key, to, &code, at(expires))?;
        let queued = queue_notice(tx, row, mail).await?;
        self.event(
            tx,
            actor,
            r,
            "code_sent",
            Some(&r.state.clone()),
            json!({"expires_at": ts(expires)}),
        )
        .await?;
        Ok(queued)
    }
}

/// The e-mail address on file of `subject` (opened under their key), if any.
pub(crate) async fn email_on_file(
    tx: &mut Tx,
    keys: &crate::vault::keyring::TenantKeys,
    tenant: &str,
    subject: &str,
) -> Result<Option<String>> {
    let ids = tx.identifiers(tenant, subject).await?;
    let Some(email_row) = ids
        .iter()
        .find(|i| IdentifierKind::parse(&i.kind) == Some(IdentifierKind::Email))
    else {
        return Ok(None);
    };
    let skey = tx
        .subject_key(tenant, subject)
        .await?
        .ok_or(EngineError::NotFound("subject"))?;
    let dek = crate::vault::keyring::open_subject_key(
        keys,
        tenant,
        subject,
        skey.kek_version,
        &skey.wrapped,
    )?;
    let plain = open(
        &dek,
        &email_row.value,
        &value_aad(
            tenant,
            subject,
            "identifier",
            IdentifierKind::Email.as_str(),
        ),
    )?;
    Ok(Some(String::from_utf8_lossy(&plain).to_string()))
}

/// Whether whoever submitted may act: the person; an agent with a power of attorney, or
/// with signed permission and a registration once the person has confirmed directly
/// (Cal. Code Regs. tit. 11 §7063); a parent or guardian with evidence of it.
pub(crate) fn authority(r: &RequestRow, d: &Details) -> std::result::Result<(), &'static str> {
    let evidence = d
        .request
        .requester
        .as_ref()
        .and_then(|q| q.evidence.as_ref())
        .map(|e| e.expose().clone())
        .unwrap_or(Value::Null);
    let yes = |k: &str| evidence[k].as_bool() == Some(true);
    match r.requester.as_str() {
        "agent" if yes("power_of_attorney") => Ok(()),
        "agent"
            if yes("signed_permission")
                && evidence["registration"]
                    .as_str()
                    .is_some_and(|s| !s.trim().is_empty()) =>
        {
            if d.subject_confirmed {
                Ok(())
            } else {
                Err("the person must confirm directly that the agent acts for them")
            }
        }
        "agent" => {
            Err("an agent needs a power of attorney, or signed permission and a registration")
        }
        "parent" => {
            let p = d.parent.clone().unwrap_or_default();
            if p.child == Some(false) {
                Err("a parent or guardian acts only for a child under the policy's parental age")
            } else if p.linked || yes("parent_of") {
                Ok(())
            } else {
                Err(
                    "a parent or guardian needs evidence of parental authority, or to be the parent recorded on the child's parental consent",
                )
            }
        }
        _ => Ok(()),
    }
}

fn merge_identifiers(into: &mut Identifiers, from: &Identifiers) {
    if from.email.is_some() {
        into.email = from.email.clone();
    }
    if from.phone.is_some() {
        into.phone = from.phone.clone();
    }
    if from.external_id.is_some() {
        into.external_id = from.external_id.clone();
    }
}
