// The official TypeScript SDK client (@modelcontextprotocol/sdk 1.x) against
// mod_matomo_mcp.  Run by t/20_sdk.t as `node --test t/js/sdk.test.mjs` with
// MCP_URL set to the test server's /mcp, MCP_TOKEN to the fake Matomo's
// superuser token and MCP_VIEWER_TOKEN to its view-only token (site 2 only)
// (t/matomo/tokens.json); runs on Node 20.  The tokens are secret: no test
// message or assertion may show them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  UnauthorizedError,
  auth,
  buildDiscoveryUrls,
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
} from '@modelcontextprotocol/sdk/client/auth.js';
import {
  ErrorCode,
  McpError,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';

const MCP_URL = process.env.MCP_URL;
if (!MCP_URL) throw new Error('MCP_URL is not set (t/20_sdk.t sets it)');
const MCP_TOKEN = process.env.MCP_TOKEN;
if (!MCP_TOKEN) throw new Error('MCP_TOKEN is not set (t/20_sdk.t sets it)');
const MCP_VIEWER_TOKEN = process.env.MCP_VIEWER_TOKEN;
if (!MCP_VIEWER_TOKEN) throw new Error('MCP_VIEWER_TOKEN is not set (t/20_sdk.t sets it)');

// How a client with a Matomo token sends it: a fixed header on every request.
const withToken = () => ({ headers: { Authorization: `Bearer ${MCP_TOKEN}` } });

let client;
let transport;

before(async () => {
  client = new Client({ name: 'mod_matomo_mcp-sdk-test', version: '1.0.0' });
  transport = new StreamableHTTPClientTransport(new URL(MCP_URL), { requestInit: withToken() });
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

// Icon, as the MCP schema 2025-11-25 defines it (schema/2025-11-25/schema.json,
// $defs/Icon, descriptions left out): what serverInfo.icons and each tool's
// icons hold.
const ICON_SCHEMA = {
  type: 'object',
  properties: {
    src: { type: 'string', format: 'uri' },
    mimeType: { type: 'string' },
    sizes: { type: 'array', items: { type: 'string' } },
    theme: { type: 'string', enum: ['dark', 'light'] },
  },
  required: ['src'],
};
const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;
const iconAjv = new Ajv2020({ allErrors: true, strict: true });
addFormats(iconAjv);
const validIcon = iconAjv.compile(ICON_SCHEMA);

// icons: valid Icons, each an SVG drawn with plain shapes, carried whole in
// a base64 data: URI, scalable.
function checkIcons(icons, who) {
  assert.ok(Array.isArray(icons) && icons.length > 0, `${who}: no icons`);
  for (const icon of icons) {
    assert.ok(validIcon(icon), `${who}: ${iconAjv.errorsText(validIcon.errors)}`);
    assert.equal(icon.mimeType, 'image/svg+xml', `${who}: mimeType`);
    assert.deepEqual(icon.sizes, ['any'], `${who}: sizes (SVG scales)`);
    const m = /^data:image\/svg\+xml;base64,([A-Za-z0-9+/]+={0,2})$/.exec(icon.src);
    assert.ok(m, `${who}: src is not a base64 SVG data: URI`);
    const svg = Buffer.from(m[1], 'base64').toString('utf8');
    assert.match(svg, /^<svg xmlns='http:\/\/www\.w3\.org\/2000\/svg' [^>]*viewBox='0 0 24 24'[^>]*>.*<\/svg>$/s,
                 `${who}: an SVG of its own`);
    assert.doesNotMatch(svg, /script|href|<text|<style|<image|url\(/i, `${who}: plain shapes only`);
  }
  return icons.map((i) => i.src);
}

test('initialize: serverInfo carries an icon (MCP 2025-11-25 Icon)', () => {
  checkIcons(client.getServerVersion()?.icons, 'serverInfo');
});

test('tools/list: every tool carries an icon of its own (MCP 2025-11-25 Icon)', async () => {
  const { tools } = await client.listTools();
  const seen = new Map();
  const server = checkIcons(client.getServerVersion()?.icons, 'serverInfo')[0];
  for (const tool of tools) {
    const [src] = checkIcons(tool.icons, tool.name);
    assert.notEqual(src, server, `${tool.name}: the server's icon`);
    assert.ok(!seen.has(src), `${tool.name}: the same icon as ${seen.get(src)}`);
    seen.set(src, tool.name);
  }
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
  const sseTransport = new StreamableHTTPClientTransport(new URL(MCP_URL), {
    fetch: sseOnlyFetch,
    requestInit: withToken(),
  });
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

// --- authentication: 401, the RFC 9728 pointer, discovery ---------------

// Where the module says its protected resource metadata is: the path-aware
// well-known URL of the endpoint (RFC 9728 section 3.1).
const METADATA_URL = new URL(
  `/.well-known/oauth-protected-resource${new URL(MCP_URL).pathname}`, MCP_URL).href;

// An initialize request as raw fetch(), with the given Authorization header
// (none when undefined).
async function rawInitialize(authorization) {
  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
  };
  if (authorization !== undefined) headers.Authorization = authorization;
  const res = await fetch(MCP_URL, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'mod_matomo_mcp-sdk-test-raw', version: '1.0.0' },
      },
    }),
  });
  await res.body?.cancel();
  return res;
}

