//! Startup refusals through the binary (results in SECURITY.md): `mastra serve --config F` exits
//! non-zero and `mastra config check --config F` reports INVALID (exit 1), both naming the
//! setting, for: an HS secret under 32 bytes; a key-set / identity-provider URL that is not
//! HTTPS (plain HTTP only to loopback, only with `allow_insecure_http`) for every provider with
//! URL settings; a missing audience where the provider requires one. Rules that can never match
//! are reported by `mastra config check`.

use std::path::Path;
const GOOD_SECRET: &str = "startup-refusal-secret-0123456789abcdef";

/// Runs the binary with a clean environment (no provider variables leak in from the host).
fn mastra(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    crate::support::mastra_exits(dir, args, env)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_owned()
}

/// Both `config check` and `serve` refuse `toml`, naming `key`; neither prints `secret`.
fn refused(toml: &str, key: &str, secret: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "mastra.toml", toml);
    let (code, out, err) = mastra(dir.path(), &["config", "check", "--config", &cfg], &[]);
    assert_eq!(code, 1, "config check must fail for:\n{toml}\n{out}{err}");
    assert!(out.contains("INVALID"), "{out}");
    assert!(out.contains(key), "config check must name {key}:\n{out}");
    let (code, sout, serr) = mastra(
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
        &[("RUST_LOG", "trace")],
    );
    assert_ne!(code, 0, "serve must refuse:\n{toml}\n{sout}{serr}");
    assert!(!sout.contains("listening on"), "{sout}");
    assert!(
        serr.contains(key),
        "serve must name {key}:\nstdout: {sout}\nstderr: {serr}"
    );
    if let Some(s) = secret {
        for text in [&out, &err, &sout, &serr] {
            assert!(!text.contains(s), "the secret was printed: {text}");
        }
    }
}

/// `config check` accepts `toml` (exit 0) and returns its output.
fn accepted(toml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "mastra.toml", toml);
    let (code, out, err) = mastra(dir.path(), &["config", "check", "--config", &cfg], &[]);
    assert_eq!(code, 0, "config check must accept:\n{toml}\n{out}{err}");
    assert!(out.contains("OK"), "{out}");
    out
}

#[test]
fn hs_secret_under_32_bytes() {
    for (secret, ok) in [
        ("short", false),
        ("0123456789012345678901234567890", false), // 31 bytes
        ("01234567890123456789012345678901", true), // 32 bytes
    ] {
        let toml = format!("[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{secret}\"\n");
        if ok {
            accepted(&toml);
        } else {
            refused(&toml, "auth.jwt.secret", Some(secret));
        }
    }
    // From the environment, with no config file at all.
    let dir = tempfile::tempdir().unwrap();
    for var in ["MASTRA_JWT_SECRET", "JWT_AUTH_SECRET"] {
        let (code, _, err) = mastra(
            dir.path(),
            &["serve", "--port", "0", "--host", "127.0.0.1"],
            &[(var, "tooshort-secret-value")],
        );
        assert_ne!(code, 0, "{var}: {err}");
        assert!(err.contains("auth.jwt.secret"), "{var}: {err}");
        assert!(err.contains("MASTRA_JWT_SECRET"), "{err}");
        assert!(!err.contains("tooshort-secret-value"), "{err}");
        let (code, out, _) = mastra(
            dir.path(),
            &["config", "check"],
            &[(var, "tooshort-secret-value")],
        );
        assert_eq!(code, 1, "{var}: {out}");
        assert!(out.contains("auth.jwt.secret"), "{out}");
    }
    // An empty secret in the file.
    refused(
        "[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"\"\n",
        "auth.jwt.secret",
        None,
    );
    // Supabase's legacy HS256 secret.
    refused(
        "[auth]\nprovider = \"supabase\"\n[auth.supabase]\nurl = \"https://p.supabase.co\"\nanon_key = \"anon\"\njwt_secret = \"short-supabase-secret\"\n",
        "auth.supabase.jwt_secret",
        Some("short-supabase-secret"),
    );
}

