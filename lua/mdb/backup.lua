--- Facts about Backup objects that every report and check reads the same
-- way: the size field of each engine, whether a backup is complete, and
-- int64 values the API sends as strings or numbers.
-- @module mdb.backup
local M = {}

local mtype, tointeger = math.type, math.tointeger

--- The size of a backup in bytes (`size`, or `sizeBytes` for OpenSearch
-- and Elasticsearch), or nil.
function M.size_of(b)
   local s = b.size
   if s == nil then s = b.sizeBytes end
   if mtype(s) then return s end
   return nil
end

--- True for a completed backup: not in status CREATING, and with a
-- creation time.
function M.completed(b)
   return b.status ~= "CREATING" and mtype(b.created) ~= nil
end

--- Read an int64 that the API sends as a JSON string or a number.
-- @return integer, or nil
function M.int64(v)
   if mtype(v) == "integer" then return v end
   if mtype(v) == "float" then return tointeger(v) end
   if type(v) == "string" and v:match("^%-?%d+$") and #v <= 19 then return tointeger(tonumber(v)) end
   return nil
end

return M
