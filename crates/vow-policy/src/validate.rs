//! Semantic checks on a built policy: versions, ids, cross-references, transfers,
//! ranges. Every problem is collected; nothing stops at the first.

use crate::diagnostic::Diagnostic;
use crate::law::{self, Jurisdictions};
use crate::path;
use crate::util::{did_you_mean, list};
use std::collections::{HashMap, HashSet};
use vow_core::policy::{
    ContactChannel, FORMAT_VERSION, LegalBasis, Policy, PurposeDef, StoreKind, TransferSafeguard,
};
use vow_core::{Category, PurposeId};

/// The request types `response_times.per_type` may name.
pub const REQUEST_TYPES: &[&str] = &[
    "access",
    "know",
    "delete",
    "correct",
    "opt_out",
    "limit_sensitive",
    "portability",
    "withdraw_consent",
    "unsubscribe",
];

/// Semantic checks on an already-built policy. Positions are unknown here (line and
/// column 0); [`crate::parse`] fills them in from the document.
pub fn validate(policy: &Policy) -> Vec<Diagnostic> {
    // Every defined category and every parent of one: what a reference may name.
    let mut known_categories: HashSet<&str> = HashSet::new();
    for c in &policy.categories {
        let id = c.id.as_str();
        known_categories.insert(id);
        for (i, b) in id.char_indices() {
            if b == '.' {
                known_categories.insert(&id[..i]);
            }
        }
    }
    let purposes: HashMap<&str, &PurposeDef> =
        policy.purposes.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut c = Checker {
        policy,
        out: Vec::new(),
        errors: 0,
        known_categories,
        purposes,
    };
    c.format();
    c.organisation();
    c.contacts();
    c.categories();
    c.purposes();
    c.recipients();
    c.stores();
    c.retention();
    c.implied_consent();
    c.jurisdictions();
    c.response_times();
    c.parental_age();
    c.engine_owned();
    law::warnings(policy, &mut c.out);
    if c.errors > MAX_ERRORS {
        c.out.push(Diagnostic::error(
            "too_many_errors",
            "",
            format!("stopped after {MAX_ERRORS} problems; fix these and check again"),
        ));
    }
    c.out
}

/// Stop reporting after this many errors; the rest are usually more of the same.
const MAX_ERRORS: usize = 100;
/// Look for a "did you mean" among at most this many names.
const MAX_SUGGEST: usize = 500;

struct Checker<'a> {
    policy: &'a Policy,
    out: Vec<Diagnostic>,
    errors: usize,
    known_categories: HashSet<&'a str>,
    purposes: HashMap<&'a str, &'a PurposeDef>,
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

impl<'a> Checker<'a> {
    fn full(&self) -> bool {
        self.errors >= MAX_ERRORS
    }

    fn error(&mut self, code: &'static str, path: String, message: String) {
        self.errors += 1;
        if self.errors <= MAX_ERRORS {
            self.out.push(Diagnostic::error(code, path, message));
        }
    }

    fn warning(&mut self, code: &'static str, path: String, message: String) {
        self.out.push(Diagnostic::warning(code, path, message));
    }

    fn not_blank(&mut self, value: &str, path: String, what: &str) {
        if blank(value) {
            self.error("bad_value", path, format!("{what} must not be empty"));
        }
    }

    fn format(&mut self) {
        if self.policy.format != FORMAT_VERSION {
            self.error(
                "unsupported_format",
                "format".into(),
                format!(
                    "this build reads policy format {FORMAT_VERSION}, but the file says {}; write `format: {FORMAT_VERSION}`",
                    self.policy.format
                ),
            );
        }
    }

    fn organisation(&mut self) {
        self.not_blank(
            &self.policy.organisation.name,
            "organisation.name".into(),
            "the organisation's name",
        );
    }

