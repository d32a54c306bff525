//! Tools: the [`Tool`] trait, Mastra-style input validation and the demo [`WeatherTool`].

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use thiserror::Error;

/// Errors from a tool.
#[derive(Debug, Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum ToolError {
    /// The input did not match the tool's input schema.
    #[error("{message}")]
    Validation {
        /// Mastra's message (`Tool input validation failed for <id>. ...`).
        message: String,
        /// Mastra's formatted errors: `{errors: [...], fields: {<key>: {errors, fields}}}`.
        validation_errors: Value,
    },
    /// The tool ran and failed.
    #[error("{0}")]
    Execution(String),
}

impl ToolError {
    /// The JSON Mastra returns (as a 200 body or as the tool result fed to the model):
    /// `{"error": true, "message": ..., "validationErrors"?: ...}`.
    pub fn to_json(&self) -> Value {
        match self {
            ToolError::Validation {
                message,
                validation_errors,
            } => json!({"error": true, "message": message, "validationErrors": validation_errors}),
            ToolError::Execution(message) => json!({"error": true, "message": message}),
        }
    }
}

/// A tool an agent (or an HTTP client) can execute.
#[async_trait]
pub trait Tool: Send + Sync {
    /// Stable id (e.g. `get-weather`), distinct from the key it is registered under.
    fn id(&self) -> &str;
    /// What the tool does (shown to the model).
    fn description(&self) -> &str;
    /// JSON Schema (draft 2020-12) of the input.
    fn input_schema(&self) -> Value;
    /// JSON Schema of the output, if declared.
    fn output_schema(&self) -> Option<Value> {
        None
    }
    /// Whether a human must approve calls (always false here; reported in details).
    fn require_approval(&self) -> bool {
        false
    }
    /// Runs the tool on raw JSON input (validation included).
    async fn execute(&self, input: Value) -> Result<Value, ToolError>;
}

/// One schema violation: a path into the input and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationIssue {
    /// Path segments (object keys or array indices); empty = the root.
    pub path: Vec<String>,
    /// Message in zod's style (`Invalid input: expected string, received undefined`).
    pub message: String,
}

fn type_name(v: Option<&Value>) -> &'static str {
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

