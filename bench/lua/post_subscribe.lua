-- POST a sign-up for a new address (with consent) to BENCH_PATH on every request.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local path = os.getenv("BENCH_PATH")

function request()
  local body = string.format('{"email": "s%s@bench.example.org", "consent": true}', next_id())
  return wrk.format("POST", path, json_headers, body)
end
