// The official TypeScript SDK v2 client (@modelcontextprotocol/client 2.x)
// against mod_matomo_mcp on revision 2026-07-28 (stateless: server/discover,
// per-request _meta), twice: pinned to 2026-07-28, and in 'auto' mode, where
// it probes with server/discover and falls back to initialize unless the
// answer is definitely modern.  Each time it lists and calls every tool with
// the sample arguments of t/tools/samples.json (each structuredContent
// validated against the tool's outputSchema by ajv, JSON Schema 2020-12,
// strict, as t/js/tools.test.mjs does), reads a resource, gets a prompt,
// completes an argument, gets progress from a tool call, and the requests
// it sent and the answers it got are checked on the wire.
//
// Run by t/25_sdk2.t as `node --test t/js/sdk2.test.mjs` (Debian's Node 20)
// with MCP_URL set to the test server's /mcp-raw (every tool, matomo_api_read
// included) and MCP_TOKEN to the fake
// Matomo's superuser token (t/matomo/tokens.json).  No test message may
// show the token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;

const MCP_URL = process.env.MCP_URL;
if (!MCP_URL) throw new Error('MCP_URL is not set (t/25_sdk2.t sets it)');
const MCP_TOKEN = process.env.MCP_TOKEN;
if (!MCP_TOKEN) throw new Error('MCP_TOKEN is not set (t/25_sdk2.t sets it)');

const MODERN = '2026-07-28';
const ALL_VERSIONS = ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26'];
const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CAPS = 'io.modelcontextprotocol/clientCapabilities';
const META_SERVER = 'io.modelcontextprotocol/serverInfo';

const readJson = (rel) => JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
const SAMPLES = readJson('../tools/samples.json');
const TOOL_NAMES = Object.keys(SAMPLES).filter((n) => Array.isArray(SAMPLES[n]) && SAMPLES[n].length);

// A message never shows the token.
const hide = (s) => String(s).split(MCP_TOKEN).join('<token>');
const short = (v) => {
  const s = hide(JSON.stringify(v) ?? String(v));
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
};

// Schemas: JSON Schema 2020-12, strict (an unknown keyword is an error).
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false,
                          strictTuple: false, validateFormats: true });
addFormats(ajv);

// --- the wire: every HTTP exchange of a client, as sent and as answered -----

// The JSON-RPC messages of a response body (JSON or an SSE stream).
function messagesOf(contentType, text) {
  if (/^text\/event-stream/.test(contentType ?? '')) {
    const out = [];
    for (const event of text.split(/\r?\n\r?\n/)) {
      const data = event.split(/\r?\n/).filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (data) out.push(JSON.parse(data));
    }
    return out;
  }
  return text ? [JSON.parse(text)] : [];
}

// A fetch that records each exchange: method, headers and JSON-RPC message
// sent, HTTP status, content type, and (a promise of) the messages answered.
function recordingFetch(log) {
  return async (url, init = {}) => {
    const headers = new Headers(init.headers);
    let sent;
    try { sent = typeof init.body === 'string' ? JSON.parse(init.body) : undefined; } catch { sent = init.body; }
    const res = await fetch(url, init);
    const entry = { httpMethod: init.method ?? 'GET', headers, sent, status: res.status,
                    contentType: res.headers.get('content-type') ?? '' };
    // Read a copy, never the client's own stream; a listen stream's copy
    // ends when the stream does.
    entry.answered = sent?.method === 'subscriptions/listen'
      ? Promise.resolve(null)
      : res.clone().text().then((t) => messagesOf(entry.contentType, t), (err) => err);
    log.push(entry);
    return res;
  };
}

// --- the two clients --------------------------------------------------------

const MODES = [
  { label: `pinned ${MODERN}`, key: 'pin', versionNegotiation: { mode: { pin: MODERN } } },
  { label: 'auto', key: 'auto', versionNegotiation: { mode: 'auto' } },
];

const conns = new Map();   // key -> { client, log, error }

async function connect(mode) {
  const log = [];
  const client = new Client({ name: `mod_matomo_mcp-sdk2-${mode.key}`, version: '1.0.0' },
                            { versionNegotiation: mode.versionNegotiation });
  const transport = new StreamableHTTPClientTransport(new URL(MCP_URL), {
    authProvider: { token: async () => MCP_TOKEN },
    fetch: recordingFetch(log),
  });
  try {
    await client.connect(transport);
    return { client, log };
  } catch (err) {
    return { client, log, error: err };
  }
}

before(async () => {
  for (const mode of MODES) conns.set(mode.key, await connect(mode));
});

after(async () => {
  for (const { client } of conns.values()) await client.close().catch(() => {});
});

// The connected client of a mode; a test of a client that did not connect
// fails with the reason.
function clientOf(mode) {
  const c = conns.get(mode.key);
  if (c.error) assert.fail(`${mode.label}: connect failed: ${hide(c.error?.message ?? c.error)}`);
  return c.client;
}

