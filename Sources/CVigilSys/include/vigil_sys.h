/* CVigilSys: the few kernel interfaces Swift cannot call directly (variadic ioctl/fcntl, CPU_SET
 * macros, struct layouts behind macros). Each function is one syscall; all return 0 on success or
 * -1 with errno set, like the syscalls they wrap. No state, no allocation. */
#ifndef VIGIL_SYS_H
#define VIGIL_SYS_H

#include <stdint.h>

#include "vigil_picontrol.h"

/* ioctl(I2C_SLAVE or I2C_SLAVE_FORCE): address following SMBus transfers on this fd. */
int vigil_i2c_set_address(int fd, unsigned address, int force);
/* ioctl(I2C_FUNCS): the adapter's functionality bits (I2C_FUNC_*). */
int vigil_i2c_functions(int fd, unsigned long *functions);
/* Functionality bits vigil cares about, so Swift need not re-derive the macros. */
unsigned long vigil_i2c_func_smbus_byte_data(void);
unsigned long vigil_i2c_func_smbus_i2c_block(void);
unsigned long vigil_i2c_func_smbus_quick(void);
unsigned long vigil_i2c_func_smbus_read_byte(void);

/* Kernel RS-485 mode as struct serial_rs485 holds it (the delays are milliseconds there). */
struct vigil_rs485 {
    int enabled;
    /* SER_RS485_RTS_ON_SEND / SER_RS485_RTS_AFTER_SEND: RTS's logical level while sending and after. */
    int rts_on_send;
    int rts_after_send;
    unsigned delay_before_send_ms;
    unsigned delay_after_send_ms;
};
/* ioctl(TIOCSRS485) with `want` (enabled, both RTS levels and both delays), then ioctl(TIOCGRS485)
 * into `got`: drivers sanitise what they cannot do (a delay clamped, a polarity fixed), so the
 * caller compares. */
int vigil_serial_set_rs485(int fd, const struct vigil_rs485 *want, struct vigil_rs485 *got);
/* ioctl(TIOCGRS485). */
int vigil_serial_get_rs485(int fd, struct vigil_rs485 *got);
/* Waits until every byte written to `fd` has left the UART: polls TIOCSERGETLSR's transmitter-empty
 * bit every `poll_ns` until `deadline_ns` (CLOCK_MONOTONIC). Where the driver has no LSR (ptys,
 * most USB bridges) it falls back to tcdrain(). Returns 0 (LSR seen empty), 1 (tcdrain returned),
 * or -1 with errno (ETIMEDOUT past the deadline). */
int vigil_serial_wait_sent(int fd, int64_t poll_ns, int64_t deadline_ns);
/* ioctl(TIOCSERGETLSR): 1 when the transmitter shift register is empty (last bit on the wire). */
int vigil_serial_transmitter_empty(int fd, int *empty);
/* fcntl(F_SETFL, O_NONBLOCK) on or off. */
int vigil_set_nonblocking(int fd, int on);

/* ioctl(WDIOC_KEEPALIVE). */
int vigil_watchdog_keepalive(int fd);
/* ioctl(WDIOC_SETTIMEOUT); the driver may round, the effective value is written back. */
int vigil_watchdog_set_timeout(int fd, int *seconds);
/* ioctl(WDIOC_GETTIMEOUT). */
int vigil_watchdog_get_timeout(int fd, int *seconds);

/* sched_setaffinity(0, {cpu}) for the calling thread. */
int vigil_pin_current_thread(int cpu);
/* pthread_setschedparam(self, SCHED_FIFO, priority): returns 0 or the error number (not -1/errno). */
int vigil_set_current_thread_fifo(int priority);
/* The calling thread's scheduling policy (SCHED_OTHER=0, SCHED_FIFO=1, ...) and priority. */
int vigil_current_thread_policy(int *policy, int *priority);
/* mlockall(MCL_CURRENT | MCL_FUTURE). */
int vigil_lock_all_memory(void);

/* adjtimex() read-only query: 2 when the kernel clock is synchronised, 1 when it reports
 * TIME_ERROR / STA_UNSYNC, -1 with errno on failure. */
int vigil_clock_sync_state(void);

/* The CLOCK_MONOTONIC and CLOCK_REALTIME clocks in ns, read back to back. */
int64_t vigil_monotonic_ns(void);
int64_t vigil_realtime_ns(void);
/* clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) until `deadline_ns`; returns 0 or the error
 * number (EINTR when a signal arrived first). */
int vigil_sleep_until_monotonic_ns(int64_t deadline_ns);

/* getsockopt(SO_PEERCRED) on a connected Unix socket: the peer's uid, primary gid and pid. */
int vigil_peer_credentials(int fd, uint32_t *uid, uint32_t *gid, int32_t *pid);
/* getsockopt(SO_PEERGROUPS) (Linux 4.13): the peer's supplementary groups, at most `capacity`;
 * returns how many, or -1 (too many, or an older kernel). */
int vigil_peer_groups(int fd, uint32_t *groups, int capacity);

#endif
