-- wrk script of `make bench`: the same request over and over (wrk builds
-- it once: no per-request Lua).
--   BENCH_METHOD       GET or POST
--   BENCH_BODY_FILE    request body ("@TOKEN@" replaced by the token)
--   BENCH_CTYPE        Content-Type of the body
--   BENCH_MCP=1        MCP headers: Accept, Authorization: Bearer <token>
--   BENCH_MCP_VERSION  MCP-Protocol-Version header (none when empty)
--   BENCH_TOKEN        the caller's token (never printed)
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = os.getenv("BENCH_METHOD") or "GET"
if os.getenv("BENCH_MCP") == "1" then
    wrk.headers = common.mcp_headers(os.getenv("BENCH_TOKEN"),
                                     os.getenv("BENCH_MCP_VERSION"))
end
if os.getenv("BENCH_CTYPE") then
    wrk.headers["Content-Type"] = os.getenv("BENCH_CTYPE")
end
if os.getenv("BENCH_ACCEPT") then
    wrk.headers["Accept"] = os.getenv("BENCH_ACCEPT")
end
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file ~= nil and body_file ~= "" then
    wrk.body = common.with_token(common.read(body_file))
end

function done(summary, latency, requests)
    common.report(summary, latency)
end
