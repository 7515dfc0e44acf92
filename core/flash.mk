# core/flash.mk: firmware files, board operations and the flashing helpers of libztc, the CLI progress
# bar, and their tests (stand-in flashing tools on PATH, boards under umockdev).
core_lib_libztc_la_SOURCES += core/lib/firmware.c core/lib/boardop.c core/lib/boardserial.c core/lib/tool.c \
	core/lib/toolinfo.c core/lib/flash.h core/lib/flash.c core/lib/flash-check.c core/lib/flash-tool.c \
	core/lib/flash-image.c core/lib/flash-disk.c core/lib/flash-serial.c
ztcinclude_HEADERS += core/include/ztc/firmware.h
core_cli_ztc_SOURCES += core/cli/progress.c

# Firmware files and libztc's pure helpers (no board).
check_PROGRAMS += tests/flash/test-firmware
TESTS += tests/flash/test-firmware
tests_flash_test_firmware_SOURCES = tests/flash/test-firmware.c
tests_flash_test_firmware_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_flash_test_firmware_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_flash_test_firmware_LDADD = core/lib/libztc.la $(CHECK_LIBS)

# Boards under umockdev: flash-board drives libztc's board operations; the stand-in tools of
# tests/flash/bin (sharing tests/flash/standin.sh) are put first on PATH by flash.sh.
check_PROGRAMS += tests/flash/flash-board
tests_flash_flash_board_SOURCES = tests/flash/flash-board.c core/cli/progress.c
tests_flash_flash_board_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core/cli
tests_flash_flash_board_LDADD = core/lib/libztc.la
if UMOCKDEV_TESTS
TESTS += tests/flash/flash.sh
endif
EXTRA_DIST += tests/flash/flash.sh tests/flash/standin.sh \
	tests/flash/bin/bossac tests/flash/bin/dfu-util tests/flash/bin/dfustm32l4 \
	tests/flash/bin/edbg tests/flash/bin/edbg_l21 tests/flash/bin/edbg_c21n tests/flash/bin/esptool \
	tests/flash/bin/jlinkexe tests/flash/bin/openocd tests/flash/bin/spresense_mkspk \
	tests/flash/bin/spresense_flashwriter
