//! The black-box tests of the `mastra` binary, in one test binary (each linking the whole stack
//! costs build time and disk): one module per area, helpers shared through [`support`]. Every
//! test drives the real binary (`env!("CARGO_BIN_EXE_mastra")`) as a child process.

mod support;

mod cli;
mod config_check_cel;
mod first_hour;
mod js_client;
mod js_client_fga;
mod memory_crash;
mod memory_replicas;
mod secrets_hygiene;
mod shutdown;
mod soak_short;
mod startup_refusals;
mod ui_browser;
mod ui_config_check;
