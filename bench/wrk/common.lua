-- Shared by the wrk scripts of `make bench` (loaded with dofile).
-- The caller's token comes from $BENCH_TOKEN and is never printed.

local M = {}

function M.read(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("*a")
    f:close()
    return s
end

-- "@TOKEN@" in a request body becomes the token (for the direct Matomo
-- call, whose form carries token_auth as the module's does).
function M.with_token(s)
    local token = os.getenv("BENCH_TOKEN") or ""
    return (s:gsub("@TOKEN@", function() return token end))
end

-- The headers an MCP client sends after initialize (2025-11-25).
function M.mcp_headers(token, version)
    local h = {
        ["Content-Type"] = "application/json",
        ["Accept"] = "application/json, text/event-stream",
    }
    if token ~= nil then
        h["Authorization"] = "Bearer " .. token
    end
    if version ~= nil and version ~= "" then
        h["MCP-Protocol-Version"] = version
    end
    return h
end

-- The latency distribution, "microseconds count" per line, into
-- $BENCH_HIST: bench/run merges the runs of one kind before taking
-- percentiles.  latency(i) is the i-th distinct value seen and its count.
local function histogram(latency)
    local path = os.getenv("BENCH_HIST")
    if path == nil or path == "" then
        return
    end
    local f = assert(io.open(path, "w"))
    -- Past the last one, wrk answers value 0 and a stale count: values
    -- only increase, so the first that does not is the end.
    local i, last = 1, -1
    while true do
        local us, n = latency(i)
        if us <= last then
            break
        end
        if n > 0 then
            f:write(string.format("%d %d\n", us, n))
        end
        last = us
        i = i + 1
    end
    f:close()
end

-- One machine-readable line for bench/run; latencies in microseconds.
function M.report(summary, latency, extra)
    histogram(latency)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d bytes=%d p50=%d p99=%d mean=%.1f "
        .. "max=%d status_errors=%d socket_errors=%d%s\n",
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(99), latency.mean,
        latency.max, e.status, e.connect + e.read + e.write + e.timeout,
        extra or ""))
end

return M
