import Testing
import TestSupport
import VigilBase
import VigilFrames
@testable import VigilInterlock

/// One test per hazard the interlock must handle, on a small node: a permissive guarded by a
/// velocity trip and a temperature trip, a warning lamp, and a heartbeat.
@Suite struct HazardTests {
    static let second: Int64 = 1_000_000_000
    static let period: Int64 = 1_000_000 // 1 ms loop

    static let velocityTrip = InterlockRule(name: "velocity-trip", channel: 0, comparison: .above, limit: 4.5, release: 4.0,
                                            debounce: .evaluations(1), action: .trip, output: 0, maxAgeNanoseconds: 2 * second)
    static let temperatureTrip = InterlockRule(name: "temperature-trip", channel: 1, comparison: .above, limit: 80, release: 75,
                                               debounce: .nanoseconds(second), action: .trip, output: 0, maxAgeNanoseconds: 2 * second)
    static let velocityWarn = InterlockRule(name: "velocity-warn", channel: 0, comparison: .above, limit: 2.8, release: 2.5,
                                            action: .warn, output: 1, onFault: .warn, latch: false, maxAgeNanoseconds: 2 * second)

    /// A node with healthy inputs, already reset after start-up, at time `t`.
    struct Node {
        var interlock = Interlock(rules: [velocityTrip, temperatureTrip, velocityWarn], outputs: [.permissive, .warning, .heartbeat])
        var samples = [ChannelSample](repeating: .missing, count: 2)
        var t = MonotonicInstant(nanoseconds: 10 * second)
        var synced = true
        var system: SystemFault = []

        init() {
            set(velocity: 1.0, temperature: 40)
            step(reset: true)
            #expect(permissive, "node did not arm after start-up reset")
        }
        mutating func set(velocity: Double? = nil, temperature: Double? = nil, quality: Quality = []) {
            if let v = velocity { samples[0] = ChannelSample(value: v, quality: quality, time: t) }
            if let c = temperature { samples[1] = ChannelSample(value: c, quality: quality, time: t) }
        }
        mutating func step(reset: Bool = false, advance: Int64 = period) {
            t = t.advanced(byNanoseconds: advance)
            // Fresh samples keep their value but get the new timestamp unless told otherwise.
            let s = samples
            s.withUnsafeBufferPointer { interlock.evaluate(samples: $0, now: t, clockSynchronised: synced, systemFaults: system, reset: reset ? ResetRequest(source: .socket) : nil) }
        }
        mutating func refresh() { for i in samples.indices { samples[i].time = t } }
        var permissive: Bool { interlock.outputs[0] }
        var warning: Bool { interlock.outputs[1] }
        func events(_ kind: EventKind) -> [InterlockEvent] { interlock.events.filter { $0.kind == kind } }
    }

    @Test func startUpHoldsTheSafeStateUntilAResetWithHealthyInputs() {
        var i = Interlock(rules: [Self.velocityTrip], outputs: [.permissive])
        let healthy = [ChannelSample(value: 1, quality: [], time: MonotonicInstant(nanoseconds: Self.second))]
        healthy.withUnsafeBufferPointer { i.evaluate(samples: $0, now: MonotonicInstant(nanoseconds: Self.second), clockSynchronised: true, systemFaults: [], reset: nil) }
        #expect(i.outputs[0] == false, "restart prevention: no run permit without a local reset")
        healthy.withUnsafeBufferPointer { i.evaluate(samples: $0, now: MonotonicInstant(nanoseconds: Self.second + 1), clockSynchronised: true, systemFaults: [], reset: ResetRequest(source: .socket)) }
        #expect(i.outputs[0] == true)
        var automatic = Interlock(rules: [Self.velocityTrip], outputs: [.permissive], manualStart: false)
        healthy.withUnsafeBufferPointer { automatic.evaluate(samples: $0, now: MonotonicInstant(nanoseconds: Self.second), clockSynchronised: true, systemFaults: [], reset: nil) }
        #expect(automatic.outputs[0] == true)
    }

