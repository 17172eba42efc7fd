-- GET one path (BENCH_PATH) on every request.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local path = os.getenv("BENCH_PATH")

function request()
  return wrk.format("GET", path)
end
