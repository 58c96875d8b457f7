//! `parse` never panics, whatever it is given, and always explains a refusal.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use proptest::prelude::*;
use vow_policy::{Diagnostic, parse, render_html, render_markdown};

const FULL: &str = include_str!("fixtures/full.yaml");

fn check(src: &str) {
    match parse(src, "fuzz.yaml") {
        Ok(c) => {
            // Whatever parses also renders.
            let _ = render_markdown(&c.policy, Some(1));
            let _ = render_html(&c.policy, None);
            for w in &c.warnings {
                assert!(!w.is_error());
            }
        }
        Err(ds) => {
            assert!(!ds.is_empty(), "a refusal must say why");
            assert!(ds.iter().any(Diagnostic::is_error));
            for d in &ds {
                assert!(d.line >= 1 && d.column >= 1, "position unknown: {d}");
                assert!(!d.message.is_empty());
                assert_eq!(d.file, "fuzz.yaml");
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Truncate { at: usize },
    Duplicate { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let n = FULL.len();
    prop_oneof![
        (0..n, any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        (0..n, 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (
            0..n,
            prop::sample::select(vec![
                "\n",
                " ",
                "  ",
                "- ",
                ": ",
                "[",
                "]",
                "{",
                "}",
                "&a ",
                "*a",
                "<<: ",
                "!!str ",
                "'",
                "\"",
                "#",
                "---\n",
                "~",
                "0",
                "-1",
                "99999999999999999999",
                "\t",
                "|\n",
                ">\n",
                "é",
                "\u{feff}",
                "?",
            ])
        )
            .prop_map(|(at, t)| Mutation::Insert {
                at,
                text: t.to_string()
            }),
        (0..n).prop_map(|at| Mutation::Truncate { at }),
        (0..n, 1usize..200).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
    ]
}

fn apply(src: &[u8], m: &Mutation) -> Vec<u8> {
    let mut v = src.to_vec();
    let clamp = |x: usize| x.min(v.len());
    match m {
        Mutation::Flip { at, byte } => {
            if let Some(b) = v.get_mut(*at) {
                *b = *byte;
            }
        }
        Mutation::Delete { at, len } => {
            let a = clamp(*at);
            let b = clamp(at + len);
            v.drain(a..b);
        }
        Mutation::Insert { at, text } => {
            let a = clamp(*at);
            v.splice(a..a, text.bytes());
        }
        Mutation::Truncate { at } => v.truncate(*at),
        Mutation::Duplicate { at, len } => {
            let a = clamp(*at);
            let b = clamp(at + len);
            let chunk: Vec<u8> = v[a..b].to_vec();
            v.splice(b..b, chunk);
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings(s in "\\PC{0,300}") {
        check(&s);
    }

    #[test]
    fn yaml_shaped_noise(s in "[a-z_:\\-\\[\\]{},&*!|>'\"# \n0-9.]{0,300}") {
        check(&s);
    }

    #[test]
    fn mutations_of_a_valid_policy(ms in prop::collection::vec(mutation(), 1..6)) {
        let mut bytes = FULL.as_bytes().to_vec();
        for m in &ms {
            bytes = apply(&bytes, m);
        }
        check(&String::from_utf8_lossy(&bytes));
    }
}
