//! The server's TOML config parser (`Config::from_toml_str_with_env`, env substitution,
//! schema, validation). Input: the config text. No environment is consulted (`${VAR}` resolves
//! through a fixed map).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mastra_server::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `auth.jwt.public_key` may name a PEM file, which the parser reads: keep the fuzzer away
    // from device and pseudo files (a read of /dev/zero never ends).
    if ["/dev", "/proc", "/sys", "\\\\"]
        .iter()
        .any(|p| text.contains(p))
    {
        return;
    }
    let lookup = |name: &str| match name {
        "SECRET" => Some("0123456789abcdef0123456789abcdef-x".to_string()),
        "PORT" => Some("8080".to_string()),
        _ => None,
    };
    if let Ok(cfg) = Config::from_toml_str_with_env(text, "fuzz.toml", lookup) {
        // A config that loaded validates again and prints without panicking.
        let _ = cfg.validate("fuzz.toml");
        let _ = format!("{cfg:?}");
    }
});