fn type_matches(expected: &str, v: &Value) -> bool {
    match expected {
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => {
            v.as_i64().is_some()
                || v.as_u64().is_some()
                || v.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn validate_at(
    schema: &Value,
    value: Option<&Value>,
    path: &mut Vec<String>,
    out: &mut Vec<ValidationIssue>,
) {
    let issue = |path: &Vec<String>, message: String| ValidationIssue {
        path: path.clone(),
        message,
    };
    if let Some(types) = schema.get("type") {
        let expected: Vec<&str> = match types {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !expected.is_empty() {
            let ok = value.is_some_and(|v| expected.iter().any(|t| type_matches(t, v)));
            if !ok {
                out.push(issue(
                    path,
                    format!(
                        "Invalid input: expected {}, received {}",
                        expected.join(" | "),
                        type_name(value)
                    ),
                ));
                return;
            }
        }
    }
    let Some(value) = value else {
        return;
    };
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        let list: Vec<String> = options.iter().map(Value::to_string).collect();
        out.push(issue(
            path,
            format!("Invalid option: expected one of {}", list.join("|")),
        ));
    }
    if let Value::Object(obj) = value {
        let props = schema.get("properties").and_then(Value::as_object);
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(props) = props {
            for (key, sub) in props {
                let child = obj.get(key);
                if child.is_none() && !required.contains(&key.as_str()) {
                    continue;
                }
                path.push(key.clone());
                validate_at(sub, child, path, out);
                path.pop();
            }
        }
        for key in required {
            if props.is_none_or(|p| !p.contains_key(key)) && !obj.contains_key(key) {
                path.push(key.to_string());
                out.push(issue(
                    path,
                    "Invalid input: expected nonoptional, received undefined".into(),
                ));
                path.pop();
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            path.push(i.to_string());
            validate_at(item_schema, Some(item), path, out);
            path.pop();
        }
    }
}

/// Checks `value` against a (small) subset of JSON Schema: `type`, `properties`,
/// `required`, `items`, `enum`. Unknown keywords are ignored; extra properties are
/// allowed (zod strips them rather than failing).
pub fn validate_json(schema: &Value, value: &Value) -> Vec<ValidationIssue> {
    let mut out = Vec::new();
    validate_at(schema, Some(value), &mut Vec::new(), &mut out);
    out
}

/// Mastra's formatted errors tree for `issues`.
fn formatted_errors(issues: &[ValidationIssue]) -> Value {
    #[derive(Default)]
    struct Node {
        errors: Vec<String>,
        fields: BTreeMap<String, Node>,
    }
    fn to_json(n: Node) -> Value {
        let fields: Map<String, Value> =
            n.fields.into_iter().map(|(k, v)| (k, to_json(v))).collect();
        json!({"errors": n.errors, "fields": fields})
    }
    let mut root = Node::default();
    for issue in issues {
        let mut cur = &mut root;
        for seg in &issue.path {
            cur = cur.fields.entry(seg.clone()).or_default();
        }
        cur.errors.push(issue.message.clone());
    }
    to_json(root)
}

/// Validates `input` against `schema` the way Mastra does before running a tool: a
/// `null` input counts as `{}` for object schemas. On failure returns
/// [`ToolError::Validation`] with Mastra's message and `validationErrors` shape.
pub fn validate_tool_input(
    tool_id: &str,
    schema: &Value,
    input: &Value,
) -> Result<Value, ToolError> {
    let normalized =
        if input.is_null() && schema.get("type").and_then(Value::as_str) == Some("object") {
            Value::Object(Map::new())
        } else {
            input.clone()
        };
    let issues = validate_json(schema, &normalized);
    if issues.is_empty() {
        return Ok(normalized);
    }
    let lines: Vec<String> = issues
        .iter()
        .map(|i| {
            let p = if i.path.is_empty() {
                "root".to_string()
            } else {
                i.path.join(".")
            };
            format!("- {p}: {}", i.message)
        })
        .collect();
    let mut provided = serde_json::to_string_pretty(input).unwrap_or_else(|_| "null".into());
    if provided.len() > 200 {
        let mut cut = 200;
        while !provided.is_char_boundary(cut) {
            cut -= 1;
        }
        provided.truncate(cut);
        provided.push_str("... (truncated)");
    }
    Err(ToolError::Validation {
        message: format!(
            "Tool input validation failed for {tool_id}. Please fix the following errors and try again:\n{}\n\nProvided arguments: {provided}",
            lines.join("\n")
        ),
        validation_errors: formatted_errors(&issues),
    })
}

/// The demo weather tool: key `weatherTool`, id `get-weather`, fully offline.
///
/// Input `{"location": string}`; output `{"location", "temperatureC": 21, "conditions": "Sunny"}`
/// (the location is echoed back, exactly like the fake tool in `bench/mastra-node/server.mjs`).
#[derive(Debug, Clone, Default)]
pub struct WeatherTool;

/// Registration key of [`WeatherTool`].
pub const WEATHER_TOOL_KEY: &str = "weatherTool";
/// Id of [`WeatherTool`].
pub const WEATHER_TOOL_ID: &str = "get-weather";

#[async_trait]
impl Tool for WeatherTool {
    fn id(&self) -> &str {
        WEATHER_TOOL_ID
    }

    fn description(&self) -> &str {
        "Get current weather for a location (offline fake)"
    }

    fn input_schema(&self) -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"location": {"type": "string", "description": "City name"}},
            "required": ["location"],
            "additionalProperties": false
        })
    }

    fn output_schema(&self) -> Option<Value> {
        Some(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "temperatureC": {"type": "number"},
                "conditions": {"type": "string"}
            },
            "required": ["location", "temperatureC", "conditions"],
            "additionalProperties": false
        }))
    }

    async fn execute(&self, input: Value) -> Result<Value, ToolError> {
        let input = validate_tool_input(WEATHER_TOOL_ID, &self.input_schema(), &input)?;
        let location = input
            .get("location")
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::Execution("location is missing".into()))?;
        Ok(json!({"location": location, "temperatureC": 21, "conditions": "Sunny"}))
    }
}

/// The built-in tools by registration key (currently `weatherTool`).
pub fn builtin_tools() -> BTreeMap<String, Arc<dyn Tool>> {
    let mut m: BTreeMap<String, Arc<dyn Tool>> = BTreeMap::new();
    m.insert(WEATHER_TOOL_KEY.to_string(), Arc::new(WeatherTool));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn weather_ok() {
        let out = WeatherTool
            .execute(json!({"location": "Paris", "extra": 1}))
            .await
            .unwrap();
        assert_eq!(
            out,
            json!({"location": "Paris", "temperatureC": 21, "conditions": "Sunny"})
        );
    }

    #[tokio::test]
    async fn weather_validation_errors() {
        let err = WeatherTool.execute(json!({})).await.unwrap_err();
        let v = err.to_json();
        assert_eq!(v["error"], true);
        let msg = v["message"].as_str().unwrap();
        assert!(
            msg.starts_with("Tool input validation failed for get-weather."),
            "{msg}"
        );
        assert!(
            msg.contains("- location: Invalid input: expected string, received undefined"),
            "{msg}"
        );
        assert_eq!(
            v["validationErrors"],
            json!({"errors": [], "fields": {"location": {"errors": ["Invalid input: expected string, received undefined"], "fields": {}}}})
        );
        let err = WeatherTool
            .execute(json!({"location": 5}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("expected string, received number"));
        let err = WeatherTool.execute(json!("Paris")).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("- root: Invalid input: expected object, received string")
        );
        // null counts as {} (Mastra normalizes nullish input for object schemas)
        let err = WeatherTool.execute(Value::Null).await.unwrap_err();
        assert!(err.to_string().contains("- location:"));
    }

    #[test]
    fn nested_and_array_paths() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"}}}});
        let issues = validate_json(&schema, &json!({"a": [1, "x", 2.5]}));
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].path, vec!["a", "1"]);
        let f = formatted_errors(&issues);
        assert_eq!(
            f["fields"]["a"]["fields"]["2"]["errors"][0],
            "Invalid input: expected integer, received number"
        );
    }
}
