//! S13: the annual self-assessment, made from Vow's own records.

use crate::harness::Server;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn days(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_hours(24 * n)
}

fn line<'a>(report: &'a Value, section: &str, key: &str, value: &str) -> &'a Value {
    report[section]
        .as_array()
        .unwrap_or_else(|| panic!("{section} in {report}"))
        .iter()
        .find(|l| l[key] == value)
        .unwrap_or_else(|| panic!("no {key}={value} in {section}: {report}"))
}

#[tokio::test]
async fn s13_the_annual_self_assessment_comes_from_the_records() {
    let (s, clock) = Server::start_clocked("2026-03-02T10:00:00Z").await;
    let op = s.tenant("acme").await;
    let ada = s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    s.panelist(&op, "acme", "bo@example.org", "Bo").await;
    // A withdrawal, a disclosure and a key rotation during the year.
    let (st, b) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/subjects/{ada}/consents"),
            json!({"purpose": "research", "action": "withdraw"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let bo = s
        .get(&op, "/v1/tenants/acme/subjects?email=bo@example.org")
        .await
        .1["id"]
        .clone();
    let (st, b) = s
        .post(&op, "/v1/tenants/acme/disclosures",
            json!({"recipient": "lab-partner", "purpose": "research", "categories": ["user.name"], "subjects": [bo]}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    s.engine
        .rotate_keys(
            &vow_engine::Actor::local("t"),
            &"acme".parse().unwrap(),
            |_| {},
        )
        .await
        .expect("rotate");

    // Three requests: one answered on time, one denied, one left to run past its deadline.
    let submit = |email: &str, kind: &str| json!({"type": kind, "channel": "web", "identifiers": {"email": email}});
    let (_, know) = s
        .post(
            &op,
            "/v1/tenants/acme/requests",
            submit("bo@example.org", "know"),
        )
        .await;
    let (_, del) = s
        .post(
            &op,
            "/v1/tenants/acme/requests",
            submit("ada@example.org", "delete"),
        )
        .await;
    let (_, late) = s
        .post(
            &op,
            "/v1/tenants/acme/requests",
            submit("ghost@example.org", "access"),
        )
        .await;
    let id = |r: &Value| r["id"].as_str().unwrap().to_string();
    clock.advance(days(3));
    let (st, b) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{}/fulfil", id(&know)),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{}/deny", id(&del)),
            json!({"reasons": [{"code": "exempt", "detail": "records a law obliges us to keep"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    clock.advance(days(60));
    assert!(late["state"] != "fulfilled");

    // An incident in the year, and the notice to the people affected a day later.
    let (st, inc) = s
        .post(
            &op,
            "/v1/tenants/acme/incidents",
            json!({
            "discovered_at": "2026-03-03T10:00:00Z",
            "window": {"from": "2026-02-01T00:00:00Z", "to": "2026-03-02T23:59:59Z"},
            "stores": ["primary"], "categories": ["user.name"],
            "description": "A laptop with an unencrypted export was stolen"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inc}");
    let incident = inc["id"].as_str().unwrap().to_string();
    let (st, n) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/incidents/{incident}/notifications"),
            json!({"audience": "individuals", "at": "2026-03-04T10:00:00Z"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{n}");

    // A retention run (a dry run does not count).
    for dry in [true, false] {
        let (st, run) = s
            .post(
                &op,
                "/v1/tenants/acme/retention/run",
                json!({"dry_run": dry}),
            )
            .await;
        assert!(st.is_success(), "{st} {run}");
    }

    let (st, r) = s
        .get(&op, "/v1/tenants/acme/reports/self-assessment?year=2026")
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["retention"]["runs"], 1, "{r}");
    assert_eq!(r["retention"]["unfinished"], 0, "{r}");
    let i = line(&r, "incidents", "id", &incident);
    assert_eq!(i["affected"], 2, "{i}");
    let told = i["duties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["audience"] == "individuals")
        .expect("a duty to tell people");
    assert_eq!(told["hours_to_notify"], 24.0, "{i}");
    assert_eq!(told["status"], "on_time", "{i}");
    assert_eq!(r["year"], 2026);
    assert_eq!(r["organisation"], "Test Research Co.");
    assert_eq!(r["policies"][0]["version"], 1, "{r}");
    assert_eq!(r["requests"]["received"], 3);
    let per_type = &r["requests"]["per_type"];
    let of = |kind: &str| {
        per_type
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["type"] == kind)
            .cloned()
            .unwrap()
    };
    assert_eq!(of("know")["answered_on_time"], 1, "{r}");
    assert_eq!(of("know")["on_time_share"], 1.0);
    assert_eq!(of("know")["median_days"], 3.0);
    assert_eq!(of("delete")["answered"], 1);
    assert_eq!(of("access")["open"], 1);
    assert_eq!(of("access")["overdue"], 1, "{r}");
    assert_eq!(r["requests"]["denials"], json!({"exempt": 1}));
    let research = line(&r, "consents", "purpose", "research");
    assert_eq!(research["granted"], 2);
    assert_eq!(research["withdrawn"], 1);
    let lab = line(&r, "disclosures", "recipient", "lab-partner");
    assert_eq!(
        (lab["disclosures"].as_i64(), lab["subjects"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["key_rotations"], 1);
    assert_eq!(r["audit"]["chain_ok"], true);
    let levels: Vec<(&str, &str)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["level"].as_str().unwrap(), f["text"].as_str().unwrap()))
        .collect();
    assert!(
        levels
            .iter()
            .any(|(l, t)| *l == "attention" && t.contains("1 open requests are past it")),
        "{levels:?}"
    );
    // Counts only: no e-mail address, name or subject id anywhere in it.
    let text = r.to_string();
    for secret in [
        "ada@example.org",
        "bo@example.org",
        "Ada",
        ada.as_str(),
        bo.as_str().unwrap(),
    ] {
        assert!(!text.contains(secret), "{secret} in the report");
    }

    // People read it as HTML or Markdown.
    let res = s
        .client
        .get(format!(
            "{}/v1/tenants/acme/reports/self-assessment?year=2026",
            s.base
        ))
        .bearer_auth(&op)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("<h2>Requests (3 received)</h2>"), "{html}");
    let res = s
        .client
        .get(format!(
            "{}/v1/tenants/acme/reports/self-assessment?year=2026",
            s.base
        ))
        .bearer_auth(&op)
        .header("accept", "text/markdown")
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("## Sign-off"));

    // Signing binds a role to the report's hash; a stale hash is refused.
    let hash = r["hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/acme/reports/self-assessment/sign-off",
            json!({"year": 2026, "role": "Privacy Officer", "hash": "0".repeat(64)}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    let (st, signed) = s
        .post(
            &op,
            "/v1/tenants/acme/reports/self-assessment/sign-off",
            json!({"year": 2026, "role": "Privacy Officer", "hash": hash}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{signed}");
    assert_eq!(
        signed["hash"],
        hash.as_str(),
        "signing does not change what was signed"
    );
    assert_eq!(signed["sign_offs"][0]["role"], "Privacy Officer");
    assert_eq!(signed["sign_offs"][0]["current"], true);
    // New records after the sign-off: the sign-off stays, marked as for an earlier state.
    s.post(&op, &format!("/v1/tenants/acme/subjects/{ada}/consents"),
        json!({"purpose": "research", "action": "grant", "kind": "express", "evidence": {"channel": "web"}})).await;
    let (_, again) = s
        .get(&op, "/v1/tenants/acme/reports/self-assessment?year=2026")
        .await;
    assert_ne!(again["hash"], hash.as_str());
    assert_eq!(again["sign_offs"][0]["current"], false);

    // Bad input and other tenants.
    let (st, p) = s
        .get(&op, "/v1/tenants/acme/reports/self-assessment?year=soon")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    let (st, _) = s
        .get(&op, "/v1/tenants/acme/reports/self-assessment?year=1900")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/acme/reports/self-assessment/sign-off",
            json!({"year": 2026, "role": " ", "hash": hash}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    let other = s.tenant("other").await;
    let (st, _) = s
        .get(&other, "/v1/tenants/acme/reports/self-assessment?year=2026")
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let auditor = s.key("acme", "auditor", None).await;
    let (st, _) = s
        .get(
            &auditor,
            "/v1/tenants/acme/reports/self-assessment?year=2026",
        )
        .await;
    assert_eq!(st, StatusCode::OK, "an auditor reads counts");
    let ingest = s.key("acme", "ingest", None).await;
    let (st, _) = s
        .get(
            &ingest,
            "/v1/tenants/acme/reports/self-assessment?year=2026",
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}