// A fetch that notes every URL it is asked for.
function recordingFetch() {
  const urls = [];
  const f = async (url, init) => {
    urls.push(String(url));
    return fetch(url, init);
  };
  return { fetch: f, urls };
}

// The least an OAuthClientProvider needs for auth() to run discovery and
// build an authorization URL: a pre-registered public client, no tokens,
// and a redirect that only records where the user would be sent.
function minimalProvider() {
  const seen = { redirects: [] };
  let verifier;
  const provider = {
    get redirectUrl() { return 'http://localhost/callback'; },
    get clientMetadata() {
      return {
        client_name: 'mod_matomo_mcp-sdk-test-oauth',
        redirect_uris: ['http://localhost/callback'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      };
    },
    clientInformation: () => ({ client_id: 'mod_matomo_mcp-sdk-test' }),
    tokens: () => undefined,
    saveTokens: () => { throw new Error('no token may be issued in this test'); },
    redirectToAuthorization: (url) => { seen.redirects.push(new URL(url)); },
    saveCodeVerifier: (v) => { verifier = v; },
    codeVerifier: () => verifier,
  };
  return { provider, seen };
}

test('auth: a client without a token cannot connect (401)', async () => {
  const bare = new Client({ name: 'mod_matomo_mcp-sdk-test-anonymous', version: '1.0.0' });
  const bareTransport = new StreamableHTTPClientTransport(new URL(MCP_URL));
  try {
    await assert.rejects(bare.connect(bareTransport), (err) => {
      assert.ok(
        err instanceof UnauthorizedError
          || (err instanceof StreamableHTTPError && err.code === 401),
        `not an UnauthorizedError or HTTP 401: ${err}`,
      );
      return true;
    });
  } finally {
    await bare.close();
  }
});

test('auth: the 401 without a token points at the resource metadata', async () => {
  const res = await rawInitialize(undefined);
  assert.equal(res.status, 401);
  const challenge = res.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer /, `WWW-Authenticate: ${challenge}`);
  assert.match(challenge, /\bresource_metadata="[^"]+"/, `WWW-Authenticate: ${challenge}`);
  // No token was sent, so none was refused (RFC 6750 section 3.1).
  assert.doesNotMatch(challenge, /\berror=/, `WWW-Authenticate: ${challenge}`);
  const { resourceMetadataUrl, error } = extractWWWAuthenticateParams(res);
  assert.equal(resourceMetadataUrl?.href, METADATA_URL);
  assert.equal(error, undefined);
});

