/*
** Error kind names: every kind the core reports has the name README's
** table of mdb.error kinds documents, and no two kinds share one.
*/
#include "check.h"
#include "mdb_errors.h"

int main(void)
{
  static const char *const want[] = {
      [MDB_ERR_HTTP] = "http",         [MDB_ERR_TIMEOUT] = "timeout",
      [MDB_ERR_NETWORK] = "network",   [MDB_ERR_JSON] = "json",
      [MDB_ERR_CYCLE] = "cycle",       [MDB_ERR_LIMIT] = "limit",
      [MDB_ERR_ARGUMENT] = "argument", [MDB_ERR_INTERRUPTED] = "interrupted",
      [MDB_ERR_AUTH] = "auth",         [MDB_ERR_MEMORY] = "memory",
      [MDB_ERR_INTERNAL] = "internal"};
  int n = (int)(sizeof want / sizeof want[0]);
  for (int k = MDB_ERR_HTTP; k < n; k++) {
    CHECK_CONTEXT("kind %d", k);
    CHECK_EQ_STR(mdb_error_kind_name((mdb_error_kind)k), want[k]);
    for (int m = MDB_ERR_HTTP; m < k; m++)
      CHECK(strcmp(mdb_error_kind_name((mdb_error_kind)k),
                   mdb_error_kind_name((mdb_error_kind)m)) != 0);
  }
  CHECK_CONTEXT_CLEAR();
  /* a defect of mdblua itself (an iterator's next page neither pending
  ** nor ready) is an error object of its own kind, not a bare string */
  CHECK_EQ_STR(mdb_error_kind_name(MDB_ERR_INTERNAL), "internal");
  return check_summary();
}
