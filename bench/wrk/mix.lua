-- wrk script of `make bench`, memory phase: a fixed cycle of valid and
-- invalid MCP requests (bench/requests/mix.txt), each thread stopping after
-- its share of $BENCH_TOTAL responses and saying so with a file in
-- $BENCH_DONE_DIR (bench/run then ends wrk with SIGINT, on which wrk
-- reports; wrk's -d bounds the time anyway).  Counts answers by status
-- class, so bench/run can check that no 5xx came.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local threads = {}
local nthreads = 0

function setup(thread)
    table.insert(threads, thread)
    nthreads = nthreads + 1
    thread:set("id", nthreads)
end

local cycle = {}
local i = 0
ok, client_err, server_err, seen = 0, 0, 0, 0
local quota

-- mix.txt: one request a line, "<auth> <json body>"; auth is "token",
-- "none" (no Authorization header) or "bad" (a well-formed token Matomo
-- does not know).
function init(args)
    local token = os.getenv("BENCH_TOKEN")
    local bad = string.rep("0", 32)
    local total = tonumber(os.getenv("BENCH_TOTAL") or "100000")
    quota = math.ceil(total / tonumber(os.getenv("BENCH_THREADS") or "1"))
    for line in io.lines(os.getenv("BENCH_MIX_FILE")) do
        local auth, body = line:match("^(%S+) (.*)$")
        if auth ~= nil then
            local t = auth == "token" and token or auth == "bad" and bad or nil
            local h = common.mcp_headers(t, "2025-11-25")
            if body:find('"method":"initialize"', 1, true) then
                h["MCP-Protocol-Version"] = nil
            end
            table.insert(cycle, wrk.format("POST", nil, h, body))
        end
    end
    -- Threads start at different points of the cycle.
    i = math.random(#cycle) - 1
end

function request()
    i = i + 1
    return cycle[(i - 1) % #cycle + 1]
end

function response(status, headers, body)
    seen = seen + 1
    if status >= 500 then
        server_err = server_err + 1
    elseif status >= 400 then
        client_err = client_err + 1
    else
        ok = ok + 1
    end
    if seen == quota then
        local f = io.open(os.getenv("BENCH_DONE_DIR") .. "/thread-" .. id, "w")
        if f then
            f:close()
        end
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local a, c, s = 0, 0, 0
    for _, t in ipairs(threads) do
        a = a + t:get("ok")
        c = c + t:get("client_err")
        s = s + t:get("server_err")
    end
    common.report(summary, latency, string.format(
        " answered_2xx=%d answered_4xx=%d answered_5xx=%d", a, c, s))
end
