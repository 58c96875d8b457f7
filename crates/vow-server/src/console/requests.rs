//! The console's request queue (sorted by due date, flagged, filtered by GET
//! parameters) and a request's page: details, history, notices, the evidence opened on
//! demand, and the actions as forms.

use super::{Ctx, LangQuery, ctx, fields, see_other};
use crate::extract::tenant;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeSet;
use vow_core::{RequestState, RequestType};
use vow_engine::EngineError;
use vow_engine::requests::{DENIAL_CODES, DenialReason, RequestView, Step};
use vow_render::console::{Cell, Choice, ConsolePage, Field, Form, Link, Section, Table};

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    pub lang: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub state: Option<String>,
    pub jurisdiction: Option<String>,
    /// `overdue`, `due_soon` or `paused`.
    pub flag: Option<String>,
    /// Include closed requests.
    pub closed: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// The due date a request is worked to: its extension, else its response date.
fn due(r: &RequestView) -> &str {
    r.due.extended_to.as_deref().unwrap_or(&r.due.response)
}

fn day(lang: vow_render::Lang, ts: &str) -> String {
    lang.day_of(ts)
}

fn select(name: &str, label: &str, all: &str, values: &[String], chosen: Option<&str>) -> Field {
    let mut choices = vec![Choice {
        value: String::new(),
        label: all.into(),
        selected: chosen.is_none(),
    }];
    choices.extend(values.iter().map(|v| Choice {
        value: v.clone(),
        label: v.clone(),
        selected: chosen == Some(v.as_str()),
    }));
    Field::Select {
        name: name.into(),
        label: label.into(),
        choices,
    }
}