    @Test func noSampleEverReceivedKeepsTheMachineStopped() {
        var i = Interlock(rules: [Self.velocityTrip], outputs: [.permissive])
        let none = [ChannelSample.missing]
        for n in 1...100 {
            none.withUnsafeBufferPointer { i.evaluate(samples: $0, now: MonotonicInstant(nanoseconds: Int64(n) * Self.period), clockSynchronised: true, systemFaults: [], reset: ResetRequest(source: .socket)) }
            #expect(i.outputs[0] == false)
        }
    }

    @Test func exceedingTheLimitTripsWithinOneEvaluation() {
        var node = Node()
        node.set(velocity: 4.6)
        node.step()
        #expect(!node.permissive)
        #expect(node.events(.tripped).count == 1)
        #expect(node.events(.tripped).first?.value == 4.6 && node.events(.tripped).first?.limit == 4.5)
    }

    @Test func staleDataTripsThePermissive() {
        var node = Node()
        node.step(advance: 2 * Self.second + 1) // samples not refreshed for longer than their max age
        #expect(!node.permissive)
        #expect(node.events(.fault).contains { $0.reason == FaultReason.stale.rawValue })
    }

    @Test func sensorGoneTripsAndStaysTrippedUntilReset() {
        var node = Node()
        node.set(velocity: 1.0, quality: .commFault)
        node.step()
        #expect(!node.permissive)
        node.set(velocity: 1.0)
        node.step()
        #expect(!node.permissive, "a fault trip latches")
        node.refresh()
        node.step(reset: true)
        #expect(node.permissive)
        #expect(node.events(.reset).count >= 1)
    }

    @Test func clockStepBackwardsIsAFault() {
        var node = Node()
        node.step(advance: -5 * Self.second)
        #expect(!node.permissive)
        #expect(node.events(.fault).contains { $0.reason == FaultReason.timeInFuture.rawValue })
    }

    @Test func resetWhileTheConditionIsPresentIsRefused() {
        var node = Node()
        node.set(velocity: 5.0)
        node.step()
        #expect(!node.permissive)
        node.set(velocity: 4.2) // inside the hysteresis band: not released
        node.step(reset: true)
        #expect(!node.permissive)
        node.set(velocity: 6.0) // beyond the limit
        node.step(reset: true)
        #expect(!node.permissive)
        node.set(velocity: 3.0)
        node.step()
        #expect(!node.permissive, "released but latched")
        #expect(node.events(.released).count == 1)
        node.step(reset: true)
        #expect(node.permissive)
    }

    @Test func aRefusedResetIsReported() {
        var node = Node()
        node.set(velocity: 5.0)
        node.step()
        node.set(velocity: 4.2)
        node.step()
        node.step(reset: true)
        #expect(node.events(.resetRefused).count == 1)
    }

    @Test func twoRulesOnOneOutputEachHoldItOff() {
        var node = Node()
        node.set(velocity: 5.0)
        node.step()
        node.set(temperature: 90)
        node.step(advance: Self.second) // the temperature rule's 1 s debounce
        node.step()
        #expect(!node.permissive)
        node.set(velocity: 1.0)
        node.step(reset: true) // velocity released and reset, temperature still over
        #expect(!node.permissive, "the other rule still holds the permissive off")
        node.set(temperature: 60)
        node.step(reset: true)
        #expect(node.permissive)
    }

    @Test func flappingInputAroundTheLimitTripsOnceAndDoesNotChatter() {
        var node = Node()
        var trips = 0, warnings = 0, warningChanges = 0
        var lastWarning = node.warning
        for n in 0..<1000 {
            node.set(velocity: n % 2 == 0 ? 4.6 : 4.4) // hovering across the trip limit, inside the bands
            node.step()
            trips += node.events(.tripped).count
            warnings += node.events(.warning).count
            if node.warning != lastWarning { warningChanges += 1; lastWarning = node.warning }
            #expect(!node.permissive, "step \(n)")
        }
        #expect(trips == 1)
        #expect(warnings == 1)
        #expect(warningChanges == 1)
    }

