/* termios2.c: the output speed a tty really holds, read with TCGETS2 (apart: <asm/termbits.h> clashes
 * with <termios.h>). On a pty master the kernel answers for the slave side. */
#include <asm/termbits.h>
#include <sys/ioctl.h>

#include "termios2.h"

int test_tty_ospeed(int fd)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) < 0)
		return -1;
	return (int)t.c_ospeed;
}
