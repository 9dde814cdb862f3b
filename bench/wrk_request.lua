-- wrk script: method, body and headers from the environment; a per-request unique marker;
-- prints one JSON summary line with latency percentiles (microseconds) at the end.
local json_headers = os.getenv("WRK_HEADERS") or "{}"
wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY") or ""
local marker = os.getenv("WRK_MARKER") or ""
-- Replaced per request by a valid NHS number (Modulus 11) unique to the request: synthetic
-- people in the 969 range, so a create benchmark does not pile every referral on one person.
-- WRK_NHS_OFFSET (bench/common.py gives each wrk run its own) keeps a run's people apart from
-- those of the runs before it, the warm-up's included.
local nhs_marker = os.getenv("WRK_NHS_MARKER") or ""
local nhs_offset = tonumber(os.getenv("WRK_NHS_OFFSET") or "0")
-- Numbers each thread of a run may use (bench/common.py says how many).
local nhs_per_thread = tonumber(os.getenv("WRK_NHS_PER_THREAD") or "25000")
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

-- The n-th synthetic NHS number, no two n alike (for n below 900,000). Of the ten numbers
-- that differ only in the digit before the check digit (weight 2), at most one would need a
-- check digit of 10 and is not valid: nine of each ten are used.
local function nhs_number(n)
  n = n % 900000
  local prefix = string.format("969%05d", math.floor(n / 9))
  local wanted = n % 9
  for last = 0, 9 do
    local digits = prefix .. tostring(last)
    local total = 0
    for i = 1, 9 do
      total = total + tonumber(string.sub(digits, i, i)) * (11 - i)
    end
    local check = 11 - (total % 11)
    if check == 11 then check = 0 end
    if check ~= 10 then
      if wanted == 0 then return digits .. tostring(check) end
      wanted = wanted - 1
    end
  end
end

function request()
  if marker == "" and nhs_marker == "" then return wrk.format() end
  counter = counter + 1
  local this_body = body
  if marker ~= "" then
    local unique = run_id .. "-" .. tostring(tid) .. "-" .. tostring(counter)
    this_body = string.gsub(this_body, marker, unique)
  end
  if nhs_marker ~= "" then
    this_body = string.gsub(this_body, nhs_marker, nhs_number(nhs_offset + ((tid or 1) - 1) * nhs_per_thread + counter))
  end
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
