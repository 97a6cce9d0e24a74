/* Fixture: a header of auth/, including downwards (allowed). */
#include "text/words.h"
