/* flash-check.c: the rules of a device.json `flash` object, checked when the board database loads. */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "flash.h"

/* Waits the data may ask for, and the alignment of a part placed after another. */
#define WAIT_MAX_MS (3600 * 1000)
#define ALIGN_MAX (1LL << 30)

struct check {
	yajl_val flash;
	bool images;  /* the flash object has an images list */
	char *why;
	size_t whylen;
};

/* Where a command object stands: what its placeholders may name. */
enum place {
	PLACE_FLASH, /* the flash object's own command (method tool) */
	PLACE_PRE,   /* a preparation step of it */
	PLACE_SUB,   /* a sub-object (reset, enter_virtualizable, erase): no image at all */
};

static bool no(struct check *c, const char *fmt, ...) ZTC_PRINTF(2, 3);
static bool no(struct check *c, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->why, c->whylen, "flash: ");

	va_start(ap, fmt);
	vsnprintf(c->why + n, c->whylen - (size_t)n, fmt, ap);
	va_end(ap);
	/* Names from the file (a method, a placeholder) go in as they are: the warning stays one line. */
	ztc_str_oneline(c->why);
	return false;
}

/* key of obj: absent, or an integer from lo to hi. */
static bool int_in(yajl_val obj, const char *key, long long lo, long long hi)
{
	yajl_val v = ztc_json_get(obj, key, yajl_t_any);

	return !v || (YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) >= lo && YAJL_GET_INTEGER(v) <= hi);
}

/* key of obj: absent, true or false (and, where ints is set, an integer as the Zerynth data had). */
static bool flag(yajl_val obj, const char *key, bool ints)
{
	yajl_val v = ztc_json_get(obj, key, yajl_t_any);

	return !v || YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v) || (ints && YAJL_IS_INTEGER(v));
}

/* key of obj: absent or a list of strings. */
static bool strings(yajl_val obj, const char *key)
{
	yajl_val v = ztc_json_get(obj, key, yajl_t_any);

	if (!v)
		return true;
	if (!YAJL_IS_ARRAY(v))
		return false;
	for (size_t i = 0; i < YAJL_GET_ARRAY(v)->len; i++)
		if (!YAJL_IS_STRING(YAJL_GET_ARRAY(v)->values[i]))
			return false;
	return true;
}

/* Every {key} of tmpl names something the run has: a built-in name, or a string or number of obj or of
 * the flash object. in_script: tmpl is a line of obj's script, written before {script} exists. */
static bool template_ok(struct check *c, yajl_val obj, enum place place, const char *what, const char *tmpl,
			bool in_script)
{
	static const char *const always[] = { "tmpdir", "port", "sid", "vid", "pid" };
	const char *start;
	char key[FLASH_KEY_MAX];

	while ((tmpl = flash_next_placeholder(tmpl, &start, key)) != NULL) {
		bool known = false;
		yajl_val v;

		for (size_t i = 0; i < sizeof(always) / sizeof(*always) && !known; i++)
			known = strcmp(key, always[i]) == 0;
		if (known)
			continue;
		if (strcmp(key, "file") == 0) {
			if (place == PLACE_SUB || c->images)
				return no(c, "{file} in %s, but there is no single image there (only method tool without an "
					  "images list has one)", what);
			continue;
		}
		if (strcmp(key, "script") == 0) {
			if (in_script || !ztc_json_get(obj, "script", yajl_t_any))
				return no(c, "{script} in %s, but the object has no script", what);
			continue;
		}
		v = ztc_json_get(obj, key, yajl_t_any);
		if (!v)
			v = ztc_json_get(c->flash, key, yajl_t_any);
		if (!v || (!YAJL_IS_STRING(v) && !YAJL_IS_INTEGER(v)))
			return no(c, "unknown placeholder {%s} in %s", key, what);
	}
	return true;
}

