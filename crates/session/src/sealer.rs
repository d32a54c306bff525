//! [`Sealer`]: seals values into cookie values and opens them, with key rotation and expiry.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{Aad, NONCE_LEN, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{KeyError, OpenError, SealError, SessionKey};

/// Longest sealed value, in bytes: a cookie's name, value and attributes must fit in the 4096
/// bytes browsers keep, and the attributes take up to ~150 of them.
pub const MAX_SEALED_LEN: usize = 3800;

/// Format version, the first byte of every sealed value (authenticated as associated data).
const VERSION: u8 = 1;
const TAG_LEN: usize = 16;

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What is sealed: the value and its expiry.
#[derive(Serialize)]
struct Envelope<'a, T> {
    exp: u64,
    v: &'a T,
}

#[derive(Deserialize)]
struct Opened<T> {
    exp: u64,
    v: T,
}

/// Seals with the newest key, opens with any. `Debug` shows only the number of keys.
pub struct Sealer {
    keys: Vec<SessionKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Sealer {
    /// A sealer over keys ordered newest first.
    pub fn new(keys: Vec<SessionKey>) -> Result<Self, KeyError> {
        if keys.is_empty() {
            return Err(KeyError::NoKeys);
        }
        Ok(Self { keys })
    }

    /// A sealer over secrets ordered newest first ([`SessionKey::from_secret`] each).
    pub fn from_secrets<S: AsRef<str>>(secrets: &[S]) -> Result<Self, KeyError> {
        Self::new(
            secrets
                .iter()
                .map(|s| SessionKey::from_secret(s.as_ref()))
                .collect::<Result<_, _>>()?,
        )
    }

    /// Seals `value` for `purpose` (the cookie's name), valid until `expires_at` (Unix seconds).
    pub fn seal<T: Serialize>(
        &self,
        purpose: &str,
        value: &T,
        expires_at: u64,
    ) -> Result<String, SealError> {
        let plain = serde_json::to_vec(&Envelope {
            exp: expires_at,
            v: value,
        })
        .map_err(|e| SealError::Serialize(e.to_string()))?;
        let len = encoded_len(1 + NONCE_LEN + plain.len() + TAG_LEN);
        if len > MAX_SEALED_LEN {
            return Err(SealError::TooLarge {
                len,
                max: MAX_SEALED_LEN,
            });
        }
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| SealError::Crypto)?;
        let mut in_out = plain;
        self.keys[0]
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                aad(purpose),
                &mut in_out,
            )
            .map_err(|_| SealError::Crypto)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&in_out);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a value sealed for `purpose` by any of the keys, refusing it once `now` (Unix
    /// seconds) has reached its expiry.
    pub fn open<T: DeserializeOwned>(
        &self,
        purpose: &str,
        sealed: &str,
        now: u64,
    ) -> Result<T, OpenError> {
        if sealed.len() > MAX_SEALED_LEN {
            return Err(OpenError::TooLarge);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| OpenError::Malformed)?;
        let Some((&version, rest)) = raw.split_first() else {
            return Err(OpenError::Malformed);
        };
        if version != VERSION || rest.len() < NONCE_LEN + TAG_LEN {
            return Err(OpenError::Malformed);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let plain = self
            .keys
            .iter()
            .find_map(|k| {
                let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
                let mut buf = ciphertext.to_vec();
                let len = k
                    .key
                    .open_in_place(nonce, aad(purpose), &mut buf)
                    .ok()?
                    .len();
                buf.truncate(len);
                Some(buf)
            })
            .ok_or(OpenError::Unauthentic)?;
        // Expiry first: an ended session is `Expired` whatever shape its payload has.
        let opened: Opened<serde_json::Value> =
            serde_json::from_slice(&plain).map_err(|_| OpenError::Payload)?;
        if now >= opened.exp {
            return Err(OpenError::Expired);
        }
        serde_json::from_value(opened.v).map_err(|_| OpenError::Payload)
    }
}

/// The associated data: format version and purpose.
fn aad(purpose: &str) -> Aad<Vec<u8>> {
    let mut a = Vec::with_capacity(1 + purpose.len());
    a.push(VERSION);
    a.extend_from_slice(purpose.as_bytes());
    Aad::from(a)
}

/// Length of `n` bytes in base64url without padding.
const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    const A: &str = "first-secret-0123456789abcdef-0123456789";
    const B: &str = "second-secret-0123456789abcdef-012345678";

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Data {
        token: String,
        n: u32,
    }

    fn data() -> Data {
        Data {
            token: "access-token".into(),
            n: 7,
        }
    }

    fn sealer(secrets: &[&str]) -> Sealer {
        Sealer::from_secrets(secrets).unwrap()
    }

    #[test]
    fn round_trip() {
        let s = sealer(&[A]);
        let sealed = s.seal("mastra_session", &data(), 2000).unwrap();
        assert_eq!(s.open::<Data>("mastra_session", &sealed, 1999), Ok(data()));
        // the payload is not readable in the cookie
        assert!(!sealed.contains("access"));
        let raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"access"));
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let s = sealer(&[A]);
        let a = s.seal("p", &data(), 2000).unwrap();
        let b = s.seal("p", &data(), 2000).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn expired_at_and_after_expiry() {
        let s = sealer(&[A]);
        let sealed = s.seal("p", &data(), 2000).unwrap();
        assert_eq!(s.open::<Data>("p", &sealed, 2000), Err(OpenError::Expired));
        assert_eq!(s.open::<Data>("p", &sealed, 5000), Err(OpenError::Expired));
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let s = sealer(&[A]);
        let sealed = s.seal("p", &data(), 2000).unwrap();
        let raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        for i in 0..raw.len() {
            for bit in [0x01u8, 0x80] {
                let mut t = raw.clone();
                t[i] ^= bit;
                let err = s
                    .open::<Data>("p", &URL_SAFE_NO_PAD.encode(&t), 1000)
                    .unwrap_err();
                let expected = if i == 0 {
                    OpenError::Malformed
                } else {
                    OpenError::Unauthentic
                };
                assert_eq!(err, expected, "byte {i} bit {bit:#x}");
            }
        }
    }

    #[test]
    fn wrong_key_is_refused() {
        let sealed = sealer(&[A]).seal("p", &data(), 2000).unwrap();
        assert_eq!(
            sealer(&[B]).open::<Data>("p", &sealed, 1000),
            Err(OpenError::Unauthentic)
        );
    }

    #[test]
    fn other_purpose_is_refused() {
        let s = sealer(&[A]);
        let sealed = s.seal("mastra_sso_state", &data(), 2000).unwrap();
        assert_eq!(
            s.open::<Data>("mastra_session", &sealed, 1000),
            Err(OpenError::Unauthentic)
        );
    }

    #[test]
    fn rotation_seals_with_newest_and_opens_with_any() {
        let old = sealer(&[A]).seal("p", &data(), 2000).unwrap();
        let rotated = sealer(&[B, A]);
        assert_eq!(rotated.open::<Data>("p", &old, 1000), Ok(data()));
        let new = rotated.seal("p", &data(), 2000).unwrap();
        assert_eq!(sealer(&[B]).open::<Data>("p", &new, 1000), Ok(data()));
        assert_eq!(
            sealer(&[A]).open::<Data>("p", &new, 1000),
            Err(OpenError::Unauthentic)
        );
        // once the old key is retired, its sessions end
        assert_eq!(
            sealer(&[B]).open::<Data>("p", &old, 1000),
            Err(OpenError::Unauthentic)
        );
    }

    #[test]
    fn oversized_values_are_not_sealed() {
        let s = sealer(&[A]);
        let big = Data {
            token: "x".repeat(MAX_SEALED_LEN),
            n: 0,
        };
        match s.seal("p", &big, 2000) {
            Err(SealError::TooLarge { len, max }) => {
                assert!(len > max);
                assert_eq!(max, MAX_SEALED_LEN);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        // the largest value that fits is sealed, and its cookie value stays within the limit
        let mut n = 2700;
        while s
            .seal(
                "p",
                &Data {
                    token: "x".repeat(n + 1),
                    n: 0,
                },
                2000,
            )
            .is_ok()
        {
            n += 1;
        }
        let fits = s
            .seal(
                "p",
                &Data {
                    token: "x".repeat(n),
                    n: 0,
                },
                2000,
            )
            .unwrap();
        assert!(fits.len() <= MAX_SEALED_LEN && fits.len() > MAX_SEALED_LEN - 4);
    }

    #[test]
    fn oversized_input_is_refused_before_crypto() {
        let s = sealer(&[A]);
        let long = "A".repeat(MAX_SEALED_LEN + 1);
        assert_eq!(s.open::<Data>("p", &long, 0), Err(OpenError::TooLarge));
    }

    #[test]
    fn truncated_values_are_refused() {
        let s = sealer(&[A]);
        let sealed = s.seal("p", &data(), 2000).unwrap();
        for cut in [0, 1, 2, 10, 17, 38, sealed.len() - 1] {
            let err = s.open::<Data>("p", &sealed[..cut], 1000).unwrap_err();
            assert!(
                matches!(err, OpenError::Malformed | OpenError::Unauthentic),
                "cut at {cut}: {err:?}"
            );
        }
        let raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let short = URL_SAFE_NO_PAD.encode(&raw[..1 + NONCE_LEN + TAG_LEN - 1]);
        assert_eq!(s.open::<Data>("p", &short, 1000), Err(OpenError::Malformed));
    }

    #[test]
    fn non_base64_is_refused() {
        let s = sealer(&[A]);
        for bad in ["not base64!", "a+b/c==", "%41%42", "ÄÖÜ", "AQ=="] {
            assert_eq!(
                s.open::<Data>("p", bad, 0),
                Err(OpenError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_version_is_refused() {
        let s = sealer(&[A]);
        let mut raw = URL_SAFE_NO_PAD
            .decode(s.seal("p", &data(), 2000).unwrap())
            .unwrap();
        raw[0] = 2;
        assert_eq!(
            s.open::<Data>("p", &URL_SAFE_NO_PAD.encode(raw), 0),
            Err(OpenError::Malformed)
        );
    }

    #[test]
    fn authentic_payload_of_another_shape_is_refused() {
        let s = sealer(&[A]);
        let sealed = s.seal("p", &"just a string", 2000).unwrap();
        assert_eq!(s.open::<Data>("p", &sealed, 0), Err(OpenError::Payload));
        assert_eq!(s.open::<Data>("p", &sealed, 2000), Err(OpenError::Expired));
    }

    #[test]
    fn no_keys_is_an_error() {
        assert_eq!(Sealer::new(Vec::new()).unwrap_err(), KeyError::NoKeys);
        assert!(Sealer::from_secrets(&["short"]).is_err());
        assert_eq!(format!("{:?}", sealer(&[A, B])), "Sealer { keys: 2 }");
    }
}
