/* Fixture: a header of auth/, including downwards (allowed) but exposing
** OpenSSL to whoever includes it. */
#include "text/words.h"

#include <openssl/evp.h>
