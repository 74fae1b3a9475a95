// Every tool of tools/list, called with the official TypeScript SDK client
// (@modelcontextprotocol/sdk 1.x) for each of its sample arguments in
// t/tools/samples.json, its structuredContent validated against the tool's
// own outputSchema by a real JSON Schema validator (ajv, JSON Schema
// 2020-12, the dialect MCP schemas default to).  Run by t/23_tools_schema.t
// as `node --test t/js/tools.test.mjs` with MCP_URL set to the test server's
// /mcp-raw (every tool, matomo_api_read included), MCP_TOKEN to the fake Matomo's superuser token and MCP_VIEWER_TOKEN
// to the view-only user's (t/matomo/tokens.json).  No test message may show
// a token.
//
// A new tool needs no code here: its samples (data) in t/tools/samples.json.
// A listed tool without samples fails this file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;

const MCP_URL = process.env.MCP_URL;
if (!MCP_URL) throw new Error('MCP_URL is not set (t/23_tools_schema.t sets it)');
const MCP_TOKEN = process.env.MCP_TOKEN;
if (!MCP_TOKEN) throw new Error('MCP_TOKEN is not set (t/23_tools_schema.t sets it)');
const MCP_VIEWER_TOKEN = process.env.MCP_VIEWER_TOKEN;
if (!MCP_VIEWER_TOKEN) throw new Error('MCP_VIEWER_TOKEN is not set (t/23_tools_schema.t sets it)');

const readJson = (rel) => JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
const SAMPLES_FILE = 't/tools/samples.json';
const SAMPLES = readJson('../tools/samples.json');
// Every token the fake Matomo knows: none may appear in any answer.
const TOKENS = Object.entries(readJson('../matomo/tokens.json'))
  .filter(([, v]) => typeof v === 'string' && v.length > 0);

// What names site 1, which the view-only user cannot see: its name and
// main URL's host as Matomo recorded them.  No answer to that user may
// carry them.
const SITE1 = JSON.parse(readJson('../matomo/recorded/full/x-site1-SitesManager.getSiteFromId.json').body);
const SITE1_MARKS = [SITE1.name, new URL(SITE1.main_url).host];

// A message naming which token leaked, never the token itself.
function leakedTokens(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return TOKENS.filter(([, tok]) => text.includes(tok)).map(([who]) => who);
}

const connect = async (token, name) => {
  const c = new Client({ name, version: '1.0.0' });
  const t = new StreamableHTTPClientTransport(new URL(MCP_URL), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await c.connect(t);
  return c;
};

// tools/list through the SDK, following nextCursor.
async function listAll(c) {
  const tools = [];
  let cursor;
  do {
    const page = await c.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}

// tools/list as the bytes the server sends, parsed without any SDK schema
// in between: what every client sees.
async function rawToolsList() {
  const tools = [];
  let cursor;
  let id = 1;
  do {
    const res = await fetch(MCP_URL, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${MCP_TOKEN}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/list',
                             ...(cursor ? { params: { cursor } } : {}) }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, `tools/list: HTTP ${res.status}`);
    const json = /^text\/event-stream/.test(res.headers.get('content-type') ?? '')
      ? JSON.parse(text.split('\n').filter((l) => l.startsWith('data:'))
                       .map((l) => l.slice(5)).join(''))
      : JSON.parse(text);
    assert.ok(json.result && Array.isArray(json.result.tools), 'tools/list: no result.tools');
    tools.push(...json.result.tools);
    cursor = json.result.nextCursor;
  } while (cursor);
  return tools;
}

// tools/call as the bytes the server sends: the JSON-RPC result, parsed
// without any SDK schema in between (the SDK could fill in defaults).
async function rawCall(name, args, token) {
  const res = await fetch(MCP_URL, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call',
                           params: { name, arguments: args } }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `tools/call ${name}: HTTP ${res.status}`);
  const json = /^text\/event-stream/.test(res.headers.get('content-type') ?? '')
    ? JSON.parse(text.split('\n').filter((l) => l.startsWith('data:'))
                     .map((l) => l.slice(5)).join(''))
    : JSON.parse(text);
  return { text, json };
}

// Schemas: JSON Schema 2020-12, strict (an unknown keyword is an error).
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false,
                          strictTuple: false, validateFormats: true });
addFormats(ajv);
const ajvErrors = (validate) => ajv.errorsText(validate.errors, { separator: '; ', dataVar: 'structuredContent' });

