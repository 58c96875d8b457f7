//! The request portal (issue 10, R22): `/privacy/{t}/request`. Public, no key: the
//! engine acts as the portal (`web:portal`), so a request made here enters the same
//! workflow as any other, with channel `web`.
//!
//! - `GET /privacy/{t}/request`: the request types the tenant's laws provide.
//! - `GET|POST /privacy/{t}/request/{type}` (`?as=agent|parent`): the form, asking only
//!   what the rules need; a bad field redisplays the form with a message at that field
//!   (and only this browser's own input back in its own field).
//! - `POST /privacy/{t}/request/verify`: the code from the e-mail.
//! - `GET /privacy/{t}/request/status/{token}`: the status page, from the signed link in
//!   the acknowledgement.
//!
//! Every form carries the pages' CSRF token; form posts and code checks are limited per
//! client address and requests per e-mail address (a `429` page). A known and an
//! unknown person get the same pages (see `vow_engine::requests::portal`).

use crate::form_body::{Part, field, fields, parts};
use crate::pages::{chrome, error_page, form_cookie, form_token, language, not_found_page, page};
use crate::state::AppState;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use vow_core::{Pii, RequestType, TenantId};
use vow_engine::EngineError;
use vow_engine::input::{Identifiers, NewField};
use vow_engine::requests::portal::{
    DocumentKind, MAX_DOCUMENT_BYTES, PortalOffer, PortalType, Upload, valid_email, valid_phone,
};
use vow_engine::requests::{NewRequest, Requester};
use vow_render::Lang;
use vow_render::web::portal::{
    Choice, CodeForm, Field, FieldKind, FormPage, PathLink, StatusPage, TypeLink,
};
use vow_render::web::portal::{code_page, form_page, index_page, status_page};

/// The largest body the request form takes: one document of 5 MB and the fields. A
/// larger file up to this size gets a message on the form; beyond it, `413`.
pub const MAX_FORM_BODY: usize = 8 * 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
pub struct PortalQuery {
    pub lang: Option<String>,
    /// `agent` or `parent`: the authorised agent's or the parent's form.
    #[serde(rename = "as")]
    pub who: Option<String>,
}

/// Who is making the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Subject,
    Agent,
    Parent,
}

impl Who {
    fn parse(s: Option<&str>) -> Option<Who> {
        match s {
            None | Some("") | Some("subject") => Some(Who::Subject),
            Some("agent") => Some(Who::Agent),
            Some("parent") => Some(Who::Parent),
            Some(_) => None,
        }
    }

    fn query(self) -> &'static str {
        match self {
            Who::Subject => "",
            Who::Agent => "as=agent&",
            Who::Parent => "as=parent&",
        }
    }
}

fn base(t: &TenantId) -> String {
    format!("/privacy/{}/request", t.as_str())
}

fn with_cookie(mut res: Response, set: Option<HeaderValue>) -> Response {
    if let Some(set) = set {
        res.headers_mut().append(header::SET_COOKIE, set);
    }
    res
}

/// A `Sec-GPC: 1` signal honoured on a portal page, as on the notice and the
/// preference pages (`gpc::honour`, evidence page `portal`): the banner the frame
/// shows and the browser cookie to set.
#[derive(Default)]
struct Signal {
    banner: Option<String>,
    cookie: Option<HeaderValue>,
}

impl Signal {
    async fn honour(
        s: &AppState,
        tenant: &TenantId,
        headers: &HeaderMap,
        lang: Lang,
    ) -> Result<Signal, Response> {
        match crate::gpc::honour(s, tenant, headers, "portal").await {
            Ok(h) => Ok(Signal {
                banner: h.as_ref().map(|_| crate::gpc::statement(lang)),
                cookie: h.and_then(|h| h.set_cookie),
            }),
            // Never a page that says the signal was honoured when it was not.
            Err(e) => Err(error_page(lang, &e)),
        }
    }

    /// The tenant's frame, with the banner when the signal was honoured.
    fn chrome(&self, lang: Lang, site: &str, query: &str) -> vow_render::web::Chrome {
        let mut c = chrome(lang, Some(site), query);
        c.banner = self.banner.clone();
        c
    }

