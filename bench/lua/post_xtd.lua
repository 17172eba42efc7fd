-- POST a new comment to django-comments-xtd's API (BENCH_PATH) on every request, as its
-- JavaScript client does: the form's timestamp and security hash for the target object
-- (BENCH_XTD_TIMESTAMP, BENCH_XTD_HASH, BENCH_XTD_OBJECT), an empty honeypot.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local path = os.getenv("BENCH_PATH")
local target = os.getenv("BENCH_XTD_OBJECT")
local timestamp = os.getenv("BENCH_XTD_TIMESTAMP")
local security_hash = os.getenv("BENCH_XTD_HASH")

function request()
  local id = next_id()
  local body = string.format(
    '{"content_type": "flatpages.flatpage", "object_pk": "%s", "timestamp": "%s", '
      .. '"security_hash": "%s", "honeypot": "", "name": "Reader %s", '
      .. '"email": "c%s@bench.example.org", "comment": "%s"}',
    target, timestamp, security_hash, id, id, comment_text(id))
  return wrk.format("POST", path, json_headers, body)
end
