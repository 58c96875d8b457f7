//! Sending notices by e-mail: SMTP, or a directory of `.eml` files (development, tests).
//!
//! A [`Mailer`] sends a [`Rendered`] notice as a `multipart/alternative` message
//! (plain text and HTML) and returns its Message-ID. Nothing here logs or returns the
//! recipient address or the body: [`MailError`] carries only kinds and SMTP reply
//! codes, never the server's reply text (which often quotes the address).
//!
//! SMTP uses lettre's Tokio transport with rustls and the `ring` provider chosen per
//! connection; nothing global is installed.

use crate::requests::notices::Rendered;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::{AsyncSmtpTransport, AsyncSmtpTransportBuilder};
use lettre::{AsyncTransport, Message, Tokio1Executor};
use std::error::Error as _;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Where mail goes.
#[derive(Clone)]
pub enum MailTransport {
    /// One `.eml` file per message in `dir` (created if missing).
    File { dir: PathBuf },
    /// An SMTP relay.
    ///
    /// `starttls: true` upgrades the connection with STARTTLS and refuses to go on
    /// without it (usually port 587). With `starttls: false`, port 465 uses implicit
    /// TLS ("SMTPS"); any other port is unencrypted, which is allowed only to a
    /// loopback relay (`localhost`, `127.0.0.1`, `::1`).
    Smtp {
        host: String,
        port: u16,
        username: Option<String>,
        password: Option<String>,
        starttls: bool,
    },
}

impl fmt::Debug for MailTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailTransport::File { dir } => f.debug_struct("File").field("dir", dir).finish(),
            MailTransport::Smtp {
                host,
                port,
                username,
                password,
                starttls,
            } => f
                .debug_struct("Smtp")
                .field("host", host)
                .field("port", port)
                .field("username", username)
                .field("password", &password.as_ref().map(|_| "[redacted]"))
                .field("starttls", starttls)
                .finish(),
        }
    }
}

/// Why a message was not sent. The messages never contain the recipient address,
/// the body, or text the SMTP server sent back.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the sender address is not a valid e-mail address")]
    InvalidFrom,
    #[error("the recipient address is not a valid e-mail address")]
    InvalidRecipient,
    #[error("the mail transport is misconfigured: {0}")]
    Config(&'static str),
    #[error("the message could not be built: {0}")]
    Build(&'static str),
    #[error("the message could not be written to the mail directory: {0}")]
    File(std::io::ErrorKind),
    #[error("the SMTP server refused the message (reply code {0})")]
    Rejected(String),
    #[error("the SMTP server deferred the message (reply code {0}); try again later")]
    Deferred(String),
    #[error("could not talk to the SMTP server: {0}")]
    Connection(String),
    #[error("TLS with the SMTP server failed: {0}")]
    Tls(String),
    #[error("the SMTP server did not answer in time")]
    Timeout,
    #[error("the SMTP conversation failed: {0}")]
    Protocol(&'static str),
    /// The server lacks something required (STARTTLS, an authentication mechanism).
    #[error("the SMTP server does not support what is required: {0}")]
    Unsupported(String),
    #[error("mail can only be sent from within a Tokio runtime")]
    NoRuntime,
}

impl MailError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            MailError::InvalidFrom => "mail_invalid_from",
            MailError::InvalidRecipient => "mail_invalid_recipient",
            MailError::Config(_) => "mail_config",
            MailError::Build(_) => "mail_build",
            MailError::File(_) => "mail_file",
            MailError::Rejected(_) => "mail_rejected",
            MailError::Deferred(_) => "mail_deferred",
            MailError::Connection(_) => "mail_connection",
            MailError::Tls(_) => "mail_tls",
            MailError::Timeout => "mail_timeout",
            MailError::Protocol(_) => "mail_protocol",
            MailError::Unsupported(_) => "mail_unsupported",
            MailError::NoRuntime => "mail_no_runtime",
        }
    }

    /// Worth trying again later with the same message and address.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            MailError::Deferred(_)
                | MailError::Connection(_)
                | MailError::Timeout
                | MailError::File(_)
        )
    }
}