test('auth: the SDK finds the resource metadata from the 401', async () => {
  const res = await rawInitialize(undefined);
  assert.equal(res.status, 401);
  const { resourceMetadataUrl } = extractWWWAuthenticateParams(res);
  assert.ok(resourceMetadataUrl, 'no resource_metadata in WWW-Authenticate');

  const metadata = await discoverOAuthProtectedResourceMetadata(MCP_URL, { resourceMetadataUrl });
  assert.equal(metadata.resource, MCP_URL);
  assert.ok(Array.isArray(metadata.authorization_servers), 'authorization_servers is not an array');
  assert.ok(metadata.authorization_servers.length > 0, 'authorization_servers is empty');
  for (const server of metadata.authorization_servers) {
    const url = new URL(server); // throws when it is no URL
    assert.match(url.protocol, /^https?:$/, `authorization server ${server}`);
  }
  assert.deepEqual(metadata.bearer_methods_supported, ['header']);
  assert.equal(typeof metadata.resource_name, 'string');

  // Without the hint the SDK tries the path-aware well-known URL first: the
  // same document.
  assert.deepEqual(await discoverOAuthProtectedResourceMetadata(MCP_URL), metadata);
});

test('auth: the SDK auth() flow asks the listed authorization server for its metadata', async () => {
  const res = await rawInitialize(undefined);
  const { resourceMetadataUrl } = extractWWWAuthenticateParams(res);
  const metadata = await discoverOAuthProtectedResourceMetadata(MCP_URL, { resourceMetadataUrl });
  const authServer = metadata.authorization_servers?.[0];
  assert.ok(authServer, 'no authorization server listed');

  const { provider, seen } = minimalProvider();
  const rec = recordingFetch();
  // The fake Matomo has no OAuth server: auth() may end in a redirect to a
  // guessed /authorize or fail on the missing metadata.  Either way it must
  // have read the resource metadata and then asked the listed server.
  let outcome;
  try {
    outcome = await auth(provider, { serverUrl: MCP_URL, resourceMetadataUrl, fetchFn: rec.fetch });
  } catch (err) {
    outcome = err;
  }
  assert.ok(rec.urls.includes(METADATA_URL), `fetched: ${JSON.stringify(rec.urls)}`);
  const asDiscovery = buildDiscoveryUrls(authServer).map(({ url }) => url.href);
  assert.ok(
    rec.urls.includes(asDiscovery[0]),
    `authorization server metadata not requested at ${asDiscovery[0]}; fetched: ${JSON.stringify(rec.urls)}`,
  );
  assert.ok(
    rec.urls.indexOf(METADATA_URL) < rec.urls.indexOf(asDiscovery[0]),
    `resource metadata not read first: ${JSON.stringify(rec.urls)}`,
  );
  if (outcome === 'REDIRECT') {
    // The authorization request names this endpoint as the resource (RFC 8707).
    assert.equal(seen.redirects.length, 1);
    assert.equal(seen.redirects[0].searchParams.get('resource'), MCP_URL);
  } else {
    assert.ok(outcome instanceof Error, `auth() returned ${outcome}`);
  }
});

test('auth: a client with an OAuth provider and no token gets UnauthorizedError', async () => {
  const { provider, seen } = minimalProvider();
  // The listed authorization servers (auth.example.org, ...) are not ours
  // and not part of the test: whatever lies outside this server answers
  // 404, as an authorization server without metadata would.  auth() then
  // falls back to <server>/authorize, redirects, and the transport throws
  // the SDK's UnauthorizedError.
  const origin = new URL(MCP_URL).origin;
  const rec = recordingFetch();
  const localFetch = (url, init) => (new URL(String(url)).origin === origin
    ? rec.fetch(url, init)
    : (rec.urls.push(String(url)), Promise.resolve(new Response('', { status: 404 }))));
  const oauthClient = new Client({ name: 'mod_matomo_mcp-sdk-test-oauth', version: '1.0.0' });
  const oauthTransport = new StreamableHTTPClientTransport(new URL(MCP_URL), {
    authProvider: provider,
    fetch: localFetch,
  });
  try {
    await assert.rejects(oauthClient.connect(oauthTransport), (err) => {
      assert.ok(err instanceof UnauthorizedError,
                `not the SDK's UnauthorizedError: ${err?.constructor?.name}: ${err}`);
      return true;
    });
  } finally {
    await oauthClient.close();
  }
  assert.ok(rec.urls.includes(METADATA_URL),
            `the transport did not follow the 401 to ${METADATA_URL}; fetched: ${JSON.stringify(rec.urls)}`);
  assert.equal(seen.redirects.length, 1, `redirects: ${seen.redirects.join(', ')}`);
  assert.equal(seen.redirects[0].searchParams.get('resource'), MCP_URL);
});

