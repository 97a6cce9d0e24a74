--- One pass over a fleet for the bundled scripts, cluster by cluster: a
-- streaming `client:scan{each=}` (or the scan a history file recorded,
-- with --from), recorded as it goes (--record, --db), each entry trimmed
-- to --now before the script sees it.  The script keeps what its output
-- needs (findings, rows, plans) and sorts those by `order`, so its output
-- has the plain scan's order (in a cloud scan: by cloud and folder id, see
-- `M.order`) while memory holds a few clusters, not the fleet.
--
--   local key = fleet.order(scan_opts)
--   fleet.run(NAME, { opts = opts, scan = scan_opts, now = now, die = die,
--      scope = {folder=, engines=, time=, tool=} }, function(entry, n)
--      rows[#rows + 1] = { key = key(entry, n), ... }
--   end)
-- @module mdb.fleet
local M = {}

local aligned = require "mdb.aligned"
local cli = require "mdb.cli"
local history_cli = require "mdb.history_cli"

local format, type, ipairs, mtype = string.format, type, ipairs, math.type

local function ranks(list)
   local r = {}
   for i, v in ipairs(list or {}) do
      if r[v] == nil then r[v] = i end
   end
   return r
end

--- A function `key(entry, n)` giving each entry of a scan with options
-- `scan` a text key that sorts as the plain scan orders its results:
-- folders as given, engines as given, then `n` — the number a streaming
-- scan's `each` gets with the entry, which follows `Cluster.List` (or
-- `clusters`) order and puts a failed `Cluster.List` after its clusters.
-- Cloud scans order folders by cloud and folder id (`Cloud.List` and
-- `Folder.List` order is not known to a stream).
function M.order(scan)
   local folders = ranks(scan.folders or { scan.folder })
   local engines = ranks(scan.engines or { scan.engine })
   return function(e, n)
      local f = e.folder and folders[e.folder]
      return format("%s\0%06d\0%s\0%06d\0%012d", tostring(e.cloud or ""), f or 0,
         f and "" or tostring(e.folder or ""), engines[e.engine] or 999999, n or 0)
   end
end

--- Sort `list` (summaries with a `key` field from `M.order`) in place.
function M.sort(list)
   table.sort(list, function(a, b) return a.key < b.key end)
   return list
end

--- The text naming a failed Resource Manager listing: the folders of
-- `cloud` (Folder.List), or the clouds (Cloud.List) when it is nil.
function M.rm_listing(cloud)
   return cloud and format("the folders of cloud %s (Resource Manager)", cloud) or "the clouds (Resource Manager)"
end

