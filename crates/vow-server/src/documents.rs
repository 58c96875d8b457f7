//! The documents an agent or a parent uploaded with a request on the portal: listed,
//! and downloaded one at a time by the privacy team. Each download is audited
//! (`request.document_read`) before the bytes leave.

use crate::extract::{Auth, Body, tenant};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use vow_engine::requests::portal::DocumentView;
use vow_engine::requests::{DocumentReview, RequestView};

type Result<T> = std::result::Result<T, ApiError>;

/// Review a document that awaits it: `accept` takes it as the requester's authority;
/// `reject` (with a reason, told to the person) denies the request
/// (`agent_not_authorised`). Until then the request cannot be fulfilled (409).
#[utoipa::path(post, path = "/v1/tenants/{t}/requests/{r}/documents/{d}/review", tag = "requests",
    params(("t" = String, Path), ("r" = String, Path), ("d" = String, Path)),
    request_body = DocumentReview,
    responses((status = 200, body = RequestView), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn review(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r, d)): Path<(String, String, String)>,
    Body(input): Body<DocumentReview>,
) -> Result<Json<RequestView>> {
    let t = tenant(&t)?;
    Ok(Json(
        s.engine.review_document(&actor, &t, &r, &d, &input).await?,
    ))
}

/// The documents uploaded with a request (type, size, when, review): no content.
#[utoipa::path(get, path = "/v1/tenants/{t}/requests/{r}/documents", tag = "requests",
    params(("t" = String, Path), ("r" = String, Path)),
    responses((status = 200, body = Vec<DocumentView>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
) -> Result<Json<Vec<DocumentView>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.request_documents(&actor, &t, &r).await?))
}

/// One document's bytes (`application/pdf`, `image/png` or `image/jpeg`), sent as an
/// attachment. The reading is recorded in the audit chain first.
#[utoipa::path(get, path = "/v1/tenants/{t}/requests/{r}/documents/{d}", tag = "requests",
    params(("t" = String, Path), ("r" = String, Path), ("d" = String, Path)),
    responses((status = 200, description = "the document's bytes"), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn download(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r, d)): Path<(String, String, String)>,
) -> Result<Response> {
    let t = tenant(&t)?;
    let file = s.engine.request_document(&actor, &t, &r, &d).await?;
    let disposition = format!(
        "attachment; filename=\"document.{}\"",
        match file.kind.as_str() {
            "jpeg" => "jpg",
            k => k,
        }
    );
    Ok((
        [
            (header::CONTENT_TYPE, file.kind.media_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        file.bytes,
    )
        .into_response())
}
