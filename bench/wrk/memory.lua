-- wrk script: POST generate with memory, spreading requests over THREADS threads of RESOURCE
-- (wrk ... -s memory.lua URL -- PREFIX THREADS RESOURCE). Thread ids are PREFIX-0 .. PREFIX-(THREADS-1),
-- taken in turn, so every connection appends to and reads from threads that other connections
-- use too.
local prefix, threads, resource, n = "bench", 32, "user-0", 0

init = function(args)
  prefix = args[1] or prefix
  threads = tonumber(args[2]) or threads
  resource = args[3] or resource
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

request = function()
  local id = prefix .. "-" .. (n % threads)
  n = n + 1
  local body = '{"messages":[{"role":"user","content":"hello ' .. n .. '"}],"memory":{"thread":"' .. id .. '","resource":"' .. resource .. '"}}'
  return wrk.format(nil, nil, nil, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d wraps=0\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
