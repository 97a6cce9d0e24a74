#include "mdb_errors.h"

const char *mdb_error_kind_name(mdb_error_kind k)
{
  switch (k) {
  case MDB_ERR_HTTP: return "http";
  case MDB_ERR_TIMEOUT: return "timeout";
  case MDB_ERR_NETWORK: return "network";
  case MDB_ERR_JSON: return "json";
  case MDB_ERR_CYCLE: return "cycle";
  case MDB_ERR_LIMIT: return "limit";
  case MDB_ERR_ARGUMENT: return "argument";
  case MDB_ERR_INTERRUPTED: return "interrupted";
  case MDB_ERR_AUTH: return "auth";
  case MDB_ERR_MEMORY: return "memory";
  case MDB_ERR_INTERNAL: return "internal";
  default: return "none";
  }
}