test('auth: a provider holding the token connects', async () => {
  const provider = {
    ...minimalProvider().provider,
    tokens: () => ({ access_token: MCP_TOKEN, token_type: 'Bearer' }),
  };
  const oauthClient = new Client({ name: 'mod_matomo_mcp-sdk-test-oauth', version: '1.0.0' });
  const oauthTransport = new StreamableHTTPClientTransport(new URL(MCP_URL), { authProvider: provider });
  try {
    await oauthClient.connect(oauthTransport);
    assert.equal(oauthClient.getServerVersion()?.name, 'mod_matomo_mcp');
    assert.deepEqual(await oauthClient.ping(), {});
  } finally {
    await oauthClient.close();
  }
});

for (const [what, authorization] of [
  ['"Bearer a b" (a space in the token)', 'Bearer a b'],
  ['"Basic xyz" (another scheme)', 'Basic xyz'],
  ['"Bearer" with no token', 'Bearer '],
]) {
  test(`auth: a malformed Authorization ${what} is refused with 401`, async () => {
    const res = await rawInitialize(authorization);
    assert.equal(res.status, 401);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(res);
    assert.equal(resourceMetadataUrl?.href, METADATA_URL,
                 `WWW-Authenticate: ${res.headers.get('www-authenticate')}`);
  });
}

test('auth: a Bearer token with a space is invalid_token', async () => {
  const res = await rawInitialize('Bearer a b');
  assert.equal(res.status, 401);
  assert.equal(extractWWWAuthenticateParams(res).error, 'invalid_token',
               `WWW-Authenticate: ${res.headers.get('www-authenticate')}`);
});

test('auth: the SDK client with a malformed token cannot connect (401)', async () => {
  const bad = new Client({ name: 'mod_matomo_mcp-sdk-test-malformed', version: '1.0.0' });
  const badTransport = new StreamableHTTPClientTransport(new URL(MCP_URL), {
    requestInit: { headers: { Authorization: 'Bearer a b' } },
  });
  try {
    await assert.rejects(bad.connect(badTransport), (err) => {
      assert.ok(err instanceof StreamableHTTPError && err.code === 401, `not HTTP 401: ${err}`);
      return true;
    });
  } finally {
    await bad.close();
  }
});

// --- resources, prompts, completions, logging (issue 5) -------------------
// Expected values come from the recorded Matomo answers the fake Matomo
// serves (t/matomo/recorded/; node runs from the top directory).

function recorded(file) {
  const wrap = JSON.parse(readFileSync(new URL(`../matomo/recorded/${file}`, import.meta.url), 'utf8'));
  return JSON.parse(wrap.body);
}

const SITES = recorded('sites-view.json');          // the superuser's
const VIEWER_SITES = recorded('sites-view-viewer.json');

// The three resources of each site, in Matomo's order of the sites.
const resourcesOf = (sites) => sites.flatMap((s) => [
  [`matomo://sites/${s.idsite}`, s.name],
  [`matomo://sites/${s.idsite}/reports`, `${s.name}: reports`],
  [`matomo://sites/${s.idsite}/segments`, `${s.name}: segments`],
]);

// A rejection that is an McpError with CODE.
const mcpErrorWith = (code, check) => (err) => {
  assert.ok(err instanceof McpError, `not an McpError: ${err}`);
  assert.equal(err.code, code, `${err.message}`);
  check?.(err);
  return true;
};

// A second client, with the view-only token.
let viewer;
async function viewerClient() {
  if (!viewer) {
    viewer = new Client({ name: 'mod_matomo_mcp-sdk-test-viewer', version: '1.0.0' });
    await viewer.connect(new StreamableHTTPClientTransport(new URL(MCP_URL), {
      requestInit: { headers: { Authorization: `Bearer ${MCP_VIEWER_TOKEN}` } },
    }));
  }
  return viewer;
}
after(async () => {
  await viewer?.close();
});

