/* flash-tool.c: the flash object's method "tool" and its command objects: placeholders, scripts, running. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash.h"

#define LAST_LINE_MAX 200

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

const char *flash_next_placeholder(const char *p, const char **ret_start, char key[FLASH_KEY_MAX])
{
	for (; (p = strchr(p, '{')) != NULL; p++) {
		const char *close = strchr(p, '}');

		if (close && close > p + 1 && (size_t)(close - p - 1) < FLASH_KEY_MAX) {
			memcpy(key, p + 1, (size_t)(close - p - 1));
			key[close - p - 1] = '\0';
			*ret_start = p;
			return close + 1;
		}
	}
	return NULL;
}

const char *flash_tool_of(yajl_val flash, yajl_val cmd)
{
	const char *t = ztc_json_get_str(cmd, "tool");

	return t ? t : ztc_json_get_str(flash, "tool");
}

/* The value of {key} inside obj: the built-in names, then obj's own keys, then the flash object's. */
static int placeholder(struct flash_run *r, yajl_val obj, const char *key, const char *what, char **ret)
{
	static const char *const usb[] = { "sid", "vid", "pid" };
	yajl_val v = NULL;
	const char *s = NULL;

	if (strcmp(key, "file") == 0) {
		if (!r->file)
			return flash_bad(r, "{file} in %s, but there is no single image (the firmware has several)", what);
		s = r->file;
	} else if (strcmp(key, "script") == 0) {
		if (!r->script)
			return flash_bad(r, "{script} in %s, but the object has no script", what);
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
		v = ztc_json_get(obj, key, yajl_t_any);
		if (!v)
			v = ztc_json_get(r->flash, key, yajl_t_any);
		if (v && YAJL_IS_STRING(v))
			s = v->u.string;
		else if (v && YAJL_IS_INTEGER(v))
			return (*ret = ztc_strdup_printf("%lld", YAJL_GET_INTEGER(v))) ? ZTC_OK :
			       ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
		else
			return flash_bad(r, "unknown placeholder {%s} in %s", key, what);
	}
	*ret = strdup(s);
	return *ret ? ZTC_OK : ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
}

/* tmpl with every {key} replaced; *ret malloc'd. */
static int expand(struct flash_run *r, yajl_val obj, const char *tmpl, const char *what, char **ret)
{
	struct ztc_buf out = { 0 };
	const char *p = tmpl, *start, *next;
	char key[FLASH_KEY_MAX];
	bool ok = ztc_buf_append(&out, "", 0);

	while (ok && (next = flash_next_placeholder(p, &start, key)) != NULL) {
		char *val = NULL;
		int rc = placeholder(r, obj, key, what, &val);

		if (rc < 0) {
			ztc_buf_free(&out);
			return rc;
		}
		ok = ztc_buf_append(&out, p, (size_t)(start - p)) && ztc_buf_append(&out, val, strlen(val));
		free(val);
		p = next;
	}
	if (!ok || !ztc_buf_append(&out, p, strlen(p))) {
		ztc_buf_free(&out);
		return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	}
	*ret = out.data;
	return ZTC_OK;
}

/* Write cmd's script (if any) to a temporary file and point {script} at it. */
static int write_script(struct flash_run *r, yajl_val cmd)
{
	yajl_val lines = ztc_json_get(cmd, "script", yajl_t_array);
	struct ztc_buf text = { 0 };
	char *line, name[32];
	const char *path;
	int rc = ZTC_OK;

	r->script = NULL;
	if (!lines)
		return ZTC_OK;
	for (size_t i = 0; i < YAJL_GET_ARRAY(lines)->len && rc == ZTC_OK; i++) {
		rc = expand(r, cmd, YAJL_GET_STRING(YAJL_GET_ARRAY(lines)->values[i]), "script", &line);
		if (rc < 0)
			break;
		if (!ztc_buf_append(&text, line, strlen(line)) || !ztc_buf_append(&text, "\n", 1))
			rc = ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
		free(line);
	}
	if (rc == ZTC_OK) {
		snprintf(name, sizeof(name), "script%u.txt", r->nscripts++);
		rc = ztc_board_temp_file(r->b, name, (const unsigned char *)(text.data ? text.data : ""), text.len, &path);
		if (rc == ZTC_OK)
			r->script = path;
	}
	ztc_buf_free(&text);
	return rc;
}

