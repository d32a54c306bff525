//! Property tests over the config parser (the stable counterpart of the `config` cargo-fuzz
//! target in `crates/auth/fuzz`): `Config::from_toml_str_with_env` never panics on arbitrary
//! text or on generated TOML made of the real sections and keys with values of every type, and a
//! config it accepts validates again.

use mastra_server::config::Config;
use proptest::prelude::*;

fn lookup(name: &str) -> Option<String> {
    match name {
        "SECRET" => Some("0123456789abcdef0123456789abcdef-prop".into()),
        "PORT" => Some("8080".into()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

const SECTIONS: &[&str] = &[
    "[server]",
    "[server.cors]",
    "[server.tls]",
    "[auth]",
    "[auth.jwt]",
    "[auth.jwks]",
    "[auth.oidc]",
    "[auth.auth0]",
    "[auth.clerk]",
    "[auth.supabase]",
    "[auth.firebase]",
    "[auth.workos]",
    "[auth.api_keys]",
    "[auth.composite]",
    "[[auth.rules]]",
    "[[auth.api_keys.keys]]",
    "[[api_routes]]",
    "[[agents]]",
    "[bogus]",
];

const KEYS: &[&str] = &[
    "host",
    "port",
    "timeout",
    "body_limit",
    "api_prefix",
    "openapi",
    "request_logs",
    "origin",
    "credentials",
    "cert",
    "key",
    "provider",
    "providers",
    "public",
    "protected",
    "secret",
    "public_key",
    "algorithms",
    "jwks_uri",
    "issuer",
    "audience",
    "allow_any_audience",
    "leeway",
    "allow_insecure_http",
    "domain",
    "client_id",
    "path",
    "methods",
    "condition",
    "allow",
    "method",
    "requires_auth",
    "json",
    "proxy",
    "id",
    "name",
    "instructions",
    "model",
    "tools",
    "user",
    "claims",
    "unknown_key",
];

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .:*_{}$?-]{0,16}",
        prop::sample::select(vec![
            "${SECRET}",
            "${PORT}",
            "${MISSING}",
            "${EMPTY}",
            "${",
            "$${SECRET}",
            "${SECRET:-x}",
            "/api/*",
            "/custom/{id}",
            "/api/agents/:id",
            "/a/*?",
            "/{",
            "",
            "30s",
            "1h",
            "-1s",
            "4.5MB",
            "99999999999999999999B",
            "https://idp.example/jwks",
            "http://127.0.0.1:1/jwks",
            "jwt",
            "jwks",
            "none",
            "composite",
            "HS256",
            "RS256",
            "GET",
            "ALL",
            "claims.role == 'admin'",
            "claims.role ==",
            "builtin/echo",
            "0123456789abcdef0123456789abcdef",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        ])
        .prop_map(str::to_owned),
    ]
}

fn toml_string(s: String) -> String {
    // A basic TOML string with the needed escapes.
    let escaped: String = s
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            '\n' => vec!['\\', 'n'],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        3 => string().prop_map(toml_string),
        1 => any::<i64>().prop_map(|i| i.to_string()),
        1 => prop::sample::select(vec!["0", "1", "65535", "65536", "-1", "4111"]).prop_map(str::to_owned),
        1 => any::<bool>().prop_map(|b| b.to_string()),
        1 => Just("1.5".to_owned()),
        1 => Just("1979-05-27T07:32:00Z".to_owned()),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..3).prop_map(|kv| {
                let body: Vec<String> = kv.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", body.join(", "))
            }),
        ]
    })
}

fn toml_doc() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        1 => prop::sample::select(SECTIONS).prop_map(str::to_owned),
        4 => (prop::sample::select(KEYS), value()).prop_map(|(k, v)| format!("{k} = {v}")),
    ];
    prop::collection::vec(line, 0..16).prop_map(|lines| lines.join("\n"))
}

fn check(text: &str) -> Result<(), TestCaseError> {
    if let Ok(cfg) = Config::from_toml_str_with_env(text, "prop.toml", lookup) {
        prop_assert!(cfg.validate("prop.toml").is_ok(), "{text}");
        let _ = format!("{cfg:?}");
    }
    Ok(())
}

/// Cases per property: `PROPTEST_CASES` for long runs, else a count that keeps `cargo test` fast.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    /// Generated TOML from the real sections and keys with values of every type.
    #[test]
    fn generated_configs_never_panic(text in toml_doc()) {
        check(&text)?;
    }

    /// TOML-ish text (the characters of TOML's syntax) and arbitrary text.
    #[test]
    fn arbitrary_text_never_panics(
        text in prop_oneof![
            "[\\[\\]a-z_.=\"'{},\n 0-9$#:*/-]{0,200}",
            "\\PC{0,120}",
        ]
    ) {
        check(&text)?;
    }
}
