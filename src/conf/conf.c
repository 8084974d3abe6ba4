/*
 * Config loading: YAML text -> struct sw_conf, with every error
 * collected as "file:line:col: message".
 *
 * Three steps, each bounded:
 *  1. libyaml's event parser builds a small tree of our own (ynode) in
 *     an arena: at most CONF_MAX_FILE bytes in, CONF_MAX_DEPTH levels,
 *     CONF_MAX_NODES nodes.  Anchors, aliases and tags are refused
 *     (a config has no need for them, and aliases are how YAML bombs
 *     are built).  A syntax error stops here with libyaml's position.
 *  2. The tree is walked against the schema tables (schema.c): unknown
 *     and duplicate keys, types, ranges and missing keys are reported,
 *     the walk goes on after each error.
 *  3. Checks across keys: zone references, duplicate zones and
 *     listeners, timer order.
 *
 * What this file deliberately does not do: touch the file system
 * beyond reading the one file, resolve host names, or check that an
 * address can be bound (the daemon reports that, with the listener's
 * line from struct conf_mark).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "conf/conf.h"
#include "conf/schema.h"
#include "core/num.h"

#define CONF_MAX_KEYS	64	/* rows in one schema table */
#define CONF_MAX_SEQS	16	/* sequences tracked for the cross checks */
#define CONF_KEY_MAX	63	/* longest key name we compare for hints */
#define CONF_PATH_TEXT	256	/* "listen[12].zone" in messages */
#define CONF_QUOTE_MAX	48	/* user text quoted in a message */
#define ARENA_CHUNK	(64 * 1024)

/* ------------------------------------------------------------------ */
/* Arena: everything of one load is freed at once.                     */

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 used;
	size_t			 cap;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct arena_chunk	*head;
};

static void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *ch = a->head;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (ch == NULL || ch->cap - ch->used < n) {
		size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		if ((ch = malloc(sizeof(*ch) + cap)) == NULL)
			return NULL;
		ch->next = a->head;
		ch->used = 0;
		ch->cap = cap;
		a->head = ch;
	}
	p = ch->data + ch->used;
	ch->used += n;
	return p;
}

static void
arena_clear(struct arena *a)
{
	struct arena_chunk *ch, *next;

	for (ch = a->head; ch != NULL; ch = next) {
		next = ch->next;
		free(ch);
	}
	a->head = NULL;
}

/* ------------------------------------------------------------------ */
/* The YAML tree.                                                      */

enum ykind {
	Y_SCALAR = 0,
	Y_MAP,
	Y_SEQ,
	Y_KIND_MAX
};

struct ynode {
	struct ynode	*next;		/* sibling */
	struct ynode	*first;		/* children; a map alternates key, value */
	struct ynode	*last;
	char		*str;		/* scalar, NUL-terminated (may hold NULs) */
	size_t		 len;
	size_t		 n;		/* children */
	uint32_t	 line, col;
	uint8_t		 kind;
	uint8_t		 plain;		/* scalar written without quotes */
	uint8_t		 bad;		/* already reported (alias, anchor, tag) */
};

struct ctx {
	const char		*name;
	const char		*buf;
	size_t			 len;
	struct conf_diag	*diag;
	size_t			 nerr;
	struct arena		 arena;
	size_t			 nnodes;
	int			 nomem;
	char			 path[CONF_PATH_TEXT];
	size_t			 pathlen;
	struct seq_bad {			/* entries that had errors */
		const struct conf_key	*row;
		uint8_t			*bad;	/* [row->max], arena */
	}			 seqs[CONF_MAX_SEQS];
	size_t			 nseqs;
};

/* ------------------------------------------------------------------ */
/* Diagnostics.                                                        */

void
conf_diag_init(struct conf_diag *diag)
{
	diag->n = 0;
	diag->dropped = 0;
}

size_t
conf_diag_count(const struct conf_diag *diag)
{
	return diag->n + diag->dropped;
}

void
conf_diag_print(FILE *f, const struct conf_diag *diag)
{
	for (size_t i = 0; i < diag->n; i++)
		fprintf(f, "%s\n", diag->e[i].text);
	if (diag->dropped > 0)
		fprintf(f, "... and %zu more error%s\n", diag->dropped,
		    diag->dropped == 1 ? "" : "s");
}

static int
diag_full(const struct ctx *c)
{
	return c->diag == NULL || c->diag->n >= CONF_DIAG_MAX;
}

static void diag_vadd(struct conf_diag *, const char *, uint32_t, uint32_t,
    const char *, va_list) __attribute__((format(printf, 5, 0)));

static void
diag_vadd(struct conf_diag *diag, const char *name, uint32_t line,
    uint32_t col, const char *fmt, va_list ap)
{
	struct conf_diag_entry *e;
	int n;

	if (diag == NULL)
		return;
	if (diag->n >= CONF_DIAG_MAX) {
		diag->dropped++;
		return;
	}
	e = &diag->e[diag->n++];
	e->line = line;
	e->col = col;
	if (line > 0)
		n = snprintf(e->text, sizeof(e->text), "%s:%u:%u: ", name,
		    line, col);
	else
		n = snprintf(e->text, sizeof(e->text), "%s: ", name);
	if (n < 0 || (size_t)n >= sizeof(e->text))
		n = 0;
	e->msg_off = (size_t)n;
	vsnprintf(e->text + n, sizeof(e->text) - (size_t)n, fmt, ap);
}

static void diag_add(struct conf_diag *, const char *, uint32_t, uint32_t,
    const char *, ...) __attribute__((format(printf, 5, 6)));

static void
diag_add(struct conf_diag *diag, const char *name, uint32_t line,
    uint32_t col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(diag, name, line, col, fmt, ap);
	va_end(ap);
}

void
conf_diag_add(struct conf_diag *diag, const char *name, uint32_t line,
    uint32_t col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(diag, name, line, col, fmt, ap);
	va_end(ap);
}

