/* toolinfo.c: where a missing flashing tool comes from, as the tools.json files of the board database say. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "internal.h"
#include "ztc/plugin.h"

#define TOOLS_JSON_MAX (256 * 1024)
#define TOOLS_JSON_VERSION 1
#define PACKAGE_MAX 64
#define ORIGIN_MAX 400

/* A Debian package name (policy 5.6.1): it ends up in the "apt-get install" the user is told to run. */
static bool package_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > PACKAGE_MAX || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("+-.", s[i])))
			return false;
	return true;
}

/* One line of plain text for the user's terminal. */
static bool origin_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ORIGIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* The tools object of a tools.json document, every entry checked; NULL with the problem in why. */
static yajl_val tools_of(yajl_val root, char *why, size_t whylen)
{
	yajl_val version = ztc_json_get(root, "version", yajl_t_any), tools = ztc_json_get(root, "tools", yajl_t_any);

	if (!root || !YAJL_IS_OBJECT(root)) {
		snprintf(why, whylen, "not a JSON object");
		return NULL;
	}
	if (version && (!YAJL_IS_INTEGER(version) || YAJL_GET_INTEGER(version) != TOOLS_JSON_VERSION)) {
		snprintf(why, whylen, "version must be %d", TOOLS_JSON_VERSION);
		return NULL;
	}
	if (!tools || !YAJL_IS_OBJECT(tools)) {
		snprintf(why, whylen, "\"tools\" must be an object of tool names");
		return NULL;
	}
	for (size_t i = 0; i < YAJL_GET_OBJECT(tools)->len; i++) {
		const char *name = YAJL_GET_OBJECT(tools)->keys[i], *package, *origin;
		yajl_val e = YAJL_GET_OBJECT(tools)->values[i];

		package = ztc_json_get_str(e, "package");
		origin = ztc_json_get_str(e, "origin");
		if (!YAJL_IS_OBJECT(e) || !package == !origin) {
			snprintf(why, whylen, "tools.%.64s must be an object with either \"package\" or \"origin\"", name);
			return NULL;
		}
		if (package && !package_ok(package)) {
			snprintf(why, whylen, "tools.%.64s.package is not a Debian package name", name);
			return NULL;
		}
		if (origin && !origin_ok(origin)) {
			snprintf(why, whylen, "tools.%.64s.origin must be one line of 1 to %d characters", name, ORIGIN_MAX);
			return NULL;
		}
	}
	return tools;
}

/* The entry for tool in dir/tools.json into *ret_root (to free) and *ret_entry; a file that is not there
 * has none, a bad one is a warning and has none either. */
static void lookup(ztc_ctx *ctx, const char *dir, const char *tool, yajl_val *ret_root, yajl_val *ret_entry)
{
	char *path = ztc_strdup_printf("%s/tools.json", dir), *text, errbuf[256] = "", why[256];
	yajl_val root = NULL, tools;
	int err = 0;

	*ret_root = *ret_entry = NULL;
	if (!path)
		return;
	text = ztc_read_file(path, TOOLS_JSON_MAX, NULL, &err);
	if (!text) {
		if (err == ENOENT || err == ENOTDIR)
			ztc_dbg(ctx, "%s: none", path);
		else
			ztc_warn(ctx, "%s: cannot read it: %s; its tool hints are ignored", path, ztc_read_strerror(err));
		free(path);
		return;
	}
	/* Depth-capped: a vendor's file is input from outside. */
	root = ztc_json_parse(text, errbuf, sizeof(errbuf));
	free(text);
	if (!root) {
		snprintf(why, sizeof(why), "invalid JSON: %s", errbuf);
		tools = NULL;
	} else {
		tools = tools_of(root, why, sizeof(why));
	}
	if (!tools) {
		ztc_warn(ctx, "%s: %s; its tool hints are ignored", path, ztc_str_oneline(why));
		yajl_tree_free(root);
		free(path);
		return;
	}
	*ret_root = root;
	*ret_entry = ztc_json_get(tools, tool, yajl_t_object);
	free(path);
}

int ztc_tool_fail_missing(ztc_board *b, const char *tool)
{
	ztc_ctx *ctx = ztc_board_ctx(b);
	char *dirs = ztc_strdup_printf("%s%s%s", ctx && ctx->db_path ? ctx->db_path : "", ctx && ctx->db_path ? ":" : "",
				       ZTC_BOARD_DB_DIR);
	char *save = NULL;
	yajl_val root = NULL, entry = NULL;
	int rc;

	/* The database's search order: a vendor dir of ZTC_DB_PATH adds tools or says it otherwise. */
	for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d && !entry; d = strtok_r(NULL, ":", &save)) {
		yajl_tree_free(root);
		lookup(ctx, d, tool, &root, &entry);
	}
	if (entry && ztc_json_get_str(entry, "package"))
		rc = ztc_board_fail(b, ZTC_ERR_TOOL, "%s not found on PATH: install the Debian package %s (apt-get install %s)",
				    tool, ztc_json_get_str(entry, "package"), ztc_json_get_str(entry, "package"));
	else if (entry)
		rc = ztc_board_fail(b, ZTC_ERR_TOOL, "%s not found on PATH: no Debian package provides it; %s", tool,
				    ztc_json_get_str(entry, "origin"));
	else
		rc = ztc_board_fail(b, ZTC_ERR_TOOL, "%s not found on PATH", tool);
	yajl_tree_free(root);
	free(dirs);
	return rc;
}
