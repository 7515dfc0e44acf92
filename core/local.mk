# core/local.mk: libztc and the ztc command.
lib_LTLIBRARIES += core/lib/libztc.la
ztcincludedir = $(includedir)/ztc
ztcinclude_HEADERS = core/include/ztc/ztc.h core/include/ztc/common.h core/include/ztc/device.h \
	core/include/ztc/plugin.h core/include/ztc/loader.h core/include/ztc/register.h

core_lib_libztc_la_SOURCES = \
	core/lib/internal.h \
	core/lib/alias.c \
	core/lib/board.c \
	core/lib/chipid.c \
	core/lib/db.c \
	core/lib/dbcache.c \
	core/lib/dbcache.h \
	core/lib/discover.c \
	core/lib/error.c \
	core/lib/json.c \
	core/lib/jsonutil.c \
	core/lib/log.c \
	core/lib/match.c \
	core/lib/mounts.c \
	core/lib/plugin.c \
	core/lib/register.c \
	core/lib/resolve.c \
	core/lib/std.c \
	core/lib/store.c \
	core/lib/uid.c
core_lib_libztc_la_CPPFLAGS = $(AM_CPPFLAGS) -DBUILDING_LIBZTC \
	-DZTC_PLUGIN_DIR='"$(plugindir)"' -DZTC_BOARD_DB_DIR='"$(boarddbdir)"' \
	$(UDEV_CFLAGS) $(YAJL_CFLAGS) $(CURL_CFLAGS) $(GNUTLS_CFLAGS) $(MOUNT_CFLAGS)
core_lib_libztc_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(LIBZTC_LT_VERSION) -no-undefined
core_lib_libztc_la_LIBADD = $(UDEV_LIBS) $(YAJL_LIBS) $(CURL_LIBS) $(GNUTLS_LIBS) $(MOUNT_LIBS) \
	$(LTDL_LIBS) $(PTHREAD_LIBS)

bin_PROGRAMS += core/cli/ztc
core_cli_ztc_SOURCES = \
	core/cli/cli.h \
	core/cli/device.c \
	core/cli/main.c \
	core/cli/output.c \
	core/cli/register.c
core_cli_ztc_CPPFLAGS = $(AM_CPPFLAGS) $(YAJL_CFLAGS)
core_cli_ztc_LDADD = core/lib/libztc.la $(YAJL_LIBS) $(PTHREAD_LIBS)
