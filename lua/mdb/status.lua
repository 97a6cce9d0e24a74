--- Finding statuses: their order from best to worst, and the counts of a
-- set of findings that every report and exit status is built on.
-- @module mdb.status
local M = {}

--- Statuses from best to worst.
M.STATUSES = { "ok", "warning", "critical", "error" }

--- Rank of each status (ok 0 .. error 3), as Prometheus reports it.
M.RANK = { ok = 0, warning = 1, critical = 2, error = 3 }

--- Counts by status: `{ok=, warning=, critical=, error=, total=,
-- clusters=, worst=}` (worst in the order ok < warning < critical <
-- error; an unknown status counts as an error).
function M.summary(findings)
   local RANK = M.RANK
   local s = { ok = 0, warning = 0, critical = 0, error = 0, total = #findings, clusters = 0, worst = "ok" }
   local seen = {}
   for _, f in ipairs(findings) do
      s[f.status] = (s[f.status] or 0) + 1
      if (RANK[f.status] or 3) > (RANK[s.worst] or 3) then s.worst = f.status end
      local key = tostring(f.engine) .. "/" .. tostring(f.cluster)
      if f.cluster and not seen[key] then seen[key] = true; s.clusters = s.clusters + 1 end
   end
   return s
end

--- The findings that are not ok (all of them with `all`), worst first:
-- error, critical, warning, ok; in their given order within a status.
function M.worst_first(findings, all)
   local RANK = M.RANK
   local list = {}
   for i, f in ipairs(findings) do
      if all or f.status ~= "ok" then list[#list + 1] = { f = f, i = i } end
   end
   table.sort(list, function(a, b)
      local ra, rb = RANK[a.f.status] or 3, RANK[b.f.status] or 3
      if ra ~= rb then return ra > rb end
      return a.i < b.i
   end)
   local out = {}
   for i, e in ipairs(list) do out[i] = e.f end
   return out
end

return M
