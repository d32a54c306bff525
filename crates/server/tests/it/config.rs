//! `mastra.toml` loading: every key, defaults, errors naming the key, `${VAR}`, units,
//! custom-route validation, secret redaction, environment fill-in. Real files in a tempdir.

use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderName, Method, StatusCode};
use mastra_server::config::{
    AuthProviderKind, ByteSize, Config, ConfigError, CorsOrigin, MethodOrAll, RouteAction, Secret,
};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn load(text: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "mastra.toml", text);
    Config::load_with_env(&path, no_env)
}

fn load_err(text: &str) -> ConfigError {
    match load(text) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

const PEM_KEY: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";

#[test]
fn every_key_is_parsed() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "cert.pem", "cert");
    write(dir.path(), "key.pem", "key");
    write(dir.path(), "jwt.pub.pem", PEM_KEY);
    let text = r#"
[server]
host = "0.0.0.0"
port = 8080
timeout = "2m"
body_limit = "10KiB"
api_prefix = "/v1"
openapi = true
request_logs = false

[server.cors]
enabled = true
origin = ["https://app.example.com", "http://localhost:3000"]
methods = ["GET", "post"]
allow_headers = ["X-Custom"]
expose_headers = ["X-Total"]
max_age = 60
credentials = true

[server.tls]
cert = "cert.pem"
key = "key.pem"

[auth]
provider = "jwt"
public = ["/api/docs/*", { path = "/api/agents", methods = ["GET"] }]
protected = ["/api/*"]
api_key_query = false

[[auth.rules]]
path = "/api/agents/*"
methods = ["POST"]
condition = "claims.role == 'admin'"
allow = true

[auth.jwt]
secret = "s3cret"
algorithms = ["HS256", "RS256"]
public_key = "jwt.pub.pem"
issuer = "https://issuer.example"
audience = ["a", "b"]
require_exp = true
leeway = "5s"
max_token_bytes = 4096
cache_capacity = 10

[[api_routes]]
method = "GET"
path = "/other/route/{id}"
requires_auth = false
json = { ok = true, n = 1 }
status = 201

[[api_routes]]
method = "ALL"
path = "/proxy/{*rest}"
proxy = "http://127.0.0.1:9000/base"

