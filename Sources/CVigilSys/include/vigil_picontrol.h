/* The user-space ABI of KUNBUS's piControl driver (/dev/piControl0 on a Revolution Pi): the one
 * home of its ioctl numbers and structure layouts in vigil. Facts from the driver's piControl.h
 * and picontrol_ioctl(4) (github.com/RevolutionPi/piControl); the layouts are re-declared here,
 * not copied, and checked by the static assertions in vigil_sys.c. */
#ifndef VIGIL_PICONTROL_H
#define VIGIL_PICONTROL_H

#include <stdint.h>

/* Size of the process image (project.h: KB_PI_LEN). */
#define VIGIL_PICONTROL_IMAGE_BYTES 4096
/* A variable name holds at most 31 characters plus the terminating NUL (SPIVariable.strVarName). */
#define VIGIL_PICONTROL_NAME_BYTES 32

/* SPIValue: one bit (bit 0-7) or a whole byte (bit >= 8) of the process image. */
struct vigil_picontrol_value {
    uint16_t address;
    uint8_t bit;
    uint8_t value;
};

/* SPIVariable: what KB_FIND_VARIABLE answers for a PiCtory variable name. The driver writes
 * address 0xffff, bit 0xff and length 0xffff for a name it does not know. */
struct vigil_picontrol_variable {
    char name[VIGIL_PICONTROL_NAME_BYTES];
    uint16_t address;
    uint8_t bit;
    uint8_t pad;
    uint16_t length_bits; /* 1, 8, 16 or 32 */
};

/* The ioctl request numbers (all _IO('K', n): no size or direction encoded, so they are the same
 * on every architecture). */
unsigned long vigil_picontrol_request_get_value(void);
unsigned long vigil_picontrol_request_set_value(void);
unsigned long vigil_picontrol_request_find_variable(void);
unsigned long vigil_picontrol_request_set_output_watchdog(void);

/* ioctl(KB_FIND_VARIABLE): `variable->name` in, address/bit/length out. */
int vigil_picontrol_find_variable(int fd, struct vigil_picontrol_variable *variable);
/* ioctl(KB_GET_VALUE): `value->value` out (0/1 for a bit, the byte otherwise). */
int vigil_picontrol_get_value(int fd, struct vigil_picontrol_value *value);
/* ioctl(KB_SET_VALUE): a read-modify-write of one byte under the driver's lock; it also restarts
 * this handle's output watchdog. */
int vigil_picontrol_set_value(int fd, const struct vigil_picontrol_value *value);
/* ioctl(KB_SET_OUTPUT_WATCHDOG): after `milliseconds` without a write on this handle, the driver
 * sets every output of the process image to 0, and it does the same when the handle is closed
 * (the process died). 0 disarms. The driver reads an `unsigned long` (get_user on an unsigned
 * long pointer, although the manual says unsigned int): 8 bytes on arm64, so this passes one. */
int vigil_picontrol_set_output_watchdog(int fd, unsigned long milliseconds);

#endif
