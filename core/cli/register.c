/* register.c: `ztc device register` and `ztc device virtualize`. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ztc/backend.h"
#include "ztc/register.h"

#define REGISTER_USAGE "ztc device register ALIAS [--skip_burn]"
#define VIRTUALIZE_USAGE "ztc device virtualize ALIAS VMUID"

char *cli_resolve_alias(struct cli *cli, const char *prefix, char **ret_target, char **ret_chipid)
{
	ztc_store *store;
	const char **aliases;
	char *alias = NULL;
	size_t n;
	int idx, rc;

	if ((rc = ztc_store_load(cli->ctx, &store)) < 0) {
		cli_fail(cli, rc);
		return NULL;
	}
	n = ztc_store_count(store);
	aliases = calloc(n + 1, sizeof(*aliases));
	for (size_t i = 0; aliases && i < n; i++)
		aliases[i] = ztc_store_get(store, i)->alias;
	idx = aliases ? cli_resolve_prefix("alias", "aliases", prefix, aliases, n) : -1;
	if (idx >= 0) {
		const ztc_known *k = ztc_store_get(store, (size_t)idx);

		alias = strdup(k->alias);
		if (ret_target)
			*ret_target = k->target ? strdup(k->target) : NULL;
		if (ret_chipid)
			*ret_chipid = k->chipid ? strdup(k->chipid) : NULL;
	}
	free(aliases);
	ztc_store_free(store);
	return alias;
}

int cmd_register(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "skip_burn", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "alias", "chipid", "remote_id" };
	ztc_register_opts ro;
	char *alias, *chipid = NULL, *remote_id = NULL;
	int c, rc;

	ztc_register_opts_init(&ro);
	while ((c = cli_getopt(argc, argv, "h", opts, REGISTER_USAGE)) != -1) {
		switch (c) {
		case 's': ro.skip_burn = 1; break;
		case 'h':
			printf("Usage: " REGISTER_USAGE "\n\n"
			       "Flash the registration firmware on the board with alias ALIAS (in its virtualizable\n"
			       "mode), read its chip id and register it with the backend.\n"
			       "  --skip_burn  the registration firmware is already running: only read the chip id\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind < 1)
		return cli_usage_error(REGISTER_USAGE, "missing ALIAS");
	if (argc - optind > 1)
		return cli_usage_error(REGISTER_USAGE, "unexpected argument '%s'", argv[optind + 1]);
	alias = cli_resolve_alias(cli, argv[optind], NULL, NULL);
	if (!alias)
		return 1;
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
	free(alias);
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
	char *alias, *target = NULL, *chipid = NULL;
	ztc_vm_list *vms = NULL;
	const char **uids = NULL;
	int c, rc = 1, idx;

	while ((c = cli_getopt(argc, argv, "h", opts, VIRTUALIZE_USAGE)) != -1) {
		if (c == 'h') {
			printf("Usage: " VIRTUALIZE_USAGE "\n\n"
			       "Flash the stored virtual machine VMUID (or the only one whose uid starts with VMUID,\n"
			       "among those created for this board's target and chip id) on the board ALIAS.\n");
			return 0;
		}
		return EXIT_USAGE;
	}
	if (argc - optind < 2)
		return cli_usage_error(VIRTUALIZE_USAGE, "missing %s", argc - optind ? "VMUID" : "ALIAS and VMUID");
	if (argc - optind > 2)
		return cli_usage_error(VIRTUALIZE_USAGE, "unexpected argument '%s'", argv[optind + 2]);
	alias = cli_resolve_alias(cli, argv[optind], &target, &chipid);
	if (!alias)
		return 1;
	if (!chipid) {
		rc = cli_error("device %s is not registered: run 'ztc device register %s' first", alias, alias);
		goto out;
	}
	if ((rc = ztc_vmstore_list(cli->ctx, target, chipid, &vms)) < 0) {
		rc = cli_fail(cli, rc);
		goto out;
	}
	uids = calloc(vms->n + 1, sizeof(*uids));
	for (size_t i = 0; uids && i < vms->n; i++)
		uids[i] = vms->vm[i].vmuid;
	idx = uids ? cli_resolve_prefix("virtual machine of this board", "virtual machines of this board",
					argv[optind + 1], uids, vms->n) : -1;
	if (idx < 0) {
		rc = 1;
		goto out;
	}
	cli_progress_install(cli);
	rc = ztc_device_virtualize(cli->ctx, alias, vms->vm[idx].path);
	if (rc < 0)
		rc = cli_fail(cli, rc);
	else if (!cli->quiet && !cli->json)
		printf("%s now runs virtual machine %s\n", alias, vms->vm[idx].vmuid);
out:
	free(uids);
	ztc_vm_list_free(vms);
	free(alias);
	free(target);
	free(chipid);
	return rc;
}
