/* dbcache.h: the board database's structures, shared by its loader (db.c) and its cache (dbcache.c). */
#ifndef ZTC_DBCACHE_H
#define ZTC_DBCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_tree.h>

#include "internal.h"

struct ztc_class {
	char *module;
	char *name;
	char (*usb)[10]; /* "VID:PID" */
	size_t nusb;
	char *sid;       /* constraint, or NULL */
};

struct ztc_target {
	char *id;
	char *name;
	char *type;
	char *path;
	yajl_val json;   /* NULL for a target taken from the cache until ztc_target_json() reads it */
	bool json_failed; /* the lazy read failed: do not try again */
	bool borrowed;   /* taken from the cache: its strings and USB ids (not path, not the classes
			  * array) point into the db's cache_buf */
	struct ztc_class *classes;
	size_t nclasses;
};

struct ztc_db {
	struct ztc_target *t;
	size_t n, cap;
	char *cache_buf; /* the cache file's contents, which borrowed targets point into */
};

/* db.c: parse and validate dir/device.json into t (false with the problem in why; t is then to be
 * cleared all the same), and free what a target holds. */
bool ztc_db_load_target(const char *dir, struct ztc_target *t, char *why, size_t whylen);
void ztc_db_target_clear(struct ztc_target *t);
/* db.c: is s a plain identifier, as the module and class names of a class must be? */
bool ztc_db_identifier(const char *s);

/* dbcache.c: the parsed database of each dir kept in one file under $XDG_CACHE_HOME/ztc (else
 * ~/.cache/ztc), so that a run parses only the device.json files that changed. The cache is never
 * required: when it cannot be read or written, everything is parsed as without it. */
struct ztc_dbcache;
/* Reads the cache file; NULL only when out of memory (then scan without a cache). */
struct ztc_dbcache *ztc_dbcache_open(ztc_ctx *ctx);
/* Add the targets of the folders of dir to db, as db.c always did (sorted folder names, a malformed
 * device.json skipped with one warning, the first folder naming a target wins), from the cache where
 * a device.json's size and mtime are those cached. c may be NULL. */
int ztc_dbcache_scan_dir(ztc_ctx *ctx, struct ztc_dbcache *c, struct ztc_db *db, const char *dir);
/* Write the cache back if anything changed (atomically; failures only logged), and free c; the
 * targets taken from the cache point into memory that db keeps from then on (NULL db: no target). */
void ztc_dbcache_close(ztc_ctx *ctx, struct ztc_dbcache *c, struct ztc_db *db);
/* The file's frame, as cache_write() writes it: its header (magic, format, byte order, version), and
 * the checksum of all of b so far, appended. Also what the fuzz target frames its inputs with. */
bool ztc_dbcache_put_header(struct ztc_buf *b);
bool ztc_dbcache_put_sum(struct ztc_buf *b);
/* ztc_target_json() (internal.h) is defined here: it reads the device.json of a target taken from the
 * cache on first use. */

#endif
