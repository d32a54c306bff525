//! One JSON Web Key (RFC 7517) to a verification key bound to the algorithms it allows.

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::jwt::{self, VerifyKey};
use crate::weak_keys::{ed25519_key_is_small_order, rsa_components};

/// Decodes a base64url member, tolerating padding (some IdPs pad), refusing anything else.
fn b64_member(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let s = match jwk.get(name) {
        Some(Value::String(s)) => s,
        Some(_) => return Err(format!("\"{name}\" is not a string")),
        None => return Err(format!("\"{name}\" is missing")),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| format!("\"{name}\" is not base64url"))
}

fn opt_str<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("\"{name}\" is not a string")),
    }
}

/// One JWK to a verification key bound to the algorithms its `kty`/`crv`/`alg` allow.
pub(super) fn jwk_to_key(jwk: &Value) -> Result<VerifyKey, String> {
    let jwk = jwk.as_object().ok_or("not a JSON object")?;
    let kid = opt_str(jwk, "kid")?.map(str::to_owned);
    if let Some(u) = opt_str(jwk, "use")?
        && u != "sig"
    {
        return Err(format!("\"use\" is {u:?}, not \"sig\""));
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops.as_array().ok_or("\"key_ops\" is not an array")?;
        if !ops.iter().any(|o| o.as_str() == Some("verify")) {
            return Err("\"key_ops\" does not include \"verify\"".into());
        }
    }
    let alg = opt_str(jwk, "alg")?;
    let kty = opt_str(jwk, "kty")?.ok_or("\"kty\" is missing")?;
    let (key, type_algs): (DecodingKey, Vec<Algorithm>) = match kty {
        "RSA" => {
            let n = b64_member(jwk, "n")?;
            let e = b64_member(jwk, "e")?;
            let (n, e) = rsa_components(&n, &e)?;
            (
                DecodingKey::from_rsa_raw_components(n, e),
                jwt::RSA_ALGORITHMS.to_vec(),
            )
        }
        "EC" => {
            let crv = opt_str(jwk, "crv")?.ok_or("\"crv\" is missing")?;
            let (alg, len) = match crv {
                "P-256" => (Algorithm::ES256, 32),
                "P-384" => (Algorithm::ES384, 48),
                other => return Err(format!("unsupported curve {other:?}")),
            };
            let x = b64_member(jwk, "x")?;
            let y = b64_member(jwk, "y")?;
            if x.len() != len || y.len() != len {
                return Err(format!("{crv} coordinates must be {len} bytes"));
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (DecodingKey::from_ec_der(&point), vec![alg])
        }
        "OKP" => {
            let crv = opt_str(jwk, "crv")?.ok_or("\"crv\" is missing")?;
            if crv != "Ed25519" {
                return Err(format!("unsupported OKP curve {crv:?}"));
            }
            let x = b64_member(jwk, "x")?;
            if x.len() != 32 {
                return Err("Ed25519 public key must be 32 bytes".into());
            }
            if ed25519_key_is_small_order(&x) {
                return Err("Ed25519 public key of small order (verifies forgeries)".into());
            }
            (DecodingKey::from_ed_der(&x), vec![Algorithm::EdDSA])
        }
        "oct" => return Err("symmetric keys are never accepted from a key set".into()),
        other => return Err(format!("unsupported kty {other:?}")),
    };
    let algorithms = match alg {
        None => type_algs,
        Some(name) => {
            // RFC 9864's fully-specified name for EdDSA over Ed25519.
            let a = if name == "Ed25519" {
                Some(Algorithm::EdDSA)
            } else {
                jwt::alg_from_name(name)
            };
            match a {
                Some(a) if type_algs.contains(&a) => vec![a],
                _ => return Err(format!("\"alg\" {name:?} does not fit kty {kty:?}")),
            }
        }
    };
    Ok(VerifyKey {
        kid,
        algorithms,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jwk_rules() {
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let k = jwk_to_key(&ed).unwrap();
        assert_eq!(k.algorithms, vec![Algorithm::EdDSA]);
        assert!(k.kid.is_none());
        let mut enc = ed.clone();
        enc["use"] = json!("enc");
        assert!(jwk_to_key(&enc).is_err());
        let mut wrong_alg = ed.clone();
        wrong_alg["alg"] = json!("ES256");
        assert!(jwk_to_key(&wrong_alg).is_err());
        let mut ops = ed.clone();
        ops["key_ops"] = json!(["encrypt"]);
        assert!(jwk_to_key(&ops).is_err());
        assert!(jwk_to_key(&json!({"kty": "oct", "k": "c2VjcmV0"})).is_err());
        assert!(jwk_to_key(&json!({"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"})).is_err());
        assert!(jwk_to_key(&json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"})).is_err());
        // A 1024-bit modulus is refused.
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xffu8; 128]);
        let rsa = json!({"kty": "RSA", "n": n, "e": "AQAB"});
        assert!(jwk_to_key(&rsa).unwrap_err().contains("1024"));
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xffu8; 256]);
        let rsa = json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "PS256"});
        assert_eq!(jwk_to_key(&rsa).unwrap().algorithms, vec![Algorithm::PS256]);
    }
}
