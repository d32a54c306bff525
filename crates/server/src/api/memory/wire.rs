//! Memory's JSON shapes, as the Mastra 1.x server writes and reads them: threads
//! `{id, title, resourceId, createdAt, updatedAt, metadata}`, messages
//! `{id, type, createdAt, threadId, resourceId, role, content}` with Mastra's
//! `{format: 2, parts, content}` content, and the list queries' parameters.

use mastra_core::util::iso8601_ms;
use mastra_core::{ChatMessage, Role};
use mastra_memory::{Direction, Message, Page, Paging, Thread, ThreadOrder};
use serde_json::{Map, Value, json};

use crate::api::Issue;

fn iso(ms: i64) -> String {
    iso8601_ms(u64::try_from(ms).unwrap_or(0))
}

/// A thread as Mastra serializes it (no `metadata` key when there is none).
pub(super) fn thread_json(t: &Thread) -> Value {
    let mut v = json!({
        "id": t.id,
        "title": t.title,
        "resourceId": t.resource_id,
        "createdAt": iso(t.created_at_ms),
        "updatedAt": iso(t.updated_at_ms),
    });
    if let (Some(obj), Some(meta)) = (v.as_object_mut(), &t.metadata) {
        obj.insert("metadata".into(), meta.clone());
    }
    if t.title.is_none()
        && let Some(obj) = v.as_object_mut()
    {
        obj.remove("title");
    }
    v
}

/// A stored message as Mastra serializes it.
pub(super) fn message_json(m: &Message) -> Value {
    json!({
        "id": m.id,
        "type": m.kind,
        "createdAt": iso(m.created_at_ms),
        "threadId": m.thread_id,
        "resourceId": m.resource_id,
        "role": m.role,
        "content": m.content,
    })
}

/// `{threads, total, page, perPage, hasMore}`.
pub(super) fn threads_page_json(p: &Page<Thread>) -> Value {
    json!({
        "threads": p.items.iter().map(thread_json).collect::<Vec<_>>(),
        "total": p.total,
        "page": p.page,
        "perPage": per_page_json(p.per_page),
        "hasMore": p.has_more(),
    })
}

/// `{messages, total, page, perPage, hasMore, uiMessages}`; each page oldest first, as Mastra
/// answers whatever the direction pages are counted in.
pub(super) fn messages_page_json(p: &Page<Message>, direction: Direction) -> Value {
    let mut items: Vec<Value> = p.items.iter().map(message_json).collect();
    if direction == Direction::Desc {
        items.reverse();
    }
    json!({
        "messages": items,
        "total": p.total,
        "page": p.page,
        "perPage": per_page_json(p.per_page),
        "hasMore": p.has_more(),
        "uiMessages": null,
    })
}

fn per_page_json(n: Option<u64>) -> Value {
    n.map_or(Value::Bool(false), Value::from)
}

/// Mastra's stored content for a text: `{format: 2, parts: [{type: "text", text}], content}`.
pub(super) fn text_content(text: &str) -> Value {
    json!({"format": 2, "parts": [{"type": "text", "text": text}], "content": text})
}

/// The text of stored content: its `content` string, else its text parts joined, else a
/// plain string content.
pub(super) fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Object(o) => match o.get("content") {
            Some(Value::String(s)) => s.clone(),
            _ => o
                .get("parts")
                .and_then(Value::as_array)
                .map(|parts| {
                    parts
                        .iter()
                        .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                        .filter_map(|p| p.get("text").and_then(Value::as_str))
                        .collect::<Vec<_>>()
                        .join("")
                })
                .unwrap_or_default(),
        },
        _ => String::new(),
    }
}

/// A remembered message as the model sees it; tool messages are left out (their calls are not
/// remembered either).
pub(super) fn chat_message(m: &Message) -> Option<ChatMessage> {
    let role = match m.role.as_str() {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "system" => Role::System,
        _ => return None,
    };
    Some(ChatMessage::new(role, content_text(&m.content)))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (what `Date.toISOString` writes) into milliseconds since
/// the Unix epoch.
pub(super) fn parse_iso8601_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = s.get(19..)?;
    let millis = match rest.strip_prefix('.') {
        Some(frac) => {
            let digits = frac.strip_suffix('Z')?;
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let padded: String = digits.chars().chain("000".chars()).take(3).collect();
            padded.parse::<i64>().ok()?
        }
        None if rest == "Z" => 0,
        None => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec) * 1000) + millis)
}

/// The query parameters of a request, in order.
pub(super) type Query = Vec<(String, String)>;

fn param<'a>(q: &'a Query, name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A non-empty query parameter.
pub(super) fn text_param(q: &Query, name: &str) -> Option<String> {
    param(q, name).filter(|v| !v.is_empty()).map(str::to_owned)
}

fn number(q: &Query, name: &str, issues: &mut Vec<Issue>) -> Option<u64> {
    let v = param(q, name)?;
    match v.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            issues.push(Issue::new(
                name,
                "Invalid input: expected a non-negative integer",
            ));
            None
        }
    }
}

