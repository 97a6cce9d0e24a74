--- Help texts for the `mdblua` prompt: `help()` lists the API with one
-- line each, `help(x)` explains x (a function, an object, or a topic name
-- such as "errors").  Text only: `text` returns a string, nothing prints.
-- @module mdb.help
local mdb = require "mdb"

local M = {}

local format, concat = string.format, table.concat

local ENGINES = concat(mdb.engines, ", ")

-- Each topic: names it is found by, a one-line summary, the details.
local TOPICS = {
   {
      names = { "mdb.client", "client", "mdb.client{}" },
      summary = "mdb.client{...}            a client; options below, all optional",
      text = [[
mdb.client{...} -> client

Options (an unknown one is an error):
  endpoint            API base URL; default $YC_MDB_ENDPOINT, else
                      https://mdb.api.cloud.yandex.net (http:// only to loopback)
  token               IAM token; without it the credential chain: YC_IAM_TOKEN,
                      YC_TOKEN, a service-account key, a token command, the
                      VM metadata service (see also sa_key_file, token_command,
                      credentials, iam_endpoint, ca_file in the README)
  page_size           items per request, 0..1000 (default 1000)
  retries             retries after the first attempt of a page (default 5)
  timeout             seconds for a whole request (default 30)
  connect_timeout     seconds to connect (default 10)
  backoff_base        seconds before the first retry, doubling (default 0.2)
  backoff_max         cap on any wait, Retry-After included (default 30)
  max_response_bytes  larger responses fail with kind "limit" (default 64 MiB)

Methods: client:backups{...}, client:clusters{...},
client:retention_policies{...}, client:operations{...}, client:scan{...},
client:credentials(), client:endpoint().
tostring(client) shows the endpoint, never the token.

  client = mdb.client { page_size = 100, retries = 2 }]],
   },
   {
      names = { "client:backups", "backups", "client.backups" },
      summary = "client:backups{...}        lazy iterator over backups (cluster= or folder=)",
      text = format([[
client:backups{...} -> it, nil, nil, it    (use in a for loop, or collect(it))

Options:
  engine      required: %s
  cluster     one cluster's backups (Cluster.ListBackups), or
  folder      every backup of the engine in a folder (Backup.List);
              default $YC_FOLDER_ID when neither is given
  page_size   overrides the client's
  limit       stop after this many backups sent (a skipped repeat counts)
  page_token  resume from it:token() of an earlier listing

Nothing is fetched until the first item is asked for; the listing is
complete, or it raises an error.  A backup a shifting listing repeats at
the start of the next page is skipped (it:stats().duplicates); an id the
server sends again within a page, or pages later, comes again (memory
stays flat): client:scan drops every repeat.

  for b in client:backups { engine = "postgresql", cluster = "c9q..." } do print(b.id, b.size) end
  bs = collect(client:backups { engine = "mysql", folder = "b1g..." })]], ENGINES),
   },
   {
      names = { "client:clusters", "clusters", "client.clusters" },
      summary = "client:clusters{...}       lazy iterator over the clusters of a folder",
      text = [[
client:clusters{...} -> it, nil, nil, it

Options: engine (required), folder (default $YC_FOLDER_ID), filter (the
API's, e.g. 'name="orders-prod"'), page_size, limit, page_token.

  cs = collect(client:clusters { engine = "redis" })]],
   },
   {
      names = { "client:retention_policies", "retention_policies", "client.retention_policies", "policies" },
      summary = "client:retention_policies{} lazy iterator over backup retention policies",
      text = [[
client:retention_policies{...} -> it, nil, nil, it

BackupRetentionPolicy.List: long-term retention rules on top of the
automated backups' retention days.  Only postgresql, mysql, mongodb and
redis have them.
Options:
  engine      required: postgresql, mysql, mongodb or redis
  cluster     one cluster's policies, or
  folder      every policy of the engine in a folder (ListByFolder; not
              postgresql); default $YC_FOLDER_ID when neither is given
  page_size, limit, page_token   as for client:backups
A policy: policyId, clusterId, policyName, cron {dayOfMonth, month,
dayOfWeek}, retainForDays (an integer), description, createdAt, plus
created (Unix seconds) and engine.

  ps = collect(client:retention_policies { engine = "mysql", cluster = "c9q..." })]],
   },
   {
      names = { "client:operations", "operations", "client.operations" },
      summary = "client:operations{...}     lazy iterator over a cluster's operations",
      text = [[
client:operations{...} -> it, nil, nil, it

Cluster.ListOperations of one cluster (every engine; no folder listing,
no filter).
Options: engine (required), cluster (required), page_size, limit,
page_token, as for client:backups.
An operation: id, description, createdAt, createdBy, modifiedAt, done,
metadata {["@type"], clusterId, ...}, error {code, message} or response,
plus created and modified (Unix seconds) and engine.  A backup attempt's
metadata["@type"] ends in BackupClusterMetadata.

  for op in client:operations { engine = "postgresql", cluster = "c9q..." } do
    if op.error then print(op.id, op.error.message) end
  end]],
   },
   {
      names = { "client:scan", "scan", "client.scan" },
      summary = "client:scan{...}           backups of many clusters at once (fan-out)",
      text = [[
client:scan{...} -> an array with one entry per cluster:
                    {engine, id, folder, cloud, cluster, backups, error, stats}

Options:
  engine, engines   one engine, or an array of them
  folder            every cluster of the engines in a folder (default $YC_FOLDER_ID)
  folders           instead of folder: an array of folder ids
  cloud, all_clouds every folder of a cloud, or of every cloud (all_clouds = true)
  resource_manager_endpoint  for cloud/all_clouds (default
                    $YC_RESOURCE_MANAGER_ENDPOINT, else Yandex Cloud's)
  clusters          instead of folder: ids (with engine=) or {engine=, id=} tables
  concurrency       requests in flight at most (default 16)
  rate              request starts per second at most (0: no pacing)
  page_size, limit  per cluster, as for client:backups
  progress          function({done, total, engine, id, failed}) after each cluster
  each              function(entry): stream the entries in completion order,
                    each let go after the call; scan then returns nothing;
                    a 2nd argument n numbers the entries as a plain scan
                    creates them (within a folder and engine: its order)
  listed            function(engine, folder, cloud) each time a folder's
                    Cluster.List of an engine completes, also with no
                    cluster in it (what a history needs to see it emptied)
  backup_texts      true: also entry.backup_texts, the JSON text the server
                    sent for each backup (false where a page's text did not
                    cut into exactly the items lua-cjson read); a history
                    stores these as they are
  with              { "retention_policies", "operations" }: per cluster, also
                    list these (policies only where the engine has them) into
                    entry.policies / entry.operations, always complete; a
                    failed one leaves the field nil and sets
                    entry.policies_error / entry.operations_error; MySQL,
                    MongoDB and Redis policies come from one listing per
                    folder (ListByFolder)

A repeat of an id anywhere in a cluster's backups listing is dropped (the
first copy and its text kept) and counted in stats.duplicates; the
policies and operations listed per cluster drop theirs as well.  A
cluster whose listing fails keeps the error in its entry; the others go
on.  Ctrl-C stops the whole scan.  At the prompt the result shows as a
table: backups, newest, size and error per cluster.

  rs = client:scan { engines = { "postgresql", "mysql" } }
  rs[1].backups]],
   },
   {
      names = { "client:endpoint", "endpoint", "client.endpoint" },
      summary = "client:endpoint()          the normalised endpoint",
      text = "client:endpoint() -> the endpoint the client talks to, normalised (no trailing slash).",
   },
   {
      names = { "client:credentials", "credentials", "client.credentials" },
      summary = "client:credentials()       where the client's token comes from (never the token)",
      text = [[
client:credentials() -> name, description
  name is the source: token, YC_IAM_TOKEN, YC_TOKEN, sa_key_file,
  token_command or metadata; the description says more (a key's id, a
  command's name).  The token itself is never shown.]],
   },
   {
      names = { "iterator", "it", "mdb.iterator" },
      summary = "it()  it:token()  it:stats()  it:close()   what a listing gives",
      text = [[
An iterator from client:backups{}, client:clusters{},
client:retention_policies{} or client:operations{}:
  it()          the next item; nil at the end (and again after that)
  it:token()    where to resume: "" before the start, a page token in the
                middle, nil once the listing is complete
  it:stats()    {pages, items, retries, requests, bytes}
  it:close()    release the connection (a for loop does this on break)
An iterator that failed raises the same error again on every call.]],
   },
   {
      names = { "backup", "backups fields", "b" },
      summary = "backup fields              id, created, status, size, type, ... (help 'backup')",
      text = [[
A backup is a table with the API's fields under their API names, plus:
  created, started   createdAt/startedAt as Unix seconds (floats)
  engine             the engine name
  int64 fields (size, journalSize, sizeBytes, ...) as Lua integers
Every engine: id, folderId, sourceClusterId, createdAt, startedAt; then
  mongodb        sourceShardNames, size, type, journalSize
  sqlserver      databases (no size, no type)
  postgresql     size, type, method, journalSize, status (DONE/CREATING),
                 retentionPolicyId, retentionPolicyName, retainUntil
  mysql          size, type, status (DONE/CREATING), journalSize
  clickhouse     sourceShardNames, size, type
  redis          sourceShardNames, type (no size)
  greenplum      size, type, method, journalSize
  opensearch     indices, opensearchVersion, sizeBytes, indicesTotal,
                 incrementalSizeBytes, totalSizeBytes, freeSpaceRequiredBytes
  elasticsearch  indices, elasticsearchVersion, sizeBytes, indicesTotal
  spqr           sourceShardNames, size, type
A backup with status CREATING is still running: not a fresh backup yet.
At the prompt a backup shows as one line and an array of them as a table;
inspect(b) prints every field.]],
   },
   {
      names = { "cluster", "clusters fields" },
      summary = "cluster fields             id, name, environment, health, status, config, ...",
      text = [[
A cluster is a table with the API's fields (id, folderId, name,
environment, health, status, config, labels, ...), plus created (Unix
seconds) and engine.  How automated backups are kept and when they run:
  most engines   config.backupRetainPeriodDays (days automated backups are
                 kept) and config.backupWindowStart (daily start, UTC)
  opensearch     config.snapshotManagement {snapshotMaxAgeDays,
                 snapshotSchedule}; hourly snapshots, no backupWindowStart
  elasticsearch  none
  sqlserver      config.backupWindowStart only (7 days, not changeable)
After a cluster is deleted, all its backups (manual too) expire in 7 days.]],
   },
   {
      names = { "errors", "error", "mdb.error" },
      summary = "errors                     kind, message, status, code, request_id, ...",
      text = [[
Every failure raises an error object (mdb.is_error(e) is true) with:
  kind        http, timeout, network, json, cycle, limit, argument, interrupted
  message     what went wrong
  status      HTTP status, when there was a response
  code        google.rpc code from the body (e.g. 16 UNAUTHENTICATED)
  request_id  x-request-id, for support
  url         the request URL (never holds the token)
  attempts    requests made for that page
  argument    for argument errors: the bad argument's name
  deadline    for a timeout the run's deadline caused: its seconds (mdb.deadline)
tostring(e) is one line; at the prompt an error shows as that line.

  ok, e = pcall(collect, client:backups { engine = "mysql", cluster = "nope" })
  e.status, e.message]],
   },
   {
      names = { "mdb.engines", "engines" },
      summary = "mdb.engines                the engine names",
      text = "mdb.engines = { " .. ENGINES .. " }",
   },
   {
      names = { "mdb.parse_time", "parse_time" },
      summary = "mdb.parse_time(s)          RFC 3339 text -> Unix seconds, or nil, message",
      text = [[
mdb.parse_time("2026-11-23T17:54:58.5+03:00") -> 1763909698.5
Accepts 0-9 fraction digits and Z or +hh:mm; returns nil and a message
for anything else.]],
   },
   {
      names = { "mdb.redact", "redact" },
      summary = "mdb.redact(s)              s with tokens, JWTs and keys replaced by [REDACTED]",
      text = [[
mdb.redact(s) -> s with every token a client of this process holds, and
anything shaped like a bearer header, an IAM token, a JWT or a PEM key,
replaced by "[REDACTED]": the scrub mdblua's own messages and traces get.
Lines it would change are not kept in the prompt's history file.]],
   },
   {
      names = { "mdb.deadline", "deadline" },
      summary = "mdb.deadline(seconds)      a bound on every wait from now on (false: none)",
      text = [[
mdb.deadline(20)        from now on every wait (a request, a retry's backoff,
                        the pacer, a token, SQLite) ends 20 s from now at the latest;
                        it then raises kind "timeout" with deadline = 20
mdb.deadline()          -> seconds left (0 once passed) and 20, or nil when none
mdb.deadline(false)     no deadline (the default)
For the whole process, as Ctrl-C is; once passed, every later wait fails
at once until it is set again or removed.  The scripts' --timeout sets it.]],
   },
   {
      names = { "mdb.backstop", "backstop" },
      summary = "mdb.backstop(s, status, t) end the process s seconds from now, however busy",
      text = [[
mdb.backstop(25, 2, "job: still running\n")   25 s from now, if the process still
                        runs: the text on stderr, then exit status 2 at once
                        (no Lua runs after it; buffered output is lost)
mdb.backstop(25, 3, err, out)  also `out` on stdout
mdb.backstop()          -> seconds left, or nil when unarmed
mdb.backstop(false)     unarmed (the default)
mdb.backstop{remove = path}  remove path as it fires (a report's temporary
                        file); {remove = false}: none
For what the deadline cannot end: Lua code that loops, an open of a pipe
no one writes.  The scripts' --timeout arms it 5 s after their deadline.]],
   },
   {
      names = { "mdb.isatty", "isatty" },
      summary = "mdb.isatty(file)           is file (io.stderr, ...) a terminal?",
      text = "mdb.isatty(io.stderr) -> true on a terminal: show progress there, stay quiet in cron and pipes.",
   },
   {
      names = { "mdb.is_error", "is_error" },
      summary = "mdb.is_error(v)            is v an mdb error object?",
      text = "mdb.is_error(v) -> true when v is an error object raised by mdb (help 'errors').",
   },
   {
      names = { "mdb.version", "version" },
      summary = "mdb.version                the module's version",
      text = "mdb.version -> \"" .. tostring(mdb.version) .. "\"",
   },
   {
      names = { "mdb.fmt", "fmt" },
      summary = "require 'mdb.fmt'          size(), age(), time(), rfc3339() for people",
      text = [[
fmt = require "mdb.fmt"
  fmt.size(1610612736) -> "1.5 GiB"      fmt.age(273600) -> "3d 4h"
  fmt.time(t) -> "2026-11-23 17:54:58Z"   fmt.rfc3339(t) -> "2026-11-23T17:54:58Z"]],
   },
   {
      names = { "mdb.cli", "cli" },
      summary = "require 'mdb.cli'          the option parser the bundled scripts use",
      text = [[
cli = require "mdb.cli"
  opts = cli.run(arg, spec)    parse, print --help, or exit 2 on a usage error
  cli.parse(args, spec)        -> opts, or nil and a message
See scripts/list-backups.lua for a spec.]],
   },
   {
      names = { "mdb.recovery", "recovery", "restore" },
      summary = "require 'mdb.recovery'     restorable window, restore point, restore command",
      text = [[
recovery = require "mdb.recovery"
  recovery.window(engine, backups, {now=, cluster=})
      -> {pitr = "time"|"points"|nil, from, to}, caveats
  recovery.restore_point(engine, backups, {at=, now=, cluster=, cluster_id=})
      -> {restorable, reason, backup_id, time, window, data_loss_seconds,
          yc, rest = {method, path, body}, supply, caveats}
It prints what to run; it never sends a restore.  Audit checks on the
same facts (policy settings, built-in values):
  recoverability  window "3d", rpo "30h", status "critical": restorable
                  to any moment of the last window (PITR engines), or a
                  restore point at most rpo before each moment of it
  window          late "3h", window "7d", status "warning": automated
                  backups start within late after backupWindowStart (UTC)
  retention_policy  grace "6h", tolerance "1d", status "warning": each
                  day a policy's cron selects has a backup (PostgreSQL:
                  carrying it); from scan entries with `policies`
  failed_backups  window "2d", stuck "6h": failed backup operations are
                  critical, long-running ones warnings; entries with
                  `operations`
  databases       window "7d", status "critical": SQL Server's newest
                  backup holds every database of the window's backups
  b = collect(client:backups { engine = "mysql", cluster = "c9q..." })
  recovery.restore_point("mysql", b, { at = os.time() - 3600 }).yc]],
   },
   {
      names = { "collect" },
      summary = "collect(it [, n])          fetch the items of an iterator into an array",
      text = [[
collect(it [, n]) -> array of every item (or the first n)
  bs = collect(client:backups { engine = "postgresql", cluster = "c9q..." })
  bs            -- an aligned table
  bs[1]         -- one line
  #bs
Ctrl-C stops a long listing and returns to the prompt.]],
   },
   {
      names = { "inspect" },
      summary = "inspect(v [, depth])       print every field of a value",
      text = "inspect(v [, depth]) prints v in full: backups and clusters as tables, nested 6 levels (or depth).",
   },
   {
      names = { "settings", "mdb.repl", "repl" },
      summary = "help 'settings'            how much the prompt prints (require(\"mdb.repl\").settings)",
      text = [[
require("mdb.repl").settings:
  depth   nested tables shown this deep (4)
  items   entries shown per table (40)
  rows    rows of a table of backups or clusters (60)
  string  characters of a nested string (160)
  width   columns for a one-line table (100)
  require("mdb.repl").settings.rows = 1000]],
   },
   {
      names = { "keys", "prompt", "help" },
      summary = "help 'keys'                Tab, history, Ctrl-C, Ctrl-D at the prompt",
      text = [[
At the prompt:
  an expression is printed (no "return" needed); an unfinished line
  continues on the next (">>"); locals last one chunk, so use globals.
  Tab          complete globals, fields (mdb.<Tab>, b.<Tab>), methods
               (client:<Tab>) and engine names (engine = "<Tab>)
  Up / Down    history, kept in ~/.mdblua_history ($MDBLUA_HISTORY;
               "" for none; a line holding a secret is not kept)
  Ctrl-R       search the history
  Ctrl-C       abandon the line, or stop what is running (a listing
               too) and come back to the prompt
  Ctrl-D       exit
Line editing needs a terminal (TERM set and not "dumb"); key bindings
can be changed in ~/.editrc (see editrc(5); lines may start "mdblua:").]],
   },
}

local by_name, by_value, method_names = {}, {}, {}
for _, t in ipairs(TOPICS) do
   for _, n in ipairs(t.names) do by_name[n] = t end
end

-- Functions of the module and the methods of its objects, so that
-- help(mdb.client) and help(client.backups) find their topic.
local function index_values()
   by_value[mdb.client] = by_name["mdb.client"]
   by_value[mdb.parse_time] = by_name["mdb.parse_time"]
   by_value[mdb.is_error] = by_name["mdb.is_error"]
   by_value[mdb.isatty] = by_name["mdb.isatty"]
   by_value[mdb.redact] = by_name["mdb.redact"]
   by_value[mdb.deadline] = by_name["mdb.deadline"]
   by_value[mdb.backstop] = by_name["mdb.backstop"]
   by_value[mdb.engines] = by_name["mdb.engines"]
   for mtn, prefix in pairs { ["mdb.client"] = "client:", ["mdb.iterator"] = "iterator" } do
      local mt = debug.getregistry()[mtn]
      local idx = type(mt) == "table" and rawget(mt, "__index")
      if type(idx) == "table" then
         for k, f in pairs(idx) do
            if prefix == "client:" then
               by_value[f] = by_name["client:" .. k]   -- nil: a method without a topic
               method_names[f] = "client:" .. k
            else
               by_value[f] = by_name.iterator
               method_names[f] = "it:" .. k
            end
         end
      end
   end
   local ok, fmt = pcall(require, "mdb.fmt")
   if ok then by_value[fmt] = by_name["mdb.fmt"] end
   local ok2, cli = pcall(require, "mdb.cli")
   if ok2 then by_value[cli] = by_name["mdb.cli"] end
end
index_values()

--- Register a value's topic (the prompt adds its own helpers).
function M.register(value, name)
   by_value[value] = by_name[name]
end

local function overview()
   local lines = {
      "mdblua: backups of managed database clusters, in Lua.  Type Lua; expressions are printed.",
      "",
      "Ready at the prompt:",
      "  mdb                        the module (require \"mdb\")",
      "  client                     mdb.client() from the environment, when credentials are found",
   }
   for _, t in ipairs(TOPICS) do lines[#lines + 1] = "  " .. t.summary end
   lines[#lines + 1] = ""
   lines[#lines + 1] = "help(x) for details: help(mdb.client), help(client.backups), help \"errors\", help \"keys\"."
   return concat(lines, "\n") .. "\n"
end

local function topic_of(x)
   if by_value[x] then return by_value[x] end
   local tx = type(x)
   if tx == "string" then
      return by_name[x] or by_name[x:gsub("^mdb%.", "")] or by_name[x:gsub("%(.*$", "")]
   end
   if tx == "userdata" then
      local mt = getmetatable(x)
      local name = type(mt) == "table" and rawget(mt, "__name")
      if name == "mdb.client" then return by_name["mdb.client"] end
      if name == "mdb.iterator" then return by_name.iterator end
   end
   if tx == "table" then
      if mdb.is_error(x) then return by_name.errors end
      local repl = package.loaded["mdb.repl"]
      if repl and repl.is_backup(x) then return by_name.backup end
      if repl and repl.is_cluster(x) then return by_name.cluster end
      if repl and repl.is_policy(x) then return by_name["client:retention_policies"] end
      if repl and repl.is_operation(x) then return by_name["client:operations"] end
   end
   return nil
end

--- The help text: the overview when `given` is false, else what there
-- is about `x` (or a sentence saying there is nothing).
function M.text(given, x)
   if not given or x == mdb then return overview() end
   local t = topic_of(x)
   if t then return t.text .. "\n" end
   if method_names[x] then
      return format("%s: no help text for it yet; see README.md\n", method_names[x])
   end
   local what = type(x) == "string" and format("%q", x) or type(x)
   return format("no help for %s; help() lists what there is\n", what)
end

return M
