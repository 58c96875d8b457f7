//! Input the rule engine must not take at face value: a `received_at` from long ago
//! (filed, found overdue and denied within a minute) or from the future, a region no
//! rule pack covers (silently only the policy's 30 days), and a disclosure for a
//! purpose the calling key does not hold (an empty 201 before).

use crate::cli::{cli_tenant, text};
use crate::harness::Server;
use reqwest::StatusCode;
use serde_json::{Value, json};

const NOW: &str = "2026-11-06T10:00:00Z";

fn ask(extra: Value) -> Value {
    let mut body = json!({"type": "access", "channel": "mail",
                          "identifiers": {"email": "ada@example.org"}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn received_at_far_back_needs_backdated_and_the_future_is_refused_beyond_skew() {
    let (s, _clock) = Server::start_clocked(NOW).await;
    let op = s.tenant("acme").await;
    let url = "/v1/tenants/acme/requests";

    // 1900: refused, naming the field and the way to say it is meant.
    let (st, p) = s
        .post(
            &op,
            url,
            ask(json!({"received_at": "1900-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/received_at", "{p}");
    assert!(
        p["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("\"backdated\": true"),
        "{p}"
    );
    // 31 days back is past the default window of 30; 29 days is within it.
    let (st, _) = s
        .post(
            &op,
            url,
            ask(json!({"received_at": "2026-10-06T09:00:00Z"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, r) = s
        .post(
            &op,
            url,
            ask(json!({"received_at": "2026-10-08T10:00:00Z"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["received_at"], "2026-10-08T10:00:00.000Z");
    // Said on purpose: filed as received then, and already overdue.
    let (st, r) = s
        .post(
            &op,
            url,
            ask(json!({"received_at": "2026-08-01T10:00:00Z", "backdated": true})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["received_at"], "2026-08-01T10:00:00.000Z");
    assert_eq!(r["flag"], "overdue", "{r}");

    // A sender's clock two minutes fast is now; an hour ahead is refused.
    let (st, r) = s
        .post(
            &op,
            url,
            ask(json!({"received_at": "2026-11-06T10:02:00Z"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["received_at"], "2026-11-06T10:00:00.000Z");
    let (st, p) = s
        .post(
            &op,
            url,
            ask(json!({"received_at": "2026-11-06T11:00:00Z"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["detail"], "must not be in the future");
    // `backdated` does not open the future.
    let (st, _) = s
        .post(
            &op,
            url,
            ask(json!({"received_at": "2026-11-06T11:00:00Z", "backdated": true})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_regions_are_refused_with_the_known_ones_and_case_does_not_matter() {
    let (s, _clock) = Server::start_clocked(NOW).await;
    let op = s.tenant("acme").await;
    let url = "/v1/tenants/acme/requests";
    for code in ["ZZ", "JP", "XX-ABC"] {
        let (st, p) = s.post(&op, url, ask(json!({"jurisdiction": code}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{code}: {p}");
        assert_eq!(p["errors"][0]["pointer"], "/jurisdiction");
        let detail = p["errors"][0]["detail"].as_str().unwrap();
        assert!(
            detail.contains("known: ") && detail.contains("US-CA") && detail.contains("DE"),
            "{detail}"
        );
        assert!(
            !detail.contains(code),
            "the code sent is not repeated: {detail}"
        );
    }
    // Any case, and GB for UK.
    for code in ["us-ca", "Us-Ca", "de", "gb", "UK"] {
        let (st, r) = s.post(&op, url, ask(json!({"jurisdiction": code}))).await;
        assert_eq!(st, StatusCode::CREATED, "{code}: {r}");
    }
    // The test policy is Canadian: a Saskatchewan resident gets PIPEDA, however written.
    for code in ["ca-sk", "CA-SK", "Ca-Sk"] {
        let (st, r) = s.post(&op, url, ask(json!({"jurisdiction": code}))).await;
        assert_eq!(st, StatusCode::CREATED, "{code}: {r}");
        assert_eq!(r["rules"], json!(["CA"]), "{code}: {r}");
    }
}

#[tokio::test]
async fn a_disclosure_for_a_purpose_the_key_lacks_is_refused_whole() {
    let s = Server::start_at(NOW).await;
    let op = s.tenant("acme").await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    let app = s.key("acme", "app", Some(&["panel_management"])).await;
    let (st, p) = s
        .post(
            &app,
            "/v1/tenants/acme/disclosures",
            json!({"recipient": "lab-partner", "purpose": "research",
                   "categories": ["user.name"], "subjects": [ada]}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    assert_eq!(p["reasons"][0]["code"], "caller_purpose_not_allowed", "{p}");
    // Nothing was recorded as disclosed.
    let (_, list) = s.get(&op, "/v1/tenants/acme/disclosures").await;
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");
    // The operator, who holds every purpose, may.
    let (st, b) = s
        .post(
            &op,
            "/v1/tenants/acme/disclosures",
            json!({"recipient": "lab-partner", "purpose": "research",
                   "categories": ["user.name"], "subjects": [ada]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
}

#[test]
fn the_window_is_a_setting_and_the_cli_can_backdate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    cli_tenant(dir.path());
    // The CLI reads the real clock: ten days back is inside 30 days, outside 7.
    let ten_days_ago = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(240)).to_string();
    let submit = |extra: &[&str], window: &str| {
        let mut args = vec![
            "request",
            "submit",
            "--data",
            d,
            "--tenant",
            "acme",
            "--type",
            "know",
            "--channel",
            "mail",
            "--email",
            "ada@example.org",
            "--received-at",
            &ten_days_ago,
        ];
        args.extend_from_slice(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_vow"))
            .args(&args)
            .env("VOW_RECEIVED_AT_WINDOW", window)
            .output()
            .unwrap()
    };
    let o = submit(&[], "30d");
    assert!(o.status.success(), "{}", text(&o));
    let o = submit(&[], "7d");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("more than 7 days ago"), "{}", text(&o));
    let o = submit(&["--backdated"], "7d");
    assert!(o.status.success(), "{}", text(&o));
    // A window that is not a duration stops the command and names the setting.
    let o = submit(&[], "a fortnight");
    assert!(!o.status.success());
    assert!(text(&o).contains("received_at_window"), "{}", text(&o));
}
