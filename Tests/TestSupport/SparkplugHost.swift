#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `Tests/Peers/sparkplug_host.py`: a Sparkplug B host from PyPI (pysparkplug on paho-mqtt) that
/// prints every message under `spBv1.0/#` as it decoded it, and publishes STATE and commands.
public final class SparkplugHost {
    public let process: ChildProcess

    public init(port: Int) throws {
        let python = TestPaths.repositoryRoot + "/.cache/venv/bin/python3"
        process = try ChildProcess(python, [TestPaths.repositoryRoot + "/Tests/Peers/sparkplug_host.py", String(port)])
        guard process.waitForOutput(timeoutSeconds: 20, { $0.contains("\"ready\": true") }) else {
            throw ChildProcess.SpawnError(description: "the Sparkplug host did not start: \(process.stdoutSoFar) \(process.stderrSoFar)")
        }
    }

    deinit {
        process.signal(SIGKILL)
        _ = process.finish(timeoutSeconds: 5)
    }

    /// Every message decoded so far, in arrival order (command acknowledgements left out).
    public var messages: [[String: Any]] {
        process.stdoutSoFar.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["type"] != nil else { return nil }
            return o
        }
    }

    public func messages(_ type: String) -> [[String: Any]] { messages.filter { $0["type"] as? String == type } }

    /// Sends a command line (see the script) and waits until it was published.
    @discardableResult
    public func command(_ line: String) -> Bool {
        process.write(line + "\n")
        return process.waitForOutput(timeoutSeconds: 10) { $0.contains("{\"ack\": \"\(line)\"}") }
    }

    public func waitFor(seconds: Double, _ condition: ([[String: Any]]) -> Bool) -> Bool {
        let deadline = monotonicSeconds() + seconds
        while monotonicSeconds() < deadline {
            if condition(messages) { return true }
            usleep(50_000)
        }
        return condition(messages)
    }
}

extension Dictionary where Key == String, Value == Any {
    /// The metrics of a decoded message.
    public var metrics: [[String: Any]] { self["metrics"] as? [[String: Any]] ?? [] }
    public func int(_ key: String) -> Int? { (self[key] as? NSNumber)?.intValue }
    public func string(_ key: String) -> String? { self[key] as? String }
}
