//! The console's words in French (issue 10). The console's pages are written in
//! English in its code, as data ([`ConsolePage`]); this table gives each string its
//! French, and [`translate`] puts a page into the language the frame chose (`?lang=`,
//! then `Accept-Language`, the footer's switch), like the notice's and the portal's
//! tables. A string with `{}` is a pattern: what stands in each `{}` (a number, a
//! tenant, an id) is carried over. What is not in the table (data: ids, request types
//! and states as the API names them, the engine's own messages) stays as it is.

use crate::console::{ConsolePage, Field, Form, Link, Section, Table};
use crate::date::Lang;
use std::collections::HashMap;
use std::sync::LazyLock;

/// English as the console writes it, and French.
pub const FR: &[(&str, &str)] = &[
    // Frame and navigation.
    ("Requests", "Demandes"),
    ("Incidents", "Incidents"),
    ("Retention", "Conservation"),
    ("Reports", "Rapports"),
    ("Audit chain", "Chaîne d'audit"),
    ("Sign out", "Se déconnecter"),
    ("Key", "Clé"),
    ("Tenants", "Locataires"),
    ("Not done", "Non effectué"),
    (
        "Something went wrong; the action was not done.",
        "Une erreur est survenue ; l'action n'a pas été effectuée.",
    ),
    // Sign-in.
    ("Sign in", "Se connecter"),
    (
        "Sign in with your operator API key. It is exchanged for a session of at most 8 hours (30 minutes unused) and is not kept in your browser.",
        "Connectez-vous avec votre clé d'API d'opérateur. Elle est échangée contre une session d'au plus 8 heures (30 minutes sans activité) et n'est pas conservée dans votre navigateur.",
    ),
    ("API key", "Clé d'API"),
    (
        "This key was not accepted.",
        "Cette clé n'a pas été acceptée.",
    ),
    // The queue.
    ("Overdue", "En retard"),
    ("Due soon", "Échéance proche"),
    ("Paused", "En pause"),
    ("Open {}", "Ouvrir {}"),
    ("Type", "Type"),
    ("Every type", "Tous les types"),
    ("State", "État"),
    ("Every open state", "Tous les états ouverts"),
    ("Jurisdiction", "Juridiction"),
    ("Every jurisdiction", "Toutes les juridictions"),
    ("Include closed requests", "Inclure les demandes closes"),
    ("Filter", "Filtrer"),
    ("All open requests", "Toutes les demandes ouvertes"),
    ("Requests · {}", "Demandes · {}"),
    (
        "{} requests, the earliest due first",
        "{} demandes, la plus proche échéance d'abord",
    ),
    ("Due", "Échéance"),
    ("Flag", "Signal"),
    ("Received", "Reçue"),
    ("Request", "Demande"),
    ("No request matches.", "Aucune demande ne correspond."),
    // A request's page.
    ("Verification recorded.", "Vérification enregistrée."),
    ("The request is paused.", "La demande est en pause."),
    ("The request is resumed.", "La demande a repris."),
    ("The deadline is extended.", "Le délai est prolongé."),
    ("The request is fulfilled.", "La demande est exécutée."),
    ("The request is denied.", "La demande est refusée."),
    ("The document is accepted.", "Le document est accepté."),
    (
        "The document is rejected and the request denied.",
        "Le document est rejeté et la demande refusée.",
    ),
    ("Channel", "Canal"),
    ("Requester", "Demandeur"),
    ("Response due", "Réponse due"),
    ("Rules", "Règles"),
    ("Deadline set by", "Délai fixé par"),
    ("Extended to", "Prolongé jusqu'au"),
    ("Paused since", "En pause depuis"),
    ("Outcome", "Résultat"),
    ("Appeal of", "Appel de"),
    ("Appealed by", "Portée en appel par"),
    ("Fact", "Élément"),
    ("Value", "Valeur"),
    ("When", "Quand"),
    ("Who (key)", "Qui (clé)"),
    ("Event", "Événement"),
    ("From", "De"),
    ("To", "À"),
    ("No events.", "Aucun événement."),
    ("{} — made {}, not mailed", "{} — rédigé {}, non envoyé"),
    ("{} — made {}, mailed {}", "{} — rédigé {}, envoyé {}"),
    ("Notices", "Avis"),
    ("No notices.", "Aucun avis."),
    ("Reason", "Motif"),
    (
        "The person is signed in to their account",
        "La personne est connectée à son compte",
    ),
    (
        "A signed declaration was received",
        "Une déclaration signée a été reçue",
    ),
    (
        "The person confirmed the agent acts for them",
        "La personne a confirmé que le mandataire agit pour elle",
    ),
    (
        "One-time code (if the person gave one)",
        "Code à usage unique (si la personne en a donné un)",
    ),
    ("Verify", "Vérifier"),
    ("Why", "Pourquoi"),
    ("Pause", "Mettre en pause"),
    ("Resume", "Reprendre"),
    ("Reason for the extension", "Motif de la prolongation"),
    ("Extend", "Prolonger"),
    ("Fulfil", "Exécuter"),
    ("Details for the notice", "Précisions pour l'avis"),
    ("Deny", "Refuser"),
    ("Evidence", "Preuves"),
    (
        "Opened for you now; this opening is in the audit log under your key.",
        "Ouvertes pour vous ; cette ouverture est inscrite au journal d'audit sous votre clé.",
    ),
    (
        "What the requester gave (identifiers, declarations, an agent's or a parent's authority) stays sealed until you open it. Each opening is audited under your key.",
        "Ce que le demandeur a fourni (identifiants, déclarations, pouvoir d'un mandataire ou d'un parent) reste scellé jusqu'à ce que vous l'ouvriez. Chaque ouverture est inscrite au journal d'audit sous votre clé.",
    ),
    ("Open the evidence", "Ouvrir les preuves"),
    ("Back to the queue", "Retour à la file"),
    ("Actions", "Actions"),
    ("History", "Historique"),
    ("Request {}", "Demande {}"),
    // Documents.
    ("Documents", "Documents"),
    ("Document", "Document"),
    ("Uploaded", "Téléversé"),
    ("Review", "Examen"),
    ("awaiting review", "en attente d'examen"),
    ("accepted", "accepté"),
    ("rejected", "rejeté"),
    (
        "The authority the requester claims rests on these documents. Until each is accepted the request cannot be fulfilled; rejecting one denies the request (agent not authorised) and tells the person why. Each download is audited under your key.",
        "Le pouvoir que revendique le demandeur repose sur ces documents. Tant que chacun n'est pas accepté, la demande ne peut pas être exécutée ; en rejeter un refuse la demande (mandataire non autorisé) et en dit la raison à la personne. Chaque téléchargement est inscrit au journal d'audit sous votre clé.",
    ),
    (
        "Each download is audited under your key.",
        "Chaque téléchargement est inscrit au journal d'audit sous votre clé.",
    ),
    (
        "Why document {} is rejected (the person is told)",
        "Pourquoi le document {} est rejeté (la personne en est informée)",
    ),
    (
        "Note on document {} (optional, not kept)",
        "Remarque sur le document {} (facultative, non conservée)",
    ),
    ("Accept document {}", "Accepter le document {}"),
    (
        "Reject document {} (denies the request)",
        "Rejeter le document {} (refuse la demande)",
    ),
    // Other systems: the request's connector jobs.
    ("Other systems", "Autres systèmes"),
    (
        "The organisation's own databases this request reaches through connectors: rows found (access) or changed (erasure, correction) per collection, never a value.",
        "Les bases de données propres de l'organisation que cette demande atteint par des connecteurs : lignes trouvées (accès) ou modifiées (effacement, rectification) par collection, jamais une valeur.",
    ),
    (
        "A job failed. Fix what the error names, then retry: an erasure or correction resumes where it stopped, and the collections it finished are not touched again.",
        "Une tâche a échoué. Corrigez ce que l'erreur désigne, puis relancez : un effacement ou une rectification reprend où il s'est arrêté, et les collections déjà traitées ne sont pas touchées de nouveau.",
    ),
    ("Dataset", "Jeu de données"),
    ("Connection", "Connexion"),
    ("Attempts", "Tentatives"),
    ("Rows per collection", "Lignes par collection"),
    ("Error", "Erreur"),
    ("Access", "Accès"),
    ("Erasure", "Effacement"),
    ("Correction", "Rectification"),
    ("Pending", "À exécuter"),
    ("Waiting", "En attente"),
    ("Done", "Terminée"),
    ("Failed", "Échouée"),
    ("Retry the failed jobs", "Relancer les tâches échouées"),
    (
        "The failed jobs are put back to run.",
        "Les tâches échouées sont remises en file.",
    ),
    // Incidents.
    ("{}: without undue delay", "{} : sans délai indu"),
    ("Incidents · {}", "Incidents · {}"),
    (
        "Record an incident with the API or `vow breach assess`; its deadlines and drafts show here.",
        "Enregistrez un incident par l'API ou `vow breach assess` ; ses délais et ses projets s'affichent ici.",
    ),
    ("Discovered", "Découvert"),
    ("People affected", "Personnes touchées"),
    ("Risk", "Risque"),
    (
        "Earliest due per audience",
        "Première échéance par destinataire",
    ),
    ("Incident", "Incident"),
    (
        "No incident is recorded.",
        "Aucun incident n'est enregistré.",
    ),
    (
        "The notice's text is saved; it is what will be mailed.",
        "Le texte de l'avis est enregistré ; c'est lui qui sera envoyé.",
    ),
    (
        "Mailed {} people. Not mailed: {} erased, {} without an e-mail address; {} failed (sending again tries them).",
        "Envoyé à {} personnes. Non envoyé : {} effacées, {} sans adresse électronique ; {} échecs (un nouvel envoi les réessaie).",
    ),
    ("Back to the register", "Retour au registre"),
    (
        "Discovered {}; {} people affected; risk {}.",
        "Découvert {} ; {} personnes touchées ; risque {}.",
    ),
    ("Deadlines", "Délais"),
    ("Audience", "Destinataire"),
    ("Law (rule)", "Loi (règle)"),
    ("Required", "Obligatoire"),
    ("Status", "Statut"),
    ("No notice is owed.", "Aucun avis n'est dû."),
    ("Notifications", "Notifications"),
    ("Recorded by (key)", "Enregistré par (clé)"),
    ("Note", "Remarque"),
    (
        "Nobody has been told yet.",
        "Personne n'a encore été informé.",
    ),
    (
        "Edit the notice to individuals",
        "Modifier l'avis aux personnes",
    ),
    (
        "The text keeps every heading the law requires ({}). It is mailed only once no placeholder like [\u{2026}] or {\u{2026}} is left.",
        "Le texte garde chaque rubrique que la loi exige ({}). Il n'est envoyé qu'une fois qu'il ne reste aucun espace à compléter comme [\u{2026}] ou {\u{2026}}.",
    ),
    ("Last edited {} by key {}.", "Modifié le {} par la clé {}."),
    ("This is the generated draft.", "Ceci est le projet généré."),
    ("Subject", "Objet"),
    ("Text", "Texte"),
    ("Save the notice's text", "Enregistrer le texte de l'avis"),
    (
        "Tell the affected people",
        "Informer les personnes touchées",
    ),
    (
        "Mails the notice to individuals (below) to each affected person's e-mail address on file. Each person is mailed once, however often this is pressed; people erased since are not mailed.",
        "Envoie l'avis aux personnes (ci-dessous) à l'adresse électronique au dossier de chaque personne touchée. Chaque personne le reçoit une fois, quel que soit le nombre de clics ; les personnes effacées depuis ne le reçoivent pas.",
    ),
    (
        "Mail the notice to the affected people",
        "Envoyer l'avis aux personnes touchées",
    ),
    ("Draft for {} ({}): {}", "Projet pour {} ({}) : {}"),
    ("Incident {}", "Incident {}"),
    // Retention.
    ("dry run", "essai"),
    ("Retention ran.", "La conservation a été appliquée."),
    (
        "The dry run is recorded; nothing was destroyed.",
        "L'essai est enregistré ; rien n'a été détruit.",
    ),
    ("Retention · {}", "Conservation · {}"),
    (
        "Dry run: count what is due, destroy nothing",
        "Essai : compter ce qui est dû, ne rien détruire",
    ),
    ("Run retention now", "Appliquer la conservation maintenant"),
    ("Runs", "Exécutions"),
    ("Started", "Commencée"),
    ("Kind", "Sorte"),
    ("Policy version", "Version de la politique"),
    ("Fields destroyed", "Champs détruits"),
    ("People shredded", "Personnes effacées"),
    ("Held", "Retenus"),
    ("No run yet.", "Aucune exécution pour l'instant."),
    // Reports and the audit chain.
    ("Data map (view)", "Carte des données (afficher)"),
    (
        "Data map (download, Markdown)",
        "Carte des données (télécharger, Markdown)",
    ),
    ("Self-assessment {} (view)", "Autoévaluation {} (afficher)"),
    (
        "Self-assessment {} (download, Markdown)",
        "Autoévaluation {} (télécharger, Markdown)",
    ),
    (
        "Request metrics {} (download, JSON)",
        "Statistiques des demandes {} (télécharger, JSON)",
    ),
    ("Reports · {}", "Rapports · {}"),
    (
        "The chains verify: every entry links to the one before, and each head's signature is good.",
        "Les chaînes se vérifient : chaque entrée est liée à la précédente et la signature de chaque tête est valide.",
    ),
    (
        "The chains do NOT verify: see the problems below.",
        "Les chaînes NE se vérifient PAS : voir les problèmes ci-dessous.",
    ),
    ("Verification", "Vérification"),
    ("Entries: {}.", "Entrées : {}."),
    (
        "Chains: {} (one per tenant, and the store's own).",
        "Chaînes : {} (une par client, et celle de la base de données).",
    ),
    (
        "Chain checked: tenant {}'s alone.",
        "Chaîne vérifiée : celle du client {} seulement.",
    ),
    ("Head: {}.", "Tête : {}."),
];

