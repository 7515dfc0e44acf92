/* flash.c: the interpreter of a board's device.json `flash` object (ztc-plugin(7)), and OpenOCD probes. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "internal.h"
#include "ztc/console.h"
#include "ztc/plugin.h"

#define DEVICE_JSON_MAX (1024 * 1024)
#define FLASH_DEFAULT_TIMEOUT_S 300
#define LAST_LINE_MAX 200
/* A chip id read through a probe: at most this many output lines, and characters (as the serial
 * reader's lines, chipid.c). */
#define CHIPID_LINES_MAX 64
#define CHIPID_MAX 256

/* One interpretation of the flash object for one callback. */
struct run {
	ztc_board *b;
	ztc_ctx *ctx;
	yajl_val root;     /* device.json */
	yajl_val flash;    /* its flash object */
	char *where;       /* "<dir>/device.json", for messages about the data */
	const char *name;  /* the board, for messages to the user */
	const char *file;  /* {file}: the prepared single image */
	const char *script; /* {script} of the object being run */
	const char **imgargs; /* {images}: address, file pairs */
	size_t nimgargs;
	char **owned;      /* strings to free with the run */
	size_t nowned;
	unsigned nscripts;
};

static char *own(struct run *r, char *s)
{
	char **n;

	if (!s)
		return NULL;
	n = realloc(r->owned, (r->nowned + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return NULL;
	}
	r->owned = n;
	r->owned[r->nowned++] = s;
	return s;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->nowned; i++)
		free(r->owned[i]);
	free(r->owned);
	free(r->imgargs);
	free(r->where);
	yajl_tree_free(r->root);
}

static yajl_val get(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };

	return obj && YAJL_IS_OBJECT(obj) ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
}

static const char *get_str(yajl_val obj, const char *key)
{
	yajl_val v = get(obj, key);

	return v && YAJL_IS_STRING(v) ? v->u.string : NULL;
}

/* A non-negative integer key; def when absent; -1 when present but not one. */
static long long get_uint(yajl_val obj, const char *key, long long def)
{
	yajl_val v = get(obj, key);

	if (!v)
		return def;
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0)
		return -1;
	return YAJL_GET_INTEGER(v);
}

static bool get_bool(yajl_val obj, const char *key)
{
	yajl_val v = get(obj, key);

	return v && (YAJL_IS_TRUE(v) || (YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) != 0));
}

static int bad(struct run *r, const char *fmt, ...) ZTC_PRINTF(2, 3);
static int bad(struct run *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ztc_board_fail(r->b, ZTC_ERR_PARSE, "%s: flash: %s", r->where, msg);
}

static int run_init(struct run *r, ztc_board *b, bool need_flash)
{
	const char *dir = ztc_board_get_dir(b);
	char errbuf[256] = "";
	char *text;
	int err = 0;

	memset(r, 0, sizeof(*r));
	r->b = b;
	r->ctx = ztc_board_ctx(b);
	if (!r->ctx || !dir)
		return ZTC_ERR_ARG;
	r->name = ztc_board_get_str(b, "name");
	if (!r->name)
		r->name = ztc_board_get_str(b, "target");
	r->where = ztc_strdup_printf("%s/device.json", dir);
	if (!r->where)
		return ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
	/* The database parsed this file already, but keeps only top-level scalars reachable: read it again. */
	text = ztc_read_file(r->where, DEVICE_JSON_MAX, NULL, &err);
	if (!text)
		return ztc_board_fail(b, ZTC_ERR_IO, "cannot read %s: %s", r->where, ztc_read_strerror(err));
	r->root = ztc_json_parse(text, errbuf, sizeof(errbuf));
	free(text);
	if (!r->root || !YAJL_IS_OBJECT(r->root))
		return ztc_board_fail(b, ZTC_ERR_PARSE, "%s: not a valid JSON object any more", r->where);
	r->flash = get(r->root, "flash");
	if (r->flash && !YAJL_IS_OBJECT(r->flash))
		return bad(r, "not an object");
	if (!r->flash && need_flash)
		return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s cannot be flashed: %s has no flash object", r->name,
				      r->where);
	return ZTC_OK;
}

/* ---- placeholders and commands --------------------------------------------------------------------- */

static const char *last_line(const char *out, char *buf, size_t size)
{
	const char *end, *start;
	size_t n;

	if (!out)
		return NULL;
	end = out + strlen(out);
	for (;;) {
		while (end > out && isspace((unsigned char)end[-1]))
			end--;
		if (end == out)
			return NULL;
		start = end;
		while (start > out && start[-1] != '\n' && start[-1] != '\r')
			start--;
		while (start < end && isspace((unsigned char)*start))
			start++;
		if (start < end)
			break;
		end = start;
	}
	n = (size_t)(end - start);
	if (n >= size)
		n = size - 1;
	memcpy(buf, start, n);
	buf[n] = '\0';
	return buf;
}

/* The value of {key} inside obj: the built-in names, then obj's own keys, then the flash object's. */
static int placeholder(struct run *r, yajl_val obj, const char *key, const char *what, char **ret)
{
	static const char *const usb[] = { "sid", "vid", "pid" };
	yajl_val v = NULL;
	const char *s = NULL;

	if (strcmp(key, "file") == 0) {
		if (!r->file)
			return bad(r, "{file} in %s, but there is no single image (the firmware has several)", what);
		s = r->file;
	} else if (strcmp(key, "script") == 0) {
		if (!r->script)
			return bad(r, "{script} in %s, but the object has no script", what);
		s = r->script;
	} else if (strcmp(key, "tmpdir") == 0) {
		s = ztc_board_temp_dir(r->b);
		if (!s)
			return ZTC_ERR_IO;
	} else if (strcmp(key, "port") == 0) {
		s = ztc_board_get_str(r->b, "port");
		if (!s)
			return ztc_board_fail(r->b, ZTC_ERR_NOT_FOUND, "%s has no serial port: is it connected?", r->name);
	} else {
		for (size_t i = 0; i < 3 && !s; i++)
			if (strcmp(key, usb[i]) == 0) {
				s = ztc_board_get_str(r->b, key);
				if (!s)
					return ztc_board_fail(r->b, ZTC_ERR_NOT_FOUND, "%s has no USB %s", r->name, key);
			}
	}
	if (!s) {
		v = get(obj, key);
		if (!v)
			v = get(r->flash, key);
		if (v && YAJL_IS_STRING(v))
			s = v->u.string;
		else if (v && YAJL_IS_INTEGER(v))
			return (*ret = ztc_strdup_printf("%lld", YAJL_GET_INTEGER(v))) ? ZTC_OK :
			       ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
		else
			return bad(r, "unknown placeholder {%s} in %s", key, what);
	}
	*ret = strdup(s);
	return *ret ? ZTC_OK : ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
}

