/* ztc.h: public interface of libztc, the library behind the ztc command (umbrella header). */
#ifndef ZTC_ZTC_H
#define ZTC_ZTC_H

/* Each header below compiles on its own and includes what it needs; this one includes them all.
 *   ztc/common.h    the API macro, error codes, the context, logging
 *   ztc/device.h    discovery, the board database, the known-device store, matching, resolvers, aliases
 *   ztc/console.h   serial ports and the interactive console
 *   ztc/firmware.h  firmware files, progress, operations on a matched board
 *   ztc/backend.h   the backend client, credentials, the VM store, creating a VM
 *   ztc/register.h  registering a board, flashing a virtual machine
 *   ztc/plugin.h    the board plugin ABI (what a plugin module sees)
 *   ztc/loader.h    the plugin loader */
#include "ztc/common.h"
#include "ztc/device.h"
#include "ztc/console.h"
#include "ztc/firmware.h"
#include "ztc/backend.h"
#include "ztc/register.h"
#include "ztc/plugin.h"
#include "ztc/loader.h"

#endif
