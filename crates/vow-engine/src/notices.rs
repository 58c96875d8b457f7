//! The notices sent to people about their data-subject requests (R15, R19, R23, S3).
//!
//! [`render`] turns a [`NoticeKind`] and a [`NoticeContext`] into a subject line, a
//! plain-text body wrapped at 76 columns and a small, self-contained HTML5 document
//! (everything escaped, no external resources, no JavaScript). Both bodies are
//! rendered from one structured document, so they always say the same thing.
//!
//! Every notice names the organisation, the request reference, the request type in
//! plain words, the date the answer is due and how to reach the privacy team.
//! Rendering never fails and never logs: the context carries personal data.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::fmt;
use vow_core::policy::{Contact, ContactChannel, Organisation};
use vow_core::{Channel, RequestType};

/// Which notice to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// We received the request; how verification works; when to expect the answer.
    Acknowledgement,
    /// We need more time: the reason, the new date (and, under PIPEDA, the right to complain).
    Extension,
    /// The request is done: what was done, the download link if any; no difference in service (R19).
    Completion,
    /// We cannot do what was asked: each reason, and how to appeal or complain.
    Denial,
    /// We hold the data as a service provider: the client decides; contact them (R23, S3).
    Redirect,
    /// A one-time code to verify the person's identity.
    VerificationCode,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 6] = [
        NoticeKind::Acknowledgement,
        NoticeKind::Extension,
        NoticeKind::Completion,
        NoticeKind::Denial,
        NoticeKind::Redirect,
        NoticeKind::VerificationCode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Acknowledgement => "acknowledgement",
            NoticeKind::Extension => "extension",
            NoticeKind::Completion => "completion",
            NoticeKind::Denial => "denial",
            NoticeKind::Redirect => "redirect",
            NoticeKind::VerificationCode => "verification_code",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a notice may mention. Personal data appears only in `to` and in what
/// the notice is about; never in logs.
///
/// Fields a kind does not use are ignored. Two fields are also read outside the kind
/// named in their comment: a [`NoticeKind::Completion`] with `denial_reasons` lists the
/// parts that could not be done (a partial fulfilment), with `appeal` and the
/// complaint routes; and in a Completion, `code_expires` is the download link's expiry.
#[derive(Clone, Copy)]
pub struct NoticeContext<'a> {
    pub organisation: &'a Organisation,
    pub contacts: &'a [Contact],
    pub request_id: &'a str,
    pub request_type: RequestType,
    pub channel: Channel,
    pub received_at: Timestamp,
    pub response_due: Timestamp,
    pub acknowledgement_due: Option<Timestamp>,
    /// For Extension: the new date.
    pub extended_to: Option<Timestamp>,
    pub extension_reason: Option<&'a str>,
    /// PIPEDA: tell the person of their right to complain to the Privacy Commissioner.
    pub complaint_statement: bool,
    /// Plain words: how we verify your identity for this request.
    pub verification: &'a str,
    /// Applicable laws as jurisdiction codes, e.g. `["US-CA", "CA"]`.
    pub rules: &'a [String],
    /// (code, plain-words explanation), for Denial (and a partial Completion).
    pub denial_reasons: &'a [(String, String)],
    /// How to appeal, where the law has appeals.
    pub appeal: Option<&'a str>,
    /// Completion: what was done.
    pub outcome: Option<&'a str>,
    /// Completion of access/portability: a time-limited link.
    pub download_url: Option<&'a str>,
    /// Redirect: (client name, client privacy contact).
    pub controller: Option<(&'a str, &'a str)>,
    /// VerificationCode: the one-time code.
    pub code: Option<&'a str>,
    /// VerificationCode: when the code expires (Completion: when the download link expires).
    pub code_expires: Option<Timestamp>,
}

impl<'a> NoticeContext<'a> {
    /// A context with the fields every notice needs; the rest empty.
    pub fn new(
        organisation: &'a Organisation,
        contacts: &'a [Contact],
        request_id: &'a str,
        request_type: RequestType,
        channel: Channel,
        received_at: Timestamp,
        response_due: Timestamp,
    ) -> Self {
        NoticeContext {
            organisation,
            contacts,
            request_id,
            request_type,
            channel,
            received_at,
            response_due,
            acknowledgement_due: None,
            extended_to: None,
            extension_reason: None,
            complaint_statement: false,
            verification: "",
            rules: &[],
            denial_reasons: &[],
            appeal: None,
            outcome: None,
            download_url: None,
            controller: None,
            code: None,
            code_expires: None,
        }
    }
}

impl fmt::Debug for NoticeContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoticeContext")
            .field("request_id", &self.request_id)
            .field("request_type", &self.request_type)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// A rendered notice. Its `Debug` shows only the kind and the sizes: the bodies carry
/// personal data.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    pub kind: NoticeKind,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("kind", &self.kind)
            .field("subject", &"[redacted]")
            .field("text_len", &self.text.len())
            .field("html_len", &self.html.len())
            .finish()
    }
}

/// Render one notice. Never fails: a missing optional field leaves its sentence out
/// or falls back to general words.
pub fn render(kind: NoticeKind, cx: &NoticeContext<'_>) -> Rendered {
    let org = cx.organisation.name.trim();
    let id = cx.request_id;
    let (subject, body) = match kind {
        NoticeKind::Acknowledgement => (
            format!("{org}: we have received your request (ref. {id})"),
            acknowledgement(cx),
        ),
        NoticeKind::Extension => (
            format!("{org}: we need more time for your request (ref. {id})"),
            extension(cx),
        ),
        NoticeKind::Completion => (
            format!("{org}: your request is complete (ref. {id})"),
            completion(cx),
        ),
        NoticeKind::Denial => (
            format!("{org}: our decision on your request (ref. {id})"),
            denial(cx),
        ),
        NoticeKind::Redirect => (
            match cx.controller {
                Some((client, _)) => {
                    format!(
                        "{org}: please send your request to {} (ref. {id})",
                        client.trim()
                    )
                }
                None => format!("{org}: where to send your request (ref. {id})"),
            },
            redirect(cx),
        ),
        NoticeKind::VerificationCode => (
            format!("{org}: your verification code (ref. {id})"),
            verification_code(cx),
        ),
    };
    let subject = one_line(&subject);
    let mut doc = Vec::with_capacity(body.len() + 8);
    doc.push(Block::Title(org.to_string()));
    doc.push(Block::Meta(format!("Request reference: {id}")));
    doc.push(para().t("Hello,"));
    doc.extend(body);
    doc.extend(contact_section(cx));
    doc.push(Block::Lines(vec![
        "Kind regards,".to_string(),
        format!("The privacy team at {org}"),
    ]));
    doc.push(footer(cx));
    Rendered {
        kind,
        text: to_text(&doc),
        html: to_html(&subject, &doc),
        subject,
    }
}

