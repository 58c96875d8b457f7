//! `vow subject …`: an operator finds a person by an identifier and sees categories
//! and counts without values; values only for a purpose, through the decision
//! function; a correction keeps the old version; an erasure goes through a request.

use crate::cli::{cli_store, person, text, vow};
use serde_json::Value;

fn json_of(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "{}", text(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn an_operator_shows_lists_corrects_and_erases_people() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    cli_store(
        dir.path(),
        &format!(
            "{}\n{}\n",
            person("ann@example.org", "Ann Example"),
            person("bob@example.org", "Bob Example")
        ),
    );
    let show = |extra: &[&str]| {
        let mut args = vec!["subject", "show", "--data", d, "--tenant", "acme"];
        args.extend_from_slice(extra);
        vow(&args)
    };
    // Categories, counts and consent state; no values.
    let o = show(&["--email", "ann@example.org", "--output", "json"]);
    let s = json_of(&o);
    assert!(!text(&o).contains("Ann Example"), "{s}");
    let cats: Vec<&str> = s["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert_eq!(cats, ["user.health_and_medical", "user.name"], "{s}");
    assert_eq!(s["categories"][1]["fields"], 1);
    assert_eq!(s["consents"]["research"]["state"], "granted", "{s}");
    let ann = s["id"].as_str().unwrap().to_string();
    let o = show(&["--email", "ann@example.org"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("Ann Example"));
    assert!(
        text(&o).contains("consent research: granted"),
        "{}",
        text(&o)
    );
    // Values only for a purpose, through the decision function.
    let o = show(&["--email", "ann@example.org", "--purpose", "research"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("user.name: Ann Example"), "{}", text(&o));
    let o = show(&["--email", "ann@example.org", "--purpose", "no-such-purpose"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // Exactly one identifier; an unknown one is bad input that does not echo it.
    let o = show(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = show(&["--email", "nobody@example.org"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!text(&o).contains("nobody@"), "{}", text(&o));
    // Counts per tenant, no values.
    let o = vow(&["subject", "list", "--data", d, "--output", "json"]);
    let l = json_of(&o);
    assert!(!text(&o).contains("Example"), "{l}");
    assert_eq!(l[0]["tenant"], "acme");
    assert_eq!(l[0]["subjects"], 2, "{l}");
    let name = l[0]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "user.name")
        .unwrap();
    assert_eq!(
        (name["subjects"].as_u64(), name["fields"].as_u64()),
        (Some(2), Some(2))
    );
    // A correction: the new value is read, the old version kept.
    let o = vow(&[
        "subject",
        "correct",
        "--data",
        d,
        "--tenant",
        "acme",
        "--email",
        "ann@example.org",
        "--category",
        "user.name",
        "--value",
        "Ann Corrected",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = show(&[
        "--email",
        "ann@example.org",
        "--purpose",
        "research",
        "--output",
        "json",
    ]);
    let s = json_of(&o);
    let read = s["read"]["fields"].as_array().unwrap();
    assert!(read.iter().any(|f| f["value"] == "Ann Corrected"), "{s}");
    assert!(!read.iter().any(|f| f["value"] == "Ann Example"), "{s}");
    let name = s["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "user.name")
        .unwrap();
    assert_eq!(name["superseded"], 1, "{s}");
    // Erasure through the request workflow: a fulfilled delete request, with its notices.
    let o = vow(&[
        "subject",
        "erase",
        "--data",
        d,
        "--tenant",
        "acme",
        "--email",
        "bob@example.org",
        "--jurisdiction",
        "CA",
        "--output",
        "json",
    ]);
    let r = json_of(&o);
    assert_eq!(r["type"], "delete", "{r}");
    assert_eq!(r["state"], "fulfilled", "{r}");
    let o = vow(&[
        "request", "list", "--data", d, "--tenant", "acme", "--all", "--output", "json",
    ]);
    let list = json_of(&o);
    assert!(
        list.as_array().unwrap().iter().any(|x| x["id"] == r["id"]),
        "{list}"
    );
    let o = show(&["--email", "bob@example.org"]);
    assert_eq!(o.status.code(), Some(2), "erased: {}", text(&o));
    let o = vow(&[
        "subject", "list", "--data", d, "--tenant", "acme", "--output", "json",
    ]);
    let l = json_of(&o);
    assert_eq!(
        (l[0]["subjects"].as_u64(), l[0]["erased"].as_u64()),
        (Some(1), Some(1)),
        "{l}"
    );
    // Ann is untouched.
    let o = show(&["--email", "ann@example.org", "--output", "json"]);
    assert_eq!(json_of(&o)["id"], ann.as_str());
}

/// `--request`: every version of every field, for a data-subject request about the
/// person that is being fulfilled; never for a request about someone else, or one
/// that is closed. The audit chain names the request.
#[test]
fn an_operator_reads_a_persons_values_for_a_request_being_fulfilled() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    cli_store(
        dir.path(),
        &format!(
            "{}\n{}\n",
            person("ann@example.org", "Ann Example"),
            person("bob@example.org", "Bob Example")
        ),
    );
    let ids = |email: &str| {
        let phone = crate::cli::phone_for(email);
        (email.to_string(), format!("+{phone}"))
    };
    let (email, phone) = ids("ann@example.org");
    let o = vow(&[
        "request",
        "submit",
        "--data",
        d,
        "--tenant",
        "acme",
        "--type",
        "access",
        "--channel",
        "email",
        "--email",
        &email,
        "--phone",
        &phone,
        "--output",
        "json",
    ]);
    let r = json_of(&o);
    assert_eq!(r["state"], "verified", "{r}");
    let request = r["id"].as_str().unwrap().to_string();
    let show = |who: &str, extra: &[&str]| {
        let mut args = vec![
            "subject", "show", "--data", d, "--tenant", "acme", "--email", who,
        ];
        args.extend_from_slice(extra);
        vow(&args)
    };
    let o = show(
        "ann@example.org",
        &["--request", &request, "--output", "json"],
    );
    let s = json_of(&o);
    assert_eq!(s["read"]["request"], request.as_str());
    let mut values: Vec<&str> = s["read"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["value"].as_str().unwrap())
        .collect();
    values.sort_unstable();
    assert_eq!(values, ["Ann Example", "Ann Example has asthma"], "{s}");
    let o = show("ann@example.org", &["--request", &request]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("user.name v1: Ann Example"),
        "{}",
        text(&o)
    );
    // A purpose and a request at once, a request about someone else: bad input.
    let o = show(
        "ann@example.org",
        &["--request", &request, "--purpose", "research"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = show("bob@example.org", &["--request", &request]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!text(&o).contains("Bob Example"), "{}", text(&o));
    // Once the request is fulfilled, it grounds no more reads.
    let o = vow(&[
        "request", "fulfil", "--data", d, "--tenant", "acme", &request,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = show("ann@example.org", &["--request", &request]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!text(&o).contains("Ann Example"), "{}", text(&o));
}
