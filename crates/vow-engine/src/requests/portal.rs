//! The request portal (issue 10, R22): people file requests on a web page, with no
//! key. The portal acts as [`portal_actor`] (`web:portal`, an ingest caller bound to
//! the one tenant), so its requests enter the same workflow as every channel and are
//! audited as the portal.
//!
//! - **No existence leak.** A known and an unknown person get the same page and the
//!   same mails: the acknowledgement (with the status link) to the address given,
//!   and a one-time code; for a matched person the code goes to the e-mail address
//!   on file, for anyone else to the address given, where the hash kept is of another
//!   random value, so it never verifies ([`Engine::issue_code`]). Both do the same work.
//! - **Links.** The status page and the code form name their request by a token sealed
//!   (XChaCha20-Poly1305) under a key derived from the root key
//!   (`vow:v1:request-portal-link`), bound to what it is for: a code form's token does
//!   not open the status page. Tokens do not expire (a request may last months) and
//!   do not use the tenants' KEKs, so they survive a key rotation.
//! - **Documents.** An agent's or a parent's document (PDF, PNG or JPEG by its first
//!   bytes, at most [`MAX_DOCUMENT_BYTES`]) is sealed under the request's key in
//!   `request_documents`; operators list and download them through the API, and each
//!   download is audited before the bytes leave.

use super::record::{load, original_kind, request_aad};
pub use super::types::{DocumentKind, Upload};
use super::types::{Intake, NewRequest, Step};
use crate::engine::ts;
use crate::error::{EngineError, Result};
use crate::vault::links;
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use vow_core::role::Capability;
use vow_core::{Caller, RequestState, RequestType, RequesterKind, Role, TenantId};
use vow_crypto::{Key32, open, seal};
use vow_store::{DocumentRow, Tx};

/// The largest document accepted (5 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;
/// At most this many documents with one request.
pub const MAX_DOCUMENTS: usize = 3;

const LINK_KEY: &[u8] = b"vow:v1:request-portal-link";

/// What a portal token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalLink {
    /// The status page, mailed in the acknowledgement.
    Status,
    /// The code form shown after submitting.
    Code,
}

impl PortalLink {
    fn aad(self) -> &'static [u8] {
        match self {
            PortalLink::Status => b"vow:v1:request-status",
            PortalLink::Code => b"vow:v1:request-code-form",
        }
    }
}

/// The portal's caller: an ingest caller of `tenant` named `web:portal`.
pub fn portal_actor(tenant: &TenantId) -> Actor {
    Actor::key(
        Caller {
            key_id: "web:portal".into(),
            role: Role::Ingest,
            purposes: None,
        },
        Some(tenant.clone()),
    )
}

/// A request type as the portal offers it, with what its form must ask.
#[derive(Debug, Clone)]
pub struct PortalType {
    pub kind: RequestType,
    /// Some law asks two matching data points: the form offers a phone number.
    pub second_point: bool,
    /// Some law asks a declaration under penalty of perjury.
    pub declaration: bool,
    pub agent: bool,
    pub parent: bool,
}

/// What the portal of a tenant offers.
#[derive(Debug, Clone)]
pub struct PortalOffer {
    pub tenant_name: String,
    /// Residence codes the tenant's laws cover, with the law's name.
    pub regions: Vec<(String, String)>,
    pub types: Vec<PortalType>,
    /// Purposes a person may opt out of or withdraw (id, plain description).
    pub purposes: Vec<(String, String)>,
    /// Categories a person may ask to correct (id, plain description).
    pub categories: Vec<(String, String)>,
}

/// Whether `value` is an e-mail address Vow can match.
pub fn valid_email(value: &str) -> bool {
    vow_crypto::normalize(vow_crypto::IdentifierKind::Email, value).is_ok()
}

/// Whether `value` is a phone number Vow can match (with its country code).
pub fn valid_phone(value: &str) -> bool {
    vow_crypto::normalize(vow_crypto::IdentifierKind::Phone, value).is_ok()
}

/// A notice as the status page shows it.
#[derive(Debug, Clone)]
pub struct StatusNotice {
    pub subject: String,
    /// RFC 3339.
    pub at: String,
}

/// A request as its status page shows it: nothing the link's holder did not give.
#[derive(Debug, Clone)]
pub struct PortalStatus {
    pub kind: RequestType,
    pub state: RequestState,
    /// RFC 3339.
    pub received_at: String,
    pub due: String,
    pub paused: bool,
    pub notices: Vec<StatusNotice>,
    /// The access package's download link, once ready.
    pub download: Option<String>,
    /// While the request waits for its code: the code form's token.
    pub code_ref: Option<String>,
    /// A denial that can be appealed: the appeal form's link, from the denial notice.
    pub appeal: Option<String>,
}

