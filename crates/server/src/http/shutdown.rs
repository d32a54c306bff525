//! Shutdown signals: [`signal`] for a one-shot trigger (`axum::serve(..).with_graceful_shutdown`,
//! [`super::tls::serve`]), and [`Signals`] for a server that drains after the first SIGINT/SIGTERM
//! and must still notice the second.

use std::fmt;

/// A signal that asks the server to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl StopSignal {
    /// The conventional exit status of a process ended by this signal (128 + signal number).
    pub fn exit_code(self) -> i32 {
        match self {
            StopSignal::Interrupt => 130,
            StopSignal::Terminate => 143,
        }
    }
}

impl fmt::Display for StopSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
        })
    }
}

/// SIGINT and SIGTERM listeners, installed once so that every later delivery is seen: a
/// listener created only after the first signal could miss a second one sent in between.
/// If a handler cannot be installed, that signal is logged and ignored; the other still works.
pub struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signals").finish_non_exhaustive()
    }
}

#[cfg(unix)]
fn install(
    kind: tokio::signal::unix::SignalKind,
    name: &str,
) -> Option<tokio::signal::unix::Signal> {
    match tokio::signal::unix::signal(kind) {
        Ok(sig) => Some(sig),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for {name}");
            None
        }
    }
}

#[cfg(unix)]
async fn next(sig: &mut Option<tokio::signal::unix::Signal>) {
    match sig {
        // `None` means the stream ended (the runtime is going away): never report a signal
        Some(s) => {
            if s.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}

impl Signals {
    /// Installs the handlers; from now on SIGINT and SIGTERM no longer end the process by
    /// themselves. Must be called inside a Tokio runtime.
    pub fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::SignalKind;
            Signals {
                interrupt: install(SignalKind::interrupt(), "Ctrl-C (SIGINT)"),
                terminate: install(SignalKind::terminate(), "SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// Waits for the next SIGINT or SIGTERM delivered since [`Signals::install`].
    pub async fn recv(&mut self) -> StopSignal {
        #[cfg(unix)]
        {
            tokio::select! {
                () = next(&mut self.interrupt) => StopSignal::Interrupt,
                () = next(&mut self.terminate) => StopSignal::Terminate,
            }
        }
        #[cfg(not(unix))]
        {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!(error = %e, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
            StopSignal::Interrupt
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM. If a handler cannot be installed, that
/// signal is logged and ignored; the other still works.
pub async fn signal() {
    let received = Signals::install().recv().await;
    tracing::info!(signal = %received, "shutting down");
}
