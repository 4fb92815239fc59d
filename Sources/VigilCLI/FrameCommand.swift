#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VigilCommandLine
import VigilFrames
import VigilUplink
import VigilLoop
import VigilBase

struct FrameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "frame", abstract: "vigil's binary frames (docs/frame-format.md).",
                                                    subcommands: [FrameDecode.self, FrameSample.self])
}

struct FrameDecode: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode",
        abstract: "Decode frames from a file, stdin or an MQTT subscription; print one JSON object per line.",
        discussion: """
        Each frame is validated; an invalid one prints {"invalid": REASON, "offset": N, "detail": ...} and decoding resumes at the next byte \
        that starts a valid frame. Duplicates (same session and sequence) are marked and gaps in a session's sequence are reported. \
        Exit status 1 if any frame was invalid.
        """)

    @Argument(help: "A file of concatenated frames, or - for stdin (default).") var file: String = "-"
    @Option(help: "Subscribe to this broker instead (tcp://127.0.0.1:1883).") var mqtt: String?
    @Option(help: "Topic filter for --mqtt.") var topic: String = "vigil/#"
    @Option(help: "Stop after this many frames (0 = no limit).") var count: Int = 0
    @Option(help: "Stop after this many seconds (--mqtt; 0 = no limit).") var seconds: Double = 0
    @Option(name: .customLong("ca-file"), help: "CA certificate for ssl:// brokers.") var caFile: String?
    @Option(name: .customLong("cert-file"), help: "Client certificate.") var certFile: String?
    @Option(name: .customLong("key-file"), help: "Client key.") var keyFile: String?
    @Option(help: "The input is a serial-uplink capture with this framing.") var framing: LineFraming?
    @Flag(help: "Print a summary line (frames, duplicates, gaps, missing) on stderr at the end.") var summary = false

    func run() throws {
        var tracker = FrameSessionTracker()
        var frames = 0
        var invalid = 0
        func emit(_ result: DecodeResult, topic: String?) -> Bool {
            switch result {
            case .frame(let f, _):
                let verdict = tracker.observe(f)
                var extra: [(String, String)] = []
                if let topic { extra.append(("topic", FrameJSON.quoted(topic))) }
                if verdict.duplicate { extra.append(("duplicate", "true")) }
                if verdict.gapBefore > 0 { extra.append(("gap_before", String(verdict.gapBefore))) }
                Console.out(FrameJSON.line(f, channels: tracker.channels(session: f.header.session), extra: extra))
                frames += 1
            case .invalid(let e):
                invalid += 1
                Console.out("{\"invalid\":\(FrameJSON.quoted(e.reason.rawValue)),\"offset\":\(e.offset),\"detail\":\(FrameJSON.quoted(e.detail))\(topic.map { ",\"topic\":\(FrameJSON.quoted($0))" } ?? "")}")
            case .needMoreData(let n):
                Console.out("{\"invalid\":\"truncated\",\"detail\":\(FrameJSON.quoted("the input ends inside a frame (\(n) bytes needed)"))}")
                invalid += 1
            }
            return count == 0 || frames < count
        }
        if let mqtt {
            let sub: MQTTSubscriber
            do {
                sub = try MQTTSubscriber(connection: MQTTConnection(broker: mqtt, clientID: "vigil-decode-\(getpid())", version: 4, caFile: caFile,
                                                                    certificateFile: certFile, keyFile: keyFile), topic: topic)
            } catch {
                throw CLIError(.failure, error.message)
            }
            let start = SystemClock.monotonic().nanoseconds
            while seconds == 0 || Double(SystemClock.monotonic().nanoseconds - start) / 1e9 < seconds {
                guard let m = sub.next(timeoutMilliseconds: 200) else { continue }
                if !emit(FrameDecoder.decode(m.payload), topic: m.topic) { break }
            }
        } else if let framing {
            var deframer = LineDeframer(framing: framing)
            for packet in deframer.feed(try readAll(file)) {
                if !emit(FrameDecoder.decode(packet), topic: nil) { break }
            }
            if deframer.damaged > 0 {
                invalid += deframer.damaged
                Console.out("{\"invalid\":\"bad_\(framing.rawValue)\",\"detail\":\"\(deframer.damaged) packet(s) did not decode\"}")
            }
        } else {
            var data = try readAll(file)
            var offset = 0
            while offset < data.count {
                let result = FrameDecoder.decode(data[offset...])
                switch result {
                case .frame(_, let length):
                    if !emit(result, topic: nil) { offset = data.count; break }
                    offset += length
                case .needMoreData:
                    _ = emit(result, topic: nil)
                    offset = data.count
                case .invalid(let e):
                    _ = emit(.invalid(FrameError(e.reason, at: offset + e.offset, e.detail)), topic: nil)
                    // Resynchronise on the next magic byte.
                    offset += 1
                    while offset < data.count && data[offset] != FrameFormat.magic { offset += 1 }
                }
            }
            data.removeAll()
        }
        if summary {
            Console.err("frames \(frames), invalid \(invalid), duplicates \(tracker.duplicates), gaps \(tracker.gaps)")
        }
        if invalid > 0 { throw CLIError(.failure, "", alreadyReported: true) }
    }

    func readAll(_ path: String) throws -> [UInt8] {
        let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError(errno == EACCES ? .permissionDenied : .badInput, "\(path): \(String(cString: strerror(errno)))") }
        defer { if fd > 0 { close(fd) } }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }
}
