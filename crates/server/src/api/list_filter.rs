//! [`ListFilter`]: list routes (`GET /agents`, `GET /tools`) return only what the caller may
//! see when `[auth.fga]` is on: one fine-grained check per item, cached and run with bounded
//! concurrency by [`Fga::filter`].

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use mastra_auth::User;
use mastra_auth::fga::Fga;

/// The fine-grained authorization list routes filter with; in the API router's extensions when
/// `[auth.fga]` is configured.
#[derive(Clone, Debug)]
pub struct ListFilter(pub Arc<Fga>);

/// Keeps the items of `keys` (with their resource ids) that `user` holds `permission` on, as
/// resources of `kind`. Without a filter everything stays; with one but no user (a list made
/// public) nothing does. A backend failure is the refusal to answer (503).
pub(super) async fn visible<'k>(
    filter: Option<&ListFilter>,
    user: Option<&User>,
    permission: &str,
    kind: &str,
    items: Vec<(&'k str, &'k str)>,
) -> Result<Vec<&'k str>, Response> {
    let Some(ListFilter(fga)) = filter else {
        return Ok(items.into_iter().map(|(key, _)| key).collect());
    };
    let Some(user) = user else {
        return Ok(Vec::new());
    };
    let ids: Vec<&str> = items.iter().map(|(_, id)| *id).collect();
    let allowed = fga
        .filter(user, permission, kind, &ids)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(items
        .into_iter()
        .zip(allowed)
        .filter_map(|((key, _), ok)| ok.then_some(key))
        .collect())
}
