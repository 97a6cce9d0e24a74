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

-- Code points that are "?" on a terminal besides C0 and DEL: the C1
-- controls U+0080..U+009F (U+009B is a CSI in one character, obeyed in
-- UTF-8 by xterm, VTE and Konsole), and the invisible bidi and line
-- controls that reorder or break what a terminal (VTE does bidi) shows.
local function hidden(c)
   return (c >= 0x80 and c < 0xA0) or c == 0x61C or c == 0x200E or c == 0x200F
      or (c >= 0x2028 and c <= 0x202E) or (c >= 0x2066 and c <= 0x2069)
end

--- `s` as valid UTF-8 whose every byte that is not part of a valid UTF-8
-- sequence, and every code point `bad(c)` is true of, is `repl` (one per
-- byte, one per code point).  Plain ASCII comes back as it was.
function M.utf8_clean(s, repl, bad)
   if not s:find("[\128-\255]") or (not bad and utf8.len(s)) then return s end
   local out, i, n = {}, 1, #s
   local start = 1                       -- of the run of good text not yet copied
   while i <= n do
      local b = s:byte(i)
      if b < 0x80 then
         i = i + 1
      else
         local size = b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC0 and 2 or 1
         local piece = s:sub(i, i + size - 1)
         -- (utf8.len rejects overlong forms, surrogates and > U+10FFFF)
         local ok = size > 1 and #piece == size and utf8.len(piece) == 1
         if ok and not (bad and bad(utf8.codepoint(piece))) then
            i = i + size
         else
            out[#out + 1] = s:sub(start, i - 1)
            out[#out + 1] = repl
            i = i + (ok and size or 1)
            start = i
         end
      end
   end
   out[#out + 1] = s:sub(start)
   return table.concat(out)
end

--- `s` (any value, through tostring) with every control character a "?":
-- a name the API sent must not move the cursor or recolour a terminal.
-- C0 controls, DEL, C1 controls (U+0080..U+009F), the bidi controls and
-- U+2028/U+2029 are each a "?", and so is each byte that is not part of
-- valid UTF-8 (alone, 0x9B is a CSI to a terminal not in UTF-8).
function M.safe(s)
   return M.utf8_clean((tostring(s):gsub("[%c\127]", "?")), "?", hidden)
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
