//! `mastra config check` on the built-in page: where it is, and a warning when nobody could use
//! it (the API needs credentials and the server offers no browser sign-in).

use crate::support::mastra_exits;

const UI_WARNING: &str = "warning: ui.enabled: the page at /ui/ cannot sign anyone in";

fn check(config: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mastra.toml");
    std::fs::write(&path, config).unwrap();
    let (code, out, err) = mastra_exits(
        dir.path(),
        &["config", "check", "--config", path.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    out
}

#[test]
fn off_says_nothing() {
    let out = check("[auth]\nprovider = \"none\"\n");
    assert!(
        !out.contains("page:") && !out.contains("ui.enabled"),
        "{out}"
    );
}

#[test]
fn on_without_auth_is_usable() {
    let out = check("[auth]\nprovider = \"none\"\n[ui]\nenabled = true\n");
    assert!(out.contains("\npage: on at /ui/\n"), "{out}");
    assert!(!out.contains(UI_WARNING), "{out}");
}

#[test]
fn on_with_tokens_only_warns() {
    let out = check(
        "[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"ui-check-secret-0123456789abcdef0123456789\"\n\
         [ui]\nenabled = true\n",
    );
    assert!(out.contains("\npage: on at /ui/\n"), "{out}");
    assert!(out.contains(UI_WARNING), "{out}");
}
