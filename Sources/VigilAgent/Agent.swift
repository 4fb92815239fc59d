#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import VigilBase
import VigilBoard
import VigilBoardLinux
import VigilBoardSimulated
import VigilFrames
import VigilHAL
import VigilInterlock
import VigilLoop
import VigilRuntime
import VigilSimulation
import VigilUplink
import VigilSparkplug

/// How `vigil run` was asked to run.
public struct AgentOptions: Sendable {
    public var profilePath: String
    /// Stop by itself after this long (demo and tests); nil = until SIGTERM/SIGINT.
    public var runSeconds: Double?
    /// Overrides for tests and the demo (the profile's values otherwise).
    public var broker: String?
    public var spoolDirectory: String?
    public var controlSocket: String?
    public var verbose = false

    public init(profilePath: String, runSeconds: Double? = nil, broker: String? = nil, spoolDirectory: String? = nil, controlSocket: String? = nil) {
        self.profilePath = profilePath
        self.runSeconds = runSeconds
        self.broker = broker
        self.spoolDirectory = spoolDirectory
        self.controlSocket = controlSocket
    }
}

/// A failure that ends `vigil run`, with its exit status (2 bad input, 4 permission, 1 other).
public struct AgentError: Error, Sendable, CustomStringConvertible {
    public var status: Int32
    public var message: String
    public var description: String { message }
}

/// Something to do with the board a profile describes, whichever implementation that is
/// (`vigil run`, `vigil selftest`): ``Boards/open(_:_:)`` chooses and calls it.
public protocol BoardVisitor {
    associatedtype Result
    func visit<Board: NodeBoard>(_ board: Board) throws(AgentError) -> Result
}

/// The composition root: the one place that turns a profile's `backend` into a board.
public enum Boards {
    public static func open<V: BoardVisitor>(_ loaded: LoadedProfile, _ visitor: V) throws(AgentError) -> V.Result {
        switch loaded.profile.board.backend {
        case .simulated: return try visitor.visit(SimulatedBoard(loaded, clock: .system()))
        case .linux: return try visitor.visit(LinuxBoard(loaded))
        }
    }
}

/// `vigil run`: the agent. Builds the node from the profile, runs the real-time loop, the Modbus
/// pollers, the uplink and the control socket on their own threads, and stops cleanly on SIGTERM
/// or SIGINT: outputs to the safe state, watchdog magic-closed, spool flushed.
public enum Agent {
    public static func run(_ options: AgentOptions) throws(AgentError) {
        Log.verbose = options.verbose
        var loaded: LoadedProfile
        do { loaded = try BoardProfileLoader.load(path: options.profilePath) } catch {
            throw AgentError(status: 2, message: error.diagnostics.map(\.description).joined(separator: "\n"))
        }
        if let b = options.broker { loaded.profile.uplink.mqtt?.broker = b; loaded.profile.uplink.sparkplug?.mqtt.broker = b }
        if let s = options.spoolDirectory { loaded.profile.spool.directory = s }
        if let c = options.controlSocket { loaded.profile.control.socket = c }
        let profile = loaded.profile

        // Signals are taken synchronously by the main thread: block them before any thread starts.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)

        // A profile for another board is refused before any line is touched (models = [] opts out, for test benches).
        if profile.board.backend == .linux && !profile.board.models.isEmpty {
            let model = BoardDetector.readModel()
            if let this = BoardDetector.misfit(profile.board, model: model, compatible: BoardDetector.readCompatible()) {
                let detected = model.flatMap { _ in BoardDetector.detect(modelFile: "/proc/device-tree/model", boardsDirectory: "Boards").matches.first }
                throw AgentError(status: 2, message: "\(options.profilePath) is for board \(profile.board.name) (\(profile.board.models.joined(separator: ", "))), but "
                                 + this + (detected.map { "; its profile is \($0.file)" } ?? "; `vigil board detect` names the matching profile"))
            }
        }

        let session = UInt32.random(in: 1...UInt32.max)
        let start = SystemClock.timestamp()
        Log.info("vigil \(AgentVersion.string): board \(profile.board.name), node \(profile.asset.node), profile \(options.profilePath) (sha256 \(loaded.sha256.hexString.prefix(12))), session \(session)")
        for w in loaded.warnings { Log.warning("\(w)") }
        if let s = profile.simulation { Log.info("simulation seed \(s.seed)") }
        try Boards.open(loaded, NodeRun(options: options, session: session, start: start))
    }

