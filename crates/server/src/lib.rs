//! mastra-server
