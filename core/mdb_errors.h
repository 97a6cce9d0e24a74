/*
** The kinds of failure the core reports, shared with the Lua binding,
** which turns them into `mdb.error` objects with the same kind names.
*/
#ifndef MDB_ERRORS_H
#define MDB_ERRORS_H

typedef enum mdb_error_kind {
  MDB_ERR_NONE = 0,
  MDB_ERR_HTTP,        /* the server answered with a non-2xx status */
  MDB_ERR_TIMEOUT,     /* a request or a connect timed out */
  MDB_ERR_NETWORK,     /* refused, reset, DNS, TLS, ... */
  MDB_ERR_JSON,        /* a body that is not the JSON the API promises */
  MDB_ERR_CYCLE,       /* a page token repeated within one listing */
  MDB_ERR_LIMIT,       /* a response over the size cap */
  MDB_ERR_ARGUMENT,    /* bad arguments, caught before any request */
  MDB_ERR_INTERRUPTED, /* cancelled by the user (Ctrl-C) */
  MDB_ERR_AUTH,        /* no token could be obtained */
  MDB_ERR_MEMORY,
  MDB_ERR_INTERNAL /* a defect of mdblua itself: never retried, reported */
} mdb_error_kind;

/* "http", "timeout", ... as documented for mdb.error objects. */
const char *mdb_error_kind_name(mdb_error_kind k);

#endif /* MDB_ERRORS_H */