    fn finish(self, res: Response) -> Response {
        with_cookie(res, self.cookie)
    }
}

fn address(connect: Option<Extension<ConnectInfo<SocketAddr>>>) -> String {
    connect.map_or_else(|| "-".to_string(), |c| c.0.0.ip().to_string())
}

fn busy(lang: Lang, site: &str, sig: &Signal) -> Response {
    let w = lang.portal();
    page(
        StatusCode::TOO_MANY_REQUESTS,
        code_page(
            &mut sig.chrome(lang, site, ""),
            w.busy_title,
            &[w.busy.to_string()],
            None,
        ),
    )
}

fn forbidden(lang: Lang) -> Response {
    short(
        StatusCode::FORBIDDEN,
        lang,
        vow_render::web::Message::Forbidden,
    )
}

fn internal(lang: Lang) -> Response {
    short(
        StatusCode::INTERNAL_SERVER_ERROR,
        lang,
        vow_render::web::Message::Error,
    )
}

fn short(status: StatusCode, lang: Lang, m: vow_render::web::Message) -> Response {
    crate::pages::message(status, lang, m, None)
}

/// The tenant a path names and its name for the header; the 404 page if unknown.
async fn known(s: &AppState, lang: Lang, t: &str) -> Result<(TenantId, String), Response> {
    let tenant = TenantId::new(t).map_err(|_| not_found_page(lang))?;
    match s.engine.tenant_name(&tenant).await {
        Ok(Some(n)) => Ok((tenant, n)),
        Ok(None) => Err(not_found_page(lang)),
        Err(e) => Err(error_page(lang, &e)),
    }
}

/// Whether the parts carry the token that matches this browser's form cookie.
fn token_ok(s: &AppState, headers: &HeaderMap, parts: &[Part]) -> bool {
    let token = field(parts, "csrf");
    form_cookie(headers).is_some_and(|c| s.engine.form_token_ok(&c, &token))
}

/// `GET /privacy/{t}/request`: the request types offered.
pub async fn index(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Query(q): Query<PortalQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(q.lang.as_deref(), &headers);
    let Ok(tenant) = TenantId::new(&t) else {
        return not_found_page(lang);
    };
    let offer = match s.engine.portal_offer(&tenant).await {
        Ok(o) => o,
        Err(e) => return error_page(lang, &e),
    };
    let sig = match Signal::honour(&s, &tenant, &headers, lang).await {
        Ok(sig) => sig,
        Err(res) => return res,
    };
    let types: Vec<TypeLink> = offer
        .types
        .iter()
        .map(|o| {
            let (label, description) = lang.request_kind(o.kind);
            TypeLink {
                label: label.to_string(),
                description: description.to_string(),
                href: format!("{}/{}?lang={}", base(&tenant), o.kind.as_str(), lang.code()),
            }
        })
        .collect();
    let html = index_page(&mut sig.chrome(lang, &offer.tenant_name, ""), &types);
    sig.finish(page(StatusCode::OK, html))
}

/// A problem with a field: the field's name and the words for it.
type FieldProblem = (&'static str, &'static str);

/// What the browser sent in the request form (only ever shown back to it).
#[derive(Debug, Default)]
struct Input {
    email: String,
    phone: String,
    region: String,
    category: String,
    value: String,
    purposes: Vec<String>,
    declaration: bool,
    name: String,
    requester_email: String,
    authority: String,
    registration: String,
}

impl Input {
    fn from(p: &[Part]) -> Input {
        Input {
            email: field(p, "email"),
            phone: field(p, "phone"),
            region: field(p, "region"),
            category: field(p, "category"),
            value: field(p, "value"),
            purposes: fields(p, "purposes"),
            declaration: !field(p, "declaration").is_empty(),
            name: field(p, "name"),
            requester_email: field(p, "requester_email"),
            authority: field(p, "authority"),
            registration: field(p, "registration"),
        }
    }
}

