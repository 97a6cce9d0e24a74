--- Aligned text tables: the one writer behind the `table` format of the
-- reports, list-backups and the prompt's tables of backups, clusters and
-- scan results.
-- @module mdb.aligned
local M = {}

local concat, rep, tostring, ipairs = table.concat, string.rep, tostring, ipairs

local RESET = "\27[0m"

-- Display width: characters for UTF-8 text, bytes otherwise; colour
-- sequences (ESC [ ... m) take no room, so cells drawn in several colours
-- (mdb.strip's timelines) line up.
local function width(s)
   if s:find("\27", 1, true) then s = s:gsub("\27%[[%d;]*m", "") end
   return utf8.len(s) or #s
end

--- `s` (any value, through tostring) with every control character a "?":
-- a name the API sent must not move the cursor or recolour a terminal.
function M.safe(s)
   return (tostring(s):gsub("[%c\127]", "?"))
end

--- Render rows (the first one the header) as aligned columns two blanks
-- apart; the last column is not padded.
-- @param rows array of arrays of cells (converted with tostring; CR, LF
--   and tabs become blanks, other control characters "?": a name the API
--   sent must not move the cursor or recolour a terminal)
-- @param opts `{ right = {[i] = true} (right-aligned columns), header_left
--   = bool (the header stays left-aligned), paint = function(i, ri) ->
--   ANSI colour or nil for cell i of data row ri (applied after padding),
--   indent = string, trim = bool (no trailing blanks), coloured = bool
--   (the cells are already safe and may hold colour sequences) }`
-- @return the lines joined with "\n", without a final newline
function M.render(rows, opts)
   opts = opts or {}
   local right, paint = opts.right or {}, opts.paint
   local clean, widths = {}, {}
   for ri, r in ipairs(rows) do
      local c = {}
      for i, cell in ipairs(r) do
         c[i] = tostring(cell):gsub("[\r\n\t]+", " ")
         if not opts.coloured then c[i] = M.safe(c[i]) end
         local w = width(c[i])
         if w > (widths[i] or 0) then widths[i] = w end
      end
      clean[ri] = c
   end
   local lines = {}
   for ri, r in ipairs(clean) do
      local cells = {}
      for i, cell in ipairs(r) do
         local pad = widths[i] - width(cell)
         local s
         if right[i] and not (ri == 1 and opts.header_left) then s = rep(" ", pad) .. cell
         elseif i < #r then s = cell .. rep(" ", pad)
         else s = cell end
         local color = ri > 1 and paint and paint(i, ri - 1)
         if color then s = color .. s .. RESET end
         cells[i] = s
      end
      local line = (opts.indent or "") .. concat(cells, "  ")
      if opts.trim then line = line:gsub("%s+$", "") end
      lines[#lines + 1] = line
   end
   return concat(lines, "\n")
end

return M
