//! The README's five-minute tour, run as written against a fresh `vow serve`:
//! every output the README shows must match what the commands print.
//!
//! Each `sh` block of the tour runs in one bash session (its variables carry
//! over), from the repository root, with `curl` wrapped so that every call's
//! status and body are logged in order. A shown output belongs to the last
//! `curl` before it. It matches when the status is the one shown and the body
//! has every key shown with the value shown; `…` stands for any text inside a
//! string, `[…]` for any array, `,…` for further keys and a bare `…` after a key
//! for any value.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const TOUR_START: &str = "## A five-minute tour";
const TOUR_END: &str = "## Command line";

/// One shown output: the index of the curl call it belongs to and what it shows.
#[derive(Debug)]
struct Shown {
    call: usize,
    text: String,
}

#[test]
fn the_readme_tour_prints_what_the_readme_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find(TOUR_START).expect("the tour");
    let end = readme[start..].find(TOUR_END).expect("the tour's end") + start;
    let tour = &readme[start..end];
    let blocks = fenced_blocks(tour);
    assert!(blocks.len() >= 10, "the tour's blocks: {}", blocks.len());

    // Block 0 starts the server and block 1 (plain) shows what it prints; block 2
    // sets V and ADMIN. The test starts the real binary in their place.
    assert!(blocks[0].1.contains("-- serve"), "{:?}", blocks[0]);
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_vow"))
        .args(["serve", "--data", dir.path().to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = Vec::new();
    let mut out = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        printed.push(line.trim_end().to_string());
        if line.contains("listening") {
            break;
        }
        line.clear();
    }
    let shown_start: Vec<String> = blocks[1]
        .1
        .lines()
        .map(|l| l.replace("8080", &port.to_string()))
        .collect();
    assert_eq!(
        printed.len(),
        shown_start.len(),
        "{printed:?} vs {shown_start:?}"
    );
    for (p, s) in printed.iter().zip(&shown_start) {
        assert!(
            text_matches(s, p),
            "the server printed {p:?}; the README shows {s:?}"
        );
    }
    let admin = printed[0].rsplit(' ').next().unwrap().to_string();
    assert!(blocks[2].1.contains("ADMIN="), "{:?}", blocks[2]);

    let log = dir.path().join("curl.log");
    let mut script = format!(
        "set -euo pipefail\nV=http://127.0.0.1:{port}\nADMIN={admin}\n\
         curl() {{ local t; t=$(mktemp -p {tmp}); command curl -w '%{{http_code}}' -o \"$t\" \"$@\" > \"$t.status\"; \
         printf '@@call %s\\n' \"$(cat \"$t.status\")\" >> {log}; cat \"$t\" >> {log}; printf '\\n' >> {log}; cat \"$t\"; }}\n",
        log = log.display(),
        tmp = dir.path().display()
    );
    let mut shown = Vec::new();
    let mut calls = 0;
    for (lang, body) in &blocks[3..] {
        if lang != "sh" {
            continue;
        }
        script.push_str(body);
        script.push('\n');
        shown.extend(outputs_shown(body, &mut calls));
    }
    assert!(shown.len() >= 10, "the tour shows outputs: {shown:?}");
    let run = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&root)
        .output()
        .expect("bash");
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    assert!(
        run.status.success(),
        "the tour failed: {}\n{}",
        String::from_utf8_lossy(&run.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    let results: Vec<(u16, String)> = logged
        .split("@@call ")
        .skip(1)
        .map(|c| {
            let (status, body) = c.split_once('\n').unwrap();
            (status.trim().parse().unwrap(), body.trim_end().to_string())
        })
        .collect();
    assert_eq!(results.len(), calls, "every curl of the tour ran");
    let mut mismatches = Vec::new();
    for s in &shown {
        let (status, body) = &results[s.call];
        if let Err(why) = output_matches(&s.text, *status, body) {
            mismatches.push(format!(
                "curl #{}: {why}\n  README: {}\n  actual: {status} {body}",
                s.call + 1,
                s.text
            ));
        }
    }
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
}

/// The fenced blocks of a Markdown text, with their language.
fn fenced_blocks(md: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in md.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(lang)) => current = Some((lang.trim().to_string(), String::new())),
            (Some(_), Some(_)) => blocks.push(current.take().unwrap()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The outputs a block shows, each tied to the curl call before it. `calls`
/// counts the tour's curl calls so far.
fn outputs_shown(block: &str, calls: &mut usize) -> Vec<Shown> {
    let mut shown: Vec<Shown> = Vec::new();
    let mut continuing = false;
    for line in block.lines() {
        let (code, comment) = match line.find('#') {
            Some(k) if !in_quotes(&line[..k]) => (&line[..k], Some(line[k + 1..].trim())),
            _ => (line, None),
        };
        let before = *calls;
        *calls += code.matches("curl ").count();
        match comment {
            Some(c) if code.trim().is_empty() && continuing => {
                let last = shown.last_mut().unwrap();
                last.text.push(' ');
                last.text.push_str(c);
            }
            Some(c) if looks_like_output(c) => {
                // An inline comment belongs to its own line's call.
                let call = if code.trim().is_empty() {
                    *calls
                } else {
                    before + 1
                };
                shown.push(Shown {
                    call: call - 1,
                    text: c.to_string(),
                });
                continuing = code.trim().is_empty();
            }
            _ => continuing = false,
        }
    }
    shown
}

/// Whether a `#` at the end of `code` is inside a quoted string.
fn in_quotes(code: &str) -> bool {
    code.matches('\'').count() % 2 == 1 || code.matches('"').count() % 2 == 1
}

fn looks_like_output(c: &str) -> bool {
    let c = c.strip_prefix("each:").unwrap_or(c).trim_start();
    c.starts_with('{') || c.starts_with("a readable HTML page") || {
        let (status, _) = c.split_at(c.len().min(3));
        status.len() == 3 && status.chars().all(|d| d.is_ascii_digit())
    }
}

fn output_matches(shown: &str, status: u16, body: &str) -> Result<(), String> {
    let mut rest = shown.strip_prefix("each:").unwrap_or(shown).trim_start();
    if rest.starts_with("a readable HTML page") {
        return if body.trim_start().starts_with("<!DOCTYPE html") || body.contains("<html") {
            Ok(())
        } else {
            Err("not an HTML page".into())
        };
    }
    if let Some(code) = rest
        .get(..3)
        .filter(|c| c.chars().all(|d| d.is_ascii_digit()))
    {
        if code.parse::<u16>().unwrap() != status {
            return Err(format!("status {status}, README shows {code}"));
        }
        rest = rest[3..].trim_start();
    }
    rest = rest
        .strip_prefix("application/problem+json")
        .unwrap_or(rest)
        .trim_start();
    let Some(open) = rest.find('{') else {
        return Ok(());
    };
    let json = balanced(&rest[open..]).ok_or("the README's JSON is not closed")?;
    let pattern: Value = serde_json::from_str(&unelide(json))
        .map_err(|e| format!("the README's JSON does not parse ({e}): {json}"))?;
    let actual: Value =
        serde_json::from_str(body).map_err(|e| format!("the body is not JSON ({e})"))?;
    matches(&pattern, &actual, "")
}

/// The text up to the brace that closes the first one.
fn balanced(s: &str) -> Option<&str> {
    let (mut depth, mut in_str, mut escaped) = (0, false, false);
    for (k, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_str => escaped = true,
            '"' => in_str = !in_str,
            '{' | '[' if !in_str => depth += 1,
            '}' | ']' if !in_str => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s[..=k]);
                }
            }
            _ => {}
        }
    }
    None
}