/// The exact strings, and the patterns (with `{}`) split at each `{}`.
static EXACT: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    FR.iter()
        .filter(|(en, _)| !en.contains("{}"))
        .copied()
        .collect()
});
/// The most specific pattern first (the most fixed text), so that "Request {}" does
/// not take "Request metrics {} (…)".
static PATTERNS: LazyLock<Vec<(Vec<&'static str>, &'static str)>> = LazyLock::new(|| {
    let mut p: Vec<(Vec<&'static str>, &'static str)> = FR
        .iter()
        .filter(|(en, _)| en.contains("{}"))
        .map(|(en, fr)| (en.split("{}").collect(), *fr))
        .collect();
    p.sort_by_key(|(pieces, _)| std::cmp::Reverse(pieces.iter().map(|x| x.len()).sum::<usize>()));
    p
});

/// `text` in French if the table has it (exactly, or as a pattern), else unchanged.
pub fn french(text: &str) -> String {
    if let Some(fr) = EXACT.get(text) {
        return (*fr).to_string();
    }
    for (pieces, fr) in PATTERNS.iter() {
        if let Some(holes) = holes(pieces, text) {
            let mut out = String::new();
            let mut holes = holes.into_iter();
            for (i, part) in fr.split("{}").enumerate() {
                if i > 0 {
                    // What stands in a hole is data: carried over as it is.
                    out.push_str(holes.next().unwrap_or_default());
                }
                out.push_str(part);
            }
            return out;
        }
    }
    text.to_string()
}

