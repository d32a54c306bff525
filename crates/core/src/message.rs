//! Converting the message shapes `@mastra/client-js` sends into [`ChatMessage`]s.
//!
//! Accepted: a string; an array whose items are strings, `{role, content}` with string
//! or parts content (AI SDK model messages: `text`, `tool-call`, `tool-result` parts),
//! UI messages `{role, parts}` (`text`, `tool-invocation`, `tool-<name>` parts) or
//! Mastra's stored form `{role, content: {format: 2, parts, content}}`. Parts that carry
//! no text or tool data (`step-start`, `reasoning`, images, files) are skipped.

use serde_json::Value;
use thiserror::Error;

use crate::model::{ChatMessage, Role, ToolCall};

/// A message that could not be understood, with the dotted path of the offending item.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{path}: {message}")]
pub struct MessageError {
    /// Dotted path relative to the messages value, e.g. `messages.2.role`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: String, message: impl Into<String>) -> MessageError {
    MessageError {
        path,
        message: message.into(),
    }
}

/// Parses a `messages` value (string or array); `field` prefixes error paths.
pub fn parse_messages(value: &Value, field: &str) -> Result<Vec<ChatMessage>, MessageError> {
    match value {
        Value::String(s) => Ok(vec![ChatMessage::user(s.clone())]),
        Value::Array(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                parse_item(item, &format!("{field}.{i}"), &mut out)?;
            }
            Ok(out)
        }
        _ => Err(err(field.to_string(), "Invalid input")),
    }
}

fn parse_role(v: Option<&Value>, path: &str) -> Result<Role, MessageError> {
    match v {
        None | Some(Value::Null) => Ok(Role::User),
        Some(Value::String(s)) => match s.as_str() {
            "user" => Ok(Role::User),
            "assistant" => Ok(Role::Assistant),
            "system" | "developer" => Ok(Role::System),
            "tool" => Ok(Role::Tool),
            _ => Err(err(
                format!("{path}.role"),
                "Invalid option: expected one of \"system\"|\"user\"|\"assistant\"|\"tool\"",
            )),
        },
        Some(_) => Err(err(
            format!("{path}.role"),
            "Invalid input: expected string",
        )),
    }
}

/// The value of a tool-result part: `output: {type, value}`, `output`, or `result`.
fn tool_output(part: &Value) -> Value {
    if let Some(out) = part.get("output") {
        if let Some(v) = out.get("value")
            && out.get("type").is_some()
        {
            return v.clone();
        }
        return out.clone();
    }
    part.get("result").cloned().unwrap_or(Value::Null)
}

fn str_field(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// Collects assistant text and tool calls, flushing (assistant message + tool results)
/// whenever text follows a completed tool round, so the order stays model-valid.
struct Builder<'a> {
    role: Role,
    out: &'a mut Vec<ChatMessage>,
    text: String,
    calls: Vec<ToolCall>,
    results: Vec<ChatMessage>,
}

impl Builder<'_> {
    fn flush(&mut self) {
        match self.role {
            Role::Tool => {}
            Role::Assistant => {
                if !self.text.is_empty() || !self.calls.is_empty() {
                    self.out.push(ChatMessage::assistant_with_tool_calls(
                        std::mem::take(&mut self.text),
                        std::mem::take(&mut self.calls),
                    ));
                }
            }
            role => {
                if !self.text.is_empty() {
                    self.out
                        .push(ChatMessage::new(role, std::mem::take(&mut self.text)));
                }
            }
        }
        self.out.append(&mut self.results);
    }

    fn text(&mut self, t: &str) {
        if !self.results.is_empty() {
            self.flush();
        }
        self.text.push_str(t);
    }

    fn call(&mut self, call: ToolCall, result: Option<Value>) {
        if let Some(r) = result {
            self.results.push(ChatMessage::tool_result(
                call.id.clone(),
                call.name.clone(),
                &r,
            ));
            self.calls.push(call);
        } else if self.role == Role::Assistant {
            // A call without a result is only meaningful as the latest turn; keep it so
            // the conversation shows what was asked, models tolerate it at the end.
            self.calls.push(call);
        }
    }
}

fn parse_parts(parts: &[Value], b: &mut Builder<'_>) {
    for part in parts {
        if let Value::String(s) = part {
            b.text(s);
            continue;
        }
        let ty = part.get("type").and_then(Value::as_str).unwrap_or("");
        match ty {
            "text" => {
                if let Some(t) = part.get("text").and_then(Value::as_str) {
                    b.text(t);
                }
            }
            "tool-call" => {
                let (Some(id), Some(name)) =
                    (str_field(part, "toolCallId"), str_field(part, "toolName"))
                else {
                    continue;
                };
                let args = part
                    .get("input")
                    .or_else(|| part.get("args"))
                    .cloned()
                    .unwrap_or(Value::Null);
                b.call(ToolCall { id, name, args }, None);
            }
            "tool-result" => {
                let (Some(id), Some(name)) =
                    (str_field(part, "toolCallId"), str_field(part, "toolName"))
                else {
                    continue;
                };
                b.results
                    .push(ChatMessage::tool_result(id, name, &tool_output(part)));
            }
            "tool-invocation" => {
                let Some(inv) = part.get("toolInvocation") else {
                    continue;
                };
                let (Some(id), Some(name)) =
                    (str_field(inv, "toolCallId"), str_field(inv, "toolName"))
                else {
                    continue;
                };
                let args = inv.get("args").cloned().unwrap_or(Value::Null);
                let result = (inv.get("state").and_then(Value::as_str) == Some("result"))
                    .then(|| inv.get("result").cloned().unwrap_or(Value::Null));
                b.call(ToolCall { id, name, args }, result);
            }
            t if t.starts_with("tool-") => {
                // AI SDK v5 UI part `tool-<name>` with `state: output-available`.
                let Some(id) = str_field(part, "toolCallId") else {
                    continue;
                };
                let name = t["tool-".len()..].to_string();
                let args = part.get("input").cloned().unwrap_or(Value::Null);
                let result = (part.get("state").and_then(Value::as_str)
                    == Some("output-available"))
                .then(|| part.get("output").cloned().unwrap_or(Value::Null));
                b.call(ToolCall { id, name, args }, result);
            }
            _ => {}
        }
    }
}