// ---------------------------------------------------------------------------
// The notices

fn acknowledgement(cx: &NoticeContext<'_>) -> Vec<Block> {
    let org = cx.organisation.name.trim();
    let mut b = vec![
        para()
            .t(format!(
                "Thank you for contacting {org}. We received your request for "
            ))
            .t(request_phrase(cx.request_type))
            .t(format!(
                " {} on {}.",
                channel_phrase(cx.channel),
                day(cx.received_at)
            )),
    ];
    if !cx.verification.trim().is_empty() {
        b.push(Block::Heading("How we check that it is you".into()));
        b.extend(free_text(cx.verification));
        b.push(para().t(
            "We use what you give us for this check only to confirm your identity \
             and to handle this request.",
        ));
    }
    b.push(Block::Heading("When you will hear from us".into()));
    b.push(
        para()
            .t("We will answer by ")
            .b(day(cx.response_due))
            .t(". If we need more time, we will tell you before then and explain why."),
    );
    b.extend(laws(cx));
    b
}

fn extension(cx: &NoticeContext<'_>) -> Vec<Block> {
    let first = para()
        .t("We received your request for ")
        .t(request_phrase(cx.request_type))
        .t(format!(" on {}", day(cx.received_at)));
    let mut b = Vec::new();
    match cx.extended_to {
        // The usual case: the original date, then the new one.
        Some(to) if long_date(to) != long_date(cx.response_due) => {
            b.push(first.t(format!(
                ", and we planned to answer by {}.",
                day(cx.response_due)
            )));
            b.push(
                para()
                    .t("We need more time to answer it properly. We will now answer by ")
                    .b(day(to))
                    .t("."),
            );
        }
        // Only the new date is known (`response_due` already is the extended date).
        Some(_) => {
            b.push(first.t("."));
            b.push(
                para()
                    .t("We need more time to answer it properly. We will now answer by ")
                    .b(day(cx.response_due))
                    .t("."),
            );
        }
        None => {
            b.push(first.t(format!(
                ", and we planned to answer by {}.",
                day(cx.response_due)
            )));
            b.push(para().t(
                "We need more time to answer it properly. We will answer as soon as we \
                 can, and we will write to you again with the new date.",
            ));
        }
    }
    b.push(Block::Heading("Why we need more time".into()));
    match cx.extension_reason.filter(|r| !r.trim().is_empty()) {
        Some(reason) => b.extend(free_text(reason)),
        None => b.push(para().t(
            "Your request needs more work than we can finish in the usual time. \
             Our privacy team can tell you more.",
        )),
    }
    if cx.complaint_statement {
        b.push(Block::Heading("Your right to complain".into()));
        b.push(
            para()
                .t(
                    "If you disagree with this extension, you have the right to complain to \
                     the Office of the Privacy Commissioner of Canada. You can find out how on \
                     its website: ",
                )
                .link(OPC.1, OPC.1),
        );
    }
    b.extend(laws(cx));
    b
}

fn completion(cx: &NoticeContext<'_>) -> Vec<Block> {
    let mut b = vec![
        para()
            .t("We received your request for ")
            .t(request_phrase(cx.request_type))
            .t(format!(
                " on {}, with an answer due by {}. We have now completed it.",
                day(cx.received_at),
                day(cx.response_due)
            )),
    ];
    b.push(Block::Heading("What we did".into()));
    match cx.outcome.filter(|o| !o.trim().is_empty()) {
        Some(outcome) => b.extend(free_text(outcome)),
        None => b.push(para().t(done_phrase(cx.request_type))),
    }
    if let Some(url) = cx.download_url.filter(|u| !u.trim().is_empty()) {
        let url = url.trim();
        b.push(Block::Heading("Your copy".into()));
        b.push(para().t("You can download your copy here:"));
        b.push(para().link(url, url));
        b.push(match cx.code_expires {
            Some(until) => para()
                .t("The link works until ")
                .b(moment(until))
                .t(". Please keep it to yourself and do not forward this message."),
            None => para().t(
                "The link works for a limited time only. Please keep it to yourself and \
                 do not forward this message.",
            ),
        });
    }
    if !cx.denial_reasons.is_empty() {
        b.push(Block::Heading("What we could not do".into()));
        b.push(para().t("We could not do everything you asked, for these reasons:"));
        b.push(reasons_list(cx.denial_reasons));
        b.extend(recourse(cx));
    }
    b.push(Block::Heading("Your rights".into()));
    b.push(para().t(
        "Using your privacy rights does not change the service you receive from us \
         or the price you pay.",
    ));
    b.extend(laws(cx));
    b
}

fn denial(cx: &NoticeContext<'_>) -> Vec<Block> {
    let mut b = vec![
        para()
            .t("We received your request for ")
            .t(request_phrase(cx.request_type))
            .t(format!(
                " on {}, with an answer due by {}.",
                day(cx.received_at),
                day(cx.response_due)
            )),
    ];
    b.push(Block::Heading("Our decision".into()));
    if cx.denial_reasons.is_empty() {
        b.push(para().t(
            "We are sorry, but we cannot do what you asked. Our privacy team can \
             explain why.",
        ));
    } else {
        b.push(para().t("We are sorry, but we cannot do what you asked, for these reasons:"));
        b.push(reasons_list(cx.denial_reasons));
    }
    if has_rule(cx.rules, "US-CA") {
        let p = para().t(
            "Our privacy notice explains in general terms what personal information we \
             collect, why we use it and who we share it with",
        );
        b.push(match cx.organisation.website.as_deref().map(str::trim) {
            Some(site) if !site.is_empty() => p.t(". You can read it here: ").link(site, site),
            _ => p.t("."),
        });
    }
    b.extend(recourse(cx));
    b.extend(laws(cx));
    b
}