    @Test func aShortExcursionDoesNotPassADurationDebounce() {
        var node = Node()
        node.set(temperature: 85)
        node.step()
        node.step(advance: Self.second / 2)
        #expect(node.permissive, "½ s over a 1 s debounce")
        node.set(temperature: 70)
        node.step()
        node.set(temperature: 85)
        node.step()
        node.step(advance: Self.second / 2)
        #expect(node.permissive, "the debounce restarted when the value dipped")
        node.step(advance: Self.second / 2)
        #expect(!node.permissive)
    }

    @Test func missedDeadlineBurstDropsEveryPermissiveAndLatches() {
        var node = Node()
        node.system = .deadlineBurst
        node.step()
        #expect(!node.permissive)
        #expect(node.events(.systemFault).first?.reason == SystemFault.deadlineBurst.rawValue)
        node.system = []
        node.step()
        #expect(!node.permissive)
        node.step(reset: true)
        #expect(node.permissive)
    }

    @Test func ruleNeedingTheWallClockFaultsWhenUnsynchronised() {
        var rule = Self.velocityTrip
        rule.requiresClockSync = true
        var i = Interlock(rules: [rule], outputs: [.permissive], manualStart: false)
        let t = MonotonicInstant(nanoseconds: Self.second)
        let s = [ChannelSample(value: 1, quality: [], time: t)]
        s.withUnsafeBufferPointer { i.evaluate(samples: $0, now: t, clockSynchronised: false, systemFaults: [], reset: nil) }
        #expect(i.outputs[0] == false)
        #expect(i.states[0] == .starting)
    }