/// A request's document, as the API lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: String,
    /// `pdf`, `png` or `jpeg`.
    #[serde(rename = "type")]
    pub kind: String,
    pub size: i64,
    pub uploaded_at: String,
    /// `pending` (awaiting review: the request cannot be fulfilled), `accepted` or
    /// `rejected`.
    pub review: String,
    pub reviewed_at: Option<String>,
}

/// A document's bytes and type.
pub struct DocumentFile {
    pub kind: DocumentKind,
    pub bytes: Vec<u8>,
}

const WAITING: [&str; 4] = ["received", "acknowledged", "verifying", "unverifiable"];

impl Engine {
    fn portal_token(&self, link: PortalLink, tenant: &str, id: &str) -> Result<String> {
        let payload = links::encode(links::day_of(self.now()), &[tenant, id])?;
        Ok(vow_crypto::seal_link(
            &self.keys.derived(LINK_KEY),
            &payload,
            link.aad(),
        )?)
    }

    /// The request id a token names, if it opens, is for `link` and names `tenant`.
    /// The day it was made is not checked: the links last as long as their request.
    fn open_portal_token(&self, link: PortalLink, tenant: &str, token: &str) -> Option<String> {
        let p = vow_crypto::open_link(&self.keys.derived(LINK_KEY), token, link.aad())?;
        let (_, mut parts) = links::decode(&p, 2)?;
        let id = parts.pop()?;
        (parts.pop()? == tenant).then_some(id)
    }

    /// The signed address of a request's status page (public for the page benchmark).
    pub fn status_url(&self, tenant: &TenantId, id: &str) -> Result<String> {
        let token = self.portal_token(PortalLink::Status, tenant.as_str(), id)?;
        Ok(format!(
            "{}/privacy/{}/request/status/{token}",
            self.public_url(),
            tenant.as_str()
        ))
    }

    /// Whether one more portal form post or code check from `address` may be taken
    /// this minute ([`crate::security::limit::PORTAL_PER_ADDRESS`]).
    pub fn portal_admit_address(&self, address: &str) -> bool {
        self.portal_addresses.admit(address)
    }

    /// Whether one more request naming `email` may be taken this minute
    /// ([`crate::security::limit::PORTAL_PER_IDENTIFIER`]). The address is kept only as
    /// a hash, in memory.
    pub fn portal_admit_identifier(&self, email: &str) -> bool {
        let normal = vow_crypto::normalize(vow_crypto::IdentifierKind::Email, email)
            .unwrap_or_else(|_| email.trim().to_lowercase());
        let h = vow_crypto::sha256(normal.as_bytes());
        let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.portal_identifiers.admit(&hex)
    }

    /// What the portal of `tenant` offers: the request types its laws provide, and
    /// access, deletion, correction and withdrawal of consent in any case, what each form must ask, and the regions to choose from.
    pub async fn portal_offer(&self, tenant: &TenantId) -> Result<PortalOffer> {
        let t = tenant.as_str();
        let mut tx = self.store.read().await?;
        let row = tx.tenant(t).await?.ok_or(EngineError::NotFound("tenant"))?;
        let (policy, _) = self.policy_for(&mut tx, t).await?;
        drop(tx);
        let packs: Vec<_> = self
            .rules()
            .iter()
            .filter(|p| p.activated_by(&policy.jurisdictions) && !p.requests.is_empty())
            .collect();
        let mut regions: Vec<(String, String)> = Vec::new();
        for p in &packs {
            for s in &p.scope {
                if !regions.iter().any(|(c, _)| c == s) {
                    regions.push((s.clone(), p.name.clone()));
                }
            }
        }
        regions.sort();
        let types = RequestType::ALL
            .into_iter()
            .filter_map(|kind| {
                let rules: Vec<_> = packs.iter().filter_map(|p| p.requests.get(&kind)).collect();
                // The rights every policy's promise answers, and those a law adds.
                let offered = !rules.is_empty()
                    || matches!(
                        kind,
                        RequestType::Access
                            | RequestType::Delete
                            | RequestType::Correct
                            | RequestType::WithdrawConsent
                    );
                offered.then(|| PortalType {
                    kind,
                    second_point: rules.iter().any(|r| r.verification.points >= 2)
                        || (rules.is_empty()
                            && matches!(kind, RequestType::Access | RequestType::Portability)),
                    declaration: rules.iter().any(|r| r.verification.signed_declaration),
                    agent: rules
                        .iter()
                        .any(|r| r.submitters.contains(&RequesterKind::Agent)),
                    parent: rules
                        .iter()
                        .any(|r| r.submitters.contains(&RequesterKind::Parent)),
                })
            })
            .collect();
        let purposes = policy
            .purposes
            .iter()
            .filter(|p| !p.forbidden)
            .map(|p| (p.id.to_string(), p.description.clone()))
            .collect();
        let categories = policy
            .categories
            .iter()
            .map(|c| (c.id.to_string(), c.description.clone()))
            .collect();
        Ok(PortalOffer {
            tenant_name: row.name,
            regions,
            types,
            purposes,
            categories,
        })
    }

