//! The human-readable notice, built once as a small document model so that the
//! Markdown and HTML renderings say exactly the same thing.

mod words;

use words::{
    basis_words, capitalise, category_labels, channel_words, clock_words, country, days, email_ok,
    is_sale, is_sharing, join, jurisdiction, kind_plural, kind_words, or_none, overlaps,
    purpose_label, right_words, safeguard_words, store_kind_words, url_ok,
};

use vow_core::policy::{
    CategoryDef, ContactChannel, Policy, PurposeDef, RecipientDef, RecipientKind,
};

/// The notice is a [`vow_render::document::Document`]: this module decides what it
/// says, vow-render how it looks in Markdown and HTML.
pub use vow_render::document::{Block, Document as Notice, Inline, Rich};

fn text(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}

fn plain(s: impl Into<String>) -> Rich {
    vec![text(s)]
}

fn contact_value(channel: ContactChannel, address: &str) -> Inline {
    let a = address.trim();
    match channel {
        ContactChannel::Email if email_ok(a) => Inline::Link {
            text: a.to_string(),
            href: format!("mailto:{a}"),
        },
        ContactChannel::Web if url_ok(a) => Inline::Link {
            text: a.to_string(),
            href: a.to_string(),
        },
        _ => text(a),
    }
}

struct Builder<'a> {
    policy: &'a Policy,
    blocks: Vec<Block>,
}

