// The MCP App view (ui://matomo/chart) in a real headless browser: Debian's
// chromium, driven over the DevTools protocol (--remote-debugging-pipe, no
// port), with a small MCP Apps host (t/js/app-host.html) that loads the
// view as the module serves it and speaks the io.modelcontextprotocol/ui
// bridge with it.  Run by t/52_app.t as `node --test t/js/app.test.mjs`
// with MCP_URL, MCP_TOKEN (the fake Matomo's superuser) set.
//
// The view's HTML comes from resources/read, the tool results it draws
// from tools/call of the real module (the fake Matomo's recordings behind
// it), and a metric switch in the view goes back through the host to the
// real module.  Expected texts derive from those results.  Every message
// between view and host is checked against the extension's own JSON
// Schema (@modelcontextprotocol/ext-apps, dist/src/generated/schema.json);
// every request the browser makes is recorded (DevTools Network events, and
// the test's own HTTP server): only the host page and the view may be
// fetched.  Screenshots land in t/logs/app-*.png, each checked for showing
// a chart (pixels of the series colour, and not one flat colour).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Ajv2020Module from 'ajv/dist/2020.js';

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const MCP_URL = process.env.MCP_URL;
const MCP_TOKEN = process.env.MCP_TOKEN;
if (!MCP_URL || !MCP_TOKEN) throw new Error('MCP_URL and MCP_TOKEN must be set (t/52_app.t sets them)');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LOGS = new URL('../logs/', import.meta.url);
const SERIES_RGB = [0x34, 0x50, 0xa3];    // --series in src/app/chart.html

// The extension's schema, as its SDK ships it.
const SCHEMA = JSON.parse(readFileSync(new URL(
  '../../node_modules/@modelcontextprotocol/ext-apps/dist/src/generated/schema.json', import.meta.url), 'utf8'));
// Each definition is compiled as a schema of its own: the generated file
// puts a definition's inner $defs under the definition, while its $refs
// ("#/$defs/__schema0") point at the root, so the file does not compile as
// one document.
const ajv = new Ajv2020({ strict: false, allErrors: true });
const compiled = new Map();
const validate = (def, value) => {
  assert.ok(SCHEMA.$defs[def], `the schema has ${def}`);
  if (!compiled.has(def)) compiled.set(def, ajv.compile(SCHEMA.$defs[def]));
  const v = compiled.get(def);
  return v(value) ? null : ajv.errorsText(v.errors);
};
// Which $def each bridge message must satisfy.
const REQUEST_DEFS = { 'ui/initialize': 'McpUiInitializeRequest' };
const NOTIFICATION_DEFS = {
  'ui/notifications/initialized': 'McpUiInitializedNotification',
  'ui/notifications/size-changed': 'McpUiSizeChangedNotification',
  'ui/notifications/tool-input': 'McpUiToolInputNotification',
  'ui/notifications/tool-result': 'McpUiToolResultNotification',
};

// --- the module ------------------------------------------------------------

let mcp;
const callTool = (name, args) => mcp.callTool({ name, arguments: args });

// --- the browser, over the DevTools protocol on a pipe ------------------------

class Browser {
  constructor() {
    this.profile = mkdtempSync(join(tmpdir(), 'mcp-app-chromium-'));
    const args = ['--headless=new', '--remote-debugging-pipe', `--user-data-dir=${this.profile}`,
      '--no-first-run', '--no-default-browser-check', '--disable-gpu', '--disable-extensions',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--mute-audio', '--hide-scrollbars',
      // The view in the host's process, as an in-process frame the test
      // reads through an isolated world.
      '--disable-features=IsolateSandboxedIframes',
      // Nothing may leave the machine, whatever asks: every name but the
      // loopback address fails to resolve.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      'about:blank'];
    if (process.getuid && process.getuid() === 0) args.unshift('--no-sandbox');
    // Not the sanitizer runtimes `make test SANITIZE=1` preloads for the
    // module's httpd: the browser is not this project's code, and hangs
    // with them.
    const env = { ...process.env };
    for (const k of ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) delete env[k];
    this.proc = spawn(CHROMIUM, args, { env, stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000); });
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    let buf = Buffer.alloc(0);
    this.proc.stdio[4].on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let end;
      while ((end = buf.indexOf(0)) >= 0) {
        const msg = JSON.parse(buf.subarray(0, end).toString('utf8'));
        buf = buf.subarray(end + 1);
        if (msg.id !== undefined && this.pending.has(msg.id)) {
          const { resolve, reject, method } = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
          else resolve(msg.result);
        } else if (msg.method) {
          for (const l of this.listeners) l(msg);
        }
      }
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
  }

