//! Assembly: config -> auth pipeline, agent registry and the axum app, in the order of the request
//! path in ARCHITECTURE.md.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use mastra_auth::pattern::{MethodSet, PathMatcher, PatternList, RoutePattern};
use mastra_auth::policy::RouteFlag;
use mastra_auth::rules::{RuleConfig, RuleError, Rules};
use mastra_auth::{Auth, AuthProvider};
use mastra_core::{Agent, Registry, builtin_tools, model_from_spec};
use serde::Deserialize;

use crate::api_route::ApiRoute;
pub use crate::build_error::BuildError;
use crate::builder::{App, ServerBuilder};
use crate::config::{ApiRouteConfig, Config, MethodOrAll, RouteError};
use crate::http;
use crate::http::openapi::RouteDoc;

/// App-wide middleware added with [`ServerBuilder::layer`], applied to the router of every route.
pub(crate) type AppLayer = Box<dyn FnOnce(Router) -> Router + Send + Sync>;

/// What a [`ServerBuilder`] adds to the app of a config.
#[derive(Default)]
pub(crate) struct Additions {
    /// Routes of the user's own, checked against the config's and the server's.
    pub(crate) routes: Vec<ApiRoute>,
    /// App-wide middleware, innermost first.
    pub(crate) layers: Vec<AppLayer>,
    /// The user routes' OpenAPI operations.
    pub(crate) docs: Vec<RouteDoc>,
}

fn auth_err(key: impl Into<String>, message: impl ToString) -> BuildError {
    BuildError::Auth {
        key: key.into(),
        message: message.to_string(),
    }
}

fn patterns(values: &[toml::Value], key: &str) -> Result<PatternList, BuildError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            RoutePattern::deserialize(v.clone()).map_err(|e| auth_err(format!("{key}[{i}]"), e))
        })
        .collect()
}

/// The provider named by `[auth]`, or `None` for `provider = "none"`.
pub fn build_provider(cfg: &Config) -> Result<Option<Arc<dyn AuthProvider>>, BuildError> {
    crate::auth_provider::build(cfg)
}

fn route_flag(r: &ApiRouteConfig) -> Result<RouteFlag, BuildError> {
    let (methods, names): (MethodSet, Vec<&str>) = match &r.method {
        MethodOrAll::All => (MethodSet::All, vec!["ALL"]),
        MethodOrAll::Method(m) => (MethodSet::only([m.clone()]), vec![m.as_str()]),
    };
    let pattern = RoutePattern::with_methods(&r.path, &names)
        .map_err(|e| BuildError::Routes(format!("{}: {e}", r.path)))?;
    Ok(RouteFlag {
        methods,
        template: r.path.clone(),
        pattern,
        requires_auth: r.requires_auth,
        permission: r.permission.clone(),
    })
}

/// The `requires_auth` flag of a route added with [`ServerBuilder::route`].
pub(crate) fn user_route_flag(route: &ApiRoute) -> Result<RouteFlag, RouteError> {
    let path = PathMatcher::pattern(&route.path).map_err(|e| RouteError::Template {
        path: route.path.clone(),
        reason: e.to_string(),
    })?;
    Ok(RouteFlag {
        methods: route.methods.clone(),
        template: route.path.clone(),
        pattern: RoutePattern {
            path,
            methods: route.methods.clone(),
        },
        requires_auth: route.requires_auth,
        permission: route.permission.clone(),
    })
}

/// The auth pipeline described by the config, or `None` when `auth.provider = "none"`.
pub fn build_auth(cfg: &Config) -> Result<Option<Auth>, BuildError> {
    build_auth_with(cfg, Vec::new())
}

