import VigilBase
import VigilParts

/// A register-level model of the TI ADS1115 ADC (datasheet SBAS444), written from the datasheet:
/// an address pointer selecting four 16-bit registers sent MSB first (section 9.5.3), the config
/// register's fields (section 9.6.3) and the conversion timing of both modes (section 9.4).
public final class ADS1115Model: I2CDeviceModel, AnalogInputModel {
    typealias Part = ADS1115

    /// Conversion, Config, Lo_thresh, Hi_thresh at their power-up values (Table 8-3, 8-4, 8-5).
    private var words: [UInt16] = [0, ADS1115.resetConfig, ADS1115.resetLoThresh, ADS1115.resetHiThresh]
    /// Single-shot: when the conversion in progress completes (nil: none in progress).
    private var conversionDone: MonotonicInstant?
    /// Continuous: when the last result was latched.
    private var lastContinuous: MonotonicInstant?
    /// The voltage on AIN0…AIN3 against GND, V, at a time (a SIMD4, not an array: the model runs
    /// inside the loop's cycle, which must not allocate).
    public var inputVolts: (MonotonicInstant) -> SIMD4<Double> = { _ in .zero }
    /// Conversions completed (tests).
    public private(set) var conversions = 0

    public init() {}

    /// Back to power-up values (a supply dip).
    public func powerOnReset() {
        words = [0, Part.resetConfig, Part.resetLoThresh, Part.resetHiThresh]
        conversionDone = nil
        lastContinuous = nil
    }

    var config: UInt16 { words[1] }
    var isSingleShot: Bool { config & Part.singleShotBit != 0 }
    /// One conversion at the configured rate (section 7.5: the nominal 1 / DR).
    var conversionNanoseconds: Int64 { Int64(1e9 / Double(Part.dataRatesSPS[Int((config >> Part.dataRateShift) & 0x7)])) }

    public func read(register: UInt8, into buffer: UnsafeMutableRawBufferPointer, at now: MonotonicInstant) {
        advance(to: now)
        var word = words[Int(register & 0x3)]
        if register & 0x3 == Part.Register.config {
            // OS reads 1 only when no conversion is in progress: never in continuous mode.
            let converting = !isSingleShot || conversionDone != nil
            word = converting ? word & ~Part.osBit : word | Part.osBit
        }
        for i in 0..<buffer.count { buffer[i] = i % 2 == 0 ? UInt8(word >> 8) : UInt8(word & 0xFF) }
    }

    /// A register is written only when both bytes arrive (section 9.5.3); the conversion register
    /// is read-only. Writing OS = 1 in power-down starts one conversion; while one runs it has no
    /// effect (section 9.6.3, OS field).
    public func write(register: UInt8, bytes: UnsafeRawBufferPointer, at now: MonotonicInstant) {
        advance(to: now)
        let r = Int(register & 0x3)
        guard r != 0, bytes.count >= 2 else { return }
        let word = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        guard r == 1 else { words[r] = word; return }
        let wasContinuous = !isSingleShot
        words[1] = word & ~Part.osBit
        if isSingleShot {
            if word & Part.osBit != 0 && conversionDone == nil { conversionDone = now.advanced(byNanoseconds: conversionNanoseconds) }
        } else if !wasContinuous || lastContinuous == nil {
            // Entering continuous mode: the first result is one conversion away.
            lastContinuous = now
        }
    }

    private func advance(to now: MonotonicInstant) {
        if isSingleShot {
            if let done = conversionDone, now >= done {
                latch(at: done)
                conversionDone = nil
            }
        } else if let last = lastContinuous {
            let period = conversionNanoseconds
            let elapsed = now.nanoseconds(since: last)
            if elapsed >= period {
                let latest = last.advanced(byNanoseconds: elapsed / period * period)
                latch(at: latest)
                lastContinuous = latest
            }
        }
    }

    /// The conversion result for the mux and gain in the config (Table 8-1: codes saturate at
    /// 0x7FFF and 0x8000; one code is FSR / 2^15).
    private func latch(at time: MonotonicInstant) {
        let v = inputVolts(time)
        // MUX codes 0–3 are the differential pairs, 4–7 each input against ground.
        let volts: Double
        switch (config >> Part.muxShift) & 0x7 {
        case 0: volts = v[0] - v[1]
        case 1: volts = v[0] - v[3]
        case 2: volts = v[1] - v[3]
        case 3: volts = v[2] - v[3]
        case let single: volts = v[Int(single - 4)]
        }
        let fsr = Part.fullScaleVolts[min(Int((config >> Part.pgaShift) & 0x7), Part.fullScaleVolts.count - 1)]
        let code = min(max((volts / fsr * 32768).rounded(), -32768), 32767)
        words[0] = UInt16(bitPattern: Int16(code))
        conversions += 1
    }
}

extension ADS1115: SimulatedI2CPart {
    public static func makeModel(scenario: MachineScenario, origin: MonotonicInstant, seed: UInt64) -> any I2CDeviceModel {
        ADS1115Model()
    }
}
