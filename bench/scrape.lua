-- wrk script: HTTP scrapes (BEP 48) of 10 info-hashes drawn from the pool.
--
--   wrk -t1 -c64 -d10s -s bench/scrape.lua http://127.0.0.1:PORT -- HASHES COUNT SEED
--
-- HASHES as for announce.lua; COUNT hashes per scrape (default 10). 10,000
-- scrape requests are formatted in init(); request() picks one at random.
-- done() prints one line "JSON {...}" for bench/run.py.

local reqs = {}

local function urlencode(raw)
  return (raw:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function unhex(hex)
  return (hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

function init(args)
  local hashes = {}
  for line in io.lines(args[1]) do
    if #line >= 40 then hashes[#hashes + 1] = urlencode(unhex(line:sub(1, 40))) end
  end
  local count = tonumber(args[2] or "10")
  math.randomseed(tonumber(args[3] or "1"))
  for _ = 1, 10000 do
    local parts = {}
    for k = 1, count do parts[k] = "info_hash=" .. hashes[math.random(#hashes)] end
    reqs[#reqs + 1] = wrk.format("GET", "/scrape?" .. table.concat(parts, "&"))
  end
end

function request()
  return reqs[math.random(#reqs)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
