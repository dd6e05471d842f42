-- scripts/bench/search.sh scenario: GET /tasks?q=… (one query kind, from
-- BENCH_DATA/queries-<BENCH_QUERIES>.txt: query strings, one a line,
-- drawn at random), with the API token.
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local kind = assert(os.getenv("BENCH_QUERIES"), "BENCH_QUERIES is not set")
local queries = {}
for line in assert(io.open(os.getenv("BENCH_DATA") .. "/queries-" .. kind .. ".txt")):lines() do
  if line ~= "" then queries[#queries + 1] = line end
end
assert(#queries > 0, "no queries of kind " .. kind)
bench.install(function()
  return bench.get("/tasks?" .. bench.pick(queries) .. "&limit=50")
end)
