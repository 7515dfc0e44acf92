/* openocd.c: programming and reading chips through a debug probe with OpenOCD (see openocd.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "openocd.h"
/* libztc's static inline helpers (ztc_kept_*, ztc_is_hex4): they add no symbol to libztc, so a plugin may
 * share them. */
#include "../../core/lib/inline.h"

#define DEFAULT_TIMEOUT_S 30
#define LAST_LINE_MAX 200
/* A chip id read through a probe: at most this many output lines, and characters (as the serial reader's
 * lines in libztc). */
#define CHIPID_LINES_MAX 64
#define CHIPID_MAX 256
#define PROBE_NAMES "stlink, jlink, cmsis_dap, atmel_ice, atmel_edbg, kitprog2"

/* One OpenOCD run: the board, its names for messages, the strings its argument vector points to. */
struct run {
	ztc_board *b;
	char where[4096]; /* "<dir>/device.json" */
	const char *name;
	struct ztc_kept kept; /* what the argument vector points to */
};

static int run_init(struct run *r, ztc_board *b)
{
	memset(r, 0, sizeof(*r));
	r->b = b;
	r->name = ztc_board_get_str(b, "name");
	if (!r->name)
		r->name = ztc_board_get_str(b, "target");
	snprintf(r->where, sizeof(r->where), "%s/device.json", ztc_board_get_dir(b));
	return ZTC_OK;
}

static void run_free(struct run *r)
{
	ztc_kept_free(&r->kept);
}

