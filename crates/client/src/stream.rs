//! Agent streams: SSE frames (`data: {...}` records, ended by `data: [DONE]`) decoded into
//! typed chunks.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::{Stream, StreamExt};
use serde_json::Value;

use crate::error::ClientError;
use crate::types::{Chunk, Usage};

/// What a chunk means, decoded from its `type` and `payload`. The raw envelope stays
/// available in [`StreamChunk::chunk`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChunkKind {
    /// `start`: the run began.
    Start,
    /// `step-start`: a model call began.
    StepStart,
    /// `text-start`: a text part with this id begins.
    TextStart {
        /// Text part id.
        id: String,
    },
    /// `text-delta`: more text.
    TextDelta {
        /// Text part id.
        id: String,
        /// The new text.
        text: String,
    },
    /// `text-end`: the text part is complete.
    TextEnd {
        /// Text part id.
        id: String,
    },
    /// `reasoning-delta`: more reasoning text.
    ReasoningDelta {
        /// The new reasoning text.
        text: String,
    },
    /// `tool-call-input-streaming-start`: the model started writing a tool call.
    ToolCallInputStart {
        /// Tool call id.
        tool_call_id: String,
        /// Tool name.
        tool_name: String,
    },
    /// `tool-call-delta`: a piece of the tool call's JSON arguments.
    ToolCallDelta {
        /// Tool call id.
        tool_call_id: String,
        /// The new argument text.
        args_text_delta: String,
    },
    /// `tool-call-input-streaming-end`.
    ToolCallInputEnd {
        /// Tool call id.
        tool_call_id: String,
    },
    /// `tool-call`: the complete call.
    ToolCall {
        /// Tool call id.
        tool_call_id: String,
        /// Tool name (the agent's tool key).
        tool_name: String,
        /// Arguments.
        args: Value,
    },
    /// `tool-result`: a tool ran on the server.
    ToolResult {
        /// Tool call id.
        tool_call_id: String,
        /// Tool name.
        tool_name: String,
        /// The tool's result.
        result: Value,
    },
    /// `step-finish`: a model call ended.
    StepFinish {
        /// `stepResult.reason` (`stop`, `tool-calls`, ...).
        reason: Option<String>,
    },
    /// `finish`: the run ended.
    Finish {
        /// `stepResult.reason`.
        reason: Option<String>,
        /// `usage` (summed over steps).
        usage: Option<Usage>,
        /// `output.text`: the full final text.
        text: Option<String>,
    },
    /// `error`: the run failed after the stream started; the stream ends after it.
    Error {
        /// The error message.
        message: String,
    },
    /// Any other chunk type (`file`, `source`, `tripwire`, `data`, ...): see the envelope.
    Other,
}

/// One chunk of an agent stream: the raw envelope and its decoded meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamChunk {
    /// `{type, runId, from, payload}` as received.
    pub chunk: Chunk,
    /// The decoded chunk.
    pub kind: ChunkKind,
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn error_message(payload: &Value) -> String {
    match payload.get("error") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| Value::Object(o.clone()).to_string()),
        Some(other) => other.to_string(),
        None => payload.to_string(),
    }
}

