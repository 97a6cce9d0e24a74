-- luacheck over every Lua file of the repository (ctest -L lint):
--   luacheck lua scripts tests bench mdblua-scm-1.rockspec
std = "lua54"
max_line_length = 120

-- The tests and benchmarks compare with literal expected output, which
-- reads best unwrapped.
files["tests/lua"] = { max_line_length = false }
files["bench"] = { max_line_length = false }

-- A rockspec is a Lua file that sets LuaRocks' fields as globals.
files["mdblua-scm-1.rockspec"] = { allow_defined_top = true }
