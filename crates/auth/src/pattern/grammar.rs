//! The pattern grammar: translating a regexparam-style pattern into the body of a regex.

use super::PatternError;

/// Translates a pattern into the body of a regex (without anchors and flags).
pub(super) fn compile_pattern(pattern: &str) -> Result<String, PatternError> {
    if pattern.is_empty() {
        return Err(PatternError::Empty);
    }
    let Some(rest) = pattern.strip_prefix('/') else {
        return Err(PatternError::NoLeadingSlash(pattern.to_owned()));
    };
    // One trailing slash in the pattern is the same as none: matching allows one anyway.
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut out = String::with_capacity(pattern.len() * 2);
    if rest.is_empty() {
        return Ok(out);
    }
    let bad = |segment: &str, reason: &'static str| PatternError::BadSegment {
        pattern: pattern.to_owned(),
        segment: segment.to_owned(),
        reason,
    };
    for segment in rest.split('/') {
        if segment.is_empty() {
            return Err(PatternError::EmptySegment(pattern.to_owned()));
        }
        if let Some(after) = segment.strip_prefix('*') {
            match after {
                "" => out.push_str("/.*"),
                "?" => out.push_str("(?:/.*)?"),
                _ => {
                    return Err(bad(
                        segment,
                        "has characters after `*`; `*` must end a segment",
                    ));
                }
            }
        } else if let Some(param) = segment.strip_prefix(':') {
            let (name_part, ext) = match param.find('.') {
                Some(i) => (&param[..i], Some(&param[i..])),
                None => (param, None),
            };
            let (name, optional) = match name_part.strip_suffix('?') {
                Some(n) => (n, true),
                None => (name_part, false),
            };
            push_param(&mut out, pattern, segment, name, optional, ext)?;
        } else if let Some(inner) = segment.strip_prefix('{') {
            let Some(close) = inner.find('}') else {
                return Err(bad(segment, "opens `{` without closing it"));
            };
            let (name_part, tail) = (&inner[..close], &inner[close + 1..]);
            if let Some(catch_all) = name_part.strip_prefix('*') {
                if catch_all.is_empty() {
                    return Err(PatternError::EmptyParamName {
                        pattern: pattern.to_owned(),
                        segment: segment.to_owned(),
                    });
                }
                if !tail.is_empty() {
                    return Err(bad(segment, "has characters after a `{*name}` catch-all"));
                }
                out.push_str("/.*");
                continue;
            }
            let ext = if tail.is_empty() {
                None
            } else if tail.starts_with('.') {
                Some(tail)
            } else {
                return Err(bad(segment, "may only have a `.ext` suffix after `}`"));
            };
            let (name, optional) = match name_part.strip_suffix('?') {
                Some(n) => (n, true),
                None => (name_part, false),
            };
            push_param(&mut out, pattern, segment, name, optional, ext)?;
        } else {
            if segment.contains(['{', '}']) {
                return Err(bad(
                    segment,
                    "has a brace that is not a whole `{name}` parameter",
                ));
            }
            match segment.find('*') {
                None => {
                    out.push('/');
                    out.push_str(&regex::escape(segment));
                }
                Some(i) if i == segment.len() - 1 => {
                    out.push('/');
                    out.push_str(&regex::escape(&segment[..i]));
                    out.push_str(".*");
                }
                Some(_) => {
                    return Err(bad(
                        segment,
                        "has characters after `*`; `*` must end a segment",
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Appends one parameter segment (`:name`, `{name}`, optional, with an optional suffix).
fn push_param(
    out: &mut String,
    pattern: &str,
    segment: &str,
    name: &str,
    optional: bool,
    ext: Option<&str>,
) -> Result<(), PatternError> {
    if name.is_empty() {
        return Err(PatternError::EmptyParamName {
            pattern: pattern.to_owned(),
            segment: segment.to_owned(),
        });
    }
    if name.contains(['?', '*', '{', '}', ':']) {
        return Err(PatternError::BadSegment {
            pattern: pattern.to_owned(),
            segment: segment.to_owned(),
            reason: "has a parameter name with `?`, `*`, `:` or braces in it",
        });
    }
    match ext {
        None if optional => out.push_str("(?:/[^/]+)?"),
        None => out.push_str("/[^/]+"),
        Some(ext) => {
            // regexparam: `/:name.ext` is `/([^/]+?)\.ext`; with `?` the name part is optional.
            out.push_str(if optional { "/[^/]*?" } else { "/[^/]+?" });
            out.push_str(&compile_suffix(pattern, segment, ext)?);
        }
    }
    Ok(())
}

/// Compiles a `.ext` or `.(a|b)` suffix, escaping everything literal.
fn compile_suffix(pattern: &str, segment: &str, ext: &str) -> Result<String, PatternError> {
    let bad = |reason| PatternError::BadSegment {
        pattern: pattern.to_owned(),
        segment: segment.to_owned(),
        reason,
    };
    let rest = &ext[1..];
    if rest.is_empty() {
        return Err(bad("ends in `.` with no suffix after it"));
    }
    if let Some(group) = rest.strip_prefix('(') {
        let Some(alts) = group.strip_suffix(')') else {
            return Err(bad(
                "has a `.(` suffix group that is not closed by a final `)`",
            ));
        };
        let alts: Vec<&str> = alts.split('|').collect();
        if alts
            .iter()
            .any(|a| a.is_empty() || a.contains(['(', ')', '/']))
        {
            return Err(bad(
                "has an empty or malformed alternative in its `.(a|b)` suffix",
            ));
        }
        let escaped: Vec<String> = alts.iter().map(|a| regex::escape(a)).collect();
        return Ok(format!(r"\.(?:{})", escaped.join("|")));
    }
    if rest.contains(['(', ')', '*', '?', '{', '}']) {
        return Err(bad("has a suffix with `(`, `)`, `*`, `?` or braces in it"));
    }
    Ok(regex::escape(ext))
}

#[cfg(test)]
mod tests {
    use super::super::PathPattern;
    use super::*;

    #[test]
    fn parse_errors_name_the_pattern() {
        assert_eq!(PathPattern::parse(""), Err(PatternError::Empty));
        let e = PathPattern::parse("api/*").unwrap_err();
        assert_eq!(e, PatternError::NoLeadingSlash("api/*".into()));
        assert!(e.to_string().contains("`api/*`"), "{e}");
        let e = PathPattern::parse("/users/:").unwrap_err();
        assert!(matches!(e, PatternError::EmptyParamName { .. }), "{e:?}");
        assert!(e.to_string().contains("/users/:"), "{e}");
        assert!(matches!(
            PathPattern::parse("/users/{}").unwrap_err(),
            PatternError::EmptyParamName { .. }
        ));
        assert!(matches!(
            PathPattern::parse("/users/:?").unwrap_err(),
            PatternError::EmptyParamName { .. }
        ));
        assert!(matches!(
            PathPattern::parse("/files/{*}").unwrap_err(),
            PatternError::EmptyParamName { .. }
        ));
        assert_eq!(
            PathPattern::parse("/a//b").unwrap_err(),
            PatternError::EmptySegment("/a//b".into())
        );
        for bad in [
            "/a/*x",
            "/a/b*c",
            "/a/{id",
            "/a/x}y",
            "/a/{id}x",
            "/m/:t.",
            "/m/:t.(a|",
        ] {
            let e = PathPattern::parse(bad).unwrap_err();
            assert!(matches!(e, PatternError::BadSegment { .. }), "{bad}: {e:?}");
            assert!(e.to_string().contains(bad), "{e}");
        }
    }
}