/* The argument vector of a command object: its tool, then args with placeholders expanded. */
static int build_argv(struct flash_run *r, yajl_val cmd, const char ***ret_argv)
{
	yajl_val args = ztc_json_get(cmd, "args", yajl_t_array);
	size_t n = 1, nargs = args ? YAJL_GET_ARRAY(args)->len : 0;
	const char **argv = calloc(2 + nargs + r->nimgargs, sizeof(*argv));
	int rc;

	if (!argv)
		return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	argv[0] = flash_tool_of(r->flash, cmd);
	for (size_t i = 0; i < nargs; i++) {
		const char *a = YAJL_GET_STRING(YAJL_GET_ARRAY(args)->values[i]);
		char *s;

		/* Alone in its argument, {images} is the list of address, file pairs (flash-check.c). */
		if (strcmp(a, "{images}") == 0) {
			for (size_t k = 0; k < r->nimgargs; k++)
				argv[n++] = r->imgargs[k];
			continue;
		}
		rc = expand(r, cmd, a, "args", &s);
		if (rc < 0 || !ztc_kept_add(&r->kept, s)) {
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

int flash_run_cmd(struct flash_run *r, yajl_val cmd, const char *progress_msg)
{
	const char *ok_when = ztc_json_get_str(cmd, "ok_when"), *ok_text = ztc_json_get_str(cmd, "ok_text");
	long long timeout_s = flash_get_uint(cmd, "timeout_s", flash_get_uint(r->flash, "timeout_s",
										 FLASH_DEFAULT_TIMEOUT_S));
	const char **argv = NULL;
	char *out = NULL, lbuf[LAST_LINE_MAX + 1];
	const char *ll;
	int rc, status = 0;

	if (!ok_when)
		ok_when = "exit";
	rc = write_script(r, cmd);
	if (rc == ZTC_OK)
		rc = build_argv(r, cmd, &argv);
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
	free(out);
	return rc;
}

int flash_check_tools(struct flash_run *r, yajl_val cmd)
{
	yajl_val pre = ztc_json_get(cmd, "pre", yajl_t_array);
	char *path = NULL;
	int rc;

	rc = ztc_tool_find(r->b, flash_tool_of(r->flash, cmd), &path);
	free(path);
	for (size_t i = 0; rc == ZTC_OK && pre && i < YAJL_GET_ARRAY(pre)->len; i++)
		rc = flash_check_tools(r, YAJL_GET_ARRAY(pre)->values[i]);
	return rc;
}

int flash_method_tool(struct flash_run *r, const ztc_image *img, size_t nimg)
{
	yajl_val pre = ztc_json_get(r->flash, "pre", yajl_t_array);
	size_t bytes = 0;
	int rc;

	rc = flash_check_tools(r, r->flash);
	if (rc < 0)
		return rc;
	if (ztc_json_get(r->flash, "images", yajl_t_array))
		rc = flash_write_parts(r, img, nimg);
	else
		rc = flash_write_single(r, img, nimg);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < nimg; i++)
		bytes += img[i].len;
	if (flash_get_bool(r->flash, "touch1200")) {
		rc = ztc_board_touch_serial(r->b, 1200, (long)flash_get_uint(r->flash, "touch_wait_ms", 0));
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; pre && i < YAJL_GET_ARRAY(pre)->len; i++) {
		ztc_board_progress(r->b, -1, "preparing the image");
		rc = flash_run_cmd(r, YAJL_GET_ARRAY(pre)->values[i], "preparing");
		if (rc < 0)
			return rc;
	}
	ztc_board_progress(r->b, -1, "flashing");
	rc = flash_run_cmd(r, r->flash, "flashing");
	if (rc < 0)
		return rc;
	flash_wait_after(r, bytes);
	return ZTC_OK;
}