    /// Opens the profile's hardware watchdog, if it has one.
    static func openWatchdog(_ spec: WatchdogSpec) throws(AgentError) -> HardwareWatchdog? {
        guard let device = spec.device else { return nil }
        do { return try HardwareWatchdog(path: device, timeoutSeconds: spec.timeoutSeconds) } catch {
            throw AgentError(status: error.kind == .permission ? 4 : 1,
                             message: "watchdog \(device): \(error)\(error.kind == .permission ? " (join group vigil from udev/60-vigil.rules)" : "")")
        }
    }
}

/// `vigil run` on a board: the node assembled, its threads started, the main thread waiting for
/// a signal.
struct NodeRun: BoardVisitor {
    let options: AgentOptions
    let session: UInt32
    let start: Timestamp

    // Start-up and the control socket run once or per request: one generic copy of them serves
    // both boards (specialising them per board cost about 100 kB). The 1 kHz body is specialised
    // in NodeLoopBody.
    @_semantics("optimize.sil.specialize.generic.never")
    func visit<Board: NodeBoard>(_ board: Board) throws(AgentError) {
        let loaded = board.loaded
        let profile = loaded.profile
        let node: Node<Board>
        do { node = try NodeAssembly.assemble(on: board) } catch {
            let permission = error.halError?.kind == .permission
            throw AgentError(status: permission ? 4 : 1, message: "\(error)\(permission ? " (join group vigil from udev/60-vigil.rules, or run the systemd unit)" : "")")
        }
        let cycle = node.cycle
        let supervisor = node.supervisor
        for failure in cycle.startSensors() {
            // Not fatal: the sensor's channels read as faults, the rules on them act by their
            // on_fault policy, the loop retries it with back-off, and the other sensors run.
            Log.error("\(failure); its channels read as faults (its rules act by their on_fault policy) and it is retried with back-off")
        }
        // The hardware watchdog is opened only now: a start-up that fails before this point
        // exits without arming it (an armed watchdog closed without the magic character reboots
        // the board, and a broken profile would then reboot it again and again).
        let watchdog: HardwareWatchdog?
        do { watchdog = try Agent.openWatchdog(profile.watchdog) } catch {
            cycle.driveSafeState()
            throw error
        }
        if let watchdog { cycle.attach(watchdog: watchdog) }

        // One path for frames either way: the spool, or a bounded memory store when it cannot open
        // (a root-owned segment from a `sudo vigil run`, a read-only directory): frames still
        // flow, an outage is bridged up to the bound, and status and the log say what is at risk.
        let store: any FrameStore
        var storeFallback: String?
        do {
            let spool = try Spool(directory: profile.spool.directory, maxBytes: profile.spool.maxBytes, segmentBytes: profile.spool.segmentBytes,
                              fsyncIntervalMilliseconds: profile.spool.fsyncIntervalMilliseconds)
            store = spool
            let s = spool.statistics
            if s.pendingRecords > 0 { Log.info("spool \(profile.spool.directory): \(s.pendingRecords) frames from before wait for delivery") }
            if s.tornRecords > 0 { Log.warning("spool \(profile.spool.directory): \(s.tornRecords) torn record(s) from a power loss skipped") }
            if s.corruptRecords > 0 { Log.warning("spool \(profile.spool.directory): \(s.corruptRecords) damaged record(s) skipped (failed their CRC)") }
            if !s.strayFiles.isEmpty { Log.warning("spool \(profile.spool.directory): not the spool's, left alone: \(s.strayFiles.joined(separator: ", "))") }
            if let problem = s.cursorProblem { Log.warning("spool: \(problem)") }
        } catch {
            let limit = min(profile.spool.maxBytes, MemoryFrameStore.fallbackBytes)
            storeFallback = "\(error)"
            store = MemoryFrameStore(maxBytes: limit)
            Log.error("\(error); frames are kept in memory instead (at most \(limit) bytes): an outage longer than that, a stop or a crash loses them")
        }
        let uplink: (any Uplink)?
        do { uplink = try UplinkFactory.make(profile, board: board) } catch {
            cycle.driveSafeState()
            watchdog?.closeCleanly()
            throw AgentError(status: 2, message: error.message)
        }

        let producer = FrameProducer(loaded: loaded, session: session, sessionStart: start.monotonic)
        let uplinkWorker = UplinkWorker(loaded: loaded, producer: producer, uplink: uplink, store: store, storeFallback: storeFallback, updates: cycle.updates,
                                        events: cycle.events, spectra: cycle.spectra)
        let rt = profile.realtime
        let loop = PeriodicLoop(configuration: LoopConfiguration(
            periodNanoseconds: Int64(rt.periodMicroseconds) * 1000, priority: rt.priority, cpu: rt.cpu, lockMemory: rt.lockMemory,
            warmUpCycles: 10, overrunBurst: rt.overrunBurst, overrunWindowNanoseconds: Int64(rt.overrunWindowMilliseconds) * 1_000_000),
            body: NodeLoopBody(cycle))
        let controller = AgentController(board: board, cycle: cycle, supervisor: supervisor, statistics: loop.statistics, grant: { loop.grant },
                                         uplink: uplinkWorker, start: start)
        let server: ControlServer
        do { server = try ControlServer(path: profile.control.socket) { controller.handle($0, from: $1) } } catch {
            cycle.driveSafeState()
            watchdog?.closeCleanly()
            throw AgentError(status: error.kind == .permission ? 4 : 1, message: error.message)
        }
        let workers = node.modbusWorkers
        do {
            try loop.start()
            try supervisor.start()
            for w in workers { w.start() }
            node.hwmonWorker.start()
            try uplinkWorker.start()
            try server.start()
        } catch {
            cycle.driveSafeState()
            _ = loop.stop(waitingAtMostNanoseconds: 2_000_000_000)
            supervisor.stop()
            watchdog?.closeCleanly()
            throw AgentError(status: 1, message: "\(error)")
        }
        // Say once what the real-time set-up got.
        var waited = 0
        while loop.grant == nil && waited < 200 { usleep(10_000); waited += 1 }
        Log.info("supervisor: outputs drop if the loop completes no cycle for \(rt.maxStallMilliseconds) ms\(supervisor.grantedPriority.map { " (SCHED_FIFO \($0))" } ?? "")")
        if let g = loop.grant {
            if g.refusals.isEmpty {
                Log.info("loop: \(rt.periodMicroseconds) µs period, SCHED_FIFO \(g.fifoPriority ?? 0)\(g.memoryLocked ? ", memory locked" : "")")
            } else {
                Log.warning("loop: running without \(g.refusals.joined(separator: "; ")) (the systemd unit sets LimitRTPRIO=99 and LimitMEMLOCK=infinity, which is all it takes)")
            }
        }
        Log.info("control socket \(profile.control.socket); uplink \(uplink?.description ?? "none"); the permissive comes on after a local reset (\(ResetWording.how(profile.reset)))")
        let systemd = SystemdNotifier()
        _ = systemd.notify("READY=1\nSTATUS=watching \(profile.asset.machine)")

        // The main thread: signals, the systemd watchdog (only while the loop advances), the run limit.
        var lastCycles: Int64 = -1
        var startupPagesReleased = false
        let deadline = options.runSeconds.map { start.monotonic.nanoseconds + Int64($0 * 1e9) }
        var timeout = timespec(tv_sec: 0, tv_nsec: 200_000_000)
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, s) }
        var reason = "run time elapsed"
        while true {
            let sig = sigtimedwait(&signals, nil, &timeout)
            if sig == SIGHUP {
                Log.notice("SIGHUP ignored: vigil never reloads a profile silently; restart the agent to apply a change")
            } else if sig > 0 {
                reason = sig == SIGTERM ? "SIGTERM" : "SIGINT"
                break
            }
            // Once start-up has settled (first analysis blocks, first connection and birth, spool
            // opened), hand back the clean file pages it mapped (see StartupPages).
            if !startupPagesReleased && SystemClock.monotonic().nanoseconds - start.monotonic.nanoseconds >= StartupPages.settleNanoseconds {
                startupPagesReleased = true
                if let released = StartupPages.release(), released.releasedKilobytes > 0 {
                    Log.info("memory: released \(released.releasedKilobytes) kB of start-up file pages from \(released.mappings) mappings")
                }
            }
            let cycles = loop.statistics.read().cycles
            if systemd.isActive && cycles > lastCycles { _ = systemd.notify("WATCHDOG=1") }
            lastCycles = cycles
            if let d = deadline, SystemClock.monotonic().nanoseconds >= d { break }
        }
        // The safe state first, from this thread (the loop may be the thing that hangs), then the
        // threads.
        cycle.driveSafeState()
        Log.info("stopping (\(reason)): outputs in the safe state")
        _ = systemd.notify("STOPPING=1")
        let loopStopped = loop.stop(waitingAtMostNanoseconds: 2_000_000_000)
        supervisor.stop()
        cycle.driveSafeState()
        if loopStopped {
            watchdog?.closeCleanly()
        } else {
            // A hung loop: leave the watchdog armed (the board resets after its timeout unless a
            // new agent takes it over) and say so.
            Log.error("the loop did not finish its cycle within 2 s (hung in a driver call?); outputs are held safe, the hardware watchdog stays armed")
        }
        for w in workers { w.stop() }
        node.hwmonWorker.stop()
        // Events of the last cycles still go out.
        uplinkWorker.stop()
        server.stop()
        let stats = loop.statistics.read()
        Log.info("stopped\(loopStopped ? " cleanly" : "") after \(stats.cycles) cycles, \(stats.overruns) overruns; outputs off, spool flushed")
    }
}

