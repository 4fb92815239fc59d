import CVigilSys

/// What an MQTT uplink confirmed without an acknowledgement: QoS 0 messages count as delivered
/// once written to the socket, so those written shortly before a connection was lost (a half-open
/// connection is noticed only after 1.5 keep-alives) may be lost with it. Both MQTT uplinks keep
/// one and report its sum (README, "What can be lost").
struct QoS0Ledger {
    /// Messages written, by when (monotonic ns), since something last proved the connection alive.
    private var recent: [(time: Int64, count: Int)] = []
    private(set) var possiblyLost = 0
    let windowNanoseconds: Int64

    init(keepAliveSeconds: Int) {
        windowNanoseconds = Int64(keepAliveSeconds) * 1_500_000_000
    }

    /// The QoS of each message confirmed, in order.
    mutating func delivered(_ qos: [Int32]) {
        let now = vigil_monotonic_ns()
        // A QoS 1 confirmation proves the connection carried everything before it.
        if qos.contains(where: { $0 > 0 }) { recent.removeAll() }
        recent.removeAll { now - $0.time > windowNanoseconds }
        let unacknowledged = qos.filter { $0 == 0 }.count
        if unacknowledged > 0 { recent.append((now, unacknowledged)) }
    }

    /// Counts the last window's QoS 0 messages as possibly lost when the connection was lost
    /// rather than closed.
    mutating func connectionEnded(lost: Bool) {
        if lost { possiblyLost += recent.reduce(0) { $0 + $1.count } }
        recent.removeAll()
    }

}
