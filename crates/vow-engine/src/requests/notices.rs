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
use serde::{Deserialize, Serialize};
use std::fmt;
use vow_core::policy::{Contact, ContactChannel, Organisation};
use vow_core::{Channel, RequestType};
use vow_render::letter::{
    Block, Letter, Span, contact_span, day, free_text, link_span, moment, one_line, para,
};
use vow_render::long_date;

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
    /// Acknowledgement of a request made on the portal: its status page's signed link.
    pub status_url: Option<&'a str>,
    /// This request is an appeal of the decision on that request: the acknowledgement
    /// says so, and a denial is final, naming only the regulators to complain to.
    pub appeal_of: Option<&'a str>,
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
            status_url: None,
            appeal_of: None,
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
            match cx.appeal_of {
                Some(_) => format!("{org}: we have received your appeal (ref. {id})"),
                None => format!("{org}: we have received your request (ref. {id})"),
            },
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
    let letter = Letter {
        subject,
        blocks: doc,
    };
    Rendered {
        kind,
        text: letter.to_text(),
        html: letter.to_html(),
        subject: letter.subject,
    }
}

// ---------------------------------------------------------------------------
// The notices

fn acknowledgement(cx: &NoticeContext<'_>) -> Vec<Block> {
    let org = cx.organisation.name.trim();
    if let Some(original) = cx.appeal_of {
        let mut b = vec![
            para()
                .t("We received your appeal of our decision on your request for ")
                .t(request_phrase(cx.request_type))
                .t(format!(" (ref. {original}) on {}.", day(cx.received_at))),
            para().t(
                "People who were not involved in the first decision will look at your \
                 request again.",
            ),
            Block::Heading("When you will hear from us".into()),
            para()
                .t("We will decide your appeal and tell you in writing, with our reasons, by ")
                .b(day(cx.response_due))
                .t("."),
        ];
        b.extend(laws(cx));
        return b;
    }
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
    if let Some(url) = cx.status_url.filter(|u| !u.trim().is_empty()) {
        b.push(Block::Heading("Follow your request".into()));
        b.push(para().t("This page shows where your request stands, the notices we sent and, when it is ready, your download:"));
        b.push(para().link(url.trim(), url.trim()));
        b.push(para().t("Please keep this link to yourself."));
    }
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
    if cx.appeal_of.is_some() {
        // The decision on an appeal is final here: what is left is the regulator.
        b.push(para().t(
            "This is our decision on your appeal. If you disagree with it, you can \
             complain to:",
        ));
        if authorities.is_empty() {
            b.push(para().t("the privacy regulator where you live."));
        }
    } else {
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
        RequestType::Unsubscribe => "us to stop sending you marketing e-mails",
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
        RequestType::Unsubscribe => "We have stopped sending you marketing e-mails.",
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

#[cfg(test)]
mod tests;
