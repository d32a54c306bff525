//! OpenAPI 3.1 document (`GET {api_prefix}/openapi.json`, protected like the rest of the API, as
//! in Mastra), served when `[server] openapi = true`.
//!
//! There is no Swagger UI page: it would mean a CDN at run time or megabytes of vendored
//! third-party script in the binary. Any OpenAPI tool reads the document; people use the built-in
//! page ([`crate::ui`]).
//!
//! Besides the Mastra API, the document lists the custom routes ([`RouteDoc`]): the
//! `[[api_routes]]` of the config and the routes added with [`crate::ServerBuilder::route`],
//! each with a `security` that says whether it needs a token.

use axum::Router;
use axum::routing::get;
use http::{Method, StatusCode};
use mastra_auth::pattern::MethodSet;
use serde_json::{Map, Value, json};

use super::{SERVER_NAME, VERSION, json_response};
use crate::config::{ApiRouteConfig, MethodOrAll, RouteAction};

/// Tag of the custom routes' operations that name no tag of their own.
pub const CUSTOM_TAG: &str = "custom";

/// Methods an `ALL` route is listed under (the operations OpenAPI can name, but `TRACE`).
const ALL_METHODS: [Method; 7] = [
    Method::GET,
    Method::PUT,
    Method::POST,
    Method::DELETE,
    Method::OPTIONS,
    Method::HEAD,
    Method::PATCH,
];

/// A custom route as the document describes it.
#[derive(Debug, Clone)]
pub struct RouteDoc {
    /// The methods it answers ([`MethodSet::All`]: listed under every method but `TRACE`).
    pub methods: MethodSet,
    /// The axum path template (`/things/{id}`; `{*rest}` is listed as `{rest}`).
    pub path: String,
    /// Whether the auth layer requires a token: sets the operation's `security`.
    pub requires_auth: bool,
    /// The fields of the OpenAPI operation object its author gave (`summary`, `description`,
    /// `responses`, `requestBody`, ...); path parameters, `tags` and `responses` are filled in
    /// where missing, and `security` always follows `requires_auth`.
    pub operation: Map<String, Value>,
}

impl RouteDoc {
    /// How a `[[api_routes]]` entry is listed: a fixed JSON answer with its status and body as
    /// the example, or a reverse proxy (without its upstream, which stays private).
    pub fn from_config(route: &ApiRouteConfig) -> RouteDoc {
        let methods = match &route.method {
            MethodOrAll::All => MethodSet::All,
            MethodOrAll::Method(m) => MethodSet::only([m.clone()]),
        };
        let operation = match &route.action {
            RouteAction::Json { status, body } => json!({
                "summary": "Fixed JSON answer",
                "responses": {status.as_str(): {
                    "description": "The configured body",
                    "content": {"application/json": {"example": body}}
                }}
            }),
            RouteAction::Proxy { .. } => json!({
                "summary": "Reverse proxy to an upstream service",
                "responses": {"default": {"description": "The upstream's response"}}
            }),
        };
        RouteDoc {
            methods,
            path: route.path.clone(),
            requires_auth: route.requires_auth,
            operation: match operation {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        }
    }

    /// The path as OpenAPI writes it (`{*rest}` -> `{rest}`) and its parameters' names.
    fn openapi_path(&self) -> (String, Vec<(String, bool)>) {
        let mut path = String::with_capacity(self.path.len());
        let mut params = Vec::new();
        let mut rest = self.path.as_str();
        while let Some(open) = rest.find('{') {
            // `{{` and `}}` are literal braces in an axum template
            if rest[open..].starts_with("{{") {
                path.push_str(&rest[..open + 2]);
                rest = &rest[open + 2..];
                continue;
            }
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let inner = &rest[open + 1..open + close];
            let (name, wildcard) = match inner.strip_prefix('*') {
                Some(name) => (name, true),
                None => (inner, false),
            };
            path.push_str(&rest[..open]);
            path.push('{');
            path.push_str(name);
            path.push('}');
            params.push((name.to_string(), wildcard));
            rest = &rest[open + close + 1..];
        }
        path.push_str(rest);
        (path, params)
    }

    /// The operation object for one method.
    fn operation(&self, params: &[(String, bool)]) -> Value {
        let mut op = self.operation.clone();
        if !op.contains_key("tags") {
            op.insert("tags".into(), json!([CUSTOM_TAG]));
        }
        let mut declared: Vec<Value> = match op.remove("parameters") {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        for (name, wildcard) in params {
            let present = declared
                .iter()
                .any(|p| p["in"] == "path" && p["name"] == name.as_str());
            if !present {
                let description = if *wildcard {
                    "The rest of the path (may contain `/`)"
                } else {
                    "Path segment"
                };
                declared.push(path_param(name, description));
            }
        }
        if !declared.is_empty() {
            op.insert("parameters".into(), Value::Array(declared));
        }
        let responses = op
            .entry("responses")
            .or_insert_with(|| json!({"default": {"description": "Response"}}));
        if self.requires_auth
            && let Value::Object(responses) = responses
        {
            for (code, name) in [("401", "Unauthorized"), ("403", "Forbidden")] {
                responses
                    .entry(code)
                    .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
            }
        }
        let security = if self.requires_auth {
            json!([{"bearerAuth": []}])
        } else {
            json!([])
        };
        op.insert("security".into(), security);
        Value::Object(op)
    }
}

/// Adds the custom routes' operations to `paths`; true when one is tagged [`CUSTOM_TAG`].
fn add_routes(paths: &mut Map<String, Value>, routes: &[RouteDoc]) -> bool {
    let mut custom_tag = false;
    for route in routes {
        let (path, params) = route.openapi_path();
        let operation = route.operation(&params);
        custom_tag |= operation["tags"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|t| t == CUSTOM_TAG));
        let methods: Vec<Method> = match &route.methods {
            MethodSet::All => ALL_METHODS.to_vec(),
            MethodSet::Only(list) => list.clone(),
        };
        let Value::Object(item) = paths.entry(path).or_insert_with(|| json!({})) else {
            continue;
        };
        for method in methods {
            let key = method.as_str().to_ascii_lowercase();
            // a route naming the method wins over an `ALL` route on the same template, as in
            // the router
            if route.methods == MethodSet::All && item.contains_key(&key) {
                continue;
            }
            item.insert(key, operation.clone());
        }
    }
    custom_tag
}

/// Path of the OpenAPI document for an API prefix: `{api_prefix}/openapi.json`.
pub fn document_path(api_prefix: &str) -> String {
    format!("{api_prefix}/openapi.json")
}

/// Routes `GET {api_prefix}/openapi.json`.
pub fn router<S>(api_prefix: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router_with(api_prefix, &[])
}

/// As [`router`], the document listing `routes` too ([`document_with`]).
pub fn router_with<S>(api_prefix: &str, routes: &[RouteDoc]) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let doc = document_with(api_prefix, routes);
    Router::new().route(
        &document_path(api_prefix),
        get(move || {
            let doc = doc.clone();
            async move { json_response(StatusCode::OK, &doc) }
        }),
    )
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn json_ok(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema}}
    })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({
        "name": name, "in": "path", "required": true,
        "description": description, "schema": {"type": "string"}
    })
}

