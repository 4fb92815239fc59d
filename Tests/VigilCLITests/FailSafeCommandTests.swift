#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import CTestSupport
import Testing
import TestSupport
import VigilBase
import VigilBoard
import VigilLoop

/// Issue 17 at the command line and in the shipped service: profile warnings, `vigil safe-state`,
/// the unit's settings as systemd reads them, and the clock state under the unit's sandbox.
@Suite struct FailSafeCommandTests {
    let root = TestPaths.repositoryRoot
    static let unit = TestPaths.repositoryRoot + "/systemd/vigil.service"

    func vigil(_ arguments: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run(TestPaths.vigilBinary, arguments, directory: root, timeoutSeconds: 60)
    }

    /// (15) A profile that switches protections off validates with a warning line per protection
    /// (exit 0); `--strict` makes them errors (exit 2).
    @Test func warningsAreReportedAndStrictMakesThemErrors() throws {
        let file = "Tests/VigilBoardTests/Corpus/warn-protections-off.toml"
        let plain = try vigil(["board", "validate", file])
        #expect(plain.status == 0, "\(plain.output)")
        #expect(plain.stderr.contains("\(file):43: warning: rules[0].latch: is false"), "\(plain.stderr)")
        #expect(plain.stdout.contains("5 warnings"))
        let strict = try vigil(["board", "validate", "--strict", file])
        #expect(strict.status == 2, "\(strict.output)")
        let json = try vigil(["board", "validate", "--json", file])
        #expect(json.stdout.contains("\"severity\" : \"warning\""), "\(json.stdout)")
    }

    /// (1, 15) Every shipped profile has a way for its permissive to drop without vigil and
    /// switches no protection off: `--strict` passes on all of them.
    @Test func everyShippedProfilePassesStrictValidation() throws {
        let files = TestPaths.list(root + "/Boards").filter { $0.hasSuffix(".toml") }.map { "Boards/" + $0 }
        let r = try vigil(["board", "validate", "--strict"] + files)
        #expect(r.status == 0, "\(r.output)")
        #expect(!r.stderr.contains("warning"), "\(r.stderr)")
    }

