//! Request-body parsing and validation (Mastra's `agentExecutionBodySchema` semantics:
//! `messages` required, known options type-checked, unknown keys kept and ignored).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use mastra_core::{AgentRequest, ClientTool, ModelSettings, ToolChoice, parse_messages};
use serde_json::{Map, Value};

use super::{ApiError, Issue};

/// Zod-style name of a JSON value's type (`undefined` for a missing value).
pub(crate) fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

fn expected(field: &str, ty: &str, got: Option<&Value>) -> ApiError {
    ApiError::InvalidBody(vec![Issue::new(
        field,
        format!("Invalid input: expected {ty}, received {}", type_name(got)),
    )])
}

/// Parses the raw body as a JSON object. The content type is not required to be JSON
/// (a client that forgets the header still gets its JSON understood); an empty or
/// unparsable body is 400 with an issue on `body`, a non-object is 400 on `root`.
pub(crate) fn json_object(
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, ApiError> {
    let bytes = match body {
        Ok(b) => b,
        Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ApiError::TooLarge);
        }
        Err(rej) => {
            return Err(ApiError::InvalidBody(vec![Issue::new(
                "body",
                rej.body_text(),
            )]));
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidBody(vec![Issue::new(
            "body",
            "Unexpected end of JSON input",
        )]));
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::InvalidBody(vec![Issue::new("body", format!("Invalid JSON: {e}"))])
    })?;
    match value {
        Value::Object(m) => Ok(m),
        other => Err(expected("root", "object", Some(&other))),
    }
}

/// Text from `instructions`/`system`: a string, an array of strings, a message object
/// with string `content`, or an array of those; joined with blank lines.
fn system_text(field: &str, v: &Value) -> Result<Option<String>, ApiError> {
    fn one(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("content").and_then(Value::as_str).map(str::to_string),
            _ => None,
        }
    }
    let invalid = || ApiError::InvalidBody(vec![Issue::new(field, "Invalid input")]);
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items.iter().map(one).collect();
            let parts = parts.ok_or_else(invalid)?;
            Ok((!parts.is_empty()).then(|| parts.join("\n\n")))
        }
        other => one(other).map(Some).ok_or_else(invalid),
    }
}

fn tool_choice(v: &Value) -> Result<ToolChoice, ApiError> {
    match v {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            _ => Err(ApiError::InvalidBody(vec![Issue::new(
                "toolChoice",
                "Invalid option: expected one of \"auto\"|\"none\"|\"required\"",
            )])),
        },
        Value::Object(o) => match o.get("toolName").and_then(Value::as_str) {
            Some(name) if o.get("type").and_then(Value::as_str) == Some("tool") => {
                Ok(ToolChoice::Tool(name.to_string()))
            }
            _ => Err(ApiError::InvalidBody(vec![Issue::new(
                "toolChoice.toolName",
                "Invalid input",
            )])),
        },
        other => Err(expected("toolChoice", "string", Some(other))),
    }
}

/// Unwraps a schema sent as `{"json": schema}` (superjson style) or as a JSON string.
fn plain_schema(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Object(o)) if o.len() == 1 && o.contains_key("json") => o["json"].clone(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(parsed) => plain_schema(Some(&parsed)),
            Err(_) => Value::Object(Map::new()),
        },
        Some(Value::Null) | None => serde_json::json!({"type": "object", "properties": {}}),
        Some(other) => other.clone(),
    }
}

fn client_tools(v: &Value) -> Result<BTreeMap<String, ClientTool>, ApiError> {
    let Value::Object(map) = v else {
        return Err(expected("clientTools", "object", Some(v)));
    };
    let mut out = BTreeMap::new();
    for (name, def) in map {
        let Value::Object(def) = def else {
            return Err(expected(
                &format!("clientTools.{name}"),
                "object",
                Some(def),
            ));
        };
        out.insert(
            name.clone(),
            ClientTool {
                id: def.get("id").and_then(Value::as_str).map(str::to_string),
                description: def
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                input_schema: plain_schema(
                    def.get("inputSchema").or_else(|| def.get("parameters")),
                ),
            },
        );
    }
    Ok(out)
}

fn model_settings(v: &Value) -> Result<ModelSettings, ApiError> {
    let Value::Object(o) = v else {
        return Err(expected("modelSettings", "object", Some(v)));
    };
    let num = |k: &str| -> Result<Option<f64>, ApiError> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(expected(
                &format!("modelSettings.{k}"),
                "number",
                Some(other),
            )),
        }
    };
    let max = match num("maxOutputTokens")? {
        Some(m) => Some(m),
        None => num("maxTokens")?,
    };
    Ok(ModelSettings {
        temperature: num("temperature")?,
        top_p: num("topP")?,
        max_output_tokens: max.filter(|m| *m >= 1.0).map(|m| m as u64),
    })
}

