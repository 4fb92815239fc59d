/* The real-kernel bench's stand-in for KUNBUS's piControl driver: a character device
 * /dev/piControl0 served from user space through the kernel's CUSE, with the driver's user-space
 * ABI and the behaviour vigil relies on, taken from the driver's source
 * (github.com/RevolutionPi/piControl, src/piControlMain.c and revpi_common.c):
 *   KB_FIND_VARIABLE  _IO('K',17)  SPIVariable (38 bytes); an unknown name fails with EFAULT
 *   KB_GET_VALUE      _IO('K',15)  SPIValue (4 bytes); bit >= 8 reads the whole byte
 *   KB_SET_VALUE      _IO('K',16)  read-modify-write of one byte; restarts the handle's watchdog
 *   KB_SET_OUTPUT_WATCHDOG _IO('K',26)  an unsigned long of milliseconds (get_user on an unsigned
 *                     long pointer: 8 bytes here); when it runs out, every output is set to 0
 *   release           a handle with the watchdog armed sets every output to 0 as it closes
 * The image is a Connect 4's as PiCtory configures it by default (outputs at bytes 6-12; the X2
 * relay is bit 0 of RevPiOutput, byte 6). The I/O cycle runs every 5 ms.
 *
 * What the bench reads: the relay's level in STATE_FILE ("0"/"1", rewritten on each change) and
 * one line per event in LOG_FILE: "FIND name", "WATCHDOG n" (the 8 bytes as the kernel passed
 * them), "EXPIRED", "RELEASE zeroed", "RELAY n".
 *
 * Usage: picontrol_peer LOG_FILE STATE_FILE. Not vigil's code: vigil talks to it only through
 * the kernel, as it would to the driver. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define KB_GET_VALUE 0x4B0F
#define KB_SET_VALUE 0x4B10
#define KB_FIND_VARIABLE 0x4B11
#define KB_SET_OUTPUT_WATCHDOG 0x4B1A
#define IMAGE_BYTES 4096
#define OUTPUT_FIRST 6
#define OUTPUT_END 13
#define CYCLE_NS 5000000LL

struct variable { const char *name; uint16_t address; uint8_t bit; uint16_t length; };
static const struct variable variables[] = {
    {"RevPiStatus", 0, 0, 8}, {"RevPiIOCycle", 1, 0, 8}, {"RS485ErrorCnt", 2, 0, 16},
    {"Core_Temperature", 4, 0, 8}, {"Core_Frequency", 5, 0, 8}, {"RevPiOutput", 6, 0, 8},
    {"RS485ErrorLimit1", 7, 0, 16}, {"RS485ErrorLimit2", 9, 0, 16}, {"RevPiLED", 11, 0, 16},
};

struct handle { uint64_t fh; int open; unsigned long watchdog_ms; int64_t deadline_ns; };
static struct handle handles[32];
static uint8_t image[IMAGE_BYTES];
static int cuse_fd;
static FILE *log_file;
static const char *state_path;
static int relay = -1;
static uint64_t next_fh = 1;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void reply(uint64_t unique, int error, const void *data, size_t length) {
    struct fuse_out_header out = {.len = (uint32_t)(sizeof out + length), .error = error, .unique = unique};
    struct iovec iov[2] = {{&out, sizeof out}, {(void *)data, length}};
    if (writev(cuse_fd, iov, length ? 2 : 1) < 0 && errno != ENOENT) perror("picontrol_peer: reply");
}

static struct handle *find_handle(uint64_t fh) {
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        if (handles[i].open && handles[i].fh == fh) return &handles[i];
    return NULL;
}

static void zero_outputs(void) { memset(image + OUTPUT_FIRST, 0, OUTPUT_END - OUTPUT_FIRST); }

/* An unrestricted ioctl arrives first without data; the reply names what to copy in and out. */
static void retry(uint64_t unique, uint64_t arg, uint64_t in_length, uint64_t out_length) {
    struct { struct fuse_ioctl_out out; struct fuse_ioctl_iovec iov[2]; } r;
    memset(&r, 0, sizeof r);
    r.out.flags = FUSE_IOCTL_RETRY;
    int n = 0;
    if (in_length) { r.iov[n].base = arg; r.iov[n].len = in_length; r.out.in_iovs = 1; n++; }
    if (out_length) { r.iov[n].base = arg; r.iov[n].len = out_length; r.out.out_iovs = 1; n++; }
    reply(unique, 0, &r, sizeof r.out + n * sizeof r.iov[0]);
}

