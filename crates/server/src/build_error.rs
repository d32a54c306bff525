//! [`BuildError`]: why the app could not be built from a parsed config. Its own module, so that
//! `auth_provider` (which `app` calls) does not depend on `app` for its error type.

/// Why the app could not be built from a (parsed) config. Messages name the setting.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// An auth setting is unusable.
    #[error("{key}: {message}")]
    Auth {
        /// Dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A provider refused its settings (the message names the setting).
    #[error("{0}")]
    Provider(String),
    /// An agent setting is unusable.
    #[error("{key}: {message}")]
    Agent {
        /// Dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A custom route is unusable.
    #[error("api_routes: {0}")]
    Routes(String),
    /// A route added with [`crate::ServerBuilder::route`] is unusable.
    #[error("route {method} {path}: {reason}")]
    Route {
        /// Its methods (`GET`, `GET, POST`, `ALL`).
        method: String,
        /// Its path template.
        path: String,
        /// What is wrong (boxed: the other variants are small).
        reason: Box<crate::config::RouteError>,
    },
    /// Memory storage is unusable (`[storage]`, `[memory]`).
    #[error("memory: {0}")]
    Memory(String),
    /// TLS material is unusable.
    #[error("server.tls: {0}")]
    Tls(String),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address tried.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
