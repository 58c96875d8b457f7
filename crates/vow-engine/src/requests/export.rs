//! Access, portability and right-to-know packages: machine-readable JSON (schema
//! `vow-access/1`, documented in docs/requests.md) and a plain-words HTML rendering.
//!
//! Built from what is actually stored, not from the policy's prose: categories,
//! sources and purposes come from the person's fields; the policy only explains
//! the codes. Things the law forbids disclosing are named, never shown.

use super::record::{load, request_aad};
use crate::error::{EngineError, Result};
use crate::vault::keyring::{TenantKeys, value_aad};
use crate::vault::reads::FieldValue;
use crate::{Actor, Engine};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_core::{Policy, RequestType};
use vow_crypto::open;
use vow_render::access::{AccessPackage, ConsentRow, FieldRow, Meaning, Shown};
use vow_store::Tx;

/// Categories whose values are never disclosed in an access package (California
/// regulations §7024(d): government identifiers, account passwords, security
/// answers, unique biometric data). The package says that they are held.
const WITHHELD: [&str; 4] = [
    "user.government_id",
    "user.authorization.credentials",
    "user.authorization.security_answers",
    "user.biometric",
];

fn withheld(category: &str) -> bool {
    WITHHELD
        .iter()
        .any(|w| category == *w || category.starts_with(&format!("{w}.")))
}

