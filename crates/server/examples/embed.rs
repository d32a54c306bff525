//! The server embedded in your own Rust program: the Mastra API of a config plus a protected
//! route, a public route and an app-wide middleware of your own, all behind the same auth,
//! CORS, limits, request normalization and request logs.
//!
//! ```text
//! export MASTRA_JWT_SECRET=$(openssl rand -hex 32)
//! cargo run -p mastra-server --example embed
//! curl -i http://127.0.0.1:4111/billing/42                  # 401
//! curl -i -H "Authorization: Bearer $(mastra token sign --sub me)" \
//!      http://127.0.0.1:4111/billing/42                     # 200 {"invoice":"42","owner":"me"}
//! curl -i http://127.0.0.1:4111/status                      # 200, public
//! ```
//!
//! The JWT secret is `MASTRA_JWT_SECRET` (or `JWT_AUTH_SECRET`) when set, else the development
//! secret of `mastra serve` and `mastra token sign`, `.mastra/dev-secret`.

use axum::Json;
use axum::extract::{Path, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use http::HeaderValue;
use mastra_auth::{AuthUser, User};
use mastra_server::config::{Config, JwtConfig, Secret};
use mastra_server::{ApiRoute, ServerBuilder};
use serde_json::{Value, json};

const CONFIG: &str = r#"
[server]
host = "127.0.0.1"
port = 4111
openapi = true              # GET /api/openapi.json lists /billing/{id} and /status too

[auth]
provider = "jwt"
"#;

/// Where `mastra serve` and `mastra token sign` keep the development secret.
const DEV_SECRET: &str = ".mastra/dev-secret";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::from_toml_str(CONFIG, "embed.toml")?;
    config.fill_from_env(|name| std::env::var(name).ok());
    if config.auth.jwt.is_none() {
        let secret = std::fs::read_to_string(DEV_SECRET).map_err(|e| {
            format!(
                "set MASTRA_JWT_SECRET, or run `mastra serve` once to create {DEV_SECRET} ({e})"
            )
        })?;
        config.auth.jwt = Some(JwtConfig {
            secret: Some(Secret::new(secret.trim())),
            ..JwtConfig::default()
        });
    }

    let server = ServerBuilder::new(config)
        // protected: `requires_auth` is true unless said otherwise, as in Mastra
        .route(
            ApiRoute::get("/billing/{id}", invoice)
                .summary("An invoice")
                .description("Answers for the authenticated caller only."),
        )
        .route(
            ApiRoute::get("/status", || async { Json(json!({"ok": true})) })
                .requires_auth(false)
                .summary("Liveness of the billing routes"),
        )
        // on every route, built-in and ours, after the auth layer
        .layer(middleware::from_fn(served_by))
        .bind()
        .await?;
    println!("listening on http://{}", server.local_addr()?);
    server.run().await?;
    Ok(())
}

/// `GET /billing/{id}`: the verified user comes from the auth layer.
async fn invoice(AuthUser(user): AuthUser, Path(id): Path<String>) -> Json<Value> {
    Json(json!({"invoice": id, "owner": user.id}))
}

/// Tags every answer, saying whether the caller was authenticated.
async fn served_by(req: Request, next: Next) -> Response {
    let authenticated = req.extensions().get::<User>().is_some();
    let mut res = next.run(req).await;
    res.headers_mut()
        .insert("x-served-by", HeaderValue::from_static("billing"));
    res.headers_mut().insert(
        "x-authenticated",
        HeaderValue::from_static(if authenticated { "yes" } else { "no" }),
    );
    res
}
