/*
 * Guard-page buffers (picohttpparser's test trick): the copy ends flush
 * against an inaccessible page, so reading one byte past the input
 * faults even without ASan.
 */
#ifndef SW_TEST_GUARD_H
#define SW_TEST_GUARD_H

#include <stddef.h>
#include <stdint.h>

/* Copy len bytes of data so that they end at a guard page.  The result
 * stays valid until the next guard_copy() call. */
const uint8_t	*guard_copy(const void *data, size_t len);

#endif
