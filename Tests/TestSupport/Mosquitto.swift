#if canImport(Glibc)
import Glibc
#endif

/// A real mosquitto broker for a test, on a free loopback port, with a config the test writes.
/// Persistence is on (in the test's folder) so a broker stopped with SIGTERM and started again
/// keeps its persistent sessions and queued QoS 1 messages, as a production broker would.
public final class Mosquitto {
    public let port: Int
    public let directory: String
    public let configPath: String
    public private(set) var process: ChildProcess?

    /// `extra` lines are appended to the listener's config (TLS settings, for example).
    public init(directory: String, extra: [String] = []) throws {
        self.directory = directory
        port = Mosquitto.freePort()
        configPath = "\(directory)/mosquitto.conf"
        // Started as root, mosquitto drops to user `mosquitto`: it must be able to read the config and
        // certificates and to write its persistence file.
        chmod(directory, 0o755)
        let data = "\(directory)/mosquitto-data"
        mkdir(data, 0o777)
        chmod(data, 0o777)
        let lines = ["listener \(port) 127.0.0.1"] + extra + [
            "allow_anonymous true",
            // Small PUBACKs are not held back by Nagle (mosquitto leaves it on by default).
            "set_tcp_nodelay true",
            "persistence true",
            "persistence_location \(directory)/mosquitto-data/",
            "autosave_interval 1",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        TestPaths.writeFile(configPath, lines.joined(separator: "\n") + "\n")
        chmod(configPath, 0o644)
        try start()
    }

    deinit { stop(kill: true) }

    public var uri: String { "tcp://127.0.0.1:\(port)" }

    /// Starts the broker and waits until its port accepts connections.
    public func start() throws {
        guard let exe = TestPaths.which("mosquitto") else { throw ChildProcess.SpawnError(description: "mosquitto is not installed (Scripts/setup installs it)") }
        let p = try ChildProcess(exe, ["-c", configPath])
        process = p
        let deadline = monotonicSeconds() + 10
        while monotonicSeconds() < deadline {
            if Mosquitto.accepts(port) { return }
            if !p.isRunning { throw ChildProcess.SpawnError(description: "mosquitto exited: \(p.finish().output)") }
            usleep(20_000)
        }
        throw ChildProcess.SpawnError(description: "mosquitto did not listen on \(port) within 10 s")
    }

    /// Stops the broker: SIGTERM (it saves its persistence file) or SIGKILL.
    public func stop(kill: Bool = false) {
        guard let p = process else { return }
        p.signal(kill ? SIGKILL : SIGTERM)
        _ = p.finish(timeoutSeconds: 10)
        process = nil
    }

    public static func accepts(_ port: Int) -> Bool {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    /// A loopback port nothing listens on (bound once and released).
    public static func freePort() -> Int {
        for _ in 0..<100 {
            let candidate = 20_000 + Int.random(in: 0..<20_000)
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(candidate).bigEndian)
            addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
            close(s)
            if ok { return candidate }
        }
        return 18_883
    }
}

/// `mosquitto_sub` with a persistent session (QoS 1, clean session off), printing each message as
/// `TOPIC HEX`; it reconnects by itself when the broker comes back.
public final class MQTTRecorder {
    public let process: ChildProcess

    public init(port: Int, topic: String, clientID: String = "vigil-test-recorder-\(getpid())", extra: [String] = []) throws {
        guard let exe = TestPaths.which("mosquitto_sub") else { throw ChildProcess.SpawnError(description: "mosquitto_sub is not installed") }
        process = try ChildProcess(exe, ["-h", "127.0.0.1", "-p", String(port), "-t", topic, "-q", "1", "-c", "-i", clientID, "-F", "%t %x"] + extra)
        usleep(300_000)
    }

    /// Every message so far: topic and payload bytes.
    public var messages: [(topic: String, payload: [UInt8])] {
        process.stdoutSoFar.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            var bytes: [UInt8] = []
            var it = parts[1].utf8.makeIterator()
            while let a = it.next(), let b = it.next() {
                guard let v = UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v)
            }
            return (String(parts[0]), bytes)
        }
    }

    public func stop() -> ChildProcess.Result {
        process.signal(SIGTERM)
        return process.finish(timeoutSeconds: 5)
    }
}
