//! Helpers shared by the black-box tests of this crate.

pub mod raw_http;
