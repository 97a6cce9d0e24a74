--- JSON output with a stable shape: keys in a fixed order (sorted, or the
-- order an object names), empty arrays as `[]`, integers without a
-- fraction, strings repaired to UTF-8.  lua-cjson does the escaping;
-- reading JSON is lua-cjson's alone.
-- @module mdb.json
local cjson = require "cjson"

local M = {}

local format, type, ipairs, pairs, tostring = string.format, type, ipairs, pairs, tostring
local utf8_clean = require("mdb.aligned").utf8_clean
local concat, sort = table.concat, table.sort
local mtype, tointeger = math.type, math.tointeger

--- A number as the shortest text that reads back as the same value
-- (integers without a fraction); nil for NaN and infinities.
function M.number(v)
   if mtype(v) == "integer" then return format("%d", v) end
   if v ~= v or v == math.huge or v == -math.huge then return nil end
   local i = tointeger(v)
   if i then return format("%d", i) end
   for p = 14, 17 do
      local s = format("%." .. p .. "g", v)
      if tonumber(s) == v then return s end
   end
   return format("%.17g", v)
end

--- Marks a table as a JSON array (so that an empty one encodes as `[]`).
M.ARRAY = { __name = "mdb.report.array" }
--- JSON null inside ordered objects.
M.null = setmetatable({}, { __name = "mdb.report.null", __tostring = function() return "null" end })

local function json_string(s)
   -- bytes that are not UTF-8 are U+FFFD, so the output stays valid JSON
   s = utf8_clean(s, "\u{FFFD}")
   local text = cjson.encode(s)   -- lua-cjson does the escaping,
   -- but of C0 only: a C1 control (U+009B is a CSI to a UTF-8 terminal)
   -- is escaped too, so `cat report.json` drives no terminal
   if text:find("\194", 1, true) then
      text = text:gsub("\194([\128-\159])", function(c) return format("\\u%04x", c:byte()) end)
   end
   return text
end

local function is_array(t)
   if getmetatable(t) == M.ARRAY then return true end
   local n = #t
   if n == 0 then return false end
   local count = 0
   for _ in pairs(t) do count = count + 1 end
   return count == n
end

local function encode(v, out)
   local tv = type(v)
   if v == nil or v == M.null then
      out[#out + 1] = "null"
   elseif tv == "boolean" then
      out[#out + 1] = v and "true" or "false"
   elseif tv == "number" then
      out[#out + 1] = M.number(v) or "null"
   elseif tv == "string" then
      out[#out + 1] = json_string(v)
   elseif tv == "table" then
      local mt = getmetatable(v)
      local order = mt and mt.__json_order
      if order then
         out[#out + 1] = "{"
         for i, k in ipairs(order) do
            if i > 1 then out[#out + 1] = "," end
            out[#out + 1] = json_string(k) .. ":"
            encode(v[k], out)
         end
         out[#out + 1] = "}"
      elseif is_array(v) then
         out[#out + 1] = "["
         for i = 1, #v do
            if i > 1 then out[#out + 1] = "," end
            encode(v[i], out)
         end
         out[#out + 1] = "]"
      else
         local keys = {}
         for k in pairs(v) do
            if type(k) == "string" then keys[#keys + 1] = k
            elseif mtype(k) then keys[#keys + 1] = k end
         end
         sort(keys, function(a, b) return tostring(a) < tostring(b) end)
         out[#out + 1] = "{"
         for i, k in ipairs(keys) do
            if i > 1 then out[#out + 1] = "," end
            out[#out + 1] = json_string(tostring(k)) .. ":"
            encode(v[k], out)
         end
         out[#out + 1] = "}"
      end
   else
      out[#out + 1] = json_string(tostring(v))
   end
end

--- Encode a value as compact JSON with a stable key order (sorted, or the
-- order given by `M.object`); strings that are not UTF-8 are repaired.
function M.encode(v)
   local out = {}
   encode(v, out)
   return concat(out)
end

--- An object that encodes its keys in the given order (absent keys as
-- null).
function M.object(t, keys)
   return setmetatable(t, { __json_order = keys })
end

--- A table marked as an array (so that an empty one encodes as `[]`).
function M.array(t)
   return setmetatable(t or {}, M.ARRAY)
end

return M
