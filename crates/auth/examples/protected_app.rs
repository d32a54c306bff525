//! A plain axum app protected by the mastra-auth layer.
//!
//! ```text
//! MASTRA_JWT_SECRET=$(openssl rand -hex 32) cargo run -p mastra-auth --example protected_app
//! curl -i http://127.0.0.1:3000/api/hello                      # 401
//! curl -i -H "Authorization: Bearer $(mastra token sign --secret $MASTRA_JWT_SECRET --sub me)" \
//!      http://127.0.0.1:3000/api/hello                         # 200 {"hello":"me"}
//! ```

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use mastra_auth::pattern::RoutePattern;
use mastra_auth::providers::{JwtProvider, JwtProviderConfig};
use mastra_auth::{Auth, AuthUser, AuthzRequest, NormalizeLayer};
use serde_json::json;
use tower::Layer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("MASTRA_JWT_SECRET")
        .map_err(|_| "set MASTRA_JWT_SECRET to a secret of at least 32 bytes")?;
    let provider = JwtProvider::new(JwtProviderConfig::with_secret(secret))?;

    let auth = Auth::mastra_defaults(Arc::new(provider))
        // `/api/*` is protected by default; make one route public.
        .public(RoutePattern::with_methods("/api/status", &["GET"])?)
        // Only GET for users without an `admin` role claim.
        .authorize(|req: &AuthzRequest<'_>| {
            req.method == http::Method::GET
                || req.user.claim("role").and_then(|r| r.as_str()) == Some("admin")
        })
        .build();

    let app = Router::new()
        .route(
            "/api/status",
            get(|| async { axum::Json(json!({"ok": true})) }),
        )
        .route(
            "/api/hello",
            get(|AuthUser(user): AuthUser| async move { axum::Json(json!({"hello": user.id})) }),
        )
        .layer(auth.layer());
    // In front of the router: it routes the same normalized path the auth layer decides on
    // (`/api/%68ello` is `/api/hello`; `..`, `%2F` and the like are 400).
    let app = NormalizeLayer.layer(app);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        axum::ServiceExt::<axum::extract::Request>::into_make_service(app),
    )
    .await?;
    Ok(())
}
