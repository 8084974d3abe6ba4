/*
 * Print a config back as canonical YAML: every key of the schema, in
 * schema order, defaults included, two-space indents, one form per
 * value (durations in the largest exact unit, addresses in inet_ntop
 * form).  The output re-parses to the same struct sw_conf, and
 * printing that again gives the same bytes; the golden tests and
 * `sipwall check --print` rely on both.
 *
 * Printing only reads the struct; it never fails on a value (an enum
 * out of its table prints as "?", which then fails to re-parse: that
 * is a bug elsewhere, and the round-trip tests catch it).
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "conf/conf.h"
#include "conf/schema.h"
#include "core/ctype.h"

/* Words a plain YAML scalar would read as something other than a string. */
static const char *const yaml_special[] = {
	"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
	NULL
};

/*
 * A string prints bare when it is unambiguous as a plain scalar: it
 * starts with a letter, '/' or '_', has only [A-Za-z0-9._/-] and is not
 * a word YAML would read as a bool or null.  Otherwise it is double
 * quoted; values are printable ASCII (conf.c refuses anything else),
 * so only '"' and '\' need escapes.
 */
static void
print_str(FILE *f, const char *s)
{
	int plain = s[0] != '\0' &&
	    (ctype_is((uint8_t)s[0], CT_ALPHA) || s[0] == '/' || s[0] == '_');

	for (const char *p = s; plain && *p != '\0'; p++)
		plain = ctype_is((uint8_t)*p, CT_ALNUM) || *p == '.' ||
		    *p == '_' || *p == '/' || *p == '-';
	for (size_t i = 0; plain && yaml_special[i] != NULL; i++)
		if (strlen(s) == strlen(yaml_special[i])) {
			size_t j;

			for (j = 0; s[j] != '\0'; j++)
				if (ctype_lower((uint8_t)s[j]) !=
				    (uint8_t)yaml_special[i][j])
					break;
			if (s[j] == '\0')
				plain = 0;
		}
	if (plain) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

static uint64_t
load_uint(const void *p, size_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 1: memcpy(&u8, p, 1); return u8;
	case 2: memcpy(&u16, p, 2); return u16;
	case 4: memcpy(&u32, p, 4); return u32;
	default: memcpy(&u64, p, 8); return u64;
	}
}

static void
print_scalar(FILE *f, const struct conf_key *k, const void *base)
{
	const unsigned char *field = (const unsigned char *)base + k->off;
	char buf[SW_ADDR_STRLEN];
	const char *name;
	int iv;

	switch (k->type) {
	case CONF_T_UINT:
		fprintf(f, "%llu", (unsigned long long)load_uint(field,
		    k->size));
		break;
	case CONF_T_BOOL:
		fputs(*(const bool *)field ? "true" : "false", f);
		break;
	case CONF_T_STR:
		/* a secret never leaves the file it was written in */
		if ((k->flags & CONF_K_SECRET) && *(const char *)field != '\0')
			print_str(f, "********");
		else
			print_str(f, (const char *)field);
		break;
	case CONF_T_ENUM:
		memcpy(&iv, field, sizeof(iv));
		name = conf_enum_name(k->vals, iv);
		fputs(name != NULL ? name : "?", f);
		break;
	case CONF_T_DURATION:
		conf_duration_fmt((uint32_t)load_uint(field, k->size), buf,
		    sizeof(buf));
		fputs(buf, f);
		break;
	case CONF_T_ADDR:
		sw_addr_ip_str((const union sw_addr *)(const void *)field, buf,
		    sizeof(buf));
		/* dotted quads read as strings; IPv6 needs quotes (':') */
		if (((const union sw_addr *)(const void *)field)->sa.sa_family ==
		    AF_INET)
			fputs(buf, f);
		else
			print_str(f, buf);
		break;
	case CONF_T_CIDR: {
		char cb[SW_ADDR_STRLEN + 8];
		const struct conf_cidr *c = (const void *)field;

		conf_cidr_str(c, cb, sizeof(cb));
		/* IPv6 prefixes hold ':' and need quotes */
		if (c->addr.sa.sa_family == AF_INET)
			fputs(cb, f);
		else
			print_str(f, cb);
		break;
	}
	case CONF_T_RATE: {
		uint64_t v = load_uint(field, k->size);

		if (v % 3600 == 0)
			fprintf(f, "%llu/s", (unsigned long long)(v / 3600));
		else if (v % 60 == 0)
			fprintf(f, "%llu/m", (unsigned long long)(v / 60));
		else
			fprintf(f, "%llu/h", (unsigned long long)v);
		break;
	}
	default:
		fputs("?", f);
		break;
	}
}