[[agents]]
id = "weatherAgent"
name = "Weather Agent"
description = "Tells the weather"
instructions = "Be brief."
model = "openai/gpt-4o-mini"
tools = ["weatherTool"]
"#;
    let path = write(dir.path(), "mastra.toml", text);
    let c = Config::load_with_env(&path, no_env).expect("valid config");

    let s = &c.server;
    assert_eq!(s.host, "0.0.0.0");
    assert_eq!(s.port, 8080);
    assert_eq!(s.timeout, Duration::from_secs(120));
    assert_eq!(s.body_limit, ByteSize(10 * 1024));
    assert_eq!(s.api_prefix, "/v1");
    assert!(s.openapi);
    assert!(!s.request_logs);
    assert!(s.cors.enabled);
    assert_eq!(
        s.cors.origin,
        CorsOrigin::List(vec![
            "https://app.example.com".into(),
            "http://localhost:3000".into()
        ])
    );
    assert_eq!(s.cors.methods, vec![Method::GET, Method::POST]);
    assert_eq!(
        s.cors.allow_headers,
        vec![HeaderName::from_static("x-custom")]
    );
    assert_eq!(
        s.cors.expose_headers,
        vec![HeaderName::from_static("x-total")]
    );
    assert_eq!(s.cors.max_age, 60);
    assert!(s.cors.credentials);
    let tls = s.tls.as_ref().expect("tls");
    assert_eq!(
        tls.cert,
        dir.path().join("cert.pem"),
        "resolved against the file's dir"
    );
    assert_eq!(tls.key, dir.path().join("key.pem"));

    let a = &c.auth;
    assert_eq!(a.provider, AuthProviderKind::Jwt);
    assert_eq!(a.public.len(), 2);
    assert_eq!(a.public[0].as_str(), Some("/api/docs/*"));
    assert!(a.public[1].is_table());
    assert_eq!(a.protected.len(), 1);
    assert!(!a.api_key_query);
    assert_eq!(a.rules.len(), 1);
    assert_eq!(
        a.rules[0].get("condition").and_then(|v| v.as_str()),
        Some("claims.role == 'admin'")
    );
    let jwt = a.jwt.as_ref().expect("jwt");
    assert_eq!(jwt.secret.as_ref().map(Secret::expose), Some("s3cret"));
    assert_eq!(jwt.algorithms, vec!["HS256", "RS256"]);
    assert_eq!(
        jwt.public_key.as_deref(),
        Some(PEM_KEY),
        "file read into PEM text"
    );
    assert_eq!(jwt.issuer.as_deref(), Some("https://issuer.example"));
    assert_eq!(jwt.audience, vec!["a", "b"]);
    assert!(jwt.require_exp);
    assert_eq!(jwt.leeway, Duration::from_secs(5));
    assert_eq!(jwt.max_token_bytes, 4096);
    assert_eq!(jwt.cache_capacity, 10);

    assert_eq!(c.api_routes.len(), 2);
    let r0 = &c.api_routes[0];
    assert_eq!(r0.method, MethodOrAll::Method(Method::GET));
    assert_eq!(r0.path, "/other/route/{id}");
    assert!(!r0.requires_auth);
    assert_eq!(
        r0.action,
        RouteAction::Json {
            status: StatusCode::CREATED,
            body: serde_json::json!({"ok": true, "n": 1})
        }
    );
    let r1 = &c.api_routes[1];
    assert_eq!(r1.method, MethodOrAll::All);
    assert!(r1.requires_auth, "requires_auth defaults to true");
    match &r1.action {
        RouteAction::Proxy {
            upstream,
            forward_credentials,
        } => {
            assert_eq!(upstream.as_str(), "http://127.0.0.1:9000/base");
            assert!(!forward_credentials, "credentials are stripped by default");
        }
        other => panic!("expected proxy, got {other:?}"),
    }

    let agent = &c.agents[0];
    assert_eq!(agent.id, "weatherAgent");
    assert_eq!(agent.name, "Weather Agent");
    assert_eq!(agent.description, "Tells the weather");
    assert_eq!(agent.instructions, "Be brief.");
    assert_eq!(agent.model, "openai/gpt-4o-mini");
    assert_eq!(agent.tools, vec!["weatherTool"]);
}

#[test]
fn defaults() {
    let c = load("").expect("empty file is valid");
    assert_eq!(c, Config::default());
    let s = &c.server;
    assert_eq!(s.host, "localhost");
    assert_eq!(s.port, 4111);
    assert_eq!(s.timeout, Duration::from_secs(180));
    assert_eq!(s.body_limit.as_u64(), 4_718_592);
    assert_eq!(s.api_prefix, "/api");
    assert!(!s.openapi);
    assert!(s.request_logs);
    assert!(s.cors.enabled);
    assert_eq!(s.cors.origin, CorsOrigin::Any);
    assert_eq!(s.cors.methods.len(), 6);
    assert_eq!(s.cors.max_age, 3600);
    assert!(!s.cors.credentials);
    assert!(s.tls.is_none());
    assert_eq!(c.auth.provider, AuthProviderKind::Jwt);
    assert!(c.auth.api_key_query);
    assert!(c.auth.jwt.is_none());

    let c = load("[auth.jwt]\n").expect("empty jwt table");
    let jwt = c.auth.jwt.expect("jwt");
    assert_eq!(jwt.leeway, Duration::from_secs(30));
    assert_eq!(jwt.max_token_bytes, 16384);
    assert_eq!(jwt.cache_capacity, 10_000);
    assert!(!jwt.require_exp);

    let c = load("[[agents]]\nid = \"a\"\ninstructions = \"i\"\n").expect("agent");
    assert_eq!(c.agents[0].name, "a", "name defaults to id");
    assert_eq!(c.agents[0].description, "");
    assert_eq!(c.agents[0].model, "builtin/echo");
    assert!(c.agents[0].tools.is_empty());
}