/// `GET /console/t/{t}/requests`: the queue.
pub async fn queue(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Query(q): Query<QueueQuery>,
    headers: HeaderMap,
) -> Response {
    let c = match ctx(&s, &headers, q.lang.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tid = match tenant(&t) {
        Ok(t) => t,
        Err(_) => return c.error(None, &EngineError::NotFound("tenant")),
    };
    let include_closed = given(&q.closed).is_some();
    let mut list = match s.engine.requests(&c.actor, &tid, include_closed).await {
        Ok(l) => l,
        Err(e) => return c.error(Some(&t), &e),
    };
    let jurisdictions: Vec<String> = list
        .iter()
        .flat_map(|r| r.rules.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    list.retain(|r| {
        given(&q.kind).is_none_or(|k| r.kind == k)
            && given(&q.state).is_none_or(|st| r.state == st)
            && given(&q.jurisdiction).is_none_or(|j| r.rules.iter().any(|x| x == j))
            && given(&q.flag).is_none_or(|f| r.flag.as_deref() == Some(f))
    });
    list.sort_by(|a, b| due(a).cmp(due(b)).then_with(|| a.id.cmp(&b.id)));
    let lang = c.lang;
    let rows = list
        .iter()
        .map(|r| {
            let flag = r.flag.clone();
            let flag_text = match flag.as_deref() {
                Some("overdue") => "Overdue",
                Some("due_soon") => "Due soon",
                Some("paused") => "Paused",
                _ => "",
            };
            vec![
                Cell::flag(day(lang, due(r)), flag.clone()),
                Cell::flag(flag_text, flag),
                Cell::text(r.kind.clone()),
                Cell::text(r.state.clone()),
                Cell::text(r.rules.join(", ")),
                Cell::text(day(lang, &r.received_at)),
                Cell::link(
                    format!("Open {}", r.id),
                    format!("/console/t/{t}/requests/{}", r.id),
                ),
            ]
        })
        .collect();
    let types: Vec<String> = RequestType::ALL
        .iter()
        .map(|x| x.as_str().to_string())
        .collect();
    let states: Vec<String> = RequestState::ALL
        .iter()
        .map(|x| x.as_str().to_string())
        .collect();
    let filter = Form {
        action: format!("/console/t/{t}/requests"),
        post: false,
        csrf: String::new(),
        fields: vec![
            select("type", "Type", "Every type", &types, given(&q.kind)),
            select(
                "state",
                "State",
                "Every open state",
                &states,
                given(&q.state),
            ),
            select(
                "jurisdiction",
                "Jurisdiction",
                "Every jurisdiction",
                &jurisdictions,
                given(&q.jurisdiction),
            ),
            Field::Check {
                name: "closed".into(),
                label: "Include closed requests".into(),
            },
        ],
        button: "Filter".into(),
        id: "filter".into(),
    };
    let base = format!("/console/t/{t}/requests");
    let links = vec![
        Link::new("All open requests", base.clone()),
        Link::new("Overdue", format!("{base}?flag=overdue")),
        Link::new("Due soon", format!("{base}?flag=due_soon")),
        Link::new("Paused", format!("{base}?flag=paused")),
    ];
    c.page(
        StatusCode::OK,
        Some(&t),
        "requests",
        ConsolePage {
            title: format!("Requests · {t}"),
            sections: vec![
                Section {
                    links,
                    forms: vec![filter],
                    ..Section::default()
                },
                Section {
                    table: Some(Table {
                        caption: format!("{} requests, the earliest due first", list.len()),
                        head: [
                            "Due",
                            "Flag",
                            "Type",
                            "State",
                            "Jurisdiction",
                            "Received",
                            "Request",
                        ]
                        .map(String::from)
                        .to_vec(),
                        rows,
                        empty: "No request matches.".into(),
                    }),
                    ..Section::default()
                },
            ],
            ..ConsolePage::default()
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct RequestQuery {
    pub lang: Option<String>,
    /// The action just done (a message).
    pub done: Option<String>,
}

/// `GET /console/t/{t}/requests/{r}`.
pub async fn request(
    State(s): State<AppState>,
    Path((t, r)): Path<(String, String)>,
    Query(q): Query<RequestQuery>,
    headers: HeaderMap,
) -> Response {
    let c = match ctx(&s, &headers, q.lang.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let message = q.done.as_deref().and_then(done_words).map(str::to_string);
    show(&s, &c, &t, &r, StatusCode::OK, message, false, None).await
}

fn done_words(action: &str) -> Option<&'static str> {
    Some(match action {
        "verify" => "Verification recorded.",
        "pause" => "The request is paused.",
        "resume" => "The request is resumed.",
        "extend" => "The deadline is extended.",
        "fulfil" => "The request is fulfilled.",
        "deny" => "The request is denied.",
        "review-accept" => "The document is accepted.",
        "review-reject" => "The document is rejected and the request denied.",
        super::connector_jobs::RETRY => "The failed jobs are put back to run.",
        _ => return None,
    })
}

/// A request's page, with a message (or an error) and, once opened, its evidence.
#[allow(clippy::too_many_arguments)]
async fn show(
    s: &AppState,
    c: &Ctx,
    t: &str,
    r: &str,
    status: StatusCode,
    message: Option<String>,
    error: bool,
    evidence: Option<String>,
) -> Response {
    let Ok(tid) = tenant(t) else {
        return c.error(None, &EngineError::NotFound("tenant"));
    };
    let v = match s.engine.request(&c.actor, &tid, r).await {
        Ok(v) => v,
        Err(e) => return c.error(Some(t), &e),
    };
    let lang = c.lang;
    let moment = |x: &str| lang.moment_of(x);
    let mut facts = vec![
        ("Type", v.kind.clone()),
        ("State", v.state.clone()),
        ("Channel", v.channel.clone()),
        ("Requester", v.requester.clone()),
        ("Received", moment(&v.received_at)),
        ("Response due", moment(&v.due.response)),
        ("Rules", v.rules.join(", ")),
        ("Deadline set by", v.due.binding.clone()),
    ];
    if let Some(x) = &v.due.extended_to {
        facts.push(("Extended to", moment(x)));
    }
    if let Some(x) = &v.due.paused_since {
        facts.push(("Paused since", moment(x)));
    }
    if let Some(f) = &v.flag {
        facts.push(("Flag", f.clone()));
    }
    if let Some(o) = &v.outcome {
        facts.push(("Outcome", o.to_string()));
    }
    let mut rows: Vec<Vec<Cell>> = facts
        .into_iter()
        .map(|(k, x)| vec![Cell::text(k), Cell::text(x)])
        .collect();
    // An appeal is a request of its own, decided with the same actions: fulfil grants
    // it, deny upholds the decision appealed.
    for (label, other) in [("Appeal of", &v.appeal_of), ("Appealed by", &v.appealed_by)] {
        if let Some(o) = other {
            rows.push(vec![
                Cell::text(label),
                Cell::link(o.clone(), format!("/console/t/{t}/requests/{o}")),
            ]);
        }
    }
    let details = Table {
        caption: String::new(),
        head: vec!["Fact".into(), "Value".into()],
        rows,
        empty: String::new(),
    };
    let history = Table {
        caption: String::new(),
        head: ["When", "Who (key)", "Event", "From", "To"]
            .map(String::from)
            .to_vec(),
        rows: v
            .events
            .iter()
            .map(|e| {
                vec![
                    Cell::text(moment(&e.at)),
                    Cell::text(e.actor.clone()),
                    Cell::text(e.event.clone()),
                    Cell::text(e.from.clone().unwrap_or_default()),
                    Cell::text(e.to.clone().unwrap_or_default()),
                ]
            })
            .collect(),
        empty: "No events.".into(),
    };
    let mut notices: Vec<Section> = v
        .notices
        .iter()
        .map(|n| Section {
            heading: String::new(),
            paras: vec![format!(
                "{} — made {}, {}",
                n.kind,
                moment(&n.created_at),
                n.sent_at
                    .as_deref()
                    .map_or("not mailed".to_string(), |x| format!(
                        "mailed {}",
                        moment(x)
                    ))
            )],
            pre: n.text.clone(),
            ..Section::default()
        })
        .collect();
    if let Some(first) = notices.first_mut() {
        first.heading = "Notices".into();
    } else {
        notices.push(Section {
            heading: "Notices".into(),
            paras: vec!["No notices.".into()],
            ..Section::default()
        });
    }
    let base = format!("/console/t/{t}/requests/{r}");
    let text = |name: &str, label: &str, required: bool| Field::Text {
        name: name.into(),
        label: label.into(),
        value: String::new(),
        required,
    };
    let check = |name: &str, label: &str| Field::Check {
        name: name.into(),
        label: label.into(),
    };
    let reasons = Field::Select {
        name: "code".into(),
        label: "Reason".into(),
        choices: DENIAL_CODES
            .iter()
            .map(|x| Choice {
                value: (*x).into(),
                label: x.replace('_', " "),
                selected: false,
            })
            .collect(),
    };
    let actions = vec![
        c.form(
            "verify",
            format!("{base}/verify"),
            vec![
                check("authenticated", "The person is signed in to their account"),
                check("declaration", "A signed declaration was received"),
                check(
                    "subject_confirmed",
                    "The person confirmed the agent acts for them",
                ),
                text("code", "One-time code (if the person gave one)", false),
            ],
            "Verify",
        ),
        c.form(
            "pause",
            format!("{base}/pause"),
            vec![text("reason", "Why", false)],
            "Pause",
        ),
        c.form("resume", format!("{base}/resume"), Vec::new(), "Resume"),
        c.form(
            "extend",
            format!("{base}/extend"),
            vec![text("reason", "Reason for the extension", true)],
            "Extend",
        ),
        c.form("fulfil", format!("{base}/fulfil"), Vec::new(), "Fulfil"),
        c.form(
            "deny",
            format!("{base}/deny"),
            vec![reasons, text("detail", "Details for the notice", false)],
            "Deny",
        ),
    ];
    let evidence_section = Section {
        heading: "Evidence".into(),
        paras: vec![if evidence.is_some() {
            "Opened for you now; this opening is in the audit log under your key.".into()
        } else {
            "What the requester gave (identifiers, declarations, an agent's or a parent's authority) stays sealed until you open it. Each opening is audited under your key.".into()
        }],
        pre: evidence.clone(),
        forms: if evidence.is_none() {
            vec![c.form(
                "evidence",
                format!("{base}/evidence"),
                Vec::new(),
                "Open the evidence",
            )]
        } else {
            Vec::new()
        },
        ..Section::default()
    };
    let mut sections = vec![
        Section {
            links: vec![Link::new(
                "Back to the queue",
                format!("/console/t/{t}/requests"),
            )],
            table: Some(details),
            ..Section::default()
        },
        Section {
            heading: "Actions".into(),
            forms: actions,
            ..Section::default()
        },
        evidence_section,
    ];
    match super::documents::section(s, c, &tid, r).await {
        Ok(Some(docs)) => sections.insert(2, docs),
        Ok(None) => {}
        Err(e) => return c.error(Some(t), &e),
    }
    match super::connector_jobs::section(s, c, &tid, r).await {
        Ok(Some(jobs)) => sections.push(jobs),
        Ok(None) => {}
        Err(e) => return c.error(Some(t), &e),
    }
    sections.extend([Section {
        heading: "History".into(),
        table: Some(history),
        ..Section::default()
    }]);
    sections.extend(notices);
    c.page(
        status,
        Some(t),
        "requests",
        ConsolePage {
            title: format!("Request {r}"),
            message,
            error,
            sections,
            ..ConsolePage::default()
        },
    )
}

fn checked(f: &std::collections::HashMap<String, String>, name: &str) -> bool {
    f.get(name).is_some_and(|v| v == "1" || v == "on")
}

fn text(f: &std::collections::HashMap<String, String>, name: &str) -> Option<String> {
    f.get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// `POST /console/t/{t}/requests/{r}/{action}`: one action, through the same engine
/// method as the API, under the operator's key; then back to the request's page.
pub async fn action(
    State(s): State<AppState>,
    Path((t, r, action)): Path<(String, String, String)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = match ctx(&s, &headers, q.lang.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !crate::pages::form_ok(&s, &headers, &body) {
        return crate::pages::message(
            StatusCode::FORBIDDEN,
            c.lang,
            vow_render::web::Message::Forbidden,
            None,
        );
    }
    let Ok(tid) = tenant(&t) else {
        return c.error(None, &EngineError::NotFound("tenant"));
    };
    let f = fields(&body);
    let e = &s.engine;
    let a = &c.actor;
    let done = match action.as_str() {
        "evidence" => {
            return match e.request_evidence(a, &tid, &r).await {
                Ok(v) => {
                    let pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
                    show(&s, &c, &t, &r, StatusCode::OK, None, false, Some(pretty)).await
                }
                Err(err) => failed(&s, &c, &t, &r, &err).await,
            };
        }
        "verify" => {
            let step = Step {
                authenticated: checked(&f, "authenticated"),
                declaration: checked(&f, "declaration"),
                subject_confirmed: checked(&f, "subject_confirmed"),
                code: text(&f, "code"),
                ..Step::default()
            };
            e.verify_request(a, &tid, &r, &step).await
        }
        "pause" => {
            let step = Step {
                reason: text(&f, "reason"),
                ..Step::default()
            };
            e.pause_request(a, &tid, &r, &step).await
        }
        "resume" => e.resume_request(a, &tid, &r).await,
        "extend" => {
            let step = Step {
                reason: text(&f, "reason"),
                ..Step::default()
            };
            e.extend_request(a, &tid, &r, &step).await
        }
        "fulfil" => e.fulfil_request(a, &tid, &r).await,
        super::connector_jobs::RETRY => {
            // The same engine call as `POST …/connector-jobs/retry`.
            if let Err(err) = e.retry_connector_jobs(a, &tid, &r).await {
                return failed(&s, &c, &t, &r, &err).await;
            }
            return see_other(&format!("/console/t/{t}/requests/{r}?done={action}"));
        }
        "review-accept" | "review-reject" => {
            let accept = action == "review-accept";
            super::documents::review(&s, &c, &tid, &r, &f, accept).await
        }
        "deny" => {
            let step = Step {
                reasons: vec![DenialReason {
                    code: text(&f, "code").unwrap_or_default(),
                    detail: text(&f, "detail"),
                }],
                ..Step::default()
            };
            e.deny_request(a, &tid, &r, &step).await
        }
        _ => return c.error(Some(&t), &EngineError::NotFound("action")),
    };
    match done {
        Ok(_) => see_other(&format!("/console/t/{t}/requests/{r}?done={action}")),
        Err(err) => failed(&s, &c, &t, &r, &err).await,
    }
}

/// The request's page again, saying why the action was refused.
async fn failed(s: &AppState, c: &Ctx, t: &str, r: &str, err: &EngineError) -> Response {
    let (status, words) = super::refusal(err);
    show(s, c, t, r, status, Some(words), true, None).await
}
