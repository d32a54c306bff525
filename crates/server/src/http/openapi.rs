//! OpenAPI 3.1 document (`GET {api_prefix}/openapi.json`, protected like the rest of the API, as
//! in Mastra) and Swagger UI (`GET /swagger-ui`, public), served when `[server] openapi = true`.

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use http::StatusCode;
use serde_json::{Value, json};

use super::{SERVER_NAME, VERSION, json_response};

/// Path of the Swagger UI page.
pub const SWAGGER_UI_PATH: &str = "/swagger-ui";

/// Path of the OpenAPI document for an API prefix: `{api_prefix}/openapi.json`.
pub fn document_path(api_prefix: &str) -> String {
    format!("{api_prefix}/openapi.json")
}

/// Routes `GET {api_prefix}/openapi.json` and `GET /swagger-ui`.
pub fn router<S>(api_prefix: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let doc = document(api_prefix);
    let page = swagger_ui_html(api_prefix);
    Router::new()
        .route(
            &document_path(api_prefix),
            get(move || {
                let doc = doc.clone();
                async move { json_response(StatusCode::OK, &doc) }
            }),
        )
        .route(
            SWAGGER_UI_PATH,
            get(move || {
                let page = page.clone();
                async move { Html(page) }
            }),
        )
}

/// The Swagger UI page, loading Swagger UI from a CDN and pointing it at the document.
pub fn swagger_ui_html(api_prefix: &str) -> String {
    let url = serde_json::to_string(&document_path(api_prefix)).unwrap_or_else(|_| "\"\"".into());
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{SERVER_NAME} API</title>
  <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js" crossorigin></script>
  <script>
    window.ui = SwaggerUIBundle({{ url: {url}, dom_id: "#swagger-ui", persistAuthorization: true }});
  </script>
</body>
</html>
"##
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

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("{SERVER_NAME} API"),
            "version": VERSION,
            "description": "Mastra-compatible agent server API."
        },
        "security": [{"bearerAuth": []}],
        "tags": [{"name": "system"}, {"name": "agents"}, {"name": "tools"}],
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