#[test]
fn unknown_keys_are_errors_naming_the_key() {
    let cases = [
        ("bogus = 1\n", "bogus", ""),
        ("[server]\nprot = 1\n", "prot", "server"),
        ("[server.cors]\norigins = \"*\"\n", "origins", "server.cors"),
        (
            "[server.tls]\ncert = \"a\"\nkey = \"b\"\nca = \"c\"\n",
            "ca",
            "server.tls",
        ),
        ("[auth]\npublik = []\n", "publik", "auth"),
        ("[auth.jwt]\nsekret = \"x\"\n", "sekret", "auth.jwt"),
        (
            "[[api_routes]]\nmethod = \"GET\"\npath = \"/x\"\njson = 1\nextra = 2\n",
            "extra",
            "api_routes[0]",
        ),
        (
            "[[agents]]\nid = \"a\"\ninstructions = \"i\"\nmodle = \"x\"\n",
            "modle",
            "agents[0]",
        ),
    ];
    for (text, field, path) in cases {
        let err = load_err(text);
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("unknown field `{field}`")),
            "{text:?}: {msg}"
        );
        assert!(msg.contains("mastra.toml"), "names the file: {msg}");
        assert!(msg.contains("line"), "has a location: {msg}");
        assert!(msg.contains("fix:"), "says what to do: {msg}");
        let expected = if path.is_empty() {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
        assert_eq!(err.key(), Some(expected.as_str()), "{text:?}");
    }
}

#[test]
fn type_errors_name_the_key() {
    let err = load_err("[server]\nport = \"eighty\"\n");
    assert_eq!(err.key(), Some("server.port"));
    assert!(err.to_string().contains("eighty"), "{err}");
    let err = load_err("[server]\nport = 70000\n");
    assert_eq!(err.key(), Some("server.port"));
    let err = load_err("[server]\nopenapi = \"yes\"\n");
    assert_eq!(err.key(), Some("server.openapi"));
    let err = load_err("[auth]\nprovider = \"ldap\"\n");
    let msg = err.to_string();
    assert_eq!(err.key(), Some("auth.provider"));
    assert!(
        msg.contains("ldap") && msg.contains("`jwt`") && msg.contains("`none`"),
        "{msg}"
    );
    let err = load_err("[auth.jwt]\nalgorithms = [\"HS999\"]\n");
    assert!(err.to_string().contains("HS256"), "lists valid ones: {err}");
    let err = load_err("[[agents]]\nid = \"a\"\n");
    assert!(
        err.to_string().contains("missing field `instructions`"),
        "{err}"
    );
}

#[test]
fn syntax_errors_have_a_location() {
    let err = load_err("[server\nport = 1\n");
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("mastra.toml") && msg.contains("line 1"),
        "{msg}"
    );
}

#[test]
fn missing_file_is_a_read_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Config::load(dir.path().join("nope.toml")).expect_err("missing");
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.to_string().contains("nope.toml"), "{err}");
}

