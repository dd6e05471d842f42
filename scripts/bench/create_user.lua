-- scripts/bench.sh scenario: create user (direct, or through the gateway with BENCH_GATEWAY=1).
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
bench.install(bench.calls.create_user)
