-- Shared by every bench script: unique ids per request, and a machine-readable summary.
-- wrk runs this file in its main Lua state (setup, done) and once per thread (request).

local threads_started = 0
nonce = os.getenv("BENCH_NONCE") or "0"
counter = 0

function setup(thread)
  thread:set("tid", threads_started)
  threads_started = threads_started + 1
end

-- A string no other request of this run (nor any other round) uses.
function next_id()
  counter = counter + 1
  return nonce .. "-" .. tostring(tid or 0) .. "-" .. tostring(counter)
end

local words = {
  "rare", "earth", "magnet", "supply", "prices", "neodymium", "mine", "refinery",
  "export", "quota", "policy", "market", "dysprosium", "lithium", "permit", "report",
}

-- A plausible comment of a dozen words that differs for every request.
function comment_text(id)
  local parts = {}
  for i = 1, 12 do
    parts[i] = words[(counter * 7 + i * 3) % #words + 1]
  end
  return "Bench comment " .. id .. ": " .. table.concat(parts, " ") .. "."
end

json_headers = { ["Content-Type"] = "application/json" }

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
