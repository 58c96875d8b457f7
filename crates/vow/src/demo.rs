//! `vow demo`: everything built so far, on the two example profiles, narrated.

use crate::common::{Init, open_engine, outln};
use crate::common::{purpose_id, tenant_id};
use crate::config::Config;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vow_core::Pii;
use vow_core::{RequestState, Role, TenantId};
use vow_engine::input::{NewConsent, NewField, NewSubject, SubjectPatch};
use vow_engine::{Actor, Engine, EngineError, ImportOptions, LookupKind};

#[derive(Deserialize)]
struct Manifest {
    tenants: Vec<TenantEntry>,
}

#[derive(Deserialize)]
struct TenantEntry {
    id: TenantId,
    name: String,
    role: String,
    controller: Option<ControllerEntry>,
    policy: PathBuf,
    subjects: PathBuf,
}

#[derive(Deserialize)]
struct ControllerEntry {
    name: String,
    contact: String,
}

const MARKER: &str = ".vow-demo";

fn step(title: &str) {
    outln!("\n== {title}");
}

fn say(line: impl AsRef<str>) {
    outln!("   {}", line.as_ref());
}

/// Start from an empty directory each time; refuse to wipe anything the demo did not make.
fn fresh_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        if !dir.join(MARKER).exists() {
            bail!(
                "{} exists and was not made by `vow demo`; give another --data directory",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("removing the previous demo in {}", dir.display()))?;
    }
    vow_crypto::files::create_private_dir_all(dir)?;
    vow_crypto::files::write_private_file(
        dir.join(MARKER),
        "made by vow demo; removed by the next run\n",
    )?;
    Ok(())
}

/// Where the demo's shop database goes: `<data>-shop`, beside the data directory
/// (made afresh each run, like it).
pub fn shop_dir(data: &Path) -> Result<PathBuf> {
    let data = std::path::absolute(data)?;
    let name = data
        .file_name()
        .map_or_else(|| "vow-demo".into(), |n| n.to_string_lossy().into_owned());
    Ok(data.with_file_name(format!("{name}-shop")))
}

fn emails(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["identifiers"]["email"].as_str().map(str::to_string))
        .collect())
}

async fn load_profile(
    engine: &Engine,
    admin: &Actor,
    dir: &Path,
) -> Result<Vec<(TenantId, PathBuf)>> {
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(dir.join("tenants.json"))
            .with_context(|| format!("reading {}/tenants.json", dir.display()))?,
    )?;
    let mut loaded = Vec::new();
    for t in manifest.tenants {
        let controller = t
            .controller
            .as_ref()
            .map(|c| (c.name.as_str(), c.contact.as_str()));
        engine
            .create_tenant(admin, t.id.as_str(), &t.name, &t.role, controller)
            .await?;
        let policy_path = dir.join(&t.policy);
        let source = std::fs::read_to_string(&policy_path)?;
        let published = engine
            .publish_policy(admin, &t.id, &source, &policy_path.display().to_string())
            .await
            .inspect_err(crate::common::report_policy_error)?;
        say(format!(
            "tenant {} ({}, {}): policy v{} effective {}, {} warning(s) where the promise is weaker than the law",
            t.id,
            t.name,
            t.role,
            published.version,
            published.effective_date,
            published.warnings.len()
        ));
        let subjects = dir.join(&t.subjects);
        let text = std::fs::read_to_string(&subjects)?;
        let rows: Vec<_> = vow_engine::vault::import::parse_jsonl(&text).collect();
        let report = engine
            .import(admin, &t.id, rows, ImportOptions::default(), |_| {})
            .await?;
        if !report.committed {
            for b in &report.bad {
                say(format!("  {}:{}: {}", subjects.display(), b.line, b.error));
            }
            bail!("the example data of {} did not import", t.id);
        }
        say(format!(
            "  imported {} people from {}",
            report.imported,
            subjects.display()
        ));
        loaded.push((t.id, subjects));
    }
    Ok(loaded)
}

async fn key(
    engine: &Engine,
    admin: &Actor,
    tenant: &TenantId,
    role: Role,
    purposes: Option<Vec<String>>,
) -> Result<Actor> {
    let k = engine
        .create_api_key(admin, Some(tenant), role, purposes, Some("demo"))
        .await?;
    Ok(engine.authenticate(&k.key).await?)
}

