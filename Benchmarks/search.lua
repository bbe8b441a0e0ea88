-- wrk script: cycles through a query mix (SOUK_QUERIES, default queries.txt), one
-- GET /api/v1/products?<line> per request.
-- SOUK_UNIQUE=1 makes every request's address new (`&_=<thread>-<n>`, a parameter the API
-- ignores): no answer can come from the store's cache of search answers, so every request is
-- searched and written anew.
local queries = {}
for line in io.lines(os.getenv("SOUK_QUERIES") or "queries.txt") do
  if line ~= "" and line:sub(1, 1) ~= "#" then table.insert(queries, line) end
end
local unique = os.getenv("SOUK_UNIQUE") == "1"
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local counter = 0
request = function()
  counter = counter + 1
  local path = "/api/v1/products?" .. queries[(counter % #queries) + 1]
  if unique then path = path .. "&_=" .. id .. "-" .. counter end
  return wrk.format("GET", path)
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\"requests\":%d,\"errors\":%d,\"qps\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
