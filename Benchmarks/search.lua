-- wrk script: cycles through queries.txt, one GET /api/v1/products?<line> per request.
local queries = {}
for line in io.lines(os.getenv("SOUK_QUERIES") or "queries.txt") do
  if line ~= "" and line:sub(1, 1) ~= "#" then table.insert(queries, line) end
end
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/api/v1/products?" .. queries[(counter % #queries) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\"requests\":%d,\"errors\":%d,\"qps\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
