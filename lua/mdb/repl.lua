--- The Lua half of the `mdblua` prompt: how values are shown, what Tab
-- offers, the globals a session starts with, and help texts.  The host
-- (host/repl.c) reads lines and calls `start`, `show` and `complete`;
-- nothing here reads the terminal.  Usable outside the prompt too:
-- `require("mdb.repl").pretty(v)` is a plain function.
-- @module mdb.repl
local mdb = require "mdb"
local fmt = require "mdb.fmt"
local aligned = require "mdb.aligned"

local M = {}

local concat, sort = table.concat, table.sort
local format = string.format
local type, pairs, ipairs, next, tostring = type, pairs, ipairs, next, tostring
local getmetatable, rawget, pcall, select = getmetatable, rawget, pcall, select
local mtype = math.type

--- How much `show` prints.  Change them in a session, e.g.
-- `require("mdb.repl").settings.rows = 1000`.
M.settings = {
   depth = 4,      -- nested tables shown this deep; deeper ones as {...}
   items = 40,     -- entries shown per table, then "... N more"
   rows = 60,      -- rows of an aligned table of backups or clusters
   string = 160,   -- characters of a string nested in a table
   width = 100,    -- a table that fits in this many columns stays on one line
   budget = 3000,  -- entries in all for one value, so a huge one stays quick
}

local is_engine = {}
for _, e in ipairs(mdb.engines) do is_engine[e] = true end

local KEYWORDS = { "and", "break", "do", "else", "elseif", "end", "false", "for",
   "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return",
   "then", "true", "until", "while" }
local is_keyword = {}
for _, k in ipairs(KEYWORDS) do is_keyword[k] = true end

-- ---------------------------------------------------------------------
-- What a value is

local function mt_name(v)
   local mt = getmetatable(v)
   return type(mt) == "table" and rawget(mt, "__name") or nil
end

--- Is `v` a backup as the iterators yield it?
function M.is_backup(v)
   return type(v) == "table" and type(rawget(v, "id")) == "string"
      and is_engine[rawget(v, "engine")] == true
      and (rawget(v, "sourceClusterId") ~= nil or rawget(v, "startedAt") ~= nil)
end

--- Is `v` a cluster as `client:clusters` yields it?
function M.is_cluster(v)
   return type(v) == "table" and type(rawget(v, "id")) == "string"
      and is_engine[rawget(v, "engine")] == true and rawget(v, "sourceClusterId") == nil
      and rawget(v, "startedAt") == nil and rawget(v, "name") ~= nil
end

--- Is `v` a retention policy as `client:retention_policies` yields it?
function M.is_policy(v)
   return type(v) == "table" and type(rawget(v, "policyId")) == "string"
      and is_engine[rawget(v, "engine")] == true and rawget(v, "id") == nil
end

--- Is `v` an operation as `client:operations` yields it?  (proto3 JSON
-- leaves out `done` while it is false, so any of three fields will do.)
function M.is_operation(v)
   return type(v) == "table" and type(rawget(v, "id")) == "string"
      and is_engine[rawget(v, "engine")] == true and rawget(v, "name") == nil
      and rawget(v, "sourceClusterId") == nil and rawget(v, "startedAt") == nil
      and (rawget(v, "metadata") ~= nil or rawget(v, "modifiedAt") ~= nil or rawget(v, "done") ~= nil)
end

local SCAN_KEYS = { engine = true, id = true, folder = true, cloud = true, cluster = true, backups = true,
   error = true, stats = true, policies = true, operations = true, policies_error = true,
   operations_error = true }

--- Is `v` one entry of what `client:scan` returns?
function M.is_scan_entry(v)
   if type(v) ~= "table" or is_engine[rawget(v, "engine")] ~= true or type(rawget(v, "backups")) ~= "table" then
      return false
   end
   for k in next, v do
      if not SCAN_KEYS[k] then return false end
   end
   return true
end

local function is_iterator(v)
   return type(v) == "userdata" and mt_name(v) == "mdb.iterator"
end

-- A function or callable object: what `obj:` completes.
local function is_callable(v)
   if type(v) == "function" then return true end
   local mt = getmetatable(v)
   return type(mt) == "table" and type(rawget(mt, "__call")) == "function"
end

-- ---------------------------------------------------------------------
-- Plain values

local ESCAPES = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ['"'] = '\\"', ["\\"] = "\\\\",
   ["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f", ["\v"] = "\\v" }