/// The package for one subject. `received` bounds the know look-back (12 months).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn package(
    engine: &Engine,
    tx: &mut Tx,
    keys: &TenantKeys,
    policy: &Policy,
    tenant: &str,
    subject: &str,
    kind: RequestType,
    received: Timestamp,
) -> Result<Value> {
    let (dek, _, consent_rows) = engine.facts(tx, keys, tenant, subject).await?;
    let rows = tx.all_fields(tenant, subject).await?;
    let mut fields: Vec<(FieldValue, Option<String>)> = Vec::new();
    for r in rows {
        let superseded = r
            .superseded_at
            .and_then(|t| Timestamp::from_millisecond(t).ok())
            .map(vow_core::wire::time);
        fields.push((Engine::open_field(tenant, subject, &dek, r)?, superseded));
    }
    let lookback = received
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_sub(jiff::Span::new().months(12))
        .map(|z| z.timestamp())
        .unwrap_or(received);
    let in_window = |f: &FieldValue| {
        kind != RequestType::Know
            || f.collected_at
                .parse::<Timestamp>()
                .is_ok_and(|t| t >= lookback)
    };
    let current: Vec<&FieldValue> = fields
        .iter()
        .filter(|(f, s)| s.is_none() && in_window(f))
        .map(|(f, _)| f)
        .collect();

    let categories: BTreeSet<String> = current.iter().map(|f| f.category.clone()).collect();
    let sources: BTreeSet<String> = current.iter().map(|f| f.source.clone()).collect();
    let purposes: BTreeSet<String> = current
        .iter()
        .flat_map(|f| f.purposes.iter().cloned())
        .collect();
    // Recipients from the disclosure log: who actually received this person's data.
    let log = tx.disclosed_to(tenant, subject).await?;
    let lookback_ms = lookback.as_millisecond();
    let recipients: Vec<Value> = log
        .iter()
        .filter(|(_, _, at)| kind != RequestType::Know || *at >= lookback_ms)
        .map(|(id, cats, at)| {
            let def = policy.recipient(id);
            json!({
                "recipient": id,
                "name": def.map(|d| d.name.clone()),
                "kind": def.map(|d| d.kind.as_str()),
                "country": def.map(|d| d.country.clone()),
                "categories": serde_json::from_str::<Value>(cats).unwrap_or(Value::Null),
                "at": Timestamp::from_millisecond(*at).map(vow_core::wire::time).unwrap_or_default(),
            })
        })
        .collect();
    let recipient_kinds: BTreeSet<&str> = recipients
        .iter()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    let explain_category = |c: &str| {
        policy
            .categories
            .iter()
            .find(|d| d.id.as_str() == c)
            .map(|d| json!({"code": c, "means": d.description, "sensitive": d.sensitive}))
            .unwrap_or_else(|| json!({"code": c}))
    };
    let explain_purpose = |p: &str| {
        policy
            .purposes
            .iter()
            .find(|d| d.id.as_str() == p)
            .map(|d| json!({"code": p, "means": d.description, "legal_basis": d.basis.as_str()}))
            .unwrap_or_else(|| json!({"code": p}))
    };
    let summary = json!({
        "categories": categories.iter().map(|c| explain_category(c)).collect::<Vec<_>>(),
        "sources": sources,
        "purposes": purposes.iter().map(|p| explain_purpose(p)).collect::<Vec<_>>(),
        "recipient_categories": recipient_kinds,
        "disclosures": recipients.len(),
    });
    let mut out = json!({
        "format": "vow-access/1",
        "type": kind.as_str(),
        "organisation": policy.organisation.name,
        "generated_at": vow_core::wire::time(engine.now()),
        "subject": subject,
        "summary": summary,
    });
    if kind == RequestType::Know {
        out["disclosures"] = json!(recipients);
        out["look_back"] =
            json!({"from": vow_core::wire::time(lookback), "to": vow_core::wire::time(received)});
        return Ok(out);
    }
    let shown = |f: &FieldValue| {
        let mut v = json!({
            "category": f.category,
            "purposes": f.purposes,
            "source": f.source,
            "store": f.store,
            "collected_at": f.collected_at,
            "version": f.version,
        });
        if withheld(&f.category) {
            v["withheld"] = json!("held, but the law does not allow us to show it");
        } else {
            v["value"] = f.value.clone();
        }
        v
    };
    let ids = tx.identifiers(tenant, subject).await?;
    let mut identifiers = Vec::new();
    for i in ids {
        let plain = vow_crypto::open(
            &dek,
            &i.value,
            &value_aad(tenant, subject, "identifier", &i.kind),
        )?;
        identifiers.push(json!({"kind": i.kind, "value": String::from_utf8_lossy(&plain)}));
    }
    out["identifiers"] = json!(identifiers);
    out["fields"] = json!(current.iter().map(|f| shown(f)).collect::<Vec<_>>());
    out["corrected_versions"] = json!(
        fields
            .iter()
            .filter(|(_, s)| s.is_some())
            .map(|(f, s)| {
                let mut v = shown(f);
                v["superseded_at"] = json!(s);
                v
            })
            .collect::<Vec<_>>()
    );
    let events = Engine::events(&consent_rows)?;
    out["consents"] = json!(
        consent_rows
            .iter()
            .map(|c| json!({"purpose": c.purpose, "action": c.action, "kind": c.kind,
                             "at": Timestamp::from_millisecond(c.at).map(vow_core::wire::time).unwrap_or_default(),
                             "policy_version": c.policy_version}))
            .collect::<Vec<_>>()
    );
    out["consent_now"] = json!(
        vow_core::ConsentState::all(&events, engine.now())
            .into_iter()
            .map(|(p, s)| json!({"purpose": p, "state": s.name()}))
            .collect::<Vec<_>>()
    );
    out["disclosures"] = json!(recipients);
    Ok(out)
}

/// The package in plain words, as a standalone HTML page (no scripts, no external
/// resources), by vow-render's `access.html`.
pub fn render_html(p: &Value) -> String {
    model(p).to_html()
}

