//! Model specs: [`model_from_spec`] turns a `provider/model` string from a config into one of
//! the built-in [`LanguageModel`]s. Kept apart from [`crate::model`] so the trait does not
//! depend on its implementations.

use std::sync::Arc;

use crate::echo::EchoModel;
use crate::model::{LanguageModel, ModelError};
use crate::openai::OpenAiModel;

/// The model spec forms [`model_from_spec`] accepts.
pub const SUPPORTED_MODEL_SPECS: &str = "`builtin/echo` (offline) and `openai/<model>` (any OpenAI-compatible Chat Completions endpoint: OPENAI_BASE_URL, OPENAI_API_KEY)";

/// Builds a model from a spec string: `builtin/echo` or `openai/<model>`.
pub fn model_from_spec(spec: &str) -> Result<Arc<dyn LanguageModel>, ModelError> {
    let unsupported = || ModelError::UnsupportedSpec {
        spec: spec.to_string(),
        supported: SUPPORTED_MODEL_SPECS,
    };
    let (provider, model) = spec.trim().split_once('/').ok_or_else(unsupported)?;
    match (provider, model) {
        ("builtin", "echo") => Ok(Arc::new(EchoModel::new())),
        ("openai", m) if !m.trim().is_empty() => Ok(Arc::new(OpenAiModel::from_env(m.trim())?)),
        _ => Err(unsupported()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parsing() {
        let echo = model_from_spec("builtin/echo").unwrap();
        assert_eq!((echo.provider(), echo.model_id()), ("builtin", "echo"));
        for bad in [
            "",
            "echo",
            "builtin/other",
            "anthropic/claude",
            "openai/",
            "openai",
        ] {
            let err = model_from_spec(bad).err().unwrap();
            let msg = err.to_string();
            assert!(
                msg.contains("builtin/echo") && msg.contains("openai/<model>"),
                "{msg}"
            );
        }
    }
}
