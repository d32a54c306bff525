//! The request-path normalizer (`mastra_auth::normalize`), and exact pattern matching on its
//! output.
//!
//! Input: a request path (any bytes that are UTF-8; `&str` is what the router sees). Invariants
//! besides "no panic, no hang":
//! - an accepted path's canonical form is a fixpoint with the same decoded form;
//! - the canonical form holds only `/`, RFC 3986 path characters and `%XX` with upper-case hex,
//!   and percent-decoding it gives the decoded form;
//! - the decoded form has no empty segment but a final one, no dot segment, no backslash, no
//!   control character, no surviving escape;
//! - re-encoding a decoded segment for an upstream never yields a dot segment or a `/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mastra_auth::normalize::{encode_segment_for_upstream, normalize_path};
use mastra_auth::pattern::PathPattern;

fn decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = u8::from_str_radix(&s[i + 1..i + 3], 16).expect("canonical escapes are hex");
            out.push(h);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(norm) = normalize_path(raw) else {
        return;
    };
    let canonical = norm.canonical();
    let decoded = norm.decoded();
    let again = normalize_path(canonical).expect("canonical form is accepted");
    assert_eq!(again.canonical(), canonical, "fixpoint: {raw:?}");
    assert_eq!(again.decoded(), decoded, "fixpoint: {raw:?}");
    let cb = canonical.as_bytes();
    for (i, &c) in cb.iter().enumerate() {
        let ok = c.is_ascii_alphanumeric()
            || b"/-._~!$&'()*+,;=:@".contains(&c)
            || (c == b'%'
                && cb.get(i + 1).is_some_and(|x| x.is_ascii_digit() || (b'A'..=b'F').contains(x))
                && cb.get(i + 2).is_some_and(|x| x.is_ascii_digit() || (b'A'..=b'F').contains(x)));
        assert!(ok, "canonical byte {c:#x} in {canonical:?}");
    }
    assert_eq!(decode(canonical), decoded.as_bytes(), "{raw:?}");
    let segments: Vec<&str> = decoded[1..].split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        if seg.is_empty() {
            assert_eq!(i, segments.len() - 1, "empty segment in {decoded:?}");
            continue;
        }
        assert!(!seg.bytes().all(|b| b == b'.'), "dot segment in {decoded:?}");
        assert!(!seg.contains('\\'), "{decoded:?}");
        assert!(!seg.bytes().any(|b| b < 0x20 || b == 0x7f), "{decoded:?}");
        let mut up = String::new();
        encode_segment_for_upstream(seg, &mut up);
        assert!(!up.contains('/') && !up.bytes().all(|b| b == b'.'), "{up:?}");
    }
    // A decoded path read as a pattern: exact matching (exemptions) is never wider than broad
    // matching (protections).
    if let Ok(p) = PathPattern::parse(decoded) {
        for path in [decoded, canonical, &decoded.to_ascii_uppercase()] {
            assert!(p.matches(path) || !p.matches_exact(path), "{decoded:?} {path:?}");
        }
    }
});
