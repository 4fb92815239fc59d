import Testing
import TestSupport
import VigilBase
import VigilInterlock
import VigilSimulation
import VigilBoardSimulated

/// Issue 21 (3): the status light's blink codes as the simulated GPIO chip sees the line, state by
/// state, on the simulator profile's `status_led` (STATUS_LED) and `fault_led` (FAULT_LED).
@Suite(.serialized) struct StatusLightTests {
    /// The line's changes over `steps` periods of 1 ms: (ms, level), and its level at the end.
    static func edges(_ node: SimulatedNode, _ line: String, steps: Int, deadlineBurst: Bool = false) -> (changes: [(Int64, Bool)], last: Bool) {
        var last = node.output(line)
        var changes: [(Int64, Bool)] = []
        for _ in 0..<steps {
            node.step(1, deadlineBurst: deadlineBurst)
            let level = node.output(line)
            if level != last { changes.append((node.clock.now.nanoseconds / 1_000_000, level)); last = level }
        }
        return (changes, last)
    }

    /// On-times and the intervals between rising edges, dropping a partial first flash.
    static func shape(_ changes: [(Int64, Bool)]) -> (on: [Int64], rises: [Int64]) {
        let trimmed = Array(changes.drop { !$0.1 })
        var on: [Int64] = [], rises: [Int64] = []
        for (i, c) in trimmed.enumerated() where c.1 {
            if i + 1 < trimmed.count { on.append(trimmed[i + 1].0 - c.0) }
            if let next = trimmed[(i + 1)...].first(where: { $0.1 }) { rises.append(next.0 - c.0) }
        }
        return (on, rises)
    }

    static func near(_ a: [Int64], _ b: [Int64], tolerance: Int64 = 2) -> Bool {
        a.count >= b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    @Test func eachStateHasItsBlinkCodeOnTheLine() throws {
        let node = try SimulatedNode()
        node.step(2000)
        // Restart prevention: every input healthy, a reset would arm: slow blink, 1 Hz.
        var e = Self.edges(node, "STATUS_LED", steps: 3100)
        var s = Self.shape(e.changes)
        #expect(Self.near(s.on, [500, 500]) && Self.near(s.rises, [1000, 1000]), "waiting for reset: \(e.changes)")
        #expect(!node.output("FAULT_LED"))

        // Armed: steady on, no edge in 3 s.
        node.pressReset()
        e = Self.edges(node, "STATUS_LED", steps: 3000)
        #expect(e.changes.isEmpty && e.last, "armed: \(e.changes)")

        // The e-stop opens: a trip condition present, fast blink, 4 Hz.
        try node.chip.drive("ESTOP_FB", to: false)
        node.step(20)
        e = Self.edges(node, "STATUS_LED", steps: 1100)
        s = Self.shape(e.changes)
        #expect(Self.near(s.on, [125, 125, 125]) && Self.near(s.rises, [250, 250, 250]), "tripped: \(e.changes)")

        // Closed again: the trip latches, a reset would arm: slow blink again.
        try node.chip.drive("ESTOP_FB", to: true)
        node.step(20)
        e = Self.edges(node, "STATUS_LED", steps: 2100)
        s = Self.shape(e.changes)
        #expect(Self.near(s.on, [500]) && Self.near(s.rises, [1000]), "latched: \(e.changes)")

        // A sensor stops answering: double flash every 1.5 s, and the fault LED lights.
        node.pressReset()
        node.board.buses["sensors"]!.inject(.unplugged, at: 0x53)
        node.step(20)
        e = Self.edges(node, "STATUS_LED", steps: 3100)
        s = Self.shape(e.changes)
        #expect(Self.near(s.on, [150, 150, 150]) && Self.near(s.rises, [300, 1200, 300]), "sensor fault: \(e.changes)")
        #expect(node.output("FAULT_LED"))

        // A system fault (a burst of missed deadlines) outranks it: triple flash every 2 s.
        e = Self.edges(node, "STATUS_LED", steps: 4200, deadlineBurst: true)
        s = Self.shape(e.changes)
        #expect(Self.near(s.on, [150, 150, 150, 150]) && Self.near(s.rises, [300, 300, 1400, 300]), "system fault: \(e.changes)")
        #expect(node.output("FAULT_LED"))
    }

    @Test func theCodesAreDistinct() {
        // No two states draw the same line over 4 s.
        var drawings: [[Bool]] = []
        for light in StatusLight.allCases {
            drawings.append((0..<4000).map { light.level(at: MonotonicInstant(nanoseconds: Int64($0) * 1_000_000)) })
        }
        #expect(Set(drawings).count == StatusLight.allCases.count)
    }
}