/// [`build_auth`] knowing the `requires_auth` flags of more routes than the config's.
pub(crate) fn build_auth_with(
    cfg: &Config,
    extra_routes: Vec<RouteFlag>,
) -> Result<Option<Auth>, BuildError> {
    let Some(provider) = build_provider(cfg)? else {
        return Ok(None);
    };
    // The CORS layer (outside auth) answers real preflights; when it is off, nothing may treat
    // a preflight-shaped request as exempt.
    let mut b = Auth::mastra_defaults(provider)
        .exempt_preflight(false)
        .api_prefix(&cfg.server.api_prefix)
        .api_key_query(cfg.auth.api_key_query)
        .public_list(patterns(&cfg.auth.public, "auth.public")?)
        .protected_list(patterns(&cfg.auth.protected, "auth.protected")?);
    // The sign-in routes decide on the session themselves: exactly their paths and methods.
    for (path, method) in crate::signin::PUBLIC_ROUTES {
        let path = format!("{}{path}", cfg.server.api_prefix);
        b = b.public(
            RoutePattern::with_methods(&path, &[method]).map_err(|e| auth_err(path.clone(), e))?,
        );
    }
    if !cfg.auth.rules.is_empty() {
        let configs = cfg
            .auth
            .rules
            .iter()
            .enumerate()
            .map(|(i, v)| {
                RuleConfig::deserialize(v.clone())
                    .map_err(|e| auth_err(format!("auth.rules[{i}]"), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let rules = Rules::from_config(configs).map_err(|e| match e {
            RuleError::At { index, source } => auth_err(format!("auth.rules[{index}]"), source),
            other => auth_err("auth.rules", other),
        })?;
        b = b.rules(rules);
    }
    if let Some(rbac) = crate::auth_provider::rbac(cfg)? {
        b = b.rbac(rbac);
    }
    if let Some(fga) = crate::auth_provider::fga(cfg)? {
        b = b.fga(fga);
    }
    for r in &cfg.api_routes {
        b = b.route(route_flag(r)?);
    }
    for flag in extra_routes {
        b = b.route(flag);
    }
    if cfg.ui.enabled {
        for flag in crate::ui::route_flags() {
            b = b.route(flag);
        }
    }
    Ok(Some(b.build()))
}

/// The agents of `[[agents]]`, or the demo `weatherAgent` when none are configured.
pub fn build_registry(cfg: &Config) -> Result<Registry, BuildError> {
    if cfg.agents.is_empty() {
        return Ok(Registry::demo());
    }
    let tools = builtin_tools();
    let mut registry = Registry::new();
    for (i, a) in cfg.agents.iter().enumerate() {
        let model = model_from_spec(&a.model).map_err(|e| BuildError::Agent {
            key: format!("agents[{i}].model"),
            message: e.to_string(),
        })?;
        let mut agent = Agent::new(a.id.clone(), a.name.clone(), model)
            .with_description(a.description.clone())
            .with_instructions(a.instructions.clone());
        for t in &a.tools {
            let tool = tools.get(t).ok_or_else(|| BuildError::Agent {
                key: format!("agents[{i}].tools"),
                message: format!(
                    "unknown tool {t:?}; built-in tools: {}",
                    tools.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            })?;
            agent = agent.with_tool(t.clone(), tool.clone());
            registry = registry.with_tool(t.clone(), tool.clone());
        }
        registry = registry.with_agent(agent);
    }
    Ok(registry)
}

/// The whole app: routes, then auth (inside routing, so it sees the matched route); around the
/// router, request normalization, body limit, timeout, CORS and request logs, outermost last.
pub fn build_router(
    cfg: &Config,
    registry: Arc<Registry>,
    auth: Option<Auth>,
) -> Result<Router, BuildError> {
    assemble(cfg, registry, auth, Additions::default()).map(|(router, _)| router)
}

/// [`build_router`] with a builder's additions: their routes next to the config's, their layers
/// inside the auth layer. Returns the router and the auth pipeline it runs.
pub(crate) fn assemble(
    cfg: &Config,
    registry: Arc<Registry>,
    auth: Option<Auth>,
    additions: Additions,
) -> Result<(Router, Option<Arc<Auth>>), BuildError> {
    let prefix = cfg.server.api_prefix.as_str();
    let provider = auth.as_ref().map(|a| a.provider().clone());
    let signin = match &provider {
        Some(p) => crate::signin::SignIn::build(cfg, p.clone(), |k| std::env::var(k).ok())?,
        None => None,
    };
    let auth_routes = crate::signin::router(
        signin.clone(),
        auth.as_ref(),
        cfg.auth.api_key_query,
        prefix,
    );
    let memory = crate::api::memory::Memory::from_config(cfg)?;
    let mut api = crate::api::router_with(registry, memory);
    if let Some(fga) = auth.as_ref().and_then(|a| a.policy().fga.clone()) {
        api = api.layer(axum::Extension(crate::api::ListFilter(fga)));
    }
    let mut app = Router::new()
        .merge(http::health_router(prefix))
        .nest(prefix, api.merge(auth_routes))
        .merge(
            http::custom_routes::router(&cfg.api_routes)
                .map_err(|e| BuildError::Routes(e.to_string()))?,
        );
    // The builder checked these against every other route, so `route` cannot panic.
    for route in additions.routes {
        app = app.route(&route.path, route.router);
    }
    if cfg.server.openapi {
        let docs: Vec<RouteDoc> = cfg
            .api_routes
            .iter()
            .map(RouteDoc::from_config)
            .chain(additions.docs)
            .collect();
        app = app.merge(http::openapi::router_with(prefix, &docs));
    }
    if cfg.ui.enabled {
        app = app.merge(crate::ui::router(prefix));
    }
    app = app.fallback(|| async { http::json_error(::http::StatusCode::NOT_FOUND, "Not Found") });
    for layer in additions.layers {
        app = layer(app);
    }
    let auth = auth.map(Auth::layer);
    let shared = auth.as_ref().map(|layer| layer.auth().clone());
    if let Some(auth) = auth {
        app = app.layer(auth);
    }
    // The layers below need no matched route, so they wrap the router once. Added with
    // `Router::layer` (as auth must be) axum wraps every route in each of them, and every
    // request then clones and boxes one more service and future per layer (see BENCHMARKS.md).
    let outer = tower::ServiceBuilder::new()
        .option_layer(http::cors::optional_layer(&cfg.server.cors))
        .layer(http::limits::timeout_layer(cfg.server.timeout))
        .layer(http::limits::body_limit_layer(
            cfg.server.body_limit.as_u64(),
        ))
        // Before routing: the router routes the path the auth layer decides on.
        .layer(mastra_auth::NormalizeLayer)
        // After normalization, before the router and its auth layer: the session cookie becomes
        // the pipeline's token.
        .option_layer(
            signin.map(|s| axum::middleware::from_fn_with_state(s, crate::signin::session_layer)),
        )
        .service(app);
    let mut router = Router::new().fallback_service(outer);
    if cfg.server.request_logs {
        // Its response body type differs; on a router of one fallback it wraps that one route.
        router = router.layer(http::logging::layer());
    }
    Ok((router, shared))
}

/// Builds everything from a config: auth, registry, router ([`ServerBuilder::into_router`]
/// without additions).
pub fn build(cfg: &Config) -> Result<Router, BuildError> {
    ServerBuilder::new(cfg.clone()).into_router()
}

/// A bound, ready server: call [`Server::run`] to serve until SIGINT/SIGTERM.
pub struct Server {
    listener: tokio::net::TcpListener,
    router: Router,
    auth: Option<Arc<Auth>>,
    tls: Option<crate::config::TlsConfig>,
    shutdown_timeout: std::time::Duration,
    /// Whether handlers need the client address (proxy routes).
    client_addr: bool,
}

/// What a server future resolves to once it stops by itself.
type Serving = std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>;

impl Server {
    /// Binds the configured host and port (port 0 picks a free one): [`ServerBuilder::bind`]
    /// without additions.
    pub async fn bind(cfg: &Config) -> Result<Server, BuildError> {
        ServerBuilder::new(cfg.clone()).bind().await
    }

    /// Binds the host and port of the app's config.
    pub(crate) async fn bind_app(app: App) -> Result<Server, BuildError> {
        let (router, auth, cfg, user_additions) = app.into_parts();
        if let Some(tls) = &cfg.server.tls {
            http::tls::rustls_config(tls).map_err(|e| BuildError::Tls(e.to_string()))?;
        }
        let addr = format!("{}:{}", cfg.server.host, cfg.server.port);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|source| BuildError::Bind { addr, source })?;
        Ok(Server {
            listener,
            router,
            auth,
            tls: cfg.server.tls.clone(),
            shutdown_timeout: cfg.server.shutdown_timeout,
            // User routes and middleware may read `ConnectInfo<SocketAddr>`.
            client_addr: user_additions
                || cfg
                    .api_routes
                    .iter()
                    .any(|r| matches!(r.action, crate::config::RouteAction::Proxy { .. })),
        })
    }

    /// The auth pipeline every route goes through (`None` with `auth.provider = "none"`).
    pub fn auth(&self) -> Option<&Arc<Auth>> {
        self.auth.as_ref()
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves until SIGINT/SIGTERM, then stops accepting and lets open requests finish for up to
    /// `server.shutdown_timeout` before returning `Ok` (connections still open are dropped with
    /// the runtime). A second SIGINT/SIGTERM during that drain ends the process at once with
    /// exit status 130 (SIGINT) or 143 (SIGTERM), as an operator pressing Ctrl-C twice expects.
    pub async fn run(self) -> std::io::Result<()> {
        // Installed before serving, so a signal arriving at any point after this is seen.
        let mut signals = http::shutdown::Signals::install();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let stop = async move {
            // a dropped sender also means stop
            let _ = stop_rx.await;
        };
        let grace = self.shutdown_timeout;
        // Proxy routes read `ConnectInfo<SocketAddr>` (X-Forwarded-For); without them nothing
        // does, and plain HTTP skips inserting it into every request (an allocation each).
        let mut serving: Serving = match self.tls {
            Some(tls) => {
                let config = http::tls::rustls_config(&tls).map_err(std::io::Error::other)?;
                let listener = self.listener.into_std()?;
                Box::pin(http::tls::serve(
                    listener,
                    self.router,
                    config,
                    stop,
                    Some(grace),
                ))
            }
            None if self.client_addr => Box::pin(
                axum::serve(
                    self.listener,
                    self.router
                        .into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(stop)
                .into_future(),
            ),
            None => Box::pin(
                axum::serve(self.listener, self.router)
                    .with_graceful_shutdown(stop)
                    .into_future(),
            ),
        };

        let first = tokio::select! {
            result = &mut serving => return result,
            received = signals.recv() => received,
        };
        tracing::info!(
            signal = %first,
            shutdown_timeout = ?grace,
            "shutting down: no new connections; open requests may finish (send the signal again to exit at once)"
        );
        // The receiver lives inside `serving`, which is still alive here.
        let _ = stop_tx.send(());

        tokio::select! {
            result = &mut serving => {
                tracing::info!("all open requests finished; stopped");
                result
            }
            () = tokio::time::sleep(grace) => {
                tracing::warn!(
                    shutdown_timeout = ?grace,
                    "requests still open after server.shutdown_timeout: stopping without them"
                );
                Ok(())
            }
            second = signals.recv() => {
                let code = second.exit_code();
                tracing::warn!(
                    signal = %second,
                    exit_code = code,
                    "second stop signal during shutdown: exiting now without waiting for open requests"
                );
                // `exit` runs no destructors: flush what was printed to stdout first.
                let _ = std::io::Write::flush(&mut std::io::stdout());
                std::process::exit(code)
            }
        }
    }
}