/// Makes the profile's uplink. One line per transport.
public enum UplinkFactory {
    public static func make<Board: NodeBoard>(_ profile: BoardProfile, board: Board) throws(UplinkError) -> (any Uplink)? {
        let u = profile.uplink
        let a = profile.asset
        switch u.kind {
        case .none: return nil
        case .file: return FileUplink(path: u.file?.path ?? "-")
        case .udp:
            guard let udp = u.udp else { throw UplinkError("uplink kind udp needs [uplink.udp]") }
            return UDPUplink(host: udp.host, port: udp.port)
        case .serial:
            guard let serial = u.serial else { throw UplinkError("uplink kind serial needs [uplink.serial]") }
            return SerialUplink(device: serial.device, baud: serial.baud, framing: serial.framing) { () throws(HALError) in
                try board.serialPort(device: serial.device, baud: serial.baud)
            }
        case .mqtt:
            guard let m = u.mqtt else { throw UplinkError("uplink kind mqtt needs [uplink.mqtt]") }
            return MQTTUplink(MQTTSettings(connection: try mqttConnection(m, site: a.site, node: a.node), topicBase: "\(m.topicPrefix)/\(a.site)/\(a.node)", dataQoS: m.dataQoS))
        case .sparkplug:
            guard let sp = u.sparkplug else { throw UplinkError("uplink kind sparkplug needs [uplink.sparkplug]") }
            let identity = SparkplugIdentity(groupID: sp.groupID, edgeNodeID: sp.edgeNodeID, devices: profile.sensors.map(\.name), rules: profile.rules.map(\.name))
            let spool = profile.spool.directory
            let beside = spool.lastIndex(of: "/").map { String(spool[..<$0]) } ?? "."
            let uplink = SparkplugUplink(SparkplugSettings(connection: try mqttConnection(sp.mqtt, site: a.site, node: a.node), identity: identity,
                                                           primaryHostID: sp.primaryHostID, dataQoS: sp.mqtt.dataQoS,
                                                           bdSeqFile: sp.bdSeqFile ?? "\(beside.isEmpty ? "" : beside)/sparkplug-bdseq"))
            uplink.log = { Log.warning($0) }
            return uplink
        }
    }

