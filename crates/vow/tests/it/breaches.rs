//! Breaches (R16): who is affected, how badly, what must be said to whom by when.

use crate::cli::{cli_store, vow};
use crate::harness::{Backend, Server};
use reqwest::StatusCode;
use serde_json::{Value, json};

const RESEARCH: &str = include_str!("../../../../examples/research-operator/policy.yaml");
const RESEARCH_JURISDICTIONS: &str = "jurisdictions: [CA, CA-QC, US-CA]";

/// The research operator's policy, with other jurisdictions.
pub(crate) fn research_in(jurisdictions: &str) -> String {
    assert!(RESEARCH.contains(RESEARCH_JURISDICTIONS));
    RESEARCH.replace(
        RESEARCH_JURISDICTIONS,
        &format!("jurisdictions: [{jurisdictions}]"),
    )
}

/// A research panelist with the given fields: (category, store, collected_at).
pub(crate) async fn person(
    s: &Server,
    key: &str,
    t: &str,
    email: &str,
    residence: Option<&str>,
    fields: &[(&str, &str, &str)],
) -> String {
    let fields: Vec<Value> = fields
        .iter()
        .map(|(c, store, at)| {
            json!({"category": c, "value": "x", "purposes": ["research"], "source": "signup-form",
                   "store": store, "collected_at": at})
        })
        .collect();
    let mut body = json!({
        "identifiers": {"email": email},
        "birth_date": "1980-02-02",
        "fields": fields,
        "consents": [{"purpose": "research", "kind": "express",
                      "evidence": {"channel": "web", "shown": "Consent v1"}, "at": "2026-08-01T00:00:00Z"}]
    });
    if let Some(r) = residence {
        body["residence"] = json!(r);
    }
    let (st, b) = s
        .post(key, &format!("/v1/tenants/{t}/subjects"), body)
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    b["id"].as_str().unwrap().to_string()
}