static void err_at(struct ctx *, uint32_t, uint32_t, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* An error at a position, without the key path. */
static void
err_at(struct ctx *c, uint32_t line, uint32_t col, const char *fmt, ...)
{
	va_list ap;

	c->nerr++;
	va_start(ap, fmt);
	diag_vadd(c->diag, c->name, line, col, fmt, ap);
	va_end(ap);
}

static void err_path(struct ctx *, uint32_t, uint32_t, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* An error at a position, prefixed with the current key path. */
static void
err_path(struct ctx *c, uint32_t line, uint32_t col, const char *fmt, ...)
{
	char msg[CONF_DIAG_LEN];
	va_list ap;

	c->nerr++;
	if (diag_full(c)) {
		if (c->diag != NULL)
			c->diag->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->pathlen > 0)
		diag_add(c->diag, c->name, line, col, "%s: %s", c->path, msg);
	else
		diag_add(c->diag, c->name, line, col, "%s", msg);
}

/* Sort entries [from, n) by position; stable, the list is short. */
static void
diag_sort(struct conf_diag *diag, size_t from)
{
	struct conf_diag_entry tmp;

	for (size_t i = from + 1; i < diag->n; i++) {
		size_t j = i;

		if (diag->e[i].line > diag->e[i - 1].line ||
		    (diag->e[i].line == diag->e[i - 1].line &&
		    diag->e[i].col >= diag->e[i - 1].col))
			continue;
		tmp = diag->e[i];
		while (j > from && (diag->e[j - 1].line > tmp.line ||
		    (diag->e[j - 1].line == tmp.line &&
		    diag->e[j - 1].col > tmp.col))) {
			diag->e[j] = diag->e[j - 1];
			j--;
		}
		diag->e[j] = tmp;
	}
}

/*
 * Copy user text into out for a message: printable ASCII only (others
 * become '?'), at most CONF_QUOTE_MAX characters then "...".
 */
static const char *
qtext(const char *s, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len && i < CONF_QUOTE_MAX && o + 4 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (i < len && o + 4 <= cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* Key path for messages: "sip.timers.t1", "listen[0].zone"; name or [idx]. */
static size_t
path_push(struct ctx *c, const char *name, size_t idx)
{
	size_t saved = c->pathlen;
	size_t room = sizeof(c->path) - c->pathlen;
	int n;

	if (name != NULL)
		n = snprintf(c->path + c->pathlen, room, "%s%s",
		    c->pathlen > 0 ? "." : "", name);
	else
		n = snprintf(c->path + c->pathlen, room, "[%zu]", idx);
	if (n > 0)
		c->pathlen += (size_t)n < room ? (size_t)n : room - 1;
	return saved;
}

static void
path_pop(struct ctx *c, size_t saved)
{
	c->pathlen = saved;
	c->path[saved] = '\0';
}

/* ------------------------------------------------------------------ */
/* YAML -> tree.                                                       */

static struct ynode *
node_new(struct ctx *c, enum ykind kind, const yaml_mark_t *m)
{
	struct ynode *n;

	if (++c->nnodes > CONF_MAX_NODES) {
		err_at(c, (uint32_t)m->line + 1, (uint32_t)m->column + 1,
		    "too many YAML nodes (max %d)", CONF_MAX_NODES);
		return NULL;
	}
	if ((n = arena_alloc(&c->arena, sizeof(*n))) == NULL) {
		c->nomem = 1;
		err_at(c, 0, 0, "out of memory");
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->kind = (uint8_t)kind;
	n->line = (uint32_t)m->line + 1;
	n->col = (uint32_t)m->column + 1;
	return n;
}

static void
node_add(struct ynode *parent, struct ynode *n)
{
	if (parent->last != NULL)
		parent->last->next = n;
	else
		parent->first = n;
	parent->last = n;
	parent->n++;
}

/* Line and column (1-based) of a byte offset into the input. */
static void
offset_pos(const struct ctx *c, size_t off, uint32_t *line, uint32_t *col)
{
	uint32_t l = 1, k = 1;

	if (off > c->len)
		off = c->len;
	for (size_t i = 0; i < off; i++) {
		if (c->buf[i] == '\n') {
			l++;
			k = 1;
		} else
			k++;
	}
	*line = l;
	*col = k;
}

static void
syntax_error(struct ctx *c, const yaml_parser_t *p)
{
	const char *problem = p->problem != NULL ? p->problem : "unknown error";
	uint32_t line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		c->nomem = 1;
		err_at(c, 0, 0, "out of memory");
		return;
	case YAML_READER_ERROR:
		offset_pos(c, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			err_at(c, line, col, "invalid input: %s (byte 0x%02x)",
			    problem, (unsigned)p->problem_value & 0xffu);
		else
			err_at(c, line, col, "invalid input: %s", problem);
		return;
	default:
		line = (uint32_t)p->problem_mark.line + 1;
		col = (uint32_t)p->problem_mark.column + 1;
		if (p->context != NULL)
			err_at(c, line, col,
			    "syntax error: %s %s (line %zu column %zu)",
			    problem, p->context, p->context_mark.line + 1,
			    p->context_mark.column + 1);
		else
			err_at(c, line, col, "syntax error: %s", problem);
		return;
	}
}

/* Refuse anchors and tags on a node; 1 when something was refused. */
static int
refuse_props(struct ctx *c, const yaml_event_t *ev, const yaml_char_t *anchor,
    const yaml_char_t *tag)
{
	uint32_t line = (uint32_t)ev->start_mark.line + 1;
	uint32_t col = (uint32_t)ev->start_mark.column + 1;
	char q[CONF_QUOTE_MAX + 8];
	int bad = 0;

	if (anchor != NULL) {
		err_at(c, line, col, "YAML anchors are not supported (&%s); "
		    "write the value out", qtext((const char *)anchor,
		    strlen((const char *)anchor), q, sizeof(q)));
		bad = 1;
	}
	if (tag != NULL) {
		static const char core[] = "tag:yaml.org,2002:";
		const char *t = (const char *)tag;
		int secondary = strncmp(t, core, sizeof(core) - 1) == 0;

		/* libyaml hands "!!str" over expanded; show it as written */
		if (secondary)
			t += sizeof(core) - 1;
		err_at(c, line, col, "YAML tags are not supported (%s%s)",
		    secondary ? "!!" : "", qtext(t, strlen(t), q, sizeof(q)));
		bad = 1;
	}
	return bad;
}

/*
 * Build the tree of the one document in c->buf.  Returns 0 (*ret_root
 * may be NULL for an empty stream) or -1 after reporting why; the
 * nodes live in c->arena either way.
 */
static int
tree_build(struct ctx *c, struct ynode **ret_root)
{
	struct ynode *stack[CONF_MAX_DEPTH];
	struct ynode *root = NULL;
	yaml_parser_t p;
	yaml_event_t ev;
	size_t depth = 0;
	int docs = 0, done = 0, r = 0;

	if (!yaml_parser_initialize(&p)) {
		c->nomem = 1;
		err_at(c, 0, 0, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)c->buf, c->len);
	while (!done) {
		struct ynode *n = NULL;
		int push = 0;
		char q[CONF_QUOTE_MAX + 8];

		if (!yaml_parser_parse(&p, &ev)) {
			syntax_error(c, &p);
			r = -1;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				err_at(c, (uint32_t)ev.start_mark.line + 1,
				    (uint32_t)ev.start_mark.column + 1,
				    "only one YAML document is allowed");
				r = -1;
				done = 1;
			}
			break;
		case YAML_ALIAS_EVENT:
			err_at(c, (uint32_t)ev.start_mark.line + 1,
			    (uint32_t)ev.start_mark.column + 1,
			    "YAML aliases are not supported (*%s); write the "
			    "value out", qtext((const char *)ev.data.alias.anchor,
			    strlen((const char *)ev.data.alias.anchor), q,
			    sizeof(q)));
			if ((n = node_new(c, Y_SCALAR, &ev.start_mark)) != NULL) {
				n->bad = 1;
				n->str = (char *)"";	/* never read; never NULL */
			}
			break;
		case YAML_SCALAR_EVENT:
			if ((n = node_new(c, Y_SCALAR, &ev.start_mark)) == NULL)
				break;
			n->len = ev.data.scalar.length;
			if ((n->str = arena_alloc(&c->arena, n->len + 1)) == NULL) {
				c->nomem = 1;
				err_at(c, 0, 0, "out of memory");
				n = NULL;
				break;
			}
			if (n->len > 0)
				memcpy(n->str, ev.data.scalar.value, n->len);
			n->str[n->len] = '\0';
			n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			n->bad = (uint8_t)refuse_props(c, &ev,
			    ev.data.scalar.anchor, ev.data.scalar.tag);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth >= CONF_MAX_DEPTH) {
				err_at(c, (uint32_t)ev.start_mark.line + 1,
				    (uint32_t)ev.start_mark.column + 1,
				    "nested too deeply (max %d levels)",
				    CONF_MAX_DEPTH);
				r = -1;
				done = 1;
				break;
			}
			if (ev.type == YAML_SEQUENCE_START_EVENT) {
				n = node_new(c, Y_SEQ, &ev.start_mark);
				if (n != NULL)
					n->bad = (uint8_t)refuse_props(c, &ev,
					    ev.data.sequence_start.anchor,
					    ev.data.sequence_start.tag);
			} else {
				n = node_new(c, Y_MAP, &ev.start_mark);
				if (n != NULL)
					n->bad = (uint8_t)refuse_props(c, &ev,
					    ev.data.mapping_start.anchor,
					    ev.data.mapping_start.tag);
			}
			push = 1;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		if ((ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT ||
		    push) && n == NULL && !done) {
			/* too many nodes or out of memory, already reported */
			r = -1;
			done = 1;
		}
		if (n != NULL) {
			if (depth > 0)
				node_add(stack[depth - 1], n);
			else if (root == NULL)
				root = n;
			if (push)
				stack[depth++] = n;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	*ret_root = root;
	return r;
}

/* ------------------------------------------------------------------ */
/* Scalars.                                                            */

static int
is_null_text(const char *s, size_t len)
{
	return len == 0 || (len == 1 && s[0] == '~') ||
	    (len == 4 && (memcmp(s, "null", 4) == 0 ||
	    memcmp(s, "Null", 4) == 0 || memcmp(s, "NULL", 4) == 0));
}

static int
is_null(const struct ynode *n)
{
	return n->kind == Y_SCALAR && n->plain && !n->bad &&
	    is_null_text(n->str, n->len);
}

static void
store_uint(void *p, size_t size, uint64_t v)
{
	switch (size) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
	default: memcpy(p, &v, sizeof(v)); break;
	}
}

static const char *
type_desc(const struct conf_key *k)
{
	switch (k->type) {
	case CONF_T_MAP:	return "a mapping";
	case CONF_T_SEQ:	return "a sequence";
	case CONF_T_UINT:	return "an integer";
	case CONF_T_BOOL:	return "true or false";
	case CONF_T_STR:	return "a string";
	case CONF_T_ENUM:	return "a name";
	case CONF_T_DURATION:	return "a duration (like 500ms, 4s, 5m, 1h)";
	case CONF_T_ADDR:	return "an IPv4 or IPv6 address";
	case CONF_T_CIDR:	return "an address or prefix (like 192.0.2.0/24)";
	case CONF_T_RATE:	return "a rate (like 20/s, 300/m, 50/h)";
	default:		return "a value";
	}
}

static const char *
describe(const struct ynode *n, char *buf, size_t cap)
{
	char q[CONF_QUOTE_MAX + 8];

	if (n->kind == Y_MAP)
		return "a mapping";
	if (n->kind == Y_SEQ)
		return "a sequence";
	if (is_null(n))
		return "null";
	qtext(n->str, n->len, q, sizeof(q));
	if (n->plain)
		snprintf(buf, cap, "'%s'", q);
	else
		snprintf(buf, cap, "a quoted string \"%s\"", q);
	return buf;
}

/* "udp, tcp" of the names that are supported. */
static void
enum_list(const struct conf_enum_val *vals, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (; vals->name != NULL; vals++) {
		int n;

		if (vals->unsupported != NULL)
			continue;
		n = snprintf(buf + o, cap - o, "%s%s", o > 0 ? ", " : "",
		    vals->name);
		if (n < 0 || (size_t)n >= cap - o)
			break;
		o += (size_t)n;
	}
}

static int
parse_duration(const char *s, const struct conf_key *k, uint64_t *ret,
    char *why, size_t cap)
{
	char q[CONF_QUOTE_MAX + 8], lo[32], hi[32];
	const char *p = s, *unit;
	uint64_t v = 0, mult;

	qtext(s, strlen(s), q, sizeof(q));
	while (*p >= '0' && *p <= '9') {
		if (v <= UINT32_MAX)
			v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p == s) {
		snprintf(why, cap, "expected a duration like 500ms, 4s, 5m or "
		    "1h, got '%s'", q);
		return -1;
	}
	unit = p;
	if (*unit == '\0') {
		snprintf(why, cap, "'%s' has no unit: durations require one "
		    "(ms, s, m or h), e.g. %.20sms or %.20ss", q, s, s);
		return -1;
	}
	while (ctype_is((uint8_t)*p, CT_ALPHA))
		p++;
	if (*p != '\0' || p == unit) {
		snprintf(why, cap, "expected a duration like 500ms, 4s, 5m or "
		    "1h (a whole number and a unit), got '%s'", q);
		return -1;
	}
	if (strcmp(unit, "ms") == 0)
		mult = 1;
	else if (strcmp(unit, "s") == 0)
		mult = CONF_SEC;
	else if (strcmp(unit, "m") == 0)
		mult = CONF_MIN;
	else if (strcmp(unit, "h") == 0)
		mult = CONF_HOUR;
	else {
		char u[CONF_QUOTE_MAX + 8];

		snprintf(why, cap, "bad duration unit '%s' in '%s' (use ms, s, "
		    "m or h)", qtext(unit, strlen(unit), u, sizeof(u)), q);
		return -1;
	}
	v *= mult;
	if (v < k->min || v > k->max) {
		conf_duration_fmt((uint32_t)k->min, lo, sizeof(lo));
		conf_duration_fmt((uint32_t)k->max, hi, sizeof(hi));
		snprintf(why, cap, "%s is out of range (%s..%s)", q, lo, hi);
		return -1;
	}
	*ret = v;
	return 0;
}

static int
parse_uint(const char *s, size_t len, int plain, const struct conf_key *k,
    uint64_t *ret, char *why, size_t cap)
{
	char q[CONF_QUOTE_MAX + 8];
	const char *p = s;
	uint64_t v = 0;
	int neg = 0;

	qtext(s, len, q, sizeof(q));
	if (!plain) {
		snprintf(why, cap, "expected an integer, got a quoted string "
		    "\"%s\" (remove the quotes)", q);
		return -1;
	}
	if (*p == '-')
		neg = 1, p++;
	if (*p == '\0') {
		snprintf(why, cap, "expected an integer, got '%s'", q);
		return -1;
	}
	for (const char *d = p; *d != '\0'; d++)
		if (*d < '0' || *d > '9') {
			snprintf(why, cap, "expected an integer, got '%s'", q);
			return -1;
		}
	if (p[0] == '0' && p[1] != '\0') {
		snprintf(why, cap, "'%s' has a leading zero; write the number "
		    "without it", q);
		return -1;
	}
	for (; *p != '\0'; p++)
		if (v <= UINT64_MAX / 100)	/* saturate well above any max */
			v = v * 10 + (uint64_t)(*p - '0');
	if ((neg && v != 0) || v < k->min || v > k->max) {
		if (k->min == k->max)
			snprintf(why, cap, "%s is not supported (must be "
			    "%llu)", q, (unsigned long long)k->min);
		else
			snprintf(why, cap, "%s is out of range (%llu..%llu)", q,
			    (unsigned long long)k->min,
			    (unsigned long long)k->max);
		return -1;
	}
	*ret = v;
	return 0;
}

/* "ADDR" or "ADDR/LEN"; host bits must be zero (an exact prefix). */
static int
parse_cidr(const char *s, size_t len, struct conf_cidr *ret, char *why,
    size_t cap)
{
	char q[CONF_QUOTE_MAX + 8], ip[INET6_ADDRSTRLEN + 1];
	const char *slash = memchr(s, '/', len);
	size_t iplen = slash != NULL ? (size_t)(slash - s) : len;
	struct conf_cidr c;
	unsigned max;

	qtext(s, len, q, sizeof(q));
	memset(&c, 0, sizeof(c));
	if (iplen == 0 || iplen >= sizeof(ip)) {
		snprintf(why, cap, "'%s' is not an address or prefix", q);
		return -1;
	}
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	if (sw_addr_parse(ip, 0, &c.addr) < 0) {
		snprintf(why, cap, "'%s' is not an IPv4 or IPv6 address or "
		    "prefix (host names are not allowed)", q);
		return -1;
	}
	max = c.addr.sa.sa_family == AF_INET6 ? 128 : 32;
	c.plen = (uint8_t)max;
	if (slash != NULL) {
		const char *d = slash + 1;
		size_t dl = len - iplen - 1;
		unsigned v = 0;

		if (dl == 0 || dl > 3 || strspn(d, "0123456789") != dl ||
		    (dl > 1 && d[0] == '0')) {
			snprintf(why, cap, "'%s': the prefix length must be a "
			    "number 0..%u", q, max);
			return -1;
		}
		for (size_t i = 0; i < dl; i++)
			v = v * 10 + (unsigned)(d[i] - '0');
		if (v > max) {
			snprintf(why, cap, "'%s': the prefix length must be "
			    "0..%u", q, max);
			return -1;
		}
		c.plen = (uint8_t)v;
	}
	{
		struct conf_cidr masked = c;
		char fix[INET6_ADDRSTRLEN + 8];
		uint8_t *b = c.addr.sa.sa_family == AF_INET6 ?
		    masked.addr.sin6.sin6_addr.s6_addr :
		    (uint8_t *)&masked.addr.sin.sin_addr;

		for (unsigned bit = c.plen; bit < max; bit++)
			b[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
		if (memcmp(&masked, &c, sizeof(c)) != 0) {
			conf_cidr_str(&masked, fix, sizeof(fix));
			snprintf(why, cap, "'%s' has host bits set; did you mean "
			    "%s?", q, fix);
			return -1;
		}
	}
	*ret = c;
	return 0;
}

/* "N/s", "N/m", "N/h" -> events per hour */
static int
parse_rate(const char *s, size_t len, uint64_t *ret, char *why, size_t cap)
{
	char q[CONF_QUOTE_MAX + 8];
	const char *slash = memchr(s, '/', len);
	size_t nl = slash != NULL ? (size_t)(slash - s) : 0;
	uint64_t n = 0, mult;

	qtext(s, len, q, sizeof(q));
	if (slash == NULL || nl == 0 || nl > 7 || strspn(s, "0123456789") != nl ||
	    len != nl + 2) {
		snprintf(why, cap, "'%s' is not a rate; write a count per "
		    "second, minute or hour, like 20/s, 300/m or 50/h", q);
		return -1;
	}
	for (size_t i = 0; i < nl; i++)
		n = n * 10 + (uint64_t)(s[i] - '0');
	switch (slash[1]) {
	case 's': mult = 3600; break;
	case 'm': mult = 60; break;
	case 'h': mult = 1; break;
	default:
		snprintf(why, cap, "'%s': the unit must be /s, /m or /h", q);
		return -1;
	}
	if (n == 0 || n * mult > 3600000000ULL) {
		snprintf(why, cap, "'%s' is out of range (1/h .. 1000000/s)", q);
		return -1;
	}
	*ret = n * mult;
	return 0;
}

/*
 * Convert one scalar s[0..len) (NUL at s[len]) for row k and store it
 * in the field at base + k->off; nothing is written on failure, when
 * why says what is wrong.  The same path applies the schema defaults.
 */
static int
scalar_set(const struct conf_key *k, const char *s, size_t len, int plain,
    void *base, char *why, size_t cap)
{
	char q[CONF_QUOTE_MAX + 8], list[128];
	unsigned char *field = (unsigned char *)base + k->off;
	uint64_t v;

	if (len > CONF_MAX_SCALAR) {
		snprintf(why, cap, "value is too long (%zu bytes)", len);
		return -1;
	}
	if (plain && is_null_text(s, len)) {
		snprintf(why, cap, "expected %s, got null%s", type_desc(k),
		    k->type == CONF_T_STR ? " (write \"\" for an empty string)" :
		    "");
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) {
			snprintf(why, cap, "value contains a control or "
			    "non-ASCII character at offset %zu (only printable "
			    "ASCII is allowed)", i);
			return -1;
		}
	qtext(s, len, q, sizeof(q));

	switch (k->type) {
	case CONF_T_UINT:
		if (parse_uint(s, len, plain, k, &v, why, cap) < 0)
			return -1;
		store_uint(field, k->size, v);
		return 0;
	case CONF_T_BOOL:
		if (plain && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
		    strcmp(s, "TRUE") == 0)) {
			*(bool *)field = true;
			return 0;
		}
		if (plain && (strcmp(s, "false") == 0 ||
		    strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)) {
			*(bool *)field = false;
			return 0;
		}
		if (plain)
			snprintf(why, cap, "expected true or false, got '%s'", q);
		else
			snprintf(why, cap, "expected true or false, got a quoted "
			    "string \"%s\"", q);
		return -1;
	case CONF_T_STR:
		if (len > k->max) {
			snprintf(why, cap, "'%s' is too long (%zu characters, "
			    "max %llu)", q, len, (unsigned long long)k->max);
			return -1;
		}
		if (len < k->min) {
			snprintf(why, cap, "must not be empty");
			return -1;
		}
		if (k->check != NULL && k->check(s, why, cap) < 0)
			return -1;
		memcpy(field, s, len + 1);
		return 0;
	case CONF_T_ENUM:
		for (const struct conf_enum_val *e = k->vals; e->name != NULL;
		    e++) {
			if (strcmp(e->name, s) != 0)
				continue;
			if (e->unsupported != NULL) {
				snprintf(why, cap, "'%s' is %s", q,
				    e->unsupported);
				return -1;
			}
			memcpy(field, &e->value, sizeof(int));
			return 0;
		}
		enum_list(k->vals, list, sizeof(list));
		snprintf(why, cap, "'%s' is not one of: %s", q, list);
		return -1;
	case CONF_T_DURATION:
		if (parse_duration(s, k, &v, why, cap) < 0)
			return -1;
		store_uint(field, k->size, v);
		return 0;
	case CONF_T_ADDR: {
		union sw_addr a;

		if (s[0] == '[') {
			snprintf(why, cap, "'%s': write IPv6 addresses without "
			    "brackets", q);
			return -1;
		}
		if (sw_addr_parse(s, 0, &a) < 0) {
			int host = len > 0 && strchr(s, ':') == NULL;

			for (size_t i = 0; host && i < len; i++)
				host = ctype_is((uint8_t)s[i], CT_HOST);
			if (host && strspn(s, "0123456789.") != len)
				snprintf(why, cap, "'%s' is not an IP address; "
				    "host names are not allowed, write an "
				    "IPv4 or IPv6 address", q);
			else
				snprintf(why, cap, "'%s' is not a valid IPv4 or "
				    "IPv6 address", q);
			return -1;
		}
		memcpy(field, &a, sizeof(a));
		return 0;
	}
	case CONF_T_CIDR: {
		struct conf_cidr c;

		if (parse_cidr(s, len, &c, why, cap) < 0)
			return -1;
		memcpy(field, &c, sizeof(c));
		return 0;
	}
	case CONF_T_RATE:
		if (parse_rate(s, len, &v, why, cap) < 0)
			return -1;
		store_uint(field, k->size, v);
		return 0;
	default:
		snprintf(why, cap, "internal error: bad schema row");
		return -1;
	}
}

/* ------------------------------------------------------------------ */
/* Defaults.                                                           */

static void
defaults_apply(const struct conf_key *keys, void *base)
{
	char why[CONF_DIAG_LEN];

	for (const struct conf_key *k = keys; k->type != CONF_T_END; k++) {
		unsigned char *field = (unsigned char *)base + k->off;

		switch (k->type) {
		case CONF_T_MAP:
			defaults_apply(k->sub, field);
			break;
		case CONF_T_SEQ:
			memset((unsigned char *)base + k->count_off, 0,
			    sizeof(size_t));
			break;
		default:
			/* A default that fails its own row is a schema bug. */
			if (k->def != NULL &&
			    /* "" is an empty string, not YAML's null */
			    scalar_set(k, k->def, strlen(k->def), k->def[0] != '\0',
			    base, why, sizeof(why)) < 0) {
				fprintf(stderr, "schema bug: default of '%s': "
				    "%s\n", k->name, why);
				abort();
			}
			break;
		}
	}
}

void
conf_zone_defaults(struct conf_zone *z)
{
	memset(z, 0, sizeof(*z));
	for (const struct conf_key *k = conf_schema; k->type != CONF_T_END; k++)
		if (k->type == CONF_T_SEQ && strcmp(k->name, "zones") == 0)
			defaults_apply(k->sub->sub, z);
}

void
conf_defaults(struct sw_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	defaults_apply(conf_schema, conf);
	/* sequences have no row default: offer SHA-256 first, MD5 for the
	 * phones that know nothing else (RFC 8760 4) */
	conf->auth.nalgorithms = 2;
	conf->auth.algorithms[0] = CONF_ALG_SHA256;
	conf->auth.algorithms[1] = CONF_ALG_MD5;
	/* NANP, with the European "00" too: either way of dialling
	 * abroad is seen as abroad; "emergency" always has the two
	 * numbers every phone knows; one group, "default", holds every
	 * account not given another (a file's lists replace these) */
	conf->dialplan.nintl = 2;
	snprintf(conf->dialplan.intl[0], sizeof(conf->dialplan.intl[0]), "011");
	snprintf(conf->dialplan.intl[1], sizeof(conf->dialplan.intl[1]), "00");
	conf->dialplan.nemergency = 2;
	snprintf(conf->dialplan.emergency[0],
	    sizeof(conf->dialplan.emergency[0]), "911");
	snprintf(conf->dialplan.emergency[1],
	    sizeof(conf->dialplan.emergency[1]), "112");
	conf->policy.ngroups = 1;
	for (const struct conf_key *k = conf_schema; k->type != CONF_T_END; k++)
		if (k->type == CONF_T_MAP && strcmp(k->name, "policy") == 0)
			for (const struct conf_key *g = k->sub;
			    g->type != CONF_T_END; g++)
				if (g->type == CONF_T_SEQ &&
				    strcmp(g->name, "groups") == 0)
					defaults_apply(g->sub->sub,
					    &conf->policy.groups[0]);
	snprintf(conf->policy.groups[0].name,
	    sizeof(conf->policy.groups[0].name), "default");
}

/* ------------------------------------------------------------------ */
/* Walking the tree against the schema.                                */

static size_t
edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t prev[CONF_KEY_MAX + 2], cur[CONF_KEY_MAX + 2];

	for (size_t j = 0; j <= blen; j++)
		prev[j] = j;
	for (size_t i = 1; i <= alen; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= blen; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? sub : del;
			if (ins < cur[j])
				cur[j] = ins;
		}
		memcpy(prev, cur, (blen + 1) * sizeof(size_t));
	}
	return prev[blen];
}

/* The closest key in this table within distance 2, or NULL. */
static const char *
closest_key(const struct conf_key *keys, const char *s, size_t len)
{
	const char *best = NULL;
	size_t bestd = 3;

	if (len > CONF_KEY_MAX)
		return NULL;
	for (const struct conf_key *k = keys; k->type != CONF_T_END; k++) {
		size_t klen = strlen(k->name), d;

		if (klen > CONF_KEY_MAX || (klen > len ? klen - len : len - klen) > 2)
			continue;
		d = edit_distance(s, len, k->name, klen);
		if (d < bestd) {
			bestd = d;
			best = k->name;
		}
	}
	return best;
}

/* Where else in the schema a key of this name lives ("node", "listen"). */
static int
find_elsewhere(const struct conf_key *keys, const char *s, const char *at,
    char *buf, size_t cap, int depth)
{
	for (const struct conf_key *k = keys; k->type != CONF_T_END; k++) {
		const struct conf_key *sub = NULL;
		char path[CONF_PATH_TEXT];

		if (depth > 0 && strcmp(k->name, s) == 0) {
			snprintf(buf, cap, "%s", at);
			return 1;
		}
		/* a path too long for the buffer cannot be a schema path */
		if (snprintf(path, sizeof(path), "%s%s%s", at, *at ? "." : "",
		    k->name) >= (int)sizeof(path))
			continue;
		if (k->type == CONF_T_MAP)
			sub = k->sub;
		else if (k->type == CONF_T_SEQ && k->sub->type == CONF_T_MAP)
			sub = k->sub->sub;
		if (sub != NULL && depth < CONF_MAX_DEPTH &&
		    find_elsewhere(sub, s, path, buf, cap, depth + 1))
			return 1;
	}
	return 0;
}

static void
unknown_key(struct ctx *c, const struct conf_key *keys, const struct ynode *k)
{
	char q[CONF_QUOTE_MAX + 8], where[CONF_PATH_TEXT];
	const char *hint;

	if (diag_full(c)) {
		err_path(c, k->line, k->col, "unknown key");
		return;
	}
	qtext(k->str, k->len, q, sizeof(q));
	if ((hint = closest_key(keys, k->str, k->len)) != NULL)
		err_path(c, k->line, k->col, "unknown key '%s' (did you mean "
		    "'%s'?)", q, hint);
	else if (k->len <= CONF_KEY_MAX &&
	    find_elsewhere(conf_schema, k->str, "", where, sizeof(where), 0) &&
	    strcmp(where, c->path) != 0)
		err_path(c, k->line, k->col, "unknown key '%s' (it belongs "
		    "under '%s')", q, where);
	else
		err_path(c, k->line, k->col, "unknown key '%s'", q);
}

static void walk_value(struct ctx *, const struct conf_key *, void *,
    const struct ynode *, const struct ynode *);

static void
walk_map(struct ctx *c, const struct conf_key *keys, void *base,
    const struct ynode *map, const struct ynode *owner)
{
	const struct ynode *seen[CONF_MAX_KEYS];
	const struct ynode *k, *v;
	char d[CONF_QUOTE_MAX + 32];
	size_t nkeys = 0;
	uint32_t line = 1, col = 1;

	while (keys[nkeys].type != CONF_T_END && nkeys < CONF_MAX_KEYS)
		seen[nkeys++] = NULL;
	if (map != NULL && map->bad)
		return;
	if (map != NULL && !is_null(map)) {
		if (map->kind != Y_MAP) {
			err_path(c, map->line, map->col, "expected a mapping, "
			    "got %s", describe(map, d, sizeof(d)));
			return;
		}
		for (k = map->first; k != NULL; k = v->next) {
			size_t i, saved;

			v = k->next;	/* libyaml always pairs them */
			if (k->bad || v == NULL)
				continue;
			if (k->kind != Y_SCALAR) {
				err_path(c, k->line, k->col, "keys must be "
				    "plain names, got %s", describe(k, d,
				    sizeof(d)));
				continue;
			}
			for (i = 0; i < nkeys; i++)
				if (strlen(keys[i].name) == k->len &&
				    memcmp(keys[i].name, k->str, k->len) == 0)
					break;
			if (i == nkeys) {
				unknown_key(c, keys, k);
				continue;
			}
			if (seen[i] != NULL) {
				err_path(c, k->line, k->col, "duplicate key "
				    "'%s' (first at line %u)", keys[i].name,
				    seen[i]->line);
				continue;
			}
			seen[i] = k;
			saved = path_push(c, keys[i].name, 0);
			walk_value(c, &keys[i], base, v, k);
			path_pop(c, saved);
		}
	}
	if (map != NULL && map->kind == Y_MAP && map->n > 0) {
		line = map->line;
		col = map->col;
	} else if (owner != NULL) {
		line = owner->line;
		col = owner->col;
	} else if (map != NULL) {
		line = map->line;
		col = map->col;
	}
	for (size_t i = 0; i < nkeys; i++)
		if ((keys[i].flags & CONF_K_REQUIRED) && seen[i] == NULL)
			err_path(c, line, col, "missing required key '%s'",
			    keys[i].name);
}

static void
walk_seq(struct ctx *c, const struct conf_key *k, void *base,
    const struct ynode *seq, const struct ynode *owner)
{
	const struct conf_key *elem = k->sub;
	const struct ynode *it;
	char d[CONF_QUOTE_MAX + 32];
	uint8_t *bad = NULL;
	size_t i = 0;

	if (seq->bad)
		return;
	if (c->nseqs < CONF_MAX_SEQS &&
	    (bad = arena_alloc(&c->arena, k->max)) != NULL) {
		memset(bad, 0, k->max);
		c->seqs[c->nseqs].row = k;
		c->seqs[c->nseqs++].bad = bad;
	}
	if (!is_null(seq)) {
		if (seq->kind != Y_SEQ) {
			err_path(c, seq->line, seq->col, "expected a sequence "
			    "(a list of '- ' entries), got %s",
			    describe(seq, d, sizeof(d)));
			return;
		}
		for (it = seq->first; it != NULL; it = it->next, i++) {
			unsigned char *eb;
			size_t saved, nerr;

			if (i == k->max) {
				err_path(c, it->line, it->col, "too many "
				    "entries (%zu, max %llu)", seq->n,
				    (unsigned long long)k->max);
				break;
			}
			eb = (unsigned char *)base + k->off + i * k->elem_size;
			memset(eb, 0, k->elem_size);
			if (elem->type == CONF_T_MAP)
				defaults_apply(elem->sub, eb);
			saved = path_push(c, NULL, i);
			nerr = c->nerr;
			walk_value(c, elem, eb, it, NULL);
			if (bad != NULL && c->nerr != nerr)
				bad[i] = 1;
			path_pop(c, saved);
		}
	}
	memcpy((unsigned char *)base + k->count_off, &i, sizeof(i));
	if (i < k->min)
		err_path(c, (is_null(seq) ? owner : seq)->line,
		    (is_null(seq) ? owner : seq)->col,
		    "needs at least %llu entr%s", (unsigned long long)k->min,
		    k->min == 1 ? "y" : "ies");
}

static void
walk_value(struct ctx *c, const struct conf_key *k, void *base,
    const struct ynode *v, const struct ynode *key)
{
	char why[CONF_DIAG_LEN], d[CONF_QUOTE_MAX + 32];

	if (k->flags & CONF_K_MARK) {
		struct conf_mark m = { .line = v->line, .col = v->col };

		memcpy((unsigned char *)base + k->mark_off, &m, sizeof(m));
	}
	switch (k->type) {
	case CONF_T_MAP:
		walk_map(c, k->sub, (unsigned char *)base + k->off, v, key);
		return;
	case CONF_T_SEQ:
		walk_seq(c, k, base, v, key);
		return;
	default:
		break;
	}
	if (v->bad)
		return;
	if (v->kind != Y_SCALAR) {
		err_path(c, v->line, v->col, "expected %s, got %s",
		    type_desc(k), describe(v, d, sizeof(d)));
		return;
	}
	if (scalar_set(k, v->str, v->len, v->plain, base, why, sizeof(why)) < 0)
		err_path(c, v->line, v->col, "%s", why);
}

/* ------------------------------------------------------------------ */
/* Checks across keys.                                                 */

/* The value node at a key path below root (NULL-terminated names). */
static const struct ynode *
ylookup(const struct ynode *n, ...)
{
	const char *name;
	va_list ap;

	va_start(ap, n);
	while (n != NULL && (name = va_arg(ap, const char *)) != NULL) {
		const struct ynode *k, *found = NULL;

		if (n->kind != Y_MAP) {
			n = NULL;
			break;
		}
		for (k = n->first; k != NULL && k->next != NULL;
		    k = k->next->next)
			if (k->kind == Y_SCALAR && !k->bad &&
			    strcmp(k->str, name) == 0) {
				found = k->next;
				break;
			}
		n = found;
	}
	va_end(ap);
	return n;
}

/* Did entry i of the top-level sequence name have errors of its own? */
static int
seq_entry_bad(const struct ctx *c, const char *name, size_t i)
{
	for (size_t s = 0; s < c->nseqs; s++)
		if (strcmp(c->seqs[s].row->name, name) == 0)
			return i < c->seqs[s].row->max && c->seqs[s].bad[i];
	return 0;
}

/*
 * A zone whose peers are known by certificate, not address: it has
 * listeners, and every one is TLS demanding a client certificate that
 * names one of its peer_names.
 */
static int
zone_by_certificate(const struct sw_conf *conf, size_t z)
{
	size_t n = 0;

	for (size_t l = 0; l < conf->nlisten; l++) {
		const struct conf_listen *x = &conf->listen[l];

		if (x->zone_name[0] == '\0' ||
		    strcmp(x->zone_name, conf->zones[z].name) != 0)
			continue;
		if (x->transport != CONF_TRANSPORT_TLS ||
		    !x->tls.verify_client || x->tls.npeer_names == 0)
			return 0;
		n++;
	}
	return n > 0;
}

/*
 * core: the zone the PBX lives in must exist and be trusted with an
 * allow list (checked with the zones), every target needs a listener
 * of that zone to be sent from, and targets without a zone (or a zone
 * without targets) is a half-written route.
 */
static void
check_core(struct ctx *c, struct sw_conf *conf, const struct ynode *root)
{
	struct conf_core *k = &conf->core;
	const struct ynode *n;
	size_t z;

	for (size_t i = 0; i < k->ntargets; i++)
		sw_addr_set_port(&k->targets[i].addr, k->targets[i].port);
	if (k->zone_name[0] == '\0') {
		if (k->ntargets > 0) {
			n = ylookup(root, "core", "targets", NULL);
			err_at(c, n != NULL ? n->line : 1, n != NULL ? n->col : 1,
			    "core.targets: calls to these targets need "
			    "core.zone, the zone the PBX talks to us in");
		}
		return;
	}
	for (z = 0; z < conf->nzones; z++)
		if (strcmp(conf->zones[z].name, k->zone_name) == 0)
			break;
	if (z == conf->nzones) {
		err_at(c, k->zone_at.line, k->zone_at.col, "core.zone: zone "
		    "'%s' is not defined under zones", k->zone_name);
		return;
	}
	k->zone = (uint32_t)z;
	if (conf->zones[z].trust != CONF_TRUST_TRUSTED)
		err_at(c, k->zone_at.line, k->zone_at.col, "core.zone: the "
		    "core zone '%s' must be trusted: its requests are routed "
		    "to endpoints without authentication", k->zone_name);
	if (k->ntargets == 0) {
		err_at(c, k->zone_at.line, k->zone_at.col, "core.targets: "
		    "the core zone '%s' needs at least one target (the PBX "
		    "address calls go to)", k->zone_name);
		return;
	}
	for (size_t i = 0; i < k->ntargets; i++) {
		const struct conf_target *t = &k->targets[i];
		size_t l;

		if (t->addr.sa.sa_family == 0)
			continue;
		if (t->transport != CONF_TRANSPORT_TLS && (t->tls_ca[0] != '\0' ||
		    t->tls_name[0] != '\0'))
			err_at(c, t->at.line, t->at.col, "core.targets[%zu]: "
			    "tls_ca and tls_name are for transport: tls", i);
		for (l = 0; l < conf->nlisten; l++)
			if (conf->listen[l].zone == k->zone &&
			    conf->listen[l].transport == t->transport &&
			    sw_addr_family(&conf->listen[l].addr) ==
			    sw_addr_family(&t->addr))
				break;
		if (l == conf->nlisten)
			err_at(c, t->at.line, t->at.col, "core.targets[%zu]: no "
			    "%s listener of the same address family in zone "
			    "'%s' to send from", i,
			    conf_transport_name(t->transport), k->zone_name);
	}
}

/*
 * TLS settings belong to TLS listeners, which need them; mutual TLS
 * needs the CA that signs the clients; TCP and TLS are both TCP
 * sockets, so with SO_REUSEPORT the kernel would share one address
 * and port between them at random.  (Whether the files load is
 * tls_load.c's job: this file reads no other file.)
 */
static void
check_listen_tls(struct ctx *c, const struct sw_conf *conf)
{
	char a[SW_ADDR_STRLEN];

	for (size_t i = 0; i < conf->nlisten; i++) {
		const struct conf_listen *l = &conf->listen[i];

		if (seq_entry_bad(c, "listen", i))
			continue;
		if (l->transport != CONF_TRANSPORT_TLS) {
			if (l->tls_at.line != 0)
				err_at(c, l->tls_at.line, l->tls_at.col,
				    "listen[%zu].tls: only a tls listener takes "
				    "tls settings (this one is %s)", i,
				    conf_transport_name(l->transport));
			continue;
		}
		if (l->tls_at.line == 0) {
			err_at(c, l->at.line, l->at.col, "listen[%zu]: a tls "
			    "listener needs a 'tls' mapping with cert and key",
			    i);
			continue;
		}
		if (l->tls.verify_client && l->tls.ca[0] == '\0')
			err_at(c, l->tls_at.line, l->tls_at.col,
			    "listen[%zu].tls: verify_client: true needs 'ca', "
			    "the CA bundle that signs client certificates", i);
		if (l->tls.npeer_names > 0 && !l->tls.verify_client)
			err_at(c, l->tls_at.line, l->tls_at.col,
			    "listen[%zu].tls: peer_names needs verify_client: "
			    "true (the names are checked in the client's "
			    "certificate)", i);
		for (size_t j = 0; j < conf->nlisten; j++) {
			const struct conf_listen *o = &conf->listen[j];

			if (o->transport == CONF_TRANSPORT_TCP &&
			    l->addr.sa.sa_family != 0 &&
			    !seq_entry_bad(c, "listen", j) &&
			    sw_addr_eq(&o->addr, &l->addr))
				err_at(c, l->at.line, l->at.col, "listen[%zu]: "
				    "tls and tcp (line %u) cannot share %s: "
				    "both are TCP sockets", i, o->at.line,
				    sw_addr_str(&l->addr, a, sizeof(a)));
		}
	}
}

/* The listener of zone z that reaches addr over transport t, or -1. */
static int
zone_listener(const struct sw_conf *conf, uint32_t z, enum conf_transport t,
    const union sw_addr *addr)
{
	for (size_t l = 0; l < conf->nlisten; l++)
		if (conf->listen[l].zone == z && conf->listen[l].transport == t &&
		    sw_addr_family(&conf->listen[l].addr) ==
		    sw_addr_family(addr))
			return (int)l;
	return -1;
}

/*
 * policy: group names unique, the groups it names exist ("default"
 * holds every account without a group of its own), and the dial plan's
 * prefixes do not swallow each other.
 */
static void
check_policy(struct ctx *c, struct sw_conf *conf, const struct ynode *root)
{
	const struct conf_policy *p = &conf->policy;
	const struct conf_dialplan *d = &conf->dialplan;
	const struct ynode *n;
	const char *names[2] = { p->forward_group, p->core_group };
	const char *keys[2] = { "forward_group", "core_group" };

	for (size_t i = 0; i < p->ngroups; i++) {
		const struct conf_group *g = &p->groups[i];

		if (seq_entry_bad(c, "groups", i))
			continue;
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->groups[j].name, g->name) == 0)
				err_at(c, g->at.line, g->at.col, "policy.groups"
				    "[%zu]: duplicate group name '%s'", i,
				    g->name);
	}
	if (conf_group_find(conf, "default") == NULL) {
		n = ylookup(root, "policy", "groups", NULL);
		err_at(c, n != NULL ? n->line : 1, n != NULL ? n->col : 1,
		    "policy.groups: no group named 'default'; accounts "
		    "without a group of their own belong to it");
	}
	for (size_t k = 0; k < 2; k++)
		if (names[k][0] != '\0' && conf_group_find(conf, names[k]) ==
		    NULL) {
			n = ylookup(root, "policy", keys[k], NULL);
			err_at(c, n != NULL ? n->line : 1,
			    n != NULL ? n->col : 1, "policy.%s: no group "
			    "named '%s' in policy.groups", keys[k], names[k]);
		}
	for (size_t i = 0; i < d->nintl; i++)
		if (d->national[0] != '\0' &&
		    strncmp(d->intl[i], d->national, strlen(d->intl[i])) == 0) {
			n = ylookup(root, "dialplan", "national_prefix", NULL);
			err_at(c, n != NULL ? n->line : 1,
			    n != NULL ? n->col : 1, "dialplan.national_prefix: "
			    "'%s' begins with the international prefix '%s'; "
			    "no national number could be dialled",
			    d->national, d->intl[i]);
		}
}

/*
 * trunks: each names its own trusted zone (its allow list is how the
 * provider is recognised), not the core's and not another trunk's; a
 * listener of that zone sends to it; credentials come in pairs.
 */
static void
check_trunks(struct ctx *c, struct sw_conf *conf)
{
	for (size_t i = 0; i < conf->ntrunks; i++) {
		struct conf_trunk *t = &conf->trunks[i];
		size_t z;

		if (seq_entry_bad(c, "trunks", i))
			continue;
		sw_addr_set_port(&t->addr, t->port);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(conf->trunks[j].name, t->name) == 0)
				err_at(c, t->at.line, t->at.col, "trunks[%zu]: "
				    "duplicate trunk name '%s'", i, t->name);
			if (strcmp(conf->trunks[j].zone_name, t->zone_name) == 0)
				err_at(c, t->zone_at.line, t->zone_at.col,
				    "trunks[%zu].zone: zone '%s' already belongs "
				    "to trunk '%s'; give each trunk its own zone",
				    i, t->zone_name, conf->trunks[j].name);
		}
		for (z = 0; z < conf->nzones; z++)
			if (strcmp(conf->zones[z].name, t->zone_name) == 0)
				break;
		if (z == conf->nzones) {
			err_at(c, t->zone_at.line, t->zone_at.col, "trunks[%zu]."
			    "zone: zone '%s' is not defined under zones", i,
			    t->zone_name);
			continue;
		}
		t->zone = (uint32_t)z;
		if (conf->zones[z].trust != CONF_TRUST_TRUSTED)
			err_at(c, t->zone_at.line, t->zone_at.col, "trunks[%zu]."
			    "zone: the trunk zone '%s' must be trusted, with "
			    "the provider's addresses as its allow list", i,
			    t->zone_name);
		if (conf->core.zone_name[0] != '\0' && z == conf->core.zone)
			err_at(c, t->zone_at.line, t->zone_at.col, "trunks[%zu]."
			    "zone: '%s' is the core zone; a trunk needs a zone "
			    "of its own", i, t->zone_name);
		if (t->addr.sa.sa_family != 0 &&
		    zone_listener(conf, t->zone, t->transport, &t->addr) < 0)
			err_at(c, t->at.line, t->at.col, "trunks[%zu]: no %s "
			    "listener of the same address family in zone '%s' "
			    "to send from", i, conf_transport_name(t->transport),
			    t->zone_name);
		if (t->transport != CONF_TRANSPORT_TLS && (t->tls_ca[0] != '\0' ||
		    t->tls_name[0] != '\0' || t->tls_mutual))
			err_at(c, t->at.line, t->at.col, "trunks[%zu]: tls_ca, "
			    "tls_name and tls_mutual are for transport: tls", i);
		if ((t->username[0] == '\0') != (t->password[0] == '\0'))
			err_at(c, t->at.line, t->at.col, "trunks[%zu]: username "
			    "and password go together", i);
		if (t->do_register && t->username[0] == '\0')
			err_at(c, t->at.line, t->at.col, "trunks[%zu]: register: "
			    "true needs username and password", i);
		if (t->nprefixes > 0 || t->default_route) {
			if (conf->core.zone_name[0] == '\0')
				err_at(c, t->at.line, t->at.col, "trunks[%zu]: "
				    "routes to a trunk start at the core; set "
				    "core.zone", i);
		}
	}
}