  send(method, params = {}, sessionId) {
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    this.proc.stdio[3].write(JSON.stringify(msg) + '\0');
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }

  on(fn) { this.listeners.push(fn); }

  async close() {
    try { await Promise.race([this.send('Browser.close'), new Promise((r) => setTimeout(r, 3000))]); } catch { /* gone */ }
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    await this.exited;
    rmSync(this.profile, { recursive: true, force: true });
  }
}

// --- the host page and the view, served on loopback --------------------------

// The default a host must apply when the resource declares no csp (the
// extension's "Restrictive Default"), plus frame-ancestors for the host.
const VIEW_CSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
  + "img-src 'self' data:; media-src 'self' data:; connect-src 'none'";

let server, origin, viewHtml;
const served = [];    // every path the server was asked for, with the test phase
let phase = 'hosted';

function startServer() {
  const hostPage = readFileSync(new URL('app-host.html', import.meta.url));
  server = createServer((req, res) => {
    served.push({ path: req.url, phase });
    if (req.url === '/host.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(hostPage);
    } else if (req.url === '/view.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': VIEW_CSP });
      res.end(viewHtml);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    origin = `http://127.0.0.1:${server.address().port}`;
    resolve();
  }));
}

// --- a page session ----------------------------------------------------------------

let browser;
const requested = [];     // every URL a page or frame of the browser asked for
const exceptions = [];    // uncaught exceptions in any page or frame
const frameSessions = new Map();   // frames the browser runs in a process of their own

async function openPage() {
  const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
  const s = (method, params) => browser.send(method, params, sessionId);
  await s('Page.enable');
  await s('Runtime.enable');
  await s('Network.enable');
  // Frames in other processes (if the browser puts the view in one) are
  // watched the same way.
  await s('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true });
  await s('Emulation.setDeviceMetricsOverride', { width: 800, height: 700, deviceScaleFactor: 1, mobile: false });
  await s('Runtime.addBinding', { name: 'hostToTest' });
  return { targetId, sessionId, s };
}

function watchBrowser() {
  browser.on(async (msg) => {
    if (msg.method === 'Network.requestWillBeSent') requested.push({ url: msg.params.request.url, phase });
    if (msg.method === 'Runtime.exceptionThrown') exceptions.push(msg.params.exceptionDetails);
    if (msg.method === 'Target.attachedToTarget') {
      const sid = msg.params.sessionId;
      frameSessions.set(msg.params.targetInfo.targetId, sid);
      // Not one after the other: a frame held for its debugger answers
      // nothing until it runs.
      await Promise.all(['Network.enable', 'Runtime.enable', 'Runtime.runIfWaitingForDebugger']
        .map((m) => browser.send(m, {}, sid).catch(() => {})));
    }
  });
}

// Evaluates expr in the page, or in the frame frameId: in the frame's own
// session when the browser runs it in a process of its own (a sandboxed
// frame is an origin of its own), else in an isolated world of it (it
// sees the frame's DOM, not its script).  Returns the value.
async function evaluate(page, expr, frameId) {
  const params = { expression: expr, returnByValue: true, awaitPromise: true };
  let run = page.s;
  if (frameId && frameSessions.has(frameId)) {
    const sid = frameSessions.get(frameId);
    run = (method, p) => browser.send(method, p, sid);
  } else if (frameId) {
    const { executionContextId } = await page.s('Page.createIsolatedWorld', { frameId, worldName: 'test' });
    params.contextId = executionContextId;
  }
  const r = await run('Runtime.evaluate', params);
  if (r.exceptionDetails) throw new Error(`evaluate: ${r.exceptionDetails.text} ${r.exceptionDetails.exception?.description ?? ''}`);
  return r.result.value;
}

async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function viewFrame(page) {
  return until('the view frame', async () => {
    const { frameTree } = await page.s('Page.getFrameTree');
    const id = frameTree.childFrames?.[0]?.frame.id;
    if (!id) return null;
    // Loaded when its document is the view.
    const url = await evaluate(page, 'document.readyState === "complete" ? location.href : ""', id).catch(() => '');
    return url.endsWith('/view.html') ? id : null;
  });
}

// What the view shows, read from its DOM.
const READ_VIEW = `(() => {
  const svg = document.getElementById('chart');
  const texts = (sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent);
  return {
    kind: svg && !svg.hasAttribute('hidden') ? svg.getAttribute('data-kind') : null,
    metric: svg && svg.getAttribute('data-metric'),
    title: document.getElementById('title').textContent,
    subtitle: document.getElementById('subtitle').textContent,
    status: document.getElementById('status').textContent,
    xLabels: texts('#chart .x-label'),
    yTitle: texts('#chart .y-title')[0] ?? null,
    points: document.querySelectorAll('#chart .point').length,
    bars: document.querySelectorAll('#chart .bar').length,
    barTitles: [...document.querySelectorAll('#chart .bar > title')].map((t) => t.textContent),
    tableRows: document.querySelectorAll('#table tbody tr').length,
    tableFirstCells: [...document.querySelectorAll('#table tbody tr')].map((tr) => tr.cells[0].textContent),
    controls: !document.getElementById('controls').hidden,
    periodControl: !document.getElementById('period-control').hidden,
    metricOptions: [...document.getElementById('metric').options].map((o) => o.value),
    elements: [...document.querySelectorAll('img, script[src], link, iframe, object, embed')].length,
  };
})()`;

// Loads the host with a scenario; returns the page and the view's frame id.
async function host(scenario, onToolCall) {
  const page = await openPage();
  browser.on(async (msg) => {
    if (msg.sessionId !== page.sessionId || msg.method !== 'Runtime.bindingCalled' || msg.params.name !== 'hostToTest') return;
    const { id, params } = JSON.parse(msg.params.payload);
    let result, error;
    try { result = await onToolCall(params); } catch (e) { error = e.message; }
    await evaluate(page, `window.answerView(${JSON.stringify(id)}, ${JSON.stringify(result ?? null)}, ${JSON.stringify(error ?? null)})`);
  });
  await page.s('Page.navigate', { url: `${origin}/host.html` });
  await until('the host page', () => evaluate(page, `document.readyState === 'complete' && typeof window.startHost === 'function'`));
  await evaluate(page, `window.startHost(${JSON.stringify(scenario)})`);
  const frameId = await viewFrame(page);
  return { page, frameId };
}

async function screenshot(page, name) {
  const { data } = await page.s('Page.captureScreenshot', { format: 'png' });
  const png = Buffer.from(data, 'base64');
  mkdirSync(LOGS, { recursive: true });
  writeFileSync(new URL(name, LOGS), png);
  return png;
}

// --- PNG pixels (8-bit RGB or RGBA, not interlaced: what chromium writes) -------

function pixels(png) {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', 'a PNG');
  let pos = 8, width, height, channels;
  const idat = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos), type = png.subarray(pos + 4, pos + 8).toString('latin1');
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth 8');
      assert.equal(data[12], 0, 'not interlaced');
      channels = { 2: 3, 6: 4 }[data[9]];
      assert.ok(channels, `colour type ${data[9]} is RGB or RGBA`);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels, out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[y * stride + x - channels] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      out[y * stride + x] = (line[x] + pred) & 0xff;
    }
  }
  return { width, height, channels, data: out };
}