/* A command object (ztc-plugin(7) "Command keys"): what is "flash", "pre[0]", "reset"... */
static bool command_ok(struct check *c, yajl_val cmd, enum place place, const char *what)
{
	static const char *const ok_whens[] = { "exit", "exit_and_text", "exit_or_text", "text" };
	yajl_val tool = ztc_json_get(cmd, "tool", yajl_t_any), args = ztc_json_get(cmd, "args", yajl_t_array);
	yajl_val lines = ztc_json_get(cmd, "script", yajl_t_array), v;
	const char *ok_when = ztc_json_get_str(cmd, "ok_when");
	char where[64];
	bool known = false;

	if (tool && !YAJL_IS_STRING(tool))
		return no(c, "%s.tool must be a string", what);
	if (ztc_str_empty(flash_tool_of(c->flash, cmd)))
		return no(c, "%s has no tool", what);
	if (!strings(cmd, "args"))
		return no(c, "%s.args must be a list of strings", what);
	if (!strings(cmd, "script"))
		return no(c, "%s.script must be a list of strings", what);
	if ((v = ztc_json_get(cmd, "ok_when", yajl_t_any)) && !ok_when)
		return no(c, "%s.ok_when must be exit, exit_and_text, exit_or_text or text", what);
	for (size_t i = 0; ok_when && i < sizeof(ok_whens) / sizeof(*ok_whens); i++)
		known = known || strcmp(ok_when, ok_whens[i]) == 0;
	if (ok_when && !known)
		return no(c, "%s.ok_when must be exit, exit_and_text, exit_or_text or text", what);
	/* A preparation step must exit 0 whatever it prints. */
	if (ok_when && place == PLACE_PRE)
		return no(c, "%s: a preparation step takes no ok_when", what);
	if ((v = ztc_json_get(cmd, "ok_text", yajl_t_any)) && !YAJL_IS_STRING(v))
		return no(c, "%s.ok_text must be a string", what);
	if (ok_when && strcmp(ok_when, "exit") && !v)
		return no(c, "%s.ok_when is %s but ok_text is missing", what, ok_when);
	if (!int_in(cmd, "timeout_s", 1, FLASH_TIMEOUT_MAX_S))
		return no(c, "%s.timeout_s must be a number of seconds (1 to %d)", what, FLASH_TIMEOUT_MAX_S);
	if (place != PLACE_FLASH && ztc_json_get(cmd, "pre", yajl_t_any))
		return no(c, "%s.pre: only the flash object itself runs preparation steps", what);
	snprintf(where, sizeof(where), "%s.args", what);
	for (size_t i = 0; args && i < YAJL_GET_ARRAY(args)->len; i++) {
		const char *a = YAJL_GET_STRING(YAJL_GET_ARRAY(args)->values[i]);

		/* Alone in its argument, {images} is the images list's address, file pairs. */
		if (strcmp(a, "{images}") == 0) {
			if (place != PLACE_FLASH || !c->images)
				return no(c, "{images} in %s, but the flash object has no images list", where);
			continue;
		}
		if (!template_ok(c, cmd, place, where, a, false))
			return false;
	}
	snprintf(where, sizeof(where), "%s.script", what);
	for (size_t i = 0; lines && i < YAJL_GET_ARRAY(lines)->len; i++)
		if (!template_ok(c, cmd, place, where, YAJL_GET_STRING(YAJL_GET_ARRAY(lines)->values[i]), true))
			return false;
	return true;
}

