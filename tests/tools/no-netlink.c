/* no-netlink.c: an LD_PRELOAD fault injector for tests. socket(AF_NETLINK, ...) fails with
 * EAFNOSUPPORT, as on a system without netlink (some containers, seccomp sandboxes); every other
 * socket() goes to the next definition (umockdev's preload, then the C library). Used to drive
 * `ztc device discover --loop` into its --looptime polling fallback. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>

__attribute__((visibility("default"))) int socket(int domain, int type, int protocol)
{
	static int (*next)(int, int, int);

	if (domain == AF_NETLINK) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (!next)
		next = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(domain, type, protocol);
}