/// The form's page: its fields for this type and path, with the input and errors.
#[allow(clippy::too_many_arguments)]
fn form(
    lang: Lang,
    tenant: &TenantId,
    offer: &PortalOffer,
    o: &PortalType,
    who: Who,
    input: &Input,
    errors: &[(&str, &str)],
    csrf: String,
    sig: &Signal,
) -> String {
    let w = lang.portal();
    let err = |name: &str| {
        errors
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| e.to_string())
    };
    let f = |kind: FieldKind, name: &str, label: &str, value: &str| {
        let mut x = Field::new(kind, name, label);
        x.value = value.to_string();
        x.error = err(name);
        x
    };
    let mut out = Vec::new();
    if who != Who::Subject {
        out.push(f(FieldKind::Heading, "person", w.about_person, ""));
    }
    let mut email = f(FieldKind::Email, "email", w.email, &input.email);
    if who == Who::Subject {
        email.hint = Some(w.email_hint.into());
        email.autocomplete = Some("email");
    } else {
        email.label = w.person_email.into();
        email.hint = Some(w.person_email_hint.into());
    }
    email.required = true;
    out.push(email);
    if o.second_point {
        let mut phone = f(FieldKind::Tel, "phone", w.phone, &input.phone);
        phone.hint = Some(w.phone_hint.into());
        if who == Who::Subject {
            phone.autocomplete = Some("tel");
        }
        out.push(phone);
    }
    if !offer.regions.is_empty() {
        let mut region = f(FieldKind::Select, "region", w.region, "");
        region.hint = Some(w.region_hint.into());
        region.choices = std::iter::once(Choice {
            value: String::new(),
            label: w.region_other.into(),
            selected: input.region.is_empty(),
        })
        .chain(offer.regions.iter().map(|(code, law)| Choice {
            value: code.clone(),
            label: format!("{code} ({law})"),
            selected: input.region == *code,
        }))
        .collect();
        out.push(region);
    }
    if o.kind == RequestType::Correct {
        let mut c = f(FieldKind::Select, "category", w.correct_category, "");
        c.required = true;
        c.choices = offer
            .categories
            .iter()
            .map(|(id, d)| Choice {
                value: id.clone(),
                label: d.clone(),
                selected: input.category == *id,
            })
            .collect();
        out.push(c);
        let mut v = f(FieldKind::Text, "value", w.correct_value, &input.value);
        v.required = true;
        out.push(v);
    }
    if matches!(o.kind, RequestType::OptOut | RequestType::WithdrawConsent)
        && !offer.purposes.is_empty()
    {
        let mut p = f(FieldKind::Boxes, "purposes", w.purposes, "");
        p.hint = Some(w.purposes_hint.into());
        p.choices = offer
            .purposes
            .iter()
            .map(|(id, d)| Choice {
                value: id.clone(),
                label: d.clone(),
                selected: input.purposes.contains(id),
            })
            .collect();
        out.push(p);
    }
    if who != Who::Subject {
        out.push(f(FieldKind::Heading, "you", w.about_you, ""));
        let mut name = f(FieldKind::Text, "name", w.requester_name, &input.name);
        name.required = true;
        name.autocomplete = Some("name");
        out.push(name);
        let mut re = f(
            FieldKind::Email,
            "requester_email",
            w.requester_email,
            &input.requester_email,
        );
        re.hint = Some(w.requester_email_hint.into());
        re.required = true;
        re.autocomplete = Some("email");
        out.push(re);
    }
    if who == Who::Agent {
        let mut a = f(FieldKind::Radios, "authority", w.authority, "");
        a.choices = [
            ("power_of_attorney", w.authority_poa),
            ("signed_permission", w.authority_permission),
        ]
        .into_iter()
        .map(|(v, l)| Choice {
            value: v.into(),
            label: l.into(),
            selected: input.authority == v,
        })
        .collect();
        out.push(a);
        let mut r = f(
            FieldKind::Text,
            "registration",
            w.registration,
            &input.registration,
        );
        r.hint = Some(w.registration_hint.into());
        out.push(r);
    }
    if who != Who::Subject {
        let mut d = f(FieldKind::File, "document", w.document, "");
        d.hint = Some(
            if who == Who::Agent {
                w.agent_document_hint
            } else {
                w.parent_document_hint
            }
            .into(),
        );
        d.required = true;
        out.push(d);
    }
    if o.declaration && who == Who::Subject {
        out.push(f(
            FieldKind::Check,
            "declaration",
            w.declaration,
            if input.declaration { "yes" } else { "" },
        ));
    }
    let (label, description) = lang.request_kind(o.kind);
    let here = format!("{}/{}", base(tenant), o.kind.as_str());
    let mut paths = vec![PathLink {
        label: w.as_subject.into(),
        href: format!("{here}?lang={}", lang.code()),
        current: who == Who::Subject,
    }];
    for (ok, path, label) in [
        (o.agent, Who::Agent, w.as_agent),
        (o.parent, Who::Parent, w.as_parent),
    ] {
        if ok {
            paths.push(PathLink {
                label: label.into(),
                href: format!("{here}?{}lang={}", path.query(), lang.code()),
                current: who == path,
            });
        }
    }
    form_page(
        &mut sig.chrome(lang, &offer.tenant_name, who.query()),
        &FormPage {
            heading: label.into(),
            intro: description.into(),
            paths,
            csrf,
            fields: out,
            submit: w.submit.into(),
        },
    )
}

