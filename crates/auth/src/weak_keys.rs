//! Keys refused at load because they are too weak or verify forgeries: RSA moduli under
//! [`MIN_RSA_BITS`], unusable RSA exponents, Ed25519 points of small order. Shared by the key-set
//! parsers and the `jwt` provider's configured public key.

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// The y coordinates (little-endian, sign bit ignored) of the Ed25519 points of small order,
/// including the non-canonical encodings `p` and `p + 1` (libsodium's blocklist).
const ED25519_SMALL_ORDER: [[u8; 32]; 7] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
];

/// Whether a raw 32-byte Ed25519 public key is a point of small order. With such a key the
/// verifier accepts signatures nobody had to compute (e.g. R = identity, S = 0 verifies for any
/// message with the identity point), so it is refused at load like a short RSA modulus.
pub fn ed25519_key_is_small_order(key: &[u8]) -> bool {
    key.len() == 32
        && ED25519_SMALL_ORDER
            .iter()
            .any(|bad| key[..31] == bad[..31] && key[31] & 0x7f == bad[31])
}

/// An RSA modulus shorter than [`MIN_RSA_BITS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("RSA modulus of {bits} bits (at least {MIN_RSA_BITS} required)")]
pub(crate) struct RsaModulusTooShort {
    /// The modulus size, in bits.
    pub(crate) bits: usize,
}

/// Refuses an RSA modulus (big-endian, leading zero bytes allowed, as in DER and JWK) shorter
/// than [`MIN_RSA_BITS`]: leading zeros never count towards its size.
pub(crate) fn check_rsa_modulus(n: &[u8]) -> Result<(), RsaModulusTooShort> {
    let bits = bit_len(strip_leading_zeros(n));
    if bits < MIN_RSA_BITS {
        return Err(RsaModulusTooShort { bits });
    }
    Ok(())
}

/// The modulus and exponent of an RSA public key without their leading zero bytes, refused when
/// the modulus is too short or the exponent empty or longer than 8 bytes.
// Only the key-set parsers (feature `remote`) read JWK and X.509 RSA keys.
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
pub(crate) fn rsa_components<'a>(n: &'a [u8], e: &'a [u8]) -> Result<(&'a [u8], &'a [u8]), String> {
    check_rsa_modulus(n).map_err(|short| short.to_string())?;
    let e = strip_leading_zeros(e);
    if e.is_empty() || e.len() > 8 {
        return Err("unusable RSA exponent".into());
    }
    Ok((strip_leading_zeros(n), e))
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[i..]
}

fn bit_len(n: &[u8]) -> usize {
    match n.first() {
        None => 0,
        Some(&first) => n.len() * 8 - first.leading_zeros() as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits() {
        assert_eq!(bit_len(strip_leading_zeros(&[0, 0, 1])), 1);
        assert_eq!(bit_len(&[0x80, 0]), 16);
        assert_eq!(bit_len(&[]), 0);
    }

    #[test]
    fn rsa_modulus_size() {
        let mut n = vec![0xffu8; 256];
        assert_eq!(check_rsa_modulus(&n), Ok(()));
        n[0] = 0x7f;
        assert_eq!(
            check_rsa_modulus(&n),
            Err(RsaModulusTooShort { bits: 2047 })
        );
        // Leading zero bytes do not inflate the size.
        let padded = [&[0u8; 8][..], &n].concat();
        assert_eq!(
            check_rsa_modulus(&padded),
            Err(RsaModulusTooShort { bits: 2047 })
        );
        assert_eq!(check_rsa_modulus(&[]), Err(RsaModulusTooShort { bits: 0 }));
        assert_eq!(
            RsaModulusTooShort { bits: 1024 }.to_string(),
            "RSA modulus of 1024 bits (at least 2048 required)"
        );
    }

    #[test]
    fn rsa_exponents() {
        let n = [0xffu8; 256];
        let (stripped_n, e) = rsa_components(&[&[0u8][..], &n].concat(), &[0, 1, 0, 1])
            .map(|(n, e)| (n.to_vec(), e.to_vec()))
            .unwrap();
        assert_eq!(
            (stripped_n.as_slice(), e.as_slice()),
            (&n[..], &[1u8, 0, 1][..])
        );
        assert_eq!(
            rsa_components(&n, &[0, 0]).unwrap_err(),
            "unusable RSA exponent"
        );
        assert_eq!(
            rsa_components(&n, &[1; 9]).unwrap_err(),
            "unusable RSA exponent"
        );
        assert!(rsa_components(&n, &[1; 8]).is_ok());
    }
}
