-- wrk script template for bench/overhead.py: POSTs real RouterBench prompts, each body
-- made unique by a per-request counter, and prints exact percentiles as one JSON line.
local prefixes = {
__PREFIXES__
}
local suffixes = {
__SUFFIXES__
}
-- The key only matters to the optional LiteLLM proxy baseline; the others ignore it.
local headers = { ["Content-Type"] = "application/json",
                  ["Authorization"] = "Bearer __KEY__" }
local counter = 0

request = function()
  counter = counter + 1
  local i = counter % #prefixes + 1
  return wrk.format("POST", "/v1/chat/completions", headers,
                    prefixes[i] .. counter .. suffixes[i])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
