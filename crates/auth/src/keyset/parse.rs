//! Key documents (a JWK Set, a `{kid: certificate}` map) to verification keys, skipping the
//! unusable ones without failing the document.

use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::jwk::jwk_to_key;
use super::x509::certificate_to_key;
use crate::jwt::VerifyKey;

/// Keys parsed from a document, and the ones skipped with why.
#[derive(Debug, Default)]
pub struct ParsedKeys {
    /// Usable keys, each bound to its algorithms.
    pub keys: Vec<VerifyKey>,
    /// `(kid, reason)` of every skipped entry.
    pub skipped: Vec<(Option<String>, String)>,
}

/// Parses a JWK Set document (`{"keys": [...]}`), skipping unusable keys. Fails only when the
/// document itself is not a JWK Set.
pub fn parse_jwks(doc: &Value, allowed: Option<&[Algorithm]>) -> Result<ParsedKeys, String> {
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("no \"keys\" array")?;
    let mut out = ParsedKeys::default();
    for jwk in keys {
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        match jwk_to_key(jwk).and_then(|k| restrict(k, allowed)) {
            Ok(k) => out.keys.push(k),
            Err(reason) => out.skipped.push((kid, reason)),
        }
    }
    Ok(out)
}

/// Parses a `{kid: PEM certificate}` map, skipping unusable entries. Fails only when the
/// document is not a JSON object.
pub fn parse_x509_map(doc: &Value, allowed: Option<&[Algorithm]>) -> Result<ParsedKeys, String> {
    let map = doc
        .as_object()
        .ok_or("not a JSON object of kid -> certificate")?;
    let mut out = ParsedKeys::default();
    for (kid, pem) in map {
        let result = pem
            .as_str()
            .ok_or_else(|| "certificate is not a string".to_owned())
            .and_then(|pem| certificate_to_key(pem.as_bytes()))
            .map(|mut k| {
                k.kid = Some(kid.clone());
                k
            })
            .and_then(|k| restrict(k, allowed));
        match result {
            Ok(k) => out.keys.push(k),
            Err(reason) => out.skipped.push((Some(kid.clone()), reason)),
        }
    }
    Ok(out)
}

fn restrict(mut key: VerifyKey, allowed: Option<&[Algorithm]>) -> Result<VerifyKey, String> {
    if let Some(allowed) = allowed {
        key.algorithms.retain(|a| allowed.contains(a));
        if key.algorithms.is_empty() {
            return Err("none of its algorithms is allowed".into());
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn document_shapes() {
        assert!(parse_jwks(&json!({"nokeys": []}), None).is_err());
        let p = parse_jwks(&json!({"keys": [1, {"kty": "oct"}]}), None).unwrap();
        assert!(p.keys.is_empty());
        assert_eq!(p.skipped.len(), 2);
        assert!(parse_x509_map(&json!([]), None).is_err());
        let p = parse_x509_map(&json!({"a": "junk", "b": 5}), None).unwrap();
        assert_eq!(p.skipped.len(), 2);
    }
}
