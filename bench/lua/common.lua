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
form_headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

local unsubscribe_paths = {}
local next_unsubscribe = 1

-- Load this thread's share of the unsubscribe paths listed (one a line) in BENCH_PATHS_FILE.
function load_unsubscribe_paths()
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local index = 0
  for line in io.lines(os.getenv("BENCH_PATHS_FILE")) do
    if index % threads == (tid or 0) then
      unsubscribe_paths[#unsubscribe_paths + 1] = line
    end
    index = index + 1
  end
end

-- An RFC 8058 one-click unsubscribe POST, walking this thread's paths in a loop.
function unsubscribe_request()
  local path = unsubscribe_paths[next_unsubscribe]
  next_unsubscribe = next_unsubscribe % #unsubscribe_paths + 1
  return wrk.format("POST", path, form_headers, "List-Unsubscribe=One-Click")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
