//! Permissions: `resource:action[:id]` strings, which route needs which, and which granted
//! permission covers which required one.
//!
//! A route's permission is derived from the route the router matched (its template, never the
//! request's own spelling), by Mastra's convention: the resource is the first segment after the
//! API prefix (`/api/agents/{id}` needs `agents:…`; `/.well-known/…` is `a2a`); the action is
//! `read` for `GET`/`HEAD`/`OPTIONS`, `execute` for a `POST` whose template contains one of the
//! running verbs ([`EXECUTE_VERBS`]), `publish` for a `POST` that publishes, activates or
//! restores a stored item, and `write` for every other `POST`, `PUT`, `PATCH` and `DELETE`
//! (Mastra says `delete` for `DELETE`; here deleting is writing). Custom routes may name their
//! own.

use http::Method;

/// Path fragments that make a `POST` an `execute` (as in Mastra: a substring of the template).
pub const EXECUTE_VERBS: [&str; 17] = [
    "/generate",
    "/stream",
    "/execute",
    "/start",
    "/resume",
    "/restart",
    "/cancel",
    "/approve",
    "/decline",
    "/speak",
    "/listen",
    "/query",
    "/search",
    "/observe",
    "/time-travel",
    "/enhance",
    "/clone",
];

/// Why a permission string is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionError {
    /// Not `resource:action` or `resource:action:id` (or `*`).
    #[error(
        "{0:?} is not a permission: write `resource:action` or `resource:action:id` (letters, digits, `_`, `-`, `.`; `*` for any), e.g. `agents:execute`, `*:read`"
    )]
    Malformed(String),
}

