-- scripts/bench.sh scenario 7: a team's day, mostly reads. Each request picks
-- a call by weight, and half of them come through the gateway (the browser
-- board), half directly (scripts and integrations with the token).
local bench = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local c = bench.calls

-- Keep in step with MIX_WEIGHTS in scripts/bench.sh (the pgbench ceiling).
local weights = {
  { c.list_tasks, 45 },  -- board columns
  { c.get_task, 30 },    -- opening a task
  { c.patch_task, 15 },  -- moving a task
  { c.create_task, 8 },  -- new tasks
  { c.create_user, 2 },  -- new team members
}
local total = 0
for _, w in ipairs(weights) do total = total + w[2] end

bench.install(function()
  bench.gateway = math.random() < 0.5
  local r = math.random(total)
  for _, w in ipairs(weights) do
    if r <= w[2] then return w[1]() end
    r = r - w[2]
  end
end)
