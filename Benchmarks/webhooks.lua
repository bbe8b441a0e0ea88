-- wrk script: posts each webhook of a file once, spread over wrk's threads, then stops.
--   wrk -t2 -c16 -d60s -s Benchmarks/webhooks.lua http://127.0.0.1:PORT -- FILE 2
-- (the last argument repeats the number of threads: a thread learns its share from it).
-- FILE holds records of three parts, each ending in a newline: the path, the Stripe-Signature
-- header, the body's length in bytes, then the body itself and a newline. The bodies are signed
-- in advance (Stripe's tolerance is five minutes), so the client's work is only HTTP.
-- Thread k of n posts records k, k + n, k + 2n…; once its last answer is in, the thread stops.
-- wrk's own duration is always -d, so the script times the burst itself (a monotonic clock,
-- through LuaJIT's FFI): from the first request taken to the last answer, over all threads.
-- A connection with nothing left to send waits (delay) instead of sending anything else: wrk
-- asks delay() before each request() of a connection, so a request is taken in delay(), where
-- no other connection can take the same one between the two calls.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } souk_timespec;
  int clock_gettime(int clock, souk_timespec *now);
]]
local function now()
  local time = ffi.new("souk_timespec")
  ffi.C.clock_gettime(1, time)  -- CLOCK_MONOTONIC
  return tonumber(time.tv_sec) + tonumber(time.tv_nsec) / 1e9
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads - 1)
end

function init(args)
  local threads_total = tonumber(args[2] or "1")
  requests, taken, sent, answered, refused = {}, 0, 0, 0, 0
  first_taken, last_answered = 0, 0
  local file = assert(io.open(args[1], "rb"))
  local index = 0
  while true do
    local path = file:read("*l")
    if not path or path == "" then break end
    local signature = file:read("*l")
    local length = tonumber(file:read("*l"))
    local body = file:read(length)
    file:read("*l")
    if index % threads_total == id then
      table.insert(requests, wrk.format("POST", path, {
        ["Content-Type"] = "application/json; charset=utf-8",
        ["Stripe-Signature"] = signature,
        ["User-Agent"] = "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      }, body))
    end
    index = index + 1
  end
  file:close()
end

function delay()
  if taken >= #requests then return 3600000 end
  if taken == 0 then first_taken = now() end
  taken = taken + 1
  return 0
end

function request()
  -- Before any delay(): wrk checking the script's request on its first thread; never sent.
  if taken == 0 then return requests[1] end
  sent = sent + 1
  return requests[sent]
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then refused = refused + 1 end
  if answered >= #requests then
    last_answered = now()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests_)
  local total_answered, total_refused, started, finished = 0, 0, math.huge, 0
  for _, thread in ipairs(threads) do
    total_answered = total_answered + thread:get("answered")
    total_refused = total_refused + thread:get("refused")
    started = math.min(started, thread:get("first_taken"))
    finished = math.max(finished, thread:get("last_answered"))
  end
  io.write(string.format("JSON {\"answered\":%d,\"refused\":%d,\"seconds\":%.4f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
    total_answered, total_refused, finished - started, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
