//! The request portal (issue 10, R22): `/privacy/{t}/request`. Through HTTP as a
//! browser would (reqwest, keeping the form cookie by hand), with the mail read from
//! the mail directory: an access request from the form to the code, the status page
//! and the download; an agent's and a parent's request with their documents; the
//! same page and mails for a person nobody knows; rate limits; CSRF.

use crate::harness::{POLICY, Server, TODAY};
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const STRICT_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

struct Page {
    status: StatusCode,
    csp: String,
    body: String,
}

impl Page {
    /// The value of the first input called `name`.
    fn input(&self, name: &str) -> String {
        let at = self
            .body
            .find(&format!("name=\"{name}\" value=\""))
            .unwrap_or_else(|| panic!("an input {name}: {}", self.body))
            + name.len()
            + 15;
        self.body[at..].split('"').next().unwrap().to_string()
    }

    fn assert_safe(&self) {
        assert_eq!(self.csp, STRICT_CSP);
        assert!(!self.body.to_ascii_lowercase().contains("<script"));
        assert!(self.body.starts_with("<!DOCTYPE html>"), "{}", self.body);
    }
}

/// A browser: the server's form cookie, kept between requests.
struct Browser<'a> {
    s: &'a Server,
    cookie: Option<String>,
    /// The Global Privacy Control browser id, once the server set one.
    gpc_cookie: Option<String>,
    /// Whether it sends `Sec-GPC: 1`.
    gpc: bool,
}