// How many pixels have the series colour, and how many distinct colours.
function looksDrawn(png) {
  const { width, height, channels, data } = pixels(png);
  let series = 0;
  const colours = new Set();
  for (let i = 0; i < width * height * channels; i += channels) {
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    colours.add((r << 16) | (g << 8) | b);
    if (Math.abs(r - SERIES_RGB[0]) < 8 && Math.abs(g - SERIES_RGB[1]) < 8 && Math.abs(b - SERIES_RGB[2]) < 8) series++;
  }
  return { series, colours: colours.size, width, height };
}

// --- checks on the bridge traffic ------------------------------------------------

async function bridgeLog(page) { return evaluate(page, 'window.hostLog'); }

function checkBridge(log) {
  const problems = [];
  for (const { dir, msg } of log) {
    if (!msg || msg.jsonrpc !== '2.0') { problems.push(`${dir}: not JSON-RPC 2.0: ${JSON.stringify(msg)}`); continue; }
    const def = msg.method ? (msg.id !== undefined ? REQUEST_DEFS : NOTIFICATION_DEFS)[msg.method] : null;
    if (def) {
      // The schema's message types are the method and params (the JSON-RPC
      // envelope is MCP's own).
      const err = validate(def, { method: msg.method, ...(msg.params === undefined ? {} : { params: msg.params }) });
      if (err) problems.push(`${dir} ${msg.method}: ${err}`);
    }
    if (dir === 'host->view' && msg.result?.protocolVersion) {
      const err = validate('McpUiInitializeResult', msg.result);
      if (err) problems.push(`initialize result: ${err}`);
    }
  }
  return problems;
}

// --- the tests ------------------------------------------------------------------------

let trend, report;
const TREND_ARGS = { idSite: 1, period: 'day', last: 14 };
const REPORT_ARGS = { idSite: 1, report: 'DevicesDetection_getType', period: 'month', date: '2026-11-26' };

