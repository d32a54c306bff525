//! The embeddable server (`ServerBuilder`, `ApiRoute`): routes and middleware of the user's own
//! behind the same auth pipeline, CORS, limits, normalization and OpenAPI document as the
//! built-in routes, over real HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::MethodRouter;
use http::{HeaderValue, Method};
use mastra_auth::pattern::MethodSet;
use mastra_auth::{AuthUser, User};
use mastra_core::Registry;
use mastra_server::config::{Config, RouteError};
use mastra_server::{ApiRoute, BuildError, ServerBuilder};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::raw_http::send;
use crate::support::{self, PROCESS_SIGNALS, client, serve_with_connect_info};

const SECRET: &str = "embed-secret-0123456789abcdef0123456789abcdef";

fn token(sub: &str) -> String {
    support::hs256_token(SECRET.as_bytes(), &json!({"sub": sub}))
}

/// A config with the jwt provider, `extra` appended (top-level keys go after `[server]`).
fn config(server: &str, extra: &str) -> Config {
    let text = format!(
        r#"
[server]
request_logs = false
openapi = true
{server}
[auth]
provider = "jwt"
[auth.jwt]
secret = "{SECRET}"
{extra}
"#
    );
    Config::from_toml_str(&text, "embed.toml").expect("config")
}

/// `GET /billing/{id}`: protected, answers the id and the verified user.
fn billing() -> ApiRoute {
    ApiRoute::get(
        "/billing/{id}",
        |AuthUser(user): AuthUser, Path(id): Path<String>| async move {
            axum::Json(json!({"invoice": id, "owner": user.id}))
        },
    )
    .summary("An invoice")
    .description("The caller's invoice")
}

/// `GET /status`: public.
fn status() -> ApiRoute {
    ApiRoute::get("/status", |user: Option<AuthUser>| async move {
        axum::Json(json!({"ok": true, "user": user.map(|AuthUser(u)| u.id)}))
    })
    .requires_auth(false)
}