fn redirect(cx: &NoticeContext<'_>) -> Vec<Block> {
    let org = cx.organisation.name.trim();
    let (client, contact) = match cx.controller {
        Some((c, k)) => (c.trim(), Some(k.trim()).filter(|k| !k.is_empty())),
        None => ("the organisation that gave us this information", None),
    };
    let mut b = vec![
        para()
            .t("We received your request for ")
            .t(request_phrase(cx.request_type))
            .t(format!(" on {}.", day(cx.received_at))),
        para().t(match cx.controller {
            Some(_) => format!(
                "{org} holds the personal information your request is about on behalf of \
                 {client}, as its service provider. We process it only on {client}'s \
                 instructions, so {client} decides on requests about it, and we cannot act \
                 on your request ourselves."
            ),
            None => format!(
                "{org} holds the personal information your request is about on behalf of \
                 another organisation, as its service provider. We process it only on that \
                 organisation's instructions, so it decides on requests about it, and we \
                 cannot act on your request ourselves."
            ),
        }),
        Block::Heading("Who to contact".into()),
    ];
    b.push(match contact {
        Some(k) => para()
            .t(format!("Please contact {client} directly: "))
            .span(contact_span(k)),
        None => para().t(format!("Please contact {client} directly.")),
    });
    b.push(
        para()
            .t(format!(
                "We have told {client} of your request and that it reached us on {}, so that \
                 they can answer you by ",
                day(cx.received_at)
            ))
            .b(day(cx.response_due))
            .t("."),
    );
    b.push(para().t(format!(
        "If you think {org} also holds personal information about you for its own \
         purposes, you can make a separate request to our privacy team."
    )));
    b
}

fn verification_code(cx: &NoticeContext<'_>) -> Vec<Block> {
    let org = cx.organisation.name.trim();
    let mut b = vec![
        para()
            .t(format!("To confirm that it was you who asked {org} for "))
            .t(request_phrase(cx.request_type))
            .t(format!(
                " (request {}), please enter this code where you were asked for it:",
                cx.request_id
            )),
    ];
    match cx.code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => b.push(Block::Code(code.to_string())),
        None => {
            b.push(para().t("(The code is missing from this message: please ask for a new one.)"))
        }
    }
    if let Some(expires) = cx.code_expires {
        b.push(para().t("The code works until ").b(moment(expires)).t("."));
    }
    b.push(
        para()
            .t("Once we have verified your identity, we will answer your request by ")
            .b(day(cx.response_due))
            .t("."),
    );
    b.push(para().t(
        "If you did not ask for this code, you can ignore this message: nothing happens \
         without the code. Please do not share it with anyone.",
    ));
    b
}

// ---------------------------------------------------------------------------
// Shared parts

const OPC: (&str, &str) = (
    "the Office of the Privacy Commissioner of Canada",
    "https://www.priv.gc.ca",
);

/// The authorities a person may complain to, by jurisdiction code.
fn authority(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code.trim().to_ascii_uppercase().as_str() {
        "CA" => OPC,
        "CA-QC" => (
            "the Commission d'accès à l'information du Québec",
            "https://www.cai.gouv.qc.ca",
        ),
        "EU" => (
            "the data protection authority of the EU country where you live or work, \
             or where you think the problem happened",
            "https://www.edpb.europa.eu",
        ),
        "UK" | "GB" => (
            "the Information Commissioner's Office",
            "https://ico.org.uk",
        ),
        "US-CA" => (
            "the California Privacy Protection Agency",
            "https://cppa.ca.gov",
        ),
        "US-VA" => (
            "the Office of the Attorney General of Virginia",
            "https://www.oag.state.va.us",
        ),
        "US-CO" => ("the Colorado Attorney General", "https://coag.gov"),
        "US-CT" => (
            "the Connecticut Attorney General",
            "https://portal.ct.gov/ag",
        ),
        "BR" => (
            "the Autoridade Nacional de Proteção de Dados (ANPD)",
            "https://www.gov.br/anpd",
        ),
        _ => return None,
    })
}

fn jurisdiction_name(code: &str) -> String {
    match code.trim().to_ascii_uppercase().as_str() {
        "CA" => "Canada (PIPEDA)".into(),
        "CA-QC" => "Québec".into(),
        "EU" => "the European Union (GDPR)".into(),
        "UK" | "GB" => "the United Kingdom (UK GDPR)".into(),
        "US-CA" => "California (CCPA)".into(),
        "US-VA" => "Virginia".into(),
        "US-CO" => "Colorado".into(),
        "US-CT" => "Connecticut".into(),
        "BR" => "Brazil (LGPD)".into(),
        _ => code.trim().to_string(),
    }
}

fn has_rule(rules: &[String], code: &str) -> bool {
    rules.iter().any(|r| r.trim().eq_ignore_ascii_case(code))
}