// Every subschema of a schema with its JSON path: properties, items,
// additionalProperties, prefixItems, combinators, $defs.
function* subschemas(schema, path = '#') {
  if (!schema || typeof schema !== 'object') return;
  yield [path, schema];
  for (const [k, s] of Object.entries(schema.properties ?? {})) yield* subschemas(s, `${path}/properties/${k}`);
  for (const [k, s] of Object.entries(schema.$defs ?? {})) yield* subschemas(s, `${path}/$defs/${k}`);
  if (schema.items && typeof schema.items === 'object') yield* subschemas(schema.items, `${path}/items`);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    yield* subschemas(schema.additionalProperties, `${path}/additionalProperties`);
  }
  for (const key of ['prefixItems', 'anyOf', 'oneOf', 'allOf']) {
    for (const [i, s] of (schema[key] ?? []).entries()) yield* subschemas(s, `${path}/${key}/${i}`);
  }
}

const short = (v) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
};

// --- what the server lists ------------------------------------------------

let client;
let viewer;
const listed = [];     // tools/list through the SDK, the first time
const raw = [];        // tools/list as sent

// node:test registers tests synchronously, but which tests exist depends on
// what the server lists: ask it before registering them.
{
  const c = await connect(MCP_TOKEN, 'mod_matomo_mcp-tools-test');
  try {
    listed.push(...await listAll(c));
  } finally {
    await c.close();
  }
  raw.push(...await rawToolsList());
}
const byName = new Map(listed.map((t) => [t.name, t]));
const rawByName = new Map(raw.map((t) => [t.name, t]));

before(async () => {
  client = await connect(MCP_TOKEN, 'mod_matomo_mcp-tools-test');
  viewer = await connect(MCP_VIEWER_TOKEN, 'mod_matomo_mcp-tools-test-viewer');
  // The SDK validates structuredContent itself once it has seen the tools:
  // list them on both clients as a model's client would.
  await listAll(client);
  await listAll(viewer);
});

after(async () => {
  await client?.close();
  await viewer?.close();
});

test('tools/list lists tools', () => {
  assert.ok(listed.length > 0, 'tools/list is empty');
  assert.equal(new Set(listed.map((t) => t.name)).size, listed.length, 'a tool name is listed twice');
});

test('tools/list: the same tools in the same order, call after call', async () => {
  const again = await listAll(client);
  assert.deepEqual(again.map((t) => t.name), listed.map((t) => t.name));
  assert.deepEqual(again, listed, 'the second tools/list differs from the first');
  assert.deepEqual(await rawToolsList(), raw, 'the raw tools/list answers differ');
});

test('tools/list (as sent): every tool has name, title, description, inputSchema, outputSchema', () => {
  assert.deepEqual(raw.map((t) => t.name), listed.map((t) => t.name));
  for (const tool of raw) {
    for (const field of ['title', 'description']) {
      assert.equal(typeof tool[field], 'string', `${tool.name}: ${field} is missing`);
      assert.ok(tool[field].trim().length > 0, `${tool.name}: empty ${field}`);
    }
    for (const field of ['inputSchema', 'outputSchema']) {
      assert.equal(typeof tool[field], 'object', `${tool.name}: ${field} is missing`);
      assert.equal(tool[field]?.type, 'object', `${tool.name}: ${field}.type is not "object"`);
    }
  }
});

test(`${SAMPLES_FILE}: every listed tool has sample arguments`, () => {
  const missing = listed.map((t) => t.name)
    .filter((n) => !Array.isArray(SAMPLES[n]) || SAMPLES[n].length === 0);
  assert.deepEqual(missing, [],
    `tools without samples: ${missing.join(', ')} (add at least one argument object each to ${SAMPLES_FILE}, see t/tools/README.md)`);
});

for (const name of Object.keys(SAMPLES).filter((n) => !byName.has(n))) {
  test(`${SAMPLES_FILE}: ${name} has samples but is not in tools/list`, () => {
    assert.fail(`${name} is not in tools/list (a tool vanished from the catalog, or its samples are stale)`);
  });
}

// --- each tool's definition -------------------------------------------------