/// Checks a permission's syntax: `*`, or two or three `:`-separated non-empty parts of letters,
/// digits, `_`, `-`, `.` (the resource and action may be `*`). The strict alphabet keeps
/// permissions safe to echo in a `WWW-Authenticate` header.
pub fn validate(permission: &str) -> Result<(), PermissionError> {
    if permission == "*" {
        return Ok(());
    }
    let parts: Vec<&str> = permission.split(':').collect();
    let part_ok = |p: &str| {
        p == "*"
            || (!p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
    };
    if (2..=3).contains(&parts.len()) && parts.iter().all(|p| part_ok(p)) {
        Ok(())
    } else {
        Err(PermissionError::Malformed(permission.to_owned()))
    }
}

/// Whether `granted` covers `required`. `*` covers everything; `*` as a resource or an action
/// covers any; a granted permission without an id covers every id, one with an id only that
/// id. Anything else must be equal.
pub fn covers(granted: &str, required: &str) -> bool {
    if granted == "*" || granted == required {
        return true;
    }
    let mut g = granted.split(':');
    let mut r = required.split(':');
    let (Some(g_res), Some(g_act)) = (g.next(), g.next()) else {
        return false;
    };
    let (Some(r_res), Some(r_act)) = (r.next(), r.next()) else {
        return false;
    };
    let (g_id, r_id) = (g.next(), r.next());
    if g.next().is_some() || r.next().is_some() {
        return false;
    }
    (g_res == "*" || g_res == r_res)
        && (g_act == "*" || g_act == r_act)
        && match g_id {
            None => true,
            Some(id) => r_id == Some(id),
        }
}

/// The permission a route needs, from its method and its template as registered with the router
/// (`/api/agents/{agentId}/generate`), or `None` when the template has no resource segment.
pub fn derive(method: &Method, template: &str, api_prefix: &str) -> Option<String> {
    let prefix = api_prefix.trim_end_matches('/');
    let rest = match template.strip_prefix(prefix) {
        Some(rest) if !prefix.is_empty() && (rest.is_empty() || rest.starts_with('/')) => rest,
        _ => template,
    };
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    let resource = match segments.next()? {
        ".well-known" => "a2a".to_owned(),
        "stored" => match segments.next() {
            Some(family) if !family.starts_with('{') => format!("stored-{family}"),
            _ => "stored".to_owned(),
        },
        first if first.starts_with('{') => return None,
        first => first.to_owned(),
    };
    let action = action(method, rest);
    Some(format!("{resource}:{action}"))
}

fn action(method: &Method, rest: &str) -> &'static str {
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => "read",
        Method::POST
            if rest.starts_with("/stored/")
                && ["/publish", "/activate", "/restore"]
                    .iter()
                    .any(|v| rest.ends_with(v)) =>
        {
            "publish"
        }
        Method::POST if EXECUTE_VERBS.iter().any(|v| rest.contains(v)) => "execute",
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE => "write",
        // Methods no built-in route answers: the least privilege.
        _ => "read",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_follows_the_convention() {
        let cases = [
            (Method::GET, "/api/agents", "agents:read"),
            (Method::GET, "/api/agents/{agentId}", "agents:read"),
            (
                Method::POST,
                "/api/agents/{agentId}/generate",
                "agents:execute",
            ),
            (
                Method::POST,
                "/api/agents/{agentId}/stream",
                "agents:execute",
            ),
            (
                Method::POST,
                "/api/agents/{agentId}/generate-legacy",
                "agents:execute",
            ),
            (
                Method::POST,
                "/api/agents/{agentId}/instructions",
                "agents:write",
            ),
            (Method::POST, "/api/tools/{toolId}/execute", "tools:execute"),
            (Method::POST, "/api/memory/threads", "memory:write"),
            (
                Method::PATCH,
                "/api/memory/threads/{threadId}",
                "memory:write",
            ),
            (
                Method::DELETE,
                "/api/memory/threads/{threadId}",
                "memory:write",
            ),
            (
                Method::POST,
                "/api/memory/threads/{threadId}/clone",
                "memory:execute",
            ),
            (
                Method::GET,
                "/api/.well-known/{agentId}/agent-card.json",
                "a2a:read",
            ),
            (
                Method::POST,
                "/api/stored/agents/{id}/publish",
                "stored-agents:publish",
            ),
            (Method::POST, "/api/stored/agents", "stored-agents:write"),
            (Method::HEAD, "/api/tools", "tools:read"),
            (Method::GET, "/reports/{id}", "reports:read"),
        ];
        for (method, template, want) in cases {
            assert_eq!(
                derive(&method, template, "/api").as_deref(),
                Some(want),
                "{method} {template}"
            );
        }
    }

    #[test]
    fn the_template_decides_not_the_ids_in_it() {
        // An agent named `generate`: its instructions route stays a write.
        assert_eq!(
            derive(&Method::POST, "/api/agents/{agentId}/instructions", "/api").as_deref(),
            Some("agents:write")
        );
        assert_eq!(derive(&Method::GET, "/api", "/api"), None);
        assert_eq!(derive(&Method::GET, "/{anything}", "/api"), None);
        // A prefix only counts on a segment boundary.
        assert_eq!(
            derive(&Method::GET, "/apix/things", "/api").as_deref(),
            Some("apix:read")
        );
        assert_eq!(
            derive(&Method::GET, "/things", "").as_deref(),
            Some("things:read")
        );
    }

    #[test]
    fn coverage_follows_wildcards_and_ids() {
        let yes = [
            ("*", "agents:execute"),
            ("*:*", "agents:execute"),
            ("agents:*", "agents:execute"),
            ("*:read", "memory:read"),
            ("agents:execute", "agents:execute"),
            ("agents:read", "agents:read:weather"),
            ("agents:read:weather", "agents:read:weather"),
            ("*:*", "agents:read:weather"),
        ];
        let no = [
            ("agents:read", "agents:execute"),
            ("*:read", "agents:write"),
            ("memory:*", "agents:read"),
            ("agents:read:weather", "agents:read"),
            ("agents:read:weather", "agents:read:other"),
            ("agents", "agents:read"),
            ("agents:read:x:y", "agents:read"),
            ("", "agents:read"),
        ];
        for (g, r) in yes {
            assert!(covers(g, r), "{g} should cover {r}");
        }
        for (g, r) in no {
            assert!(!covers(g, r), "{g} should not cover {r}");
        }
    }

    #[test]
    fn syntax_is_strict() {
        for ok in [
            "*",
            "agents:read",
            "*:read",
            "agents:*",
            "agents:read:weather-1",
            "a.b:c_d",
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "agents",
            "agents:",
            ":read",
            "a:b:c:d",
            "agents:re ad",
            "a:\"b",
            "a:b\n",
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }
}