const ANY_ARRAY: &str = "\u{0}any-array";
const ANY_VALUE: &str = "\u{0}any-value";

/// Turns the README's elisions outside strings into JSON: `[…]` into a marker
/// that matches any array, `,…` and a lone `…` into nothing.
fn unelide(json: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    let mut escaped = false;
    let chars: Vec<char> = json.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if c == '[' && chars.get(i + 1) == Some(&'…') && chars.get(i + 2) == Some(&']') {
            out.push_str(&format!("\"{}\"", ANY_ARRAY.replace('\u{0}', "\\u0000")));
            i += 2;
        } else if c == ',' && chars[i + 1..].iter().find(|c| !c.is_whitespace()) == Some(&'…') {
            while chars[i] != '…' {
                i += 1;
            }
        } else if c == '…' && out.trim_end().ends_with(':') {
            out.push_str(&format!("\"{}\"", ANY_VALUE.replace('\u{0}', "\\u0000")));
        } else if c != '…' {
            out.push(c);
        }
        i += 1;
    }
    out
}

fn matches(pattern: &Value, actual: &Value, at: &str) -> Result<(), String> {
    match (pattern, actual) {
        (Value::String(p), Value::Array(_)) if p == ANY_ARRAY => Ok(()),
        (Value::String(p), _) if p == ANY_VALUE => Ok(()),
        (Value::String(p), Value::String(a)) if text_matches(p, a) => Ok(()),
        (Value::Object(p), Value::Object(a)) => {
            for (k, v) in p {
                let Some(av) = a.get(k) else {
                    return Err(format!("{at}/{k} is missing"));
                };
                matches(v, av, &format!("{at}/{k}"))?;
            }
            Ok(())
        }
        (Value::Array(p), Value::Array(a)) => {
            if p.len() != a.len() {
                return Err(format!("{at}: {} items, README shows {}", a.len(), p.len()));
            }
            for (k, (pv, av)) in p.iter().zip(a).enumerate() {
                matches(pv, av, &format!("{at}/{k}"))?;
            }
            Ok(())
        }
        (p, a) if p == a => Ok(()),
        (p, a) => Err(format!("{at} is {a}, README shows {p}")),
    }
}

