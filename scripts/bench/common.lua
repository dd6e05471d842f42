-- Shared by the scenario scripts of scripts/bench.sh (wrk 4, LuaJIT).
--
-- Configuration comes from the environment, set by bench.sh:
--   BENCH_DATA       directory with users.txt and tasks.txt (seeded ids, one a line)
--   BENCH_API_TOKEN  bearer token, sent on direct API calls (/users…, /tasks…)
--   BENCH_GATEWAY    "1": call /api/… on the frontend with BENCH_COOKIE (a session
--                    cookie) and, on writes, Origin: BENCH_ORIGIN — as the browser
--                    does; the token never reaches the browser, so none is sent
--
--   BENCH_SEED       optional: seeds the random choices (a repeatable sequence)
--   BENCH_MAX_REQUESTS  optional: each wrk thread stops after this many responses
--                    and touches BENCH_DONE_FILE.<tid> (wrk itself runs on until
--                    its -d or a SIGINT, which bench.sh sends); a fixed amount of
--                    work for instruction counts. Run wrk with -c equal to -t so
--                    no request is in flight when a thread stops.
--
-- Each wrk thread counts the responses outside 2xx (wrk only reports an
-- aggregate "Non-2xx or 3xx" count); done() prints one machine-readable line:
--   BENCH_RESULT requests=… rps=… p50_ms=… p99_ms=… non2xx=… socket_errors=…
local M = {}

local function read_lines(path)
  local list = {}
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  for line in f:lines() do
    if line ~= "" then list[#list + 1] = line end
  end
  f:close()
  assert(#list > 0, path .. " is empty")
  return list
end

local data = assert(os.getenv("BENCH_DATA"), "BENCH_DATA is not set")
M.users = read_lines(data .. "/users.txt")
M.tasks = read_lines(data .. "/tasks.txt")
-- Whether the next request goes through the gateway (the mix switches it per request).
M.gateway = os.getenv("BENCH_GATEWAY") == "1"
local token = assert(os.getenv("BENCH_API_TOKEN"), "BENCH_API_TOKEN is not set")
local cookie = assert(os.getenv("BENCH_COOKIE"), "BENCH_COOKIE is not set")
local origin = assert(os.getenv("BENCH_ORIGIN"), "BENCH_ORIGIN is not set")
local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "")
local done_file = os.getenv("BENCH_DONE_FILE")

M.statuses = { "todo", "in_progress", "done" }

function M.pick(list)
  return list[math.random(#list)]
end

-- Headers of one request: credentials as the caller has them, JSON body type
-- and (gateway only) the page's Origin on state-changing requests.
local function headers(write)
  local h = { ["Accept"] = "application/json" }
  if M.gateway then
    h["Cookie"] = cookie
    if write then h["Origin"] = origin end
  else
    h["Authorization"] = "Bearer " .. token
  end
  if write then h["Content-Type"] = "application/json" end
  return h
end

function M.get(path)
  return wrk.format("GET", (M.gateway and "/api" or "") .. path, headers(false))
end

function M.send(method, path, body)
  return wrk.format(method, (M.gateway and "/api" or "") .. path, headers(true), body)
end

-- The five API calls of the benchmark.
local seq = 0
M.calls = {
  -- 1. a board column: one assignee's tasks in one status (one indexed query)
  list_tasks = function()
    return M.get("/tasks?assignee_id=" .. M.pick(M.users) .. "&status=" .. M.pick(M.statuses))
  end,
  -- 2. one task with its assignee (task-service → user-service)
  get_task = function()
    return M.get("/tasks/" .. M.pick(M.tasks))
  end,
  -- 3. a new task (assignee checked with user-service, then one insert)
  create_task = function()
    seq = seq + 1
    local body = string.format(
      '{"title":"Bench task %d-%d","description":"Created by scripts/bench.sh","assignee_id":"%s","due_date":"2027-01-%02d"}',
      tid, seq, M.pick(M.users), 1 + seq % 28)
    return M.send("POST", "/tasks", body)
  end,
  -- 4. a new user; the email is unique per request (thread, counter, random)
  create_user = function()
    seq = seq + 1
    local body = string.format(
      '{"email":"bench-%d-%d-%d@bench.example","full_name":"Bench User %d","role":"member"}',
      tid, seq, math.random(1, 1000000000), seq)
    return M.send("POST", "/users", body)
  end,
  -- 5. a status change (one update, then the assignee from user-service)
  patch_task = function()
    return M.send("PATCH", "/tasks/" .. M.pick(M.tasks), '{"status":"' .. M.pick(M.statuses) .. '"}')
  end,
}

-- Installs wrk's hooks; `make_request` builds each request.
function M.install(make_request)
  local threads = {}
  local counter = 0

  function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
    threads[#threads + 1] = thread
  end

  function init(args)
    -- BENCH_SEED (profile mode) makes the request sequence repeatable, so two
    -- builds are compared on the same pages.
    math.randomseed((tonumber(os.getenv("BENCH_SEED") or "") or os.time()) * 100 + tid)
    for _ = 1, 10 do math.random() end
    non2xx = 0
    first_bad = ""
    answered = 0
  end

  request = make_request

  function response(status, headers, body)
    answered = answered + 1
    if max_requests and answered == max_requests then
      if done_file then
        local f = io.open(done_file .. "." .. tid, "w")
        if f then f:close() end
      end
      wrk.thread:stop()
    end
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_bad == "" then
        first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200)
      end
    end
  end

  function done(summary, latency, requests)
    local bad, sample = 0, ""
    for _, thread in ipairs(threads) do
      bad = bad + (thread:get("non2xx") or 0)
      local first = thread:get("first_bad")
      if sample == "" and first and first ~= "" then sample = first end
    end
    local e = summary.errors
    local socket_errors = e.connect + e.read + e.write + e.timeout
    io.write(string.format(
      "BENCH_RESULT requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
      summary.requests, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad, socket_errors))
    if sample ~= "" then
      io.write("BENCH_FIRST_ERROR " .. string.gsub(sample, "\n", " ") .. "\n")
    end
  end
end

return M