/* tmpl with every {key} replaced; *ret malloc'd. */
static int expand(struct run *r, yajl_val obj, const char *tmpl, const char *what, char **ret)
{
	size_t cap = strlen(tmpl) + 64, len = 0;
	char *out = malloc(cap);
	int rc;

	if (!out)
		return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	for (const char *p = tmpl; *p;) {
		const char *add = p, *close;
		char *val = NULL, key[64];
		size_t n = 1;

		if (*p == '{' && (close = strchr(p, '}')) && (size_t)(close - p - 1) < sizeof(key) && close > p + 1) {
			memcpy(key, p + 1, (size_t)(close - p - 1));
			key[close - p - 1] = '\0';
			rc = placeholder(r, obj, key, what, &val);
			if (rc < 0) {
				free(out);
				return rc;
			}
			add = val;
			n = strlen(val);
			p = close + 1;
		} else {
			p++;
		}
		if (len + n + 1 > cap) {
			char *nb;

			while (len + n + 1 > cap)
				cap *= 2;
			nb = realloc(out, cap);
			if (!nb) {
				free(val);
				free(out);
				return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
			}
			out = nb;
		}
		memcpy(out + len, add, n);
		len += n;
		free(val);
	}
	out[len] = '\0';
	*ret = out;
	return ZTC_OK;
}

static const char *tool_of(struct run *r, yajl_val cmd)
{
	const char *t = get_str(cmd, "tool");

	return t ? t : get_str(r->flash, "tool");
}

/* Write cmd's script (if any) to a temporary file and point {script} at it. */
static int write_script(struct run *r, yajl_val cmd, const char *what)
{
	yajl_val lines = get(cmd, "script");
	char *text = NULL, *line, name[32];
	size_t len = 0;
	const char *path;
	int rc = ZTC_OK;

	r->script = NULL;
	if (!lines)
		return ZTC_OK;
	if (!YAJL_IS_ARRAY(lines))
		return bad(r, "%s.script must be a list of strings", what);
	for (size_t i = 0; i < YAJL_GET_ARRAY(lines)->len && rc == ZTC_OK; i++) {
		yajl_val l = YAJL_GET_ARRAY(lines)->values[i];
		char *nt;

		if (!YAJL_IS_STRING(l)) {
			rc = bad(r, "%s.script must be a list of strings", what);
			break;
		}
		rc = expand(r, cmd, l->u.string, "script", &line);
		if (rc < 0)
			break;
		nt = realloc(text, len + strlen(line) + 2);
		if (!nt) {
			free(line);
			rc = ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
			break;
		}
		text = nt;
		len += (size_t)sprintf(text + len, "%s\n", line);
		free(line);
	}
	if (rc == ZTC_OK) {
		snprintf(name, sizeof(name), "script%u.txt", r->nscripts++);
		rc = ztc_board_temp_file(r->b, name, (const unsigned char *)(text ? text : ""), len, &path);
		if (rc == ZTC_OK)
			r->script = path;
	}
	free(text);
	return rc;
}

/* The argument vector of a command object: its tool, then args with placeholders expanded. */
static int build_argv(struct run *r, yajl_val cmd, const char *what, const char ***ret_argv)
{
	yajl_val args = get(cmd, "args");
	const char *tool = tool_of(r, cmd);
	size_t n = 1, cap;
	const char **argv;
	int rc;

	if (!tool)
		return bad(r, "%s has no tool", what);
	if (args && !YAJL_IS_ARRAY(args))
		return bad(r, "%s.args must be a list of strings", what);
	cap = 2 + (args ? YAJL_GET_ARRAY(args)->len : 0) + r->nimgargs;
	argv = calloc(cap, sizeof(*argv));
	if (!argv)
		return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	argv[0] = tool;
	for (size_t i = 0; args && i < YAJL_GET_ARRAY(args)->len; i++) {
		yajl_val a = YAJL_GET_ARRAY(args)->values[i];
		char *s;

		if (!YAJL_IS_STRING(a)) {
			free(argv);
			return bad(r, "%s.args must be a list of strings", what);
		}
		if (strcmp(a->u.string, "{images}") == 0) {
			if (!r->nimgargs) {
				free(argv);
				return bad(r, "{images} in %s.args, but the flash object has no images list", what);
			}
			for (size_t k = 0; k < r->nimgargs; k++)
				argv[n++] = r->imgargs[k];
			continue;
		}
		rc = expand(r, cmd, a->u.string, "args", &s);
		if (rc < 0 || !own(r, s)) {
			free(argv);
			return rc < 0 ? rc : ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
		}
		argv[n++] = s;
	}
	argv[n] = NULL;
	*ret_argv = argv;
	return ZTC_OK;
}

static bool ok_by(const char *ok_when, const char *ok_text, int status, const char *out)
{
	bool text = ok_text && out && strstr(out, ok_text);

	if (strcmp(ok_when, "exit_and_text") == 0)
		return status == 0 && text;
	if (strcmp(ok_when, "exit_or_text") == 0)
		return status == 0 || text;
	if (strcmp(ok_when, "text") == 0)
		return text;
	return status == 0;
}

