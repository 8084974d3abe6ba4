/*
 * Fuzz the config loader: any bytes give a config or errors with
 * positions, never a crash or a leak; an accepted config prints back to
 * YAML that loads again to the same canonical text.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
print_to_mem(const struct sw_conf *c, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert(f != NULL);
	assert(conf_print(f, c) == 0);
	fclose(f);
	*ret_len = len;
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_diag diag;
	struct sw_conf *c = NULL, *c2 = NULL;
	char *a, *b;
	size_t alen, blen;

	if (size > 64 * 1024)
		return 0;
	conf_diag_init(&diag);
	if (conf_load_buf("fuzz.yaml", (const char *)data, size, &c, &diag) < 0) {
		assert(conf_diag_count(&diag) > 0);
		return 0;
	}
	a = print_to_mem(c, &alen);
	conf_diag_init(&diag);
	assert(conf_load_buf("printed.yaml", a, alen, &c2, &diag) == 0);
	b = print_to_mem(c2, &blen);
	assert(alen == blen && memcmp(a, b, alen) == 0);
	free(a);
	free(b);
	conf_free(c);
	conf_free(c2);
	return 0;
}
