#define _GNU_SOURCE
#include "vigil_sys.h"
#include "vigil_picontrol.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <linux/serial.h>
#include <linux/watchdog.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* The kernel's internal ENOIOCTLCMD (515) reaches user space as ENOTTY; some old drivers leak it. */
#define ENOIOCTLCMD_FALLBACK 515

int vigil_i2c_set_address(int fd, unsigned address, int force) {
    return ioctl(fd, force ? I2C_SLAVE_FORCE : I2C_SLAVE, (unsigned long)address) < 0 ? -1 : 0;
}

int vigil_i2c_functions(int fd, unsigned long *functions) {
    return ioctl(fd, I2C_FUNCS, functions) < 0 ? -1 : 0;
}

unsigned long vigil_i2c_func_smbus_byte_data(void) { return I2C_FUNC_SMBUS_BYTE_DATA; }
unsigned long vigil_i2c_func_smbus_i2c_block(void) { return I2C_FUNC_SMBUS_I2C_BLOCK; }
unsigned long vigil_i2c_func_smbus_quick(void) { return I2C_FUNC_SMBUS_QUICK; }
unsigned long vigil_i2c_func_smbus_read_byte(void) { return I2C_FUNC_SMBUS_READ_BYTE; }

int vigil_serial_get_rs485(int fd, struct vigil_rs485 *got) {
    struct serial_rs485 conf = {0};
    if (ioctl(fd, TIOCGRS485, &conf) < 0) return -1;
    got->enabled = (conf.flags & SER_RS485_ENABLED) != 0;
    got->rts_on_send = (conf.flags & SER_RS485_RTS_ON_SEND) != 0;
    got->rts_after_send = (conf.flags & SER_RS485_RTS_AFTER_SEND) != 0;
    got->delay_before_send_ms = conf.delay_rts_before_send;
    got->delay_after_send_ms = conf.delay_rts_after_send;
    return 0;
}

int vigil_serial_set_rs485(int fd, const struct vigil_rs485 *want, struct vigil_rs485 *got) {
    struct serial_rs485 conf = {0};
    if (want->enabled) conf.flags |= SER_RS485_ENABLED;
    if (want->rts_on_send) conf.flags |= SER_RS485_RTS_ON_SEND;
    if (want->rts_after_send) conf.flags |= SER_RS485_RTS_AFTER_SEND;
    conf.delay_rts_before_send = want->delay_before_send_ms;
    conf.delay_rts_after_send = want->delay_after_send_ms;
    if (ioctl(fd, TIOCSRS485, &conf) < 0) return -1;
    return vigil_serial_get_rs485(fd, got);
}

int vigil_serial_wait_sent(int fd, int64_t poll_ns, int64_t deadline_ns) {
    for (;;) {
        unsigned int lsr = 0;
        if (ioctl(fd, TIOCSERGETLSR, &lsr) < 0) {
            if (errno != ENOTTY && errno != EINVAL && errno != ENOIOCTLCMD_FALLBACK) return -1;
            return tcdrain(fd) < 0 ? -1 : 1;
        }
        if (lsr & TIOCSER_TEMT) return 0;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec >= deadline_ns) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct timespec pause = {0, (long)poll_ns};
        nanosleep(&pause, NULL);
    }
}

int vigil_serial_transmitter_empty(int fd, int *empty) {
    unsigned int lsr = 0;
    if (ioctl(fd, TIOCSERGETLSR, &lsr) < 0) return -1;
    *empty = (lsr & TIOCSER_TEMT) ? 1 : 0;
    return 0;
}

int vigil_set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags) < 0 ? -1 : 0;
}

int vigil_watchdog_keepalive(int fd) {
    int dummy = 0;
    return ioctl(fd, WDIOC_KEEPALIVE, &dummy) < 0 ? -1 : 0;
}

int vigil_watchdog_set_timeout(int fd, int *seconds) {
    return ioctl(fd, WDIOC_SETTIMEOUT, seconds) < 0 ? -1 : 0;
}

int vigil_watchdog_get_timeout(int fd, int *seconds) {
    return ioctl(fd, WDIOC_GETTIMEOUT, seconds) < 0 ? -1 : 0;
}

