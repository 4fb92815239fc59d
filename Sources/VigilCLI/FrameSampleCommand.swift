#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VigilCommandLine
import VigilBase
import VigilDSP
import VigilFrames
import VigilParts
import VigilRuntime

/// `vigil frame sample`: a fixed set of frames computed from a synthetic accelerometer block by the
/// fixed-point analysis, written to stdout. Every architecture must produce the same bytes:
/// `Scripts/build-aarch64 --test` compares the aarch64 binary's output with the x86_64 one's.
struct FrameSample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Write reference frames (birth, data, spectrum, event, death) computed from a synthetic vibration block.",
        discussion: "The same bytes on every CPU: the block, the Q15/Q31 analysis and the encoding are deterministic.")

    @Option(help: "Seed of the synthetic block's noise.") var seed: UInt64 = 1

    /// The sample's step for each metric, in its unit.
    static func resolution(_ metric: VibrationMetric) -> Double {
        switch metric {
        case .accelerationRMS, .accelerationPeak: return 0.0001
        case .crestFactor, .kurtosis, .velocityRMS: return 0.001
        case .highFrequencyAccelerationRMS, .bandEnergies: return 0.00001
        case .isoZone: return 1
        }
    }

    func run() throws {
        let config = VibrationAnalysisConfig(blockLength: 4096, sampleRateHz: 3200, fullScaleG: 16, window: .hann, velocityBandHz: 10...1000,
                                             highFrequencyBandHz: 500...1250, bands: .fixed(count: 32, fromHz: 0, toHz: 1250), peakCount: 5)
        let analyzer: VibrationAnalyzer
        do { analyzer = try VibrationAnalyzer(config) } catch { throw CLIError(.failure, "\(error)") }
        // 0.03 g at 24.67 Hz (1×), 0.01 g at 49.33 Hz (2×), 0.006 g at 87.3 Hz, plus seeded noise.
        var rng = SplitMix64(seed: seed)
        var block = [Q15](repeating: Q15(rawValue: 0), count: config.blockLength)
        let lsbPerG = 32768.0 / config.fullScaleG
        for i in 0..<config.blockLength {
            let t = Double(i) / config.sampleRateHz
            var g = 0.03 * Trigonometry.sinPi(2 * 24.666 * t) + 0.01 * Trigonometry.sinPi(2 * 49.333 * t) + 0.006 * Trigonometry.sinPi(2 * 87.3 * t)
            g += Double(Int64(rng.next() % 9) - 4) / lsbPerG
            block[i] = Q15(rawValue: Int16(clamping: Int((g * lsbPerG).rounded())))
        }
        var m = analyzer.makeMetrics()
        do { try block.withUnsafeBufferPointer { (b) throws(DSPError) in try analyzer.analyze(b, into: &m) } } catch { throw CLIError(.failure, "\(error)") }

        func header(_ type: FrameType, _ seq: UInt32) -> FrameHeader {
            FrameHeader(type: type, session: 0x5EED_0001, sequence: seq, wallClockMilliseconds: 1_795_000_000_000 + Int64(seq), monotonicMilliseconds: 1000 * seq,
                        clockSync: .synchronized)
        }
        // The channels of one analysed axis, as every accelerometer's (``VibrationMetric``), with
        // finer steps than a node's defaults so that the analysis' low bits show in the bytes.
        let channels = VibrationMetric.allCases.map { metric in
            let c = metric.channel
            return ChannelInfo(id: metric.rawValue + 1, name: "sample.x.\(c.suffix)", quantity: c.quantity.rawValue, unit: c.unit.rawValue,
                               resolution: Self.resolution(metric), updateIntervalMilliseconds: 1000, isSpectrum: metric == .bandEnergies)
        }
        func raw(_ v: Double, _ id: Int) -> Int64 { Int64((v / channels[id - 1].resolution).rounded()) }
        let scalars = VibrationMetric.allCases.filter { $0 != .bandEnergies }
        let values = scalars.map { $0.value(in: m) }
        let bands = VibrationMetric.bandEnergies.rawValue + 1
        let velocity = VibrationMetric.velocityRMS.rawValue + 1
        let frames = [
            Frame(header: header(.birth, 0), body: .birth(BirthBody(firmware: "vigil \(VigilVersion.string)", asset: "sample/sample/sample/sample/sample",
                                                                    profileName: "sample", profileHash: Array(repeating: 0xAB, count: 32), channels: channels))),
            Frame(header: header(.data, 1), body: .data(values.enumerated().map { DataValue(channel: $0.offset + 1, quality: m.quality, raw: raw($0.element, $0.offset + 1)) })),
            Frame(header: header(.spectrum, 2), body: .spectrum(SpectrumBody(channel: bands, quality: m.bandQuality, orderBands: false, start: 0, width: 39_063,
                                                                             raw: m.bandRMSG.map { UInt64(max(0, raw($0, bands))) }))),
            Frame(header: header(.event, 3), body: .event(EventBody(kind: EventKind.tripped.rawValue, reason: 0, rule: 0, channel: velocity,
                                                                    value: Float(m.velocityRMS), limit: 4.5))),
            Frame(header: header(.death, 0), body: .death(.cleanStop)),
        ]
        var out: [UInt8] = []
        for f in frames {
            do { try f.encode(into: &out) } catch { throw CLIError(.failure, "\(error)") }
        }
        // The peaks as exact IEEE bit patterns, after the frames, so a difference in the analysis is caught too.
        var tail: [UInt8] = []
        for p in m.peaks.prefix(m.peakCount) {
            for v in [p.frequencyHz.bitPattern, p.amplitudeG.bitPattern] { for i in 0..<8 { tail.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        }
        if !tail.isEmpty {
            out += [0x56, 0x00]  // not a frame: `frame decode` reports it as invalid and stops there
            out += tail
        }
        var offset = 0
        while offset < out.count {
            let n = out.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { throw CLIError(.failure, "stdout: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }
}
