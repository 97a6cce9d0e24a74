--- The environment a policy file runs in.  A policy is data with rules,
-- not a program: were it to reach os.exit, a policy (or a function of it
-- that runs later, say a finalizer) could end an audit with status 0 and
-- no report, and a monitoring job would read "all good"; were it to reach
-- os.execute or io.popen, reading a policy would run commands.  So it gets
-- the pure libraries (string, table, math, utf8, coroutine), the clock
-- and environment of os and the data of a few mdb modules; everything
-- else a Lua program could use raises an error naming the file, the line
-- and what was tried.
-- @module mdb.policy_sandbox
local M = {}

local format, type, pairs = string.format, type, pairs
local getinfo = debug.getinfo

local BASE = { "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen", "rawset",
   "select", "tonumber", "tostring", "type", "xpcall", "_VERSION" }
-- What each library lends: all of it, `only` these or all `but` these.
-- math.randomseed is state the program shares (temporary file names draw
-- on the generator).
local LIBS = {
   string = true, table = true, utf8 = true, coroutine = true,
   math = { but = { randomseed = true } },
   os = { only = { clock = true, date = true, difftime = true, getenv = true, time = true } },
   io = { only = {} },
}

-- Modules a policy may require: it gets a copy of their data (the names
-- of the checks, the engines, the built-in settings), not their
-- functions, which run with the program's powers, nor their tables, which
-- the program reads.
local MODULES = { mdb = true, ["mdb.audit"] = true, ["mdb.checks"] = true, ["mdb.policy"] = true }

local DATA = { string = true, number = true, boolean = true }

local function data_copy(v, seen)
   if DATA[type(v)] then return v end
   if type(v) ~= "table" then return nil end
   if seen[v] then return seen[v] end
   local out = {}
   seen[v] = out
   for k, x in next, v do
      if DATA[type(k)] then out[k] = data_copy(x, seen) end
   end
   return out
end

local function lent(allow, k)
   if allow == true then return true end
   if allow.only then return allow.only[k] == true end
   return not allow.but[k]
end

--- A fresh environment for the policy file `path`: its chunk is loaded
-- with the chunk name `chunkname`.
function M.env(path, chunkname)
   -- "FILE:LINE: what is not available in a policy file", located at the
   -- policy's line that tried it (also when it runs after the file was
   -- read), else at the file.
   local function refuse(what, level)
      local info = getinfo(level + 1, "Sl")
      local where = path
      if info and info.source == chunkname and info.currentline > 0 then
         where = format("%s:%d", path, info.currentline)
      end
      error(format("%s: %s is not available in a policy file", where, what), 0)
   end
   -- A library's functions, copied (the policy may change its copy, not
   -- the program's), refusing the names the library has but lends not.
   local function lib(name, allow)
      local real, copy = _G[name], {}
      for k, v in pairs(real) do
         if lent(allow, k) then copy[k] = v end
      end
      return setmetatable(copy, { __index = function(_, k)
         if real[k] ~= nil then refuse(name .. "." .. tostring(k), 2) end
      end })
   end
   local env = {}
   for _, k in ipairs(BASE) do env[k] = _G[k] end
   for name, allow in pairs(LIBS) do env[name] = lib(name, allow) end
   env.require = function(name)
      if not MODULES[name] then refuse(format("require %q", tostring(name)), 2) end
      return data_copy(require(name), {})
   end
   -- The strings' metatable leads to the program's string library.
   env.getmetatable = function(v)
      if type(v) == "string" then return nil end
      return getmetatable(v)
   end
   -- A finalizer would run policy code at any later allocation, in the
   -- middle of the audit or of writing its report.
   env.setmetatable = function(t, mt)
      if type(mt) == "table" and rawget(mt, "__gc") ~= nil then refuse("a __gc metamethod", 2) end
      return setmetatable(t, mt)
   end
   return setmetatable(env, { __index = function(_, k)
      if _G[k] ~= nil then refuse(tostring(k), 2) end
   end })
end

return M
