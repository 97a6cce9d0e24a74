/* Fixture: a transport file reaching up into auth/ (must be refused). */
#include "auth/token.h"
