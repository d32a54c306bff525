//! A minimal browser for sign-in tests: keeps cookies per host (names and values; paths are
//! ignored, which only ever sends a cookie to more places than a browser would) and never
//! follows redirects, so each hop can be inspected.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, Response};

/// A cookie-keeping HTTP client.
pub struct Browser {
    client: reqwest::Client,
    jar: Mutex<HashMap<String, HashMap<String, String>>>,
}

impl Default for Browser {
    fn default() -> Self {
        Self {
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            jar: Mutex::new(HashMap::new()),
        }
    }
}

fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| {
            format!(
                "{}:{}",
                u.host_str().unwrap_or(""),
                u.port_or_known_default().unwrap_or(0)
            )
        })
        .unwrap_or_default()
}

impl Browser {
    /// The cookie `name` kept for `url`'s host.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        self.jar
            .lock()
            .unwrap()
            .get(&host_of(url))?
            .get(name)
            .cloned()
    }

    /// Sets (or, with `None`, removes) cookie `name` for `url`'s host.
    pub fn set_cookie(&self, url: &str, name: &str, value: Option<&str>) {
        let mut jar = self.jar.lock().unwrap();
        let cookies = jar.entry(host_of(url)).or_default();
        match value {
            Some(v) => cookies.insert(name.to_owned(), v.to_owned()),
            None => cookies.remove(name),
        };
    }

    /// Sends a request with this browser's cookies for the host and keeps the ones it sets.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        form: Option<&[(&str, &str)]>,
        json: Option<&serde_json::Value>,
    ) -> Response {
        let cookie_header = {
            let jar = self.jar.lock().unwrap();
            jar.get(&host_of(url))
                .map(|c| {
                    c.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default()
        };
        let mut req = self.client.request(method, url);
        if !cookie_header.is_empty() {
            req = req.header(COOKIE, cookie_header);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(f) = form {
            req = req.form(f);
        }
        if let Some(j) = json {
            req = req.json(j);
        }
        let res = req.send().await.expect("request");
        self.keep(url, &res);
        res
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> Response {
        self.send(Method::GET, url, &[], None, None).await
    }

    fn keep(&self, url: &str, res: &Response) {
        for v in res.headers().get_all(SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let first = v.split(';').next().unwrap_or("");
            let Some((name, value)) = first.split_once('=') else {
                continue;
            };
            let deleted = value.is_empty()
                || v.split(';')
                    .any(|a| a.trim().eq_ignore_ascii_case("max-age=0"))
                || v.contains("1970");
            self.set_cookie(url, name.trim(), (!deleted).then_some(value));
        }
    }
}

/// The absolute `Location` of a redirect answer.
pub fn location(base: &str, res: &Response) -> String {
    let loc = res
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location in a {} answer", res.status()))
        .to_str()
        .expect("Location");
    reqwest::Url::parse(base)
        .and_then(|b| b.join(loc))
        .expect("Location URL")
        .to_string()
}

/// The `Set-Cookie` value for cookie `name`, if the answer sets one.
pub fn set_cookie<'a>(res: &'a Response, name: &str) -> Option<&'a str> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// The query parameters of `url`.
pub fn query(url: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect()
}

/// The status and JSON body of an answer (panics, showing the body, when it is not JSON).
pub async fn json_of(res: Response) -> (reqwest::StatusCode, serde_json::Value) {
    let status = res.status();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")),
    )
}
