-- A fixture for unit.one_way_refuses: copies of helpers that live elsewhere.
local M = {}

function M.size_of(b)
   return b.size or b.sizeBytes
end

function M.pad(s, n)
   return s .. string.rep(" ", n - #s)
end

return M
