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