/* Run a command object; succeed as its ok_when says (default: exit status 0). *ret_output optional. */
static int run_cmd(struct run *r, yajl_val cmd, const char *what, const char *progress_msg, char **ret_output)
{
	const char *ok_when = get_str(cmd, "ok_when"), *ok_text = get_str(cmd, "ok_text");
	long long timeout_s = get_uint(cmd, "timeout_s", get_uint(r->flash, "timeout_s", FLASH_DEFAULT_TIMEOUT_S));
	const char **argv = NULL;
	char *out = NULL, lbuf[LAST_LINE_MAX + 1];
	const char *ll;
	int rc, status = 0;

	if (!ok_when)
		ok_when = "exit";
	if (strcmp(ok_when, "exit") && strcmp(ok_when, "exit_and_text") && strcmp(ok_when, "exit_or_text") &&
	    strcmp(ok_when, "text"))
		return bad(r, "%s.ok_when must be exit, exit_and_text, exit_or_text or text", what);
	if (strcmp(ok_when, "exit") && !ok_text)
		return bad(r, "%s.ok_when is %s but ok_text is missing", what, ok_when);
	if (timeout_s <= 0 || timeout_s > 24 * 3600)
		return bad(r, "timeout_s must be a number of seconds");
	rc = write_script(r, cmd, what);
	if (rc == ZTC_OK)
		rc = build_argv(r, cmd, what, &argv);
	if (rc < 0)
		return rc;
	rc = ztc_tool_run(r->b, argv, (int)(timeout_s * 1000), progress_msg, &status, &out);
	if (rc == ZTC_OK && !ok_by(ok_when, ok_text, status, out)) {
		ll = last_line(out, lbuf, sizeof(lbuf));
		/* With ok_when "text" the status says nothing (J-Link Commander exits 0 on errors too). */
		if (status != 0 && strcmp(ok_when, "text") != 0)
			rc = ztc_board_fail(r->b, ZTC_ERR_TOOL, "%s failed (exit status %d)%s%s", argv[0], status,
					    ll ? ": " : " without output", ll ? ll : "");
		else
			rc = ztc_board_fail(r->b, ZTC_ERR_TOOL, "%s did not report success (no \"%s\" in its output)%s%s",
					    argv[0], ok_text, ll ? ": " : "", ll ? ll : "");
	}
	free(argv);
	if (rc == ZTC_OK && ret_output)
		*ret_output = out;
	else
		free(out);
	return rc;
}

/* Fail before touching the board when a tool the object needs is missing. */
static int check_tools(struct run *r, yajl_val cmd)
{
	yajl_val pre = get(cmd, "pre");
	const char *tool = tool_of(r, cmd);
	char *path = NULL;
	int rc;

	if (!tool)
		return bad(r, "no tool");
	rc = ztc_tool_find(r->b, tool, &path);
	free(path);
	if (rc < 0)
		return rc;
	if (pre && !YAJL_IS_ARRAY(pre))
		return bad(r, "pre must be a list of command objects");
	for (size_t i = 0; pre && i < YAJL_GET_ARRAY(pre)->len; i++) {
		yajl_val c = YAJL_GET_ARRAY(pre)->values[i];

		if (!YAJL_IS_OBJECT(c))
			return bad(r, "pre must be a list of command objects");
		rc = check_tools(r, c);
		if (rc < 0)
			return rc;
	}
	return ZTC_OK;
}

/* ---- images ---------------------------------------------------------------------------------------- */

/* The single image with max_size, pad_to/pad_if_below and append_zeros applied; *ret malloc'd. */
static int prepare_single(struct run *r, const ztc_image *img, unsigned char **ret, size_t *ret_len)
{
	long long pad_to = get_uint(r->flash, "pad_to", 0), below = get_uint(r->flash, "pad_if_below", 0);
	long long max = get_uint(r->flash, "max_size", 0), append = get_uint(r->flash, "append_zeros", 0);
	unsigned char *buf = NULL, *nb;
	size_t len;

	if (pad_to < 0 || below < 0 || max < 0 || append < 0)
		return bad(r, "pad_to, pad_if_below, max_size and append_zeros must be byte counts");
	if (pad_to > ZTC_FIRMWARE_MAX_BYTES || append > ZTC_FIRMWARE_MAX_BYTES)
		return bad(r, "pad_to and append_zeros must be at most %u bytes", ZTC_FIRMWARE_MAX_BYTES);
	if (max && img->len > (unsigned long long)max)
		return ztc_board_fail(r->b, ZTC_ERR_ARG, "the image (%zu bytes) is larger than %s takes (%lld bytes)",
				      img->len, r->name, max);
	if (!pad_to || (below && img->len >= (unsigned long long)below))
		pad_to = 0;
	if (ztc_image_pad(img->data, img->len, (size_t)pad_to, &buf, &len) < 0)
		return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	if (len != img->len)
		ztc_board_log(r->b, ZTC_LOG_INFO, "image padded with zeros from %zu to %zu bytes", img->len, len);
	if (append) {
		nb = realloc(buf, len + (size_t)append);
		if (!nb) {
			free(buf);
			return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
		}
		buf = nb;
		memset(buf + len, 0, (size_t)append);
		len += (size_t)append;
		ztc_board_log(r->b, ZTC_LOG_INFO, "%lld zero bytes appended to the image", append);
	}
	*ret = buf;
	*ret_len = len;
	return ZTC_OK;
}

static int write_single(struct run *r, const ztc_image *img, size_t nimg)
{
	unsigned char *buf;
	size_t len;
	int rc;

	if (nimg != 1)
		return ztc_board_fail(r->b, ZTC_ERR_ARG, "%s takes one image, the firmware has %zu", r->name, nimg);
	rc = prepare_single(r, img, &buf, &len);
	if (rc < 0)
		return rc;
	rc = ztc_board_temp_file(r->b, "firmware.bin", buf, len, &r->file);
	free(buf);
	return rc;
}

static bool parse_addr(const char *s, unsigned long long *ret)
{
	char *end;

	if (!s || strncasecmp(s, "0x", 2) != 0 || !isxdigit((unsigned char)s[2]))
		return false;
	errno = 0;
	*ret = strtoull(s + 2, &end, 16);
	return errno == 0 && *end == '\0';
}

