//! `${VAR}` substitution inside the string values of a parsed TOML document.
//!
//! Substitution runs on the parsed tree, never on the text, so a variable's value is always a
//! plain string and cannot inject TOML syntax. `$${` stands for a literal `${`. Substituted text
//! is not scanned again.

use toml::Value;

/// Why a string could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SubstError {
    /// `${NAME}` named a variable that is not set.
    Missing(String),
    /// `${` without a closing `}`, or an invalid variable name.
    Malformed(String),
}

/// Replaces `${NAME}` in every string value of `value` (recursively), calling `on_error` with
/// the key path (`server.tls.cert`, `api_routes[0].proxy`) of the first failing value.
pub(crate) fn substitute_tree(
    value: &mut Value,
    path: &mut String,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), (String, SubstError)> {
    match value {
        Value::String(s) => {
            if let Some(new) = substitute(s, lookup).map_err(|e| (path.clone(), e))? {
                *s = new;
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                substitute_tree(item, path, lookup)?;
                path.truncate(len);
            }
        }
        Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                push_key(path, key);
                substitute_tree(item, path, lookup)?;
                path.truncate(len);
            }
        }
        Value::Integer(_) | Value::Float(_) | Value::Boolean(_) | Value::Datetime(_) => {}
    }
    Ok(())
}

/// Appends a key to a dotted path, quoting it when it is not a bare TOML key.
pub(crate) fn push_key(path: &mut String, key: &str) {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        path.push_str(key);
    } else {
        path.push_str(&format!("{key:?}"));
    }
}

/// Substitutes one string; `Ok(None)` when it contains nothing to substitute.
pub(crate) fn substitute(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, SubstError> {
    if !input.contains('$') {
        return Ok(None);
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        if let Some(after) = rest.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("${") {
            let Some(end) = after.find('}') else {
                return Err(SubstError::Malformed(
                    "`${` has no closing `}` (write `$${` for a literal `${`)".to_string(),
                ));
            };
            let name = &after[..end];
            if !is_var_name(name) {
                return Err(SubstError::Malformed(format!(
                    "`${{{name}}}` is not a valid variable reference: names are letters, digits \
                     and `_`, not starting with a digit (write `$${{` for a literal `${{`)"
                )));
            }
            match lookup(name) {
                Some(value) => out.push_str(&value),
                None => return Err(SubstError::Missing(name.to_string())),
            }
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Ok(Some(out))
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            "INJECT" => Some("\"\nx = 1".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes() {
        assert_eq!(substitute("plain", &env), Ok(None));
        assert_eq!(substitute("${A}", &env), Ok(Some("alpha".into())));
        assert_eq!(
            substitute("x${A}y${A}", &env),
            Ok(Some("xalphayalpha".into()))
        );
        assert_eq!(substitute("$${A}", &env), Ok(Some("${A}".into())));
        assert_eq!(substitute("$$${A}", &env), Ok(Some("$${A}".into())));
        assert_eq!(substitute("cost $5", &env), Ok(Some("cost $5".into())));
        assert_eq!(substitute("${EMPTY}!", &env), Ok(Some("!".into())));
        assert_eq!(substitute("${INJECT}", &env), Ok(Some("\"\nx = 1".into())));
        assert_eq!(
            substitute("${NOPE}", &env),
            Err(SubstError::Missing("NOPE".into()))
        );
        assert!(matches!(
            substitute("${A", &env),
            Err(SubstError::Malformed(_))
        ));
        assert!(matches!(
            substitute("${}", &env),
            Err(SubstError::Malformed(_))
        ));
        assert!(matches!(
            substitute("${1A}", &env),
            Err(SubstError::Malformed(_))
        ));
    }

    #[test]
    fn substituted_text_is_not_rescanned() {
        let lookup = |n: &str| (n == "X").then(|| "${X}".to_string());
        assert_eq!(substitute("${X}", &lookup), Ok(Some("${X}".into())));
    }
}
