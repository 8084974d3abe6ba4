/*
 * `sipwall account ...` (OPS1, AUTH2): add, list, show, disable,
 * enable, rotate, delete, audit and import SIP accounts in the store,
 * unlock (a brute-force lock, in the running daemon);
 * limits and unblock (FRAUD2) are in cmd_limits.c.
 *
 * Passwords: read from standard input (--password-stdin, one line), from
 * an import file (username,password[,domain] lines) or generated,
 * checked for strength (auth/creds.h) and reuse (the store's keyed
 * fingerprint), turned into HA1 values and wiped.  A
 * generated password is printed once and is never stored or logged.
 * Nothing here prints an HA1 or a fingerprint.
 *
 * The digest realm of an account is its domain (lowercase); without
 * --domain (or USER@DOMAIN) the domain is ACCOUNT_DEFAULT_DOMAIN.
 *
 * Exit status: 0 done, 1 refused or failed (unknown account, weak
 * password, store error; audit: findings), 2 bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/creds.h"
#include "cli/cmd_account.h"
#include "cli/cmd_ctl.h"
#include "cli/cmd_limits.h"
#include "cli/store_open.h"
#include "store/store.h"

#define ACCOUNT_DEFAULT_DOMAIN	"sipwall"
#define AUDIT_ROTATE_DAYS	365

/* Options understood by some action; each action says which. */
enum {
	O_DOMAIN	= 1u << 0,
	O_GROUP		= 1u << 1,
	O_ALLOW		= 1u << 2,
	O_MAXC		= 1u << 3,
	O_PWSTDIN	= 1u << 4,
	O_WEAK		= 1u << 5,
	O_JSON		= 1u << 6,
};

struct opts {
	const char	*conf;		/* -c */
	const char	*dir;		/* -D */
	const char	*domain;
	const char	*group;
	char		 allow[STORE_CIDRS_MAX + 1];
	bool		 allow_set;
	uint32_t	 max_contacts;
	bool		 pw_stdin;
	bool		 allow_weak;
	bool		 json;
	/* The account named by the USER argument. */
	char		 user[STORE_USERNAME_MAX + 1];
	char		 dom[STORE_DOMAIN_MAX + 1];
	char		 aor[STORE_AOR_MAX + 1];
	/* The FILE argument of import ("-": standard input). */
	const char	*file;
};

struct action {
	const char	*name;
	int		(*fn)(struct opts *o);
	unsigned	 allowed;
	bool		 needs_user;
	bool		 needs_file;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sipwall account [-c FILE] [-D DIR] ACTION [ARGS]\n"
	    "\n"
	    "Manage SIP accounts in the store.  Only HA1 hashes are stored,\n"
	    "never a password.\n"
	    "\n"
	    "actions:\n"
	    "  add USER [--domain D] [--group G] [--allow CIDR]...\n"
	    "      [--max-contacts N] [--password-stdin] [--allow-weak] [--json]\n"
	    "                 add an account; without --password-stdin a strong\n"
	    "                 password is generated and printed once\n"
	    "  list [--json]  all accounts\n"
	    "  show USER [--domain D] [--json]\n"
	    "                 one account and its registrations\n"
	    "  disable USER [--domain D]\n"
	    "  enable USER [--domain D]\n"
	    "  rotate USER [--domain D] [--json]\n"
	    "                 new generated password (printed once)\n"
	    "  delete USER [--domain D]\n"
	    "                 delete the account and its registrations\n"
	    "  limits USER [--domain D] [--json]\n"
	    "                 its group's fraud limits and what it used of\n"
	    "                 them this minute and today\n"
	    "  unblock USER [--domain D]\n"
	    "                 reset its usage counters (also in a running\n"
	    "                 daemon) and clear a brute-force lock\n"
	    "  unlock USER [--domain D]\n"
	    "                 lift its brute-force lock in the running daemon\n"
	    "                 now (and a lock kept in the store)\n"
	    "  audit [--json] shared passwords, disabled but registered,\n"
	    "                 not rotated for %d days, no source restriction;\n"
	    "                 exit 1 when something is found\n"
	    "  import FILE|- [--domain D] [--group G] [--allow CIDR]...\n"
	    "      [--max-contacts N] [--allow-weak] [--json]\n"
	    "                 add the accounts of FILE (- : standard input),\n"
	    "                 lines username,password[,domain]; all of them\n"
	    "                 in one transaction, or none if a line is wrong\n"
	    "\n"
	    "USER may be written USER@DOMAIN.  The domain is also the digest\n"
	    "realm; it defaults to \"%s\".  Options may appear anywhere\n"
	    "after \"account\".\n"
	    "\n"
	    "  -c, --config FILE      config file (default %s);\n"
	    "                         the store is state_dir/store.path\n"
	    "  -D, --dir DIR          state directory, overrides node.state_dir\n"
	    "                         (without a config: DIR/sipwall.db)\n"
	    "  --password-stdin       read the password from standard input\n"
	    "                         (one line, at most %d bytes)\n"
	    "  --allow-weak           store a weak or reused password anyway\n"
	    "  --allow CIDR           allowed source prefix (repeatable);\n"
	    "                         none: any source\n"
	    "  --max-contacts N       registrations at once, 1..%d (default %d)\n"
	    "  --group G              account group (default \"%s\")\n"
	    "  --json                 machine-readable output\n",
	    AUDIT_ROTATE_DAYS, ACCOUNT_DEFAULT_DOMAIN, CLI_DEFAULT_CONFIG,
	    CREDS_PW_MAX, STORE_MAX_CONTACTS, STORE_DEFAULT_MAX_CONTACTS,
	    STORE_DEFAULT_GROUP);
}

#define bad_usage(...)	cli_bad_usage("account", usage, __VA_ARGS__)

/* --- arguments ----------------------------------------------------------- */

static int
parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -EINVAL;
	}
	if (v < min)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int
add_allow(struct opts *o, const char *cidr)
{
	char canon[STORE_CIDR_MAX + 1], joined[STORE_CIDRS_MAX * 2 + 2];

	if (store_cidr_canon(cidr, canon, sizeof(canon)) < 0)
		return bad_usage("invalid --allow '%s': expected an IPv4 or "
		    "IPv6 address or prefix with no host bits set (like "
		    "192.0.2.0/24 or 2001:db8::/48)", cidr);
	snprintf(joined, sizeof(joined), "%s%s%s", o->allow,
	    o->allow[0] != '\0' ? " " : "", canon);
	if (store_cidrs_canon(joined, o->allow, sizeof(o->allow)) < 0)
		return bad_usage("too many --allow prefixes (at most %d)",
		    STORE_MAX_CIDRS);
	o->allow_set = true;
	return 0;
}

/*
 * s[0..len) for a message: at most 64 bytes, anything but printable
 * ASCII shown as '?', "..." when cut.  Returns buf.
 */
