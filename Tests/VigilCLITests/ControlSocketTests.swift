#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import VigilAgent

/// Issue 18 (13): the control socket serves several clients at once, each with its own deadline
/// and a bounded request, and decides from the kernel's word on the caller who may act.
@Suite(.serialized) struct ControlSocketTests {
    /// A raw connection to the agent's socket, for clients `vigil` would never be.
    final class RawClient {
        let fd: Int32
        init(_ path: String) {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            precondition(rc == 0, "connect \(path): \(errno)")
        }
        deinit { close(fd) }
        func send(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        /// Everything until the agent closes, or `seconds` pass.
        func readAll(seconds: Double) -> String {
            var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var data: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                data += buffer[0..<n]
            }
            return String(decoding: data, as: UTF8.self)
        }
    }

    @Test func aClientSendingAByteAtATimeDoesNotHoldUpStatusForOthers() throws {
        let h = AgentHarness(name: "slowclient", rampStartSeconds: 1000)
        try h.start(broker: "tcp://127.0.0.1:\(Mosquitto.freePort())")
        let slow = RawClient(h.socket)
        var slowest = 0.0
        for byte in Array("{\"command\":\"ping\"".utf8).prefix(10) {
            #expect(slow.send([byte]))
            let t0 = monotonicSeconds()
            let r = try h.vigil(["status", "--json"])
            slowest = max(slowest, monotonicSeconds() - t0)
            #expect(r.status == 0, "\(r.output)")
            usleep(300_000)
        }
        print("CONTROL slow_client status_slowest_s=\(slowest)")
        #expect(slowest < 1.5, "status took \(slowest) s while another client trickled its request")
        // The trickling client is dropped at its deadline, not served forever.
        #expect(slow.readAll(seconds: 8).isEmpty)
        _ = h.stop()
    }

    @Test func anOversizedRequestIsRefusedAndTheAgentServesOn() throws {
        let h = AgentHarness(name: "bigrequest", rampStartSeconds: 1000)
        try h.start(broker: "tcp://127.0.0.1:\(Mosquitto.freePort())")
        let big = RawClient(h.socket)
        _ = big.send([UInt8](repeating: 0x20, count: 100_000))
        let answer = big.readAll(seconds: 5)
        #expect(answer.contains("longer than 65536 bytes"), "\(answer.prefix(300))")
        #expect(try h.vigil(["status", "--json"]).status == 0)
        _ = h.stop()
    }

    /// As user nobody (no group vigil-operator exists here, so acting is for root and the agent's
    /// own user): reading works, a reset is refused with exit 4 and the reason, and the agent's
    /// log names the caller's uid and pid.
    @Test func anotherUserMayReadButNotAct() throws {
        guard getuid() == 0, let setpriv = TestPaths.which("setpriv") else {
            print("SKIP anotherUserMayReadButNotAct: needs root and setpriv to act as another user")
            return
        }
        guard ControlAccess.groupID(ControlAccess.operatorGroupName) == nil, ControlAccess.groupID(ControlAccess.readerGroupName) == nil else {
            print("SKIP anotherUserMayReadButNotAct: this machine has the vigil groups; ControlAccessTests covers them")
            return
        }
        let h = AgentHarness(name: "otheruser", rampStartSeconds: 1000)
        try h.start(broker: "tcp://127.0.0.1:\(Mosquitto.freePort())")
        chmod(h.directory, 0o755)
        chmod(h.socket, 0o666)
        func asNobody(_ args: [String]) throws -> ChildProcess.Result {
            try ChildProcess.run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", TestPaths.vigilBinary] + args + ["--socket", h.socket],
                                 directory: "/", timeoutSeconds: 30)
        }
        let read = try asNobody(["status"])
        #expect(read.status == 0, "\(read.output)")
        let act = try asNobody(["interlock", "reset"])
        #expect(act.status == 4, "\(act.output)")
        #expect(act.output.contains("vigil-operator"), "\(act.output)")
        let asRoot = try h.vigil(["interlock", "reset"])
        #expect(asRoot.status != 4, "\(asRoot.output)")
        let stopped = h.stop()
        #expect(stopped.stderr.contains("control: uid 65534 pid"), "\(stopped.stderr.suffix(2000))")
        #expect(stopped.stderr.contains("interlock-reset refused"), "\(stopped.stderr.suffix(2000))")
        #expect(stopped.stderr.contains("control: uid 0 pid"), "every action is logged, allowed ones too")
    }
}

/// The policy itself, for every kind of caller, with and without the groups.
@Suite struct ControlAccessTests {
    let vigil: UInt32 = 990
    let operators: UInt32 = 991

    func peer(_ uid: UInt32, gid: UInt32 = 100, groups: [UInt32] = []) -> PeerCredentials {
        PeerCredentials(uid: uid, gid: gid, pid: 1234, groups: groups)
    }

    @Test func withTheGroupsReadingNeedsVigilAndActingNeedsVigilOperator() {
        let access = ControlAccess(readerGroup: vigil, operatorGroup: operators, agentUID: 995)
        #expect(access.refusal(.read, peer(1000)) != nil)
        #expect(access.refusal(.read, peer(1000, groups: [vigil])) == nil)
        #expect(access.refusal(.read, peer(1000, gid: vigil)) == nil)
        #expect(access.refusal(.read, peer(1000, groups: [operators])) == nil)
        #expect(access.refusal(.act, peer(1000, groups: [vigil]))?.contains("vigil-operator") == true)
        #expect(access.refusal(.act, peer(1000, groups: [vigil, operators])) == nil)
        #expect(access.refusal(.act, peer(0)) == nil)
        // The agent's own user reads, but acts only through the operator group.
        #expect(access.refusal(.read, peer(995)) == nil)
        #expect(access.refusal(.act, peer(995)) != nil)
        #expect(access.refusal(.act, .unknown) != nil)
    }

    @Test func withoutTheGroupsOnlyTheAgentsUserAndRootAct() {
        let access = ControlAccess(readerGroup: nil, operatorGroup: nil, agentUID: 1000)
        #expect(access.refusal(.read, peer(1001)) == nil)
        #expect(access.refusal(.act, peer(1001)) != nil)
        #expect(access.refusal(.act, peer(1000)) == nil)
        #expect(access.refusal(.act, peer(0)) == nil)
    }

    @Test func commandsThatTouchTheMachineAreActions() {
        for c in ["interlock-reset", "interlock-test", "interlock-test-supervisor", "gpio-set"] { #expect(ControlAccess.need(c) == .act, "\(c)") }
        for c in ["ping", "status", "spectrum", "gpio-info", "gpio-get", "nonsense"] { #expect(ControlAccess.need(c) == .read, "\(c)") }
    }
}