fn parse_item(item: &Value, path: &str, out: &mut Vec<ChatMessage>) -> Result<(), MessageError> {
    let obj = match item {
        Value::String(s) => {
            out.push(ChatMessage::user(s.clone()));
            return Ok(());
        }
        Value::Object(o) => o,
        _ => return Err(err(path.to_string(), "Invalid input")),
    };
    let role = parse_role(obj.get("role"), path)?;
    let mut b = Builder {
        role,
        out,
        text: String::new(),
        calls: Vec::new(),
        results: Vec::new(),
    };
    match obj.get("content") {
        Some(Value::String(s)) => {
            if role == Role::Tool {
                // A bare tool message: content is the result; needs a call id.
                let id = str_field(item, "tool_call_id")
                    .or_else(|| str_field(item, "toolCallId"))
                    .ok_or_else(|| {
                        err(
                            format!("{path}.content"),
                            "Invalid input: a tool message needs tool-result parts",
                        )
                    })?;
                let name = str_field(item, "name")
                    .or_else(|| str_field(item, "toolName"))
                    .unwrap_or_default();
                let value = serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()));
                b.results.push(ChatMessage::tool_result(id, name, &value));
            } else {
                b.text(s);
            }
        }
        Some(Value::Array(parts)) => parse_parts(parts, &mut b),
        Some(Value::Object(stored)) => {
            // Mastra's stored form {format: 2, parts, content}.
            if let Some(parts) = stored.get("parts").and_then(Value::as_array) {
                parse_parts(parts, &mut b);
            } else if let Some(s) = stored.get("content").and_then(Value::as_str) {
                b.text(s);
            } else {
                return Err(err(format!("{path}.content"), "Invalid input"));
            }
        }
        None | Some(Value::Null) => match obj.get("parts").and_then(Value::as_array) {
            Some(parts) => parse_parts(parts, &mut b),
            None => {
                return Err(err(
                    format!("{path}.content"),
                    "Invalid input: expected string or array, received undefined",
                ));
            }
        },
        Some(_) => {
            return Err(err(
                format!("{path}.content"),
                "Invalid input: expected string or array",
            ));
        }
    }
    b.flush();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Vec<ChatMessage> {
        parse_messages(&v, "messages").unwrap()
    }

    #[test]
    fn strings_and_role_messages() {
        assert_eq!(parse(json!("hi")), vec![ChatMessage::user("hi")]);
        assert_eq!(
            parse(json!(["a", "b"])),
            vec![ChatMessage::user("a"), ChatMessage::user("b")]
        );
        assert_eq!(
            parse(
                json!([{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "x"}, {"type": "text", "text": "y"}]}])
            ),
            vec![ChatMessage::system("s"), ChatMessage::user("xy")]
        );
    }

    #[test]
    fn bad_shapes() {
        assert_eq!(
            parse_messages(&json!(5), "messages").unwrap_err().path,
            "messages"
        );
        assert_eq!(
            parse_messages(&json!([1]), "messages").unwrap_err().path,
            "messages.0"
        );
        assert_eq!(
            parse_messages(&json!([{"role": "robot", "content": "x"}]), "messages")
                .unwrap_err()
                .path,
            "messages.0.role"
        );
    }

    #[test]
    fn model_messages_with_tools() {
        let msgs = parse(json!([
            {"role": "user", "content": "weather Rome"},
            {"role": "assistant", "content": [{"type": "tool-call", "toolCallId": "c1", "toolName": "weatherTool", "input": {"location": "Rome"}}]},
            {"role": "tool", "content": [{"type": "tool-result", "toolCallId": "c1", "toolName": "weatherTool", "output": {"type": "json", "value": {"t": 1}}}]},
            {"role": "tool", "content": [{"type": "tool-result", "toolCallId": "c2", "toolName": "x", "result": 7}]}
        ]));
        assert_eq!(msgs.len(), 4);
        assert_eq!(msgs[1].tool_calls[0].args, json!({"location": "Rome"}));
        assert_eq!(msgs[2].content, r#"{"t":1}"#);
        assert_eq!(msgs[3].content, "7");
    }

    #[test]
    fn ui_message_with_invocation_then_text() {
        let msgs = parse(json!([{"id": "m", "role": "assistant", "parts": [
            {"type": "tool-invocation", "toolInvocation": {"state": "result", "toolCallId": "c1", "toolName": "w", "args": {}, "result": {"ok": true}}},
            {"type": "step-start"},
            {"type": "text", "text": "done"}
        ]}]));
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[0].tool_calls.len(), 1);
        assert_eq!(msgs[1].role, Role::Tool);
        assert_eq!(msgs[2], ChatMessage::assistant("done"));
    }
}
