-- The wrk side of make soak (t/bin/soak writes the mix and runs wrk with it):
--   wrk -t N -c N -s t/bin/soak.lua URL -- MIX.lua STORM_SECONDS T0 B
-- MIX.lua returns { kinds = {...}, lanes = {...} }: each kind has raw HTTP
-- requests (variants, sent in turn), the statuses it may get, text its body
-- must hold (`need`, and any one of `want`) or must not hold (`shun`), text
-- counted apart (`note`), and
-- whether it goes to a misbehaving Matomo (`fault`).  Each lane lists kind
-- indices, weighted: the first B threads send the "backend" lane (requests
-- that make the module call Matomo), the others the "local" lane, so that
-- the fake Matomo (slow Perl) is never asked more than B calls at a time.
-- Fault kinds are sent only in storm windows: every other STORM_SECONDS
-- window since T0 (0: always).
--
-- One connection per thread (-t = -c), so a thread has one request in
-- flight and the response() callback knows which kind it answers.

local threads = {}

function setup(thread)
   threads[#threads + 1] = thread
   thread:set("id", #threads)
end

local mix, order, pos, cur, storm_seconds, t0

sent = {}        -- kind -> requests sent
lost = {}        -- kind -> requests lost (socket error) right after its answer
notes = {}       -- kind -> answers holding its `note` text
local answered, last = true, "(none)"
counts = {}      -- "kind<TAB>status" -> answers
bad = {}         -- kind -> answers that were not as expected
sample = {}      -- kind -> the first such answer, cut short

function init(args)
   mix = dofile(args[1])
   storm_seconds = tonumber(args[2]) or 0
   t0 = tonumber(args[3]) or os.time()
   local backend_threads = tonumber(args[4]) or 0
   order = (id or 1) <= backend_threads and mix.lanes.backend or mix.lanes["local"]
   if #order == 0 then order = mix.lanes.backend end
   if #order == 0 then order = mix.lanes["local"] end
   -- Threads start at different places of the order.
   pos = ((id or 1) * 37) % #order
   for _, k in ipairs(mix.kinds) do k.next = ((id or 1) % #k.v) + 1 end
end

local function storming()
   if storm_seconds <= 0 then return true end
   return math.floor((os.time() - t0) / storm_seconds) % 2 == 1
end

function request()
   local storm = storming()
   local tries = 0
   repeat
      pos = pos % #order + 1
      cur = mix.kinds[order[pos]]
      tries = tries + 1
   until storm or not cur.fault or tries > #order
   -- The request before this one got no answer: wrk had a socket error.
   -- Blame the kind answered before it on this thread's connection.
   if not answered then lost[last] = (lost[last] or 0) + 1 end
   answered = false
   sent[cur.name] = (sent[cur.name] or 0) + 1
   local v = cur.v[cur.next]
   cur.next = cur.next % #cur.v + 1
   return v
end

function response(status, headers, body)
   local k = cur.name
   answered, last = true, k
   local key = k .. "\t" .. status
   counts[key] = (counts[key] or 0) + 1
   body = body or ""
   local ok = cur.status[status] == true
   if ok and cur.want then
      ok = false
      for _, w in ipairs(cur.want) do
         if string.find(body, w, 1, true) then ok = true break end
      end
   end
   if ok and cur.need and not string.find(body, cur.need, 1, true) then ok = false end
   if ok and cur.shun and string.find(body, cur.shun, 1, true) then ok = false end
   if cur.note and string.find(body, cur.note, 1, true) then
      notes[k] = (notes[k] or 0) + 1
   end
   if not ok then
      bad[k] = (bad[k] or 0) + 1
      if not sample[k] then
         sample[k] = status .. " " .. string.gsub(string.sub(body, 1, 240), "%s", " ")
      end
   end
end

function done(summary, latency, requests)
   local c, b, s, sn, l, nt = {}, {}, {}, {}, {}, {}
   for _, t in ipairs(threads) do
      for key, k in pairs(t:get("sent") or {}) do sn[key] = (sn[key] or 0) + k end
      for key, n in pairs(t:get("counts") or {}) do c[key] = (c[key] or 0) + n end
      for key, n in pairs(t:get("bad") or {}) do b[key] = (b[key] or 0) + n end
      for key, v in pairs(t:get("sample") or {}) do s[key] = s[key] or v end
      for key, k in pairs(t:get("lost") or {}) do l[key] = (l[key] or 0) + k end
      for key, k in pairs(t:get("notes") or {}) do nt[key] = (nt[key] or 0) + k end
   end
   local e = summary.errors
   io.write(string.format(
      "SOAK\tsummary\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", summary.requests,
      summary.duration, e.connect, e.read, e.write, e.timeout, summary.bytes))
   io.write(string.format("SOAK\tlatency\t%d\t%d\t%d\n",
      latency:percentile(50), latency:percentile(99), latency.max))
   for key, k in pairs(sn) do io.write("SOAK\tsent\t" .. key .. "\t" .. k .. "\n") end
   for key, k in pairs(nt) do io.write("SOAK\tnote\t" .. key .. "\t" .. k .. "\n") end
   for key, k in pairs(l) do io.write("SOAK\tlost\t" .. key .. "\t" .. k .. "\n") end
   for key, k in pairs(c) do io.write("SOAK\tcount\t" .. key .. "\t" .. k .. "\n") end
   for key, n in pairs(b) do
      io.write("SOAK\tbad\t" .. key .. "\t" .. n .. "\t" .. (s[key] or "") .. "\n")
   end
end
