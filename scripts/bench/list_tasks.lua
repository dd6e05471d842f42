-- scripts/bench.sh scenario: list tasks (direct, or through the gateway with BENCH_GATEWAY=1).
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
bench.install(bench.calls.list_tasks)
