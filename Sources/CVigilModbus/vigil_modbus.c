#include "vigil_modbus.h"

#include <errno.h>
#include <modbus/modbus.h>
#include <modbus/modbus-rtu.h>
#include <stddef.h>

struct de_slot {
    modbus_t *ctx;
    vigil_modbus_de_fn fn;
    void *context;
};

static struct de_slot slots[8];

static void set_rts(modbus_t *ctx, int on) {
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        if (slots[i].ctx == ctx) {
            slots[i].fn(slots[i].context, on);
            return;
        }
    }
}

int vigil_modbus_use_driver_enable(modbus_t *ctx, vigil_modbus_de_fn fn, void *context, int delay_us) {
    struct de_slot *slot = NULL;
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        if (slots[i].ctx == ctx || (slot == NULL && slots[i].ctx == NULL)) slot = &slots[i];
    }
    if (slot == NULL) {
        errno = ENOSPC;
        return -1;
    }
    slot->ctx = ctx;
    slot->fn = fn;
    slot->context = context;
    if (modbus_rtu_set_custom_rts(ctx, set_rts) < 0) return -1;
    if (modbus_rtu_set_rts_delay(ctx, delay_us) < 0) return -1;
    /* RTS_UP: the callback gets 1 while sending, 0 while receiving. */
    return modbus_rtu_set_rts(ctx, MODBUS_RTU_RTS_UP);
}

void vigil_modbus_forget(modbus_t *ctx) {
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        if (slots[i].ctx == ctx) slots[i].ctx = NULL;
    }
}

int vigil_modbus_error_base(void) { return MODBUS_ENOBASE; }
int vigil_modbus_error_bad_crc(void) { return EMBBADCRC; }
int vigil_modbus_error_bad_data(void) { return EMBBADDATA; }
int vigil_modbus_error_bad_slave(void) { return EMBBADSLAVE; }
int vigil_modbus_error_too_much_data(void) { return EMBMDATA; }