fn show_refusal(e: &EngineError) {
    match e {
        EngineError::Refused(d) => {
            for r in &d.reasons {
                say(format!("  refused: {} — {}", r.code.as_str(), r.detail));
            }
        }
        other => say(format!("  refused: {} ({})", other, other.code())),
    }
}

/// Run the demo on `examples`, or on the profiles built into vow when None.
pub async fn run(cfg: Config, examples: Option<&Path>) -> Result<()> {
    if let Some(dir) = examples
        && !dir.join("research-operator/tenants.json").exists()
    {
        bail!(
            "no examples at {}: --examples names a directory laid out like the repository's examples/",
            dir.display()
        );
    }
    fresh_dir(&cfg.data)?;
    let built_in = cfg.data.join("examples");
    let examples = match examples {
        Some(dir) => dir,
        None => crate::examples::write_to(&built_in)
            .with_context(|| format!("writing the built-in examples to {}", built_in.display()))?,
    };
    outln!(
        "Vow demo — data in {} ({})",
        cfg.data.display(),
        crate::config::redact_url(&cfg.database_url)
    );
    outln!(
        "Ids in brackets, (R4) or (S2), name the promise a step keeps: docs/promises.md explains each."
    );
    let (engine, _) = open_engine(&cfg, Init::MayCreate).await?;
    let result = narrate(&engine, &cfg, examples).await;
    engine.shutdown().await;
    result
}

