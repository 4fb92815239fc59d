import Testing
import TestSupport
import VigilRuntime
import VigilInterlock

/// The steady-state cycle allocates nothing: 10 000 periods of the simulator board (accelerometer
/// drains, one analysis per second per axis, temperature, inputs, tachometer, Modbus mailboxes,
/// interlock, outputs, rings) under a malloc counter.
///
/// This is a release-mode proof: `Scripts/test` runs this suite again with `-c release`, the code
/// the agent ships. In debug builds the count is printed but not asserted: unspecialised generic
/// code (the cycle is generic over the hardware platform) boxes values that the optimiser keeps on
/// the stack, about 7 allocations per cycle.
@Suite struct AllocationFreeLoopTests {
    @Test func tenThousandSteadyStateCyclesAllocateNothing() throws {
        let node = try SimulatedNode()
        node.step(3000)         // warm-up: every ring full, one analysis done, the permissive armed
        node.pressReset()
        node.step(100, modbus: false)
        let analysedBefore = node.value("bearing.x.velocity_rms").time
        let count = heapAllocations(during: { node.step(10_000, modbus: false) })
        let allocations = try #require(count, "the malloc counter is not available on this platform")
        #if DEBUG
        let mode = "debug"
        #else
        let mode = "release"
        #endif
        print("ALLOC \(mode) cycles=10000 allocations=\(allocations)")
        #if !DEBUG
        #expect(allocations == 0, "\(allocations) heap allocations in 10 000 cycles (\(mode))")
        #endif
        // The cycles did real work: new analyses ran and the machine is still permitted to run.
        #expect(node.value("bearing.x.velocity_rms").time != analysedBefore)
        #expect(node.output("RUN_PERMIT"))
    }
}