for (const tool of raw) {
  const { name } = tool;

  test(`${name}: inputSchema is closed and every property is typed and checks`, () => {
    const schema = tool.inputSchema;
    assert.equal(schema.additionalProperties, false, `${name}: inputSchema.additionalProperties is not false`);
    assert.equal(typeof schema.properties, 'object', `${name}: inputSchema has no properties object`);
    for (const [path, s] of subschemas(schema)) {
      if (path === '#') continue;
      if (/\/properties\/[^/]+$|\/items$/.test(path)) {
        assert.equal(typeof s.type, 'string', `${name}: ${path} has no single type (${short(s.type)})`);
      }
      // Closed, or a map whose values have one type (matomo_api_read's
      // parameters: Matomo's own parameter names).
      if (s.type === 'object' && path !== '#') {
        const map = typeof s.additionalProperties === 'object'
          && typeof s.additionalProperties.type === 'string' && !s.properties;
        assert.ok(s.additionalProperties === false || map, `${name}: ${path} is an open object`);
      }
    }
    for (const r of schema.required ?? []) {
      assert.ok(r in schema.properties, `${name}: required "${r}" is no property`);
    }
    assert.doesNotThrow(() => ajv.compile(schema), `${name}: inputSchema does not compile`);
  });

  test(`${name}: outputSchema is valid JSON Schema with one type per property`, () => {
    const schema = tool.outputSchema;
    let validate;
    assert.doesNotThrow(() => { validate = ajv.compile(schema); }, `${name}: outputSchema does not compile`);
    assert.equal(typeof validate, 'function');
    for (const [path, s] of subschemas(schema)) {
      assert.ok(!Array.isArray(s.type), `${name}: ${path} has several types ${short(s.type)}`);
    }
  });

  test(`${name}: annotations say read-only, non-destructive, idempotent, closed world`, () => {
    const a = tool.annotations ?? {};
    assert.equal(a.readOnlyHint, true, `${name}: readOnlyHint`);
    assert.equal(a.destructiveHint, false, `${name}: destructiveHint`);
    assert.equal(a.idempotentHint, true, `${name}: idempotentHint`);
    assert.equal(a.openWorldHint, false, `${name}: openWorldHint`);
  });
}

// --- the definition files (src/tools/) -------------------------------------
//
// Each tool is defined in src/tools/<name>.json, the pieces tools share in
// src/tools/_shared.json, referenced with "$ref".  Here ajv reads the files
// as they are, resolving the references itself, and the files must say
// exactly what tools/list says.

const TOOLS_DIR = new URL('../../src/tools/', import.meta.url);
const SHARED = JSON.parse(readFileSync(new URL('_shared.json', TOOLS_DIR), 'utf8'));
const DEFINITIONS = new Map(readdirSync(TOOLS_DIR)
  .filter((f) => f.endsWith('.json') && f !== '_shared.json')
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(f, TOOLS_DIR), 'utf8'))]));
const fileAjv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false,
                              strictTuple: false, validateFormats: true });
addFormats(fileAjv);
fileAjv.addSchema(SHARED, '_shared.json');

// The module's reading of a reference, written again here: the members of
// the piece it names stand where "$ref" stood; "$comment" is left out.
function resolved(value, inShared = false) {
  if (Array.isArray(value)) return value.map((v) => resolved(v, inShared));
  if (!value || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '$comment') continue;
    if (k !== '$ref') { out[k] = resolved(v, inShared); continue; }
    const m = /^(_shared\.json)?#\/\$defs\/([A-Za-z0-9_]+)$/.exec(v);
    assert.ok(m && (m[1] || inShared), `unknown reference ${v}`);
    Object.assign(out, resolved(SHARED.$defs[m[2]], true));
  }
  return out;
}

test('src/tools: one definition file per listed tool, and no other', () => {
  assert.deepEqual([...DEFINITIONS.keys()].sort(), raw.map((t) => t.name).sort());
});

for (const [name, def] of DEFINITIONS) {
  test(`src/tools/${name}.json: its schemas compile as written (ajv resolves the references)`, () => {
    for (const field of ['inputSchema', 'outputSchema']) {
      assert.doesNotThrow(() => fileAjv.compile(def[field]), `${name}: ${field} does not compile`);
    }
  });

  test(`src/tools/${name}.json: tools/list shows exactly it, byte for byte`, () => {
    const served = rawByName.get(name);
    assert.ok(served, `${name} is not in tools/list`);
    // matomoMethods is the module's own business (what the tool may call);
    // icon, the tool's SVG, is shown as icons: a base64 data: URI of it.
    const { annotations, matomoMethods, icon, _meta, ...rest } = def;
    assert.ok(Array.isArray(matomoMethods) && matomoMethods.length > 0, `${name}: no matomoMethods`);
    assert.equal(typeof icon, 'string', `${name}: no icon`);
    const expected = {
      ...resolved(rest),
      annotations: { title: def.title, ...annotations },
      icons: [{ src: `data:image/svg+xml;base64,${Buffer.from(icon, 'utf8').toString('base64')}`,
                mimeType: 'image/svg+xml', sizes: ['any'] }],
      // _meta (the MCP App a tool declares) comes last.
      ...(_meta === undefined ? {} : { _meta }),
    };
    // Member order counts too: what a client caches or hashes is the text.
    assert.equal(JSON.stringify(served), JSON.stringify(expected));
  });

  test(`src/tools/${name}.json: the file's inputSchema and the served one judge every sample alike`, () => {
    const asWritten = fileAjv.compile(def.inputSchema);
    const served = inputValidator(name);
    for (const args of SAMPLES[name] ?? []) {
      assert.equal(asWritten(args), served(args), `${name}: ${short(args)}`);
    }
    // And a few arguments that break the shared pieces' rules.
    for (const bad of [{ idSite: 0 }, { date: 'tomorrow' }, { period: 'hour' },
                       { segment: 'x' }, { offset: -1 }]) {
      const args = { ...(SAMPLES[name]?.[0] ?? {}), ...bad };
      assert.equal(asWritten(args), served(args), `${name}: ${short(args)}`);
    }
  });
}

