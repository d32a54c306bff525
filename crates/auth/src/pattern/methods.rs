//! [`MethodSet`]: the HTTP methods a pattern or rule applies to, and how method lists are read.

use std::fmt;

use http::Method;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::PatternError;

/// The HTTP methods a pattern or rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodSet {
    /// Any method (`ALL`).
    All,
    /// Exactly these methods (a `GET` entry also covers `HEAD`, which the router serves with the
    /// `GET` handler).
    Only(Vec<Method>),
}

/// The method names accepted in method lists, besides `ALL`.
const KNOWN_METHODS: [Method; 7] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::HEAD,
    Method::OPTIONS,
];

impl MethodSet {
    /// Parses method names case-insensitively; `ALL` anywhere makes the set [`MethodSet::All`].
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<MethodSet, PatternError> {
        if names.is_empty() {
            return Err(PatternError::EmptyMethods);
        }
        let mut methods: Vec<Method> = Vec::with_capacity(names.len());
        let mut all = false;
        for name in names {
            let name = name.as_ref();
            let trimmed = name.trim();
            if trimmed.eq_ignore_ascii_case("ALL") {
                all = true;
                continue;
            }
            let method = KNOWN_METHODS
                .iter()
                .find(|m| m.as_str().eq_ignore_ascii_case(trimmed))
                .ok_or_else(|| PatternError::UnknownMethod(name.to_owned()))?;
            if !methods.contains(method) {
                methods.push(method.clone());
            }
        }
        Ok(if all {
            MethodSet::All
        } else {
            MethodSet::Only(methods)
        })
    }

    /// A set of the given methods.
    pub fn only(methods: impl IntoIterator<Item = Method>) -> MethodSet {
        let mut set: Vec<Method> = Vec::new();
        for m in methods {
            if !set.contains(&m) {
                set.push(m);
            }
        }
        MethodSet::Only(set)
    }

    /// Whether `method` is in the set (`HEAD` counts as `GET`).
    pub fn contains(&self, method: &Method) -> bool {
        match self {
            MethodSet::All => true,
            MethodSet::Only(set) => {
                set.contains(method) || (*method == Method::HEAD && set.contains(&Method::GET))
            }
        }
    }

    /// Whether every method this set admits is also admitted by `self`.
    pub fn is_superset_of(&self, other: &MethodSet) -> bool {
        match (self, other) {
            (MethodSet::All, _) => true,
            (MethodSet::Only(_), MethodSet::All) => false,
            (MethodSet::Only(_), MethodSet::Only(theirs)) => {
                theirs.iter().all(|m| self.contains(m))
            }
        }
    }
}

impl<'de> Deserialize<'de> for MethodSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = StringOrList::deserialize(deserializer)?.into_vec();
        MethodSet::parse(&names).map_err(de::Error::custom)
    }
}

/// A string or a list of strings, as accepted for `methods`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StringOrList(pub(crate) Vec<String>);

impl StringOrList {
    pub(crate) fn into_vec(self) -> Vec<String> {
        self.0
    }
}

impl<'de> Deserialize<'de> for StringOrList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringOrList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a method name or a list of method names, e.g. [\"GET\", \"POST\"]")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StringOrList(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(StringOrList(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_sets() {
        let s = MethodSet::parse(&["get", "Post"]).unwrap();
        assert!(s.contains(&Method::GET));
        assert!(s.contains(&Method::POST));
        assert!(!s.contains(&Method::DELETE));
        assert!(
            s.contains(&Method::HEAD),
            "HEAD is served by the GET handler"
        );
        assert!(!MethodSet::parse(&["HEAD"]).unwrap().contains(&Method::GET));
        let all = MethodSet::parse(&["ALL"]).unwrap();
        assert_eq!(all, MethodSet::All);
        assert!(all.contains(&Method::TRACE));
        assert_eq!(MethodSet::parse(&["get", "all"]).unwrap(), MethodSet::All);
        assert_eq!(
            MethodSet::parse(&["GET", "get"]).unwrap(),
            MethodSet::Only(vec![Method::GET])
        );
        let e = MethodSet::parse(&["GET", "FETCH"]).unwrap_err();
        assert_eq!(e, PatternError::UnknownMethod("FETCH".into()));
        assert!(e.to_string().contains("`FETCH`"));
        assert_eq!(
            MethodSet::parse::<&str>(&[]).unwrap_err(),
            PatternError::EmptyMethods
        );
    }

    #[test]
    fn method_superset() {
        let gp = MethodSet::parse(&["GET", "POST"]).unwrap();
        let g = MethodSet::parse(&["GET"]).unwrap();
        assert!(MethodSet::All.is_superset_of(&gp));
        assert!(gp.is_superset_of(&g));
        assert!(!g.is_superset_of(&gp));
        assert!(!gp.is_superset_of(&MethodSet::All));
        assert!(g.is_superset_of(&MethodSet::parse(&["HEAD"]).unwrap()));
    }
}