/// Sends notices. Cheap to clone; clones share one SMTP connection pool.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    from: Mailbox,
    /// The right-hand side of generated Message-IDs: the sender's domain.
    id_domain: String,
    transport: Transport,
}

enum Transport {
    /// A directory: one owner-only `.eml` file per message (lettre's file transport
    /// would create them with the process umask).
    File(PathBuf),
    /// Built on first use, inside the runtime: lettre's pool spawns a task.
    Smtp {
        builder: AsyncSmtpTransportBuilder,
        live: OnceLock<SmtpHolder>,
    },
}

/// Owns the SMTP transport. Dropping lettre's pool spawns a task, which would panic
/// outside a Tokio runtime; there the transport is leaked instead (at shutdown).
struct SmtpHolder(Option<AsyncSmtpTransport<Tokio1Executor>>);

impl Drop for SmtpHolder {
    fn drop(&mut self) {
        if let Some(t) = self.0.take()
            && tokio::runtime::Handle::try_current().is_err()
        {
            std::mem::forget(t);
        }
    }
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match &self.inner.transport {
            Transport::File(_) => "file",
            Transport::Smtp { .. } => "smtp",
        };
        f.debug_struct("Mailer")
            .field("transport", &transport)
            .finish_non_exhaustive()
    }
}

/// How long one SMTP command may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
const SMTPS_PORT: u16 = 465;

impl Mailer {
    /// A mailer sending from `from` (`privacy@example.com` or
    /// `Example Privacy <privacy@example.com>`). Checks the configuration; connects
    /// to nothing until the first message. The file transport's directory is created.
    pub fn new(transport: MailTransport, from: &str) -> Result<Mailer, MailError> {
        let from: Mailbox = from.trim().parse().map_err(|_| MailError::InvalidFrom)?;
        let id_domain = from.email.domain().to_string();
        let transport = match transport {
            MailTransport::File { dir } => {
                vow_crypto::files::create_private_dir_all(&dir)
                    .map_err(|e| MailError::File(e.kind()))?;
                Transport::File(dir)
            }
            MailTransport::Smtp {
                host,
                port,
                username,
                password,
                starttls,
            } => Transport::Smtp {
                builder: smtp_builder(&host, port, username, password, starttls)?,
                live: OnceLock::new(),
            },
        };
        Ok(Mailer {
            inner: Arc::new(Inner {
                from,
                id_domain,
                transport,
            }),
        })
    }

    /// Send a notice as a multipart/alternative (text + HTML) message. Returns the
    /// Message-ID, angle brackets included (`<…@example.com>`).
    pub async fn send(&self, to: &str, notice: &Rendered) -> Result<String, MailError> {
        let id = self
            .send_message(to, &notice.subject, &notice.text, &notice.html)
            .await?;
        tracing::debug!(notice = notice.kind.as_str(), "notice mailed");
        Ok(id)
    }

    /// Send any message with a subject, a text and an HTML body (a notice that is not
    /// about a request, e.g. a new policy version to a tenant's administrators).
    pub async fn send_message(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<String, MailError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(MailError::NoRuntime);
        }
        let to: Mailbox = to.trim().parse().map_err(|_| MailError::InvalidRecipient)?;
        let message_id = format!(
            "<{}@{}>",
            uuid::Uuid::now_v7().simple(),
            self.inner.id_domain
        );
        let message = Message::builder()
            .from(self.inner.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id.clone()))
            .header(AutoSubmitted)
            .multipart(MultiPart::alternative_plain_html(
                text.to_string(),
                html.to_string(),
            ))
            .map_err(build_error)?;
        match &self.inner.transport {
            Transport::File(dir) => {
                let id = uuid::Uuid::now_v7();
                let path = dir.join(format!("{id}.eml"));
                // Written under another name and renamed when complete, so that whoever
                // picks the mails up never reads half a message.
                let part = dir.join(format!("{id}.eml.part"));
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || {
                    use std::io::Write as _;
                    let mut file = vow_crypto::files::create_private_file(&part)?;
                    file.write_all(&bytes)?;
                    file.sync_all()?;
                    std::fs::rename(&part, &path)
                })
                .await
                .map_err(|_| MailError::File(std::io::ErrorKind::Other))?
                .map_err(|e| MailError::File(e.kind()))?;
            }
            Transport::Smtp { builder, live } => {
                let holder = live.get_or_init(|| SmtpHolder(Some(builder.clone().build())));
                let Some(t) = holder.0.as_ref() else {
                    return Err(MailError::Protocol("the SMTP transport is shut down"));
                };
                t.send(message).await.map_err(smtp_error)?;
            }
        }
        Ok(message_id)
    }
}

