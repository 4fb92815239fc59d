#!/usr/bin/env python3
"""Reads TOML files with Python's own tomllib (the reference parser vigil's reader is checked against)
and prints one canonical line per file, or ERROR when tomllib refuses it.

Usage: toml_canonical.py FILE...

Canonical form: tables {key=...;} with keys sorted by UTF-8 bytes, arrays [...,], strings s"json",
integers i<decimal>, floats f<IEEE-754 bits in hex> (fnan for any NaN), dates and times d, booleans
b<true|false>. vigil's test renders its own tree the same way.
"""
import json
import math
import struct
import sys
import tomllib


def canon(v):
    if isinstance(v, bool):
        return "b" + ("true" if v else "false")
    if isinstance(v, int):
        return "i" + str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "fnan"
        return "f" + struct.pack(">d", v).hex()
    if isinstance(v, str):
        return "s" + json.dumps(v, ensure_ascii=True)
    if isinstance(v, list):
        return "[" + "".join(canon(x) + "," for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v.keys(), key=lambda k: k.encode("utf-8"))
        return "{" + "".join(json.dumps(k, ensure_ascii=True) + "=" + canon(v[k]) + ";" for k in keys) + "}"
    return "d"


for path in sys.argv[1:]:
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
        print(canon(doc))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        print("ERROR")
