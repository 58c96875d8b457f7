//! Errors never echo values. Personal-looking values are pushed through the error
//! paths of every operation the served OpenAPI document lists (bodies of the wrong
//! type and shape, unknown keys, path and query values) and through `vow import`;
//! none may come back in a response, a header, a CLI message or the server's log.

use crate::cli::{spawn_serve, stop, text, vow};
use crate::harness::POLICY;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// One generated value: what is sent, and the part of it that must never come back.
struct Sample {
    sent: Value,
    needle: String,
}

/// Personal-looking values, each with its own marker, including ones shaped to slip
/// past a filter that strips quotes (escaped quotes, backticks, serde's own phrasing).
fn samples(seed: u64) -> Vec<Sample> {
    // A small deterministic generator: the same seed, the same values.
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % 10_000
    };
    let mut out = Vec::new();
    for _ in 0..3 {
        let n = next();
        let m = next();
        let s = |sent: String, needle: String| Sample {
            sent: Value::String(sent),
            needle,
        };
        out.push(s(
            format!("quenby.marlow{n}@example.org"),
            format!("marlow{n}"),
        ));
        out.push(s(format!("+1306555{m:04}"), format!("555{m:04}")));
        out.push(s(format!("Aldous Fenwright{n}"), format!("Fenwright{n}")));
        out.push(s(format!("078-05-{m:04}"), format!("078-05-{m:04}")));
        out.push(s(
            format!("Orrin\\\"{n}\", expected Orrin{n}"),
            format!("Orrin{n}"),
        ));
        out.push(s(
            format!("Tamsin`{m}`, expected `Tamsin{m}`"),
            format!("Tamsin{m}"),
        ));
        out.push(Sample {
            sent: json!(1_306_552_019_000_u64 + n),
            needle: format!("{}", 1_306_552_019_000_u64 + n),
        });
    }
    out
}

/// The shapes a value takes in a body: itself, as an unknown key, and in place of
/// each documented property (as itself, wrapped in an object keyed by itself, in a list).
fn bodies(props: &[String], v: &Sample) -> Vec<Value> {
    let key = v.sent.as_str().map_or(v.needle.clone(), str::to_string);
    let mut out = vec![
        v.sent.clone(),
        json!([v.sent]),
        json!({ key.clone(): v.sent }),
    ];
    for p in props {
        out.push(json!({ p: v.sent }));
        out.push(json!({ p: { key.clone(): v.sent } }));
        out.push(json!({ p: [v.sent] }));
        out.push(json!({ p: [{ key.clone(): v.sent }] }));
    }
    out
}

/// The property names of an operation's JSON request body (through one `$ref`).
fn body_properties(doc: &Value, op: &Value) -> Option<Vec<String>> {
    let schema = op.pointer("/requestBody/content/application~1json/schema")?;
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#'))?,
        None => schema,
    };
    Some(
        schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default(),
    )
}

/// Percent-encode everything but unreserved characters (RFC 3986).
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn find(haystack: &str, samples: &[Sample]) -> Option<String> {
    let lower = haystack.to_lowercase();
    samples
        .iter()
        .find(|s| lower.contains(&s.needle.to_lowercase()))
        .map(|s| s.needle.clone())
}

