-- wrk script: HTTP announces drawn from the benchmark's pool (bench/run.py).
--
--   wrk -t1 -c64 -d10s -s bench/announce.lua http://127.0.0.1:PORT -- HASHES PEERS PORT_BASE SEED
--
-- HASHES is a file of 40-hex-digit info-hashes, one per line: the registered
-- (whitelisted) torrents. Peer j of every torrent announces port PORT_BASE + j
-- with peer_id "-BN0001-" .. j (12 digits), every tenth one a seeder, asking for
-- numwant=35: the same pool bench/udp_load draws from, so HTTP and UDP refresh
-- the same peers. Every (torrent, peer) request is formatted once in init();
-- request() only picks one at random, so wrk spends its time on the network,
-- not in Lua. done() prints one line "JSON {...}" for bench/run.py.

local reqs = {}

local function urlencode(raw)
  -- As clients send a binary hash: unreserved characters as is, the rest %XX.
  return (raw:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function unhex(hex)
  return (hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

function init(args)
  local hashes_file = args[1]
  local peers = tonumber(args[2] or "100")
  local port_base = tonumber(args[3] or "20000")
  math.randomseed(tonumber(args[4] or "1"))
  for line in io.lines(hashes_file) do
    if #line >= 40 then
      local prefix = "/announce?info_hash=" .. urlencode(unhex(line:sub(1, 40)))
      for j = 0, peers - 1 do
        local left = (j % 10 == 0) and "0" or "1000000"
        local path = prefix .. string.format(
          "&peer_id=-BN0001-%012d&port=%d&uploaded=0&downloaded=%s&left=%s" ..
          "&key=%08X&numwant=35&compact=1&no_peer_id=1",
          j, port_base + j, left == "0" and "1000000" or "0", left, j)
        reqs[#reqs + 1] = wrk.format("GET", path)
      end
    end
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
