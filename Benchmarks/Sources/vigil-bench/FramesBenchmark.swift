import Glibc
import VigilBase
import VigilFrames
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
        let frameBest = frameNs.min()!, jsonBest = jsonNs.min()!
        let delivered = mqttDelivered()
        print("BENCH frames snapshot_bytes=\(data.count + spectrum.count) data_bytes=\(data.count) spectrum_bytes=\(spectrum.count) snapshot_json_bytes=\(jsonBytes)"
              + " size_ratio_json=\(LoopBenchmark.format(Double(data.count + spectrum.count) / Double(jsonBytes)))"
              + " encode_per_s=\(Int(1e9 / frameBest)) json_encode_per_s=\(Int(1e9 / jsonBest)) encode_ratio_json=\(LoopBenchmark.format(jsonBest / frameBest))"
              + " decode_per_s=\(Int(1e9 / decodeNs))"
              + (delivered.map { " mqtt_delivered_per_s=\(Int($0.v5)) mqtt311_delivered_per_s=\(Int($0.v311)) qos=1" } ?? " mqtt=unavailable")
              + (sink == 42 ? " " : ""))
        t0 = 0
    }

    /// QoS 1 frames per second through mosquitto on 127.0.0.1, MQTT 5 and 3.1.1, batches of 32.
    static func mqttDelivered() -> (v5: Double, v311: Double)? {
        let port = 20_000 + Int.random(in: 0..<20_000)
        let dir = "/tmp/vigil-bench-mqtt-\(getpid())"
        mkdir(dir, 0o755)
        let conf = "\(dir)/m.conf"
        guard let f = fopen(conf, "w") else { return nil }
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
        func rate(version: Int32) -> Double? {
            let uplink = MQTTUplink(MQTTSettings(connection: MQTTConnection(broker: "tcp://127.0.0.1:\(port)", clientID: "vigil-bench-\(version)", version: version),
                                                 topicBase: "vigil/bench/node", dataQoS: 1))
            let frame = snapshot().data
            do { try uplink.connect(birth: frame, death: frame) } catch { print("# frames: \(error)"); return nil }
            let total = 5000
            let batch = [Frame](repeating: frame, count: 32)
            let t0 = LoopBenchmark.monotonicNanoseconds()
            var sent = 0
            while sent < total { sent += (try? uplink.send(batch)) ?? 0 }
            let seconds = Double(LoopBenchmark.monotonicNanoseconds() - t0) / 1e9
            uplink.disconnect(death: nil)
            return Double(sent) / seconds
        }
        guard let v5 = rate(version: 5), let v311 = rate(version: 4) else { return nil }
        return (v5, v311)
    }
}