// --- each sample -------------------------------------------------------------

const validators = new Map();
const outputValidator = (name) => {
  if (!validators.has(name)) validators.set(name, ajv.compile(rawByName.get(name).outputSchema));
  return validators.get(name);
};
const inputValidators = new Map();
const inputValidator = (name) => {
  if (!inputValidators.has(name)) inputValidators.set(name, ajv.compile(rawByName.get(name).inputSchema));
  return inputValidators.get(name);
};

// The one text block, parsed.
function textJson(result, label) {
  const blocks = (result.content ?? []).filter((b) => b.type === 'text');
  assert.equal(blocks.length, 1, `${label}: ${blocks.length} text blocks, not 1`);
  try {
    return JSON.parse(blocks[0].text);
  } catch (err) {
    assert.fail(`${label}: the text block is not JSON: ${err.message}`);
  }
}

for (const tool of raw) {
  const { name } = tool;
  (SAMPLES[name] ?? []).forEach((args, i) => {
    const label = `${name} sample ${i + 1} ${short(args)}`;

    test(`${label}: data conforming to outputSchema`, async () => {
      const checkArgs = inputValidator(name);
      assert.ok(checkArgs(args),
        `${label}: the sample itself does not fit the inputSchema (${ajv.errorsText(checkArgs.errors, { dataVar: 'arguments' })})`);

      // As sent.
      const { text, json } = await rawCall(name, args, MCP_TOKEN);
      const leaks = leakedTokens(text);
      assert.deepEqual(leaks, [], `${label}: the answer carries the ${leaks.join(', ')} token`);
      assert.equal(json.error, undefined, `${label}: a JSON-RPC error ${short(json.error)}`);
      const result = json.result;
      assert.ok(!('isError' in result),
        `${label}: isError is present (${short(result.isError)}): ${short(result.content)}`);
      assert.equal(typeof result.structuredContent, 'object', `${label}: no structuredContent`);
      assert.ok(result.structuredContent !== null && !Array.isArray(result.structuredContent),
        `${label}: structuredContent is no object`);

      const validate = outputValidator(name);
      assert.ok(validate(result.structuredContent), `${label}: ${ajvErrors(validate)}`);

      assert.deepEqual(textJson(result, label), result.structuredContent,
        `${label}: the text block is not the structuredContent`);

      // Through the SDK client, which checks structuredContent against the
      // outputSchema on its own too.
      const viaSdk = await client.callTool({ name, arguments: args });
      assert.ok(!viaSdk.isError, `${label}: isError through the SDK: ${short(viaSdk.content)}`);
      assert.deepEqual(Object.keys(viaSdk.structuredContent ?? {}).sort(),
                       Object.keys(result.structuredContent).sort(),
                       `${label}: the SDK sees other structuredContent`);
    });

    if (args.idSite === 1) {
      test(`${label} as the view-only user: an access error, no data`, async () => {
        const { text: answer, json } = await rawCall(name, args, MCP_VIEWER_TOKEN);
        assert.deepEqual(leakedTokens(answer), [], `${label}: the raw answer carries a token`);
        assert.equal(json.result?.isError, true, `${label}: no isError in the raw answer`);
        assert.equal(json.result?.structuredContent, undefined, `${label}: structuredContent in the raw answer`);
        const result = await viewer.callTool({ name, arguments: args });
        const leaks = leakedTokens(result);
        assert.deepEqual(leaks, [], `${label}: the answer carries the ${leaks.join(', ')} token`);
        assert.equal(result.isError, true, `${label}: no isError for a site the user cannot view`);
        assert.equal(result.structuredContent, undefined, `${label}: structuredContent with an error`);
        const text = (result.content ?? []).map((b) => b.text ?? '').join(' ');
        assert.match(text, /access/i, `${label}: the error does not say access is missing: ${short(text)}`);
        for (const mark of SITE1_MARKS) {
          assert.ok(!answer.includes(mark), `${label}: the error shows "${mark}" (site 1)`);
        }
      });
    } else {
      test(`${label} as the view-only user: no token, nothing of site 1`, async () => {
        const { text: answer } = await rawCall(name, args, MCP_VIEWER_TOKEN);
        assert.deepEqual(leakedTokens(answer), [], `${label}: the answer carries a token`);
        for (const mark of SITE1_MARKS) {
          assert.ok(!answer.includes(mark), `${label}: the view-only user sees "${mark}" (site 1)`);
        }
      });
    }
  });
}
