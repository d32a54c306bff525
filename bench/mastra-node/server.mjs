// A REAL Mastra server (1.x line; also runs on the 0.x line), fully offline: agent `weatherAgent` backed by a tiny
// in-process LanguageModelV2 object (no network), tool `weatherTool`, workflow, Memory, MastraJwtAuth (HS256).
// Copied from the project's Mastra peer kit (shared/peers/mastra-node/server.mjs) for bench/vs-mastra-node.sh,
// plus AUTH=<mode> below to measure how Mastra-style providers fetch a JWKS.
// Usage: MASTRA_PEER_DIR=$PEER/v1 PORT=4111 MASTRA_JWT_SECRET=... node server.mjs
//   MASTRA_PEER_DIR : folder where install.sh put node_modules
//   PORT            : default 4111; binds 127.0.0.1 only
//   MASTRA_JWT_SECRET: HS256 secret; default 'peer-dev-secret'. Set NO_AUTH=1 to run without auth.
//   SERVER_MODE     : 'node' (default, deployer's createNodeServer) or 'hono' (createHonoServer + @hono/node-server serve)
//   AUTH            : 'jwt' (default): MastraJwtAuth({ secret }). With JWKS_URI (+ JWKS_ISSUER, JWKS_AUDIENCE), 1.x only:
//                     'jwks-verify'  : authenticateToken = verifyJwks(token, JWKS_URI) from @mastra/auth
//                     'jwks-auth0'   : createRemoteJWKSet + jwtVerify inside authenticateToken (MastraAuthAuth0's code)
//                     'jwks-shared'  : one createRemoteJWKSet for the process (jose's own cache), jwtVerify per request
import { createRequire } from 'node:module';
import path from 'node:path';

const peerDir = process.env.MASTRA_PEER_DIR || process.cwd();
const req = createRequire(path.join(peerDir, 'package.json'));
const imp = (spec) => import(req.resolve(spec));
process.env.MASTRA_TELEMETRY_DISABLED ??= '1';

const { Mastra } = await imp('@mastra/core/mastra');
const { Agent } = await imp('@mastra/core/agent');
const { createTool } = await imp('@mastra/core/tools');
const { createWorkflow, createStep } = await imp('@mastra/core/workflows');
const { MastraJwtAuth } = await imp('@mastra/auth');
const { createHonoServer, createNodeServer } = await imp('@mastra/deployer/server');
const { z } = await imp('zod');

const port = Number(process.env.PORT || 4111);
const secret = process.env.MASTRA_JWT_SECRET || 'peer-dev-secret';

// ---- offline model: AI SDK LanguageModelV2 shape, no network ----
// Replies "Echo: <last user text>". If the user text is "weather <city>", the first step calls the
// agent tool `weatherTool` with { location: <city> } and the next step (after the tool result) answers.
function lastUserText(prompt) {
  const users = (prompt || []).filter((m) => m.role === 'user');
  const last = users[users.length - 1];
  if (!last) return '';
  return typeof last.content === 'string' ? last.content
    : last.content.filter((p) => p.type === 'text').map((p) => p.text).join('');
}
function plan(prompt) {
  const last = (prompt || [])[prompt.length - 1];
  if (last?.role === 'tool') {
    const part = last.content.find((p) => p.type === 'tool-result');
    const out = part?.output?.value ?? part?.output ?? part?.result;
    return { text: `Weather: ${JSON.stringify(out)}` };
  }
  const text = lastUserText(prompt);
  const m = /^weather\s+(.+)$/i.exec(text.trim());
  if (m) return { toolCall: { toolCallId: `call-${Date.now()}`, toolName: 'weatherTool', input: JSON.stringify({ location: m[1] }) } };
  return { text: `Echo: ${text}` };
}
const usage = (n) => ({ inputTokens: 3, outputTokens: n, totalTokens: 3 + n });
const echoModel = {
  specificationVersion: 'v2', provider: 'peer-mock', modelId: 'echo-v2', supportedUrls: {},
  async doGenerate({ prompt }) {
    const p = plan(prompt);
    const response = { id: 'resp-echo', modelId: 'echo-v2', timestamp: new Date(0) };
    if (p.toolCall) return { content: [{ type: 'tool-call', ...p.toolCall }], finishReason: 'tool-calls', usage: usage(1), warnings: [], response };
    return { content: [{ type: 'text', text: p.text }], finishReason: 'stop', usage: usage(p.text.split(' ').length), warnings: [], response };
  },
  async doStream({ prompt }) {
    const p = plan(prompt);
    const stream = new ReadableStream({
      start(c) {
        c.enqueue({ type: 'stream-start', warnings: [] });
        c.enqueue({ type: 'response-metadata', id: 'resp-echo', modelId: 'echo-v2', timestamp: new Date(0) });
        if (p.toolCall) {
          const { toolCallId, toolName, input } = p.toolCall;
          c.enqueue({ type: 'tool-input-start', id: toolCallId, toolName });
          c.enqueue({ type: 'tool-input-delta', id: toolCallId, delta: input });
          c.enqueue({ type: 'tool-input-end', id: toolCallId });
          c.enqueue({ type: 'tool-call', toolCallId, toolName, input });
          c.enqueue({ type: 'finish', finishReason: 'tool-calls', usage: usage(1) });
        } else {
          const words = p.text.split(' ');
          c.enqueue({ type: 'text-start', id: 't0' });
          words.forEach((w, i) => c.enqueue({ type: 'text-delta', id: 't0', delta: (i ? ' ' : '') + w }));
          c.enqueue({ type: 'text-end', id: 't0' });
          c.enqueue({ type: 'finish', finishReason: 'stop', usage: usage(words.length) });
        }
        c.close();
      },
    });
    return { stream };
  },
};