/// What stands in each `{}` when `text` matches the pattern's `pieces`.
fn holes<'t>(pieces: &[&str], text: &'t str) -> Option<Vec<&'t str>> {
    let (first, rest) = pieces.split_first()?;
    let (last, middle) = rest.split_last()?;
    let mut at = text.strip_prefix(first)?;
    let mut out = Vec::new();
    for piece in middle {
        let end = at.find(piece).filter(|_| !piece.is_empty())?;
        out.push(&at[..end]);
        at = &at[end + piece.len()..];
    }
    out.push(at.strip_suffix(last)?);
    Some(out)
}

/// Put a console page into `lang`: its words, and its links and forms keep the
/// language asked for.
pub fn translate(p: &mut ConsolePage, lang: Lang) {
    if lang == Lang::En {
        return;
    }
    let t = |s: &mut String| *s = french(s);
    let keep = |href: &mut String| {
        if href.starts_with("/console") && !href.contains("lang=") {
            href.push(if href.contains('?') { '&' } else { '?' });
            href.push_str("lang=");
            href.push_str(lang.code());
        }
    };
    let link = |l: &mut Link| {
        t(&mut l.label);
        keep(&mut l.href);
    };
    let form = |f: &mut Form| {
        t(&mut f.button);
        if f.post {
            keep(&mut f.action);
        } else {
            f.fields.push(Field::Hidden {
                name: "lang".into(),
                value: lang.code().into(),
            });
        }
        for field in &mut f.fields {
            match field {
                Field::Hidden { .. } => {}
                Field::Text { label, .. }
                | Field::Area { label, .. }
                | Field::Secret { label, .. }
                | Field::Check { label, .. } => t(label),
                Field::Select { label, choices, .. } => {
                    t(label);
                    for c in choices {
                        t(&mut c.label);
                    }
                }
            }
        }
    };
    let table = |tb: &mut Table| {
        t(&mut tb.caption);
        t(&mut tb.empty);
        tb.head.iter_mut().for_each(t);
        for row in &mut tb.rows {
            for c in row {
                t(&mut c.text);
                if let Some(h) = &mut c.href {
                    keep(h);
                }
            }
        }
    };
    t(&mut p.title);
    if let Some(m) = &mut p.message {
        t(m);
    }
    if let Some(s) = &mut p.session {
        s.nav.iter_mut().for_each(link);
        s.tenants.iter_mut().for_each(|l| keep(&mut l.href));
        form(&mut s.sign_out);
        t(&mut s.key_label);
        t(&mut s.tenants_label);
    }
    for Section {
        heading,
        paras,
        links,
        table: tb,
        forms,
        pre: _,
    } in &mut p.sections
    {
        t(heading);
        paras.iter_mut().for_each(t);
        links.iter_mut().for_each(link);
        if let Some(tb) = tb {
            table(tb);
        }
        forms.iter_mut().for_each(form);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_has_one_french_entry() {
        let mut seen = std::collections::BTreeSet::new();
        for (en, fr) in FR {
            assert!(seen.insert(*en), "twice: {en}");
            assert!(!fr.is_empty(), "{en}");
            assert_eq!(en.matches("{}").count(), fr.matches("{}").count(), "{en}");
        }
    }

    #[test]
    fn patterns_carry_what_stands_in_them() {
        assert_eq!(french("Requests · acme"), "Demandes · acme");
        assert_eq!(
            french(
                "Mailed 2 people. Not mailed: 1 erased, 0 without an e-mail address; 0 failed (sending again tries them)."
            ),
            "Envoyé à 2 personnes. Non envoyé : 1 effacées, 0 sans adresse électronique ; 0 échecs (un nouvel envoi les réessaie)."
        );
        assert_eq!(french("Open 0192"), "Ouvrir 0192");
        assert_eq!(french("verified"), "verified", "data stays");
        assert_eq!(french("Accept document 2"), "Accepter le document 2");
        assert_eq!(
            french("Request metrics 2026 (download, JSON)"),
            "Statistiques des demandes 2026 (télécharger, JSON)"
        );
        assert_eq!(french("Request 0192-ab"), "Demande 0192-ab");
    }
}