/*
 * Checks that need more than one key.  They run after errors too (the
 * user sees every error in one go), so each one skips values that are
 * missing or had an error of their own instead of piling on.
 */
/* Does the zone listen on a wildcard address (valid, 0.0.0.0/::)? */
/*
 * OPS3: an unsafe setting is an error unless the file acknowledges its
 * finding id ("srtp_off:internet") under `acknowledge:`.
 */
static int
acked(const struct sw_conf *conf, const char *id)
{
	for (size_t i = 0; i < conf->nacks; i++)
		if (strcmp(conf->acks[i], id) == 0)
			return 1;
	return 0;
}

static void
unsafe(struct ctx *c, const struct sw_conf *conf, uint32_t line,
    uint32_t col, const char *id, const char *why)
{
	if (!acked(conf, id))
		err_at(c, line, col, "%s; if that is intended, add \"%s\" to "
		    "acknowledge:", why, id);
}

#define UNLIMITED_PER_HOUR	(1000u * 3600u)

static int
zone_listens_any(const struct sw_conf *conf, size_t zone)
{
	for (size_t l = 0; l < conf->nlisten; l++)
		if (conf->listen[l].zone == zone &&
		    conf->listen[l].zone_name[0] != '\0' &&
		    conf->listen[l].addr.sa.sa_family != 0 &&
		    sw_addr_is_any(&conf->listen[l].addr))
			return 1;
	return 0;
}