#[test]
fn env_substitution() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = r#"
[server]
host = "${HOST}"
port = "${PORT}"
openapi = "${OPENAPI}"
[auth.jwt]
secret = "pre-${SECRET}-post"
issuer = "literal $${NOT_A_VAR} and $5"
[[api_routes]]
method = "GET"
path = "/x"
json = { token = "${SECRET}", list = ["${HOST}"] }
"#;
    let path = write(dir.path(), "mastra.toml", text);
    let env = |name: &str| match name {
        "HOST" => Some("127.0.0.1".to_string()),
        "PORT" => Some("9999".to_string()),
        "OPENAPI" => Some("true".to_string()),
        "SECRET" => Some("a\"b\n[x]".to_string()),
        _ => None,
    };
    let c = Config::load_with_env(&path, env).expect("substituted");
    assert_eq!(c.server.host, "127.0.0.1");
    assert_eq!(c.server.port, 9999);
    assert!(c.server.openapi);
    let jwt = c.auth.jwt.expect("jwt");
    assert_eq!(
        jwt.secret.as_ref().map(Secret::expose),
        Some("pre-a\"b\n[x]-post"),
        "values cannot inject TOML"
    );
    assert_eq!(jwt.issuer.as_deref(), Some("literal ${NOT_A_VAR} and $5"));
    assert_eq!(
        c.api_routes[0].action,
        RouteAction::Json {
            status: StatusCode::OK,
            body: serde_json::json!({"token": "a\"b\n[x]", "list": ["127.0.0.1"]})
        }
    );

    // unset variable: names the variable and the key path
    let err = Config::load_with_env(&path, |n: &str| (n != "SECRET").then(|| "1".to_string()))
        .expect_err("missing var");
    match &err {
        ConfigError::MissingEnv { var, key, origin } => {
            assert_eq!(var, "SECRET");
            assert_eq!(key, "api_routes[0].json.token");
            assert!(origin.ends_with("mastra.toml"));
        }
        other => panic!("expected MissingEnv, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("SECRET") && msg.contains("api_routes[0].json.token"),
        "{msg}"
    );

    let err = load_err("[server]\nhost = \"${UNCLOSED\"\n");
    assert!(matches!(err, ConfigError::Substitution { .. }), "{err:?}");
    assert_eq!(err.key(), Some("server.host"));

    // a substituted value that is still wrong reports the key
    let err = Config::from_toml_str_with_env("[server]\nport = \"${P}\"\n", "inline", |_| {
        Some("abc".to_string())
    })
    .expect_err("bad port");
    assert_eq!(err.key(), Some("server.port"));
    assert!(err.to_string().starts_with("inline:"), "{err}");
}

#[test]
fn durations_and_sizes() {
    let c = load("[server]\ntimeout = \"250ms\"\nbody_limit = 1024\n").expect("ok");
    assert_eq!(c.server.timeout, Duration::from_millis(250));
    assert_eq!(c.server.body_limit, ByteSize(1024));
    let c = load("[server]\ntimeout = \"1h 30m\"\nbody_limit = \"4.5MB\"\n").expect("ok");
    assert_eq!(c.server.timeout, Duration::from_secs(5400));
    assert_eq!(c.server.body_limit.as_u64(), 4_718_592);
    let c = load("[server]\nbody_limit = \"2 GiB\"\n").expect("ok");
    assert_eq!(c.server.body_limit.as_u64(), 2 << 30);

    for (text, key) in [
        ("[server]\ntimeout = 30\n", "server.timeout"),
        ("[server]\ntimeout = \"soon\"\n", "server.timeout"),
        ("[server]\ntimeout = \"0s\"\n", "server.timeout"),
        (
            "[server]\nbody_limit = \"4.5 parsecs\"\n",
            "server.body_limit",
        ),
        ("[server]\nbody_limit = -1\n", "server.body_limit"),
        ("[server]\nbody_limit = 0\n", "server.body_limit"),
        ("[auth.jwt]\nleeway = \"forever\"\n", "auth.jwt.leeway"),
    ] {
        let err = load_err(text);
        assert_eq!(err.key(), Some(key), "{text:?}: {err}");
    }
}

