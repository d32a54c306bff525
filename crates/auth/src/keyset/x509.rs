//! The public key of a PEM X.509 certificate (Google securetoken's format), bound to the
//! algorithms of its type.

use jsonwebtoken::{Algorithm, DecodingKey};

use crate::jwt::{self, VerifyKey};
use crate::weak_keys::{ed25519_key_is_small_order, rsa_components};

/// The public key of a PEM X.509 certificate, bound to the algorithms of its type.
pub(super) fn certificate_to_key(pem: &[u8]) -> Result<VerifyKey, String> {
    use x509_parser::oid_registry::{
        OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
        OID_SIG_ED25519,
    };
    use x509_parser::public_key::PublicKey;

    let (rest, pem) =
        x509_parser::pem::parse_x509_pem(pem).map_err(|_| "not a PEM block".to_owned())?;
    if pem.label != "CERTIFICATE" {
        return Err(format!("PEM block is {:?}, not CERTIFICATE", pem.label));
    }
    if !rest.iter().all(u8::is_ascii_whitespace) {
        return Err("trailing data after the certificate".into());
    }
    let cert = pem
        .parse_x509()
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let spki = cert.public_key();
    let oid = &spki.algorithm.algorithm;
    if *oid == OID_PKCS1_RSAENCRYPTION {
        let Ok(PublicKey::RSA(rsa)) = spki.parsed() else {
            return Err("unreadable RSA public key".into());
        };
        let (n, e) = rsa_components(rsa.modulus, rsa.exponent)?;
        return Ok(VerifyKey {
            kid: None,
            algorithms: jwt::RSA_ALGORITHMS.to_vec(),
            key: DecodingKey::from_rsa_raw_components(n, e),
        });
    }
    if *oid == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        let (alg, len) = match curve {
            Some(c) if c == OID_EC_P256 => (Algorithm::ES256, 65),
            Some(c) if c == OID_NIST_EC_P384 => (Algorithm::ES384, 97),
            _ => return Err("unsupported EC curve".into()),
        };
        let point = spki.subject_public_key.data.as_ref();
        if point.len() != len || point.first() != Some(&0x04) {
            return Err("EC public key is not an uncompressed point".into());
        }
        return Ok(VerifyKey {
            kid: None,
            algorithms: vec![alg],
            key: DecodingKey::from_ec_der(point),
        });
    }
    if *oid == OID_SIG_ED25519 {
        let raw = spki.subject_public_key.data.as_ref();
        if raw.len() != 32 {
            return Err("Ed25519 public key must be 32 bytes".into());
        }
        if ed25519_key_is_small_order(raw) {
            return Err("Ed25519 public key of small order (verifies forgeries)".into());
        }
        return Ok(VerifyKey {
            kid: None,
            algorithms: vec![Algorithm::EdDSA],
            key: DecodingKey::from_ed_der(raw),
        });
    }
    Err(format!("unsupported public key algorithm {oid}"))
}
