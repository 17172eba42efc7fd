-- The soak's mix, in a fixed order of ten requests: six GETs of the comment list
-- (BENCH_PATH), two comment POSTs, one sign-up and one one-click unsubscribe (walking
-- BENCH_PATHS_FILE). Each connection waits BENCH_DELAY_MS before each request, which
-- sets the rate: about connections / (delay + latency).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local list_path = os.getenv("BENCH_PATH")
local subscribe_path = os.getenv("BENCH_SUBSCRIBE_PATH")
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local n = 0

function init(args)
  load_unsubscribe_paths()
end

function delay()
  return pause
end

function request()
  n = n + 1
  local slot = n % 10
  if slot < 6 then
    return wrk.format("GET", list_path)
  elseif slot < 8 then
    local id = next_id()
    local body = string.format(
      '{"author_name": "Reader %s", "author_email": "c%s@bench.example.org", "body": "%s"}',
      id, id, comment_text(id))
    return wrk.format("POST", list_path, json_headers, body)
  elseif slot == 8 then
    local body = string.format('{"email": "s%s@bench.example.org", "consent": true}', next_id())
    return wrk.format("POST", subscribe_path, json_headers, body)
  end
  return unsubscribe_request()
end