/// The OpenAPI 3.1 document: health, welcome, agents and tools routes, bearer security.
pub fn document(api_prefix: &str) -> Value {
    document_with(api_prefix, &[])
}

/// [`document`] plus the custom routes `routes`, tagged [`CUSTOM_TAG`] unless they say otherwise.
pub fn document_with(api_prefix: &str, routes: &[RouteDoc]) -> Value {
    let p = api_prefix;
    let agent_id = path_param("agentId", "Agent id");
    let tool_id = path_param("toolId", "Tool id");
    let object = json!({"type": "object", "additionalProperties": true});
    let generate_body = json!({
        "required": true,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AgentExecutionBody"}}}
    });
    let protected_errors = |extra: &[(&str, &str)]| {
        let mut m = serde_json::Map::new();
        m.insert(
            "401".into(),
            json!({"$ref": "#/components/responses/Unauthorized"}),
        );
        m.insert(
            "403".into(),
            json!({"$ref": "#/components/responses/Forbidden"}),
        );
        for (code, desc) in extra {
            m.insert((*code).to_string(), error_response(desc));
        }
        m
    };
    let with = |mut base: serde_json::Map<String, Value>, code: &str, resp: Value| {
        base.insert(code.to_string(), resp);
        Value::Object(base)
    };

    let mut paths = serde_json::Map::new();
    paths.insert(
        "/health".into(),
        json!({"get": {
            "summary": "Health check", "operationId": "health", "tags": ["system"],
            "security": [],
            "responses": {"200": json_ok("Server is up", json!({
                "type": "object", "properties": {"success": {"type": "boolean", "const": true}},
                "required": ["success"]
            }))}
        }}),
    );
    paths.insert(
        p.to_string(),
        json!({"get": {
            "summary": "API welcome", "operationId": "welcome", "tags": ["system"],
            "security": [],
            "responses": {"200": json_ok("Name and version", json!({
                "type": "object",
                "properties": {"name": {"type": "string"}, "version": {"type": "string"}, "message": {"type": "string"}},
                "required": ["name", "version"]
            }))}
        }}),
    );
    paths.insert(
        format!("{p}/agents"),
        json!({"get": {
            "summary": "List agents", "operationId": "listAgents", "tags": ["agents"],
            "responses": with(protected_errors(&[]), "200", json_ok(
                "Agents keyed by id",
                json!({"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Agent"}})
            ))
        }}),
    );
    paths.insert(
        format!("{p}/agents/{{agentId}}"),
        json!({"get": {
            "summary": "Get an agent", "operationId": "getAgent", "tags": ["agents"],
            "parameters": [agent_id.clone()],
            "responses": with(protected_errors(&[("404", "Agent not found")]), "200",
                json_ok("Agent details", json!({"$ref": "#/components/schemas/Agent"})))
        }}),
    );
    paths.insert(
        format!("{p}/agents/{{agentId}}/generate"),
        json!({"post": {
            "summary": "Generate a response", "operationId": "generate", "tags": ["agents"],
            "parameters": [agent_id.clone()],
            "requestBody": generate_body.clone(),
            "responses": with(protected_errors(&[("400", "Invalid request body"), ("404", "Agent not found")]),
                "200", json_ok("Generation result (text, usage, finishReason, steps, toolCalls, ...)", object.clone()))
        }}),
    );
    paths.insert(
        format!("{p}/agents/{{agentId}}/stream"),
        json!({"post": {
            "summary": "Stream a response (server-sent events)", "operationId": "stream", "tags": ["agents"],
            "parameters": [agent_id],
            "requestBody": generate_body,
            "responses": with(protected_errors(&[("400", "Invalid request body"), ("404", "Agent not found")]),
                "200", json!({
                    "description": "`data: <chunk JSON>` events, ending with `data: [DONE]`",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}}
                }))
        }}),
    );
    paths.insert(
        format!("{p}/tools"),
        json!({"get": {
            "summary": "List tools", "operationId": "listTools", "tags": ["tools"],
            "responses": with(protected_errors(&[]), "200", json_ok(
                "Tools keyed by id",
                json!({"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Tool"}})
            ))
        }}),
    );
    paths.insert(
        format!("{p}/tools/{{toolId}}"),
        json!({"get": {
            "summary": "Get a tool", "operationId": "getTool", "tags": ["tools"],
            "parameters": [tool_id.clone()],
            "responses": with(protected_errors(&[("404", "Tool not found")]), "200",
                json_ok("Tool details", json!({"$ref": "#/components/schemas/Tool"})))
        }}),
    );
    paths.insert(
        format!("{p}/tools/{{toolId}}/execute"),
        json!({"post": {
            "summary": "Execute a tool", "operationId": "executeTool", "tags": ["tools"],
            "parameters": [tool_id],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"data": {}}, "required": ["data"]
            }}}},
            "responses": with(protected_errors(&[("400", "Invalid request body"), ("404", "Tool not found")]),
                "200", json_ok("The tool's result", json!({})))
        }}),
    );

    // An agent's tools, and memory: protected, JSON in and out (the shapes are Mastra's;
    // docs/memory.md describes the memory routes).
    for (path, method, id, tag, summary) in [
        (
            "/agents/{agentId}/tools/{toolId}",
            "get",
            "getAgentTool",
            "agents",
            "One of an agent's tools",
        ),
        (
            "/agents/{agentId}/tools/{toolId}/execute",
            "post",
            "executeAgentTool",
            "agents",
            "Execute one of an agent's tools",
        ),
        (
            "/memory/status",
            "get",
            "memoryStatus",
            "memory",
            "Whether memory is on",
        ),
        (
            "/memory/config",
            "get",
            "memoryConfig",
            "memory",
            "Memory settings",
        ),
        (
            "/memory/threads",
            "get",
            "listThreads",
            "memory",
            "The caller's threads, paged (resourceId, agentId, page, perPage, orderBy, sortDirection)",
        ),
        (
            "/memory/threads",
            "post",
            "createThread",
            "memory",
            "Create a thread ({resourceId, title?, metadata?, threadId?})",
        ),
        (
            "/memory/threads/{threadId}",
            "get",
            "getThread",
            "memory",
            "One of the caller's threads",
        ),
        (
            "/memory/threads/{threadId}",
            "patch",
            "updateThread",
            "memory",
            "Rename a thread or change its metadata",
        ),
        (
            "/memory/threads/{threadId}",
            "delete",
            "deleteThread",
            "memory",
            "Delete a thread and its messages",
        ),
        (
            "/memory/threads/{threadId}/messages",
            "get",
            "listMessages",
            "memory",
            "A thread's messages, paged",
        ),
        (
            "/memory/threads/{threadId}/clone",
            "post",
            "cloneThread",
            "memory",
            "Copy a thread and its messages",
        ),
        (
            "/memory/save-messages",
            "post",
            "saveMessages",
            "memory",
            "Append messages to threads the caller owns",
        ),
        (
            "/memory/messages/delete",
            "post",
            "deleteMessages",
            "memory",
            "Delete messages by id",
        ),
    ] {
        let parameters: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| path_param(name, name))
            .collect();
        let op = json!({
            "summary": summary, "operationId": id, "tags": [tag],
            "parameters": parameters,
            "responses": with(protected_errors(&[("404", "Not found")]), "200", json_ok("See the summary", object.clone()))
        });
        if let Some(item) = paths
            .entry(format!("{p}{path}"))
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            item.insert(method.to_owned(), op);
        }
    }

    // Browser sign-in: public in the pipeline, each deciding on the session cookie itself.
    for (path, method, id, summary) in [
        (
            "/auth/capabilities",
            "get",
            "authCapabilities",
            "What sign-in the server offers, and the signed-in user",
        ),
        (
            "/auth/me",
            "get",
            "authMe",
            "The signed-in user ({id, email, name, avatarUrl}); 401 without a session",
        ),
        (
            "/auth/sso/login",
            "get",
            "ssoLogin",
            "302 to the identity provider (`redirect_to`: where to go after sign-in)",
        ),
        (
            "/auth/sso/callback",
            "get",
            "ssoCallback",
            "The identity provider's redirect: sets the session cookie, 302 to the target",
        ),
        (
            "/auth/refresh",
            "post",
            "authRefresh",
            "New tokens for the session (rotates the session cookie)",
        ),
        (
            "/auth/logout",
            "post",
            "authLogout",
            "Clears the session; `redirectTo` is the provider's logout URL",
        ),
    ] {
        paths.insert(
            format!("{p}{path}"),
            json!({method: {
                "summary": summary, "operationId": id, "tags": ["auth"], "security": [],
                "responses": {"200": json_ok("See the summary", object.clone())}
            }}),
        );
    }

    let mut tags = vec![
        json!({"name": "system"}),
        json!({"name": "agents"}),
        json!({"name": "tools"}),
        json!({"name": "memory"}),
        json!({"name": "auth"}),
    ];
    if add_routes(&mut paths, routes) {
        tags.push(json!({"name": CUSTOM_TAG}));
    }

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("{SERVER_NAME} API"),
            "version": VERSION,
            "description": "Mastra-compatible agent server API."
        },
        "security": [{"bearerAuth": []}],
        "tags": tags,
        "paths": Value::Object(paths),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "responses": {
                "Unauthorized": {
                    "description": "Missing or invalid token",
                    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                },
                "Forbidden": error_response("Access denied")
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"]
                },
                "Tool": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "description": {"type": "string"},
                        "inputSchema": {"type": "string", "description": "JSON text of {\"json\": <JSON Schema>}"},
                        "outputSchema": {"type": "string", "description": "JSON text of {\"json\": <JSON Schema>}"}
                    },
                    "required": ["id"]
                },
                "Agent": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "instructions": {"type": "string"},
                        "tools": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Tool"}},
                        "provider": {"type": "string"},
                        "modelId": {"type": "string"}
                    },
                    "required": ["name"],
                    "additionalProperties": true
                },
                "AgentExecutionBody": {
                    "type": "object",
                    "properties": {
                        "messages": {
                            "description": "A string, an array of strings, or an array of {role, content}",
                            "oneOf": [
                                {"type": "string"},
                                {"type": "array", "items": {"oneOf": [
                                    {"type": "string"},
                                    {"type": "object", "properties": {
                                        "role": {"type": "string"},
                                        "content": {}
                                    }, "required": ["role", "content"]}
                                ]}}
                            ]
                        }
                    },
                    "required": ["messages"],
                    "additionalProperties": true
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_route_of_the_api_is_documented() {
        let doc = document("/api");
        for (method, template) in crate::api::ROUTES {
            let path = format!("/api{template}");
            assert!(
                doc["paths"][&path][method.to_ascii_lowercase()].is_object(),
                "{method} {path} is not in the OpenAPI document"
            );
        }
    }

    use super::*;

    fn doc(path: &str) -> RouteDoc {
        RouteDoc {
            methods: MethodSet::All,
            path: path.into(),
            requires_auth: true,
            operation: Map::new(),
        }
    }

    #[test]
    fn templates_become_openapi_paths() {
        let (path, params) = doc("/a/{id}/b/{*rest}").openapi_path();
        assert_eq!(path, "/a/{id}/b/{rest}");
        assert_eq!(
            params,
            vec![("id".to_string(), false), ("rest".to_string(), true)]
        );
        let (path, params) = doc("/lit/{{x}}/v{n}").openapi_path();
        assert_eq!(path, "/lit/{{x}}/v{n}");
        assert_eq!(params, vec![("n".to_string(), false)]);
    }
}