fn laws(cx: &NoticeContext<'_>) -> Option<Block> {
    let mut names: Vec<String> = Vec::new();
    for r in cx.rules.iter().filter(|r| !r.trim().is_empty()) {
        let n = jurisdiction_name(r);
        if !names.contains(&n) {
            names.push(n);
        }
    }
    if names.is_empty() {
        return None;
    }
    let list = join_and(&names);
    let noun = if names.len() == 1 { "law" } else { "laws" };
    Some(para().t(format!(
        "We are handling your request under the privacy {noun} of {list}."
    )))
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// How to appeal, and where to complain.
fn recourse(cx: &NoticeContext<'_>) -> Vec<Block> {
    let mut b = vec![Block::Heading("If you disagree".into())];
    let mut seen = Vec::new();
    let authorities: Vec<(&str, &str)> = cx
        .rules
        .iter()
        .filter_map(|r| authority(r))
        .filter(|a| {
            let new = !seen.contains(a);
            seen.push(*a);
            new
        })
        .collect();
    match cx.appeal.map(str::trim).filter(|a| !a.is_empty()) {
        Some(appeal) => {
            b.extend(free_text(appeal));
            if !authorities.is_empty() {
                b.push(para().t(
                    "If you are not satisfied with the outcome of your appeal, you can \
                     complain to:",
                ));
            }
        }
        None => {
            b.push(para().t(
                "If you think we are wrong, please tell our privacy team: we will look at \
                 your request again.",
            ));
            if !authorities.is_empty() {
                b.push(para().t("You also have the right to complain to:"));
            }
        }
    }
    if !authorities.is_empty() {
        b.push(Block::List(
            authorities
                .iter()
                .map(|(name, url)| vec![Span::Text(format!("{name}: ")), link_span(url, url)])
                .collect(),
        ));
    }
    if has_rule(cx.rules, "EU") || has_rule(cx.rules, "UK") || has_rule(cx.rules, "GB") {
        b.push(para().t("You may also seek a remedy through the courts."));
    }
    b
}

fn reasons_list(reasons: &[(String, String)]) -> Block {
    Block::List(
        reasons
            .iter()
            .map(|(code, words)| {
                let words = words.trim();
                let code = code.trim();
                let text = match (words.is_empty(), code.is_empty()) {
                    (false, false) => format!("{words} (reason code: {code})"),
                    (false, true) => words.to_string(),
                    (true, _) => format!("Reason code: {code}"),
                };
                vec![Span::Text(text)]
            })
            .collect(),
    )
}

fn contact_section(cx: &NoticeContext<'_>) -> Vec<Block> {
    let mut b = vec![Block::Heading("How to reach our privacy team".into())];
    let items: Vec<Vec<Span>> = cx
        .contacts
        .iter()
        .filter(|c| !c.address.trim().is_empty())
        .map(|c| {
            let label = c
                .label
                .as_deref()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .unwrap_or(match c.channel {
                    ContactChannel::Email => "E-mail",
                    ContactChannel::Phone => "Phone",
                    ContactChannel::Mail => "Post",
                    ContactChannel::Web => "Online",
                });
            let address = one_line(&c.address);
            let value = match c.channel {
                ContactChannel::Email => link_span(&address, &format!("mailto:{address}")),
                ContactChannel::Phone => {
                    let digits: String = address
                        .chars()
                        .filter(|ch| ch.is_ascii_digit() || *ch == '+')
                        .collect();
                    link_span(&address, &format!("tel:{digits}"))
                }
                ContactChannel::Web => link_span(&address, &address),
                ContactChannel::Mail => Span::Text(address.clone()),
            };
            vec![Span::Text(format!("{label}: ")), value]
        })
        .collect();
    if items.is_empty() {
        let p = para().t(
            "Please quote your request reference when you write to us. You can reply \
             to this message",
        );
        b.push(match cx.organisation.website.as_deref().map(str::trim) {
            Some(site) if !site.is_empty() => p.t(", or visit our website: ").link(site, site),
            _ => p.t("."),
        });
    } else {
        b.push(para().t("Please quote your request reference when you contact us."));
        b.push(Block::List(items));
    }
    b
}

fn footer(cx: &NoticeContext<'_>) -> Block {
    let o = cx.organisation;
    let mut lines = vec![
        o.legal_name
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .unwrap_or(o.name.trim())
            .to_string(),
    ];
    if let Some(a) = o.address.as_deref().map(one_line).filter(|a| !a.is_empty()) {
        lines.push(a);
    }
    if let Some(w) = o
        .website
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        lines.push(w.to_string());
    }
    lines.push(format!("This message is about request {}.", cx.request_id));
    Block::Footer(lines)
}

/// What the request asks for, in words that follow "your request for".
pub fn request_phrase(t: RequestType) -> &'static str {
    match t {
        RequestType::Access => "a copy of the personal information we hold about you",
        RequestType::Know => {
            "details of the personal information we collect about you: what kinds we \
             hold, where it comes from, why we use it and who we share it with"
        }
        RequestType::Delete => "the deletion of the personal information we hold about you",
        RequestType::Correct => "the correction of personal information we hold about you",
        RequestType::OptOut => {
            "us to stop selling or sharing your personal information, or using it for marketing"
        }
        RequestType::LimitSensitive => {
            "us to limit how we use and share your sensitive personal information"
        }
        RequestType::Portability => {
            "a copy of your personal information in a machine-readable format that you \
             can take elsewhere"
        }
        RequestType::WithdrawConsent => {
            "the withdrawal of your consent to our use of your personal information"
        }
    }
}

fn done_phrase(t: RequestType) -> &'static str {
    match t {
        RequestType::Access | RequestType::Portability => {
            "We have prepared a copy of the personal information we hold about you."
        }
        RequestType::Know => {
            "We have prepared the details of the personal information we collect about you."
        }
        RequestType::Delete => "We have deleted the personal information your request covered.",
        RequestType::Correct => "We have corrected the personal information you told us about.",
        RequestType::OptOut => "We have recorded your choice, and we now act on it.",
        RequestType::LimitSensitive => {
            "We now use your sensitive personal information only where it is needed to \
             provide what you asked us for."
        }
        RequestType::WithdrawConsent => {
            "We have recorded the withdrawal of your consent, and we now act on it."
        }
    }
}

fn channel_phrase(c: Channel) -> &'static str {
    match c {
        Channel::Web => "through our website",
        Channel::Email => "by e-mail",
        Channel::Phone => "by phone",
        Channel::Mail => "by post",
        Channel::Api => "through our online services",
    }
}

/// A date as people write it: "Monday 4 January 2027" (the day in UTC).
pub fn long_date(ts: Timestamp) -> String {
    let d = ts.to_zoned(TimeZone::UTC).date();
    let weekday = match d.weekday() {
        jiff::civil::Weekday::Monday => "Monday",
        jiff::civil::Weekday::Tuesday => "Tuesday",
        jiff::civil::Weekday::Wednesday => "Wednesday",
        jiff::civil::Weekday::Thursday => "Thursday",
        jiff::civil::Weekday::Friday => "Friday",
        jiff::civil::Weekday::Saturday => "Saturday",
        jiff::civil::Weekday::Sunday => "Sunday",
    };
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = usize::try_from(d.month() - 1)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .copied()
        .unwrap_or("");
    format!("{weekday} {} {month} {}", d.day(), d.year())
}

/// A moment, for hour-level deadlines: "Monday 4 January 2027 at 14:05 UTC".
pub fn long_date_time(ts: Timestamp) -> String {
    let z = ts.to_zoned(TimeZone::UTC);
    format!("{} at {:02}:{:02} UTC", long_date(ts), z.hour(), z.minute())
}

/// Joins the words of a unit the text wrapper must not break (a date); both
/// renderers turn it back into a space.
const GLUE: char = '\u{E000}';

