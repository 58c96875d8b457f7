//! The CLI explains itself: help with examples, shell completions, a man page, and a
//! closed pipe that ends quietly.

use crate::cli::{text, vow};
use std::io::Read;
use std::process::{Command, Stdio};

#[test]
fn completions_and_the_man_page_print_something_sensible() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = vow(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        for word in ["vow", "revoke", "subject", "--tenant"] {
            assert!(out.contains(word), "{shell} completions lack {word}");
        }
    }
    let o = vow(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    let o = vow(&["man"]);
    assert!(o.status.success(), "{}", text(&o));
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH vow 1"),
        "{page}"
    );
    assert!(
        page.contains(".SH SYNOPSIS") && page.contains("subject"),
        "{page}"
    );
    let o = vow(&["man", "key", "revoke"]);
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(page.contains(".TH vow-key-revoke 1"), "{page}");
    assert!(page.contains("Example"), "{page}");
    let o = vow(&["man", "no-such-command"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn help_shows_examples_and_only_the_flags_a_command_uses() {
    let o = vow(&["policy", "check", "--help"]);
    let h = String::from_utf8_lossy(&o.stdout);
    assert!(h.contains("Example:"), "{h}");
    assert!(!h.contains("--data"), "{h}");
    let o = vow(&["request", "list", "--help"]);
    let h = String::from_utf8_lossy(&o.stdout);
    assert!(h.contains("--data") && h.contains("--output"), "{h}");
    assert!(!h.contains("--webhooks-allow-loopback"), "{h}");
    // The old spelling still works, but is not advertised.
    let o = vow(&["--help"]);
    let h = String::from_utf8_lossy(&o.stdout);
    assert!(
        !h.lines().any(|l| l.trim_start().starts_with("keys ")),
        "{h}"
    );
    assert!(vow(&["keys", "rotate", "--help"]).status.success());
}

/// `vow … | head -1`: the reader goes away; the command ends without a panic message.
#[test]
fn a_closed_pipe_ends_quietly() {
    // Far more than a pipe's buffer, so the write meets the closed pipe.
    let mut child = Command::new(env!("CARGO_BIN_EXE_vow"))
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.is_empty(), "{err}");
    assert!(status.success(), "{status:?}");
    // Through a shell, as people write it.
    let o = Command::new("sh")
        .args([
            "-c",
            &format!("{} completions bash | head -1", env!("CARGO_BIN_EXE_vow")),
        ])
        .output()
        .unwrap();
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
