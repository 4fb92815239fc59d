import Glibc
import VigilBase
import VigilFrames
import VigilSparkplug
import VigilUplink

/// Frame size against JSON for issue 7's snapshot, encode/decode rates (JSON text of the same
/// content built in the same run as the reference), and QoS 1 delivery through a real mosquitto
/// on loopback.
enum FramesBenchmark {
    static func snapshot() -> (data: Frame, spectrum: Frame, json: () -> String) {
        let names: [(String, Double, Double, String)] = [
            ("bearing.x.velocity_rms", 1.14, 0.01, "mm/s"), ("bearing.y.velocity_rms", 1.12, 0.01, "mm/s"), ("bearing.z.velocity_rms", 0.41, 0.01, "mm/s"),
            ("bearing.x.accel_peak", 0.047, 0.001, "g"), ("bearing.y.accel_peak", 0.043, 0.001, "g"), ("bearing.z.accel_peak", 0.031, 0.001, "g"),
            ("bearing.x.crest_factor", 2.37, 0.01, "ratio"), ("bearing.y.crest_factor", 2.32, 0.01, "ratio"), ("bearing.z.crest_factor", 3.05, 0.01, "ratio"),
            ("motor.temperature", 42.37, 0.01, "degC"), ("shaft.rpm", 1480.2, 0.1, "rpm"), ("interlock.state", 0, 1, "state"),
        ]
        let ids = [5, 13, 21, 2, 10, 18, 3, 11, 19, 25, 38, 42]
        var values: [DataValue] = []
        for (i, n) in names.enumerated() { values.append(DataValue(channel: ids[i], quality: i == 9 ? .clockUnsynced : [], raw: Int64((n.1 / n.2).rounded()))) }
        values.sort { $0.channel < $1.channel }
        var bands: [Double] = [0.0178, 0.0063, 0.0043]
        var x: UInt64 = 7
        for _ in 3..<32 {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            bands.append(0.0005 + Double(x >> 61) * 0.0001)
        }
        let h = FrameHeader(type: .data, session: 0x1234_5678, sequence: 1000, wallClockMilliseconds: 1_795_384_493_308, monotonicMilliseconds: 3_600_000, clockSync: .synchronized)
        var sh = h
        sh.type = .spectrum
        sh.sequence = 1001
        let data = Frame(header: h, body: .data(values))
        let spectrum = Frame(header: sh, body: .spectrum(SpectrumBody(channel: 8, quality: [], orderBands: false, start: 0, width: 39_063,
                                                                      raw: bands.map { UInt64(($0 / 0.0001).rounded()) })))
        let json = {
            var parts: [String] = []
            for n in names { parts.append("{\"name\":\"\(n.0)\",\"value\":\(n.1),\"unit\":\"\(n.3)\",\"quality\":\"good\"}") }
            return "{\"node\":\"sim-node-1\",\"session\":305419896,\"seq\":1000,\"ts\":1795384493308,\"mono_ms\":3600000,\"clock\":\"synchronized\",\"values\":["
                + parts.joined(separator: ",") + "],\"spectrum\":{\"name\":\"bearing.x.bands\",\"unit\":\"g\",\"start_hz\":0,\"width_hz\":39.0625,\"values\":["
                + bands.map { "\($0)" }.joined(separator: ",") + "]}}"
        }
        return (data, spectrum, json)
    }

    static func run() {
        let s = snapshot()
        let data = try! s.data.encoded(), spectrum = try! s.spectrum.encoded()
        let jsonBytes = s.json().utf8.count
        // Encode rate: both frames per snapshot, against building the JSON text, alternately.
        var frameNs: [Double] = [], jsonNs: [Double] = []
        var sink = 0
        for _ in 0..<5 {
            let n = 20_000
            var t0 = LoopBenchmark.monotonicNanoseconds()
            var out: [UInt8] = []
            out.reserveCapacity(256)
            for _ in 0..<n {
                out.removeAll(keepingCapacity: true)
                try! s.data.encode(into: &out)
                try! s.spectrum.encode(into: &out)
                sink &+= out.count
            }
            frameNs.append(Double(LoopBenchmark.monotonicNanoseconds() - t0) / Double(n))
            t0 = LoopBenchmark.monotonicNanoseconds()
            for _ in 0..<n { sink &+= s.json().utf8.count }
            jsonNs.append(Double(LoopBenchmark.monotonicNanoseconds() - t0) / Double(n))
        }
        let both = data + spectrum
        var t0 = LoopBenchmark.monotonicNanoseconds()
        let decodes = 50_000
        for _ in 0..<decodes {
            if case .frame(_, let n) = FrameDecoder.decode(both) { sink &+= n }
        }
        let decodeNs = Double(LoopBenchmark.monotonicNanoseconds() - t0) / Double(decodes)
        withBroker { port in report(s, data: data, spectrum: spectrum, jsonBytes: jsonBytes, frameBest: frameNs.min()!, jsonBest: jsonNs.min()!,
                                   decodeNs: decodeNs, sink: sink, port: port) }
    }

