/* register.c: `ztc device register` and `ztc device virtualize`. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ztc/backend.h"
#include "ztc/register.h"

#define REGISTER_USAGE "ztc device register ALIAS|PORT [--skip_burn]"
#define VIRTUALIZE_USAGE "ztc device virtualize ALIAS|PORT VMUID"

int cli_load_known(struct cli *cli, const char *prefix, ztc_store **ret_store, const ztc_known **ret_known)
{
	ztc_store *store;
	int rc;

	if ((rc = ztc_store_load(cli->ctx, &store)) < 0)
		return cli_fail(cli, rc);
	if ((rc = ztc_store_resolve_device(cli->ctx, store, NULL, prefix, ret_known)) < 0) {
		ztc_store_free(store);
		return cli_fail(cli, rc);
	}
	*ret_store = store;
	return 0;
}

int cmd_register(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "skip_burn", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "alias", "chipid", "remote_id" };
	static const char *const args[] = { "ALIAS" };
	ztc_register_opts ro;
	char *chipid = NULL, *remote_id = NULL;
	const ztc_known *k;
	ztc_store *store;
	const char *alias;
	int c, rc;

	ztc_register_opts_init(&ro);
	while ((c = cli_getopt(argc, argv, "h", opts, REGISTER_USAGE)) != -1) {
		switch (c) {
		case 's': ro.skip_burn = 1; break;
		case 'h':
			printf("Usage: " REGISTER_USAGE "\n\n"
			       "Flash the registration firmware on the board with alias ALIAS, or the aliased board\n"
			       "on the port PORT (in its virtualizable mode), read its chip id and register it with\n"
			       "the backend. -J prints {\"alias\", \"chipid\", \"remote_id\"}.\n"
			       "  --skip_burn  the registration firmware is already running: only read the chip id\n"
			       "               (also --skip-burn)\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind < 1)
		return cli_missing(REGISTER_USAGE, 0, args, 1);
	if (argc - optind > 1)
		return cli_usage_error(REGISTER_USAGE, "unexpected argument '%s'", argv[optind + 1]);
	if (cli_load_known(cli, argv[optind], &store, &k) != 0)
		return 1;
	alias = k->alias;
	cli_progress_install(cli);
	rc = ztc_device_register(cli->ctx, alias, &ro, &chipid, &remote_id);
	if (rc < 0) {
		rc = cli_fail(cli, rc);
	} else if (cli->json) {
		struct out_records o;
		const char *row[] = { alias, chipid, remote_id };

		out_init(&o, keys, 3);
		out_add(&o, row);
		out_print(cli, &o, "");
		out_free(&o);
	} else {
		printf("%s registered: chip id %s, remote id %s\n", alias, chipid, remote_id);
	}
	ztc_store_free(store);
	free(chipid);
	free(remote_id);
	return rc;
}

int cmd_virtualize(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const args[] = { "ALIAS", "VMUID" };
	char *vmuid = NULL, *path = NULL;
	const ztc_known *k;
	ztc_store *store;
	int c, rc = 1;

	while ((c = cli_getopt(argc, argv, "h", opts, VIRTUALIZE_USAGE)) != -1) {
		if (c == 'h') {
			printf("Usage: " VIRTUALIZE_USAGE "\n\n"
			       "Flash the stored virtual machine VMUID (or the only one whose uid starts with VMUID,\n"
			       "among those created for this board's target and chip id) on the board ALIAS, or the\n"
			       "aliased board on the port PORT. -J prints {\"alias\", \"vmuid\", \"path\"}.\n");
			return 0;
		}
		return EXIT_USAGE;
	}
	if (argc - optind < 2)
		return cli_missing(VIRTUALIZE_USAGE, argc - optind, args, 2);
	if (argc - optind > 2)
		return cli_usage_error(VIRTUALIZE_USAGE, "unexpected argument '%s'", argv[optind + 2]);
	if (cli_load_known(cli, argv[optind], &store, &k) != 0)
		return 1;
	if (!k->chipid) {
		rc = cli_error("device %s is not registered: run 'ztc device register %s' first", k->alias, k->alias);
		goto out;
	}
	if ((rc = ztc_vmstore_resolve(cli->ctx, k->target, k->chipid, argv[optind + 1], &vmuid, &path)) < 0) {
		rc = cli_fail(cli, rc);
		goto out;
	}
	cli_progress_install(cli);
	rc = ztc_device_virtualize(cli->ctx, k->alias, path);
	if (rc < 0) {
		rc = cli_fail(cli, rc);
	} else if (cli->json) {
		static const char *const keys[] = { "alias", "vmuid", "path" };
		struct out_records o;
		const char *row[] = { k->alias, vmuid, path };

		out_init(&o, keys, 3);
		out_add(&o, row);
		out_print(cli, &o, "");
		out_free(&o);
	} else if (!cli->quiet) {
		printf("%s now runs virtual machine %s\n", k->alias, vmuid);
	}
out:
	free(vmuid);
	free(path);
	ztc_store_free(store);
	return rc;
}