/// Whether `actual` matches `shown`, in which each `…` stands for any text.
fn text_matches(shown: &str, actual: &str) -> bool {
    let parts: Vec<&str> = shown.split('…').collect();
    if parts.len() == 1 {
        return shown == actual;
    }
    let mut rest = actual;
    for (k, part) in parts.iter().enumerate() {
        if k == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if k == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[test]
fn the_tour_matcher_is_strict_where_the_readme_is_literal() {
    assert!(text_matches("vow_…", "vow_abc"));
    assert!(!text_matches("vow_…", "key_abc"));
    assert!(text_matches("a … b", "a xyz b"));
    let p: Value = serde_json::from_str(&unelide(
        r#"{"id":"…","warnings":[…],"n":2,"c":[{"code":"x",…}],"any":…,…}"#,
    ))
    .unwrap();
    let ok = serde_json::json!({"id": "9", "warnings": [1], "n": 2, "c": [{"code": "x", "y": 1}], "any": null, "z": 0});
    assert!(matches(&p, &ok, "").is_ok());
    let bad =
        serde_json::json!({"id": "9", "warnings": [], "n": 3, "c": [{"code": "x"}], "any": 1});
    assert_eq!(
        matches(&p, &bad, ""),
        Err("/n is 3, README shows 2".to_string())
    );
    let mut calls = 0;
    let shown = outputs_shown(
        "X=$(curl a)\ncurl b \\\n  -d '{\"#\":1}'\n# 201 {\"a\":1,\n#  \"b\":2}\ncurl c   # {\"c\":3}\n",
        &mut calls,
    );
    assert_eq!(calls, 3);
    assert_eq!(
        (shown[0].call, shown[0].text.as_str()),
        (1, "201 {\"a\":1, \"b\":2}")
    );
    assert_eq!((shown[1].call, shown[1].text.as_str()), (2, "{\"c\":3}"));
}
