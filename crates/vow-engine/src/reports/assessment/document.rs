//! The self-assessment as a document a privacy officer can read, file and sign:
//! built here as a [`Document`], rendered by vow-render's `document` templates to
//! Markdown and HTML.

use super::SelfAssessment;
use crate::vault::audit::HeadSignature;
use vow_render::Lang;
use vow_render::document::{Block, Document, Inline, Rich};

fn text(s: impl Into<String>) -> Rich {
    vec![Inline::Text(s.into())]
}

fn code(s: impl Into<String>) -> Inline {
    Inline::Code(s.into())
}

fn day(s: &str) -> String {
    Lang::En.day_of(s)
}

fn moment(s: &str) -> String {
    Lang::En.moment_of(s)
}

fn table(head: &[&str], rows: Vec<Vec<Rich>>) -> Block {
    Block::Table {
        caption: String::new(),
        head: head.iter().map(|h| (*h).to_string()).collect(),
        rows,
    }
}

fn h2(s: impl Into<String>) -> Block {
    Block::Heading(2, s.into())
}

fn dash_or<T: ToString>(v: Option<T>) -> String {
    v.map_or("—".into(), |x| x.to_string())
}

/// The report's document.
pub fn document(r: &SelfAssessment) -> Document {
    let title = format!("Self-assessment {} — {}", r.year, r.organisation);
    let mut b = vec![
        Block::Heading(1, title.clone()),
        Block::Para(vec![
            Inline::Text("Tenant ".into()),
            code(&r.tenant),
            Inline::Text(format!(
                ", {} to {} (UTC). Generated {}. Report hash ",
                day(&r.from),
                day(&r.to),
                moment(&r.generated_at)
            )),
            code(&r.hash),
            Inline::Text(".".into()),
        ]),
        h2("Findings"),
        Block::List(
            r.findings
                .iter()
                .map(|f| {
                    vec![
                        Inline::Strong(f.level.clone()),
                        Inline::Text(format!(" ({}): {}", f.promises.join(", "), f.text)),
                    ]
                })
                .collect(),
        ),
        h2("Policy versions in force"),
        table(
            &["version", "effective", "published"],
            r.policies
                .iter()
                .map(|p| {
                    vec![
                        text(p.version.to_string()),
                        text(day(&p.effective_date)),
                        text(moment(&p.published_at)),
                    ]
                })
                .collect(),
        ),
        h2(format!("Requests ({} received)", r.requests.received)),
        table(
            &[
                "type",
                "received",
                "answered",
                "on time",
                "share on time",
                "median days",
                "withdrawn",
                "open",
                "overdue",
            ],
            r.requests
                .per_type
                .iter()
                .map(|l| {
                    vec![
                        text(&l.kind),
                        text(l.received.to_string()),
                        text(l.answered.to_string()),
                        text(l.answered_on_time.to_string()),
                        text(dash_or(
                            l.on_time_share.map(|x| format!("{:.0}%", x * 100.0)),
                        )),
                        text(dash_or(l.median_days)),
                        text(l.withdrawn.to_string()),
                        text(l.open.to_string()),
                        text(l.overdue.to_string()),
                    ]
                })
                .collect(),
        ),
    ];
    if !r.requests.denials.is_empty() {
        let mut p = vec![Inline::Text("Denials by reason: ".into())];
        for (i, (c, n)) in r.requests.denials.iter().enumerate() {
            if i > 0 {
                p.push(Inline::Text(", ".into()));
            }
            p.push(code(c));
            p.push(Inline::Text(format!(" {n}")));
        }
        b.push(Block::Para(p));
    }
    b.push(h2("Consents"));
    b.push(table(
        &["purpose", "granted", "withdrawn"],
        r.consents
            .iter()
            .map(|c| {
                vec![
                    text(&c.purpose),
                    text(c.granted.to_string()),
                    text(c.withdrawn.to_string()),
                ]
            })
            .collect(),
    ));
    b.push(h2("Disclosures"));
    b.push(table(
        &["recipient", "purpose", "disclosures", "people", "refused"],
        r.disclosures
            .iter()
            .map(|d| {
                vec![
                    text(&d.recipient),
                    text(&d.purpose),
                    text(d.disclosures.to_string()),
                    text(d.subjects.to_string()),
                    text(d.refused.to_string()),
                ]
            })
            .collect(),
    ));
    let rt = &r.retention;
    b.push(h2("Retention"));
    b.push(Block::List(vec![
        text(format!(
            "Runs: {} ({} unfinished), last {}",
            rt.runs,
            rt.unfinished,
            rt.last_run.as_deref().map_or("never".into(), moment)
        )),
        text(format!(
            "Fields destroyed: {}; people's data destroyed whole: {}",
            rt.fields_destroyed, rt.subjects_shredded
        )),
        text(format!("Due fields kept under legal holds: {}", rt.held)),
    ]));
    b.push(h2("Incidents"));
    if r.incidents.is_empty() {
        b.push(Block::Para(text(
            "No incident was discovered during the year.",
        )));
    } else {
        let mut rows = Vec::new();
        for i in &r.incidents {
            for d in &i.duties {
                rows.push(vec![
                    text(&i.id),
                    text(moment(&i.discovered_at)),
                    text(&i.risk),
                    text(i.affected.to_string()),
                    text(format!("{} ({})", d.audience, d.rule)),
                    text(
                        d.due
                            .as_deref()
                            .map_or("without undue delay".into(), moment),
                    ),
                    text(if d.overdue {
                        "OVERDUE"
                    } else {
                        d.status.as_str()
                    }),
                    text(d.notified_at.as_deref().map_or("—".into(), moment)),
                    text(dash_or(d.hours_to_notify)),
                ]);
            }
        }
        b.push(table(
            &[
                "incident",
                "discovered",
                "risk",
                "affected",
                "notice",
                "due",
                "status",
                "notified",
                "hours",
            ],
            rows,
        ));
    }
    b.push(h2("Events for recipients"));
    b.push(table(
        &["event", "delivered", "pending", "dead"],
        r.deliveries
            .iter()
            .map(|d| {
                vec![
                    text(&d.event),
                    text(d.delivered.to_string()),
                    text(d.pending.to_string()),
                    text(d.dead.to_string()),
                ]
            })
            .collect(),
    ));
    if !r.connector_jobs.is_empty() {
        b.push(h2("The organisation's own databases"));
        b.push(table(
            &["work", "done", "failed", "pending"],
            r.connector_jobs
                .iter()
                .map(|c| {
                    vec![
                        text(&c.kind),
                        text(c.done.to_string()),
                        text(c.failed.to_string()),
                        text(c.pending.to_string()),
                    ]
                })
                .collect(),
        ));
    }
    b.push(h2("Security"));
    let mut chain = vec![Inline::Text(format!(
        "Audit chain: {} ({} entries",
        if r.audit.chain_ok {
            "verifies"
        } else {
            "BROKEN"
        },
        r.audit.chain_entries
    ))];
    if let Some(h) = &r.audit.head {
        chain.push(Inline::Text(", head ".into()));
        chain.push(code(h));
    }
    chain.push(Inline::Text(format!(
        "; head signature {})",
        match r.audit.head_signature {
            HeadSignature::Valid => "valid",
            HeadSignature::Invalid => "INVALID",
            HeadSignature::Missing => "MISSING",
        }
    )));
    let checkpoint = match &r.audit.checkpoint {
        Some(c) => vec![
            Inline::Text(format!(
                "Latest signed checkpoint: entry {}, {}, key ",
                c.seq,
                moment(&c.at)
            )),
            code(&c.key_id),
            Inline::Text(", hash ".into()),
            code(&c.hash),
        ],
        None => text("Latest signed checkpoint: none published yet"),
    };
    b.push(Block::List(vec![
        text(format!("Key rotations: {}", r.key_rotations)),
        text(format!(
            "Audit entries this year: {}",
            r.audit.entries_in_year
        )),
        chain,
        checkpoint,
    ]));
    b.push(h2("Sign-off"));
    if r.sign_offs.is_empty() {
        b.push(Block::Para(text(
            "Not signed. Signed by: ____________________ Role: ______________ Date: __________",
        )));
    } else {
        b.push(Block::List(
            r.sign_offs
                .iter()
                .map(|o| {
                    vec![
                        Inline::Text(format!("{} — recorded by ", o.role)),
                        code(&o.signed_by),
                        Inline::Text(format!(" at {} for hash ", moment(&o.at))),
                        code(&o.hash),
                        Inline::Text(
                            if o.current {
                                ""
                            } else {
                                " (the records have changed since: this sign-off is for an earlier state)"
                            }
                            .into(),
                        ),
                    ]
                })
                .collect(),
        ));
    }
    Document { title, blocks: b }
}

/// The report in Markdown.
pub fn render_markdown(r: &SelfAssessment) -> String {
    document(r).to_markdown()
}

/// The same report as a standalone HTML page.
pub fn render_html(r: &SelfAssessment) -> String {
    document(r).to_html()
}
