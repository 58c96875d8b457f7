//! The privacy team's console (issue 10) through HTTP, as a browser without script
//! would use it: sign-in and its refusal, a revoked key ending its session, the queue's
//! order and filters, a request from the queue to fulfilment through the forms (audited
//! under the operator's key), evidence opened on demand and audited, breach notices
//! mailed once to each affected person and never to the erased, and forms refused
//! without their token.

use crate::breaches::{erase, incident, person, research_in};
use crate::harness::{Backend, Server};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const STRICT_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A browser: no redirects followed, its cookies kept by name.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn location(&self) -> &str {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.body);
        self.header("location")
    }

    fn assert_safe(&self) {
        assert!(self.header("content-type").starts_with("text/html"));
        assert_eq!(self.header("content-security-policy"), STRICT_CSP);
        assert!(!self.body.to_ascii_lowercase().contains("<script"));
    }

    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a form") + 19;
        self.body[at..].split('"').next().unwrap().to_string()
    }
}

impl Browser {
    fn new(s: &Server) -> Browser {
        Browser {
            base: s.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let req = if cookie.is_empty() {
            req
        } else {
            req.header("cookie", cookie.join("; "))
        };
        let res = req.send().await.unwrap();
        for set in res.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        Page {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// Post a page's form with the page's token.
    async fn submit(&mut self, page: &Page, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = page.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    /// Sign in with `key`; returns the page the console goes to.
    async fn sign_in(&mut self, key: &str) -> Page {
        let form = self.get("/console").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let done = self
            .submit(&form, "/console/sign-in", &[("key", key)])
            .await;
        assert_eq!(done.location(), "/console", "{}", done.body);
        done
    }
}

fn key_id(key: &str) -> &str {
    &key[4..16]
}

async fn audit_actions(s: &Server) -> Vec<(String, String)> {
    s.engine.flush_audit().await;
    let mut tx = s.store().read().await.unwrap();
    tx.audit_page(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.entry.action, r.entry.actor))
        .collect()
}

#[tokio::test]
async fn console_sign_in_refusal_sign_out_and_a_revoked_key_ends_the_session() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let mut b = Browser::new(&s);

    // The form; a wrong key is refused, recorded as a security event, never echoed.
    let form = b.get("/console").await;
    form.assert_safe();
    assert!(form.body.contains("type=\"password\""), "{}", form.body);
    let wrong = format!("{}AAAA", &op[..op.len() - 4]);
    let refused = b
        .submit(&form, "/console/sign-in", &[("key", &wrong)])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(!refused.body.contains(&wrong));
    assert!(!b.cookies.contains_key("__Host-vow-console"));
    let (st, events) = s.get(&s.admin, "/v1/security-events").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "authentication_failed"
                && e["reason"] == "wrong_secret"
                && e["route"] == "/console/sign-in"
                && e["key_id"] == key_id(&op)),
        "{events}"
    );
    // Without the form's token: refused.
    let forged = b.post("/console/sign-in", &[("key", &op)]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Signed in: a session cookie that carries no key, HttpOnly, Strict, host-only.
    let form = b.get("/console").await;
    let done = b.submit(&form, "/console/sign-in", &[("key", &op)]).await;
    let set = done.header("set-cookie").to_string();
    assert!(
        set.starts_with("__Host-vow-console=")
            && set.contains("HttpOnly")
            && set.contains("SameSite=Strict")
            && set.contains("Secure")
            && set.contains("Path=/")
            && set.contains("Max-Age=28800"),
        "{set}"
    );
    assert!(!set.contains(&op[16..]), "the key is not in the cookie");
    let home = b.get("/console").await;
    assert_eq!(home.location(), "/console/t/acme/requests");
    let queue = b.get("/console/t/acme/requests").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    queue.assert_safe();
    assert!(queue.body.contains(key_id(&op)), "who is signed in");
    // Only its own tenant: another's queue is refused.
    let (st, _) = s
        .post(
            &s.admin,
            "/v1/tenants",
            json!({"id": "other", "name": "Other", "role": "controller"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let other = b.get("/console/t/other/requests").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);
    // The session is stored hashed: the cookie's token is not in the table.
    let token = b.cookies["__Host-vow-console"].clone();
    let db = std::fs::read(s.data_dir().join("vow.db")).unwrap();
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()));

    // Revoking the key ends the session at once.
    let (st, r) = s
        .call(
            Method::DELETE,
            &s.admin,
            &format!("/v1/tenants/acme/keys/{}", key_id(&op)),
            None,
        )
        .await;
    assert!(st.is_success(), "{r}");
    let after = b.get("/console/t/acme/requests").await;
    assert_eq!(after.location(), "/console");

    // Sign-out ends a session too.
    let op2 = s.key("acme", "operator", None).await;
    b.sign_in(&op2).await;
    let queue = b.get("/console/t/acme/requests").await;
    assert_eq!(queue.status, StatusCode::OK);
    let out = b.submit(&queue, "/console/sign-out", &[]).await;
    assert_eq!(out.location(), "/console");
    b.cookies.insert("__Host-vow-console".into(), token);
    let again = b.get("/console/t/acme/requests").await;
    assert_eq!(again.location(), "/console");
    let actions = audit_actions(&s).await;
    assert!(actions.contains(&("console.sign_in".to_string(), key_id(&op2).to_string())));
}

#[tokio::test]
async fn console_sign_ins_are_limited_per_address() {
    let s = Server::start().await;
    s.tenant("acme").await;
    let mut b = Browser::new(&s);
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let form = b.get("/console").await;
        let r = b
            .submit(&form, "/console/sign-in", &[("key", "vow_nope")])
            .await;
        statuses.push(r.status);
    }
    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5]);
    assert_eq!(statuses[5..], [StatusCode::TOO_MANY_REQUESTS; 2]);
}