static char *printf_dup(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *printf_dup(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static bool empty(const char *s)
{
	return !s || !*s;
}

/* A count key of device.json: def when absent, -1 when it is not a non-negative integer. */
static long get_count(ztc_board *b, const char *key, long def)
{
	long v;

	if (ztc_board_get_str(b, key))
		return -1;
	v = ztc_board_get_int(b, key, LONG_MIN);
	return v == LONG_MIN ? def : v < 0 ? -1 : v;
}

static bool parse_addr(const char *s)
{
	char *end;

	if (!s || strncasecmp(s, "0x", 2) != 0 || !isxdigit((unsigned char)s[2]))
		return false;
	errno = 0;
	strtoull(s + 2, &end, 16);
	return errno == 0 && *end == '\0';
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

const char *openocd_probe_interface(const char *probe)
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

/* The OpenOCD target script: jtag_target, else openocd.cfg beside device.json. */
static int openocd_target(struct run *r, const char **ret)
{
	const char *t = ztc_board_get_str(r->b, "jtag_target");
	char *path;

	if (!empty(t)) {
		*ret = ztc_kept_add(&r->kept, strchr(t, '/') ? strdup(t) : printf_dup("target/%s.cfg", t));
		return *ret ? ZTC_OK : ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	}
	path = printf_dup("%s/openocd.cfg", ztc_board_get_dir(r->b));
	if (path && access(path, R_OK) == 0) {
		*ret = ztc_kept_add(&r->kept, path);
		return *ret ? ZTC_OK : ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	}
	free(path);
	return ztc_board_fail(r->b, ZTC_ERR_UNSUPPORTED,
			      "%s has no OpenOCD target script: set jtag_target in %s (or put openocd.cfg beside it)",
			      r->name, r->where);
}

/* OpenOCD's CMSIS-DAP driver, left to find a probe by itself, skips a device it may not open and reports
 * only that it found none; told the board's USB id, it opens that one and says why it cannot (permission
 * denied), and leaves other CMSIS-DAP probes alone. The id comes from udev and OpenOCD parses the command
 * as Tcl: it goes in only as four hexadecimal digits each. *ret: NULL when not pinned. */
static int pin_probe(struct run *r, const char *iface, const char **ret)
{
	const char *vid = ztc_board_get_str(r->b, "vid"), *pid = ztc_board_get_str(r->b, "pid");

	*ret = NULL;
	if (strcmp(iface, "interface/cmsis-dap.cfg") != 0 || !ztc_is_hex4(vid) || !ztc_is_hex4(pid))
		return ZTC_OK;
	*ret = ztc_kept_add(&r->kept, printf_dup("cmsis_dap_vid_pid 0x%s 0x%s", vid, pid));
	return *ret ? ZTC_OK : ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
}

/* openocd -f IFACE [-c PIN] [-c OPTS] -f TARGET, then room for ncmds more "-c CMD" pairs and the NULL. */
static int build_argv(struct run *r, const char *iface, size_t ncmds, const char ***ret_argv, size_t *ret_n)
{
	const char *opts = ztc_board_get_str(r->b, "jtag_target_options");
	const char *tool = ztc_board_get_str(r->b, "jtag_tool");
	const char **argv = calloc(10 + 2 * ncmds, sizeof(*argv));
	const char *pin, *target;
	size_t n = 0;
	int rc;

	if (!argv)
		return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	rc = openocd_target(r, &target);
	if (rc == ZTC_OK)
		rc = pin_probe(r, iface, &pin);
	if (rc < 0) {
		free(argv);
		return rc;
	}
	argv[n++] = !empty(tool) ? tool : "openocd";
	argv[n++] = "-f";
	argv[n++] = iface;
	if (pin) {
		argv[n++] = "-c";
		argv[n++] = pin;
	}
	if (!empty(opts)) {
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
 * text (CMSIS-DAP, pinned to the board's USB id by pin_probe). */
static bool denied(const char *out)
{
	return out && (strstr(out, "LIBUSB_ERROR_ACCESS") || strstr(out, "Access denied (insufficient permissions)"));
}

/* What to show of a failed OpenOCD run: its last "Error:" (a Tcl error is followed by its traceback, whose
 * last line says nothing), from that word on; else its last line. */
static const char *error_line(const char *out, char *buf, size_t size)
{
	const char *found = NULL, *p = out, *end;
	size_t n;

	while (p && (p = strstr(p, "Error:")) != NULL) {
		found = p;
		p += 6;
	}
	if (!found && out) {
		/* The last line that is not blank. */
		for (end = out + strlen(out); end > out && isspace((unsigned char)end[-1]); end--)
			;
		for (found = end; found > out && found[-1] != '\n' && found[-1] != '\r'; found--)
			;
		while (found < end && isspace((unsigned char)*found))
			found++;
		if (found == end)
			return NULL;
	}
	if (!found)
		return NULL;
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
static int fail_denied(struct run *r, const char *tool)
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

/* Program the images: one "program" command each, verified, the reset after the last. */
static int add_programs(struct run *r, const ztc_image *img, size_t nimg, const char **argv, size_t *n)
{
	const char *vm_start = ztc_board_get_str(r->b, "vm_start");

	for (size_t i = 0; i < nimg; i++) {
		const char *addr = img[i].loc ? img[i].loc : vm_start, *path;
		char fname[32], *cmd;
		int rc;

		if (!parse_addr(addr))
			return ztc_board_fail(r->b, ZTC_ERR_ARG, "no flash address for image %zu on %s: the firmware has "
					      "no loc and %s no vm_start", i, r->name, r->where);
		snprintf(fname, sizeof(fname), nimg == 1 ? "firmware.bin" : "part%zu.bin", i);
		rc = ztc_board_temp_file(r->b, fname, img[i].data, img[i].len, &path);
		if (rc < 0)
			return rc;
		cmd = ztc_kept_add(&r->kept,
				   printf_dup("program %s verify%s %s", path, i + 1 == nimg ? " reset" : "", addr));
		if (!cmd)
			return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
		argv[(*n)++] = "-c";
		argv[(*n)++] = cmd;
	}
	return ZTC_OK;
}

int openocd_burn(ztc_board *b, const char *interface_cfg, const ztc_image *img, size_t nimg)
{
	static const char *const failures[] = { "Verified Failed", "Programming Failed", "wrote 0 " };
	struct run r;
	const char **argv = NULL;
	const char *end_cmds = ztc_board_get_str(b, "jtag_burn_end"), *failed = NULL, *ll;
	char *out = NULL, *path = NULL, lbuf[LAST_LINE_MAX + 1];
	long timeout_s = get_count(b, "jtag_timeout", DEFAULT_TIMEOUT_S);
	size_t n = 0;
	int rc, status = 0;

	if (!b || !img || nimg == 0)
		return ztc_board_fail(b, ZTC_ERR_ARG, "no image to flash");
	if (empty(interface_cfg))
		return ztc_board_fail(b, ZTC_ERR_ARG, "no OpenOCD interface script for the probe");
	run_init(&r, b);
	if (timeout_s <= 0) {
		rc = ztc_board_fail(b, ZTC_ERR_PARSE, "%s: jtag_timeout must be a number of seconds", r.where);
		goto out;
	}
	rc = build_argv(&r, interface_cfg, nimg + 2, &argv, &n);
	if (rc == ZTC_OK)
		rc = ztc_tool_find(b, argv[0], &path);
	free(path);
	if (rc == ZTC_OK)
		rc = add_programs(&r, img, nimg, argv, &n);
	if (rc < 0)
		goto out;
	if (!empty(end_cmds)) {
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
	for (size_t i = 0; i < sizeof(failures) / sizeof(*failures) && !failed; i++)
		if (out && strstr(out, failures[i]))
			failed = failures[i];
	if (status == 0 && !failed && out && strstr(out, "** Verified OK"))
		goto out;
	if (denied(out)) {
		rc = fail_denied(&r, argv[0]);
	} else {
		ll = error_line(out, lbuf, sizeof(lbuf));
		rc = ztc_board_fail(b, ZTC_ERR_TOOL, "%s could not program %s (exit status %d%s%s)%s%s", argv[0], r.name,
				    status, failed ? ", " : "", failed ? failed : "", ll ? ": " : "", ll ? ll : "");
	}
out:
	free(out);
	free(argv);
	run_free(&r);
	return rc;
}

/* The chip id in OpenOCD's output (out is consumed): of the lines "ADDRESS: VALUE VALUE ... " that start
 * with prefix, the first want; every value must be 1 to 8 hexadecimal digits. words: each value as 8
 * upper-case digits, the project's id of a 32-bit word, as the SAM-BA and DfuSe readers give it; otherwise
 * each value's characters reversed, as the Zerynth toolchain built its ids. */
static int parse_chipid(struct run *r, const char *tool, char *out, const char *prefix, size_t want, bool words,
			char **ret_chipid)
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

/* "-c init", each of the ';'-separated commands of cmds, "-c shutdown". */
static int add_commands(struct run *r, const char *cmds, const char **argv, size_t *n)
{
	char *copy = ztc_kept_add(&r->kept, strdup(cmds)), *save = NULL;

	if (!copy)
		return ztc_board_fail(r->b, ZTC_ERR_NOMEM, "out of memory");
	argv[(*n)++] = "-c";
	argv[(*n)++] = "init";
	for (char *c = strtok_r(copy, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
		c = trim(c);
		if (!*c)
			continue;
		argv[(*n)++] = "-c";
		argv[(*n)++] = c;
	}
	argv[(*n)++] = "-c";
	argv[(*n)++] = "shutdown";
	argv[*n] = NULL;
	return ZTC_OK;
}

int openocd_read_chipid(ztc_board *b, const char *interface_cfg, char **ret_chipid)
{
	const char *cmds = ztc_board_get_str(b, "jtag_chipid_command"), *prefix = ztc_board_get_str(b,
													"jtag_chipid_prefix");
	const char *format = ztc_board_get_str(b, "jtag_chipid_format"), **argv = NULL, *ll;
	char *out = NULL, lbuf[LAST_LINE_MAX + 1], msg[128];
	long want, timeout_s = get_count(b, "jtag_timeout", DEFAULT_TIMEOUT_S);
	size_t n = 0, ncmds = 1;
	struct run r;
	int rc, status = 0;

	if (!ret_chipid || empty(interface_cfg))
		return ztc_board_fail(b, ZTC_ERR_ARG, "no OpenOCD interface script for the probe");
	run_init(&r, b);
	if (empty(cmds)) {
		rc = ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s cannot read its chip id through OpenOCD: %s has no "
				    "jtag_chipid_command", r.name, r.where);
		goto out;
	}
	/* OpenOCD's own log lines hold ':' too; the values it prints for mdw/mdb start with their address. */
	if (empty(prefix))
		prefix = "0x";
	for (const char *p = cmds; *p; p++)
		ncmds += *p == ';';
	want = get_count(b, "jtag_chipid_len", (long)ncmds);
	if (want <= 0 || want > CHIPID_LINES_MAX || timeout_s <= 0) {
		rc = ztc_board_fail(b, ZTC_ERR_PARSE, "%s: jtag_chipid_len must be 1 to %d lines and jtag_timeout a "
				    "positive number of seconds", r.where, CHIPID_LINES_MAX);
		goto out;
	}
	if (format && strcmp(format, "words") != 0 && strcmp(format, "reversed") != 0) {
		rc = ztc_board_fail(b, ZTC_ERR_PARSE, "%s: jtag_chipid_format must be \"words\" or \"reversed\"", r.where);
		goto out;
	}
	rc = build_argv(&r, interface_cfg, ncmds + 2, &argv, &n);
	if (rc == ZTC_OK)
		rc = add_commands(&r, cmds, argv, &n);
	if (rc < 0)
		goto out;
	snprintf(msg, sizeof(msg), "reading the chip id (OpenOCD, %s)", interface_cfg);
	ztc_board_progress(b, -1, msg);
	rc = ztc_tool_run(b, argv, (int)(timeout_s * 1000), "reading the chip id", &status, &out);
	if (rc < 0)
		goto out;
	/* A denied probe matters only when the read failed: OpenOCD goes on to the next probe that fits. */
	if (status != 0 && denied(out)) {
		rc = fail_denied(&r, argv[0]);
	} else if (status != 0) {
		ll = error_line(out, lbuf, sizeof(lbuf));
		rc = ztc_board_fail(b, ZTC_ERR_TOOL, "%s failed (exit status %d)%s%s", argv[0], status,
				    ll ? ": " : " without output", ll ? ll : "");
	} else {
		bool was_denied = denied(out);

		rc = parse_chipid(&r, argv[0], out, prefix, (size_t)want, format && strcmp(format, "words") == 0,
				  ret_chipid);
		if (rc < 0 && was_denied)
			rc = fail_denied(&r, argv[0]);
	}
out:
	free(out);
	free(argv);
	run_free(&r);
	return rc;
}

int openocd_chipid_default(ztc_board *b, char **ret_chipid)
{
	const char *probe = ztc_board_get_str(b, "preferred_register_with_jtag");
	const char *name = ztc_board_get_str(b, "name"), *iface;

	if (!ret_chipid)
		return ztc_board_fail(b, ZTC_ERR_ARG, "no chip id destination");
	if (!name)
		name = ztc_board_get_str(b, "target");
	/* Declined before anything runs: the registration firmware's flow can still take over. */
	if (empty(probe))
		return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s has no on-board probe named "
				      "(preferred_register_with_jtag) to read its chip id through", name);
	iface = openocd_probe_interface(probe);
	if (!iface)
		return ztc_board_fail(b, ZTC_ERR_PARSE, "%s/device.json: preferred_register_with_jtag \"%s\" is not one "
				      "of " PROBE_NAMES, ztc_board_get_dir(b), probe);
	return openocd_read_chipid(b, iface, ret_chipid);
}

int openocd_flash(ztc_board *b, const ztc_image *img, size_t nimg)
{
	const char *method = ztc_board_get_flash_str(b, "method"), *probe, *iface;

	if (!method || strcmp(method, "probe") != 0)
		return ztc_flash_default(b, img, nimg);
	probe = ztc_board_get_flash_str(b, "probe");
	iface = openocd_probe_interface(probe);
	if (!iface)
		return ztc_board_fail(b, ZTC_ERR_PARSE, "%s/device.json: flash: probe \"%s\" is not one of " PROBE_NAMES,
				      ztc_board_get_dir(b), probe ? probe : "");
	return openocd_burn(b, iface, img, nimg);
}
