//! Property tests over the path-pattern compiler and matcher (the stable counterpart of the
//! `pattern` cargo-fuzz target): nothing panics on any pattern or path, and on generated
//! patterns and paths the compiled matcher agrees with a simple segment-by-segment reference
//! implementation of the grammar documented in `mastra_auth::pattern`.

use http::Method;
use mastra_auth::pattern::{MethodSet, PathMatcher, PathPattern, RoutePattern};
use proptest::prelude::*;

/// One element of a generated pattern.
#[derive(Debug, Clone)]
enum Seg {
    /// A literal segment.
    Static(String),
    /// `:name`, `:name?`, `:name.ext`, `:name?.ext`.
    Param { optional: bool, ext: Option<String> },
    /// A trailing `*` or `*?`.
    Wild { optional: bool },
    /// A literal prefix followed by `*` (`/assets/app-*`), last only.
    PrefixWild(String),
}

impl Seg {
    fn render(&self, i: usize) -> String {
        match self {
            Seg::Static(s) => s.clone(),
            Seg::Param { optional, ext } => format!(
                ":p{i}{}{}",
                if *optional { "?" } else { "" },
                ext.as_ref().map(|e| format!(".{e}")).unwrap_or_default()
            ),
            Seg::Wild { optional } => if *optional { "*?" } else { "*" }.to_owned(),
            Seg::PrefixWild(p) => format!("{p}*"),
        }
    }
}

fn render(segs: &[Seg]) -> String {
    if segs.is_empty() {
        return "/".into();
    }
    segs.iter()
        .enumerate()
        .map(|(i, s)| format!("/{}", s.render(i)))
        .collect()
}

/// The reference: the documented grammar, matched by backtracking over the path text.
fn reference(segs: &[Seg], path: &str) -> bool {
    // Anchored; one trailing slash allowed.
    m(segs, path) || path.strip_suffix('/').is_some_and(|p| m(segs, p))
}

