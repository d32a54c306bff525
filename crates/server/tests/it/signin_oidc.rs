//! Browser sign-in end to end against a real, certified OpenID provider (`oidc-provider` from
//! npm): authorization code with PKCE, callback, the sealed session cookie, `/api/auth/me`, an
//! agent call with the cookie, refresh and logout; and each refusal (state missing, wrong or
//! reused; wrong verifier; nonce mismatch; tampered or expired cookie; open redirect;
//! cross-site POST).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::browser::{Browser, json_of, location, query, set_cookie};
use crate::support::oidc_op::{self, Op};

const SESSION_SECRET: &str = "e2e-session-secret-0123456789abcdef0123456789";
const SESSION: &str = "mastra_session";
const STATE: &str = "mastra_sso_state";

/// The server (on a port chosen before the provider starts, which must know the callback URL)
/// and the provider.
struct Env {
    base: String,
    op: Op,
}

impl Env {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn callback(&self) -> String {
        self.url("/api/auth/sso/callback")
    }
}

async fn start(client_id: &str) -> Env {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let op = oidc_op::start(&[format!("{base}/api/auth/sso/callback")]).await;
    let toml = format!(
        r#"
[auth]
provider = "oidc"
[auth.oidc]
issuer = "{issuer}"
audience = "{resource}"
allow_insecure_http = true
[auth.session]
secrets = ["{SESSION_SECRET}"]
[auth.sso]
client_id = "{client_id}"
client_secret = "{secret}"
scopes = ["openid", "profile", "email", "offline_access", "api:read"]
audience = "{resource}"
post_logout_redirect = "{base}/ui/"
"#,
        issuer = op.issuer,
        resource = op.resource,
        secret = op.secret(client_id),
    );
    let cfg = mastra_server::config::Config::from_toml_str(&toml, "test.toml").expect("config");
    let router = mastra_server::app::build(&cfg).expect("app");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    Env { base, op }
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut u = reqwest::Url::parse(url).expect("url");
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == name {
                (k, value.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

/// `GET /api/auth/sso/login?redirect_to=...` in `browser`: the provider's authorize URL.
async fn start_login(env: &Env, browser: &Browser) -> String {
    let res = browser
        .get(&env.url("/api/auth/sso/login?redirect_to=/ui/"))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let state_cookie = set_cookie(&res, STATE).expect("state cookie").to_owned();
    assert!(state_cookie.contains("HttpOnly"), "{state_cookie}");
    assert!(state_cookie.contains("SameSite=Lax"), "{state_cookie}");
    assert!(
        state_cookie.contains("Path=/api/auth/sso"),
        "{state_cookie}"
    );
    location(&env.base, &res)
}

/// Signs in at the provider's development forms as `login` and returns the callback URL the
/// provider sends the browser to (not fetched).
async fn at_provider(env: &Env, browser: &Browser, authorize: &str, login: &str) -> String {
    let mut url = authorize.to_owned();
    for _ in 0..12 {
        if url.starts_with(&env.callback()) {
            return url;
        }
        let res = browser.get(&url).await;
        if res.status().is_redirection() {
            url = location(&url, &res);
            continue;
        }
        let status = res.status();
        let html = res.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "provider page {url}: {html}");
        let prompt = if html.contains(r#"name="prompt" value="login""#) {
            "login"
        } else if html.contains(r#"name="prompt" value="consent""#) {
            "consent"
        } else {
            panic!("unexpected provider page at {url}: {html}");
        };
        let form: Vec<(&str, &str)> = match prompt {
            "login" => vec![("prompt", "login"), ("login", login), ("password", "any")],
            _ => vec![("prompt", "consent")],
        };
        let res = browser
            .send(Method::POST, &url, &[], Some(&form), None)
            .await;
        assert!(
            res.status().is_redirection(),
            "submit {prompt}: {}",
            res.status()
        );
        url = location(&url, &res);
    }
    panic!("the provider never redirected to the callback (last {url})");
}

/// A full sign-in in `browser`; returns the callback's answer.
async fn sign_in(env: &Env, browser: &Browser, login: &str) -> reqwest::Response {
    let authorize = start_login(env, browser).await;
    let callback = at_provider(env, browser, &authorize, login).await;
    browser.get(&callback).await
}

#[tokio::test]
async fn sign_in_me_agents_refresh_logout() {
    let env = start("e2e-web").await;
    let browser = Browser::default();

    // Signed out: capabilities offer sign-in, /me is a 401.
    let (status, caps) = json_of(browser.get(&env.url("/api/auth/capabilities")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        caps,
        json!({"enabled": true, "login": {"type": "sso", "url": "/api/auth/sso/login"}})
    );
    assert_eq!(
        browser.get(&env.url("/api/auth/me")).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The authorize URL carries state, nonce and an S256 challenge.
    let authorize = start_login(&env, &browser).await;
    assert!(
        authorize.starts_with(&format!("{}/auth", env.op.issuer)),
        "{authorize}"
    );
    let q = query(&authorize);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "e2e-web");
    assert_eq!(q["redirect_uri"], env.callback());
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert!(q["state"].len() >= 43 && q["nonce"].len() >= 43);
    assert_ne!(q["state"], q["nonce"]);

    let callback = at_provider(&env, &browser, &authorize, "alice").await;
    let res = browser.get(&callback).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&env.base, &res), env.url("/ui/"));
    let session_cookie = set_cookie(&res, SESSION)
        .expect("session cookie")
        .to_owned();
    for attr in ["Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(session_cookie.contains(attr), "{session_cookie}");
    }
    // loopback: no `Secure`, so the browser keeps it over plain HTTP
    assert!(!session_cookie.contains("Secure"), "{session_cookie}");
    assert!(
        set_cookie(&res, STATE)
            .expect("state cleared")
            .contains("Max-Age=0")
    );
    let sealed = browser.cookie(&env.base, SESSION).expect("kept");
    assert!(sealed.len() <= mastra_session::MAX_SEALED_LEN);
    assert!(
        !sealed.contains("eyJ"),
        "the cookie must not carry a readable JWT"
    );

    // /me and capabilities know the user.
    let (status, me) = json_of(browser.get(&env.url("/api/auth/me")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["id"], "alice");
    assert_eq!(me["email"], "alice@example.test");
    assert_eq!(me["name"], "User alice");
    let (_, caps) = json_of(browser.get(&env.url("/api/auth/capabilities")).await).await;
    assert_eq!(caps["user"]["id"], "alice");
    assert_eq!(caps["capabilities"]["session"], true);

    // The cookie authenticates API calls: reads, and writes from the same origin.
    let res = browser.get(&env.url("/api/agents")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, agents) = json_of(res).await;
    assert!(agents.get("weatherAgent").is_some(), "{agents}");
    let generate = env.url("/api/agents/weatherAgent/generate");
    let body = json!({"messages": "hello"});
    let res = browser
        .send(
            Method::POST,
            &generate,
            &[("origin", &env.base)],
            None,
            Some(&body),
        )
        .await;
    let (status, out) = json_of(res).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(out["text"].is_string(), "{out}");

    // Cross-site writes carried by the cookie are refused; so are writes with no Origin.
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![],
        vec![("sec-fetch-site", "cross-site")],
    ] {
        let res = browser
            .send(Method::POST, &generate, &headers, None, Some(&body))
            .await;
        let (status, err) = json_of(res).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(err, json!({"error": "Cross-site request refused"}));
    }
    // Without Origin, a browser's same-origin fetch says so in Sec-Fetch-Site.
    let res = browser
        .send(
            Method::POST,
            &generate,
            &[("sec-fetch-site", "same-origin")],
            None,
            Some(&body),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Explicit refresh: a new sealed cookie that still works.
    let res = browser
        .send(
            Method::POST,
            &env.url("/api/auth/refresh"),
            &[("origin", &env.base)],
            None,
            None,
        )
        .await;
    assert!(set_cookie(&res, SESSION).is_some());
    let (status, out) = json_of(res).await;
    assert_eq!((status, out), (StatusCode::OK, json!({"success": true})));
    assert_ne!(browser.cookie(&env.base, SESSION).expect("kept"), sealed);
    assert_eq!(
        browser.get(&env.url("/api/agents")).await.status(),
        StatusCode::OK
    );

    // Logout: the provider's end-session URL, and the cookie cleared.
    let res = browser
        .send(
            Method::POST,
            &env.url("/api/auth/logout"),
            &[("origin", &env.base)],
            None,
            None,
        )
        .await;
    assert!(
        set_cookie(&res, SESSION)
            .expect("cleared")
            .contains("Max-Age=0")
    );
    let (status, out) = json_of(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out["success"], true);
    let redirect = out["redirectTo"].as_str().expect("redirectTo");
    assert!(
        redirect.starts_with(&format!("{}/session/end", env.op.issuer)),
        "{redirect}"
    );
    assert_eq!(query(redirect)["post_logout_redirect_uri"], env.url("/ui/"));
    assert_eq!(browser.cookie(&env.base, SESSION), None);
    assert_eq!(
        browser.get(&env.url("/api/auth/me")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser.get(&env.url("/api/agents")).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A JSON client gets the URL instead of a redirect, with the same state cookie.
    let fresh = Browser::default();
    let res = fresh
        .send(
            Method::GET,
            &env.url("/api/auth/sso/login?redirect_uri=/ui/"),
            &[("accept", "application/json")],
            None,
            None,
        )
        .await;
    assert!(set_cookie(&res, STATE).is_some());
    let (status, out) = json_of(res).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        out["url"]
            .as_str()
            .expect("url")
            .starts_with(&env.op.issuer)
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_transparently() {
    // `e2e-web-short` access tokens live 3 s: each request finds the token about to expire.
    let env = start("e2e-web-short").await;
    let browser = Browser::default();
    let res = sign_in(&env, &browser, "bob").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let first = browser.cookie(&env.base, SESSION).expect("session");
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let res = browser.get(&env.url("/api/agents")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        set_cookie(&res, SESSION).is_some(),
        "refreshed cookie expected"
    );
    let second = browser.cookie(&env.base, SESSION).expect("session");
    assert_ne!(first, second);
    let (status, me) = json_of(browser.get(&env.url("/api/auth/me")).await).await;
    assert_eq!((status, me["id"].clone()), (StatusCode::OK, json!("bob")));
}

#[tokio::test]
async fn refusals() {
    let env = start("e2e-web").await;

    // Missing state cookie: a callback in a browser that started no sign-in.
    let stranger = Browser::default();
    let res = stranger
        .get(&env.url("/api/auth/sso/callback?code=abc&state=def"))
        .await;
    let (status, err) = json_of(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        err["error"],
        "Sign-in failed: no sign-in in progress in this browser"
    );

    // Wrong state, and no state.
    let browser = Browser::default();
    let authorize = start_login(&env, &browser).await;
    let callback = at_provider(&env, &browser, &authorize, "carol").await;
    let state_cookie = browser.cookie(&env.base, STATE).expect("state");
    for bad in [
        with_param(&callback, "state", "forged"),
        callback.replace("state=", "x="),
    ] {
        // each refusal clears the state cookie: put it back for the next attempt
        browser.set_cookie(&env.base, STATE, Some(&state_cookie));
        let (status, err) = json_of(browser.get(&bad).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(err["error"], "Sign-in failed: state does not match");
        assert_eq!(browser.cookie(&env.base, SESSION), None);
        assert_eq!(browser.cookie(&env.base, STATE), None);
    }

    // Reused state: after a sign-in, the same callback again.
    let browser = Browser::default();
    let authorize = start_login(&env, &browser).await;
    let state_cookie = browser.cookie(&env.base, STATE).expect("state");
    let callback = at_provider(&env, &browser, &authorize, "dave").await;
    assert_eq!(browser.get(&callback).await.status(), StatusCode::FOUND);
    let (status, err) = json_of(browser.get(&callback).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        err["error"],
        "Sign-in failed: no sign-in in progress in this browser"
    );
    // ... even with a copy of the old state cookie: the code it protects is spent.
    let replay = Browser::default();
    replay.set_cookie(&env.base, STATE, Some(&state_cookie));
    let (status, err) = json_of(replay.get(&callback).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        err["error"],
        "Sign-in failed: the code exchange was refused"
    );
    assert_eq!(replay.cookie(&env.base, SESSION), None);

    // Wrong verifier: the code was issued for another attempt's challenge.
    let a = Browser::default();
    let b = Browser::default();
    let url_a = start_login(&env, &a).await;
    let url_b = start_login(&env, &b).await;
    let swapped = with_param(&url_a, "code_challenge", &query(&url_b)["code_challenge"]);
    let callback = at_provider(&env, &a, &swapped, "erin").await;
    let (status, err) = json_of(a.get(&callback).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        err["error"],
        "Sign-in failed: the code exchange was refused"
    );
    assert_eq!(a.cookie(&env.base, SESSION), None);

    // Nonce mismatch: state and verifier are this attempt's, the ID token's nonce is another's.
    let a = Browser::default();
    let b = Browser::default();
    let url_a = start_login(&env, &a).await;
    let url_b = start_login(&env, &b).await;
    let foreign_nonce = with_param(&url_b, "nonce", &query(&url_a)["nonce"]);
    let callback = at_provider(&env, &b, &foreign_nonce, "frank").await;
    let (status, err) = json_of(b.get(&callback).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"], "Sign-in failed: the ID token was refused");
    assert_eq!(b.cookie(&env.base, SESSION), None);

    // Open redirects are refused before anything is sent to the provider.
    for target in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "http://127.0.0.1:1/",
        "javascript:alert(1)",
    ] {
        let url = reqwest::Url::parse_with_params(
            &env.url("/api/auth/sso/login"),
            &[("redirect_to", target)],
        )
        .expect("url");
        let res = stranger.get(url.as_str()).await;
        assert!(set_cookie(&res, STATE).is_none(), "{target}");
        let (status, err) = json_of(res).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{target}");
        assert_eq!(
            err["error"],
            "Invalid redirect_to: use a path on this server or an allowed origin"
        );
    }

    // A signed-in browser for the cookie refusals.
    let browser = Browser::default();
    assert_eq!(
        sign_in(&env, &browser, "grace").await.status(),
        StatusCode::FOUND
    );
    let good = browser.cookie(&env.base, SESSION).expect("session");
    assert_eq!(
        browser.get(&env.url("/api/agents")).await.status(),
        StatusCode::OK
    );

    // Tampered: one character changed. Not a session: 401, and the cookie is cleared.
    let mut chars: Vec<char> = good.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for value in [tampered.as_str(), "not-a-session", &good[..good.len() - 5]] {
        let b = Browser::default();
        b.set_cookie(&env.base, SESSION, Some(value));
        let res = b.get(&env.url("/api/agents")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            set_cookie(&res, SESSION)
                .expect("cleared")
                .contains("Max-Age=0")
        );
        let b = Browser::default();
        b.set_cookie(&env.base, SESSION, Some(value));
        assert_eq!(
            b.get(&env.url("/api/auth/me")).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }

    // Expired: authentic, but its end has passed (sealed with the server's key, ended in the
    // past). The page is told the session expired.
    let sealer = mastra_session::Sealer::from_secrets(&[SESSION_SECRET]).expect("sealer");
    let now = mastra_session::unix_now();
    let ended = sealer
        .seal(
            SESSION,
            &json!({"at": "x", "ax": now + 300, "end": now - 1, "u": {"id": "grace"}}),
            now - 1,
        )
        .expect("seal");
    let b = Browser::default();
    b.set_cookie(&env.base, SESSION, Some(&ended));
    let res = b.get(&env.url("/api/agents")).await;
    assert!(
        set_cookie(&res, SESSION)
            .expect("cleared")
            .contains("Max-Age=0")
    );
    let (status, err) = json_of(res).await;
    assert_eq!(
        (status, err),
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "Session expired"})
        )
    );
    // ... and a public route still answers.
    let b = Browser::default();
    b.set_cookie(&env.base, SESSION, Some(&ended));
    assert_eq!(b.get(&env.url("/api")).await.status(), StatusCode::OK);

    // A session whose access token expired and whose refresh token the provider refuses ends:
    // on an API call and on an explicit refresh.
    let refused = sealer
        .seal(
            SESSION,
            &json!({"at": "x", "rt": "not-a-refresh-token", "ax": now - 1, "end": now + 300, "u": {"id": "grace"}}),
            now + 300,
        )
        .expect("seal");
    for (method, path) in [
        (Method::GET, "/api/agents"),
        (Method::POST, "/api/auth/refresh"),
    ] {
        let b = Browser::default();
        b.set_cookie(&env.base, SESSION, Some(&refused));
        let res = b
            .send(method, &env.url(path), &[("origin", &env.base)], None, None)
            .await;
        assert!(
            set_cookie(&res, SESSION)
                .expect("cleared")
                .contains("Max-Age=0"),
            "{path}"
        );
        let (status, err) = json_of(res).await;
        assert_eq!(
            (status, err),
            (
                StatusCode::UNAUTHORIZED,
                json!({"error": "Session expired"})
            ),
            "{path}"
        );
    }

    // A cookie sealed for the state purpose is not a session.
    let wrong_purpose = sealer
        .seal(
            STATE,
            &json!({"at": "x", "ax": now + 300, "end": now + 300, "u": {"id": "x"}}),
            now + 300,
        )
        .expect("seal");
    let b = Browser::default();
    b.set_cookie(&env.base, SESSION, Some(&wrong_purpose));
    assert_eq!(
        b.get(&env.url("/api/agents")).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A bearer token still works next to a cookie, and a cross-site POST with a bearer token is
    // not a cookie-carried request.
    let generate = env.url("/api/agents/weatherAgent/generate");
    let res = browser
        .send(
            Method::POST,
            &generate,
            &[
                ("origin", "https://evil.example"),
                ("authorization", "Bearer not-a-token"),
            ],
            None,
            Some(&json!({"messages": "hi"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
