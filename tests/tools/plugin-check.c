/* plugin-check.c: a test tool: load plugin modules or resolve every class of the board database. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ztc/loader.h"
#include "ztc/ztc.h"

static void log_stderr(void *userdata, int level, const char *msg)
{
	(void)userdata;
	(void)level;
	fprintf(stderr, "plugin-check: %s\n", msg);
}

/* plugin-check open FILE...   : load each module and print "module class class ... [(default class)]"
 * plugin-check resolve [TARGET]... : resolve every class of every target of the database (or of those named) */
int main(int argc, char **argv)
{
	ztc_ctx *ctx;
	int bad = 0;

	if (argc < 2 || ztc_ctx_new(&ctx) < 0)
		return 2;
	ztc_ctx_set_log(ctx, log_stderr, NULL);
	if (strcmp(argv[1], "open") == 0) {
		for (int i = 2; i < argc; i++) {
			const ztc_plugin_desc *d;

			if (ztc_plugin_open(ctx, argv[i], &d) < 0) {
				fprintf(stderr, "plugin-check: %s\n", ztc_ctx_errmsg(ctx));
				bad = 1;
				continue;
			}
			printf("%s", d->module);
			for (const ztc_class_desc *c = d->classes; c->name; c++)
				printf(" %s", c->name);
			if (d->default_class)
				printf(" (default %s)", d->default_class);
			printf("\n");
		}
	} else if (strcmp(argv[1], "resolve") == 0) {
		ztc_db *db;

		if (ztc_db_load(ctx, &db) < 0) {
			fprintf(stderr, "plugin-check: %s\n", ztc_ctx_errmsg(ctx));
			ztc_ctx_free(ctx);
			return 1;
		}
		for (size_t i = 0; i < ztc_db_count(db); i++) {
			const ztc_target *t = ztc_db_get(db, i);

			bool named = argc <= 2;

			for (int k = 2; k < argc && !named; k++)
				named = strcmp(argv[k], ztc_target_get_id(t)) == 0;
			if (!named)
				continue;
			for (size_t c = 0; c < ztc_target_class_count(t); c++) {
				const ztc_class_desc *cd;

				if (ztc_plugin_resolve(ctx, t, c, &cd) < 0) {
					fprintf(stderr, "plugin-check: %s\n", ztc_ctx_errmsg(ctx));
					bad = 1;
				} else {
					printf("%s %s.%s\n", ztc_target_get_id(t), ztc_target_class_module(t, c), cd->name);
				}
			}
		}
		printf("loaded %zu modules\n", ztc_plugin_loaded_count(ctx));
		ztc_db_free(db);
	} else {
		bad = 2;
	}
	ztc_ctx_free(ctx);
	return bad;
}