    fn contacts(&mut self) {
        if self.policy.contacts.is_empty() {
            self.error(
                "empty_list",
                "contacts".into(),
                "list at least one way to reach the privacy team (e.g. `- {channel: email, address: privacy@example.com}`)".into(),
            );
        }
        for (i, c) in self.policy.contacts.iter().enumerate() {
            let p = path::key(&path::index("contacts", i), "address");
            if blank(&c.address) {
                self.error("bad_value", p, "a contact address must not be empty".into());
            } else if c.channel == ContactChannel::Email && !c.address.contains('@') {
                self.error(
                    "bad_value",
                    p,
                    format!(
                        "`{}` is not an email address (it has no @)",
                        short(&c.address)
                    ),
                );
            }
        }
    }

    fn unique<'s>(&mut self, list_name: &str, ids: impl Iterator<Item = &'s str>) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, id) in ids.enumerate() {
            if let Some(first) = seen.get(id) {
                self.error(
                    "duplicate_id",
                    path::key(&path::index(list_name, i), "id"),
                    format!("`{id}` is already the id of {list_name}[{first}]; ids must be unique"),
                );
            } else {
                seen.insert(id, i);
            }
        }
    }

    fn categories(&mut self) {
        let policy = self.policy;
        if policy.categories.is_empty() {
            self.error(
                "empty_list",
                "categories".into(),
                "define at least one category of personal information".into(),
            );
        }
        self.unique(
            "categories",
            policy.categories.iter().map(|c| c.id.as_str()),
        );
        for (i, c) in policy.categories.iter().enumerate() {
            let at = path::index("categories", i);
            self.not_blank(
                &c.description,
                path::key(&at, "description"),
                "a category's description",
            );
            for (j, s) in c.sources.iter().enumerate() {
                self.not_blank(s, path::index(&path::key(&at, "sources"), j), "a source");
            }
        }
    }

    fn purposes(&mut self) {
        let policy = self.policy;
        if policy.purposes.is_empty() {
            self.error(
                "empty_list",
                "purposes".into(),
                "define at least one purpose".into(),
            );
        }
        self.unique("purposes", policy.purposes.iter().map(|p| p.id.as_str()));
        for (i, p) in policy.purposes.iter().enumerate() {
            let at = path::index("purposes", i);
            self.not_blank(
                &p.description,
                path::key(&at, "description"),
                "a purpose's description",
            );
            let cats = path::key(&at, "categories");
            for (j, c) in p.categories.iter().enumerate() {
                self.category_ref(c, path::index(&cats, j));
            }
        }
    }

    fn category_ref(&mut self, c: &Category, at: String) {
        if self.known_categories.contains(c.as_str()) {
            return;
        }
        if self.full() {
            self.errors += 1;
            return;
        }
        let defined = &self.policy.categories;
        let hint = if defined.len() <= MAX_SUGGEST {
            did_you_mean(c.as_str(), defined.iter().map(|d| d.id.as_str()))
        } else {
            String::new()
        };
        self.error(
            "unknown_reference",
            at,
            format!(
                "the category `{c}` is not defined{hint}; name a category listed under `categories` or a parent of one (e.g. `user.contact` covers `user.contact.email`). Defined: {}",
                list(defined.iter().map(|d| d.id.as_str()), 12)
            ),
        );
    }

    /// Check a purpose reference; the purpose if it is defined.
    fn purpose_ref(&mut self, p: &PurposeId, at: String) -> Option<&'a PurposeDef> {
        if let Some(def) = self.purposes.get(p.as_str()) {
            return Some(def);
        }
        if self.full() {
            self.errors += 1;
            return None;
        }
        let defined = &self.policy.purposes;
        let hint = if defined.len() <= MAX_SUGGEST {
            did_you_mean(p.as_str(), defined.iter().map(|d| d.id.as_str()))
        } else {
            String::new()
        };
        self.error(
            "unknown_reference",
            at,
            format!(
                "the purpose `{p}` is not defined{hint}; name a purpose listed under `purposes`. Defined: {}",
                list(defined.iter().map(|d| d.id.as_str()), 12)
            ),
        );
        None
    }

    fn recipients(&mut self) {
        let policy = self.policy;
        self.unique(
            "recipients",
            policy.recipients.iter().map(|r| r.id.as_str()),
        );
        let juris = Jurisdictions::new(&policy.jurisdictions);
        for (i, r) in policy.recipients.iter().enumerate() {
            let at = path::index("recipients", i);
            self.not_blank(&r.name, path::key(&at, "name"), "a recipient's name");
            let cats = path::key(&at, "categories");
            for (j, c) in r.categories.iter().enumerate() {
                self.category_ref(c, path::index(&cats, j));
            }
            let purps = path::key(&at, "purposes");
            for (j, p) in r.purposes.iter().enumerate() {
                let pp = path::index(&purps, j);
                if let Some(def) = self.purpose_ref(p, pp.clone())
                    && def.forbidden
                {
                    self.error(
                                "forbidden_purpose",
                                pp,
                                format!(
                                    "`{p}` is a forbidden purpose (the policy promises never to pursue it), so no recipient may receive data for it"
                                ),
                            );
                }
            }
            let country_path = path::key(&at, "country");
            if !law::is_country_code(&r.country) {
                self.error(
                    "bad_value",
                    country_path,
                    format!(
                        "`{}` is not a country code: write the two capital letters of ISO 3166 (e.g. `CA`, `US`, `DE`)",
                        short(&r.country)
                    ),
                );
                continue;
            }
            if juris.is_empty() || juris.covers_country(&r.country) {
                continue;
            }
            if matches!(r.safeguard, None | Some(TransferSafeguard::None)) {
                self.error(
                    "missing_safeguard",
                    path::key(&at, "safeguard"),
                    format!(
                        "`{}` processes data in {}, outside the policy's jurisdictions ({}); name how the transfer is protected: safeguard: adequacy, scc, bcr, dpf, contract or consent",
                        short(&r.name),
                        r.country,
                        list(policy.jurisdictions.iter(), 10)
                    ),
                );
            }
        }
    }

    fn stores(&mut self) {
        let policy = self.policy;
        self.unique("stores", policy.stores.iter().map(|s| s.id.as_str()));
        for (i, s) in policy.stores.iter().enumerate() {
            let at = path::index("stores", i);
            self.not_blank(
                &s.location,
                path::key(&at, "location"),
                "a store's location",
            );
            let cats = path::key(&at, "categories");
            for (j, c) in s.categories.iter().enumerate() {
                self.category_ref(c, path::index(&cats, j));
            }
            let brd = path::key(&at, "backup_retention_days");
            match (s.kind, s.backup_retention_days) {
                (StoreKind::Backup, None) => self.error(
                    "missing_key",
                    brd,
                    "a backup store must say how many days a backup is kept (backup_retention_days)".into(),
                ),
                (_, Some(0)) => self.error("bad_value", brd, "must be at least 1 day".into()),
                (_, Some(days)) => {
                    if let Some(promise) = policy.response_times.backup_purge_days
                        && days > promise {
                            self.warning(
                                "promise_conflict",
                                brd,
                                format!(
                                    "backups here are kept {days} days, but response_times.backup_purge_days promises erased data leaves every backup within {promise} days; Vow makes such copies unreadable at once by destroying the person's key, but the promise says they are gone"
                                ),
                            );
                        }
                }
                (_, None) => {}
            }
        }
    }

    fn retention(&mut self) {
        let policy = self.policy;
        for (i, r) in policy.retention.iter().enumerate() {
            let at = path::index("retention", i);
            if let Some(c) = &r.category {
                self.category_ref(c, path::key(&at, "category"));
            }
            if let Some(p) = &r.purpose {
                self.purpose_ref(p, path::key(&at, "purpose"));
            }
            if r.keep.amount == 0 {
                self.error(
                    "bad_value",
                    path::key(&at, "keep"),
                    "a retention period must be longer than zero".into(),
                );
            }
        }
    }

    fn implied_consent(&mut self) {
        let policy = self.policy;
        for (i, r) in policy.implied_consent.iter().enumerate() {
            let at = path::index("implied_consent", i);
            self.not_blank(&r.event, path::key(&at, "event"), "the event");
            if r.lasts.amount == 0 {
                self.error(
                    "bad_value",
                    path::key(&at, "lasts"),
                    "implied consent must last longer than zero".into(),
                );
            }
            let purps = path::key(&at, "purposes");
            if r.purposes.is_empty() {
                self.error(
                    "empty_list",
                    purps.clone(),
                    "name at least one purpose this event implies consent for".into(),
                );
            }
            for (j, p) in r.purposes.iter().enumerate() {
                let pp = path::index(&purps, j);
                let Some(def) = self.purpose_ref(p, pp.clone()) else {
                    continue;
                };
                if def.forbidden {
                    self.error(
                        "forbidden_purpose",
                        pp,
                        format!(
                            "`{p}` is a forbidden purpose; no consent, implied or not, can allow it"
                        ),
                    );
                } else if def.basis != LegalBasis::Consent {
                    self.error(
                        "implied_consent_basis",
                        pp,
                        format!(
                            "implied consent can only stand in for consent, but the purpose `{p}` has basis `{}`; give it `basis: consent` or remove it here",
                            def.basis.as_str()
                        ),
                    );
                }
            }
        }
    }

    fn jurisdictions(&mut self) {
        for (i, j) in self.policy.jurisdictions.iter().enumerate() {
            if !law::is_jurisdiction_code(j) {
                self.error(
                    "bad_value",
                    path::index("jurisdictions", i),
                    format!(
                        "`{}` is not a jurisdiction code: write a country (`CA`, `BR`), a subdivision (`US-CA`, `CA-QC`), or `EU` / `UK`",
                        short(j)
                    ),
                );
            }
        }
    }

    fn response_times(&mut self) {
        let rt = &self.policy.response_times;
        let fields = [
            ("requests_days", rt.requests_days),
            ("acknowledgement_days", rt.acknowledgement_days),
            ("complaints_days", rt.complaints_days),
            ("backup_purge_days", rt.backup_purge_days),
            ("breach_notice_days", rt.breach_notice_days),
            ("opt_out_days", rt.opt_out_days),
        ];
        for (name, value) in fields {
            if value == Some(0) {
                self.error(
                    "bad_value",
                    path::key("response_times", name),
                    "must be at least 1 day".into(),
                );
            }
        }
        for (t, days) in &rt.per_type {
            let at = path::key("response_times.per_type", t);
            if !REQUEST_TYPES.contains(&t.as_str()) {
                self.error(
                    "unknown_key",
                    at,
                    format!(
                        "`{}` is not a request type{}; allowed: {}",
                        short(t),
                        did_you_mean(t, REQUEST_TYPES.iter().copied()),
                        list(REQUEST_TYPES.iter(), 10)
                    ),
                );
            } else if *days == 0 {
                self.error("bad_value", at, "must be at least 1 day".into());
            }
        }
    }

    /// `consent_since` is worked out by Vow when a version is published (S5).
    fn engine_owned(&mut self) {
        if !self.policy.consent_since.is_empty() {
            self.error(
                "engine_owned_key",
                "consent_since".into(),
                "consent_since is kept by Vow for each published version; a policy file does not set it".into(),
            );
        }
    }

    fn parental_age(&mut self) {
        if let Some(age) = self.policy.parental_consent_age
            && !(1..=21).contains(&age)
        {
            self.error(
                    "bad_value",
                    "parental_consent_age".into(),
                    format!("{age} is not a plausible age of consent; give a whole number of years from 1 to 21"),
                );
        }
    }
}

fn short(s: &str) -> String {
    crate::yaml::truncate(s, 60)
}