/// `page` and `perPage` (`false` for everything), with their defaults.
pub(super) fn paging(q: &Query, default_per_page: u64, issues: &mut Vec<Issue>) -> Paging {
    let page = number(q, "page", issues).unwrap_or(0);
    let per_page = if param(q, "perPage") == Some("false") {
        None
    } else {
        Some(number(q, "perPage", issues).unwrap_or(default_per_page))
    };
    Paging { page, per_page }
}

fn direction(v: &str, name: &str, issues: &mut Vec<Issue>) -> Option<Direction> {
    match v.to_ascii_uppercase().as_str() {
        "ASC" => Some(Direction::Asc),
        "DESC" => Some(Direction::Desc),
        _ => {
            issues.push(Issue::new(
                name,
                "Invalid input: expected \"ASC\" or \"DESC\"",
            ));
            None
        }
    }
}

/// A thread listing's sort: `orderBy[field]`/`orderBy[direction]` (client 1.x), or
/// `orderBy=<field>` with `sortDirection` (older clients), or `orderBy` as JSON.
pub(super) fn thread_order(q: &Query, issues: &mut Vec<Issue>) -> (ThreadOrder, Direction) {
    let mut field = param(q, "orderBy[field]").map(str::to_owned);
    let mut dir = param(q, "orderBy[direction]")
        .or_else(|| param(q, "sortDirection"))
        .map(str::to_owned);
    if let Some(v) = param(q, "orderBy") {
        match serde_json::from_str::<Map<String, Value>>(v) {
            Ok(o) => {
                field = o
                    .get("field")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or(field);
                dir = o
                    .get("direction")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or(dir);
            }
            Err(_) => field = Some(v.to_owned()),
        }
    }
    let order = match field.as_deref() {
        None | Some("createdAt") => ThreadOrder::CreatedAt,
        Some("updatedAt") => ThreadOrder::UpdatedAt,
        Some(_) => {
            issues.push(Issue::new(
                "orderBy",
                "Invalid input: expected \"createdAt\" or \"updatedAt\"",
            ));
            ThreadOrder::CreatedAt
        }
    };
    let direction = dir
        .and_then(|d| direction(&d, "orderBy.direction", issues))
        .unwrap_or(Direction::Desc);
    (order, direction)
}

/// A message listing's direction: `orderBy={"field":"createdAt","direction":"ASC"}`; pages
/// count from the newest by default, as Mastra's do.
pub(super) fn message_direction(q: &Query, issues: &mut Vec<Issue>) -> Direction {
    let Some(v) = param(q, "orderBy") else {
        return Direction::Desc;
    };
    match serde_json::from_str::<Map<String, Value>>(v) {
        Ok(o) => o
            .get("direction")
            .and_then(Value::as_str)
            .and_then(|d| direction(d, "orderBy.direction", issues))
            .unwrap_or(Direction::Desc),
        Err(_) => {
            issues.push(Issue::new(
                "orderBy",
                "Invalid input: expected a JSON object",
            ));
            Direction::Desc
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_round_trip() {
        for ms in [0i64, 951_782_400_000, 1_795_423_659_788, 4_102_444_800_123] {
            let s = iso(ms);
            assert_eq!(parse_iso8601_ms(&s), Some(ms), "{s}");
        }
        assert_eq!(
            parse_iso8601_ms("2026-01-01T00:00:00Z"),
            Some(1_767_225_600_000)
        );
        for bad in [
            "",
            "2026-01-01",
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00+02:00",
            "x026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.Z",
        ] {
            assert_eq!(parse_iso8601_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn content_text_reads_both_shapes() {
        assert_eq!(content_text(&text_content("hi")), "hi");
        let parts = json!({"format": 2, "parts": [{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}]});
        assert_eq!(content_text(&parts), "ab");
        assert_eq!(content_text(&json!("plain")), "plain");
    }

    #[test]
    fn thread_order_reads_every_spelling() {
        let q = |pairs: &[(&str, &str)]| -> Query {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let mut issues = vec![];
        assert_eq!(
            thread_order(
                &q(&[
                    ("orderBy[field]", "updatedAt"),
                    ("orderBy[direction]", "ASC")
                ]),
                &mut issues
            ),
            (ThreadOrder::UpdatedAt, Direction::Asc)
        );
        assert_eq!(
            thread_order(
                &q(&[("orderBy", "updatedAt"), ("sortDirection", "asc")]),
                &mut issues
            ),
            (ThreadOrder::UpdatedAt, Direction::Asc)
        );
        assert_eq!(
            thread_order(&q(&[]), &mut issues),
            (ThreadOrder::CreatedAt, Direction::Desc)
        );
        assert!(issues.is_empty());
        thread_order(&q(&[("orderBy", "title")]), &mut issues);
        assert_eq!(issues.len(), 1);
        let p = paging(&q(&[("page", "2"), ("perPage", "false")]), 40, &mut issues);
        assert_eq!((p.page, p.per_page), (2, None));
        paging(&q(&[("perPage", "abc")]), 40, &mut issues);
        assert_eq!(issues.len(), 2);
    }
}