static void ioctl_request(uint64_t unique, const struct fuse_ioctl_in *in, const uint8_t *data) {
    struct handle *h = find_handle(in->fh);
    struct { struct fuse_ioctl_out out; uint8_t data[38]; } r;
    memset(&r, 0, sizeof r);
    if (!h) { reply(unique, -EBADF, NULL, 0); return; }
    switch (in->cmd) {
    case KB_FIND_VARIABLE: {
        if (in->in_size < 38) { retry(unique, in->arg, 38, 38); return; }
        char name[32];
        memcpy(name, data, 31);
        name[31] = 0;
        fprintf(log_file, "FIND %s\n", name);
        for (size_t i = 0; i < sizeof variables / sizeof variables[0]; i++) {
            if (strcmp(variables[i].name, name) != 0) continue;
            memcpy(r.data, data, 38);
            memcpy(r.data + 32, &variables[i].address, 2);
            r.data[34] = variables[i].bit;
            r.data[35] = 0;
            memcpy(r.data + 36, &variables[i].length, 2);
            reply(unique, 0, &r, sizeof r.out + 38);
            return;
        }
        reply(unique, -EFAULT, NULL, 0); /* the driver's status for a name it does not know */
        return;
    }
    case KB_GET_VALUE: {
        if (in->in_size < 4) { retry(unique, in->arg, 4, 4); return; }
        uint16_t address;
        memcpy(&address, data, 2);
        if (address >= IMAGE_BYTES) { reply(unique, -EINVAL, NULL, 0); return; }
        memcpy(r.data, data, 4);
        uint8_t bit = data[2], byte = image[address];
        r.data[3] = bit >= 8 ? byte : (byte >> bit) & 1;
        reply(unique, 0, &r, sizeof r.out + 4);
        return;
    }
    case KB_SET_VALUE: {
        if (in->in_size < 4) { retry(unique, in->arg, 4, 0); return; }
        uint16_t address;
        memcpy(&address, data, 2);
        if (address >= IMAGE_BYTES) { reply(unique, -EINVAL, NULL, 0); return; }
        uint8_t bit = data[2], value = data[3];
        if (bit >= 8) image[address] = value;
        else if (value) image[address] |= (uint8_t)(1u << bit);
        else image[address] &= (uint8_t)~(1u << bit);
        if (h->watchdog_ms) h->deadline_ns = now_ns() + (int64_t)h->watchdog_ms * 1000000LL;
        reply(unique, 0, &r, sizeof r.out);
        return;
    }
    case KB_SET_OUTPUT_WATCHDOG: {
        if (in->in_size < 8) { retry(unique, in->arg, 8, 0); return; }
        uint64_t ms;
        memcpy(&ms, data, 8);
        fprintf(log_file, "WATCHDOG %llu\n", (unsigned long long)ms);
        h->watchdog_ms = (unsigned long)ms;
        h->deadline_ns = now_ns() + (int64_t)ms * 1000000LL;
        reply(unique, 0, &r, sizeof r.out);
        return;
    }
    default:
        reply(unique, -EINVAL, NULL, 0);
    }
}

static void publish_relay(void) {
    int level = image[6] & 1;
    if (level == relay) return;
    relay = level;
    fprintf(log_file, "RELAY %d\n", level);
    int fd = open(state_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) { if (write(fd, level ? "1\n" : "0\n", 2) < 0) perror("picontrol_peer: state"); close(fd); }
}