impl StreamChunk {
    /// Decodes an envelope.
    pub fn from_chunk(chunk: Chunk) -> Self {
        let p = &chunk.payload;
        let reason = || {
            p.pointer("/stepResult/reason")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let kind = match chunk.kind.as_str() {
            "start" => ChunkKind::Start,
            "step-start" => ChunkKind::StepStart,
            "text-start" => ChunkKind::TextStart {
                id: str_of(p, "id"),
            },
            "text-delta" => ChunkKind::TextDelta {
                id: str_of(p, "id"),
                text: str_of(p, "text"),
            },
            "text-end" => ChunkKind::TextEnd {
                id: str_of(p, "id"),
            },
            "reasoning-delta" => ChunkKind::ReasoningDelta {
                text: str_of(p, "text"),
            },
            "tool-call-input-streaming-start" => ChunkKind::ToolCallInputStart {
                tool_call_id: str_of(p, "toolCallId"),
                tool_name: str_of(p, "toolName"),
            },
            "tool-call-delta" => ChunkKind::ToolCallDelta {
                tool_call_id: str_of(p, "toolCallId"),
                args_text_delta: str_of(p, "argsTextDelta"),
            },
            "tool-call-input-streaming-end" => ChunkKind::ToolCallInputEnd {
                tool_call_id: str_of(p, "toolCallId"),
            },
            "tool-call" => ChunkKind::ToolCall {
                tool_call_id: str_of(p, "toolCallId"),
                tool_name: str_of(p, "toolName"),
                args: p.get("args").cloned().unwrap_or(Value::Null),
            },
            "tool-result" => ChunkKind::ToolResult {
                tool_call_id: str_of(p, "toolCallId"),
                tool_name: str_of(p, "toolName"),
                result: p.get("result").cloned().unwrap_or(Value::Null),
            },
            "step-finish" => ChunkKind::StepFinish { reason: reason() },
            "finish" => ChunkKind::Finish {
                reason: reason(),
                usage: p
                    .get("usage")
                    .and_then(|u| serde_json::from_value(u.clone()).ok()),
                text: p
                    .pointer("/output/text")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            "error" => ChunkKind::Error {
                message: error_message(p),
            },
            _ => ChunkKind::Other,
        };
        StreamChunk { chunk, kind }
    }

    /// The chunk's `type`.
    pub fn chunk_type(&self) -> &str {
        &self.chunk.kind
    }

    /// The text of a `text-delta` chunk.
    pub fn text_delta(&self) -> Option<&str> {
        match &self.kind {
            ChunkKind::TextDelta { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// One SSE event's `data`, or the end marker.
#[derive(Debug, PartialEq)]
pub(crate) enum SseEvent {
    Data(String),
    Done,
}

/// Incremental SSE parser (the WHATWG rules, with LF or CRLF line ends): a blank line
/// dispatches the event; its `data:` lines are joined with `\n`, one space after the colon
/// dropped; comments (`:...`) and other fields are ignored.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    buf: Vec<u8>,
    data: Option<String>,
}

impl SseDecoder {
    /// Feeds bytes; returns the events completed by them.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut start = 0;
        while let Some(nl) = self.buf[start..].iter().position(|&b| b == b'\n') {
            let mut line = &self.buf[start..start + nl];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            let line = String::from_utf8_lossy(line).into_owned();
            start += nl + 1;
            self.line(&line, &mut out);
        }
        self.buf.drain(..start);
        out
    }

    /// The end of the body: an event not yet terminated by a blank line is dispatched.
    pub(crate) fn finish(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if !self.buf.is_empty() {
            let rest = String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned();
            self.line(rest.trim_end_matches('\r'), &mut out);
        }
        self.line("", &mut out);
        out
    }

    fn line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                out.push(if data == "[DONE]" {
                    SseEvent::Done
                } else {
                    SseEvent::Data(data)
                });
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        if field == "data" {
            match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            }
        }
    }
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<StreamChunk, ClientError>> + Send>>;

/// The chunks of `POST /api/agents/{id}/stream`, in order, until `[DONE]` or the end of
/// the body. A [`futures::Stream`] of `Result<StreamChunk, ClientError>`; an `error` chunk
/// is yielded as [`ChunkKind::Error`] (use [`AgentStream::text`] to turn it into an error).
pub struct AgentStream {
    inner: ChunkStream,
    content_type: Option<String>,
}

impl std::fmt::Debug for AgentStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentStream")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

struct State<S> {
    body: S,
    decoder: SseDecoder,
    pending: VecDeque<Result<StreamChunk, ClientError>>,
    finished: bool,
    url: String,
}

impl<S> State<S> {
    fn take(&mut self, events: Vec<SseEvent>) {
        for ev in events {
            match ev {
                SseEvent::Done => {
                    self.finished = true;
                    return;
                }
                SseEvent::Data(data) => {
                    let item = serde_json::from_str::<Chunk>(&data)
                        .map(StreamChunk::from_chunk)
                        .map_err(|e| ClientError::Decode {
                            url: self.url.clone(),
                            message: format!("stream frame is not a chunk: {e}"),
                        });
                    self.pending.push_back(item);
                }
            }
        }
    }
}

impl AgentStream {
    /// Decodes a byte stream of SSE frames.
    pub(crate) fn from_bytes<S>(body: S, url: String, content_type: Option<String>) -> Self
    where
        S: Stream<Item = Result<Bytes, reqwest::Error>> + Send + Unpin + 'static,
    {
        let state = State {
            body,
            decoder: SseDecoder::default(),
            pending: VecDeque::new(),
            finished: false,
            url,
        };
        let inner = futures::stream::unfold(state, |mut st| async move {
            loop {
                if let Some(item) = st.pending.pop_front() {
                    return Some((item, st));
                }
                if st.finished {
                    return None;
                }
                match st.body.next().await {
                    Some(Ok(bytes)) => {
                        let events = st.decoder.push(&bytes);
                        st.take(events);
                    }
                    Some(Err(source)) => {
                        st.finished = true;
                        let url = st.url.clone();
                        return Some((Err(ClientError::Transport { url, source }), st));
                    }
                    None => {
                        let events = st.decoder.finish();
                        st.take(events);
                        st.finished = true;
                    }
                }
            }
        });
        AgentStream {
            inner: Box::pin(inner),
            content_type,
        }
    }

    /// The response's `content-type` (`text/event-stream`).
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// Reads the stream to the end and returns the concatenated `text-delta` text; an
    /// `error` chunk becomes [`ClientError::Stream`].
    pub async fn text(mut self) -> Result<String, ClientError> {
        let mut text = String::new();
        while let Some(chunk) = self.next().await {
            let chunk = chunk?;
            match chunk.kind {
                ChunkKind::TextDelta { text: t, .. } => text.push_str(&t),
                ChunkKind::Error { message } => return Err(ClientError::Stream { message }),
                _ => {}
            }
        }
        Ok(text)
    }
}

impl Stream for AgentStream {
    type Item = Result<StreamChunk, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(events: Vec<SseEvent>) -> Vec<String> {
        events
            .into_iter()
            .map(|e| match e {
                SseEvent::Data(d) => d,
                SseEvent::Done => "[DONE]".into(),
            })
            .collect()
    }

    #[test]
    fn frames_split_anywhere_decode_the_same() {
        let wire = ": connected\n\ndata: {\"a\":1}\n\ndata:{\"b\":2}\r\n\r\nevent: x\nid: 3\ndata: {\"c\":\ndata: 3}\n\n: keepalive\n\ndata: [DONE]\n\ndata: {\"after\":true}\n\n";
        let whole = data(SseDecoder::default().push(wire.as_bytes()));
        assert_eq!(
            whole,
            vec![
                r#"{"a":1}"#,
                r#"{"b":2}"#,
                "{\"c\":\n3}",
                "[DONE]",
                r#"{"after":true}"#
            ]
        );
        for split in 0..wire.len() {
            let mut d = SseDecoder::default();
            let mut got = data(d.push(&wire.as_bytes()[..split]));
            got.extend(data(d.push(&wire.as_bytes()[split..])));
            got.extend(data(d.finish()));
            assert_eq!(got, whole, "split at {split}");
        }
    }

    #[test]
    fn unterminated_last_frame_is_dispatched_at_the_end() {
        let mut d = SseDecoder::default();
        assert!(d.push(b"data: {\"x\":1}").is_empty());
        assert_eq!(data(d.finish()), vec![r#"{"x":1}"#]);
    }

    #[test]
    fn chunks_decode_to_kinds() {
        let chunk = |v: Value| StreamChunk::from_chunk(serde_json::from_value(v).unwrap());
        let c = chunk(
            json!({"type": "text-delta", "runId": "r", "from": "AGENT", "payload": {"id": "1", "text": "Hi"}}),
        );
        assert_eq!(c.text_delta(), Some("Hi"));
        assert_eq!(c.chunk.run_id.as_deref(), Some("r"));
        let c = chunk(json!({"type": "finish", "payload": {
            "stepResult": {"reason": "stop"}, "usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3},
            "output": {"text": "Hi"}}}));
        assert_eq!(
            c.kind,
            ChunkKind::Finish {
                reason: Some("stop".into()),
                usage: Some(Usage {
                    input_tokens: Some(1),
                    output_tokens: Some(2),
                    total_tokens: Some(3)
                }),
                text: Some("Hi".into())
            }
        );
        let c = chunk(
            json!({"type": "error", "payload": {"error": {"name": "Error", "message": "boom"}}}),
        );
        assert_eq!(
            c.kind,
            ChunkKind::Error {
                message: "boom".into()
            }
        );
        let c = chunk(json!({"type": "error", "payload": {"error": "plain"}}));
        assert_eq!(
            c.kind,
            ChunkKind::Error {
                message: "plain".into()
            }
        );
        let c = chunk(
            json!({"type": "tool-call", "payload": {"toolCallId": "c1", "toolName": "w", "args": {"a": 1}}}),
        );
        assert_eq!(
            c.kind,
            ChunkKind::ToolCall {
                tool_call_id: "c1".into(),
                tool_name: "w".into(),
                args: json!({"a": 1})
            }
        );
        assert_eq!(
            chunk(json!({"type": "source", "payload": {}})).kind,
            ChunkKind::Other
        );
    }

    #[tokio::test]
    async fn stream_stops_at_done_and_reports_bad_frames() {
        let parts: Vec<Result<Bytes, reqwest::Error>> = vec![
            Ok(Bytes::from_static(
                b"data: {\"type\":\"text-delta\",\"payload\":{\"id\":\"1\",\"text\":\"a\"}}\n\ndata: not json\n\n",
            )),
            Ok(Bytes::from_static(
                b"data: {\"type\":\"text-delta\",\"payload\":{\"id\":\"1\",\"text\":\"b\"}}\n\ndata: [DONE]\n\ndata: {\"type\":\"x\"}\n\n",
            )),
        ];
        let s = AgentStream::from_bytes(futures::stream::iter(parts), "u".into(), None);
        let items: Vec<_> = s.collect().await;
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].as_ref().unwrap().text_delta(), Some("a"));
        assert!(matches!(items[1], Err(ClientError::Decode { .. })));
        assert_eq!(items[2].as_ref().unwrap().text_delta(), Some("b"));
    }
}