    /// A secret (password, private key) that others may read is refused: anyone on the node with
    /// it can speak for the node to the broker. Group-readable is fine (the `vigil` group).
    static func privateFile(_ path: String, _ what: String) throws(UplinkError) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw UplinkError("MQTT \(what) file \(path): \(String(cString: strerror(errno)))") }
        let mode = st.st_mode & 0o777
        if mode & 0o007 != 0 {
            throw UplinkError("MQTT \(what) file \(path): mode \(String(mode, radix: 8)) lets every user read it; chmod o-rwx \(path) (0640 with group vigil is enough)")
        }
    }

    /// The broker connection an `[uplink.mqtt]` table describes, with its secrets read.
    static func mqttConnection(_ m: MQTTSpec, site: String, node: String) throws(UplinkError) -> MQTTConnection {
        func secret(_ path: String?, _ what: String) throws(UplinkError) -> String? {
            guard let path else { return nil }
            try privateFile(path, what)
            guard let text = readTextFile(path, limit: 1 << 16) else { throw UplinkError("MQTT \(what) file \(path): cannot be read (\(String(cString: strerror(errno))))") }
            return text.split(separator: "\n").first.map(String.init) ?? ""
        }
        if let key = m.keyFile { try privateFile(key, "key") }
        return MQTTConnection(broker: m.broker, clientID: m.clientID.isEmpty ? MQTTSpec.defaultClientID(site: site, node: node) : m.clientID,
                              version: m.version == .v5 ? 5 : 4,
                              keepAliveSeconds: m.keepAliveSeconds, caFile: m.caFile, certificateFile: m.certificateFile, keyFile: m.keyFile,
                              username: try secret(m.usernameFile, "username"), password: try secret(m.passwordFile, "password"))
    }
}