/// The tenant, its offer, the type and the path a form's address names; a page to
/// answer with when one of them is unknown.
async fn resolve(
    s: &AppState,
    lang: Lang,
    t: &str,
    kind: &str,
    who: Option<&str>,
) -> Result<(TenantId, PortalOffer, PortalType, Who), Response> {
    let tenant = TenantId::new(t).map_err(|_| not_found_page(lang))?;
    let offer = s
        .engine
        .portal_offer(&tenant)
        .await
        .map_err(|e| error_page(lang, &e))?;
    let o = RequestType::parse(kind)
        .and_then(|k| offer.types.iter().find(|o| o.kind == k).cloned())
        .ok_or_else(|| not_found_page(lang))?;
    let who = Who::parse(who)
        .filter(|w| match w {
            Who::Subject => true,
            Who::Agent => o.agent,
            Who::Parent => o.parent,
        })
        .ok_or_else(|| not_found_page(lang))?;
    Ok((tenant, offer, o, who))
}

/// `GET /privacy/{t}/request/{type}`: the form.
pub async fn form_get(
    State(s): State<AppState>,
    Path((t, kind)): Path<(String, String)>,
    Query(q): Query<PortalQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(q.lang.as_deref(), &headers);
    let (tenant, offer, o, who) = match resolve(&s, lang, &t, &kind, q.who.as_deref()).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let sig = match Signal::honour(&s, &tenant, &headers, lang).await {
        Ok(sig) => sig,
        Err(res) => return res,
    };
    let Some((csrf, set)) = form_token(&s, &headers) else {
        return internal(lang);
    };
    let html = form(
        lang,
        &tenant,
        &offer,
        &o,
        who,
        &Input::default(),
        &[],
        csrf,
        &sig,
    );
    sig.finish(with_cookie(page(StatusCode::OK, html), set))
}