    /// File a request from the portal, with its documents, and send the code. Returns
    /// the code form's token. The same work and mails whether or not anyone matched.
    pub async fn portal_submit(
        &self,
        tenant: &TenantId,
        input: &NewRequest,
        documents: &[Upload],
    ) -> Result<String> {
        if documents.len() > MAX_DOCUMENTS
            || documents.iter().any(|d| d.bytes.len() > MAX_DOCUMENT_BYTES)
        {
            return Err(EngineError::invalid(
                "/documents",
                format!("at most {MAX_DOCUMENTS} documents of at most 5 MB each"),
            ));
        }
        let actor = portal_actor(tenant);
        let id = self
            .submit_in(&actor, tenant, input, Some(&Intake { documents }))
            .await?;
        self.portal_code(&actor, tenant.as_str(), &id).await?;
        self.portal_token(PortalLink::Code, tenant.as_str(), &id)
    }

    /// Send the code: to the e-mail address on file of the matched person, else (no
    /// one matched, or no address on file) a code that cannot verify to the address
    /// given.
    async fn portal_code(&self, actor: &Actor, tenant: &str, id: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let r = load(&mut tx, tenant, id).await?;
        let key = self.request_key(&keys, tenant, &r)?;
        let d = self.open_details(&key, tenant, &r)?;
        let given = d
            .request
            .contact_email
            .as_ref()
            .or(d.request.identifiers.email.as_ref())
            .map(|e| e.expose().clone())
            .unwrap_or_default();
        let on_file = match &r.subject_id {
            Some(s) => super::verification::email_on_file(&mut tx, &keys, tenant, s).await?,
            None => {
                // The work opening the address on file takes, on a value of no use.
                let dummy = seal(&key, given.as_bytes(), b"vow:v1:portal-dummy")?;
                let _ = open(&key, &dummy, b"vow:v1:portal-dummy");
                None
            }
        };
        let real = on_file.is_some();
        let to = on_file.unwrap_or(given);
        let queued = self
            .issue_code(&mut tx, actor, &policy, &keys, &r, &to, real)
            .await?;
        tx.commit().await?;
        self.mail(queued).await;
        Ok(())
    }

