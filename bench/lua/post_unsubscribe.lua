-- RFC 8058 one-click unsubscribe POSTs, each thread walking its own share of the
-- unsubscribe paths listed (one per line) in BENCH_PATHS_FILE.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
local form_headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local paths = {}
local next_index = 1

function init(args)
  local index = 0
  for line in io.lines(os.getenv("BENCH_PATHS_FILE")) do
    if index % threads == (tid or 0) then
      paths[#paths + 1] = line
    end
    index = index + 1
  end
end

function request()
  local path = paths[next_index]
  next_index = next_index % #paths + 1
  return wrk.format("POST", path, form_headers, "List-Unsubscribe=One-Click")
end