/// Builds an [`AgentRequest`] from a generate/stream body.
pub(crate) fn agent_request(body: &Map<String, Value>) -> Result<AgentRequest, ApiError> {
    let messages = match body.get("messages") {
        None | Some(Value::Null) => {
            return Err(ApiError::InvalidBody(vec![Issue::new(
                "messages",
                "Invalid input",
            )]));
        }
        Some(v) => parse_messages(v, "messages")
            .map_err(|e| ApiError::InvalidBody(vec![Issue::new(e.path, e.message)]))?,
    };
    let mut req = AgentRequest {
        messages,
        ..AgentRequest::default()
    };
    if let Some(v) = body.get("context").filter(|v| !v.is_null()) {
        req.context = parse_messages(v, "context")
            .map_err(|e| ApiError::InvalidBody(vec![Issue::new(e.path, e.message)]))?;
    }
    if let Some(v) = body.get("instructions") {
        req.instructions = system_text("instructions", v)?;
    }
    if let Some(v) = body.get("system")
        && let Some(s) = system_text("system", v)?
    {
        req.system.push(s);
    }
    match body.get("maxSteps") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) => {
            let steps = n.as_f64().unwrap_or(1.0).floor();
            req.max_steps = Some(if steps < 1.0 {
                1
            } else {
                steps.min(1e6) as usize
            });
        }
        Some(other) => return Err(expected("maxSteps", "number", Some(other))),
    }
    match body.get("runId") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => req.run_id = Some(s.clone()),
        Some(other) => return Err(expected("runId", "string", Some(other))),
    }
    match body.get("activeTools") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            let names: Option<Vec<String>> = items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect();
            req.active_tools =
                Some(names.ok_or_else(|| expected("activeTools", "array of strings", None))?);
        }
        Some(other) => return Err(expected("activeTools", "array", Some(other))),
    }
    if let Some(v) = body.get("toolChoice").filter(|v| !v.is_null()) {
        req.tool_choice = Some(tool_choice(v)?);
    }
    if let Some(v) = body.get("clientTools").filter(|v| !v.is_null()) {
        req.client_tools = client_tools(v)?;
    }
    if let Some(v) = body.get("modelSettings").filter(|v| !v.is_null()) {
        req.settings = model_settings(v)?;
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn options_are_read_and_unknown_keys_ignored() {
        let r = agent_request(&obj(json!({
            "messages": "hi", "maxSteps": 2, "runId": "r1", "instructions": ["a", "b"],
            "system": {"role": "system", "content": "s"}, "memory": {"thread": "t"}, "whatever": 1,
            "toolChoice": {"type": "tool", "toolName": "x"}, "activeTools": ["weatherTool"],
            "clientTools": {"ct": {"description": "d", "inputSchema": {"json": {"type": "object"}}}},
            "modelSettings": {"temperature": 0.5, "maxOutputTokens": 10}
        })))
        .unwrap();
        assert_eq!(r.max_steps, Some(2));
        assert_eq!(r.run_id.as_deref(), Some("r1"));
        assert_eq!(r.instructions.as_deref(), Some("a\n\nb"));
        assert_eq!(r.system, vec!["s".to_string()]);
        assert_eq!(r.tool_choice, Some(ToolChoice::Tool("x".into())));
        assert_eq!(r.client_tools["ct"].input_schema, json!({"type": "object"}));
        assert_eq!(r.settings.max_output_tokens, Some(10));
    }

    #[test]
    fn bad_options_are_400_with_the_field() {
        for (body, field) in [
            (json!({}), "messages"),
            (json!({"messages": null}), "messages"),
            (json!({"messages": 3}), "messages"),
            (json!({"messages": [true]}), "messages.0"),
            (json!({"messages": "x", "maxSteps": "2"}), "maxSteps"),
            (json!({"messages": "x", "runId": 1}), "runId"),
            (
                json!({"messages": "x", "toolChoice": "sometimes"}),
                "toolChoice",
            ),
        ] {
            match agent_request(&obj(body.clone())) {
                Err(ApiError::InvalidBody(issues)) => assert_eq!(issues[0].field, field, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn body_parsing() {
        assert!(json_object(Ok(Bytes::from_static(b"{\"a\":1}"))).is_ok());
        let e = json_object(Ok(Bytes::new())).unwrap_err();
        assert_eq!(
            e,
            ApiError::InvalidBody(vec![Issue::new("body", "Unexpected end of JSON input")])
        );
        let ApiError::InvalidBody(i) = json_object(Ok(Bytes::from_static(b"{nope"))).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(i[0].field, "body");
        let ApiError::InvalidBody(i) = json_object(Ok(Bytes::from_static(b"[1]"))).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(
            i[0],
            Issue::new("root", "Invalid input: expected object, received array")
        );
    }
}