/// The readable model of a package's JSON; a missing or odd member reads as empty.
fn model(p: &Value) -> AccessPackage {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    AccessPackage {
        organisation: s(&p["organisation"]),
        generated_at: s(&p["generated_at"]),
        look_back: p.get("look_back").map(|lb| (s(&lb["from"]), s(&lb["to"]))),
        categories: p["summary"]["categories"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| Meaning {
                code: s(&c["code"]),
                means: s(&c["means"]),
                sensitive: c["sensitive"].as_bool() == Some(true),
                legal_basis: String::new(),
            })
            .collect(),
        purposes: p["summary"]["purposes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| Meaning {
                code: s(&c["code"]),
                means: s(&c["means"]),
                sensitive: false,
                legal_basis: s(&c["legal_basis"]).replace('_', " "),
            })
            .collect(),
        sources: list(&p["summary"]["sources"]),
        recipient_categories: list(&p["summary"]["recipient_categories"]),
        fields: p["fields"].as_array().map(|fields| {
            fields
                .iter()
                .map(|f| FieldRow {
                    category: s(&f["category"]),
                    value: match (&f["value"], f["withheld"].as_str()) {
                        (_, Some(w)) => Shown::Withheld(w.to_string()),
                        (Value::String(v), _) => Shown::Value(v.clone()),
                        (v, _) => Shown::Value(v.to_string()),
                    },
                    purposes: list(&f["purposes"]).join(", "),
                    source: s(&f["source"]),
                    collected_at: s(&f["collected_at"]),
                })
                .collect()
        }),
        consents: p["consents"].as_array().map(|consents| {
            consents
                .iter()
                .map(|c| ConsentRow {
                    at: s(&c["at"]),
                    purpose: s(&c["purpose"]),
                    action: s(&c["action"]),
                    kind: s(&c["kind"]),
                })
                .collect()
        }),
    }
}

impl Engine {
    /// The access or know package of a fulfilled request, while its link is valid.
    pub async fn request_export(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Value> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let r = load(&mut tx, tenant, id).await?;
        let (_, expires, sealed) = tx
            .export(&r.id)
            .await?
            .ok_or(EngineError::NotFound("export"))?;
        if expires < self.now_ms() {
            return Err(EngineError::NotFound("export (its link has expired)"));
        }
        let key = self.request_key(&keys, tenant, &r)?;
        let plain = open(&key, &sealed, &request_aad(tenant, &r.id, "export"))?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "request.export.read",
            r.subject_id.as_deref(),
            None,
            json!({"request": r.id}),
        );
        drop(tx);
        self.audit.record(vec![entry]).await?;
        serde_json::from_slice(&plain)
            .map_err(|_| EngineError::Internal("export unreadable".into()))
    }

    /// The package behind a person's download link, while it is valid. The token is
    /// the only credential, so it is long, random, stored hashed and expiring.
    pub async fn export_by_token(&self, token: &str) -> Result<Value> {
        if token.len() < 32 || token.len() > 128 {
            return Err(EngineError::NotFound("download"));
        }
        let mut tx = self.store.read().await?;
        let (tenant, id, expires) = tx
            .export_by_token(&vow_crypto::sha256(token.as_bytes()))
            .await?
            .ok_or(EngineError::NotFound("download"))?;
        if expires < self.now_ms() {
            return Err(EngineError::NotFound("download (the link has expired)"));
        }
        let keys = self.keys.tenant(&mut tx, &tenant).await?;
        let r = tx
            .request(&tenant, &id)
            .await?
            .ok_or(EngineError::NotFound("download"))?;
        let (_, _, sealed) = tx
            .export(&id)
            .await?
            .ok_or(EngineError::NotFound("download"))?;
        let key = self.request_key(&keys, &tenant, &r)?;
        let plain = open(&key, &sealed, &request_aad(&tenant, &id, "export"))?;
        drop(tx);
        let entry = self.audit_entry(
            &Actor::local("download-link"),
            Some(&tenant),
            "request.export.download",
            r.subject_id.as_deref(),
            None,
            json!({"request": id}),
        );
        self.audit.record(vec![entry]).await?;
        serde_json::from_slice(&plain)
            .map_err(|_| EngineError::Internal("export unreadable".into()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn withheld_categories() {
        assert!(super::withheld("user.government_id"));
        assert!(super::withheld("user.government_id.passport_number"));
        assert!(super::withheld("user.biometric.fingerprint"));
        assert!(!super::withheld("user.government_identity"));
        assert!(!super::withheld("user.name"));
    }

    #[test]
    fn html_escapes_values() {
        let p = serde_json::json!({"organisation": "<b>", "generated_at": "now", "summary": {},
            "fields": [{"category": "user.name", "value": "<script>x</script>", "purposes": [], "source": "s", "collected_at": "t"}]});
        let h = super::render_html(&p);
        assert!(!h.contains("<script>x"));
        assert!(h.contains("&lt;script&gt;"));
    }
}