fn smtp_builder(
    host: &str,
    port: u16,
    username: Option<String>,
    password: Option<String>,
    starttls: bool,
) -> Result<AsyncSmtpTransportBuilder, MailError> {
    let host = host.trim();
    if host.is_empty() {
        return Err(MailError::Config("the SMTP host is empty"));
    }
    if port == 0 {
        return Err(MailError::Config("the SMTP port is 0"));
    }
    let tls = if starttls || port == SMTPS_PORT {
        let params = TlsParameters::new(host.to_string())
            .map_err(|_| MailError::Config("TLS could not be set up for the SMTP host"))?;
        if starttls {
            Tls::Required(params)
        } else {
            Tls::Wrapper(params)
        }
    } else if is_loopback(host) {
        Tls::None
    } else {
        return Err(MailError::Config(
            "unencrypted SMTP is allowed only to a loopback relay: set starttls, or use port 465",
        ));
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    match (username, password) {
        (Some(u), Some(p)) => builder = builder.credentials(Credentials::new(u, p)),
        (None, None) => {}
        _ => {
            return Err(MailError::Config(
                "give both an SMTP username and a password, or neither",
            ));
        }
    }
    Ok(builder)
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn build_error(e: lettre::error::Error) -> MailError {
    use lettre::error::Error as E;
    match e {
        E::MissingFrom | E::TooManyFrom => MailError::InvalidFrom,
        E::MissingTo => MailError::InvalidRecipient,
        E::EmailMissingAt | E::EmailMissingLocalPart | E::EmailMissingDomain => {
            MailError::Build("an address is incomplete")
        }
        E::NonAsciiChars => MailError::Build("an address has non-ASCII characters"),
        E::CannotParseFilename => MailError::Build("an attachment name is invalid"),
        E::Io(_) => MailError::Build("input/output error"),
    }
}

/// The first I/O error in a chain of sources, by kind only.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = err.source();
    }
    None
}

/// Map an SMTP failure to words that carry no address and no server text.
fn smtp_error(e: lettre::transport::smtp::Error) -> MailError {
    if let Some(code) = e.status() {
        let code = code.to_string();
        return if e.is_permanent() {
            MailError::Rejected(code)
        } else {
            MailError::Deferred(code)
        };
    }
    if e.is_timeout() {
        return MailError::Timeout;
    }
    if e.is_tls() {
        // The innermost cause comes from rustls (certificates, protocol), not the server.
        let mut cause = e.source();
        let mut last = None;
        while let Some(c) = cause {
            last = Some(c.to_string());
            cause = c.source();
        }
        return MailError::Tls(last.unwrap_or_else(|| "handshake failed".into()));
    }
    if e.is_response() {
        return MailError::Protocol("the server's reply could not be understood");
    }
    if e.is_client() {
        // lettre's own fixed words ("STARTTLS is not supported on this server").
        return MailError::Unsupported(match e.source() {
            Some(c) => c.to_string(),
            None => "the server lacks a required extension".into(),
        });
    }
    if e.is_transport_shutdown() {
        return MailError::Protocol("the SMTP transport is shut down");
    }
    MailError::Connection(match io_kind(&e) {
        Some(kind) => kind.to_string(),
        None => "the connection failed".into(),
    })
}

