//! CEL rule conditions through the binary: `mastra config check --config F` reports a condition
//! that can never evaluate as INVALID (exit 1) naming the rule, `mastra serve --config F` refuses
//! to start naming it, and `config check` warns about deny rules that deny users lacking a claim.

use std::path::Path;
const SECRET: &str = "config-check-cel-secret-0123456789abcdef";

/// Runs the binary with a clean environment; kills it (and fails) if it does not exit.
fn mastra(dir: &Path, args: &[&str]) -> (i32, String, String) {
    crate::support::mastra_exits(dir, args, &[])
}

/// A config with JWT auth and these `[[auth.rules]]` tables, written to a fresh directory.
fn config(rules: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mastra.toml");
    std::fs::write(
        &path,
        format!("[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n{rules}"),
    )
    .unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path)
}

fn check(rules: &str) -> (i32, String) {
    let (dir, cfg) = config(rules);
    let (code, out, err) = mastra(dir.path(), &["config", "check", "--config", &cfg]);
    (code, format!("{out}{err}"))
}

/// `serve` refuses `rules`: non-zero exit, never listening; returns stderr.
fn serve_refuses(rules: &str) -> String {
    let (dir, cfg) = config(rules);
    let (code, out, err) = mastra(
        dir.path(),
        &[
            "serve",
            "--config",
            &cfg,
            "--port",
            "0",
            "--host",
            "127.0.0.1",
        ],
    );
    assert_ne!(code, 0, "serve must refuse:\n{rules}\n{out}{err}");
    assert!(!out.contains("listening on"), "{out}");
    err
}

const UNDECLARED: &str = "[[auth.rules]]\npath = \"/api/*\"\nmethods = [\"GET\"]\nallow = true\n[[auth.rules]]\ncondition = \"claimz.role == 'admin'\"\nallow = false\n";

#[test]
fn config_check_reports_an_undeclared_variable_as_invalid() {
    let (code, out) = check(UNDECLARED);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("INVALID"), "{out}");
    assert!(out.contains("auth.rules"), "{out}");
    assert!(out.contains("rules[1]"), "the rule's index: {out}");
    assert!(out.contains("unknown variable `claimz`"), "{out}");
    assert!(
        out.contains("the variables are user, claims, method, path and permission"),
        "{out}"
    );
    assert!(!out.contains(SECRET), "{out}");
}

#[test]
fn serve_refuses_an_undeclared_variable_naming_the_rule() {
    let err = serve_refuses(UNDECLARED);
    assert!(err.contains("auth.rules"), "{err}");
    assert!(err.contains("rules[1]"), "the rule's index: {err}");
    assert!(err.contains("unknown variable `claimz`"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
}

#[test]
fn typed_errors_are_invalid_for_check_and_serve() {
    for (cond, needle) in [
        ("method == 1", "compares a string with an int"),
        (
            "path + 1 == 'x'",
            "`+` does not apply to a string and an int",
        ),
        ("claims.role", ""),
        ("'admin'", "never a bool"),
        ("lower(claims.role) == 'admin'", "no function `lower`"),
    ] {
        let rules = format!("[[auth.rules]]\ncondition = \"{cond}\"\nallow = true\n");
        let (code, out) = check(&rules);
        if needle.is_empty() {
            // A claim's type is unknown until a request: accepted.
            assert_eq!(code, 0, "{cond}: {out}");
            continue;
        }
        assert_eq!(code, 1, "{cond}: {out}");
        assert!(out.starts_with("INVALID"), "{cond}: {out}");
        assert!(out.contains("rules[0]"), "{cond}: {out}");
        assert!(out.contains(needle), "{cond}: {out}");
        let err = serve_refuses(&rules);
        assert!(
            err.contains("rules[0]") && err.contains(needle),
            "{cond}: {err}"
        );
    }
}

#[test]
fn config_check_warns_about_deny_rules_that_fail_for_users_lacking_a_claim() {
    let (code, out) = check(
        "[[auth.rules]]\ncondition = \"claims.banned == true\"\nallow = false\n[[auth.rules]]\nallow = true\n",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK"), "{out}");
    assert!(
        out.contains("warning: auth.rules[0] (allow = false) can deny every user who lacks the claim `banned`"),
        "{out}"
    );
    // Guarded, or on an allow rule: no such warning.
    for rules in [
        "[[auth.rules]]\ncondition = \"has(claims.banned) && claims.banned == true\"\nallow = false\n[[auth.rules]]\nallow = true\n",
        "[[auth.rules]]\ncondition = \"claims.role == 'admin'\"\nallow = true\n",
    ] {
        let (code, out) = check(rules);
        assert_eq!(code, 0, "{out}");
        assert!(!out.contains("lacks the claim"), "{rules}\n{out}");
    }
}
