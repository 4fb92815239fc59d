import VigilBoard
import VigilSimulation

extension MachineScenario {
    /// The machine these tests drive parts with: a 1480 rpm fan in ISO zone A (0.025 g of
    /// unbalance), a faint misalignment and bearing tone, no ramp. Test data, not a default.
    static func testMachine(seed: UInt64 = 1, noiseG: Double = 0.004, temperatureC: Double = 42, temperatureDriftCPerMinute: Double = 0) -> MachineScenario {
        MachineScenario(SimulationSpec(seed: seed, shaftRPM: 1480, unbalanceG: 0.025, misalignmentG: 0.008, bearingDefectHz: 87.3, bearingDefectG: 0.006,
                                       noiseG: noiseG, temperatureC: temperatureC, temperatureDriftCPerMinute: temperatureDriftCPerMinute,
                                       rampStartSeconds: 0, rampDurationSeconds: 0, rampFactor: 1))
    }
}