/*
 * MEDIA1/MEDIA3 defaults that depend on the zone: its media address is
 * its first listener's (a zone without a listener has no legs), and
 * SRTP is preferred where the network is not ours.
 */
static void
check_media(struct ctx *c, struct sw_conf *conf, const struct ynode *root)
{
	const struct conf_media *m = &conf->media;
	const struct ynode *n;

	for (size_t i = 0; i < conf->nzones; i++) {
		struct conf_zone *z = &conf->zones[i];

		if (z->srtp == CONF_SRTP_DEFAULT)
			z->srtp = z->trust == CONF_TRUST_TRUSTED ?
			    CONF_SRTP_OFF : CONF_SRTP_REQUIRE;
		if (z->trust == CONF_TRUST_UNTRUSTED &&
		    z->srtp != CONF_SRTP_REQUIRE) {
			char id[CONF_ACK_MAX + 1], why[256];
			int off = z->srtp == CONF_SRTP_OFF;

			snprintf(id, sizeof(id), "%s:%s", off ? "srtp_off" :
			    "srtp_prefer", z->name);
			snprintf(why, sizeof(why), "zones[%zu]: srtp: %s on the "
			    "untrusted zone '%s' %s", i, off ? "off" : "prefer",
			    z->name, off ? "sends calls' audio in clear over "
			    "networks you do not control" : "lets a call fall "
			    "back to plain RTP over networks you do not control");
			unsafe(c, conf, z->at.line, z->at.col, id, why);
		}
		if (!m->anchor && z->srtp != CONF_SRTP_OFF)
			err_at(c, z->at.line, z->at.col, "zones[%zu]: srtp: %s "
			    "needs media anchored (with media.anchor: false the "
			    "SDP passes through and SRTP is neither seen nor "
			    "enforced); anchor media, or set srtp: off on zone "
			    "'%s' to accept plain RTP", i, conf_srtp_name(z->srtp),
			    z->name);
		if (z->media_address.sa.sa_family != 0) {
			sw_addr_set_port(&z->media_address, 0);
			if (sw_addr_is_any(&z->media_address))
				err_at(c, z->at.line, z->at.col, "zones[%zu]."
				    "media_address: a wildcard address cannot be "
				    "written into SDP; name the address the "
				    "zone's endpoints reach", i);
			continue;
		}
		for (size_t l = 0; l < conf->nlisten; l++)
			if (conf->listen[l].zone == i &&
			    conf->listen[l].zone_name[0] != '\0' &&
			    conf->listen[l].addr.sa.sa_family != 0 &&
			    !sw_addr_is_any(&conf->listen[l].addr)) {
				z->media_address = conf->listen[l].addr;
				sw_addr_set_port(&z->media_address, 0);
				break;
			}
		if (z->media_address.sa.sa_family == 0 && m->anchor &&
		    zone_listens_any(conf, i))
			err_at(c, z->at.line, z->at.col, "zones[%zu]: media is "
			    "anchored but the zone '%s' listens only on a "
			    "wildcard address; set media_address to the "
			    "address its endpoints reach", i, z->name);
	}
	if (m->port_min % 2 != 0 || m->port_max < m->port_min + 1) {
		n = ylookup(root, "media", "port_min", NULL);
		if (n == NULL)
			n = ylookup(root, "media", "port_max", NULL);
		err_at(c, n != NULL ? n->line : 1, n != NULL ? n->col : 1,
		    "media: port_min must be even (RTP on even ports, RTCP on "
		    "the next) and port_max above it; got %u-%u", m->port_min,
		    m->port_max);
	}
	/* a SIP port inside the media range would be handed out as RTP */
	for (size_t l = 0; m->anchor && l < conf->nlisten; l++) {
		const struct conf_listen *cl = &conf->listen[l];

		if (cl->addr.sa.sa_family == 0 ||
		    cl->transport != CONF_TRANSPORT_UDP ||
		    cl->port < m->port_min || cl->port > m->port_max)
			continue;
		err_at(c, cl->at.line, cl->at.col, "listen[%zu]: UDP port %u "
		    "is inside the media port range %u-%u; move one of them",
		    l, cl->port, m->port_min, m->port_max);
	}
	if (m->timeout_ms > 0 && m->timeout_ms < 1000) {
		n = ylookup(root, "media", "timeout", NULL);
		err_at(c, n != NULL ? n->line : 1, n != NULL ? n->col : 1,
		    "media.timeout: 0s (off) or at least 1s");
	}
	if (m->one_way_timeout_ms > 0 && m->one_way_timeout_ms < 1000) {
		n = ylookup(root, "media", "one_way_timeout", NULL);
		err_at(c, n != NULL ? n->line : 1, n != NULL ? n->col : 1,
		    "media.one_way_timeout: 0s (off) or at least 1s");
	}
}

