// The official TypeScript SDK client (@modelcontextprotocol/sdk 1.x) against
// mod_matomo_mcp.  Run by t/20_sdk.t as `node --test t/js/sdk.test.mjs` with
// MCP_URL set to the test server's /mcp; runs on Node 20.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ErrorCode,
  McpError,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';

const MCP_URL = process.env.MCP_URL;
if (!MCP_URL) throw new Error('MCP_URL is not set (t/20_sdk.t sets it)');

let client;
let transport;

before(async () => {
  client = new Client({ name: 'mod_matomo_mcp-sdk-test', version: '1.0.0' });
  transport = new StreamableHTTPClientTransport(new URL(MCP_URL));
  // initialize, then notifications/initialized
  await client.connect(transport);
});

after(async () => {
  await client?.close();
});

test('initialize: serverInfo names mod_matomo_mcp', () => {
  const info = client.getServerVersion();
  assert.equal(info?.name, 'mod_matomo_mcp');
  assert.equal(typeof info.version, 'string');
  assert.ok(info.version.length > 0, 'serverInfo.version is empty');
});

test('initialize: instructions are given', () => {
  const instructions = client.getInstructions();
  assert.equal(typeof instructions, 'string');
  assert.ok(instructions.trim().length > 0, 'instructions are empty');
});

test('initialize: the negotiated protocol version is one the SDK supports', () => {
  assert.ok(
    SUPPORTED_PROTOCOL_VERSIONS.includes(transport.protocolVersion),
    `negotiated ${transport.protocolVersion}, SDK supports ${SUPPORTED_PROTOCOL_VERSIONS}`,
  );
});

test('initialize: tools capability is declared', () => {
  assert.ok(client.getServerCapabilities()?.tools, 'no tools capability');
});

test('stateless: no Mcp-Session-Id', () => {
  assert.equal(transport.sessionId, undefined);
});

test('ping answers {}', async () => {
  assert.deepEqual(await client.ping(), {});
});

test('tools/list: every tool is well-formed', async () => {
  const { tools } = await client.listTools();
  assert.ok(Array.isArray(tools), 'tools is not an array');
  for (const tool of tools) {
    assert.equal(typeof tool.name, 'string');
    assert.match(tool.name, /^[A-Za-z0-9_.\/-]{1,64}$/, `tool name ${tool.name}`);
    assert.equal(typeof tool.description, 'string', `${tool.name}: description`);
    assert.ok(tool.description.length > 0, `${tool.name}: empty description`);
    assert.equal(tool.inputSchema?.type, 'object', `${tool.name}: inputSchema.type`);
  }
});

test('tools/call of an unknown tool rejects with -32602', async () => {
  await assert.rejects(
    client.callTool({ name: 'no_such_tool_xyz', arguments: {} }),
    (err) => {
      assert.ok(err instanceof McpError, `not an McpError: ${err}`);
      assert.equal(err.code, ErrorCode.InvalidParams);
      return true;
    },
  );
  // The rejection must not have broken the client.
  assert.deepEqual(await client.ping(), {});
});

test('stateless: still no Mcp-Session-Id after several requests', () => {
  assert.equal(transport.sessionId, undefined);
});

// A client that accepts only text/event-stream on its POSTs gets every answer
// as an SSE stream, and the SDK's own SSE reader parses it.
test('SSE: a client accepting only text/event-stream is served SSE', async () => {
  const answers = []; // [status, content-type] of each POST
  const sseOnlyFetch = async (url, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers);
    if (method === 'POST') headers.set('Accept', 'text/event-stream');
    const res = await fetch(url, { ...init, headers });
    if (method === 'POST') answers.push([res.status, res.headers.get('content-type')]);
    return res;
  };

  const sseClient = new Client({ name: 'mod_matomo_mcp-sdk-test-sse', version: '1.0.0' });
  const sseTransport = new StreamableHTTPClientTransport(new URL(MCP_URL), { fetch: sseOnlyFetch });
  try {
    await sseClient.connect(sseTransport);
    assert.equal(sseClient.getServerVersion()?.name, 'mod_matomo_mcp');
    assert.deepEqual(await sseClient.ping(), {});
    const { tools } = await sseClient.listTools();
    assert.ok(Array.isArray(tools));
    await assert.rejects(
      sseClient.callTool({ name: 'no_such_tool_xyz', arguments: {} }),
      (err) => err instanceof McpError && err.code === ErrorCode.InvalidParams,
    );
    assert.equal(sseTransport.sessionId, undefined);
  } finally {
    await sseClient.close();
  }

  // initialize, ping, tools/list, tools/call answered as streams;
  // notifications/initialized is a bare 202.
  const streamed = answers.filter(([status]) => status === 200);
  assert.equal(streamed.length, 4, `POST answers: ${JSON.stringify(answers)}`);
  for (const [, type] of streamed) assert.match(type ?? '', /^text\/event-stream\b/);
  assert.ok(answers.some(([status]) => status === 202), `POST answers: ${JSON.stringify(answers)}`);
});
