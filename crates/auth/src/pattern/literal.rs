//! The regex-free fast path for the most common pattern shapes.

/// A pattern of static segments only, optionally ending in a whole `*` segment (`/api`,
/// `/api/*`, `/health`): the shapes of the default and most configured lists. Its regex is
/// `(?i)^{prefix}(/.*)?/?$`; for an ASCII path, case-insensitive ASCII comparison decides exactly
/// as the regex does (no ASCII letter has a non-ASCII case partner that an ASCII path could
/// contain), so [`PathPattern::matches`](super::PathPattern::matches) skips the regex engine.
/// Other paths use the regex.
#[derive(Clone, Debug)]
pub(super) struct Literal {
    /// `/seg/seg`, without a trailing slash; empty for `/` and `/*`.
    prefix: String,
    /// Ends in `/*`.
    star: bool,
    /// Written with a trailing slash (`/api/`): exact matching then requires it.
    trailing_slash: bool,
}

impl Literal {
    pub(super) fn from_pattern(pattern: &str) -> Option<Literal> {
        let rest = pattern.strip_prefix('/')?;
        let trailing_slash = !rest.is_empty() && rest.ends_with('/');
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (rest, star) = match rest.strip_suffix('*') {
            Some(r) if r.is_empty() => (r, true),
            Some(r) => (r.strip_suffix('/')?, true),
            None => (rest, false),
        };
        let plain = |seg: &str| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        };
        if !rest.is_empty() && !rest.split('/').all(plain) {
            return None;
        }
        let prefix = if rest.is_empty() {
            String::new()
        } else {
            format!("/{rest}")
        };
        Some(Literal {
            prefix,
            star,
            trailing_slash,
        })
    }

    /// The regex's decision for an ASCII `path`.
    pub(super) fn matches_ascii(&self, path: &str) -> bool {
        let p = self.prefix.len();
        let head_matches =
            path.len() >= p && path.as_bytes()[..p].eq_ignore_ascii_case(self.prefix.as_bytes());
        if !head_matches {
            return false;
        }
        let tail = &path[p..];
        if self.star {
            // `/.*` then `/?`: a slash, then anything but a newline (`.` excludes it).
            tail.starts_with('/') && !tail.contains('\n')
        } else {
            tail.is_empty() || tail == "/"
        }
    }

    /// The exact regex's decision for an ASCII `path`.
    pub(super) fn matches_exact_ascii(&self, path: &str) -> bool {
        let Some(tail) = path.strip_prefix(self.prefix.as_str()) else {
            return false;
        };
        if self.star {
            tail.starts_with('/') && !tail.contains('\n')
        } else if self.trailing_slash || self.prefix.is_empty() {
            tail == "/"
        } else {
            tail.is_empty()
        }
    }
}
