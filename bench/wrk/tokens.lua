-- wrk script sending a different bearer token on every request, read from a file (one per line;
-- wrk ... -s tokens.lua URL -- FILE [METHOD] [BODY]). Counts how often the list wrapped around
-- (a wrapped run re-sends tokens the server may have cached: size the file to the run).
local tokens, n, i = {}, 0, 0
wraps = 0
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      n = n + 1
      tokens[n] = line
    end
  end
  if args[2] then wrk.method = args[2] end
  if args[3] then
    wrk.body = args[3]
    wrk.headers["Content-Type"] = "application/json"
  end
end

request = function()
  i = i + 1
  if i > n then
    i = 1
    wraps = wraps + 1
  end
  return wrk.format(nil, nil, { Authorization = "Bearer " .. tokens[i] })
end

done = function(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + (t:get("wraps") or 0) end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d wraps=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout, w))
end