int vigil_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}

int vigil_set_current_thread_fifo(int priority) {
    struct sched_param param = {0};
    param.sched_priority = priority;
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
}

int vigil_current_thread_policy(int *policy, int *priority) {
    struct sched_param param = {0};
    int rc = pthread_getschedparam(pthread_self(), policy, &param);
    if (rc != 0) { errno = rc; return -1; }
    *priority = param.sched_priority;
    return 0;
}

int vigil_lock_all_memory(void) {
    return mlockall(MCL_CURRENT | MCL_FUTURE);
}

int vigil_clock_sync_state(void) {
    struct timex tx = {0};
    tx.modes = 0; /* query only */
    int state = adjtimex(&tx);
    if (state < 0) return -1;
    if (state == TIME_ERROR || (tx.status & STA_UNSYNC)) return 1;
    return 2;
}

int64_t vigil_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t vigil_realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int vigil_sleep_until_monotonic_ns(int64_t deadline_ns) {
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ns / 1000000000LL);
    ts.tv_nsec = (long)(deadline_ns % 1000000000LL);
    return clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

int vigil_peer_credentials(int fd, uint32_t *uid, uint32_t *gid, int32_t *pid) {
    struct ucred cred;
    socklen_t length = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) return -1;
    *uid = (uint32_t)cred.uid;
    *gid = (uint32_t)cred.gid;
    *pid = (int32_t)cred.pid;
    return 0;
}

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

int vigil_peer_groups(int fd, uint32_t *groups, int capacity) {
    socklen_t length = (socklen_t)(capacity * sizeof(gid_t));
    gid_t *list = (gid_t *)groups;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, list, &length) != 0) return -1;
    return (int)(length / sizeof(gid_t));
}

/* piControl (vigil_picontrol.h). _IO('K', n) as piControl.h defines KB_GET_VALUE (15),
 * KB_SET_VALUE (16), KB_FIND_VARIABLE (17) and KB_SET_OUTPUT_WATCHDOG (26). */
#define VIGIL_KB_IOC_MAGIC 'K'
_Static_assert(sizeof(struct vigil_picontrol_value) == 4, "SPIValue is 4 bytes");
_Static_assert(sizeof(struct vigil_picontrol_variable) == 38, "SPIVariable is 38 bytes");
_Static_assert(__builtin_offsetof(struct vigil_picontrol_variable, address) == 32, "SPIVariable.i16uAddress at 32");
_Static_assert(__builtin_offsetof(struct vigil_picontrol_variable, bit) == 34, "SPIVariable.i8uBit at 34");
_Static_assert(__builtin_offsetof(struct vigil_picontrol_variable, length_bits) == 36, "SPIVariable.i16uLength at 36");

unsigned long vigil_picontrol_request_get_value(void) { return _IO(VIGIL_KB_IOC_MAGIC, 15); }
unsigned long vigil_picontrol_request_set_value(void) { return _IO(VIGIL_KB_IOC_MAGIC, 16); }
unsigned long vigil_picontrol_request_find_variable(void) { return _IO(VIGIL_KB_IOC_MAGIC, 17); }
unsigned long vigil_picontrol_request_set_output_watchdog(void) { return _IO(VIGIL_KB_IOC_MAGIC, 26); }

int vigil_picontrol_find_variable(int fd, struct vigil_picontrol_variable *variable) {
    return ioctl(fd, vigil_picontrol_request_find_variable(), variable) < 0 ? -1 : 0;
}

int vigil_picontrol_get_value(int fd, struct vigil_picontrol_value *value) {
    return ioctl(fd, vigil_picontrol_request_get_value(), value) < 0 ? -1 : 0;
}

int vigil_picontrol_set_value(int fd, const struct vigil_picontrol_value *value) {
    return ioctl(fd, vigil_picontrol_request_set_value(), value) < 0 ? -1 : 0;
}

int vigil_picontrol_set_output_watchdog(int fd, unsigned long milliseconds) {
    return ioctl(fd, vigil_picontrol_request_set_output_watchdog(), &milliseconds) < 0 ? -1 : 0;
}
