-- wrk script for a single path: prints the same JSON summary line as search.lua, plus the bytes
-- received per second (downloads).
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("JSON {\"requests\":%d,\"errors\":%d,\"qps\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"bytes_per_s\":%.0f}\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.bytes / seconds))
end