/* Loopback, RFC 1918, RFC 6598, IPv6 ULA or link-local: not public. */
static int
addr_is_private(const union sw_addr *a)
{
	static const char *nets[] = { "127.0.0.0", "10.0.0.0", "172.16.0.0",
	    "192.168.0.0", "100.64.0.0", "::1", "fc00::", "fe80::" };
	static const unsigned plen[] = { 8, 8, 12, 16, 10, 128, 7, 10 };
	union sw_addr n;

	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		if (sw_addr_parse(nets[i], 0, &n) == 0 &&
		    n.sa.sa_family == a->sa.sa_family &&
		    sw_addr_in_prefix(a, &n, plen[i]))
			return 1;
	return 0;
}

/* No allow list, or one with a /0 in it: anyone may send. */
static int
zone_open(const struct conf_zone *z)
{
	if (z->nallow == 0)
		return 1;
	for (size_t i = 0; i < z->nallow; i++)
		if (z->allow[i].plen == 0)
			return 1;
	return 0;
}

/*
 * OPS2: the admin API exists only on the admin zone's address, behind
 * that zone's allow list and a token.
 */
static void
check_admin(struct ctx *c, struct sw_conf *conf, const struct ynode *root)
{
	struct conf_admin *a = &conf->admin;
	const struct ynode *n = ylookup(root, "admin", "http_port", NULL);
	uint32_t line = n != NULL ? n->line : 1, col = n != NULL ? n->col : 1;
	size_t z;

	if (a->http_port == 0)
		return;
	for (z = 0; z < conf->nzones; z++)
		if (strcmp(conf->zones[z].name, a->http_zone) == 0)
			break;
	if (z == conf->nzones) {
		err_at(c, line, col, "admin.http_zone: the admin API needs the "
		    "zone whose allow list guards it; '%s' is not defined "
		    "under zones", a->http_zone);
		return;
	}
	a->http_zone_idx = (uint32_t)z;
	if (conf->zones[z].nallow == 0)
		err_at(c, line, col, "admin.http_zone: zone '%s' has no allow "
		    "list; the admin API must name who may reach it",
		    a->http_zone);
	if (a->token_sha256[0] == '\0')
		err_at(c, line, col, "admin.token_sha256: the admin API needs a "
		    "bearer token; `sipwall admin token` makes one and prints "
		    "its hash");
	if (sw_addr_is_any(&a->http_address) ||
	    !addr_is_private(&a->http_address))
		unsafe(c, conf, line, col, "admin_public", "admin.http_address: "
		    "the admin API on a public or wildcard address is reachable "
		    "from the internet; bind it to a loopback or private "
		    "address of the admin network");
	for (size_t l = 0; l < conf->nlisten; l++)
		if (conf->listen[l].port == a->http_port &&
		    conf->listen[l].transport != CONF_TRANSPORT_UDP &&
		    sw_addr_eq_ip(&conf->listen[l].addr, &a->http_address))
			err_at(c, line, col, "admin.http_port: %u is a SIP "
			    "listener's port too", a->http_port);
}

