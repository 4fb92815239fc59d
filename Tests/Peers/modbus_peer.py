#!/usr/bin/env python3
"""A Modbus peer for vigil's tests: a real pymodbus server (RTU on a serial device, or TCP on
loopback) holding a register map with mixed types and word orders, or a raw RTU responder that
answers with deliberate faults (bad CRC, wrong unit id) that pymodbus will not produce.

Usage:
  modbus_peer.py rtu DEVICE BAUD          pymodbus RTU server, unit 1
  modbus_peer.py tcp PORT                 pymodbus TCP server on 127.0.0.1:PORT, unit 1
  modbus_peer.py faulty-rtu DEVICE BAUD   raw responder: unit 7 bad CRC, unit 8 wrong unit id

Prints "ready" on stdout once it serves. The register map (holding registers, 0-based):
  0: int16  -1234                      1: uint16 54321
  2-3: int32 -123456789 ABCD           4-5: uint32 3000000000 CDAB (word swap)
  6-7: float32 21.5 ABCD               8-9: float32 -0.125 CDAB
  10-11: float32 1.5 BADC (byte swap)  12-13: float32 1.5 DCBA (little-endian)
  14-17: float64 -2.718281828459045 ABCD    18-21: int64 -9000000000123 CDAB (low word first)
  22-25: uint64 12345678901234 DCBA         26: uint16 0xA005 (bits 0, 2, 13, 15 set)
  27: uint16 23456 (a SunSpec-style value)  28: int16 -2 (its scale factor: 234.56)
  29: int16 -32768 (a scale factor "not implemented")
Input registers 100-102: 1000, 2000, 3000. Coils 0-7: 1,0,1,1,0,0,0,1. Discrete 0-3: 0,1,1,0.
Registers beyond 29 are unmapped: reading them raises exception 2 (illegal data address).
"""
import asyncio
import struct
import sys


def words_be(fmt, value):
    b = struct.pack(">" + fmt, value)
    return [int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2)]


def holding_map():
    regs = []
    regs += words_be("h", -1234)
    regs += words_be("H", 54321)
    regs += words_be("i", -123456789)
    w = words_be("I", 3000000000); regs += [w[1], w[0]]
    regs += words_be("f", 21.5)
    w = words_be("f", -0.125); regs += [w[1], w[0]]
    w = words_be("f", 1.5); regs += [((x & 0xFF) << 8) | (x >> 8) for x in w]
    w = words_be("f", 1.5); regs += [((x & 0xFF) << 8) | (x >> 8) for x in reversed(w)]
    regs += words_be("d", -2.718281828459045)
    regs += list(reversed(words_be("q", -9000000000123)))
    regs += [((x & 0xFF) << 8) | (x >> 8) for x in reversed(words_be("Q", 12345678901234))]
    regs += [0xA005, 23456]
    regs += words_be("h", -2)
    regs += words_be("h", -32768)
    return regs


def serve_pymodbus(kind, args):
    from pymodbus import FramerType
    from pymodbus.simulator import DataType, SimData, SimDevice
    from pymodbus.server import StartAsyncSerialServer, StartAsyncTcpServer
    coils = [SimData(address=0, values=[True, False, True, True, False, False, False, True], datatype=DataType.BITS)]
    discrete = [SimData(address=0, values=[False, True, True, False], datatype=DataType.BITS)]
    holding = [SimData(address=0, values=holding_map(), datatype=DataType.REGISTERS)]
    inputs = [SimData(address=100, values=[1000, 2000, 3000], datatype=DataType.REGISTERS)]
    device = SimDevice(id=1, simdata=(coils, discrete, holding, inputs))

    async def run():
        print("ready", flush=True)
        if kind == "rtu":
            await StartAsyncSerialServer(device, framer=FramerType.RTU, port=args[0], baudrate=int(args[1]),
                                         ignore_missing_devices=True)
        else:
            await StartAsyncTcpServer(device, address=("127.0.0.1", int(args[0])))
    asyncio.run(run())


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def serve_faulty(device, baud):
    import serial
    port = serial.Serial(device, int(baud), timeout=0.05)
    print("ready", flush=True)
    buffer = b""
    while True:
        buffer += port.read(64)
        while len(buffer) >= 8:
            frame, buffer = buffer[:8], buffer[8:]
            unit, function = frame[0], frame[1]
            count = int.from_bytes(frame[4:6], "big")
            body = bytes([function, 2 * count]) + bytes(2 * count)
            if unit == 7:
                reply = bytes([unit]) + body
                reply += (crc16(reply) ^ 0x5555).to_bytes(2, "little")
            elif unit == 8:
                reply = bytes([unit + 1]) + body
                reply += crc16(reply).to_bytes(2, "little")
            else:
                continue  # any other unit: silence (a timeout)
            port.write(reply)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode in ("rtu", "tcp"):
        serve_pymodbus(mode, sys.argv[2:])
    elif mode == "faulty-rtu":
        serve_faulty(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown mode {mode}")
