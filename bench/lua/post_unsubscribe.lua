-- RFC 8058 one-click unsubscribe POSTs, each thread walking its own share of the
-- unsubscribe paths listed (one per line) in BENCH_PATHS_FILE.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
  load_unsubscribe_paths()
end

function request()
  return unsubscribe_request()
end
