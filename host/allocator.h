/*
** The host's allocator settings, made before anything is allocated.
*/
#ifndef ALLOCATOR_H
#define ALLOCATOR_H

void allocator_setup(void);

#endif /* ALLOCATOR_H */