    /// Check a code entered on the portal (`code_ref`: the code form's or status
    /// page's token). True when it verified (or confirmed) the request. A wrong code,
    /// a forged token and a request of no one all answer false.
    pub async fn portal_verify(
        &self,
        tenant: &TenantId,
        code_ref: &str,
        code: &str,
    ) -> Result<bool> {
        let t = tenant.as_str();
        let Some(id) = self.open_portal_token(PortalLink::Code, t, code_ref) else {
            return Ok(false);
        };
        let state = {
            let mut tx = self.store.read().await?;
            match tx.request(t, &id).await? {
                Some(r) => r.state,
                None => return Ok(false),
            }
        };
        if !WAITING.contains(&state.as_str()) {
            // Already verified or done: the code only confirms.
            return self.check_code(t, &id, code).await;
        }
        let step = Step {
            code: Some(code.to_string()),
            // The code went to the person's own address: entering it is the person
            // confirming, also that an agent acts for them (§7063(a)(2)).
            subject_confirmed: true,
            ..Step::default()
        };
        match self
            .verify_request(&portal_actor(tenant), tenant, &id, &step)
            .await
        {
            Ok(_) => Ok(true),
            Err(EngineError::Invalid(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The status page's contents for a token; None for a token that does not open,
    /// names another tenant or no request. Each view is audited.
    pub async fn portal_status(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> Result<Option<PortalStatus>> {
        let t = tenant.as_str();
        let Some(id) = self.open_portal_token(PortalLink::Status, t, token) else {
            return Ok(None);
        };
        let mut tx = self.store.read().await?;
        let Some(r) = tx.request(t, &id).await? else {
            return Ok(None);
        };
        let keys = self.keys.tenant(&mut tx, t).await?;
        let key = self.request_key(&keys, t, &r)?;
        let rows = tx.notices(&r.id).await?;
        drop(tx);
        let mut notices = Vec::new();
        let mut download = None;
        let mut appeal = None;
        let link_in = |body: &Value, base: &str| {
            body["text"].as_str().and_then(|text| {
                text.split_whitespace()
                    .find(|w| w.starts_with(base))
                    .map(str::to_string)
            })
        };
        for n in &rows {
            let body = notice_body(&key, t, &r.id, &n.id, &n.sealed)?;
            match n.kind.as_str() {
                "completion" => {
                    download = link_in(&body, &format!("{}/exports/", self.public_url()));
                }
                "denial" => {
                    appeal = link_in(
                        &body,
                        &format!("{}/privacy/{t}/request/appeal/", self.public_url()),
                    );
                }
                _ => {}
            }
            notices.push(StatusNotice {
                subject: body["subject"].as_str().unwrap_or_default().to_string(),
                at: ts(n.sent_at.unwrap_or(n.created_at)),
            });
        }
        let state = crate::engine::stored("request state", &r.state, RequestState::parse)?;
        let kind = RequestType::parse(&original_kind(&r)).unwrap_or(RequestType::Access);
        let code_ref = if WAITING.contains(&r.state.as_str()) {
            Some(self.portal_token(PortalLink::Code, t, &r.id)?)
        } else {
            None
        };
        let entry = self.audit_entry(
            &portal_actor(tenant),
            Some(t),
            "request.status_viewed",
            r.subject_id.as_deref(),
            None,
            json!({"request": r.id}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(Some(PortalStatus {
            kind,
            state,
            received_at: ts(r.received_at),
            due: ts(r.extended_due.unwrap_or(r.response_due)),
            paused: r.paused_at.is_some(),
            notices,
            download,
            code_ref,
            appeal,
        }))
    }

    /// Seal and keep a request's documents (in the intake's transaction).
    pub(crate) async fn store_documents(
        &self,
        tx: &mut Tx,
        key: &Key32,
        tenant: &str,
        request: &str,
        documents: &[Upload],
    ) -> Result<()> {
        for d in documents {
            let id = uuid::Uuid::now_v7().to_string();
            let sealed = seal(
                key,
                &d.bytes,
                &request_aad(tenant, request, &format!("document:{id}")),
            )?;
            tx.insert_document(&DocumentRow {
                id,
                request_id: request.to_string(),
                kind: d.kind.as_str().to_string(),
                size: i64::try_from(d.bytes.len()).unwrap_or(i64::MAX),
                sealed,
                created_at: self.now_ms(),
                review: "pending".to_string(),
                reviewed_at: None,
            })
            .await?;
        }
        Ok(())
    }

    /// The documents uploaded with a request (type and size; no content).
    pub async fn request_documents(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Vec<DocumentView>> {
        let t = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, t)?;
        let mut tx = self.store.read().await?;
        let r = load(&mut tx, t, id).await?;
        Ok(tx
            .documents(&r.id)
            .await?
            .into_iter()
            .map(|d| DocumentView {
                id: d.id,
                kind: d.kind,
                size: d.size,
                uploaded_at: ts(d.created_at),
                review: d.review,
                reviewed_at: d.reviewed_at.map(ts),
            })
            .collect())
    }

    /// One document's bytes. The reading is audited (`request.document_read`) before
    /// they are returned.
    pub async fn request_document(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        document: &str,
    ) -> Result<DocumentFile> {
        let t = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, t)?;
        let mut tx = self.store.read().await?;
        let r = load(&mut tx, t, id).await?;
        let d = tx
            .document(&r.id, document)
            .await?
            .ok_or(EngineError::NotFound("document"))?;
        let keys = self.keys.tenant(&mut tx, t).await?;
        let key = self.request_key(&keys, t, &r)?;
        drop(tx);
        let bytes = open(
            &key,
            &d.sealed,
            &request_aad(t, &r.id, &format!("document:{}", d.id)),
        )?;
        let kind = DocumentKind::parse(&d.kind).ok_or_else(|| {
            EngineError::Internal("a stored document type is not one Vow writes".into())
        })?;
        let entry = self.audit_entry(
            actor,
            Some(t),
            "request.document_read",
            r.subject_id.as_deref(),
            None,
            json!({"request": r.id, "document": d.id, "type": d.kind, "size": d.size}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(DocumentFile {
            kind,
            bytes: bytes.to_vec(),
        })
    }
}

/// A stored notice's body (`to`, `subject`, `text`, …), opened under the request key.
fn notice_body(
    key: &Key32,
    tenant: &str,
    request: &str,
    notice: &str,
    sealed: &[u8],
) -> Result<Value> {
    let plain = open(key, sealed, &request_aad(tenant, request, notice))?;
    serde_json::from_slice(&plain)
        .map_err(|_| EngineError::Internal("a stored notice is unreadable".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_told_by_their_first_bytes() {
        assert_eq!(DocumentKind::sniff(b"%PDF-1.7\n"), Some(DocumentKind::Pdf));
        assert_eq!(
            DocumentKind::sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Some(DocumentKind::Png)
        );
        assert_eq!(
            DocumentKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(DocumentKind::Jpeg)
        );
        assert_eq!(DocumentKind::sniff(b"MZ\x90\0"), None);
        assert_eq!(DocumentKind::sniff(b"<html>%PDF-"), None);
        assert_eq!(DocumentKind::sniff(b""), None);
    }
}