/* The `images` list: each part's file and address, in command-line order, into r->imgargs. */
static int write_parts(struct run *r, yajl_val list, const ztc_image *img, size_t nimg)
{
	size_t n, need = 0;
	const char **addr;
	char **addr_own;
	int rc = ZTC_OK;

	if (!YAJL_IS_ARRAY(list) || YAJL_GET_ARRAY(list)->len == 0)
		return bad(r, "images must be a non-empty list of objects");
	n = YAJL_GET_ARRAY(list)->len;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = YAJL_GET_ARRAY(list)->values[i];
		long long part = get_uint(e, "part", -1);

		if (!YAJL_IS_OBJECT(e) || part < 0)
			return bad(r, "images[%zu] needs a part index", i);
		if ((size_t)part + 1 > need)
			need = (size_t)part + 1;
	}
	if (nimg < need)
		return ztc_board_fail(r->b, ZTC_ERR_ARG, "%s needs %zu images (a .vm file's bin list), the firmware has %zu",
				      r->name, need, nimg);
	addr = calloc(nimg, sizeof(*addr));
	addr_own = calloc(nimg, sizeof(*addr_own));
	r->imgargs = calloc(2 * n, sizeof(*r->imgargs));
	if (!addr || !addr_own || !r->imgargs) {
		free(addr);
		free(addr_own);
		return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	}
	/* Fixed addresses first (device.json, else the file's loc), then the parts placed after another. */
	for (size_t i = 0; i < n; i++) {
		yajl_val e = YAJL_GET_ARRAY(list)->values[i];
		size_t part = (size_t)get_uint(e, "part", 0);
		const char *a = get_str(e, "address");
		unsigned long long v;

		if (get(e, "follows"))
			continue;
		if (!a)
			a = img[part].loc;
		if (!a) {
			rc = bad(r, "images[%zu] has no address (and the firmware no loc for part %zu)", i, part);
			break;
		}
		if (!parse_addr(a, &v)) {
			rc = bad(r, "images[%zu].address \"%s\" is not a hexadecimal address", i, a);
			break;
		}
		addr[part] = a;
	}
	for (size_t pass = 0; pass < n && rc == ZTC_OK; pass++)
		for (size_t i = 0; i < n && rc == ZTC_OK; i++) {
			yajl_val e = YAJL_GET_ARRAY(list)->values[i];
			size_t part = (size_t)get_uint(e, "part", 0);
			long long f = get_uint(e, "follows", -1), align = get_uint(e, "align", 1);
			unsigned long long base, end;

			if (!get(e, "follows") || addr[part])
				continue;
			if (f < 0 || (size_t)f >= nimg || align <= 0) {
				rc = bad(r, "images[%zu]: follows must be a part index and align a positive byte count", i);
				break;
			}
			if (!addr[f])
				continue; /* placed in a later pass */
			parse_addr(addr[f], &base);
			end = base + img[f].len;
			end = (end + (unsigned long long)align - 1) / (unsigned long long)align * (unsigned long long)align;
			addr_own[part] = ztc_strdup_printf("0x%llx", end);
			if (!addr_own[part])
				rc = ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
			addr[part] = addr_own[part];
		}
	for (size_t i = 0; i < n && rc == ZTC_OK; i++) {
		yajl_val e = YAJL_GET_ARRAY(list)->values[i];
		size_t part = (size_t)get_uint(e, "part", 0);
		char fname[32];
		const char *path;

		if (!addr[part]) {
			rc = bad(r, "images[%zu] follows a part that has no address", i);
			break;
		}
		snprintf(fname, sizeof(fname), "part%zu.bin", part);
		rc = ztc_board_temp_file(r->b, fname, img[part].data, img[part].len, &path);
		if (rc < 0)
			break;
		r->imgargs[r->nimgargs++] = addr[part];
		r->imgargs[r->nimgargs++] = path;
	}
	/* The computed addresses live as long as the run. */
	for (size_t i = 0; i < nimg; i++)
		if (addr_own[i] && !own(r, addr_own[i]) && rc == ZTC_OK)
			rc = ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	free(addr_own);
	free(addr);
	return rc;
}

/* ---- methods --------------------------------------------------------------------------------------- */

static void wait_after(struct run *r, size_t bytes)
{
	long long ms = get_uint(r->flash, "sleep_ms", 0);
	long long per_mib = get_uint(r->flash, "sleep_ms_per_mib", 0);

	if (per_mib > 0)
		ms += (long long)(((unsigned long long)per_mib * bytes + (1u << 20) - 1) >> 20);
	if (ms > 0) {
		char msg[96];

		snprintf(msg, sizeof(msg), "waiting %lld.%01lld s while the board programs itself", ms / 1000,
			 (ms % 1000) / 100);
		ztc_board_progress(r->b, -1, msg);
		ztc_board_wait(r->b, (long)ms);
	}
}

static int method_tool(struct run *r, const ztc_image *img, size_t nimg)
{
	yajl_val images = get(r->flash, "images"), pre = get(r->flash, "pre");
	size_t bytes = 0;
	int rc;

	rc = check_tools(r, r->flash);
	if (rc < 0)
		return rc;
	if (images)
		rc = write_parts(r, images, img, nimg);
	else
		rc = write_single(r, img, nimg);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < nimg; i++)
		bytes += img[i].len;
	if (get_bool(r->flash, "touch1200")) {
		long long w = get_uint(r->flash, "touch_wait_ms", 0);

		if (w < 0)
			return bad(r, "touch_wait_ms must be a number of milliseconds");
		rc = ztc_board_touch_serial(r->b, 1200, (long)w);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; pre && i < YAJL_GET_ARRAY(pre)->len; i++) {
		char what[32];
		yajl_val c = YAJL_GET_ARRAY(pre)->values[i];

		snprintf(what, sizeof(what), "pre[%zu]", i);
		ztc_board_progress(r->b, -1, "preparing the image");
		/* A preparation step must exit 0 whatever it prints. */
		if (get(c, "ok_when"))
			return bad(r, "%s: a preparation step takes no ok_when", what);
		rc = run_cmd(r, c, what, "preparing", NULL);
		if (rc < 0)
			return rc;
	}
	ztc_board_progress(r->b, -1, "flashing");
	rc = run_cmd(r, r->flash, "flash", "flashing", NULL);
	if (rc < 0)
		return rc;
	wait_after(r, bytes);
	return ZTC_OK;
}

static int method_disk(struct run *r, const ztc_image *img, size_t nimg)
{
	const char *name = get_str(r->flash, "file");
	unsigned char *buf;
	size_t len;
	int rc;

	if (ztc_str_empty(name) || strchr(name, '/'))
		return bad(r, "method disk needs a file name (file) without '/'");
	if (nimg != 1)
		return ztc_board_fail(r->b, ZTC_ERR_ARG, "%s takes one image, the firmware has %zu", r->name, nimg);
	/* Check the disk before preparing anything: the common failure is a board whose disk is not mounted. */
	if (ztc_str_empty(ztc_board_get_str(r->b, "disk")))
		return ztc_board_fail(r->b, ZTC_ERR_NOT_FOUND, "no mass-storage disk mounted for %s", r->name);
	rc = prepare_single(r, img, &buf, &len);
	if (rc < 0)
		return rc;
	rc = ztc_board_copy_to_disk(r->b, name, buf, len);
	free(buf);
	if (rc < 0)
		return rc;
	wait_after(r, len);
	return ZTC_OK;
}