const weatherTool = createTool({
  id: 'get-weather',
  description: 'Get current weather for a location (offline fake)',
  inputSchema: z.object({ location: z.string().describe('City name') }),
  outputSchema: z.object({ location: z.string(), temperatureC: z.number(), conditions: z.string() }),
  execute: async (input) => {
    const location = input?.location ?? input?.context?.location; // 1.x passes input directly; 0.x passed { context }
    return { location, temperatureC: 21, conditions: 'Sunny' };
  },
});

// Optional memory (in-memory store fallback) so /api/memory/* routes work; skipped if @mastra/memory is absent.
// MEMORY_STORE=libsql (with @mastra/libsql installed) stores it in the SQLite file MEMORY_DB with
// Mastra's durable default store, as bench/memory.sh measures; LAST_MESSAGES sets lastMessages.
let memory;
try {
  const { Memory } = await imp('@mastra/memory');
  const options = { lastMessages: Number(process.env.LAST_MESSAGES || 20) };
  if (process.env.MEMORY_STORE === 'libsql') {
    const { LibSQLStore } = await imp('@mastra/libsql');
    const storage = new LibSQLStore({ id: 'bench-memory', url: `file:${process.env.MEMORY_DB || 'memory.db'}` });
    memory = new Memory({ storage, options });
  } else {
    memory = new Memory({ options });
  }
} catch (e) {
  console.error('no @mastra/memory, memory routes will answer "Memory is not initialized":', e.message);
}

const weatherAgent = new Agent({
  id: 'weatherAgent',
  name: 'Weather Agent',
  description: 'Answers weather questions (offline echo model)',
  instructions: 'You are a helpful weather assistant.',
  model: echoModel,
  tools: { weatherTool },
  ...(memory ? { memory } : {}),
});

// One tiny workflow so /api/workflows/* has something to list and run.
const shout = createStep({
  id: 'shout',
  inputSchema: z.object({ city: z.string() }),
  outputSchema: z.object({ shouted: z.string() }),
  execute: async ({ inputData }) => ({ shouted: inputData.city.toUpperCase() }),
});
const weatherWorkflow = createWorkflow({
  id: 'weatherWorkflow',
  description: 'Upper-cases a city name (offline)',
  inputSchema: z.object({ city: z.string() }),
  outputSchema: z.object({ shouted: z.string() }),
}).then(shout).commit();

const server = { host: '127.0.0.1', port };
// OPENAPI=1 turns on /api (welcome page), /api/openapi.json and /swagger-ui, as `mastra dev` does.
if (process.env.OPENAPI) server.build = { openAPIDocs: true, swaggerUI: true };
if (process.env.BODY_LIMIT) server.bodySizeLimit = Number(process.env.BODY_LIMIT);
const authMode = process.env.AUTH || 'jwt';
async function jwksProvider(mode) {
  const { MastraAuthProvider } = await imp('@mastra/core/server');
  const { verifyJwks } = await imp('@mastra/auth');
  const uri = process.env.JWKS_URI;
  if (!uri) throw new Error(`AUTH=${mode} needs JWKS_URI`);
  const opts = { issuer: process.env.JWKS_ISSUER, audience: process.env.JWKS_AUDIENCE };
  let jose;
  if (mode !== 'jwks-verify') jose = await imp('jose');
  const shared = mode === 'jwks-shared' ? jose.createRemoteJWKSet(new URL(uri)) : null;
  return new (class extends MastraAuthProvider {
    constructor() {
      super({ name: mode });
    }
    async authenticateToken(token) {
      if (mode === 'jwks-verify') return verifyJwks(token, uri);
      const keys = shared ?? jose.createRemoteJWKSet(new URL(uri));
      const { payload } = await jose.jwtVerify(token, keys, opts);
      return payload;
    }
    async authorizeUser(user) {
      return !!user;
    }
  })();
}
if (!process.env.NO_AUTH) {
  const coreVersion = req('@mastra/core/package.json').version;
  const provider = authMode === 'jwt' ? new MastraJwtAuth({ secret }) : await jwksProvider(authMode);
  // Mastra 0.x reads the provider from server.experimental_auth; 1.x from server.auth.
  if (coreVersion.startsWith('0.')) server.experimental_auth = provider;
  else server.auth = provider;
}

const mastra = new Mastra({ agents: { weatherAgent }, tools: { weatherTool }, workflows: { weatherWorkflow }, server });

if ((process.env.SERVER_MODE || 'node') === 'hono') {
  const { serve } = await import(req.resolve('@hono/node-server'));
  const app = await createHonoServer(mastra, { tools: {} });
  serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => console.log(`mastra (hono) listening on http://127.0.0.1:${port}/api auth=${process.env.NO_AUTH ? 'none' : authMode}`));
} else {
  await createNodeServer(mastra, { tools: {} });
  console.log(`mastra (node) listening on http://127.0.0.1:${port}/api auth=${process.env.NO_AUTH ? 'none' : authMode}`);
}