#[tokio::test]
async fn errors_never_echo_what_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, admin, port) = spawn_serve(dir.path(), &[]);
    let base = format!("http://127.0.0.1:{port}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let send = |method: Method, path: String, key: &str, body: Option<Value>| {
        let mut r = client
            .request(method, format!("{base}{path}"))
            .bearer_auth(key);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send()
    };
    // A tenant with a policy and one person, and an operator key: errors past
    // authentication and the tenant check are reached, not just the first refusal.
    let st = send(
        Method::POST,
        "/v1/tenants".into(),
        &admin,
        Some(json!({"id": "acme", "name": "Acme", "role": "controller"})),
    )
    .await
    .unwrap()
    .status();
    assert_eq!(st, StatusCode::CREATED);
    let st = client
        .put(format!("{base}/v1/tenants/acme/policy"))
        .bearer_auth(&admin)
        .header("content-type", "application/yaml")
        .body(POLICY)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(st, StatusCode::CREATED);
    let op: Value = send(
        Method::POST,
        "/v1/tenants/acme/keys".into(),
        &admin,
        Some(json!({"role": "operator"})),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let op = op["key"].as_str().unwrap().to_string();
    let doc: Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let samples = samples(0x5eed_1234);
    let mut tried = 0usize;
    let mut refused = 0usize;
    let mut turn = 0usize;
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op_doc) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let key = if template.starts_with("/v1/tenants/{t}") {
                &op
            } else {
                &admin
            };
            let props = body_properties(&doc, op_doc);
            let query: Vec<&str> = op_doc["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .collect();
            for v in &samples {
                turn += 1;
                let text = v.sent.as_str().map_or(v.needle.clone(), str::to_string);
                let enc = percent(&text);
                // The value in each path parameter in turn, the tenant kept real.
                let mut paths = vec![];
                let params: Vec<&str> =
                    template.split('/').filter(|s| s.starts_with('{')).collect();
                let real = |t: &str| t.replace("{t}", "acme");
                for p in &params {
                    let mut path = template.replace(p, &enc);
                    path = real(&path);
                    for q in &params {
                        path = path.replace(q, "0190f1a2-0000-7000-8000-000000000000");
                    }
                    paths.push(path);
                }
                let path = real(template)
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') {
                            "0190f1a2-0000-7000-8000-000000000000"
                        } else {
                            s
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                for q in &query {
                    paths.push(format!("{path}?{q}={enc}"));
                }
                let mut calls: Vec<(String, Option<Value>)> =
                    paths.into_iter().map(|p| (p, None)).collect();
                if let Some(props) = &props {
                    // Every shape for one value in turn keeps the run short; over the
                    // samples every property meets every kind of value.
                    let all = bodies(props, v);
                    let pick = turn % all.len().max(1);
                    calls.push((path.clone(), all.get(pick).cloned()));
                    calls.push((path.clone(), all.first().cloned()));
                    calls.push((path.clone(), all.get(2).cloned()));
                    for b in all.iter().skip(3).step_by(5) {
                        calls.push((path.clone(), Some(b.clone())));
                    }
                }
                for (path, body) in calls {
                    let res = send(method.clone(), path.clone(), key, body.clone())
                        .await
                        .unwrap();
                    tried += 1;
                    let status = res.status();
                    let headers = format!("{:?}", res.headers());
                    let body_text = res.text().await.unwrap();
                    if status.is_success() {
                        continue;
                    }
                    refused += 1;
                    assert!(
                        status.as_u16() < 500,
                        "{method} {path} with {body:?}: a server error {status}: {body_text}"
                    );
                    if let Some(n) = find(&body_text, &samples).or(find(&headers, &samples)) {
                        panic!(
                            "{method} {template} ({status}) echoed {n:?}:\n{body_text}\n{headers}"
                        );
                    }
                }
            }
        }
    }
    assert!(
        tried > 1000 && refused > 500,
        "the run reached too few error paths: {tried} calls, {refused} refused"
    );
    assert_eq!(stop(&mut child).code(), Some(0));
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    if let Some(n) = find(&log, &samples) {
        panic!("the server's log holds {n:?}");
    }

    // `vow import`: bad rows of JSONL and CSV, in both output formats.
    let d = dir.path().to_str().unwrap();
    let mut jsonl = String::new();
    let mut csv = String::from("email,phone,birth_date,consents,user.name[research]\n");
    for v in &samples {
        let s = &v.sent;
        let t = v.sent.as_str().map_or(v.needle.clone(), str::to_string);
        for row in [
            json!({"identifiers": {"email": s}, "fields": s}),
            json!({"identifiers": s}),
            json!({t.clone(): s, "identifiers": {"email": "x@example.org"}}),
            json!({"identifiers": {"email": "x@example.org"}, "birth_date": s}),
            json!({"identifiers": {"email": "x@example.org"}, "fields": [{"category": t, "value": s, "purposes": ["research"]}]}),
            json!({"identifiers": {"email": "x@example.org"}, "consents": [{"purpose": t, "kind": t}]}),
        ] {
            jsonl.push_str(&row.to_string());
            jsonl.push('\n');
        }
        jsonl.push_str(&format!("{{\"identifiers\": {{\"email\": \"{t}\"\n"));
        csv.push_str(&format!("{t},{t},{t},{t}:{t},{t}\n"));
        csv.push_str(&format!("{t},{t}\n"));
    }
    let headerless = format!("{}\n", samples[0].needle);
    for (name, content) in [
        ("bad.jsonl", jsonl.as_str()),
        ("bad.csv", csv.as_str()),
        ("headerless.csv", headerless.as_str()),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, content).unwrap();
        for output in ["table", "json"] {
            let o = vow(&[
                "import",
                "--data",
                d,
                "--tenant",
                "acme",
                "--output",
                output,
                file.to_str().unwrap(),
            ]);
            assert!(!o.status.success(), "{name} was taken: {}", text(&o));
            // The file name is ours; only what the rows hold must not come back.
            let said = text(&o).replace(file.to_str().unwrap(), "FILE");
            // Bad rows are named by line: `FILE:2: …` or `"line": 2`.
            assert!(said.contains("FILE:") || said.contains("line"), "{said}");
            if let Some(n) = find(&said, &samples) {
                panic!("vow import ({name}, {output}) echoed {n:?}:\n{said}");
            }
        }
    }
    // Lookups by an identifier Vow does not hold say so without repeating it. The
    // addresses are the samples' on another domain: the HTTP run above may have stored
    // a sample in a call that succeeded (which shape meets which property shifts as
    // operations are documented).
    for v in samples.iter().filter(|v| v.sent.is_string()) {
        let t = &v
            .sent
            .as_str()
            .unwrap()
            .replace("@example.org", "@lookup.example");
        let o = vow(&[
            "subject", "show", "--data", d, "--tenant", "acme", "--email", t,
        ]);
        assert!(!o.status.success());
        if let Some(n) = find(&text(&o), &samples) {
            panic!("vow subject show echoed {n:?}: {}", text(&o));
        }
    }
}