    @Test func heartbeatTogglesOnlyWhileHealthy() {
        var node = Node()
        var toggles = 0
        var last = node.interlock.outputs[2]
        for _ in 0..<10 { node.refresh(); node.step(); if node.interlock.outputs[2] != last { toggles += 1 }; last = node.interlock.outputs[2] }
        #expect(toggles == 10)
        node.set(velocity: 9)
        for _ in 0..<10 { node.refresh(); node.step(); #expect(node.interlock.outputs[2] == false) }
    }

    /// Hazard (issue 17, 12): the heartbeat stopped on a warn-only rule's fault, so an external
    /// watchdog relay stopped the machine for a sensor that may fail without stopping it.
    @Test func aWarnOnlyFaultKeepsTheHeartbeatToggling() {
        // Only a warn rule watches the faulty channel.
        var i = Interlock(rules: [Self.velocityWarn], outputs: [.permissive, .warning, .heartbeat])
        var t = MonotonicInstant(nanoseconds: 10 * Self.second)
        var toggles = 0
        var last = false
        for n in 0..<20 {
            t = t.advanced(byNanoseconds: Self.period)
            let samples = [ChannelSample(value: .nan, quality: .commFault, time: t)]
            samples.withUnsafeBufferPointer { i.evaluate(samples: $0, now: t, clockSynchronised: true, systemFaults: [], reset: n == 0 ? .button : nil) }
            if n > 0 && i.outputs[2] != last { toggles += 1 }
            last = i.outputs[2]
        }
        #expect(i.outputs[1], "the warning lamp shows the fault")
        #expect(toggles == 19, "the heartbeat stopped on a warn-only fault")
    }

    /// Hazard (issue 17, 8): `debounce = N` counted evaluations, so on a channel updated once a
    /// second `debounce = 2` lasted 2 ms. It counts new samples.
    @Test func aCountDebounceCountsNewSamplesNotEvaluations() {
        let rule = InterlockRule(name: "slow", channel: 0, comparison: .above, limit: 4.5, release: 4.0, debounce: .evaluations(2),
                                 action: .trip, output: 0, maxAgeNanoseconds: 3 * Self.second)
        var i = Interlock(rules: [rule], outputs: [.permissive])
        var t = MonotonicInstant(nanoseconds: 10 * Self.second)
        var sample = ChannelSample(value: 1, quality: [], time: t)
        func step(reset: Bool = false) {
            t = t.advanced(byNanoseconds: Self.period)
            let s = [sample]
            s.withUnsafeBufferPointer { i.evaluate(samples: $0, now: t, clockSynchronised: true, systemFaults: [], reset: reset ? .button : nil) }
        }
        step(reset: true)
        #expect(i.outputs[0])
        sample = ChannelSample(value: 6, quality: [], time: t) // one sample beyond the limit …
        for _ in 0..<500 { step() } // … seen in 500 evaluations
        #expect(i.outputs[0], "debounce = 2 passed on one sample")
        sample = ChannelSample(value: 6, quality: [], time: t) // the second sample
        step()
        #expect(!i.outputs[0])
    }

    /// Hazard (issue 17, 14): a transient fault erased a latched trip (the permissive came back
    /// without a reset once the input was healthy again).
    @Test func aFaultNeverClearsALatchedTrip() {
        var node = Node()
        node.set(velocity: 9)
        node.step()
        node.set(velocity: 1)
        node.step()
        #expect(!node.permissive && node.interlock.states[0] == .latched)
        node.set(velocity: .nan, quality: .commFault)
        node.step()
        node.set(velocity: 1)
        for _ in 0..<5 { node.refresh(); node.step() }
        #expect(!node.permissive, "the fault erased the latch")
        #expect(node.interlock.states[0] == .latched)
        // Even for a trip rule whose profile asked for warn on faults (the validator refuses it now).
        let lenient = InterlockRule(name: "lenient", channel: 0, comparison: .above, limit: 4.5, release: 4.0, action: .trip, output: 0,
                                    onFault: .warn, maxAgeNanoseconds: 2 * Self.second)
        var i = Interlock(rules: [lenient], outputs: [.permissive])
        var t = MonotonicInstant(nanoseconds: Self.second)
        func step(_ v: Double, _ q: Quality = [], reset: Bool = false) {
            t = t.advanced(byNanoseconds: Self.period)
            let s = [ChannelSample(value: v, quality: q, time: t)]
            s.withUnsafeBufferPointer { i.evaluate(samples: $0, now: t, clockSynchronised: true, systemFaults: [], reset: reset ? .button : nil) }
        }
        step(.nan, .noValue)
        #expect(!i.outputs[0], "a trip rule's permissive came on before any sample")
        step(1, reset: true)
        step(9); step(1)
        step(.nan, .commFault); step(1); step(1)
        #expect(!i.outputs[0], "a transient fault erased the latched trip")
    }

    @Test func warnRuleLightsTheLampWithoutStoppingTheMachine() {
        var node = Node()
        node.set(velocity: 3.0)
        node.step()
        #expect(node.warning && node.permissive)
        node.set(velocity: 2.0)
        node.step()
        #expect(!node.warning && node.permissive)
    }

    @Test func steadyStateEvaluationAllocatesNothing() {
        var node = Node()
        var t = node.t
        var samples = [ChannelSample](repeating: ChannelSample(value: 1, quality: [], time: t), count: 2) // its own buffer
        let count = heapAllocations {
            samples.withUnsafeMutableBufferPointer { s in
                for n in 0..<10_000 {
                    t = t.advanced(byNanoseconds: Self.period)
                    s[0] = ChannelSample(value: n % 100 == 0 ? 5.0 : 1.0, quality: [], time: t)
                    s[1].time = t
                    node.interlock.evaluate(samples: UnsafeBufferPointer(s), now: t, clockSynchronised: true, systemFaults: [], reset: n % 100 == 50 ? .button : nil)
                }
            }
        }
        #expect(count == 0)
    }
}