static const char *
printable(const char *s, size_t len, char buf[72])
{
	size_t i, n = len > 64 ? 64 : len;

	for (i = 0; i < n; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/*
 * Split USER[@DOMAIN] (arg[0..len)), apply domain (--domain or an
 * import line's third field; NULL: none) and the default, validate, and
 * write the parts to ret_user and ret_dom (lowercase).  Shared by the
 * USER argument and `import` lines.  Returns 0, or -1 with what is
 * wrong, naming the value, in reterr[0..cap).
 */
static int
account_name(const char *arg, size_t len, const char *domain,
    char ret_user[STORE_USERNAME_MAX + 1], char ret_dom[STORE_DOMAIN_MAX + 1],
    char *reterr, size_t cap)
{
	const char *at = memchr(arg, '@', len);
	size_t ulen = at != NULL ? (size_t)(at - arg) : len;
	char dom[STORE_DOMAIN_MAX + 2], pa[72], pb[72];

	if (at != NULL) {
		size_t dlen = len - ulen - 1;

		if (dlen == 0 || dlen >= sizeof(dom) ||
		    memchr(at + 1, '\0', dlen) != NULL) {
			snprintf(reterr, cap, "invalid domain '%s': a host "
			    "name or IP address", printable(at + 1, dlen, pa));
			return -1;
		}
		memcpy(dom, at + 1, dlen);
		dom[dlen] = '\0';
		if (domain != NULL && strcasecmp(domain, dom) != 0) {
			snprintf(reterr, cap, "'%s' and domain '%s' disagree",
			    printable(arg, len, pa),
			    printable(domain, strlen(domain), pb));
			return -1;
		}
		domain = dom;
	}
	if (domain == NULL)
		domain = ACCOUNT_DEFAULT_DOMAIN;
	if (ulen == 0 || ulen > STORE_USERNAME_MAX) {
		snprintf(reterr, cap, "invalid username '%s': 1 to %d "
		    "characters", printable(arg, ulen, pa), STORE_USERNAME_MAX);
		return -1;
	}
	memcpy(ret_user, arg, ulen);
	ret_user[ulen] = '\0';
	if (memchr(arg, '\0', ulen) != NULL ||
	    !store_username_valid(ret_user)) {
		snprintf(reterr, cap, "invalid username '%s': use letters, "
		    "digits and -_.!~*'()&=+$,;?/", printable(arg, ulen, pa));
		return -1;
	}
	if (store_domain_canon(domain, ret_dom, STORE_DOMAIN_MAX + 1) < 0) {
		snprintf(reterr, cap, "invalid domain '%s': a host name or IP "
		    "address", printable(domain, strlen(domain), pa));
		return -1;
	}
	return 0;
}

/* The USER argument: account_name() into o, or usage. */
static int
parse_user(struct opts *o, const char *arg)
{
	char why[256];

	if (account_name(arg, strlen(arg), o->domain, o->user, o->dom, why,
	    sizeof(why)) < 0)
		return bad_usage("%s", why);
	snprintf(o->aor, sizeof(o->aor), "%s@%s", o->user, o->dom);
	return 0;
}

/*
 * Options of the action in argv[0] (options may also appear before
 * it, handled by cmd_account); exactly one USER when needs_user.
 */
static int
parse_opts(int argc, char **argv, const struct action *a, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config",		required_argument, NULL, 'c' },
		{ "dir",		required_argument, NULL, 'D' },
		{ "domain",		required_argument, NULL, 'd' },
		{ "group",		required_argument, NULL, 'g' },
		{ "allow",		required_argument, NULL, 'a' },
		{ "max-contacts",	required_argument, NULL, 'm' },
		{ "password-stdin",	no_argument,	   NULL, 'p' },
		{ "allow-weak",		no_argument,	   NULL, 'w' },
		{ "json",		no_argument,	   NULL, 'j' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL,			0,		   NULL, 0 }
	};
	unsigned need;
	int ch, r;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":c:D:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':	o->conf = optarg;	continue;
		case 'D':	o->dir = optarg;	continue;
		case 'h':	usage(stdout);		return -1;
		case 'd':	need = O_DOMAIN;	break;
		case 'g':	need = O_GROUP;		break;
		case 'a':	need = O_ALLOW;		break;
		case 'm':	need = O_MAXC;		break;
		case 'p':	need = O_PWSTDIN;	break;
		case 'w':	need = O_WEAK;		break;
		case 'j':	need = O_JSON;		break;
		case ':':
			return bad_usage("option '%s' needs a value",
			    argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'",
			    argv[optind - 1]);
		}
		if (!(a->allowed & need))
			return bad_usage("option '%s' does not apply to '%s'",
			    argv[optind - 1], a->name);
		switch (ch) {
		case 'd':
			o->domain = optarg;
			break;
		case 'g':
			if (!store_group_valid(optarg))
				return bad_usage("invalid group '%s': 1 to %d of "
				    "letters, digits, '.', '_' and '-'", optarg,
				    STORE_GROUP_MAX);
			o->group = optarg;
			break;
		case 'a':
			if ((r = add_allow(o, optarg)) != 0)
				return r;
			break;
		case 'm':
			if (parse_uint(optarg, 1, STORE_MAX_CONTACTS,
			    &o->max_contacts) < 0)
				return bad_usage("invalid --max-contacts '%s': "
				    "1 to %d", optarg, STORE_MAX_CONTACTS);
			break;
		case 'p':
			o->pw_stdin = true;
			break;
		case 'w':
			o->allow_weak = true;
			break;
		case 'j':
			o->json = true;
			break;
		}
	}
	if (a->needs_user) {
		if (argc - optind != 1)
			return bad_usage("'%s' takes one USER", a->name);
		return parse_user(o, argv[optind]);
	}
	if (a->needs_file) {
		if (argc - optind != 1)
			return bad_usage("'%s' takes one FILE (or - for "
			    "standard input)", a->name);
		if (o->domain != NULL) {
			char dom[STORE_DOMAIN_MAX + 1];

			if (store_domain_canon(o->domain, dom, sizeof(dom)) < 0)
				return bad_usage("invalid domain '%s': a host "
				    "name or IP address", o->domain);
		}
		o->file = argv[optind];
		return 0;
	}
	if (argc - optind != 0)
		return bad_usage("'%s' takes no arguments (got '%s')", a->name,
		    argv[optind]);
	return 0;
}

/* --- passwords -------------------------------------------------------------- */

/*
 * One line from standard input into pw[0..cap) (cap > CREDS_PW_MAX + 2),
 * without echo on a terminal.  Returns the length, or -1 after printing
 * why.  The caller wipes pw.
 */
static ssize_t
read_password(char *pw, size_t cap)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &old) == 0;
	size_t n = 0, limit = CREDS_PW_MAX + 2;	/* + CR, + one to see "too long" */
	bool nl = false, nul = false;

	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fprintf(stderr, "Password: ");
	}
	while (n < limit && n + 1 < cap) {
		ssize_t k = read(STDIN_FILENO, pw + n, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (pw[n] == '\n') {
			nl = true;
			break;
		}
		if (pw[n] == '\0')
			nul = true;
		n++;
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (n > 0 && pw[n - 1] == '\r')
		n--;
	pw[n] = '\0';
	if (nul) {
		fprintf(stderr, "sipwall: password contains a NUL byte\n");
		return -1;
	}
	if (n > CREDS_PW_MAX || (!nl && n == limit)) {
		fprintf(stderr, "sipwall: password longer than %d bytes\n",
		    CREDS_PW_MAX);
		return -1;
	}
	if (n == 0) {
		fprintf(stderr, "sipwall: empty password on standard input\n");
		return -1;
	}
	return (ssize_t)n;
}

struct reuse {
	const char	*fp;
	const char	*skip_aor;
	char		 aor[STORE_AOR_MAX + 1];
};

static int
find_reuse(void *arg, const struct store_account *a)
{
	struct reuse *ru = arg;
	char aor[STORE_AOR_MAX + 1];

	snprintf(aor, sizeof(aor), "%s@%s", a->username, a->domain);
	if (a->pw_fp[0] != '\0' && strcmp(a->pw_fp, ru->fp) == 0 &&
	    (ru->skip_aor == NULL || strcmp(aor, ru->skip_aor) != 0)) {
		snprintf(ru->aor, sizeof(ru->aor), "%s", aor);
		return 1;
	}
	return 0;
}

/*
 * Write "password: PW\n" (or a JSON object) with write(2), so that no
 * stdio buffer keeps a copy; the local buffers are wiped.
 */
static int
print_secret(const struct opts *o, const char *what, const char *pw)
{
	char buf[2048];
	size_t len;
	ssize_t k;
	int r = 0;

	fflush(stdout);
	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "account", o->aor,
		    "username", o->user, "domain", o->dom, "password", pw);

		len = j != NULL ? json_dumpb(j, buf, sizeof(buf) - 1,
		    JSON_INDENT(2) | JSON_PRESERVE_ORDER) : 0;
		json_decref(j);
		if (len == 0 || len >= sizeof(buf) - 1) {
			explicit_bzero(buf, sizeof(buf));
			fprintf(stderr, "sipwall: cannot format JSON\n");
			return 1;
		}
		buf[len++] = '\n';
	} else {
		int n = snprintf(buf, sizeof(buf), "account %s %s\n"
		    "password: %s\n", o->aor, what, pw);

		if (n < 0 || (size_t)n >= sizeof(buf)) {
			explicit_bzero(buf, sizeof(buf));
			return 1;
		}
		len = (size_t)n;
	}
	for (size_t off = 0; off < len; off += (size_t)k) {
		k = write(STDOUT_FILENO, buf + off, len - off);
		if (k < 0 && errno == EINTR) {
			k = 0;
			continue;
		}
		if (k <= 0) {
			r = 1;
			break;
		}
	}
	explicit_bzero(buf, sizeof(buf));
	if (r != 0)
		fprintf(stderr, "sipwall: cannot write the password\n");
	else if (isatty(STDOUT_FILENO))
		fprintf(stderr, "sipwall: the password is shown only this "
		    "once; it is not stored\n");
	return r;
}

/*
 * HA1 values and keyed fingerprint of pw[0..len) for user@dom: what
 * `add`, `rotate` and `import` store.  Returns 0, or -1 with the reason
 * in reterr[0..cap) (ha1 and fp are then wiped).
 */