test('initialize: resources, prompts, completions and logging capabilities', () => {
  const caps = client.getServerCapabilities() ?? {};
  assert.deepEqual(caps.resources, { listChanged: false });
  assert.deepEqual(caps.prompts, { listChanged: false });
  assert.deepEqual(caps.completions, {});
  assert.deepEqual(caps.logging, {});
});

test('listResources: three resources per visible site, in Matomo\'s order', async () => {
  const { resources, nextCursor } = await client.listResources();
  assert.deepEqual(resources.map((r) => [r.uri, r.name]), resourcesOf(SITES));
  for (const r of resources) assert.equal(r.mimeType, 'application/json', r.uri);
  assert.equal(nextCursor, undefined);
});

test('listResourceTemplates: the three matomo://sites templates', async () => {
  const { resourceTemplates } = await client.listResourceTemplates();
  assert.deepEqual(resourceTemplates.map((t) => [t.uriTemplate, t.name]), [
    ['matomo://sites/{idSite}', 'site'],
    ['matomo://sites/{idSite}/reports', 'site-reports'],
    ['matomo://sites/{idSite}/segments', 'site-segments'],
  ]);
});

test('readResource matomo://sites/1: the site as Matomo records it', async () => {
  const site = recorded('full/x-site1-SitesManager.getSiteFromId.json');
  const goals = recorded('full/x-site1-Goals.getGoals.json');
  const { contents } = await client.readResource({ uri: 'matomo://sites/1' });
  assert.equal(contents.length, 1);
  assert.equal(contents[0].uri, 'matomo://sites/1');
  assert.equal(contents[0].mimeType, 'application/json');
  const d = JSON.parse(contents[0].text);
  assert.equal(String(d.id), String(site.idsite));
  assert.equal(d.name, site.name);
  assert.equal(d.url, site.main_url);
  assert.equal(d.timezone, site.timezone);
  assert.equal(d.currency, site.currency);
  assert.equal(Boolean(d.ecommerce), Boolean(site.ecommerce));
  const nameAt = d.goals.columns.indexOf('name');
  assert.deepEqual(d.goals.rows.map((r) => r[nameAt]), goals.map((g) => g.name));
});

test('readResource matomo://sites/1/reports: the report catalog', async () => {
  const meta = recorded('full/x-site1-API.getReportMetadata.json');
  const { contents } = await client.readResource({ uri: 'matomo://sites/1/reports' });
  const d = JSON.parse(contents[0].text);
  assert.equal(d.reports.columns[0], 'id');
  assert.deepEqual(d.reports.rows.map((r) => r[0]), meta.map((m) => m.uniqueId));
});

test('readResource of a site that does not exist rejects with -32002 and the uri', async () => {
  await assert.rejects(
    client.readResource({ uri: 'matomo://sites/999' }),
    mcpErrorWith(-32002, (err) => assert.equal(err.data?.uri, 'matomo://sites/999')),
  );
});

test('listPrompts: the four analyses', async () => {
  const { prompts } = await client.listPrompts();
  assert.deepEqual(prompts.map((p) => p.name).sort(), [
    'matomo_report_interpretation', 'matomo_segment_analysis',
    'matomo_technical_checks', 'matomo_traffic_exploration',
  ]);
  for (const p of prompts) {
    assert.equal(typeof p.description, 'string', p.name);
    const idSite = p.arguments.find((a) => a.name === 'idSite');
    assert.equal(idSite?.required, true, `${p.name}: idSite required`);
  }
});

test('getPrompt matomo_traffic_exploration: a user message naming the tools', async () => {
  const r = await client.getPrompt({
    name: 'matomo_traffic_exploration',
    arguments: { idSite: '2', period: 'week', date: '2026-11-18' },
  });
  assert.equal(r.messages[0].role, 'user');
  assert.equal(r.messages[0].content.type, 'text');
  const text = r.messages[0].content.text;
  assert.match(text, /\bmatomo_traffic_summary\b/);
  assert.match(text, /\bidSite=2\b/);
  assert.doesNotMatch(text, /\{\w+\}/);
  assert.match(text, /\bweek\b/);
  assert.match(text, /\b2026-11-18\b/);
});