impl<'a> Browser<'a> {
    fn new(s: &'a Server) -> Self {
        Browser {
            s,
            cookie: None,
            gpc_cookie: None,
            gpc: false,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.s.base)
        }
    }

    async fn read(&mut self, res: reqwest::Response) -> Page {
        for set in res.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let pair = Some(set.split(';').next().unwrap().to_string());
            if set.starts_with("__Host-vow-gpc=") {
                self.gpc_cookie = pair;
            } else {
                assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
                self.cookie = pair;
            }
        }
        Page {
            status: res.status(),
            csp: res
                .headers()
                .get("content-security-policy")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default(),
            body: res.text().await.unwrap(),
        }
    }

    fn with_cookie(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let cookies: Vec<&str> = [&self.cookie, &self.gpc_cookie]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let req = if self.gpc {
            req.header("sec-gpc", "1")
        } else {
            req
        };
        if cookies.is_empty() {
            req
        } else {
            req.header("cookie", cookies.join("; "))
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.with_cookie(self.s.client.get(self.url(path)));
        self.read(req.send().await.unwrap()).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = url_encode(fields);
        let req = self.with_cookie(
            self.s
                .client
                .post(self.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        );
        self.read(req.send().await.unwrap()).await
    }

    /// The person's own request: their address, living in Canada.
    async fn ask(&mut self, path: &str, csrf: &str, email: &str) -> Page {
        self.post_multipart(
            path,
            &[("csrf", csrf), ("email", email), ("region", "CA")],
            None,
        )
        .await
    }

    /// A multipart form post, as a browser sends a form with a file.
    async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> Page {
        let b = "----vowtestboundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                    .as_bytes(),
            );
        }
        if let Some((filename, bytes)) = file {
            body.extend_from_slice(
                format!("--{b}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
        let req = self.with_cookie(
            self.s
                .client
                .post(self.url(path))
                .header("content-type", format!("multipart/form-data; boundary={b}"))
                .body(body),
        );
        self.read(req.send().await.unwrap()).await
    }
}

fn url_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc = |s: &str| {
                s.bytes()
                    .map(|b| match b {
                        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A mail from the mail directory, decoded.
#[derive(Debug, Clone)]
struct Mail {
    to: String,
    subject: String,
    body: String,
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

fn mails(dir: &Path) -> Vec<Mail> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(d) => d.map(|e| e.unwrap().path()).collect(),
        Err(_) => return Vec::new(),
    };
    files.sort();
    files
        .iter()
        .map(|f| {
            let raw = std::fs::read_to_string(f).unwrap();
            let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
            let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
            let header = |name: &str| {
                head.lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .unwrap_or("")
                    .to_string()
            };
            let mut body = String::new();
            for part in rest.split("\r\n--") {
                let Some((ph, content)) = part.split_once("\r\n\r\n") else {
                    continue;
                };
                if ph.contains("Content-Transfer-Encoding: base64") {
                    let clean: String = content
                        .chars()
                        .take_while(|c| *c != '-')
                        .filter(|c| !c.is_whitespace())
                        .collect();
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(clean)
                        .unwrap_or_default();
                    body.push_str(&String::from_utf8_lossy(&bytes));
                } else if ph.contains("quoted-printable") {
                    body.push_str(&decode_qp(content));
                } else {
                    body.push_str(content);
                }
                body.push('\n');
            }
            Mail {
                to: header("To"),
                subject: header("Subject"),
                body,
            }
        })
        .collect()
}

/// The six-digit code standing on a line of its own.
fn code_of(m: &Mail) -> String {
    m.body
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or_else(|| panic!("a code in {}", m.body))
        .to_string()
}

/// The status link of an acknowledgement.
fn status_link(m: &Mail) -> String {
    let at = m
        .body
        .find("http")
        .and_then(|_| m.body.find("/request/status/"))
        .unwrap_or_else(|| panic!("a status link in {}", m.body));
    let start = m.body[..at].rfind("http").unwrap();
    m.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_/:.".contains(*c))
        .collect()
}

/// A server with a tenant, a panelist, mail to files and links to itself.
async fn portal_server(s: &Server, policy: &str) -> (String, PathBuf) {
    s.engine.set_public_url(&s.base);
    let op = s.tenant_with("acme", "controller", policy).await;
    let dir = s.data_dir().join("mail");
    s.engine.set_mailer(
        vow_engine::mail::Mailer::new(
            vow_engine::mail::MailTransport::File { dir: dir.clone() },
            "privacy@acme.example",
        )
        .unwrap(),
    );
    s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    (op, dir)
}

async fn requests(s: &Server, op: &str) -> Vec<Value> {
    let (st, list) = s.get(op, "/v1/tenants/acme/requests").await;
    assert_eq!(st, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}

/// Ids, tokens and codes masked: what is left must not depend on who asked.
fn masked(html: &str) -> String {
    let mut out = html.to_string();
    if let Some(at) = out.find("name=\"ref\" value=\"") {
        let start = at + 18;
        let end = start + out[start..].find('"').unwrap();
        out.replace_range(start..end, "REF");
    }
    out
}

#[tokio::test]
async fn an_access_request_from_the_form_to_the_download() {
    let s = Server::start().await;
    let (op, dir) = portal_server(&s, POLICY).await;
    let mut b = Browser::new(&s);

    // The types offered, each leading to its form.
    let index = b.get("/privacy/acme/request").await;
    assert_eq!(index.status, StatusCode::OK);
    index.assert_safe();
    assert!(
        index
            .body
            .contains("href=\"/privacy/acme/request/access?lang=en\""),
        "{}",
        index.body
    );
    assert!(index.body.contains("Get a copy of my information"));
    let fr = b.get("/privacy/acme/request?lang=fr").await;
    assert!(fr.body.contains("<html lang=\"fr\""));
    assert!(fr.body.contains("Obtenir une copie de mes renseignements"));

    let form = b.get("/privacy/acme/request/access").await;
    assert_eq!(form.status, StatusCode::OK);
    form.assert_safe();
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    assert!(form.body.contains("name=\"email\""));
    assert!(
        form.body.contains("<option value=\"CA\""),
        "the covered places: {}",
        form.body
    );
    // Only what the rule needs: no document, no name for the person themselves.
    assert!(!form.body.contains("name=\"document\"") && !form.body.contains("name=\"name\""));
    let csrf = form.input("csrf");

    // A bad address redisplays the form with the message at the field and the
    // person's own input back in it.
    let bad = b
        .ask("/privacy/acme/request/access", &csrf, "ada-at-example")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    bad.assert_safe();
    assert!(
        bad.body
            .contains("Enter an e-mail address like name@example.org."),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"ada-at-example\""));
    assert!(bad.body.contains("href=\"#f-email\""));
    assert!(requests(&s, &op).await.is_empty());

    let sent = b
        .ask("/privacy/acme/request/access", &csrf, "ada@example.org")
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    sent.assert_safe();
    assert!(sent.body.contains("Check your e-mail"));
    assert!(
        !sent.body.contains("ada@example.org"),
        "the page repeats nothing"
    );

    // Two mails: the acknowledgement with the status link, and the code.
    let m = mails(&dir);
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(m.iter().all(|x| x.to == "ada@example.org"), "{m:?}");
    let ack = m
        .iter()
        .find(|x| x.subject.contains("we have received"))
        .unwrap();
    let code_mail = m
        .iter()
        .find(|x| x.subject.contains("verification code"))
        .unwrap();
    let link = status_link(ack);
    assert!(
        link.starts_with(&format!("{}/privacy/acme/request/status/", s.base)),
        "{link}"
    );
    let code = code_of(code_mail);

    // The request: channel web, in the operator's queue, audited as the portal.
    let list = requests(&s, &op).await;
    assert_eq!(list.len(), 1);
    let id = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(list[0]["channel"], "web");
    let token = link.rsplit('/').next().unwrap();
    assert!(
        !token.contains(&id) && !token.contains("acme"),
        "the link reveals nothing"
    );

    // A wrong code is refused on the page; the right one confirms.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = b
        .post(
            "/privacy/acme/request/verify",
            &[
                ("csrf", &csrf),
                ("ref", &sent.input("ref")),
                ("code", wrong),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("This code is wrong"));
    let ok = b
        .post(
            "/privacy/acme/request/verify",
            &[
                ("csrf", &csrf),
                ("ref", &sent.input("ref")),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("The request is confirmed"), "{}", ok.body);
    let (_, r) = s.get(&op, &format!("/v1/tenants/acme/requests/{id}")).await;
    assert_eq!(r["state"], "verified", "{r}");
    assert_eq!(r["events"][0]["actor"], "web:portal", "{r}");

    // The status page: where it stands, the due date, the notices sent.
    let st = b.get(&link).await;
    assert_eq!(st.status, StatusCode::OK, "{}", st.body);
    st.assert_safe();
    assert!(
        st.body.contains("Confirmed: we are working on it."),
        "{}",
        st.body
    );
    assert!(st.body.contains("Answer due by"));
    assert!(st.body.contains("we have received your request"));
    assert!(st.body.contains("your verification code"));
    assert!(!st.body.contains("Download your information"));

    // Fulfilled through the API: the status page links the package, which downloads.
    let (code_st, done) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{id}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(code_st, StatusCode::OK, "{done}");
    let st = b.get(&link).await;
    assert!(st.body.contains("Done."), "{}", st.body);
    assert!(st.body.contains("your request is complete"), "{}", st.body);
    let at = st
        .body
        .find(&format!("href=\"{}/exports/", s.base))
        .expect("a download link")
        + 6;
    let href = st.body[at..].split('"').next().unwrap().to_string();
    let package = b.get(&href).await;
    assert_eq!(package.status, StatusCode::OK);
    assert!(
        package.body.contains("Ada"),
        "the package holds the person's data"
    );

    // In French, with the same facts.
    let fr = b.get(&format!("{link}?lang=fr")).await;
    assert!(fr.body.contains("Traitée."), "{}", fr.body);
    assert!(fr.body.contains("Télécharger vos renseignements"));

    // A forged or unknown token: one "not found" page.
    let mut forged: Vec<char> = token.chars().collect();
    forged[20] = if forged[20] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let a = b
        .get(&format!("/privacy/acme/request/status/{forged}"))
        .await;
    let c = b.get("/privacy/acme/request/status/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!((a.status, &a.body), (c.status, &c.body));
    assert!(a.body.contains("Request not found"));
    // Another tenant's path does not open this tenant's link.
    let other = b
        .get(&format!("/privacy/zeta/request/status/{token}"))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_known_and_an_unknown_person_get_the_same_page_and_mails() {
    let s = Server::start().await;
    let (op, dir) = portal_server(&s, POLICY).await;
    let mut b = Browser::new(&s);
    let csrf = b.get("/privacy/acme/request/delete").await.input("csrf");
    let mut pages = Vec::new();
    let mut sets = Vec::new();
    for email in ["ada@example.org", "nobody@example.org"] {
        let before = mails(&dir).len();
        let p = b.ask("/privacy/acme/request/delete", &csrf, email).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        pages.push(masked(&p.body));
        let new: Vec<Mail> = mails(&dir).into_iter().skip(before).collect();
        sets.push(new);
    }
    assert_eq!(pages[0], pages[1], "the same page whoever it is about");
    // The same mails: an acknowledgement and a code, to the address given.
    let shape = |m: &[Mail], email: &str| {
        let mut v: Vec<(String, String)> = m
            .iter()
            .map(|x| {
                assert_eq!(x.to, email);
                let subject = x.subject.split(" (ref.").next().unwrap().to_string();
                (subject, String::new())
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(sets[0].len(), 2, "{:?}", sets[0]);
    assert_eq!(
        shape(&sets[0], "ada@example.org"),
        shape(&sets[1], "nobody@example.org")
    );
    // The unknown person's code never verifies.
    let list = requests(&s, &op).await;
    assert_eq!(list.len(), 2);
    let code = code_of(sets[1].iter().find(|m| m.subject.contains("code")).unwrap());
    let unknown = list
        .iter()
        .find(|r| r["subject"].is_null())
        .expect("the unknown person's request");
    let (st, p) = s
        .post(
            &op,
            &format!(
                "/v1/tenants/acme/requests/{}/verify",
                unknown["id"].as_str().unwrap()
            ),
            json!({"code": code}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
}

#[tokio::test]
async fn an_agent_uploads_a_document_kept_sealed() {
    let s = Server::start_at(TODAY).await;
    let (op, _dir) = portal_server(&s, POLICY).await;
    let mut b = Browser::new(&s);
    let form = b.get("/privacy/acme/request/access?as=agent").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("name=\"document\""));
    assert!(form.body.contains("name=\"requester_email\""));
    let csrf = form.input("csrf");
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", "ada@example.org"),
        ("region", "CA"),
        ("name", "Alex Agent"),
        ("requester_email", "agent@example.net"),
        ("authority", "power_of_attorney"),
    ];
    // Not a PDF, PNG or JPEG: refused with a clear message, nothing filed.
    let exe = b
        .post_multipart(
            "/privacy/acme/request/access?as=agent",
            &fields,
            Some(("tool.pdf", b"MZ\x90\0not a pdf")),
        )
        .await;
    assert_eq!(exe.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        exe.body
            .contains("This file is not a PDF, PNG or JPEG document"),
        "{}",
        exe.body
    );
    assert!(exe.body.contains("value=\"Alex Agent\""));
    // Over 5 MB: refused.
    let mut big = PDF.to_vec();
    big.resize(5 * 1024 * 1024 + 1, b' ');
    let large = b
        .post_multipart(
            "/privacy/acme/request/access?as=agent",
            &fields,
            Some(("big.pdf", &big)),
        )
        .await;
    assert_eq!(large.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(large.body.contains("larger than 5 MB"), "{}", large.body);
    assert!(
        large.body.contains("value=\"Alex Agent\""),
        "read, not cut off by the body limit"
    );
    // No document at all.
    let none = b
        .post_multipart("/privacy/acme/request/access?as=agent", &fields, None)
        .await;
    assert!(none.body.contains("Attach the document."));
    assert!(requests(&s, &op).await.is_empty());

    let sent = b
        .post_multipart(
            "/privacy/acme/request/access?as=agent",
            &fields,
            Some(("poa.pdf", PDF)),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let list = requests(&s, &op).await;
    assert_eq!(list.len(), 1);
    let id = list[0]["id"].as_str().unwrap();
    assert_eq!(list[0]["requester"], "agent");

    // The privacy team lists and downloads the document; at rest it is sealed.
    let (st, docs) = s
        .get(&op, &format!("/v1/tenants/acme/requests/{id}/documents"))
        .await;
    assert_eq!(st, StatusCode::OK, "{docs}");
    assert_eq!(docs.as_array().unwrap().len(), 1, "{docs}");
    assert_eq!(docs[0]["type"], "pdf");
    assert_eq!(docs[0]["size"], PDF.len());
    let doc = docs[0]["id"].as_str().unwrap();
    let res = s
        .client
        .get(format!(
            "{}/v1/tenants/acme/requests/{id}/documents/{doc}",
            s.base
        ))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    let mut tx = s.store().read().await.unwrap();
    let row = tx.document(id, doc).await.unwrap().unwrap();
    assert!(
        !row.sealed.windows(8).any(|w| w == &PDF[..8]),
        "sealed at rest"
    );
    drop(tx);
    // An ingest key may not read documents.
    let ingest = s.key("acme", "ingest", None).await;
    let (st, _) = s
        .get(
            &ingest,
            &format!("/v1/tenants/acme/requests/{id}/documents"),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_parent_makes_a_request_for_a_child() {
    let s = Server::start_at(TODAY).await;
    let both = POLICY.replace("jurisdictions: [CA]", "jurisdictions: [CA, US-CA]");
    let (op, dir) = portal_server(&s, &both).await;
    let mut b = Browser::new(&s);
    let index = b.get("/privacy/acme/request/know").await;
    assert!(
        index.body.contains("?as=parent&amp;lang=en"),
        "{}",
        index.body
    );
    let form = b.get("/privacy/acme/request/know?as=parent").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.input("csrf");
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let sent = b
        .post_multipart(
            "/privacy/acme/request/know?as=parent",
            &[
                ("csrf", &csrf),
                ("email", "kid@example.org"),
                ("region", "US-CA"),
                ("name", "Pat Parent"),
                ("requester_email", "pat@example.net"),
            ],
            Some(("birth.png", png)),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let list = requests(&s, &op).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["requester"], "parent");
    let id = list[0]["id"].as_str().unwrap();
    let (_, docs) = s
        .get(&op, &format!("/v1/tenants/acme/requests/{id}/documents"))
        .await;
    assert_eq!(docs[0]["type"], "png", "{docs}");
    // The acknowledgement goes to the parent.
    assert!(
        mails(&dir)
            .iter()
            .any(|m| m.to == "pat@example.net" && m.subject.contains("received"))
    );
}

#[tokio::test]
async fn forms_are_refused_without_their_token() {
    let s = Server::start().await;
    let (op, _) = portal_server(&s, POLICY).await;
    let mut b = Browser::new(&s);
    let csrf = b.get("/privacy/acme/request/access").await.input("csrf");
    // No token.
    let p = b
        .post_multipart(
            "/privacy/acme/request/access",
            &[("email", "ada@example.org")],
            None,
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // Another browser's token (no cookie).
    let mut other = Browser::new(&s);
    let p = other
        .post_multipart(
            "/privacy/acme/request/access",
            &[("csrf", &csrf), ("email", "ada@example.org")],
            None,
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = other
        .post(
            "/privacy/acme/request/verify",
            &[("csrf", &csrf), ("ref", "x"), ("code", "123456")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(requests(&s, &op).await.is_empty());
    // Unknown tenants and types are not found.
    assert_eq!(
        b.get("/privacy/zeta/request").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/privacy/acme/request/teleport").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn forms_and_code_checks_are_rate_limited() {
    let s = Server::start().await;
    let (_op, _) = portal_server(&s, POLICY).await;
    let mut b = Browser::new(&s);
    let csrf = b.get("/privacy/acme/request/delete").await.input("csrf");
    // Five requests a minute name one address; the sixth waits.
    for _ in 0..5 {
        let p = b
            .ask("/privacy/acme/request/delete", &csrf, "ada@example.org")
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    }
    let p = b
        .ask("/privacy/acme/request/delete", &csrf, "ada@example.org")
        .await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    p.assert_safe();
    assert!(p.body.contains("Try again in a minute"), "{}", p.body);
    // Twenty posts a minute from one address: code checks count too.
    for _ in 6..20 {
        let p = b
            .post(
                "/privacy/acme/request/verify",
                &[("csrf", &csrf), ("ref", "x"), ("code", "123456")],
            )
            .await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    }
    let p = b
        .post(
            "/privacy/acme/request/verify",
            &[("csrf", &csrf), ("ref", "x"), ("code", "123456")],
        )
        .await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
}

/// R22: a request made on the web portal enters the same workflow as every channel:
/// the channel is recorded as `web`, and its deadlines are those of any channel.
#[tokio::test]
async fn r22_web_requests_enter_the_same_workflow() {
    let (s, _clock) = Server::start_clocked(TODAY).await;
    let (op, _) = portal_server(&s, POLICY).await;
    let mut b = Browser::new(&s);
    let csrf = b.get("/privacy/acme/request/delete").await.input("csrf");
    let p = b
        .ask("/privacy/acme/request/delete", &csrf, "ada@example.org")
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let (st, by_mail) = s
        .post(
            &op,
            "/v1/tenants/acme/requests",
            json!({"type": "delete", "channel": "email", "jurisdiction": "CA",
                   "identifiers": {"email": "ada@example.org"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{by_mail}");
    let list = requests(&s, &op).await;
    let web = list
        .iter()
        .find(|r| r["channel"] == "web")
        .expect("the web request");
    let (_, web) = s
        .get(
            &op,
            &format!("/v1/tenants/acme/requests/{}", web["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(web["channel"], "web");
    assert_eq!(web["type"], "delete");
    assert_eq!(web["events"][0]["event"], "received");
    assert_eq!(web["events"][0]["note"]["channel"], "web");
    assert_eq!(web["events"][0]["actor"], "web:portal");
    // The same deadlines as the same request by e-mail, received at the same moment.
    assert_eq!(web["received_at"], by_mail["received_at"]);
    assert_eq!(web["due"], by_mail["due"], "{web}\n{by_mail}");
    assert_eq!(web["rules"], by_mail["rules"]);
    assert_eq!(web["subject"], by_mail["subject"]);
    // The acknowledgement is a notice of the request like any other.
    assert!(
        web["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "acknowledgement")
    );
}

#[tokio::test]
async fn a_denial_that_can_be_appealed_links_to_the_appeal_form() {
    let s = Server::start_at(TODAY).await;
    let va = POLICY.replace("jurisdictions: [CA]", "jurisdictions: [CA, US-VA]");
    let (op, dir) = portal_server(&s, &va).await;
    let mut b = Browser::new(&s);
    let csrf = b.get("/privacy/acme/request/delete").await.input("csrf");
    let p = b
        .post_multipart(
            "/privacy/acme/request/delete",
            &[
                ("csrf", &csrf),
                ("email", "ada@example.org"),
                ("region", "US-VA"),
            ],
            None,
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let ack = mails(&dir)
        .into_iter()
        .find(|m| m.subject.contains("we have received"))
        .unwrap();
    let link = status_link(&ack);
    let id = requests(&s, &op).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!b.get(&link).await.body.contains("Appeal this decision"));
    let (st, r) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{id}/deny"),
            json!({"reasons": [{"code": "exempt"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let page = b.get(&link).await;
    assert!(page.body.contains("Declined"), "{}", page.body);
    let at = page
        .body
        .find("Appeal this decision")
        .expect("the appeal link");
    let href = &page.body[page.body[..at].rfind("href=\"").unwrap() + 6..at];
    assert!(href.contains("/privacy/acme/request/appeal/"), "{href}");
    page.assert_safe();
}

const HONOURED: &str = "Opt-Out Request Honored";

/// Every portal page honours `Sec-GPC: 1` as the notice and the preference pages do:
/// the browser is recorded once (the same cookie and store row) and each page says
/// that the signal was honoured; without the signal no page says so.
#[tokio::test]
async fn the_portal_pages_honour_gpc() {
    let s = Server::start().await;
    let (op, dir) = portal_server(&s, POLICY).await;
    let tenant = vow_core::TenantId::new("acme").unwrap();
    let mut plain = Browser::new(&s);
    let index = plain.get("/privacy/acme/request").await;
    assert!(!index.body.contains(HONOURED));
    assert!(plain.gpc_cookie.is_none());

    let mut b = Browser::new(&s);
    b.gpc = true;
    let index = b.get("/privacy/acme/request").await;
    assert_eq!(index.status, StatusCode::OK);
    index.assert_safe();
    assert!(index.body.contains(HONOURED), "{}", index.body);
    let browser = b.gpc_cookie.clone().expect("a browser id");
    let id = browser.split_once('=').unwrap().1.to_string();
    let when = s.engine.gpc_browser_recorded(&tenant, &id).await.unwrap();
    assert!(when.is_some(), "the browser is recorded");

    // The form, the form posted, the code page and the status page: the banner each
    // time, the browser recorded once.
    let form = b.get("/privacy/acme/request/access").await;
    assert!(form.body.contains(HONOURED));
    let fr = b.get("/privacy/acme/request/access?lang=fr").await;
    assert!(
        fr.body.contains("Demande de retrait respectée"),
        "{}",
        fr.body
    );
    let sent = b
        .ask(
            "/privacy/acme/request/access",
            &form.input("csrf"),
            "ada@example.org",
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(sent.body.contains(HONOURED));
    let m = mails(&dir);
    let code = code_of(
        m.iter()
            .find(|x| x.subject.contains("verification code"))
            .unwrap(),
    );
    let bad_code = if code == "000000" { "111111" } else { "000000" };
    let wrong = b
        .post(
            "/privacy/acme/request/verify",
            &[
                ("csrf", &sent.input("csrf")),
                ("ref", &sent.input("ref")),
                ("code", bad_code),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains(HONOURED));
    let ack = m
        .iter()
        .find(|x| x.subject.contains("we have received"))
        .expect("an acknowledgement");
    let status = b.get(&status_link(ack)).await;
    assert_eq!(status.status, StatusCode::OK);
    assert!(status.body.contains(HONOURED));
    let unknown = b.get("/privacy/acme/request/status/not-a-token").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains(HONOURED));
    assert_eq!(b.gpc_cookie.as_deref(), Some(browser.as_str()), "one id");
    assert_eq!(
        s.engine.gpc_browser_recorded(&tenant, &id).await.unwrap(),
        when,
        "recorded once"
    );
    // The request itself is unaffected by the signal.
    assert_eq!(requests(&s, &op).await.len(), 1);
}

/// An agent files an access request with a power of attorney on the portal.
async fn agent_request(s: &Server, op: &str, dir: &Path) -> (String, String, String) {
    let before = requests(s, op).await.len();
    let mut b = Browser::new(s);
    let form = b.get("/privacy/acme/request/access?as=agent").await;
    let csrf = form.input("csrf");
    let sent = b
        .post_multipart(
            "/privacy/acme/request/access?as=agent",
            &[
                ("csrf", &csrf),
                ("email", "ada@example.org"),
                ("region", "CA"),
                ("name", "Alex Agent"),
                ("requester_email", "agent@example.net"),
                ("authority", "power_of_attorney"),
            ],
            Some(("poa.pdf", PDF)),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let list = requests(s, op).await;
    assert_eq!(list.len(), before + 1);
    let id = list
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .max()
        .unwrap();
    let (_, docs) = s
        .get(op, &format!("/v1/tenants/acme/requests/{id}/documents"))
        .await;
    let doc = docs[0]["id"].as_str().unwrap().to_string();
    // The person confirms with the code mailed to their own address.
    let code = code_of(
        mails(dir)
            .iter()
            .rev()
            .find(|m| m.subject.contains("verification code") && m.to == "ada@example.org")
            .unwrap(),
    );
    let ok = b
        .post(
            "/privacy/acme/request/verify",
            &[
                ("csrf", &sent.input("csrf")),
                ("ref", &sent.input("ref")),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    (id, doc, code)
}

/// An agent's document is not taken as authority until the privacy team reviews it:
/// fulfilment is refused (409) while it awaits review; accepting lets the request be
/// fulfilled; rejecting denies it (agent_not_authorised) and the denial tells why.
#[tokio::test]
async fn an_agents_document_awaits_review_before_fulfilment() {
    let s = Server::start_at(TODAY).await;
    let (op, dir) = portal_server(&s, POLICY).await;
    let (id, doc, _) = agent_request(&s, &op, &dir).await;
    let path = format!("/v1/tenants/acme/requests/{id}");
    let (_, r) = s.get(&op, &path).await;
    assert_eq!(r["state"], "verified", "{r}");
    let (_, docs) = s.get(&op, &format!("{path}/documents")).await;
    assert_eq!(docs[0]["review"], "pending", "{docs}");
    assert!(docs[0]["reviewed_at"].is_null());

    let (st, p) = s.post(&op, &format!("{path}/fulfil"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("await review"),
        "{p}"
    );
    let review = format!("{path}/documents/{doc}/review");
    // Bad reviews: a decision that is neither, a rejection without a reason, a
    // document of no one.
    let (st, p) = s.post(&op, &review, json!({"decision": "maybe"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert!(p.to_string().contains("/decision"), "{p}");
    let (st, p) = s.post(&op, &review, json!({"decision": "reject"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert!(p.to_string().contains("/reason"), "{p}");
    let (st, _) = s
        .post(
            &op,
            &format!("{path}/documents/nope/review"),
            json!({"decision": "accept"}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let ingest = s.key("acme", "ingest", None).await;
    let (st, _) = s
        .post(&ingest, &review, json!({"decision": "accept"}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    let (st, r) = s
        .post(
            &op,
            &review,
            json!({"decision": "accept", "reason": "signed and dated"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert!(
        r["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "document_accepted"),
        "{r}"
    );
    let (_, docs) = s.get(&op, &format!("{path}/documents")).await;
    assert_eq!(docs[0]["review"], "accepted");
    assert!(docs[0]["reviewed_at"].is_string());
    let (st, p) = s
        .post(&op, &review, json!({"decision": "reject", "reason": "x"}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "reviewed once: {p}");
    let (st, r) = s.post(&op, &format!("{path}/fulfil"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "fulfilled");

    // Another request: its document rejected, the request denied, the agent told why.
    let (id, doc, _) = agent_request(&s, &op, &dir).await;
    let path = format!("/v1/tenants/acme/requests/{id}");
    let (st, r) = s
        .post(
            &op,
            &format!("{path}/documents/{doc}/review"),
            json!({"decision": "reject", "reason": "The power of attorney is not signed."}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "denied", "{r}");
    assert_eq!(r["outcome"]["denied"][0]["code"], "agent_not_authorised");
    let events: Vec<&str> = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(events.contains(&"document_rejected"), "{events:?}");
    let denial = mails(&dir)
        .into_iter()
        .filter(|m| m.to == "agent@example.net")
        .find(|m| m.body.contains("The power of attorney is not signed."))
        .expect("the denial tells the agent why");
    assert!(denial.body.contains("was not accepted"), "{}", denial.body);
    let (_, docs) = s.get(&op, &format!("{path}/documents")).await;
    assert_eq!(docs[0]["review"], "rejected");
    // The audit chain has both reviews under the operator's key.
    let (_, audit) = s.get(&op, "/v1/audit/verify").await;
    assert_eq!(audit["ok"], true, "{audit}");
}
