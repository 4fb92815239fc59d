#!/usr/bin/env python3
"""An MQTT 5 peer that accepts the connection (CONNACK success) and then refuses every
subscription (SUBACK reason 0x87, not authorized): a refusal mosquitto 2.0's ACL file does not
produce (it grants the subscription and filters deliveries), needed to test a half-failed
connect. Every PUBLISH it receives is acknowledged and its topic printed as "PUBLISH <topic>".

Usage: refusing_broker.py PORT      listens on 127.0.0.1:PORT, prints "ready", serves one client
at a time until killed. Packet layouts: MQTT 5.0 §3.2 (CONNACK), §3.9 (SUBACK), §3.4 (PUBACK).
"""
import socket
import sys


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_packet(conn):
    first = read_exact(conn, 1)[0]
    length, shift = 0, 0
    while True:
        b = read_exact(conn, 1)[0]
        length |= (b & 0x7F) << shift
        shift += 7
        if b & 0x80 == 0:
            break
    return first, read_exact(conn, length)


def serve(conn):
    while True:
        first, body = read_packet(conn)
        kind = first >> 4
        if kind == 1:  # CONNECT
            conn.sendall(bytes([0x20, 3, 0, 0, 0]))
        elif kind == 8:  # SUBSCRIBE: packet id, then refuse
            conn.sendall(bytes([0x90, 4, body[0], body[1], 0, 0x87]))
        elif kind == 3:  # PUBLISH
            topic_length = body[0] << 8 | body[1]
            topic = body[2:2 + topic_length].decode()
            print("PUBLISH " + topic, flush=True)
            qos = (first >> 1) & 3
            if qos > 0:
                pid = body[2 + topic_length:4 + topic_length]
                conn.sendall(bytes([0x40, 2]) + pid)
        elif kind == 12:  # PINGREQ
            conn.sendall(bytes([0xD0, 0]))
        elif kind == 14:  # DISCONNECT
            return


def main():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", int(sys.argv[1])))
    server.listen(4)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        try:
            serve(conn)
        except (EOFError, ConnectionError):
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    main()