#[test]
fn server_validation() {
    for (text, key) in [
        ("[server]\nport = 0\n", "server.port"),
        ("[server]\nhost = \"\"\n", "server.host"),
        ("[server]\napi_prefix = \"api\"\n", "server.api_prefix"),
        ("[server]\napi_prefix = \"/api/\"\n", "server.api_prefix"),
        ("[server]\napi_prefix = \"/\"\n", "server.api_prefix"),
        (
            "[server.cors]\norigin = \"https://a.example/\"\n",
            "server.cors.origin[0]",
        ),
        (
            "[server.cors]\norigin = [\"*\", \"https://a.example\"]\n",
            "server.cors.origin",
        ),
        (
            "[server.cors]\nmethods = [\"FETCH\"]\n",
            "server.cors.methods",
        ),
        (
            "[server.cors]\nallow_headers = [\"bad header\"]\n",
            "server.cors.allow_headers",
        ),
        (
            "[server.tls]\ncert = \"missing.pem\"\nkey = \"k.pem\"\n",
            "server.tls.cert",
        ),
        ("[server.tls]\ncert = \"a.pem\"\n", "server.tls"),
        (
            "[auth]\nprovider = \"none\"\n[auth.jwt]\nsecret = \"x\"\n",
            "auth.jwt",
        ),
        ("[auth.jwt]\nsecret = \"\"\n", "auth.jwt.secret"),
        (
            "[auth.jwt]\npublic_key = \"nope.pem\"\n",
            "auth.jwt.public_key",
        ),
        (
            "[[agents]]\nid = \"a\"\ninstructions = \"i\"\n[[agents]]\nid = \"a\"\ninstructions = \"j\"\n",
            "agents[1].id",
        ),
        (
            "[[agents]]\nid = \"a/b\"\ninstructions = \"i\"\n",
            "agents[0].id",
        ),
    ] {
        let err = load_err(text);
        assert_eq!(err.key(), Some(key), "{text:?}: {err}");
    }
    let err = load_err("[server.tls]\ncert = \"missing.pem\"\nkey = \"k.pem\"\n");
    assert!(
        err.to_string().contains("missing.pem"),
        "names the file: {err}"
    );

    let c = load("[server.cors]\norigin = \"*\"\n").expect("star");
    assert_eq!(c.server.cors.origin, CorsOrigin::Any);
    let c = load("[server.cors]\norigin = \"https://a.example\"\n").expect("one");
    assert_eq!(
        c.server.cors.origin,
        CorsOrigin::List(vec!["https://a.example".into()])
    );
    let c = load("[auth]\nprovider = \"none\"\n").expect("none");
    assert_eq!(c.auth.provider, AuthProviderKind::None);
    let c = load(&format!("[auth.jwt]\npublic_key = '''\n{PEM_KEY}'''\n")).expect("inline pem");
    assert_eq!(
        c.auth.jwt.and_then(|j| j.public_key).as_deref(),
        Some(PEM_KEY)
    );
}

#[test]
fn api_routes_validation() {
    let route = |extra: &str| format!("[[api_routes]]\n{extra}\n");
    for (text, needle) in [
        (
            route("method = \"GET\"\npath = \"/api/x\"\njson = 1"),
            "API prefix",
        ),
        (
            route("method = \"GET\"\npath = \"/api\"\njson = 1"),
            "API prefix",
        ),
        (
            route("method = \"GET\"\npath = \"/API/x\"\njson = 1"),
            "API prefix",
        ),
        (
            route("method = \"GET\"\npath = \"x\"\njson = 1"),
            "start with",
        ),
        (
            route("method = \"GET\"\npath = \"/health\"\njson = 1"),
            "served by the server",
        ),
        (
            route("method = \"GET\"\npath = \"/a/:id\"\njson = 1"),
            "{name}",
        ),
        (
            route("method = \"GET\"\npath = \"/a/{id\"\njson = 1"),
            "template",
        ),
        (route("method = \"GET\"\npath = \"/a\""), "add `json"),
        (
            route("method = \"GET\"\npath = \"/a\"\njson = 1\nproxy = \"http://127.0.0.1:1\""),
            "exactly one",
        ),
        (
            route("method = \"GET\"\npath = \"/a\"\nproxy = \"http://127.0.0.1:1\"\nstatus = 201"),
            "`status`",
        ),
        (
            route("method = \"GET\"\npath = \"/a\"\nproxy = \"ftp://x\""),
            "http://",
        ),
        (
            route("method = \"GET\"\npath = \"/a\"\nproxy = \"not a url\""),
            "not a URL",
        ),
        (
            route("method = \"GET\"\npath = \"/a\"\njson = 1\nstatus = 42"),
            "status",
        ),
        (route("method = \"FETCH\"\npath = \"/a\"\njson = 1"), "ALL"),
        (
            format!(
                "{}{}",
                route("method = \"GET\"\npath = \"/a/{id}\"\njson = 1"),
                route("method = \"GET\"\npath = \"/a/{id}\"\njson = 2")
            ),
            "duplicates",
        ),
        (
            format!(
                "{}{}",
                route("method = \"GET\"\npath = \"/a/{id}\"\njson = 1"),
                route("method = \"POST\"\npath = \"/a/{other}\"\njson = 2")
            ),
            "template",
        ),
    ] {
        let err = load_err(&text);
        let msg = err.to_string();
        assert!(msg.contains(needle), "{text:?}: {msg}");
        assert!(
            err.key().is_some_and(|k| k.starts_with("api_routes[")),
            "{text:?}: {:?}",
            err.key()
        );
    }

    // allowed: same path, different methods; ALL next to a specific method; another prefix
    let ok = format!(
        "[server]\napi_prefix = \"/v1\"\n{}{}{}",
        route("method = \"GET\"\npath = \"/api/x/{id}\"\njson = 1"),
        route("method = \"post\"\npath = \"/api/x/{id}\"\njson = 2"),
        route("method = \"ALL\"\npath = \"/api/x/{id}\"\njson = 3"),
    );
    let c = load(&ok).expect("valid routes");
    assert_eq!(c.api_routes[1].method, MethodOrAll::Method(Method::POST));
}

