//! The web pages the server shows people: the notice, the unsubscribe pages and the
//! error pages, in English and French. Every string a page shows is in one table per
//! language ([`Words`]); the server picks the language and fills in the models.
//!
//! Pages extend `web.html`: a header with the organisation's name, the main part,
//! a footer with the language switch. They load one stylesheet from the server
//! ([`crate::STYLE`], at the address the caller gives) and no script.

pub mod portal;
pub mod portal_words;

use crate::date::Lang;
use crate::document::{Block, Inline};
use crate::render::page;
use askama::Template;

/// The strings of the pages in one language.
#[derive(Debug)]
pub struct Words {
    /// The header when no organisation is known (an unsubscribe link, a 404).
    pub site: &'static str,
    /// The language switch's label, for screen readers.
    pub language: &'static str,
    /// This language's own name, in the switch.
    pub name: &'static str,
    pub footer: &'static str,
    pub notice_title: &'static str,
    /// "Version {v}, in force since {date}."
    pub in_force: &'static str,
    /// "Version {v}, in force from {date}: an earlier version."
    pub earlier: &'static str,
    pub read_current: &'static str,
    pub versions: &'static str,
    /// "Version {v}, from {date}"
    pub version_item: &'static str,
    pub what_changed: &'static str,
    pub first_version: &'static str,
    pub unsubscribe_title: &'static str,
    pub unsubscribe_ask: &'static str,
    pub unsubscribe_button: &'static str,
    pub unsubscribed_title: &'static str,
    pub unsubscribed: &'static str,
    pub unsubscribed_more: &'static str,
    pub forbidden_title: &'static str,
    pub forbidden: &'static str,
    pub not_found_title: &'static str,
    pub not_found: &'static str,
    pub busy_title: &'static str,
    pub busy: &'static str,
    pub error_title: &'static str,
    pub error: &'static str,
}

const EN: Words = Words {
    site: "Privacy",
    language: "Language",
    name: "English",
    footer: "These privacy pages work without JavaScript and load nothing from elsewhere.",
    notice_title: "Privacy notice",
    in_force: "Version {v}, in force since {date}.",
    earlier: "Version {v}, in force from {date}: an earlier version.",
    read_current: "Read the notice in force.",
    versions: "Versions of this notice",
    version_item: "Version {v}, from {date}",
    what_changed: "What changed",
    first_version: "The first version.",
    unsubscribe_title: "Unsubscribe",
    unsubscribe_ask: "Do you want to stop receiving the e-mails this link came with?",
    unsubscribe_button: "Unsubscribe",
    unsubscribed_title: "You are unsubscribed",
    unsubscribed: "If this link was valid, you will no longer receive these e-mails.",
    unsubscribed_more: "Messages already on their way may still arrive for a short while.",
    forbidden_title: "This form has expired",
    forbidden: "The form could not be accepted. Go back, reload the page and try again.",
    not_found_title: "Page not found",
    not_found: "There is no page at this address.",
    busy_title: "Please wait",
    busy: "Too many attempts came from your network. Try again in a minute.",
    error_title: "Something went wrong",
    error: "The page could not be shown. Try again in a moment.",
};

const FR: Words = Words {
    site: "Confidentialité",
    language: "Langue",
    name: "Français",
    footer: "Ces pages fonctionnent sans JavaScript et ne chargent rien d’ailleurs.",
    notice_title: "Avis de confidentialité",
    in_force: "Version {v}, en vigueur depuis le {date}.",
    earlier: "Version {v}, en vigueur à partir du {date} : une version antérieure.",
    read_current: "Lire l’avis en vigueur.",
    versions: "Versions de cet avis",
    version_item: "Version {v}, du {date}",
    what_changed: "Ce qui a changé",
    first_version: "La première version.",
    unsubscribe_title: "Désabonnement",
    unsubscribe_ask: "Voulez-vous ne plus recevoir les courriels avec lesquels ce lien est arrivé?",
    unsubscribe_button: "Me désabonner",
    unsubscribed_title: "Vous êtes désabonné",
    unsubscribed: "Si ce lien était valide, vous ne recevrez plus ces courriels.",
    unsubscribed_more: "Des messages déjà en route peuvent encore arriver pendant un court moment.",
    forbidden_title: "Ce formulaire a expiré",
    forbidden: "Le formulaire n’a pas pu être accepté. Revenez en arrière, rechargez la page et réessayez.",
    not_found_title: "Page introuvable",
    not_found: "Il n’y a pas de page à cette adresse.",
    busy_title: "Veuillez patienter",
    busy: "Trop de tentatives sont venues de votre réseau. Réessayez dans une minute.",
    error_title: "Un problème est survenu",
    error: "La page n’a pas pu être affichée. Réessayez dans un moment.",
};

impl Lang {
    /// The pages' strings in this language.
    pub fn web(self) -> &'static Words {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
        }
    }
}

/// One entry of the language switch.
#[derive(Debug, Clone)]
pub struct LangLink {
    pub code: &'static str,
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// What every page shares: its language, title, the organisation it speaks for and
/// where the stylesheet and the other languages are.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub words: &'static Words,
    pub title: String,
    pub site: String,
    pub style_href: String,
    pub switch: Vec<LangLink>,
    /// A statement shown above the page's contents, e.g. that a Global Privacy
    /// Control signal was honoured (`crate::prefs::PrefWords::gpc_honoured`).
    pub banner: Option<String>,
}