/* revpi_check_timeout: the first handle whose watchdog ran out zeroes the outputs. */
static void io_cycle(void) {
    int64_t now = now_ns();
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++) {
        struct handle *h = &handles[i];
        if (!h->open || !h->watchdog_ms || now <= h->deadline_ns) continue;
        zero_outputs();
        fprintf(log_file, "EXPIRED\n");
        h->deadline_ns = now + (int64_t)h->watchdog_ms * 1000000LL;
        break;
    }
    publish_relay();
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: picontrol_peer LOG_FILE STATE_FILE\n"); return 2; }
    log_file = fopen(argv[1], "w");
    if (!log_file) { perror(argv[1]); return 1; }
    setvbuf(log_file, NULL, _IOLBF, 0);
    state_path = argv[2];
    cuse_fd = open("/dev/cuse", O_RDWR | O_CLOEXEC);
    if (cuse_fd < 0) { perror("/dev/cuse"); return 1; }
    static uint8_t buffer[1 << 17];
    int64_t next_cycle = now_ns() + CYCLE_NS;
    publish_relay();
    for (;;) {
        int64_t wait_ms = (next_cycle - now_ns()) / 1000000LL;
        struct pollfd p = {.fd = cuse_fd, .events = POLLIN};
        int ready = poll(&p, 1, wait_ms > 0 ? (int)wait_ms : 0);
        if (now_ns() >= next_cycle) { io_cycle(); next_cycle += CYCLE_NS; if (next_cycle < now_ns()) next_cycle = now_ns() + CYCLE_NS; }
        if (ready <= 0) continue;
        ssize_t n = read(cuse_fd, buffer, sizeof buffer);
        if (n < 0) { if (errno == EINTR || errno == ENOENT || errno == EAGAIN) continue; perror("picontrol_peer: read"); return 1; }
        if ((size_t)n < sizeof(struct fuse_in_header)) continue;
        const struct fuse_in_header *in = (const void *)buffer;
        const uint8_t *body = buffer + sizeof *in;
        switch (in->opcode) {
        case CUSE_INIT: {
            const struct cuse_init_in *init = (const void *)body;
            struct { struct cuse_init_out out; char info[32]; } r;
            memset(&r, 0, sizeof r);
            r.out.major = FUSE_KERNEL_VERSION;
            r.out.minor = init->minor < FUSE_KERNEL_MINOR_VERSION ? init->minor : FUSE_KERNEL_MINOR_VERSION;
            r.out.flags = CUSE_UNRESTRICTED_IOCTL;
            r.out.max_read = 4096;
            r.out.max_write = 4096;
            const char info[] = "DEVNAME=piControl0";
            memcpy(r.info, info, sizeof info);
            reply(in->unique, 0, &r, sizeof r.out + sizeof info);
            fprintf(log_file, "READY\n");
            break;
        }
        case FUSE_OPEN: {
            struct fuse_open_out r;
            memset(&r, 0, sizeof r);
            struct handle *slot = NULL;
            for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++) if (!handles[i].open) { slot = &handles[i]; break; }
            if (!slot) { reply(in->unique, -EMFILE, NULL, 0); break; }
            memset(slot, 0, sizeof *slot);
            slot->open = 1;
            slot->fh = next_fh++;
            r.fh = slot->fh;
            reply(in->unique, 0, &r, sizeof r);
            break;
        }
        case FUSE_IOCTL: {
            const struct fuse_ioctl_in *io = (const void *)body;
            ioctl_request(in->unique, io, body + sizeof *io);
            break;
        }
        case FUSE_RELEASE: {
            const struct fuse_release_in *rel = (const void *)body;
            struct handle *h = find_handle(rel->fh);
            if (h) {
                if (h->watchdog_ms) { zero_outputs(); fprintf(log_file, "RELEASE zeroed\n"); }
                h->open = 0;
            }
            reply(in->unique, 0, NULL, 0);
            break;
        }
        case FUSE_INTERRUPT:
            break;
        case FUSE_FLUSH:
            reply(in->unique, 0, NULL, 0);
            break;
        default:
            reply(in->unique, -ENOSYS, NULL, 0);
        }
    }
}