ZTC_API const char *ztc_openocd_probe_interface(const char *probe)
{
	static const char *const map[][2] = {
		{ "atmel_ice", "interface/cmsis-dap.cfg" }, { "atmel_edbg", "interface/cmsis-dap.cfg" },
		{ "cmsis_dap", "interface/cmsis-dap.cfg" }, { "kitprog2", "interface/cmsis-dap.cfg" },
		{ "jlink", "interface/jlink.cfg" },         { "stlink", "interface/stlink.cfg" },
	};

	for (size_t i = 0; probe && i < sizeof(map) / sizeof(*map); i++)
		if (strcmp(map[i][0], probe) == 0)
			return map[i][1];
	return NULL;
}

static int probe_interface(struct run *r, const char **ret)
{
	const char *probe = get_str(r->flash, "probe");

	*ret = ztc_openocd_probe_interface(probe);
	if (!*ret)
		return bad(r, "probe \"%s\" is not one of stlink, jlink, cmsis_dap, atmel_ice, atmel_edbg, kitprog2",
			   probe ? probe : "");
	return ZTC_OK;
}

ZTC_API int ztc_flash_default(ztc_board *b, const ztc_image *img, size_t nimg)
{
	struct run r;
	const char *method, *iface;
	int rc;

	if (!b || !img || nimg == 0)
		return ztc_board_fail(b, ZTC_ERR_ARG, "no image to flash");
	rc = run_init(&r, b, true);
	if (rc < 0)
		goto out;
	method = get_str(r.flash, "method");
	if (!method) {
		rc = bad(&r, "no method");
	} else if (strcmp(method, "tool") == 0) {
		rc = method_tool(&r, img, nimg);
	} else if (strcmp(method, "disk") == 0) {
		rc = method_disk(&r, img, nimg);
	} else if (strcmp(method, "probe") == 0) {
		rc = probe_interface(&r, &iface);
		if (rc == ZTC_OK)
			rc = ztc_openocd_burn(b, iface, img, nimg);
	} else if (strcmp(method, "unsupported") == 0) {
		const char *msg = get_str(r.flash, "message");

		rc = ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s", msg ? msg : "this board cannot be flashed");
	} else if (strcmp(method, "plugin") == 0) {
		rc = ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s: flash method \"plugin\": the class must flash by itself",
				    r.where);
	} else {
		rc = bad(&r, "unknown method \"%s\"", method);
	}
out:
	run_free(&r);
	return rc;
}

/* ---- sub-objects: reset, enter_virtualizable; the chip id through a probe -------------------------- */

static int set_line(struct run *r, int fd, const char *port, int bit, bool on, const char *what)
{
	if (ioctl(fd, on ? TIOCMBIS : TIOCMBIC, &bit) == 0)
		return ZTC_OK;
	if (errno == ENOTTY || errno == EINVAL)
		return ztc_board_fail(r->b, ZTC_ERR_UNSUPPORTED, "%s has no modem control lines (DTR/RTS): cannot %s %s",
				      port, what, r->name);
	return ztc_board_fail(r->b, ZTC_ERR_IO, "cannot set %s on %s: %s", bit == TIOCM_DTR ? "DTR" : "RTS", port,
			      strerror(errno));
}

