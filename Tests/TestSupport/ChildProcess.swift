#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CTestSupport

/// A child process started with `posix_spawn`, for end-to-end tests that run the built `vigil`
/// binary and real peers (mosquitto, pymodbus, socat). Standard output and error are captured
/// through pipes drained on a background thread so a chatty child never blocks.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let arguments: [String]
    private var stdinFD: Int32
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var outBuffer: [UInt8] = []
    private var errBuffer: [UInt8] = []
    private var readerThreads: [pthread_t] = []
    private var exitStatus: Int32?

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// Standard output as bytes (binary output such as frames).
        public var stdoutBytes: [UInt8] = []
        public var output: String { stdout + stderr }
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Starts `executable` with `arguments`. `environment` entries are added to the test's own.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws {
        self.arguments = [executable] + arguments
        pthread_mutex_init(lock, nil)
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard ts_pipe_cloexec(&inPipe) == 0, ts_pipe_cloexec(&outPipe) == 0, ts_pipe_cloexec(&errPipe) == 0 else {
            throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        if let directory { ts_spawn_file_actions_addchdir(&actions, directory) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Own process group, so that a test can signal the child and its children together.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        var env: [String: String] = [:]
        var e = environ
        while let entry = e.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            e += 1
        }
        for (k, v) in environment { env[k] = v }
        let argv: [UnsafeMutablePointer<CChar>?] = self.arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, executable, &actions, &attributes, argv, envp)
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard rc == 0 else {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        pid = child
        stdinFD = inPipe[1]
        startReader(fd: outPipe[0], isError: false)
        startReader(fd: errPipe[0], isError: true)
    }

    deinit {
        if exitStatus == nil {
            kill(-pid, SIGKILL)
            _ = waitForExit(timeoutSeconds: 5)
        }
        joinReaders()
        if stdinFD >= 0 { close(stdinFD) }
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    private final class ReaderContext {
        let process: ChildProcess
        let fd: Int32
        let isError: Bool
        init(process: ChildProcess, fd: Int32, isError: Bool) { self.process = process; self.fd = fd; self.isError = isError }
    }

    private func startReader(fd: Int32, isError: Bool) {
        let context = Unmanaged.passRetained(ReaderContext(process: self, fd: fd, isError: isError)).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { raw in
            let ctx = Unmanaged<ReaderContext>.fromOpaque(raw!).takeRetainedValue()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(ctx.fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                ctx.process.append(buffer[0..<n], isError: ctx.isError)
            }
            close(ctx.fd)
            return nil
        }, context)
        readerThreads.append(thread)
    }

    private func append(_ bytes: ArraySlice<UInt8>, isError: Bool) {
        pthread_mutex_lock(lock)
        if isError { errBuffer.append(contentsOf: bytes) } else { outBuffer.append(contentsOf: bytes) }
        pthread_mutex_unlock(lock)
    }

    private func joinReaders() {
        for t in readerThreads { pthread_join(t, nil) }
        readerThreads.removeAll()
    }

    /// What the child has written to standard output so far.
    public var stdoutSoFar: String {
        pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }
        return String(decoding: outBuffer, as: UTF8.self)
    }

    /// What the child has written to standard error so far.
    public var stderrSoFar: String {
        pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }
        return String(decoding: errBuffer, as: UTF8.self)
    }

    /// Writes to the child's standard input.
    public func write(_ text: String) {
        guard stdinFD >= 0 else { return }
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(stdinFD, $0.baseAddress, $0.count) }
    }

    public func write(bytes: [UInt8]) {
        guard stdinFD >= 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(stdinFD, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }

    /// Closes the child's standard input (end of file for it).
    public func closeInput() {
        if stdinFD >= 0 { close(stdinFD); stdinFD = -1 }
    }

    /// Sends `signal` to the child (and its process group).
    public func signal(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// Whether the child is still running.
    public var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { exitStatus = Self.decode(status); return false }
        return true
    }

    /// Waits for the child to exit; nil on timeout. Exit codes are returned as is, deaths by signal as
    /// 128 + signal number (as shells do).
    @discardableResult
    public func waitForExit(timeoutSeconds: Double) -> Int32? {
        if let exitStatus { return exitStatus }
        let deadline = monotonicSeconds() + timeoutSeconds
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                exitStatus = Self.decode(status)
                return exitStatus
            }
            if monotonicSeconds() > deadline { return nil }
            usleep(5_000)
        }
    }

    /// Waits for exit (killing the child after `timeoutSeconds`) and returns everything it printed.
    public func finish(timeoutSeconds: Double = 60) -> Result {
        closeInput()
        var status = waitForExit(timeoutSeconds: timeoutSeconds)
        if status == nil {
            kill(-pid, SIGKILL)
            status = waitForExit(timeoutSeconds: 5)
        }
        joinReaders()
        pthread_mutex_lock(lock)
        let bytes = outBuffer
        pthread_mutex_unlock(lock)
        return Result(status: status ?? -1, stdout: String(decoding: bytes, as: UTF8.self), stderr: stderrSoFar, stdoutBytes: bytes)
    }

    /// Polls `condition` on the child's output until it holds or `timeoutSeconds` pass.
    public func waitForOutput(timeoutSeconds: Double, _ condition: (String) -> Bool) -> Bool {
        let deadline = monotonicSeconds() + timeoutSeconds
        while monotonicSeconds() < deadline {
            if condition(stdoutSoFar + stderrSoFar) { return true }
            if !isRunning { return condition(stdoutSoFar + stderrSoFar) }
            usleep(20_000)
        }
        return condition(stdoutSoFar + stderrSoFar)
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        if signal == 0 { return (status >> 8) & 0xFF }
        return 128 + signal
    }

    /// Runs a command to completion.
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:],
                           directory: String? = nil, timeoutSeconds: Double = 60) throws -> Result {
        let p = try ChildProcess(executable, arguments, environment: environment, directory: directory)
        if let input { p.write(input) }
        return p.finish(timeoutSeconds: timeoutSeconds)
    }
}

public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
