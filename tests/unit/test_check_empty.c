/*
** A unit test in which no check runs must fail: ctest expects this
** program to exit non-zero (WILL_FAIL), so a check.h that let an empty
** test pass would turn this test red.
*/
#include "check.h"

int main(void)
{
  return check_summary();
}
