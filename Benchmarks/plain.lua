-- wrk script for a single path: prints the same JSON summary line as search.lua.
done = function(summary, latency, requests)
  io.write(string.format("JSON {\"requests\":%d,\"errors\":%d,\"qps\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