before(async () => {
  mcp = new Client({ name: 'mcp-app-test-host', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(MCP_URL), {
    requestInit: { headers: { Authorization: `Bearer ${MCP_TOKEN}` } },
  }));
  const res = await mcp.readResource({ uri: 'ui://matomo/chart' });
  viewHtml = res.contents[0].text;
  trend = await callTool('matomo_get_trend', TREND_ARGS);
  report = await callTool('matomo_get_report', REPORT_ARGS);
  await startServer();
  browser = new Browser();
  watchBrowser();
  await browser.send('Browser.getVersion');
});

after(async () => {
  await browser?.close();
  server?.close();
  await mcp?.close();
});

test('the view resource is an HTML document of the extension\'s MIME type', async () => {
  const res = await mcp.readResource({ uri: 'ui://matomo/chart' });
  assert.equal(res.contents.length, 1);
  assert.equal(res.contents[0].mimeType, 'text/html;profile=mcp-app');
  assert.match(res.contents[0].text, /^<!DOCTYPE html>/);
  assert.equal(validate('McpUiResourceMeta', res.contents[0]._meta.ui), null, 'its _meta.ui is the extension\'s');
});

test('the tool results to draw are data', () => {
  for (const r of [trend, report]) {
    assert.ok(!r.isError, JSON.stringify(r.content));
    assert.ok(Array.isArray(r.structuredContent.rows) && r.structuredContent.rows.length > 0);
  }
});

test('a trend: a line of every period, axes named after the result', async () => {
  const toolCalls = [];
  const { page, frameId } = await host({ tool: 'matomo_get_trend', args: TREND_ARGS, result: trend, serverTools: true },
    async (params) => { toolCalls.push(params); return callTool(params.name, params.arguments); });
  const sc = trend.structuredContent;
  const v = await until('the line chart', async () => {
    const r = await evaluate(page, READ_VIEW, frameId);
    return r.kind === 'line' ? r : null;
  });
  assert.equal(v.metric, sc.columns[1], 'the first metric of the result is drawn');
  assert.equal(v.yTitle, 'Visits', 'the y axis names the metric');
  assert.equal(v.points, sc.rows.length, 'one point per period');
  assert.equal(v.xLabels[0], sc.rows[0][0], 'the x axis starts at the first date');
  assert.equal(v.xLabels.at(-1), sc.rows.at(-1)[0], '... and ends at the last');
  assert.ok(v.subtitle.includes(sc.period.start) && v.subtitle.includes(sc.period.end),
    `the subtitle gives the resolved period (${v.subtitle})`);
  assert.ok(v.subtitle.startsWith(sc.period.period), 'and its kind');
  assert.equal(v.tableRows, sc.rows.length, 'the table has every period');
  assert.deepEqual(v.tableFirstCells, sc.rows.map((r) => String(r[0])), '... in order');
  assert.ok(v.controls && v.periodControl, 'a host that calls tools gets metric and period switches');
  const shot = looksDrawn(await screenshot(page, 'app-trend.png'));
  assert.ok(shot.series > 500, `the screenshot shows the series (${shot.series} pixels of its colour)`);
  assert.ok(shot.colours > 20, `the screenshot is not blank (${shot.colours} colours)`);

  // Another metric: the view calls the tool again through the host.
  await evaluate(page, `(() => { const s = document.getElementById('metric'); s.value = 'bounce_rate';
    s.dispatchEvent(new Event('change')); })()`, frameId);
  const w = await until('the bounce rate', async () => {
    const r = await evaluate(page, READ_VIEW, frameId);
    return r.metric === 'bounce_rate' && r.points > 0 ? r : null;
  });
  assert.equal(toolCalls.length, 1, 'one tools/call through the host');
  assert.equal(toolCalls[0].name, 'matomo_get_trend', 'of the same tool');
  assert.deepEqual(toolCalls[0].arguments, { ...TREND_ARGS, metrics: ['bounce_rate'] }, 'with the metric changed');
  const again = await callTool('matomo_get_trend', toolCalls[0].arguments);
  assert.equal(w.yTitle, 'Bounce rate (%)', 'the y axis names the new metric and its unit');
  assert.equal(w.points, again.structuredContent.rows.length, 'one point per period of the new answer');
  await screenshot(page, 'app-trend-bounce-rate.png');

  const problems = checkBridge(await bridgeLog(page));
  assert.deepEqual(problems, [], 'every bridge message is valid under the extension\'s schema');
  const methods = (await bridgeLog(page)).filter((e) => e.dir === 'view->host').map((e) => e.msg.method);
  assert.equal(methods[0], 'ui/initialize', 'the view starts with ui/initialize');
  assert.ok(methods.includes('ui/notifications/initialized'), 'then says initialized');
  assert.ok(methods.includes('ui/notifications/size-changed'), 'and reports its size');
  await page.s('Page.close').catch(() => {});
});

