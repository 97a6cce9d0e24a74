--- Escaping for HTML documents: text content, double-quoted attribute
-- values, and the same two inside inline SVG (which the HTML parser reads
-- with the same rules).  Every string that comes from the API, a policy
-- or the user goes through one of these before it reaches a page.
--
-- Besides the markup characters, both functions make the result valid
-- UTF-8 without control characters: a byte that is not part of a valid
-- UTF-8 sequence, and a C0/C1 control other than tab, newline and
-- carriage return, become U+FFFD.  A page therefore never carries bytes
-- a browser would have to guess at.
-- @module mdb.html_escape
local M = {}

local type, tostring, format = type, tostring, string.format
local utf8len, utf8codes, utf8char = utf8.len, utf8.codes, utf8.char
local concat = table.concat
local utf8_clean = require("mdb.aligned").utf8_clean

local REPLACEMENT = "\239\191\189"      -- U+FFFD

local function bad_code(c)
   return (c < 32 and c ~= 9 and c ~= 10 and c ~= 13) or (c >= 127 and c < 160)
end

-- `s` as valid UTF-8 with controls replaced.
local function clean(s)
   if utf8len(s) then
      if not s:find("[%z\1-\8\11\12\14-\31\127\194]") then return s end
      local out = {}
      for _, c in utf8codes(s) do
         out[#out + 1] = bad_code(c) and REPLACEMENT or utf8char(c)
      end
      return concat(out)
   end
   -- Invalid UTF-8: each byte that starts no valid character, and each
   -- control, is U+FFFD
   return utf8_clean((s:gsub("[%z\1-\8\11\12\14-\31\127]", REPLACEMENT)), REPLACEMENT, bad_code)
end
M.clean = clean

local TEXT = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;" }
local ATTR = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

local function str(v)
   if type(v) == "string" then return v end
   if v == nil then return "" end
   return tostring(v)
end

--- Any value as the text content of an HTML or SVG element (nil gives "").
function M.text(v)
   return (clean(str(v)):gsub("[&<>]", TEXT))
end

--- Any value as a double-quoted attribute value (the quotes not included).
function M.attr(v)
   return (clean(str(v)):gsub("[&<>\"']", ATTR))
end

--- ` name="value"` with the value escaped, or "" when value is nil.
function M.attribute(name, v)
   if v == nil then return "" end
   return format(' %s="%s"', name, M.attr(v))
end

return M