static int
hash_password(struct store *st, const char *user, const char *dom,
    const char *pw, size_t len, struct ha1_set *ha1,
    char fp[STORE_PWFP_LEN + 1], char *reterr, size_t cap)
{
	int r;

	r = creds_ha1_all(slice_cstr(user), slice_cstr(dom),
	    slice_make(pw, len), ha1);
	if (r < 0) {
		snprintf(reterr, cap, "cannot compute HA1 for '%s@%s': %s",
		    user, dom, r == -EINVAL ? "username or domain (realm) "
		    "too long" : strerror(-r));
		return -1;
	}
	if ((r = store_pw_fingerprint(st, pw, len, fp)) < 0) {
		explicit_bzero(ha1, sizeof(*ha1));
		explicit_bzero(fp, STORE_PWFP_LEN + 1);
		snprintf(reterr, cap, "cannot fingerprint the password: %s",
		    store_strerror(r));
		return -1;
	}
	return 0;
}

/* hash_password() for the account in o; errors printed. 0 or 1. */
static int
hash_password_opts(struct store *st, const struct opts *o, const char *pw,
    size_t len, struct ha1_set *ha1, char fp[STORE_PWFP_LEN + 1])
{
	char why[512];

	if (hash_password(st, o->user, o->dom, pw, len, ha1, fp, why,
	    sizeof(why)) < 0) {
		fprintf(stderr, "sipwall: %s\n", why);
		return 1;
	}
	return 0;
}

/*
 * The strength verdict on a password the operator chose: CREDS_OK, or
 * the reason.  *ret_refuse says whether to refuse it: always for
 * control characters, invalid UTF-8 and over-long passwords, for the
 * other reasons unless allow_weak.
 */
static enum creds_reason
password_verdict(const char *user, const char *dom, const char *pw,
    size_t len, bool allow_weak, bool *ret_refuse)
{
	enum creds_reason why;

	why = creds_check_password(slice_cstr(user), slice_cstr(dom),
	    slice_make(pw, len));
	*ret_refuse = why == CREDS_E_CHARSET || why == CREDS_E_LONG ||
	    (why != CREDS_OK && !allow_weak);
	return why;
}

/* A new account row from the options in o (the fields of `add`). */
static void
account_fill(struct store_account *a, const struct opts *o, const char *user,
    const char *dom, const struct ha1_set *ha1,
    const char fp[STORE_PWFP_LEN + 1], int64_t now)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->username, sizeof(a->username), "%s", user);
	snprintf(a->domain, sizeof(a->domain), "%s", dom);
	memcpy(a->ha1_md5, ha1->md5, sizeof(a->ha1_md5));
	memcpy(a->ha1_sha256, ha1->sha256, sizeof(a->ha1_sha256));
	memcpy(a->pw_fp, fp, sizeof(a->pw_fp));
	snprintf(a->grp, sizeof(a->grp), "%s", o->group != NULL ? o->group :
	    STORE_DEFAULT_GROUP);
	snprintf(a->allow_cidrs, sizeof(a->allow_cidrs), "%s", o->allow);
	a->max_contacts = o->max_contacts != 0 ? o->max_contacts :
	    STORE_DEFAULT_MAX_CONTACTS;
	a->enabled = true;
	a->created = now;
}

/* --- actions -------------------------------------------------------------------- */

static int
not_found(const struct opts *o)
{
	fprintf(stderr, "sipwall: account '%s' not found\n", o->aor);
	return 1;
}

static int
store_failed(const char *what, const struct opts *o, int r)
{
	fprintf(stderr, "sipwall: cannot %s account '%s': %s\n", what, o->aor,
	    store_strerror(r));
	return 1;
}

static int
act_add(struct opts *o)
{
	char pw[CREDS_PW_MAX + 4], fp[STORE_PWFP_LEN + 1];
	struct store_account a, old;
	struct cli_store cs = { 0 };
	struct reuse ru = { 0 };
	struct ha1_set ha1;
	enum creds_reason why = CREDS_OK;
	bool refuse;
	ssize_t len;
	int r, rc = 1;

	if (o->pw_stdin) {
		if ((len = read_password(pw, sizeof(pw))) < 0)
			goto out;
		why = password_verdict(o->user, o->dom, pw, (size_t)len,
		    o->allow_weak, &refuse);
		/* Unusable, whatever --allow-weak says. */
		if (why == CREDS_E_CHARSET || why == CREDS_E_LONG) {
			fprintf(stderr, "sipwall: password refused: it %s\n",
			    creds_reason_text(why));
			goto out;
		}
		if (refuse) {
			fprintf(stderr, "sipwall: weak password refused for "
			    "'%s': it %s (%s); use --allow-weak to store it "
			    "anyway\n", o->aor, creds_reason_text(why),
			    creds_reason_name(why));
			goto out;
		}
	} else {
		r = creds_generate_password(pw, sizeof(pw), CREDS_GEN_DEFAULT);
		if (r < 0) {
			fprintf(stderr, "sipwall: cannot generate a password: "
			    "%s\n", strerror(-r));
			goto out;
		}
		len = r;
	}

	if ((rc = cli_store_open(o->conf, o->dir, true, &cs)) != 0)
		goto out;
	rc = 1;
	if ((r = store_account_get(cs.st, o->user, o->dom, &old)) == 0) {
		fprintf(stderr, "sipwall: account '%s' already exists\n", o->aor);
		goto out;
	}
	if (r != -ENOENT) {
		store_failed("look up", o, r);
		goto out;
	}
	if (hash_password_opts(cs.st, o, pw, (size_t)len, &ha1, fp) != 0)
		goto out;
	ru.fp = fp;
	if ((r = store_account_list(cs.st, find_reuse, &ru)) < 0) {
		store_failed("check password reuse for", o, r);
		goto out;
	}
	if (r == 1) {
		if (!o->allow_weak) {
			fprintf(stderr, "sipwall: password refused for '%s': "
			    "account '%s' has the same password; use "
			    "--allow-weak to store it anyway\n", o->aor, ru.aor);
			goto out;
		}
		fprintf(stderr, "sipwall: warning: '%s' shares its password "
		    "with '%s'\n", o->aor, ru.aor);
	}
	if (why != CREDS_OK)
		fprintf(stderr, "sipwall: warning: weak password stored for "
		    "'%s' (--allow-weak): it %s\n", o->aor,
		    creds_reason_text(why));

	account_fill(&a, o, o->user, o->dom, &ha1, fp, (int64_t)time(NULL));
	/*
	 * Commit only once a generated password has been written out: an
	 * account whose password nobody saw is useless.
	 */
	if ((r = store_begin(cs.st)) == 0 &&
	    (r = store_account_add(cs.st, &a, NULL)) < 0)
		store_rollback(cs.st);
	explicit_bzero(&a, sizeof(a));
	if (r == -EEXIST) {
		fprintf(stderr, "sipwall: account '%s' already exists\n", o->aor);
		goto out;
	}
	if (r < 0) {
		store_failed("add", o, r);
		goto out;
	}
	if (!o->pw_stdin && print_secret(o, "added", pw) != 0) {
		store_rollback(cs.st);
		fprintf(stderr, "sipwall: account '%s' not added\n", o->aor);
		goto out;
	}
	if ((r = store_commit(cs.st)) < 0) {
		store_rollback(cs.st);
		store_failed("add", o, r);
		if (!o->pw_stdin)
			fprintf(stderr, "sipwall: the password printed above "
			    "is not valid\n");
		goto out;
	}
	if (!o->pw_stdin)
		rc = 0;
	else if (o->json)
		rc = cli_json_print(json_pack("{s:s, s:s, s:s}", "account",
		    o->aor, "username", o->user, "domain", o->dom));
	else {
		printf("account %s added\n", o->aor);
		rc = fflush(stdout) != 0;
	}
out:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(&ha1, sizeof(ha1));
	explicit_bzero(fp, sizeof(fp));
	cli_store_close(&cs);
	return rc;
}

static const char *
state_of(const struct store_account *a, int64_t now)
{
	if (!a->enabled)
		return "disabled";
	if (a->locked_until > now)
		return "locked";
	return "enabled";
}

static json_t *
jstr(const char *s)
{
	json_t *j = json_string(s);

	return j != NULL ? j : json_string("");
}

/* The allow list as a JSON array of CIDR strings. */
static json_t *
cidrs_json(const char *cidrs)
{
	json_t *arr = json_array();
	const char *p = cidrs;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n > 0)
			json_array_append_new(arr, json_stringn(p, n));
		p += n;
		while (*p == ' ')
			p++;
	}
	return arr;
}

