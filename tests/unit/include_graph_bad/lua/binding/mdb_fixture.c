/* Fixture: the binding including a header that pulls OpenSSL in (refused). */
#include "auth/token.h"
