// The reference of `make bench`: the same MCP proxying as mod_matomo_mcp's
// matomo_list_sites, written the way the official TypeScript SDK
// (@modelcontextprotocol/sdk) documents a stateless Streamable HTTP server
// (its examples/server/simpleStatelessStreamableHttp): a new McpServer and
// StreamableHTTPServerTransport per request, sessionIdGenerator undefined,
// JSON responses (enableJsonResponse), the caller's bearer token handed to
// the tool as authInfo.  The one tool POSTs the same Matomo API request as
// the module to the same backend with fetch (Node's undici: keep-alive
// connections, reused) and shapes the answer into the same table.
//
//   node bench/reference-server.mjs PORT BACKEND_URL
//
// Listens on 127.0.0.1 only.  Plain node:http instead of express, so the
// framework costs nothing that the SDK itself does not.
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as z from 'zod/v4';

const [port, backend] = process.argv.slice(2);
if (!port || !backend) {
    console.error('usage: node reference-server.mjs PORT BACKEND_URL');
    process.exit(2);
}

const columns = ['id', 'name', 'url', 'timezone', 'currency', 'ecommerce'];

async function listSites({ search, limit = 50, offset = 0 }, extra) {
    const token = extra.authInfo?.token ?? '';
    const form = 'module=API&format=JSON&method=SitesManager.getSitesWithAtLeastViewAccess'
        + '&token_auth=' + encodeURIComponent(token);
    let sites;
    try {
        const res = await fetch(backend, {
            method: 'POST',
            headers: {
                'Content-Type': 'application/x-www-form-urlencoded',
                Accept: 'application/json',
            },
            body: form,
            signal: AbortSignal.timeout(30000),
        });
        if (!res.ok) {
            await res.arrayBuffer();
            return { isError: true, content: [{ type: 'text', text: `Matomo answered HTTP ${res.status}` }] };
        }
        sites = await res.json();
    } catch (err) {
        return { isError: true, content: [{ type: 'text', text: `Matomo cannot be reached (${err.message})` }] };
    }
    if (!Array.isArray(sites)) {
        return { isError: true, content: [{ type: 'text', text: "Matomo's list of sites is not a list" }] };
    }
    const needle = search?.toLowerCase();
    const matching = needle === undefined ? sites : sites.filter(s =>
        String(s.name ?? '').toLowerCase().includes(needle)
        || String(s.main_url ?? '').toLowerCase().includes(needle));
    const rows = matching.slice(offset, offset + limit).map(s =>
        [s.idsite, s.name, s.main_url, s.timezone, s.currency, Boolean(Number(s.ecommerce))]);
    const hasMore = offset + limit < matching.length;
    const result = { sites: { columns, rows }, total: matching.length, has_more: hasMore };
    if (hasMore) {
        result.next_offset = offset + limit;
    }
    return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
}

function buildServer() {
    const server = new McpServer({ name: 'reference-matomo-mcp', version: '1.0.0' });
    server.registerTool('matomo_list_sites', {
        title: 'List Matomo sites',
        description: 'The Matomo sites this token can see: id, name, main URL, timezone, currency, ecommerce.',
        inputSchema: {
            search: z.string().min(1).max(100).optional(),
            limit: z.number().int().min(1).max(100).optional(),
            offset: z.number().int().min(0).optional(),
        },
        outputSchema: {
            sites: z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.any())) }),
            total: z.number().int(),
            has_more: z.boolean(),
            next_offset: z.number().int().optional(),
        },
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    }, listSites);
    return server;
}

function reply(res, status, body, headers = {}) {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
}

const httpServer = http.createServer((req, res) => {
    if (req.url !== '/mcp') {
        return reply(res, 404, { error: 'not found' });
    }
    if (req.method !== 'POST') {
        return reply(res, 405, { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null },
            { Allow: 'POST' });
    }
    const m = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) {
        return reply(res, 401, { error: 'invalid_token' },
            { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    }
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', async () => {
        let body;
        try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
            return reply(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
        }
        req.auth = { token: m[1], clientId: 'bench', scopes: [] };
        const server = buildServer();
        const transport = new StreamableHTTPServerTransport({
            sessionIdGenerator: undefined,
            enableJsonResponse: true,
        });
        res.on('close', () => {
            transport.close();
            server.close();
        });
        try {
            await server.connect(transport);
            await transport.handleRequest(req, res, body);
        } catch (err) {
            if (!res.headersSent) {
                reply(res, 500, { jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null });
            }
        }
    });
});

httpServer.listen(Number(port), '127.0.0.1', () => {
    console.log(`reference MCP server (SDK) on http://127.0.0.1:${port}/mcp`);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => process.exit(0));
}
