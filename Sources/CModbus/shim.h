/* libmodbus 3.1 (Debian libmodbus-dev): Modbus RTU and TCP clients. */
#include <modbus/modbus.h>
