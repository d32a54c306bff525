//! `[auth.fga]`: fine-grained authorization of each route's resource, from local relationship
//! tuples or WorkOS's authorization API.

use std::time::Duration;

use mastra_auth::fga::{Tuple, WorkosFgaConfig};
use serde::Deserialize;

use super::units::{de_u64, de_usize};

/// Where fine-grained answers come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FgaProviderKind {
    /// `[[auth.fga.tuples]]` in this file.
    #[default]
    Local,
    /// WorkOS's authorization API (`[auth.fga.workos]`).
    Workos,
}

/// `[auth.fga]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FgaConfig {
    /// `local` (default) or `workos`.
    pub provider: FgaProviderKind,
    /// How long an answer is reused (default 30 s; `0s` turns the cache off).
    #[serde(deserialize_with = "mastra_auth::config_serde::duration")]
    pub cache_ttl: Duration,
    /// How many answers are kept (default 100 000).
    #[serde(deserialize_with = "de_u64")]
    pub cache_capacity: u64,
    /// How many checks of one list run at once (default 8).
    #[serde(deserialize_with = "de_usize")]
    pub concurrency: usize,
    /// The relationships of the `local` provider.
    pub tuples: Vec<Tuple>,
    /// Settings of the `workos` provider.
    pub workos: Option<WorkosFgaConfig>,
}

impl Default for FgaConfig {
    fn default() -> Self {
        let d = mastra_auth::fga::FgaSettings::default();
        Self {
            provider: FgaProviderKind::default(),
            cache_ttl: d.cache_ttl,
            cache_capacity: d.cache_capacity,
            concurrency: d.concurrency,
            tuples: Vec::new(),
            workos: None,
        }
    }
}
