//! The preference centre's pages (issue 10): the "send me a link" form, the page a
//! link's sender sees after it, and the preferences themselves, in English and
//! French. Their strings are in one table per language ([`PrefWords`]), kept apart
//! from [`crate::web::Words`]; the frame is [`Chrome`] and `web.html`.

use crate::date::Lang;
use crate::render::page;
use crate::web::Chrome;
use askama::Template;

/// The preference pages' strings in one language.
#[derive(Debug)]
pub struct PrefWords {
    pub title: &'static str,
    pub ask_intro: &'static str,
    pub email_label: &'static str,
    pub send: &'static str,
    pub link_bad: &'static str,
    pub sent_title: &'static str,
    pub sent: &'static str,
    pub sent_more: &'static str,
    pub intro: &'static str,
    pub saved: &'static str,
    pub now: &'static str,
    pub granted: &'static str,
    pub withdrawn: &'static str,
    pub expired: &'static str,
    pub none: &'static str,
    pub grant: &'static str,
    pub withdraw: &'static str,
    pub history: &'static str,
    pub no_history: &'static str,
    pub event_grant: &'static str,
    pub event_withdraw: &'static str,
    /// "by {channel}"
    pub via: &'static str,
    pub via_gpc: &'static str,
    pub none_to_change: &'static str,
    pub session: &'static str,
    /// The statement that a Global Privacy Control signal was honoured (California's
    /// display duty, 11 CCR §7025(c)(6)).
    pub gpc_honoured: &'static str,
    /// The unsubscribe page's link to the preference centre.
    pub other_choices: &'static str,
}

const EN: PrefWords = PrefWords {
    title: "Your privacy preferences",
    ask_intro: "To see and change what you agreed to, enter your e-mail address. If it is one we hold, we send a link to it.",
    email_label: "Your e-mail address",
    send: "Send me a link",
    link_bad: "This link is not valid or has expired. Ask for a new one.",
    sent_title: "Check your e-mail",
    sent: "If we hold this address, a link to your preferences is on its way to it.",
    sent_more: "The link works for 24 hours. If nothing arrives, check the address and ask again.",
    intro: "Here is each use of your information that needs your agreement, what you chose and when. You can change any of them.",
    saved: "Your choice is saved.",
    now: "Now:",
    granted: "you agree",
    withdrawn: "you do not agree (withdrawn)",
    expired: "your agreement has expired",
    none: "you have not agreed",
    grant: "Agree",
    withdraw: "Withdraw my agreement",
    history: "History",
    no_history: "Nothing recorded yet.",
    event_grant: "agreed",
    event_withdraw: "withdrawn",
    via: "by {channel}",
    via_gpc: "by your browser’s Global Privacy Control signal",
    none_to_change: "There is nothing here that needs your agreement.",
    session: "For your safety this page closes after 30 minutes; then ask for a new link.",
    gpc_honoured: "Opt-Out Request Honored: your browser sent a Global Privacy Control signal, and we have recorded it as a request not to sell or share your personal information.",
    other_choices: "See and change your other privacy choices",
};

const FR: PrefWords = PrefWords {
    title: "Vos préférences de confidentialité",
    ask_intro: "Pour voir et modifier ce que vous avez accepté, entrez votre adresse courriel. Si nous la connaissons, nous y envoyons un lien.",
    email_label: "Votre adresse courriel",
    send: "M’envoyer un lien",
    link_bad: "Ce lien n’est pas valide ou a expiré. Demandez-en un nouveau.",
    sent_title: "Consultez vos courriels",
    sent: "Si nous connaissons cette adresse, un lien vers vos préférences y est en route.",
    sent_more: "Le lien fonctionne pendant 24 heures. Si rien n’arrive, vérifiez l’adresse et recommencez.",
    intro: "Voici chaque usage de vos renseignements qui demande votre accord, ce que vous avez choisi et quand. Vous pouvez tout modifier.",
    saved: "Votre choix est enregistré.",
    now: "Actuellement :",
    granted: "vous acceptez",
    withdrawn: "vous n’acceptez pas (retiré)",
    expired: "votre accord a expiré",
    none: "vous n’avez pas donné votre accord",
    grant: "Accepter",
    withdraw: "Retirer mon accord",
    history: "Historique",
    no_history: "Rien n’est encore enregistré.",
    event_grant: "accordé",
    event_withdraw: "retiré",
    via: "par {channel}",
    via_gpc: "par le signal Global Privacy Control de votre navigateur",
    none_to_change: "Rien ici ne demande votre accord.",
    session: "Pour votre sécurité, cette page se ferme après 30 minutes ; demandez alors un nouveau lien.",
    gpc_honoured: "Demande de retrait respectée : votre navigateur a envoyé un signal Global Privacy Control, que nous avons enregistré comme une demande de ne pas vendre ni partager vos renseignements personnels.",
    other_choices: "Voir et modifier vos autres choix de confidentialité",
};