/// Check the form; the request and its documents, or the errors by field.
fn check(
    lang: Lang,
    offer: &PortalOffer,
    o: &PortalType,
    who: Who,
    input: &Input,
    p: &[Part],
) -> Result<(NewRequest, Vec<Upload>), Vec<FieldProblem>> {
    let w = lang.portal();
    let mut errors: Vec<FieldProblem> = Vec::new();
    if input.email.is_empty() {
        errors.push(("email", w.err_required));
    } else if !valid_email(&input.email) {
        errors.push(("email", w.err_email));
    }
    if o.second_point && !input.phone.is_empty() && !valid_phone(&input.phone) {
        errors.push(("phone", w.err_phone));
    }
    if !input.region.is_empty() && !offer.regions.iter().any(|(c, _)| *c == input.region) {
        errors.push(("region", w.err_region));
    }
    if o.kind == RequestType::Correct {
        if !offer.categories.iter().any(|(c, _)| *c == input.category) {
            errors.push(("category", w.err_required));
        }
        if input.value.is_empty() {
            errors.push(("value", w.err_required));
        }
    }
    let purposes: Vec<String> = input
        .purposes
        .iter()
        .filter(|x| offer.purposes.iter().any(|(id, _)| id == *x))
        .cloned()
        .collect();
    let mut uploads = Vec::new();
    if who != Who::Subject {
        if input.name.is_empty() {
            errors.push(("name", w.err_required));
        }
        if input.requester_email.is_empty() {
            errors.push(("requester_email", w.err_required));
        } else if !valid_email(&input.requester_email) {
            errors.push(("requester_email", w.err_email));
        }
        match p
            .iter()
            .find(|x| x.name == "document" && x.filename.is_some() && !x.data.is_empty())
        {
            None => errors.push(("document", w.err_document_missing)),
            Some(d) if d.data.len() > MAX_DOCUMENT_BYTES => {
                errors.push(("document", w.err_document_size));
            }
            Some(d) => match DocumentKind::sniff(&d.data) {
                Some(kind) => uploads.push(Upload {
                    kind,
                    bytes: d.data.clone(),
                }),
                None => errors.push(("document", w.err_document_type)),
            },
        }
    }
    if who == Who::Agent {
        match input.authority.as_str() {
            "power_of_attorney" => {}
            "signed_permission" if input.registration.is_empty() => {
                errors.push(("registration", w.err_registration));
            }
            "signed_permission" => {}
            _ => errors.push(("authority", w.err_required)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut evidence = serde_json::Map::new();
    if input.declaration {
        evidence.insert("declaration".into(), Value::Bool(true));
    }
    match who {
        Who::Subject => {}
        Who::Agent => {
            evidence.insert(input.authority.clone(), Value::Bool(true));
            if input.authority == "signed_permission" {
                evidence.insert("registration".into(), json!(input.registration));
            }
            evidence.insert("document".into(), json!("uploaded on the request portal"));
        }
        Who::Parent => {
            evidence.insert("parent_of".into(), Value::Bool(true));
            evidence.insert("document".into(), json!("uploaded on the request portal"));
        }
    }
    let requester = match who {
        Who::Subject => (!evidence.is_empty()).then(|| Requester {
            kind: None,
            name: None,
            evidence: Some(Pii::new(Value::Object(evidence.clone()))),
            identifiers: Identifiers::default(),
        }),
        Who::Agent | Who::Parent => Some(Requester {
            kind: Some(if who == Who::Agent { "agent" } else { "parent" }.into()),
            name: Some(Pii::new(input.name.clone())),
            evidence: Some(Pii::new(Value::Object(evidence))),
            identifiers: Identifiers {
                email: Some(Pii::new(input.requester_email.clone())),
                ..Identifiers::default()
            },
        }),
    };
    let corrections = if o.kind == RequestType::Correct {
        vec![NewField {
            category: input.category.clone(),
            value: Pii::new(Value::String(input.value.clone())),
            purposes: Vec::new(),
            source: Some("request-portal".into()),
            store: None,
            collected_at: None,
            corrects: None,
        }]
    } else {
        Vec::new()
    };
    let request = NewRequest {
        kind: o.kind.as_str().into(),
        channel: "web".into(),
        jurisdiction: (!input.region.is_empty()).then(|| input.region.clone()),
        identifiers: Identifiers {
            email: Some(Pii::new(input.email.clone())),
            phone: (o.second_point && !input.phone.is_empty())
                .then(|| Pii::new(input.phone.clone())),
            external_id: None,
        },
        birth_date: None,
        contact_email: (who != Who::Subject).then(|| Pii::new(input.requester_email.clone())),
        requester,
        received_at: None,
        backdated: false,
        purposes,
        corrections,
    };
    Ok((request, uploads))
}

/// Where the engine's field errors go on the form.
fn engine_errors(lang: Lang, e: &EngineError) -> Vec<FieldProblem> {
    let w = lang.portal();
    let EngineError::Invalid(list) = e else {
        return Vec::new();
    };
    list.iter()
        .map(|x| match x.pointer.as_str() {
            "/identifiers/email" => ("email", w.err_email),
            "/identifiers/phone" => ("phone", w.err_phone),
            "/jurisdiction" => ("region", w.err_region),
            "/requester/kind" => ("region", w.err_not_provided),
            "/requester/identifiers/email" => ("requester_email", w.err_email),
            "/documents" => ("document", w.err_document_size),
            p if p.starts_with("/corrections") => ("value", w.err_other),
            _ => ("email", w.err_other),
        })
        .collect()
}

/// `POST /privacy/{t}/request/{type}`: file the request; then "check your e-mail" and
/// the code form, the same whoever the request is about.
pub async fn form_post(
    State(s): State<AppState>,
    Path((t, kind)): Path<(String, String)>,
    Query(q): Query<PortalQuery>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let lang = language(q.lang.as_deref(), &headers);
    let (tenant, offer, o, who) = match resolve(&s, lang, &t, &kind, q.who.as_deref()).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let sig = match Signal::honour(&s, &tenant, &headers, lang).await {
        Ok(sig) => sig,
        Err(res) => return res,
    };
    let res = filed(
        &s, lang, &tenant, &offer, &o, who, connect, &headers, body, &sig,
    )
    .await;
    sig.finish(res)
}

/// `form_post` once the tenant, type and path are known and a signal honoured.
#[allow(clippy::too_many_arguments)]
async fn filed(
    s: &AppState,
    lang: Lang,
    tenant: &TenantId,
    offer: &PortalOffer,
    o: &PortalType,
    who: Who,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    sig: &Signal,
) -> Response {
    if !s.engine.portal_admit_address(&address(connect)) {
        return busy(lang, &offer.tenant_name, sig);
    }
    let Some((csrf, set)) = form_token(s, headers) else {
        return internal(lang);
    };
    let invalid = |input: &Input, errors: &[(&str, &str)], csrf: String| {
        let html = form(lang, tenant, offer, o, who, input, errors, csrf, sig);
        with_cookie(page(StatusCode::UNPROCESSABLE_ENTITY, html), set.clone())
    };
    let Ok(body) = body else {
        // Larger than the body limit: only a file can be that large.
        return invalid(
            &Input::default(),
            &[("document", lang.portal().err_document_size)],
            csrf,
        );
    };
    let Some(p) = parts(headers, &body) else {
        return forbidden(lang);
    };
    if !token_ok(s, headers, &p) {
        return forbidden(lang);
    }
    let input = Input::from(&p);
    let (request, uploads) = match check(lang, offer, o, who, &input, &p) {
        Ok(r) => r,
        Err(errors) => return invalid(&input, &errors, csrf),
    };
    if !s.engine.portal_admit_identifier(&input.email) {
        return busy(lang, &offer.tenant_name, sig);
    }
    match s.engine.portal_submit(tenant, &request, &uploads).await {
        Ok(code_ref) => {
            let w = lang.portal();
            let html = code_page(
                &mut sig.chrome(lang, &offer.tenant_name, who.query()),
                w.sent_title,
                &w.sent.map(str::to_string),
                Some(&CodeForm {
                    action: format!("{}/verify?lang={}", base(tenant), lang.code()),
                    csrf,
                    code_ref,
                    error: None,
                }),
            );
            with_cookie(page(StatusCode::OK, html), set)
        }
        Err(e @ EngineError::Invalid(_)) => invalid(&input, &engine_errors(lang, &e), csrf),
        Err(e) => error_page(lang, &e),
    }
}

/// `POST /privacy/{t}/request/verify`: the code from the e-mail, with the request's
/// token. A wrong code, a forged token and a request of no one get the same answer.
pub async fn verify(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Query(q): Query<PortalQuery>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = language(q.lang.as_deref(), &headers);
    let (tenant, site) = match known(&s, lang, &t).await {
        Ok(k) => k,
        Err(res) => return res,
    };
    let sig = match Signal::honour(&s, &tenant, &headers, lang).await {
        Ok(sig) => sig,
        Err(res) => return res,
    };
    let res = async {
        if !s.engine.portal_admit_address(&address(connect)) {
            return busy(lang, &site, &sig);
        }
        let Some(p) = parts(&headers, &body) else {
            return forbidden(lang);
        };
        if !token_ok(&s, &headers, &p) {
            return forbidden(lang);
        }
        let code_ref = field(&p, "ref");
        let code = field(&p, "code");
        let w = lang.portal();
        match s.engine.portal_verify(&tenant, &code_ref, &code).await {
            Ok(true) => page(
                StatusCode::OK,
                code_page(
                    &mut sig.chrome(lang, &site, ""),
                    w.verified_title,
                    &[w.verified.to_string()],
                    None,
                ),
            ),
            Ok(false) => {
                let Some((csrf, set)) = form_token(&s, &headers) else {
                    return internal(lang);
                };
                let html = code_page(
                    &mut sig.chrome(lang, &site, ""),
                    w.sent_title,
                    &[w.sent[1].to_string()],
                    Some(&CodeForm {
                        action: format!("{}/verify?lang={}", base(&tenant), lang.code()),
                        csrf,
                        code_ref,
                        error: Some(w.code_wrong.into()),
                    }),
                );
                with_cookie(page(StatusCode::UNPROCESSABLE_ENTITY, html), set)
            }
            Err(e) => error_page(lang, &e),
        }
    }
    .await;
    sig.finish(res)
}

/// `GET /privacy/{t}/request/status/{token}`: where the request stands. A token that
/// does not open, or names no request, gets one "not found" page.
pub async fn status(
    State(s): State<AppState>,
    Path((t, token)): Path<(String, String)>,
    Query(q): Query<PortalQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(q.lang.as_deref(), &headers);
    let w = lang.portal();
    let (tenant, site) = match known(&s, lang, &t).await {
        Ok(k) => k,
        Err(res) => return res,
    };
    let sig = match Signal::honour(&s, &tenant, &headers, lang).await {
        Ok(sig) => sig,
        Err(res) => return res,
    };
    let st = match s.engine.portal_status(&tenant, &token).await {
        Ok(Some(st)) => st,
        Ok(None) => {
            let html = code_page(
                &mut sig.chrome(lang, &site, ""),
                w.status_not_found_title,
                &[w.status_not_found.to_string()],
                None,
            );
            return sig.finish(page(StatusCode::NOT_FOUND, html));
        }
        Err(e) => return error_page(lang, &e),
    };
    let (csrf, set) = match &st.code_ref {
        Some(_) => match form_token(&s, &headers) {
            Some((c, set)) => (c, set),
            None => return internal(lang),
        },
        None => (String::new(), None),
    };
    let code = st.code_ref.clone().map(|code_ref| CodeForm {
        action: format!("{}/verify?lang={}", base(&tenant), lang.code()),
        csrf,
        code_ref,
        error: None,
    });
    let model = StatusPage {
        facts: vec![
            (w.status_type.into(), lang.request_kind(st.kind).0.into()),
            (w.status_state.into(), lang.request_state(st.state).into()),
            (w.status_received.into(), lang.day_of(&st.received_at)),
            (w.status_due.into(), lang.day_of(&st.due)),
        ],
        paused: st.paused.then(|| w.status_paused.to_string()),
        notices: st
            .notices
            .iter()
            .map(|n| (n.subject.clone(), lang.day_of(&n.at)))
            .collect(),
        download: st.download.clone(),
        code_intro: code.as_ref().map(|_| w.status_code.to_string()),
        code,
        // A denial that can be appealed (VA-02, CO-03, CT-03) links to the appeal form.
        appeal: st
            .appeal
            .clone()
            .map(|href| (w.status_appeal.to_string(), href)),
    };
    let html = status_page(&mut sig.chrome(lang, &site, ""), &model);
    sig.finish(with_cookie(page(StatusCode::OK, html), set))
}