/*
 * Print the keys of one mapping at indent.  dash: the mapping is a
 * sequence entry, so its first key follows "- " two columns left.
 */
static void
print_keys(FILE *f, const struct conf_key *keys, const void *base, int indent,
    int dash)
{
	for (const struct conf_key *k = keys; k->type != CONF_T_END; k++) {
		const unsigned char *field = (const unsigned char *)base + k->off;

		if (k->print_if != NULL && !k->print_if(base))
			continue;
		if (dash && k == keys)
			fprintf(f, "%*s- ", indent - 2, "");
		else
			fprintf(f, "%*s", indent, "");
		fprintf(f, "%s:", k->name);

		if (k->type == CONF_T_MAP) {
			fputc('\n', f);
			print_keys(f, k->sub, field, indent + 2, 0);
		} else if (k->type == CONF_T_SEQ) {
			const struct conf_key *elem = k->sub;
			size_t n;

			memcpy(&n, (const unsigned char *)base + k->count_off,
			    sizeof(n));
			if (n == 0) {
				fputs(" []\n", f);
				continue;
			}
			fputc('\n', f);
			for (size_t i = 0; i < n; i++) {
				const unsigned char *eb = field + i * k->elem_size;

				if (elem->type == CONF_T_MAP)
					print_keys(f, elem->sub, eb + elem->off,
					    indent + 4, 1);
				else {
					fprintf(f, "%*s- ", indent + 2, "");
					print_scalar(f, elem, eb);
					fputc('\n', f);
				}
			}
		} else {
			fputc(' ', f);
			print_scalar(f, k, base);
			fputc('\n', f);
		}
	}
}

int
conf_print(FILE *f, const struct sw_conf *conf)
{
	print_keys(f, conf_schema, conf, 0, 0);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

/*
 * A secret as the flat form shows it: never the value, but a keyed
 * fingerprint, so that a reload can tell a changed password from an
 * unchanged one without the diff saying anything about either.
 */
static void
print_secret_fp(FILE *f, const char *s, const uint8_t *key)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (s[0] == '\0') {
		fputs("\"\"", f);
		return;
	}
	if (key == NULL || HMAC(EVP_sha256(), key, CONF_FP_KEY_LEN,
	    (const unsigned char *)s, strlen(s), mac, &len) == NULL ||
	    len < 4) {
		fputs("\"********\"", f);
		return;
	}
	fprintf(f, "\"******** (%02x%02x%02x%02x)\"", mac[0], mac[1], mac[2],
	    mac[3]);
}

static void
flat_keys(FILE *f, const struct conf_key *keys, const void *base,
    char *path, size_t plen, size_t cap, const uint8_t *fp_key)
{
	for (const struct conf_key *k = keys; k->type != CONF_T_END; k++) {
		const unsigned char *field = (const unsigned char *)base + k->off;
		int n;

		if (k->print_if != NULL && !k->print_if(base))
			continue;
		n = snprintf(path + plen, cap - plen, "%s%s",
		    plen > 0 ? "." : "", k->name);
		if (n < 0 || (size_t)n >= cap - plen)
			continue;	/* deeper than any schema path */
		if (k->type == CONF_T_MAP) {
			flat_keys(f, k->sub, field, path, plen + (size_t)n, cap,
			    fp_key);
		} else if (k->type == CONF_T_SEQ) {
			const struct conf_key *elem = k->sub;
			size_t cnt, el = plen + (size_t)n;

			memcpy(&cnt, (const unsigned char *)base + k->count_off,
			    sizeof(cnt));
			if (cnt == 0)
				fprintf(f, "%s: []\n", path);
			for (size_t i = 0; i < cnt; i++) {
				const unsigned char *eb = field + i * k->elem_size;
				int m = snprintf(path + el, cap - el, "[%zu]", i);

				if (m < 0 || (size_t)m >= cap - el)
					break;
				if (elem->type == CONF_T_MAP) {
					flat_keys(f, elem->sub, eb + elem->off,
					    path, el + (size_t)m, cap, fp_key);
				} else {
					fprintf(f, "%s: ", path);
					print_scalar(f, elem, eb);
					fputc('\n', f);
				}
			}
		} else {
			fprintf(f, "%s: ", path);
			if (k->type == CONF_T_STR && (k->flags & CONF_K_SECRET))
				print_secret_fp(f, (const char *)field, fp_key);
			else
				print_scalar(f, k, base);
			fputc('\n', f);
		}
		path[plen] = '\0';
	}
}

int
conf_print_flat(FILE *f, const struct sw_conf *conf, const uint8_t *fp_key)
{
	char path[CONF_KEYPATH_MAX];

	path[0] = '\0';
	flat_keys(f, conf_schema, conf, path, 0, sizeof(path), fp_key);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}
