//! One refresh per refresh token at a time: a page that fires several requests when its access
//! token expires sends the same cookie with each, and a provider that rotates refresh tokens
//! (WorkOS, Auth0 with rotation) would accept the first refresh and refuse the others, ending
//! the session. Requests carrying the same refresh token share the first one's answer for
//! [`SHARED_FOR`].
//!
//! The map is keyed by the SHA-256 of the refresh token (it never holds one) and holds answers
//! only briefly: a replica forgets nothing a user relies on, so replicas stay interchangeable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mastra_sso::{Flow, SsoError, TokenSet};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// How long an answer is shared with requests carrying the same refresh token.
const SHARED_FOR: Duration = Duration::from_secs(30);

/// A refresh's outcome, shareable between requests.
#[derive(Clone, Debug)]
pub(super) enum Refreshed {
    /// New tokens.
    Tokens(TokenSet),
    /// The provider refused the refresh token: the session has ended.
    Refused(String),
    /// The provider could not be reached.
    Unavailable(String),
}

type Slot = Arc<OnceCell<Refreshed>>;

/// Single-flight refreshes.
#[derive(Default)]
pub(super) struct Refreshes {
    slots: Mutex<HashMap<[u8; 32], (Instant, Slot)>>,
}

impl Refreshes {
    /// Refreshes `refresh_token`, or waits for and shares the answer of a refresh of the same
    /// token started less than [`SHARED_FOR`] ago.
    pub(super) async fn refresh(
        &self,
        flow: &Flow,
        refresh_token: &str,
        organization_id: Option<&str>,
    ) -> Refreshed {
        let key: [u8; 32] = Sha256::digest(refresh_token.as_bytes()).into();
        let slot = {
            let now = Instant::now();
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.retain(|_, (started, _)| now.duration_since(*started) < SHARED_FOR);
            slots
                .entry(key)
                .or_insert_with(|| (now, Arc::new(OnceCell::new())))
                .1
                .clone()
        };
        slot.get_or_init(|| async {
            match flow.refresh(refresh_token, organization_id).await {
                Ok(tokens) => Refreshed::Tokens(tokens),
                Err(e @ SsoError::Unavailable(_)) => Refreshed::Unavailable(e.to_string()),
                Err(e) => Refreshed::Refused(e.to_string()),
            }
        })
        .await
        .clone()
    }
}