-- A string as Lua source, cut to `max` characters when given.
local function quote(s, max)
   local cut = ""
   if max and #s > max then
      cut = format("...(%d bytes)", #s)
      s = s:sub(1, max)
   end
   s = s:gsub('[%c"\\]', function(c)
      return ESCAPES[c] or format("\\%03d", c:byte())
   end)
   return '"' .. s .. '"' .. cut
end

local function is_identifier(k)
   return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil and not is_keyword[k]
end

-- Names of the module's functions, so they show as "function: mdb.client".
local known_names

local function function_name(f)
   if not known_names then
      known_names = {}
      for k, v in pairs(mdb) do
         if type(v) == "function" then known_names[v] = "mdb." .. k end
      end
      for _, mtn in ipairs { "mdb.client", "mdb.iterator" } do
         local mt = debug.getregistry()[mtn]
         local idx = type(mt) == "table" and rawget(mt, "__index")
         if type(idx) == "table" then
            local short = mtn == "mdb.client" and "client" or "it"
            for k, v in pairs(idx) do
               if type(v) == "function" then known_names[v] = short .. ":" .. k end
            end
         end
      end
      for k, v in pairs(M) do
         if type(v) == "function" then known_names[v] = "mdb.repl." .. k end
      end
      for _, g in ipairs { "help", "collect", "inspect" } do
         known_names[M[g]] = g
      end
   end
   return known_names[f]
end

local function safe_tostring(v)
   local ok, s = pcall(tostring, v)
   if ok and type(s) == "string" then return s end
   return format("<%s: __tostring failed>", type(v))
end

local size_of = require("mdb.backup").size_of   -- size, or sizeBytes (OpenSearch, Elasticsearch)

local function age_of(t, now)
   if type(t) ~= "number" then return "-" end
   return fmt.age(now - t) .. " ago"
end

--- A backup as one line: id, engine, created, age, size, type (and the
-- status when it is not DONE).
function M.backup_line(b, now)
   now = now or os.time()
   local parts = { tostring(b.id), tostring(b.engine),
      fmt.time(b.created) .. " (" .. age_of(b.created, now) .. ")", fmt.size(size_of(b)) }
   if b.type then parts[#parts + 1] = tostring(b.type) end
   if b.status and b.status ~= "DONE" then parts[#parts + 1] = tostring(b.status) end
   return "<backup " .. concat(parts, "  ") .. ">"
end

--- A cluster as one line: id, name, engine, environment, health, status.
function M.cluster_line(c)
   local parts = { tostring(c.id), tostring(c.name), tostring(c.engine) }
   for _, k in ipairs { "environment", "health", "status" } do
      if c[k] ~= nil then parts[#parts + 1] = tostring(c[k]) end
   end
   return "<cluster " .. concat(parts, "  ") .. ">"
end

local function newest_of(backups)
   local best
   for _, b in ipairs(backups) do
      if type(b) == "table" and type(b.created) == "number" and (not best or b.created > best.created) then
         best = b
      end
   end
   return best
end

local function error_text(e)
   if type(e) == "table" and mdb.is_error(e) then
      return tostring(e.kind) .. ": " .. tostring(e.message)
   end
   return safe_tostring(e)
end

--- One entry of a scan as a line: cluster, name, engine, the number of
-- backups and the newest one's age, or the error.
function M.scan_line(r, now)
   now = now or os.time()
   local name = type(r.cluster) == "table" and r.cluster.name or nil
   local parts = { tostring(r.id or "(cluster list)") }
   if name then parts[#parts + 1] = tostring(name) end
   parts[#parts + 1] = tostring(r.engine)
   local newest = newest_of(r.backups)
   parts[#parts + 1] = format("%d backup%s", #r.backups, #r.backups == 1 and "" or "s")
   if newest then parts[#parts + 1] = "newest " .. age_of(newest.created, now) end
   if r.error then parts[#parts + 1] = "error: " .. error_text(r.error) end
   return "<scan " .. concat(parts, "  ") .. ">"
end

local function cron_text(c)
   c = type(c) == "table" and c or {}
   return format("%s %s %s", tostring(c.dayOfMonth or "*"), tostring(c.month or "*"), tostring(c.dayOfWeek or "*"))
end

--- A retention policy as one line: id, name, engine, cron, days kept.
function M.policy_line(p)
   return format("<policy %s  %s  %s  cron %s  keep %s days>", tostring(p.policyId), tostring(p.policyName or "-"),
      tostring(p.engine), cron_text(p.cron), tostring(p.retainForDays or "?"))
end

-- An operation's state: failed (with the message), done or running.
local function operation_state(o)
   if type(o.error) == "table" then return "failed: " .. tostring(o.error.message or o.error.code or "?") end
   return o.done and "done" or "running"
end

--- An operation as one line: id, engine, description, created, state.
function M.operation_line(o, now)
   now = now or os.time()
   return format("<operation %s  %s  %s  %s (%s)  %s>", tostring(o.id), tostring(o.engine),
      tostring(o.description or "-"), fmt.time(o.created), age_of(o.created, now), operation_state(o))
end

-- ---------------------------------------------------------------------
-- Tables

-- Keys in a stable order: the array part 1..n, then numbers, strings and
-- the rest, each sorted.
local TYPE_ORDER = { number = 1, string = 2, boolean = 3 }

local function sorted_keys(t)
   local n = 0
   while rawget(t, n + 1) ~= nil do n = n + 1 end
   local keys, others = {}, {}
   for i = 1, n do keys[i] = i end
   for k in next, t do
      if not (mtype(k) == "integer" and k >= 1 and k <= n) then others[#others + 1] = k end
   end
   sort(others, function(a, b)
      local ta, tb = TYPE_ORDER[type(a)] or 4, TYPE_ORDER[type(b)] or 4
      if ta ~= tb then return ta < tb end
      if ta == 1 or ta == 2 then return a < b end
      return safe_tostring(a) < safe_tostring(b)
   end)
   for _, k in ipairs(others) do keys[#keys + 1] = k end
   return keys, n
end

local render

-- Fields of backups and clusters that read better with a note when shown
-- in full: Unix times and byte counts.
local TIME_FIELDS = { created = true, started = true }
local SIZE_FIELDS = { size = true, journalSize = true, sizeBytes = true, totalSizeBytes = true,
   incrementalSizeBytes = true, freeSpaceRequiredBytes = true }

local function note_for(k, x)
   if TIME_FIELDS[k] and type(x) == "number" then return " -- " .. fmt.time(x) end
   if SIZE_FIELDS[k] and mtype(x) == "integer" then return " -- " .. fmt.size(x) end
   return nil
end

-- Lay out rendered entries: on one line when they fit, sequences of
-- short values filled line by line, anything else one entry a line (with
-- its note, if any).
local function layout(items, notes, keyed, multiline, st, indent, label)
   local inner = indent .. "  "
   local total = 0
   for _, s in ipairs(items) do total = total + #s + 2 end
   if not multiline and #indent + total + 4 <= st.width then
      return label .. "{ " .. concat(items, ", ") .. " }"
   end
   if not multiline and not keyed then
      local lines, cur = {}, nil
      for _, s in ipairs(items) do
         local piece = s .. ","
         if cur and #cur + 1 + #piece > st.width then
            lines[#lines + 1] = cur
            cur = nil
         end
         cur = cur and (cur .. " " .. piece) or (inner .. piece)
      end
      lines[#lines + 1] = cur
      return label .. "{\n" .. concat(lines, "\n") .. "\n" .. indent .. "}"
   end
   local lines = {}
   for i, s in ipairs(items) do lines[i] = inner .. s .. "," .. (notes[i] or "") end
   return label .. "{\n" .. concat(lines, "\n") .. "\n" .. indent .. "}"
end

local function render_key(k, st)
   if is_identifier(k) then return k end
   return "[" .. render(k, st, st.depth_limit, "") .. "]"
end

-- One value as text.  `st` carries the options, the tables on the path
-- (for cycle marks) and the budget; `depth` counts tables entered.
function render(v, st, depth, indent)
   local tv = type(v)
   if tv == "string" then return quote(v, depth > 0 and st.string or nil) end
   if tv == "number" then
      if mtype(v) == "float" and v == math.floor(v) and v > -1e15 and v < 1e15 then
         return format("%.1f", v)
      end
      return tostring(v)
   end
   if tv == "function" then
      local name = function_name(v)
      return name and ("function: " .. name) or tostring(v)
   end
   if tv ~= "table" then return safe_tostring(v) end

   if mdb.is_error(v) then return safe_tostring(v) end
   if st.compact then
      if M.is_backup(v) then return M.backup_line(v, st.now) end
      if M.is_cluster(v) then return M.cluster_line(v) end
      if M.is_scan_entry(v) then return M.scan_line(v, st.now) end
      if M.is_policy(v) then return M.policy_line(v) end
      if M.is_operation(v) then return M.operation_line(v, st.now) end
   end
   local mt = getmetatable(v)
   if type(mt) == "table" and rawget(mt, "__tostring") and not st.raw then
      return safe_tostring(v)
   end

   local onpath = st.path[v]
   if onpath then
      onpath.id = onpath.id or st.next_id()
      return format("<cycle %d>", onpath.id)
   end
   if next(v) == nil then return "{}" end
   if depth >= st.depth_limit or st.budget <= 0 then return "{...}" end

   local info = {}
   st.path[v] = info
   local keys, n = sorted_keys(v)
   local annotate = M.is_backup(v) or M.is_cluster(v)
   local items, notes, keyed, multiline = {}, {}, false, false
   for i, k in ipairs(keys) do
      if i > st.items or st.budget <= 0 then
         items[#items + 1] = format("... (%d more)", #keys - i + 1)
         break
      end
      st.budget = st.budget - 1
      local x = rawget(v, k)
      local s = render(x, st, depth + 1, indent .. "  ")
      if not (mtype(k) == "integer" and k >= 1 and k <= n) then
         s = render_key(k, st) .. " = " .. s
         keyed = true
         if annotate then notes[#items + 1] = note_for(k, x) end
      end
      items[#items + 1] = s
      if s:find("\n", 1, true) then multiline = true end
   end
   st.path[v] = nil
   -- notes need a line each
   if next(notes) then multiline = true end
   return layout(items, notes, keyed, multiline, st, indent, info.id and format("<%d>", info.id) or "")
end

local function new_state(opts)
   opts = opts or {}
   local s = M.settings
   local id = 0
   return {
      depth_limit = opts.depth or s.depth,
      items = opts.items or s.items,
      string = opts.string or s.string,
      width = opts.width or s.width,
      budget = opts.budget or s.budget,
      compact = opts.compact ~= false,
      raw = opts.raw,
      now = os.time(),
      path = {},
      next_id = function() id = id + 1; return id end,
   }
end

--- A value as text: nested tables up to `depth` levels and `items`
-- entries each, cycles marked `<1>{ ... <cycle 1> }`, backups and clusters
-- as one line each (unless `compact = false`), error objects as their
-- message.  `opts` overrides `M.settings`.
function M.pretty(v, opts)
   return render(v, new_state(opts), 0, "")
end

-- ---------------------------------------------------------------------
-- Aligned tables of backups and clusters

local function all(list, pred)
   local n = #list
   if n == 0 or next(list, n > 0 and n or nil) ~= nil then return false end
   for i = 1, n do
      if not pred(rawget(list, i)) then return false end
   end
   for k in pairs(list) do
      if mtype(k) ~= "integer" then return false end
   end
   return true
end

-- The prompt's tables: the first column (the row number) and `right`
-- right-aligned under a left-aligned header, no trailing blanks.
local function align(rows, total, shown, right)
   local r = { [1] = true }
   for i in pairs(right or {}) do r[i] = true end
   local out = aligned.render(rows, { right = r, header_left = true, trim = true })
   if total > shown then
      out = out .. "\n" .. format("... %d more (%d in all; settings.rows = %d)", total - shown, total, shown)
   end
   return out
end

--- An array of backups as an aligned table, one row each.
function M.backup_table(list, opts)
   opts = opts or {}
   local now = os.time()
   local limit = opts.rows or M.settings.rows
   local engines, clusters = {}, {}
   for _, b in ipairs(list) do
      engines[tostring(b.engine)] = true
      clusters[tostring(b.sourceClusterId)] = true
   end
   local many_engines = next(engines, next(engines)) ~= nil
   local many_clusters = next(clusters, next(clusters)) ~= nil
   local header = { "#", "ID" }
   if many_clusters then header[#header + 1] = "CLUSTER" end
   if many_engines then header[#header + 1] = "ENGINE" end
   for _, h in ipairs { "CREATED", "AGE", "SIZE", "TYPE", "STATUS" } do header[#header + 1] = h end
   local rows = { header }
   local right = {}
   right[#header - 2] = true   -- SIZE
   for i, b in ipairs(list) do
      if i > limit then break end
      local row = { tostring(i), tostring(b.id) }
      if many_clusters then row[#row + 1] = tostring(b.sourceClusterId or "-") end
      if many_engines then row[#row + 1] = tostring(b.engine) end
      row[#row + 1] = fmt.time(b.created)
      row[#row + 1] = b.created and fmt.age(now - b.created) or "-"
      row[#row + 1] = fmt.size(size_of(b))
      row[#row + 1] = tostring(b.type or "-")
      row[#row + 1] = tostring(b.status or "-")
      rows[#rows + 1] = row
   end
   local engine = next(engines)
   local summary = format("%d %s backup%s%s", #list, many_engines and "" or engine, #list == 1 and "" or "s",
      many_clusters and "" or (" of cluster " .. tostring(list[1].sourceClusterId)))
   -- One cluster's backups: its last 14 days as a strip (mdb.strip), above the summary.
   local strip = many_clusters and "" or require("mdb.strip").of_backups(list, { now = now,
      color = require("mdb.strip").color_wanted() }) .. "\n"
   return align(rows, #list, math.min(#list, limit), right) .. "\n" .. strip .. summary:gsub("  ", " ")
end

--- An array of clusters as an aligned table.
function M.cluster_table(list, opts)
   opts = opts or {}
   local limit = opts.rows or M.settings.rows
   local rows = { { "#", "ID", "NAME", "ENGINE", "ENVIRONMENT", "HEALTH", "STATUS", "CREATED" } }
   for i, c in ipairs(list) do
      if i > limit then break end
      rows[#rows + 1] = { tostring(i), tostring(c.id), tostring(c.name), tostring(c.engine),
         tostring(c.environment or "-"), tostring(c.health or "-"), tostring(c.status or "-"),
         fmt.time(c.created) }
   end
   return align(rows, #list, math.min(#list, limit)) .. "\n" .. fmt.plural(#list, "cluster")
end

--- An array of retention policies as an aligned table.
function M.policy_table(list, opts)
   local limit = (opts or {}).rows or M.settings.rows
   local rows = { { "#", "POLICY", "NAME", "CLUSTER", "ENGINE", "CRON", "DAYS", "CREATED" } }
   for i, p in ipairs(list) do
      if i > limit then break end
      rows[#rows + 1] = { tostring(i), tostring(p.policyId), tostring(p.policyName or "-"),
         tostring(p.clusterId or "-"), tostring(p.engine), cron_text(p.cron), tostring(p.retainForDays or "-"),
         fmt.time(p.created) }
   end
   return align(rows, #list, math.min(#list, limit), { [7] = true }) .. "\n"
      .. fmt.plural(#list, "retention policy", "retention policies")
end

--- An array of operations as an aligned table.
function M.operation_table(list, opts)
   local now = os.time()
   local limit = (opts or {}).rows or M.settings.rows
   local rows = { { "#", "ID", "ENGINE", "DESCRIPTION", "CREATED", "AGE", "STATE" } }
   local failed = 0
   for i, o in ipairs(list) do
      if type(o.error) == "table" then failed = failed + 1 end
      if i <= limit then
         rows[#rows + 1] = { tostring(i), tostring(o.id), tostring(o.engine), tostring(o.description or "-"),
            fmt.time(o.created), o.created and fmt.age(now - o.created) or "-", operation_state(o) }
      end
   end
   return align(rows, #list, math.min(#list, limit)) .. format("\n%s, %d failed", fmt.plural(#list, "operation"),
      failed)
end

--- What `client:scan` returned as an aligned table: a row per cluster
-- with its backup count, newest backup and the error, if any; with the
-- counts of policies and operations when the scan fetched them (with=).
function M.scan_table(list, opts)
   opts = opts or {}
   local now = os.time()
   local limit = opts.rows or M.settings.rows
   local extra = false
   for _, r in ipairs(list) do
      if r.policies or r.operations or r.policies_error or r.operations_error then extra = true end
   end
   local function count(t, err)
      return err and "error" or t and tostring(#t) or "-"
   end
   local header = { "#", "ENGINE", "CLUSTER", "NAME", "BACKUPS", "NEWEST", "AGE", "SIZE" }
   local right = { [5] = true, [8] = true }
   if extra then
      header[#header + 1] = "POLICIES"
      header[#header + 1] = "OPERATIONS"
      right[9], right[10] = true, true
   end
   header[#header + 1] = "ERROR"
   local rows = { header }
   local total, failed = 0, 0
   for i, r in ipairs(list) do
      total = total + #r.backups
      if r.error or r.policies_error or r.operations_error then failed = failed + 1 end
      if i <= limit then
         local newest = newest_of(r.backups)
         local row = { tostring(i), tostring(r.engine), tostring(r.id or "-"),
            tostring(type(r.cluster) == "table" and r.cluster.name or "-"), tostring(#r.backups),
            newest and fmt.time(newest.created) or "-", newest and fmt.age(now - newest.created) or "-",
            newest and fmt.size(size_of(newest)) or "-" }
         if extra then
            row[#row + 1] = count(r.policies, r.policies_error)
            row[#row + 1] = count(r.operations, r.operations_error)
         end
         local err = r.error or r.policies_error or r.operations_error
         row[#row + 1] = err and error_text(err) or ""
         rows[#rows + 1] = row
      end
   end
   return align(rows, #list, math.min(#list, limit), right)
      .. format("\n%s, %s, %d failed", fmt.plural(#list, "cluster"), fmt.plural(total, "backup"), failed)
end

-- ---------------------------------------------------------------------
-- What the prompt prints

--- The text for the results of one evaluation (`n` of them, nils
-- included): each value through `pretty`, an array of backups or
-- clusters as an aligned table, tab-separated when all fit on a line.
function M.show(n, ...)
   local vals = { ... }
   -- client:backups{...} returns it, nil, nil, it (the 4th closes the
   -- iterator on break); showing the iterator once is enough.
   if n == 4 and is_iterator(vals[1]) and vals[2] == nil and vals[3] == nil and vals[4] == vals[1] then
      return safe_tostring(vals[1]) .. "\n-- lazy: nothing is fetched until it is used; "
         .. "collect(...) fetches every item"
   end
   local out, multiline = {}, false
   for i = 1, n do
      local v = vals[i]
      local s
      if type(v) == "table" and all(v, M.is_scan_entry) then
         s = M.scan_table(v)
      elseif type(v) == "table" and all(v, M.is_backup) then
         s = M.backup_table(v)
      elseif type(v) == "table" and all(v, M.is_cluster) then
         s = M.cluster_table(v)
      elseif type(v) == "table" and all(v, M.is_policy) then
         s = M.policy_table(v)
      elseif type(v) == "table" and all(v, M.is_operation) then
         s = M.operation_table(v)
      else
         s = M.pretty(v)
      end
      out[i] = s
      if s:find("\n", 1, true) then multiline = true end
   end
   return concat(out, multiline and "\n" or "\t")
end

-- ---------------------------------------------------------------------
-- Tab completion

-- The fields of `v` that completion may offer: a table's own keys and
-- those of its __index tables, a userdata's __index tables.  Never calls
-- a function (no __index function, no __pairs), so Tab has no effects.
local function fields(v, out, seen)
   seen = seen or {}
   if seen[v] then return out end
   seen[v] = true
   if type(v) == "table" then
      for k, x in next, v do
         if type(k) == "string" and out[k] == nil then out[k] = x end
      end
   end
   local mt = getmetatable(v)
   if type(mt) == "table" then
      local idx = rawget(mt, "__index")
      if type(idx) == "table" then fields(idx, out, seen) end
   end
   return out
end

-- `name` looked up in `v` the same way.
local function field(v, name)
   for _ = 1, 20 do
      if type(v) == "table" then
         local x = rawget(v, name)
         if x ~= nil then return x end
      end
      local mt = getmetatable(v)
      if type(mt) ~= "table" or type(rawget(mt, "__index")) ~= "table" then return nil end
      v = rawget(mt, "__index")
   end
end

local function sorted_matches(names, prefix, partial)
   local out = {}
   for _, name in ipairs(names) do
      if name:sub(1, #partial) == partial then out[#out + 1] = prefix .. name end
   end
   sort(out)
   return out
end

--- Candidates for completing `text` (the word before the cursor);
-- `before` is the line in front of it.  Globals and keywords, then fields
-- after "a.b." and methods after "obj:"; engine names inside the quotes
-- of `engine = "`.
function M.complete(text, before)
   before = before or ""
   if before:match("engine%s*=%s*[\"']$") then
      return sorted_matches(mdb.engines, "", text)
   end
   if before:match("[\"']$") then return {} end
   local path, sep, partial = text:match("^(.-)([.:])([%w_]*)$")
   if not path then
      if text ~= "" and not text:match("^[%a_][%w_]*$") then return {} end
      local names = {}
      for k in pairs(fields(_G, {})) do
         if is_identifier(k) then names[#names + 1] = k end
      end
      for _, k in ipairs(KEYWORDS) do names[#names + 1] = k end
      return sorted_matches(names, "", text)
   end
   if not path:match("^[%a_][%w_]*$") and not path:match("^[%a_][%w_]*[%.%w_]*[%w_]$") then
      return {}
   end
   local v = _G
   for name in path:gmatch("[^.]+") do
      v = field(v, name)
      if v == nil then return {} end
   end
   local names = {}
   for k, x in pairs(fields(v, {})) do
      if is_identifier(k) and (sep == "." or is_callable(x)) and not (sep == ":" and k:match("^__")) then
         names[#names + 1] = k
      end
   end
   return sorted_matches(names, path .. sep, partial)
end

-- ---------------------------------------------------------------------
-- Session helpers (globals at the prompt)

--- Fetch the items of an iterator into an array: every one, or the first
-- `n`.  `collect(client:backups{...})` then shows as a table.
function M.collect(it, n)
   if not is_callable(it) then
      error(format("bad argument #1 to 'collect' (iterator expected, got %s)", type(it)), 2)
   end
   if n ~= nil and mtype(n) ~= "integer" then
      error(format("bad argument #2 to 'collect' (integer expected, got %s)", mtype(n) or type(n)), 2)
   end
   local out = {}
   if n and n <= 0 then return out end
   for item in it do
      out[#out + 1] = item
      if n and #out >= n then break end
   end
   return out
end

--- Print every field of `v` (backups and clusters as tables rather than
-- one line), `depth` levels deep (default 6).
function M.inspect(v, depth)
   io.stdout:write(M.pretty(v, { compact = false, depth = depth or 6, items = math.huge }), "\n")
end

local help = require "mdb.help"

--- help() lists what there is; help(x) explains x.
function M.help(...)
   io.stdout:write(help.text(select("#", ...) > 0, (...)))
end
help.register(M.collect, "collect")
help.register(M.inspect, "inspect")
help.register(M.help, "keys")
help.register(M.settings, "settings")

--- Whether the prompt may keep `entry` in its history file: not when it
-- holds a secret, that is anything `mdb.redact` cuts out (a token a client
-- of the session holds, a bearer header, an IAM token, a JWT, a key), or
-- a literal string given to `token =` (an OAuth token has no shape to
-- know it by).
function M.keep_in_history(entry)
   if mdb.redact(entry) ~= entry then return false end
   return not entry:find("%f[%w_]token%s*=%s*[\"'%[]")
end

--- Set up a session: the globals `mdb`, `help`, `collect`, `inspect`,
-- and `client` when credentials are in the environment (none replaces a
-- global a script already set).  Returns the lines to show under the
-- banner.
function M.start()
   local lines = {}
   local function set(name, value)
      if rawget(_G, name) == nil then _G[name] = value end
   end
   set("mdb", mdb)
   set("help", M.help)
   set("collect", M.collect)
   set("inspect", M.inspect)
   if rawget(_G, "client") == nil then
      local has_creds = false
      for _, var in ipairs { "YC_IAM_TOKEN", "YC_TOKEN", "YC_SERVICE_ACCOUNT_KEY_FILE" } do
         local v = os.getenv(var)
         if v and v ~= "" then has_creds = true end
      end
      if has_creds then
         local ok, c = pcall(mdb.client)
         if ok then
            _G.client = c
            lines[#lines + 1] = "client = " .. safe_tostring(c)
         else
            lines[#lines + 1] = "no client: " .. safe_tostring(c)
         end
      else
         lines[#lines + 1] = "no credentials in the environment: set YC_IAM_TOKEN, then client = mdb.client()"
      end
   end
   local folder = os.getenv("YC_FOLDER_ID")
   if folder and folder ~= "" then
      lines[#lines + 1] = "folder = " .. folder .. " (YC_FOLDER_ID: the default for folder=)"
   end
   return concat(lines, "\n")
end

return M
