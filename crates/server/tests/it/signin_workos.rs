//! Browser sign-in with WorkOS AuthKit against a local fake speaking its wire format
//! (`support::workos_fake`): the same production code as against `api.workos.com`, only
//! `api_base` differs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::Digest as _;

use crate::support::browser::{Browser, json_of, location, query, set_cookie};
use crate::support::workos_fake::{self, ORG_ID, SESSION_ID, USER_ID, WorkosFake};

const CLIENT_ID: &str = "client_01FAKE";
const API_KEY: &str = "sk_test_fake_0123456789";
const SESSION: &str = "mastra_session";

async fn start(access_ttl: u64) -> (String, WorkosFake) {
    let fake = workos_fake::start(CLIENT_ID, API_KEY, access_ttl).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    // `redirect_uri` in [auth.workos] (WORKOS_REDIRECT_URI) turns sign-in on, as documented.
    let toml = format!(
        r#"
[auth]
provider = "workos"
[auth.workos]
api_key = "{API_KEY}"
client_id = "{CLIENT_ID}"
redirect_uri = "{base}/api/auth/sso/callback"
api_base = "{api}"
allow_insecure_http = true
[auth.session]
secrets = ["workos-e2e-session-secret-0123456789abcdef"]
"#,
        api = fake.base,
    );
    let cfg = mastra_server::config::Config::from_toml_str(&toml, "test.toml").expect("config");
    let router = mastra_server::app::build(&cfg).expect("app");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    (base, fake)
}

/// Login, the fake's hosted page, callback; returns the authorize URL.
async fn sign_in(base: &str, browser: &Browser) -> String {
    let res = browser
        .get(&format!("{base}/api/auth/sso/login?redirect_to=/ui/"))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let authorize = location(base, &res);
    let res = browser.get(&authorize).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the fake's authorize page"
    );
    let callback = location(&authorize, &res);
    assert!(
        callback.starts_with(&format!("{base}/api/auth/sso/callback?")),
        "{callback}"
    );
    let res = browser.get(&callback).await;
    if res.status() != StatusCode::FOUND {
        let (status, body) = json_of(res).await;
        panic!("callback answered {status}: {body}");
    }
    assert!(set_cookie(&res, SESSION).is_some());
    assert_eq!(location(base, &res), format!("{base}/ui/"));
    authorize
}

#[tokio::test]
async fn authkit_sign_in_refresh_logout() {
    let (base, fake) = start(300).await;
    let browser = Browser::default();
    let authorize = sign_in(&base, &browser).await;

    // The authorize redirect carries WorkOS's documented parameters.
    assert!(
        authorize.starts_with(&format!("{}/user_management/authorize?", fake.base)),
        "{authorize}"
    );
    let q = query(&authorize);
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], format!("{base}/api/auth/sso/callback"));
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["provider"], "authkit");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(!authorize.contains(API_KEY));

    // The authenticate body: client id, API key as client secret, the code and the verifier
    // whose S256 is the challenge sent.
    let bodies = fake.authenticate_bodies();
    assert_eq!(bodies.len(), 1);
    let b = &bodies[0];
    assert_eq!(b["grant_type"], "authorization_code");
    assert_eq!(b["client_id"], CLIENT_ID);
    assert_eq!(b["client_secret"], API_KEY);
    assert!(b["code"].as_str().is_some_and(|c| c.starts_with("code_")));
    let verifier = b["code_verifier"].as_str().expect("code_verifier");
    assert_eq!(
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes())),
        q["code_challenge"]
    );

    // The session: /me from the WorkOS user, the agents API with the cookie.
    let (status, me) = json_of(browser.get(&format!("{base}/api/auth/me")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        me,
        json!({"id": USER_ID, "email": "ada@example.test", "name": "Ada Lovelace",
               "avatarUrl": "https://example.test/ada.png"})
    );
    assert_eq!(
        browser.get(&format!("{base}/api/agents")).await.status(),
        StatusCode::OK
    );
    let res = browser
        .send(
            Method::POST,
            &format!("{base}/api/agents/weatherAgent/generate"),
            &[("origin", &base)],
            None,
            Some(&json!({"messages": "hi"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Refresh: the refresh_token grant for the session's organization.
    let res = browser
        .send(
            Method::POST,
            &format!("{base}/api/auth/refresh"),
            &[("origin", &base)],
            None,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let bodies = fake.authenticate_bodies();
    assert_eq!(bodies.len(), 2);
    let r = &bodies[1];
    assert_eq!(r["grant_type"], "refresh_token");
    assert_eq!(r["client_id"], CLIENT_ID);
    assert_eq!(r["client_secret"], API_KEY);
    assert_eq!(r["organization_id"], ORG_ID);
    assert!(
        r["refresh_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("rt_"))
    );
    assert_eq!(
        browser.get(&format!("{base}/api/auth/me")).await.status(),
        StatusCode::OK
    );

    // Logout: WorkOS's sessions/logout URL for the session id in the access token.
    let res = browser
        .send(
            Method::POST,
            &format!("{base}/api/auth/logout"),
            &[("origin", &base)],
            None,
            None,
        )
        .await;
    let (status, out) = json_of(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        out,
        json!({"success": true,
               "redirectTo": format!("{}/user_management/sessions/logout?session_id={SESSION_ID}", fake.base)})
    );
    assert_eq!(browser.cookie(&base, SESSION), None);
    assert_eq!(
        browser.get(&format!("{base}/api/auth/me")).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn authkit_access_token_refreshed_once_for_concurrent_requests() {
    // Access tokens of 5 s: within the refresh margin from the start.
    let (base, fake) = start(5).await;
    let browser = Browser::default();
    sign_in(&base, &browser).await;
    let stale = browser.cookie(&base, SESSION).expect("session");
    assert_eq!(fake.authenticate_bodies().len(), 1);

    // Three requests at once with the same cookie, as a page fires them: WorkOS rotates refresh
    // tokens, so only one refresh may reach it, and all three requests pass.
    let tabs: Vec<Browser> = (0..3)
        .map(|_| {
            let b = Browser::default();
            b.set_cookie(&base, SESSION, Some(&stale));
            b
        })
        .collect();
    let url = format!("{base}/api/agents");
    let answers = futures::future::join_all(tabs.iter().map(|b| b.get(&url))).await;
    for res in &answers {
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            set_cookie(res, SESSION).is_some(),
            "refreshed cookie expected"
        );
    }
    let bodies = fake.authenticate_bodies();
    assert_eq!(bodies.len(), 2, "one refresh for the three requests");
    assert_eq!(bodies[1]["grant_type"], "refresh_token");
    for b in &tabs {
        let (status, me) = json_of(b.get(&format!("{base}/api/auth/me")).await).await;
        assert_eq!((status, me["id"].clone()), (StatusCode::OK, json!(USER_ID)));
    }
}
