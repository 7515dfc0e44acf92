# core/local.mk: libztc and the ztc command.
lib_LTLIBRARIES += core/lib/libztc.la
ztcincludedir = $(includedir)/ztc
ztcinclude_HEADERS = core/include/ztc/ztc.h core/include/ztc/common.h core/include/ztc/device.h \
	core/include/ztc/plugin.h core/include/ztc/loader.h core/include/ztc/register.h

core_lib_libztc_la_SOURCES = \
	core/lib/internal.h \
	core/lib/inline.h \
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

# The serial console (ztc device open).
core_lib_libztc_la_SOURCES += core/lib/serial.c core/lib/serial-baud.c core/lib/console.c
ztcinclude_HEADERS += core/include/ztc/console.h
core_cli_ztc_SOURCES += core/cli/open.c

# Firmware files, board operations, the flashing helpers and the CLI progress bar.
core_lib_libztc_la_SOURCES += core/lib/firmware.c core/lib/boardop.c core/lib/boardserial.c core/lib/tool.c \
	core/lib/toolinfo.c core/lib/flash.h core/lib/flash.c core/lib/flash-check.c core/lib/flash-tool.c \
	core/lib/flash-image.c core/lib/flash-disk.c core/lib/flash-serial.c
ztcinclude_HEADERS += core/include/ztc/firmware.h
core_cli_ztc_SOURCES += core/cli/progress.c

# The backend client, credentials, the VM store, `ztc vm` and `ztc login`.
core_lib_libztc_la_SOURCES += core/lib/backend.c core/lib/vmstore.c core/lib/vmcreate.c core/lib/vmremote.c
ztcinclude_HEADERS += core/include/ztc/backend.h
core_cli_ztc_SOURCES += core/cli/vm.c core/cli/login.c
