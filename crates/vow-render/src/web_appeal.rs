//! The appeal form a denial notice links to, and the page after it, in English and
//! French. The same pages whatever the link was: they reveal nothing about it.

use crate::date::Lang;
use crate::render::page;
use crate::web::Chrome;
use askama::Template;

/// The appeal pages' strings in one language.
#[derive(Debug)]
pub struct AppealWords {
    pub title: &'static str,
    pub intro: &'static str,
    pub statement: &'static str,
    pub statement_hint: &'static str,
    pub button: &'static str,
    pub filed_title: &'static str,
    pub filed: &'static str,
    pub filed_more: &'static str,
}

const EN: AppealWords = AppealWords {
    title: "Appeal our decision",
    intro: "You asked us about your personal information and we refused. Where the law gives you a right to appeal, people who were not involved in the first decision will look at your request again and answer you in writing.",
    statement: "Why do you disagree? (optional)",
    statement_hint: "Tell us anything that could change the decision. Do not include passwords or payment card numbers.",
    button: "Send my appeal",
    filed_title: "Thank you",
    filed: "If this link was valid and the request can still be appealed, we have received your appeal and will write to you at the address we have for the request.",
    filed_more: "If you do not hear from us, contact our privacy team.",
};

const FR: AppealWords = AppealWords {
    title: "Contester notre décision",
    intro: "Vous nous avez fait une demande au sujet de vos renseignements personnels et nous l’avons refusée. Lorsque la loi vous donne le droit de contester, des personnes qui n’ont pas pris la première décision réexamineront votre demande et vous répondront par écrit.",
    statement: "Pourquoi n’êtes-vous pas d’accord? (facultatif)",
    statement_hint: "Dites-nous tout ce qui pourrait changer la décision. N’indiquez ni mot de passe ni numéro de carte de paiement.",
    button: "Envoyer ma contestation",
    filed_title: "Merci",
    filed: "Si ce lien était valide et que la demande peut encore être contestée, nous avons reçu votre contestation et vous écrirons à l’adresse que nous avons pour la demande.",
    filed_more: "Si vous n’avez pas de nouvelles, communiquez avec notre équipe responsable de la protection des renseignements personnels.",
};

impl Lang {
    /// The appeal pages' strings in this language.
    pub fn appeal(self) -> &'static AppealWords {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
        }
    }
}

#[derive(Template)]
#[template(path = "web_appeal.html")]
struct AppealHtml<'a> {
    chrome: &'a Chrome,
    w: &'static AppealWords,
    /// The form's anti-forgery token; None on the page after the form.
    csrf: Option<String>,
    max: usize,
}

/// The appeal form (`csrf`: its anti-forgery token; `max`: the statement's limit in
/// characters), posting back to its own address.
pub fn appeal_form(chrome: &mut Chrome, csrf: String, max: usize) -> String {
    let w = chrome.lang.appeal();
    chrome.title = w.title.to_string();
    page(&AppealHtml {
        chrome,
        w,
        csrf: Some(csrf),
        max,
    })
}

/// The page after the form: the same whatever happened.
pub fn appeal_filed(chrome: &mut Chrome) -> String {
    let w = chrome.lang.appeal();
    chrome.title = w.filed_title.to_string();
    page(&AppealHtml {
        chrome,
        w,
        csrf: None,
        max: 0,
    })
}
