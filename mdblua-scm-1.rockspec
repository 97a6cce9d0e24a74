-- LuaRocks build of the `mdb` module for an existing Lua 5.4, from a
-- checkout of this repository:
--   luarocks --lua-version 5.4 make                     (system tree)
--   luarocks --lua-version 5.4 make --tree ~/.luarocks  (your own tree)
-- Builds mdb.so with CMake (only the module: MDB_BUILD_HOST=OFF, no
-- tests) and installs it with the pure-Lua mdb.* libraries.  Needs the
-- Debian packages cmake, pkg-config, liblua5.4-dev, libcurl4-openssl-dev
-- and lua-cjson-dev (tools/install-deps.sh installs them all); CMake finds
-- them with pkg-config and names any that is missing.
rockspec_format = "3.0"
package = "mdblua"
version = "scm-1"

source = {
   -- `luarocks make` builds the checkout it runs in; nothing is fetched.
   url = "git+file://.",
}

description = {
   summary = "Backups of Yandex Cloud managed database clusters as a lazy Lua iterator",
   detailed = [[
The mdb module lists the backups and clusters of managed databases
(MongoDB, SQL Server, PostgreSQL, MySQL, ClickHouse, Redis, Greenplum,
OpenSearch, Elasticsearch, SPQR) page after page, retrying what can be
retried, and raises error objects that say what went wrong.  Every backup
is yielded exactly once, or the iteration fails loudly.]],
   labels = { "cloud", "backup", "database" },
   license = "MIT",   -- as Lua and lua-cjson; the text is in LICENSE
}

dependencies = {
   "lua >= 5.4, < 5.5",
}

build = {
   type = "cmake",
   variables = {
      CMAKE_BUILD_TYPE = "Release",
      CMAKE_INSTALL_PREFIX = "$(PREFIX)",
      MDB_BUILD_HOST = "OFF",
      MDB_BUILD_TESTS = "OFF",
      MDB_LUA_CMOD_DIR = "$(LIBDIR)",
      MDB_LUA_LMOD_DIR = "$(LUADIR)",
   },
}
