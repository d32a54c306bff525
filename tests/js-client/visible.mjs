// What one user of the official @mastra/client-js sees: the agents and tools listed, and what
// reading an agent they may not see answers. Used by crates/cli/tests/it/js_client_fga.rs.
//
// Usage: MASTRA_URL=http://127.0.0.1:4111 MASTRA_TOKEN=eyJ... MASTRA_HIDDEN_AGENT=secretAgent \
//   node tests/js-client/visible.mjs
// Prints one JSON line: {agents: [ids], tools: [ids], hidden: {status, body}}. Never the token.
const { MastraClient } = await import('@mastra/client-js');

const { MASTRA_URL: baseUrl, MASTRA_TOKEN: token, MASTRA_HIDDEN_AGENT: hidden } = process.env;
if (!baseUrl || !token || !hidden) {
  console.error('set MASTRA_URL, MASTRA_TOKEN and MASTRA_HIDDEN_AGENT');
  process.exit(2);
}
const client = new MastraClient({ baseUrl, headers: { Authorization: `Bearer ${token}` }, retries: 0 });

const agents = Object.keys(await client.listAgents()).sort();
const tools = Object.keys(await client.listTools()).sort();
let denied;
try {
  await client.getAgent(hidden).details();
  denied = { status: 200 };
} catch (e) {
  denied = { status: e?.status, body: e?.body };
}
console.log(JSON.stringify({ agents, tools, hidden: denied }));