test('getPrompt without the required idSite rejects with -32602', async () => {
  await assert.rejects(
    client.getPrompt({ name: 'matomo_technical_checks', arguments: {} }),
    mcpErrorWith(ErrorCode.InvalidParams, (err) => assert.match(err.message, /idSite/)),
  );
  await assert.rejects(
    client.getPrompt({ name: 'no_such_prompt', arguments: { idSite: '1' } }),
    mcpErrorWith(ErrorCode.InvalidParams),
  );
});

test('complete: site ids, periods, report ids', async () => {
  const ref = { type: 'ref/prompt', name: 'matomo_report_interpretation' };
  let { completion } = await client.complete({ ref, argument: { name: 'idSite', value: '' } });
  assert.deepEqual(completion.values.map(Number).sort((a, b) => a - b), SITES.map((s) => s.idsite));
  assert.equal(completion.hasMore, false);
  ({ completion } = await client.complete({ ref, argument: { name: 'idSite', value: 'blog' } }));
  assert.deepEqual(completion.values, ['2']);
  ({ completion } = await client.complete({ ref, argument: { name: 'period', value: 'm' } }));
  assert.deepEqual(completion.values, ['month']);
  ({ completion } = await client.complete({
    ref, argument: { name: 'report', value: 'Actions_getP' }, context: { arguments: { idSite: '1' } },
  }));
  assert.ok(completion.values.includes('Actions_getPageUrls'), JSON.stringify(completion.values));
  ({ completion } = await client.complete({
    ref: { type: 'ref/resource', uri: 'matomo://sites/{idSite}' }, argument: { name: 'idSite', value: '3' },
  }));
  assert.deepEqual(completion.values, ['3']);
  ({ completion } = await client.complete({
    ref: { type: 'ref/prompt', name: 'no_such_prompt' }, argument: { name: 'x', value: '' },
  }));
  assert.deepEqual(completion, { values: [], total: 0, hasMore: false });
});

test('setLoggingLevel info answers {}', async () => {
  assert.deepEqual(await client.setLoggingLevel('info'), {});
  await assert.rejects(client.setLoggingLevel('verbose'), mcpErrorWith(ErrorCode.InvalidParams));
});

test('view-only token: listResources shows its own site only, never site 1', async () => {
  const v = await viewerClient();
  const { resources } = await v.listResources();
  assert.deepEqual(resources.map((r) => [r.uri, r.name]), resourcesOf(VIEWER_SITES));
  assert.ok(!resources.some((r) => /^matomo:\/\/sites\/1(\/|$)/.test(r.uri)), 'site 1 listed');
});

test('view-only token: readResource matomo://sites/1 rejects with -32002', async () => {
  const v = await viewerClient();
  for (const uri of ['matomo://sites/1', 'matomo://sites/1/reports', 'matomo://sites/1/segments']) {
    await assert.rejects(
      v.readResource({ uri }),
      mcpErrorWith(-32002, (err) => assert.equal(err.data?.uri, uri)),
    );
  }
  const { contents } = await v.readResource({ uri: 'matomo://sites/2' });
  assert.equal(JSON.parse(contents[0].text).name, VIEWER_SITES[0].name);
});

test('view-only token: completing idSite offers its own site only', async () => {
  const v = await viewerClient();
  const ref = { type: 'ref/prompt', name: 'matomo_traffic_exploration' };
  for (const value of ['', '1', 'Demo', 'blog']) {
    const { completion } = await v.complete({ ref, argument: { name: 'idSite', value } });
    assert.ok(completion.values.every((id) => VIEWER_SITES.some((s) => String(s.idsite) === id)),
              `typing '${value}': ${JSON.stringify(completion.values)}`);
  }
  const { completion } = await v.complete({ ref, argument: { name: 'idSite', value: '' } });
  assert.deepEqual(completion.values, VIEWER_SITES.map((s) => String(s.idsite)));
});