async fn narrate(engine: &Arc<Engine>, cfg: &Config, examples: &Path) -> Result<()> {
    let admin = Actor::local("demo");

    step("1. Tenants, policies and people (policy as code; everything sealed per person)");
    let research = load_profile(engine, &admin, &examples.join("research-operator")).await?;
    let platform = load_profile(engine, &admin, &examples.join("marketing-platform")).await?;
    let research_emails = emails(&research[0].1)?;

    step("2. Bad input loses nothing: an import with broken rows is refused whole");
    let bad = examples.join("research-operator/bad-rows.jsonl");
    if let Ok(text) = std::fs::read_to_string(&bad) {
        let rows: Vec<_> = vow_engine::vault::import::parse_jsonl(&text).collect();
        let r = engine
            .import(
                &admin,
                &tenant_id("prairie-research")?,
                rows,
                ImportOptions::default(),
                |_| {},
            )
            .await?;
        for b in &r.bad {
            say(format!("{}:{}: {}", bad.display(), b.line, b.error));
        }
        say(format!(
            "committed: {} — {} rows imported",
            r.committed, r.imported
        ));
    }

    step("3. Purpose-bound reads (R4, R8): an app key may read only for its purposes");
    let t = &TenantId::new("prairie-research")?;
    let app = key(engine, &admin, t, Role::App, Some(vec!["research".into()])).await?;
    let operator = key(engine, &admin, t, Role::Operator, None).await?;
    let mut reader = None;
    for email in research_emails.iter().take(100) {
        let Some(id) = engine
            .lookup(&operator, t, LookupKind::Email, email)
            .await?
        else {
            continue;
        };
        let d = engine
            .decide(
                &app,
                t,
                &id,
                &purpose_id("research")?,
                &["user.name".into(), "user.demographic".into()],
            )
            .await?;
        if d.allowed {
            reader = Some(id);
            break;
        }
    }
    let Some(subject) = reader else {
        bail!("no subject with research consent in the example data")
    };
    let fields = engine
        .read(
            &app,
            t,
            &subject,
            &purpose_id("research")?,
            &["user.name".into(), "user.demographic".into()],
        )
        .await?;
    say(format!(
        "app key (purpose research) reads subject {subject}:"
    ));
    for f in &fields {
        say(format!(
            "  {} = {}   (collected for {:?})",
            f.category, f.value, f.purposes
        ));
    }
    say("the same key asks for the forbidden purpose `sale` (R24):");
    if let Err(e) = engine
        .read(
            &app,
            t,
            &subject,
            &purpose_id("sale")?,
            &["user.contact.email".into()],
        )
        .await
    {
        show_refusal(&e);
    }
    say("and for a category the purpose may not use:");
    if let Err(e) = engine
        .read(
            &app,
            t,
            &subject,
            &purpose_id("research")?,
            &["user.financial.bank_account".into()],
        )
        .await
    {
        show_refusal(&e);
    }

    step("4. Implied consent lapses by rule (R2)");
    let mut shown = false;
    for email in &research_emails {
        let Some(id) = engine
            .lookup(&operator, t, LookupKind::Email, email)
            .await?
        else {
            continue;
        };
        let d = engine
            .decide(
                &operator,
                t,
                &id,
                &purpose_id("marketing.email")?,
                &["user.contact.email".into()],
            )
            .await?;
        if d.has(vow_core::ReasonCode::ConsentExpired) {
            let c = engine.consents(&operator, t, &id).await?;
            if let Some(state) = c.current.get("marketing.email") {
                say(format!("subject {id}: marketing.email is {state}"));
            }
            for r in &d.reasons {
                say(format!("  refused: {} — {}", r.code.as_str(), r.detail));
            }
            shown = true;
            break;
        }
    }
    if !shown {
        say("(no lapsed implied consent in the sample)");
    }

    step("5. Withdrawal takes effect on the next read (R3)");
    engine
        .record_consent(
            &operator,
            t,
            &subject,
            &NewConsent {
                purpose: "research".into(),
                action: Some("withdraw".into()),
                kind: Some("express".into()),
                evidence: Some(Pii::new(
                    json!({"channel": "web", "shown": "preference centre"}),
                )),
                at: None,
                expires_at: None,
                parent: None,
            },
        )
        .await?;
    say(format!(
        "subject {subject} withdrew consent to research; the app reads again:"
    ));
    if let Err(e) = engine
        .read(
            &app,
            t,
            &subject,
            &purpose_id("research")?,
            &["user.name".into()],
        )
        .await
    {
        show_refusal(&e);
    }
    let history = engine.consents(&operator, t, &subject).await?;
    say(format!(
        "the ledger keeps all {} events; research is now {}",
        history.history.len(),
        history
            .current
            .get("research")
            .map(|v| v["state"].to_string())
            .unwrap_or_default()
    ));

    step("6. Children (R17): collection without a parent's consent is refused");
    let child = NewSubject {
        identifiers: vow_engine::input::Identifiers {
            email: Some(Pii::new("young.demo@example.org".into())),
            ..Default::default()
        },
        birth_date: Some(Pii::new("2014-03-01".into())),
        fields: vec![NewField {
            category: "user.name".into(),
            value: Pii::new(json!("Demo Child")),
            purposes: vec!["research".into()],
            source: Some("signup-form".into()),
            store: Some("primary".into()),
            collected_at: None,
            corrects: None,
        }],
        consents: vec![NewConsent {
            purpose: "research".into(),
            action: None,
            kind: Some("express".into()),
            evidence: Some(Pii::new(json!({"channel": "web"}))),
            at: None,
            expires_at: None,
            parent: None,
        }],
        ..Default::default()
    };
    if let Err(e) = engine.create_subject(&operator, t, &child).await {
        show_refusal(&e);
    }

    step("7. Corrections keep the previous version (R7)");
    let ids = engine
        .update_subject(
            &operator,
            t,
            &subject,
            &SubjectPatch {
                fields: vec![NewField {
                    category: "user.contact.address.postal_code".into(),
                    value: Pii::new(json!("S7N 5A9")),
                    purposes: vec![],
                    source: Some("phone-call".into()),
                    store: None,
                    collected_at: None,
                    corrects: None,
                }],
                residence: None,
            },
        )
        .await?;
    // A read of values names what it serves: here the purpose of keeping the panel's
    // details up to date, which the decision function allows for the postal code.
    let ground = vow_engine::ReadGround::Purpose {
        purpose: purpose_id("panel_management")?,
        categories: vec!["user.contact.address.postal_code".into()],
    };
    let versions = engine
        .field_history(&operator, t, &subject, &ground)
        .await?;
    let postal: Vec<_> = versions
        .iter()
        .filter(|(f, _)| f.category == "user.contact.address.postal_code")
        .collect();
    say(format!(
        "corrected the postal code (new field version {}); its history:",
        ids.join(",")
    ));
    for (f, superseded) in postal {
        say(format!(
            "  v{} {} (superseded: {})",
            f.version,
            f.value,
            superseded.as_deref().unwrap_or("no, current")
        ));
    }

    step("8. Tenant isolation (S1, S2): one client's key cannot reach another client's people");
    let northwind = key(
        engine,
        &admin,
        &tenant_id("northwind-outfitters")?,
        Role::Operator,
        None,
    )
    .await?;
    let shared = shared_email(&platform)?;
    if let Some(email) = shared {
        let own = engine
            .lookup(
                &northwind,
                &tenant_id("northwind-outfitters")?,
                LookupKind::Email,
                &email,
            )
            .await?;
        say(format!(
            "northwind key looks up a customer in its own tenant: {}",
            if own.is_some() { "found" } else { "not found" }
        ));
        match engine
            .lookup(
                &northwind,
                &tenant_id("bluebird-bakery")?,
                LookupKind::Email,
                &email,
            )
            .await
        {
            Err(e) => say(format!(
                "the same key asks bluebird-bakery for the same e-mail: {} ({})",
                e,
                e.code()
            )),
            Ok(_) => bail!("tenant isolation failed"),
        }
    }

    step("9. Key rotation re-wraps subject keys; ciphertexts are untouched");
    let r = engine.rotate_keys(&admin, t, |_| {}).await?;
    say(format!(
        "{}: KEK v{} -> v{}, {} subject keys re-wrapped",
        r.tenant, r.from_version, r.to_version, r.rewrapped
    ));
    let again = engine
        .read(
            &operator,
            t,
            &subject,
            &purpose_id("incentive_payment")?,
            &["user.name".into()],
        )
        .await;
    say(format!(
        "reads after rotation: {}",
        if again.is_ok() { "ok" } else { "refused" }
    ));

    step("10. Data-subject requests (R11-R23, S3, S6, S11): every type, from intake to its end");
    requests_demo(engine, &admin, &research[0].1, &platform).await?;
    let mails = std::fs::read_dir(cfg.data.join("mail"))
        .map(|d| d.count())
        .unwrap_or(0);
    say(format!(
        "{mails} notice(s) written as .eml files to {}",
        cfg.data.join("mail").display()
    ));

    step("10b. Retention (R6) and the data map (R9): a dry run, then the run itself");
    crate::retention::demo(
        engine,
        &admin,
        &research,
        &platform,
        &research_emails,
        &cfg.data,
    )
    .await?;

    step(
        "10c. Webhooks (R12, R14): corrections and erasures reach the recipients that had the data, signed",
    );
    crate::webhooks::demo(
        engine,
        &admin,
        &tenant_id("prairie-research")?,
        &research_emails,
    )
    .await?;

    step("10d. A new policy version (S5) and de-identified counts (R10, S9)");
    crate::changes::demo(engine, &admin, &cfg.data).await?;
    crate::breach::demo(engine, &admin, examples, &cfg.data).await?;

    step(
        "10f. The shop's own database (R11, R14): requests reach it through connectors, batched and resumable",
    );
    // Outside the data directory: no SQLite connection may open a file in it.
    let shop = shop_dir(&cfg.data)?;
    fresh_dir(&shop)?;
    crate::connection::demo(engine, &admin, examples, &shop).await?;

    step("11. The audit chain: every change and every read, hash-chained");
    let v = engine
        .verify_audit(&admin, None, &Default::default(), |_| {})
        .await?;
    say(format!(
        "audit chains intact: {} — {} entries verified in {} chains (one per tenant, and the store's)",
        v.ok, v.entries, v.chains
    ));

    step("12. The privacy notice, rendered from the policy");
    let notices = cfg.data.join("notices");
    vow_crypto::files::create_private_dir_all(&notices)?;
    for (tenant, _) in research.iter().chain(platform.iter()) {
        let (_, _, policy) = engine.current_policy(&admin, tenant).await?;
        vow_crypto::files::write_private_file(
            notices.join(format!("{tenant}.md")),
            vow_policy::render_markdown(&policy, None),
        )?;
        vow_crypto::files::write_private_file(
            notices.join(format!("{tenant}.html")),
            vow_policy::render_html(&policy, None),
        )?;
    }
    say(format!(
        "notices (Markdown and HTML, with the California tables) in {}",
        notices.display()
    ));

    step("13. The annual self-assessment (S13), from Vow's own records, signed");
    let reports = cfg.data.join("reports");
    vow_crypto::files::create_private_dir_all(&reports)?;
    let year = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year();
    for (tenant, _) in research.iter().chain(platform.iter()) {
        let report = engine.self_assessment(&admin, tenant, year).await?;
        let signed = engine
            .sign_self_assessment(
                &admin,
                tenant,
                &vow_engine::reports::assessment::NewSignOff {
                    year,
                    role: "Privacy Officer".into(),
                    hash: report.hash.clone(),
                },
            )
            .await?;
        vow_crypto::files::write_private_file(
            reports.join(format!("self-assessment-{tenant}-{year}.md")),
            vow_engine::reports::assessment::render_markdown(&signed),
        )?;
        let on_time: usize = signed
            .requests
            .per_type
            .iter()
            .map(|l| l.answered_on_time)
            .sum();
        let answered: usize = signed.requests.per_type.iter().map(|l| l.answered).sum();
        say(format!(
            "{tenant}: {} requests, {on_time} of {answered} answered on time; chain verifies: {}; signed as Privacy Officer ({}…)",
            signed.requests.received,
            signed.audit.chain_ok,
            &signed.hash[..12]
        ));
    }
    say(format!("reports in {}", reports.display()));
    outln!(
        "\nDone. Data directory: {} (SQLite database, root key file). Try: vow audit verify --data {}",
        cfg.data.display(),
        cfg.data.display()
    );
    Ok(())
}

