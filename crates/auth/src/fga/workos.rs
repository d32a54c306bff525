//! [`WorkosChecker`]: fine-grained checks through WorkOS's authorization API,
//! `POST {api_base}/authorization/organization_memberships/{membership}/check` with
//! `{permission_slug, resource_external_id, resource_type_slug}`, answered `{"authorized": bool}`.
//!
//! The subject is the user's organization membership: the claim named by `membership_claim`
//! (the WorkOS provider's `jwt_claims` mapping can put `organizationMembershipId` there, for
//! machine-to-machine tokens), else the memberships the WorkOS provider read with
//! `fetch_memberships` (`claims.memberships`): the active one of `organization_id`, or without
//! it the first active one. A user without a membership is denied. A resource WorkOS does not
//! know (404) is denied unless `public_by_default`; any other failure is an error (503).

use std::collections::BTreeMap;
use std::time::Duration;

use http::Method;
use reqwest::Url;
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{FgaChecker, Resource};
use crate::error::AuthError;
use crate::idp_http::{IdpClient, IdpClientConfig, IdpError, RequestBody};
use crate::setting::{fill, fill_secret, non_empty_secret};
use crate::verdict::Verdict;
use crate::{Secret, User};

/// WorkOS's API.
pub const DEFAULT_API_BASE: &str = "https://api.workos.com";

/// The claim holding the organization membership id by default.
pub const DEFAULT_MEMBERSHIP_CLAIM: &str = "organization_membership_id";

/// Settings of [`WorkosChecker`] (`[auth.fga.workos]` with the `serde` feature).
#[derive(Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct WorkosFgaConfig {
    /// API key (`WORKOS_API_KEY`).
    pub api_key: Option<Secret>,
    /// API base URL (tests point it at a local fake).
    pub api_base: String,
    /// The organization whose membership is the subject (`WORKOS_ORGANIZATION_ID`).
    pub organization_id: Option<String>,
    /// The claim holding a membership id.
    pub membership_claim: String,
    /// Resource kind -> WorkOS resource type slug; unlisted kinds are sent as they are.
    pub resource_types: BTreeMap<String, String>,
    /// Permission -> WorkOS permission slug; unlisted permissions are sent as they are.
    pub permissions: BTreeMap<String, String>,
    /// Allow resources WorkOS does not know (404); default false.
    pub public_by_default: bool,
    /// Permit `http://` to loopback hosts (tests, local development).
    pub allow_insecure_http: bool,
    /// Total timeout per call.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::config_serde::duration")
    )]
    pub timeout: Duration,
}

impl Default for WorkosFgaConfig {
    fn default() -> Self {
        Self {
            api_key: None,
            api_base: DEFAULT_API_BASE.into(),
            organization_id: None,
            membership_claim: DEFAULT_MEMBERSHIP_CLAIM.into(),
            resource_types: BTreeMap::new(),
            permissions: BTreeMap::new(),
            public_by_default: false,
            allow_insecure_http: false,
            timeout: crate::idp_http::DEFAULT_TIMEOUT,
        }
    }
}

impl std::fmt::Debug for WorkosFgaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkosFgaConfig")
            .field("api_key", &self.api_key)
            .field("api_base", &self.api_base)
            .field("organization_id", &self.organization_id)
            .field("membership_claim", &self.membership_claim)
            .field("resource_types", &self.resource_types)
            .field("permissions", &self.permissions)
            .field("public_by_default", &self.public_by_default)
            .finish_non_exhaustive()
    }
}

impl WorkosFgaConfig {
    /// Fills unset settings: `api_key` from `WORKOS_API_KEY`, `organization_id` from
    /// `WORKOS_ORGANIZATION_ID`.
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        fill_secret(&mut self.api_key, &lookup, &["WORKOS_API_KEY"]);
        fill(
            &mut self.organization_id,
            &lookup,
            &["WORKOS_ORGANIZATION_ID"],
        );
    }
}

/// Why a WorkOS checker could not be built. Messages begin with the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum WorkosFgaConfigError {
    /// No API key.
    #[error("api_key (or WORKOS_API_KEY) is required for WorkOS fine-grained authorization")]
    MissingApiKey,
    /// The API base is unusable.
    #[error("api_base: {0}")]
    ApiBase(IdpError),
    /// The membership claim is blank.
    #[error("membership_claim must not be blank")]
    BlankClaim,
}