    /// (1) `vigil safe-state` claims each output of the profile, drives it off and reads it back.
    @Test func safeStateDrivesEveryOutputOffAndSaysSo() throws {
        let r = try vigil(["safe-state", "--board", "Boards/simulator.toml", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let lines = try JSONDecoder().decode([SafeStateLineReport].self, from: Data(r.stdout.utf8))
        #expect(lines.map(\.output) == ["run-permit", "warn-lamp", "heartbeat", "status-led", "fault-led"])
        #expect(lines.allSatisfy { $0.safe && $0.detail.contains("reads back off") }, "\(lines)")
        let bad = try vigil(["safe-state", "--board", "Tests/VigilBoardTests/Corpus/13-adxl345-rate.toml"])
        #expect(bad.status == 2)
    }

    struct SafeStateLineReport: Decodable {
        var output: String
        var line: String
        var safe: Bool
        var detail: String
    }

    static func unitSettings() -> [(key: String, value: String)] {
        (TestPaths.readText(unit) ?? "").split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }
    }

    /// (1, 10) The unit as systemd reads it: `systemd-analyze verify` accepts it (unknown keys, bad
    /// values and missing executables fail it), it runs `vigil safe-state` after every exit of the
    /// agent, keeps the agent from the OOM killer, and does not filter out the clock query.
    @Test func theUnitDrivesTheSafeStateAfterEveryExitAndLetsTheClockBeRead() throws {
        let settings = Self.unitSettings()
        #expect(settings.contains { $0.key == "ExecStopPost" && $0.value == "/usr/bin/vigil safe-state --board /etc/vigil/board.toml" })
        // Issue 20 (2): never started on a profile that does not validate (the package's placeholder).
        #expect(settings.contains { $0.key == "ExecStartPre" && $0.value == "/usr/bin/vigil board validate /etc/vigil/board.toml" })
        let oom = settings.first { $0.key == "OOMScoreAdjust" }.flatMap { Int($0.value) }
        #expect((oom ?? 0) <= -500, "OOMScoreAdjust \(oom.map(String.init) ?? "missing")")
        #expect(!settings.contains { $0.key == "ProtectClock" && $0.value != "no" }, "ProtectClock filters out adjtimex")
        #expect(!settings.contains { $0.key == "CapabilityBoundingSet" && $0.value.contains("CAP_SYS_TIME") })

        // systemd-analyze wants the executables to exist: point the unit at the built binary.
        let dir = TestPaths.makeTemporaryDirectory("vigil-unit")
        defer { TestPaths.removeTree(dir) }
        let text = try #require(TestPaths.readText(Self.unit)).replacing("/usr/bin/vigil", with: TestPaths.vigilBinary)
        TestPaths.writeFile(dir + "/vigil.service", text)
        let verify = try ChildProcess.run("/usr/bin/systemd-analyze", ["verify", "--man=no", dir + "/vigil.service"], timeoutSeconds: 60)
        #expect(verify.status == 0 && verify.stderr.isEmpty, "\(verify.output)")
        // The check can fail: a misspelt key is reported.
        TestPaths.writeFile(dir + "/broken.service", text.replacing("OOMScoreAdjust=", with: "OOMScoreAdjst="))
        let broken = try ChildProcess.run("/usr/bin/systemd-analyze", ["verify", "--man=no", dir + "/broken.service"], timeoutSeconds: 60)
        #expect(broken.stderr.contains("Unknown key"), "\(broken.output)")
    }

    /// Issue 18 (15): every system call the agent makes (a simulator run with a status request,
    /// `vigil safe-state` as ExecStopPost runs it, `vigil board validate`), traced with strace, is
    /// in the unit's `SystemCallFilter=` as systemd expands it: the filter kills nothing the agent
    /// needs. The unit holds no capability; real time comes from the rlimits (proven under a real
    /// kernel by Tests/RealKernel, "SCHED_FIFO and mlockall without capabilities").
    @Test func theUnitsSystemCallFilterAllowsEveryCallTheAgentMakes() throws {
        let settings = Self.unitSettings()
        #expect(settings.contains { $0.key == "CapabilityBoundingSet" && $0.value.isEmpty }, "the unit grants capabilities")
        #expect(!settings.contains { $0.key == "AmbientCapabilities" && !$0.value.isEmpty })
        // A call outside the filter fails with EPERM (a typed error vigil handles), not SIGSYS.
        #expect(settings.contains { $0.key == "SystemCallErrorNumber" && $0.value == "EPERM" })
        for key in ["LimitRTPRIO", "LimitMEMLOCK", "UMask", "ProtectKernelLogs", "ProtectProc", "MemoryMax"] {
            #expect(settings.contains { $0.key == key }, "\(key) missing")
        }
        // The exposure score systemd rates the unit with (lower is better; 4.0 before issue 18).
        let unitDir = TestPaths.makeTemporaryDirectory("vigil-security")
        defer { TestPaths.removeTree(unitDir) }
        TestPaths.writeFile(unitDir + "/vigil.service", TestPaths.readText(Self.unit) ?? "")
        let security = try ChildProcess.run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--no-pager", unitDir + "/vigil.service"], timeoutSeconds: 60)
        let score = security.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") }
            .flatMap { $0.split(separator: ":").last?.split(separator: " ").first }.flatMap { Double($0) }
        print("UNIT exposure=\(score.map { String($0) } ?? "?")")
        #expect(score != nil && score! <= 2.5, "\(security.output.suffix(400))")
        guard let strace = TestPaths.which("strace") else {
            print("SKIP theUnitsSystemCallFilterAllowsEveryCallTheAgentMakes: strace is not installed (Scripts/setup installs it)")
            return
        }
        let filter = settings.filter { $0.key == "SystemCallFilter" }.flatMap { $0.value.split(separator: " ").map(String.init) }
        #expect(!filter.isEmpty, "no SystemCallFilter=")
        // Expand @groups the way systemd does (a group lists calls and further groups).
        var allowed = Set<String>()
        var pending = filter
        var seen = Set<String>()
        while let name = pending.popLast() {
            guard seen.insert(name).inserted else { continue }
            guard name.hasPrefix("@") else { allowed.insert(name); continue }
            let r = try ChildProcess.run("/usr/bin/systemd-analyze", ["syscall-filter", "--no-pager", name], timeoutSeconds: 60)
            #expect(r.status == 0, "\(r.output)")
            for line in r.stdout.split(separator: "\n").dropFirst() {
                let item = line.trimmingPrefix(while: { $0 == " " })
                if item.isEmpty || item.hasPrefix("#") { continue }
                pending.append(String(item))
            }
        }
        #expect(allowed.contains("sched_setscheduler") && allowed.contains("mlockall") && allowed.contains("ioctl"), "\(allowed.count) calls")

        let dir = TestPaths.makeTemporaryDirectory("vigil-syscalls")
        defer { TestPaths.removeTree(dir) }
        let profile = dir + "/board.toml"
        TestPaths.writeFile(profile, TestPaths.readText(TestPaths.repositoryRoot + "/Boards/simulator.toml")!.replacing("/tmp/vigil-simulator", with: dir))
        let trace = dir + "/trace"
        let agent = try ChildProcess(strace, ["-f", "-qq", "-o", trace, TestPaths.vigilBinary, "run", "--board", profile, "--seconds", "4"])
        usleep(2_500_000)
        _ = try ChildProcess.run(TestPaths.vigilBinary, ["status", "--socket", dir + "/control.sock"], timeoutSeconds: 30)
        let run = agent.finish(timeoutSeconds: 60)
        #expect(run.status == 0, "\(run.output.suffix(1500))")
        var traces = [TestPaths.readText(trace) ?? ""]
        for args in [["safe-state", "--board", profile], ["board", "validate", profile]] {
            let r = try ChildProcess.run(strace, ["-f", "-qq", "-o", trace + "2", TestPaths.vigilBinary] + args, timeoutSeconds: 60)
            #expect(r.status == 0, "\(args): \(r.output.suffix(800))")
            traces.append(TestPaths.readText(trace + "2") ?? "")
        }
        var used = Set<String>()
        for text in traces {
            for line in text.split(separator: "\n") {
                // "1234 name(args) = result" or "1234 <... name resumed>"
                let rest = line.drop { $0.isNumber }.drop { $0 == " " }
                let name = rest.hasPrefix("<... ") ? rest.dropFirst(5).prefix { $0 != " " } : rest.prefix { $0 != "(" }
                if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) { used.insert(String(name)) }
            }
        }
        #expect(used.count > 30, "only \(used.count) calls traced: \(used.sorted())")
        // execve is the service manager's, before the filter applies to the new program.
        let outside = used.subtracting(allowed).subtracting(["execve"])
        print("SYSCALLS used=\(used.count) allowed=\(allowed.count) outside=\(outside.sorted())")
        #expect(outside.isEmpty, "calls the unit's filter would refuse: \(outside.sorted())")
    }

    /// (10) Under the seccomp filter ProtectClock=yes installs, the kernel's clock query fails with
    /// EPERM (so every sample read `clock_unsynced` under the old unit); where it fails, vigil
    /// asks systemd-timesyncd's flag file instead.
    @Test func theClockStateIsFoundWhereTheSandboxDeniesAdjtimex() throws {
        var childErrno: Int32 = 0
        let denied = ts_clock_query_under_clock_filter(&childErrno)
        try #require(denied != -100, "could not install the seccomp filter")
        #expect(denied == -1 && childErrno == EPERM, "adjtimex under the @clock filter: \(denied), errno \(childErrno)")
        #expect(SystemClock.syncState(kernel: -1, timesyncFlagExists: { true }) == .synchronized)
        #expect(SystemClock.syncState(kernel: -1, timesyncFlagExists: { false }) == .unknown)
        #expect(SystemClock.syncState(kernel: 1, timesyncFlagExists: { true }) == .unsynchronized, "the kernel's answer wins where it is given")
        #expect(SystemClock.syncState(kernel: 2, timesyncFlagExists: { false }) == .synchronized)
    }
}
