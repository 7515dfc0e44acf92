# core/flash.mk: firmware files, board operations and the flashing helpers of libztc, the CLI progress
# bar, and their tests (stand-in flashing tools on PATH, boards under umockdev).
core_lib_libztc_la_SOURCES += core/lib/firmware.c core/lib/boardop.c core/lib/tool.c core/lib/flash.c
ztcinclude_HEADERS += core/include/ztc/firmware.h
core_cli_ztc_SOURCES += core/cli/progress.c