/* The images list: parts at fixed addresses or placed after another part, every part placed once. */
static bool images_ok(struct check *c, yajl_val list)
{
	size_t n, placed = 0;
	bool done[64] = { false }, progress = true;

	if (!YAJL_IS_ARRAY(list) || YAJL_GET_ARRAY(list)->len == 0)
		return no(c, "images must be a non-empty list of objects");
	n = YAJL_GET_ARRAY(list)->len;
	if (n > sizeof(done) / sizeof(*done))
		return no(c, "images lists at most %zu parts", sizeof(done) / sizeof(*done));
	for (size_t i = 0; i < n; i++) {
		yajl_val e = YAJL_GET_ARRAY(list)->values[i];
		const char *a = ztc_json_get_str(e, "address");
		unsigned long long addr;

		if (!YAJL_IS_OBJECT(e) || flash_get_uint(e, "part", -1) < 0)
			return no(c, "images[%zu] needs a part index", i);
		if (ztc_json_get(e, "address", yajl_t_any) && !flash_parse_addr(a, &addr))
			return no(c, "images[%zu].address \"%s\" is not a hexadecimal address", i, a ? a : "");
		if (!ztc_json_get(e, "follows", yajl_t_any)) {
			done[i] = true;
			placed++;
			continue;
		}
		if (a)
			return no(c, "images[%zu] has both an address and follows", i);
		if (flash_get_uint(e, "follows", -1) < 0 || !int_in(e, "align", 1, ALIGN_MAX))
			return no(c, "images[%zu]: follows must be a part index and align a positive byte count", i);
	}
	/* A part placed after another is placed once that one is: what is left after that is a cycle or a part
	 * the list does not have. */
	while (placed < n && progress) {
		progress = false;
		for (size_t i = 0; i < n; i++) {
			long long f = flash_get_uint(YAJL_GET_ARRAY(list)->values[i], "follows", -1);

			for (size_t k = 0; !done[i] && k < n; k++)
				if (done[k] && flash_get_uint(YAJL_GET_ARRAY(list)->values[k], "part", -1) == f) {
					done[i] = progress = true;
					placed++;
				}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!done[i])
			return no(c, "images[%zu] follows part %lld, which no other entry of the list places", i,
				  flash_get_uint(YAJL_GET_ARRAY(list)->values[i], "follows", -1));
	return true;
}

/* A sub-object: method serial (DTR/RTS steps) or tool (a command object). */
static bool sub_ok(struct check *c, const char *key)
{
	yajl_val sub = ztc_json_get(c->flash, key, yajl_t_any), steps;
	const char *method = ztc_json_get_str(sub, "method");
	bool closed = false;

	if (!sub)
		return true;
	if (!YAJL_IS_OBJECT(sub))
		return no(c, "%s is not an object", key);
	if (method && strcmp(method, "tool") == 0)
		return command_ok(c, sub, PLACE_SUB, key);
	if (!method || strcmp(method, "serial") != 0)
		return no(c, "%s.method must be serial or tool", key);
	if (!int_in(sub, "baud", 1, FLASH_BAUD_MAX))
		return no(c, "%s.baud must be a baud rate", key);
	steps = ztc_json_get(sub, "steps", yajl_t_any);
	if (steps && !YAJL_IS_ARRAY(steps))
		return no(c, "%s.steps must be a list", key);
	for (size_t i = 0; steps && i < YAJL_GET_ARRAY(steps)->len; i++) {
		yajl_val s = YAJL_GET_ARRAY(steps)->values[i];
		bool line = ztc_json_get(s, "dtr", yajl_t_any) || ztc_json_get(s, "rts", yajl_t_any);

		if (!YAJL_IS_OBJECT(s))
			return no(c, "%s.steps[%zu] is not an object", key, i);
		if (!line && !ztc_json_get(s, "sleep_ms", yajl_t_any) && !ztc_json_get(s, "close", yajl_t_any))
			return no(c, "%s.steps[%zu] is not one of dtr/rts, sleep_ms, close", key, i);
		if (!flag(s, "dtr", false) || !flag(s, "rts", false))
			return no(c, "%s.steps[%zu]: dtr and rts must be true (asserted) or false", key, i);
		if (line && closed)
			return no(c, "%s.steps[%zu] sets a line after the port was closed", key, i);
		if (!int_in(s, "sleep_ms", 0, WAIT_MAX_MS))
			return no(c, "%s.steps[%zu].sleep_ms must be a number of milliseconds", key, i);
		if (!flag(s, "close", true))
			return no(c, "%s.steps[%zu].close must be true or false", key, i);
		closed = closed || flash_get_bool(s, "close");
	}
	return true;
}

/* What each method needs of the object itself. */
static bool method_ok(struct check *c, const char *method)
{
	const char *file = ztc_json_get_str(c->flash, "file");
	yajl_val pre = ztc_json_get(c->flash, "pre", yajl_t_any), v;
	char what[32];

	if (strcmp(method, "tool") == 0) {
		if (pre && !YAJL_IS_ARRAY(pre))
			return no(c, "pre must be a list of command objects");
		for (size_t i = 0; pre && i < YAJL_GET_ARRAY(pre)->len; i++) {
			snprintf(what, sizeof(what), "pre[%zu]", i);
			if (!YAJL_IS_OBJECT(YAJL_GET_ARRAY(pre)->values[i]))
				return no(c, "pre must be a list of command objects");
			if (!command_ok(c, YAJL_GET_ARRAY(pre)->values[i], PLACE_PRE, what))
				return false;
		}
		if (!flag(c->flash, "touch1200", true) || !int_in(c->flash, "touch_wait_ms", 0, WAIT_MAX_MS))
			return no(c, "touch1200 must be true or false and touch_wait_ms a number of milliseconds");
		return command_ok(c, c->flash, PLACE_FLASH, "flash");
	}
	if (strcmp(method, "disk") == 0) {
		if (ztc_str_empty(file) || strchr(file, '/') || strcmp(file, ".") == 0 || strcmp(file, "..") == 0)
			return no(c, "method disk needs a file name (file) without '/'");
		return true;
	}
	if (strcmp(method, "probe") == 0) {
		if (ztc_str_empty(ztc_json_get_str(c->flash, "probe")))
			return no(c, "method probe needs the name of the probe (probe)");
		return true;
	}
	if (strcmp(method, "unsupported") == 0) {
		if ((v = ztc_json_get(c->flash, "message", yajl_t_any)) && !YAJL_IS_STRING(v))
			return no(c, "message must be a string");
		return true;
	}
	if (strcmp(method, "plugin") == 0)
		return true;
	return no(c, "unknown method \"%s\" (tool, disk, probe, unsupported or plugin)", method);
}

bool ztc_flash_check(yajl_val root, char *why, size_t whylen)
{
	static const char *const subs[] = { "reset", "enter_virtualizable", "erase" };
	struct check c = { .flash = ztc_json_get(root, "flash", yajl_t_any), .why = why, .whylen = whylen };
	yajl_val version;
	const char *method;

	if (!c.flash)
		return true;
	if (!YAJL_IS_OBJECT(c.flash))
		return no(&c, "not an object");
	version = ztc_json_get(c.flash, "version", yajl_t_any);
	if (version && (!YAJL_IS_INTEGER(version) || YAJL_GET_INTEGER(version) != ZTC_FLASH_VERSION))
		return no(&c, "version must be %d (the flash object this ztc reads)", ZTC_FLASH_VERSION);
	method = ztc_json_get_str(c.flash, "method");
	if (!method)
		return no(&c, "no method (tool, disk, probe, unsupported or plugin)");
	c.images = ztc_json_get(c.flash, "images", yajl_t_any) != NULL;
	if (c.images && !images_ok(&c, ztc_json_get(c.flash, "images", yajl_t_any)))
		return false;
	if (!int_in(c.flash, "pad_to", 0, ZTC_FIRMWARE_MAX_BYTES) || !int_in(c.flash, "append_zeros", 0,
									     ZTC_FIRMWARE_MAX_BYTES) ||
	    !int_in(c.flash, "pad_if_below", 0, LLONG_MAX) || !int_in(c.flash, "max_size", 0, LLONG_MAX))
		return no(&c, "pad_to, pad_if_below, max_size and append_zeros must be byte counts (pad_to and "
			  "append_zeros at most %u)", ZTC_FIRMWARE_MAX_BYTES);
	if (!int_in(c.flash, "sleep_ms", 0, WAIT_MAX_MS) || !int_in(c.flash, "sleep_ms_per_mib", 0, WAIT_MAX_MS))
		return no(&c, "sleep_ms and sleep_ms_per_mib must be numbers of milliseconds");
	if (!int_in(c.flash, "timeout_s", 1, FLASH_TIMEOUT_MAX_S))
		return no(&c, "timeout_s must be a number of seconds (1 to %d)", FLASH_TIMEOUT_MAX_S);
	if (!method_ok(&c, method))
		return false;
	for (size_t i = 0; i < sizeof(subs) / sizeof(*subs); i++)
		if (!sub_ok(&c, subs[i]))
			return false;
	return true;
}
