//! R10, S9: de-identified aggregates. Counts grouped by non-identifying attributes,
//! small groups suppressed (complementary suppression included), identifiers refused.

use crate::cli::{text, vow};
use crate::harness::{Backend, Server};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 25 people: 20 aged 35-44, 3 aged 25-34, 2 aged 65+; research consent withdrawn by
/// the first 10; the last 4 have a health field. Returns (emails, names).
async fn panel(s: &Server, op: &str) -> (Vec<String>, Vec<String>) {
    let mut emails = Vec::new();
    let mut names = Vec::new();
    for i in 0..25 {
        let email = format!("person{i}@example.org");
        let name = format!("Zebedee{i} Quill");
        let birth = match i {
            0..20 => "1990-01-31",
            20..23 => "2000-05-05",
            _ => "1955-03-03",
        };
        let mut fields = vec![
            json!({"category": "user.name", "value": name, "purposes": ["research"], "source": "signup-form", "store": "primary"}),
        ];
        if i >= 21 {
            fields.push(json!({"category": "user.health_and_medical", "value": format!("{name} is fine"), "purposes": ["research"], "source": "survey", "store": "primary"}));
        }
        let (st, b) = s
            .post(
                op,
                "/v1/tenants/acme/subjects",
                json!({"identifiers": {"email": email}, "birth_date": birth, "fields": fields,
                       "consents": [{"purpose": "research", "kind": "express", "evidence": {"channel": "web"}}]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}");
        if i < 10 {
            let id = b["id"].as_str().unwrap();
            let (st, b) = s
                .post(
                    op,
                    &format!("/v1/tenants/acme/subjects/{id}/consents"),
                    json!({"purpose": "research", "action": "withdraw"}),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{b}");
        }
        emails.push(email);
        names.push(name);
    }
    (emails, names)
}

/// The cells as (values joined by '|', count or None), in order.
fn cells(report: &Value) -> Vec<(String, Option<i64>)> {
    report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let by = report["by"].as_array().unwrap();
            let key = by
                .iter()
                .map(|a| c["values"][a.as_str().unwrap()].as_str().unwrap())
                .collect::<Vec<_>>()
                .join("|");
            (key, c["count"].as_i64())
        })
        .collect()
}

#[tokio::test]
async fn r10_s9_aggregates_suppress_small_groups_and_never_identify() {
    aggregates_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn r10_s9_aggregates_suppress_small_groups_and_never_identify_on_postgres() {
    aggregates_on(Backend::Postgres).await;
}

async fn aggregates_on(backend: Backend) {
    let Some(s) = Server::start_on_at(backend, crate::harness::TODAY).await else {
        return;
    };
    let op = s.tenant("acme").await;
    let other = s.tenant("other").await;
    let (emails, names) = panel(&s, &op).await;
    let ids_before = {
        let mut tx = s.store().read().await.unwrap();
        tx.audit_page(0, 100_000).await.unwrap().len()
    };
    let report = |body: Value| {
        let s = &s;
        let op = op.clone();
        async move {
            s.post(&op, "/v1/tenants/acme/reports/aggregate", body)
                .await
        }
    };
    let mut outputs = Vec::new();

    // Consent state by age band: the two small age groups are suppressed.
    let (st, r) = report(json!({"by": ["consent.research", "age_band"]})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["min_group"], 10);
    assert_eq!(r["total"], 25);
    assert_eq!(
        cells(&r),
        [
            ("granted|25-34".to_string(), None),
            ("granted|35-44".to_string(), Some(10)),
            ("granted|65+".to_string(), None),
            ("withdrawn|35-44".to_string(), Some(10)),
        ]
    );
    assert_eq!(r["suppressed_cells"], 2);
    outputs.push(r);

    // One small cell alone would be the total minus the rest: its neighbour goes too.
    let (st, r) = report(json!({"by": ["category.user.health_and_medical"]})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["total"], 25);
    assert_eq!(
        cells(&r),
        [("held".to_string(), None), ("not_held".to_string(), None)]
    );
    outputs.push(r);

    // With enough people in every group, every count is shown; filters narrow the people.
    let (st, r) = report(json!({"by": ["consent.research"], "min_group": 5})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(
        cells(&r),
        [
            ("granted".to_string(), Some(15)),
            ("withdrawn".to_string(), Some(10))
        ]
    );
    outputs.push(r);
    let (st, r) = report(
        json!({"by": ["source", "store"], "filter": {"consent.research": "granted"}, "min_group": 5}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    // 4 with a survey answer (under 5) and, complementary, the 11 without.
    assert_eq!(r["total"], 15);
    assert_eq!(
        cells(&r),
        [
            ("signup-form|primary".to_string(), None),
            ("signup-form+survey|primary".to_string(), None),
        ]
    );
    outputs.push(r);
    // Fewer people than the minimum: the total is hidden with every cell.
    let (st, r) = report(json!({"by": ["created_year"], "filter": {"age_band": "65+"}})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["total"], Value::Null);
    assert!(cells(&r).iter().all(|(_, n)| n.is_none()), "{r}");
    outputs.push(r);

    // Nothing in any answer identifies anyone.
    let all = serde_json::to_string(&outputs).unwrap();
    for needle in emails.iter().chain(names.iter()) {
        assert!(!all.contains(needle.as_str()), "{needle} leaked");
    }
    assert!(!all.contains("1990-01-31") && !all.contains("Zebedee"));

    // Identifiers and personal values are refused with 422, naming the attribute.
    for (body, pointer, word) in [
        (json!({"by": ["email"]}), "/by/0", "email"),
        (
            json!({"by": ["age_band", "external_id"]}),
            "/by/1",
            "external_id",
        ),
        (json!({"by": ["user.name"]}), "/by/0", "user.name"),
        (
            json!({"by": ["age_band"], "filter": {"phone": "+13065550100"}}),
            "/filter/phone",
            "phone",
        ),
    ] {
        let (st, p) = report(body).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["code"], "identifying_attribute");
        assert_eq!(p["errors"][0]["pointer"], pointer, "{p}");
        assert!(
            p["errors"][0]["detail"].as_str().unwrap().contains(word),
            "{p}"
        );
    }
    // Other bad input: what, where, why.
    for (body, pointer) in [
        (json!({"by": ["age_band"], "min_group": 3}), "/min_group"),
        (json!({"by": []}), "/by"),
        (json!({"by": ["shoe_size"]}), "/by/0"),
        (json!({"by": ["consent.nope"]}), "/by/0"),
        (json!({"by": ["age_band", "age_band"]}), "/by/1"),
        (
            json!({"by": ["age_band"], "filter": {"consent.research": "maybe"}}),
            "/filter/consent.research",
        ),
    ] {
        let (st, p) = report(body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
        assert_eq!(p["errors"][0]["pointer"], pointer, "{p}");
    }
    let (st, p) = report(json!({"by": ["age_band"], "bogus": 1})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");

    // Tenant isolation and roles.
    let (st, p) = s
        .post(
            &other,
            "/v1/tenants/acme/reports/aggregate",
            json!({"by": ["age_band"]}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
    let ingest = s.key("acme", "ingest", None).await;
    let (st, p) = s
        .post(
            &ingest,
            "/v1/tenants/acme/reports/aggregate",
            json!({"by": ["age_band"]}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    let (st, _) = s
        .post(
            &s.admin,
            "/v1/tenants/acme/reports/aggregate",
            json!({"by": ["age_band"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);

    // One audit entry per report: who, which attributes, the minimum group; no values.
    let mut tx = s.store().read().await.unwrap();
    let entries = tx.audit_page(0, 100_000).await.unwrap();
    let reports: Vec<_> = entries[ids_before..]
        .iter()
        .filter(|e| e.entry.action == "report.aggregate")
        .collect();
    assert_eq!(reports.len(), 6);
    assert_eq!(
        reports[0].entry.purpose.as_deref(),
        Some("aggregate_statistics")
    );
    assert!(
        reports[0]
            .entry
            .detail
            .contains("\"by\":[\"consent.research\",\"age_band\"]")
    );
    assert!(reports[0].entry.detail.contains("\"min_group\":10"));
    assert!(reports[0].entry.subject_id.is_none());
    for r in &reports {
        assert!(
            !r.entry.detail.contains("example.org"),
            "{}",
            r.entry.detail
        );
    }
    drop(tx);
    s.drop_db().await;
}

#[test]
fn report_aggregate_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let rows: String = (0..12)
        .map(|i| crate::cli::person(&format!("p{i}@example.org"), &format!("Person{i}")) + "\n")
        .collect();
    crate::cli::cli_store(dir.path(), &rows);
    let o = vow(&[
        "report",
        "aggregate",
        "--data",
        d,
        "--tenant",
        "acme",
        "--by",
        "consent.research,category.user.health_and_medical",
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total"], 12);
    assert_eq!(cells(&v), [("granted|held".to_string(), Some(12))]);
    assert!(!text(&o).contains("example.org") && !text(&o).contains("Person"));
    let o = vow(&[
        "report",
        "aggregate",
        "--data",
        d,
        "--tenant",
        "acme",
        "--by",
        "age_band",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("35-44"), "{}", text(&o));
    let o = vow(&[
        "report",
        "aggregate",
        "--data",
        d,
        "--tenant",
        "acme",
        "--by",
        "email",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("/by/0: email identifies a person"),
        "{}",
        text(&o)
    );
    let o = vow(&[
        "report",
        "aggregate",
        "--data",
        d,
        "--tenant",
        "acme",
        "--by",
        "age_band",
        "--min-group",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = vow(&[
        "report",
        "aggregate",
        "--data",
        d,
        "--tenant",
        "acme",
        "--by",
        "age_band",
        "--filter",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
