/* CVigilModbus: what libmodbus 3.1.6 needs from C that Swift cannot give it directly. */
#ifndef VIGIL_MODBUS_H
#define VIGIL_MODBUS_H

#include <stdint.h>

typedef struct _modbus modbus_t;

/* Called with on = 1 before a request goes out and on = 0 after its last bit (libmodbus waits
 * `delay_us` plus the frame's transmission time in between). */
typedef void (*vigil_modbus_de_fn)(void *context, int on);

/* Makes libmodbus drive an RS-485 driver-enable line through `fn` around every request instead of
 * toggling RTS. libmodbus 3.1.6's custom-RTS callback receives only the context pointer of the
 * modbus_t, so the (fn, context) pairs are kept in a small table keyed by it: at most 8 ports.
 * Returns 0, or -1 with errno (ENOSPC when the table is full). */
int vigil_modbus_use_driver_enable(modbus_t *ctx, vigil_modbus_de_fn fn, void *context, int delay_us);
/* Forgets `ctx` (call before modbus_free). */
void vigil_modbus_forget(modbus_t *ctx);
/* The base libmodbus adds to Modbus exception codes and its own error numbers. */
int vigil_modbus_error_base(void);
/* libmodbus's own errno values. */
int vigil_modbus_error_bad_crc(void);
int vigil_modbus_error_bad_data(void);
int vigil_modbus_error_bad_slave(void);
int vigil_modbus_error_too_much_data(void);

#endif