impl Chrome {
    /// `site`: the organisation's name, None for the generic header. `href_for`
    /// gives this page's address in another language.
    pub fn new(
        lang: Lang,
        site: Option<&str>,
        style_href: &str,
        href_for: impl Fn(Lang) -> String,
    ) -> Chrome {
        let words = lang.web();
        Chrome {
            lang,
            words,
            title: String::new(),
            site: site.unwrap_or(words.site).to_string(),
            style_href: style_href.to_string(),
            switch: Lang::ALL
                .into_iter()
                .map(|l| LangLink {
                    code: l.code(),
                    label: l.web().name,
                    href: href_for(l),
                    current: l == lang,
                })
                .collect(),
            banner: None,
        }
    }
}

/// A version in the notice's list.
#[derive(Debug, Clone)]
pub struct VersionLink {
    pub label: String,
    pub href: String,
    /// The version on this page (not a link).
    pub shown: bool,
    pub changes: Vec<String>,
}

/// A version of a policy, as the caller knows it.
#[derive(Debug, Clone)]
pub struct NoticeVersion {
    pub version: i64,
    /// ISO 8601 date.
    pub effective_date: String,
    pub changes: Vec<String>,
}

/// The notice page's contents.
#[derive(Clone)]
pub struct NoticePage<'a> {
    pub version: i64,
    pub effective_date: &'a str,
    pub in_force: bool,
    /// The language the notice itself is written in (the page's may differ).
    pub notice_lang: Lang,
    pub blocks: &'a [Block],
    pub versions: &'a [NoticeVersion],
    /// The address of a version's page (None: the one in force).
    pub href_for: &'a dyn Fn(Option<i64>) -> String,
}

#[derive(Template)]
#[template(path = "web_notice.html")]
struct NoticeHtml<'a> {
    chrome: &'a Chrome,
    status: String,
    in_force: bool,
    current_href: String,
    notice_lang: Lang,
    blocks: &'a [Block],
    versions: Vec<VersionLink>,
}

impl NoticeHtml<'_> {
    fn level(&self, l: &u8) -> u8 {
        (*l).clamp(1, 6)
    }
}

fn fill(template: &str, v: i64, date: &str) -> String {
    template
        .replace("{v}", &v.to_string())
        .replace("{date}", date)
}

/// The notice as a page.
pub fn notice_page(chrome: &mut Chrome, n: &NoticePage<'_>) -> String {
    let w = chrome.words;
    let lang = chrome.lang;
    let date = lang.day_of(n.effective_date);
    chrome.title = w.notice_title.to_string();
    let status = fill(
        if n.in_force { w.in_force } else { w.earlier },
        n.version,
        &date,
    );
    let versions = n
        .versions
        .iter()
        .map(|v| VersionLink {
            label: fill(w.version_item, v.version, &lang.day_of(&v.effective_date)),
            href: (n.href_for)(Some(v.version)),
            shown: v.version == n.version,
            changes: v.changes.clone(),
        })
        .collect();
    page(&NoticeHtml {
        chrome,
        status,
        in_force: n.in_force,
        current_href: (n.href_for)(None),
        notice_lang: n.notice_lang,
        blocks: n.blocks,
        versions,
    })
}

/// A form of one button that posts back to the page's own address.
#[derive(Debug, Clone)]
pub struct OneButton {
    pub csrf: String,
    pub button: String,
}

#[derive(Template)]
#[template(path = "web_message.html")]
struct MessageHtml<'a> {
    chrome: &'a Chrome,
    heading: &'a str,
    paras: &'a [&'a str],
    form: Option<OneButton>,
    /// A link after the paragraphs: (text, address).
    link: Option<(&'a str, &'a str)>,
}

/// Which short page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    UnsubscribeAsk,
    Unsubscribed,
    Forbidden,
    NotFound,
    Busy,
    Error,
}

/// A short page: a heading, a paragraph or two, and for [`Message::UnsubscribeAsk`]
/// its button (`csrf`: the form's anti-forgery token).
pub fn message_page(chrome: &mut Chrome, m: Message, csrf: Option<String>) -> String {
    let w = chrome.words;
    let (heading, paras, button): (&str, &[&str], Option<&str>) = match m {
        Message::UnsubscribeAsk => (
            w.unsubscribe_title,
            &[w.unsubscribe_ask],
            Some(w.unsubscribe_button),
        ),
        Message::Unsubscribed => (
            w.unsubscribed_title,
            &[w.unsubscribed, w.unsubscribed_more],
            None,
        ),
        Message::Forbidden => (w.forbidden_title, &[w.forbidden], None),
        Message::NotFound => (w.not_found_title, &[w.not_found], None),
        Message::Busy => (w.busy_title, &[w.busy], None),
        Message::Error => (w.error_title, &[w.error], None),
    };
    chrome.title = heading.to_string();
    let form = button.zip(csrf).map(|(b, csrf)| OneButton {
        csrf,
        button: b.to_string(),
    });
    let paras: Vec<&str> = paras.to_vec();
    page(&MessageHtml {
        chrome,
        heading,
        paras: &paras,
        form,
        link: None,
    })
}

/// The page after an unsubscribe, with a link on (its text and address: the
/// preference centre's, `crate::prefs::PrefWords::other_choices`).
pub fn unsubscribed_page(chrome: &mut Chrome, link: Option<(&str, &str)>) -> String {
    let w = chrome.words;
    chrome.title = w.unsubscribed_title.to_string();
    page(&MessageHtml {
        chrome,
        heading: w.unsubscribed_title,
        paras: &[w.unsubscribed, w.unsubscribed_more],
        form: None,
        link,
    })
}