#[test]
fn debug_redacts_secrets() {
    let c = Config::from_toml_str_with_env(
        "[auth.jwt]\nsecret = \"super-secret-value\"\n[[api_routes]]\nmethod = \"GET\"\npath = \"/p\"\nproxy = \"http://user:hunter2@127.0.0.1:9\"\n",
        "inline",
        no_env,
    )
    .expect("valid");
    let debug = format!("{c:?}");
    assert!(!debug.contains("super-secret-value"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");
    let pretty = format!("{c:#?}");
    assert!(!pretty.contains("super-secret-value"));
    assert_eq!(format!("{:?}", Secret::new("x")), "<redacted>");
}

#[test]
fn fill_from_env() {
    let env = |name: &str| match name {
        "MASTRA_JWT_SECRET" => Some("from-mastra".to_string()),
        "JWT_AUTH_SECRET" => Some("from-jwt-auth".to_string()),
        _ => None,
    };
    let mut c = Config::default();
    c.fill_from_env(env);
    assert_eq!(
        c.auth
            .jwt
            .as_ref()
            .and_then(|j| j.secret.as_ref())
            .map(Secret::expose),
        Some("from-mastra")
    );

    let mut c = Config::default();
    c.fill_from_env(|n: &str| (n == "JWT_AUTH_SECRET").then(|| "fallback".to_string()));
    assert_eq!(
        c.auth
            .jwt
            .as_ref()
            .and_then(|j| j.secret.as_ref())
            .map(Secret::expose),
        Some("fallback")
    );

    let mut c = load("[auth.jwt]\nsecret = \"from-file\"\n").expect("ok");
    c.fill_from_env(env);
    assert_eq!(
        c.auth
            .jwt
            .as_ref()
            .and_then(|j| j.secret.as_ref())
            .map(Secret::expose),
        Some("from-file"),
        "the file wins"
    );

    let mut c = load("[auth.jwt]\nissuer = \"i\"\n").expect("ok");
    c.fill_from_env(env);
    let jwt = c.auth.jwt.expect("jwt");
    assert_eq!(jwt.secret.as_ref().map(Secret::expose), Some("from-mastra"));
    assert_eq!(jwt.issuer.as_deref(), Some("i"), "other fields kept");

    let mut c = Config::default();
    c.fill_from_env(no_env);
    assert!(c.auth.jwt.is_none(), "nothing to fill");

    let mut c = load("[auth]\nprovider = \"none\"\n").expect("ok");
    c.fill_from_env(env);
    assert!(c.auth.jwt.is_none(), "only for provider jwt");
}

#[test]
fn from_toml_str_uses_origin_name() {
    let err = Config::from_toml_str("[server]\nport = 0\n", "my-config").expect_err("port 0");
    assert!(err.to_string().starts_with("my-config:"), "{err}");
}
