#include "vigil_modbus.h"

#include <errno.h>
#include <modbus/modbus.h>
#include <modbus/modbus-rtu.h>
#include <stddef.h>

int vigil_modbus_error_base(void) { return MODBUS_ENOBASE; }
int vigil_modbus_error_bad_crc(void) { return EMBBADCRC; }
int vigil_modbus_error_bad_data(void) { return EMBBADDATA; }
int vigil_modbus_error_bad_slave(void) { return EMBBADSLAVE; }
int vigil_modbus_error_too_much_data(void) { return EMBMDATA; }
