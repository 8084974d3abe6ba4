#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"

#define GUARD_AREA	(256 * 1024)

static uint8_t *area;
static size_t page;

const uint8_t *
guard_copy(const void *data, size_t len)
{
	uint8_t *dst;

	if (area == NULL) {
		page = (size_t)sysconf(_SC_PAGESIZE);
		area = mmap(NULL, GUARD_AREA + page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (area == MAP_FAILED)
			abort();
		if (mprotect(area + GUARD_AREA, page, PROT_NONE) < 0)
			abort();
	}
	if (len > GUARD_AREA)
		abort();
	dst = area + GUARD_AREA - len;
	if (len > 0)
		memcpy(dst, data, len);
	return dst;
}
