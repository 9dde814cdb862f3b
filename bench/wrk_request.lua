-- wrk script: method, body and headers from the environment; a per-request unique marker;
-- prints one JSON summary line with latency percentiles (microseconds) at the end.
local json_headers = os.getenv("WRK_HEADERS") or "{}"
wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY") or ""
local marker = os.getenv("WRK_MARKER") or ""
for key, value in string.gmatch(json_headers, '"([^"]+)"%s*:%s*"([^"]*)"') do
  wrk.headers[key] = value
end
if body ~= "" then wrk.body = body end

local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + (tid or 0))
  run_id = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
end

function request()
  if marker == "" then return wrk.format() end
  counter = counter + 1
  local unique = run_id .. "-" .. tostring(tid) .. "-" .. tostring(counter)
  local this_body = string.gsub(body, marker, unique)
  return wrk.format(nil, nil, nil, this_body)
end

function done(summary, latency, requests)
  local failures = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"failures":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), failures))
end
