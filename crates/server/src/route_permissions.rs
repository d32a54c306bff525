//! The permission each protected route of a config needs under `[auth.rbac]`: the built-in API
//! routes ([`crate::api::ROUTES`]) and the `[[api_routes]]` (their own permission, else the
//! derived one). `mastra config check` lints role mappings against this list.

use mastra_auth::permission;

use crate::config::{Config, MethodOrAll};

/// One protected route and the permission it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePermission {
    /// `GET`, `POST`, ... or `ALL`.
    pub method: String,
    /// The route template (`/api/agents/{agentId}`).
    pub template: String,
    /// What it needs (`agents:read`).
    pub permission: String,
}

/// Every protected route of `cfg` with its permission, built-in routes first.
pub fn route_permissions(cfg: &Config) -> Vec<RoutePermission> {
    let prefix = &cfg.server.api_prefix;
    let mut out = Vec::new();
    for (method, template) in crate::api::ROUTES {
        let Ok(m) = method.parse::<http::Method>() else {
            continue;
        };
        let template = format!("{prefix}{template}");
        if let Some(p) = permission::derive(&m, &template, prefix) {
            out.push(RoutePermission {
                method: m.to_string(),
                template,
                permission: p,
            });
        }
    }
    for r in cfg.api_routes.iter().filter(|r| r.requires_auth) {
        // An `ALL` route needs, per request, what its method derives: reading or writing.
        let methods = match &r.method {
            MethodOrAll::All => vec![http::Method::GET, http::Method::POST],
            MethodOrAll::Method(m) => vec![m.clone()],
        };
        for method in methods {
            let p = r
                .permission
                .clone()
                .or_else(|| permission::derive(&method, &r.path, prefix));
            if let Some(permission) = p {
                out.push(RoutePermission {
                    method: method.to_string(),
                    template: r.path.clone(),
                    permission,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_protected_route_has_its_permission() {
        let cfg = Config::from_toml_str("", "t.toml").expect("empty config");
        let got: Vec<(String, String, String)> = route_permissions(&cfg)
            .into_iter()
            .map(|r| (r.method, r.template, r.permission))
            .collect();
        let want = [
            ("GET", "/api/agents", "agents:read"),
            ("GET", "/api/agents/{agentId}", "agents:read"),
            ("POST", "/api/agents/{agentId}/generate", "agents:execute"),
            ("POST", "/api/agents/{agentId}/stream", "agents:execute"),
            ("GET", "/api/agents/{agentId}/tools/{toolId}", "agents:read"),
            (
                "POST",
                "/api/agents/{agentId}/tools/{toolId}/execute",
                "agents:execute",
            ),
            ("GET", "/api/tools", "tools:read"),
            ("GET", "/api/tools/{toolId}", "tools:read"),
            ("POST", "/api/tools/{toolId}/execute", "tools:execute"),
        ];
        let mut want: Vec<(String, String, String)> = want
            .iter()
            .map(|(m, t, p)| ((*m).to_owned(), (*t).to_owned(), (*p).to_owned()))
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        want.sort();
        assert_eq!(got_sorted, want);
    }

    #[test]
    fn custom_routes_use_their_own_permission_else_the_derived_one() {
        let cfg = Config::from_toml_str(
            "[[api_routes]]\nmethod = \"GET\"\npath = \"/reports\"\npermission = \"reports:export\"\njson = 1\n\
             [[api_routes]]\nmethod = \"DELETE\"\npath = \"/jobs/{id}\"\njson = 1\n\
             [[api_routes]]\nmethod = \"GET\"\npath = \"/open\"\nrequires_auth = false\njson = 1\n",
            "t.toml",
        )
        .expect("parses");
        let custom: Vec<(String, String)> = route_permissions(&cfg)
            .into_iter()
            .filter(|r| !r.template.starts_with("/api"))
            .map(|r| (r.template, r.permission))
            .collect();
        assert_eq!(
            custom,
            [
                ("/reports".to_owned(), "reports:export".to_owned()),
                ("/jobs/{id}".to_owned(), "jobs:write".to_owned()),
            ]
        );
    }
}