// The raw tools/list of a mode's own exchanges (what the server sent, before
// the SDK's schemas), by name.
async function rawTools(mode) {
  const tools = new Map();
  for (const e of conns.get(mode.key).log.filter((e) => e.sent?.method === 'tools/list')) {
    const msgs = await e.answered;
    for (const m of Array.isArray(msgs) ? msgs : []) {
      for (const t of m.result?.tools ?? []) if (!tools.has(t.name)) tools.set(t.name, t);
    }
  }
  return tools;
}

const validators = new Map();
function outputValidator(mode, tool) {
  const key = `${mode.key}/${tool.name}`;
  if (!validators.has(key)) validators.set(key, ajv.compile(tool.outputSchema));
  return validators.get(key);
}

for (const mode of MODES) {
  const M = mode.label;

  test(`${M}: connects in the ${MODERN} era, from server/discover`, () => {
    const client = clientOf(mode);
    assert.equal(client.getProtocolEra(), 'modern', `${M}: the client fell back to the legacy era`);
    assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
    const discover = client.getDiscoverResult();
    assert.ok(discover, 'no DiscoverResult');
    assert.deepEqual([...discover.supportedVersions].sort(), [...ALL_VERSIONS].sort(),
                     `supportedVersions ${short(discover.supportedVersions)}`);
    for (const cap of ['tools', 'resources', 'prompts', 'completions']) {
      assert.equal(typeof discover.capabilities?.[cap], 'object', `capabilities.${cap} missing`);
    }
    assert.equal(client.getServerVersion()?.name, 'mod_matomo_mcp');
    assert.equal(typeof client.getServerVersion()?.version, 'string');
    assert.ok((client.getInstructions() ?? '').trim().length > 0, 'no instructions');
  });

  test(`${M}: tools/list lists exactly the tools of t/tools/samples.json, each with an outputSchema`, async () => {
    const { tools } = await clientOf(mode).listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [...TOOL_NAMES].sort());
    for (const t of tools) {
      assert.equal(t.outputSchema?.type, 'object', `${t.name}: no object outputSchema`);
      assert.doesNotThrow(() => ajv.compile(t.outputSchema), `${t.name}: outputSchema does not compile`);
    }
  });

  for (const name of TOOL_NAMES) {
    SAMPLES[name].forEach((args, i) => {
      const label = `${name} sample ${i + 1} ${short(args)}`;
      test(`${M}: ${label}: structuredContent conforms to the outputSchema`, async () => {
        const client = clientOf(mode);
        // The SDK validates structuredContent against the listed outputSchema
        // itself (it has the tools from the test above) and throws if not.
        const result = await client.callTool({ name, arguments: args });
        assert.ok(!result.isError, `${label}: isError: ${short(result.content)}`);
        const sc = result.structuredContent;
        assert.ok(sc && typeof sc === 'object' && !Array.isArray(sc), `${label}: no structuredContent object`);
        const tool = (await rawTools(mode)).get(name);
        assert.ok(tool, `${name} was not in the raw tools/list`);
        const validate = outputValidator(mode, tool);
        assert.ok(validate(sc), `${label}: ${ajv.errorsText(validate.errors, { separator: '; ', dataVar: 'structuredContent' })}`);
        const texts = (result.content ?? []).filter((b) => b.type === 'text');
        assert.equal(texts.length, 1, `${label}: ${texts.length} text blocks`);
        assert.deepEqual(JSON.parse(texts[0].text), sc, `${label}: the text block is not the structuredContent`);
        assert.ok(!JSON.stringify(result).includes(MCP_TOKEN), `${label}: the answer carries the token`);
      });
    });
  }

  test(`${M}: resources/list, then resources/read of the first resource`, async () => {
    const client = clientOf(mode);
    const { resources } = await client.listResources();
    assert.ok(resources.length > 0, 'resources/list is empty');
    const uri = resources.find((r) => r.uri === 'matomo://sites/1')?.uri ?? resources[0].uri;
    const { contents } = await client.readResource({ uri }, { cacheMode: 'bypass' });
    assert.equal(contents.length, 1);
    assert.equal(contents[0].uri, uri);
    assert.equal(contents[0].mimeType, 'application/json');
    assert.doesNotThrow(() => JSON.parse(contents[0].text), `${uri}: the text is not JSON`);
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.ok(resourceTemplates.some((t) => t.uriTemplate === 'matomo://sites/{idSite}'),
              short(resourceTemplates.map((t) => t.uriTemplate)));
  });

  test(`${M}: prompts/list, then prompts/get matomo_traffic_exploration`, async () => {
    const client = clientOf(mode);
    const { prompts } = await client.listPrompts();
    assert.ok(prompts.some((p) => p.name === 'matomo_traffic_exploration'), short(prompts.map((p) => p.name)));
    const r = await client.getPrompt({
      name: 'matomo_traffic_exploration',
      arguments: { idSite: '2', period: 'week', date: '2026-11-18' },
    });
    assert.equal(r.messages[0]?.role, 'user');
    assert.equal(r.messages[0]?.content?.type, 'text');
    assert.match(r.messages[0].content.text, /\bmatomo_traffic_summary\b/);
    assert.match(r.messages[0].content.text, /\bidSite=2\b/);
  });

  test(`${M}: completion/complete of a prompt argument and of a resource template variable`, async () => {
    const client = clientOf(mode);
    let { completion } = await client.complete({
      ref: { type: 'ref/prompt', name: 'matomo_report_interpretation' },
      argument: { name: 'period', value: 'm' },
    });
    assert.deepEqual(completion.values, ['month']);
    ({ completion } = await client.complete({
      ref: { type: 'ref/resource', uri: 'matomo://sites/{idSite}' },
      argument: { name: 'idSite', value: '' },
    }));
    assert.ok(completion.values.includes('1') && completion.values.includes('2'), short(completion.values));
  });

  test(`${M}: a tools/call with a progress token gets progress before its result`, async () => {
    const client = clientOf(mode);
    const seen = [];
    const result = await client.callTool(
      { name: 'matomo_sites_overview', arguments: SAMPLES.matomo_sites_overview[0] },
      { onprogress: (p) => seen.push(p) });
    assert.ok(!result.isError, short(result.content));
    assert.ok(seen.length >= 1, 'no notifications/progress');
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i].progress > seen[i - 1].progress, `progress does not increase: ${short(seen)}`);
    }
  });

  if (mode.key === 'pin') {
    test(`${M}: subscriptions/listen is acknowledged, and closed by the client`, async () => {
      const client = clientOf(mode);
      const asked = { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true };
      const sub = await client.listen(asked, { timeout: 10000 });
      const honored = sub.honoredFilter ?? {};
      for (const k of Object.keys(honored)) {
        assert.ok(k in asked, `the server honours ${k}, which was not asked for`);
      }
      assert.equal(honored.resourceSubscriptions, undefined);
      await sub.close();
    });
  }

  // Last: what went over the wire for all of the above.
  test(`${M}: on the wire: server/discover first, no initialize, ${MODERN} headers and _meta on every request, resultType on every result`, async () => {
    clientOf(mode);
    const log = conns.get(mode.key).log.filter((e) => e.httpMethod === 'POST');
    assert.ok(log.length > 0, 'nothing sent');
    assert.equal(log[0].sent?.method, 'server/discover', `first request: ${short(log[0].sent?.method)}`);
    const problems = [];
    for (const e of log) {
      const m = e.sent ?? {};
      const what = `${m.method ?? '(response)'}${m.id !== undefined ? ` id ${m.id}` : ''}`;
      if (m.method === 'initialize') problems.push(`${what}: sent at all`);
      // A notification (the client's notifications/cancelled when a listen
      // stream closes): 202, no body.  2026-07-28 defines no headers for
      // notification POSTs ("header requirements for notification POSTs
      // are not defined by this revision", basic/transports/streamable-http).
      if (m.method && m.id === undefined) {
        if (e.status !== 202) problems.push(`${what}: HTTP ${e.status}, not 202`);
        continue;
      }
      if (e.headers.get('mcp-protocol-version') !== MODERN) {
        problems.push(`${what}: MCP-Protocol-Version ${e.headers.get('mcp-protocol-version')}`);
      }
      if (e.headers.get('mcp-method') !== m.method) {
        problems.push(`${what}: Mcp-Method ${e.headers.get('mcp-method')}`);
      }
      if (m.params?._meta?.[META_VERSION] !== MODERN) problems.push(`${what}: _meta protocolVersion ${short(m.params?._meta?.[META_VERSION])}`);
      if (typeof m.params?._meta?.[META_CAPS] !== 'object') problems.push(`${what}: no _meta clientCapabilities`);
      if (m.method === 'subscriptions/listen') continue;
      if (e.status !== 200) problems.push(`${what}: HTTP ${e.status}`);
      const answered = await e.answered;
      if (!Array.isArray(answered)) { problems.push(`${what}: unreadable answer (${hide(answered)})`); continue; }
      const response = answered.find((a) => a.id !== undefined && (a.result || a.error));
      if (!response) { problems.push(`${what}: no response`); continue; }
      if (response.id !== m.id) problems.push(`${what}: answered with id ${short(response.id)}`);
      if (response.error) { problems.push(`${what}: error ${short(response.error)}`); continue; }
      if (response.result.resultType !== 'complete') problems.push(`${what}: resultType ${short(response.result.resultType)}`);
      if (typeof response.result._meta?.[META_SERVER]?.name !== 'string') problems.push(`${what}: no _meta serverInfo`);
      if (/\/list$/.test(m.method) || m.method === 'resources/read' || m.method === 'server/discover') {
        const { ttlMs, cacheScope } = response.result;
        if (!(Number.isInteger(ttlMs) && ttlMs >= 0)) problems.push(`${what}: ttlMs ${short(ttlMs)}`);
        if (!['public', 'private'].includes(cacheScope)) problems.push(`${what}: cacheScope ${short(cacheScope)}`);
      }
    }
    assert.deepEqual(problems, []);
  });
}