static json_t *
account_json(const struct store_account *a, int64_t now, unsigned nreg)
{
	char aor[STORE_AOR_MAX + 1];
	json_t *j;

	snprintf(aor, sizeof(aor), "%s@%s", a->username, a->domain);
	j = json_object();
	json_object_set_new(j, "account", jstr(aor));
	json_object_set_new(j, "username", jstr(a->username));
	json_object_set_new(j, "domain", jstr(a->domain));
	json_object_set_new(j, "id", json_integer(a->id));
	json_object_set_new(j, "group", jstr(a->grp));
	json_object_set_new(j, "state", jstr(state_of(a, now)));
	json_object_set_new(j, "enabled", json_boolean(a->enabled));
	json_object_set_new(j, "locked_until", json_integer(a->locked_until));
	json_object_set_new(j, "max_contacts", json_integer(a->max_contacts));
	json_object_set_new(j, "allow", cidrs_json(a->allow_cidrs));
	json_object_set_new(j, "created", json_integer(a->created));
	json_object_set_new(j, "rotated", json_integer(a->rotated));
	json_object_set_new(j, "registrations", json_integer(nreg));
	return j;
}

struct list_ctx {
	struct store	*st;
	int64_t		 now;
	json_t		*arr;
	int		 err;
	size_t		 n;
};

static int
list_one(void *arg, const struct store_account *a)
{
	struct list_ctx *lc = arg;
	char aor[STORE_AOR_MAX + 1], created[32], contacts[24];
	unsigned nreg = 0;
	int r;

	snprintf(aor, sizeof(aor), "%s@%s", a->username, a->domain);
	if ((r = store_reg_count(lc->st, aor, lc->now, &nreg)) < 0)
		return r;
	lc->n++;
	if (lc->arr != NULL) {
		json_array_append_new(lc->arr, account_json(a, lc->now, nreg));
		return 0;
	}
	snprintf(contacts, sizeof(contacts), "%u/%u", nreg, a->max_contacts);
	cli_time_str(a->created, created, sizeof(created));
	created[10] = '\0';		/* the date is enough here */
	printf("%-40s %-12s %-8s %-9s %-10s %s\n", aor, a->grp,
	    state_of(a, lc->now), contacts, created,
	    a->allow_cidrs[0] != '\0' ? a->allow_cidrs : "any");
	return 0;
}

static int
act_list(struct opts *o)
{
	struct cli_store cs;
	struct list_ctx lc = { .now = (int64_t)time(NULL) };
	int r, rc;

	if ((rc = cli_store_open(o->conf, o->dir, false, &cs)) != 0)
		return rc;
	lc.st = cs.st;
	if (o->json)
		lc.arr = json_array();
	else
		printf("%-40s %-12s %-8s %-9s %-10s %s\n", "ACCOUNT", "GROUP",
		    "STATE", "CONTACTS", "CREATED", "ALLOW");
	r = store_account_list(cs.st, list_one, &lc);
	cli_store_close(&cs);
	if (r < 0) {
		json_decref(lc.arr);
		fflush(stdout);
		fprintf(stderr, "sipwall: cannot list accounts: %s\n",
		    store_strerror(r));
		return 1;
	}
	if (o->json)
		return cli_json_print(lc.arr);
	return fflush(stdout) != 0;
}

struct show_ctx {
	int64_t		 now;
	json_t		*arr;
	unsigned	 n;
};

static int
show_reg(void *arg, const struct store_reg *g)
{
	struct show_ctx *sc = arg;
	char exp[32];

	if (g->expires <= sc->now)
		return 0;
	sc->n++;
	if (sc->arr != NULL) {
		json_t *j = json_object();

		json_object_set_new(j, "contact", jstr(g->contact));
		json_object_set_new(j, "source", jstr(g->source));
		json_object_set_new(j, "port", json_integer(g->sport));
		json_object_set_new(j, "transport", jstr(g->transport));
		json_object_set_new(j, "expires", json_integer(g->expires));
		json_object_set_new(j, "user_agent", jstr(g->user_agent));
		json_object_set_new(j, "q", jstr(g->q));
		json_object_set_new(j, "instance", jstr(g->instance));
		json_object_set_new(j, "reg_id", json_integer(g->reg_id));
		json_object_set_new(j, "updated", json_integer(g->updated));
		json_array_append_new(sc->arr, j);
		return 0;
	}
	printf("  %s\n    from %s%s%s:%u/%s, expires %s%s%s\n", g->contact,
	    strchr(g->source, ':') != NULL ? "[" : "", g->source,
	    strchr(g->source, ':') != NULL ? "]" : "", g->sport, g->transport,
	    cli_time_str(g->expires, exp, sizeof(exp)),
	    g->user_agent[0] != '\0' ? ", " : "", g->user_agent);
	return 0;
}

static int
act_show(struct opts *o)
{
	struct show_ctx sc = { .now = (int64_t)time(NULL) };
	char created[32], rotated[32], locked[32];
	struct store_account a;
	struct cli_store cs;
	json_t *j = NULL;
	int r, rc;

	if ((rc = cli_store_open(o->conf, o->dir, false, &cs)) != 0)
		return rc;
	if ((r = store_account_get(cs.st, o->user, o->dom, &a)) < 0) {
		cli_store_close(&cs);
		return r == -ENOENT ? not_found(o) : store_failed("read", o, r);
	}
	/* Never printed, never kept longer than needed. */
	explicit_bzero(a.ha1_md5, sizeof(a.ha1_md5));
	explicit_bzero(a.ha1_sha256, sizeof(a.ha1_sha256));
	explicit_bzero(a.pw_fp, sizeof(a.pw_fp));
	if (o->json)
		sc.arr = json_array();
	else {
		printf("account:       %s\n", o->aor);
		printf("id:            %lld\n", (long long)a.id);
		printf("group:         %s\n", a.grp);
		printf("state:         %s\n", state_of(&a, sc.now));
		printf("locked until:  %s\n", a.locked_until > sc.now ?
		    cli_time_str(a.locked_until, locked, sizeof(locked)) : "-");
		printf("max contacts:  %u\n", a.max_contacts);
		printf("allow:         %s\n", a.allow_cidrs[0] != '\0' ?
		    a.allow_cidrs : "any source");
		printf("created:       %s\n", cli_time_str(a.created, created,
		    sizeof(created)));
		printf("rotated:       %s\n", a.rotated != 0 ?
		    cli_time_str(a.rotated, rotated, sizeof(rotated)) : "never");
		printf("registrations:\n");
	}
	r = store_reg_list(cs.st, o->aor, show_reg, &sc);
	cli_store_close(&cs);
	if (r < 0) {
		json_decref(sc.arr);
		fflush(stdout);
		return store_failed("list registrations of", o, r);
	}
	if (o->json) {
		j = account_json(&a, sc.now, sc.n);
		json_object_set_new(j, "contacts", sc.arr);
		return cli_json_print(j);
	}
	if (sc.n == 0)
		printf("  (none)\n");
	return fflush(stdout) != 0;
}

static int
set_enabled(struct opts *o, bool enabled)
{
	struct cli_store cs;
	int r, rc;

	if ((rc = cli_store_open(o->conf, o->dir, false, &cs)) != 0)
		return rc;
	r = store_account_set_enabled(cs.st, o->user, o->dom, enabled);
	cli_store_close(&cs);
	if (r == -ENOENT)
		return not_found(o);
	if (r < 0)
		return store_failed(enabled ? "enable" : "disable", o, r);
	printf("account %s %s\n", o->aor, enabled ? "enabled" : "disabled");
	if (!enabled)	/* OPS1: its phones go now, not at their expiry */
		(void)cli_ctl_kick(o->conf, o->dir, o->aor);
	return fflush(stdout) != 0;
}

static int
act_disable(struct opts *o)
{
	return set_enabled(o, false);
}

static int
act_enable(struct opts *o)
{
	return set_enabled(o, true);
}

