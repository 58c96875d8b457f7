//! The console's other pages: the breach register (deadlines, notifications, drafts,
//! and mailing the notice to the affected people), retention runs, reports to view and
//! download, and the audit chain's status.

use super::{LangQuery, ctx, see_other};
use crate::extract::tenant;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vow_engine::EngineError;
use vow_engine::reports::{assessment, datamap};
use vow_render::console::{Cell, ConsolePage, Field, Link, Section, Table};

macro_rules! signed_in {
    ($s:expr, $headers:expr, $lang:expr) => {
        match ctx(&$s, &$headers, $lang).await {
            Ok(c) => c,
            Err(r) => return r,
        }
    };
}

macro_rules! tenant_or_404 {
    ($c:expr, $t:expr) => {
        match tenant(&$t) {
            Ok(t) => t,
            Err(_) => return $c.error(None, &EngineError::NotFound("tenant")),
        }
    };
}

fn table(head: &[&str], rows: Vec<Vec<Cell>>, empty: &str) -> Table {
    Table {
        caption: String::new(),
        head: head.iter().map(|h| (*h).to_string()).collect(),
        rows,
        empty: empty.into(),
    }
}

/// `GET /console/t/{t}/incidents`: the breach register.
pub async fn incidents(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let c = signed_in!(s, headers, q.lang.as_deref());
    let tid = tenant_or_404!(c, t);
    let list = match s.engine.incidents(&c.actor, &tid).await {
        Ok(l) => l,
        Err(e) => return c.error(Some(&t), &e),
    };
    let lang = c.lang;
    let rows = list
        .iter()
        .map(|i| {
            let due: Vec<String> = i
                .due
                .iter()
                .map(|(aud, d)| match &d.due {
                    Some(x) => format!("{aud}: {}", lang.moment_of(x)),
                    None => format!("{aud}: without undue delay"),
                })
                .collect();
            let overdue = i.deadlines.iter().any(|d| d.overdue);
            vec![
                Cell::text(lang.day_of(&i.discovered_at)),
                Cell::text(i.affected.to_string()),
                Cell::text(i.risk.clone()),
                Cell::flag(due.join("; "), overdue.then(|| "overdue".to_string())),
                Cell::link(
                    format!("Open {}", i.id),
                    format!("/console/t/{t}/incidents/{}", i.id),
                ),
            ]
        })
        .collect();
    c.page(
        StatusCode::OK,
        Some(&t),
        "incidents",
        ConsolePage {
            title: format!("Incidents · {t}"),
            sections: vec![Section {
                paras: vec!["Record an incident with the API or `vow breach assess`; its deadlines and drafts show here.".into()],
                table: Some(table(
                    &["Discovered", "People affected", "Risk", "Earliest due per audience", "Incident"],
                    rows,
                    "No incident is recorded.",
                )),
                ..Section::default()
            }],
            ..ConsolePage::default()
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct IncidentQuery {
    pub lang: Option<String>,
    pub sent: Option<i64>,
    pub erased: Option<i64>,
    pub no_email: Option<i64>,
    pub failed: Option<i64>,
    /// The notice's text was just saved.
    pub edited: Option<String>,
}

/// `GET /console/t/{t}/incidents/{i}`: deadlines (promise and law), notifications,
/// drafts per audience, and the button that mails the notice to individuals.
pub async fn incident(
    State(s): State<AppState>,
    Path((t, i)): Path<(String, String)>,
    Query(q): Query<IncidentQuery>,
    headers: HeaderMap,
) -> Response {
    let c = signed_in!(s, headers, q.lang.as_deref());
    let tid = tenant_or_404!(c, t);
    let (impact, view) = match (
        s.engine.incident_impact(&c.actor, &tid, &i).await,
        s.engine.incident(&c.actor, &tid, &i).await,
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return c.error(Some(&t), &e),
    };
    let lang = c.lang;
    let deadlines = impact
        .deadlines
        .iter()
        .map(|d| {
            vec![
                Cell::text(d.audience.clone()),
                Cell::text(format!("{} ({})", d.law, d.rule)),
                Cell::text(d.to.clone()),
                Cell::text(if d.required { "yes" } else { "no" }),
                Cell::flag(
                    d.due
                        .as_deref()
                        .map_or_else(|| d.timing.clone(), |x| lang.moment_of(x)),
                    d.overdue.then(|| "overdue".to_string()),
                ),
                Cell::text(format!("{:?}", d.status).to_lowercase()),
            ]
        })
        .collect();
    let notes = view
        .notifications
        .iter()
        .map(|n| {
            vec![
                Cell::text(n.audience.clone()),
                Cell::text(lang.moment_of(&n.at)),
                Cell::text(n.recorded_by.clone()),
                Cell::text(n.note.clone()),
            ]
        })
        .collect();
    let edited = q
        .edited
        .is_some()
        .then(|| "The notice's text is saved; it is what will be mailed.".to_string());
    let message = edited.or(q.sent.map(|sent| {
        format!(
            "Mailed {sent} people. Not mailed: {} erased, {} without an e-mail address; {} failed (sending again tries them).",
            q.erased.unwrap_or(0),
            q.no_email.unwrap_or(0),
            q.failed.unwrap_or(0)
        )
    }));
    let mut sections = vec![
        Section {
            links: vec![Link::new(
                "Back to the register",
                format!("/console/t/{t}/incidents"),
            )],
            paras: vec![
                view.description.clone(),
                format!(
                    "Discovered {}; {} people affected; risk {}.",
                    lang.moment_of(&view.discovered_at),
                    view.affected,
                    view.risk
                ),
            ],
            ..Section::default()
        },
        Section {
            heading: "Deadlines".into(),
            table: Some(table(
                &["Audience", "Law (rule)", "To", "Required", "Due", "Status"],
                deadlines,
                "No notice is owed.",
            )),
            ..Section::default()
        },
        Section {
            heading: "Notifications".into(),
            table: Some(table(
                &["Audience", "When", "Recorded by (key)", "Note"],
                notes,
                "Nobody has been told yet.",
            )),
            ..Section::default()
        },
    ];
    let individuals = impact
        .notices
        .iter()
        .any(|n| n.audience == "individuals" && n.tenant == t);
    let draft = impact
        .notices
        .iter()
        .find(|n| n.audience == "individuals" && n.tenant == t);
    if let Some(n) = draft {
        sections.push(Section {
            heading: "Edit the notice to individuals".into(),
            paras: vec![
                format!(
                    "The text keeps every heading the law requires ({}). It is mailed only once no placeholder like [\u{2026}] or {{\u{2026}}} is left.",
                    n.contents.join("; ")
                ),
                match (&n.edited_at, &n.edited_by) {
                    (Some(at), Some(by)) => format!("Last edited {} by key {by}.", lang.moment_of(at)),
                    _ => "This is the generated draft.".to_string(),
                },
            ],
            forms: vec![c.form(
                "draft",
                format!("/console/t/{t}/incidents/{i}/draft"),
                vec![
                    Field::Text {
                        name: "subject".into(),
                        label: "Subject".into(),
                        value: n.title.clone(),
                        required: true,
                    },
                    Field::Area {
                        name: "body".into(),
                        label: "Text".into(),
                        value: n.text.clone(),
                        required: true,
                    },
                ],
                "Save the notice's text",
            )],
            ..Section::default()
        });
    }
    if individuals {
        sections.push(Section {
            heading: "Tell the affected people".into(),
            paras: vec!["Mails the notice to individuals (below) to each affected person's e-mail address on file. Each person is mailed once, however often this is pressed; people erased since are not mailed.".into()],
            forms: vec![c.form(
                "send",
                format!("/console/t/{t}/incidents/{i}/send"),
                Vec::new(),
                "Mail the notice to the affected people",
            )],
            ..Section::default()
        });
    }
    for n in &impact.notices {
        sections.push(Section {
            heading: format!("Draft for {} ({}): {}", n.audience, n.tenant, n.title),
            paras: vec![format!("To: {}", n.to.join("; "))],
            pre: Some(n.text.clone()),
            ..Section::default()
        });
    }
    c.page(
        StatusCode::OK,
        Some(&t),
        "incidents",
        ConsolePage {
            title: format!("Incident {i}"),
            message,
            sections,
            ..ConsolePage::default()
        },
    )
}

/// `POST /console/t/{t}/incidents/{i}/draft`: save the team's text of the notice to
/// individuals (`Engine::edit_individual_notice`), then back to the incident.
pub async fn edit_notice(
    State(s): State<AppState>,
    Path((t, i)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = signed_in!(s, headers, q.lang.as_deref());
    if !crate::pages::form_ok(&s, &headers, &body) {
        return forbidden(c.lang);
    }
    let tid = tenant_or_404!(c, t);
    let mut f = super::fields(&body);
    let edit = vow_engine::obligations::breaches::DraftEdit {
        subject: f.remove("subject").unwrap_or_default(),
        // Browsers send a textarea's line breaks as CR LF.
        body: f.remove("body").unwrap_or_default().replace("\r\n", "\n"),
    };
    match s
        .engine
        .edit_individual_notice(&c.actor, &tid, &i, &edit)
        .await
    {
        Ok(_) => see_other(&format!("/console/t/{t}/incidents/{i}?edited=1")),
        Err(e) => c.error(Some(&t), &e),
    }
}

/// `POST /console/t/{t}/incidents/{i}/send`: mail the notice to the affected people.
pub async fn send_notices(
    State(s): State<AppState>,
    Path((t, i)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = signed_in!(s, headers, q.lang.as_deref());
    if !crate::pages::form_ok(&s, &headers, &body) {
        return forbidden(c.lang);
    }
    let tid = tenant_or_404!(c, t);
    match s.engine.mail_incident_individuals(&c.actor, &tid, &i).await {
        Ok(m) => see_other(&format!(
            "/console/t/{t}/incidents/{i}?sent={}&erased={}&no_email={}&failed={}",
            m.sent, m.erased, m.no_email, m.failed
        )),
        Err(e) => c.error(Some(&t), &e),
    }
}

fn forbidden(lang: vow_render::Lang) -> Response {
    crate::pages::message(
        StatusCode::FORBIDDEN,
        lang,
        vow_render::web::Message::Forbidden,
        None,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct RetentionQuery {
    pub lang: Option<String>,
    pub done: Option<String>,
}

/// `GET /console/t/{t}/retention`: the runs, and a form to run now (or a dry run).
pub async fn retention(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Query(q): Query<RetentionQuery>,
    headers: HeaderMap,
) -> Response {
    let c = signed_in!(s, headers, q.lang.as_deref());
    let tid = tenant_or_404!(c, t);
    let runs = match s.engine.retention_runs(&c.actor, &tid).await {
        Ok(r) => r,
        Err(e) => return c.error(Some(&t), &e),
    };
    let lang = c.lang;
    let rows = runs
        .iter()
        .map(|r| {
            vec![
                Cell::text(lang.moment_of(&r.started_at)),
                Cell::text(if r.dry_run { "dry run" } else { "run" }),
                Cell::text(r.policy_version.to_string()),
                Cell::text(r.fields_destroyed.to_string()),
                Cell::text(r.subjects_shredded.to_string()),
                Cell::text(r.held.to_string()),
            ]
        })
        .collect();
    let message = match q.done.as_deref() {
        Some("run") => Some("Retention ran.".to_string()),
        Some("dry") => Some("The dry run is recorded; nothing was destroyed.".to_string()),
        _ => None,
    };
    c.page(
        StatusCode::OK,
        Some(&t),
        "retention",
        ConsolePage {
            title: format!("Retention · {t}"),
            message,
            sections: vec![
                Section {
                    forms: vec![c.form(
                        "retention",
                        format!("/console/t/{t}/retention"),
                        vec![Field::Check {
                            name: "dry_run".into(),
                            label: "Dry run: count what is due, destroy nothing".into(),
                        }],
                        "Run retention now",
                    )],
                    ..Section::default()
                },
                Section {
                    heading: "Runs".into(),
                    table: Some(table(
                        &[
                            "Started",
                            "Kind",
                            "Policy version",
                            "Fields destroyed",
                            "People shredded",
                            "Held",
                        ],
                        rows,
                        "No run yet.",
                    )),
                    ..Section::default()
                },
            ],
            ..ConsolePage::default()
        },
    )
}

/// `POST /console/t/{t}/retention`: run now, or a dry run.
pub async fn retention_run(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = signed_in!(s, headers, q.lang.as_deref());
    if !crate::pages::form_ok(&s, &headers, &body) {
        return forbidden(c.lang);
    }
    let tid = tenant_or_404!(c, t);
    let dry = super::fields(&body).contains_key("dry_run");
    match s.engine.retention_run(&c.actor, &tid, dry).await {
        Ok(_) => see_other(&format!(
            "/console/t/{t}/retention?done={}",
            if dry { "dry" } else { "run" }
        )),
        Err(e) => c.error(Some(&t), &e),
    }
}

/// The calendar year now, for the yearly reports.
fn this_year(s: &AppState) -> i16 {
    s.engine.now().to_zoned(jiff::tz::TimeZone::UTC).year()
}

/// `GET /console/t/{t}/reports`: links to view and download each report.
pub async fn reports(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let c = signed_in!(s, headers, q.lang.as_deref());
    let _ = tenant_or_404!(c, t);
    let year = this_year(&s);
    let base = format!("/console/t/{t}/reports");
    let links = vec![
        Link::new("Data map (view)", format!("{base}/data-map?format=html")),
        Link::new(
            "Data map (download, Markdown)",
            format!("{base}/data-map?format=md"),
        ),
        Link::new(
            format!("Self-assessment {year} (view)"),
            format!("{base}/self-assessment?format=html&year={year}"),
        ),
        Link::new(
            format!("Self-assessment {year} (download, Markdown)"),
            format!("{base}/self-assessment?format=md&year={year}"),
        ),
        Link::new(
            format!("Request metrics {year} (download, JSON)"),
            format!("{base}/metrics?format=json&year={year}"),
        ),
    ];
    c.page(
        StatusCode::OK,
        Some(&t),
        "reports",
        ConsolePage {
            title: format!("Reports · {t}"),
            sections: vec![Section {
                links,
                ..Section::default()
            }],
            ..ConsolePage::default()
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    pub lang: Option<String>,
    pub format: Option<String>,
    pub year: Option<i16>,
}

fn download(kind: &'static str, name: String, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /console/t/{t}/reports/{name}?format=html|md|json`: a report to view or download.
pub async fn report(
    State(s): State<AppState>,
    Path((t, name)): Path<(String, String)>,
    Query(q): Query<ReportQuery>,
    headers: HeaderMap,
) -> Response {
    let c = signed_in!(s, headers, q.lang.as_deref());
    let tid = tenant_or_404!(c, t);
    let year = q.year.unwrap_or_else(|| this_year(&s));
    let format = q.format.as_deref().unwrap_or("html");
    let e = &s.engine;
    let out = match name.as_str() {
        "data-map" => e.data_map(&c.actor, &tid).await.map(|m| match format {
            "md" => download(
                "text/markdown; charset=utf-8",
                format!("data-map-{t}.md"),
                datamap::render_markdown(&m),
            ),
            "json" => download(
                "application/json",
                format!("data-map-{t}.json"),
                serde_json::to_string_pretty(&m).unwrap_or_default(),
            ),
            _ => crate::page::html(datamap::render_html(&m)),
        }),
        "self-assessment" => e
            .self_assessment(&c.actor, &tid, year)
            .await
            .map(|r| match format {
                "md" => download(
                    "text/markdown; charset=utf-8",
                    format!("self-assessment-{t}-{year}.md"),
                    assessment::render_markdown(&r),
                ),
                "json" => download(
                    "application/json",
                    format!("self-assessment-{t}-{year}.json"),
                    serde_json::to_string_pretty(&r).unwrap_or_default(),
                ),
                _ => crate::page::html(assessment::render_html(&r)),
            }),
        "metrics" => e.request_metrics(&c.actor, &tid, year).await.map(|m| {
            download(
                "application/json",
                format!("metrics-{t}-{year}.json"),
                serde_json::to_string_pretty(&m).unwrap_or_default(),
            )
        }),
        _ => Err(EngineError::NotFound("report")),
    };
    out.unwrap_or_else(|err| c.error(Some(&t), &err))
}

/// `GET /console/audit`: the audit chain's status (verified now: entries, head, its
/// signature).
pub async fn audit(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let c = signed_in!(s, headers, q.lang.as_deref());
    let tenant = c.tenants.first().cloned();
    let report = match s
        .engine
        .verify_audit(&c.actor, None, &vow_engine::Anchors::default(), |_| {})
        .await
    {
        Ok(r) => r,
        Err(e) => return c.error(tenant.as_deref(), &e),
    };
    let status = if report.ok {
        "The chains verify: every entry links to the one before, and each head's signature is good."
    } else {
        "The chains do NOT verify: see the problems below."
    };
    c.page(
        if report.ok {
            StatusCode::OK
        } else {
            StatusCode::CONFLICT
        },
        tenant.as_deref(),
        "audit",
        ConsolePage {
            title: "Audit chain".into(),
            message: Some(status.into()),
            error: !report.ok,
            sections: vec![Section {
                heading: "Verification".into(),
                paras: vec![
                    format!("Entries: {}.", report.entries),
                    match &report.tenant {
                        Some(t) => format!("Chain checked: tenant {t}'s alone."),
                        None => format!(
                            "Chains: {} (one per tenant, and the store's own).",
                            report.chains
                        ),
                    },
                    format!(
                        "Head: {}.",
                        report.head.clone().unwrap_or_else(|| "none".into())
                    ),
                ],
                pre: Some(serde_json::to_string_pretty(&report).unwrap_or_default()),
                ..Section::default()
            }],
            ..ConsolePage::default()
        },
    )
}
