#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import VigilAgent
import VigilFrames
import VigilUplink

/// The built `vigil` binary as a newcomer and a technician use it: the agent on the simulator board
/// against a real mosquitto on loopback, and every technician command through its control socket.
@Suite(.serialized) struct AgentEndToEndTests {
    /// The demo path: frames at a real broker, a reset, the vibration ramp tripping the interlock,
    /// the refusals, and a clean stop that leaves the outputs off.
    @Test func demoPathFramesTripRefusalsAndCleanStop() throws {
        let h = AgentHarness(name: "demo", rampStartSeconds: 8)
        let broker = try Mosquitto(directory: h.directory)
        let recorder = try MQTTRecorder(port: broker.port, topic: "vigil/#")
        try h.start(broker: broker.uri)

        // Restart prevention: the permissive waits for a local reset.
        #expect(try h.waitFor(seconds: 10) { $0.interlock.state == "waiting_for_reset" })
        let reset = try h.vigil(["interlock", "reset", "--json"])
        #expect(reset.status == 0, "\(reset.output)")
        #expect(reset.stdout.contains("\"done\" : true"))
        let armed = try h.interlock()
        #expect(armed.state == "armed")
        #expect(armed.outputs.first { $0.name == "run-permit" }?.on == true)

        // Technician commands while armed.
        let owned = try h.vigil(["gpio", "set", "RUN_PERMIT", "1", "--json"])
        #expect(owned.status == 5, "\(owned.output)")
        #expect(owned.stderr.contains("held by the running agent"))
        let spare = try h.vigil(["gpio", "set", "SPARE", "1", "--json"])
        #expect(spare.status == 0, "\(spare.output)")
        let get = try h.vigil(["gpio", "get", "SPARE", "--json"])
        #expect(get.stdout.contains("\"value\" : \"1\""), "\(get.output)")
        let door = try h.vigil(["gpio", "get", "DOOR_CLOSED", "--json"])
        #expect(door.stdout.contains("\"value\" : \"1\""), "\(door.output)")
        let info = try h.vigil(["gpio", "info", "--json"])
        let lines = try decode([GPIOLineReport].self, info.stdout)
        #expect(lines.count == 12)
        #expect(lines.first { $0.name == "RUN_PERMIT_FB" }?.ownedByAgent == true, "the run permit's feedback contact")
        #expect(lines.first { $0.name == "STATUS_LED" }?.ownedByAgent == true)
        #expect(lines.first { $0.name == "RUN_PERMIT" }?.consumer == "vigil")
        #expect(lines.first { $0.name == "RUN_PERMIT" }?.ownedByAgent == true)
        #expect(lines.first { $0.name == "SPARE" }?.ownedByAgent == false)
        let spectrum = try h.vigil(["spectrum", "bearing.x", "--json"])
        #expect(spectrum.status == 0, "\(spectrum.output)")
        let s = try decode(SpectrumReport.self, spectrum.stdout)
        #expect(s.bandRMSG.count == 32)
        // The 1× unbalance of a 1480 rpm fan: 24.67 Hz.
        #expect(s.peaks.contains { abs($0.frequencyHz - 1480.0 / 60) < 0.5 }, "\(s.peaks)")
        #expect(["A", "B", "C", "D"].contains(s.isoZone))
        let refusedTest = try h.vigil(["interlock", "test", "bearing-x-velocity-trip", "--confirm"])
        #expect(refusedTest.status == 5)
        #expect(refusedTest.stderr.contains("machine is turning"), "\(refusedTest.output)")

        // The ramp (from 3 s, over 3 s, to 6×) pushes velocity past 4.5 mm/s: tripped, reset refused.
        #expect(try h.waitFor(seconds: 20) { $0.interlock.tripped })
        let tripped = try h.interlock()
        #expect(tripped.why.contains { $0.contains("bearing-") && $0.contains("velocity") }, "\(tripped.why)")
        #expect(tripped.outputs.first { $0.name == "run-permit" }?.on == false)
        let refused = try h.vigil(["interlock", "reset", "--json"])
        #expect(refused.status == 5, "\(refused.output)")
        #expect(refused.stderr.contains("reset refused"))
        let status = try h.status()
        #expect(status.loop.cycles > 1000)
        #expect(status.uplink.connected)
        #expect(status.uplink.framesDelivered > 5)
        #expect(status.channels.contains { $0.name == "motor.temperature" && $0.quality == "good" && ($0.ageMilliseconds ?? 9999) < 1000 })

        // A gateway asks for a new birth.
        let pub = try ChildProcess.run(TestPaths.which("mosquitto_pub")!, ["-h", "127.0.0.1", "-p", String(broker.port), "-t", "vigil/demo-plant/sim-node-1/cmd/rebirth", "-m", "1", "-q", "1"])
        #expect(pub.status == 0, "\(pub.output)")
        usleep(800_000)

        let stopped = h.stop()
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("outputs off, spool flushed"))
        #expect(stopped.stderr.contains("rebirth requested"))
        usleep(500_000)
        let recorded = recorder.stop()
        _ = recorded
        let (frames, invalid) = decodeAll(recorder.messages.filter { !$0.topic.contains("/cmd/") })
        #expect(invalid.isEmpty, "\(invalid)")
        #expect(frames.filter { $0.1.header.type == .birth && $0.0.hasSuffix("/birth") }.count == 2, "one birth at connect, one on request")
        #expect(frames.filter { $0.1.header.type == .data }.count >= 4)
        #expect(frames.contains { $0.1.header.type == .spectrum })
        // The tripped event carries the value past its limit.
        let trips = frames.compactMap { if case .event(let e) = $0.1.body, e.kind == 3 { return e } else { return nil } }
        #expect(trips.contains { $0.value > $0.limit && $0.limit == 4.5 }, "\(trips)")
        // The clean stop's death carries the final loss counters (nothing lost in this run).
        let death = frames.first { if case .death(.cleanStop, _) = $0.1.body { return true } else { return false } }
        #expect(death != nil)
        if case .death(_, let losses)? = death?.1.body {
            #expect(losses.map(\.cause) == LossCause.allCases.map { $0 }, "\(losses)")
            #expect(losses.filter { $0.cause != .qos0PossiblyLost }.allSatisfy { $0.count == 0 }, "\(losses)")
        }
        // Data frames decode to the values the agent saw: velocity rose above the trip limit.
        var tracker = FrameSessionTracker()
        var maxVelocity = 0.0
        for (_, f) in frames {
            _ = tracker.observe(f)
            guard case .data(let values) = f.body else { continue }
            let table = tracker.channels(session: f.header.session)
            for v in values where table[v.channel]?.name.hasSuffix("velocity_rms") == true && table[v.channel]?.name.hasPrefix("bearing") == true {
                maxVelocity = max(maxVelocity, Double(v.raw) * 0.01)
            }
        }
        // The ramp is visible in the data frames: from zone A (≈1.1 mm/s) into zone C at least.
        #expect(maxVelocity > 2.8)
    }

    /// The proof test on a machine at standstill (no tachometer): the output drops (read back from
    /// the line) and is timed; the node stays off until an ordinary reset (the test never re-arms
    /// the machine); without --confirm it is refused.
    @Test func proofTestTripsTimesAndLeavesTheRuleLatched() throws {
        let h = AgentHarness(name: "prooftest", edits: [("pulses_per_revolution = 1\nmax_rpm = 3600", "pulses_per_revolution = 1\nmax_rpm = 3600\n# (tachometer below removed by the test)")],
                             rampStartSeconds: 0, rampSeconds: 0)
        // Remove the tachometer sensor: the machine counts as stopped.
        var text = TestPaths.readText(h.profile)!
        let start = text.firstRange(of: "[[sensors]]\nname = \"shaft\"")!
        let end = text[start.upperBound...].firstRange(of: "[[outputs]]")!
        text.removeSubrange(start.lowerBound..<end.lowerBound)
        TestPaths.writeFile(h.profile, text)
        try h.start(broker: "tcp://127.0.0.1:\(Mosquitto.freePort())")
        #expect(try h.waitFor(seconds: 10) { $0.interlock.state == "waiting_for_reset" })
        #expect(try h.vigil(["interlock", "reset"]).status == 0)
        let unconfirmed = try h.vigil(["interlock", "test", "bearing-x-velocity-trip"])
        #expect(unconfirmed.status == 5)
        #expect(unconfirmed.stderr.contains("--confirm"))
        let r = try h.vigil(["interlock", "test", "bearing-x-velocity-trip", "--confirm", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let report = try decode(InterlockActionReport.self, r.stdout)
        // Debounce of 2 evaluations at 1 ms: the output drops within a few periods.
        #expect((report.tripMilliseconds ?? 1e9) < 50, "\(report)")
        #expect(report.released == true, "\(report)")
        #expect(try h.interlock().state == "waiting_for_reset", "the proof test re-armed the machine by itself")
        #expect(try h.vigil(["interlock", "reset"]).status == 0)
        #expect(try h.interlock().state == "armed")
        let unknown = try h.vigil(["interlock", "test", "no-such-rule", "--confirm"])
        #expect(unknown.status == 2)
        #expect(h.stop().status == 0)
    }

    /// Issue 17 (2): the supervisor's proof test through the CLI (the loop hangs past
    /// `max_stall_ms`, every output reads back off, the stall latches), and a SIGTERM while the
    /// loop hangs: the outputs go safe first and the agent exits without waiting for the loop.
    @Test func theSupervisorProofTestAndAStopWhileTheLoopHangs() throws {
        let h = AgentHarness(name: "supervisor")
        try h.start(broker: "tcp://127.0.0.1:\(Mosquitto.freePort())")
        #expect(try h.waitFor(seconds: 10) { $0.interlock.state == "waiting_for_reset" })
        #expect(try h.vigil(["interlock", "reset"]).status == 0)
        let refused = try h.vigil(["interlock", "test-supervisor"])
        #expect(refused.status == 5 && refused.stderr.contains("--confirm"), "\(refused.output)")
        let r = try h.vigil(["interlock", "test-supervisor", "--confirm", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let report = try decode(InterlockActionReport.self, r.stdout)
        // max_stall_ms = 100 in the simulator profile; the reaction is measured from the last cycle.
        #expect((report.tripMilliseconds ?? 1e9) >= 100 && (report.tripMilliseconds ?? 1e9) < 150, "\(report)")
        let after = try h.status()
        #expect(after.safety.stalls == 1)
        #expect(after.interlock.state != "armed", "\(after.interlock)")
        #expect(after.interlock.why.contains { $0.contains("system fault") }, "\(after.interlock.why)")
        #expect(try h.waitFor(seconds: 3) { $0.recentEvents.contains { $0.kind == "system_fault" } })

        let hang = try ChildProcess(TestPaths.vigilBinary, ["interlock", "test-supervisor", "--confirm", "--hang-ms", "8000", "--socket", h.socket],
                                    directory: TestPaths.repositoryRoot)
        usleep(700_000)
        let t0 = monotonicSeconds()
        let stopped = h.stop()
        let took = monotonicSeconds() - t0
        _ = hang.finish(timeoutSeconds: 15)
        #expect(took < 5, "the stop waited \(took) s for the hung loop")
        #expect(stopped.stderr.contains("outputs in the safe state"), "\(stopped.stderr.suffix(1500))")
        #expect(stopped.stderr.contains("the loop did not finish its cycle within 2 s"), "\(stopped.stderr.suffix(1500))")
    }

    /// Broker outages: frames produced while the broker is down wait in the spool and arrive
    /// afterwards; after de-duplication every sequence number of the session is there exactly once.
    @Test func brokerOutagesLoseNothing() throws {
        let h = AgentHarness(name: "outage", rampStartSeconds: 1000)
        let broker = try Mosquitto(directory: h.directory)
        let recorder = try MQTTRecorder(port: broker.port, topic: "vigil/#")
        try h.start(broker: broker.uri)
        // Each outage starts once the agent reports the previous connection (its back-off grows
        // to 2 s and more, so a fixed up-time can end before it reconnects on a loaded machine).
        var connects = 0
        for outage in 0..<3 {
            #expect(try h.waitFor(seconds: 20) { $0.uplink.connected && $0.uplink.connects > connects }, "outage \(outage): the agent did not connect")
            connects = try h.status().uplink.connects
            usleep(1_500_000)
            broker.stop()
            usleep(2_000_000)
            try broker.start()
        }
        #expect(try h.waitFor(seconds: 20) { $0.uplink.connected && $0.uplink.connects > connects }, "the agent did not reconnect after the last outage")
        usleep(3_000_000)
        let stopped = h.stop()
        #expect(stopped.status == 0)
        #expect(stopped.stderr.contains("connection lost"))
        usleep(1_000_000)
        _ = recorder.stop()
        let (frames, invalid) = decodeAll(recorder.messages)
        #expect(invalid.isEmpty, "\(invalid)")
        var tracker = FrameSessionTracker()
        for (_, f) in frames { _ = tracker.observe(f) }
        let sessions = Set(frames.map(\.1.header.session))
        #expect(sessions.count == 1)
        let session = sessions.first ?? 0
        let seqs = tracker.sequences(session: session)
        #expect(seqs.min() == 0)
        #expect(tracker.missing(session: session).isEmpty, "missing \(tracker.missing(session: session))")
        #expect(seqs.count > 40, "only \(seqs.count) frames")
        // Frames replayed after an outage are marked historical; births came again on each reconnect.
        #expect(frames.contains { $0.1.header.historical })
        #expect(frames.filter { $0.1.header.type == .birth }.count >= 4)
        print("OUTAGE frames=\(frames.count) unique=\(seqs.count) duplicates=\(tracker.duplicates) historical=\(frames.filter { $0.1.header.historical }.count)")
    }

    /// Issue 21 (2): in a running agent the loop's channels read the loop's own figures (the same
    /// the status's loop line shows), not "no value".
    @Test func theLoopChannelsHaveValuesInARunningAgent() throws {
        let h = AgentHarness(name: "loopchannels", rampStartSeconds: 1000)
        try h.start(broker: "tcp://127.0.0.1:\(Mosquitto.freePort())")
        let filled = try h.waitFor(seconds: 15) { s in
            ["loop.lateness_p99_us", "loop.overruns"].allSatisfy { name in s.channels.contains { $0.name == name && $0.value != nil && $0.quality == "good" } }
        }
        let loop = try h.status().channels.filter { $0.name.hasPrefix("loop.") }
        #expect(filled, "\(loop)")
        _ = h.stop()
    }

    /// A spool that cannot open (here a file where its directory should be; in the field a
    /// root-owned segment or a read-only directory) leaves frames flowing through the bounded
    /// memory store, and says so: in the log, in `vigil status` and in the birth's loss counters.
    @Test func aSpoolThatCannotOpenFallsBackToMemoryAndDataStillFlows() throws {
        let h = AgentHarness(name: "nospool", rampStartSeconds: 1000)
        TestPaths.writeFile(h.spool, "not a directory\n")
        let broker = try Mosquitto(directory: h.directory)
        let recorder = try MQTTRecorder(port: broker.port, topic: "vigil/#")
        try h.start(broker: broker.uri)
        #expect(try h.waitFor(seconds: 20) { $0.uplink.connected && $0.uplink.framesDelivered > 10 }, "no frames delivered without a spool")
        let status = try h.status()
        #expect(status.uplink.store.hasPrefix("memory"), "\(status.uplink.store)")
        #expect(status.uplink.storeFallback?.contains(h.spool) == true, "\(String(describing: status.uplink.storeFallback))")
        let text = try h.vigil(["status"])
        #expect(text.stdout.contains("store: MEMORY"), "\(text.stdout)")
        let stopped = h.stop()
        #expect(stopped.status == 0)
        #expect(stopped.stderr.contains("frames are kept in memory instead"), "\(stopped.stderr.suffix(1500))")
        usleep(500_000)
        _ = recorder.stop()
        let (frames, invalid) = decodeAll(recorder.messages)
        #expect(invalid.isEmpty, "\(invalid)")
        #expect(frames.filter { $0.1.header.type == .data }.count > 5, "data frames: \(frames.filter { $0.1.header.type == .data }.count)")
        let birth = frames.first { $0.1.header.type == .birth }
        if case .birth(let b)? = birth?.1.body {
            #expect(b.losses.contains(LossCount(.memoryStoreOnly, 1)), "\(b.losses)")
        } else {
            Issue.record("no birth frame")
        }
    }

    /// Issue 18: a real full file system (a 32 KiB tmpfs as the spool) fills during an outage: the
    /// agent keeps running, ENOSPC evicts data by policy (counted), and every event of the outage
    /// (the ramp's warning and trip, a reset request) reaches the broker once it is back. Needs
    /// root to mount.
    @Test func aFullDiskDuringAnOutageEvictsDataAndDeliversTheEvents() throws {
        let h = AgentHarness(name: "fulldisk", edits: [
            ("snapshot_interval_ms = 250", "snapshot_interval_ms = 10"),
            ("max_bytes = 4194304", "max_bytes = 16777216"), ("segment_bytes = 65536", "segment_bytes = 4096"),
        ], rampStartSeconds: 1, rampSeconds: 4)
        mkdir(h.spool, 0o755)
        let mount = try ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=32k", "tmpfs", h.spool], timeoutSeconds: 30)
        guard getuid() == 0, mount.status == 0 else {
            print("SKIP aFullDiskDuringAnOutageEvictsDataAndDeliversTheEvents: cannot mount a tmpfs here (\(mount.output.prefix(200)))")
            return
        }
        defer { _ = try? ChildProcess.run("/bin/umount", ["-l", h.spool], timeoutSeconds: 30) }
        let broker = try Mosquitto(directory: h.directory)
        // A persistent session (QoS 1) kept by the broker across its outage: what the agent sends
        // after the outage reaches the recorder whenever it reconnects.
        let recorder = try MQTTRecorder(port: broker.port, topic: "vigil/#")
        broker.stop()
        try h.start(broker: broker.uri)
        #expect(try h.waitFor(seconds: 60) { ($0.uplink.spool?.droppedData ?? 0) > 0 }, "no eviction on the full file system")
        let reset = try h.vigil(["interlock", "reset", "--json"])
        #expect(reset.status == 0 || reset.status == 5, "\(reset.output)")
        usleep(1_000_000)
        let full = try h.status()
        #expect(full.uplink.spool?.droppedEvents == 0, "\(String(describing: full.uplink.spool))")
        try broker.start()
        #expect(try h.waitFor(seconds: 60) { $0.uplink.connected && ($0.uplink.spool?.pendingRecords ?? 1) == 0 }, "the spool did not drain")
        usleep(1_000_000)
        let stopped = h.stop()
        #expect(stopped.status == 0, "\(stopped.stderr.suffix(1500))")
        _ = recorder.stop()
        let (frames, invalid) = decodeAll(recorder.messages)
        #expect(invalid.isEmpty, "\(invalid)")
        let events = frames.filter { $0.1.header.type == .event }
        // Every event the agent recorded while the disk was full and the broker away arrived.
        #expect(full.recentEvents.count >= 2, "\(full.recentEvents.map(\.kind))")
        #expect(Set(events.map(\.1.header.sequence)).count >= full.recentEvents.count, "\(events.count) event frames for \(full.recentEvents.count) events")
        print("FULLDISK evicted_data=\(full.uplink.spool?.droppedData ?? -1) events=\(events.count) frames=\(frames.count)")
    }

    /// SIGKILL while frames are being spooled (no broker): on restart the spool is intact and the
    /// first session's frames are replayed in full.
    @Test func sigkillDuringSpoolWritesThenRestartReplaysEverything() throws {
        let h = AgentHarness(name: "sigkill", rampStartSeconds: 1000)
        try h.start(broker: "tcp://127.0.0.1:\(Mosquitto.freePort())")
        usleep(3_000_000)
        let built = try h.status().uplink.framesBuilt
        #expect(built > 10)
        h.agent!.signal(SIGKILL)
        _ = h.agent!.finish(timeoutSeconds: 5)
        #expect(TestPaths.list(h.spool).contains { $0.hasPrefix("data-") })

        let broker = try Mosquitto(directory: h.directory)
        let recorder = try MQTTRecorder(port: broker.port, topic: "vigil/#")
        try h.start(broker: broker.uri)
        usleep(3_000_000)
        // Killed again, now connected: the broker publishes the will, the death frame.
        h.agent!.signal(SIGKILL)
        _ = h.agent!.finish(timeoutSeconds: 5)
        usleep(1_000_000)
        _ = recorder.stop()
        let (frames, invalid) = decodeAll(recorder.messages)
        #expect(invalid.isEmpty, "\(invalid)")
        let sessions = Array(Set(frames.map(\.1.header.session)))
        #expect(sessions.count == 2)
        var tracker = FrameSessionTracker()
        for (_, f) in frames { _ = tracker.observe(f) }
        // The killed session never sent a birth (it never connected): its frames all arrive, historical.
        let first = frames.first { $0.1.header.historical }?.1.header.session
        #expect(first != nil)
        if let first {
            let seqs = tracker.sequences(session: first)
            #expect(seqs.count >= built - 2, "\(seqs.count) of \(built)")
            #expect(tracker.missing(session: first).isEmpty)
            #expect(frames.filter { $0.1.header.session == first }.allSatisfy { $0.1.header.historical })
            let second = sessions.first { $0 != first }
            #expect(frames.contains { $0.1.header.session == second && { if case .death(.connectionLost, let l) = $0.1.body { return !l.isEmpty } else { return false } }($0) && $0.0.hasSuffix("/death") })
        }
    }

    @Test func badInputIsOneClearLineAndAStableExitCode() throws {
        func run(_ args: [String]) throws -> ChildProcess.Result {
            try ChildProcess.run(TestPaths.vigilBinary, args, directory: TestPaths.repositoryRoot, timeoutSeconds: 30)
        }
        let noAgent = try run(["status", "--socket", "/tmp/vigil-no-such-agent.sock"])
        #expect(noAgent.status == 3)
        #expect(noAgent.stderr.contains("no vigil agent is running"))
        let otherBoard = try run(["run", "--board", "Boards/raspberry-pi-4.toml"])
        #expect(otherBoard.status == 2)
        #expect(otherBoard.stderr.contains("is for board raspberry-pi-4"))
        #expect(!otherBoard.stderr.contains("Fatal error"))
        let unknown = try run(["frobnicate"])
        #expect(unknown.status == 2)
        let badFlag = try run(["status", "--frobnicate"])
        #expect(badFlag.status == 2)
        let missing = try run(["run", "--board", "/tmp/vigil-no-such-profile.toml"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/tmp/vigil-no-such-profile.toml"))
        let help = try run(["--help"])
        #expect(help.status == 0)
        for command in ["run", "status", "watch", "spectrum", "interlock", "gpio", "i2c", "modbus", "frame", "selftest", "board"] {
            #expect(help.stdout.contains("  \(command)"), "help lacks \(command)")
        }
        let flat = help.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        #expect(flat.contains("0 success, 1 failure, 2 bad input, 3 agent not running, 4 permission denied, 5 refused"))
        let garbage = TestPaths.makeTemporaryDirectory("frames")
        defer { TestPaths.removeTree(garbage) }
        TestPaths.writeFile("\(garbage)/junk.bin", bytes: [0x56, 0x10, 0x02, 0, 5, 0] + [UInt8](repeating: 7, count: 30))
        let decode = try run(["frame", "decode", "\(garbage)/junk.bin"])
        #expect(decode.status == 1)
        #expect(decode.stdout.contains("\"invalid\":\"crc_mismatch\""), "\(decode.output)")
    }
}
