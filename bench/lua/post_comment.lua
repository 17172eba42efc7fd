-- POST a new comment (unique author email and body) to BENCH_PATH on every request.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local path = os.getenv("BENCH_PATH")

function request()
  local id = next_id()
  local body = string.format(
    '{"author_name": "Reader %s", "author_email": "c%s@bench.example.org", "body": "%s"}',
    id, id, comment_text(id))
  return wrk.format("POST", path, json_headers, body)
end