pub(crate) async fn erase(s: &Server, key: &str, t: &str, email: &str) {
    let (st, r) = s
        .post(
            key,
            &format!("/v1/tenants/{t}/requests"),
            json!({"type": "delete", "channel": "web", "identifiers": {"email": email}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    if r["state"] != "verified" {
        let (st, r) = s
            .post(
                key,
                &format!("/v1/tenants/{t}/requests/{id}/verify"),
                json!({"authenticated": true, "declaration": true}),
            )
            .await;
        assert!(st.is_success(), "{r}");
    }
    let (st, r) = s
        .post(
            key,
            &format!("/v1/tenants/{t}/requests/{id}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["outcome"]["done"], "erased", "{r}");
}

pub(crate) fn incident(stores: &[&str], categories: &[&str]) -> Value {
    json!({
        "discovered_at": "2026-11-02T10:00:00Z",
        "window": {"from": "2026-10-01T00:00:00Z", "to": "2026-10-31T23:59:59Z"},
        "stores": stores,
        "categories": categories,
        "description": "A misconfigured export job copied panel tables to a public bucket"
    })
}

fn deadline<'a>(impact: &'a Value, audience: &str, rule: &str) -> &'a Value {
    impact["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["audience"] == audience && d["rule"] == rule)
        .unwrap_or_else(|| panic!("no {audience} deadline of {rule}: {impact:#}"))
}

/// The research scenario of R16, on any backend; returns the impact.
async fn research_scenario(s: &Server) -> Value {
    let op = s
        .tenant_with(
            "prairie",
            "controller",
            &research_in("CA, CA-QC, US-CA, EU"),
        )
        .await;
    let t = "prairie";
    let a = person(
        s,
        &op,
        t,
        "a@example.org",
        Some("CA-SK"),
        &[("user.name", "primary", "2026-09-01T10:00:00Z")],
    )
    .await;
    let b = person(
        s,
        &op,
        t,
        "b@example.org",
        Some("US-CA"),
        &[("user.health_and_medical", "primary", "2026-10-10T10:00:00Z")],
    )
    .await;
    let c = person(
        s,
        &op,
        t,
        "c@example.org",
        Some("DE"),
        &[
            ("user.name", "primary", "2026-09-15T10:00:00Z"),
            (
                "user.content.survey_response",
                "primary",
                "2026-09-15T10:00:00Z",
            ),
        ],
    )
    .await;
    // Outside: another category; another store; collected after the window; erased.
    person(
        s,
        &op,
        t,
        "d@example.org",
        Some("CA-SK"),
        &[(
            "user.content.survey_response",
            "primary",
            "2026-09-01T10:00:00Z",
        )],
    )
    .await;
    person(
        s,
        &op,
        t,
        "e@example.org",
        Some("US-CA"),
        &[("user.name", "backup", "2026-09-01T10:00:00Z")],
    )
    .await;
    person(
        s,
        &op,
        t,
        "f@example.org",
        Some("CA-SK"),
        &[("user.name", "primary", "2026-11-05T10:00:00Z")],
    )
    .await;
    person(
        s,
        &op,
        t,
        "g@example.org",
        Some("CA-SK"),
        &[("user.name", "primary", "2026-09-01T10:00:00Z")],
    )
    .await;
    erase(s, &op, t, "g@example.org").await;

    let (st, impact) = s
        .post(
            &op,
            "/v1/tenants/prairie/incidents",
            incident(&["primary"], &["user.name", "user.health_and_medical"]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{impact}");
    // Exactly the affected people, frozen by pseudonymous id.
    let id = impact["id"].as_str().unwrap();
    let mut tx = s.store().read().await.unwrap();
    let mut frozen = tx.incident_subject_ids(id, t).await.unwrap();
    drop(tx);
    frozen.sort();
    let mut want = vec![a, b, c];
    want.sort();
    assert_eq!(frozen, want);
    impact
}

fn assert_research_impact(impact: &Value) {
    assert_eq!(impact["affected"], 3, "{impact:#}");
    assert_eq!(
        impact["jurisdictions"],
        json!({"CA-SK": 1, "US-CA": 1, "DE": 1})
    );
    let cats = &impact["tenants"][0]["categories"];
    assert_eq!(
        cats,
        &json!([
            {"category": "user.health_and_medical", "sensitive": true, "subjects": 1, "records": 1},
            {"category": "user.name", "sensitive": false, "subjects": 2, "records": 2}
        ])
    );
    // A sensitive category raises the risk.
    assert_eq!(impact["risk"], "high");
    // GDPR: 72 hours to the authority.
    assert_eq!(
        deadline(impact, "authority", "EU")["due"],
        "2026-11-05T10:00:00.000Z"
    );
    assert_eq!(impact["due"]["authority"]["binding"], "EU");
    // Individuals: California's 30 days (end of 2 Dec in Los Angeles) and the policy's
    // 30 days (end of 2 Dec UTC): the stricter, the policy's, wins.
    assert_eq!(
        deadline(impact, "individuals", "US-CA")["due"],
        "2026-12-03T07:59:59.999Z"
    );
    assert_eq!(
        impact["due"]["individuals"],
        json!({"due": "2026-12-02T23:59:59.999Z", "binding": "policy"})
    );
    // GDPR and PIPEDA individuals' duties apply, without a fixed date.
    assert_eq!(deadline(impact, "individuals", "EU")["required"], true);
    assert_eq!(deadline(impact, "individuals", "CA")["due"], Value::Null);
    // California's Attorney General only above 500 residents; nobody in Québec.
    assert_eq!(deadline(impact, "authority", "US-CA")["required"], false);
    assert!(
        !impact["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["rule"] == "CA-QC")
    );
    // The individuals' draft carries California's title and five headings.
    let draft = impact["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["audience"] == "individuals")
        .expect("an individuals' notice");
    let text = draft["text"].as_str().unwrap();
    for h in [
        "Notice of Data Breach",
        "What Happened",
        "What Information Was Involved",
        "What We Are Doing",
        "What You Can Do",
        "For More Information",
    ] {
        assert!(text.contains(h), "{h} missing:\n{text}");
        assert!(draft["html"].as_str().unwrap().contains(h));
    }
    // GDPR Art. 34 and PIPEDA s.3 contents too.
    assert!(text.contains("The likely consequences of the breach"));
    assert!(text.contains("The steps the individual could take"));
    // No personal value in a draft.
    assert!(!text.contains("@example.org"));
}

#[tokio::test]
async fn r16_breach_impact_names_the_affected_and_the_deadlines() {
    let s = Server::start().await;
    let impact = research_scenario(&s).await;
    assert_research_impact(&impact);
    // The register keeps it, with the same impact.
    let key = s.key("prairie", "operator", None).await;
    let id = impact["id"].as_str().unwrap();
    let (st, again) = s
        .get(&key, &format!("/v1/tenants/prairie/incidents/{id}/impact"))
        .await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["deadlines"], impact["deadlines"]);
    let (st, list) = s.get(&key, "/v1/tenants/prairie/incidents").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Kept at least 24 months (PIPEDA s.10.3).
    assert!(list[0]["keep_until"].as_str().unwrap() >= "2028-11-02");
}

#[tokio::test]
async fn r16_same_impact_on_postgres() {
    let Some(s) = Server::start_on(Backend::Postgres).await else {
        return;
    };
    let impact = research_scenario(&s).await;
    assert_research_impact(&impact);
    s.drop_db().await;
}

#[tokio::test]
async fn r16_encryption_with_safe_keys_lowers_the_risk_and_the_duties() {
    let s = Server::start().await;
    let op = s
        .tenant_with("prairie", "controller", &research_in("CA, US-CA, EU"))
        .await;
    person(
        &s,
        &op,
        "prairie",
        "a@example.org",
        Some("US-CA"),
        &[("user.health_and_medical", "primary", "2026-09-01T10:00:00Z")],
    )
    .await;
    person(
        &s,
        &op,
        "prairie",
        "b@example.org",
        Some("FR"),
        &[("user.name", "primary", "2026-09-01T10:00:00Z")],
    )
    .await;
    let mut body = incident(&["primary"], &["user"]);
    body["encrypted"] = json!({"keys_exposed": false});
    let (st, safe) = s
        .post(&op, "/v1/tenants/prairie/incidents", body.clone())
        .await;
    assert_eq!(st, StatusCode::CREATED, "{safe}");
    assert_eq!(safe["affected"], 2);
    assert_eq!(safe["risk"], "low");
    // Art. 34(3)(a) and California's safe harbour: nobody must be told individually;
    // GDPR's authority duty falls away with the risk.
    for (aud, rule) in [
        ("individuals", "EU"),
        ("individuals", "US-CA"),
        ("individuals", "policy"),
        ("authority", "EU"),
    ] {
        assert_eq!(
            deadline(&safe, aud, rule)["required"],
            false,
            "{aud} {rule}"
        );
    }
    assert!(safe["due"].get("individuals").is_none(), "{}", safe["due"]);
    assert!(
        !safe["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["audience"] == "individuals")
    );
    // The same incident with the keys taken too: high risk, every duty back.
    body["encrypted"] = json!({"keys_exposed": true});
    let (_, exposed) = s.post(&op, "/v1/tenants/prairie/incidents", body).await;
    assert_eq!(exposed["risk"], "high");
    assert_eq!(deadline(&exposed, "individuals", "US-CA")["required"], true);
}

#[tokio::test]
async fn r16_a_processor_tells_its_client_as_soon_as_possible() {
    let s = Server::start().await;
    let op = s
        .tenant_with("hosted", "processor", &research_in("CA, US-CA, EU"))
        .await;
    person(
        &s,
        &op,
        "hosted",
        "a@example.org",
        Some("US-CA"),
        &[("user.name", "primary", "2026-09-01T10:00:00Z")],
    )
    .await;
    let (st, impact) = s
        .post(
            &op,
            "/v1/tenants/hosted/incidents",
            incident(&["primary"], &["user.name"]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{impact}");
    let d = deadline(&impact, "clients", "processor");
    assert_eq!(d["timing"], "as soon as possible");
    assert_eq!(d["required"], true);
    assert_eq!(
        deadline(&impact, "clients", "US-CA")["timing"],
        "immediately following discovery"
    );
    assert_eq!(deadline(&impact, "clients", "EU")["required"], true);
    // The authority and the people are the controller's to tell.
    assert!(
        impact["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["audience"] == "clients")
    );
    let draft = &impact["notices"][0];
    assert_eq!(draft["audience"], "clients");
    assert_eq!(draft["to"][0], "Client Co. <privacy@client.example>");
}

#[tokio::test]
async fn r16_brazil_counts_three_business_days_over_a_holiday_and_a_weekend() {
    let s = Server::start().await;
    let op = s
        .tenant_with("sp", "controller", &research_in("CA, BR"))
        .await;
    person(
        &s,
        &op,
        "sp",
        "a@example.org",
        Some("BR"),
        &[("user.name", "primary", "2026-09-01T10:00:00Z")],
    )
    .await;
    let mut body = incident(&["primary"], &["user.name"]);
    // Wednesday 18 November 2026: Thu 19 (1), Fri 20 Consciência Negra (holiday),
    // Sat, Sun, Mon 23 (2), Tue 24 (3); end of day in São Paulo (UTC-3).
    body["discovered_at"] = json!("2026-11-18T12:00:00-03:00");
    let (st, impact) = s.post(&op, "/v1/tenants/sp/incidents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{impact}");
    for aud in ["authority", "individuals"] {
        let d = deadline(&impact, aud, "BR");
        assert_eq!(d["due"], "2026-11-25T02:59:59.999Z", "{aud}");
        assert_eq!(d["term"], "3 business_days");
    }
    // The policy's 30 days are looser: Brazil's date binds.
    assert_eq!(impact["due"]["individuals"]["binding"], "BR");
}

#[tokio::test]
async fn r16_notifications_are_tracked_on_time_or_late() {
    let s = Server::start().await;
    let op = s
        .tenant_with("eu", "controller", &research_in("CA, EU"))
        .await;
    person(
        &s,
        &op,
        "eu",
        "a@example.org",
        Some("DE"),
        &[("user.health_and_medical", "primary", "2026-09-01T10:00:00Z")],
    )
    .await;
    let (_, impact) = s
        .post(
            &op,
            "/v1/tenants/eu/incidents",
            incident(&["primary"], &["user.health_and_medical"]),
        )
        .await;
    let id = impact["id"].as_str().unwrap();
    assert_eq!(deadline(&impact, "authority", "EU")["status"], "open");
    let path = format!("/v1/tenants/eu/incidents/{id}/notifications");
    // 80 hours after discovery: later than GDPR's 72.
    let (st, v) = s
        .post(&op, &path, json!({"audience": "authority", "at": "2026-11-05T18:00:00Z", "note": "SA ref 2026-118"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(deadline(&v, "authority", "EU")["status"], "late");
    assert_eq!(deadline(&v, "individuals", "policy")["status"], "open");
    let (_, v) = s
        .post(
            &op,
            &path,
            json!({"audience": "individuals", "at": "2026-11-07T09:00:00Z"}),
        )
        .await;
    assert_eq!(deadline(&v, "individuals", "policy")["status"], "on_time");
    assert_eq!(deadline(&v, "individuals", "EU")["status"], "on_time");
    assert_eq!(v["notifications"].as_array().unwrap().len(), 2);
    // Bad input is named precisely.
    let (st, p) = s
        .post(
            &op,
            &path,
            json!({"audience": "press", "at": "2026-11-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let pointers: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/audience"]);
}

#[tokio::test]
async fn r16_bad_incidents_are_refused_with_the_path() {
    let s = Server::start().await;
    let op = s
        .tenant_with("prairie", "controller", &research_in("CA"))
        .await;
    let mut body = incident(&["primary", "attic"], &["user.name", "user.shoe_size"]);
    body["window"] = json!({"from": "2026-10-31T00:00:00Z", "to": "2026-10-01T00:00:00Z"});
    let (st, p) = s.post(&op, "/v1/tenants/prairie/incidents", body).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    let pointers: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        ["/window/to", "/stores/1", "/categories/1"],
        "{p}"
    );
    // Nothing half-written.
    let (_, list) = s.get(&op, "/v1/tenants/prairie/incidents").await;
    assert_eq!(list, json!([]));
    // A residence that is not a region code.
    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/prairie/subjects",
            json!({"identifiers": {"email": "x@example.org"}, "residence": "Saskatoon"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(p["errors"][0]["pointer"], "/residence");
    assert!(
        !p.to_string().contains("Saskatoon"),
        "the value is not echoed"
    );
}

#[tokio::test]
async fn s2_incidents_are_isolated_between_tenants() {
    let s = Server::start().await;
    let a = s.tenant_with("a", "controller", &research_in("CA")).await;
    let b = s.tenant_with("b", "controller", &research_in("CA")).await;
    person(
        &s,
        &a,
        "a",
        "a@example.org",
        Some("CA-SK"),
        &[("user.name", "primary", "2026-09-01T10:00:00Z")],
    )
    .await;
    let (_, impact) = s
        .post(
            &a,
            "/v1/tenants/a/incidents",
            incident(&["primary"], &["user.name"]),
        )
        .await;
    let id = impact["id"].as_str().unwrap();
    for path in [
        format!("/v1/tenants/a/incidents/{id}"),
        format!("/v1/tenants/a/incidents/{id}/impact"),
        "/v1/tenants/a/incidents".to_string(),
    ] {
        let (st, _) = s.get(&b, &path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    let (st, _) = s.get(&b, &format!("/v1/tenants/b/incidents/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .post(
            &b,
            &format!("/v1/tenants/a/incidents/{id}/notifications"),
            json!({"audience": "authority"}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // B's key cannot pull A into an incident of its own.
    let mut body = incident(&["primary"], &["user.name"]);
    body["tenants"] = json!(["a"]);
    let (st, _) = s.post(&b, "/v1/tenants/b/incidents", body.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A global admin may assess an incident across both.
    let (st, v) = s.post(&s.admin, "/v1/tenants/b/incidents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["tenants"].as_array().unwrap().len(), 2);
    assert_eq!(v["affected"], 1);
    // An app key may not manage incidents.
    let app = s.key("a", "app", Some(&["research"])).await;
    let (st, _) = s.get(&app, "/v1/tenants/a/incidents").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn residence_is_set_by_patch_and_import() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let id = s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    let (st, b) = s
        .patch(
            &op,
            &format!("/v1/tenants/acme/subjects/{id}"),
            json!({"residence": "ca-sk"}),
        )
        .await;
    assert!(st.is_success(), "{b}");
    let mut tx = s.store().read().await.unwrap();
    assert_eq!(
        tx.subject_residence("acme", &id).await.unwrap().as_deref(),
        Some("CA-SK")
    );
    drop(tx);
    let (st, _) = s
        .patch(
            &op,
            &format!("/v1/tenants/acme/subjects/{id}"),
            json!({"residence": "CA-SASK"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // CSV import with a residence column.
    let rows = vow_engine::vault::import::parse_csv(
        "email,residence,consents,user.name[research]\nbea@example.org,GB,research:express,Bea\ncy@example.org,XYZ,research:express,Cy\n",
    )
    .unwrap();
    let actor = vow_engine::Actor::local("test");
    let report = s
        .engine
        .import(
            &actor,
            &"acme".parse().unwrap(),
            rows,
            vow_engine::ImportOptions { skip_bad: true },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(report.imported, 1);
    assert_eq!(report.bad.len(), 1);
    assert_eq!(report.bad[0].line, 3);
    assert!(
        report.bad[0].error.contains("/residence"),
        "{:?}",
        report.bad
    );
}

#[test]
fn cli_breach_assess_prints_impact_and_drafts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let people: String = [("ada@example.org", "CA-SK"), ("bo@example.org", "CA-ON")]
        .iter()
        .map(|(e, r)| {
            json!({"identifiers": {"email": e}, "residence": r, "birth_date": "1985-04-02",
                "fields": [{"category": "user.health_and_medical", "value": "asthma", "purposes": ["research"], "collected_at": "2026-09-01T00:00:00Z"}],
                "consents": [{"purpose": "research", "evidence": {"channel": "web", "shown": "v1"}, "at": "2026-08-01T00:00:00Z"}]})
            .to_string()
                + "\n"
        })
        .collect();
    cli_store(dir.path(), &people);
    let file = dir.path().join("incident.yaml");
    std::fs::write(
        &file,
        "tenant: acme\ndiscovered_at: 2026-11-02T10:00:00Z\nwindow:\n  from: 2026-10-01T00:00:00Z\n  to: 2026-10-31T00:00:00Z\nstores: [primary]\ncategories: [user.health_and_medical]\ndescription: A laptop with a panel export was stolen\n",
    )
    .unwrap();
    let drafts = dir.path().join("drafts");
    let o = vow(&[
        "breach",
        "assess",
        "--data",
        d,
        file.to_str().unwrap(),
        "--drafts",
        drafts.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["affected"], 2);
    assert_eq!(v["risk"], "high");
    assert_eq!(v["jurisdictions"], json!({"CA-ON": 1, "CA-SK": 1}));
    let files = v["draft_files"].as_array().unwrap();
    assert!(!files.is_empty());
    for f in files {
        assert!(std::path::Path::new(f.as_str().unwrap()).is_file());
    }
    let id = v["id"].as_str().unwrap();
    let contents: Vec<String> = v["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["audience"] == "individuals")
        .expect("a notice to individuals")["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    let o = vow(&[
        "breach",
        "notify",
        "--data",
        d,
        "--tenant",
        "acme",
        id,
        "--audience",
        "authority",
        "--at",
        "2026-11-03T10:00:00Z",
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(deadline(&v, "authority", "CA")["status"], "on_time");
    let o = vow(&[
        "breach", "list", "--data", d, "--tenant", "acme", "--output", "json",
    ]);
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list[0]["id"], id);
    let o = vow(&["breach", "show", "--data", d, "--tenant", "acme", id]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("on time"));
    // The notice mailed to the two affected people (the outbox is data/mail): once.
    let send = || {
        let o = vow(&[
            "breach",
            "send-notices",
            "--data",
            d,
            "--tenant",
            "acme",
            id,
            "--output",
            "json",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    // The generated draft has placeholders: refused, naming them, until edited.
    let o = vow(&[
        "breach",
        "send-notices",
        "--data",
        d,
        "--tenant",
        "acme",
        id,
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("placeholder") && err.contains("[The privacy team"),
        "{err}"
    );
    let body = dir.path().join("notice.txt");
    let text: String = contents
        .iter()
        .map(|h| format!("{h}\nAbout {h}: what we know.\n\n"))
        .collect();
    std::fs::write(&body, text).unwrap();
    let o = vow(&[
        "breach",
        "edit-notice",
        "--data",
        d,
        "--tenant",
        "acme",
        id,
        "--subject",
        "Acme: a breach of your data",
        "--body-file",
        body.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Subject: Acme: a breach of your data"));
    let mails = || std::fs::read_dir(dir.path().join("mail")).unwrap().count();
    assert_eq!(send()["sent"], 2);
    let mailed = mails();
    let again = send();
    assert_eq!(
        (again["sent"].clone(), again["total"]["sent"].clone()),
        (json!(0), json!(2))
    );
    assert_eq!(mails(), mailed);

    // A bad file: exit 2, named by file and line.
    std::fs::write(&file, "tenant: acme\ndiscovered_at: 2026-11-02T10:00:00Z\nwindow: {from: 2026-10-01T00:00:00Z, to: 2026-10-31T00:00:00Z}\nstores: primary\ncategories: [user.name]\ndescription: x\n").unwrap();
    let o = vow(&["breach", "assess", "--data", d, file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("incident.yaml:4:"), "{err}");
    assert!(err.contains("stores"), "{err}");
    // An unknown store: exit 2 with the path.
    std::fs::write(&file, "tenant: acme\ndiscovered_at: 2026-11-02T10:00:00Z\nwindow: {from: 2026-10-01T00:00:00Z, to: 2026-10-31T00:00:00Z}\nstores: [attic]\ncategories: [user.name]\ndescription: x\n").unwrap();
    let o = vow(&["breach", "assess", "--data", d, file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/stores/0"));
}