fn glued(s: &str) -> String {
    s.replace(' ', &GLUE.to_string())
}

fn day(ts: Timestamp) -> String {
    glued(&long_date(ts))
}

fn moment(ts: Timestamp) -> String {
    glued(&long_date_time(ts))
}

/// Free text from the workflow: blank lines separate paragraphs.
fn free_text(s: &str) -> Vec<Block> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| para().t(p))
        .collect()
}

/// Collapse all whitespace (newlines included) into single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn contact_span(k: &str) -> Span {
    if is_email(k) {
        link_span(k, &format!("mailto:{k}"))
    } else {
        link_span(k, k)
    }
}

fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(l), Some(d), None) if !l.is_empty() && d.contains('.')
    ) && !s
        .chars()
        .any(|c| c.is_whitespace() || "<>\"'():;,".contains(c))
}

/// A link only if its target is a safe scheme; otherwise plain text.
fn link_span(text: &str, href: &str) -> Span {
    let lower = href.trim().to_ascii_lowercase();
    if ["https://", "http://", "mailto:", "tel:"]
        .iter()
        .any(|s| lower.starts_with(s))
        && !href.chars().any(char::is_whitespace)
    {
        Span::Link {
            text: text.to_string(),
            href: href.trim().to_string(),
        }
    } else {
        Span::Text(text.to_string())
    }
}

// ---------------------------------------------------------------------------
// The document both bodies are rendered from

#[derive(Debug, Clone)]
enum Span {
    Text(String),
    Strong(String),
    Link { text: String, href: String },
}

impl Span {
    fn plain(&self) -> &str {
        match self {
            Span::Text(s) | Span::Strong(s) => s,
            Span::Link { text, .. } => text,
        }
    }
}

#[derive(Debug, Clone)]
enum Block {
    Title(String),
    Meta(String),
    Heading(String),
    Para(Vec<Span>),
    List(Vec<Vec<Span>>),
    /// A code to copy: shown large, on its own.
    Code(String),
    /// Lines kept as they are (a sign-off).
    Lines(Vec<String>),
    Footer(Vec<String>),
}

fn para() -> Block {
    Block::Para(Vec::new())
}

impl Block {
    fn span(mut self, s: Span) -> Block {
        if let Block::Para(spans) = &mut self {
            spans.push(s);
        }
        self
    }
    fn t(self, s: impl Into<String>) -> Block {
        self.span(Span::Text(s.into()))
    }
    fn b(self, s: impl Into<String>) -> Block {
        self.span(Span::Strong(s.into()))
    }
    fn link(self, text: &str, href: &str) -> Block {
        self.span(link_span(text, href))
    }
}

/// Text bodies are wrapped at this many columns.
const WIDTH: usize = 76;

fn to_text(doc: &[Block]) -> String {
    let mut out = String::new();
    for block in doc {
        let mut part = String::new();
        let buf = &mut part;
        match block {
            Block::Title(s) | Block::Meta(s) | Block::Heading(s) => wrap(buf, s, "", ""),
            Block::Para(spans) => wrap(buf, &spans_plain(spans), "", ""),
            Block::List(items) => {
                for item in items {
                    wrap(buf, &spans_plain(item), "  - ", "    ");
                }
            }
            Block::Code(code) => wrap(buf, code, "    ", "    "),
            Block::Lines(lines) | Block::Footer(lines) => {
                for l in lines {
                    wrap(buf, l, "", "");
                }
            }
        }
        if !part.is_empty() {
            let part = part.replace(GLUE, " ");
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&part);
        }
    }
    out
}

fn spans_plain(spans: &[Span]) -> String {
    spans.iter().map(Span::plain).collect()
}

/// Append `text` wrapped at [`WIDTH`], each line ended by a newline. Words longer than
/// a line are split, except links and addresses, which stay whole on their own line.
fn wrap(out: &mut String, text: &str, first: &str, rest: &str) {
    let mut line = String::from(first);
    let mut len = first.chars().count();
    let mut empty = true;
    for word in text.split_whitespace() {
        let mut word = word;
        loop {
            let wlen = word.chars().count();
            let room = WIDTH.saturating_sub(len);
            let needed = if empty { wlen } else { wlen + 1 };
            if needed <= room {
                if !empty {
                    line.push(' ');
                }
                line.push_str(word);
                len += needed;
                empty = false;
                break;
            }
            if !empty {
                out.push_str(&line);
                out.push('\n');
                line = String::from(rest);
                len = rest.chars().count();
                empty = true;
                continue;
            }
            // An empty line and still no room: the word alone is longer than a line.
            if unbreakable(word) {
                line.push_str(word);
                len += wlen;
                empty = false;
                break;
            }
            let avail = room.max(1);
            let cut = word
                .char_indices()
                .nth(avail)
                .map_or(word.len(), |(i, _)| i);
            line.push_str(&word[..cut]);
            out.push_str(&line);
            out.push('\n');
            line = String::from(rest);
            len = rest.chars().count();
            word = &word[cut..];
            if word.is_empty() {
                break;
            }
        }
    }
    if !empty {
        out.push_str(&line);
        out.push('\n');
    }
}

fn unbreakable(word: &str) -> bool {
    word.contains("://") || word.contains('@') || word.starts_with("mailto:")
}

fn to_html(subject: &str, doc: &[Block]) -> String {
    let mut h = String::with_capacity(4096);
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
    );
    escape_into(&mut h, subject);
    h.push_str("</title>\n<style>\n");
    h.push_str(STYLE);
    h.push_str("</style>\n</head>\n<body>\n<main>\n");
    for block in doc {
        match block {
            Block::Title(s) => tag(&mut h, "h1", "", s),
            Block::Meta(s) => tag(&mut h, "p", " class=\"ref\"", s),
            Block::Heading(s) => tag(&mut h, "h2", "", s),
            Block::Para(spans) => {
                h.push_str("<p>");
                spans_html(&mut h, spans);
                h.push_str("</p>\n");
            }
            Block::List(items) => {
                h.push_str("<ul>\n");
                for item in items {
                    h.push_str("<li>");
                    spans_html(&mut h, item);
                    h.push_str("</li>\n");
                }
                h.push_str("</ul>\n");
            }
            Block::Code(code) => tag(&mut h, "p", " class=\"code\"", code),
            Block::Lines(lines) => {
                h.push_str("<p>");
                lines_html(&mut h, lines);
                h.push_str("</p>\n");
            }
            Block::Footer(lines) => {
                h.push_str("<footer><p>");
                lines_html(&mut h, lines);
                h.push_str("</p></footer>\n");
            }
        }
    }
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

