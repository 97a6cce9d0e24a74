/* Fixture: a root header reaching into a room (refused: root headers
** are included from everywhere, so they include only each other). */
#include "text/other.h"