impl Builder<'_> {
    fn h(&mut self, level: u8, t: impl Into<String>) {
        self.blocks.push(Block::Heading(level, t.into()));
    }

    fn p(&mut self, r: Rich) {
        self.blocks.push(Block::Para(r));
    }

    fn purposes_using(&self, c: &CategoryDef) -> Vec<&PurposeDef> {
        self.policy
            .purposes
            .iter()
            .filter(|p| !p.forbidden && p.categories.iter().any(|pc| overlaps(&c.id, pc)))
            .collect()
    }

    fn recipients_of(&self, c: &CategoryDef) -> Vec<&RecipientDef> {
        self.policy
            .recipients
            .iter()
            .filter(|r| r.categories.iter().any(|rc| overlaps(&c.id, rc)))
            .collect()
    }

    fn intro(&mut self, version: Option<u32>) {
        let org = &self.policy.organisation;
        let who = org
            .legal_name
            .as_deref()
            .unwrap_or(&org.name)
            .trim()
            .to_string();
        self.p(plain(format!(
            "This notice explains how {who} collects, uses, discloses and keeps personal information, and how you can exercise your rights."
        )));
        let mut when = match version {
            Some(v) => format!(
                "Version {v}, effective {}.",
                vow_render::Lang::En.date(self.policy.effective_date)
            ),
            None => format!(
                "Effective {}.",
                vow_render::Lang::En.date(self.policy.effective_date)
            ),
        };
        when.push_str(" When we change this notice we publish a new version with its own effective date and keep the earlier ones; each consent you give is recorded with the version it was given under.");
        self.p(plain(when));
        let mut about = Vec::new();
        if org.legal_name.is_some() && org.legal_name.as_deref() != Some(org.name.as_str()) {
            about.push(text(format!("{} operates as {}.", who, org.name.trim())));
        }
        if let Some(a) = &org.address
            && !a.trim().is_empty()
        {
            about.push(text(format!(" Address: {}.", a.trim())));
        }
        if let Some(w) = &org.website {
            about.push(text(" Website: "));
            about.push(contact_value(ContactChannel::Web, w));
            about.push(text("."));
        }
        if !about.is_empty() {
            self.p(about);
        }
        if !self.policy.jurisdictions.is_empty() {
            let places: Vec<String> = self
                .policy
                .jurisdictions
                .iter()
                .map(|j| jurisdiction(j))
                .collect();
            self.p(plain(format!(
                "It is written to meet the privacy laws of {}.",
                join(&places)
            )));
        }
    }

    fn contacts(&mut self) {
        self.h(2, "How to contact us");
        self.p(plain(
            "To ask a question, make a request or complain about how we handle personal information, contact our privacy team:",
        ));
        let items = self
            .policy
            .contacts
            .iter()
            .map(|c| {
                let label = c
                    .label
                    .as_deref()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .unwrap_or(channel_words(c.channel));
                vec![
                    text(format!("{label}: ")),
                    contact_value(c.channel, &c.address),
                ]
            })
            .collect();
        self.blocks.push(Block::List(items));
    }

    fn collect(&mut self) {
        self.h(2, "What we collect");
        self.p(plain(
            "We collect these categories of personal information. Those marked sensitive get extra protection.",
        ));
        let items = self
            .policy
            .categories
            .iter()
            .map(|c| {
                let mut r = vec![
                    Inline::Strong(c.description.trim().to_string()),
                    text(" "),
                    Inline::Code(c.id.as_str().to_string()),
                ];
                if c.sensitive {
                    r.push(text(" — sensitive personal information"));
                }
                if !c.sources.is_empty() {
                    let s: Vec<String> = c.sources.iter().map(|s| s.trim().to_string()).collect();
                    r.push(text(format!(". From: {}.", join(&s))));
                }
                r
            })
            .collect();
        self.blocks.push(Block::List(items));
    }

    fn why(&mut self) {
        let policy = self.policy;
        self.h(2, "Why we use it");
        self.p(plain(
            "We use personal information only for these purposes, each on the legal basis shown:",
        ));
        let items: Vec<Rich> = policy
            .purposes
            .iter()
            .filter(|p| !p.forbidden)
            .map(|p| {
                let mut r = vec![
                    Inline::Strong(p.description.trim().to_string()),
                    text(format!(" — {}.", basis_words(p.basis))),
                ];
                if !p.categories.is_empty() {
                    let cats = category_labels(policy, &p.categories);
                    r.push(text(format!(" Uses: {}.", join(&cats))));
                }
                r
            })
            .collect();
        self.blocks.push(Block::List(items));
        let promises: Vec<Rich> = policy
            .purposes
            .iter()
            .filter(|p| p.forbidden)
            .map(|p| {
                let id = p.id.as_str();
                if is_sale(id) {
                    plain("We never sell your personal information.")
                } else if is_sharing(id) {
                    plain("We never share your personal information for cross-context behavioral advertising.")
                } else {
                    plain(format!(
                        "We never use your personal information for this: {}.",
                        p.description.trim().trim_end_matches('.')
                    ))
                }
            })
            .collect();
        if !promises.is_empty() {
            self.h(3, "What we promise never to do");
            self.blocks.push(Block::List(promises));
        }
    }

    fn recipients(&mut self) {
        let policy = self.policy;
        self.h(2, "Who receives it");
        if policy.recipients.is_empty() {
            self.p(plain(
                "We do not disclose personal information to other organisations.",
            ));
            return;
        }
        self.p(plain(
            "We disclose personal information only to these recipients, only the categories shown and only for the purposes shown:",
        ));
        let rows = policy
            .recipients
            .iter()
            .map(|r| {
                let cats = category_labels(policy, &r.categories);
                let purps: Vec<String> = r
                    .purposes
                    .iter()
                    .map(|p| purpose_label(policy, p))
                    .collect();
                let mut name = r.name.trim().to_string();
                if let Some(d) = &r.description
                    && !d.trim().is_empty()
                {
                    name = format!("{name}: {}", d.trim());
                }
                vec![
                    plain(name),
                    plain(kind_words(r.kind)),
                    plain(country(&r.country)),
                    plain(or_none(join(&cats))),
                    plain(or_none(join(&purps))),
                    plain(safeguard_words(r.safeguard)),
                ]
            })
            .collect();
        self.blocks.push(Block::Table {
            caption: "Recipients of personal information".into(),
            head: vec![
                "Recipient".into(),
                "Kind".into(),
                "Where they process it".into(),
                "What they receive".into(),
                "Why".into(),
                "How a transfer abroad is protected".into(),
            ],
            rows,
        });
    }

    fn stores(&mut self) {
        let policy = self.policy;
        if policy.stores.is_empty() {
            return;
        }
        self.h(2, "Where it is kept");
        let rows = policy
            .stores
            .iter()
            .map(|s| {
                let cats = category_labels(policy, &s.categories);
                let name = match &s.description {
                    Some(d) if !d.trim().is_empty() => d.trim().to_string(),
                    _ => s.id.as_str().to_string(),
                };
                let kept = match s.backup_retention_days {
                    Some(d) => format!("Each backup is destroyed after {}", days(d)),
                    None => "—".to_string(),
                };
                vec![
                    plain(name),
                    plain(store_kind_words(s.kind)),
                    plain(s.location.trim()),
                    plain(or_none(join(&cats))),
                    plain(kept),
                ]
            })
            .collect();
        self.blocks.push(Block::Table {
            caption: "Where personal information is stored".into(),
            head: vec![
                "Store".into(),
                "Kind".into(),
                "Location".into(),
                "What it holds".into(),
                "Backups".into(),
            ],
            rows,
        });
    }

    fn retention(&mut self) {
        let policy = self.policy;
        self.h(2, "How long we keep it");
        if policy.retention.is_empty() {
            self.p(plain(
                "This notice sets no fixed retention periods; we keep personal information only while we need it for the purposes above.",
            ));
            return;
        }
        let items = policy
            .retention
            .iter()
            .map(|r| {
                let what = match &r.category {
                    Some(c) => capitalise(&join(&category_labels(policy, std::slice::from_ref(c)))),
                    None => "All personal information".to_string(),
                };
                let mut s = what;
                if let Some(p) = &r.purpose {
                    s.push_str(&format!(
                        " (when collected for \"{}\")",
                        purpose_label(policy, p)
                    ));
                }
                s.push_str(&format!(
                    ": kept for {} {}, then destroyed",
                    r.keep.words(),
                    clock_words(r.from)
                ));
                match &r.reason {
                    Some(reason) if !reason.trim().is_empty() => {
                        s.push_str(&format!(". Why: {}", reason.trim().trim_end_matches('.')));
                    }
                    _ => {}
                }
                s.push('.');
                plain(s)
            })
            .collect();
        self.blocks.push(Block::List(items));
    }

    fn offered_rights(&self) -> Vec<&'static str> {
        let policy = self.policy;
        let j = crate::law::Jurisdictions::new(&policy.jurisdictions);
        let per = &policy.response_times.per_type;
        let sensitive = policy.categories.iter().any(|c| c.sensitive);
        crate::validate::REQUEST_TYPES
            .iter()
            .copied()
            .filter(|t| {
                per.contains_key(*t)
                    || match *t {
                        "access" | "correct" | "delete" | "opt_out" | "withdraw_consent" => true,
                        "know" => j.has_country("US"),
                        "portability" => {
                            j.has("EU")
                                || j.has("UK")
                                || j.has("CA-QC")
                                || j.has("BR")
                                || j.has("US-VA")
                                || j.has("US-CO")
                                || j.has("US-CT")
                        }
                        "limit_sensitive" => sensitive && j.has("US-CA"),
                        _ => false,
                    }
            })
            .collect()
    }

    fn rights(&mut self) {
        let policy = self.policy;
        let rt = &policy.response_times;
        self.h(2, "Your rights and our response times");
        self.p(plain(
            "You can make any of these requests through any of the contacts above, yourself or through someone you authorise. We first confirm who you are by matching details we already hold.",
        ));
        let rows = self
            .offered_rights()
            .into_iter()
            .map(|t| {
                let (name, meaning) = right_words(t);
                let within = match rt.per_type.get(t).copied().or(rt.requests_days) {
                    Some(d) => days(d),
                    None => "The time the law allows".to_string(),
                };
                vec![plain(name), plain(meaning), plain(within)]
            })
            .collect();
        self.blocks.push(Block::Table {
            caption: "Your rights".into(),
            head: vec![
                "Right".into(),
                "What it means".into(),
                "We answer within".into(),
            ],
            rows,
        });
        let mut promises = Vec::new();
        if let Some(d) = rt.acknowledgement_days {
            promises.push(plain(format!(
                "We acknowledge every request within {}.",
                days(d)
            )));
        }
        if let Some(d) = rt.opt_out_days {
            promises.push(plain(format!(
                "An unsubscribe or opt-out takes effect within {}.",
                days(d)
            )));
        }
        if let Some(d) = rt.backup_purge_days {
            promises.push(plain(format!(
                "When we delete your information, every backup copy is gone within {}.",
                days(d)
            )));
        }
        if let Some(d) = rt.complaints_days {
            promises.push(plain(format!("We answer complaints within {}.", days(d))));
        }
        if let Some(d) = rt.breach_notice_days {
            promises.push(plain(format!(
                "If a breach of security affects your personal information, we tell you within {} of learning of it.",
                days(d)
            )));
        }
        if !promises.is_empty() {
            self.blocks.push(Block::List(promises));
        }
        self.p(plain(
            "If we cannot do what you ask, we tell you why in writing. We never treat you differently for exercising your rights.",
        ));
    }

    fn children(&mut self) {
        if let Some(age) = self.policy.parental_consent_age {
            self.h(2, "Children");
            self.p(plain(format!(
                "We do not collect personal information from anyone under {age} without the consent of a parent or guardian. If we learn we collected it without that consent, we delete it."
            )));
        }
    }

    fn implied(&mut self) {
        let policy = self.policy;
        if policy.implied_consent.is_empty() {
            return;
        }
        self.h(2, "Consent we take from what you do");
        self.p(plain(
            "In these cases we treat what you did as your consent, for a limited time. You can withdraw it at any time, like any consent.",
        ));
        let items = policy
            .implied_consent
            .iter()
            .map(|r| {
                let purps: Vec<String> = r
                    .purposes
                    .iter()
                    .map(|p| format!("\"{}\"", purpose_label(policy, p)))
                    .collect();
                let event = match &r.description {
                    Some(d) if !d.trim().is_empty() => d.trim().trim_end_matches('.').to_string(),
                    _ => format!("After your {}", r.event.trim().replace('_', " ")),
                };
                plain(format!(
                    "{event}: we take it as your consent to {} for {} afterwards.",
                    join(&purps),
                    r.lasts.words()
                ))
            })
            .collect();
        self.blocks.push(Block::List(items));
    }

    fn california(&mut self) {
        let policy = self.policy;
        self.h(2, "California privacy disclosures");
        self.p(plain(
            "The California Consumer Privacy Act asks businesses to describe their practices in these terms (Cal. Civ. Code §§1798.110, 1798.115, 1798.130). The tables describe what this notice allows us to collect and disclose.",
        ));

        // (1) collected → sources → purposes
        let rows = policy
            .categories
            .iter()
            .map(|c| {
                let sources: Vec<String> = c.sources.iter().map(|s| s.trim().to_string()).collect();
                let purps: Vec<String> = self
                    .purposes_using(c)
                    .iter()
                    .map(|p| p.description.trim().to_string())
                    .collect();
                vec![
                    category_cell(c),
                    plain(if sources.is_empty() {
                        "Not stated".to_string()
                    } else {
                        join(&sources)
                    }),
                    plain(or_none(join(&purps))),
                ]
            })
            .collect();
        self.blocks.push(Block::Table {
            caption:
                "Categories of personal information we collect, their sources and our purposes"
                    .into(),
            head: vec![
                "Category of personal information".into(),
                "Sources".into(),
                "Business or commercial purposes".into(),
            ],
            rows,
        });

        // (2) disclosed for a business purpose → categories of recipients
        let mut rows = Vec::new();
        for c in &policy.categories {
            let mut by_kind: Vec<(RecipientKind, Vec<String>)> = Vec::new();
            for r in self.recipients_of(c) {
                let business = r.purposes.iter().any(|p| {
                    !is_sale(p.as_str())
                        && !is_sharing(p.as_str())
                        && policy.purpose(p).is_some_and(|d| !d.forbidden)
                });
                if !business {
                    continue;
                }
                match by_kind.iter_mut().find(|(k, _)| *k == r.kind) {
                    Some((_, names)) => names.push(r.name.trim().to_string()),
                    None => by_kind.push((r.kind, vec![r.name.trim().to_string()])),
                }
            }
            if by_kind.is_empty() {
                continue;
            }
            let cell = by_kind
                .iter()
                .map(|(k, names)| format!("{} ({})", kind_plural(*k), names.join(", ")))
                .collect::<Vec<_>>()
                .join("; ");
            rows.push(vec![category_cell(c), plain(cell)]);
        }
        if rows.is_empty() {
            self.p(plain(
                "We do not disclose personal information to other organisations for a business purpose.",
            ));
        } else {
            self.blocks.push(Block::Table {
                caption: "Categories of personal information we disclose for a business purpose, and to whom".into(),
                head: vec![
                    "Category of personal information".into(),
                    "Categories of recipients".into(),
                ],
                rows,
            });
        }

        // (3) sensitive personal information
        let sensitive: Vec<&CategoryDef> =
            policy.categories.iter().filter(|c| c.sensitive).collect();
        if sensitive.is_empty() {
            self.p(plain("We do not collect sensitive personal information."));
        } else {
            let rows = sensitive
                .iter()
                .map(|c| {
                    let purps: Vec<String> = self
                        .purposes_using(c)
                        .iter()
                        .map(|p| p.description.trim().to_string())
                        .collect();
                    vec![category_cell(c), plain(or_none(join(&purps)))]
                })
                .collect();
            self.blocks.push(Block::Table {
                caption: "Sensitive personal information we collect and why".into(),
                head: vec![
                    "Category of sensitive personal information".into(),
                    "Purposes we use it for".into(),
                ],
                rows,
            });
        }

        // (4) sale and sharing
        self.h(3, "Sale and sharing of personal information");
        let mut statements = Vec::new();
        let mut none_sold = true;
        for (is_kind, act, noun) in [
            (
                is_sale as fn(&str) -> bool,
                "sell personal information",
                "selling it",
            ),
            (
                is_sharing as fn(&str) -> bool,
                "share personal information for cross-context behavioral advertising",
                "sharing it that way",
            ),
        ] {
            let defined: Vec<&PurposeDef> = policy
                .purposes
                .iter()
                .filter(|p| is_kind(p.id.as_str()))
                .collect();
            let active: Vec<&PurposeDef> =
                defined.iter().copied().filter(|p| !p.forbidden).collect();
            if active.is_empty() {
                if defined.is_empty() {
                    statements.push(plain(format!(
                        "We do not {act}: none of our purposes involves {noun}."
                    )));
                } else {
                    statements.push(plain(format!("We do not {act}, and we promise never to.")));
                }
            } else {
                none_sold = false;
                let mut cats: Vec<String> = Vec::new();
                let mut whom: Vec<String> = Vec::new();
                for r in &policy.recipients {
                    if r.purposes.iter().any(|p| active.iter().any(|a| &a.id == p)) {
                        whom.push(r.name.trim().to_string());
                        for l in category_labels(policy, &r.categories) {
                            if !cats.contains(&l) {
                                cats.push(l);
                            }
                        }
                    }
                }
                statements.push(plain(format!(
                    "We {act}: {} to {}. You may opt out at any time (\"Do Not Sell or Share My Personal Information\").",
                    or_none(join(&cats)),
                    or_none(join(&whom))
                )));
            }
        }
        if none_sold {
            statements.push(plain(
                "We have no actual knowledge of selling or sharing the personal information of consumers under 16.",
            ));
        }
        self.blocks.push(Block::List(statements));
        self.p(plain(
            "California residents have the right to know, to delete and to correct their personal information, to opt out of its sale or sharing, to limit the use of sensitive personal information, and not to be discriminated against for exercising these rights. An authorised agent may make a request on your behalf.",
        ));
    }
}

fn category_cell(c: &CategoryDef) -> Rich {
    let mut r = vec![
        text(c.description.trim()),
        text(" "),
        Inline::Code(c.id.as_str().to_string()),
    ];
    if c.sensitive {
        r.push(text(" (sensitive)"));
    }
    r
}

/// Build the notice for `policy`.
pub(crate) fn build(policy: &Policy, version: Option<u32>) -> Notice {
    let name = policy.organisation.name.trim();
    let mut b = Builder {
        policy,
        blocks: Vec::new(),
    };
    b.h(1, format!("Privacy notice — {name}"));
    b.intro(version);
    b.contacts();
    b.collect();
    b.why();
    b.recipients();
    b.stores();
    b.retention();
    b.rights();
    b.children();
    b.implied();
    if policy.jurisdictions.iter().any(|j| j == "US-CA") {
        b.california();
    }
    Notice {
        title: format!("Privacy notice — {name}"),
        blocks: b.blocks,
    }
}