--- Scan (or replay --from) and call `each(entry, n)` once per cluster
-- (`n` for `M.order`); the entry is released when `each` returns.  A
-- failed Resource Manager listing of a cloud scan is one entry `{error=,
-- cloud=, listing = M.rm_listing(cloud)}` with no engine, folder or id
-- (the scan itself gives one per engine).
-- @param o `{opts = the script's options (record, db, from, now), scan = scan
--   options, client = client options, now = Unix seconds, die = function,
--   code = exit status for errors, scope = {folder=, engines=, time=, tool=}
--   (recording: nil when the script records nothing), results = the function
--   `history_cli.load` gave (--from)}`
-- @return the recorded scan's id, when the run recorded one
function M.run(name, o, each)
   local now = o.now
   local by_cloud = o.scan.cloud ~= nil or o.scan.all_clouds == true
   local told = {}
   -- The entry the script gets, or nil (one of a failed listing's others);
   -- `as_of` when it is already cut to --now.
   local function merged(e, as_of)
      if by_cloud and e.id == nil and e.folder == nil and e.error ~= nil then
         -- A failed Resource Manager listing: the scan gives one entry per
         -- engine though no engine's listing ran; the script gets one,
         -- naming the listing that failed.
         local what = M.rm_listing(e.cloud)
         if told[what] then return nil end
         told[what] = true
         e = { error = e.error, cloud = e.cloud, listing = what, backups = {} }
      end
      return as_of and e or cli.entry_as_of(e, now)
   end
   if o.results then
      -- (history keeps every engine's entry, as the scan gave them)
      o.results(function(e, n)
         e = merged(e)
         if e then each(e, n) end
      end)
      return
   end
   local client = cli.client(name, o.client, o.code)   -- (a bad endpoint creates no file)
   local rec = o.scope and history_cli.recorder(o.opts, o.scope, o.die)
   if rec then
      o.scan.listed = rec.listed
      -- a file's first recording stores each backup's JSON as the API
      -- sent it, instead of encoding it again
      o.scan.backup_texts = rec.backup_texts
   end
   cli.stream(name, client, o.scan, o.code, function(e, n)
      -- History keeps every engine's entry.  A scan recorded at a --now
      -- keeps what existed then: a backup created later recorded as seen
      -- at --now would be first seen before it was made.  (Without --now
      -- nothing is cut: a server clock ahead of ours must not hide a
      -- backup just made until the next scan.)
      local as_of = o.opts.now ~= nil
      if as_of then e = cli.entry_as_of(e, now) end
      if rec then rec.add(e, n) end
      e = merged(e, as_of)
      if e then each(e, n) end
   end)
   if rec then return rec.finish() end
end

-- The reason in a failure's text (`tostring` of an mdb.error, or the
-- text a history file kept) without what differs from one listing to the
-- next though the cause is the same: the request id, the attempts, the
-- URL (it names the engine) and curl's "after N ms".  nil when the text
-- is not in that shape: such a failure is never merged with another.
local function reason(text)
   local head, detail = text:match("^(.-) %(([^()]*)%)$")
   if not head then return nil end
   local kept = {}
   for part in (detail .. ", "):gmatch("(.-), ") do
      if not (part:match("^request id ") or part:match("^%d+ attempts?$") or part:match("^GET ")) then
         kept[#kept + 1] = part
      end
   end
   head = head:gsub(" after %d+ ms:", ":")
   return #kept > 0 and format("%s (%s)", head, table.concat(kept, ", ")) or head
end


--- Functions `note(item)` and `done()` writing "NAME: what failed: error"
-- on stderr for each failed entry of a scan with options `scan` (or the
-- item a script kept of it: `engine, id, folder, cloud, error`), naming
-- the listing that failed: "ENGINE CLUSTER" (its backups), "ENGINE
-- clusters" (in FOLDER, with several folders), or in a cloud scan "the
-- folders of cloud C" or "the clouds" (Resource Manager).  A Resource
-- Manager failure is in every engine's entry; it is written once.
-- Failed `Cluster.List` listings of one folder that failed for the same
-- reason (`reason`: a rejected token, an endpoint that cannot be reached
-- fails every engine alike) are one line naming the engines, or "every
-- engine" — ten lines that differ only in the engine hide the one that
-- does not.  Lines are written by `done()`, in the order of each one's
-- first failure; one with a rejected token (HTTP 401) ends with what to
-- do about it.  Only this human summary merges: reports keep one finding
-- per listing, request id and all.
function M.failure_notes(name, scan)
   local by_cloud = scan ~= nil and (scan.cloud ~= nil or scan.all_clouds == true)
   local folders = cli.many_folders(scan)
   local all = scan and (scan.engines or { scan.engine }) or {}
   local seen, lines, groups = {}, {}, {}
   local function note(e)
      if e.error == nil then return end
      local text = tostring(e.error)
      local what, rm
      if e.id ~= nil then
         what = format("%s %s", e.engine or "?", e.id)
      elseif e.folder ~= nil or not by_cloud then
         local why = e.engine and reason(text)
         local at = folders and e.folder and (" in folder " .. e.folder) or ""
         if why then
            local g = groups[at .. "\0" .. why]
            if g then
               g.engines[#g.engines + 1] = e.engine
               return
            end
            g = { engines = { e.engine }, at = at, why = why, text = text }
            groups[at .. "\0" .. why] = g
            lines[#lines + 1] = g
            return
         end
         what = format("%s clusters%s", e.engine or "?", at)
      else
         rm = true
         what = M.rm_listing(e.cloud)
      end
      local line = what .. "\0" .. text
      if rm and seen[line] then return end
      seen[line] = true
      lines[#lines + 1] = { what, text }
   end
   local function done()
      for _, l in ipairs(lines) do
         local what, text = l[1], l[2]
         if l.engines then
            if #l.engines == 1 then
               -- one engine: its line as the API's error gave it, request id and all
               what, text = l.engines[1] .. " clusters" .. l.at, l.text
            else
               -- ("every engine" only when the scan asked for every one)
               local which = #l.engines == #all and #all == #require("mdb").engines
                  and format("every engine (%d)", #l.engines) or table.concat(l.engines, ", ")
               what, text = "clusters of " .. which .. l.at, l.why
            end
         end
         -- ids from the API: no escape sequence reaches the terminal
         io.stderr:write(format("%s: %s: %s%s\n", name, aligned.safe(what), text,
            cli.token_hint(text)))
      end
      lines, groups = {}, {}
   end
   return note, done
end

--- A copy of `entry` with only the backups a timeline of the window
-- starting at `start` draws (mdb.timeline): those from `start` on, the
-- newest completed one and the oldest one.  What the HTML report and
-- the terminal strips keep per cluster, instead of every backup.
function M.window_entry(entry, start)
   local copy = {}
   for k, v in pairs(entry) do copy[k] = v end
   local kept, newest, oldest, oldest_t = {}, nil, nil, nil
   local state_of = require("mdb.timeline").state_of
   for _, b in ipairs(entry.backups or {}) do
      if type(b) == "table" then
         local t = mtype(b.created) and b.created or mtype(b.started) and b.started or nil
         if t and t >= start then
            kept[#kept + 1] = b
         else
            if t and (not oldest_t or t < oldest_t) then oldest, oldest_t = b, t end
            if state_of(b) == "done" and mtype(b.created) and (not newest or b.created > newest.created) then
               newest = b
            end
         end
      end
   end
   if newest then kept[#kept + 1] = newest end
   if oldest and oldest ~= newest then kept[#kept + 1] = oldest end
   copy.backups = kept
   return copy
end

return M