/// `Auto-Submitted: auto-generated` (RFC 3834): notices are machine-sent, so
/// auto-responders should not answer them.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::notices::{NoticeContext, NoticeKind, render};
    use std::sync::Mutex;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;
    use vow_core::policy::{Contact, ContactChannel, Organisation};
    use vow_core::{Channel, RequestType};

    const TO: &str = "ada.lovelace@example.net";

    fn notice() -> Rendered {
        let org = Organisation {
            name: "Example Research".into(),
            legal_name: None,
            website: None,
            address: None,
        };
        let contacts = vec![Contact {
            channel: ContactChannel::Email,
            address: "privacy@example.com".into(),
            label: None,
        }];
        let cx = NoticeContext {
            verification: "We compare two pieces of information with what we hold — é ü.",
            ..NoticeContext::new(
                &org,
                &contacts,
                "req_42",
                RequestType::Access,
                Channel::Web,
                "2026-11-24T09:30:00Z".parse().unwrap_or_default(),
                "2027-01-04T09:30:00Z".parse().unwrap_or_default(),
            )
        };
        render(NoticeKind::Acknowledgement, &cx)
    }

    fn check_parsed(raw: &[u8], n: &Rendered) {
        let m = mailparse::parse_mail(raw).expect("parseable message");
        let h = |name: &str| {
            m.headers
                .iter()
                .find(|x| x.get_key_ref().eq_ignore_ascii_case(name))
                .map(|x| x.get_value())
        };
        assert_eq!(h("To").as_deref(), Some(TO));
        let from = h("From").unwrap_or_default();
        assert!(
            from.contains("Example Privacy") && from.ends_with("<privacy@example.com>"),
            "{from}"
        );
        assert_eq!(h("Subject").as_deref(), Some(n.subject.as_str()));
        assert_eq!(h("Auto-Submitted").as_deref(), Some("auto-generated"));
        assert!(h("Message-ID").is_some_and(|id| id.ends_with("@example.com>")));
        assert!(h("Date").is_some());
        assert_eq!(m.ctype.mimetype, "multipart/alternative");
        assert_eq!(m.subparts.len(), 2);
        let text = &m.subparts[0];
        let html = &m.subparts[1];
        assert_eq!(text.ctype.mimetype, "text/plain");
        assert_eq!(html.ctype.mimetype, "text/html");
        let text_body = text.get_body().expect("text body");
        let html_body = html.get_body().expect("html body");
        assert_eq!(
            text_body.replace("\r\n", "\n").trim_end(),
            n.text.trim_end()
        );
        assert_eq!(
            html_body.replace("\r\n", "\n").trim_end(),
            n.html.trim_end()
        );
        assert!(text_body.contains("— é ü"));
    }

    #[tokio::test]
    async fn file_transport_writes_a_parseable_eml() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("outbox").join("mail");
        let mailer = Mailer::new(
            MailTransport::File { dir: dir.clone() },
            "Example Privacy <privacy@example.com>",
        )
        .expect("mailer");
        let n = notice();
        let id = mailer.send(TO, &n).await.expect("sent");
        assert!(id.starts_with('<') && id.ends_with("@example.com>"));
        let files: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir created")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
        let raw = std::fs::read(&files[0]).expect("eml");
        check_parsed(&raw, &n);
        let m = mailparse::parse_mail(&raw).expect("parse");
        let mid = m
            .headers
            .iter()
            .find(|x| x.get_key_ref().eq_ignore_ascii_case("Message-ID"))
            .map(|x| x.get_value());
        assert_eq!(mid.as_deref(), Some(id.as_str()));
        // A second message is a second file.
        mailer.send(TO, &n).await.expect("sent again");
        assert_eq!(std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0), 2);
    }

    /// What the fake SMTP server saw.
    #[derive(Default, Debug)]
    struct Seen {
        mail_from: String,
        rcpt_to: Vec<String>,
        data: Vec<u8>,
        quit: bool,
    }

    /// A tiny SMTP server: 220, EHLO→250, MAIL/RCPT→250, DATA→354, "."→250, QUIT→221.
    /// With `reject_rcpt`, RCPT gets a 550 that quotes the address, as real servers do.
    async fn smtp_server(
        reject_rcpt: bool,
    ) -> (u16, Arc<Mutex<Seen>>, tokio::sync::mpsc::Receiver<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let shared = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let seen = Arc::clone(&shared);
                let tx = tx.clone();
                tokio::spawn(async move {
                    let (r, mut w) = sock.into_split();
                    let mut r = BufReader::new(r);
                    let _ = w.write_all(b"220 test.invalid ESMTP ready\r\n").await;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let cmd = line.trim_end().to_string();
                        let upper = cmd.to_ascii_uppercase();
                        let reply: String = if upper.starts_with("EHLO")
                            || upper.starts_with("HELO")
                        {
                            "250 test.invalid\r\n".into()
                        } else if upper.starts_with("MAIL FROM:") {
                            if let Ok(mut s) = seen.lock() {
                                s.mail_from = cmd[10..].to_string();
                            }
                            "250 2.1.0 OK\r\n".into()
                        } else if upper.starts_with("RCPT TO:") {
                            let addr = cmd[8..].to_string();
                            if reject_rcpt {
                                format!(
                                    "550 5.1.1 {addr}: Recipient address rejected: user unknown\r\n"
                                )
                            } else {
                                if let Ok(mut s) = seen.lock() {
                                    s.rcpt_to.push(addr);
                                }
                                "250 2.1.5 OK\r\n".into()
                            }
                        } else if upper == "DATA" {
                            let _ = w
                                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                                .await;
                            let mut data = Vec::new();
                            loop {
                                line.clear();
                                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" || line == ".\n" {
                                    break;
                                }
                                let l = line.strip_prefix('.').unwrap_or(&line);
                                data.extend_from_slice(l.as_bytes());
                            }
                            if let Ok(mut s) = seen.lock() {
                                s.data = data;
                            }
                            let _ = tx.send(()).await;
                            "250 2.0.0 queued\r\n".into()
                        } else if upper == "QUIT" {
                            if let Ok(mut s) = seen.lock() {
                                s.quit = true;
                            }
                            let _ = w.write_all(b"221 2.0.0 bye\r\n").await;
                            return;
                        } else {
                            // NOOP, RSET (the pool checks idle connections with these).
                            "250 OK\r\n".into()
                        };
                        if w.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (port, seen, rx)
    }

    fn smtp(port: u16) -> MailTransport {
        MailTransport::Smtp {
            host: "127.0.0.1".into(),
            port,
            username: None,
            password: None,
            starttls: false,
        }
    }

    #[tokio::test]
    async fn smtp_delivers_to_a_listener() {
        let (port, seen, mut delivered) = smtp_server(false).await;
        let mailer =
            Mailer::new(smtp(port), "Example Privacy <privacy@example.com>").expect("mailer");
        let n = notice();
        let id = mailer.send(TO, &n).await.expect("sent");
        tokio::time::timeout(Duration::from_secs(5), delivered.recv())
            .await
            .expect("delivered in time");
        let (from, rcpt, data) = {
            let s = seen.lock().expect("lock");
            (s.mail_from.clone(), s.rcpt_to.clone(), s.data.clone())
        };
        assert_eq!(from, "<privacy@example.com>");
        assert_eq!(rcpt, vec![format!("<{TO}>")]);
        check_parsed(&data, &n);
        assert!(String::from_utf8_lossy(&data).contains(&id));
        // The pooled connection carries a second message.
        mailer.clone().send(TO, &n).await.expect("sent again");
        tokio::time::timeout(Duration::from_secs(5), delivered.recv())
            .await
            .expect("second delivered");
    }

    #[tokio::test]
    async fn smtp_rejection_does_not_leak_the_recipient() {
        let (port, _seen, _delivered) = smtp_server(true).await;
        let mailer = Mailer::new(smtp(port), "privacy@example.com").expect("mailer");
        let err = mailer.send(TO, &notice()).await.expect_err("rejected");
        assert_eq!(err.code(), "mail_rejected");
        assert!(!err.is_transient());
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains("ada.lovelace"), "{shown}");
            assert!(!shown.contains("example.net"), "{shown}");
            assert!(!shown.contains("Recipient address rejected"), "{shown}");
        }
        assert!(err.to_string().contains("550"));
    }

    #[tokio::test]
    async fn starttls_is_required_when_asked_for() {
        let (port, seen, _delivered) = smtp_server(false).await;
        let t = MailTransport::Smtp {
            host: "127.0.0.1".into(),
            port,
            username: None,
            password: None,
            starttls: true,
        };
        let mailer = Mailer::new(t, "privacy@example.com").expect("mailer");
        let err = mailer.send(TO, &notice()).await.expect_err("no STARTTLS");
        assert_eq!(err.code(), "mail_unsupported", "{err}");
        assert!(err.to_string().contains("STARTTLS"), "{err}");
        let s = seen.lock().expect("lock");
        assert!(
            s.mail_from.is_empty() && s.data.is_empty(),
            "nothing sent in clear"
        );
    }

    #[tokio::test]
    async fn connection_failure_is_transient_and_clean() {
        // A port nobody listens on: bind, note it, close.
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            l.local_addr().expect("addr").port()
        };
        let mailer = Mailer::new(smtp(port), "privacy@example.com").expect("mailer");
        let err = mailer.send(TO, &notice()).await.expect_err("no server");
        assert!(err.is_transient(), "{err:?}");
        assert!(!err.to_string().contains("ada.lovelace"));
    }

    #[tokio::test]
    async fn bad_addresses_are_refused_without_echoing_them() {
        assert!(matches!(
            Mailer::new(
                MailTransport::File {
                    dir: std::env::temp_dir()
                },
                "not an address"
            ),
            Err(MailError::InvalidFrom)
        ));
        let tmp = tempfile::tempdir().expect("tempdir");
        let mailer = Mailer::new(
            MailTransport::File {
                dir: tmp.path().into(),
            },
            "privacy@example.com",
        )
        .expect("mailer");
        for bad in ["ada.lovelace", "ada.lovelace@example.net\r\nBcc: x@y.z", ""] {
            let err = mailer.send(bad, &notice()).await.expect_err("invalid");
            assert_eq!(err.code(), "mail_invalid_recipient");
            assert!(!err.to_string().contains("ada"));
            assert!(!format!("{err:?}").contains("ada"));
        }
    }

    #[test]
    fn smtp_configuration_is_checked() {
        let plain_remote = MailTransport::Smtp {
            host: "smtp.example.com".into(),
            port: 25,
            username: None,
            password: None,
            starttls: false,
        };
        assert_eq!(
            Mailer::new(plain_remote, "privacy@example.com")
                .map(|_| ())
                .map_err(|e| e.code()),
            Err("mail_config")
        );
        let half_credentials = MailTransport::Smtp {
            host: "smtp.example.com".into(),
            port: 587,
            username: Some("vow".into()),
            password: None,
            starttls: true,
        };
        assert!(matches!(
            Mailer::new(half_credentials, "privacy@example.com"),
            Err(MailError::Config(_))
        ));
        // Checked, not connected: no runtime needed to build one.
        for (port, starttls) in [(587, true), (465, false)] {
            let ok = MailTransport::Smtp {
                host: "smtp.example.com".into(),
                port,
                username: Some("vow".into()),
                password: Some("s3cret".into()),
                starttls,
            };
            let m = Mailer::new(ok, "privacy@example.com").expect("valid");
            drop(m);
        }
        assert!(is_loopback("localhost") && is_loopback("::1") && is_loopback("[::1]"));
        assert!(!is_loopback("mail.internal"));
    }

    #[test]
    fn debug_redacts_the_password() {
        let t = MailTransport::Smtp {
            host: "smtp.example.com".into(),
            port: 587,
            username: Some("vow".into()),
            password: Some("hunter2-very-secret".into()),
            starttls: true,
        };
        let d = format!("{t:?}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(d.contains("[redacted]"));
        assert!(d.contains("smtp.example.com"));
    }

    #[test]
    fn sending_outside_a_runtime_is_an_error_not_a_panic() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mailer = Mailer::new(
            MailTransport::File {
                dir: tmp.path().into(),
            },
            "privacy@example.com",
        )
        .expect("mailer");
        let n = notice();
        let fut = mailer.send(TO, &n);
        // Poll once on a bare executor: no Tokio context.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = std::pin::pin!(fut);
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(Err(MailError::NoRuntime)) => {}
            other => panic!(
                "expected NoRuntime, got {:?}",
                other.map(|r| r.map_err(|e| e.code()))
            ),
        }
    }
}