fn service_account_file(dir: &Path, token_uri: &str) -> String {
    let key = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth/tests/fixtures/service-account.key"),
    )
    .unwrap();
    let json = serde_json::json!({
        "type": "service_account",
        "project_id": "demo-refusal",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": key,
        "client_email": "sa@demo-refusal.iam.gserviceaccount.com",
        "token_uri": token_uri,
    });
    write(dir, "sa.json", &json.to_string())
}

/// Provider tables with one URL setting; `{URL}` is replaced by the URL under test.
fn url_settings(sa: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "auth.jwks.jwks_uri",
            "[auth]\nprovider = \"jwks\"\n[auth.jwks]\njwks_uri = \"{URL}\"\nissuer = \"https://idp.example/\"\naudience = \"api\"\n".into(),
        ),
        (
            "auth.oidc.issuer",
            "[auth]\nprovider = \"oidc\"\n[auth.oidc]\nissuer = \"{URL}\"\naudience = \"api\"\n".into(),
        ),
        (
            "auth.oidc.jwks_uri",
            "[auth]\nprovider = \"oidc\"\n[auth.oidc]\nissuer = \"https://idp.example\"\njwks_uri = \"{URL}\"\naudience = \"api\"\n".into(),
        ),
        (
            "auth.oidc.discovery_url",
            "[auth]\nprovider = \"oidc\"\n[auth.oidc]\nissuer = \"https://idp.example\"\ndiscovery_url = \"{URL}\"\naudience = \"api\"\n".into(),
        ),
        (
            "auth.auth0.jwks_uri",
            "[auth]\nprovider = \"auth0\"\n[auth.auth0]\ndomain = \"tenant.auth0.com\"\naudience = \"api\"\njwks_uri = \"{URL}\"\n".into(),
        ),
        (
            "auth.auth0.base_url",
            "[auth]\nprovider = \"auth0\"\n[auth.auth0]\ndomain = \"tenant.auth0.com\"\naudience = \"api\"\nbase_url = \"{URL}\"\n".into(),
        ),
        (
            "auth.clerk.jwks_uri",
            "[auth]\nprovider = \"clerk\"\n[auth.clerk]\npublishable_key = \"pk_test_Y2xlcmsuZXhhbXBsZS5jb20k\"\njwks_uri = \"{URL}\"\n".into(),
        ),
        (
            "auth.clerk.api_base",
            "[auth]\nprovider = \"clerk\"\n[auth.clerk]\npublishable_key = \"pk_test_Y2xlcmsuZXhhbXBsZS5jb20k\"\nsecret_key = \"sk_test_refusal_0123456789\"\norganization_id = \"org_1\"\napi_base = \"{URL}\"\n".into(),
        ),
        (
            "auth.workos.jwks_uri",
            "[auth]\nprovider = \"workos\"\n[auth.workos]\nclient_id = \"client_01\"\napi_key = \"sk_test_refusal_0123456789\"\njwks_uri = \"{URL}\"\n".into(),
        ),
        (
            "auth.workos.api_base",
            "[auth]\nprovider = \"workos\"\n[auth.workos]\nclient_id = \"client_01\"\napi_key = \"sk_test_refusal_0123456789\"\napi_base = \"{URL}\"\n".into(),
        ),
        (
            "auth.supabase.url",
            "[auth]\nprovider = \"supabase\"\n[auth.supabase]\nurl = \"{URL}\"\nanon_key = \"anon\"\n".into(),
        ),
        (
            "auth.supabase.jwks_uri",
            "[auth]\nprovider = \"supabase\"\n[auth.supabase]\nurl = \"https://p.supabase.co\"\nanon_key = \"anon\"\nverify_locally_with_jwks = true\njwks_uri = \"{URL}\"\n".into(),
        ),
        (
            "auth.firebase.certs_url",
            format!("[auth]\nprovider = \"firebase\"\n[auth.firebase]\nservice_account = \"{sa}\"\ncerts_url = \"{{URL}}\"\n"),
        ),
        (
            "auth.firebase.firestore_base_url",
            format!("[auth]\nprovider = \"firebase\"\n[auth.firebase]\nservice_account = \"{sa}\"\nfirestore_base_url = \"{{URL}}\"\n"),
        ),
        (
            "auth.firebase.token_uri",
            format!("[auth]\nprovider = \"firebase\"\n[auth.firebase]\nservice_account = \"{sa}\"\ntoken_uri = \"{{URL}}\"\n"),
        ),
    ]
}