const STYLE: &str = "\
body{margin:0;padding:16px;background:#f4f4f2;color:#1f2328;\
font:16px/1.5 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif}
main{max-width:40em;margin:0 auto;background:#fff;padding:24px 28px;border-radius:6px}
h1{font-size:1.3em;margin:0 0 .2em}
h2{font-size:1.05em;margin:1.6em 0 .4em}
.ref{color:#57606a;margin-top:0}
.code{font:700 1.8em/1.3 ui-monospace,Menlo,Consolas,monospace;letter-spacing:.15em}
a{color:#0b57d0;word-break:break-all}
footer{color:#57606a;font-size:.85em;margin-top:2em;border-top:1px solid #ddd}
";

fn tag(h: &mut String, name: &str, attrs: &str, text: &str) {
    h.push('<');
    h.push_str(name);
    h.push_str(attrs);
    h.push('>');
    escape_into(h, text);
    h.push_str("</");
    h.push_str(name);
    h.push_str(">\n");
}

fn lines_html(h: &mut String, lines: &[String]) {
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            h.push_str("<br>\n");
        }
        escape_into(h, l);
    }
}

fn spans_html(h: &mut String, spans: &[Span]) {
    for s in spans {
        match s {
            Span::Text(t) => escape_into(h, t),
            Span::Strong(t) => {
                h.push_str("<strong>");
                escape_into(h, t);
                h.push_str("</strong>");
            }
            Span::Link { text, href } => {
                h.push_str("<a href=\"");
                escape_into(h, href);
                h.push_str("\">");
                escape_into(h, text);
                h.push_str("</a>");
            }
        }
    }
}

/// Escape for HTML text and double- or single-quoted attribute values.
fn escape_into(h: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => h.push_str("&amp;"),
            '<' => h.push_str("&lt;"),
            '>' => h.push_str("&gt;"),
            '"' => h.push_str("&quot;"),
            '\'' => h.push_str("&#39;"),
            GLUE => h.push(' '),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => h.push(c),
        }
    }
}

/// A section of a notice that is not about one person's request (a new policy version,
/// told to a tenant's administrators): an optional heading, paragraphs, then a list.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub heading: Option<String>,
    pub paragraphs: Vec<String>,
    pub items: Vec<String>,
}

