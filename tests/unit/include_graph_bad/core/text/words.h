/* Fixture: a text/ header naming a sibling without its room (refused). */
#include "other.h"
