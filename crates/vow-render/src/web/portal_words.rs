//! The request portal's strings, one table per language (the frame's are in
//! [`super::Words`]).

use crate::date::Lang;
use vow_core::{RequestState, RequestType};

/// The portal's strings in one language.
#[derive(Debug)]
pub struct PortalWords {
    pub index_title: &'static str,
    pub index_intro: &'static str,
    pub as_subject: &'static str,
    pub as_agent: &'static str,
    pub as_parent: &'static str,
    pub who: &'static str,
    pub about_person: &'static str,
    pub about_you: &'static str,
    pub email: &'static str,
    pub email_hint: &'static str,
    pub person_email: &'static str,
    pub person_email_hint: &'static str,
    pub phone: &'static str,
    pub phone_hint: &'static str,
    pub region: &'static str,
    pub region_hint: &'static str,
    pub region_other: &'static str,
    pub correct_category: &'static str,
    pub correct_value: &'static str,
    pub purposes: &'static str,
    pub purposes_hint: &'static str,
    pub declaration: &'static str,
    pub requester_name: &'static str,
    pub requester_email: &'static str,
    pub requester_email_hint: &'static str,
    pub authority: &'static str,
    pub authority_poa: &'static str,
    pub authority_permission: &'static str,
    pub registration: &'static str,
    pub registration_hint: &'static str,
    pub document: &'static str,
    pub agent_document_hint: &'static str,
    pub parent_document_hint: &'static str,
    pub submit: &'static str,
    pub errors_title: &'static str,
    pub err_required: &'static str,
    pub err_email: &'static str,
    pub err_phone: &'static str,
    pub err_region: &'static str,
    pub err_document_type: &'static str,
    pub err_document_size: &'static str,
    pub err_document_missing: &'static str,
    pub err_registration: &'static str,
    pub err_not_provided: &'static str,
    pub err_other: &'static str,
    pub sent_title: &'static str,
    pub sent: [&'static str; 2],
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub code_submit: &'static str,
    pub code_wrong: &'static str,
    pub verified_title: &'static str,
    pub verified: &'static str,
    pub status_title: &'static str,
    pub status_type: &'static str,
    pub status_state: &'static str,
    pub status_received: &'static str,
    pub status_due: &'static str,
    pub status_paused: &'static str,
    pub status_notices: &'static str,
    pub status_no_notices: &'static str,
    pub status_download: &'static str,
    pub status_download_link: &'static str,
    pub status_code: &'static str,
    pub status_appeal: &'static str,
    pub status_not_found_title: &'static str,
    pub status_not_found: &'static str,
    pub busy_title: &'static str,
    pub busy: &'static str,
}

const EN: PortalWords = PortalWords {
    index_title: "Make a privacy request",
    index_intro: "Choose what you would like us to do. Each form asks only for what we need to find your information and to check that it is you.",
    as_subject: "I am asking for myself",
    as_agent: "I am an authorised agent acting for someone",
    as_parent: "I am a parent or guardian of a child",
    who: "Who is asking",
    about_person: "About the person the request is about",
    about_you: "About you",
    email: "E-mail address",
    email_hint: "We send the acknowledgement here. To confirm who you are, we send a code to the address we have on file.",
    person_email: "Their e-mail address",
    person_email_hint: "The address we may know them by. The code that confirms the request goes to the address we have on file for them.",
    phone: "Phone number (optional)",
    phone_hint: "A second piece of information helps us find the right record, for example +1 306 555 0100.",
    region: "Where the person lives",
    region_hint: "The laws of that place decide the rights and our deadlines.",
    region_other: "Elsewhere, or I prefer not to say",
    correct_category: "What is wrong",
    correct_value: "What it should be",
    purposes: "Which uses",
    purposes_hint: "Leave all unticked to choose every one of them.",
    declaration: "I declare, under penalty of perjury, that I am the person this request is about, or that I act for them as stated here.",
    requester_name: "Your full name",
    requester_email: "Your e-mail address",
    requester_email_hint: "We send the acknowledgement and our answers to you here.",
    authority: "What gives you authority",
    authority_poa: "A power of attorney",
    authority_permission: "The person's signed permission",
    registration: "Your registration number (with signed permission)",
    registration_hint: "For a business acting as an agent: its registration with the Secretary of State.",
    document: "Document",
    agent_document_hint: "The power of attorney or the signed permission: PDF, PNG or JPEG, at most 5 MB.",
    parent_document_hint: "A document that shows you are the child's parent or guardian: PDF, PNG or JPEG, at most 5 MB.",
    submit: "Send the request",
    errors_title: "Please correct the following",
    err_required: "This is needed.",
    err_email: "Enter an e-mail address like name@example.org.",
    err_phone: "Enter a phone number with its country code, like +1 306 555 0100.",
    err_region: "Choose a place from the list.",
    err_document_type: "This file is not a PDF, PNG or JPEG document. Choose a file of one of those types.",
    err_document_size: "This file is larger than 5 MB. Choose a smaller file.",
    err_document_missing: "Attach the document.",
    err_registration: "With signed permission, give your registration number.",
    err_not_provided: "The laws of the place chosen do not provide for this kind of request by an agent or a parent. The person may make it themselves.",
    err_other: "This could not be accepted. Check it and try again.",
    sent_title: "Check your e-mail",
    sent: [
        "We have received the request and sent an acknowledgement with a link where you can follow it.",
        "To confirm who the request is about, we have sent a code to the e-mail address we have on file. Enter it below: it works for 15 minutes.",
    ],
    code_label: "Code from the e-mail",
    code_hint: "Six digits.",
    code_submit: "Confirm",
    code_wrong: "This code is wrong, has expired or was tried too often.",
    verified_title: "Thank you",
    verified: "The request is confirmed. We will answer by the date in the acknowledgement; the link in it shows where the request stands.",
    status_title: "Your request",
    status_type: "Request",
    status_state: "Where it stands",
    status_received: "Received",
    status_due: "Answer due by",
    status_paused: "The clock is paused while we wait for information we asked for.",
    status_notices: "What we sent you",
    status_no_notices: "Nothing yet.",
    status_download: "Your copy is ready",
    status_download_link: "Download your information",
    status_code: "We are waiting for the code we sent to confirm who the request is about.",
    status_appeal: "Appeal this decision",
    status_not_found_title: "Request not found",
    status_not_found: "This link does not lead to a request. Check that you copied the whole link from the e-mail.",
    busy_title: "Please wait",
    busy: "Too many attempts came from your network or for this address. Try again in a minute.",
};

const FR: PortalWords = PortalWords {
    index_title: "Faire une demande sur vos renseignements personnels",
    index_intro: "Choisissez ce que vous souhaitez que nous fassions. Chaque formulaire ne demande que ce qu’il faut pour trouver vos renseignements et vérifier qu’il s’agit bien de vous.",
    as_subject: "Je fais la demande pour moi-même",
    as_agent: "Je suis un mandataire autorisé qui agit pour quelqu’un",
    as_parent: "Je suis le parent ou le tuteur d’un enfant",
    who: "Qui fait la demande",
    about_person: "La personne visée par la demande",
    about_you: "Vous",
    email: "Adresse courriel",
    email_hint: "Nous y envoyons l’accusé de réception. Pour confirmer votre identité, nous envoyons un code à l’adresse que nous avons au dossier.",
    person_email: "Son adresse courriel",
    person_email_hint: "L’adresse sous laquelle nous pourrions la connaître. Le code qui confirme la demande est envoyé à l’adresse que nous avons à son dossier.",
    phone: "Numéro de téléphone (facultatif)",
    phone_hint: "Un deuxième renseignement nous aide à trouver le bon dossier, par exemple +1 306 555 0100.",
    region: "Lieu de résidence de la personne",
    region_hint: "Les lois de ce lieu déterminent les droits et nos délais.",
    region_other: "Ailleurs, ou je préfère ne pas le dire",
    correct_category: "Ce qui est inexact",
    correct_value: "Ce que ce devrait être",
    purposes: "Quelles utilisations",
    purposes_hint: "Ne cochez rien pour les choisir toutes.",
    declaration: "Je déclare, sous peine de parjure, être la personne visée par cette demande, ou agir pour elle comme indiqué ici.",
    requester_name: "Votre nom complet",
    requester_email: "Votre adresse courriel",
    requester_email_hint: "Nous vous y envoyons l’accusé de réception et nos réponses.",
    authority: "Ce qui vous autorise",
    authority_poa: "Une procuration",
    authority_permission: "L’autorisation signée de la personne",
    registration: "Votre numéro d’enregistrement (avec une autorisation signée)",
    registration_hint: "Pour une entreprise qui agit comme mandataire : son enregistrement auprès du secrétaire d’État.",
    document: "Document",
    agent_document_hint: "La procuration ou l’autorisation signée : PDF, PNG ou JPEG, 5 Mo au plus.",
    parent_document_hint: "Un document qui montre que vous êtes le parent ou le tuteur de l’enfant : PDF, PNG ou JPEG, 5 Mo au plus.",
    submit: "Envoyer la demande",
    errors_title: "Veuillez corriger ce qui suit",
    err_required: "Ce renseignement est nécessaire.",
    err_email: "Entrez une adresse courriel comme nom@exemple.org.",
    err_phone: "Entrez un numéro de téléphone avec son indicatif de pays, comme +1 306 555 0100.",
    err_region: "Choisissez un lieu dans la liste.",
    err_document_type: "Ce fichier n’est pas un document PDF, PNG ou JPEG. Choisissez un fichier de l’un de ces types.",
    err_document_size: "Ce fichier dépasse 5 Mo. Choisissez un fichier plus petit.",
    err_document_missing: "Joignez le document.",
    err_registration: "Avec une autorisation signée, donnez votre numéro d’enregistrement.",
    err_not_provided: "Les lois du lieu choisi ne prévoient pas ce type de demande par un mandataire ou un parent. La personne peut la faire elle-même.",
    err_other: "Ce renseignement n’a pas pu être accepté. Vérifiez-le et réessayez.",
    sent_title: "Consultez vos courriels",
    sent: [
        "Nous avons reçu la demande et envoyé un accusé de réception avec un lien pour en suivre l’avancement.",
        "Pour confirmer l’identité de la personne visée, nous avons envoyé un code à l’adresse courriel que nous avons au dossier. Entrez-le ci-dessous : il est valable 15 minutes.",
    ],
    code_label: "Code reçu par courriel",
    code_hint: "Six chiffres.",
    code_submit: "Confirmer",
    code_wrong: "Ce code est erroné, a expiré ou a été essayé trop souvent.",
    verified_title: "Merci",
    verified: "La demande est confirmée. Nous répondrons au plus tard à la date indiquée dans l’accusé de réception; le lien qu’il contient montre où en est la demande.",
    status_title: "Votre demande",
    status_type: "Demande",
    status_state: "Où elle en est",
    status_received: "Reçue le",
    status_due: "Réponse au plus tard le",
    status_paused: "Le délai est suspendu pendant que nous attendons des renseignements demandés.",
    status_notices: "Ce que nous vous avons envoyé",
    status_no_notices: "Rien pour l’instant.",
    status_download: "Votre copie est prête",
    status_download_link: "Télécharger vos renseignements",
    status_code: "Nous attendons le code envoyé pour confirmer l’identité de la personne visée.",
    status_appeal: "Faire appel de cette décision",
    status_not_found_title: "Demande introuvable",
    status_not_found: "Ce lien ne mène à aucune demande. Vérifiez que vous avez copié tout le lien du courriel.",
    busy_title: "Veuillez patienter",
    busy: "Trop de tentatives sont venues de votre réseau ou pour cette adresse. Réessayez dans une minute.",
};

impl Lang {
    /// The request portal's strings in this language.
    pub fn portal(self) -> &'static PortalWords {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
        }
    }

    /// A request type's name and what it does, in plain words.
    pub fn request_kind(self, kind: RequestType) -> (&'static str, &'static str) {
        use RequestType::*;
        match (self, kind) {
            (Lang::En, Access) => (
                "Get a copy of my information",
                "We send you a copy of the information we hold about you.",
            ),
            (Lang::En, Know) => (
                "Know what you hold about me",
                "We tell you the kinds of information we hold, where it came from, why we use it and who we share it with.",
            ),
            (Lang::En, Delete) => (
                "Delete my information",
                "We erase the information we hold about you, except what the law requires us to keep.",
            ),
            (Lang::En, Correct) => (
                "Correct my information",
                "Tell us what is wrong and what it should be; we correct it.",
            ),
            (Lang::En, OptOut) => (
                "Stop the sale or sharing of my information",
                "We stop selling or sharing your information, and stop the uses you choose.",
            ),
            (Lang::En, Unsubscribe) => (
                "Stop marketing e-mails",
                "We stop sending you marketing e-mails.",
            ),
            (Lang::En, LimitSensitive) => (
                "Limit the use of my sensitive information",
                "We use sensitive information only for what is needed to provide our service.",
            ),
            (Lang::En, Portability) => (
                "Take my information elsewhere",
                "We send you your information in a format another service can read.",
            ),
            (Lang::En, WithdrawConsent) => (
                "Withdraw my consent",
                "We stop the uses you agreed to, from now on.",
            ),
            (Lang::Fr, Access) => (
                "Obtenir une copie de mes renseignements",
                "Nous vous envoyons une copie des renseignements que nous détenons sur vous.",
            ),
            (Lang::Fr, Know) => (
                "Savoir ce que vous détenez sur moi",
                "Nous vous indiquons les types de renseignements détenus, leur provenance, pourquoi nous les utilisons et avec qui nous les communiquons.",
            ),
            (Lang::Fr, Delete) => (
                "Supprimer mes renseignements",
                "Nous effaçons les renseignements détenus sur vous, sauf ce que la loi nous oblige à conserver.",
            ),
            (Lang::Fr, Correct) => (
                "Corriger mes renseignements",
                "Dites-nous ce qui est inexact et ce que ce devrait être; nous le corrigeons.",
            ),
            (Lang::Fr, OptOut) => (
                "Faire cesser la vente ou le partage de mes renseignements",
                "Nous cessons de vendre ou de partager vos renseignements, et les utilisations que vous choisissez.",
            ),
            (Lang::Fr, Unsubscribe) => (
                "Ne plus recevoir de courriels de marketing",
                "Nous cessons de vous envoyer des courriels de marketing.",
            ),
            (Lang::Fr, LimitSensitive) => (
                "Limiter l’utilisation de mes renseignements sensibles",
                "Nous n’utilisons les renseignements sensibles que pour ce qui est nécessaire à notre service.",
            ),
            (Lang::Fr, Portability) => (
                "Emporter mes renseignements ailleurs",
                "Nous vous envoyons vos renseignements dans un format qu’un autre service peut lire.",
            ),
            (Lang::Fr, WithdrawConsent) => (
                "Retirer mon consentement",
                "Nous cessons, dès maintenant, les utilisations que vous aviez acceptées.",
            ),
        }
    }

    /// Where a request stands, in plain words.
    pub fn request_state(self, state: RequestState) -> &'static str {
        use RequestState::*;
        match (self, state) {
            (Lang::En, Received | Acknowledged) => "Received: we have acknowledged it.",
            (Lang::En, Verifying) => "Waiting for confirmation of who the request is about.",
            (Lang::En, Verified | InProgress) => "Confirmed: we are working on it.",
            (Lang::En, Unverifiable) => "We could not confirm who the request is about.",
            (Lang::En, Fulfilled) => "Done.",
            (Lang::En, PartiallyFulfilled) => {
                "Done in part: the notice we sent explains what was kept and why."
            }
            (Lang::En, Denied) => "Declined: the notice we sent explains why.",
            (Lang::En, Routed) => {
                "Sent on: we hold this information for another organisation, named in our notice."
            }
            (Lang::En, Withdrawn) => "Withdrawn.",
            (Lang::Fr, Received | Acknowledged) => "Reçue : nous en avons accusé réception.",
            (Lang::Fr, Verifying) => {
                "En attente de la confirmation de l’identité de la personne visée."
            }
            (Lang::Fr, Verified | InProgress) => "Confirmée : nous la traitons.",
            (Lang::Fr, Unverifiable) => {
                "Nous n’avons pas pu confirmer l’identité de la personne visée."
            }
            (Lang::Fr, Fulfilled) => "Traitée.",
            (Lang::Fr, PartiallyFulfilled) => {
                "Traitée en partie : l’avis envoyé explique ce qui a été conservé et pourquoi."
            }
            (Lang::Fr, Denied) => "Refusée : l’avis envoyé en explique les raisons.",
            (Lang::Fr, Routed) => {
                "Transmise : nous détenons ces renseignements pour une autre organisation, nommée dans notre avis."
            }
            (Lang::Fr, Withdrawn) => "Retirée.",
        }
    }
}