static int
act_rotate(struct opts *o)
{
	char pw[CREDS_PW_MAX + 4], fp[STORE_PWFP_LEN + 1];
	struct store_account a;
	struct cli_store cs;
	struct ha1_set ha1;
	int r, rc;

	memset(&ha1, 0, sizeof(ha1));
	memset(fp, 0, sizeof(fp));
	memset(pw, 0, sizeof(pw));
	if ((rc = cli_store_open(o->conf, o->dir, false, &cs)) != 0)
		return rc;
	rc = 1;
	if ((r = store_account_get(cs.st, o->user, o->dom, &a)) < 0) {
		rc = r == -ENOENT ? not_found(o) : store_failed("read", o, r);
		goto out;
	}
	explicit_bzero(&a, sizeof(a));
	if ((r = creds_generate_password(pw, sizeof(pw),
	    CREDS_GEN_DEFAULT)) < 0) {
		fprintf(stderr, "sipwall: cannot generate a password: %s\n",
		    strerror(-r));
		goto out;
	}
	if (hash_password_opts(cs.st, o, pw, (size_t)r, &ha1, fp) != 0)
		goto out;
	/* As for add: the old password stays until the new one is out. */
	if ((r = store_begin(cs.st)) == 0 &&
	    (r = store_account_set_ha1(cs.st, o->user, o->dom, ha1.md5,
	    ha1.sha256, fp, (int64_t)time(NULL))) < 0)
		store_rollback(cs.st);
	if (r == -ENOENT) {
		rc = not_found(o);
		goto out;
	}
	if (r < 0) {
		store_failed("rotate", o, r);
		goto out;
	}
	if (print_secret(o, "rotated", pw) != 0) {
		store_rollback(cs.st);
		fprintf(stderr, "sipwall: password of '%s' not changed\n",
		    o->aor);
		goto out;
	}
	if ((r = store_commit(cs.st)) < 0) {
		store_rollback(cs.st);
		store_failed("rotate", o, r);
		fprintf(stderr, "sipwall: the password printed above is not "
		    "valid; the old one still is\n");
		goto out;
	}
	rc = 0;
	/* OPS1: a compromised account's registrations go at once */
	(void)cli_ctl_kick(o->conf, o->dir, o->aor);
out:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(&ha1, sizeof(ha1));
	explicit_bzero(fp, sizeof(fp));
	cli_store_close(&cs);
	return rc;
}

static int
act_delete(struct opts *o)
{
	struct cli_store cs;
	unsigned nreg = 0;
	int r, rc;

	if ((rc = cli_store_open(o->conf, o->dir, false, &cs)) != 0)
		return rc;
	r = store_account_delete(cs.st, o->user, o->dom, &nreg);
	cli_store_close(&cs);
	if (r == -ENOENT)
		return not_found(o);
	if (r < 0)
		return store_failed("delete", o, r);
	printf("account %s deleted (%u registration%s removed)\n", o->aor,
	    nreg, nreg == 1 ? "" : "s");
	return fflush(stdout) != 0;
}

/* The account of o for cmd_limits.c. */
static struct cli_acct
acct_of(const struct opts *o)
{
	return (struct cli_acct){ .conf = o->conf, .dir = o->dir,
	    .user = o->user, .dom = o->dom, .aor = o->aor, .json = o->json };
}

static int
act_limits(struct opts *o)
{
	struct cli_acct a = acct_of(o);

	return cli_account_limits(&a);
}

static int
act_unblock(struct opts *o)
{
	struct cli_acct a = acct_of(o);

	return cli_account_unblock(&a);
}

/*
 * OPS1: the brute-force lock (PROT5) lives in the daemon's memory, so
 * the daemon lifts it, at once; a lock kept in the store (its
 * locked_until) is cleared here first.  With no daemon there is no
 * lock in memory to lift, and that is said.
 */
static int
act_unlock(struct opts *o)
{
	struct store_account a;
	struct cli_store cs;
	bool stored;
	int r, rc;

	if ((rc = cli_store_open(o->conf, o->dir, false, &cs)) != 0)
		return rc;
	memset(&a, 0, sizeof(a));
	r = store_account_get(cs.st, o->user, o->dom, &a);
	stored = r == 0 && a.locked_until != 0;
	explicit_bzero(&a, sizeof(a));
	if (r == 0 && stored)
		r = store_account_set_locked_until(cs.st, o->user, o->dom, 0);
	cli_store_close(&cs);
	if (r == -ENOENT)
		return not_found(o);
	if (r < 0)
		return store_failed("unlock", o, r);
	if (stored)
		printf("%s: lock kept in the store cleared\n", o->aor);
	return cli_ctl_unlock(o->conf, o->dir, o->aor);
}

/* --- import --------------------------------------------------------------------- */

#define IMPORT_LINE_MAX		1024	/* bytes of one line, CR LF excluded */
#define IMPORT_FIELDS		3	/* username,password[,domain] */
#define IMPORT_MAX_ACCOUNTS	1000000
#define IMPORT_MAX_SHOWN	50	/* errors (warnings) printed; the rest counted */

/* One account read from the file: everything but the password. */
struct imp_rec {
	char		*name;		/* "user\0domain\0", malloc'd */
	const char	*dom;		/* into name */
	unsigned	 line;
	struct ha1_set	 ha1;
	char		 fp[STORE_PWFP_LEN + 1];
};

/* A message about one line. */
struct imp_msg {
	unsigned	 line;
	char		*text;
};

struct imp_msgs {
	struct imp_msg	*m;
	size_t		 n, cap;
};

/* An account already in the store, for the reuse check. */
struct imp_known {
	char		*aor;
	char		 fp[STORE_PWFP_LEN + 1];
};

struct import {
	const struct opts *o;
	const char	*fname;		/* as printed: FILE, or "stdin" */
	struct imp_rec	*rec;
	size_t		 n, cap;
	struct imp_known *known;
	size_t		 nknown, knowncap;
	struct imp_msgs	 err, warn;
	bool		 nomem;
};

