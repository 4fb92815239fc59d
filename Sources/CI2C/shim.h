/* libi2c (Debian libi2c-dev): SMBus transfers on /dev/i2c-N, plus the kernel's i2c-dev ioctls. */
#include <linux/i2c.h>
#include <linux/i2c-dev.h>
#include <i2c/smbus.h>
