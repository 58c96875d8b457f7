//! The preference centre and Global Privacy Control (issue 10), through HTTP as a
//! browser would, reading the mail directory: a link mailed to the address on file,
//! the purposes with their state and history, a change through the ledger with the
//! page as evidence (and `consent.withdrawn` to the recipient), the same page for an
//! unknown address, and `Sec-GPC: 1` with a person identified and without.

use crate::harness::{POLICY, Server};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// The test policy with a sharing purpose and a mailing house that receives e-mail
/// addresses for the newsletter.
fn policy() -> String {
    POLICY
        .replace(
            "recipients:\n",
            "recipients:\n  - id: mail-house\n    name: Mail House Ltd.\n    kind: vendor\n    categories: [user.name, user.contact.email]\n    purposes: [marketing.email]\n    country: CA\n",
        )
        .replace(
            "  - id: sale\n",
            "  - id: sharing.ads\n    description: Sharing your e-mail address with advertising partners\n    basis: consent\n    categories: [user.contact.email]\n  - id: sale\n",
        )
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    async fn from(res: reqwest::Response) -> Page {
        Page {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    /// The `name=value` of a cookie set, after checking its attributes.
    fn cookie(&self, name: &str) -> Option<String> {
        let set = self
            .cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))?;
        assert!(
            set.contains("HttpOnly") && set.contains("Secure") && set.contains("Path=/"),
            "{set}"
        );
        Some(set.split(';').next().unwrap().to_string())
    }

    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a csrf field")
            + 19;
        self.body[at..].split('"').next().unwrap().to_string()
    }

    fn assert_safe(&self) {
        assert!(
            self.headers["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with("default-src 'none'")
        );
        assert!(!self.body.to_ascii_lowercase().contains("<script"));
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get(s: &Server, path: &str, headers: &[(&str, &str)]) -> Page {
    let mut req = client().get(format!("{}{path}", s.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    Page::from(req.send().await.unwrap()).await
}

async fn post(s: &Server, path: &str, cookie: &str, body: &[(&str, &str)]) -> Page {
    let res = client()
        .post(format!("{}{path}", s.base))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(body)
                .finish(),
        )
        .send()
        .await
        .unwrap();
    Page::from(res).await
}

fn mails(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .map(|p| std::fs::read_to_string(p).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// The mails, once `n` have arrived (the link is mailed after the page answers).
async fn wait_for_mails(dir: &Path, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let m = mails(dir);
        if m.len() >= n {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} mails did not arrive");
}

/// The preference link in a mail (quoted-printable soft breaks removed).
fn link_in(eml: &str) -> String {
    let flat = eml.replace("=\r\n", "").replace("=\n", "");
    let at = flat
        .find("/privacy/acme/preferences/link/")
        .expect("a link");
    flat[at..]
        .split(|c: char| !(c.is_ascii_alphanumeric() || "/-_".contains(c)))
        .next()
        .unwrap()
        .to_string()
}

async fn setup() -> (Server, String, String, std::path::PathBuf) {
    let s = Server::start().await;
    let op = s.tenant_with("acme", "controller", &policy()).await;
    let mail = s.data_dir().join("mail");
    s.engine.set_mailer(
        vow_engine::mail::Mailer::new(
            vow_engine::mail::MailTransport::File { dir: mail.clone() },
            "privacy@acme.example",
        )
        .unwrap(),
    );
    let (st, b) = s
        .post(
            &op,
            "/v1/tenants/acme/subjects",
            json!({"identifiers": {"email": "nell@example.org"},
                   "fields": [{"category": "user.name", "value": "Nell Reader", "purposes": ["marketing.email"]},
                              {"category": "user.contact.email", "value": "nell@example.org", "purposes": ["marketing.email", "sharing.ads"]}],
                   "consents": [{"purpose": "marketing.email", "evidence": {"channel": "web", "shown": "Newsletter sign-up"}},
                                {"purpose": "sharing.ads", "evidence": {"channel": "web"}}]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let subject = b["id"].as_str().unwrap().to_string();
    // The mailing house receives the address for the newsletter.
    let (st, d) = s
        .post(
            &op,
            "/v1/tenants/acme/disclosures",
            json!({"recipient": "mail-house", "purpose": "marketing.email",
                   "categories": ["user.contact.email"], "subjects": [subject]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    (s, op, subject, mail)
}

/// Ask for a link with the form; the page is the same for anyone.
async fn ask_link(s: &Server, email: &str) -> Page {
    let form = get(s, "/privacy/acme/preferences", &[]).await;
    assert_eq!(form.status, StatusCode::OK);
    form.assert_safe();
    assert!(form.body.contains("type=\"email\""), "{}", form.body);
    let cookie = form.cookie("__Host-vow-form").unwrap();
    let sent = post(
        s,
        "/privacy/acme/preferences",
        &cookie,
        &[("csrf", &form.csrf()), ("email", email)],
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    sent
}

async fn ledger(s: &Server, op: &str, subject: &str) -> Value {
    let (st, c) = s
        .get(op, &format!("/v1/tenants/acme/subjects/{subject}/consents"))
        .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    c
}

#[tokio::test]
async fn a_person_verifies_by_a_mailed_link_sees_their_purposes_and_changes_one() {
    let (s, op, subject, mail) = setup().await;

    // An unknown address and a known one get the same page; only the known gets mail.
    let unknown = ask_link(&s, "nobody@example.org").await;
    let known = ask_link(&s, "Nell@Example.org").await;
    assert_eq!(unknown.body, known.body);
    assert!(known.body.contains("Check your e-mail"));
    let emls = wait_for_mails(&mail, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(mails(&mail).len(), 1, "no mail for the unknown address");
    assert!(emls[0].contains("To: nell@example.org"), "{}", emls[0]);

    // Without the form token the form is refused.
    let forged = post(
        &s,
        "/privacy/acme/preferences",
        "",
        &[("email", "nell@example.org")],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // The link opens a session and shows the purposes in the policy's words.
    let link = link_in(&emls[0]);
    let page = get(&s, &link, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_safe();
    let session = page.cookie("__Host-vow-prefs").expect("a session cookie");
    assert!(page.cookies().iter().any(|c| c.contains("__Host-vow-prefs")
        && c.contains("SameSite=Strict")
        && c.contains("Max-Age=1800")));
    assert!(page.body.contains("Newsletters"), "{}", page.body);
    assert!(page.body.contains("Studies you agree to take part in"));
    assert!(
        !page.body.contains("Selling personal information"),
        "a forbidden purpose is no choice"
    );
    assert!(page.body.contains("you agree"));
    assert!(
        page.body.contains("by web"),
        "the history names the channel"
    );

    // A forged link opens nothing and says so.
    let bad = get(&s, "/privacy/acme/preferences/link/AAAA", &[]).await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.body.contains("not valid or has expired"));
    assert!(bad.cookie("__Host-vow-prefs").is_none());

    // Withdraw the newsletter from the page.
    let form_cookie = page.cookie("__Host-vow-form").unwrap();
    let cookies = format!("{form_cookie}; {session}");
    let done = post(
        &s,
        "/privacy/acme/preferences/change",
        &cookies,
        &[
            ("csrf", &page.csrf()),
            ("purpose", "marketing.email"),
            ("action", "withdraw"),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let after = get(
        &s,
        "/privacy/acme/preferences?saved=1",
        &[("cookie", &cookies)],
    )
    .await;
    assert!(
        after.body.contains("Your choice is saved."),
        "{}",
        after.body
    );
    assert!(after.body.contains("withdrawn"));

    // The ledger has it, with the page as evidence, and the mailing house is told.
    let c = ledger(&s, &op, &subject).await;
    assert_eq!(c["current"]["marketing.email"]["state"], "withdrawn", "{c}");
    let last = c["history"].as_array().unwrap().last().unwrap();
    assert_eq!(last["evidence"]["channel"], "web");
    assert_eq!(last["evidence"]["page"], "preferences");
    assert_eq!(last["evidence"]["shown"], "Newsletters");
    assert!(last["evidence"].get("ip").is_none());
    let (_, deliveries) = s.get(&op, "/v1/tenants/acme/deliveries").await;
    assert!(
        deliveries
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["event"] == "consent.withdrawn" && d["recipient"] == "mail-house"),
        "{deliveries}"
    );

    // A change without the token is refused; without a session it asks for a link.
    let refused = post(
        &s,
        "/privacy/acme/preferences/change",
        &session,
        &[("purpose", "marketing.email"), ("action", "grant")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let no_session = post(
        &s,
        "/privacy/acme/preferences/change",
        &form_cookie,
        &[
            ("csrf", &page.csrf()),
            ("purpose", "marketing.email"),
            ("action", "grant"),
        ],
    )
    .await;
    assert!(no_session.body.contains("type=\"email\""));
    assert_eq!(
        ledger(&s, &op, &subject).await["current"]["marketing.email"]["state"],
        "withdrawn"
    );

    // French chrome, the policy's own words.
    let fr = get(
        &s,
        "/privacy/acme/preferences?lang=fr",
        &[("cookie", &cookies)],
    )
    .await;
    assert!(
        fr.body.contains("Vos préférences de confidentialité"),
        "{}",
        fr.body
    );
    assert!(fr.body.contains("Newsletters"));
}

#[tokio::test]
async fn gpc_is_an_opt_out_of_sale_and_sharing_for_the_person_and_for_the_browser() {
    let (s, op, subject, mail) = setup().await;

    // No one identified: the browser is recorded once, with a cookie of its own.
    let first = get(&s, "/privacy/acme", &[("sec-gpc", "1")]).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(
        first.body.contains("Opt-Out Request Honored"),
        "{}",
        first.body
    );
    let browser = first.cookie("__Host-vow-gpc").expect("a browser id");
    let again = get(
        &s,
        "/privacy/acme",
        &[("sec-gpc", "1"), ("cookie", &browser)],
    )
    .await;
    assert!(again.body.contains("Opt-Out Request Honored"));
    assert!(again.cookie("__Host-vow-gpc").is_none());
    let plain = get(&s, "/privacy/acme", &[]).await;
    assert!(!plain.body.contains("Opt-Out Request Honored"));
    let id = browser.split_once('=').unwrap().1;
    let tenant = vow_core::TenantId::new("acme").unwrap();
    let when = s.engine.gpc_browser_recorded(&tenant, id).await.unwrap();
    assert!(when.is_some(), "recorded");
    get(
        &s,
        "/privacy/acme/preferences",
        &[("sec-gpc", "1"), ("cookie", &browser)],
    )
    .await;
    assert_eq!(
        s.engine.gpc_browser_recorded(&tenant, id).await.unwrap(),
        when,
        "once"
    );
    // The store keeps an HMAC of the id, never the id.
    let mut tx = s.store().read().await.unwrap();
    assert!(tx.gpc_browser("acme", id).await.unwrap().is_none());
    drop(tx);

    // A person identified by a preference session: their sharing purpose is withdrawn
    // through the ledger, with the signal as evidence; marketing is not touched.
    ask_link(&s, "nell@example.org").await;
    let link = link_in(&wait_for_mails(&mail, 1).await[0]);
    let page = get(&s, &link, &[]).await;
    let session = page.cookie("__Host-vow-prefs").unwrap();
    let signalled = get(
        &s,
        "/privacy/acme/preferences",
        &[("sec-gpc", "1"), ("cookie", &session)],
    )
    .await;
    assert!(
        signalled.body.contains("Opt-Out Request Honored"),
        "{}",
        signalled.body
    );
    assert!(
        signalled.body.contains("Global Privacy Control signal"),
        "the history says how"
    );
    let c = ledger(&s, &op, &subject).await;
    assert_eq!(c["current"]["sharing.ads"]["state"], "withdrawn", "{c}");
    assert_eq!(c["current"]["marketing.email"]["state"], "granted", "{c}");
    let gpc: Vec<&Value> = c["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["evidence"]["signal"] == "Sec-GPC: 1")
        .collect();
    assert!(!gpc.is_empty());
    let events = gpc.len();
    assert_eq!(gpc[0]["evidence"]["channel"], "web");
    // Once: a second page load with the signal records nothing more.
    get(
        &s,
        "/privacy/acme",
        &[("sec-gpc", "1"), ("cookie", &session)],
    )
    .await;
    get(
        &s,
        "/privacy/acme/preferences",
        &[("sec-gpc", "1"), ("cookie", &session)],
    )
    .await;
    let c = ledger(&s, &op, &subject).await;
    let again = c["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["evidence"]["signal"] == "Sec-GPC: 1")
        .count();
    assert_eq!(again, events, "{c}");
}

#[tokio::test]
async fn a_sending_system_gets_a_preference_link_with_each_unsubscribe_link() {
    let (s, op, subject, _) = setup().await;
    let (st, b) = s
        .post(
            &op,
            "/v1/tenants/acme/unsubscribe-links",
            json!({"purpose": "marketing.email", "subjects": [subject]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let url = b["links"][0]["preferences"].as_str().unwrap();
    let path = &url[url.find("/privacy/").unwrap()..];
    let page = get(&s, path, &[]).await;
    assert!(page.cookie("__Host-vow-prefs").is_some());
    assert!(page.body.contains("Newsletters"));

    // The page after an unsubscribe links on to the preference centre, by a relative
    // link that names no tenant (the same page for every token).
    let u = b["links"][0]["url"].as_str().unwrap();
    let u_path = &u[u.find("/u/").unwrap()..];
    let confirm = get(&s, u_path, &[]).await;
    let form = confirm.cookie("__Host-vow-form").unwrap();
    let done = post(&s, u_path, &form, &[("csrf", &confirm.csrf())]).await;
    assert!(
        done.body.contains("href=\"?then=preferences&amp;lang=en\""),
        "{}",
        done.body
    );
    let on = get(&s, &format!("{u_path}?then=preferences"), &[]).await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    assert_eq!(on.headers["location"], "/privacy/acme/preferences?lang=en");
    let forged = get(&s, "/u/AAAA?then=preferences", &[]).await;
    assert_eq!(
        forged.status,
        StatusCode::OK,
        "a bad token: the confirmation page"
    );
}
