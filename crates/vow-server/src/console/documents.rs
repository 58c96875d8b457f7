//! The documents an agent or a parent uploaded on the portal, on a request's console
//! page: each with a download link (audited, `request.document_read`) and, while it
//! awaits review, the buttons that accept or reject it (`Engine::review_document`).

use super::{Ctx, LangQuery, ctx};
use crate::extract::tenant;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use vow_core::TenantId;
use vow_engine::EngineError;
use vow_engine::requests::{DocumentReview, RequestView};
use vow_render::console::{Cell, Field, Section, Table};

/// The request page's "Documents" section; None when the request has none.
pub(super) async fn section(
    s: &AppState,
    c: &Ctx,
    tid: &TenantId,
    r: &str,
) -> Result<Option<Section>, EngineError> {
    let docs = s.engine.request_documents(&c.actor, tid, r).await?;
    if docs.is_empty() {
        return Ok(None);
    }
    let t = tid.as_str();
    let base = format!("/console/t/{t}/requests/{r}");
    let mut forms = Vec::new();
    let rows = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let n = i + 1;
            if d.review == "pending" {
                let hidden = Field::Hidden {
                    name: "document".into(),
                    value: d.id.clone(),
                };
                let reason = |required| Field::Text {
                    name: "reason".into(),
                    label: if required {
                        format!("Why document {n} is rejected (the person is told)")
                    } else {
                        format!("Note on document {n} (optional, not kept)")
                    },
                    value: String::new(),
                    required,
                };
                forms.push(c.form(
                    &format!("accept-{n}"),
                    format!("{base}/review-accept"),
                    vec![hidden.clone(), reason(false)],
                    &format!("Accept document {n}"),
                ));
                forms.push(c.form(
                    &format!("reject-{n}"),
                    format!("{base}/review-reject"),
                    vec![hidden, reason(true)],
                    &format!("Reject document {n} (denies the request)"),
                ));
            }
            vec![
                Cell::text(n.to_string()),
                Cell::link(
                    format!("{} ({} bytes)", d.kind, d.size),
                    format!("{base}/documents/{}", d.id),
                ),
                Cell::text(c.lang.moment_of(&d.uploaded_at)),
                Cell::text(match d.review.as_str() {
                    "pending" => "awaiting review".to_string(),
                    other => other.to_string(),
                }),
            ]
        })
        .collect();
    let pending = docs.iter().any(|d| d.review == "pending");
    Ok(Some(Section {
        heading: "Documents".into(),
        paras: vec![if pending {
            "The authority the requester claims rests on these documents. Until each is accepted the request cannot be fulfilled; rejecting one denies the request (agent not authorised) and tells the person why. Each download is audited under your key.".into()
        } else {
            "Each download is audited under your key.".into()
        }],
        table: Some(Table {
            caption: String::new(),
            head: ["#", "Document", "Uploaded", "Review"]
                .map(String::from)
                .to_vec(),
            rows,
            empty: String::new(),
        }),
        forms,
        ..Section::default()
    }))
}

/// The `review-accept` and `review-reject` actions.
pub(super) async fn review(
    s: &AppState,
    c: &Ctx,
    tid: &TenantId,
    r: &str,
    f: &HashMap<String, String>,
    accept: bool,
) -> Result<RequestView, EngineError> {
    let review = DocumentReview {
        decision: if accept { "accept" } else { "reject" }.into(),
        reason: f.get("reason").cloned(),
    };
    let document = f.get("document").cloned().unwrap_or_default();
    s.engine
        .review_document(&c.actor, tid, r, &document, &review)
        .await
}

/// `GET /console/t/{t}/requests/{r}/documents/{d}`: the document as an attachment,
/// its reading audited under the operator's key first.
pub async fn document(
    State(s): State<AppState>,
    Path((t, r, d)): Path<(String, String, String)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let c = match ctx(&s, &headers, q.lang.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(tid) = tenant(&t) else {
        return c.error(None, &EngineError::NotFound("tenant"));
    };
    match s.engine.request_document(&c.actor, &tid, &r, &d).await {
        Ok(file) => (
            [
                (header::CONTENT_TYPE, file.kind.media_type().to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"document.{}\"", file.kind.as_str()),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            file.bytes,
        )
            .into_response(),
        Err(e) => c.error(Some(&t), &e),
    }
}