/// Checks through WorkOS's authorization API.
pub struct WorkosChecker {
    client: IdpClient,
    base: Url,
    auth_header: Zeroizing<String>,
    organization_id: Option<String>,
    membership_claim: String,
    resource_types: BTreeMap<String, String>,
    permissions: BTreeMap<String, String>,
    public_by_default: bool,
}

impl std::fmt::Debug for WorkosChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkosChecker")
            .field("base", &self.base.as_str())
            .field("organization_id", &self.organization_id)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct CheckResult {
    authorized: bool,
}

impl WorkosChecker {
    /// Builds the checker; the API base must be HTTPS (or loopback HTTP when allowed).
    pub fn new(cfg: WorkosFgaConfig) -> Result<Self, WorkosFgaConfigError> {
        let key = non_empty_secret(&cfg.api_key).ok_or(WorkosFgaConfigError::MissingApiKey)?;
        if cfg.membership_claim.trim().is_empty() {
            return Err(WorkosFgaConfigError::BlankClaim);
        }
        let client = IdpClient::new(IdpClientConfig {
            allow_insecure_http: cfg.allow_insecure_http,
            timeout: cfg.timeout,
            ..IdpClientConfig::default()
        });
        let base = client
            .url(cfg.api_base.trim())
            .map_err(WorkosFgaConfigError::ApiBase)?;
        if base.cannot_be_a_base() {
            return Err(WorkosFgaConfigError::ApiBase(IdpError::BadUrl(
                cfg.api_base.clone(),
            )));
        }
        Ok(Self {
            client,
            base,
            auth_header: Zeroizing::new(format!("Bearer {key}")),
            organization_id: cfg.organization_id.clone(),
            membership_claim: cfg.membership_claim.clone(),
            resource_types: cfg.resource_types.clone(),
            permissions: cfg.permissions.clone(),
            public_by_default: cfg.public_by_default,
        })
    }

    /// The user's organization membership id, if one can be found.
    pub fn membership_of<'u>(&self, user: &'u User) -> Option<&'u str> {
        if let Some(id) = user
            .claims
            .get(&self.membership_claim)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            return Some(id);
        }
        let memberships = user.claims.get("memberships")?.as_array()?;
        let active = memberships
            .iter()
            .filter(|m| m.get("status").and_then(Value::as_str) == Some("active"));
        let chosen = match &self.organization_id {
            Some(org) => active
                .clone()
                .find(|m| m.get("organization_id").and_then(Value::as_str) == Some(org.as_str())),
            None => active.clone().next(),
        }?;
        chosen
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    async fn ask(
        &self,
        membership: &str,
        permission: &str,
        resource: Resource<'_>,
    ) -> Result<bool, AuthError> {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend([
                "authorization",
                "organization_memberships",
                membership,
                "check",
            ]);
        }
        let body = json!({
            "permission_slug": self.permissions.get(permission).map_or(permission, String::as_str),
            "resource_external_id": resource.id,
            "resource_type_slug": self.resource_types.get(resource.kind).map_or(resource.kind, String::as_str),
        });
        let headers = [("authorization", self.auth_header.as_str())];
        match self
            .client
            .send(Method::POST, &url, &headers, Some(RequestBody::Json(body)))
            .await
        {
            Ok(res) => res
                .json::<CheckResult>(&url)
                .map(|r| r.authorized)
                .map_err(unavailable),
            Err(IdpError::Status { status: 404, .. }) => Ok(self.public_by_default),
            Err(e) => Err(unavailable(e)),
        }
    }
}

fn unavailable(e: IdpError) -> AuthError {
    tracing::warn!(error = %e, "WorkOS authorization check failed");
    AuthError::authorization_unavailable(format!("WorkOS authorization API: {e}"))
}

impl FgaChecker for WorkosChecker {
    fn check<'a>(
        &'a self,
        user: &'a User,
        permission: &'a str,
        resource: Resource<'a>,
    ) -> Verdict<'a, bool> {
        let Some(membership) = self.membership_of(user) else {
            return Verdict::Ready(Ok(false));
        };
        Verdict::pending(self.ask(membership, permission, resource))
    }
}