test('a report: one bar per row, largest first; a host without tool calls gets no period switch', async () => {
  const { page, frameId } = await host({ tool: 'matomo_get_report', args: REPORT_ARGS, result: report, serverTools: false },
    async () => { throw new Error('this host calls no tools'); });
  const sc = report.structuredContent;
  const v = await until('the bar chart', async () => {
    const r = await evaluate(page, READ_VIEW, frameId);
    return r.kind === 'bar' ? r : null;
  });
  const li = sc.columns.indexOf('label'), vi = sc.columns.indexOf('nb_visits');
  const top = [...sc.rows].sort((a, b) => b[vi] - a[vi]).slice(0, 12);
  assert.equal(v.metric, 'nb_visits', 'visits are drawn by default');
  assert.equal(v.bars, top.length, 'one bar per row (at most 12)');
  assert.deepEqual(v.barTitles.map((t) => t.slice(0, t.lastIndexOf(':'))), top.map((r) => String(r[li])),
    'the bars are the rows, most visits first');
  assert.equal(v.title, sc.report.name, 'titled with the report\'s name');
  assert.ok(v.subtitle.includes(sc.period.start), 'with its period');
  assert.ok(!v.periodControl, 'no period switch without the host\'s serverTools');
  const shot = looksDrawn(await screenshot(page, 'app-report.png'));
  assert.ok(shot.series > 500 && shot.colours > 20, `the screenshot shows bars (${shot.series} pixels, ${shot.colours} colours)`);
  assert.deepEqual(checkBridge(await bridgeLog(page)), []);
  await page.s('Page.close').catch(() => {});
});

test('labels are text: markup in a label fetches nothing and runs nothing', async () => {
  const hostile = structuredClone(report);
  const sc = hostile.structuredContent, li = sc.columns.indexOf('label');
  const evil = `<img src="${origin}/pwned.png" onerror="fetch('${origin}/pwned')"><script>fetch('${origin}/pwned2')</script>`;
  sc.rows[0][li] = evil;
  const { page, frameId } = await host({ tool: 'matomo_get_report', args: REPORT_ARGS, result: hostile, serverTools: false },
    async () => null);
  const v = await until('the bar chart', async () => {
    const r = await evaluate(page, READ_VIEW, frameId);
    return r.kind === 'bar' ? r : null;
  });
  assert.ok(v.tableFirstCells.includes(evil), 'the label is shown as it is, as text');
  assert.equal(v.elements, 0, 'no element was made of it');
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(!served.some((s) => s.path.startsWith('/pwned')), 'nothing asked for /pwned*');
  await page.s('Page.close').catch(() => {});
});

test('without a host the page says what it is', async () => {
  // The view as a top-level page: the browser asks for /favicon.ico of its
  // own accord then (a host never shows a view that way); the last test
  // tells those requests apart by this phase.
  phase = 'top-level view';
  const page = await openPage();
  await page.s('Page.navigate', { url: `${origin}/view.html` });
  const status = await until('the status line', async () => {
    const s = await evaluate(page, `document.readyState === 'complete' && document.getElementById('status').textContent`);
    return s && !s.startsWith('Waiting') ? s : null;
  });
  assert.match(status, /MCP Apps host/);
  await page.s('Page.close').catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  phase = 'hosted';
});

test('no page or frame fetched anything but the host page and the view', () => {
  const browserOwn = (r) => r.phase === 'top-level view' && r.path === '/favicon.ico';
  const paths = [...new Set(requested
    .filter((r) => !r.url.startsWith('data:') && r.url !== 'about:blank')
    .map((r) => ({ ...r, path: r.url.startsWith(origin) ? r.url.slice(origin.length) : r.url }))
    .filter((r) => !browserOwn(r)).map((r) => r.path))].sort();
  assert.deepEqual(paths, ['/host.html', '/view.html'], `requested: ${paths.join(' ')}`);
  assert.deepEqual([...new Set(served.filter((r) => !browserOwn(r)).map((r) => r.path))].sort(),
    ['/host.html', '/view.html'], 'the server saw the same');
});

test('no uncaught exception in any page or frame', () => {
  assert.deepEqual(exceptions.map((e) => `${e.text} ${e.exception?.description ?? ''}`), []);
});