static void
imp_msg(struct import *im, struct imp_msgs *l, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
imp_msg(struct import *im, struct imp_msgs *l, unsigned line,
    const char *fmt, ...)
{
	char text[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (l->n == l->cap) {
		size_t ncap = l->cap != 0 ? l->cap * 2 : 16;
		struct imp_msg *p = reallocarray(l->m, ncap, sizeof(*p));

		if (p == NULL) {
			im->nomem = true;
			return;
		}
		l->m = p;
		l->cap = ncap;
	}
	if ((l->m[l->n].text = strdup(text)) == NULL) {
		im->nomem = true;
		return;
	}
	l->m[l->n++].line = line;
}

static int
msg_by_line(const void *pa, const void *pb)
{
	const struct imp_msg *a = pa, *b = pb;

	return a->line < b->line ? -1 : a->line > b->line;
}

/* Print l in line order, at most IMPORT_MAX_SHOWN, then free it. */
static void
imp_msgs_print(const struct import *im, struct imp_msgs *l, const char *what)
{
	size_t i;

	if (l->n > 0)
		qsort(l->m, l->n, sizeof(l->m[0]), msg_by_line);
	for (i = 0; i < l->n; i++) {
		if (i < IMPORT_MAX_SHOWN)
			fprintf(stderr, "%s:%u: %s\n", im->fname, l->m[i].line,
			    l->m[i].text);
		free(l->m[i].text);
	}
	if (l->n > IMPORT_MAX_SHOWN)
		fprintf(stderr, "%s: ... and %zu more %s\n", im->fname,
		    l->n - IMPORT_MAX_SHOWN, what);
	free(l->m);
	memset(l, 0, sizeof(*l));
}

static void
imp_rec_aor(const struct imp_rec *r, char aor[STORE_AOR_MAX + 1])
{
	snprintf(aor, STORE_AOR_MAX + 1, "%s@%s", r->name, r->dom);
}

/*
 * One line of f into buf[0..cap) (cap > IMPORT_LINE_MAX + 1), without
 * its LF or CR LF, NUL-terminated.  Returns 1 (a line; *ret_long when
 * it was longer than IMPORT_LINE_MAX and was cut, *ret_nul when it held
 * a NUL byte), 0 at the end of the input, -1 on a read error.
 */
static int
read_line(FILE *f, char *buf, size_t cap, size_t *ret_len, bool *ret_long,
    bool *ret_nul)
{
	size_t n = 0;
	bool any = false;
	int c;

	*ret_long = *ret_nul = false;
	while ((c = getc(f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (c == '\0')
			*ret_nul = true;
		if (n < IMPORT_LINE_MAX + 1 && n + 1 < cap)
			buf[n++] = (char)c;
		else
			*ret_long = true;
	}
	if (ferror(f))
		return -1;
	if (!any)
		return 0;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > IMPORT_LINE_MAX)
		*ret_long = true;
	buf[n] = '\0';
	*ret_len = n;
	return 1;
}

/*
 * Split line[0..len) at commas into at most IMPORT_FIELDS fields.  A
 * field may be quoted, "...", to hold commas; "" inside it is one '"'.
 * The fields go NUL-terminated into buf (len + IMPORT_FIELDS bytes:
 * unquoting only shortens).  Returns the number of fields, or -1 with
 * the defect in *reterr.
 */
static int
split_fields(const char *line, size_t len, char *buf,
    char *field[IMPORT_FIELDS], size_t flen[IMPORT_FIELDS],
    const char **reterr)
{
	size_t i = 0, nf = 0;
	char *w = buf;

	for (;;) {
		if (nf == IMPORT_FIELDS) {
			*reterr = "more than 3 fields (expected "
			    "username,password[,domain]; quote a password "
			    "that holds a comma)";
			return -1;
		}
		field[nf] = w;
		if (i < len && line[i] == '"') {
			for (i++;; i++) {
				if (i >= len) {
					*reterr = "a quoted field has no closing "
					    "'\"'";
					return -1;
				}
				if (line[i] == '"') {
					if (i + 1 < len && line[i + 1] == '"') {
						*w++ = '"';
						i++;
						continue;
					}
					i++;
					break;
				}
				*w++ = line[i];
			}
			if (i < len && line[i] != ',') {
				*reterr = "text after the closing '\"' of a "
				    "quoted field";
				return -1;
			}
		} else {
			for (; i < len && line[i] != ','; i++) {
				if (line[i] == '"') {
					*reterr = "'\"' in an unquoted field "
					    "(quote the field and double the "
					    "'\"')";
					return -1;
				}
				*w++ = line[i];
			}
		}
		flen[nf] = (size_t)(w - field[nf]);
		*w++ = '\0';
		nf++;
		if (i >= len)
			break;
		i++;		/* the comma */
	}
	return (int)nf;
}

/*
 * One line that is not blank or a comment: check it, hash its password
 * and keep the account in im->rec.  Problems go to im->err (and, with
 * --allow-weak, weak passwords to im->warn).  The caller wipes line.
 */
static void
import_line(struct import *im, struct store *st, unsigned ln,
    const char *line, size_t len)
{
	char buf[IMPORT_LINE_MAX + IMPORT_FIELDS + 1], *field[IMPORT_FIELDS];
	char user[STORE_USERNAME_MAX + 1], dom[STORE_DOMAIN_MAX + 1];
	char why[512], aor[STORE_AOR_MAX + 1];
	size_t flen[IMPORT_FIELDS];
	const char *defect, *domain;
	enum creds_reason cr;
	struct imp_rec *r;
	bool refuse;
	int nf;

	if ((nf = split_fields(line, len, buf, field, flen, &defect)) < 0) {
		imp_msg(im, &im->err, ln, "%s", defect);
		goto out;
	}
	if (nf < 2) {
		imp_msg(im, &im->err, ln, "expected username,password[,domain]");
		goto out;
	}
	domain = nf == 3 && flen[2] > 0 ? field[2] : im->o->domain;
	if (account_name(field[0], flen[0], domain, user, dom, why,
	    sizeof(why)) < 0) {
		imp_msg(im, &im->err, ln, "%s", why);
		goto out;
	}
	snprintf(aor, sizeof(aor), "%s@%s", user, dom);
	if (flen[1] == 0) {
		imp_msg(im, &im->err, ln, "empty password for '%s'", aor);
		goto out;
	}
	cr = password_verdict(user, dom, field[1], flen[1], im->o->allow_weak,
	    &refuse);
	if (cr == CREDS_E_CHARSET || cr == CREDS_E_LONG) {
		imp_msg(im, &im->err, ln, "password for '%s' refused: it %s",
		    aor, creds_reason_text(cr));
		goto out;
	}
	if (refuse) {
		imp_msg(im, &im->err, ln, "weak password for '%s': it %s (%s); "
		    "use --allow-weak to import it anyway", aor,
		    creds_reason_text(cr), creds_reason_name(cr));
		goto out;
	}
	if (cr != CREDS_OK)
		imp_msg(im, &im->warn, ln, "warning: weak password imported "
		    "for '%s' (--allow-weak): it %s", aor,
		    creds_reason_text(cr));
	if (im->n == IMPORT_MAX_ACCOUNTS) {
		imp_msg(im, &im->err, ln, "more than %d accounts in one "
		    "import: split the file", IMPORT_MAX_ACCOUNTS);
		goto out;
	}
	if (im->n == im->cap) {
		size_t ncap = im->cap != 0 ? im->cap * 2 : 256;
		struct imp_rec *p = reallocarray(NULL, ncap, sizeof(*p));

		/* By hand, not realloc: the old block holds HA1s to wipe. */
		if (p == NULL) {
			im->nomem = true;
			goto out;
		}
		if (im->n > 0) {
			memcpy(p, im->rec, im->n * sizeof(*p));
			explicit_bzero(im->rec, im->n * sizeof(*p));
		}
		free(im->rec);
		im->rec = p;
		im->cap = ncap;
	}
	r = &im->rec[im->n];
	memset(r, 0, sizeof(*r));
	if (hash_password(st, user, dom, field[1], flen[1], &r->ha1, r->fp,
	    why, sizeof(why)) < 0) {
		imp_msg(im, &im->err, ln, "%s", why);
		goto out;
	}
	if ((r->name = malloc(strlen(user) + strlen(dom) + 2)) == NULL) {
		explicit_bzero(r, sizeof(*r));
		im->nomem = true;
		goto out;
	}
	memcpy(r->name, user, strlen(user) + 1);
	r->dom = r->name + strlen(user) + 1;
	memcpy(r->name + strlen(user) + 1, dom, strlen(dom) + 1);
	r->line = ln;
	im->n++;
out:
	explicit_bzero(buf, sizeof(buf));
}

/* Read and check every line of f (see import_line). -1: read error. */
static int
import_read(struct import *im, struct store *st, FILE *f)
{
	char line[IMPORT_LINE_MAX + 2];
	unsigned ln;
	size_t len;
	bool toolong, nul;
	int r = 0;

	for (ln = 1; !im->nomem; ln++) {
		if ((r = read_line(f, line, sizeof(line), &len, &toolong,
		    &nul)) <= 0)
			break;
		if (toolong)
			imp_msg(im, &im->err, ln, "line longer than %d bytes",
			    IMPORT_LINE_MAX);
		else if (nul)
			imp_msg(im, &im->err, ln, "NUL byte in the line");
		else {
			size_t i = strspn(line, " \t");

			/* Blank lines and comments. */
			if (line[i] != '\0' && line[i] != '#')
				import_line(im, st, ln, line, len);
		}
		explicit_bzero(line, sizeof(line));
	}
	explicit_bzero(line, sizeof(line));
	return r < 0 ? -1 : 0;
}

static int
rec_by_name(const void *pa, const void *pb)
{
	const struct imp_rec *a = *(const struct imp_rec *const *)pa;
	const struct imp_rec *b = *(const struct imp_rec *const *)pb;
	int c;

	if ((c = strcmp(a->dom, b->dom)) != 0 ||
	    (c = strcmp(a->name, b->name)) != 0)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* The same account twice in the file: every later line is an error. */
static void
import_check_dups(struct import *im)
{
	struct imp_rec **v;
	char aor[STORE_AOR_MAX + 1];
	size_t i, first = 0;

	if (im->n < 2)
		return;
	if ((v = reallocarray(NULL, im->n, sizeof(*v))) == NULL) {
		im->nomem = true;
		return;
	}
	for (i = 0; i < im->n; i++)
		v[i] = &im->rec[i];
	qsort(v, im->n, sizeof(*v), rec_by_name);
	for (i = 1; i < im->n; i++) {
		if (strcmp(v[i]->dom, v[first]->dom) != 0 ||
		    strcmp(v[i]->name, v[first]->name) != 0) {
			first = i;
			continue;
		}
		imp_rec_aor(v[i], aor);
		imp_msg(im, &im->err, v[i]->line, "account '%s' appears twice "
		    "(first on line %u)", aor, v[first]->line);
	}
	free(v);
}

static int
known_collect(void *arg, const struct store_account *a)
{
	struct import *im = arg;
	struct imp_known *k;
	char aor[STORE_AOR_MAX + 1];

	if (a->pw_fp[0] == '\0')
		return 0;
	if (im->nknown == im->knowncap) {
		size_t ncap = im->knowncap != 0 ? im->knowncap * 2 : 256;
		struct imp_known *p = reallocarray(im->known, ncap,
		    sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		im->known = p;
		im->knowncap = ncap;
	}
	snprintf(aor, sizeof(aor), "%s@%s", a->username, a->domain);
	k = &im->known[im->nknown];
	if ((k->aor = strdup(aor)) == NULL)
		return -ENOMEM;
	memcpy(k->fp, a->pw_fp, sizeof(k->fp));
	im->nknown++;
	return 0;
}

/* A fingerprint of the file (line > 0) or of the store (line 0). */
struct fp_ref {
	const char	*fp;
	unsigned	 line;
	size_t		 i;		/* into im->rec, or im->known */
};

static int
ref_by_fp(const void *pa, const void *pb)
{
	const struct fp_ref *a = pa, *b = pb;
	int c = strcmp(a->fp, b->fp);

	if (c != 0)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

/*
 * Passwords used twice, within the file or by an account in the store
 * (equal keyed fingerprints): refused unless --allow-weak, as for add.
 * Returns 0 or a store error.
 */
static int
import_check_reuse(struct import *im, struct store *st)
{
	struct fp_ref *v;
	char aor[STORE_AOR_MAX + 1], other[STORE_AOR_MAX + 64];
	size_t i, n, first = 0;
	int r;

	if ((r = store_account_list(st, known_collect, im)) < 0)
		return r;
	n = im->n + im->nknown;
	if (n < 2)
		return 0;
	if ((v = reallocarray(NULL, n, sizeof(*v))) == NULL) {
		im->nomem = true;
		return 0;
	}
	for (i = 0; i < im->nknown; i++)
		v[i] = (struct fp_ref){ im->known[i].fp, 0, i };
	for (i = 0; i < im->n; i++)
		v[im->nknown + i] = (struct fp_ref){ im->rec[i].fp,
		    im->rec[i].line, i };
	/* The store's accounts sort first (line 0), then by line. */
	qsort(v, n, sizeof(*v), ref_by_fp);
	for (i = 1; i < n; i++) {
		if (strcmp(v[i].fp, v[first].fp) != 0) {
			first = i;
			continue;
		}
		if (v[first].line == 0)
			snprintf(other, sizeof(other), "account '%s'",
			    im->known[v[first].i].aor);
		else {
			imp_rec_aor(&im->rec[v[first].i], aor);
			snprintf(other, sizeof(other), "'%s' (line %u)", aor,
			    v[first].line);
		}
		if (v[i].line == 0)	/* two accounts of the store */
			continue;
		imp_rec_aor(&im->rec[v[i].i], aor);
		/* The account itself, already there: import_write says so. */
		if (v[first].line == 0 &&
		    strcmp(im->known[v[first].i].aor, aor) == 0)
			continue;
		if (im->o->allow_weak)
			imp_msg(im, &im->warn, v[i].line, "warning: '%s' "
			    "shares its password with %s", aor, other);
		else
			imp_msg(im, &im->err, v[i].line, "password of '%s' "
			    "refused: %s has the same password; use "
			    "--allow-weak to import it anyway", aor, other);
	}
	free(v);
	return 0;
}

/*
 * Write the accounts in one transaction, unless some line was wrong.
 * Accounts that exist already are errors too (all are named).  Returns
 * 0 (committed or, with im->err non-empty, rolled back) or a store
 * error (rolled back).
 */
static int
import_write(struct import *im, struct store *st)
{
	struct store_account a, old;
	char aor[STORE_AOR_MAX + 1];
	int64_t now = (int64_t)time(NULL);
	size_t i;
	int r;

	if ((r = store_begin(st)) < 0)
		return r;
	for (i = 0; i < im->n && !im->nomem; i++) {
		const struct imp_rec *x = &im->rec[i];

		r = store_account_get(st, x->name, x->dom, &old);
		explicit_bzero(&old, sizeof(old));
		if (r == 0) {
			imp_rec_aor(x, aor);
			imp_msg(im, &im->err, x->line, "account '%s' already "
			    "exists", aor);
			continue;
		}
		if (r != -ENOENT)
			goto fail;
		if (im->err.n > 0)
			continue;	/* only looking for more errors */
		account_fill(&a, im->o, x->name, x->dom, &x->ha1, x->fp, now);
		r = store_account_add(st, &a, NULL);
		explicit_bzero(&a, sizeof(a));
		if (r == -EEXIST) {
			imp_rec_aor(x, aor);
			imp_msg(im, &im->err, x->line, "account '%s' already "
			    "exists", aor);
			continue;
		}
		if (r < 0)
			goto fail;
	}
	if (im->err.n > 0 || im->nomem) {
		store_rollback(st);
		return 0;
	}
	if ((r = store_commit(st)) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	return r;
}

static void
import_clear(struct import *im)
{
	size_t i;

	for (i = 0; i < im->n; i++)
		free(im->rec[i].name);
	if (im->rec != NULL)
		explicit_bzero(im->rec, im->cap * sizeof(im->rec[0]));
	free(im->rec);
	for (i = 0; i < im->nknown; i++)
		free(im->known[i].aor);
	if (im->known != NULL)
		explicit_bzero(im->known, im->knowncap * sizeof(im->known[0]));
	free(im->known);
	for (i = 0; i < im->err.n; i++)
		free(im->err.m[i].text);
	free(im->err.m);
	for (i = 0; i < im->warn.n; i++)
		free(im->warn.m[i].text);
	free(im->warn.m);
	memset(im, 0, sizeof(*im));
}

/*
 * import FILE|-: every account of the file, or none.  Lines are
 * username,password[,domain]; see usage() and sipwall(1).
 */
static int
act_import(struct opts *o)
{
	static char iobuf[BUFSIZ];	/* holds passwords: wiped below */
	struct import im = { .o = o };
	struct cli_store cs = { 0 };
	bool is_stdin = strcmp(o->file, "-") == 0;
	FILE *f = NULL;
	int r, rc = 1;

	im.fname = is_stdin ? "stdin" : o->file;
	if (is_stdin)
		f = stdin;
	else if ((f = fopen(o->file, "re")) == NULL) {
		fprintf(stderr, "sipwall: cannot open '%s': %s\n", o->file,
		    strerror(errno));
		return 1;
	}
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	if ((rc = cli_store_open(o->conf, o->dir, true, &cs)) != 0)
		goto out;
	rc = 1;
	if (import_read(&im, cs.st, f) < 0) {
		fprintf(stderr, "sipwall: cannot read '%s': %s\n", im.fname,
		    strerror(errno));
		fprintf(stderr, "sipwall: nothing imported\n");
		goto out;
	}
	import_check_dups(&im);
	if ((r = import_check_reuse(&im, cs.st)) == 0)
		r = import_write(&im, cs.st);
	if (im.nomem)
		r = -ENOMEM;
	if (r < 0) {
		imp_msgs_print(&im, &im.err, "errors");
		fprintf(stderr, "sipwall: cannot import accounts: %s\n",
		    store_strerror(r));
		fprintf(stderr, "sipwall: nothing imported\n");
		goto out;
	}
	if (im.err.n > 0) {
		size_t nerr = im.err.n;

		imp_msgs_print(&im, &im.err, "errors");
		fprintf(stderr, "sipwall: nothing imported (%zu error%s)\n",
		    nerr, nerr == 1 ? "" : "s");
		goto out;
	}
	{
		size_t nwarn = im.warn.n;

		imp_msgs_print(&im, &im.warn, "warnings");
		if (o->json)
			rc = cli_json_print(json_pack("{s:I, s:I}", "imported",
			    (json_int_t)im.n, "warnings", (json_int_t)nwarn));
		else {
			printf("imported %zu account%s\n", im.n,
			    im.n == 1 ? "" : "s");
			rc = fflush(stdout) != 0;
		}
	}
out:
	import_clear(&im);
	cli_store_close(&cs);
	if (f != NULL && !is_stdin)
		fclose(f);
	explicit_bzero(iobuf, sizeof(iobuf));
	return rc;
}

/* --- audit ---------------------------------------------------------------------- */

struct audit_acc {
	char		aor[STORE_AOR_MAX + 1];
	char		pw_fp[STORE_PWFP_LEN + 1];
	bool		enabled;
	bool		any_source;
	int64_t		last_set;	/* rotated, else created */
	int64_t		locked_until;
	unsigned	nreg;
};

struct audit_ctx {
	struct store		*st;
	int64_t			 now;
	struct audit_acc	*acc;
	size_t			 n, cap;
};

static int
audit_collect(void *arg, const struct store_account *a)
{
	struct audit_ctx *ac = arg;
	struct audit_acc *x;
	int r;

	if (ac->n == ac->cap) {
		size_t ncap = ac->cap != 0 ? ac->cap * 2 : 64;
		struct audit_acc *p = reallocarray(ac->acc, ncap, sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		ac->acc = p;
		ac->cap = ncap;
	}
	x = &ac->acc[ac->n];
	memset(x, 0, sizeof(*x));
	snprintf(x->aor, sizeof(x->aor), "%s@%s", a->username, a->domain);
	memcpy(x->pw_fp, a->pw_fp, sizeof(x->pw_fp));
	x->enabled = a->enabled;
	x->any_source = a->allow_cidrs[0] == '\0';
	x->last_set = a->rotated != 0 ? a->rotated : a->created;
	x->locked_until = a->locked_until;
	if ((r = store_reg_count(ac->st, x->aor, ac->now, &x->nreg)) < 0)
		return r;
	ac->n++;
	return 0;
}

static int
by_fp(const void *pa, const void *pb)
{
	const struct audit_acc *a = pa, *b = pb;
	int c = strcmp(a->pw_fp, b->pw_fp);

	return c != 0 ? c : strcmp(a->aor, b->aor);
}

static int
by_aor(const void *pa, const void *pb)
{
	const struct audit_acc *a = pa, *b = pb;

	return strcmp(a->aor, b->aor);
}

enum sev {
	SEV_INFO = 0,
	SEV_LOW,
	SEV_MEDIUM,
	SEV_HIGH,
	SEV_MAX
};

static const char *const sev_name[SEV_MAX] = {
	"info", "low", "medium", "high"
};

struct findings {
	bool	 json;
	json_t	*arr;
	size_t	 count[SEV_MAX];
};

/* One finding; accounts is a JSON array of account names (taken). */
static void
finding(struct findings *f, enum sev sev, const char *check, json_t *accounts,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
finding(struct findings *f, enum sev sev, const char *check, json_t *accounts,
    const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	f->count[sev]++;
	if (f->json) {
		json_t *j = json_object();

		json_object_set_new(j, "check", json_string(check));
		json_object_set_new(j, "severity", json_string(sev_name[sev]));
		json_object_set_new(j, "accounts", accounts);
		json_object_set_new(j, "detail", jstr(detail));
		json_array_append_new(f->arr, j);
		return;
	}
	json_decref(accounts);
	printf("%-7s %-22s %s\n", sev_name[sev], check, detail);
}

static int
act_audit(struct opts *o)
{
	struct audit_ctx ac = { .now = (int64_t)time(NULL) };
	struct findings f = { .json = o->json };
	struct cli_store cs;
	size_t i, k, total;
	int r, rc;

	if ((rc = cli_store_open(o->conf, o->dir, false, &cs)) != 0)
		return rc;
	ac.st = cs.st;
	r = store_account_list(cs.st, audit_collect, &ac);
	cli_store_close(&cs);
	if (r < 0) {
		free(ac.acc);
		fprintf(stderr, "sipwall: cannot read accounts: %s\n",
		    store_strerror(r));
		return 1;
	}
	if (f.json)
		f.arr = json_array();

	/* Shared passwords: equal keyed fingerprints, whatever the realm. */
	if (ac.n > 0)
		qsort(ac.acc, ac.n, sizeof(ac.acc[0]), by_fp);
	for (i = 0; i < ac.n; i = k) {
		for (k = i + 1; k < ac.n &&
		    strcmp(ac.acc[k].pw_fp, ac.acc[i].pw_fp) == 0; k++)
			;
		if (ac.acc[i].pw_fp[0] == '\0' || k - i < 2)
			continue;
		{
			json_t *arr = json_array();
			char names[1024] = "";
			size_t used = 0;

			for (size_t m = i; m < k; m++) {
				int n = snprintf(names + used,
				    sizeof(names) - used, "%s%s",
				    m > i ? ", " : "", ac.acc[m].aor);

				if (n > 0 && (size_t)n < sizeof(names) - used)
					used += (size_t)n;
				json_array_append_new(arr,
				    jstr(ac.acc[m].aor));
			}
			finding(&f, SEV_HIGH, "password_reuse", arr,
			    "%zu accounts share one password: %s", k - i, names);
		}
	}
	if (ac.n > 0)
		qsort(ac.acc, ac.n, sizeof(ac.acc[0]), by_aor);
	for (i = 0; i < ac.n; i++) {
		const struct audit_acc *x = &ac.acc[i];
		int64_t days = (ac.now - x->last_set) / 86400;

		if (!x->enabled && x->nreg > 0)
			finding(&f, SEV_MEDIUM, "disabled_registered",
			    json_pack("[s]", x->aor), "%s is disabled but has "
			    "%u active registration%s", x->aor, x->nreg,
			    x->nreg == 1 ? "" : "s");
		if (days > AUDIT_ROTATE_DAYS)
			finding(&f, SEV_MEDIUM, "not_rotated",
			    json_pack("[s]", x->aor), "%s: password not "
			    "changed for %lld days (more than %d)", x->aor,
			    (long long)days, AUDIT_ROTATE_DAYS);
		if (x->any_source)
			finding(&f, SEV_LOW, "no_source_restriction",
			    json_pack("[s]", x->aor), "%s accepts "
			    "registrations from any address (no --allow)",
			    x->aor);
		if (x->pw_fp[0] == '\0')
			finding(&f, SEV_INFO, "no_fingerprint",
			    json_pack("[s]", x->aor), "%s: password reuse "
			    "cannot be checked (set before fingerprints; "
			    "rotate it)", x->aor);
		if (x->locked_until > ac.now) {
			char t[32];

			finding(&f, SEV_INFO, "locked",
			    json_pack("[s]", x->aor), "%s is locked until %s",
			    x->aor, cli_time_str(x->locked_until, t,
			    sizeof(t)));
		}
	}
	total = f.count[SEV_LOW] + f.count[SEV_MEDIUM] + f.count[SEV_HIGH];
	if (f.json) {
		json_t *j = json_pack("{s:I, s:o, s:{s:I, s:I, s:I, s:I}}",
		    "accounts", (json_int_t)ac.n, "findings", f.arr, "summary",
		    "high", (json_int_t)f.count[SEV_HIGH],
		    "medium", (json_int_t)f.count[SEV_MEDIUM],
		    "low", (json_int_t)f.count[SEV_LOW],
		    "info", (json_int_t)f.count[SEV_INFO]);

		rc = cli_json_print(j);
	} else {
		printf("audit: %zu account%s, %zu finding%s (%zu high, "
		    "%zu medium, %zu low; %zu info)\n", ac.n,
		    ac.n == 1 ? "" : "s", total, total == 1 ? "" : "s",
		    f.count[SEV_HIGH], f.count[SEV_MEDIUM], f.count[SEV_LOW],
		    f.count[SEV_INFO]);
		rc = fflush(stdout) != 0;
	}
	if (ac.acc != NULL)
		explicit_bzero(ac.acc, ac.cap * sizeof(ac.acc[0]));
	free(ac.acc);
	if (rc != 0)
		return rc;
	return total > 0 ? 1 : 0;
}

static const struct action actions[] = {
	{ "add", act_add, O_DOMAIN | O_GROUP | O_ALLOW | O_MAXC | O_PWSTDIN |
	    O_WEAK | O_JSON, true },
	{ "list", act_list, O_JSON, false },
	{ "show", act_show, O_DOMAIN | O_JSON, true },
	{ "disable", act_disable, O_DOMAIN, true },
	{ "enable", act_enable, O_DOMAIN, true },
	{ "rotate", act_rotate, O_DOMAIN | O_JSON, true },
	{ "delete", act_delete, O_DOMAIN, true },
	{ "limits", act_limits, O_DOMAIN | O_JSON, true },
	{ "unblock", act_unblock, O_DOMAIN, true },
	{ "unlock", act_unlock, O_DOMAIN, true },
	{ "audit", act_audit, O_JSON, false },
	{ "import", act_import, O_DOMAIN | O_GROUP | O_ALLOW | O_MAXC | O_WEAK |
	    O_JSON, false, true },
};

int
cmd_account(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "dir",	required_argument, NULL, 'D' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct opts o;
	int ch, r;

	memset(&o, 0, sizeof(o));
	cli_json_wipe_on_free();
	opterr = 0;
	optind = 0;
	/* "+": stop at ACTION; its own options are parsed below. */
	while ((ch = getopt_long(argc, argv, "+:c:D:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.conf = optarg;
			break;
		case 'D':
			o.dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return bad_usage("option '%s' needs a value",
			    argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s' (options of an "
			    "action go after it)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_usage("missing ACTION");
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(argv[optind], actions[i].name) != 0)
			continue;
		r = parse_opts(argc - optind, argv + optind, &actions[i], &o);
		if (r != 0)
			return r < 0 ? 0 : r;	/* -1: --help was printed */
		return actions[i].fn(&o);
	}
	return bad_usage("unknown action '%s'", argv[optind]);
}