/// An e-mail present in both client tenants (the examples include a few).
fn shared_email(platform: &[(TenantId, PathBuf)]) -> Result<Option<String>> {
    let find = |id: &str| {
        platform
            .iter()
            .find(|(t, _)| t == id)
            .map(|(_, p)| p.clone())
    };
    let (Some(a), Some(b)) = (find("northwind-outfitters"), find("bluebird-bakery")) else {
        return Ok(None);
    };
    let b: std::collections::HashSet<String> = emails(&b)?.into_iter().collect();
    Ok(emails(&a)?.into_iter().find(|e| b.contains(e)))
}

/// The identifiers of a sample row: (email, phone).
fn people(path: &Path) -> Result<Vec<(String, Option<String>)>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["birth_date"].as_str().is_none_or(|b| b < "2005"))
        .filter_map(|v| {
            let email = v["identifiers"]["email"].as_str()?.to_string();
            Some((
                email,
                v["identifiers"]["phone"].as_str().map(str::to_string),
            ))
        })
        .collect())
}

fn show_request(r: &vow_engine::RequestView) {
    let outcome = r
        .outcome
        .as_ref()
        .and_then(|o| {
            o["words"]
                .as_str()
                .or(o["done"].as_str())
                .map(str::to_string)
        })
        .or_else(|| r.outcome.as_ref().map(|o| o.to_string()))
        .unwrap_or_default();
    say(format!(
        "{:<16} via {:<5} -> {:<11} respond by {} (set by {}; laws {}) {}",
        r.kind,
        r.channel,
        r.state,
        r.due.extended_to.as_deref().unwrap_or(&r.due.response),
        r.due.binding,
        if r.rules.is_empty() {
            "-".to_string()
        } else {
            r.rules.join(",")
        },
        outcome
    ));
}

