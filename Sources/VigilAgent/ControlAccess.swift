#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Who is on the other end of a control-socket connection, as the kernel says (`SO_PEERCRED`,
/// `SO_PEERGROUPS`): access is decided from it and every action is logged with it.
struct PeerCredentials: Sendable, Equatable {
    var uid: UInt32
    var gid: UInt32 = UInt32.max
    var pid: Int32
    /// Supplementary groups; empty if the kernel could not say.
    var groups: [UInt32] = []

    static let unknown = PeerCredentials(uid: UInt32.max, pid: -1)

    /// The calling process itself (for requests made inside the agent and in tests).
    static var current: PeerCredentials {
        var list = [gid_t](repeating: 0, count: 256)
        let n = getgroups(Int32(list.count), &list)
        return PeerCredentials(uid: getuid(), gid: getgid(), pid: getpid(), groups: n > 0 ? list[0..<Int(n)].map { UInt32($0) } : [])
    }

    func isMember(of group: UInt32) -> Bool { gid == group || groups.contains(group) }
}

/// Who may do what over the control socket. Reading (`status`, `watch`, `spectrum`, GPIO reads)
/// is for group `vigil`; acting on the machine (`interlock reset`, `interlock test`, `gpio set`)
/// needs group `vigil-operator` or root. On a machine without those groups (a development box,
/// the simulator run by hand) the socket's own permissions decide reading, and only the agent's
/// own user and root may act.
struct ControlAccess: Sendable {
    enum Need: Sendable { case read, act }

    static let readerGroupName = "vigil"
    static let operatorGroupName = "vigil-operator"

    var readerGroup: UInt32?
    var operatorGroup: UInt32?
    var agentUID: UInt32

    /// The groups as this system has them now.
    static func system() -> ControlAccess {
        ControlAccess(readerGroup: groupID(readerGroupName), operatorGroup: groupID(operatorGroupName), agentUID: geteuid())
    }

    static func groupID(_ name: String) -> UInt32? {
        guard let g = getgrnam(name) else { return nil }
        return UInt32(g.pointee.gr_gid)
    }

    static func need(_ command: String) -> Need {
        switch command {
        case "interlock-reset", "interlock-test", "interlock-test-supervisor", "gpio-set": return .act
        default: return .read
        }
    }

    /// nil when `peer` may; otherwise what to tell them.
    func refusal(_ need: Need, _ peer: PeerCredentials) -> String? {
        if peer.uid == 0 { return nil }
        switch need {
        case .act:
            if let op = operatorGroup {
                return peer.isMember(of: op) ? nil
                    : "acting on the interlock or an output needs group \(Self.operatorGroupName) (or root); uid \(peer.uid) is not in it (`sudo usermod -aG \(Self.operatorGroupName) USER`, then log in again)"
            }
            return peer.uid == agentUID ? nil
                : "acting on the interlock or an output needs group \(Self.operatorGroupName), which does not exist here, or the agent's own user (uid \(agentUID)) or root; uid \(peer.uid) is neither"
        case .read:
            if readerGroup == nil && operatorGroup == nil { return nil }
            if peer.uid == agentUID { return nil }
            if let r = readerGroup, peer.isMember(of: r) { return nil }
            if let op = operatorGroup, peer.isMember(of: op) { return nil }
            return "reading the agent's status needs group \(Self.readerGroupName); uid \(peer.uid) is not in it (`sudo usermod -aG \(Self.readerGroupName) USER`, then log in again)"
        }
    }
}