static void
check_cross(struct ctx *c, struct sw_conf *conf, const struct ynode *root)
{
	const struct ynode *n;
	char a[SW_ADDR_STRLEN], t1[32], t2[32];

	for (size_t i = 0; i < conf->nzones; i++) {
		const struct conf_zone *z = &conf->zones[i];

		if (z->name[0] == '\0')
			continue;
		for (size_t j = 0; j < i; j++)
			if (strcmp(conf->zones[j].name, z->name) == 0) {
				err_at(c, z->name_at.line, z->name_at.col,
				    "zones[%zu].name: duplicate zone name "
				    "'%s' (first at line %u)", i, z->name,
				    conf->zones[j].name_at.line);
				break;
			}
	}

	for (size_t i = 0; i < conf->nlisten; i++) {
		struct conf_listen *l = &conf->listen[i];

		if (l->zone_name[0] != '\0') {
			size_t z;

			for (z = 0; z < conf->nzones; z++)
				if (strcmp(conf->zones[z].name,
				    l->zone_name) == 0)
					break;
			if (z < conf->nzones)
				l->zone = (uint32_t)z;
			else
				err_at(c, l->zone_at.line, l->zone_at.col,
				    "listen[%zu].zone: zone '%s' is not "
				    "defined under zones", i, l->zone_name);
		}
		if (l->addr.sa.sa_family == 0)
			continue;	/* bad or missing address, reported */
		if (seq_entry_bad(c, "listen", i))
			continue;
		sw_addr_set_port(&l->addr, l->port);
		for (size_t j = 0; j < i; j++) {
			const struct conf_listen *o = &conf->listen[j];

			if (o->addr.sa.sa_family != 0 &&
			    !seq_entry_bad(c, "listen", j) &&
			    o->transport == l->transport &&
			    sw_addr_eq(&o->addr, &l->addr)) {
				err_at(c, l->at.line, l->at.col,
				    "listen[%zu]: duplicate listener %s %s "
				    "(first at line %u)", i,
				    conf_transport_name(l->transport),
				    sw_addr_str(&l->addr, a, sizeof(a)),
				    o->at.line);
				break;
			}
		}
	}

	for (size_t i = 0; i < conf->nzones; i++) {
		const struct conf_zone *z = &conf->zones[i];

		if (seq_entry_bad(c, "zones", i))
			continue;
		/* DESIGN: nothing reaches the PBX unauthenticated */
		if (z->trust == CONF_TRUST_UNTRUSTED &&
		    z->auth == CONF_AUTH_NONE) {
			char id[CONF_ACK_MAX + 1], why[256];

			snprintf(id, sizeof(id), "auth_none:%s", z->name);
			snprintf(why, sizeof(why), "zones[%zu]: auth: none on "
			    "the untrusted zone '%s' would let anyone through "
			    "unauthenticated; set auth: required, or make it a "
			    "trusted zone with an allow list", i, z->name);
			unsafe(c, conf, z->at.line, z->at.col, id, why);
		}
		/* an open zone that no rate limit holds back: floods and
		 * brute force run at line rate (about 1000/s and more) */
		if (z->trust == CONF_TRUST_UNTRUSTED && zone_open(z) &&
		    z->rate.source.rate >= UNLIMITED_PER_HOUR) {
			char id[CONF_ACK_MAX + 1], why[256];

			snprintf(id, sizeof(id), "unlimited:%s", z->name);
			snprintf(why, sizeof(why), "zones[%zu]: the untrusted "
			    "zone '%s' admits any source and its per-source "
			    "rate limit (1000/s or more) holds nothing back", i,
			    z->name);
			unsafe(c, conf, z->at.line, z->at.col, id, why);
		}
		if (z->trust == CONF_TRUST_TRUSTED && z->nallow == 0 &&
		    !zone_by_certificate(conf, i))
			err_at(c, z->at.line, z->at.col, "zones[%zu]: the trusted "
			    "zone '%s' has no allow list; a trusted zone must "
			    "name the addresses it trusts (e.g. the PBX), or "
			    "listen only with TLS client certificates that carry "
			    "its tls.peer_names", i, z->name);
		for (size_t a1 = 0; a1 < z->nmethods; a1++)
			for (size_t a2 = 0; a2 < a1; a2++)
				if (z->methods[a1] == z->methods[a2]) {
					err_at(c, z->at.line, z->at.col,
					    "zones[%zu].methods: %s is listed "
					    "twice", i,
					    conf_method_name(z->methods[a1]));
					a2 = a1;
				}
		for (size_t a1 = 0; a1 < z->rate.nmethods; a1++)
			for (size_t a2 = 0; a2 < a1; a2++)
				if (z->rate.methods[a1].method ==
				    z->rate.methods[a2].method) {
					err_at(c, z->at.line, z->at.col,
					    "zones[%zu].rate_limits.methods: %s "
					    "has two limits", i, conf_method_name(
					    z->rate.methods[a1].method));
					a2 = a1;
				}
	}

	check_media(c, conf, root);
	check_admin(c, conf, root);
	check_core(c, conf, root);
	check_trunks(c, conf);
	check_listen_tls(c, conf);
	check_policy(c, conf, root);

	if (conf->registrar.min_expires_ms > conf->registrar.max_expires_ms ||
	    conf->registrar.default_expires_ms < conf->registrar.min_expires_ms ||
	    conf->registrar.default_expires_ms > conf->registrar.max_expires_ms) {
		n = ylookup(root, "registrar", NULL);
		err_at(c, n != NULL ? n->line : 1, n != NULL ? n->col : 1,
		    "registrar: expiry times must satisfy min_expires <= "
		    "default_expires <= max_expires");
	}
	if (conf->registrar.nat_keepalive_ms > 0 &&
	    conf->registrar.nat_keepalive_ms < 1000) {
		n = ylookup(root, "registrar", "nat_keepalive", NULL);
		err_at(c, n != NULL ? n->line : 1, n != NULL ? n->col : 1,
		    "registrar.nat_keepalive: 0s (off) or at least 1s");
	}
	for (size_t i = 0; i < conf->auth.nalgorithms; i++)
		for (size_t j = 0; j < i; j++)
			if (conf->auth.algorithms[i] == conf->auth.algorithms[j]) {
				n = ylookup(root, "auth", "algorithms", NULL);
				err_at(c, n != NULL ? n->line : 1,
				    n != NULL ? n->col : 1, "auth.algorithms: "
				    "%s is listed twice",
				    conf_algorithm_name(conf->auth.algorithms[i]));
			}

	if (conf->sip.timers.t2_ms < conf->sip.timers.t1_ms) {
		conf_duration_fmt(conf->sip.timers.t1_ms, t1, sizeof(t1));
		conf_duration_fmt(conf->sip.timers.t2_ms, t2, sizeof(t2));
		if ((n = ylookup(root, "sip", "timers", "t2", NULL)) != NULL)
			err_at(c, n->line, n->col, "sip.timers.t2: %s is less "
			    "than t1 (%s); T2 must be at least T1", t2, t1);
		else if ((n = ylookup(root, "sip", "timers", "t1", NULL)) != NULL)
			err_at(c, n->line, n->col, "sip.timers.t1: %s is more "
			    "than t2 (%s); T1 must not exceed T2", t1, t2);
	}

	if (conf->sip.tcp.max_connections_per_source >
	    conf->sip.tcp.max_connections) {
		n = ylookup(root, "sip", "tcp", "max_connections_per_source",
		    NULL);
		if (n == NULL)
			n = ylookup(root, "sip", "tcp", "max_connections", NULL);
		if (n != NULL)
			err_at(c, n->line, n->col,
			    "sip.tcp.max_connections_per_source: %u exceeds "
			    "max_connections (%u)",
			    conf->sip.tcp.max_connections_per_source,
			    conf->sip.tcp.max_connections);
	}
}