/// Such a notice, laid out like the request notices: (subject, text, HTML).
pub fn render_sections(
    subject: &str,
    title: &str,
    meta: &str,
    sections: &[Section],
    footer: &[String],
) -> (String, String, String) {
    let subject = one_line(subject);
    let mut doc = vec![
        Block::Title(title.to_string()),
        Block::Meta(meta.to_string()),
    ];
    for s in sections {
        if let Some(h) = &s.heading {
            doc.push(Block::Heading(h.clone()));
        }
        doc.extend(s.paragraphs.iter().map(|p| para().t(p.as_str())));
        if !s.items.is_empty() {
            doc.push(Block::List(
                s.items
                    .iter()
                    .map(|i| vec![Span::Text(i.clone())])
                    .collect(),
            ));
        }
    }
    if !footer.is_empty() {
        doc.push(Block::Footer(footer.to_vec()));
    }
    let text = to_text(&doc);
    let html = to_html(&subject, &doc);
    (subject, text, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(name: &str) -> Organisation {
        Organisation {
            name: name.to_string(),
            legal_name: Some("Example Research Ltd.".into()),
            website: Some("https://example.com/privacy".into()),
            address: Some("1 Main Street\nSaskatoon SK".into()),
        }
    }

    fn contacts() -> Vec<Contact> {
        vec![
            Contact {
                channel: ContactChannel::Email,
                address: "privacy@example.com".into(),
                label: None,
            },
            Contact {
                channel: ContactChannel::Phone,
                address: "+1 306 555 0100".into(),
                label: Some("Privacy line".into()),
            },
        ]
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Every field filled: the fullest version of every notice.
    fn full<'a>(
        o: &'a Organisation,
        c: &'a [Contact],
        rules: &'a [String],
        reasons: &'a [(String, String)],
        t: RequestType,
    ) -> NoticeContext<'a> {
        NoticeContext {
            acknowledgement_due: Some(ts("2026-12-08T10:00:00Z")),
            extended_to: Some(ts("2027-02-03T10:00:00Z")),
            extension_reason: Some("Your request covers records held in several systems."),
            complaint_statement: true,
            verification: "We will compare two pieces of information you give us with what we already hold.",
            rules,
            denial_reasons: reasons,
            appeal: Some("Reply to this message with the word APPEAL within 60 days."),
            outcome: Some(
                "We deleted your survey answers; backups holding them expire by Friday 25 December 2026.",
            ),
            download_url: Some("https://vow.example.com/d/4f3a9c"),
            controller: Some(("Acme Retail", "privacy@acme.example")),
            code: Some("482913"),
            code_expires: Some(ts("2026-11-24T14:05:00Z")),
            ..NoticeContext::new(
                o,
                c,
                "req_0192f3",
                t,
                Channel::Web,
                ts("2026-11-24T09:30:00Z"),
                ts("2027-01-04T09:30:00Z"),
            )
        }
    }

    fn reasons() -> Vec<(String, String)> {
        vec![
            (
                "unverifiable".into(),
                "We could not confirm your identity from the information you gave us.".into(),
            ),
            (
                "legal_hold".into(),
                "The law requires us to keep your tax records for six years.".into(),
            ),
        ]
    }

    #[test]
    fn long_dates_read_like_a_letter() {
        assert_eq!(
            long_date(ts("2027-01-04T09:30:00Z")),
            "Monday 4 January 2027"
        );
        assert_eq!(
            long_date_time(ts("2026-11-24T14:05:00Z")),
            "Tuesday 24 November 2026 at 14:05 UTC"
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }

    #[test]
    fn every_kind_renders_for_every_type_with_id_due_date_and_contact() {
        let o = org("Example Research");
        let c = contacts();
        let rules = vec!["US-CA".to_string(), "CA".to_string()];
        let r = reasons();
        let due = "Monday 4 January 2027";
        for t in RequestType::ALL {
            for k in NoticeKind::ALL {
                for cx in [
                    full(&o, &c, &rules, &r, t),
                    NoticeContext::new(
                        &o,
                        &c,
                        "req_0192f3",
                        t,
                        Channel::Mail,
                        ts("2026-11-24T09:30:00Z"),
                        ts("2027-01-04T09:30:00Z"),
                    ),
                ] {
                    let n = render(k, &cx);
                    assert_eq!(n.kind, k);
                    for (part, body) in [("text", &n.text), ("html", &n.html)] {
                        assert!(
                            one_line(body).contains("req_0192f3"),
                            "{k} {t} {part}: no id"
                        );
                        assert!(one_line(body).contains(due), "{k} {t} {part}: no due date");
                        assert!(body.contains("Example Research"), "{k} {t} {part}");
                        assert!(body.contains("privacy@example.com"), "{k} {t} {part}");
                        assert!(one_line(body).contains(request_phrase(t)), "{k} {t} {part}");
                    }
                    assert!(n.subject.contains("req_0192f3"));
                    assert!(n.subject.contains("Example Research"));
                    assert!(!n.subject.contains('\n'));
                }
            }
        }
    }

    #[test]
    fn text_lines_fit_in_78_columns() {
        let long = "Example Research and Polling Services of Western Canada Incorporated \
                    Limited Partnership Holdings";
        let o = org(long);
        let c = contacts();
        let rules = vec!["US-CA".into(), "CA".into(), "EU".into(), "CA-QC".into()];
        let mut r = reasons();
        r.push(("x".into(), "A".repeat(200)));
        for t in RequestType::ALL {
            for k in NoticeKind::ALL {
                let n = render(k, &full(&o, &c, &rules, &r, t));
                for line in n.text.lines() {
                    assert!(line.chars().count() <= 78, "{k} {t}: {line:?}");
                }
                assert!(n.text.ends_with('\n'));
                assert!(!one_line(&n.text).contains("\n\n\n"));
            }
        }
    }

    #[test]
    fn html_escapes_everything_and_is_self_contained() {
        let o = org("<script>alert('x')</script> & Co");
        let c = contacts();
        let rules = vec!["US-CA".to_string()];
        let r = vec![("c\"ode".to_string(), "<b>bold</b>".to_string())];
        for t in RequestType::ALL {
            for k in NoticeKind::ALL {
                let mut cx = full(&o, &c, &rules, &r, t);
                cx.controller = Some(("<img src=x onerror=alert(1)>", "javascript:alert(1)"));
                let n = render(k, &cx);
                let h = &n.html;
                assert!(!h.contains("<script"), "{k}: {h}");
                assert!(h.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"));
                assert!(!h.contains("<img"));
                assert!(!h.contains("<b>"));
                assert!(!h.contains("href=\"javascript:"), "{k}");
                assert!(h.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
                assert!(h.contains("<meta charset=\"utf-8\">"));
                assert!(h.trim_end().ends_with("</html>"));
                for needle in ["src=\"", "<link", "@import", "url(", "<iframe", "<script"] {
                    assert!(!h.contains(needle), "{k}: external resource {needle}");
                }
                // The plain text is not escaped: it is plain text.
                assert!(n.text.contains("<script>alert('x')</script> & Co"));
            }
        }
    }

    #[test]
    fn pipeda_complaint_only_when_asked() {
        let o = org("Example Research");
        let c = contacts();
        let rules = vec!["CA".to_string()];
        let r = reasons();
        let mut cx = full(&o, &c, &rules, &r, RequestType::Access);
        let with = render(NoticeKind::Extension, &cx);
        assert!(one_line(&with.text).contains("Office of the Privacy Commissioner of Canada"));
        assert!(one_line(&with.text).contains("right to complain"));
        assert!(
            one_line(&with.text).contains("Wednesday 3 February 2027"),
            "{}",
            with.text
        );
        assert!(one_line(&with.text).contains("several systems"));
        cx.complaint_statement = false;
        let without = render(NoticeKind::Extension, &cx);
        assert!(!one_line(&without.text).contains("Privacy Commissioner"));
        assert!(!without.html.contains("Privacy Commissioner"));
        assert!(one_line(&without.text).contains("Wednesday 3 February 2027"));
        // Other notices do not carry the extension's complaint statement.
        cx.complaint_statement = true;
        let ack = render(NoticeKind::Acknowledgement, &cx);
        assert!(!one_line(&ack.text).contains("Privacy Commissioner"));
    }

    #[test]
    fn extension_with_only_the_new_date_does_not_repeat_it() {
        let o = org("Example Research");
        let c = contacts();
        let cx = NoticeContext {
            extended_to: Some(ts("2027-02-03T10:00:00Z")),
            extension_reason: Some("Your records are in several archives."),
            ..NoticeContext::new(
                &o,
                &c,
                "r1",
                RequestType::Access,
                Channel::Email,
                ts("2026-11-24T09:30:00Z"),
                ts("2027-02-03T10:00:00Z"),
            )
        };
        let text = one_line(&render(NoticeKind::Extension, &cx).text);
        assert!(!text.contains("planned"), "{text}");
        assert!(text.contains("We will now answer by Wednesday 3 February 2027."));
        let none = NoticeContext {
            extended_to: None,
            ..cx
        };
        let text = one_line(&render(NoticeKind::Extension, &none).text);
        assert!(text.contains("write to you again with the new date"));
    }

    #[test]
    fn only_absolute_web_links_become_links() {
        let o = org("Example Research");
        let c = contacts();
        let cx = NoticeContext {
            download_url: Some("/v1/tenants/t/requests/r1/export"),
            ..full(&o, &c, &[], &[], RequestType::Access)
        };
        let n = render(NoticeKind::Completion, &cx);
        assert!(n.text.contains("/v1/tenants/t/requests/r1/export"));
        assert!(!n.html.contains("href=\"/v1"));
    }

    #[test]
    fn denial_lists_reasons_and_the_appeal_or_the_complaint_route() {
        let o = org("Example Research");
        let c = contacts();
        let rules = vec!["US-VA".to_string(), "US-CA".to_string()];
        let r = reasons();
        let cx = full(&o, &c, &rules, &r, RequestType::Delete);
        let n = render(NoticeKind::Denial, &cx);
        assert!(one_line(&n.text).contains("We could not confirm your identity"));
        assert!(one_line(&n.text).contains("(reason code: unverifiable)"));
        assert!(one_line(&n.text).contains("tax records for six years"));
        assert!(n.html.contains("<li>We could not confirm your identity"));
        assert!(one_line(&n.text).contains("APPEAL within 60 days"));
        assert!(one_line(&n.text).contains("outcome of your appeal"));
        assert!(one_line(&n.text).contains("Attorney General of Virginia"));
        assert!(
            one_line(&n.text).contains("privacy notice"),
            "California: general practices"
        );
        let no_appeal = NoticeContext { appeal: None, ..cx };
        let n = render(NoticeKind::Denial, &no_appeal);
        assert!(!one_line(&n.text).contains("appeal"));
        assert!(one_line(&n.text).contains("right to complain"));
        assert!(one_line(&n.text).contains("California Privacy Protection Agency"));
        let eu = vec!["EU".to_string()];
        let n = render(
            NoticeKind::Denial,
            &NoticeContext {
                rules: &eu,
                ..no_appeal
            },
        );
        assert!(one_line(&n.text).contains("data protection authority"));
        assert!(one_line(&n.text).contains("courts"));
    }

    #[test]
    fn partial_completion_lists_what_could_not_be_done() {
        let o = org("Example Research");
        let c = contacts();
        let rules = vec!["US-CA".to_string()];
        let r = reasons();
        let cx = full(&o, &c, &rules, &r, RequestType::Delete);
        let n = render(NoticeKind::Completion, &cx);
        assert!(one_line(&n.text).contains("What we could not do"));
        assert!(one_line(&n.text).contains("tax records"));
        let n = render(
            NoticeKind::Completion,
            &NoticeContext {
                denial_reasons: &[],
                ..cx
            },
        );
        assert!(!one_line(&n.text).contains("What we could not do"));
        assert!(one_line(&n.text).contains("does not change the service"));
        assert!(one_line(&n.text).contains("the price you pay"));
        assert!(one_line(&n.text).contains("backups holding them expire"));
        assert!(one_line(&n.text).contains("https://vow.example.com/d/4f3a9c"));
        assert!(
            n.html
                .contains("<a href=\"https://vow.example.com/d/4f3a9c\">")
        );
        assert!(one_line(&n.text).contains("Tuesday 24 November 2026 at 14:05 UTC"));
    }

    #[test]
    fn redirect_names_the_client_and_its_contact() {
        let o = org("Mailfleet");
        let c = contacts();
        let rules: Vec<String> = Vec::new();
        let cx = full(&o, &c, &rules, &[], RequestType::Delete);
        let n = render(NoticeKind::Redirect, &cx);
        assert!(n.subject.contains("Acme Retail"));
        assert!(one_line(&n.text).contains("on behalf of Acme Retail"));
        assert!(
            one_line(&n.text).contains("Please contact Acme Retail directly: privacy@acme.example")
        );
        assert!(one_line(&n.text).contains("We have told Acme Retail of your request"));
        assert!(n.html.contains("<a href=\"mailto:privacy@acme.example\">"));
        let web = NoticeContext {
            controller: Some(("Acme Retail", "https://acme.example/privacy")),
            ..cx
        };
        let n = render(NoticeKind::Redirect, &web);
        assert!(n.html.contains("<a href=\"https://acme.example/privacy\">"));
    }

    #[test]
    fn verification_code_shows_code_expiry_and_ignore_advice() {
        let o = org("Example Research");
        let c = contacts();
        let cx = full(&o, &c, &[], &[], RequestType::Access);
        let n = render(NoticeKind::VerificationCode, &cx);
        assert!(n.text.contains("    482913\n"));
        assert!(n.html.contains("<p class=\"code\">482913</p>"));
        assert!(one_line(&n.text).contains("Tuesday 24 November 2026 at 14:05 UTC"));
        assert!(one_line(&n.text).contains("If you did not ask for this code, you can ignore"));
        assert!(
            !n.subject.contains("482913"),
            "the code stays out of the subject"
        );
    }

    #[test]
    fn acknowledgement_explains_verification_and_timing() {
        let o = org("Example Research");
        let c = contacts();
        let rules = vec!["US-CA".to_string(), "CA".to_string()];
        let cx = full(&o, &c, &rules, &[], RequestType::Know);
        let n = render(NoticeKind::Acknowledgement, &cx);
        assert!(one_line(&n.text).contains("through our website on Tuesday 24 November 2026"));
        assert!(one_line(&n.text).contains("compare two pieces of information"));
        assert!(one_line(&n.text).contains("California (CCPA) and Canada (PIPEDA)"));
        assert!(n.html.contains("<strong>Monday 4 January 2027</strong>"));
    }

    #[test]
    fn no_contacts_falls_back_to_reply_and_website() {
        let o = org("Example Research");
        let cx = NoticeContext::new(
            &o,
            &[],
            "r1",
            RequestType::Delete,
            Channel::Email,
            ts("2026-11-24T09:30:00Z"),
            ts("2027-01-04T09:30:00Z"),
        );
        let n = render(NoticeKind::Acknowledgement, &cx);
        assert!(one_line(&n.text).contains("reply to this message"));
        assert!(one_line(&n.text).contains("https://example.com/privacy"));
    }

    #[test]
    fn debug_hides_the_bodies() {
        let o = org("Example Research");
        let c = contacts();
        let cx = full(&o, &c, &[], &[], RequestType::Access);
        let n = render(NoticeKind::VerificationCode, &cx);
        let d = format!("{n:?} {cx:?}");
        assert!(!d.contains("482913"));
        assert!(!d.contains("vow.example.com"));
    }

    #[test]
    fn wrap_splits_long_words_but_not_links() {
        let mut out = String::new();
        wrap(&mut out, &"x".repeat(100), "", "");
        assert!(out.lines().all(|l| l.chars().count() <= WIDTH));
        let url = format!("https://example.com/{}", "a".repeat(90));
        let mut out = String::new();
        wrap(&mut out, &format!("see {url} now"), "", "");
        assert!(out.lines().any(|l| l == url), "{out}");
    }
}