async fn requests_demo(
    engine: &Arc<Engine>,
    admin: &Actor,
    research: &Path,
    platform: &[(TenantId, PathBuf)],
) -> Result<()> {
    use vow_engine::input::Identifiers;
    use vow_engine::requests::{NewRequest, Requester};
    let t = &TenantId::new("prairie-research")?;
    let folks = people(research)?;
    let ask = |i: usize, kind: &str, channel: &str, jurisdiction: &str, with_phone: bool| {
        let (email, phone) = folks.get(i + 120).cloned().unwrap_or_default();
        NewRequest {
            kind: kind.to_string(),
            channel: channel.to_string(),
            jurisdiction: Some(jurisdiction.to_string()),
            identifiers: Identifiers {
                email: Some(Pii::new(email)),
                phone: if with_phone {
                    phone.map(Pii::new)
                } else {
                    None
                },
                external_id: None,
            },
            birth_date: None,
            requester: Some(Requester {
                kind: Some("subject".into()),
                name: None,
                evidence: Some(Pii::new(json!({"declaration": true}))),
                identifiers: Default::default(),
            }),
            contact_email: None,
            received_at: None,
            backdated: false,
            purposes: Vec::new(),
            corrections: Vec::new(),
        }
    };
    let mut asks = vec![
        ask(0, "access", "web", "CA", false),
        ask(1, "know", "email", "US-CA", true),
        ask(2, "portability", "web", "CA-QC", false),
        ask(3, "opt_out", "web", "US-CA", false),
        ask(4, "limit_sensitive", "web", "US-CA", false),
        ask(5, "withdraw_consent", "phone", "CA", false),
        ask(6, "delete", "mail", "CA", false),
        ask(7, "correct", "phone", "CA", true),
    ];
    asks[7].corrections = vec![NewField {
        category: "user.contact.address.postal_code".into(),
        value: Pii::new(json!("S7K 1A1")),
        purposes: vec![],
        source: Some("phone-call".into()),
        store: None,
        collected_at: None,
        corrects: None,
    }];
    say(format!(
        "{t} (controller; policy promises 30 days; laws CA, CA-QC, US-CA):"
    ));
    for a in &asks {
        let mut r = engine.submit_request(admin, t, a).await?;
        if RequestState::parse(&r.state) == Some(RequestState::Verifying) {
            // A second data point and the signed declaration the stricter rule asks.
            r = engine
                .verify_request(
                    admin,
                    t,
                    &r.id,
                    &vow_engine::Step {
                        declaration: true,
                        authenticated: true,
                        ..Default::default()
                    },
                )
                .await?;
        }
        if RequestState::parse(&r.state) == Some(RequestState::Verified) {
            r = engine.fulfil_request(admin, t, &r.id).await?;
        }
        show_request(&r);
    }
    let known = folks.first().map(|f| f.0.clone()).unwrap_or_default();
    let mut extend = ask(9, "access", "mail", "CA", false);
    extend.identifiers.email = Some(Pii::new(known));
    let r = engine.submit_request(admin, t, &extend).await?;
    match engine
        .extend_request(
            admin,
            t,
            &r.id,
            &vow_engine::Step {
                reason: Some("archived survey files".into()),
                ..Default::default()
            },
        )
        .await
    {
        Ok(r) => show_request(&r),
        Err(e) => say(format!(
            "extension refused: {e} (the policy's 30-day promise allows none)"
        )),
    }
    let unknown = NewRequest {
        identifiers: Identifiers {
            email: Some(Pii::new("stranger@example.com".into())),
            ..Default::default()
        },
        ..ask(0, "know", "web", "CA", false)
    };
    let r = engine.submit_request(admin, t, &unknown).await?;
    let r = engine
        .deny_request(
            admin,
            t,
            &r.id,
            &vow_engine::Step {
                reasons: vec![vow_engine::requests::DenialReason {
                    code: "no_data".into(),
                    detail: None,
                }],
                ..Default::default()
            },
        )
        .await?;
    show_request(&r);

    // The platform: a client's consumer is sent to the client (R23, S3); the platform's
    // own account holder is served like any controller's (S6, 45 days: S11).
    for (tenant, path) in platform
        .iter()
        .filter(|(t, _)| t == "northwind-outfitters" || t == "relay-platform")
    {
        let (email, _) = people(path)?.into_iter().next().unwrap_or_default();
        let a = NewRequest {
            identifiers: Identifiers {
                email: Some(Pii::new(email)),
                ..Default::default()
            },
            jurisdiction: Some("US-CA".into()),
            ..ask(
                0,
                if tenant == "relay-platform" {
                    "access"
                } else {
                    "delete"
                },
                "email",
                "US-CA",
                false,
            )
        };
        let mut r = engine.submit_request(admin, tenant, &a).await?;
        if RequestState::parse(&r.state) == Some(RequestState::Verifying) {
            r = engine
                .verify_request(
                    admin,
                    tenant,
                    &r.id,
                    &vow_engine::Step {
                        authenticated: true,
                        declaration: true,
                        ..Default::default()
                    },
                )
                .await?;
        }
        if RequestState::parse(&r.state) == Some(RequestState::Verified) {
            r = engine.fulfil_request(admin, tenant, &r.id).await?;
        }
        say(format!("{tenant}:"));
        show_request(&r);
    }
    Ok(())
}
