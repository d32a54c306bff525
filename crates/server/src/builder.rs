//! [`ServerBuilder`]: the server of a config plus routes and middleware of your own, behind the
//! same auth pipeline (one instance, one verified-token cache), CORS, timeout, body limit,
//! request normalization and request logs (Mastra's `server.apiRoutes` and `server.middleware`).
//!
//! Where the additions sit on the request path (ARCHITECTURE.md), outermost first: request logs,
//! CORS, timeout, body limit, normalization, router, auth, then the app-wide layers of
//! [`ServerBuilder::layer`], then a route's own layers ([`ApiRoute::layer`]), then its handler.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::Route;
use mastra_auth::Auth;
use mastra_auth::pattern::MethodSet;
use mastra_core::Registry;
use tower::{Layer, Service};

use crate::api_route::ApiRoute;
use crate::app::{self, Additions, AppLayer, Server};
use crate::build_error::BuildError;
use crate::config::{Config, MethodOrAll, RESERVED_PATHS, RouteSet};
use crate::http::openapi;

/// Builds the server of a [`Config`], with routes and middleware of your own.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use mastra_server::{ApiRoute, ServerBuilder, config::Config};
/// use mastra_auth::AuthUser;
///
/// let config = Config::load("mastra.toml")?;
/// let server = ServerBuilder::new(config)
///     .route(ApiRoute::get("/billing/{id}", |AuthUser(user): AuthUser| async move { user.id }))
///     .route(ApiRoute::get("/status", || async { "ok" }).requires_auth(false))
///     .bind()
///     .await?;
/// server.run().await?;
/// # Ok(()) }
/// ```
pub struct ServerBuilder {
    config: Config,
    registry: Option<Registry>,
    routes: Vec<ApiRoute>,
    layers: Vec<AppLayer>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("config", &self.config)
            .field("registry", &self.registry.is_some())
            .field("routes", &self.routes)
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl ServerBuilder {
    /// Starts from a config (loaded with [`Config::load`] or built in code); the agents come
    /// from it unless [`ServerBuilder::registry`] says otherwise.
    pub fn new(config: Config) -> Self {
        ServerBuilder {
            config,
            registry: None,
            routes: Vec::new(),
            layers: Vec::new(),
        }
    }

    /// The config it serves.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Adds a route of your own. Its path must lie outside the API prefix and the server's own
    /// paths (`/health`, and `/ui` with everything under it), and not collide with a `[[api_routes]]` entry or
    /// another route: the rules of `[[api_routes]]`, checked when the server is built.
    pub fn route(mut self, route: ApiRoute) -> Self {
        self.routes.push(route);
        self
    }

    /// Adds app-wide middleware (Mastra's `server.middleware`): it wraps every route, built-in
    /// and your own, the 404 answer included. It runs inside the auth layer, so the verified
    /// [`mastra_auth::User`] (if any) is in the request's extensions, and inside CORS, timeout,
    /// body limit and normalization. Layers added later wrap those added earlier.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<std::convert::Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.layers
            .push(Box::new(move |router: Router| router.layer(layer)));
        self
    }

    /// Serves these agents and tools instead of the config's `[[agents]]`.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Checks the routes, builds the auth pipeline (with the `requires_auth` of the config's
    /// routes and of yours), the agents and the router.
    pub fn build(self) -> Result<App, BuildError> {
        let ServerBuilder {
            config,
            registry,
            routes,
            layers,
        } = self;
        if !routes.is_empty() {
            check_routes(&config, &routes)?;
        }
        let flags = routes
            .iter()
            .map(|r| {
                app::user_route_flag(r).map_err(|reason| BuildError::Route {
                    method: r.method_label(),
                    path: r.path.clone(),
                    reason: Box::new(reason),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let auth = app::build_auth_with(&config, flags)?;
        let registry = match registry {
            Some(registry) => registry,
            None => app::build_registry(&config)?,
        };
        let docs = routes
            .iter()
            .map(|r| openapi::RouteDoc {
                methods: r.methods.clone(),
                path: r.path.clone(),
                requires_auth: r.requires_auth,
                operation: r.operation.clone(),
            })
            .collect();
        let client_addr = !routes.is_empty() || !layers.is_empty();
        let (router, auth) = app::assemble(
            &config,
            Arc::new(registry),
            auth,
            Additions {
                routes,
                layers,
                docs,
            },
        )?;
        Ok(App {
            router,
            auth,
            config,
            client_addr,
        })
    }

    /// [`ServerBuilder::build`], as an axum router: serve it yourself, or mount it in another
    /// app with `Router::fallback_service`.
    pub fn into_router(self) -> Result<Router, BuildError> {
        self.build().map(App::into_router)
    }

    /// [`ServerBuilder::build`], then binds the configured host and port (port 0 picks a free
    /// one); [`Server::run`] serves. With routes or layers added, handlers and layers can
    /// extract `ConnectInfo<SocketAddr>`.
    pub async fn bind(self) -> Result<Server, BuildError> {
        Server::bind_app(self.build()?).await
    }
}

/// Your routes against the server's own paths, the config's routes and each other: what
/// `[[api_routes]]` must satisfy (checked when the config is loaded), so that the router never
/// panics on a conflict.
fn check_routes(config: &Config, routes: &[ApiRoute]) -> Result<(), BuildError> {
    let prefix = config.server.api_prefix.as_str();
    let mut set = RouteSet::new(prefix);
    let builtin = [
        prefix.to_string(),
        openapi::document_path(prefix),
        RESERVED_PATHS[0].to_string(),
    ];
    for path in &builtin {
        set.reserve_template(path)
            .map_err(|e| BuildError::Routes(e.to_string()))?;
    }
    for (i, r) in config.api_routes.iter().enumerate() {
        set.record(&r.method, &r.path, &format!("api_routes[{i}]"))
            .map_err(|e| BuildError::Routes(e.to_string()))?;
    }
    for route in routes {
        let err = |reason| BuildError::Route {
            method: route.method_label(),
            path: route.path.clone(),
            reason: Box::new(reason),
        };
        if let Some(reason) = &route.invalid {
            return Err(err(reason.clone()));
        }
        let label = format!("route {} {}", route.method_label(), route.path);
        let methods: Vec<MethodOrAll> = match &route.methods {
            MethodSet::All => vec![MethodOrAll::All],
            MethodSet::Only(list) => list.iter().cloned().map(MethodOrAll::Method).collect(),
        };
        for method in &methods {
            set.add(method, &route.path, &label).map_err(err)?;
        }
    }
    Ok(())
}

/// The assembled app: the router to serve and the one auth pipeline in front of every route.
pub struct App {
    router: Router,
    auth: Option<Arc<Auth>>,
    config: Config,
    client_addr: bool,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("auth", &self.auth)
            .field("client_addr", &self.client_addr)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The auth pipeline every route goes through (`None` with `auth.provider = "none"`).
    pub fn auth(&self) -> Option<&Arc<Auth>> {
        self.auth.as_ref()
    }

    /// The config it was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The router.
    pub fn into_router(self) -> Router {
        self.router
    }

    /// Its parts, for [`Server`].
    pub(crate) fn into_parts(self) -> (Router, Option<Arc<Auth>>, Config, bool) {
        (self.router, self.auth, self.config, self.client_addr)
    }
}