async fn start(builder: ServerBuilder) -> (String, SocketAddr) {
    let router = builder.into_router().expect("build");
    let addr = serve_with_connect_info(router).await;
    (format!("http://{addr}"), addr)
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Middleware setting the header named by its state on every answer it sees, and `x-user` to
/// the verified user's id (`-` without one).
async fn tag(State(name): State<&'static str>, req: Request, next: Next) -> Response {
    let user = req
        .extensions()
        .get::<User>()
        .map_or_else(|| "-".to_string(), |u| u.id.clone());
    let mut res = next.run(req).await;
    res.headers_mut()
        .insert(name, HeaderValue::from_static("1"));
    if let Ok(v) = HeaderValue::from_str(&user) {
        res.headers_mut().insert("x-user", v);
    }
    res
}

#[tokio::test]
async fn protected_and_public_user_routes() {
    let (base, _) = start(
        ServerBuilder::new(config("", ""))
            .route(billing())
            .route(status()),
    )
    .await;
    let c = client();

    let res = c.get(format!("{base}/billing/42")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&res, "www-authenticate"), Some("Bearer"));
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Authentication required"})
    );

    let res = c
        .get(format!("{base}/billing/42"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let res = c
        .get(format!("{base}/billing/42"))
        .bearer_auth(token("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"invoice": "42", "owner": "alice"})
    );

    let res = c.get(format!("{base}/status")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"ok": true, "user": null})
    );

    // the built-in routes are still there, behind the same auth
    let res = c.get(format!("{base}/api/agents")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = c
        .get(format!("{base}/api/agents"))
        .bearer_auth(token("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = c.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn requires_auth_overrides_the_configured_patterns() {
    let text = format!(
        "[server]\nrequest_logs = false\n[auth]\nprovider = \"jwt\"\npublic = [\"/open/*\"]\n\
         protected = [\"/internal/*\"]\n[auth.jwt]\nsecret = \"{SECRET}\"\n"
    );
    let cfg = Config::from_toml_str(&text, "embed.toml").expect("config");
    let (base, _) = start(
        ServerBuilder::new(cfg)
            .route(ApiRoute::get("/open/x", || async { "open" }))
            .route(ApiRoute::get("/internal/y", || async { "internal" }).requires_auth(false)),
    )
    .await;
    let c = client();
    // a public pattern does not open a route that requires auth
    let res = c.get(format!("{base}/open/x")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // a protected pattern does not close a route that says it is public
    let res = c.get(format!("{base}/internal/y")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "internal");
}

#[tokio::test]
async fn per_route_middleware_runs_on_its_route_only() {
    let (base, _) = start(
        ServerBuilder::new(config("", ""))
            .route(billing().layer(middleware::from_fn_with_state("x-route-mw", tag)))
            .route(status())
            .route(ApiRoute::post("/billing/{id}", || async { "posted" }).requires_auth(false)),
    )
    .await;
    let c = client();
    let res = c
        .get(format!("{base}/billing/7"))
        .bearer_auth(token("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "x-route-mw"), Some("1"));
    // it runs after auth: it sees the user
    assert_eq!(header(&res, "x-user"), Some("bob"));

    // not on the route refused by auth before it
    let res = c.get(format!("{base}/billing/7")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&res, "x-route-mw"), None);

    // not on another method of the same template, another route, a built-in route, a 404
    let res = c.post(format!("{base}/billing/7")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("x-route-mw"), None);
    for path in ["/status", "/health", "/nowhere"] {
        let res = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(header(&res, "x-route-mw"), None, "{path}");
    }
}

#[tokio::test]
async fn app_wide_middleware_runs_on_every_route_after_auth() {
    let (base, _) = start(
        ServerBuilder::new(config(
            "",
            "[[api_routes]]\nmethod = \"GET\"\npath = \"/cfg\"\nrequires_auth = false\njson = 1\n",
        ))
        .route(billing())
        .route(status())
        .layer(middleware::from_fn_with_state("x-app-mw", tag)),
    )
    .await;
    let c = client();
    let alice = token("alice");
    for (path, bearer, status_code, user) in [
        ("/billing/1", Some(&alice), 200, "alice"),
        ("/status", None, 200, "-"),
        ("/status", Some(&alice), 200, "-"),
        ("/api/agents", Some(&alice), 200, "alice"),
        ("/api", None, 200, "-"),
        ("/health", None, 200, "-"),
        ("/cfg", None, 200, "-"),
        ("/nowhere", None, 404, "-"),
    ] {
        let mut req = c.get(format!("{base}{path}"));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), status_code, "{path}");
        assert_eq!(header(&res, "x-app-mw"), Some("1"), "{path}");
        assert_eq!(header(&res, "x-user"), Some(user), "{path}");
    }
    // the answer of the auth layer does not go through it (it runs inside auth)
    let res = c.get(format!("{base}/billing/1")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&res, "x-app-mw"), None);
}

#[tokio::test]
async fn layers_nest_in_the_order_added() {
    let order = |name: &'static str| {
        middleware::from_fn(move |req: Request, next: Next| async move {
            let mut res = next.run(req).await;
            let before = res
                .headers()
                .get("x-order")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let value = HeaderValue::from_str(&format!("{before}{name}")).expect("header");
            res.headers_mut().insert("x-order", value);
            res
        })
    };
    let (base, _) = start(
        ServerBuilder::new(config("", ""))
            .route(status().layer(order("r1")).layer(order("r2")))
            .layer(order("a1"))
            .layer(order("a2")),
    )
    .await;
    let res = client().get(format!("{base}/status")).send().await.unwrap();
    // answers pass the innermost layer first
    assert_eq!(header(&res, "x-order"), Some("r1r2a1a2"));
}

#[tokio::test]
async fn cors_body_limit_and_timeout_apply_to_user_routes() {
    let cfg = config(
        "body_limit = \"1KB\"\ntimeout = \"300ms\"\n[server.cors]\norigin = [\"https://app.example\"]\n",
        "",
    );
    let (base, _) = start(
        ServerBuilder::new(cfg)
            .route(billing())
            .route(
                ApiRoute::post(
                    "/upload",
                    |body: String| async move { body.len().to_string() },
                )
                .requires_auth(false),
            )
            .route(
                ApiRoute::get("/slow", || async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                })
                .requires_auth(false),
            ),
    )
    .await;
    let c = client();

    // a preflight of the protected route is answered before auth
    let res = c
        .request(Method::OPTIONS, format!("{base}/billing/1"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        Some("https://app.example")
    );
    // and its answers, 401 included, carry the CORS headers
    let res = c
        .get(format!("{base}/billing/1"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        Some("https://app.example")
    );

    let res = c
        .post(format!("{base}/upload"))
        .body("x".repeat(512))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "512");
    let res = c
        .post(format!("{base}/upload"))
        .body("x".repeat(4096))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Request body too large"})
    );
    // a chunked body over the limit, cut while the handler reads it
    let chunks = futures::stream::iter(
        (0..8).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; 512]))),
    );
    let res = c
        .post(format!("{base}/upload"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let res = tokio::time::timeout(Duration::from_secs(4), c.get(format!("{base}/slow")).send())
        .await
        .expect("answered before the handler finished")
        .unwrap();
    assert_eq!(res.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Request timed out"})
    );
}

/// `GET target` written byte for byte (a client library would resolve the dot segments).
async fn raw_get(addr: SocketAddr, target: &str, bearer: Option<&str>) -> support::raw_http::Raw {
    let auth = bearer.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\r\n");
    send(addr, request).await
}

#[tokio::test]
async fn user_routes_see_the_normalized_path() {
    let (_, addr) = start(
        ServerBuilder::new(config("", ""))
            .route(billing())
            .route(status()),
    )
    .await;
    let alice = token("alice");
    // `/%62illing/%34%32` is `/billing/42`: routed and authorized as it
    let r = raw_get(addr, "/%62illing/%34%32", None).await;
    assert_eq!(r.status, 401, "{r:?}");
    let r = raw_get(addr, "/%62illing/%34%32", Some(&alice)).await;
    assert_eq!(r.status, 200, "{r:?}");
    let body: Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(body, json!({"invoice": "42", "owner": "alice"}));
    // a decoded segment reaches the handler decoded once
    let r = raw_get(addr, "/billing/a%20b", Some(&alice)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains(r#""invoice":"a b""#), "{r:?}");
    // dot segments and encoded slashes never reach routing or auth, from a public route or not
    for target in [
        "/status/../billing/42",
        "/status/%2e%2e/billing/42",
        "/billing/..",
        "/billing/a%2Fb",
        "/status/..%2Fbilling%2F42",
    ] {
        let r = raw_get(addr, target, None).await;
        assert_eq!(r.status, 400, "{target}: {r:?}");
        assert!(r.body.contains("Invalid request path"), "{target}: {r:?}");
    }
}

#[tokio::test]
async fn openapi_lists_user_and_config_routes_with_their_security() {
    let cfg = config(
        "",
        "[[api_routes]]\nmethod = \"GET\"\npath = \"/cfg/{name}\"\nrequires_auth = false\n\
         json = { ok = true }\nstatus = 201\n\
         [[api_routes]]\nmethod = \"ALL\"\npath = \"/proxied/{*rest}\"\nproxy = \"http://127.0.0.1:9\"\n",
    );
    let (base, _) = start(
        ServerBuilder::new(cfg)
            .route(billing())
            .route(status().openapi(json!({"summary": "Status", "tags": ["ops"]})))
            .route(
                ApiRoute::delete("/billing/{id}", || async { "deleted" }).openapi(json!({
                    "summary": "Delete an invoice",
                    "security": [],
                    "responses": {"204": {"description": "Deleted"}}
                })),
            )
            .route(ApiRoute::any("/files/{*path}", || async { "file" }).requires_auth(false)),
    )
    .await;
    let doc: Value = client()
        .get(format!("{base}/api/openapi.json"))
        .bearer_auth(token("alice"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = &doc["paths"];
    let protected = json!([{"bearerAuth": []}]);

    let get = &paths["/billing/{id}"]["get"];
    assert_eq!(get["summary"], "An invoice");
    assert_eq!(get["description"], "The caller's invoice");
    assert_eq!(get["security"], protected);
    assert_eq!(get["tags"], json!(["custom"]));
    assert_eq!(
        get["parameters"],
        json!([{"name": "id", "in": "path", "required": true,
                "description": "Path segment", "schema": {"type": "string"}}])
    );
    assert_eq!(
        get["responses"]["401"],
        json!({"$ref": "#/components/responses/Unauthorized"})
    );
    // the route's own `security` cannot say it is public when it is not
    let delete = &paths["/billing/{id}"]["delete"];
    assert_eq!(delete["summary"], "Delete an invoice");
    assert_eq!(delete["security"], protected);
    assert_eq!(delete["responses"]["204"]["description"], "Deleted");

    let status = &paths["/status"]["get"];
    assert_eq!(status["summary"], "Status");
    assert_eq!(status["security"], json!([]));
    assert_eq!(status["tags"], json!(["ops"]));
    assert!(status["responses"].get("401").is_none());

    // `{*path}` is listed as OpenAPI's `{path}`, under every method for an `ALL` route
    let files = &paths["/files/{path}"];
    for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
        assert_eq!(files[method]["security"], json!([]), "{method}");
    }
    assert!(files.get("trace").is_none());

    // the config's custom routes, without the proxy's upstream
    let cfg_route = &paths["/cfg/{name}"]["get"];
    assert_eq!(cfg_route["security"], json!([]));
    assert_eq!(
        cfg_route["responses"]["201"]["content"]["application/json"]["example"],
        json!({"ok": true})
    );
    assert_eq!(paths["/proxied/{rest}"]["post"]["security"], protected);
    assert!(!doc.to_string().contains("127.0.0.1:9"));

    assert!(
        doc["tags"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "custom"}))
    );
    // the built-in operations are unchanged
    assert_eq!(paths["/api/agents"]["get"]["operationId"], "listAgents");
    assert_eq!(paths["/health"]["get"]["security"], json!([]));
}

#[tokio::test]
async fn without_custom_routes_the_document_is_unchanged() {
    use mastra_server::http::openapi;
    let built = openapi::document_with("/api", &[]);
    assert_eq!(built, openapi::document("/api"));
    assert_eq!(
        built["tags"],
        json!([{"name": "system"}, {"name": "agents"}, {"name": "tools"}, {"name": "memory"}, {"name": "auth"}])
    );
}

/// A builder and what its `build()` must fail with.
type Case = (ServerBuilder, fn(&RouteError) -> bool);

fn route_error(builder: ServerBuilder) -> RouteError {
    match builder.build() {
        Err(BuildError::Route { reason, .. }) => *reason,
        other => panic!("expected BuildError::Route, got {other:?}"),
    }
}

#[tokio::test]
async fn colliding_or_invalid_routes_are_build_errors() {
    let ok = || async { "ok" };
    let base = || {
        ServerBuilder::new(config(
            "",
            "[[api_routes]]\nmethod = \"GET\"\npath = \"/cfg/{id}\"\njson = 1\n",
        ))
    };
    let cases: Vec<Case> = vec![
        (base().route(ApiRoute::get("/api/x", ok)), |e| {
            matches!(e, RouteError::UnderApiPrefix { .. })
        }),
        (base().route(ApiRoute::get("/API", ok)), |e| {
            matches!(e, RouteError::UnderApiPrefix { .. })
        }),
        (base().route(ApiRoute::get("/health", ok)), |e| {
            matches!(e, RouteError::Reserved { .. })
        }),
        (base().route(ApiRoute::get("/ui/app.js", ok)), |e| {
            matches!(e, RouteError::Reserved { .. })
        }),
        (base().route(ApiRoute::get("billing", ok)), |e| {
            matches!(e, RouteError::NoLeadingSlash { .. })
        }),
        (base().route(ApiRoute::get("", ok)), |e| {
            matches!(e, RouteError::NoLeadingSlash { .. })
        }),
        (base().route(ApiRoute::get("/a/:id", ok)), |e| {
            matches!(e, RouteError::OldSyntax { .. })
        }),
        (base().route(ApiRoute::get("/a/{id", ok)), |e| {
            matches!(e, RouteError::Template { .. })
        }),
        (base().route(ApiRoute::get("/a/{*rest}/b", ok)), |e| {
            matches!(e, RouteError::Template { .. })
        }),
        // the same method and template as a config route
        (
            base().route(ApiRoute::get("/cfg/{id}", ok)),
            |e| matches!(e, RouteError::Duplicate { first, .. } if first == "api_routes[0]"),
        ),
        // a conflicting template of a config route
        (base().route(ApiRoute::post("/cfg/{other}", ok)), |e| {
            matches!(e, RouteError::Template { .. })
        }),
        // two of the user's
        (
            base()
                .route(ApiRoute::get("/b/{id}", ok))
                .route(ApiRoute::get("/b/{id}", ok)),
            |e| matches!(e, RouteError::Duplicate { first, .. } if first == "route GET /b/{id}"),
        ),
        (
            base().route(ApiRoute::any("/b", ok)).route(ApiRoute::new(
                MethodSet::All,
                "/b",
                MethodRouter::new(),
            )),
            |e| matches!(e, RouteError::Duplicate { .. }),
        ),
        (
            base()
                .route(ApiRoute::get("/b/{id}", ok))
                .route(ApiRoute::new(
                    MethodSet::only([Method::POST, Method::GET]),
                    "/b/{id}",
                    axum::routing::get(ok),
                )),
            |e| matches!(e, RouteError::Duplicate { method, .. } if method == "GET"),
        ),
        (
            base()
                .route(ApiRoute::get("/c/{x}", ok))
                .route(ApiRoute::get("/c/{*rest}", ok)),
            |e| matches!(e, RouteError::Template { .. }),
        ),
        (
            base().route(ApiRoute::new(
                MethodSet::Only(Vec::new()),
                "/d",
                MethodRouter::new(),
            )),
            |e| matches!(e, RouteError::NoMethods),
        ),
        (
            base().route(ApiRoute::new(
                MethodSet::only([Method::from_bytes(b"PROPFIND").unwrap()]),
                "/d",
                MethodRouter::new(),
            )),
            |e| matches!(e, RouteError::Method { .. }),
        ),
        (
            base().route(ApiRoute::get("/e", ok).openapi(json!("x"))),
            |e| matches!(e, RouteError::Operation),
        ),
    ];
    for (i, (builder, expected)) in cases.into_iter().enumerate() {
        let err = route_error(builder);
        assert!(expected(&err), "case {i}: {err:?}");
        assert!(!err.to_string().is_empty());
    }

    // the message names the route and says what to do
    let err = base()
        .route(ApiRoute::get("/api/x", ok))
        .build()
        .expect_err("under the prefix");
    let msg = err.to_string();
    assert!(msg.starts_with("route GET /api/x: "), "{msg}");
    assert!(msg.contains("choose a path outside it"), "{msg}");

    // allowed: another method on a config route's template or the user's own, `ALL` next to a
    // method, a path that only looks like the prefix
    let (base_url, _) = start(
        base()
            .route(ApiRoute::post("/cfg/{id}", || async { "user post" }))
            .route(ApiRoute::get("/b/{id}", || async { "get" }).requires_auth(false))
            .route(ApiRoute::any("/b/{id}", || async { "any" }).requires_auth(false))
            .route(ApiRoute::get("/apix", || async { "apix" }).requires_auth(false)),
    )
    .await;
    let c = client();
    let alice = token("alice");
    let res = c
        .post(format!("{base_url}/cfg/1"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "user post");
    let res = c
        .get(format!("{base_url}/cfg/1"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "1");
    let res = c.get(format!("{base_url}/b/1")).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "get");
    let res = c.put(format!("{base_url}/b/1")).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "any");
    let res = c.get(format!("{base_url}/apix")).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "apix");
}

#[tokio::test]
async fn a_declared_method_set_is_what_the_route_answers() {
    // the service answers GET and POST, the route declares GET: POST never reaches it, so the
    // auth layer (which guards what is declared) and the router agree
    let service = axum::routing::get(|| async { "get" }).post(|| async { "post" });
    let (base, _) = start(ServerBuilder::new(config("", "")).route(
        ApiRoute::new(MethodSet::only([Method::GET]), "/svc", service).requires_auth(false),
    ))
    .await;
    let c = client();
    let res = c.get(format!("{base}/svc")).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "get");
    let res = c.post(format!("{base}/svc")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn one_auth_pipeline_knows_every_route() {
    let app = ServerBuilder::new(config(
        "",
        "[[api_routes]]\nmethod = \"GET\"\npath = \"/cfg\"\nrequires_auth = false\njson = 1\n",
    ))
    .route(billing())
    .route(status())
    .build()
    .expect("build");
    let auth = app.auth().expect("jwt provider").clone();
    let flags: Vec<(String, bool)> = auth
        .policy()
        .routes
        .iter()
        .map(|f| (f.template.clone(), f.requires_auth))
        .collect();
    assert_eq!(
        flags,
        vec![
            ("/cfg".to_string(), false),
            ("/billing/{id}".to_string(), true),
            ("/status".to_string(), false),
        ]
    );
    // the router runs that very pipeline: its layer holds clones of the same `Arc`
    let router = app.into_router();
    assert!(Arc::strong_count(&auth) >= 2);
    let addr = serve_with_connect_info(router).await;
    let base = format!("http://{addr}");
    let c = client();
    let alice = token("alice");
    // one token, accepted on a built-in route and then on a user route of the same pipeline
    for path in ["/api/agents", "/billing/1", "/api/tools", "/billing/2"] {
        let res = c
            .get(format!("{base}{path}"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    let res = c.get(format!("{base}/cfg")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn registry_override_replaces_the_configured_agents() {
    let (base, _) = start(ServerBuilder::new(config("", "")).registry(Registry::new())).await;
    let res = client()
        .get(format!("{base}/api/agents"))
        .bearer_auth(token("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({}));
}

#[tokio::test]
async fn bound_server_serves_user_routes_with_the_client_address() {
    // the SIGTERM test of `http_plumbing` would stop this `Server::run`
    let _signals = PROCESS_SIGNALS.lock().await;
    let mut cfg = config("", "");
    cfg.server.host = "127.0.0.1".into();
    // as `mastra serve --port 0` does: a free port, set after validation
    cfg.server.port = 0;
    let server = ServerBuilder::new(cfg)
        .route(billing())
        .route(
            ApiRoute::get(
                "/whoami",
                |ConnectInfo(addr): ConnectInfo<SocketAddr>| async move { addr.ip().to_string() },
            )
            .requires_auth(false),
        )
        .bind()
        .await
        .expect("bind");
    assert!(server.auth().is_some());
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.run());
    let c = client();
    let res = c.get(format!("http://{addr}/whoami")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "127.0.0.1");
    let res = c
        .get(format!("http://{addr}/billing/3"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
