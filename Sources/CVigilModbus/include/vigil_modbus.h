/* CVigilModbus: what libmodbus 3.1.6 needs from C that Swift cannot give it directly. */
#ifndef VIGIL_MODBUS_H
#define VIGIL_MODBUS_H

#include <stdint.h>

typedef struct _modbus modbus_t;

/* The base libmodbus adds to Modbus exception codes and its own error numbers. */
int vigil_modbus_error_base(void);
/* libmodbus's own errno values. */
int vigil_modbus_error_bad_crc(void);
int vigil_modbus_error_bad_data(void);
int vigil_modbus_error_bad_slave(void);
int vigil_modbus_error_too_much_data(void);

#endif