/// The preference pages' strings in `lang`.
pub fn words(lang: Lang) -> &'static PrefWords {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// One event of a purpose's history, as the caller knows it.
#[derive(Debug, Clone)]
pub struct PrefEvent {
    /// RFC 3339.
    pub at: String,
    pub grant: bool,
    pub channel: Option<String>,
    pub gpc: bool,
}

/// One purpose, as the caller knows it.
#[derive(Debug, Clone)]
pub struct PrefPurpose {
    pub id: String,
    pub description: String,
    /// `granted`, `withdrawn`, `expired` or `none`.
    pub state: String,
    pub history: Vec<PrefEvent>,
}

struct PurposeRow {
    id: String,
    description: String,
    state: String,
    granted: bool,
    button: &'static str,
    history: Vec<String>,
}

#[derive(Template)]
#[template(path = "web_preferences.html")]
struct PrefsHtml<'a> {
    chrome: &'a Chrome,
    w: &'static PrefWords,
    saved: bool,
    csrf: &'a str,
    action: &'a str,
    purposes: Vec<PurposeRow>,
}

#[derive(Template)]
#[template(path = "web_preferences_ask.html")]
struct AskHtml<'a> {
    chrome: &'a Chrome,
    w: &'static PrefWords,
    heading: &'a str,
    paras: Vec<&'a str>,
    /// The form's token; None: no form (the "check your e-mail" page).
    csrf: Option<&'a str>,
}

/// The preferences page. `action`: where the change forms post.
pub fn preferences_page(
    chrome: &mut Chrome,
    purposes: &[PrefPurpose],
    saved: bool,
    csrf: &str,
    action: &str,
) -> String {
    let lang = chrome.lang;
    let w = words(lang);
    chrome.title = w.title.to_string();
    let rows = purposes
        .iter()
        .map(|p| {
            let granted = p.state == "granted";
            PurposeRow {
                id: p.id.clone(),
                description: p.description.clone(),
                state: match p.state.as_str() {
                    "granted" => w.granted,
                    "withdrawn" => w.withdrawn,
                    "expired" => w.expired,
                    _ => w.none,
                }
                .to_string(),
                granted,
                button: if granted { w.withdraw } else { w.grant },
                history: p
                    .history
                    .iter()
                    .rev()
                    .map(|e| {
                        let what = if e.grant {
                            w.event_grant
                        } else {
                            w.event_withdraw
                        };
                        let via = if e.gpc {
                            w.via_gpc.to_string()
                        } else {
                            e.channel
                                .as_deref()
                                .map(|c| w.via.replace("{channel}", c))
                                .unwrap_or_default()
                        };
                        format!("{}: {what} {via}", lang.moment_of(&e.at))
                            .trim_end()
                            .to_string()
                    })
                    .collect(),
            }
        })
        .collect();
    page(&PrefsHtml {
        chrome,
        w,
        saved,
        csrf,
        action,
        purposes: rows,
    })
}

/// The "send me a link" form; `bad_link`: after a link that did not open.
pub fn ask_page(chrome: &mut Chrome, csrf: &str, bad_link: bool) -> String {
    let w = words(chrome.lang);
    chrome.title = w.title.to_string();
    let mut paras = Vec::new();
    if bad_link {
        paras.push(w.link_bad);
    }
    paras.push(w.ask_intro);
    page(&AskHtml {
        chrome,
        w,
        heading: w.title,
        paras,
        csrf: Some(csrf),
    })
}

/// The page after "send me a link": the same whoever the address belongs to.
pub fn sent_page(chrome: &mut Chrome) -> String {
    let w = words(chrome.lang);
    chrome.title = w.sent_title.to_string();
    page(&AskHtml {
        chrome,
        w,
        heading: w.sent_title,
        paras: vec![w.sent, w.sent_more],
        csrf: None,
    })
}