/* ------------------------------------------------------------------ */
/* Entry points.                                                       */

/* conf->digest: SHA-256 of buf[0..len) in hex, "" on a libcrypto error. */
static void
conf_digest(struct sw_conf *conf, const char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	conf->digest[0] = '\0';
	if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1 ||
	    n * 2 != CONF_SHA256_HEX)
		return;
	for (unsigned int i = 0; i < n; i++) {
		conf->digest[2 * i] = hex[md[i] >> 4];
		conf->digest[2 * i + 1] = hex[md[i] & 0xf];
	}
	conf->digest[CONF_SHA256_HEX] = '\0';
}

int
conf_load_buf(const char *name, const char *buf, size_t len,
    struct sw_conf **ret_conf, struct conf_diag *diag)
{
	struct sw_conf *conf = NULL;
	struct ynode *root = NULL;
	struct ctx c;
	size_t from = diag != NULL ? diag->n : 0;
	int r = 0;

	memset(&c, 0, sizeof(c));
	c.name = name != NULL ? name : "<config>";
	c.buf = buf != NULL ? buf : "";	/* libyaml asserts on NULL */
	c.len = buf != NULL ? len : 0;
	c.diag = diag;

	if (len > CONF_MAX_FILE) {
		err_at(&c, 0, 0, "file is too large (%zu bytes, max %d)", len,
		    CONF_MAX_FILE);
		return -EFBIG;
	}
	if (tree_build(&c, &root) < 0)
		goto out;
	if ((conf = malloc(sizeof(*conf))) == NULL) {
		c.nomem = 1;
		err_at(&c, 0, 0, "out of memory");
		goto out;
	}
	conf_defaults(conf);
	snprintf(conf->dir, sizeof(conf->dir), ".");
	if (root != NULL && root->kind != Y_MAP && !is_null(root) && !root->bad)
		err_at(&c, root->line, root->col, "the top level must be a "
		    "mapping of keys (version, node, listen, ...)");
	else if (root == NULL || !root->bad)
		walk_map(&c, conf_schema, conf,
		    root != NULL && root->kind == Y_MAP ? root : NULL, NULL);
	if (!c.nomem)
		check_cross(&c, conf, root);
out:
	arena_clear(&c.arena);
	if (diag != NULL)
		diag_sort(diag, from);
	if (c.nerr > 0 || conf == NULL) {
		free(conf);
		r = c.nomem ? -ENOMEM : -EINVAL;
		return r;
	}
	conf_digest(conf, c.buf, c.len);
	*ret_conf = conf;
	return 0;
}

