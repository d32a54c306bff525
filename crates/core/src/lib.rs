//! mastra-core
