//! [`ApiRoute`]: a route of your own, served by [`crate::ServerBuilder`] behind the same auth
//! pipeline, CORS, timeout, body limit, request normalization and request logs as the built-in
//! routes. Mastra's `server.apiRoutes` entry (`path`, `method`, `handler`, `middleware`,
//! `requiresAuth`, `openapi`), the Rust way.

use std::convert::Infallible;

use axum::extract::Request;
use axum::handler::Handler;
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, MethodRouter, Route};
use http::Method;
use mastra_auth::pattern::MethodSet;
use serde_json::{Map, Value};
use tower::{Layer, Service};

use crate::config::RouteError;

/// A route added with [`crate::ServerBuilder::route`]: a method set, an axum path template
/// (`/billing/{id}`, `/files/{*rest}`) outside the API prefix, and what answers it.
///
/// It requires a verified user unless [`ApiRoute::requires_auth`] says otherwise (as Mastra's
/// `requiresAuth`, default true); its handlers read the user with the
/// [`mastra_auth::AuthUser`] extractor.
pub struct ApiRoute {
    pub(crate) methods: MethodSet,
    pub(crate) path: String,
    pub(crate) router: MethodRouter,
    pub(crate) requires_auth: bool,
    pub(crate) permission: Option<String>,
    pub(crate) operation: Map<String, Value>,
    /// A problem found while the route was put together, reported by the builder.
    pub(crate) invalid: Option<RouteError>,
}

impl std::fmt::Debug for ApiRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRoute")
            .field("methods", &self.methods)
            .field("path", &self.path)
            .field("requires_auth", &self.requires_auth)
            .field("permission", &self.permission)
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl ApiRoute {
    /// A route answering `methods` on `path` with `service` (any axum [`MethodRouter`], e.g.
    /// one with its own state applied). Only the declared methods reach `service`; any other is
    /// answered 405 by the router, so the auth layer's view of the route (which methods it
    /// guards) and the router's never disagree.
    pub fn new(methods: MethodSet, path: impl Into<String>, service: MethodRouter) -> Self {
        let (router, invalid) = match &methods {
            MethodSet::All => (MethodRouter::new().fallback_service(service), None),
            MethodSet::Only(list) => match method_filter(list) {
                Ok(filter) => (MethodRouter::new().on_service(filter, service), None),
                Err(e) => (MethodRouter::new(), Some(e)),
            },
        };
        ApiRoute {
            methods,
            path: path.into(),
            router,
            requires_auth: true,
            permission: None,
            operation: Map::new(),
            invalid,
        }
    }

    fn with_handler(method: Method, path: impl Into<String>, router: MethodRouter) -> Self {
        ApiRoute {
            methods: MethodSet::only([method]),
            path: path.into(),
            router,
            requires_auth: true,
            permission: None,
            operation: Map::new(),
            invalid: None,
        }
    }

    /// `GET path` (and `HEAD`, which the router answers with the `GET` handler).
    pub fn get<H, T>(path: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, ()>,
        T: 'static,
    {
        Self::with_handler(Method::GET, path, axum::routing::get(handler))
    }

    /// `POST path`.
    pub fn post<H, T>(path: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, ()>,
        T: 'static,
    {
        Self::with_handler(Method::POST, path, axum::routing::post(handler))
    }

    /// `PUT path`.
    pub fn put<H, T>(path: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, ()>,
        T: 'static,
    {
        Self::with_handler(Method::PUT, path, axum::routing::put(handler))
    }

    /// `DELETE path`.
    pub fn delete<H, T>(path: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, ()>,
        T: 'static,
    {
        Self::with_handler(Method::DELETE, path, axum::routing::delete(handler))
    }

    /// `PATCH path`.
    pub fn patch<H, T>(path: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, ()>,
        T: 'static,
    {
        Self::with_handler(Method::PATCH, path, axum::routing::patch(handler))
    }

    /// Any method on `path` (Mastra's `method: "ALL"`); a route naming a method on the same
    /// template takes that method.
    pub fn any<H, T>(path: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, ()>,
        T: 'static,
    {
        ApiRoute {
            methods: MethodSet::All,
            path: path.into(),
            router: axum::routing::any(handler),
            requires_auth: true,
            permission: None,
            operation: Map::new(),
            invalid: None,
        }
    }

    /// Whether the auth layer requires a verified user (default true). `false` makes the route
    /// public whatever the configured protected patterns say; `true` protects it even where a
    /// public pattern matches (as `requires_auth` of `[[api_routes]]`).
    pub fn requires_auth(mut self, on: bool) -> Self {
        self.requires_auth = on;
        self
    }

    /// The permission the route needs when role-based access control is on (`[auth.rbac]`),
    /// instead of the one derived from its path (`billing:read` for `GET /billing/{id}`).
    pub fn permission(mut self, permission: impl Into<String>) -> Self {
        let permission = permission.into();
        if let Err(e) = mastra_auth::permission::validate(&permission) {
            self.invalid.get_or_insert(RouteError::Permission(e));
        }
        self.permission = Some(permission);
        self
    }

    /// Middleware for this route only (Mastra's per-route `middleware`). It runs inside the auth
    /// layer (the verified [`mastra_auth::User`] is in the request's extensions) and inside the
    /// app-wide layers of [`crate::ServerBuilder::layer`], for the route's methods only; layers
    /// added later wrap those added earlier.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = match self.methods {
            // an `ALL` route is the method router's fallback, which `route_layer` skips
            MethodSet::All => self.router.layer(layer),
            // not the 405 answer for other methods, which may belong to another route's template
            MethodSet::Only(_) => self.router.route_layer(layer),
        };
        self
    }

    /// The operation's `summary` in the OpenAPI document.
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.operation
            .insert("summary".into(), Value::String(summary.into()));
        self
    }

    /// The operation's `description` in the OpenAPI document.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.operation
            .insert("description".into(), Value::String(description.into()));
        self
    }

    /// Fields of the OpenAPI operation object (Mastra's `openapi` option): `summary`,
    /// `description`, `tags`, `parameters`, `requestBody`, `responses`, ... merged over what
    /// was set before. Path parameters and default responses are filled in where missing;
    /// `security` always follows [`ApiRoute::requires_auth`]. Anything but a JSON object is
    /// refused when the server is built.
    pub fn openapi(mut self, operation: Value) -> Self {
        match operation {
            Value::Object(fields) => self.operation.extend(fields),
            _ => {
                self.invalid.get_or_insert(RouteError::Operation);
            }
        }
        self
    }

    /// The methods it answers.
    pub fn methods(&self) -> &MethodSet {
        &self.methods
    }

    /// Its path template.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The methods for messages: `GET`, `GET, POST`, `ALL`.
    pub(crate) fn method_label(&self) -> String {
        match &self.methods {
            MethodSet::All => "ALL".into(),
            MethodSet::Only(list) => list
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The router's filter for exactly these methods.
fn method_filter(methods: &[Method]) -> Result<MethodFilter, RouteError> {
    let mut filter: Option<MethodFilter> = None;
    for method in methods {
        let one = MethodFilter::try_from(method.clone()).map_err(|_| RouteError::Method {
            method: method.to_string(),
        })?;
        filter = Some(filter.map_or(one, |f| f.or(one)));
    }
    filter.ok_or(RouteError::NoMethods)
}