async fn submit_request(s: &Server, op: &str, kind: &str, email: &str, days_ago: i64) -> String {
    let received = crate::harness::now() - jiff::SignedDuration::from_hours(24 * days_ago);
    let (st, r) = s
        .post(
            op,
            "/v1/tenants/acme/requests",
            json!({"type": kind, "channel": "web", "jurisdiction": "CA",
                   "identifiers": {"email": email}, "received_at": received.to_string(),
                   "backdated": days_ago > 30}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    r["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn console_queue_to_fulfilment_through_the_forms() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    for (e, n) in [
        ("ada@example.org", "Ada"),
        ("bo@example.org", "Bo"),
        ("cy@example.org", "Cy"),
    ] {
        s.panelist(&op, "acme", e, n).await;
    }
    let newest = submit_request(&s, &op, "access", "ada@example.org", 1).await;
    let oldest = submit_request(&s, &op, "access", "bo@example.org", 40).await;
    let middle = submit_request(&s, &op, "delete", "cy@example.org", 20).await;
    let mut b = Browser::new(&s);
    b.sign_in(&op).await;

    // The earliest due first; the overdue one is flagged.
    let q = b.get("/console/t/acme/requests").await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let at = |id: &str| {
        q.body
            .find(&format!("Open {id}"))
            .unwrap_or_else(|| panic!("{id} in {}", q.body))
    };
    assert!(
        at(&oldest) < at(&middle) && at(&middle) < at(&newest),
        "{}",
        q.body
    );
    assert!(q.body.contains("class=\"flag overdue\""), "{}", q.body);
    // Filters are GET parameters.
    let deletes = b.get("/console/t/acme/requests?type=delete").await;
    assert!(deletes.body.contains(&middle) && !deletes.body.contains(&newest));
    let overdue = b.get("/console/t/acme/requests?flag=overdue").await;
    assert!(overdue.body.contains(&oldest) && !overdue.body.contains(&newest));
    let none = b.get("/console/t/acme/requests?jurisdiction=US-CA").await;
    assert!(!none.body.contains(&oldest) && none.body.contains("No request matches."));
    let st = b
        .get("/console/t/acme/requests?state=fulfilled&closed=1")
        .await;
    assert!(!st.body.contains(&oldest));

    // From the queue to the request's page.
    let path = format!("/console/t/acme/requests/{newest}");
    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_safe();
    // The evidence stays sealed until asked for.
    assert!(!page.body.contains("ada@example.org"), "{}", page.body);

    // A form without its token changes nothing.
    let forged = b.post(&format!("{path}/fulfil"), &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let (_, v) = s
        .get(&op, &format!("/v1/tenants/acme/requests/{newest}"))
        .await;
    assert_ne!(v["state"], "fulfilled");

    // Opening the evidence shows it, audited under the operator's key.
    let ev = b.submit(&page, &format!("{path}/evidence"), &[]).await;
    assert_eq!(ev.status, StatusCode::OK, "{}", ev.body);
    assert!(ev.body.contains("ada@example.org"), "{}", ev.body);
    let actions = audit_actions(&s).await;
    assert!(
        actions.contains(&("request.evidence_open".to_string(), key_id(&op).to_string())),
        "{actions:?}"
    );

    // Extend needs its reason; the refusal shows on the page.
    let page = b.get(&path).await;
    let no_reason = b
        .submit(&page, &format!("{path}/extend"), &[("reason", "")])
        .await;
    assert_eq!(
        no_reason.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_reason.body
    );
    assert!(no_reason.body.contains("role=\"alert\""));

    // Verify, then fulfil, through the forms.
    let v = b
        .submit(
            &page,
            &format!("{path}/verify"),
            &[("authenticated", "1"), ("declaration", "1")],
        )
        .await;
    assert_eq!(v.location(), format!("{path}?done=verify"));
    let f = b.submit(&page, &format!("{path}/fulfil"), &[]).await;
    assert_eq!(f.location(), format!("{path}?done=fulfil"));
    let shown = b.get(&format!("{path}?done=fulfil")).await;
    assert!(
        shown.body.contains("The request is fulfilled."),
        "{}",
        shown.body
    );
    let (_, v) = s
        .get(&op, &format!("/v1/tenants/acme/requests/{newest}"))
        .await;
    assert_eq!(v["state"], "fulfilled", "{v}");
    // Every step is under the operator's key.
    let steps: Vec<&Value> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["to"] == "verified" || e["to"] == "fulfilled")
        .collect();
    assert_eq!(steps.len(), 2, "{v}");
    assert!(steps.iter().all(|e| e["actor"] == key_id(&op)), "{v}");

    // Deny another with a reason code from the engine's list.
    let path = format!("/console/t/acme/requests/{middle}");
    let page = b.get(&path).await;
    // A step the law does not allow is refused on the page, with the engine's words.
    let p = b
        .submit(
            &page,
            &format!("{path}/pause"),
            &[("reason", "waiting for ID")],
        )
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
    assert!(
        p.body.contains("role=\"alert\">the clock may not pause"),
        "{}",
        p.body
    );
    let d = b
        .submit(
            &page,
            &format!("{path}/deny"),
            &[("code", "exempt"), ("detail", "a legal hold")],
        )
        .await;
    assert_eq!(d.location(), format!("{path}?done=deny"));
    let (_, v) = s
        .get(&op, &format!("/v1/tenants/acme/requests/{middle}"))
        .await;
    assert_eq!(v["state"], "denied", "{v}");
}

#[tokio::test]
async fn console_mails_breach_notices_once_each_and_never_to_the_erased() {
    mailing(Server::start().await).await;
}

#[tokio::test]
async fn console_mails_breach_notices_once_each_on_postgres() {
    if let Some(s) = Server::start_on(Backend::Postgres).await {
        mailing(s).await;
    }
}

/// Breach notices mailed from the console, on any backend.
async fn mailing(s: Server) {
    let op = s
        .tenant_with(
            "prairie",
            "controller",
            &research_in("CA, CA-QC, US-CA, EU"),
        )
        .await;
    let mail = s.data_dir().join("mail");
    s.engine.set_mailer(
        vow_engine::mail::Mailer::new(
            vow_engine::mail::MailTransport::File { dir: mail.clone() },
            "privacy@prairie.example",
        )
        .unwrap(),
    );
    let t = "prairie";
    for (email, residence) in [
        ("a@example.org", "US-CA"),
        ("b@example.org", "CA-SK"),
        ("c@example.org", "US-CA"),
    ] {
        person(
            &s,
            &op,
            t,
            email,
            Some(residence),
            &[("user.name", "primary", "2026-09-01T10:00:00Z")],
        )
        .await;
    }
    // Outside the incident.
    person(
        &s,
        &op,
        t,
        "d@example.org",
        Some("US-CA"),
        &[("user.name", "backup", "2026-09-01T10:00:00Z")],
    )
    .await;
    let (st, impact) = s
        .post(
            &op,
            "/v1/tenants/prairie/incidents",
            incident(&["primary"], &["user.name"]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{impact}");
    assert_eq!(impact["affected"], 3);
    let id = impact["id"].as_str().unwrap().to_string();
    // Erased after the assessment: not mailed.
    erase(&s, &op, t, "c@example.org").await;
    // The mails written so far, by file name (the erasure's own notices among them).
    let emls = || -> BTreeMap<String, String> {
        std::fs::read_dir(&mail)
            .map(|d| {
                d.map(|e| {
                    let p = e.unwrap().path();
                    (
                        p.display().to_string(),
                        std::fs::read_to_string(&p).unwrap(),
                    )
                })
                .collect()
            })
            .unwrap_or_default()
    };
    let earlier = emls();
    let before = earlier.len();

    let mut b = Browser::new(&s);
    b.sign_in(&op).await;
    let list = b.get("/console/t/prairie/incidents").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains(&format!("Open {id}")));
    let path = format!("/console/t/prairie/incidents/{id}");
    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_safe();
    assert!(
        page.body.contains("Deadlines") && page.body.contains("Draft for individuals"),
        "{}",
        page.body
    );
    // Without the token: nothing is sent.
    let forged = b.post(&format!("{path}/send"), &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(emls().len(), before);

    // The generated draft has placeholders: nothing is mailed until the team
    // completes it; the refusal names what is left.
    let refused = b.submit(&page, &format!("{path}/send"), &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("placeholder")
            && refused
                .body
                .contains("[The privacy team completes this section before sending.]"),
        "{}",
        refused.body
    );
    assert_eq!(emls().len(), before);
    // The team's text must keep every heading the laws require.
    let (_, imp) = s
        .get(&op, &format!("/v1/tenants/prairie/incidents/{id}/impact"))
        .await;
    let draft = imp["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["audience"] == "individuals" && n["tenant"] == "prairie")
        .unwrap()
        .clone();
    let contents: Vec<String> = draft["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    assert!(!contents.is_empty(), "{draft}");
    assert!(
        page.body.contains("Edit the notice to individuals"),
        "{}",
        page.body
    );
    let short = b
        .submit(
            &page,
            &format!("{path}/draft"),
            &[("subject", "Notice"), ("body", "We are sorry.")],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST, "{}", short.body);
    assert!(
        short.body.contains(&contents[0]),
        "names the missing heading: {}",
        short.body
    );
    let (st, p) = s
        .call(
            reqwest::Method::PUT,
            &op,
            &format!("/v1/tenants/prairie/incidents/{id}/notices/individuals/draft"),
            Some(json!({"subject": "Notice", "body": "We are sorry."})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert!(p.to_string().contains("/body"), "{p}");
    // Complete but for one placeholder: saved, still not mailed.
    let text: String = contents
        .iter()
        .map(|h| format!("{h}\r\nAbout {h}: what we know now.\r\n\r\n"))
        .collect();
    let saved = b
        .submit(
            &page,
            &format!("{path}/draft"),
            &[
                ("subject", "Prairie Research: a breach of your data"),
                ("body", &format!("{text}Contact {{phone}}")),
            ],
        )
        .await;
    assert_eq!(saved.location(), format!("{path}?edited=1"));
    let refused = b.submit(&page, &format!("{path}/send"), &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("{phone}"), "{}", refused.body);
    assert!(
        !refused.body.contains("privacy team completes"),
        "{}",
        refused.body
    );
    let saved = b
        .submit(
            &page,
            &format!("{path}/draft"),
            &[
                ("subject", "Prairie Research: a breach of your data"),
                ("body", &format!("{text}Contact us at 306-555-0100.")),
            ],
        )
        .await;
    assert_eq!(saved.location(), format!("{path}?edited=1"));
    let page = b.get(&format!("{path}?edited=1")).await;
    assert!(
        page.body.contains("The notice&#39;s text is saved")
            || page.body.contains("The notice's text is saved"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Last edited"), "{}", page.body);
    assert!(
        page.body.contains("306-555-0100"),
        "the edited text is shown"
    );
    assert_eq!(emls().len(), before);

    let sent = b.submit(&page, &format!("{path}/send"), &[]).await;
    assert_eq!(
        sent.location(),
        format!("{path}?sent=2&erased=1&no_email=0&failed=0")
    );
    let breach_mails: Vec<String> = emls()
        .into_iter()
        .filter(|(name, _)| !earlier.contains_key(name))
        .map(|(_, m)| m)
        .collect();
    let to = |addr: &str| {
        breach_mails
            .iter()
            .filter(|m| m.contains(&format!("To: {addr}")))
            .count()
    };
    assert_eq!(to("a@example.org"), 1, "{breach_mails:?}");
    assert_eq!(to("b@example.org"), 1);
    assert_eq!(to("c@example.org"), 0, "the erased person is not mailed");
    assert!(
        breach_mails.iter().all(
            |m| m.contains("Subject: Prairie Research: a breach of your data")
                && m.contains("306-555-0100")
        ),
        "the edited text is mailed: {breach_mails:?}"
    );
    assert_eq!(to("d@example.org"), 0, "outside the incident");
    let mailed = emls().len();

    // Pressed again (or through the API): nobody is mailed twice.
    let again = b.submit(&page, &format!("{path}/send"), &[]).await;
    assert_eq!(
        again.location(),
        format!("{path}?sent=0&erased=0&no_email=0&failed=0")
    );
    let (st, m) = s
        .post(
            &op,
            &format!("/v1/tenants/prairie/incidents/{id}/notices/individuals/send"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{m}");
    assert_eq!(m["sent"], 0);
    assert_eq!(m["total"], json!({"sent": 2, "erased": 1}));
    assert_eq!(emls().len(), mailed);

    // Recorded on the incident as a notification to individuals, under the key.
    let (_, v) = s
        .get(&op, &format!("/v1/tenants/prairie/incidents/{id}"))
        .await;
    let notes: Vec<&Value> = v["notifications"].as_array().unwrap().iter().collect();
    assert_eq!(notes.len(), 1, "{v}");
    assert_eq!(notes[0]["audience"], "individuals");
    assert_eq!(notes[0]["recorded_by"], key_id(&op));
    assert!(
        notes[0]["note"]
            .as_str()
            .unwrap()
            .contains("mailed by Vow to 2 people"),
        "{v}"
    );
    let shown = b
        .get(&format!("{path}?sent=2&erased=1&no_email=0&failed=0"))
        .await;
    assert!(shown.body.contains("Mailed 2 people."), "{}", shown.body);
    s.drop_db().await;
}

#[tokio::test]
async fn console_retention_reports_and_audit_pages() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let mut b = Browser::new(&s);
    b.sign_in(&op).await;
    let page = b.get("/console/t/acme/retention").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("No run yet."));
    let run = b
        .submit(&page, "/console/t/acme/retention", &[("dry_run", "1")])
        .await;
    assert_eq!(run.location(), "/console/t/acme/retention?done=dry");
    let page = b.get("/console/t/acme/retention").await;
    assert!(page.body.contains("dry run"), "{}", page.body);

    let reports = b.get("/console/t/acme/reports").await;
    assert_eq!(reports.status, StatusCode::OK);
    let map = b.get("/console/t/acme/reports/data-map?format=md").await;
    assert_eq!(map.status, StatusCode::OK, "{}", map.body);
    assert!(map.header("content-disposition").starts_with("attachment"));
    let view = b.get("/console/t/acme/reports/data-map?format=html").await;
    assert!(view.header("content-type").starts_with("text/html"));

    let audit = b.get("/console/audit").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    assert!(audit.body.contains("The chains verify"), "{}", audit.body);
    assert!(
        audit
            .body
            .contains("Chain checked: tenant acme&#39;s alone."),
        "{}",
        audit.body
    );
}

/// The console in French: `?lang=fr` (or `Accept-Language`) puts every page's words in
/// French, and its links and forms keep the language; data stays as it is.
#[tokio::test]
async fn console_pages_in_french() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    let id = submit_request(&s, &op, "access", "ada@example.org", 1).await;
    let mut b = Browser::new(&s);
    b.sign_in(&op).await;
    let q = b.get("/console/t/acme/requests?lang=fr").await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    q.assert_safe();
    assert!(q.body.contains("<html lang=\"fr\""), "{}", q.body);
    for fr in [
        "Demandes · acme",
        "Se déconnecter",
        "Conservation",
        "Chaîne d&#39;audit",
        "Tous les types",
        "Filtrer",
        "Échéance",
        &format!("Ouvrir {id}"),
    ] {
        assert!(q.body.contains(fr), "{fr}: {}", q.body);
    }
    for en in [
        "Sign out",
        "Every type",
        "Include closed requests",
        ">Requests<",
    ] {
        assert!(!q.body.contains(en), "{en} left in English: {}", q.body);
    }
    // Links and the filter keep the language.
    assert!(
        q.body
            .contains(&format!("href=\"/console/t/acme/requests/{id}?lang=fr\"")),
        "{}",
        q.body
    );
    assert!(q.body.contains("name=\"lang\" value=\"fr\""), "{}", q.body);
    let r = b
        .get(&format!("/console/t/acme/requests/{id}?lang=fr"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for fr in [
        "Historique",
        "Vérifier",
        "Prolonger",
        "Ouvrir les preuves",
        "Retour à la file",
        &format!("Demande {id}"),
    ] {
        assert!(r.body.contains(fr), "{fr}: {}", r.body);
    }
    assert!(r.body.contains(&format!(
        "action=\"/console/t/acme/requests/{id}/verify?lang=fr\""
    )));
    // Accept-Language chooses too; English without either.
    let req = b
        .client
        .get(format!("{}/console/t/acme/requests", s.base))
        .header("accept-language", "fr-CA,fr;q=0.9");
    let accepted = b.send(req).await;
    assert!(
        accepted.body.contains("Se déconnecter"),
        "{}",
        accepted.body
    );
    let en = b.get("/console/t/acme/requests").await;
    assert!(en.body.contains("Sign out") && !en.body.contains("Se déconnecter"));
    // The sign-in page too.
    let mut other = Browser::new(&s);
    let sign_in = other.get("/console?lang=fr").await;
    assert!(sign_in.body.contains("Clé d&#39;API"), "{}", sign_in.body);
}

#[tokio::test]
async fn console_request_page_shows_its_connector_jobs_and_retries_the_failed() {
    use crate::external::{customer_in_vault, run_jobs, shop, state_of, submit_and_fulfil};
    let s = Server::start().await;
    let (op, db) = shop(&s, vow_connect::Kind::Sqlite, 4).await;
    let email = vow_connect::shop::email(1);
    customer_in_vault(&s, &op, &email).await;
    // The shop's database refuses changes to customers for now.
    let conn = vow_connect::Db::open(&db.target, 1).await.unwrap();
    vow_connect::shop::query(
        &conn,
        "CREATE TRIGGER hold_customers BEFORE UPDATE ON customers BEGIN SELECT RAISE(ABORT, 'locked'); END",
    )
    .await
    .unwrap();
    let id = submit_and_fulfil(
        &s,
        &op,
        json!({"type": "delete", "channel": "web", "identifiers": {"email": email}}),
    )
    .await;
    let mut b = Browser::new(&s);
    b.sign_in(&op).await;
    let path = format!("/console/t/shop/requests/{id}");
    let retry = format!("{path}/retry-jobs");
    let cells = |page: &Page| -> Vec<String> {
        let at = page.body.find("<h2>Other systems</h2>").unwrap_or_else(|| {
            panic!("the section: {}", page.body);
        });
        let table = &page.body[at..];
        let row = &table[table.find("<td").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        row.split("<td")
            .skip(1)
            .map(|c| {
                let text = &c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()];
                text.to_string()
            })
            .collect()
    };
    // Before the runner: the job waits; nothing to retry.
    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_safe();
    assert_eq!(
        cells(&page),
        ["shop", "orders", "Erasure", "Pending", "0", "—", ""],
        "{}",
        page.body
    );
    assert!(!page.body.contains(&retry), "{}", page.body);
    // It fails on customers: the error names the collection, never a value, and the
    // retry button appears.
    let report = run_jobs(&s, &op).await;
    assert_eq!(report["failed"], 1, "{report}");
    let page = b.get(&path).await;
    let failed = cells(&page);
    assert_eq!(
        failed[..5],
        ["shop", "orders", "Erasure", "Failed", "1"],
        "{failed:?}"
    );
    assert!(failed[6].contains("customers"), "{failed:?}");
    assert!(!page.body.contains(&email), "{}", page.body);
    assert!(page.body.contains("class=\"flag failed\""), "{}", page.body);
    assert!(
        page.body.contains(&format!("action=\"{retry}\"")),
        "{}",
        page.body
    );
    // In French too.
    let fr = b.get(&format!("{path}?lang=fr")).await;
    for w in [
        "Autres systèmes",
        "Effacement",
        "Échouée",
        "Tentatives",
        "Relancer les tâches échouées",
    ] {
        assert!(fr.body.contains(w), "{w}: {}", fr.body);
    }
    // Without its token the button changes nothing.
    let forged = b.post(&retry, &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(state_of(&s, &op, &id).await.states().1, ["failed"]);
    // Fixed, retried through the button (as `POST …/connector-jobs/retry`), run again.
    vow_connect::shop::query(&conn, "DROP TRIGGER hold_customers")
        .await
        .unwrap();
    let done = b.submit(&page, &retry, &[]).await;
    assert_eq!(done.location(), format!("{path}?done=retry-jobs"));
    let shown = b.get(&format!("{path}?done=retry-jobs")).await;
    assert!(
        shown.body.contains("The failed jobs are put back to run."),
        "{}",
        shown.body
    );
    assert_eq!(cells(&shown)[3], "Pending", "{}", shown.body);
    let actions = audit_actions(&s).await;
    assert!(
        actions.contains(&("connector.retry".to_string(), key_id(&op).to_string())),
        "{actions:?}"
    );
    // Nothing left to retry: the engine's refusal shows on the page.
    let again = b.submit(&page, &retry, &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again.body.contains("no failed connector job"),
        "{}",
        again.body
    );
    let report = run_jobs(&s, &op).await;
    assert_eq!(report["done"], 1, "{report}");
    let page = b.get(&path).await;
    let done = cells(&page);
    assert_eq!(
        done[..5],
        ["shop", "orders", "Erasure", "Done", "2"],
        "{done:?}"
    );
    assert!(
        done[5].contains("customers 1"),
        "per collection rows: {done:?}"
    );
    assert_eq!(done[6], "", "{done:?}");
    assert!(!page.body.contains(&retry), "{}", page.body);
    db.drop_db().await.unwrap();
}