    static func report(_ s: (data: Frame, spectrum: Frame, json: () -> String), data: [UInt8], spectrum: [UInt8], jsonBytes: Int,
                       frameBest: Double, jsonBest: Double, decodeNs: Double, sink: Int, port: Int?) {
        let delivered = mqttDelivered(port: port)
        print("BENCH frames snapshot_bytes=\(data.count + spectrum.count) data_bytes=\(data.count) spectrum_bytes=\(spectrum.count) snapshot_json_bytes=\(jsonBytes)"
              + " size_ratio_json=\(LoopBenchmark.format(Double(data.count + spectrum.count) / Double(jsonBytes)))"
              + " encode_per_s=\(Int(1e9 / frameBest)) json_encode_per_s=\(Int(1e9 / jsonBest)) encode_ratio_json=\(LoopBenchmark.format(jsonBest / frameBest))"
              + " decode_per_s=\(Int(1e9 / decodeNs))"
              + (delivered.map { " mqtt_delivered_per_s=\(Int($0.v5)) mqtt311_delivered_per_s=\(Int($0.v311)) qos=1" } ?? " mqtt=unavailable")
              + (sink == 42 ? " " : ""))
        sparkplug(s.data, s.spectrum, vigilBytes: data.count + spectrum.count, jsonBytes: jsonBytes, port: port)
    }

    /// The birth of the snapshot's channels: 12 scalars and one spectrum, on 3 devices and the node.
    static func birth() -> Frame {
        let names = [(5, "bearing.x.velocity_rms", 0.01, "mm/s"), (13, "bearing.y.velocity_rms", 0.01, "mm/s"), (21, "bearing.z.velocity_rms", 0.01, "mm/s"),
                     (2, "bearing.x.accel_peak", 0.001, "g"), (10, "bearing.y.accel_peak", 0.001, "g"), (18, "bearing.z.accel_peak", 0.001, "g"),
                     (3, "bearing.x.crest_factor", 0.01, "ratio"), (11, "bearing.y.crest_factor", 0.01, "ratio"), (19, "bearing.z.crest_factor", 0.01, "ratio"),
                     (25, "motor.temperature", 0.01, "degC"), (38, "shaft.rpm", 0.1, "rpm"), (42, "interlock.state", 1, "state"), (8, "bearing.x.bands", 0.0001, "g")]
        let channels = names.map { ChannelInfo(id: $0.0, name: $0.1, quantity: 1, unit: $0.3, resolution: $0.2, updateIntervalMilliseconds: 1000, isSpectrum: $0.1.hasSuffix("bands")) }
        return Frame(header: FrameHeader(type: .birth, session: 1, sequence: 0, wallClockMilliseconds: 1_795_384_493_308, monotonicMilliseconds: 0, clockSync: .synchronized),
                     body: .birth(BirthBody(firmware: "vigil 0.1.0", asset: "plant/hall-1/line-1/fan-7/sim-node-1", profileName: "simulator",
                                            profileHash: Array(repeating: 0xAB, count: 32), channels: channels)))
    }

