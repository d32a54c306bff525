//! mastra-client
