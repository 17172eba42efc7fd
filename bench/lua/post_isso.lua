-- POST a new comment to Isso (BENCH_PATH, /new?uri=...) on every request, as its
-- embed does: JSON with the text, author, email and the thread's title.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local path = os.getenv("BENCH_PATH")

function request()
  local id = next_id()
  local body = string.format(
    '{"text": "%s", "author": "Reader %s", "email": "c%s@bench.example.org", '
      .. '"website": null, "title": "Bench posts"}',
    comment_text(id), id, id)
  return wrk.format("POST", path, json_headers, body)
end
