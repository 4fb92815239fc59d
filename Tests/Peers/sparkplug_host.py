"""A Sparkplug B host for the tests, built on pysparkplug (PyPI) and paho-mqtt: an implementation
vigil did not write decodes what vigil's node sends.

Subscribes to spBv1.0/#, decodes every message with pysparkplug's payload classes (data and
commands by the aliases of the last birth of their node or device), and prints one JSON object per
message on stdout. Metric properties are read with the schema's generated protobuf classes that
pysparkplug ships (its Metric type leaves them out).

Standard input takes commands, one per line:
  state HOST online|offline   publish HOST's STATE (retained, QoS 1), as a primary host does
  ncmd GROUP EDGE NAME BOOL   an NCMD writing a boolean metric (Node Control/Rebirth, or any other)
  dcmd GROUP EDGE DEVICE NAME VALUE   a DCMD writing a double to a device metric
  garbage GROUP EDGE          an NCMD whose payload is not protobuf
Each command is acknowledged with {"ack": LINE} once published.

usage: sparkplug_host.py PORT
"""

import json
import sys
import threading
import time

import paho.mqtt.client as mqtt
import pysparkplug as sp
from pysparkplug import _protobuf as pb

PORT = int(sys.argv[1])
births = {}  # (group, edge, device or None) -> NBirth/DBirth
out_lock = threading.Lock()


def emit(obj):
    with out_lock:
        sys.stdout.write(json.dumps(obj, default=str) + "\n")
        sys.stdout.flush()


def property_value(v):
    kind = v.WhichOneof("value")
    return None if kind is None or v.is_null else getattr(v, kind)


def describe(metric, raw_metric):
    properties = {}
    if raw_metric.HasField("properties"):
        ps = raw_metric.properties
        properties = {k: property_value(v) for k, v in zip(ps.keys, ps.values)}
    value = metric.value
    if isinstance(value, (bytes, bytearray)):
        value = list(value)
    return {
        "name": metric.name,
        "alias": metric.alias,
        "datatype": metric.datatype.name if metric.datatype is not None else None,
        "value": value,
        "is_null": metric.is_null,
        "is_historical": metric.is_historical,
        "timestamp": metric.timestamp,
        "properties": properties,
    }


def on_message(client, userdata, msg):
    try:
        topic = sp.Topic.from_str(msg.topic)
    except Exception as e:  # not a Sparkplug topic
        emit({"topic": msg.topic, "error": f"topic: {e}"})
        return
    kind = topic.message_type.name if hasattr(topic.message_type, "name") else str(topic.message_type)
    record = {"topic": msg.topic, "type": kind, "group": topic.group_id, "edge": topic.edge_node_id,
              "device": topic.device_id, "qos": msg.qos, "retain": bool(msg.retain)}
    if kind == "STATE":
        return
    if kind in ("NCMD", "DCMD"):
        record["payload_length"] = len(msg.payload)
        emit(record)
        return
    try:
        raw = pb.Payload.FromString(msg.payload)
        key_node = (topic.group_id, topic.edge_node_id, None)
        key = (topic.group_id, topic.edge_node_id, topic.device_id)
        classes = {"NBIRTH": sp.NBirth, "DBIRTH": sp.DBirth, "NDATA": sp.NData, "DDATA": sp.DData,
                   "NDEATH": sp.NDeath, "DDEATH": sp.DDeath}
        cls = classes[kind]
        if kind == "NDEATH":
            payload = cls.decode(msg.payload)
            record["timestamp"] = payload.timestamp
            record["bdSeq"] = payload.bd_seq_metric.value
            emit(record)
            return
        birth = births.get(key) if kind in ("NDATA", "DDATA") else None
        if kind in ("NDATA", "DDATA") and birth is None:
            record["error"] = "data before its birth"
            birth = births.get(key_node)
        payload = cls.decode(msg.payload, birth=birth) if birth is not None else cls.decode(msg.payload)
        if kind in ("NBIRTH", "DBIRTH"):
            births[key] = payload
        record["timestamp"] = payload.timestamp
        record["seq"] = getattr(payload, "seq", None)
        record["metrics"] = [describe(m, r) for m, r in zip(payload.metrics, raw.metrics)]
    except Exception as e:
        record["error"] = f"{type(e).__name__}: {e}"
    emit(record)


def main():
    client = mqtt.Client(client_id=f"sparkplug-host-{PORT}-{time.time_ns()}", clean_session=True)
    client.on_message = on_message
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc: (c.subscribe("spBv1.0/#", qos=1), connected.set())
    client.connect("127.0.0.1", PORT, keepalive=30)
    client.loop_start()
    if not connected.wait(10):
        emit({"fatal": "could not connect"})
        return 1
    time.sleep(0.3)
    emit({"ready": True})
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        now = sp.get_current_timestamp()
        if words[0] == "state":
            host, online = words[1], words[2] == "online"
            info = client.publish(f"spBv1.0/STATE/{host}", sp.State(timestamp=now, online=online).encode(), qos=1, retain=True)
        elif words[0] == "ncmd":
            group, edge, value = words[1], words[2], words[-1] == "true"
            name = " ".join(words[3:-1])
            metric = sp.Metric(timestamp=now, name=name, datatype=sp.DataType.BOOLEAN, value=value)
            info = client.publish(f"spBv1.0/{group}/NCMD/{edge}", sp.NCmd(timestamp=now, metrics=(metric,)).encode(include_dtypes=True), qos=1)
        elif words[0] == "dcmd":
            group, edge, device, name, value = words[1], words[2], words[3], words[4], float(words[5])
            metric = sp.Metric(timestamp=now, name=name, datatype=sp.DataType.DOUBLE, value=value)
            info = client.publish(f"spBv1.0/{group}/DCMD/{edge}/{device}", sp.DCmd(timestamp=now, metrics=(metric,)).encode(include_dtypes=True), qos=1)
        elif words[0] == "garbage":
            info = client.publish(f"spBv1.0/{words[1]}/NCMD/{words[2]}", b"\xff\xff\xff\xff\x0f\x0a\x99", qos=1)
        else:
            emit({"error": f"unknown command {line.strip()}"})
            continue
        info.wait_for_publish(5)
        emit({"ack": line.strip()})
    client.loop_stop()
    client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
