//! The sending system's side of one-click unsubscribe (R13, S8): the
//! `List-Unsubscribe` and `List-Unsubscribe-Post` header values for a mailing. The
//! links themselves are served by [`crate::pages`].

use crate::extract::{Auth, Body, tenant};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use vow_engine::vault::unsubscribe::{LinkRequest, UnsubscribeLinks};

type Result<T> = std::result::Result<T, ApiError>;

/// Unsubscribe links for a mailing: for the subjects named, or for every active
/// subject whose consent to the purpose is granted now. Each comes with its
/// `List-Unsubscribe` (`<https://…/u/TOKEN>`) and `List-Unsubscribe-Post`
/// (`List-Unsubscribe=One-Click`) header values. A link is valid 400 days, names no
/// one readably, and keeps working after key rotation.
#[utoipa::path(post, path = "/v1/tenants/{t}/unsubscribe-links", tag = "consents", params(("t" = String, Path)),
    request_body = LinkRequest,
    responses((status = 200, body = UnsubscribeLinks), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn links(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Body(q): Body<LinkRequest>,
) -> Result<Json<UnsubscribeLinks>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.unsubscribe_links(&actor, &t, &q).await?))
}