int
conf_load(const char *path, struct sw_conf **ret_conf, struct conf_diag *diag)
{
	struct sw_conf *conf = NULL;
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = -errno;
		diag_add(diag, path, 0, 0, "cannot open: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		diag_add(diag, path, 0, 0, "cannot stat: %s", strerror(-r));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		diag_add(diag, path, 0, 0, "is a directory, not a config "
		    "file");
		goto out;
	}
	if (S_ISREG(st.st_mode) && st.st_size > CONF_MAX_FILE) {
		r = -EFBIG;
		diag_add(diag, path, 0, 0, "file is too large (%lld bytes, "
		    "max %d)", (long long)st.st_size, CONF_MAX_FILE);
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap > CONF_MAX_FILE) {
				r = -EFBIG;
				diag_add(diag, path, 0, 0, "file is too large "
				    "(more than %d bytes)", CONF_MAX_FILE);
				goto out;
			}
			cap = cap == 0 ? 16384 : cap * 2;
			if (cap > (size_t)CONF_MAX_FILE + 1)
				cap = (size_t)CONF_MAX_FILE + 1;
			if ((nb = realloc(buf, cap)) == NULL) {
				r = -ENOMEM;
				diag_add(diag, path, 0, 0, "out of memory");
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			diag_add(diag, path, 0, 0, "cannot read: %s",
			    strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = conf_load_buf(path, buf, len, &conf, diag);
	if (r == 0) {
		/* relative TLS paths start at the file's directory */
		const char *slash = strrchr(path, '/');
		size_t n = slash == NULL ? 0 : slash == path ? 1 :
		    (size_t)(slash - path);

		if (n > CONF_DIR_MAX) {
			diag_add(diag, path, 0, 0, "the directory name is too "
			    "long (max %d bytes)", CONF_DIR_MAX);
			conf_free(conf);
			r = -ENAMETOOLONG;
		} else {
			if (n > 0) {
				memcpy(conf->dir, path, n);
				conf->dir[n] = '\0';
			}
			*ret_conf = conf;
		}
	}
out:
	free(buf);
	close(fd);
	return r;
}

void
conf_free(struct sw_conf *conf)
{
	free(conf);
}

int
conf_path_resolve(const struct sw_conf *conf, const char *path, char *buf,
    size_t cap)
{
	int n;

	if (path[0] == '/' || strcmp(conf->dir, ".") == 0)
		n = snprintf(buf, cap, "%s", path);
	else
		n = snprintf(buf, cap, "%s%s%s", conf->dir,
		    strcmp(conf->dir, "/") == 0 ? "" : "/", path);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* ------------------------------------------------------------------ */
/* Listeners from the command line.                                    */

#define OVERRIDE_NAME	"command line"
#define OVERRIDE_MAX	128

int
conf_listen_override(struct sw_conf *conf, const char *spec,
    struct conf_diag *diag)
{
	char q[CONF_QUOTE_MAX + 8], qip[CONF_QUOTE_MAX + 8];
	char ip[INET6_ADDRSTRLEN + 1], a[SW_ADDR_STRLEN];
	const char *p, *colon, *portp = NULL;
	struct conf_listen l;
	size_t speclen, iplen;
	uint32_t port = 5060, zone;
	int transport = -1;

	if (spec == NULL)
		spec = "";
	speclen = strnlen(spec, OVERRIDE_MAX + 1);
	qtext(spec, speclen, q, sizeof(q));
	if (speclen > OVERRIDE_MAX) {
		diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': too long",
		    q);
		return -EINVAL;
	}
	if ((colon = strchr(spec, ':')) == NULL) {
		diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': expected "
		    "PROTO:ADDR[:PORT], e.g. udp:127.0.0.1:5060 or "
		    "udp:[::1]:5060", q);
		return -EINVAL;
	}
	for (const struct conf_enum_val *e = conf_transport_vals;
	    e->name != NULL; e++) {
		if (strlen(e->name) != (size_t)(colon - spec) ||
		    memcmp(e->name, spec, (size_t)(colon - spec)) != 0)
			continue;
		if (e->unsupported != NULL) {
			diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': "
			    "transport '%s' is %s", q, e->name,
			    e->unsupported);
			return -EINVAL;
		}
		if (e->value == CONF_TRANSPORT_TLS) {
			diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': a tls "
			    "listener needs a certificate and a key: configure "
			    "it in the file", q);
			return -EINVAL;
		}
		transport = e->value;
	}
	if (transport < 0) {
		diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': unknown "
		    "transport (use udp or tcp)", q);
		return -EINVAL;
	}

	p = colon + 1;
	if (*p == '[') {
		const char *end = strchr(p, ']');

		if (end == NULL) {
			diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': "
			    "missing ']' after the IPv6 address", q);
			return -EINVAL;
		}
		iplen = (size_t)(end - p - 1);
		if (iplen >= sizeof(ip))
			iplen = sizeof(ip) - 1;	/* then fails to parse */
		memcpy(ip, p + 1, iplen);
		ip[iplen] = '\0';
		if (end[1] == ':')
			portp = end + 2;
		else if (end[1] != '\0') {
			diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': "
			    "expected ':PORT' after ']'", q);
			return -EINVAL;
		}
		if (strchr(ip, ':') == NULL) {
			diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': "
			    "brackets are only for IPv6 addresses", q);
			return -EINVAL;
		}
	} else {
		const char *c2 = strchr(p, ':');

		if (c2 != NULL && strchr(c2 + 1, ':') != NULL) {
			diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': put "
			    "an IPv6 address in brackets, e.g. "
			    "udp:[::1]:5060", q);
			return -EINVAL;
		}
		iplen = c2 != NULL ? (size_t)(c2 - p) : strlen(p);
		if (iplen >= sizeof(ip))
			iplen = sizeof(ip) - 1;	/* then fails to parse */
		memcpy(ip, p, iplen);
		ip[iplen] = '\0';
		if (c2 != NULL)
			portp = c2 + 1;
	}
	if (portp != NULL &&
	    (parse_u32(slice_cstr(portp), 65535, &port) < 0 || port == 0 ||
	    (portp[0] == '0'))) {
		diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': bad port "
		    "(expected 1..65535)", q);
		return -EINVAL;
	}

	memset(&l, 0, sizeof(l));
	if (ip[0] == '\0' || sw_addr_parse(ip, (uint16_t)port, &l.addr) < 0) {
		diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': '%s' is not "
		    "an IPv4 or IPv6 address (host names are not allowed)", q,
		    qtext(ip, strlen(ip), qip, sizeof(qip)));
		return -EINVAL;
	}
	l.transport = (enum conf_transport)transport;
	l.port = (uint16_t)port;

	if (conf->nlisten > 0)
		zone = conf->listen[0].zone;
	else if (conf->nzones > 0)
		zone = 0;
	else {
		diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': no zone is "
		    "defined to put the listener in", q);
		return -EINVAL;
	}
	if (zone >= conf->nzones)
		zone = 0;
	l.zone = zone;
	snprintf(l.zone_name, sizeof(l.zone_name), "%s", conf->zones[zone].name);

	if (conf->listen_overridden) {
		if (conf->nlisten >= CONF_MAX_LISTEN) {
			diag_add(diag, OVERRIDE_NAME, 0, 0, "listen '%s': too "
			    "many listeners (max %d)", q, CONF_MAX_LISTEN);
			return -EINVAL;
		}
		for (size_t i = 0; i < conf->nlisten; i++)
			if (conf->listen[i].transport == l.transport &&
			    sw_addr_eq(&conf->listen[i].addr, &l.addr)) {
				diag_add(diag, OVERRIDE_NAME, 0, 0, "listen "
				    "'%s': duplicate listener %s %s", q,
				    conf_transport_name(l.transport),
				    sw_addr_str(&l.addr, a, sizeof(a)));
				return -EINVAL;
			}
	} else {
		conf->nlisten = 0;
		conf->listen_overridden = true;
	}
	conf->listen[conf->nlisten++] = l;
	return 0;
}