#[test]
fn identity_provider_urls_must_be_https() {
    let dir = tempfile::tempdir().unwrap();
    let sa = service_account_file(dir.path(), "https://oauth2.googleapis.com/token");
    for (key, template) in url_settings(&sa) {
        let with = |url: &str, insecure: bool| {
            let mut t = template.replace("{URL}", url);
            if insecure {
                t.push_str("allow_insecure_http = true\n");
            }
            t
        };
        // HTTPS: accepted.
        accepted(&with("https://idp.example/x", false));
        // Plain HTTP anywhere without the opt-in, loopback included.
        for url in [
            "http://idp.example/x",
            "http://127.0.0.1:9/x",
            "http://localhost:9/x",
        ] {
            refused(&with(url, false), key, None);
        }
        // The opt-in allows loopback only.
        accepted(&with("http://127.0.0.1:9/x", true));
        accepted(&with("http://[::1]:9/x", true));
        for url in [
            "http://idp.example/x",
            "http://10.0.0.1/x",
            "http://192.168.1.1/x",
            "http://localhost.evil.example/x",
            "http://127.0.0.1.nip.io/x",
            "http://0.0.0.0/x",
        ] {
            refused(&with(url, true), key, None);
        }
        // Other schemes are never allowed.
        for url in ["ftp://idp.example/x", "file:///etc/passwd"] {
            refused(&with(url, true), key, None);
        }
    }
}

#[test]
fn service_account_token_uri_must_be_https_too() {
    // The token endpoint named inside the service-account file itself.
    let dir = tempfile::tempdir().unwrap();
    let sa = service_account_file(dir.path(), "http://oauth.evil.example/token");
    refused(
        &format!("[auth]\nprovider = \"firebase\"\n[auth.firebase]\nservice_account = \"{sa}\"\n"),
        "token_uri",
        Some("PRIVATE KEY"),
    );
}

#[test]
fn audience_required_where_the_provider_requires_one() {
    refused(
        "[auth]\nprovider = \"jwks\"\n[auth.jwks]\njwks_uri = \"https://idp.example/jwks\"\nissuer = \"https://idp.example/\"\n",
        "auth.jwks.audience",
        None,
    );
    refused(
        "[auth]\nprovider = \"oidc\"\n[auth.oidc]\nissuer = \"https://idp.example\"\n",
        "auth.oidc.audience",
        None,
    );
    refused(
        "[auth]\nprovider = \"auth0\"\n[auth.auth0]\ndomain = \"tenant.auth0.com\"\n",
        "auth.auth0.audience",
        None,
    );
    // Waived explicitly: accepted.
    accepted(
        "[auth]\nprovider = \"jwks\"\n[auth.jwks]\njwks_uri = \"https://idp.example/jwks\"\nissuer = \"https://idp.example/\"\nallow_any_audience = true\n",
    );
    accepted(
        "[auth]\nprovider = \"oidc\"\n[auth.oidc]\nissuer = \"https://idp.example\"\nclient_id = \"my-client\"\n",
    );
    // The jwt provider with a public key (tokens from some issuer): accepted, with a warning.
    let pem = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth/tests/fixtures/rsa2048.pub"),
    )
    .unwrap();
    let out = accepted(&format!(
        "[auth]\nprovider = \"jwt\"\n[auth.jwt]\npublic_key = \"\"\"\n{pem}\"\"\"\n"
    ));
    assert!(out.contains("warning: auth.jwt.audience"), "{out}");
    // A composite member without its audience is refused too.
    refused(
        &format!(
            "[auth]\nprovider = \"composite\"\n[auth.composite]\nproviders = [\"jwt\", \"auth0\"]\n[auth.jwt]\nsecret = \"{GOOD_SECRET}\"\n[auth.auth0]\ndomain = \"tenant.auth0.com\"\n"
        ),
        "auth.auth0.audience",
        Some(GOOD_SECRET),
    );
}

