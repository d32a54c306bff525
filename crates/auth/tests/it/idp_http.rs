//! The identity-provider HTTP client against a local server: limits, statuses, redirects.

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use mastra_auth::idp_http::{IdpClient, IdpClientConfig, IdpError};
use reqwest::Method;
use serde_json::{Value, json};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn client(timeout: Duration, max_body: usize) -> IdpClient {
    IdpClient::new(IdpClientConfig {
        allow_insecure_http: true,
        timeout,
        max_body,
        ..Default::default()
    })
}

fn app() -> Router {
    Router::new()
        .route("/ok", get(|| async { axum::Json(json!({"keys": []})) }))
        .route("/big", get(|| async { "x".repeat(10_000) }))
        .route("/html", get(|| async { "<html>oops</html>" }))
        .route(
            "/500",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "down") }),
        )
        .route(
            "/redirect",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [("location", "https://evil.example/jwks")],
                )
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
}

#[tokio::test]
async fn json_ok() {
    let base = serve(app()).await;
    let c = client(Duration::from_secs(2), 1024);
    let url = c.url(&format!("{base}/ok")).unwrap();
    let v: Value = c.get_json(&url, &[]).await.unwrap();
    assert_eq!(v, json!({"keys": []}));
}

#[tokio::test]
async fn failures_are_typed() {
    let base = serve(app()).await;
    let c = client(Duration::from_millis(300), 1024);
    let get = |p: &str| {
        let c = c.clone();
        let url = c.url(&format!("{base}{p}")).unwrap();
        async move { c.send(Method::GET, &url, &[], None).await }
    };
    assert!(matches!(
        get("/big").await.unwrap_err(),
        IdpError::TooLarge { .. }
    ));
    assert!(matches!(
        get("/500").await.unwrap_err(),
        IdpError::Status { status: 500, .. }
    ));
    assert!(matches!(
        get("/redirect").await.unwrap_err(),
        IdpError::Status { status: 302, .. }
    ));
    assert!(matches!(
        get("/slow").await.unwrap_err(),
        IdpError::Timeout { .. }
    ));
    let url = c.url(&format!("{base}/html")).unwrap();
    assert!(matches!(
        c.get_json::<Value>(&url, &[]).await.unwrap_err(),
        IdpError::Decode { .. }
    ));
    // Connection refused.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    let url = c.url(&format!("http://{addr}/x")).unwrap();
    assert!(matches!(
        c.send(Method::GET, &url, &[], None).await.unwrap_err(),
        IdpError::Transport { .. }
    ));
}

#[tokio::test]
async fn errors_never_show_query_strings() {
    let base = serve(app()).await;
    let c = client(Duration::from_secs(2), 1024);
    let url = c.url(&format!("{base}/500?access_token=SECRET")).unwrap();
    let err = c.send(Method::GET, &url, &[], None).await.unwrap_err();
    assert!(!err.to_string().contains("SECRET"), "{err}");
}
