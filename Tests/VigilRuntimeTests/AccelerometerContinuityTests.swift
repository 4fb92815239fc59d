import Testing
import VigilBase
import VigilSimulation
@testable import VigilRuntime

/// Issue 22 (5), in the node: a FIFO found full keeps the block whole when nothing was lost (the
/// ADXL345's Overrun bit only says the FIFO filled), and breaks it when samples were.
@Suite(.serialized) struct AccelerometerContinuityTests {
    func accelerometer(_ node: SimulatedNode) -> AccelerometerSlot<SimulatedI2CBus>? {
        for slot in node.cycle.slots { if case .accelerometer(let a) = slot { return a } }
        return nil
    }

    @Test func aLateCycleWithAFullButWholeFIFOKeepsTheBlock() throws {
        let node = try SimulatedNode()
        node.step(3000)
        let slot = try #require(accelerometer(node))
        #expect(slot.overruns == 0)
        // 40 ms late: 32 samples at 800 Hz, the FIFO holds 33.
        node.clock.advance(byNanoseconds: 40_000_000)
        node.step(5)
        #expect(slot.overruns == 0, "a full FIFO that lost nothing broke the block")
        #expect(slot.contiguous == slot.blockLength)
        // 80 ms late: 64 samples, 31 of them lost.
        node.clock.advance(byNanoseconds: 80_000_000)
        node.step(5)
        #expect(slot.overruns == 1)
        #expect(node.accelerometer().lostSamples > 0)
    }
}