fn rules_toml(rules: &str) -> String {
    format!("[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{GOOD_SECRET}\"\n{rules}")
}

#[test]
fn config_check_reports_rules_that_can_never_match() {
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // Catch-all first.
        (
            "[[auth.rules]]\nallow = true\n[[auth.rules]]\npath = \"/api/agents\"\nallow = false\n",
            vec!["auth.rules[1] can never match: auth.rules[0]"],
        ),
        // Same path, broader methods first.
        (
            "[[auth.rules]]\npath = \"/api/*\"\nmethods = [\"GET\", \"POST\"]\nallow = false\n[[auth.rules]]\npath = \"/api/*\"\nmethods = [\"POST\"]\nallow = false\n",
            vec!["auth.rules[1] can never match: auth.rules[0]"],
        ),
        // Broader path first.
        (
            "[[auth.rules]]\npath = \"/api/*\"\nallow = false\n[[auth.rules]]\npath = \"/api/agents\"\nmethods = [\"POST\"]\nallow = false\n[[auth.rules]]\npath = \"/api/agents/:id\"\nallow = true\n",
            vec![
                "auth.rules[1] can never match: auth.rules[0]",
                "auth.rules[2] can never match: auth.rules[0]",
            ],
        ),
        // ALL covers every method.
        (
            "[[auth.rules]]\npath = \"/api/admin/*\"\nmethods = [\"ALL\"]\nallow = false\n[[auth.rules]]\npath = \"/api/admin/*\"\nmethods = [\"GET\"]\nallow = true\n",
            vec!["auth.rules[1] can never match: auth.rules[0]"],
        ),
    ];
    for (rules, expected) in cases {
        let out = accepted(&rules_toml(rules));
        for e in expected {
            assert!(out.contains(e), "{rules}\n{out}");
        }
        assert!(!out.contains(GOOD_SECRET), "{out}");
    }
    // Not shadowed: a condition on the earlier rule, narrower methods, narrower or disjoint
    // paths, a later rule broader than the earlier one, a deny rule after an (exact) allow rule.
    for rules in [
        "[[auth.rules]]\npath = \"/api/*\"\ncondition = \"claims.role == 'admin'\"\nallow = true\n[[auth.rules]]\npath = \"/api/*\"\nallow = false\n",
        "[[auth.rules]]\npath = \"/api/*\"\nmethods = [\"GET\"]\nallow = true\n[[auth.rules]]\npath = \"/api/*\"\nallow = false\n",
        "[[auth.rules]]\npath = \"/api/agents\"\nallow = true\n[[auth.rules]]\npath = \"/api/*\"\nallow = false\n",
        "[[auth.rules]]\npath = \"/api/a/*\"\nallow = true\n[[auth.rules]]\npath = \"/api/b/*\"\nallow = false\n",
        "[[auth.rules]]\npath = \"/api/*\"\nallow = true\n[[auth.rules]]\npath = \"/api\"\nallow = false\n",
        // An allow rule's path matches exactly; a later deny rule still matches `/API/agents`.
        "[[auth.rules]]\npath = \"/api/*\"\nallow = true\n[[auth.rules]]\npath = \"/api/agents\"\nallow = false\n",
    ] {
        let out = accepted(&rules_toml(rules));
        assert!(!out.contains("can never match"), "{rules}\n{out}");
    }
}

#[test]
fn invalid_rules_and_patterns_are_refused_naming_the_rule() {
    refused(
        &rules_toml("[[auth.rules]]\npath = \"/api/*\"\ncondition = \"claims.(\"\nallow = true\n"),
        "auth.rules",
        Some(GOOD_SECRET),
    );
    refused(
        &rules_toml("[[auth.rules]]\npath = \"api/*\"\nallow = true\n"),
        "auth.rules",
        None,
    );
    refused(
        &rules_toml("[[auth.rules]]\nmethods = [\"FETCH\"]\nallow = true\n"),
        "auth.rules",
        None,
    );
    refused(
        &format!(
            "[auth]\nprovider = \"jwt\"\npublic = [\"/api/x*y\"]\n[auth.jwt]\nsecret = \"{GOOD_SECRET}\"\n"
        ),
        "auth.public",
        None,
    );
}