    /// Sparkplug B bytes per snapshot beside vigil's frames and JSON, its render rate against
    /// vigil's own encoder, and messages delivered through the same mosquitto.
    static func sparkplug(_ data: Frame, _ spectrum: Frame, vigilBytes: Int, jsonBytes: Int, port: Int?) {
        let identity = SparkplugIdentity(groupID: "plant", edgeNodeID: "sim-node-1", devices: ["bearing", "motor", "shaft"], rules: ["bearing-x-velocity-trip"])
        let node = SparkplugEdgeNode(identity: identity)
        let births = node.births(birth(), bdSeq: 0)
        // The first snapshot after a birth carries every metric's quality properties (it changed
        // from "no value"); later ones only those of metrics whose quality is not good.
        let first = node.render(data) + node.render(spectrum)
        let snapshot = node.render(data) + node.render(spectrum)
        let birthBytes = births.reduce(0) { $0 + $1.payload.count }, snapshotBytes = snapshot.reduce(0) { $0 + $1.payload.count }
        let firstBytes = first.reduce(0) { $0 + $1.payload.count }
        var sink = 0
        var best = Double.infinity, vigilBest = Double.infinity
        for _ in 0..<5 {
            let n = 20_000
            var t0 = LoopBenchmark.monotonicNanoseconds()
            for _ in 0..<n { for m in node.render(data) + node.render(spectrum) { sink &+= m.payload.count } }
            best = min(best, Double(LoopBenchmark.monotonicNanoseconds() - t0) / Double(n))
            t0 = LoopBenchmark.monotonicNanoseconds()
            for _ in 0..<n { sink &+= (try! data.encoded()).count + (try! spectrum.encoded()).count }
            vigilBest = min(vigilBest, Double(LoopBenchmark.monotonicNanoseconds() - t0) / Double(n))
        }
        var line = "BENCH frames sparkplug_birth_bytes=\(birthBytes) sparkplug_birth_messages=\(births.count) sparkplug_first_snapshot_bytes=\(firstBytes) sparkplug_snapshot_bytes=\(snapshotBytes)"
            + " sparkplug_snapshot_messages=\(snapshot.count) vigil_snapshot_bytes=\(vigilBytes) snapshot_json_bytes=\(jsonBytes)"
            + " sparkplug_size_ratio_vigil=\(LoopBenchmark.format(Double(snapshotBytes) / Double(vigilBytes)))"
            + " sparkplug_size_ratio_json=\(LoopBenchmark.format(Double(snapshotBytes) / Double(jsonBytes)))"
            + " sparkplug_render_per_s=\(Int(1e9 / best)) render_ratio_vigil_encode=\(LoopBenchmark.format(vigilBest / best))"
        if let port {
            for qos in [0, 1] {
                let settings = SparkplugSettings(connection: MQTTConnection(broker: "tcp://127.0.0.1:\(port)", clientID: "vigil-bench-sp\(qos)"), identity: identity,
                                                 primaryHostID: nil, dataQoS: qos, bdSeqFile: "/tmp/vigil-bench-bdseq-\(getpid())")
                let uplink = SparkplugUplink(settings)
                defer { unlink(settings.bdSeqFile) }
                do { try uplink.connect(birth: birth(), death: birth()) } catch { line += " sparkplug_mqtt=\(error)"; continue }
                let rate = Int(sendRate(uplink, data))
                line += qos == 1 ? " sparkplug_qos1_delivered_snapshots_per_s=\(rate)" : " sparkplug_qos0_written_snapshots_per_s=\(rate)"
            }
        }
        print(line + (sink == 42 ? " " : ""))
    }

    /// Frames per second a connected uplink takes: 5000 copies of `frame` in batches of 32, then
    /// it disconnects.
    static func sendRate(_ uplink: any Uplink, _ frame: Frame) -> Double {
        let total = 5000
        let batch = [Frame](repeating: frame, count: 32)
        let t0 = LoopBenchmark.monotonicNanoseconds()
        var sent = 0
        while sent < total { sent += (try? uplink.send(batch)) ?? 0 }
        let seconds = Double(LoopBenchmark.monotonicNanoseconds() - t0) / 1e9
        uplink.disconnect(death: nil)
        return Double(sent) / seconds
    }

    /// Runs `body` with a mosquitto on a loopback port (nil when it cannot start).
    static func withBroker(_ body: (Int?) -> Void) {
        let port = 20_000 + Int.random(in: 0..<20_000)
        let dir = "/tmp/vigil-bench-mqtt-\(getpid())"
        mkdir(dir, 0o755)
        let conf = "\(dir)/m.conf"
        guard let f = fopen(conf, "w") else { return body(nil) }
        fputs("listener \(port) 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n", f)
        fclose(f)
        chmod(conf, 0o644)
        let broker = popen("exec mosquitto -c \(conf) 2>/dev/null", "r")
        defer {
            system("pkill -f 'mosquitto -c \(conf)' >/dev/null 2>&1")
            if let broker { pclose(broker) }
            system("rm -rf \(dir)")
        }
        LoopBenchmark.sleepSeconds(0.5)
        body(port)
    }

    /// QoS 1 frames per second through mosquitto on 127.0.0.1, MQTT 5 and 3.1.1, batches of 32.
    static func mqttDelivered(port: Int?) -> (v5: Double, v311: Double)? {
        guard let port else { return nil }
        func rate(version: Int32) -> Double? {
            let uplink = MQTTUplink(MQTTSettings(connection: MQTTConnection(broker: "tcp://127.0.0.1:\(port)", clientID: "vigil-bench-\(version)", version: version),
                                                 topicBase: "vigil/bench/node", dataQoS: 1))
            let frame = snapshot().data
            do { try uplink.connect(birth: frame, death: frame) } catch { print("# frames: \(error)"); return nil }
            return sendRate(uplink, frame)
        }
        guard let v5 = rate(version: 5), let v311 = rate(version: 4) else { return nil }
        return (v5, v311)
    }
}