static int method_serial(struct run *r, yajl_val sub, const char *key, const char *what)
{
	const char *port = ztc_board_get_str(r->b, "port");
	yajl_val steps = get(sub, "steps");
	ztc_serial_params p;
	struct termios t;
	long long baud;
	int fd = -1, rc = ZTC_OK;

	if (steps && !YAJL_IS_ARRAY(steps))
		return bad(r, "%s.steps must be a list", key);
	baud = get_uint(sub, "baud", get_uint(get(r->root, "connection"), "baudrate", 115200));
	if (baud <= 0 || baud > 4000000)
		return bad(r, "%s.baud must be a baud rate", key);
	if (!port)
		return ztc_board_fail(r->b, ZTC_ERR_NOT_FOUND, "%s has no serial port: is it connected?", r->name);
	ztc_serial_params_init(&p);
	p.baud = (int)baud;
	rc = ztc_serial_open(r->ctx, port, &p, &fd);
	if (rc < 0)
		return rc;
	/* Closing drops DTR (HUPCL), as closing the port in the Python toolchain did. */
	if (tcgetattr(fd, &t) == 0) {
		t.c_cflag |= HUPCL;
		tcsetattr(fd, TCSANOW, &t);
	}
	ztc_board_log(r->b, ZTC_LOG_INFO, "%s: %s opened at %lld baud", key, port, baud);
	for (size_t i = 0; steps && i < YAJL_GET_ARRAY(steps)->len && rc == ZTC_OK; i++) {
		yajl_val s = YAJL_GET_ARRAY(steps)->values[i];
		yajl_val dtr = get(s, "dtr"), rts = get(s, "rts");
		bool known = false;

		if (!YAJL_IS_OBJECT(s)) {
			rc = bad(r, "%s.steps[%zu] is not an object", key, i);
			break;
		}
		if (dtr || rts) {
			known = true;
			if (fd < 0) {
				rc = bad(r, "%s.steps[%zu] sets a line after the port was closed", key, i);
				break;
			}
			if (dtr)
				rc = set_line(r, fd, port, TIOCM_DTR, YAJL_IS_TRUE(dtr), what);
			if (rc == ZTC_OK && rts)
				rc = set_line(r, fd, port, TIOCM_RTS, YAJL_IS_TRUE(rts), what);
		}
		if (rc == ZTC_OK && get(s, "sleep_ms")) {
			long long ms = get_uint(s, "sleep_ms", 0);

			known = true;
			if (ms < 0) {
				rc = bad(r, "%s.steps[%zu].sleep_ms must be a number of milliseconds", key, i);
				break;
			}
			ztc_board_wait(r->b, (long)ms);
		}
		if (rc == ZTC_OK && get_bool(s, "close")) {
			known = true;
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
		if (rc == ZTC_OK && !known)
			rc = bad(r, "%s.steps[%zu] is not one of dtr/rts, sleep_ms, close", key, i);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Run the sub-object key of flash (method serial or tool); nothing when it is absent. */
static int run_sub(ztc_board *b, const char *key, const char *what)
{
	struct run r;
	yajl_val sub;
	const char *method;
	int rc = run_init(&r, b, false);

	if (rc < 0)
		goto out;
	sub = get(r.flash, key);
	if (!sub) {
		ztc_board_log(b, ZTC_LOG_DBG, "%s: no flash.%s: nothing to do", r.where, key);
		goto out;
	}
	if (!YAJL_IS_OBJECT(sub)) {
		rc = bad(&r, "%s is not an object", key);
		goto out;
	}
	method = get_str(sub, "method");
	if (method && strcmp(method, "serial") == 0) {
		rc = method_serial(&r, sub, key, what);
	} else if (method && strcmp(method, "tool") == 0) {
		rc = check_tools(&r, sub);
		if (rc == ZTC_OK)
			rc = run_cmd(&r, sub, key, key, NULL);
	} else {
		rc = bad(&r, "%s.method must be serial or tool", key);
	}
out:
	run_free(&r);
	return rc;
}

ZTC_API int ztc_flash_reset_default(ztc_board *b)
{
	return run_sub(b, "reset", "reset");
}

ZTC_API int ztc_flash_enter_virtualizable_default(ztc_board *b)
{
	return run_sub(b, "enter_virtualizable", "switch the mode of");
}

/* A board flashed through a probe reads its chip id through OpenOCD. */
ZTC_API int ztc_flash_chipid_default(ztc_board *b, char **ret_chipid)
{
	struct run r;
	const char *method, *iface;
	int rc;

	if (!ret_chipid)
		return ztc_board_fail(b, ZTC_ERR_ARG, "no chip id destination");
	rc = run_init(&r, b, true);
	if (rc < 0)
		goto out;
	method = get_str(r.flash, "method");
	if (method && strcmp(method, "probe") == 0 && get_str(r.root, "jtag_chipid_command")) {
		rc = probe_interface(&r, &iface);
		if (rc == ZTC_OK)
			rc = ztc_openocd_read_chipid(b, iface, ret_chipid);
	} else {
		rc = ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s cannot read its chip id natively (no probe with "
				    "jtag_chipid_command)", r.name);
	}
out:
	run_free(&r);
	return rc;
}

/* ---- OpenOCD ----------------------------------------------------------------------------------------- */

/* The OpenOCD target script: jtag_target, else openocd.cfg beside device.json. */
static int openocd_target(struct run *r, char **ret)
{
	const char *t = get_str(r->root, "jtag_target");
	char *path;

	if (!ztc_str_empty(t)) {
		*ret = strchr(t, '/') ? strdup(t) : ztc_strdup_printf("target/%s.cfg", t);
		return *ret ? ZTC_OK : ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	}
	path = ztc_strdup_printf("%s/openocd.cfg", ztc_board_get_dir(r->b));
	if (path && access(path, R_OK) == 0) {
		*ret = path;
		return ZTC_OK;
	}
	free(path);
	return ztc_board_fail(r->b, ZTC_ERR_UNSUPPORTED,
			      "%s has no OpenOCD target script: set jtag_target in %s (or put openocd.cfg beside it)",
			      r->name, r->where);
}

static bool is_usb_id(const char *s)
{
	if (!s || strlen(s) != 4)
		return false;
	for (size_t i = 0; i < 4; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* OpenOCD's CMSIS-DAP driver, left to find a probe by itself, skips a device it may not open and
 * reports only that it found none; told the board's USB id, it opens that one and says why it cannot
 * (permission denied), and leaves other CMSIS-DAP probes alone. The id comes from udev and OpenOCD parses
 * the command as Tcl: it goes in only as four hexadecimal digits each. *ret: NULL when not pinned. */
static int openocd_pin_probe(struct run *r, const char *iface, const char **ret)
{
	const char *vid = ztc_board_get_str(r->b, "vid"), *pid = ztc_board_get_str(r->b, "pid");

	*ret = NULL;
	if (strcmp(iface, "interface/cmsis-dap.cfg") != 0 || !is_usb_id(vid) || !is_usb_id(pid))
		return ZTC_OK;
	*ret = own(r, ztc_strdup_printf("cmsis_dap_vid_pid 0x%s 0x%s", vid, pid));
	return *ret ? ZTC_OK : ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
}

/* openocd -f IFACE [-c PIN] [-c OPTS] -f TARGET, then room for the commands. */
static int openocd_argv(struct run *r, const char *iface, size_t ncmds, const char ***ret_argv, size_t *ret_n)
{
	const char *opts = get_str(r->root, "jtag_target_options");
	const char **argv = calloc(10 + 2 * ncmds, sizeof(*argv));
	const char *tool = get_str(r->root, "jtag_tool");
	const char *pin;
	char *target;
	size_t n = 0;
	int rc;

	if (!argv)
		return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	rc = openocd_target(r, &target);
	if (rc < 0 || !own(r, target)) {
		free(argv);
		return rc < 0 ? rc : ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	}
	argv[n++] = !ztc_str_empty(tool) ? tool : "openocd";
	argv[n++] = "-f";
	argv[n++] = iface;
	rc = openocd_pin_probe(r, iface, &pin);
	if (rc < 0) {
		free(argv);
		return rc;
	}
	if (pin) {
		argv[n++] = "-c";
		argv[n++] = pin;
	}
	if (!ztc_str_empty(opts)) {
		argv[n++] = "-c";
		argv[n++] = opts;
	}
	argv[n++] = "-f";
	argv[n++] = target;
	*ret_argv = argv;
	*ret_n = n;
	return ZTC_OK;
}

/* How OpenOCD says it found the probe but may not open it: libusb's error name (ST-Link, J-Link) or its
 * text (CMSIS-DAP, pinned to the board's USB id by openocd_pin_probe). */
static bool openocd_denied(const char *out)
{
	return out && (strstr(out, "LIBUSB_ERROR_ACCESS") || strstr(out, "Access denied (insufficient permissions)"));
}

/* What to show of a failed OpenOCD run: its last "Error:" (a Tcl error is followed by its traceback,
 * whose last line says nothing), from that word on; else its last line. */
static const char *openocd_error(const char *out, char *buf, size_t size)
{
	const char *found = NULL, *p = out;
	size_t n;

	while (p && (p = strstr(p, "Error:")) != NULL) {
		found = p;
		p += 6;
	}
	if (!found)
		return last_line(out, buf, size);
	n = strcspn(found, "\r\n");
	if (n >= size)
		n = size - 1;
	memcpy(buf, found, n);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	return buf;
}

/* The one line for a probe the user may not open: what to do about it, not OpenOCD's words. */
static int openocd_fail_denied(struct run *r, const char *tool)
{
	const char *vid = ztc_board_get_str(r->b, "vid"), *pid = ztc_board_get_str(r->b, "pid");
	char usb[32] = "";

	if (vid && pid)
		snprintf(usb, sizeof(usb), " (%.4s:%.4s)", vid, pid);
	return ztc_board_fail(r->b, ZTC_ERR_IO,
			      "permission denied on the USB probe of %s%s: %s may not open it; install the udev rules "
			      "the ztc package installs (60-ztc.rules) and run 'udevadm trigger' as root, or replug the "
			      "board", r->name, usb, tool);
}

ZTC_API int ztc_openocd_burn(ztc_board *b, const char *interface_cfg, const ztc_image *img, size_t nimg)
{
	static const char *const failures[] = { "Verified Failed", "Programming Failed", "wrote 0 " };
	struct run r;
	const char **argv = NULL;
	const char *vm_start, *end_cmds;
	char *out = NULL, lbuf[LAST_LINE_MAX + 1];
	long long timeout_s;
	size_t n = 0;
	int rc, status = 0;

	if (!b || !img || nimg == 0)
		return ztc_board_fail(b, ZTC_ERR_ARG, "no image to flash");
	if (ztc_str_empty(interface_cfg))
		return ztc_board_fail(b, ZTC_ERR_ARG, "no OpenOCD interface script for the probe");
	rc = run_init(&r, b, false);
	if (rc < 0)
		goto out;
	vm_start = get_str(r.root, "vm_start");
	end_cmds = get_str(r.root, "jtag_burn_end");
	timeout_s = get_uint(r.root, "jtag_timeout", 30);
	if (timeout_s <= 0) {
		rc = ztc_board_fail(b, ZTC_ERR_PARSE, "%s: jtag_timeout must be a number of seconds", r.where);
		goto out;
	}
	rc = openocd_argv(&r, interface_cfg, nimg + 2, &argv, &n);
	if (rc < 0)
		goto out;
	{
		char *path = NULL;

		rc = ztc_tool_find(b, argv[0], &path);
		free(path);
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; i < nimg && rc == ZTC_OK; i++) {
		const char *addr = img[i].loc ? img[i].loc : vm_start, *path;
		char fname[32], *cmd;
		unsigned long long v;

		if (!addr || !parse_addr(addr, &v)) {
			rc = ztc_board_fail(b, ZTC_ERR_ARG,
					    "no flash address for image %zu on %s: the firmware has no loc and %s no vm_start",
					    i, r.name, r.where);
			break;
		}
		snprintf(fname, sizeof(fname), nimg == 1 ? "firmware.bin" : "part%zu.bin", i);
		rc = ztc_board_temp_file(b, fname, img[i].data, img[i].len, &path);
		if (rc < 0)
			break;
		/* Reset once, after the last image. */
		cmd = own(&r, ztc_strdup_printf("program %s verify%s %s", path, i + 1 == nimg ? " reset" : "", addr));
		if (!cmd) {
			rc = ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
			break;
		}
		argv[n++] = "-c";
		argv[n++] = cmd;
	}
	if (rc < 0)
		goto out;
	if (!ztc_str_empty(end_cmds)) {
		argv[n++] = "-c";
		argv[n++] = end_cmds;
	}
	argv[n++] = "-c";
	argv[n++] = "shutdown";
	argv[n] = NULL;
	ztc_board_progress(b, -1, "flashing through the probe");
	rc = ztc_tool_run(b, argv, (int)(timeout_s * 1000), "flashing", &status, &out);
	if (rc < 0)
		goto out;
	{
		const char *failed = NULL;
		bool ok;

		for (size_t i = 0; i < sizeof(failures) / sizeof(*failures) && !failed; i++)
			if (out && strstr(out, failures[i]))
				failed = failures[i];
		ok = status == 0 && !failed && out && strstr(out, "** Verified OK");

		if (!ok && openocd_denied(out)) {
			rc = openocd_fail_denied(&r, argv[0]);
		} else if (!ok) {
			const char *ll = openocd_error(out, lbuf, sizeof(lbuf));

			rc = ztc_board_fail(b, ZTC_ERR_TOOL, "%s could not program %s (exit status %d%s%s)%s%s", argv[0],
					    r.name, status, failed ? ", " : "", failed ? failed : "", ll ? ": " : "",
					    ll ? ll : "");
		}
	}
out:
	free(out);
	free(argv);
	run_free(&r);
	return rc;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A piece of tool output fit for a message: at most size - 1 characters, the unprintable ones as '?'. */
static const char *printable(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; s[n] && n + 1 < size; n++)
		buf[n] = isprint((unsigned char)s[n]) ? s[n] : '?';
	buf[n] = '\0';
	return buf;
}

/* The chip id in OpenOCD's output (out is consumed): of the lines "ADDRESS: VALUE VALUE ... " that start
 * with prefix, the first want; every value must be 1 to 8 hexadecimal digits. words: each value as 8
 * upper-case digits, the project's id of a 32-bit word, as the SAM-BA and DfuSe readers give it;
 * otherwise each value's characters reversed, as the Zerynth toolchain built its ids. */
static int openocd_parse_chipid(struct run *r, const char *tool, char *out, const char *prefix, size_t want,
				bool words, char **ret_chipid)
{
	char id[CHIPID_MAX + 1], pbuf[48], *save = NULL;
	size_t got = 0, idlen = 0;

	for (char *line = strtok_r(out, "\r\n", &save); line && got < want; line = strtok_r(NULL, "\r\n", &save)) {
		char *colon, *w, *wsave = NULL;
		size_t nval = 0;

		line = trim(line);
		colon = strchr(line, ':');
		if (!colon || strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		got++;
		*colon = '\0';
		for (w = strtok_r(colon + 1, " \t", &wsave); w; w = strtok_r(NULL, " \t", &wsave), nval++) {
			size_t len = strlen(w), hex = 0, width;

			while (hex < len && isxdigit((unsigned char)w[hex]))
				hex++;
			if (len > 8 || hex < len)
				return ztc_board_fail(r->b, ZTC_ERR_TOOL, "%s printed a chip id value that is not 1 to 8 "
						      "hexadecimal digits: \"%s\" at %s", tool, printable(w, pbuf, 20),
						      printable(line, pbuf + 24, 24));
			width = words ? 8 : len;
			if (idlen + width > CHIPID_MAX)
				return ztc_board_fail(r->b, ZTC_ERR_TOOL, "the chip id %s printed is longer than %d characters",
						      tool, CHIPID_MAX);
			if (words) {
				memset(id + idlen, '0', 8 - len);
				for (size_t k = 0; k < len; k++)
					id[idlen + 8 - len + k] = (char)toupper((unsigned char)w[k]);
			} else {
				for (size_t k = 0; k < len; k++)
					id[idlen + k] = w[len - 1 - k];
			}
			idlen += width;
		}
		if (nval == 0)
			return ztc_board_fail(r->b, ZTC_ERR_TOOL, "%s printed no chip id value at %s", tool,
					      printable(line, pbuf, 24));
	}
	if (got < want)
		return ztc_board_fail(r->b, ZTC_ERR_TOOL, "%s printed %zu of the %zu chip id lines", tool, got, want);
	id[idlen] = '\0';
	*ret_chipid = strdup(id);
	return *ret_chipid ? ZTC_OK : ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
}

ZTC_API int ztc_openocd_read_chipid(ztc_board *b, const char *interface_cfg, char **ret_chipid)
{
	struct run r;
	const char **argv = NULL;
	const char *cmds, *prefix, *format;
	char *copy = NULL, *save = NULL, *out = NULL, lbuf[LAST_LINE_MAX + 1], msg[128];
	long long want, timeout_s;
	size_t n = 0, ncmds = 1;
	int rc, status = 0;

	if (!ret_chipid || ztc_str_empty(interface_cfg))
		return ztc_board_fail(b, ZTC_ERR_ARG, "no OpenOCD interface script for the probe");
	rc = run_init(&r, b, false);
	if (rc < 0)
		goto out;
	cmds = get_str(r.root, "jtag_chipid_command");
	prefix = get_str(r.root, "jtag_chipid_prefix");
	format = get_str(r.root, "jtag_chipid_format");
	if (ztc_str_empty(cmds)) {
		rc = ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s cannot read its chip id through OpenOCD: %s has no "
				    "jtag_chipid_command", r.name, r.where);
		goto out;
	}
	/* OpenOCD's own log lines hold ':' too; the values it prints for mdw/mdb start with their address. */
	if (ztc_str_empty(prefix))
		prefix = "0x";
	for (const char *p = cmds; *p; p++)
		ncmds += *p == ';';
	want = get_uint(r.root, "jtag_chipid_len", (long long)ncmds);
	timeout_s = get_uint(r.root, "jtag_timeout", 30);
	if (want <= 0 || want > CHIPID_LINES_MAX || timeout_s <= 0) {
		rc = ztc_board_fail(b, ZTC_ERR_PARSE, "%s: jtag_chipid_len must be 1 to %d lines and jtag_timeout a "
				    "positive number of seconds", r.where, CHIPID_LINES_MAX);
		goto out;
	}
	if (format && strcmp(format, "words") != 0 && strcmp(format, "reversed") != 0) {
		rc = ztc_board_fail(b, ZTC_ERR_PARSE, "%s: jtag_chipid_format must be \"words\" or \"reversed\"", r.where);
		goto out;
	}
	rc = openocd_argv(&r, interface_cfg, ncmds + 2, &argv, &n);
	if (rc < 0)
		goto out;
	copy = own(&r, strdup(cmds));
	if (!copy) {
		rc = ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
		goto out;
	}
	argv[n++] = "-c";
	argv[n++] = "init";
	for (char *c = strtok_r(copy, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
		c = trim(c);
		if (!*c)
			continue;
		argv[n++] = "-c";
		argv[n++] = c;
	}
	argv[n++] = "-c";
	argv[n++] = "shutdown";
	argv[n] = NULL;
	snprintf(msg, sizeof(msg), "reading the chip id (OpenOCD, %s)", interface_cfg);
	ztc_board_progress(b, -1, msg);
	rc = ztc_tool_run(b, argv, (int)(timeout_s * 1000), "reading the chip id", &status, &out);
	if (rc < 0)
		goto out;
	/* A denied probe matters only when the read failed: OpenOCD goes on to the next probe that fits. */
	if (status != 0 && openocd_denied(out)) {
		rc = openocd_fail_denied(&r, argv[0]);
	} else if (status != 0) {
		const char *ll = openocd_error(out, lbuf, sizeof(lbuf));

		rc = ztc_board_fail(b, ZTC_ERR_TOOL, "%s failed (exit status %d)%s%s", argv[0], status,
				    ll ? ": " : " without output", ll ? ll : "");
	} else {
		bool denied = openocd_denied(out);

		rc = openocd_parse_chipid(&r, argv[0], out, prefix, (size_t)want, format && strcmp(format, "words") == 0,
					  ret_chipid);
		if (rc < 0 && denied)
			rc = openocd_fail_denied(&r, argv[0]);
	}
out:
	free(out);
	free(argv);
	run_free(&r);
	return rc;
}

ZTC_API int ztc_openocd_chipid_default(ztc_board *b, char **ret_chipid)
{
	const char *probe = ztc_board_get_str(b, "preferred_register_with_jtag");
	const char *name = ztc_board_get_str(b, "name"), *iface;

	if (!ret_chipid)
		return ztc_board_fail(b, ZTC_ERR_ARG, "no chip id destination");
	if (!name)
		name = ztc_board_get_str(b, "target");
	/* Declined before anything runs: the registration firmware's flow can still take over. */
	if (ztc_str_empty(probe))
		return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s has no on-board probe named "
				      "(preferred_register_with_jtag) to read its chip id through", name);
	iface = ztc_openocd_probe_interface(probe);
	if (!iface)
		return ztc_board_fail(b, ZTC_ERR_PARSE, "%s/device.json: preferred_register_with_jtag \"%s\" is not one "
				      "of stlink, jlink, cmsis_dap, atmel_ice, atmel_edbg, kitprog2", ztc_board_get_dir(b),
				      probe);
	return ztc_openocd_read_chipid(b, iface, ret_chipid);
}
