-- The fast Matomo of `make bench`: a mod_lua handler in the bench Apache
-- that answers Matomo's API from memory, so the backend is not what a
-- benchmark of the module measures.
--
-- Why mod_lua: the module POSTs its calls (the method is in the form body,
-- never in the URL), and Apache's static-file handler refuses POST; mod_lua
-- ships with Debian's apache2 package, reads the form and answers in a few
-- microseconds.  With `LuaScope thread` each worker thread keeps one Lua
-- state, so every answer file is read once per thread and then served from
-- memory.
--
-- Answers: $BENCH_ANSWERS/<method>.json (bench/run writes them from the
-- recordings of a real Matomo 5.1.2 in t/matomo/recorded/).  The token is
-- checked as Matomo checks it: token_auth must be the one whose SHA-1 is
-- $BENCH_TOKEN_SHA1 (the token itself is in no file of the bench), else 401
-- with an HTML page, as Matomo answers an unknown token.

local cache = {}

local function answer(dir, method)
    local body = cache[method]
    if body == nil then
        body = false
        if method:match("^[%a%d]+%.[%a%d]+$") then
            local f = io.open(dir .. "/" .. method .. ".json", "rb")
            if f then
                body = f:read("*a")
                f:close()
            end
        end
        cache[method] = body
    end
    return body
end

local function send(r, status, ctype, body)
    r.status = status
    r.content_type = ctype
    r.headers_out["Content-Length"] = tostring(#body)
    r:puts(body)
    return apache2.OK
end

function handle(r)
    if r.method ~= "POST" then
        return 405
    end
    local form = r:parsebody(65536)
    local token = form.token_auth
    if token == nil or r:sha1(token) ~= r.subprocess_env["BENCH_TOKEN_SHA1"] then
        return send(r, 401, "text/html; charset=utf-8",
                    "<!DOCTYPE html><html><body>Error: You must be logged in "
                    .. "to access this functionality.</body></html>")
    end
    local body = form.module == "API" and form.format == "JSON"
                 and answer(r.subprocess_env["BENCH_ANSWERS"], form.method or "")
    if not body then
        body = '{"result":"error","message":"bench backend: no answer for this method"}'
    end
    return send(r, 200, "application/json; charset=utf-8", body)
end
