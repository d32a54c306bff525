//! `mastra`: serve agents behind authentication, mint and inspect tokens, check configuration.

mod check;
mod serve;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: a request allocates and frees a dozen small blocks
/// (axum's boxed route services and futures, headers, the user); see BENCHMARKS.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A Mastra-compatible agent server with first-class authentication.
#[derive(Parser, Debug)]
#[command(name = "mastra", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the server (no config: JWT auth with a generated dev secret and a demo agent).
    Serve(serve::ServeArgs),
    /// Sign or verify JSON Web Tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Validate a configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Parse, validate and lint a mastra.toml (unknown keys, missing settings, shadowed rules).
    Check {
        /// Config file (default: ./mastra.toml if present).
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Token(cmd) => token::run(cmd),
        Command::Config(ConfigCommand::Check { config }) => check::run(config),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// The config path to use: the flag, else `./mastra.toml` when it exists.
pub(crate) fn config_path(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| {
        let default = PathBuf::from("mastra.toml");
        default.exists().then_some(default)
    })
}
