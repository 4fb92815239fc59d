"""The Sparkplug host's view of a node, from the JSON lines Tests/Peers/sparkplug_host.py prints:
each device's metrics with their latest value, unit and quality, the node's metrics, and the
session (bdSeq, births, deaths, seq continuity). Exit status 1 when no NBIRTH or DBIRTH arrived.

usage: sparkplug_view.py HOST_OUTPUT.jsonl
"""

import json
import sys


def main(path):
    messages = []
    with open(path) as f:
        for line in f:
            try:
                m = json.loads(line)
            except ValueError:
                continue
            if "type" in m:
                messages.append(m)
    births = [m for m in messages if m["type"] in ("NBIRTH", "DBIRTH")]
    if not any(m["type"] == "NBIRTH" for m in births) or not any(m["type"] == "DBIRTH" for m in births):
        print("view: no NBIRTH/DBIRTH seen")
        return 1
    tags = {}      # (device, name) -> [value, unit, quality]
    for m in messages:
        if m["type"] not in ("NBIRTH", "DBIRTH", "NDATA", "DDATA"):
            continue
        for metric in m.get("metrics", []):
            key = (m.get("device") or "(node)", metric.get("name"))
            props = metric.get("properties") or {}
            entry = tags.setdefault(key, [None, "", ""])
            if metric.get("is_historical"):
                continue
            if not metric.get("is_null"):
                entry[0] = metric.get("value")
            if "engUnit" in props:
                entry[1] = props["engUnit"]
            if "qualityFlags" in props:
                entry[2] = props["qualityFlags"]
    nbirths = [m for m in messages if m["type"] == "NBIRTH"]
    bdseqs = [next((x["value"] for x in b["metrics"] if x["name"] == "bdSeq"), None) for b in nbirths]
    data = [m for m in messages if m["type"] in ("NDATA", "DDATA")]
    print(f"   node {nbirths[0]['group']}/{nbirths[0]['edge']}: {len(nbirths)} NBIRTH (bdSeq {bdseqs}), "
          f"{sum(m['type'] == 'DBIRTH' for m in messages)} DBIRTH, {len(data)} NDATA/DDATA, "
          f"{sum(m['type'] == 'NDEATH' for m in messages)} NDEATH, {sum('error' in m for m in messages)} undecodable")
    for (device, name), (value, unit, quality) in sorted(tags.items(), key=lambda kv: (kv[0][0] != "(node)", kv[0])):
        if name.startswith("Losses/") and value == 0:
            continue
        if isinstance(value, list):
            value = "[" + ", ".join(f"{v:.4g}" for v in value[:4]) + f", … {len(value)} bands]"
        elif isinstance(value, float):
            value = f"{value:.6g}"
        print(f"   {device:13.13} {name[:34]:34} {str(value)[:30]:>30} {unit:6} {quality}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