fn eq_ci(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn m(segs: &[Seg], rest: &str) -> bool {
    let Some((seg, tail)) = segs.split_first() else {
        return rest.is_empty();
    };
    match seg {
        Seg::Static(s) => rest
            .strip_prefix('/')
            .and_then(|r| {
                (r.len() >= s.len() && r.is_char_boundary(s.len()) && eq_ci(&r[..s.len()], s))
                    .then(|| &r[s.len()..])
            })
            .is_some_and(|r| m(tail, r)),
        Seg::Param { optional, ext } => {
            if *optional && ext.is_none() && m(tail, rest) {
                return true;
            }
            let Some(r) = rest.strip_prefix('/') else {
                return false;
            };
            let seg_len = r.find('/').unwrap_or(r.len());
            // Any non-empty prefix of the next segment (the regex may stop inside it).
            (0..=seg_len).filter(|&k| r.is_char_boundary(k)).any(|k| {
                let piece = &r[..k];
                let ok = match ext {
                    None => !piece.is_empty(),
                    Some(e) => {
                        let suffix = format!(".{e}");
                        piece.len() >= suffix.len()
                            && piece.is_char_boundary(piece.len() - suffix.len())
                            && eq_ci(&piece[piece.len() - suffix.len()..], &suffix)
                            && (*optional || piece.len() > suffix.len())
                    }
                };
                ok && m(tail, &r[k..])
            })
        }
        Seg::Wild { optional } => {
            debug_assert!(tail.is_empty());
            rest.starts_with('/') || (*optional && rest.is_empty())
        }
        Seg::PrefixWild(p) => rest.strip_prefix('/').is_some_and(|r| {
            r.len() >= p.len() && r.is_char_boundary(p.len()) && eq_ci(&r[..p.len()], p)
        }),
    }
}

fn literal() -> impl Strategy<Value = String> {
    // Letters of both cases, digits and regex metacharacters the compiler must escape.
    "[a-cA-C0-9][a-cA-C0-9.+$()|^-]{0,4}"
}

fn segs() -> impl Strategy<Value = Vec<Seg>> {
    let middle = prop_oneof![
        3 => literal().prop_map(Seg::Static),
        2 => (any::<bool>(), prop::option::of("[a-c]{1,3}"))
            .prop_map(|(optional, ext)| Seg::Param { optional, ext }),
    ];
    let last = prop_oneof![
        3 => Just(None),
        1 => any::<bool>().prop_map(|optional| Some(Seg::Wild { optional })),
        1 => literal().prop_map(|p| Some(Seg::PrefixWild(p))),
    ];
    (prop::collection::vec(middle, 0..5), last).prop_map(|(mut v, last)| {
        v.extend(last);
        v
    })
}

/// Paths built from the pattern's own pieces (so matches are common) and random noise.
fn path_for(segs: Vec<Seg>) -> impl Strategy<Value = (Vec<Seg>, String)> {
    let pieces: Vec<String> = segs
        .iter()
        .flat_map(|s| match s {
            Seg::Static(s) | Seg::PrefixWild(s) => {
                vec![s.clone(), s.to_uppercase(), format!("{s}x")]
            }
            Seg::Param { ext: Some(e), .. } => vec![format!("v.{e}"), format!(".{e}"), "v".into()],
            _ => vec!["v".into(), "a.b".into()],
        })
        .chain([
            "".into(),
            "x".into(),
            ".".into(),
            "..".into(),
            "%2F".into(),
            ";a=b".into(),
        ])
        .collect();
    let piece = prop::sample::select(pieces);
    let path = prop_oneof![
        4 => prop::collection::vec(piece, 0..7).prop_map(|p| format!("/{}", p.join("/"))),
        1 => prop::collection::vec(prop_oneof![Just("/"), Just("a"), Just("B"), Just(".")], 0..10)
            .prop_map(|p| p.concat()),
    ];
    let trailing = prop_oneof![Just(""), Just("/"), Just("//")];
    (Just(segs), path, trailing).prop_map(|(s, p, t)| (s, format!("{p}{t}")))
}

/// Cases per property: `PROPTEST_CASES` for long runs, else a count that keeps `cargo test` fast.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1024), ..ProptestConfig::default() })]

    /// Generated patterns compile, and match exactly what the reference matches.
    #[test]
    fn matcher_agrees_with_the_reference((segs, path) in segs().prop_flat_map(path_for)) {
        let pattern = render(&segs);
        let compiled = PathPattern::parse(&pattern)
            .map_err(|e| TestCaseError::fail(format!("{pattern}: {e}")))?;
        prop_assert_eq!(
            compiled.matches(&path),
            reference(&segs, &path),
            "pattern {} path {}", pattern, path
        );
        // ASCII case never changes the outcome, and a match allows one trailing slash.
        prop_assert_eq!(compiled.matches(&path), compiled.matches(&path.to_ascii_uppercase()));
        if compiled.matches(&path) && !path.ends_with('/') {
            let slashed = format!("{path}/");
            prop_assert!(compiled.matches(&slashed));
        }
    }

    /// Any pattern text and any path: compiling and matching never panic (patterns, raw
    /// regexes, method lists, route patterns).
    #[test]
    fn arbitrary_patterns_and_paths_never_panic(
        pattern in prop_oneof![
            "[/:*?{}().a-zA-Z0-9|\\\\\\[\\]^$+-]{0,40}",
            "\\PC{0,40}",
            "/[a-z/:*?{}.()|]{0,30}",
        ],
        paths in prop::collection::vec("\\PC{0,40}", 1..5),
        methods in prop::collection::vec("[A-Za-z]{0,8}", 0..4),
    ) {
        if let Ok(p) = PathPattern::parse(&pattern) {
            for path in &paths {
                let m = p.matches(path);
                prop_assert_eq!(m, p.matches(&path.to_ascii_lowercase()));
            }
        }
        if let Ok(r) = PathMatcher::regex(&pattern) {
            for path in &paths {
                let _ = r.matches(path);
            }
        }
        if let Ok(set) = MethodSet::parse(&methods) {
            let _ = set.contains(&Method::GET);
        }
        let methods: Vec<&str> = methods.iter().map(String::as_str).collect();
        if let Ok(rp) = RoutePattern::with_methods(&pattern, &methods) {
            for path in &paths {
                let _ = rp.matches(path, &Method::POST);
            }
        }
    }
}
