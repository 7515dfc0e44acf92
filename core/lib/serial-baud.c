/* serial-baud.c: rates termios has no B constant for (74880, 250000 ...), through termios2 and BOTHER.
 * A file of its own: <asm/termbits.h> declares a struct termios that clashes with glibc's <termios.h>. */
#include "config.h"

#include <asm/termbits.h>
#include <errno.h>
#include <sys/ioctl.h>

#include "internal.h"

int ztc_serial_set_custom_baud(int fd, int baud, int *ret_actual)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) < 0)
		return -errno;
	t.c_cflag &= ~(tcflag_t)(CBAUD | (CBAUD << IBSHIFT));
	t.c_cflag |= BOTHER | (BOTHER << IBSHIFT);
	t.c_ispeed = (speed_t)baud;
	t.c_ospeed = (speed_t)baud;
	if (ioctl(fd, TCSETS2, &t) < 0)
		return -errno;
	/* The driver may round to what its clock divides to: report what it took. */
	if (ioctl(fd, TCGETS2, &t) < 0)
		return -errno;
	*ret_actual = (int)t.c_ospeed;
	return 0;
}
